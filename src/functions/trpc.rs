//! The tRPC functions: one batched request in, one response out.
//!
//! Per call: procedure lookup and method check, authentication, input
//! validation (before any Redis work: an invalid call spends no rate-limit
//! token), the rate limit of its kind, then the resolver.
//!
//! Round trips to Upstash for a batch: one pipeline with every rate-limit
//! check, every cache read and every probe (a check a resolver needs, such as
//! the management chain); if some cached call missed, one more pipeline
//! with all write-backs; for mutations, one pipeline after the commits that
//! deletes every invalidated key and lifts the grant fences the calls placed
//! (a change of reporting lines or claims places one before it writes: one
//! more round trip, see `cache::fence_grants`). If Upstash fails, queries are answered from
//! Postgres, mutations still commit (except changes of reporting lines or
//! claims: SERVICE_UNAVAILABLE, see `hierarchy::fence_grants`), and rate limiting follows
//! `RATE_LIMIT_ON_ERROR`; the request logs one warning.
//!
//! Invalidations that fail after a commit go to the cache outbox (Postgres);
//! a due outbox drain rides at the head of the first pipeline, before the
//! reads (see `functions::outbox`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use serde_json::Value;

use super::outbox;
use super::respond::{apply_cors, preflight};
use crate::app::App;
use crate::auth::{self, AuthError, Identity};
use crate::cache::{Cache, CacheKey, CallScope, Lookup, Ticket};
use crate::config::RateLimitOnError;
use crate::procedures::Ctx;
use crate::ratelimit::{now_ms, Limiter};
use crate::telemetry::RequestStats;
use crate::trpc::error::cause_chain;
use crate::trpc::registry::Output;
use crate::trpc::wire::{self, CallResult, ResultData};
use crate::trpc::{Access, ApiError, Kind, Planned, TrpcCode, TrpcError};
use crate::upstash::{Command, Reply};

/// One call on its way through the pipeline.
enum Slot {
    Done(CallResult),
    Ready {
        planned: Planned<Ctx>,
        access: Access,
        /// Set once the cache was read and missed.
        ticket: Option<Ticket>,
        /// The reply to the call's probe, sent in the first pipeline.
        probe: Option<crate::cache::ProbeReply>,
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
    let stats = RequestStats::current().unwrap_or_default();
    handle_in_scope(app, function_kind, req, stats).await
}

/// What the log line of a request reports.
#[derive(Default)]
struct Tally {
    cache_hits: usize,
    cache_misses: usize,
    rate_limited: usize,
    /// The first Upstash failure of the request, if any (logged once, with
    /// the request's line, at warning level).
    redis_error: Option<String>,
    /// Keys whose invalidation failed after a commit (recorded in the cache
    /// outbox).
    stale_keys: Vec<String>,
    /// Keys of the cache outbox this request deleted.
    outbox_drained: usize,
}

impl Tally {
    fn degraded(&mut self, what: &str, e: impl std::fmt::Display) {
        if self.redis_error.is_none() {
            self.redis_error = Some(format!("{what}: {e}"));
        }
    }
}

async fn handle_in_scope(
    app: &Arc<App>,
    function_kind: Kind,
    req: Request<Bytes>,
    stats: Arc<RequestStats>,
) -> Response<Bytes> {
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
            tracing::info!(
                kind = function_kind.name(),
                status = res.status().as_u16(),
                error = %e.message,
                "trpc request refused"
            );
            return res;
        }
    };
    // tRPC 11 refuses a call naming queries and mutations together, whatever
    // the method, before running any of them.
    let mut kinds: Vec<&str> = Vec::new();
    for call in &request.calls {
        if let Some(kind) = app.procedures.get(&call.path).map(|p| p.kind.name()) {
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
    }
    if kinds.len() > 1 {
        let e = wire::mixed_types_error(&kinds);
        let mut res = wire::respond_request_error(&e);
        apply_cors(allowed, &parts.headers, &mut res);
        tracing::info!(kind = function_kind.name(), error = %e.message, "trpc request refused");
        return res;
    }
    let cache = app
        .cache
        .with_client(app.redis.with_observer(stats.upstash_observer()));
    let mut tally = Tally::default();

    // Authenticate once per request, and only if some call needs it.
    let mut identity: Option<Result<Identity, AuthError>> = None;
    let mut authenticate = || {
        identity
            .get_or_insert_with(|| auth::authenticate(&parts.headers, |t| app.clerk.verify(t)))
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
            let caller = match proc_.access {
                Access::Public => None,
                Access::Protected => match authenticate() {
                    Ok(identity) => Some(identity.user_id),
                    Err(e) => {
                        tracing::info!(path = %call.path, reason = %e, "unauthenticated call");
                        return Err(TrpcError::bare(TrpcCode::Unauthorized));
                    }
                },
            };
            // Read lazily, as tRPC does: only a procedure with an input
            // parser fails on an input it cannot read.
            let input = match &call.input {
                Ok(input) => input.clone(),
                Err(e) if proc_.takes_input => return Err(e.clone()),
                Err(_) => None,
            };
            let planned = proc_.plan(input.as_ref(), caller.as_deref())?;
            Ok(Slot::Ready {
                planned,
                access: proc_.access,
                ticket: None,
                probe: None,
            })
        })();
        slots.push(slot.unwrap_or_else(|e| Slot::Done(Err(e))));
    }
    let user = identity.and_then(Result::ok);

    let (orphaned, reached) = first_round_trip(
        app,
        &cache,
        function_kind,
        user.as_ref(),
        &mut slots,
        &mut tally,
    )
    .await;
    let results = run_resolvers(
        app, &cache, user, &request, slots, orphaned, reached, &mut tally,
    )
    .await;

    let mut res = wire::respond(&request, &results);
    apply_cors(allowed, &parts.headers, &mut res);
    let costs = stats.costs();
    let paths: Vec<&str> = request.calls.iter().map(|c| c.path.as_str()).collect();
    macro_rules! request_line {
        ($level:ident, $message:literal) => {
            tracing::$level!(
                kind = function_kind.name(),
                procedures = ?paths,
                status = res.status().as_u16(),
                cache_hits = tally.cache_hits,
                cache_misses = tally.cache_misses,
                rate_limited = tally.rate_limited,
                redis_error = tally.redis_error.as_deref(),
                stale_keys = ?tally.stale_keys,
                outbox_drained = tally.outbox_drained,
                upstash_round_trips = costs.upstash_round_trips,
                upstash_ms = costs.upstash_micros as f64 / 1000.0,
                postgres_queries = costs.pg_queries,
                postgres_ms = costs.pg_micros as f64 / 1000.0,
                ms = started.elapsed().as_secs_f64() * 1000.0,
                $message
            )
        };
    }
    // One line per request; a warning when Upstash failed (then Postgres answered).
    if tally.redis_error.is_some() {
        // Entries recorded meanwhile by other instances: look on the next request.
        app.outbox_hint.set_dirty(true);
        request_line!(warn, "trpc request (upstash degraded)");
    } else {
        request_line!(info, "trpc request");
    }
    res
}

