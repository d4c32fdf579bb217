//! `POST /api/cron/github-sync`: the QStash-signed webhook that syncs GitHub stats.
//!
//! Order of work, each step only after the previous one passed:
//! 1. `POST` only (405 otherwise).
//! 2. The `Upstash-Signature` is verified on the raw body bytes (401 with a precise
//!    reason).
//! 3. Replay protection: the token's `jti` is remembered in Redis until the token
//!    expires (`SET NX EX`); a second delivery of the same token is 401 `replayed`.
//!    QStash signs every delivery attempt afresh, so its own retries pass. If Redis
//!    cannot be asked the delivery is refused with 503 (QStash retries): the check
//!    fails closed.
//! 4. Only now is the body parsed. `{"projectId": "<non-empty string>"}` syncs that
//!    project and answers `{"synced": [id]}` (an id that cannot exist, with a NUL or
//!    longer than an id can be, is the unknown project's 489). Any other body but an
//!    empty one or `{}` (`{"projectId": 42}`, `{"projectid": "x"}`, invalid JSON) is
//!    400 with `Upstash-NonRetryable-Error: true` and syncs nothing (procedures.md
//!    §9 item 8). An empty body or `{}` syncs every project with a GitHub URL:
//!    with `QSTASH_TOKEN` set, by publishing one `{"projectId"}` message per project
//!    back to this endpoint (one `POST /v2/batch`) and answering at once
//!    `{"enqueued": [ids], "results": [...]}`; without it, inline with bounded
//!    concurrency, answering `{"results": [{projectId, success, error?}]}`.
//!
//! Status codes tell QStash what to do: 2xx delivered; a permanent failure (unknown
//! project, no or invalid URL, repository gone) 489 with
//! `Upstash-NonRetryable-Error: true` (no retry, straight to the DLQ); a transient
//! one (GitHub 5xx or rate limit, network, database) 500/503, with `Retry-After` when
//! GitHub said how long to wait (30 s while a first sync's statistics are still being
//! computed), so QStash retries then rather than hammering. A fan-out whose batch
//! answer does not match the messages sent is 502 (retried; deduplication ids keep
//! the retry from enqueueing twice). Inline, a project not started before the time
//! budget ran out is reported `not started: time budget exhausted`, its sync state
//! untouched.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::StreamExt;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use serde_json::{json, Value};

use super::json_response;
use crate::app::App;
use crate::db::github as sql;
use crate::github::sync::{self, SyncError, SyncOptions};
use crate::github::RepoSlug;
use crate::qstash::{self, BatchMessage, Publisher, VerifiedMessage, CLOCK_TOLERANCE_SECS};
use crate::upstash::{Command, Reply};

/// The function may run 300 s on Vercel; syncs stop fetching well before.
const SYNC_BUDGET: Duration = Duration::from_secs(240);
/// Inline syncs at once when QStash cannot fan out.
const INLINE_CONCURRENCY: usize = 4;
/// Retries QStash makes for each fanned-out message (after the first attempt).
const FAN_OUT_RETRIES: u32 = 5;
/// QStash accepts at most this many messages per batch call.
const BATCH_SIZE: usize = 100;
/// The status QStash treats as "do not retry" (with the header below).
const NON_RETRYABLE: u16 = 489;

