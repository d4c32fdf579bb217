//! Redis is never a single point of failure: with Upstash down, refusing
//! connections or slower than the client timeout, queries are answered from
//! Postgres, mutations commit, and rate limiting follows RATE_LIMIT_ON_ERROR.

use std::time::Duration;

use serde_json::json;

use crate::helpers::{data, error_code, spawn_app_with, TestApp, TestOptions};

async fn app_with(policy: &str, upstash_url: Option<String>) -> TestApp {
    let mut extra_vars = vec![("RATE_LIMIT_ON_ERROR", policy.to_string())];
    if let Some(url) = upstash_url {
        extra_vars.push(("UPSTASH_REDIS_REST_URL", url));
    }
    spawn_app_with(TestOptions { extra_vars }).await
}

async fn assert_served_from_postgres(app: &TestApp) {
    let (status, body) = app
        .mutate("department.create", json!({"name": "Eng"}))
        .await;
    assert_eq!(status, 200, "mutation commits: {body}");
    let (count,): (i64,) = sqlx::query_as("SELECT count(*) FROM roles")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(count, 1);
    let (status, body) = app.query("department.getAll", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(data(&body)[0]["name"], "Eng");
    let (status, body) = app
        .batch_query(&[("department.getAll", None), ("title.getAll", None)])
        .await;
    assert_eq!(status, 200, "{body}");
}

/// An HTTP endpoint that answers every request with 503, like an Upstash outage.
async fn failing_endpoint() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            tokio::spawn(async move {
                let service = hyper::service::service_fn(|_req| async {
                    let mut res = http::Response::new(http_body_util::Full::new(
                        bytes::Bytes::from_static(br#"{"error":"service unavailable"}"#),
                    ));
                    *res.status_mut() = http::StatusCode::SERVICE_UNAVAILABLE;
                    Ok::<_, std::convert::Infallible>(res)
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn an_upstash_outage_answering_errors_falls_back_to_postgres() {
    let app = app_with("allow", Some(failing_endpoint().await)).await;
    assert_served_from_postgres(&app).await;
}

#[tokio::test]
async fn an_upstash_endpoint_refusing_connections_falls_back_to_postgres() {
    let mut app = app_with("allow", None).await;
    app.stop_bridge().await;
    assert_served_from_postgres(&app).await;
}

#[tokio::test]
async fn an_upstash_slower_than_the_timeout_falls_back_to_postgres() {
    let app = app_with("allow", None).await; // UPSTASH_TIMEOUT_MS = 1000 in tests
    app.bridge().set_latency(Duration::from_millis(1_500));
    let started = std::time::Instant::now();
    let (status, _) = app.query("department.getAll", None).await;
    assert_eq!(status, 200);
    assert!(
        started.elapsed() < Duration::from_millis(2_500),
        "{:?}",
        started.elapsed()
    );
    assert_served_from_postgres(&app).await;
}

#[tokio::test]
async fn with_deny_policy_an_unreachable_upstash_rejects_protected_calls() {
    let mut app = app_with("deny", None).await;
    app.stop_bridge().await;

    let (status, body) = app.query("department.getAll", None).await;

    assert_eq!(status, 429);
    assert_eq!(error_code(&body), "TOO_MANY_REQUESTS");
    let (status, _) = app
        .send(
            app.http
                .get(format!("{}/api/trpc/health.ping", app.base_url)),
        )
        .await;
    assert_eq!(status, 200, "public procedures are not rate-limited");
}

/// Collects formatted log lines written on this thread.
#[derive(Clone, Default)]
struct Lines(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Lines {
    fn warnings(&self) -> Vec<String> {
        let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .filter(|l| l.contains("WARN") && l.contains("enghub"))
            .map(str::to_string)
            .collect()
    }
    fn clear(&self) {
        self.0.lock().unwrap().clear();
    }
}

#[tokio::test]
async fn each_request_logs_one_warning_when_upstash_is_down() {
    // The test runtime runs the server on this thread, so a thread-local
    // subscriber sees every event of the requests.
    let lines = Lines::default();
    let writer = lines.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let mut app = app_with("allow", None).await;
    app.stop_bridge().await;
    lines.clear();

    let (status, _) = app
        .batch_query(&[("department.getAll", None), ("title.getAll", None)])
        .await;
    assert_eq!(status, 200);
    assert_eq!(lines.warnings().len(), 1, "{:#?}", lines.warnings());
    lines.clear();

    let (status, _) = app
        .mutate("department.create", json!({"name": "Eng"}))
        .await;
    assert_eq!(status, 200);
    let warnings = lines.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    assert!(
        warnings[0].contains("departments:all"),
        "names the stale keys: {}",
        warnings[0]
    );
}
