//! Per-request cost accounting and logging setup.
//!
//! Every request runs inside [`RequestStats::scope`]; the Upstash client
//! reports each HTTP exchange to it (through an observer), and a tracing layer
//! counts the statements sqlx logs (target `sqlx::query`) while the request's
//! task runs. The totals become the `Server-Timing` header and the request's
//! log line.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

use crate::upstash::Observer;

tokio::task_local! {
    static CURRENT: Arc<RequestStats>;
}

/// What one request cost.
#[derive(Debug, Default)]
pub struct RequestStats {
    upstash_round_trips: AtomicU64,
    upstash_micros: AtomicU64,
    pg_queries: AtomicU64,
    pg_micros: AtomicU64,
}

/// A snapshot of [`RequestStats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Costs {
    pub upstash_round_trips: u64,
    pub upstash_micros: u64,
    pub pg_queries: u64,
    pub pg_micros: u64,
}

impl RequestStats {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// The stats of the request this task is serving, if any.
    pub fn current() -> Option<Arc<Self>> {
        CURRENT.try_with(Arc::clone).ok()
    }

    /// Runs `fut` with these stats as the current request's.
    pub async fn scope<F: Future>(self: &Arc<Self>, fut: F) -> F::Output {
        CURRENT.scope(self.clone(), fut).await
    }

    /// An Upstash client observer that counts round trips into these stats.
    pub fn upstash_observer(self: &Arc<Self>) -> Observer {
        let stats = self.clone();
        Arc::new(move |elapsed: Duration| {
            stats.upstash_round_trips.fetch_add(1, Ordering::Relaxed);
            stats
                .upstash_micros
                .fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
        })
    }

    fn record_query(&self, elapsed: Duration) {
        self.pg_queries.fetch_add(1, Ordering::Relaxed);
        self.pg_micros
            .fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
    }

    pub fn costs(&self) -> Costs {
        Costs {
            upstash_round_trips: self.upstash_round_trips.load(Ordering::Relaxed),
            upstash_micros: self.upstash_micros.load(Ordering::Relaxed),
            pg_queries: self.pg_queries.load(Ordering::Relaxed),
            pg_micros: self.pg_micros.load(Ordering::Relaxed),
        }
    }
}

/// `client`, counting its round trips into the current request's stats.
pub fn observed(client: &crate::upstash::UpstashClient) -> crate::upstash::UpstashClient {
    match RequestStats::current() {
        Some(stats) => client.with_observer(stats.upstash_observer()),
        None => client.clone(),
    }
}

impl Costs {
    /// The `Server-Timing` header value.
    pub fn server_timing(&self) -> String {
        format!(
            "upstash;dur={:.1};desc=\"{} round trips\", postgres;dur={:.1};desc=\"{} queries\"",
            self.upstash_micros as f64 / 1000.0,
            self.upstash_round_trips,
            self.pg_micros as f64 / 1000.0,
            self.pg_queries,
        )
    }
}

/// Counts sqlx statements of the current request.
struct PgQueryCounter;

#[derive(Default)]
struct ElapsedVisitor(Option<Duration>);

impl Visit for ElapsedVisitor {
    fn record_f64(&mut self, field: &Field, value: f64) {
        if field.name() == "elapsed_secs" && value.is_finite() && value >= 0.0 {
            self.0 = Some(Duration::from_secs_f64(value));
        }
    }
    fn record_debug(&mut self, _field: &Field, _value: &dyn std::fmt::Debug) {}
}

impl<S: tracing::Subscriber> Layer<S> for PgQueryCounter {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        if event.metadata().target() != "sqlx::query" {
            return;
        }
        let mut visitor = ElapsedVisitor::default();
        event.record(&mut visitor);
        let _ = CURRENT.try_with(|stats| stats.record_query(visitor.0.unwrap_or_default()));
    }
}

/// Installs the global subscriber: JSON log lines on stdout filtered by
/// `RUST_LOG` (default `info`), plus the statement counter. Safe to call twice.
pub fn init(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let counter = PgQueryCounter.with_filter(
        tracing_subscriber::filter::Targets::new()
            .with_target("sqlx::query", tracing::Level::TRACE),
    );
    let registry = tracing_subscriber::registry().with(counter);
    let _ = if json {
        registry
            .with(tracing_subscriber::fmt::layer().json().with_filter(filter))
            .try_init()
    } else {
        registry
            .with(tracing_subscriber::fmt::layer().with_filter(filter))
            .try_init()
    };
}
