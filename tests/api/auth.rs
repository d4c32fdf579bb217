//! Clerk session tokens at the HTTP edge: every protected call needs one.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use enghub::dev::tokens::ClerkClaims;
use serde_json::Value;

use crate::helpers::{clerk_keys, data, error_code, foreign_clerk_keys, spawn_app, TestApp};

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

async fn get_with(app: &TestApp, token: Option<&str>, cookie: Option<String>) -> (u16, Value) {
    let mut req = app
        .http
        .get(format!("{}/api/trpc/department.getAll", app.base_url));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    app.send(req).await
}

fn claims(sub: &str) -> ClerkClaims {
    ClerkClaims::for_user(sub, Duration::from_secs(600))
}

#[tokio::test]
async fn a_call_without_a_token_is_unauthorized_json_not_a_redirect() {
    let app = spawn_app().await;
    let (status, body) = get_with(&app, None, None).await;
    assert_eq!(status, 401);
    assert_eq!(error_code(&body), "UNAUTHORIZED");
    assert_eq!(body["error"]["message"], "UNAUTHORIZED");
}

#[tokio::test]
async fn a_valid_bearer_token_is_accepted() {
    let app = spawn_app().await;
    let token = clerk_keys().sign(claims("user_a"));
    let (status, body) = get_with(&app, Some(&token), None).await;
    assert_eq!(status, 200, "{body}");
    assert!(data(&body).is_array());
}

#[tokio::test]
async fn the_session_cookie_and_its_suffixed_form_are_accepted() {
    let app = spawn_app().await;
    let token = clerk_keys().sign(claims("user_a"));
    let (status, _) = get_with(&app, None, Some(format!("theme=dark; __session={token}"))).await;
    assert_eq!(status, 200);
    let (status, _) = get_with(&app, None, Some(format!("__session_Ab12Cd={token}"))).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_token_signed_by_another_key_is_unauthorized() {
    let app = spawn_app().await;
    let token = foreign_clerk_keys().sign(claims("user_a"));
    let (status, _) = get_with(&app, Some(&token), None).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn an_expired_token_is_unauthorized() {
    let app = spawn_app().await;
    let mut c = claims("user_a");
    c.issued_at = now() - 600;
    c.expires_at = now() - 60;
    let (status, _) = get_with(&app, Some(&clerk_keys().sign(c)), None).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn a_token_for_another_authorized_party_is_unauthorized() {
    let app = spawn_app().await;
    let mut c = claims("user_a");
    c.azp = Some("https://evil.example".into());
    let (status, _) = get_with(&app, Some(&clerk_keys().sign(c)), None).await;
    assert_eq!(status, 401);
    let mut c = claims("user_a");
    c.azp = Some("https://app.enghub.test".into());
    let (status, _) = get_with(&app, Some(&clerk_keys().sign(c)), None).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_pending_session_is_unauthorized() {
    let app = spawn_app().await;
    let mut c = claims("user_a");
    c.sts = Some("pending".into());
    let (status, _) = get_with(&app, Some(&clerk_keys().sign(c)), None).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn a_garbage_token_is_unauthorized() {
    let app = spawn_app().await;
    let (status, _) = get_with(&app, Some("not.a.jwt"), None).await;
    assert_eq!(status, 401);
}
