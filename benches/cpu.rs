//! Server CPU time per request, measured on the production `queries` binary.
//!
//! Run with `cargo bench --bench cpu`. Needs PostgreSQL on 127.0.0.1:5432
//! (user postgres) and Redis on 127.0.0.1:6379, like the tests. The bench
//! starts the Upstash REST bridge in its own process (no added latency, as
//! `enghub dev` does), spawns `target/release/queries` as a child (so the
//! load generator's CPU is not counted) and drives
//! `GET /api/queries?trpcPath=department.getAll` (a cache hit) over
//! keep-alive HTTP/1.1 connections (`BENCH_QUERIES_BIN` runs another build
//! of `queries`, e.g. one saved before a change). Server CPU is utime + stime of the child
//! from `/proc/<pid>/stat`, sampled every second; a scenario prints the median
//! of those per-second figures (ms of CPU per request), the overall mean and
//! the request rate. Every answer must be a 200.
//!
//! Scenarios (each on a fresh server with its own key prefix, so rate limits
//! and per-instance caches start empty):
//! - `(a) token reuse`: `BENCH_USERS` users (default 2,000), each re-using
//!   one session token, 8 connections, `BENCH_SECS` (default 10) seconds.
//!   (The issue spoke of 200 users; at several thousand req/s they would
//!   cross their 100-per-minute rate limit within the run, and a 429 is much
//!   cheaper than a hit. 2,000 tokens still fit the verified-token cache.)
//! - `(b) fresh tokens`: every request a token the server has never seen
//!   (pre-signed before the run; `BENCH_FRESH_TOKENS`, default 16,000, for
//!   200 users), 8 connections, until the tokens or the seconds run out;
//! - `32 connections`: as (a) with `BENCH_USERS_32` users (default 5,000),
//!   `BENCH_RSS_SECS` (default 30) seconds, then
//!   the server's resident set size (VmRSS).

mod support;

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use enghub::dev::bridge::{Bridge, BridgeConfig};
use enghub::dev::tokens::DevClerkKeys;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const PATH: &str = "/api/queries?trpcPath=department.getAll";
const KEY_PEM: &str = include_str!("../tests/fixtures/clerk-test-key.pem");
/// Linux reports utime/stime in USER_HZ ticks, 100 per second on every
/// architecture the kernel supports today.
const TICKS_PER_SEC: f64 = 100.0;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Signs Clerk-shaped RS256 session tokens fast (ring), for the load generator.
struct Signer {
    key: ring::signature::RsaKeyPair,
    rng: ring::rand::SystemRandom,
}

impl Signer {
    fn new() -> Self {
        let body: String = KEY_PEM
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        let der = STANDARD.decode(body).unwrap();
        Self {
            key: ring::signature::RsaKeyPair::from_pkcs8(&der).unwrap(),
            rng: ring::rand::SystemRandom::new(),
        }
    }

    fn token(&self, user: &str, session: &str) -> String {
        let now = unix_now();
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
        let claims = serde_json::json!({
            "iat": now, "exp": now + 3600, "nbf": now,
            "sub": user, "sid": session, "sts": "active",
        });
        let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
        let message = format!("{header}.{payload}");
        let mut signature = vec![0; self.key.public().modulus_len()];
        self.key
            .sign(
                &ring::signature::RSA_PKCS1_SHA256,
                &self.rng,
                message.as_bytes(),
                &mut signature,
            )
            .unwrap();
        format!("{message}.{}", URL_SAFE_NO_PAD.encode(signature))
    }
}

/// Where a connection takes the token of its next request.
#[derive(Clone)]
enum Tokens {
    /// Round robin over a fixed set (each user re-uses its token).
    Reuse(Arc<Vec<String>>),
    /// Each token once; the run ends when they are used up.
    Fresh(Arc<Vec<String>>, Arc<AtomicUsize>),
}

#[derive(Default)]
struct Counters {
    ok: AtomicU64,
    other: AtomicU64,
}