pub async fn handle(app: &Arc<App>, req: Request<Bytes>) -> Response<Bytes> {
    let (parts, body) = req.into_parts();
    if parts.method != Method::POST {
        let mut res = json_response(
            StatusCode::METHOD_NOT_ALLOWED,
            &json!({"error": "method not allowed"}),
        );
        res.headers_mut()
            .insert(http::header::ALLOW, HeaderValue::from_static("POST"));
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
    let message = match app.qstash.verify(signature, &body, &url, now) {
        Ok(message) => message,
        Err(reason) => return unauthorized(&url, &reason.to_string()),
    };
    match remember_token(app, &message, now).await {
        Ok(TokenUse::First) => {}
        Ok(TokenUse::Replayed) => return unauthorized(&url, "replayed"),
        Ok(TokenUse::NoId) => return unauthorized(&url, "missing jti claim"),
        Err(e) => {
            tracing::error!(error = %e, "replay protection unavailable; delivery refused");
            return json_response(
                StatusCode::SERVICE_UNAVAILABLE,
                &json!({"error": "replay protection unavailable"}),
            );
        }
    }

    // Upstash answered the replay check: a good moment to apply invalidations
    // left pending by an outage (see `functions::outbox`).
    if let Err(e) = super::outbox::drain(app, &app.cache).await {
        tracing::warn!(error = %e, "cache outbox drain failed");
    }
    match cron_body(&body) {
        CronBody::One(project_id) if !could_exist(&project_id) => {
            failure(&SyncError::ProjectNotFound)
        }
        CronBody::One(project_id) => sync_one(app, &project_id).await,
        CronBody::All => sync_all(app, &message, &parts.headers).await,
        CronBody::Invalid => {
            tracing::warn!("cron delivery with an invalid body; nothing synced");
            let mut res = json_response(
                StatusCode::BAD_REQUEST,
                &json!({"error": "body must be empty, {} or {\"projectId\": \"<id>\"}"}),
            );
            res.headers_mut().insert(
                "upstash-nonretryable-error",
                HeaderValue::from_static("true"),
            );
            res
        }
    }
}

fn unauthorized(url: &str, reason: &str) -> Response<Bytes> {
    tracing::warn!(reason, url, "rejected QStash delivery");
    json_response(
        StatusCode::UNAUTHORIZED,
        &json!({"error": "invalid signature", "reason": reason}),
    )
}

/// Whether a verified token was seen before.
enum TokenUse {
    First,
    Replayed,
    /// Every QStash token has a `jti`; one without cannot be protected from replay.
    NoId,
}

/// `SET <prefix>:qstash:jti:<jti> 1 NX EX <until exp>`.
async fn remember_token(
    app: &App,
    message: &VerifiedMessage,
    now: u64,
) -> Result<TokenUse, crate::upstash::UpstashError> {
    let Some(jti) = message.jti.as_deref().filter(|j| !j.is_empty()) else {
        return Ok(TokenUse::NoId);
    };
    let until = message.exp.saturating_add(CLOCK_TOLERANCE_SECS);
    let ttl = until.saturating_sub(now).max(1);
    let key = format!("{}:qstash:jti:{jti}", app.config.key_prefix);
    let reply = crate::telemetry::observed(&app.redis)
        .command(
            &Command::new("set")
                .arg(key)
                .arg("1")
                .arg("NX")
                .arg("EX")
                .arg(ttl),
        )
        .await?;
    Ok(if matches!(reply, Reply::Nil) {
        TokenUse::Replayed
    } else {
        TokenUse::First
    })
}

/// What a verified cron delivery asks for.
#[derive(Debug, PartialEq)]
enum CronBody {
    /// An empty body or `{}`: every project.
    All,
    /// `{"projectId": "<non-empty string>"}` (other keys ignored).
    One(String),
    /// Anything else: refused, nothing synced.
    Invalid,
}

fn cron_body(body: &[u8]) -> CronBody {
    if body.iter().all(u8::is_ascii_whitespace) {
        return CronBody::All;
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) if map.is_empty() => CronBody::All,
        Ok(Value::Object(map)) => match map.get("projectId") {
            Some(Value::String(id)) if !id.is_empty() => CronBody::One(id.clone()),
            _ => CronBody::Invalid,
        },
        _ => CronBody::Invalid,
    }
}

/// Whether Postgres could hold `id` as a project id (no NUL, within the id cap).
fn could_exist(id: &str) -> bool {
    !id.contains('\0') && crate::trpc::input::js_len(id) <= crate::trpc::input::MAX_ID_LEN
}

