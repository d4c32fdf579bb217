//! `POST /api/cron/github-sync`: the QStash-signed webhook. The signature is
//! verified on the raw body bytes before anything parses them; the sync itself
//! is not built yet and answers 501 after a valid signature.

use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use serde_json::json;

use super::json_response;
use crate::app::App;
use crate::qstash;

pub async fn handle(app: &Arc<App>, req: Request<Bytes>) -> Response<Bytes> {
    let (parts, body) = req.into_parts();
    if parts.method != Method::POST {
        let mut res = json_response(
            StatusCode::METHOD_NOT_ALLOWED,
            &json!({"error": "method not allowed"}),
        );
        res.headers_mut()
            .insert(http::header::ALLOW, http::HeaderValue::from_static("POST"));
        return res;
    }
    let signature = parts
        .headers
        .get("upstash-signature")
        .and_then(|v| v.to_str().ok());
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/api/cron/github-sync");
    let url = qstash::expected_url(app.config.public_url.as_deref(), &parts.headers, path);
    let now = chrono::Utc::now().timestamp().max(0) as u64;
    match app.qstash.verify(signature, &body, &url, now) {
        Err(reason) => {
            tracing::warn!(%reason, url, "rejected QStash delivery");
            json_response(
                StatusCode::UNAUTHORIZED,
                &json!({"error": "invalid signature", "reason": reason.to_string()}),
            )
        }
        Ok(_) => json_response(
            StatusCode::NOT_IMPLEMENTED,
            &json!({"error": "not implemented yet"}),
        ),
    }
}
