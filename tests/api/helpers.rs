//! `spawn_app()`: an in-process API on a random port with its own Postgres
//! database (cloned from a migrated template), its own Redis key prefix and its
//! own Upstash REST bridge in front of the real Redis.

use std::collections::HashMap;
use std::time::Duration;

use enghub::app::Instance;
use enghub::config::Config;
use enghub::dev::bridge::{Bridge, BridgeConfig};
use enghub::dev::tokens::{ClerkClaims, DevClerkKeys};
use enghub::upstash::{Command, Reply, UpstashClient};
use serde_json::Value;
use sqlx::{Connection, PgConnection, PgPool};

pub const QSTASH_CURRENT: &str = "sig_test_current_0123456789";
pub const QSTASH_NEXT: &str = "sig_test_next_9876543210";
pub const PUBLIC_URL: &str = "https://enghub.test";
pub const BRIDGE_TOKEN: &str = "test-bridge-token";

pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_ADMIN_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub fn server_url() -> String {
    let admin = admin_url();
    admin
        .rsplit_once('/')
        .map(|(s, _)| s.to_string())
        .unwrap_or(admin)
}

pub fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

pub fn random_suffix() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..10)
        .map(|_| char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[rng.gen_range(0..36)]))
        .collect()
}

/// The test Clerk key pair (a fixture: RSA key generation is slow in debug builds).
pub fn clerk_keys() -> DevClerkKeys {
    DevClerkKeys::from_private_pem(include_str!("../fixtures/clerk-test-key.pem"))
        .expect("test key parses")
}

/// A key pair Clerk never issued tokens with.
pub fn foreign_clerk_keys() -> DevClerkKeys {
    DevClerkKeys::from_private_pem(include_str!("../fixtures/other-test-key.pem"))
        .expect("test key parses")
}

/// Name of the migrated template database for the current migrations.
fn template_name() -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    for entry in enghub::db::MIGRATOR.iter() {
        h.update(entry.checksum.as_ref());
    }
    format!("enghub_tmpl_{}", &hex::encode(h.finalize())[..12])
}

/// Creates (once, across test processes) the migrated template, then a fresh
/// database cloned from it.
pub async fn create_test_database() -> String {
    let template = template_name();
    let mut admin = PgConnection::connect(&admin_url())
        .await
        .expect("postgres reachable");
    // Serialise template creation across test processes.
    sqlx::query("SELECT pg_advisory_lock(7270001)")
        .execute(&mut admin)
        .await
        .unwrap();
    let exists: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(&template)
        .fetch_optional(&mut admin)
        .await
        .unwrap();
    if exists.is_none() {
        let building = format!("{template}_building");
        sqlx::query(&format!(
            "DROP DATABASE IF EXISTS \"{building}\" WITH (FORCE)"
        ))
        .execute(&mut admin)
        .await
        .unwrap();
        sqlx::query(&format!("CREATE DATABASE \"{building}\""))
            .execute(&mut admin)
            .await
            .unwrap();
        {
            let pool = PgPool::connect(&format!("{}/{building}", server_url()))
                .await
                .unwrap();
            enghub::db::migrate(&pool).await.expect("migrations apply");
            pool.close().await;
        }
        sqlx::query(&format!(
            "ALTER DATABASE \"{building}\" RENAME TO \"{template}\""
        ))
        .execute(&mut admin)
        .await
        .unwrap();
    }
    sqlx::query("SELECT pg_advisory_unlock(7270001)")
        .execute(&mut admin)
        .await
        .unwrap();
    let name = format!("enghub_t_{}", random_suffix());
    let mut attempt = 0;
    loop {
        match sqlx::query(&format!(
            "CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""
        ))
        .execute(&mut admin)
        .await
        {
            Ok(_) => break,
            Err(e) if attempt < 20 => {
                // Another process may be cloning the template at this moment.
                attempt += 1;
                let _ = e;
                tokio::time::sleep(Duration::from_millis(50 * attempt)).await;
            }
            Err(e) => panic!("could not clone template: {e}"),
        }
    }
    name
}

fn drop_database_blocking(name: String) {
    let _ = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            if let Ok(mut admin) = PgConnection::connect(&admin_url()).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .execute(&mut admin)
                    .await;
            }
        });
    })
    .join();
}

