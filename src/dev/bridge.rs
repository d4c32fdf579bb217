//! Upstash-compatible REST bridge in front of a real Redis, so local development and
//! tests use exactly the production protocol (the role Upstash's
//! serverless-redis-http plays for TypeScript users).
//!
//! Protocol (shared/spec/protocols.md, section A): `POST /` with one JSON command
//! array, `POST /pipeline` and `POST /multi-exec` with an array of them; answers
//! `{"result": ..}` / `{"error": ".."}` per command, `Upstash-Encoding: base64`
//! encodes every result string except a top-level `"OK"`. The path-style command
//! forms, SSE subscribe and `/monitor` of the real service are not offered (no
//! client of ours uses them); commands that would change or take over the
//! connection (MULTI, SUBSCRIBE, SELECT, ...) are refused.
//!
//! Redis is reached through a small hand-written RESP2 connection ([`resp`]) rather
//! than the `redis` crate: in `redis` 0.27 a pipeline or transaction fails as a whole
//! with its first error, while this bridge must answer every entry with its own
//! result or exact error text (`NOSCRIPT No matching script. Please use EVAL.`)
//! and report a discarded transaction (EXECABORT) with the error that caused it.
//!
//! Upstash-only script flags ([`script_flags`]): `#!lua flags=allow-key-locking` is
//! removed before EVAL / SCRIPT LOAD, and EVALSHA of the flagged text's SHA-1 is
//! mapped to the SHA-1 of what Redis runs.
//!
//! Nothing secret is logged: not the token, not the Redis URL, not command arguments.

mod resp;
mod script_flags;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use bytes::Bytes;
use http::{header, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};

use resp::{Frame, RawCommand, RedisPool, RedisTarget};
use script_flags::ScriptShas;

/// Largest request body accepted (Upstash's own limit is in the same range).
const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

pub struct BridgeConfig {
    /// Redis to execute commands on, e.g. `redis://127.0.0.1:6379`.
    pub redis_url: String,
    /// Bearer token clients must present (the `UPSTASH_REDIS_REST_TOKEN` of the bridge).
    pub token: String,
    /// Slept before answering each request, to simulate the distance to Upstash.
    pub latency: Duration,
}

