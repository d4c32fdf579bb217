//! The sync against a fake GitHub over HTTP: what it writes, what it asks GitHub
//! (counted at the fake), and how it fails.

use std::time::Duration;

use enghub::dev::fakes::github::{Endpoint, FakePr, Scripted};
use enghub::github::sync::{sync_project, StatsSource, SyncError, SyncOptions};
use enghub::github::GitHubError;

use crate::github_support::*;

fn options() -> SyncOptions {
    SyncOptions {
        computing_first_wait: Duration::from_millis(20),
        computing_budget: Duration::from_millis(500),
        ..SyncOptions::default()
    }
}

fn count(world: &World, endpoint: Endpoint) -> usize {
    world
        .github
        .requests()
        .iter()
        .filter(|r| r.endpoint == endpoint)
        .count()
}

#[tokio::test]
async fn first_sync_writes_all_time_and_ytd_rows_for_team_members_only() {
    let world = world().await;
    let project = project_with_team(&world).await;

    let report = sync_project(&world.app.db, &world.client(), &project, &options())
        .await
        .unwrap();

    assert_eq!(report.stats_source, StatsSource::Fresh);
    assert_eq!((report.prs_fetched, report.prs_total), (3, 3));
    let all_time: Vec<_> = stats_rows(&world.app, &project)
        .await
        .into_iter()
        .filter(|r| r.1 == "all_time")
        .collect();
    // ann: 4 + 8 commits, PR 1 (merged), reviews of PRs 2 and 3 (zoe's counts for ann).
    // bob: 3 commits, PR 2 (open), one review of PR 1 (his second one is ignored).
    assert_eq!(
        all_time,
        vec![
            ("ann".into(), "all_time".into(), 12, 1, 1, 2),
            ("bob".into(), "all_time".into(), 3, 1, 0, 1),
        ]
    );
    let ytd_users: Vec<String> = stats_rows(&world.app, &project)
        .await
        .into_iter()
        .filter(|r| r.1 == "ytd")
        .map(|r| r.0)
        .collect();
    assert_eq!(ytd_users, ["ann", "bob"]);
    assert_eq!(
        sync_status(&world.app, &project).await,
        Some(("idle".into(), None, true))
    );
}

#[tokio::test]
async fn requests_carry_the_token_and_the_original_user_agent() {
    let world = world().await;
    let project = project_with_team(&world).await;
    sync_project(&world.app.db, &world.client(), &project, &options())
        .await
        .unwrap();
    let requests = world.github.requests();
    assert_eq!(requests.len(), 2);
    for r in &requests {
        assert_eq!(r.authorization.as_deref(), Some("Bearer ghp_test_token"));
        assert_eq!(r.user_agent.as_deref(), Some("eng-hub"));
    }
    let graphql = requests
        .iter()
        .find(|r| r.endpoint == Endpoint::GraphQl)
        .unwrap();
    assert!(graphql
        .query
        .as_deref()
        .unwrap()
        .contains("orderBy: {field: UPDATED_AT, direction: DESC}"));
}

#[tokio::test]
async fn second_sync_of_an_unchanged_repository_is_a_304_and_one_graphql_page() {
    let world = world().await;
    let project = project_with_team(&world).await;
    sync_project(&world.app.db, &world.client(), &project, &options())
        .await
        .unwrap();
    let before = stats_rows(&world.app, &project).await;
    world.github.clear_requests();

    let report = sync_project(&world.app.db, &world.client(), &project, &options())
        .await
        .unwrap();

    let requests = world.github.requests();
    assert_eq!(report.github_requests, 2);
    assert_eq!(requests.len(), 2, "{requests:?}");
    let stats = requests
        .iter()
        .find(|r| r.endpoint == Endpoint::ContributorStats)
        .unwrap();
    assert_eq!(stats.if_none_match, world.github.etag_of(REPO));
    assert_eq!(stats.status, 304);
    assert_eq!(count(&world, Endpoint::GraphQl), 1);
    assert_eq!(report.stats_source, StatsSource::NotModified);
    // Only the newest PR (the watermark itself) is re-read.
    assert_eq!(
        (report.pr_pages, report.prs_fetched, report.prs_total),
        (1, 1, 3)
    );
    assert_eq!(stats_rows(&world.app, &project).await, before);
}