pub struct TestApp {
    pub base_url: String,
    pub db: PgPool,
    pub db_name: String,
    pub prefix: String,
    pub bridge: Option<Bridge>,
    /// Talks to the same Redis, through the bridge, for assertions.
    pub redis: UpstashClient,
    pub http: reqwest::Client,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
        drop_database_blocking(self.db_name.clone());
    }
}

pub struct TestOptions {
    pub extra_vars: Vec<(&'static str, String)>,
}

/// The environment of a test deployment: its database, the Upstash (bridge)
/// at `upstash_url`, the test keys and key `prefix`.
pub fn app_vars(
    database_url: String,
    upstash_url: String,
    prefix: &str,
) -> HashMap<String, String> {
    [
        ("DATABASE_URL", database_url),
        ("UPSTASH_REDIS_REST_URL", upstash_url),
        ("UPSTASH_REDIS_REST_TOKEN", BRIDGE_TOKEN.to_string()),
        ("QSTASH_CURRENT_SIGNING_KEY", QSTASH_CURRENT.to_string()),
        ("QSTASH_NEXT_SIGNING_KEY", QSTASH_NEXT.to_string()),
        ("CLERK_JWT_KEY", clerk_keys().public_pem()),
        (
            "CLERK_AUTHORIZED_PARTIES",
            "https://app.enghub.test".to_string(),
        ),
        ("ENGHUB_KEY_PREFIX", prefix.to_string()),
        ("ENGHUB_PUBLIC_URL", PUBLIC_URL.to_string()),
        (
            "ENGHUB_ALLOWED_ORIGINS",
            "https://app.enghub.test".to_string(),
        ),
        ("UPSTASH_TIMEOUT_MS", "1000".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(TestOptions { extra_vars: vec![] }).await
}

pub async fn spawn_app_with(options: TestOptions) -> TestApp {
    enghub::telemetry::init(false);
    let db_name = create_test_database().await;
    let database_url = format!("{}/{db_name}", server_url());
    let bridge = Bridge::start(
        tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        BridgeConfig {
            redis_url: redis_url(),
            token: BRIDGE_TOKEN.into(),
            latency: Duration::ZERO,
        },
    )
    .await
    .expect("bridge starts");
    let prefix = format!("enghub-test-{}", random_suffix());
    let mut vars = app_vars(database_url.clone(), bridge.url(), &prefix);
    for (k, v) in options.extra_vars {
        vars.insert(k.to_string(), v);
    }
    let instance = Instance::from_config(Config::from_vars(&vars));
    assert!(
        matches!(instance, Instance::Ready(_)),
        "test config is valid"
    );
    let (addr, server) = enghub::dev::server::spawn("127.0.0.1:0".parse().unwrap(), instance)
        .await
        .unwrap();
    let db = PgPool::connect(&database_url).await.unwrap();
    let redis = UpstashClient::new(
        reqwest::Client::new(),
        &bridge.url(),
        BRIDGE_TOKEN,
        Duration::from_secs(5),
    );
    TestApp {
        base_url: format!("http://{addr}"),
        db,
        db_name,
        prefix,
        bridge: Some(bridge),
        redis,
        http: reqwest::Client::new(),
        server,
    }
}

/// A token for `sub` from the test key pair, valid for ten minutes.
pub fn token_for(sub: &str) -> String {
    clerk_keys().sign(ClerkClaims::for_user(sub, Duration::from_secs(600)))
}

/// A token for `sub` whose `metadata.role` is `role` (e.g. `"admin"`).
pub fn token_with_role(sub: &str, role: &str) -> String {
    let mut claims = ClerkClaims::for_user(sub, Duration::from_secs(600));
    claims.role = Some(role.to_string());
    clerk_keys().sign(claims)
}

pub const USER: &str = "user_test_alice";

fn encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

impl TestApp {
    /// Stops the Upstash bridge: the port refuses connections afterwards.
    pub async fn stop_bridge(&mut self) {
        if let Some(b) = self.bridge.take() {
            b.shutdown().await;
        }
    }

    pub fn bridge(&self) -> &Bridge {
        self.bridge.as_ref().expect("bridge running")
    }

    pub fn key(&self, rest: &str) -> String {
        format!("{}:{rest}", self.prefix)
    }

    /// `GET` of a batch, as `httpBatchLink` sends it. Inputs `None` are omitted.
    pub async fn batch_query(&self, calls: &[(&str, Option<Value>)]) -> (u16, Value) {
        let paths: Vec<&str> = calls.iter().map(|(p, _)| *p).collect();
        let mut inputs = serde_json::Map::new();
        for (i, (_, input)) in calls.iter().enumerate() {
            if let Some(v) = input {
                inputs.insert(i.to_string(), v.clone());
            }
        }
        let url = format!(
            "{}/api/trpc/{}?batch=1&input={}",
            self.base_url,
            paths.join(","),
            encode(&Value::Object(inputs).to_string())
        );
        self.send(self.http.get(url).bearer_auth(token_for(USER)))
            .await
    }

    /// `GET` of one query, as `httpLink` sends it.
    pub async fn query(&self, path: &str, input: Option<Value>) -> (u16, Value) {
        self.query_as(USER, path, input).await
    }

    /// `POST` of one mutation, as `httpLink` sends it.
    pub async fn mutate(&self, path: &str, input: Value) -> (u16, Value) {
        self.mutate_as(USER, path, input).await
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> (u16, Value) {
        let res = req.send().await.expect("request sent");
        let status = res.status().as_u16();
        (status, json_body(res).await)
    }

    /// The raw value stored at `key` (full key), or `None`.
    pub async fn redis_get(&self, key: &str) -> Option<String> {
        match self
            .redis
            .command(&Command::new("get").arg(key))
            .await
            .unwrap()
        {
            Reply::Nil => None,
            other => other.as_str().map(str::to_string),
        }
    }

    /// TTL of `key` in seconds (-2 when absent).
    pub async fn redis_ttl(&self, key: &str) -> i64 {
        self.redis
            .command(&Command::new("ttl").arg(key))
            .await
            .unwrap()
            .as_int()
            .unwrap()
    }

    pub async fn redis_set(&self, key: &str, value: &str) {
        self.redis
            .command(&Command::new("set").arg(key).arg(value))
            .await
            .unwrap();
    }
}

/// `data` of a success envelope.
pub fn data(body: &Value) -> &Value {
    &body["result"]["data"]
}

/// The keys of `Row(Person)` on the wire, in order.
pub const PERSON_ROW_KEYS: [&str; 14] = [
    "id",
    "firstName",
    "lastName",
    "callsign",
    "email",
    "githubUsername",
    "gitlabUsername",
    "imageUrl",
    "clerkUserId",
    "managerId",
    "departmentId",
    "titleId",
    "createdAt",
    "updatedAt",
];

/// The keys of `Row(KeyResult)` on the wire, in order.
pub const KEY_RESULT_KEYS: [&str; 11] = [
    "id",
    "title",
    "targetValue",
    "currentValue",
    "unit",
    "status",
    "sortOrder",
    "milestoneId",
    "quarterlyGoalId",
    "createdAt",
    "updatedAt",
];

/// `(old, new, changed_by)` of every manager change of `person`, oldest first.
pub async fn manager_changes(
    app: &TestApp,
    person: &str,
) -> Vec<(Option<String>, Option<String>, String)> {
    sqlx::query_as(
        "SELECT old_manager_id, new_manager_id, changed_by FROM manager_changes
         WHERE person_id = $1 ORDER BY created_at, id",
    )
    .bind(person)
    .fetch_all(&app.db)
    .await
    .unwrap()
}

/// Fills a cache key with a marker so its deletion can be observed.
pub async fn mark(app: &TestApp, rest: &str) -> String {
    let key = app.key(rest);
    app.redis_set(&key, r#"{"marker":true}"#).await;
    key
}

/// The rows of `table` in the test database.
pub async fn count(app: &TestApp, table: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(&app.db)
        .await
        .unwrap();
    n
}

/// `data` of a mutation that must succeed.
pub async fn ok(app: &TestApp, path: &str, input: Value) -> Value {
    let (status, body) = app.mutate(path, input).await;
    assert_eq!(status, 200, "{path}: {body}");
    data(&body).clone()
}

/// `error.data.zodError.fieldErrors` of an error envelope.
pub fn field_errors(body: &Value) -> &Value {
    &body["error"]["data"]["zodError"]["fieldErrors"]
}

/// The keys of JSON object `v`, in their order (the wire order).
pub fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

/// `data.code` of an error envelope.
pub fn error_code(body: &Value) -> &str {
    body["error"]["data"]["code"].as_str().unwrap_or("<none>")
}

/// `(upstash round trips, postgres queries)` of a `Server-Timing` header;
/// panics when a count is missing, so two costs compared with each other can
/// never be equal by both being absent.
pub fn server_timing_counts(header: &str) -> (u64, u64) {
    let count = |label: &str| -> u64 {
        header
            .split(',')
            .find(|part| part.trim().starts_with(label))
            .and_then(|part| part.split("desc=\"").nth(1))
            .and_then(|d| d.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no {label} count in Server-Timing: {header:?}"))
    };
    (count("upstash"), count("postgres"))
}

/// `(status, JSON body, Server-Timing header or "")` of a response.
async fn timed_parts(res: reqwest::Response) -> (u16, Value, String) {
    let status = res.status().as_u16();
    let timing = res
        .headers()
        .get("server-timing")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (status, json_body(res).await, timing)
}

impl TestApp {
    /// `GET` of one query as Clerk user `user`.
    pub async fn query_as(&self, user: &str, path: &str, input: Option<Value>) -> (u16, Value) {
        let (status, body, _) = self.query_timed(user, path, input).await;
        (status, body)
    }

    /// `GET` of one query as `user`, with the response's `Server-Timing` header.
    pub async fn query_timed(
        &self,
        user: &str,
        path: &str,
        input: Option<Value>,
    ) -> (u16, Value, String) {
        let mut url = format!("{}/api/trpc/{path}", self.base_url);
        if let Some(input) = input {
            url.push_str(&format!("?input={}", encode(&input.to_string())));
        }
        let res = self
            .http
            .get(url)
            .bearer_auth(token_for(user))
            .send()
            .await
            .expect("request sent");
        timed_parts(res).await
    }

    /// `POST` of one mutation as Clerk user `user`.
    pub async fn mutate_as(&self, user: &str, path: &str, input: Value) -> (u16, Value) {
        self.mutate_with_token(&token_for(user), path, input).await
    }

    /// `POST` of one mutation as [`USER`] with an org-admin session token
    /// (`metadata.role` = `admin`).
    pub async fn mutate_as_admin(&self, path: &str, input: Value) -> (u16, Value) {
        self.mutate_with_token(&token_with_role(USER, "admin"), path, input)
            .await
    }

    /// `POST` of one mutation with a bearer token.
    pub async fn mutate_with_token(&self, token: &str, path: &str, input: Value) -> (u16, Value) {
        let (status, body, _) = self.mutate_timed(token, path, input).await;
        (status, body)
    }

    /// `POST` of one mutation with a bearer token, with the response's
    /// `Server-Timing` header.
    pub async fn mutate_timed(
        &self,
        token: &str,
        path: &str,
        input: Value,
    ) -> (u16, Value, String) {
        let res = self
            .http
            .post(format!("{}/api/trpc/{path}", self.base_url))
            .header("content-type", "application/json")
            .bearer_auth(token)
            .body(input.to_string())
            .send()
            .await
            .expect("request sent");
        timed_parts(res).await
    }

    /// The members of the Redis set at `key` (full key), sorted.
    pub async fn redis_smembers(&self, key: &str) -> Vec<String> {
        let reply = self
            .redis
            .command(&Command::new("smembers").arg(key))
            .await
            .unwrap();
        let mut members = reply.into_strings();
        members.sort();
        members
    }

    /// Inserts a person straight into Postgres; returns its id.
    pub async fn insert_person(
        &self,
        name: &str,
        manager_id: Option<&str>,
        clerk_user_id: Option<&str>,
    ) -> String {
        let id = enghub::db::new_id();
        sqlx::query(
            "INSERT INTO people (id, first_name, last_name, email, manager_id, clerk_user_id, updated_at)
             VALUES ($1, $2, 'Test', $3, $4, $5, now())",
        )
        .bind(&id)
        .bind(name)
        .bind(format!("{}-{}@example.com", name.to_lowercase(), &id[id.len() - 6..]))
        .bind(manager_id)
        .bind(clerk_user_id)
        .execute(&self.db)
        .await
        .unwrap();
        id
    }

    /// A cache over the test's Redis prefix, as the app builds it.
    pub fn cache(&self) -> enghub::cache::Cache {
        enghub::cache::Cache::new(self.redis.clone(), self.prefix.clone())
    }
}

/// A response body as JSON, or as a string when it is not JSON.
async fn json_body(res: reqwest::Response) -> Value {
    let text = res.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or(Value::String(text))
}
