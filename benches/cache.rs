//! Cost of the hot paths against the Upstash REST bridge with simulated
//! distance (`--latency-ms 5` by default; `BENCH_LATENCY_MS` to change).
//!
//! Run with `cargo bench --bench cache`. Needs PostgreSQL on 127.0.0.1:5432
//! (user postgres) and Redis on 127.0.0.1:6379, like the tests. Prints, per
//! scenario: Upstash HTTP requests, Redis commands and Postgres queries per
//! operation, and the median wall time.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use enghub::app::Instance;
use enghub::cache::{Cache, CacheKey};
use enghub::config::Config;
use enghub::dev::bridge::{Bridge, BridgeConfig};
use enghub::dev::tokens::{ClerkClaims, DevClerkKeys};
use enghub::upstash::UpstashClient;
use sqlx::Connection;

const ITERATIONS: usize = 40;

struct Bench {
    base: String,
    http: reqwest::Client,
    bridge: Bridge,
    cache: Cache,
    keys: DevClerkKeys,
    user: std::sync::atomic::AtomicUsize,
}

struct Sample {
    upstash: u64,
    commands: u64,
    pg: u64,
    wall: Duration,
}

fn pg_queries(res: &reqwest::Response) -> u64 {
    let h = res.headers()["server-timing"].to_str().unwrap();
    let part = h.split(", ").find(|p| p.starts_with("postgres")).unwrap();
    part.split("desc=\"")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

impl Bench {
    fn token(&self) -> String {
        // A fresh user per request keeps every call inside its rate-limit budget.
        let n = self.user.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.keys.sign(ClerkClaims::for_user(
            format!("user_bench_{n}"),
            Duration::from_secs(600),
        ))
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        let res = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(self.token())
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "{path}: {}", res.status());
        res
    }

    async fn post(&self, path: &str, body: String) -> reqwest::Response {
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(self.token())
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "{path}: {}", res.status());
        res
    }

    /// Measures `op` (which returns the responses it made) once.
    async fn sample<F, Fut>(&self, op: F) -> Sample
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Vec<reqwest::Response>>,
    {
        let (r0, c0) = self.bridge.counts();
        let started = Instant::now();
        let responses = op().await;
        let wall = started.elapsed();
        let (r1, c1) = self.bridge.counts();
        Sample {
            upstash: r1 - r0,
            commands: c1 - c0,
            pg: responses.iter().map(pg_queries).sum(),
            wall,
        }
    }
}

fn report(name: &str, samples: &[Sample]) {
    let mut walls: Vec<Duration> = samples.iter().map(|s| s.wall).collect();
    walls.sort();
    let n = samples.len() as f64;
    let avg = |f: fn(&Sample) -> u64| samples.iter().map(f).sum::<u64>() as f64 / n;
    println!(
        "| {name:<34} | {:>8.1} | {:>8.1} | {:>8.1} | {:>9.2} |",
        avg(|s| s.upstash),
        avg(|s| s.commands),
        avg(|s| s.pg),
        walls[walls.len() / 2].as_secs_f64() * 1000.0
    );
}