#[tokio::test]
async fn an_incremental_sync_picks_up_new_and_updated_pull_requests() {
    let world = world().await;
    let project = project_with_team(&world).await;
    sync_project(&world.app.db, &world.client(), &project, &options())
        .await
        .unwrap();
    world.github.edit_repo(REPO, |repo| {
        // PR 2 gets merged, and bob opens PR 4 reviewed by ann.
        let pr2 = repo.prs.iter_mut().find(|p| p.number == 2).unwrap();
        *pr2 = pr2.clone().merged_at("2025-02-01T00:00:00Z");
        repo.prs.push(
            FakePr::open(4, "bob", "2025-02-02T00:00:00Z")
                .reviewed_by("ann", "2025-02-03T00:00:00Z"),
        );
    });

    let report = sync_project(&world.app.db, &world.client(), &project, &options())
        .await
        .unwrap();

    // PRs 4 and 2, plus PR 3, which sits exactly at the watermark and is re-read.
    assert_eq!(report.pr_pages, 1);
    assert_eq!((report.prs_fetched, report.prs_total), (3, 4));
    let bob = stats_rows(&world.app, &project)
        .await
        .into_iter()
        .find(|r| r.0 == "bob" && r.1 == "all_time")
        .unwrap();
    assert_eq!((bob.3, bob.4), (2, 1)); // opened 2, merged 1
}

#[tokio::test]
async fn every_page_is_fetched_with_no_truncation() {
    let world = world().await;
    let project = project_with_team(&world).await;
    world.github.edit_repo(REPO, |repo| {
        for n in 10..35 {
            repo.prs.push(FakePr::open(
                n,
                "ann",
                &format!("2024-03-{:02}T00:00:00Z", n - 9),
            ));
        }
    });
    let opts = SyncOptions {
        page_size: 10,
        ..options()
    };

    let report = sync_project(&world.app.db, &world.client(), &project, &opts)
        .await
        .unwrap();

    // 28 PRs, 10 a page.
    assert_eq!((report.pr_pages, report.prs_total), (3, 28));
    let cursors: Vec<_> = world
        .github
        .requests()
        .into_iter()
        .filter(|r| r.endpoint == Endpoint::GraphQl)
        .map(|r| r.cursor)
        .collect();
    assert_eq!(
        cursors,
        [None, Some("cursor:10".into()), Some("cursor:20".into())]
    );
}

#[tokio::test]
async fn a_pass_stopped_by_its_budget_is_reported_and_continued_by_the_next_sync() {
    let world = world().await;
    let project = project_with_team(&world).await;
    world.github.edit_repo(REPO, |repo| {
        for n in 10..32 {
            repo.prs.push(FakePr::open(
                n,
                "ann",
                &format!("2024-03-{:02}T00:00:00Z", n - 9),
            ));
        }
    });
    let limited = SyncOptions {
        page_size: 10,
        max_pages: Some(2),
        ..options()
    };

    let err = sync_project(&world.app.db, &world.client(), &project, &limited)
        .await
        .unwrap_err();
    assert!(matches!(err, SyncError::Partial { fetched: 20 }), "{err}");
    assert!(err.is_transient());
    let (status, message, _) = sync_status(&world.app, &project).await.unwrap();
    assert_eq!(status, "error");
    assert!(message.unwrap().contains("only partly fetched"));

    world.github.clear_requests();
    let unlimited = SyncOptions {
        page_size: 10,
        ..options()
    };
    let report = sync_project(&world.app.db, &world.client(), &project, &unlimited)
        .await
        .unwrap();
    // It continues at the saved cursor: one page with the last 5.
    assert_eq!(
        (report.pr_pages, report.prs_fetched, report.prs_total),
        (1, 5, 25)
    );
    let cursor = world
        .github
        .requests()
        .into_iter()
        .find(|r| r.endpoint == Endpoint::GraphQl)
        .unwrap()
        .cursor;
    assert_eq!(cursor.as_deref(), Some("cursor:20"));

    let report = sync_project(&world.app.db, &world.client(), &project, &unlimited)
        .await
        .unwrap();
    assert_eq!(report.pr_pages, 1);
}

