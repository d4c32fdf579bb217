//! Cost of the hot paths against the Upstash REST bridge with simulated
//! distance (`--latency-ms 5` by default; `BENCH_LATENCY_MS` to change).
//!
//! Run with `cargo bench --bench cache`. Needs PostgreSQL on 127.0.0.1:5432
//! (user postgres) and Redis on 127.0.0.1:6379, like the tests. Prints, per
//! scenario: Upstash HTTP requests, Redis commands and Postgres queries per
//! operation, and the median wall time.

mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use enghub::app::Instance;
use enghub::cache::{Cache, CacheKey};
use enghub::config::Config;
use enghub::dev::bridge::{Bridge, BridgeConfig};
use enghub::dev::tokens::{ClerkClaims, DevClerkKeys};
use enghub::upstash::UpstashClient;

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
    let db_name = "enghub_bench";
    let (database_url, pool) = support::seeded_database(db_name).await;

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

    // The project page of a large project: 200 members in 12 teams, 60
    // milestones and 20 goals (two levels, with assignees), 100 key results.
    let project = insert_large_project(&pool).await;
    let path = format!(
        "/api/trpc/project.getById?input={}",
        percent_encoding::utf8_percent_encode(
            &format!(r#"{{"id":"{project}"}}"#),
            percent_encoding::NON_ALPHANUMERIC
        )
    );
    b.get(&path).await;
    let mut s = Vec::new();
    for _ in 0..ITERATIONS {
        s.push(b.sample(|| async { vec![b.get(&path).await] }).await);
    }
    report("project.getById 200 members, hit", &s);

    let mut s = Vec::new();
    for _ in 0..ITERATIONS {
        b.cache
            .invalidate(&[CacheKey::Project(project.clone())])
            .await
            .unwrap();
        s.push(b.sample(|| async { vec![b.get(&path).await] }).await);
    }
    report("project.getById 200 members, miss", &s);

    // Arrangements of the large project: two drafts of its 12 teams that
    // place every one of the 200 members differently; activating them in
    // turn keeps the teams and rewrites all 200 memberships each time.
    let drafts = arrangement_drafts(&pool, &project).await;
    let mut s = Vec::new();
    for i in 0..ITERATIONS {
        let body = format!(r#"{{"id":"{}"}}"#, drafts[i % 2]);
        s.push(
            b.sample(|| async { vec![b.post("/api/trpc/arrangement.activate", body).await] })
                .await,
        );
    }
    report("activate 200 members, 12 teams", &s);

    let mut s = Vec::new();
    for i in 0..ITERATIONS {
        let body = format!(
            r#"{{"sourceArrangementId":"{}","name":"Copy {i}"}}"#,
            drafts[0]
        );
        s.push(
            b.sample(|| async { vec![b.post("/api/trpc/arrangement.clone", body).await] })
                .await,
        );
    }
    report("clone 200 members, 12 teams", &s);

    let mut s = Vec::new();
    for i in 0..ITERATIONS {
        let body = format!(
            r#"{{"projectId":"{project}","name":"Extra {i}","description":"","imageUrl":""}}"#
        );
        s.push(
            b.sample(|| async { vec![b.post("/api/trpc/team.create", body).await] })
                .await,
        );
    }
    report("team.create + mirror, 200 members", &s);

    pool.close().await;
    support::drop_database(db_name).await;
}

/// Inserts the large project with set-based statements; returns its id.
async fn insert_large_project(pool: &sqlx::PgPool) -> String {
    let id = "bench-large-project";
    sqlx::raw_sql(&format!(
        "INSERT INTO projects (id, name, description, updated_at)
           VALUES ('{id}', 'Large', 'Bench fixture', now());
         INSERT INTO people (id, first_name, last_name, email, role_id, title_id, updated_at)
           SELECT 'bp' || n, 'First' || n, 'Last' || n, 'bench' || n || '@acme.dev',
                  (SELECT id FROM roles ORDER BY name LIMIT 1),
                  (SELECT id FROM titles ORDER BY sort_order LIMIT 1), now()
           FROM generate_series(1, 200) n;
         INSERT INTO teams (id, name, project_id)
           SELECT 'bt' || n, 'Team ' || n, '{id}' FROM generate_series(1, 12) n;
         INSERT INTO team_members (id, person_id, project_id)
           SELECT 'bm' || n, 'bp' || n, '{id}' FROM generate_series(1, 200) n;
         INSERT INTO team_memberships (id, team_id, team_member_id)
           SELECT 'bs' || n, 'bt' || (n % 12 + 1), 'bm' || n FROM generate_series(1, 200) n;
         INSERT INTO milestones (id, title, status, sort_order, target_date, project_id, parent_id, updated_at)
           SELECT 'bms' || n, 'Milestone ' || n, 'IN_PROGRESS', n % 5, now() + n * interval '1 day',
                  '{id}', CASE WHEN n > 20 THEN 'bms' || (n % 20 + 1) END, now()
           FROM generate_series(1, 60) n;
         INSERT INTO quarterly_goals (id, title, quarter, project_id, parent_id, updated_at)
           SELECT 'bg' || n, 'Goal ' || n, 'Q' || (n % 4 + 1) || ' 2026', '{id}',
                  CASE WHEN n > 8 THEN 'bg' || (n % 8 + 1) END, now()
           FROM generate_series(1, 20) n;
         INSERT INTO milestone_assignments (id, milestone_id, person_id)
           SELECT 'bma' || n, 'bms' || (n % 60 + 1), 'bp' || n FROM generate_series(1, 120) n;
         INSERT INTO quarterly_goal_assignments (id, quarterly_goal_id, person_id)
           SELECT 'bga' || n, 'bg' || (n % 20 + 1), 'bp' || n FROM generate_series(1, 40) n;
         INSERT INTO key_results (id, title, target_value, current_value, unit, sort_order,
                                  milestone_id, quarterly_goal_id, updated_at)
           SELECT 'bk' || n, 'Key result ' || n, 100, n, '%', n % 5,
                  CASE WHEN n <= 60 THEN 'bms' || n END,
                  CASE WHEN n > 60 THEN 'bg' || (n % 20 + 1) END, now()
           FROM generate_series(1, 100) n;"
    ))
    .execute(pool)
    .await
    .unwrap();
    id.to_string()
}

/// Two draft arrangements of the large project (its 12 teams by name, every
/// member in a different team in each); returns their ids.
async fn arrangement_drafts(pool: &sqlx::PgPool, project: &str) -> [String; 2] {
    sqlx::raw_sql(&format!(
        "INSERT INTO team_arrangements (id, name, is_active, project_id, updated_at)
           VALUES ('ba0', 'Draft A', false, '{project}', now()),
                  ('ba1', 'Draft B', false, '{project}', now());
         INSERT INTO arrangement_teams (id, name, arrangement_id, sort_order)
           SELECT 'bat' || a || '-' || n, 'Team ' || n, 'ba' || a, n
           FROM generate_series(0, 1) a, generate_series(1, 12) n;
         INSERT INTO arrangement_assignments (id, arrangement_team_id, team_member_id)
           SELECT 'baa' || a || '-' || n, 'bat' || a || '-' || ((n + a) % 12 + 1), 'bm' || n
           FROM generate_series(0, 1) a, generate_series(1, 200) n;"
    ))
    .execute(pool)
    .await
    .unwrap();
    ["ba0".to_string(), "ba1".to_string()]
}