impl std::fmt::Debug for BridgeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BridgeConfig")
            .field("redis_url", &"***")
            .field("token", &"***")
            .field("latency", &self.latency)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BridgeError {
    #[error("invalid Redis URL: {0}")]
    InvalidRedisUrl(String),
    #[error("bridge listener: {0}")]
    Io(#[from] std::io::Error),
}

/// A running bridge. Dropping it (or [`Bridge::stop`]) stops accepting and closes
/// open connections; [`Bridge::shutdown`] also waits until that is done.
pub struct Bridge {
    local_addr: SocketAddr,
    shared: Arc<Shared>,
    /// Dropping the sender tells the server task to stop.
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Bridge {
    /// Starts serving on `listener` in a spawned task and returns at once (Redis is
    /// connected lazily, on the first command).
    pub async fn start(listener: TcpListener, config: BridgeConfig) -> Result<Bridge, BridgeError> {
        let target = RedisTarget::parse(&config.redis_url).map_err(BridgeError::InvalidRedisUrl)?;
        let local_addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            token: config.token,
            requests: AtomicU64::new(0),
            commands: AtomicU64::new(0),
            latency_nanos: AtomicU64::new(duration_nanos(config.latency)),
            redis: RedisPool::new(target),
            scripts: ScriptShas::default(),
        });
        let (stop_tx, stop_rx) = oneshot::channel();
        let task = tokio::spawn(serve(listener, Arc::clone(&shared), stop_rx));
        Ok(Bridge {
            local_addr,
            shared,
            stop: Some(stop_tx),
            task: Some(task),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The REST base URL, e.g. `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.local_addr)
    }

    /// Changes the simulated latency for the following requests.
    pub fn set_latency(&self, latency: Duration) {
        self.shared
            .latency_nanos
            .store(duration_nanos(latency), Ordering::Relaxed);
    }

    /// Stops without waiting (the same as dropping the bridge).
    pub fn stop(self) {}

    /// `(requests, commands)` this bridge has executed so far.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.shared.requests.load(Ordering::Relaxed),
            self.shared.commands.load(Ordering::Relaxed),
        )
    }

    /// Stops and waits until the port is closed and every connection is dropped.
    pub async fn shutdown(mut self) {
        self.stop.take();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        // Dropping `stop` wakes the server task, which closes the listener and
        // aborts the connection tasks.
        self.stop.take();
    }
}

fn duration_nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

struct Shared {
    token: String,
    /// HTTP requests answered and Redis commands they carried (for benchmarks).
    requests: AtomicU64,
    commands: AtomicU64,
    latency_nanos: AtomicU64,
    redis: RedisPool,
    scripts: ScriptShas,
}

async fn serve(listener: TcpListener, shared: Arc<Shared>, mut stop: oneshot::Receiver<()>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let shared = Arc::clone(&shared);
                    connections.spawn(async move {
                        let service = service_fn(move |req| handle(Arc::clone(&shared), req));
                        if let Err(err) = http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await
                        {
                            tracing::debug!(error = %err, "bridge connection ended with an error");
                        }
                    });
                }
                Err(err) => {
                    // E.g. out of file descriptors: back off instead of spinning.
                    tracing::warn!(error = %err, "bridge could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    connections.shutdown().await;
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Route {
    Single,
    Pipeline,
    MultiExec,
}

async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let latency = Duration::from_nanos(shared.latency_nanos.load(Ordering::Relaxed));
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let route = req.uri().path().to_owned();
    let response = answer(&shared, req).await;
    tracing::debug!(route, status = response.status().as_u16(), "bridge request");
    Ok(response)
}

async fn answer(shared: &Shared, req: Request<Incoming>) -> Response<Full<Bytes>> {
    if req.method() != Method::POST && req.method() != Method::PUT {
        return error_response(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
    }
    if !authorized(&req, &shared.token) {
        return error_response(StatusCode::UNAUTHORIZED, "Unauthorized");
    }
    let route = match req.uri().path() {
        "/" | "" => Route::Single,
        "/pipeline" => Route::Pipeline,
        "/multi-exec" => Route::MultiExec,
        _ => {
            return error_response(
                StatusCode::NOT_FOUND,
                "ERR this bridge serves POST /, /pipeline and /multi-exec only",
            )
        }
    };
    let base64 = req
        .headers()
        .get("upstash-encoding")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"base64"));
    let body = match Limited::new(req.into_body(), MAX_BODY_BYTES)
        .collect()
        .await
    {
        Ok(body) => body.to_bytes(),
        Err(err) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                &format!("ERR could not read the request body: {err}"),
            )
        }
    };
    let body: Value = match serde_json::from_slice(&body) {
        Ok(body) => body,
        Err(err) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                &format!("ERR the request body is not valid JSON: {err}"),
            )
        }
    };
    let result = match route {
        Route::Single => parse_command(&body).map(|cmd| vec![cmd]),
        Route::Pipeline | Route::MultiExec => parse_commands(&body),
    };
    let commands = match result {
        Ok(commands) => {
            shared.requests.fetch_add(1, Ordering::Relaxed);
            shared
                .commands
                .fetch_add(commands.len() as u64, Ordering::Relaxed);
            commands
        }
        Err(message) => return error_response(StatusCode::BAD_REQUEST, &message),
    };
    let executed = match route {
        Route::Single => run_single(shared, commands, base64).await,
        Route::Pipeline => run_pipeline(shared, commands, base64).await,
        Route::MultiExec => run_multi_exec(shared, commands, base64).await,
    };
    executed.unwrap_or_else(|err| {
        tracing::warn!(error = %err, "bridge could not talk to Redis");
        error_response(
            StatusCode::BAD_GATEWAY,
            &format!("ERR the bridge could not reach Redis: {err}"),
        )
    })
}

/// `Authorization: Bearer <token>` or `?_token=<token>`.
fn authorized(req: &Request<Incoming>, token: &str) -> bool {
    let from_header = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let from_query = || {
        url::form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
            .find(|(name, _)| name == "_token")
            .map(|(_, value)| value.into_owned())
    };
    from_header
        .or_else(from_query)
        .is_some_and(|presented| constant_time_eq(presented.as_bytes(), token.as_bytes()))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn parse_commands(body: &Value) -> Result<Vec<RawCommand>, String> {
    match body {
        Value::Array(cmds) if !cmds.is_empty() => cmds.iter().map(parse_command).collect(),
        Value::Array(_) => Err("ERR the pipeline is empty".to_owned()),
        _ => Err("ERR the body must be a JSON array of command arrays".to_owned()),
    }
}

/// JSON strings as they are, numbers as their decimal text, booleans as `true`/`false`.
fn parse_command(cmd: &Value) -> Result<RawCommand, String> {
    let args = match cmd {
        Value::Array(args) if !args.is_empty() => args,
        _ => return Err("ERR a command must be a non-empty JSON array".to_owned()),
    };
    args.iter()
        .enumerate()
        .map(|(i, arg)| match arg {
            Value::String(s) => Ok(s.clone().into_bytes()),
            Value::Number(n) => Ok(n.to_string().into_bytes()),
            Value::Bool(b) => Ok(b.to_string().into_bytes()),
            _ => Err(format!(
                "ERR argument {i} must be a string, number or boolean, got {arg}"
            )),
        })
        .collect()
}

/// Commands that would take over or change the state of a pooled connection.
const REFUSED_COMMANDS: &[&str] = &[
    "multi",
    "exec",
    "discard",
    "watch",
    "unwatch",
    "select",
    "swapdb",
    "auth",
    "hello",
    "reset",
    "quit",
    "client",
    "subscribe",
    "psubscribe",
    "ssubscribe",
    "unsubscribe",
    "punsubscribe",
    "sunsubscribe",
    "monitor",
    "sync",
    "psync",
    "blpop",
    "brpop",
    "blmove",
    "brpoplpush",
    "blmpop",
    "bzpopmin",
    "bzpopmax",
    "bzmpop",
    "xread",
    "xreadgroup",
    "wait",
    "waitaof",
];

/// A command ready for Redis, and how to present its reply.
struct Prepared {
    command: RawCommand,
    /// SCRIPT LOAD answers the SHA-1 of the text the client sent, as Upstash would.
    sha_reply: Option<String>,
}

/// Refuses connection-changing commands and rewrites scripts for stock Redis.
fn prepare(shared: &Shared, mut command: RawCommand) -> Result<Prepared, String> {
    let name = String::from_utf8_lossy(&command[0]).to_ascii_lowercase();
    if REFUSED_COMMANDS.contains(&name.as_str()) {
        return Err(format!("ERR Command is not allowed by the bridge: {name}"));
    }
    let mut sha_reply = None;
    match name.as_str() {
        "eval" | "eval_ro" if command.len() > 1 => {
            if let Some(source) = shared.scripts.runnable_source(&command[1]) {
                command[1] = source;
            }
        }
        "evalsha" | "evalsha_ro" if command.len() > 1 => {
            if let Some(sha) = shared.scripts.redis_sha(&command[1]) {
                command[1] = sha;
            }
        }
        "script" if command.len() > 2 => {
            let sub = String::from_utf8_lossy(&command[1]).to_ascii_lowercase();
            if sub == "load" {
                if let Some(source) = shared.scripts.runnable_source(&command[2]) {
                    sha_reply = Some(script_flags::sha1_hex(&command[2]));
                    command[2] = source;
                }
            } else if sub == "exists" {
                for sha in &mut command[2..] {
                    if let Some(redis_sha) = shared.scripts.redis_sha(sha) {
                        *sha = redis_sha;
                    }
                }
            }
        }
        _ => {}
    }
    Ok(Prepared { command, sha_reply })
}

/// `{"result": ..}` or `{"error": ".."}` for one command.
fn entry(frame: Frame, prepared: &Prepared, base64: bool) -> Value {
    match frame {
        Frame::Error(err) => json!({ "error": err }),
        Frame::Bulk(Some(_)) if prepared.sha_reply.is_some() => {
            let sha = prepared.sha_reply.clone().unwrap_or_default();
            json!({ "result": encode_reply(Frame::Bulk(Some(sha.into_bytes())), base64, true) })
        }
        frame => json!({ "result": encode_reply(frame, base64, true) }),
    }
}

/// The JSON of a reply: strings base64-encoded in base64 mode except a top-level "OK".
fn encode_reply(frame: Frame, base64: bool, top_level: bool) -> Value {
    let text = |bytes: Vec<u8>| {
        if base64 {
            Value::String(STANDARD.encode(bytes))
        } else {
            Value::String(String::from_utf8_lossy(&bytes).into_owned())
        }
    };
    match frame {
        Frame::Simple(s) if top_level && s == "OK" => Value::String(s),
        Frame::Simple(s) => text(s.into_bytes()),
        // An error nested in an array (e.g. from Lua) is passed on as its text.
        Frame::Error(e) => Value::String(e),
        Frame::Int(i) => Value::from(i),
        Frame::Bulk(None) | Frame::Array(None) => Value::Null,
        Frame::Bulk(Some(bytes)) => text(bytes),
        Frame::Array(Some(items)) => Value::Array(
            items
                .into_iter()
                .map(|item| encode_reply(item, base64, false))
                .collect(),
        ),
    }
}

type Answer = std::io::Result<Response<Full<Bytes>>>;

async fn run_single(shared: &Shared, commands: Vec<RawCommand>, base64: bool) -> Answer {
    let command = commands.into_iter().next().expect("one command");
    let prepared = match prepare(shared, command) {
        Ok(prepared) => prepared,
        Err(message) => return Ok(error_response(StatusCode::BAD_REQUEST, &message)),
    };
    let frame = shared
        .redis
        .exchange(std::slice::from_ref(&prepared.command))
        .await?
        .pop()
        .expect("one reply per command");
    let status = match frame {
        Frame::Error(_) => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    };
    Ok(json_response(status, &entry(frame, &prepared, base64)))
}

async fn run_pipeline(shared: &Shared, commands: Vec<RawCommand>, base64: bool) -> Answer {
    let prepared: Vec<Result<Prepared, String>> = commands
        .into_iter()
        .map(|cmd| prepare(shared, cmd))
        .collect();
    let to_send: Vec<RawCommand> = prepared
        .iter()
        .filter_map(|p| p.as_ref().ok().map(|p| p.command.clone()))
        .collect();
    let mut frames = if to_send.is_empty() {
        Vec::new()
    } else {
        shared.redis.exchange(&to_send).await?
    }
    .into_iter();
    let entries: Vec<Value> = prepared
        .iter()
        .map(|p| match p {
            Ok(p) => entry(frames.next().expect("one reply per command"), p, base64),
            Err(message) => json!({ "error": message }),
        })
        .collect();
    Ok(json_response(StatusCode::OK, &Value::Array(entries)))
}

async fn run_multi_exec(shared: &Shared, commands: Vec<RawCommand>, base64: bool) -> Answer {
    // Like Upstash, a transaction with a refused command is discarded as a whole.
    let prepared = match commands
        .into_iter()
        .map(|cmd| prepare(shared, cmd))
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(prepared) => prepared,
        Err(message) => return Ok(error_response(StatusCode::BAD_REQUEST, &message)),
    };
    let mut to_send = Vec::with_capacity(prepared.len() + 2);
    to_send.push(vec![b"MULTI".to_vec()]);
    to_send.extend(prepared.iter().map(|p| p.command.clone()));
    to_send.push(vec![b"EXEC".to_vec()]);
    let mut frames = shared.redis.exchange(&to_send).await?;
    let exec = frames.pop().expect("EXEC reply");
    let queue_error = frames.into_iter().find_map(|frame| match frame {
        Frame::Error(err) => Some(err),
        _ => None,
    });
    match exec {
        Frame::Array(Some(results)) if results.len() == prepared.len() => {
            let entries = results
                .into_iter()
                .zip(&prepared)
                .map(|(frame, p)| entry(frame, p, base64))
                .collect();
            Ok(json_response(StatusCode::OK, &Value::Array(entries)))
        }
        Frame::Error(err) => {
            let message = match queue_error {
                Some(cause) => format!("{err} ({cause})"),
                None => err,
            };
            Ok(error_response(StatusCode::BAD_REQUEST, &message))
        }
        _ => Ok(error_response(
            StatusCode::BAD_REQUEST,
            "ERR the transaction was not executed",
        )),
    }
}

fn json_response(status: StatusCode, body: &Value) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("a valid response")
}

fn error_response(status: StatusCode, message: &str) -> Response<Full<Bytes>> {
    json_response(status, &json!({ "error": message }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_arguments_become_redis_strings() {
        let cmd = parse_command(&json!(["set", "k", 10, 1.5, true, "{\"a\":1}"])).unwrap();
        let text: Vec<String> = cmd
            .into_iter()
            .map(|a| String::from_utf8(a).unwrap())
            .collect();
        assert_eq!(text, ["set", "k", "10", "1.5", "true", "{\"a\":1}"]);
    }

    #[test]
    fn null_and_nested_arguments_are_refused() {
        assert!(parse_command(&json!(["set", "k", null])).is_err());
        assert!(parse_command(&json!(["set", "k", {"a": 1}])).is_err());
        assert!(parse_command(&json!([])).is_err());
        assert!(parse_commands(&json!(["get", "k"])).is_err());
    }

    #[test]
    fn base64_mode_encodes_everything_but_a_top_level_ok() {
        assert_eq!(
            encode_reply(Frame::Simple("OK".into()), true, true),
            json!("OK")
        );
        assert_eq!(
            encode_reply(Frame::Simple("PONG".into()), true, true),
            json!("UE9ORw==")
        );
        assert_eq!(
            encode_reply(
                Frame::Array(Some(vec![
                    Frame::Simple("OK".into()),
                    Frame::Bulk(Some(b"bar".to_vec())),
                    Frame::Int(1),
                    Frame::Bulk(None),
                ])),
                true,
                true
            ),
            json!(["T0s=", "YmFy", 1, null])
        );
    }

    #[test]
    fn plain_mode_returns_text() {
        assert_eq!(
            encode_reply(Frame::Bulk(Some(b"bar".to_vec())), false, true),
            json!("bar")
        );
        assert_eq!(
            encode_reply(Frame::Simple("PONG".into()), false, true),
            json!("PONG")
        );
    }

    #[test]
    fn tokens_compare_by_content_and_length() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