#[tokio::main]
async fn main() {
    // The statement counter needs the subscriber; keep request logs quiet.
    if std::env::var_os("RUST_LOG").is_none() {
        std::env::set_var("RUST_LOG", "warn");
    }
    enghub::telemetry::init(false);
    let latency: u64 = std::env::var("BENCH_LATENCY_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let server = "postgres://postgres@127.0.0.1:5432";
    let db_name = "enghub_bench";
    {
        let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres"))
            .await
            .unwrap();
        sqlx::query(&format!("DROP DATABASE IF EXISTS {db_name} WITH (FORCE)"))
            .execute(&mut admin)
            .await
            .unwrap();
        sqlx::query(&format!("CREATE DATABASE {db_name}"))
            .execute(&mut admin)
            .await
            .unwrap();
    }
    let database_url = format!("{server}/{db_name}");
    let pool = enghub::db::connect_lazy(&database_url, false).unwrap();
    enghub::db::migrate(&pool).await.unwrap();
    enghub::db::seed(&pool).await.unwrap();

    let bridge = Bridge::start(
        tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        BridgeConfig {
            redis_url: "redis://127.0.0.1:6379".into(),
            token: "bench".into(),
            latency: Duration::from_millis(latency),
        },
    )
    .await
    .unwrap();
    let keys = DevClerkKeys::from_private_pem(include_str!("../tests/fixtures/clerk-test-key.pem"))
        .unwrap();
    let prefix = format!("enghub-bench-{}", std::process::id());
    let vars: HashMap<String, String> = [
        ("DATABASE_URL", database_url.clone()),
        ("UPSTASH_REDIS_REST_URL", bridge.url()),
        ("UPSTASH_REDIS_REST_TOKEN", "bench".into()),
        ("QSTASH_CURRENT_SIGNING_KEY", "sig_bench_current".into()),
        ("QSTASH_NEXT_SIGNING_KEY", "sig_bench_next".into()),
        ("CLERK_JWT_KEY", keys.public_pem()),
        ("ENGHUB_KEY_PREFIX", prefix.clone()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let instance = Instance::from_config(Config::from_vars(&vars));
    let (addr, _server) = enghub::dev::server::spawn("127.0.0.1:0".parse().unwrap(), instance)
        .await
        .unwrap();
    let cache = Cache::new(
        UpstashClient::new(
            reqwest::Client::new(),
            &bridge.url(),
            "bench",
            Duration::from_secs(5),
        ),
        prefix,
    );
    let b = Bench {
        base: format!("http://{addr}"),
        http: reqwest::Client::new(),
        bridge,
        cache,
        keys,
        user: Default::default(),
    };
    let department: (String,) = sqlx::query_as("SELECT id FROM roles ORDER BY name LIMIT 1")
        .fetch_one(&pool)
        .await
        .unwrap();

    // Warm up: scripts loaded into Redis, connections open, keys filled.
    for _ in 0..3 {
        b.get("/api/trpc/department.getAll,title.getAll,health.ping?batch=1&input=%7B%7D")
            .await;
    }

    println!("bridge latency {latency} ms per request; {ITERATIONS} iterations (median wall)");
    println!("| scenario                           | upstash  | commands | postgres | median ms |");
    println!("|------------------------------------|----------|----------|----------|-----------|");

    let mut s = Vec::new();
    for _ in 0..ITERATIONS {
        s.push(
            b.sample(|| async { vec![b.get("/api/trpc/department.getAll").await] })
                .await,
        );
    }
    report("single cached query, hit", &s);

    let mut s = Vec::new();
    for _ in 0..ITERATIONS {
        b.cache.invalidate(&[CacheKey::Departments]).await.unwrap();
        s.push(
            b.sample(|| async { vec![b.get("/api/trpc/department.getAll").await] })
                .await,
        );
    }
    report("single cached query, miss", &s);

    let mut s = Vec::new();
    for _ in 0..ITERATIONS {
        s.push(
            b.sample(|| async {
                vec![
                    b.get("/api/trpc/department.getAll,title.getAll,department.getAll?batch=1&input=%7B%7D")
                        .await,
                ]
            })
            .await,
        );
    }
    report("batch of 3 hits", &s);

    let mut s = Vec::new();
    for i in 0..ITERATIONS {
        let body = format!(r#"{{"id":"{}","name":"Renamed {i}"}}"#, department.0);
        s.push(
            b.sample(|| async { vec![b.post("/api/trpc/department.update", body).await] })
                .await,
        );
    }
    report("mutation with invalidation", &s);

    let mut s = Vec::new();
    for _ in 0..5 {
        b.cache.invalidate(&[CacheKey::Titles]).await.unwrap();
        s.push(
            b.sample(|| async {
                let calls = (0..100).map(|_| b.get("/api/trpc/title.getAll"));
                futures::future::join_all(calls).await
            })
            .await,
        );
    }
    report("100 concurrent cold misses (burst)", &s);

    pool.close().await;
    let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres"))
        .await
        .unwrap();
    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {db_name} WITH (FORCE)"))
        .execute(&mut admin)
        .await;
}