/// What an entry of the first pipeline is for.
enum Purpose {
    /// The outbox drain at the head of the pipeline.
    Drain,
    RateLimit(usize),
    CacheRead(usize, CacheKey, String),
    Probe(usize),
}

/// The first Upstash round trip: every rate-limit check, cache read and
/// probe of the batch in one pipeline. Returns the fill locks taken by calls
/// that were then rejected (they must be released, or other readers of those
/// keys would wait for nothing), and whether Upstash answered (resolvers
/// learn it through `cache::CallScope`).
async fn first_round_trip(
    app: &Arc<App>,
    cache: &Cache,
    kind: Kind,
    user: Option<&Identity>,
    slots: &mut [Slot],
    tally: &mut Tally,
) -> (Vec<Ticket>, bool) {
    let now = now_ms();
    let limiter = match kind {
        Kind::Query => Limiter::general(&app.config.key_prefix),
        Kind::Mutation => Limiter::mutation(&app.config.key_prefix),
    };
    let limits_on = app.config.rate_limits_enabled();
    let mut commands: Vec<Command> = Vec::new();
    let mut purposes: Vec<Purpose> = Vec::new();
    // Pending invalidations first: the reads below then see their effect.
    let mut drain = outbox::due(app, cache).await;
    if let Some(d) = &drain {
        commands.push(d.command.clone());
        purposes.push(Purpose::Drain);
    }
    for (i, slot) in slots.iter_mut().enumerate() {
        let Slot::Ready {
            planned, access, ..
        } = slot
        else {
            continue;
        };
        if *access == Access::Protected && limits_on {
            let uid = user.map(|u| u.user_id.as_str()).unwrap_or("anonymous");
            if let Some(blocked) = app.rate_limit_blocks.blocked(&limiter, uid, now) {
                tally.rate_limited += 1;
                *slot = Slot::Done(Err(TrpcError::new(
                    TrpcCode::TooManyRequests,
                    blocked.message(now),
                )));
                continue;
            }
            commands.push(limiter.command(uid, now));
            purposes.push(Purpose::RateLimit(i));
        }
        if let Some(key) = &planned.cache {
            let (cmd, token) = cache.read_command(key);
            commands.push(cmd);
            purposes.push(Purpose::CacheRead(i, key.clone(), token));
        }
        if let Some(probe) = planned.probe.take() {
            commands.push(probe(cache));
            purposes.push(Purpose::Probe(i));
        }
    }
    let mut orphaned = Vec::new();
    if commands.is_empty() {
        return (orphaned, true);
    }
    let mut reached = true;
    let replies: Vec<Result<Reply, String>> = match cache.redis().pipeline(&commands).await {
        Ok(replies) => replies
            .into_iter()
            .map(|r| r.map_err(|e| e.to_string()))
            .collect(),
        Err(e) => {
            reached = false;
            tally.degraded("first pipeline", &e);
            let msg = e.to_string();
            commands.iter().map(|_| Err(msg.clone())).collect()
        }
    };
    for (purpose, reply) in purposes.into_iter().zip(replies) {
        match purpose {
            Purpose::Drain => {
                if let Err(e) = &reply {
                    tally.degraded("cache outbox drain", e);
                }
                if let Some(d) = drain.take() {
                    tally.outbox_drained = if reply.is_ok() { d.ids.len() } else { 0 };
                    outbox::settle(app, d, reply.is_ok()).await;
                }
            }
            Purpose::RateLimit(i) => {
                let uid = user.map(|u| u.user_id.as_str()).unwrap_or("anonymous");
                let verdict = reply
                    .map_err(|e| e.to_string())
                    .and_then(|r| limiter.decision(&r, now).map_err(|e| e.to_string()));
                let rejection = match verdict {
                    Ok(d) => {
                        app.rate_limit_blocks.record(&limiter, uid, &d);
                        (!d.success).then(|| d.message(now))
                    }
                    Err(e) => {
                        tally.degraded("rate limit", &e);
                        match app.config.rate_limit_on_error {
                            RateLimitOnError::Allow => None,
                            RateLimitOnError::Deny => Some(format!(
                                "Rate limit exceeded. Try again in {}s.",
                                limiter.algorithm().window_ms().div_ceil(1000)
                            )),
                        }
                    }
                };
                if let Some(message) = rejection {
                    tally.rate_limited += 1;
                    slots[i] = Slot::Done(Err(TrpcError::new(TrpcCode::TooManyRequests, message)));
                }
            }
            Purpose::Probe(i) => {
                if let Slot::Ready { probe, .. } = &mut slots[i] {
                    *probe = Some(crate::cache::ProbeReply::new(reply));
                }
            }
            Purpose::CacheRead(i, key, token) => {
                let Slot::Ready { ticket, .. } = &mut slots[i] else {
                    // Rate-limited in this same round trip: give back the lock.
                    if let Ok(r) = &reply {
                        if let Lookup::Miss(t) = cache.lookup(&key, token, r) {
                            if t.leader {
                                orphaned.push(t);
                            }
                        }
                    }
                    continue;
                };
                match reply {
                    Ok(r) => match cache.lookup(&key, token, &r) {
                        Lookup::Hit(v) => {
                            tally.cache_hits += 1;
                            slots[i] = Slot::Done(Ok(Some(ResultData::Raw(v))));
                        }
                        Lookup::Miss(t) => {
                            tally.cache_misses += 1;
                            *ticket = Some(t);
                        }
                    },
                    Err(e) => {
                        tally.cache_misses += 1;
                        tally.degraded("cache read", &e);
                    }
                }
            }
        }
    }
    (orphaned, reached)
}