#[tokio::test]
async fn a_202_is_asked_again_with_backoff_until_the_stats_are_ready() {
    let world = world().await;
    let project = project_with_team(&world).await;
    world.github.script_stats(Scripted::computing());
    world.github.script_stats(Scripted::computing());

    let report = sync_project(&world.app.db, &world.client(), &project, &options())
        .await
        .unwrap();

    assert_eq!(report.stats_source, StatsSource::Fresh);
    assert_eq!(count(&world, Endpoint::ContributorStats), 3);
    assert_eq!(stats_rows(&world.app, &project).await.len(), 4);
}

#[tokio::test]
async fn stats_still_computing_after_the_budget_fail_transiently_on_a_first_sync() {
    let world = world().await;
    let project = project_with_team(&world).await;
    for _ in 0..20 {
        world.github.script_stats(Scripted::computing());
    }

    let err = sync_project(&world.app.db, &world.client(), &project, &options())
        .await
        .unwrap_err();

    assert!(matches!(
        err,
        SyncError::GitHub(GitHubError::StillComputing)
    ));
    assert!(err.is_transient());
    // QStash is asked to come back soon, not at its default backoff.
    assert_eq!(err.retry_after(), Some(Duration::from_secs(30)));
    // 20 + 40 + 80 + 160 ms fit in 500 ms, the next 320 would not: five requests.
    assert_eq!(count(&world, Endpoint::ContributorStats), 5);
    let (status, message, _) = sync_status(&world.app, &project).await.unwrap();
    assert_eq!(status, "error");
    assert_eq!(message.unwrap(), err.to_string());
}

#[tokio::test]
async fn stats_still_computing_reuse_the_previous_answer_when_there_is_one() {
    let world = world().await;
    let project = project_with_team(&world).await;
    sync_project(&world.app.db, &world.client(), &project, &options())
        .await
        .unwrap();
    let before = stats_rows(&world.app, &project).await;
    for _ in 0..20 {
        world.github.script_stats(Scripted::computing());
    }

    let report = sync_project(&world.app.db, &world.client(), &project, &options())
        .await
        .unwrap();

    assert_eq!(report.stats_source, StatsSource::Stale);
    assert_eq!(stats_rows(&world.app, &project).await, before);
}

#[tokio::test]
async fn github_server_errors_are_transient_and_a_missing_repository_is_permanent() {
    let world = world().await;
    let project = project_with_team(&world).await;
    world
        .github
        .script_graphql(Scripted::status(502, "bad gateway"));
    let err = sync_project(&world.app.db, &world.client(), &project, &options())
        .await
        .unwrap_err();
    assert!(err.is_transient());
    assert_eq!(err.to_string(), "GitHub GraphQL error: 502 Bad Gateway");

    world.github.remove_repo(REPO);
    let err = sync_project(&world.app.db, &world.client(), &project, &options())
        .await
        .unwrap_err();
    assert!(!err.is_transient());
    let (status, message, _) = sync_status(&world.app, &project).await.unwrap();
    assert_eq!(status, "error");
    assert!(
        [
            "GitHub repository not found (404)",
            "GitHub repository not found"
        ]
        .contains(&message.as_deref().unwrap()),
        "{message:?}"
    );
}

