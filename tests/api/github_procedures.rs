//! Router `githubStats` over tRPC: the cached view, the sync status, and
//! `syncNow` with its strict rate limit and its errors.

use enghub::dev::fakes::github::Scripted;
use serde_json::json;

use crate::github_support::*;
use crate::helpers::keys;
use crate::helpers::{data, error_code};

#[tokio::test]
async fn get_by_project_id_returns_stats_sync_and_member_map_and_caches_them() {
    let world = world().await;
    let project = project_with_team(&world).await;
    let (status, _) = world
        .app
        .mutate("githubStats.syncNow", json!({"projectId": project}))
        .await;
    assert_eq!(status, 200);

    let (status, body) = world
        .app
        .query(
            "githubStats.getByProjectId",
            Some(json!({"projectId": project})),
        )
        .await;

    assert_eq!(status, 200, "{body}");
    let view = data(&body);
    let stats = view["stats"].as_array().unwrap();
    assert_eq!(stats.len(), 4);
    // Most commits first; every column of the row, floats as JavaScript prints them.
    let first = &stats[0];
    assert_eq!(first["githubUsername"], "ann");
    assert_eq!(first["commits"], 12);
    assert_eq!(first["projectId"], project.as_str());
    let keys = keys(first);
    assert_eq!(
        keys,
        [
            "id",
            "projectId",
            "githubUsername",
            "period",
            "commits",
            "prsOpened",
            "prsMerged",
            "reviewsDone",
            "additions",
            "deletions",
            "avgWeeklyCommits",
            "recentWeeklyCommits",
            "trend",
            "avgWeeklyReviews",
            "recentWeeklyReviews",
            "reviewTrend",
            "createdAt",
            "updatedAt"
        ]
    );
    let all_time_ann = stats
        .iter()
        .find(|s| s["githubUsername"] == "ann" && s["period"] == "all_time")
        .unwrap();
    // 12 commits over 2 weeks: 6, and the last 8 weeks are those same 2 weeks.
    assert_eq!(all_time_ann["avgWeeklyCommits"].to_string(), "6");
    assert_eq!(all_time_ann["trend"], "stable");
    assert_eq!(view["sync"]["syncStatus"], "idle");
    assert!(view["sync"]["lastSyncAt"].as_str().unwrap().ends_with('Z'));
    let members = view["memberMap"].as_object().unwrap();
    let keys: Vec<&str> = members.keys().map(|k| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "ann",
            "ann@example.com",
            "bob",
            "bob@example.com",
            "cid@example.com"
        ]
    );
    assert_eq!(
        members["ann"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["personId", "firstName", "lastName", "callsign", "imageUrl"]
    );

    let cached = world
        .app
        .redis_get(&world.app.key(&format!("github-stats:{project}")))
        .await
        .expect("cached");
    let cached: serde_json::Value = serde_json::from_str(&cached).unwrap();
    assert_eq!(&cached, view);
    let ttl = world
        .app
        .redis_ttl(&world.app.key(&format!("github-stats:{project}")))
        .await;
    assert!((3590..=3600).contains(&ttl), "{ttl}");
}