/// The answer for a failed sync, by what QStash should do about it.
fn failure(error: &SyncError) -> Response<Bytes> {
    let body = json!({"error": error.to_string()});
    if !error.is_transient() {
        let mut res = json_response(StatusCode::from_u16(NON_RETRYABLE).expect("valid"), &body);
        res.headers_mut().insert(
            "upstash-nonretryable-error",
            HeaderValue::from_static("true"),
        );
        return res;
    }
    match error.retry_after() {
        Some(wait) => {
            let mut res = json_response(StatusCode::SERVICE_UNAVAILABLE, &body);
            res.headers_mut().insert(
                http::header::RETRY_AFTER,
                HeaderValue::from(wait.as_secs().max(1)),
            );
            res
        }
        None => json_response(StatusCode::INTERNAL_SERVER_ERROR, &body),
    }
}

async fn sync_one(app: &App, project_id: &str) -> Response<Bytes> {
    let options = SyncOptions::within(SYNC_BUDGET);
    match sync::sync_and_invalidate(
        &app.db,
        &app.github_client(),
        &app.cache,
        project_id,
        &options,
    )
    .await
    {
        Ok(report) => {
            tracing::info!(
                project_id,
                repo = %report.repo,
                github_requests = report.github_requests,
                prs_fetched = report.prs_fetched,
                ms = report.elapsed.as_millis() as u64,
                "GitHub sync done"
            );
            json_response(StatusCode::OK, &json!({"synced": [project_id]}))
        }
        // The sync holding the lease will write the same stats: nothing to retry.
        Err(SyncError::AlreadyRunning) => json_response(
            StatusCode::OK,
            &json!({"synced": [], "alreadyRunning": [project_id]}),
        ),
        Err(e) => {
            tracing::warn!(project_id, error = %e, transient = e.is_transient(), "GitHub sync failed");
            failure(&e)
        }
    }
}

/// Every project with a GitHub URL: `(id, parsed repository or None)`.
async fn projects(app: &App) -> Result<Vec<(String, Option<RepoSlug>)>, sqlx::Error> {
    let mut conn = app.db.acquire().await?;
    let rows = sql::projects_with_github_url(&mut conn).await?;
    Ok(rows
        .into_iter()
        .map(|(id, url)| (id, RepoSlug::parse(&url)))
        .collect())
}

fn invalid_url_result(project_id: &str) -> Value {
    json!({"projectId": project_id, "success": false, "error": SyncError::InvalidUrl.to_string()})
}

async fn sync_all(app: &App, message: &VerifiedMessage, headers: &HeaderMap) -> Response<Bytes> {
    let projects = match projects(app).await {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "could not list projects to sync");
            return json_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                &json!({"error": "database error"}),
            );
        }
    };
    match &app.config.qstash_token {
        Some(token) => {
            let publisher =
                Publisher::new(app.http.clone(), &app.config.qstash_url, token.expose());
            fan_out(&publisher, &projects, message, headers).await
        }
        None => sync_inline(app, &projects).await,
    }
}

