//! `POST /api/cron/github-sync` end to end: signed deliveries, replay protection,
//! single-project syncs, fan-out through a fake QStash, and the status codes that
//! tell QStash whether to retry.

use enghub::dev::fakes::github::{Endpoint, Scripted};
use serde_json::json;

use crate::github_support::*;
use crate::helpers::{PUBLIC_URL, QSTASH_NEXT};

#[tokio::test]
async fn a_project_delivery_syncs_it_and_answers_synced() {
    let world = world().await;
    let project = project_with_team(&world).await;
    let body = json!({"projectId": project}).to_string();

    let (status, headers, res) = deliver(&world.app, &body).await;

    assert_eq!(status, 200, "{res}");
    assert_eq!(res, json!({"synced": [project]}));
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(stats_rows(&world.app, &project).await.len(), 4);
    assert_eq!(sync_status(&world.app, &project).await.unwrap().0, "idle");
}

#[tokio::test]
async fn a_sync_invalidates_the_cached_stats() {
    let world = world().await;
    let project = project_with_team(&world).await;
    let key = world.app.key(&format!("github-stats:{project}"));
    world.app.redis_set(&key, r#"{"stats":[]}"#).await;

    let (status, _, _) = deliver(&world.app, &json!({"projectId": project}).to_string()).await;

    assert_eq!(status, 200);
    assert_eq!(world.app.redis_get(&key).await, None);
}

#[tokio::test]
async fn a_replayed_delivery_is_rejected() {
    let world = world().await;
    let project = project_with_team(&world).await;
    let body = json!({"projectId": project}).to_string();
    let token = signature(&body);

    let (first, _, _) = deliver_signed(&world.app, &token, &body, &[]).await;
    let (second, _, res) = deliver_signed(&world.app, &token, &body, &[]).await;

    assert_eq!(first, 200);
    assert_eq!(second, 401);
    assert_eq!(
        res,
        json!({"error": "invalid signature", "reason": "replayed"})
    );
    // The replay did not reach GitHub.
    assert_eq!(world.github.requests().len(), 2);
}

#[tokio::test]
async fn a_token_without_jti_cannot_be_protected_and_is_rejected() {
    let world = world().await;
    let token = enghub::dev::tokens::sign_qstash(
        crate::helpers::QSTASH_CURRENT,
        &format!("{PUBLIC_URL}{CRON_PATH}"),
        b"",
        now(),
        enghub::dev::tokens::QStashOverrides {
            jti: enghub::dev::tokens::ClaimOverride::Omit,
            ..Default::default()
        },
    );
    let (status, _, res) = deliver_signed(&world.app, &token, "", &[]).await;
    assert_eq!(status, 401);
    assert_eq!(res["reason"], "missing jti claim");
}

#[tokio::test]
async fn the_replay_marker_lives_until_the_token_expires() {
    let world = world().await;
    let body = json!({"projectId": "nope"}).to_string();
    let jti = "jwt_replay_ttl_test";
    let token = enghub::dev::tokens::sign_qstash(
        crate::helpers::QSTASH_CURRENT,
        &format!("{PUBLIC_URL}{CRON_PATH}"),
        body.as_bytes(),
        now(),
        enghub::dev::tokens::QStashOverrides {
            jti: enghub::dev::tokens::ClaimOverride::Set(jti.into()),
            ..Default::default()
        },
    );
    deliver_signed(&world.app, &token, &body, &[]).await;
    let ttl = world
        .app
        .redis_ttl(&world.app.key(&format!("qstash:jti:{jti}")))
        .await;
    // exp = now + 300, plus the 5 s clock tolerance.
    assert!((300..=305).contains(&ttl), "{ttl}");
}

#[tokio::test]
async fn a_delivery_signed_with_the_next_key_is_processed() {
    let world = world().await;
    let project = project_with_team(&world).await;
    let body = json!({"projectId": project}).to_string();
    let token = enghub::dev::tokens::sign_qstash(
        QSTASH_NEXT,
        &format!("{PUBLIC_URL}{CRON_PATH}"),
        body.as_bytes(),
        now(),
        Default::default(),
    );
    let (status, _, res) = deliver_signed(&world.app, &token, &body, &[]).await;
    assert_eq!((status, res), (200, json!({"synced": [project]})));
}

async fn assert_non_retryable(world: &World, body: &str, message: &str) {
    let (status, headers, res) = deliver(&world.app, body).await;
    assert_eq!(status, 489, "{res}");
    assert_eq!(headers["upstash-nonretryable-error"], "true");
    assert_eq!(res, json!({"error": message}));
}

#[tokio::test]
async fn permanent_failures_answer_489_so_qstash_stops_retrying() {
    let world = world().await;
    let none = insert_project(&world.app, None).await;
    let bad = insert_project(&world.app, Some("https://example.com/acme/widgets")).await;
    let gone = insert_project(&world.app, Some("https://github.com/acme/gone")).await;

    assert_non_retryable(&world, r#"{"projectId":"missing"}"#, "Project not found.").await;
    assert_non_retryable(
        &world,
        &json!({"projectId": none}).to_string(),
        "Project has no GitHub URL configured.",
    )
    .await;
    assert_non_retryable(
        &world,
        &json!({"projectId": bad}).to_string(),
        "Invalid GitHub URL format.",
    )
    .await;
    let (status, headers, _) = deliver(&world.app, &json!({"projectId": gone}).to_string()).await;
    assert_eq!(status, 489);
    assert_eq!(headers["upstash-nonretryable-error"], "true");
}

#[tokio::test]
async fn a_github_outage_answers_500_so_qstash_retries() {
    let world = world().await;
    let project = project_with_team(&world).await;
    world
        .github
        .script_stats(Scripted::status(503, "unavailable"));

    let (status, headers, res) =
        deliver(&world.app, &json!({"projectId": project}).to_string()).await;

    assert_eq!(status, 500);
    assert!(headers.get("upstash-nonretryable-error").is_none());
    assert_eq!(
        res,
        json!({"error": "GitHub API error: 503 Service Unavailable"})
    );
    assert_eq!(sync_status(&world.app, &project).await.unwrap().0, "error");
}

#[tokio::test]
async fn a_github_rate_limit_answers_503_with_retry_after() {
    let world = world().await;
    let project = project_with_team(&world).await;
    world
        .github
        .script_graphql(Scripted::status(403, "secondary rate limit").header("retry-after", "90"));

    let (status, headers, _) =
        deliver(&world.app, &json!({"projectId": project}).to_string()).await;

    assert_eq!(status, 503);
    assert_eq!(headers["retry-after"], "90");
    assert_eq!(
        world
            .github
            .requests()
            .iter()
            .filter(|r| r.endpoint == Endpoint::GraphQl)
            .count(),
        1
    );
}

#[tokio::test]
async fn a_project_already_syncing_is_acknowledged_without_a_second_sync() {
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

    let (status, _, res) = deliver(&world.app, &json!({"projectId": project}).to_string()).await;

    assert_eq!(status, 200);
    assert_eq!(res, json!({"synced": [], "alreadyRunning": [project]}));
    assert!(world.github.requests().is_empty());
}

#[tokio::test]
async fn an_empty_body_without_qstash_syncs_every_project_inline() {
    let world = world().await;
    let ok = project_with_team(&world).await;
    let gone = insert_project(&world.app, Some("https://github.com/acme/gone")).await;
    let bad = insert_project(&world.app, Some("not a url")).await;
    insert_project(&world.app, None).await;

    let (status, _, res) = deliver(&world.app, "").await;

    assert_eq!(status, 200, "{res}");
    let results = res["results"].as_array().unwrap();
    assert_eq!(results.len(), 3, "{res}");
    let by_id = |id: &str| {
        results
            .iter()
            .find(|r| r["projectId"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(by_id(&ok), json!({"projectId": ok, "success": true}));
    assert_eq!(by_id(&gone)["success"], false);
    assert_eq!(by_id(&gone)["error"], "GitHub repository not found");
    assert_eq!(
        by_id(&bad),
        json!({"projectId": bad, "success": false, "error": "Invalid GitHub URL format."})
    );
}

#[tokio::test]
async fn only_an_empty_body_or_an_empty_object_means_every_project() {
    let world = world().await;
    let ok = project_with_team(&world).await;
    for body in ["", "{}"] {
        let (status, _, res) = deliver(&world.app, body).await;
        assert_eq!(status, 200);
        assert_eq!(res["results"][0]["projectId"], ok.as_str(), "{body}: {res}");
    }
}

#[tokio::test]
async fn any_other_body_is_a_permanent_400_that_syncs_nothing() {
    let world = world().await;
    let ok = project_with_team(&world).await;
    for body in [
        "not json",
        r#"{"projectId": 42}"#,
        r#"{"projectid": "x"}"#,
        r#"{"projectId": ""}"#,
        "[]",
    ] {
        let (status, headers, res) = deliver(&world.app, body).await;
        assert_eq!(status, 400, "{body}: {res}");
        assert_eq!(headers["upstash-nonretryable-error"], "true", "{body}");
    }
    let (syncs,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM github_syncs WHERE project_id = $1")
            .bind(&ok)
            .fetch_one(&world.app.db)
            .await
            .unwrap();
    assert_eq!(syncs, 0, "nothing synced");
}

#[tokio::test]
async fn a_project_id_postgres_cannot_hold_is_an_unknown_project_not_a_500() {
    let world = world().await;
    assert_non_retryable(&world, r#"{"projectId":"a\u0000b"}"#, "Project not found.").await;
    let long = json!({"projectId": "x".repeat(300)}).to_string();
    assert_non_retryable(&world, &long, "Project not found.").await;
}

fn qstash_world() -> Setup {
    Setup {
        github_token: true,
        qstash: true,
    }
}

#[tokio::test]
async fn an_empty_body_with_qstash_publishes_one_message_per_project_in_one_batch() {
    let world = world_with(qstash_world()).await;
    let first = project_with_team(&world).await;
    let second = insert_project(&world.app, Some("https://github.com/acme/other")).await;
    let bad = insert_project(&world.app, Some("https://gitlab.com/x/y")).await;

    let (status, _, res) = deliver_signed(
        &world.app,
        &signature(""),
        "",
        &[("upstash-message-id", "msg_tick_1")],
    )
    .await;

    assert_eq!(status, 200, "{res}");
    assert_eq!(res["enqueued"], json!([first, second]));
    let results = res["results"].as_array().unwrap();
    assert_eq!(
        results[0],
        json!({"projectId": bad, "success": false, "error": "Invalid GitHub URL format."})
    );
    assert_eq!(results[1]["projectId"], first.as_str());
    assert_eq!(results[1]["success"], true);
    assert!(results[1]["messageId"]
        .as_str()
        .unwrap()
        .starts_with("msg_"));
    // Nothing was synced inside this delivery.
    assert!(world.github.requests().is_empty());

    let received = world.qstash.as_ref().unwrap().received();
    assert_eq!(received.len(), 1);
    let batch = &received[0];
    assert_eq!(
        (batch.method.as_str(), batch.target.as_str()),
        ("POST", "/v2/batch")
    );
    assert_eq!(batch.headers["authorization"], "Bearer qstash-test-token");
    let messages: serde_json::Value = serde_json::from_str(&batch.body).unwrap();
    assert_eq!(
        messages[0],
        json!({
            "destination": format!("{PUBLIC_URL}{CRON_PATH}"),
            "headers": {
                "content-type": "application/json",
                "upstash-method": "POST",
                "upstash-retries": "5",
                "upstash-deduplication-id": format!("github-sync-{first}-msg_tick_1"),
            },
            "body": json!({"projectId": first}).to_string(),
        })
    );
    assert_eq!(messages.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_retried_fan_out_reuses_its_deduplication_ids() {
    let world = world_with(qstash_world()).await;
    let project = project_with_team(&world).await;
    let tick = [("upstash-message-id", "msg_tick_2")];
    deliver_signed(&world.app, &signature(""), "", &tick).await;
    deliver_signed(&world.app, &signature(""), "", &tick).await;

    let ids: Vec<String> = world
        .qstash
        .as_ref()
        .unwrap()
        .received()
        .iter()
        .map(|r| {
            let m: serde_json::Value = serde_json::from_str(&r.body).unwrap();
            m[0]["headers"]["upstash-deduplication-id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(ids, vec![format!("github-sync-{project}-msg_tick_2"); 2]);
}

#[tokio::test]
async fn a_failed_fan_out_answers_502_so_qstash_retries() {
    let world = world_with(qstash_world()).await;
    project_with_team(&world).await;
    world
        .qstash
        .as_ref()
        .unwrap()
        .fail_next(500, "internal error");

    let (status, _, res) = deliver(&world.app, "").await;

    assert_eq!(status, 502);
    assert!(res["error"].as_str().unwrap().contains("could not enqueue"));
}

#[tokio::test]
async fn a_fanned_out_message_delivered_back_syncs_its_project() {
    let world = world_with(qstash_world()).await;
    let project = project_with_team(&world).await;
    deliver(&world.app, "").await;
    let batch = &world.qstash.as_ref().unwrap().received()[0];
    let messages: serde_json::Value = serde_json::from_str(&batch.body).unwrap();
    let body = messages[0]["body"].as_str().unwrap();

    // What QStash would then deliver: the message body, signed for its destination.
    let (status, _, res) = deliver(&world.app, body).await;

    assert_eq!((status, res), (200, json!({"synced": [project]})));
}

#[tokio::test]
async fn only_post_is_allowed() {
    let world = world().await;
    let res = world
        .app
        .http
        .get(format!("{}{CRON_PATH}", world.app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 405);
    assert_eq!(res.headers()["allow"], "POST");
}

#[tokio::test]
async fn a_batch_answer_that_does_not_match_the_messages_answers_502() {
    // A QStash that accepts the batch but answers for none of its messages.
    let qstash = enghub::dev::fakes::FakeServer::start(std::sync::Arc::new(|_req| {
        let mut res = http::Response::new(bytes::Bytes::from_static(b"[]"));
        res.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        res
    }))
    .await
    .unwrap();
    let github = enghub::dev::fakes::github::FakeGitHub::start().await;
    let app = crate::helpers::spawn_app_with(crate::helpers::TestOptions {
        extra_vars: vec![
            ("GITHUB_API_URL", github.url()),
            ("GITHUB_TOKEN", GITHUB_TOKEN.to_string()),
            ("QSTASH_URL", qstash.url()),
            ("QSTASH_TOKEN", "qstash-test-token".to_string()),
        ],
    })
    .await;
    insert_project(&app, Some(REPO_URL)).await;

    let (status, headers, res) = deliver(&app, "").await;

    assert_eq!(status, 502, "{res}");
    assert!(headers.get("upstash-nonretryable-error").is_none());
    assert_eq!(
        res,
        json!({"error": "could not enqueue the project syncs: QStash answered 0 results for 1 messages"})
    );
    assert!(github.requests().is_empty());
}

#[tokio::test]
async fn a_first_sync_still_computing_asks_qstash_to_retry_soon() {
    let world = world().await;
    let project = project_with_team(&world).await;
    // Longer than the cron's 20 s computing budget (waits of 1, 2, 4 and 8 s).
    for _ in 0..10 {
        world.github.script_stats(Scripted::computing());
    }

    let (status, headers, res) =
        deliver(&world.app, &json!({"projectId": project}).to_string()).await;

    assert_eq!(status, 503, "{res}");
    assert_eq!(headers["retry-after"], "30");
    assert!(headers.get("upstash-nonretryable-error").is_none());
    assert_eq!(
        res,
        json!({"error": "GitHub is still computing contributor statistics; try again shortly"})
    );
}

#[tokio::test]
async fn a_token_expiring_at_the_end_of_time_does_not_crash_the_function() {
    let world = world().await;
    let body = json!({"projectId": "nope"}).to_string();
    let token = enghub::dev::tokens::sign_qstash(
        crate::helpers::QSTASH_CURRENT,
        &format!("{PUBLIC_URL}{CRON_PATH}"),
        body.as_bytes(),
        now(),
        enghub::dev::tokens::QStashOverrides {
            exp: enghub::dev::tokens::ClaimOverride::Set(u64::MAX),
            ..Default::default()
        },
    );

    let (status, _, res) = deliver_signed(&world.app, &token, &body, &[]).await;

    // Answered (whatever Redis makes of the marker's lifetime), not a dropped connection.
    assert!([489, 503].contains(&status), "{status} {res}");
    assert!(res["error"].is_string(), "{res}");
}