/// One keep-alive HTTP/1.1 connection issuing requests back to back.
async fn connection(
    port: u16,
    id: usize,
    conns: usize,
    tokens: Tokens,
    counters: Arc<Counters>,
    stop: Arc<AtomicBool>,
) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let mut buf = Vec::with_capacity(16 * 1024);
    let mut k = id;
    while !stop.load(Ordering::Relaxed) {
        let token = match &tokens {
            Tokens::Reuse(all) => &all[k % all.len()],
            Tokens::Fresh(all, next) => match all.get(next.fetch_add(1, Ordering::Relaxed)) {
                Some(t) => t,
                None => {
                    stop.store(true, Ordering::Relaxed);
                    break;
                }
            },
        };
        k += conns;
        let req = format!(
            "GET {PATH} HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer {token}\r\n\r\n"
        );
        stream.write_all(req.as_bytes()).await.unwrap();
        let (status, _, _) = read_response(&mut stream, &mut buf).await;
        if status == 200 {
            counters.ok.fetch_add(1, Ordering::Relaxed);
        } else {
            counters.other.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Reads one response with a `content-length` body: (status, headers, body).
async fn read_response(stream: &mut TcpStream, buf: &mut Vec<u8>) -> (u16, String, Vec<u8>) {
    buf.clear();
    let mut chunk = [0u8; 16 * 1024];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "server closed the connection");
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let status: u16 = head[9..12].parse().unwrap();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().unwrap())
        })
        .expect("content-length");
    while buf.len() < head_end + length {
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "server closed the connection");
        buf.extend_from_slice(&chunk[..n]);
    }
    (status, head, buf[head_end..head_end + length].to_vec())
}

/// utime + stime of `pid`, in seconds.
fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 and 15 of the line; `rest` starts at field 3.
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    ticks as f64 / TICKS_PER_SEC
}

/// CPU time this thread has run, from `/proc/thread-self/schedstat` (ns).
fn thread_cpu() -> Duration {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap();
    Duration::from_nanos(s.split_whitespace().next().unwrap().parse().unwrap())
}

/// Mean thread CPU time of `op` over `items`, in µs. With `repeat`, passes over
/// `items` go on until 300 ms of CPU were spent: the kernel updates a running
/// thread's CPU time at scheduler ticks, so short intervals read as zero.
fn micro<T>(items: &[T], repeat: bool, mut op: impl FnMut(&T)) -> f64 {
    let started = thread_cpu();
    let mut calls = 0;
    loop {
        for item in items {
            op(item);
        }
        calls += items.len();
        if !repeat || thread_cpu() - started >= Duration::from_millis(300) {
            break;
        }
    }
    (thread_cpu() - started).as_secs_f64() * 1e6 / calls as f64
}

/// RS256 verification in this process: jwt-simple (pure Rust) against `ring`, and
/// `ClerkVerifier` on first sight of a token and on its reuse.
fn verify_micro_bench(public_pem: &str, tokens: &[String]) {
    use jwt_simple::prelude::{NoCustomClaims, RS256PublicKey, RSAPublicKeyLike};
    let jwt_simple_key = RS256PublicKey::from_pem(public_pem).unwrap();
    let components = jwt_simple_key.to_components();
    let ring_key = ring::signature::RsaPublicKeyComponents {
        n: components.n.clone(),
        e: components.e.clone(),
    };
    let split: Vec<(Vec<u8>, Vec<u8>)> = tokens
        .iter()
        .map(|t| {
            let (signed, signature) = t.rsplit_once('.').unwrap();
            (
                signed.as_bytes().to_vec(),
                URL_SAFE_NO_PAD.decode(signature).unwrap(),
            )
        })
        .collect();
    let jwt_simple_us = micro(&tokens[..2_000.min(tokens.len())], true, |t| {
        jwt_simple_key
            .verify_token::<NoCustomClaims>(t, None)
            .unwrap();
    });
    let ring_us = micro(&split, true, |(signed, signature)| {
        ring_key
            .verify(
                &ring::signature::RSA_PKCS1_2048_8192_SHA256,
                signed,
                signature,
            )
            .unwrap();
    });
    let verifier = enghub::auth::ClerkVerifier::new(public_pem, vec![]).unwrap();
    let first_us = micro(tokens, false, |t| {
        verifier.verify(t).unwrap();
    });
    let again_us = micro(tokens, true, |t| {
        verifier.verify(t).unwrap();
    });
    println!(
        "RS256 verify, thread CPU per token: jwt-simple (pure Rust, with claims) \
         {jwt_simple_us:.1} µs | ring (signature only) {ring_us:.1} µs | ClerkVerifier on first \
         sight of {} tokens {first_us:.1} µs, on reuse {again_us:.2} µs",
        tokens.len()
    );
}

/// VmRSS of `pid`, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap()
}

struct Server {
    child: tokio::process::Child,
    pid: u32,
    port: u16,
}

