//! The Upstash client against the Upstash-compatible bridge in front of a real Redis:
//! real HTTP, real Redis, no mocks. Each test starts its own bridge on a free port
//! and uses its own key prefix, so tests can run in parallel on one Redis.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use enghub::dev::bridge::{Bridge, BridgeConfig};
use enghub::upstash::{Command, RedisError, Reply, Script, UpstashClient, UpstashError};
use serde_json::{json, Value};

const TOKEN: &str = "bridge-test-token";

struct TestBridge {
    bridge: Bridge,
    /// Reports every HTTP exchange to `exchanges`.
    client: UpstashClient,
    exchanges: Arc<AtomicUsize>,
    elapsed: Arc<Mutex<Vec<Duration>>>,
    prefix: String,
}

impl TestBridge {
    async fn start() -> Self {
        Self::start_with_timeout(Duration::from_secs(5)).await
    }

    async fn start_with_timeout(timeout: Duration) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let redis_url =
            std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
        let bridge = Bridge::start(
            listener,
            BridgeConfig {
                redis_url,
                token: TOKEN.to_owned(),
                latency: Duration::ZERO,
            },
        )
        .await
        .unwrap();
        let exchanges = Arc::new(AtomicUsize::new(0));
        let elapsed = Arc::new(Mutex::new(Vec::new()));
        let client = UpstashClient::new(reqwest::Client::new(), &bridge.url(), TOKEN, timeout)
            .with_observer({
                let exchanges = Arc::clone(&exchanges);
                let elapsed = Arc::clone(&elapsed);
                Arc::new(move |d| {
                    exchanges.fetch_add(1, Ordering::SeqCst);
                    elapsed.lock().unwrap().push(d);
                })
            });
        Self {
            bridge,
            client,
            exchanges,
            elapsed,
            prefix: format!("test:upstash:{:016x}", rand::random::<u64>()),
        }
    }

    fn key(&self, name: &str) -> String {
        format!("{}:{name}", self.prefix)
    }

    fn exchanges(&self) -> usize {
        self.exchanges.load(Ordering::SeqCst)
    }

    /// A script no other test (or earlier run) has loaded into Redis.
    fn fresh_script(&self, body: &str) -> Script {
        Script::new(format!("-- {}\n{body}", self.prefix))
    }

    /// A raw HTTP POST to the bridge, for checking the wire format itself.
    async fn post(&self, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, Value) {
        let mut request = reqwest::Client::new()
            .post(format!("{}{path}", self.bridge.url()))
            .body(body.to_owned());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, body)
    }

    async fn cleanup(&self) {
        let keys = self
            .client
            .command(&Command::new("keys").arg(format!("{}:*", self.prefix)))
            .await
            .unwrap()
            .into_array()
            .unwrap();
        if !keys.is_empty() {
            let keys = keys.into_iter().map(|k| k.into_string().unwrap());
            self.client
                .command(&Command::new("del").args(keys))
                .await
                .unwrap();
        }
    }
}

fn text(reply: &Reply) -> &str {
    reply
        .as_str()
        .unwrap_or_else(|| panic!("not text: {reply:?}"))
}

#[tokio::test]
async fn set_then_get_round_trips_json_text() {
    let t = TestBridge::start().await;
    let key = t.key("json");
    let value = r#"{"a":1,"b":[true,null],"s":"quote \" and ünïcode"}"#;

    let set = t
        .client
        .command(
            &Command::new("set")
                .arg(&key)
                .arg(value)
                .arg("ex")
                .arg(60_i64),
        )
        .await
        .unwrap();
    let got = t
        .client
        .command(&Command::new("get").arg(&key))
        .await
        .unwrap();
    let missing = t
        .client
        .command(&Command::new("get").arg(t.key("missing")))
        .await
        .unwrap();

    assert_eq!(text(&set), "OK");
    assert_eq!(text(&got), value);
    assert!(missing.is_nil());
    t.cleanup().await;
}

#[tokio::test]
async fn numbers_are_stored_as_their_decimal_text() {
    let t = TestBridge::start().await;
    let key = t.key("num");

    t.client
        .command(&Command::new("set").arg(&key).arg(42_i64))
        .await
        .unwrap();
    let incremented = t
        .client
        .command(&Command::new("incr").arg(&key))
        .await
        .unwrap();
    let got = t
        .client
        .command(&Command::new("get").arg(&key))
        .await
        .unwrap();

    assert_eq!(incremented, Reply::Int(43));
    assert_eq!(text(&got), "43");
    t.cleanup().await;
}