#[tokio::test]
async fn a_project_never_synced_has_no_stats_and_a_null_sync() {
    let world = world().await;
    let project = insert_project(&world.app, Some(REPO_URL)).await;
    let (_, body) = world
        .app
        .query(
            "githubStats.getByProjectId",
            Some(json!({"projectId": project})),
        )
        .await;
    assert_eq!(
        data(&body),
        &json!({"stats": [], "sync": null, "memberMap": {}})
    );
    let (status, body) = world
        .app
        .query(
            "githubStats.getSyncStatus",
            Some(json!({"projectId": project})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(data(&body), &serde_json::Value::Null);
}

#[tokio::test]
async fn get_sync_status_returns_the_row() {
    let world = world().await;
    let project = project_with_team(&world).await;
    world
        .app
        .mutate("githubStats.syncNow", json!({"projectId": project}))
        .await;
    let (_, body) = world
        .app
        .query(
            "githubStats.getSyncStatus",
            Some(json!({"projectId": project})),
        )
        .await;
    let row = data(&body).as_object().unwrap();
    assert_eq!(
        row.keys().collect::<Vec<_>>(),
        [
            "id",
            "projectId",
            "lastSyncAt",
            "syncStatus",
            "syncError",
            "createdAt",
            "updatedAt"
        ]
    );
    assert_eq!(row["syncStatus"], "idle");
    assert_eq!(row["syncError"], serde_json::Value::Null);
}

#[tokio::test]
async fn sync_now_answers_success_and_invalidates_the_cached_view() {
    let world = world().await;
    let project = project_with_team(&world).await;
    let query = || {
        world.app.query(
            "githubStats.getByProjectId",
            Some(json!({"projectId": project})),
        )
    };
    let (_, before) = query().await;
    assert_eq!(data(&before)["stats"], json!([]));

    let (status, body) = world
        .app
        .mutate("githubStats.syncNow", json!({"projectId": project}))
        .await;

    assert_eq!((status, data(&body)), (200, &json!({"success": true})));
    let (_, after) = query().await;
    assert_eq!(data(&after)["stats"].as_array().unwrap().len(), 4);
}

async fn sync_now_error(world: &World, project_id: &str) -> (u16, String, String) {
    let (status, body) = world
        .app
        .mutate("githubStats.syncNow", json!({"projectId": project_id}))
        .await;
    (
        status,
        error_code(&body).to_owned(),
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

#[tokio::test]
async fn sync_now_refuses_projects_without_a_github_url() {
    // Three calls: the strict limit allows no more per user.
    let world = world().await;
    let none = insert_project(&world.app, None).await;
    let empty = insert_project(&world.app, Some("")).await;
    let no_url = (
        400,
        "BAD_REQUEST".to_owned(),
        "Project has no GitHub URL configured.".to_owned(),
    );
    assert_eq!(sync_now_error(&world, "missing").await, no_url);
    assert_eq!(sync_now_error(&world, &none).await, no_url);
    assert_eq!(sync_now_error(&world, &empty).await, no_url);
}

#[tokio::test]
async fn sync_now_refuses_a_url_that_is_not_a_github_repository() {
    let world = world().await;
    let bad = insert_project(&world.app, Some("https://www.github.com/acme/widgets")).await;
    assert_eq!(
        sync_now_error(&world, &bad).await,
        (
            400,
            "BAD_REQUEST".to_owned(),
            "Invalid GitHub URL format.".to_owned()
        )
    );
}

#[tokio::test]
async fn sync_now_reports_github_failures_as_internal_errors_with_githubs_message() {
    let world = world().await;
    let project = project_with_team(&world).await;
    world
        .github
        .script_stats(Scripted::status(404, r#"{"message":"Not Found"}"#));
    assert_eq!(
        sync_now_error(&world, &project).await,
        (
            500,
            "INTERNAL_SERVER_ERROR".to_owned(),
            "GitHub sync failed: GitHub repository not found (404)".to_owned()
        )
    );
    let (status, error, _) = sync_status(&world.app, &project).await.unwrap();
    assert_eq!(status, "error");
    assert_eq!(error.as_deref(), Some("GitHub repository not found (404)"));
}

#[tokio::test]
async fn sync_now_is_limited_to_three_calls_per_five_minutes_even_when_they_fail() {
    let world = world().await;
    let no_url = insert_project(&world.app, None).await;
    for _ in 0..3 {
        assert_eq!(sync_now_error(&world, &no_url).await.0, 400);
    }
    let (status, code, message) = sync_now_error(&world, &no_url).await;
    assert_eq!((status, code.as_str()), (429, "TOO_MANY_REQUESTS"));
    assert!(
        message.starts_with("Rate limit exceeded. Try again in "),
        "{message}"
    );
}

#[tokio::test]
async fn sync_now_on_a_project_already_syncing_is_a_conflict() {
    let world = world().await;
    let project = project_with_team(&world).await;
    sqlx::query(
        "INSERT INTO github_sync_state (project_id, repo, lease_token, lease_until)
         VALUES ($1, 'acme/widgets', 'other', now() + interval '10 minutes')",
    )
    .bind(&project)
    .execute(&world.app.db)
    .await
    .unwrap();
    assert_eq!(
        sync_now_error(&world, &project).await,
        (
            409,
            "CONFLICT".to_owned(),
            "A GitHub sync of this project is already running.".to_owned()
        )
    );
}

#[tokio::test]
async fn project_id_must_be_a_string() {
    let world = world().await;
    let (status, body) = world
        .app
        .query("githubStats.getSyncStatus", Some(json!({"projectId": 5})))
        .await;
    assert_eq!((status, error_code(&body)), (400, "BAD_REQUEST"));
}