impl Server {
    async fn start(vars: &HashMap<String, String>, prefix: &str, port: u16) -> Self {
        let binary = std::env::var("BENCH_QUERIES_BIN")
            .unwrap_or_else(|_| env!("CARGO_BIN_EXE_queries").to_owned());
        let child = tokio::process::Command::new(binary)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(vars)
            .env("ENGHUB_KEY_PREFIX", prefix)
            .env("VERCEL_DEV_PORT", port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let pid = child.id().unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            assert!(Instant::now() < deadline, "queries did not start");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        Self { child, pid, port }
    }

    /// One request on a new connection: (status, headers, body).
    async fn get(&self, token: &str) -> (u16, String, Vec<u8>) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).await.unwrap();
        let req = format!(
            "GET {PATH} HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer {token}\r\n\r\n"
        );
        stream.write_all(req.as_bytes()).await.unwrap();
        read_response(&mut stream, &mut Vec::new()).await
    }

    async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

struct Run {
    requests: u64,
    failures: u64,
    secs: f64,
    cpu_per_request_ms: Vec<f64>,
    cpu_total: f64,
}

impl Run {
    fn median_ms(&self) -> f64 {
        let mut v = self.cpu_per_request_ms.clone();
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
    }
}

/// Drives `conns` connections for at most `secs` seconds, sampling the
/// server's CPU once per second.
async fn drive(server: &Server, conns: usize, tokens: Tokens, secs: u64) -> Run {
    let counters = Arc::new(Counters::default());
    let stop = Arc::new(AtomicBool::new(false));
    let tasks: Vec<_> = (0..conns)
        .map(|id| {
            tokio::spawn(connection(
                server.port,
                id,
                conns,
                tokens.clone(),
                counters.clone(),
                stop.clone(),
            ))
        })
        .collect();
    let started = Instant::now();
    let cpu0 = cpu_secs(server.pid);
    let (mut last_cpu, mut last_n) = (cpu0, 0);
    let mut per_request = Vec::new();
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    ticker.tick().await;
    for _ in 0..secs {
        ticker.tick().await;
        let cpu = cpu_secs(server.pid);
        let n = counters.ok.load(Ordering::Relaxed) + counters.other.load(Ordering::Relaxed);
        // A second cut short by the end of the tokens is not a sample.
        if stop.load(Ordering::Relaxed) {
            break;
        }
        if n > last_n {
            per_request.push((cpu - last_cpu) * 1000.0 / (n - last_n) as f64);
        }
        (last_cpu, last_n) = (cpu, n);
    }
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    let secs = started.elapsed().as_secs_f64();
    Run {
        requests: counters.ok.load(Ordering::Relaxed),
        failures: counters.other.load(Ordering::Relaxed),
        secs,
        cpu_per_request_ms: per_request,
        cpu_total: cpu_secs(server.pid) - cpu0,
    }
}

fn report(name: &str, conns: usize, run: &Run) {
    let n = run.requests + run.failures;
    println!(
        "| {name:<22} | {conns:>5} | {:>9.3} | {:>9.3} | {:>8.0} | {:>7} | {:>6} |",
        run.median_ms(),
        run.cpu_total * 1000.0 / n.max(1) as f64,
        n as f64 / run.secs,
        n,
        run.failures,
    );
}

/// Upstash round trips a response's `Server-Timing` header reports.
fn round_trips(headers: &str) -> String {
    headers
        .split("upstash;")
        .nth(1)
        .and_then(|s| s.split("desc=\"").nth(1))
        .and_then(|s| s.split('"').next())
        .unwrap_or("?")
        .to_owned()
}

