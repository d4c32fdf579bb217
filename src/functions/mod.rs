//! One entry point per Vercel function. `api/*.rs` call [`serve`]; `enghub dev`
//! and the tests call [`handle`] with the same [`Instance`].

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use serde_json::json;

use crate::app::Instance;
use crate::telemetry::RequestStats;
use crate::trpc::Kind;

mod cron;
mod health;
mod outbox;
mod respond;
mod trpc;

pub use outbox::POLL as OUTBOX_POLL;
pub use respond::json_response;

/// The four functions of the deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    /// `GET /api/trpc/*` (routed to `api/queries.rs`).
    Queries,
    /// `POST /api/trpc/*` (routed to `api/mutations.rs`).
    Mutations,
    /// `GET /api/health`.
    Health,
    /// `POST /api/cron/github-sync`.
    CronGithubSync,
}

/// Answers one request of `function`. Every response carries its cost in a
/// `Server-Timing` header (Upstash round trips, Postgres queries).
pub async fn handle(
    instance: &Instance,
    function: Function,
    req: Request<Bytes>,
) -> Response<Bytes> {
    let stats = RequestStats::new();
    let mut res = stats.scope(dispatch(instance, function, req)).await;
    if let Ok(v) = http::HeaderValue::from_str(&stats.costs().server_timing()) {
        res.headers_mut().insert("server-timing", v);
    }
    res
}

async fn dispatch(instance: &Instance, function: Function, req: Request<Bytes>) -> Response<Bytes> {
    let app = match instance {
        Instance::Ready(app) => app,
        Instance::Misconfigured(err) => {
            tracing::error!(error = %err, path = %req.uri().path(), "request refused: configuration error");
            return json_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                &json!({
                    "error": "configuration error",
                    "variables": err.variables(),
                    "message": err.to_string(),
                }),
            );
        }
    };
    match function {
        Function::Queries => trpc::handle(app, Kind::Query, req).await,
        Function::Mutations => trpc::handle(app, Kind::Mutation, req).await,
        Function::Health => health::handle(app, req).await,
        Function::CronGithubSync => cron::handle(app, req).await,
    }
}

/// Runs `function` under Vercel's Rust runtime: the instance is built once,
/// then every request body is collected and handed to [`handle`].
pub async fn serve(function: Function) -> Result<(), vercel_runtime::Error> {
    crate::telemetry::init(true);
    let instance = Instance::from_env();
    vercel_runtime::run(vercel_runtime::service_fn(
        move |req: vercel_runtime::Request| {
            let instance = instance.clone();
            async move {
                let (parts, body) = req.into_parts();
                let body = match body.collect().await {
                    Ok(b) => b.to_bytes(),
                    Err(e) => {
                        tracing::warn!(error = %e, "could not read request body");
                        return Ok::<_, vercel_runtime::Error>(json_response(
                            StatusCode::BAD_REQUEST,
                            &json!({"error": "could not read request body"}),
                        ));
                    }
                };
                Ok(handle(&instance, function, Request::from_parts(parts, body)).await)
            }
        },
    ))
    .await
}
