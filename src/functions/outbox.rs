//! Draining the cache outbox (`cache_outbox`, migration 0003).
//!
//! A mutation whose invalidation cannot reach Upstash after its commit records
//! its keys in Postgres ([`record`]). They are deleted from Redis by:
//! - the next tRPC request of any instance whose check is due (this instance
//!   knows of undrained entries, or its last check is [`POLL`] old): the
//!   invalidation rides at the head of the request's first pipeline, before
//!   its cache reads, so it costs no round trip and that request already reads
//!   fresh data;
//! - `/api/health` (which reports the depth) and the cron webhook, each with
//!   one round trip of its own when entries are pending.
//!
//! Bound across instances: a request that starts at least [`POLL`] after an
//! entry was recorded, with Upstash reachable, never reads that key stale.
//! Cost on the happy path: at most one `SELECT` per instance per [`POLL`]
//! (concurrent requests do not repeat it). These statements are the
//! instance's housekeeping: they are not counted in the request's
//! `Server-Timing` queries (the request's log line says how many keys it drained).

use std::time::Duration;

use crate::app::App;
use crate::cache::{Cache, CacheKey};
use crate::db::outbox;
use crate::ratelimit::now_ms;
use crate::upstash::Command;

/// How often an instance looks for entries recorded by others.
pub const POLL: Duration = Duration::from_secs(1);

/// Entries read for draining: their ids, and the command deleting their keys.
pub struct Due {
    pub ids: Vec<i64>,
    pub command: Command,
}

/// The entries to drain in this request's first pipeline, if a check is due
/// and some are pending. A failed read is logged and skipped.
pub async fn due(app: &App, cache: &Cache) -> Option<Due> {
    if !app.outbox_hint.check_due(now_ms(), POLL) {
        return None;
    }
    // The read runs before the first pipeline: a slow or unreachable
    // Postgres must not hold up an all-hit request (the next check is one
    // poll later).
    tokio::time::timeout(DUE_READ_TIMEOUT, check(app, cache))
        .await
        .unwrap_or_else(|_| {
            tracing::warn!("cache outbox read timed out; skipped for this request");
            None
        })
}

/// How long a request waits for [`due`]'s outbox read.
const DUE_READ_TIMEOUT: Duration = Duration::from_millis(250);

/// [`due`] without asking whether a check is due.
async fn check(app: &App, cache: &Cache) -> Option<Due> {
    let rows = match housekeeping(read(app)).await {
        Ok(rows) => rows,
        Err(e) => {
            tracing::warn!(error = %e, "cache outbox read failed");
            return None;
        }
    };
    if rows.is_empty() {
        app.outbox_hint.set_dirty(false);
        return None;
    }
    let (ids, keys): (Vec<i64>, Vec<String>) = rows.into_iter().unzip();
    let command = cache.invalidate_suffixes_command(&keys)?;
    Some(Due { ids, command })
}

/// Runs `fut` outside the current request's statement count.
async fn housekeeping<F: std::future::Future>(fut: F) -> F::Output {
    crate::telemetry::RequestStats::new().scope(fut).await
}

async fn read(app: &App) -> Result<Vec<(i64, String)>, sqlx::Error> {
    let mut conn = app.db.acquire().await?;
    outbox::pending(&mut conn).await
}

/// After the pipeline that carried `due`: removes the drained entries, or
/// marks the instance dirty when Upstash did not take them.
pub async fn settle(app: &App, due: Due, invalidated: bool) {
    if !invalidated {
        app.outbox_hint.set_dirty(true);
        return;
    }
    let full = due.ids.len() as i64 >= outbox::DRAIN_BATCH;
    let removed = housekeeping(async {
        let mut conn = app.db.acquire().await?;
        outbox::remove(&mut conn, &due.ids).await
    })
    .await;
    match removed {
        // More may wait behind a full batch: look again on the next request.
        Ok(()) => app.outbox_hint.set_dirty(full),
        Err(e) => {
            // Harmless: the keys are invalidated again by the next drain.
            tracing::warn!(error = %e, "cache outbox cleanup failed");
            app.outbox_hint.set_dirty(true);
        }
    }
}

/// Records keys whose invalidation failed after a commit; returns whether
/// they were recorded (if not, they stay stale until their TTL: logged).
pub async fn record(app: &App, keys: &[CacheKey]) -> bool {
    let suffixes: Vec<String> = keys.iter().map(CacheKey::suffix).collect();
    let recorded = async {
        let mut conn = app.db.acquire().await?;
        outbox::record(&mut conn, &suffixes).await
    }
    .await;
    app.outbox_hint.set_dirty(true);
    match recorded {
        Ok(()) => true,
        Err(e) => {
            tracing::error!(error = %e, keys = ?suffixes, "cache outbox write failed; keys stay stale until their TTL");
            false
        }
    }
}

/// How many keys are pending (`None` if Postgres could not be asked).
pub async fn depth(app: &App) -> Option<i64> {
    let mut conn = app.db.acquire().await.ok()?;
    outbox::depth(&mut conn).await.ok()
}

/// Drains now with a round trip of its own (health, cron); returns the depth
/// left, or the error that prevented a drain.
pub async fn drain(app: &App, cache: &Cache) -> Result<i64, String> {
    if let Some(d) = check(app, cache).await {
        let ok = cache.redis().command(&d.command).await.is_ok();
        settle(app, d, ok).await;
        if !ok {
            return Err("upstash unreachable".into());
        }
    }
    let mut conn = app.db.acquire().await.map_err(|e| e.to_string())?;
    outbox::depth(&mut conn).await.map_err(|e| e.to_string())
}
