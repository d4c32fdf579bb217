//! `POST /api/cron/github-sync` verifies the QStash signature on the raw body.

use std::time::{SystemTime, UNIX_EPOCH};

use enghub::dev::tokens::{sign_qstash, ClaimOverride, QStashOverrides};
use serde_json::Value;

use crate::helpers::{spawn_app, TestApp, PUBLIC_URL, QSTASH_CURRENT, QSTASH_NEXT};

const PATH: &str = "/api/cron/github-sync";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn url() -> String {
    format!("{PUBLIC_URL}{PATH}")
}

async fn deliver(app: &TestApp, signature: Option<String>, body: &str) -> (u16, Value) {
    let mut req = app
        .http
        .post(format!("{}{PATH}", app.base_url))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(sig) = signature {
        req = req.header("upstash-signature", sig);
    }
    app.send(req).await
}

fn sign(key: &str, body: &str, overrides: QStashOverrides) -> String {
    sign_qstash(key, &url(), body.as_bytes(), now(), overrides)
}

#[tokio::test]
async fn a_valid_signature_passes_verification() {
    let app = spawn_app().await;
    let body = r#"{"projectId":"p1"}"#;
    let (status, res) = deliver(
        &app,
        Some(sign(QSTASH_CURRENT, body, Default::default())),
        body,
    )
    .await;
    // Past verification: an unknown project is a permanent failure, not a 401.
    assert_eq!(status, 489, "{res}");
    assert_eq!(res["error"], "Project not found.");
}

#[tokio::test]
async fn a_token_signed_with_the_next_key_is_accepted_during_rotation() {
    let app = spawn_app().await;
    let (status, res) = deliver(&app, Some(sign(QSTASH_NEXT, "", Default::default())), "").await;
    assert_eq!(status, 200, "{res}");
    assert_eq!(res, serde_json::json!({"results": []}));
}

async fn rejected(app: &TestApp, signature: Option<String>, body: &str) -> String {
    let (status, res) = deliver(app, signature, body).await;
    assert_eq!(status, 401, "{res}");
    assert_eq!(res["error"], "invalid signature");
    res["reason"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn every_bad_signature_is_401_with_a_distinct_reason() {
    let app = spawn_app().await;
    let body = r#"{"projectId":"p1"}"#;
    let t = now();
    let cases: Vec<(&str, Option<String>, &str)> = vec![
        ("missing header", None, body),
        ("malformed", Some("not-a-token".into()), body),
        (
            "wrong key",
            Some(sign("sig_someone_else", body, Default::default())),
            body,
        ),
        (
            "wrong issuer",
            Some(sign(
                QSTASH_CURRENT,
                body,
                QStashOverrides {
                    iss: ClaimOverride::Set("Evil".into()),
                    ..Default::default()
                },
            )),
            body,
        ),
        (
            "wrong subject",
            Some(sign(
                QSTASH_CURRENT,
                body,
                QStashOverrides {
                    sub: ClaimOverride::Set("https://other.example/api/cron/github-sync".into()),
                    ..Default::default()
                },
            )),
            body,
        ),
        (
            "expired",
            Some(sign(
                QSTASH_CURRENT,
                body,
                QStashOverrides {
                    exp: ClaimOverride::Set(t - 120),
                    nbf: ClaimOverride::Set(t - 420),
                    iat: ClaimOverride::Set(t - 420),
                    ..Default::default()
                },
            )),
            body,
        ),
        (
            "not yet valid",
            Some(sign(
                QSTASH_CURRENT,
                body,
                QStashOverrides {
                    nbf: ClaimOverride::Set(t + 120),
                    ..Default::default()
                },
            )),
            body,
        ),
        (
            "body mismatch",
            Some(sign(QSTASH_CURRENT, body, Default::default())),
            r#"{"projectId":"p2"}"#,
        ),
    ];
    let mut reasons = Vec::new();
    for (name, sig, sent) in cases {
        let reason = rejected(&app, sig, sent).await;
        assert!(
            !reasons.contains(&reason),
            "{name}: reason {reason} not distinct"
        );
        reasons.push(reason);
    }
}

#[tokio::test]
async fn without_a_public_url_the_subject_is_rebuilt_from_forwarded_headers() {
    let app = crate::helpers::spawn_app_with(crate::helpers::TestOptions {
        extra_vars: vec![("ENGHUB_PUBLIC_URL", String::new())],
    })
    .await;
    let sig = sign_qstash(
        QSTASH_CURRENT,
        "https://preview.enghub.test/api/cron/github-sync",
        b"",
        now(),
        Default::default(),
    );
    let (status, _) = app
        .send(
            app.http
                .post(format!("{}{PATH}", app.base_url))
                .header("upstash-signature", sig)
                .header("x-forwarded-proto", "https")
                .header("x-forwarded-host", "preview.enghub.test"),
        )
        .await;
    assert_eq!(status, 200);
}
