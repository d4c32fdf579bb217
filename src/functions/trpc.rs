//! The tRPC functions: one batched request in, one response out.
//!
//! Order per call, as in the original: procedure lookup and method check,
//! authentication, input validation, then the resolver. Cache reads of the
//! whole batch go to Upstash in one pipeline, cache misses run concurrently
//! against Postgres, their write-backs share one more pipeline, and a batch of
//! mutations deletes every invalidated key with one `DEL` after its commits.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use serde_json::Value;

use super::respond::{apply_cors, preflight};
use crate::app::App;
use crate::auth::{self, AuthError, Identity};
use crate::cache::CacheKey;
use crate::procedures::Ctx;
use crate::trpc::error::cause_chain;
use crate::trpc::registry::Output;
use crate::trpc::wire::{self, CallResult};
use crate::trpc::{Access, ApiError, Kind, Planned, TrpcCode, TrpcError};

/// One call on its way through the pipeline.
enum Slot {
    Done(CallResult),
    Ready {
        planned: Planned<Ctx>,
        access: Access,
    },
}

fn method_error(method: &Method, kind: Kind, path: &str) -> TrpcError {
    let mut e = TrpcError::new(
        TrpcCode::MethodNotSupported,
        format!(
            "Unsupported {method}-request to {} procedure at path \"{path}\"",
            kind.name()
        ),
    );
    e.allow = Some(match kind {
        Kind::Query => "GET",
        Kind::Mutation => "POST",
    });
    e
}

pub async fn handle(app: &Arc<App>, function_kind: Kind, req: Request<Bytes>) -> Response<Bytes> {
    let started = Instant::now();
    let (parts, body) = req.into_parts();
    let allowed = &app.config.allowed_origins;
    if parts.method == Method::OPTIONS {
        return preflight(allowed, &parts.headers);
    }
    if parts.method == Method::HEAD {
        let mut res = Response::new(Bytes::new());
        *res.status_mut() = StatusCode::NO_CONTENT;
        return res;
    }
    let expected = match function_kind {
        Kind::Query => Method::GET,
        Kind::Mutation => Method::POST,
    };
    let request = match wire::parse_request(&parts.method, &parts.uri, &parts.headers, &body) {
        Ok(r) => r,
        Err(e) => {
            let mut res = wire::respond_request_error(&e);
            apply_cors(allowed, &parts.headers, &mut res);
            return res;
        }
    };

    // Authenticate once per request, and only if some call needs it.
    let mut identity: Option<Result<Identity, AuthError>> = None;
    let mut authenticate = || {
        identity
            .get_or_insert_with(|| match auth::session_token(&parts.headers) {
                None => Err(AuthError::Missing),
                Some(token) => app.clerk.verify(&token),
            })
            .clone()
    };

    let mut slots: Vec<Slot> = Vec::with_capacity(request.calls.len());
    for call in &request.calls {
        let slot = (|| {
            let proc_ = app.procedures.get(&call.path).ok_or_else(|| {
                TrpcError::not_found(format!("No procedure found on path \"{}\"", call.path))
            })?;
            if proc_.kind != function_kind || parts.method != expected {
                return Err(method_error(&parts.method, proc_.kind, &call.path));
            }
            if proc_.access == Access::Protected {
                if let Err(e) = authenticate() {
                    tracing::info!(path = %call.path, reason = %e, "unauthenticated call");
                    return Err(TrpcError::bare(TrpcCode::Unauthorized));
                }
            }
            let input = call.input.clone()?;
            let planned = proc_.plan(input.as_ref())?;
            Ok(Slot::Ready {
                planned,
                access: proc_.access,
            })
        })();
        slots.push(slot.unwrap_or_else(|e| Slot::Done(Err(e))));
    }
    let user = identity.and_then(Result::ok);

    // One pipeline for every cache read of the batch.
    let cache_keys: Vec<(usize, CacheKey)> = slots
        .iter()
        .enumerate()
        .filter_map(|(i, s)| match s {
            Slot::Ready { planned, .. } => planned.cache.clone().map(|k| (i, k)),
            Slot::Done(_) => None,
        })
        .collect();
    let mut hits = 0usize;
    if !cache_keys.is_empty() {
        let keys: Vec<CacheKey> = cache_keys.iter().map(|(_, k)| k.clone()).collect();
        match app.cache.get_many(&keys).await {
            Ok(values) => {
                for ((i, _), value) in cache_keys.iter().zip(values) {
                    if let Some(v) = value {
                        slots[*i] = Slot::Done(Ok(Some(v)));
                        hits += 1;
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "cache read failed; answering from Postgres"),
        }
    }

    // Run what is left concurrently.
    let mut runs = Vec::new();
    let mut results: Vec<Option<CallResult>> = Vec::with_capacity(slots.len());
    for (i, slot) in slots.into_iter().enumerate() {
        match slot {
            Slot::Done(r) => results.push(Some(r)),
            Slot::Ready { planned, access } => {
                results.push(None);
                let ctx = Ctx {
                    app: app.clone(),
                    user: match access {
                        Access::Protected => user.clone(),
                        Access::Public => None,
                    },
                };
                let path = request.calls[i].path.clone();
                let cache = planned.cache.clone();
                runs.push(async move { (i, path, cache, (planned.run)(ctx).await) });
            }
        }
    }
    let misses = runs.len();
    let outcomes = futures::future::join_all(runs).await;

    let mut write_back: Vec<(CacheKey, Value)> = Vec::new();
    let mut invalidate: Vec<CacheKey> = Vec::new();
    for (i, path, cache, outcome) in outcomes {
        results[i] = Some(match outcome {
            Ok(Output {
                data,
                invalidate: keys,
            }) => {
                if let (Some(key), Some(value)) = (cache, &data) {
                    write_back.push((key, value.clone()));
                }
                invalidate.extend(keys);
                Ok(data)
            }
            Err(err) => Err(report(&path, &err)),
        });
    }
    if !write_back.is_empty() {
        if let Err(e) = app.cache.set_many(&write_back).await {
            tracing::warn!(error = %e, "cache write-back failed");
        }
    }
    if !invalidate.is_empty() {
        if let Err(e) = app.cache.invalidate(&invalidate).await {
            tracing::warn!(error = %e, keys = ?invalidate, "cache invalidation failed after commit");
        }
    }

    let results: Vec<CallResult> = results
        .into_iter()
        .map(|r| r.expect("every call answered"))
        .collect();
    let mut res = wire::respond(&request, &results);
    apply_cors(allowed, &parts.headers, &mut res);
    let paths: Vec<&str> = request.calls.iter().map(|c| c.path.as_str()).collect();
    tracing::info!(
        kind = function_kind.name(),
        procedures = ?paths,
        status = res.status().as_u16(),
        cache_hits = hits,
        cache_misses = cache_keys.len() - hits,
        resolvers_run = misses,
        ms = started.elapsed().as_millis() as u64,
        "trpc request"
    );
    res
}

/// The caller-facing form of a resolver error; internal failures are logged
/// with their cause chain.
fn report(path: &str, err: &ApiError) -> TrpcError {
    let answer = err.to_trpc();
    if answer.code == TrpcCode::InternalServerError {
        tracing::error!(path, error = %cause_chain(err), "procedure failed");
    }
    answer
}