#[tokio::test]
async fn base64_mode_encodes_every_string_but_a_top_level_ok() {
    let t = TestBridge::start().await;
    let key = t.key("b64");
    let auth = format!("Bearer {TOKEN}");
    let base64 = [
        ("Authorization", auth.as_str()),
        ("Upstash-Encoding", "base64"),
    ];
    let plain = [("Authorization", auth.as_str())];

    let set = t
        .post("/", &base64, &json!(["set", key, "bar"]).to_string())
        .await;
    let get = t.post("/", &base64, &json!(["get", key]).to_string()).await;
    let ping = t.post("/", &base64, r#"["ping"]"#).await;
    let pipeline = t
        .post(
            "/pipeline",
            &base64,
            &json!([["set", key, 1], ["get", key], ["mget", key, "nope"]]).to_string(),
        )
        .await;
    let plain_get = t.post("/", &plain, &json!(["get", key]).to_string()).await;
    let plain_ping = t.post("/", &plain, r#"["ping"]"#).await;

    assert_eq!(set, (200, json!({"result": "OK"})));
    assert_eq!(get, (200, json!({"result": STANDARD.encode("bar")})));
    assert_eq!(ping, (200, json!({"result": "UE9ORw=="})));
    assert_eq!(
        pipeline,
        (
            200,
            json!([{"result": "OK"}, {"result": "MQ=="}, {"result": ["MQ==", null]}])
        )
    );
    assert_eq!(plain_get, (200, json!({"result": "1"})));
    assert_eq!(plain_ping, (200, json!({"result": "PONG"})));
    // And the client decodes what the bridge encodes.
    let pong = t.client.command(&Command::new("ping")).await.unwrap();
    assert_eq!(text(&pong), "PONG");
    t.cleanup().await;
}

#[tokio::test]
async fn the_bridge_checks_token_method_and_body() {
    let t = TestBridge::start().await;
    let auth = format!("Bearer {TOKEN}");

    let query_token = t
        .post(&format!("/?_token={TOKEN}"), &[], r#"["ping"]"#)
        .await;
    let no_token = t.post("/", &[], r#"["ping"]"#).await;
    let bad_json = t.post("/", &[("Authorization", &auth)], "[\"ping\"").await;
    let null_arg = t
        .post("/", &[("Authorization", &auth)], r#"["set","k",null]"#)
        .await;
    let get = reqwest::Client::new()
        .get(t.bridge.url())
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();

    assert_eq!(query_token, (200, json!({"result": "PONG"})));
    assert_eq!(no_token, (401, json!({"error": "Unauthorized"})));
    assert_eq!(bad_json.0, 400);
    assert_eq!(null_arg.0, 400);
    assert_eq!(get.status().as_u16(), 405);
}

#[tokio::test]
async fn a_failing_pipeline_entry_does_not_stop_later_entries() {
    let t = TestBridge::start().await;
    let (text_key, counter) = (t.key("text"), t.key("counter"));

    let results = t
        .client
        .pipeline(&[
            Command::new("set").arg(&text_key).arg("abc"),
            Command::new("incr").arg(&text_key),
            Command::new("incr").arg(&counter),
            Command::new("get").arg(&counter),
        ])
        .await
        .unwrap();

    assert_eq!(
        results,
        vec![
            Ok(Reply::Bytes(b"OK".to_vec())),
            Err(RedisError(
                "ERR value is not an integer or out of range".to_owned()
            )),
            Ok(Reply::Int(1)),
            Ok(Reply::Bytes(b"1".to_vec())),
        ]
    );
    assert_eq!(t.exchanges(), 1);
    t.cleanup().await;
}

#[tokio::test]
async fn an_empty_pipeline_sends_nothing() {
    let t = TestBridge::start().await;

    assert_eq!(t.client.pipeline(&[]).await.unwrap(), vec![]);
    assert_eq!(t.client.multi_exec(&[]).await.unwrap(), vec![]);
    assert_eq!(t.exchanges(), 0);
}

#[tokio::test]
async fn multi_exec_runs_all_commands_in_one_transaction() {
    let t = TestBridge::start().await;
    let (counter, text_key) = (t.key("counter"), t.key("text"));

    let results = t
        .client
        .multi_exec(&[
            Command::new("set").arg(&counter).arg(1_i64),
            Command::new("incr").arg(&counter),
            Command::new("set").arg(&text_key).arg("abc"),
            Command::new("incr").arg(&text_key),
            Command::new("get").arg(&counter),
        ])
        .await
        .unwrap();

    // A command failing at run time fails alone, as in Redis's MULTI/EXEC.
    assert_eq!(
        results,
        vec![
            Ok(Reply::Bytes(b"OK".to_vec())),
            Ok(Reply::Int(2)),
            Ok(Reply::Bytes(b"OK".to_vec())),
            Err(RedisError(
                "ERR value is not an integer or out of range".to_owned()
            )),
            Ok(Reply::Bytes(b"2".to_vec())),
        ]
    );
    t.cleanup().await;
}

#[tokio::test]
async fn a_transaction_redis_discards_applies_nothing_and_is_an_http_error() {
    let t = TestBridge::start().await;
    let key = t.key("discarded");

    let err = t
        .client
        .multi_exec(&[
            Command::new("set").arg(&key).arg("1"),
            Command::new("incr"), // wrong number of arguments: refused when queued
        ])
        .await
        .unwrap_err();
    let after = t
        .client
        .command(&Command::new("get").arg(&key))
        .await
        .unwrap();

    match err {
        UpstashError::Http {
            status: 400,
            message,
        } => {
            assert!(message.starts_with("EXECABORT"), "{message}");
            assert!(message.contains("wrong number of arguments"), "{message}");
        }
        other => panic!("expected HTTP 400, got {other:?}"),
    }
    assert!(after.is_nil());
}

#[tokio::test]
async fn evalsha_falls_back_to_eval_once_then_hits_the_cache() {
    let t = TestBridge::start().await;
    let script = t.fresh_script("return ARGV[1]");
    let cmd = Command::evalsha(&script, [t.key("k")], ["v"]);

    let first = t.client.command(&cmd).await.unwrap();
    let after_first = t.exchanges();
    let second = t.client.command(&cmd).await.unwrap();

    assert_eq!(text(&first), "v");
    assert_eq!(after_first, 2, "EVALSHA answered NOSCRIPT, then EVAL");
    assert_eq!(text(&second), "v");
    assert_eq!(t.exchanges(), 3, "the second EVALSHA needed no fallback");
}

#[tokio::test]
async fn pipeline_retries_only_the_unknown_scripts_in_one_more_request() {
    let t = TestBridge::start().await;
    let counter = t.key("counter");
    let script = t.fresh_script("return redis.call('incrby', KEYS[1], ARGV[1])");
    let no_args: [&str; 0] = [];
    let cmds = [
        Command::new("incr").arg(&counter),
        Command::evalsha(&script, [&counter], [10_i64]),
        Command::new("get").arg(&counter),
        Command::evalsha(&script, [&counter], [100_i64]),
        Command::evalsha(&Script::new("return 7"), no_args, no_args),
    ];

    let first = t.client.pipeline(&cmds).await.unwrap();
    let after_first = t.exchanges();
    let second = t.client.pipeline(&cmds).await.unwrap();

    assert_eq!(after_first, 2);
    // The scripts ran after the rest of the first request: their results are put
    // back in place, and `get` saw the counter before them.
    assert_eq!(first[0], Ok(Reply::Int(1)));
    assert_eq!(first[1], Ok(Reply::Int(11)));
    assert_eq!(first[2], Ok(Reply::Bytes(b"1".to_vec())));
    assert_eq!(first[3], Ok(Reply::Int(111)));
    assert_eq!(first[4], Ok(Reply::Int(7)));
    assert_eq!(t.exchanges(), 3);
    assert_eq!(
        second,
        vec![
            Ok(Reply::Int(112)),
            Ok(Reply::Int(122)),
            Ok(Reply::Bytes(b"122".to_vec())),
            Ok(Reply::Int(222)),
            Ok(Reply::Int(7)),
        ]
    );
    t.cleanup().await;
}

#[tokio::test]
async fn a_flagged_script_runs_by_evalsha_after_one_eval() {
    let t = TestBridge::start().await;
    let counter = t.key("counter");
    let script = Script::new(format!(
        "#!lua flags=allow-key-locking\n-- {}\nreturn redis.call('incr', KEYS[1])",
        t.prefix
    ));
    let no_args: [&str; 0] = [];
    let cmd = Command::evalsha(&script, [&counter], no_args);

    let first = t.client.command(&cmd).await.unwrap();
    let after_first = t.exchanges();
    let second = t.client.command(&cmd).await.unwrap();
    let in_transaction = t
        .client
        .multi_exec(std::slice::from_ref(&cmd))
        .await
        .unwrap();

    assert!(
        cmd.to_json().contains(script.sha()),
        "the client sends the flagged text's sha"
    );
    assert_eq!(first, Reply::Int(1));
    assert_eq!(after_first, 2);
    assert_eq!(second, Reply::Int(2));
    assert_eq!(
        t.exchanges(),
        4,
        "EVALSHA of the flagged sha succeeded at once"
    );
    assert_eq!(in_transaction, vec![Ok(Reply::Int(3))]);
    t.cleanup().await;
}

#[tokio::test]
async fn script_load_of_a_flagged_script_answers_the_flagged_sha() {
    let t = TestBridge::start().await;
    let script = Script::new(format!(
        "#!lua flags=allow-key-locking\n-- {}\nreturn 5",
        t.prefix
    ));
    let no_args: [&str; 0] = [];

    let loaded = t
        .client
        .command(&Command::new("script").arg("load").arg(script.source()))
        .await
        .unwrap();
    let ran = t
        .client
        .command(&Command::evalsha(&script, no_args, no_args))
        .await
        .unwrap();

    assert_eq!(text(&loaded), script.sha());
    assert_eq!(ran, Reply::Int(5));
    assert_eq!(t.exchanges(), 2, "no NOSCRIPT fallback was needed");
}

#[tokio::test]
async fn a_redis_error_on_a_single_command_is_a_redis_error() {
    let t = TestBridge::start().await;
    let key = t.key("text");
    t.client
        .command(&Command::new("set").arg(&key).arg("abc"))
        .await
        .unwrap();

    let err = t
        .client
        .command(&Command::new("incr").arg(&key))
        .await
        .unwrap_err();

    match err {
        UpstashError::Redis(RedisError(message)) => {
            assert_eq!(message, "ERR value is not an integer or out of range")
        }
        other => panic!("expected a Redis error, got {other:?}"),
    }
    t.cleanup().await;
}

#[tokio::test]
async fn a_wrong_token_is_http_401() {
    let t = TestBridge::start().await;
    let client = UpstashClient::new(
        reqwest::Client::new(),
        &t.bridge.url(),
        "wrong-token",
        Duration::from_secs(5),
    );

    let err = client.command(&Command::new("ping")).await.unwrap_err();

    assert!(
        matches!(&err, UpstashError::Http { status: 401, message } if message == "Unauthorized"),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_stopped_bridge_is_a_transport_error() {
    let t = TestBridge::start().await;
    // A kept-alive connection from this call must not outlive the bridge either.
    t.client.command(&Command::new("ping")).await.unwrap();
    let TestBridge {
        bridge,
        client,
        exchanges,
        ..
    } = t;

    bridge.shutdown().await;
    let err = client.command(&Command::new("ping")).await.unwrap_err();

    assert!(matches!(err, UpstashError::Transport(_)), "{err:?}");
    assert_eq!(
        exchanges.load(Ordering::SeqCst),
        2,
        "failures are observed too"
    );
}

#[tokio::test]
async fn a_bridge_slower_than_the_timeout_is_a_timeout() {
    let t = TestBridge::start_with_timeout(Duration::from_millis(100)).await;
    t.bridge.set_latency(Duration::from_millis(600));

    let err = t.client.command(&Command::new("ping")).await.unwrap_err();

    assert!(matches!(err, UpstashError::Timeout), "{err:?}");
    let elapsed = t.elapsed.lock().unwrap().clone();
    assert_eq!(elapsed.len(), 1);
    assert!(elapsed[0] >= Duration::from_millis(100) && elapsed[0] < Duration::from_millis(600));

    t.bridge.set_latency(Duration::ZERO);
    let pong = t.client.command(&Command::new("ping")).await.unwrap();
    assert_eq!(text(&pong), "PONG");
}

#[tokio::test]
async fn a_bridge_without_redis_answers_bad_gateway() {
    let closed_port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let bridge = Bridge::start(
        listener,
        BridgeConfig {
            redis_url: format!("redis://127.0.0.1:{closed_port}"),
            token: TOKEN.to_owned(),
            latency: Duration::ZERO,
        },
    )
    .await
    .unwrap();
    let client = UpstashClient::new(
        reqwest::Client::new(),
        &bridge.url(),
        TOKEN,
        Duration::from_secs(5),
    );

    let err = client.command(&Command::new("ping")).await.unwrap_err();

    assert!(
        matches!(&err, UpstashError::Http { status: 502, .. }),
        "{err:?}"
    );
}
