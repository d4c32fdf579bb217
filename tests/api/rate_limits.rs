//! The general and mutation tiers at the HTTP edge, with the original's keys
//! and message, and the preview skip.

use serde_json::{json, Value};

use crate::helpers::{error_code, spawn_app, spawn_app_with, token_for, TestApp, TestOptions};

async fn batch_of_50_queries(app: &TestApp, user: &str) -> (u16, Value) {
    let paths = vec!["department.getAll"; 50].join(",");
    app.send(
        app.http
            .get(format!(
                "{}/api/trpc/{paths}?batch=1&input=%7B%7D",
                app.base_url
            ))
            .bearer_auth(token_for(user)),
    )
    .await
}

async fn query_as(app: &TestApp, user: &str) -> (u16, Value) {
    app.send(
        app.http
            .get(format!("{}/api/trpc/department.getAll", app.base_url))
            .bearer_auth(token_for(user)),
    )
    .await
}

async fn keys_matching(app: &TestApp, pattern: &str) -> Vec<String> {
    let reply = app
        .redis
        .command(&enghub::upstash::Command::new("keys").arg(pattern))
        .await
        .unwrap();
    reply.into_strings()
}

/// Sliding windows are per minute bucket: a test that straddles a bucket
/// boundary sees part of its calls weighted down. Start well inside a bucket.
async fn start_inside_a_window() {
    let into = enghub::ratelimit::now_ms() % 60_000;
    if into > 50_000 {
        tokio::time::sleep(std::time::Duration::from_millis(60_000 - into + 100)).await;
    }
}

fn assert_rate_limited(body: &Value) {
    assert_eq!(error_code(body), "TOO_MANY_REQUESTS");
    let message = body["error"]["message"].as_str().unwrap();
    let seconds: u64 = message
        .strip_prefix("Rate limit exceeded. Try again in ")
        .and_then(|m| m.strip_suffix("s."))
        .unwrap_or_else(|| panic!("message {message}"))
        .parse()
        .unwrap();
    assert!((1..=60).contains(&seconds), "{message}");
}

#[tokio::test]
async fn the_101st_query_in_a_minute_is_too_many_requests() {
    let app = spawn_app().await;
    start_inside_a_window().await;
    let (status, _) = batch_of_50_queries(&app, "user_rl").await;
    assert_eq!(status, 200);
    let (status, _) = batch_of_50_queries(&app, "user_rl").await;
    assert_eq!(status, 200);

    let (status, body) = query_as(&app, "user_rl").await;

    assert_eq!(status, 429, "{body}");
    assert_rate_limited(&body);
    let keys = keys_matching(&app, &format!("{}:rl:general:user_rl:*", app.prefix)).await;
    assert!(
        !keys.is_empty(),
        "sliding-window counters under the general prefix"
    );
    // Other users keep their own budget.
    let (status, _) = query_as(&app, "user_other").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn the_31st_mutation_in_a_minute_is_too_many_requests() {
    let app = spawn_app().await;
    start_inside_a_window().await;
    let body: String = (0..30)
        .map(|i| format!("\"{i}\":{{\"name\":\"D{i}\"}}"))
        .collect::<Vec<_>>()
        .join(",");
    let paths = vec!["department.create"; 30].join(",");
    let (status, res) = app
        .send(
            app.http
                .post(format!("{}/api/trpc/{paths}?batch=1", app.base_url))
                .header("content-type", "application/json")
                .bearer_auth(token_for("user_mut"))
                .body(format!("{{{body}}}")),
        )
        .await;
    assert_eq!(status, 200, "{res}");

    let (status, res) = app
        .send(
            app.http
                .post(format!("{}/api/trpc/department.create", app.base_url))
                .header("content-type", "application/json")
                .bearer_auth(token_for("user_mut"))
                .body(r#"{"name":"one too many"}"#),
        )
        .await;

    assert_eq!(status, 429, "{res}");
    assert_rate_limited(&res);
    let keys = keys_matching(&app, &format!("{}:rl:mutation:user_mut:*", app.prefix)).await;
    assert_eq!(keys.len(), 1);
    let (count,): (i64,) = sqlx::query_as("SELECT count(*) FROM roles WHERE name = 'one too many'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(count, 0, "a limited mutation writes nothing");
}

#[tokio::test]
async fn invalid_input_spends_no_rate_limit_token() {
    let app = spawn_app().await;
    let (status, _) = app.mutate("department.create", json!({"name": ""})).await;
    assert_eq!(status, 400);
    let keys = keys_matching(&app, &format!("{}:rl:mutation:*", app.prefix)).await;
    assert!(keys.is_empty(), "{keys:?}");
}

#[tokio::test]
async fn preview_deployments_skip_rate_limits() {
    let app = spawn_app_with(TestOptions {
        extra_vars: vec![("VERCEL_ENV", "preview".to_string())],
    })
    .await;
    for _ in 0..3 {
        let (status, _) = batch_of_50_queries(&app, "user_preview").await;
        assert_eq!(status, 200);
    }
    let keys = keys_matching(&app, &format!("{}:rl:*", app.prefix)).await;
    assert!(keys.is_empty(), "{keys:?}");
}

#[tokio::test]
async fn a_rejected_user_is_blocked_locally_without_an_upstash_round_trip() {
    let app = spawn_app().await;
    start_inside_a_window().await;
    batch_of_50_queries(&app, "user_blocked").await;
    batch_of_50_queries(&app, "user_blocked").await;
    let (status, _) = query_as(&app, "user_blocked").await;
    assert_eq!(status, 429);

    let res = app
        .http
        .get(format!("{}/api/trpc/department.getAll", app.base_url))
        .bearer_auth(token_for("user_blocked"))
        .send()
        .await
        .unwrap();

    assert_eq!(res.status(), 429);
    let timing = res.headers()["server-timing"].to_str().unwrap().to_string();
    assert!(timing.contains("\"0 round trips\""), "{timing}");
}