#[tokio::test]
async fn a_rate_limit_that_resets_soon_is_waited_out() {
    let world = world().await;
    let project = project_with_team(&world).await;
    world.github.script_stats(
        Scripted::status(403, r#"{"message":"API rate limit exceeded"}"#)
            .header("x-ratelimit-remaining", "0")
            .header("retry-after", "1"),
    );

    let report = sync_project(&world.app.db, &world.client(), &project, &options())
        .await
        .unwrap();

    assert_eq!(report.stats_source, StatsSource::Fresh);
    assert_eq!(count(&world, Endpoint::ContributorStats), 2);
}

#[tokio::test]
async fn a_long_rate_limit_fails_with_githubs_wait_instead_of_hammering() {
    let world = world().await;
    let project = project_with_team(&world).await;
    let reset = now() + 600;
    world.github.script_graphql(
        Scripted::status(403, r#"{"message":"API rate limit exceeded"}"#)
            .header("x-ratelimit-remaining", "0")
            .header("x-ratelimit-reset", &reset.to_string()),
    );

    let err = sync_project(&world.app.db, &world.client(), &project, &options())
        .await
        .unwrap_err();

    assert!(err.is_transient());
    let wait = err.retry_after().unwrap().as_secs();
    assert!((598..=600).contains(&wait), "{wait}");
    assert_eq!(count(&world, Endpoint::GraphQl), 1);
}

#[tokio::test]
async fn a_held_lease_refuses_a_second_sync_until_it_expires() {
    let world = world().await;
    let project = project_with_team(&world).await;
    sync_project(&world.app.db, &world.client(), &project, &options())
        .await
        .unwrap();
    sqlx::query(
        "UPDATE github_sync_state SET lease_token = 'other', lease_until = now() + interval '10 minutes'
         WHERE project_id = $1",
    )
    .bind(&project)
    .execute(&world.app.db)
    .await
    .unwrap();

    let err = sync_project(&world.app.db, &world.client(), &project, &options())
        .await
        .unwrap_err();
    assert!(matches!(err, SyncError::AlreadyRunning));
    // The holder's status is left alone.
    assert_eq!(sync_status(&world.app, &project).await.unwrap().0, "idle");

    sqlx::query(
        "UPDATE github_sync_state SET lease_until = now() - interval '1 minute' WHERE project_id = $1",
    )
    .bind(&project)
    .execute(&world.app.db)
    .await
    .unwrap();
    sync_project(&world.app.db, &world.client(), &project, &options())
        .await
        .unwrap();
}

#[tokio::test]
async fn concurrent_syncs_of_one_project_do_not_both_run() {
    let world = world().await;
    let project = project_with_team(&world).await;
    // The first sync holds its lease while GitHub does not answer.
    let (url, _server) = black_hole().await;
    let stuck = enghub::github::GitHubClient::new(reqwest::Client::new(), &url, Some(GITHUB_TOKEN));
    let short = SyncOptions::within(Duration::from_millis(2500));
    let first = sync_project(&world.app.db, &stuck, &project, &short);
    let second = async {
        // Start once the first one holds the lease.
        while sync_state(&world.app, &project)
            .await
            .and_then(|s| s.4)
            .is_none()
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        sync_project(&world.app.db, &world.client(), &project, &options()).await
    };

    let (first, second) = tokio::join!(first, second);

    assert!(
        matches!(second, Err(SyncError::AlreadyRunning)),
        "{second:?}"
    );
    assert!(matches!(first, Err(SyncError::Partial { .. })), "{first:?}");
    // Once the lease is released, the project syncs.
    sync_project(&world.app.db, &world.client(), &project, &options())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_changed_repository_url_discards_the_old_repositorys_facts() {
    let world = world().await;
    let project = project_with_team(&world).await;
    sync_project(&world.app.db, &world.client(), &project, &options())
        .await
        .unwrap();
    world.github.put_repo("acme/gadgets", Default::default());
    sqlx::query("UPDATE projects SET github_url = 'https://github.com/acme/gadgets' WHERE id = $1")
        .bind(&project)
        .execute(&world.app.db)
        .await
        .unwrap();
    world.github.clear_requests();

    let report = sync_project(&world.app.db, &world.client(), &project, &options())
        .await
        .unwrap();

    assert_eq!(report.prs_total, 0);
    assert!(stats_rows(&world.app, &project).await.is_empty());
    assert!(world
        .github
        .requests()
        .iter()
        .all(|r| r.if_none_match.is_none()));
}

#[tokio::test]
async fn without_a_token_no_pull_request_data_is_read() {
    let world = world_with(Setup {
        github_token: false,
        qstash: false,
    })
    .await;
    let project = project_with_team(&world).await;
    let client =
        enghub::github::GitHubClient::new(reqwest::Client::new(), &world.github.url(), None);

    let report = sync_project(&world.app.db, &client, &project, &options())
        .await
        .unwrap();

    assert_eq!(count(&world, Endpoint::GraphQl), 0);
    assert_eq!(report.prs_total, 0);
    let ann = stats_rows(&world.app, &project)
        .await
        .into_iter()
        .find(|r| r.0 == "ann" && r.1 == "all_time")
        .unwrap();
    assert_eq!((ann.2, ann.3, ann.5), (12, 0, 0));
}

#[tokio::test]
async fn projects_without_a_usable_url_are_refused_before_any_request() {
    let world = world().await;
    let none = insert_project(&world.app, None).await;
    let bad = insert_project(&world.app, Some("https://gitlab.com/acme/widgets")).await;
    for (id, expected) in [
        ("missing", "Project not found."),
        (none.as_str(), "Project has no GitHub URL configured."),
        (bad.as_str(), "Invalid GitHub URL format."),
    ] {
        let err = sync_project(&world.app.db, &world.client(), id, &options())
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), expected);
        assert!(!err.is_transient());
    }
    assert!(world.github.requests().is_empty());
    assert_eq!(sync_status(&world.app, &none).await, None);
}

/// Pretends the last full pass completed `days` ago (`None`: none recorded).
async fn set_last_full_pass(world: &World, project: &str, days: Option<i64>) {
    let at = days.map(|d| (chrono::Utc::now() - chrono::Duration::days(d)).naive_utc());
    sqlx::query("UPDATE github_sync_state SET pass_newest = $2 WHERE project_id = $1")
        .bind(project)
        .bind(at)
        .execute(&world.app.db)
        .await
        .unwrap();
}

fn ann_all_time(rows: &[(String, String, i32, i32, i32, i32)]) -> (i32, i32, i32, i32) {
    let r = rows
        .iter()
        .find(|r| r.0 == "ann" && r.1 == "all_time")
        .unwrap();
    (r.2, r.3, r.4, r.5)
}

#[tokio::test]
async fn a_weekly_full_pass_refreshes_facts_whose_updated_at_did_not_move() {
    let world = world().await;
    let project = project_with_team(&world).await;
    let first = sync_project(&world.app.db, &world.client(), &project, &options())
        .await
        .unwrap();
    assert!(first.full_pass);
    // ann's account is deleted: PR 1 now has a ghost author, its updatedAt unchanged.
    world.github.edit_repo(REPO, |repo| {
        repo.prs.iter_mut().find(|p| p.number == 1).unwrap().author = None;
    });

    // Within the week: incremental, PR 1 is not re-read.
    let report = sync_project(&world.app.db, &world.client(), &project, &options())
        .await
        .unwrap();
    assert!(!report.full_pass);
    assert_eq!(report.prs_fetched, 1);
    assert_eq!(ann_all_time(&stats_rows(&world.app, &project).await).1, 1);

    // A week after the last full pass: every PR is fetched again.
    set_last_full_pass(&world, &project, Some(8)).await;
    let report = sync_project(&world.app.db, &world.client(), &project, &options())
        .await
        .unwrap();
    assert!(report.full_pass);
    assert_eq!((report.pr_pages, report.prs_fetched), (1, 3));
    assert_eq!(
        ann_all_time(&stats_rows(&world.app, &project).await),
        (12, 0, 0, 2)
    );
    let (watermark, cursor, last_full, _, _) = sync_state(&world.app, &project).await.unwrap();
    assert_eq!(cursor, None);
    assert_eq!(
        watermark.unwrap().and_utc().to_rfc3339(),
        "2025-01-09T10:00:00+00:00"
    );
    let age = chrono::Utc::now().naive_utc() - last_full.unwrap();
    assert!(age < chrono::Duration::minutes(1), "{age}");

    // And the next one is incremental again.
    let report = sync_project(&world.app.db, &world.client(), &project, &options())
        .await
        .unwrap();
    assert!(!report.full_pass);
    assert_eq!(report.prs_fetched, 1);
}

#[tokio::test]
async fn a_full_pass_keeps_to_the_page_budget_and_resumes_through_its_cursor() {
    let world = world().await;
    let project = project_with_team(&world).await;
    world.github.edit_repo(REPO, |repo| {
        for n in 10..35 {
            repo.prs.push(FakePr::open(
                n,
                "ann",
                &format!("2024-03-{:02}T00:00:00Z", n - 9),
            ));
        }
    });
    let unlimited = SyncOptions {
        page_size: 10,
        ..options()
    };
    sync_project(&world.app.db, &world.client(), &project, &unlimited)
        .await
        .unwrap();
    // A state from before full passes were recorded: one is due.
    set_last_full_pass(&world, &project, None).await;
    let limited = SyncOptions {
        max_pages: Some(2),
        ..unlimited.clone()
    };

    let err = sync_project(&world.app.db, &world.client(), &project, &limited)
        .await
        .unwrap_err();
    assert!(matches!(err, SyncError::Partial { fetched: 20 }), "{err}");
    let (watermark, cursor, _, _, _) = sync_state(&world.app, &project).await.unwrap();
    // The unfinished full pass has no watermark to stop at.
    assert_eq!((watermark, cursor.as_deref()), (None, Some("cursor:20")));

    world.github.clear_requests();
    let report = sync_project(&world.app.db, &world.client(), &project, &unlimited)
        .await
        .unwrap();
    assert!(report.full_pass);
    assert_eq!(
        (report.pr_pages, report.prs_fetched, report.prs_total),
        (1, 8, 28)
    );
    let cursors: Vec<_> = world
        .github
        .requests()
        .into_iter()
        .filter(|r| r.endpoint == Endpoint::GraphQl)
        .map(|r| r.cursor)
        .collect();
    assert_eq!(cursors, [Some("cursor:20".to_string())]);
    let (watermark, cursor, last_full, _, _) = sync_state(&world.app, &project).await.unwrap();
    assert!(watermark.is_some() && last_full.is_some() && cursor.is_none());
}

#[tokio::test]
async fn a_graphql_error_on_a_saved_cursor_restarts_the_pass_next_time() {
    let world = world().await;
    let project = project_with_team(&world).await;
    world.github.edit_repo(REPO, |repo| {
        for n in 10..35 {
            repo.prs.push(FakePr::open(
                n,
                "ann",
                &format!("2024-03-{:02}T00:00:00Z", n - 9),
            ));
        }
    });
    let limited = SyncOptions {
        page_size: 10,
        max_pages: Some(1),
        ..options()
    };
    sync_project(&world.app.db, &world.client(), &project, &limited)
        .await
        .unwrap_err();
    assert_eq!(
        sync_state(&world.app, &project).await.unwrap().1.as_deref(),
        Some("cursor:10")
    );
    world.github.script_graphql(Scripted::status(
        200,
        r#"{"data":null,"errors":[{"type":"INVALID_CURSOR_ARGUMENTS","message":"`cursor:10` does not appear to be a valid cursor."}]}"#,
    ));

    let err = sync_project(&world.app.db, &world.client(), &project, &limited)
        .await
        .unwrap_err();
    assert!(
        matches!(err, SyncError::GitHub(GitHubError::GraphQl { .. })),
        "{err}"
    );
    assert!(err.is_transient());
    let (_, cursor, newest, _, _) = sync_state(&world.app, &project).await.unwrap();
    assert_eq!((cursor, newest), (None, None));

    world.github.clear_requests();
    let report = sync_project(
        &world.app.db,
        &world.client(),
        &project,
        &SyncOptions {
            page_size: 10,
            ..options()
        },
    )
    .await
    .unwrap();
    assert_eq!((report.pr_pages, report.prs_total), (3, 28));
    let first = world
        .github
        .requests()
        .into_iter()
        .find(|r| r.endpoint == Endpoint::GraphQl)
        .unwrap();
    assert_eq!(first.cursor, None);
}

#[tokio::test]
async fn a_sync_whose_lease_was_taken_over_leaves_the_new_holders_row_alone() {
    let world = world().await;
    let project = project_with_team(&world).await;
    world.github.script_stats(Scripted::computing());
    let slow = SyncOptions {
        computing_first_wait: Duration::from_millis(600),
        computing_budget: Duration::from_secs(2),
        ..options()
    };
    let take_over = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        // Another sync takes the lease (say, after this one's expired) and says so.
        sqlx::query(
            "UPDATE github_sync_state SET lease_token = 'other',
                    lease_until = now() + interval '10 minutes'
             WHERE project_id = $1",
        )
        .bind(&project)
        .execute(&world.app.db)
        .await
        .unwrap();
    };

    let client = world.client();
    let (result, ()) = tokio::join!(
        sync_project(&world.app.db, &client, &project, &slow),
        take_over
    );

    assert!(matches!(result, Err(SyncError::LeaseLost)), "{result:?}");
    assert_eq!(
        sync_status(&world.app, &project).await,
        Some(("syncing".into(), None, false))
    );
    let (_, _, _, token, until) = sync_state(&world.app, &project).await.unwrap();
    assert_eq!(token.as_deref(), Some("other"));
    assert!(until.is_some());
    assert!(stats_rows(&world.app, &project).await.is_empty());
}

