//! What real clients send (issue 10 §5): Clerk tokens in every form Clerk
//! itself reads, a local QStash signing for the dev server's plain-HTTP URL,
//! and GETs larger than a server's default header limit.

use std::time::{SystemTime, UNIX_EPOCH};

use enghub::dev::tokens::sign_qstash;
use serde_json::{json, Value};

use crate::helpers::{
    foreign_clerk_keys, spawn_app, spawn_app_with, token_for, TestApp, TestOptions, QSTASH_CURRENT,
    USER,
};
use enghub::dev::tokens::ClerkClaims;

#[tokio::test]
async fn a_local_qstash_delivery_to_the_plain_http_url_verifies_without_settings() {
    let app = spawn_app_with(TestOptions {
        extra_vars: vec![("ENGHUB_PUBLIC_URL", String::new())],
    })
    .await;
    let url = format!("{}/api/cron/github-sync", app.base_url);
    assert!(url.starts_with("http://127.0.0.1:"));
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let body = r#"{"projectId":"p1"}"#;
    // A delivery signed for the plain-HTTP `url`, through a proxy that says
    // which scheme the client used (`None`: no proxy).
    let deliver = |forwarded_proto: Option<&'static str>| {
        let signature = sign_qstash(
            QSTASH_CURRENT,
            &url,
            body.as_bytes(),
            now,
            Default::default(),
        );
        let mut req = app
            .http
            .post(&url)
            .header("content-type", "application/json");
        if let Some(proto) = forwarded_proto {
            req = req.header("x-forwarded-proto", proto);
        }
        app.send(req.header("upstash-signature", signature).body(body))
    };
    let (status, res) = deliver(None).await;
    // Past verification: an unknown project is a permanent failure, not a 401.
    assert_eq!(status, 489, "{res}");

    // A proxy in front that terminated TLS says so; then https is expected.
    let (status, res) = deliver(Some("https")).await;
    assert_eq!(status, 401, "{res}");
}

/// Sends a raw GET (the URL may exceed what HTTP client libraries build) and
/// returns the status and body.
async fn raw_get(app: &TestApp, target: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = app.base_url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "GET {target} HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {}\r\nconnection: close\r\n\r\n",
        token_for(USER)
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text[9..12].parse().unwrap();
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

#[tokio::test]
async fn an_oversized_get_is_a_trpc_json_error() {
    let app = spawn_app().await;
    // Over hyper's URL limit (64 KiB): answered before hyper sees it.
    let input = json!({"id": "x".repeat(70 * 1024)}).to_string();
    let input = percent_encoding::utf8_percent_encode(&input, percent_encoding::NON_ALPHANUMERIC);
    let (status, body) = raw_get(&app, &format!("/api/trpc/person.getById?input={input}")).await;
    assert_eq!(status, 413, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"]["data"]["code"], "PAYLOAD_TOO_LARGE");
    // Headers over the head limit: the same JSON error, not an empty 431.
    let addr = app.base_url.trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let big = "a".repeat(60 * 1024);
    let mut request = format!("GET /api/trpc/department.getAll HTTP/1.1\r\nhost: {addr}\r\n");
    for i in 0..20 {
        request.push_str(&format!("x-filler-{i}: {big}\r\n"));
    }
    request.push_str("\r\n");
    let _ = stream.write_all(request.as_bytes()).await;
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    let text = String::from_utf8_lossy(&response);
    assert!(
        text.starts_with("HTTP/1.1 413"),
        "{}",
        &text[..text.len().min(200)]
    );
    assert!(text.contains("PAYLOAD_TOO_LARGE"));
    // 60 KiB of input, over hyper's default head buffer for some clients, is served.
    let input = json!({"id": "x".repeat(60 * 1024)}).to_string();
    let input = percent_encoding::utf8_percent_encode(&input, percent_encoding::NON_ALPHANUMERIC);
    let (status, body) = raw_get(&app, &format!("/api/trpc/person.getById?input={input}")).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_token_without_a_scheme_and_the_second_session_cookie_both_authenticate() {
    let app = spawn_app().await;
    let url = format!("{}/api/trpc/department.getAll", app.base_url);
    let (status, body) = app
        .send(app.http.get(&url).header("authorization", token_for(USER)))
        .await;
    assert_eq!(status, 200, "{body}");
    let other_app = foreign_clerk_keys().sign(ClerkClaims::for_user(
        USER,
        std::time::Duration::from_secs(600),
    ));
    let cookie = format!("__session={other_app}; __session_x1Yz={}", token_for(USER));
    let (status, body) = app.send(app.http.get(&url).header("cookie", cookie)).await;
    assert_eq!(status, 200, "{body}");
    let cookie = format!("__session={other_app}");
    let (status, _) = app.send(app.http.get(&url).header("cookie", cookie)).await;
    assert_eq!(status, 401);
}