#[tokio::main]
async fn main() {
    let secs: u64 = env_or("BENCH_SECS", 10);
    let users: usize = env_or("BENCH_USERS", 2_000);
    let users_32: usize = env_or("BENCH_USERS_32", 5_000);
    let fresh: usize = env_or("BENCH_FRESH_TOKENS", 16_000);
    let rss_secs: u64 = env_or("BENCH_RSS_SECS", 30);

    let db_name = "enghub_bench_cpu";
    let (database_url, pool) = support::seeded_database(db_name).await;
    // The demo data answers 1.5 KB; 52 more titles make the 6.7 KB answer of a
    // real organisation (the size the issue measured).
    sqlx::query(
        "INSERT INTO titles (id, name, sort_order, department_id)
         SELECT 'bench-title-' || g, 'Bench Title ' || g, 100 + g,
                (SELECT id FROM roles ORDER BY name OFFSET g % 3 LIMIT 1)
         FROM generate_series(1, 52) g",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;

    let bridge = Bridge::start(
        tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        BridgeConfig {
            redis_url: "redis://127.0.0.1:6379".into(),
            token: "bench".into(),
            latency: Duration::ZERO,
        },
    )
    .await
    .unwrap();
    let public_pem = DevClerkKeys::from_private_pem(KEY_PEM)
        .unwrap()
        .public_pem();
    let vars: HashMap<String, String> = [
        ("DATABASE_URL", database_url.clone()),
        ("UPSTASH_REDIS_REST_URL", bridge.url()),
        ("UPSTASH_REDIS_REST_TOKEN", "bench".into()),
        ("QSTASH_CURRENT_SIGNING_KEY", "sig_bench_current".into()),
        ("QSTASH_NEXT_SIGNING_KEY", "sig_bench_next".into()),
        ("CLERK_JWT_KEY", public_pem),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();

    let signer = Arc::new(Signer::new());
    let sign_users = |prefix: &'static str, n: usize| -> Arc<Vec<String>> {
        Arc::new(
            (0..n)
                .map(|i| signer.token(&format!("user_{prefix}_{i}"), &format!("sess_{prefix}_{i}")))
                .collect(),
        )
    };
    let reuse = sign_users("reuse", users);
    let reuse_32 = sign_users("wide", users_32);
    let started = Instant::now();
    // Fresh tokens: 200 users, each token a new session (never seen before).
    let fresh_tokens: Arc<Vec<String>> = {
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let signer = signer.clone();
                std::thread::spawn(move || {
                    (t..fresh)
                        .step_by(threads)
                        .map(|i| {
                            signer.token(
                                &format!("user_fresh_{}", i % 200),
                                &format!("sess_fresh_{i}"),
                            )
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        Arc::new(
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect(),
        )
    };
    println!(
        "signed {} fresh tokens in {:.1} s; path {PATH}",
        fresh_tokens.len(),
        started.elapsed().as_secs_f64()
    );

    verify_micro_bench(
        &vars["CLERK_JWT_KEY"],
        &fresh_tokens[..8_000.min(fresh_tokens.len())],
    );

    let run_id = std::process::id();
    let mut port = 24_000 + (run_id % 4_000) as u16;
    let mut next_server = |name: &str| {
        port += 1;
        (format!("enghub-cpu-{run_id}-{name}"), port)
    };

    println!(
        "| scenario               | conns | median ms | mean ms   | req/s    | answers | non-200 |"
    );
    println!(
        "|------------------------|-------|-----------|-----------|----------|---------|---------|"
    );

    // (a) token reuse.
    let (prefix, p) = next_server("reuse");
    let server = Server::start(&vars, &prefix, p).await;
    let (status, head, body) = server.get(&reuse[0]).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let (_, head_hit, body_hit) = server.get(&reuse[1]).await;
    assert_eq!(body, body_hit, "a hit answers what the miss answered");
    let trips = (round_trips(&head), round_trips(&head_hit));
    let run = drive(&server, 8, Tokens::Reuse(reuse.clone()), secs).await;
    report("(a) token reuse", 8, &run);
    server.stop().await;

    // (b) every token new.
    let (prefix, p) = next_server("fresh");
    let server = Server::start(&vars, &prefix, p).await;
    server.get(&reuse[0]).await;
    let run = drive(
        &server,
        8,
        Tokens::Fresh(fresh_tokens.clone(), Default::default()),
        secs,
    )
    .await;
    report("(b) fresh tokens", 8, &run);
    server.stop().await;

    // 32 connections, then RSS.
    let (prefix, p) = next_server("wide");
    let server = Server::start(&vars, &prefix, p).await;
    server.get(&reuse_32[0]).await;
    let rss_idle = rss_kib(server.pid);
    let run = drive(&server, 32, Tokens::Reuse(reuse_32.clone()), rss_secs).await;
    report("32 connections", 32, &run);
    let rss = rss_kib(server.pid);
    server.stop().await;

    println!(
        "RSS of queries: {:.1} MiB after the first answer, {:.1} MiB after {rss_secs} s at 32 connections",
        rss_idle as f64 / 1024.0,
        rss as f64 / 1024.0
    );
    println!(
        "Upstash round trips: first answer (miss) {}, hit {}",
        trips.0, trips.1
    );
    println!(
        "{} B answer; CPU = utime+stime of the queries process",
        body.len()
    );

    support::drop_database(db_name).await;
}