#[test]
fn the_lease_outlasts_the_budget_and_the_last_request() {
    let budget = Duration::from_secs(240);
    let options = SyncOptions::within(budget);
    assert!(options.lease > budget + enghub::github::client::REQUEST_TIMEOUT);
    // Within Vercel's 300 s limit for the cron function.
    assert_eq!(options.lease, Duration::from_secs(300));
}

#[tokio::test]
async fn no_github_request_outlives_the_budget_and_the_lease_is_derived_from_it() {
    let world = world().await;
    let project = project_with_team(&world).await;
    let (url, _server) = black_hole().await;
    let client =
        enghub::github::GitHubClient::new(reqwest::Client::new(), &url, Some(GITHUB_TOKEN));
    let budget = Duration::from_millis(2500);
    let options = SyncOptions::within(budget);
    let started = std::time::Instant::now();
    let check_lease = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let until = sync_state(&world.app, &project).await.unwrap().4.unwrap();
        until - chrono::Utc::now().naive_utc()
    };

    let (result, lease_left) = tokio::join!(
        sync_project(&world.app.db, &client, &project, &options),
        check_lease
    );

    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
    // Cut short by the budget: reported as a pass to continue.
    let err = result.unwrap_err();
    assert!(matches!(err, SyncError::Partial { fetched: 0 }), "{err}");
    // budget + request timeout + margin = 62.5 s, of which 0.5 s has passed.
    let expected = chrono::Duration::from_std(SyncOptions::lease_for(budget)).unwrap();
    assert!(
        lease_left <= expected && lease_left > expected - chrono::Duration::seconds(5),
        "{lease_left}"
    );
}

#[tokio::test]
async fn a_sync_with_its_budget_spent_does_not_start() {
    let world = world().await;
    let synced = project_with_team(&world).await;
    sync_project(&world.app.db, &world.client(), &synced, &options())
        .await
        .unwrap();
    let state_before = sync_state(&world.app, &synced).await;
    let fresh = insert_project(&world.app, Some(REPO_URL)).await;
    world.github.clear_requests();
    let spent = SyncOptions {
        deadline: Some(std::time::Instant::now() + Duration::from_secs(1)),
        ..options()
    };

    for project in [&synced, &fresh] {
        let err = sync_project(&world.app.db, &world.client(), project, &spent)
            .await
            .unwrap_err();
        assert!(matches!(err, SyncError::NotStarted));
        assert_eq!(err.to_string(), "not started: time budget exhausted");
        assert!(err.is_transient());
    }

    assert!(world.github.requests().is_empty());
    assert_eq!(sync_state(&world.app, &synced).await, state_before);
    assert_eq!(sync_status(&world.app, &synced).await.unwrap().0, "idle");
    assert_eq!(sync_state(&world.app, &fresh).await, None);
    assert_eq!(sync_status(&world.app, &fresh).await, None);
}