/// How a call that was still waiting got its answer.
enum Run {
    /// Another caller filled the key meanwhile: its stored JSON text.
    Filled(Box<serde_json::value::RawValue>),
    /// The resolver ran; the ticket is the fill lock to release or write back.
    Ran(Option<Ticket>, Result<Output, ApiError>),
}

/// Runs every call still waiting (concurrently), then writes back cache
/// misses in one pipeline and deletes invalidated keys in one command (or,
/// if that fails, records them in the cache outbox).
#[allow(clippy::too_many_arguments)]
async fn run_resolvers(
    app: &Arc<App>,
    cache: &Cache,
    user: Option<Identity>,
    request: &wire::TrpcRequest,
    slots: Vec<Slot>,
    orphaned: Vec<Ticket>,
    reached: bool,
    tally: &mut Tally,
) -> Vec<CallResult> {
    // Calls of a batch that missed the same key run once: the one holding the
    // fill lock (else the first) runs, the others take its answer.
    let mut runner: HashMap<CacheKey, usize> = HashMap::new();
    for (i, slot) in slots.iter().enumerate() {
        if let Slot::Ready {
            ticket: Some(t), ..
        } = slot
        {
            let e = runner.entry(t.key.clone()).or_insert(i);
            if t.leader {
                *e = i;
            }
        }
    }
    let mut followers: Vec<(usize, usize)> = Vec::new();
    let mut results: Vec<Option<CallResult>> = Vec::with_capacity(slots.len());
    let mut runs = Vec::new();
    for (i, slot) in slots.into_iter().enumerate() {
        match slot {
            Slot::Done(r) => results.push(Some(r)),
            Slot::Ready {
                ticket: Some(t), ..
            } if runner[&t.key] != i => {
                results.push(None);
                followers.push((i, runner[&t.key]));
            }
            Slot::Ready {
                planned,
                access,
                ticket,
                probe,
            } => {
                results.push(None);
                let ctx = Ctx {
                    app: app.clone(),
                    cache: cache.clone(),
                    probe,
                    user: match access {
                        Access::Protected => user.clone(),
                        Access::Public => None,
                    },
                };
                let path = request.calls[i].path.clone();
                let cache = cache.clone();
                runs.push(async move {
                    // Another caller is filling this key: wait for its value.
                    let mut ticket = ticket;
                    if let Some(t) = ticket.take() {
                        if t.leader {
                            ticket = Some(t);
                        } else {
                            match cache.wait_for_fill(t).await {
                                Ok(Lookup::Hit(v)) => return (i, path, Run::Filled(v), vec![]),
                                Ok(Lookup::Miss(t)) => ticket = Some(t),
                                Err(e) => tracing::debug!(error = %e, "cache wait failed"),
                            }
                        }
                    }
                    let scope = CallScope::new(reached, cache.clone());
                    let outcome = scope.run((planned.run)(ctx)).await;
                    (i, path, Run::Ran(ticket, outcome), scope.fences())
                });
            }
        }
    }
    let outcomes = futures::future::join_all(runs).await;

    // Write-backs, plus releases of fill locks whose call produced nothing to
    // store (an error, a null, a rejected call).
    let mut write_back: Vec<(Ticket, Value)> =
        orphaned.into_iter().map(|t| (t, Value::Null)).collect();
    let mut invalidate = Vec::new();
    let mut fences = Vec::new();
    for (i, path, run, call_fences) in outcomes {
        fences.extend(call_fences);
        results[i] = Some(match run {
            Run::Filled(v) => Ok(Some(ResultData::Raw(v))),
            Run::Ran(
                ticket,
                Ok(Output {
                    data,
                    invalidate: keys,
                }),
            ) => {
                if let Some(ticket) = ticket {
                    write_back.push((ticket, data.clone().unwrap_or(Value::Null)));
                }
                invalidate.extend(keys);
                Ok(data.map(ResultData::Value))
            }
            Run::Ran(ticket, Err(err)) => {
                if let Some(ticket) = ticket {
                    write_back.push((ticket, Value::Null));
                }
                Err(report(&path, &err))
            }
        });
    }
    for (i, from) in followers {
        results[i] = results[from].clone();
    }
    if !write_back.is_empty() && tally.redis_error.is_none() {
        if let Err(e) = cache.store_many(&write_back).await {
            tally.degraded("cache write-back", &e);
        }
    }
    // One round trip: the invalidation, then the lifting of the grant fences
    // placed by the calls (see `cache::fence_grants`).
    let commands: Vec<Command> = cache
        .invalidate_command(&invalidate)
        .into_iter()
        .chain(cache.unfence_command(&fences))
        .collect();
    if !commands.is_empty() {
        // The writes are committed: a lost invalidation goes to the cache
        // outbox, so a transient failure is retried once first (not when this
        // request already found Upstash unreachable). A fence that cannot be
        // lifted expires by itself.
        let send = || async {
            for reply in cache.redis().pipeline(&commands).await? {
                reply.map_err(crate::upstash::UpstashError::Redis)?;
            }
            Ok::<(), crate::upstash::UpstashError>(())
        };
        let mut outcome = send().await;
        if outcome.is_err() && tally.redis_error.is_none() {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            outcome = send().await;
        }
        if let (Err(e), false) = (outcome, invalidate.is_empty()) {
            tally.degraded("invalidation after commit", &e);
            tally.stale_keys = invalidate.iter().map(|k| cache.key(k)).collect();
            // Deleted by the next request that reaches Upstash (any instance).
            outbox::record(app, &invalidate).await;
        }
    }
    results
        .into_iter()
        .map(|r| r.expect("every call answered"))
        .collect()
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