/// One QStash message per project, to the URL this delivery was signed for.
async fn fan_out(
    publisher: &Publisher,
    projects: &[(String, Option<RepoSlug>)],
    message: &VerifiedMessage,
    headers: &HeaderMap,
) -> Response<Bytes> {
    // A retry of this delivery carries the same message id, so its messages are
    // deduplicated by QStash instead of syncing every project twice.
    let tick = headers
        .get("upstash-message-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_else(|| format!("t{}", chrono::Utc::now().timestamp() / 60));
    let mut results = Vec::new();
    let mut messages = Vec::new();
    let mut ids = Vec::new();
    for (id, repo) in projects {
        if repo.is_none() {
            results.push(invalid_url_result(id));
            continue;
        }
        messages.push(BatchMessage::json(
            &message.sub,
            &json!({"projectId": id}),
            &format!("github-sync-{id}-{tick}"),
            FAN_OUT_RETRIES,
        ));
        ids.push(id.clone());
    }
    let mut published = Vec::with_capacity(messages.len());
    for chunk in messages.chunks(BATCH_SIZE) {
        match publisher.batch(chunk).await {
            Ok(answers) if answers.len() == chunk.len() => published.extend(answers),
            Ok(answers) => {
                tracing::error!(
                    sent = chunk.len(),
                    answered = answers.len(),
                    "QStash batch answer does not match the messages sent"
                );
                return json_response(
                    StatusCode::BAD_GATEWAY,
                    &json!({"error": format!(
                        "could not enqueue the project syncs: QStash answered {} results for {} messages",
                        answers.len(),
                        chunk.len()
                    )}),
                );
            }
            Err(e) => {
                tracing::error!(error = %e, "QStash fan-out failed");
                return json_response(
                    StatusCode::BAD_GATEWAY,
                    &json!({"error": format!("could not enqueue the project syncs: {e}")}),
                );
            }
        }
    }
    for (id, answer) in ids.iter().zip(&published) {
        results.push(json!({"projectId": id, "success": true, "messageId": answer.message_id}));
    }
    tracing::info!(enqueued = ids.len(), "GitHub syncs enqueued");
    json_response(
        StatusCode::OK,
        &json!({"enqueued": ids, "results": results}),
    )
}

/// Without QStash: every project here, a few at a time, within the time budget.
async fn sync_inline(app: &App, projects: &[(String, Option<RepoSlug>)]) -> Response<Bytes> {
    // One deadline for every project: each sync checks the time left before it
    // starts (`SyncError::NotStarted`, its state untouched).
    let options = SyncOptions::within(SYNC_BUDGET);
    let options = &options;
    // Boxed so the stream's futures are `Send` for every borrow (a closure returning
    // a bare async block is not, as far as the compiler can prove).
    let syncs: Vec<BoxFuture<'_, Value>> = projects
        .iter()
        .map(|(id, repo)| -> BoxFuture<'_, Value> {
            Box::pin(async move {
                if repo.is_none() {
                    return invalid_url_result(id);
                }
                match sync::sync_and_invalidate(
                    &app.db,
                    &app.github_client(),
                    &app.cache,
                    id,
                    options,
                )
                .await
                {
                    Ok(_) => json!({"projectId": id, "success": true}),
                    Err(e) => {
                        tracing::warn!(project_id = %id, error = %e, "GitHub sync failed");
                        json!({"projectId": id, "success": false, "error": e.to_string()})
                    }
                }
            })
        })
        .collect();
    let results: Vec<Value> = futures::stream::iter(syncs)
        .buffered(INLINE_CONCURRENCY)
        .collect()
        .await;
    json_response(StatusCode::OK, &json!({"results": results}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_empty_body_or_an_empty_object_syncs_everything() {
        for all in ["", "  \n", "{}", " { } "] {
            assert_eq!(cron_body(all.as_bytes()), CronBody::All, "{all:?}");
        }
        assert_eq!(
            cron_body(br#"{"projectId":"p1","extra":1}"#),
            CronBody::One("p1".into())
        );
        for bad in [
            r#"{"projectId":42}"#,
            r#"{"projectid":"x"}"#,
            r#"{"projectId":""}"#,
            r#"{"projectId":null}"#,
            "not json",
            "[]",
            "null",
            r#""p1""#,
        ] {
            assert_eq!(cron_body(bad.as_bytes()), CronBody::Invalid, "{bad}");
        }
    }

    #[test]
    fn ids_that_cannot_be_stored_cannot_exist() {
        assert!(could_exist("cm1abc"));
        assert!(!could_exist("a\0b"));
        assert!(!could_exist(&"x".repeat(256)));
    }
}
