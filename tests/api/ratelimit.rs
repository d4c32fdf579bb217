//! Rate limiting against the Upstash-compatible bridge and a real Redis, reproducing
//! the worked examples of protocols.md B.10 (recorded from @upstash/ratelimit 2.2.0)
//! with the same pinned clock: same keys, counters, TTLs and results. Each test has
//! its own bridge and key prefix.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use enghub::dev::bridge::{Bridge, BridgeConfig};
use enghub::ratelimit::{Algorithm, Decision, EphemeralBlocks, Limiter, RateLimitError};
use enghub::upstash::{Command, UpstashClient, UpstashError};

const TOKEN: &str = "ratelimit-test-token";

/// PTTL is read right after the call; allow for the time the read itself takes.
const PTTL_TOLERANCE_MS: i64 = 1_000;

struct TestRedis {
    bridge: Bridge,
    client: UpstashClient,
    exchanges: Arc<AtomicUsize>,
    /// Unique per test; limiters put their keys under it.
    prefix: String,
}

impl TestRedis {
    async fn start() -> Self {
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
        let client = UpstashClient::new(
            reqwest::Client::new(),
            &bridge.url(),
            TOKEN,
            Duration::from_secs(5),
        )
        .with_observer({
            let exchanges = Arc::clone(&exchanges);
            Arc::new(move |_| {
                exchanges.fetch_add(1, Ordering::SeqCst);
            })
        });
        Self {
            bridge,
            client,
            exchanges,
            prefix: format!("test:ratelimit:{:016x}", rand::random::<u64>()),
        }
    }

    fn exchanges(&self) -> usize {
        self.exchanges.load(Ordering::SeqCst)
    }

    /// The counter as stored: a plain integer string, as INCRBY leaves it.
    async fn counter(&self, key: &str) -> Option<String> {
        self.client
            .command(&Command::new("get").arg(key))
            .await
            .unwrap()
            .into_string()
    }

    async fn pttl(&self, key: &str) -> i64 {
        self.client
            .command(&Command::new("pttl").arg(key))
            .await
            .unwrap()
            .as_int()
            .unwrap()
    }

    async fn assert_counter(&self, key: &str, expected: i64) {
        assert_eq!(
            self.counter(key).await.as_deref(),
            Some(expected.to_string().as_str()),
            "counter {key}"
        );
    }

    /// A TTL set by this call's first increment: `window` from now, give or take the read.
    async fn assert_fresh_ttl(&self, key: &str, ttl_ms: i64) {
        let pttl = self.pttl(key).await;
        assert!(
            pttl <= ttl_ms && pttl > ttl_ms - PTTL_TOLERANCE_MS,
            "PTTL of {key} is {pttl}, expected about {ttl_ms}"
        );
    }

    async fn cleanup(&self) {
        let keys = self
            .client
            .command(&Command::new("keys").arg(format!("{}*", self.prefix)))
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

fn decision(success: bool, limit: u32, remaining: u32, reset_ms: u64) -> Decision {
    Decision {
        success,
        limit,
        remaining,
        reset_ms,
    }
}

/// What a request handler does with the block cache on: ask it first, Redis otherwise,
/// and remember rejections.
async fn limit_with_blocks(
    t: &TestRedis,
    blocks: &EphemeralBlocks,
    limiter: &Limiter,
    identifier: &str,
    now_ms: u64,
) -> Decision {
    if let Some(blocked) = blocks.blocked(limiter, identifier, now_ms) {
        return blocked;
    }
    let decision = limiter.limit(&t.client, identifier, now_ms).await.unwrap();
    blocks.record(limiter, identifier, &decision);
    decision
}

#[tokio::test]
async fn fixed_window_counts_every_call_and_rejects_past_the_limit_fw1() {
    let t = TestRedis::start().await;
    let limiter = Limiter::new(
        t.prefix.clone(),
        Algorithm::FixedWindow {
            tokens: 3,
            window_ms: 10_000,
        },
    );
    let key = format!("{}:user1:170000000", t.prefix);
    let next_key = format!("{}:user1:170000001", t.prefix);
    let reset = 1_700_000_010_000;

    let first = limiter
        .limit(&t.client, "user1", 1_700_000_003_000)
        .await
        .unwrap();
    assert_eq!(limiter.keys("user1", 1_700_000_003_000), [key.as_str()]);
    assert_eq!(first, decision(true, 3, 2, reset));
    t.assert_counter(&key, 1).await;
    t.assert_fresh_ttl(&key, 10_000).await;

    let steps = [
        (1_700_000_004_000, decision(true, 3, 1, reset), 2),
        (1_700_000_005_000, decision(true, 3, 0, reset), 3),
        (1_700_000_006_000, decision(false, 3, 0, reset), 4),
    ];
    for (now, expected, counter_after) in steps {
        let got = limiter.limit(&t.client, "user1", now).await.unwrap();
        assert_eq!(got, expected, "at {now}");
        t.assert_counter(&key, counter_after).await;
    }

    let next_window = limiter
        .limit(&t.client, "user1", 1_700_000_010_000)
        .await
        .unwrap();
    assert_eq!(next_window, decision(true, 3, 2, 1_700_000_020_000));
    t.assert_counter(&next_key, 1).await;
    t.assert_fresh_ttl(&next_key, 10_000).await;
    t.assert_counter(&key, 4).await;
    t.cleanup().await;
}

#[tokio::test]
async fn block_cache_rejects_without_redis_until_reset_inclusive_fw3() {
    let t = TestRedis::start().await;
    let prefix = format!("{}:rl", t.prefix);
    let limiter = Limiter::new(
        prefix.clone(),
        Algorithm::FixedWindow {
            tokens: 2,
            window_ms: 30_000,
        },
    );
    let blocks = EphemeralBlocks::default();
    let key = format!("{prefix}:10.0.0.1:56666667");
    let next_key = format!("{prefix}:10.0.0.1:56666668");
    let reset = 1_700_000_040_000;

    let redis_steps = [
        (1_700_000_015_500, decision(true, 2, 1, reset), 1),
        (1_700_000_016_000, decision(true, 2, 0, reset), 2),
        (1_700_000_017_000, decision(false, 2, 0, reset), 3),
    ];
    for (now, expected, counter_after) in redis_steps {
        let got = limit_with_blocks(&t, &blocks, &limiter, "10.0.0.1", now).await;
        assert_eq!(got, expected, "at {now}");
        t.assert_counter(&key, counter_after).await;
    }

    let exchanges_before = t.exchanges();
    for now in [1_700_000_017_100, 1_700_000_040_000] {
        let got = limit_with_blocks(&t, &blocks, &limiter, "10.0.0.1", now).await;
        assert_eq!(got, decision(false, 2, 0, reset), "at {now}");
    }
    assert_eq!(t.exchanges(), exchanges_before, "blocked calls stay local");
    t.assert_counter(&key, 3).await;

    let after_reset = limit_with_blocks(&t, &blocks, &limiter, "10.0.0.1", 1_700_000_040_001).await;
    assert_eq!(after_reset, decision(true, 2, 1, 1_700_000_070_000));
    t.assert_counter(&next_key, 1).await;
    t.assert_fresh_ttl(&next_key, 30_000).await;
    t.cleanup().await;
}

#[tokio::test]
async fn sliding_window_weights_the_previous_bucket_sw1() {
    let t = TestRedis::start().await;
    let limiter = Limiter::new(
        t.prefix.clone(),
        Algorithm::SlidingWindow {
            tokens: 10,
            window_ms: 60_000,
        },
    );
    let key_28333333 = format!("{}:user1:28333333", t.prefix);
    let key_28333334 = format!("{}:user1:28333334", t.prefix);
    let key_28333335 = format!("{}:user1:28333335", t.prefix);

    for i in 0..8_u32 {
        let now = 1_700_000_000_000 + u64::from(i);
        let got = limiter.limit(&t.client, "user1", now).await.unwrap();
        assert_eq!(
            got,
            decision(true, 10, 9 - i, 1_700_000_040_000),
            "call {i}"
        );
        t.assert_counter(&key_28333333, i64::from(i) + 1).await;
        if i == 0 {
            t.assert_fresh_ttl(&key_28333333, 121_000).await;
        }
    }

    // (now, remaining, current counter after): pw = 6 at 15000 ms into the window, 5 one ms later.
    let steps = [
        (1_700_000_055_000, 3, 1),
        (1_700_000_055_001, 3, 2),
        (1_700_000_055_002, 2, 3),
        (1_700_000_055_003, 1, 4),
        (1_700_000_055_004, 0, 5),
        (1_700_000_085_000, 2, 6),
    ];
    for (now, remaining, counter_after) in steps {
        assert_eq!(
            limiter.keys("user1", now),
            [key_28333334.as_str(), key_28333333.as_str()]
        );
        let got = limiter.limit(&t.client, "user1", now).await.unwrap();
        assert_eq!(
            got,
            decision(true, 10, remaining, 1_700_000_100_000),
            "at {now}"
        );
        t.assert_counter(&key_28333334, counter_after).await;
        if counter_after == 1 {
            t.assert_fresh_ttl(&key_28333334, 121_000).await;
        }
    }

    let next_window = limiter
        .limit(&t.client, "user1", 1_700_000_100_000)
        .await
        .unwrap();
    assert_eq!(next_window, decision(true, 10, 3, 1_700_000_160_000));
    t.assert_counter(&key_28333335, 1).await;
    t.assert_fresh_ttl(&key_28333335, 121_000).await;
    t.cleanup().await;
}

#[tokio::test]
async fn sliding_window_rejects_without_counting_sw3() {
    let t = TestRedis::start().await;
    let prefix = format!("{}:api", t.prefix);
    let limiter = Limiter::new(
        prefix.clone(),
        Algorithm::SlidingWindow {
            tokens: 4,
            window_ms: 1_000,
        },
    );
    let key_1700000000 = format!("{prefix}:k:1700000000");
    let key_1700000001 = format!("{prefix}:k:1700000001");
    let key_1700000002 = format!("{prefix}:k:1700000002");

    for (i, now) in [
        1_700_000_000_100,
        1_700_000_000_200,
        1_700_000_000_300,
        1_700_000_000_400,
    ]
    .into_iter()
    .enumerate()
    {
        let i = u32::try_from(i).unwrap();
        let got = limiter.limit(&t.client, "k", now).await.unwrap();
        assert_eq!(got, decision(true, 4, 3 - i, 1_700_000_001_000), "at {now}");
        t.assert_counter(&key_1700000000, i64::from(i) + 1).await;
        if i == 0 {
            t.assert_fresh_ttl(&key_1700000000, 3_000).await;
        }
    }

    let full = limiter
        .limit(&t.client, "k", 1_700_000_000_500)
        .await
        .unwrap();
    assert_eq!(full, decision(false, 4, 0, 1_700_000_001_000));
    t.assert_counter(&key_1700000000, 4).await;

    let whole_previous_weight = limiter
        .limit(&t.client, "k", 1_700_000_001_000)
        .await
        .unwrap();
    assert_eq!(
        limiter.keys("k", 1_700_000_001_000),
        [key_1700000001.as_str(), key_1700000000.as_str()]
    );
    assert_eq!(
        whole_previous_weight,
        decision(false, 4, 0, 1_700_000_002_000)
    );
    assert_eq!(t.counter(&key_1700000001).await, None, "nothing counted");

    for (i, now) in [
        1_700_000_001_250,
        1_700_000_001_500,
        1_700_000_001_750,
        1_700_000_001_999,
    ]
    .into_iter()
    .enumerate()
    {
        let got = limiter.limit(&t.client, "k", now).await.unwrap();
        assert_eq!(got, decision(true, 4, 0, 1_700_000_002_000), "at {now}");
        t.assert_counter(&key_1700000001, i64::try_from(i).unwrap() + 1)
            .await;
        if i == 0 {
            t.assert_fresh_ttl(&key_1700000001, 3_000).await;
        }
    }

    let next_window = limiter
        .limit(&t.client, "k", 1_700_000_002_000)
        .await
        .unwrap();
    assert_eq!(next_window, decision(false, 4, 0, 1_700_000_003_000));
    assert_eq!(t.counter(&key_1700000002).await, None, "nothing counted");
    t.cleanup().await;
}

#[tokio::test]
async fn tiers_count_under_the_original_key_prefixes() {
    let t = TestRedis::start().await;
    let now = 1_700_000_100_000;
    let cases = [
        (
            Limiter::general(&t.prefix),
            "rl:general",
            28_333_335,
            121_000,
        ),
        (
            Limiter::mutation(&t.prefix),
            "rl:mutation",
            28_333_335,
            121_000,
        ),
        (Limiter::strict(&t.prefix), "rl:strict", 5_666_667, 300_000),
    ];

    for (limiter, tier, bucket, ttl) in cases {
        let got = limiter.limit(&t.client, "user_1", now).await.unwrap();
        let key = format!("{}:{tier}:user_1:{bucket}", t.prefix);

        assert!(got.success, "{tier}");
        assert_eq!(got.remaining, limiter.algorithm().tokens() - 1, "{tier}");
        t.assert_counter(&key, 1).await;
        t.assert_fresh_ttl(&key, ttl).await;
    }
    t.cleanup().await;
}

#[tokio::test]
async fn a_rejected_strict_call_says_how_many_seconds_to_wait() {
    let t = TestRedis::start().await;
    let limiter = Limiter::strict(&t.prefix);
    // Window 5666667 = [1_700_000_100_000, 1_700_000_400_000).
    for now in [1_700_000_100_000, 1_700_000_200_000, 1_700_000_250_000] {
        assert!(
            limiter
                .limit(&t.client, "user_1", now)
                .await
                .unwrap()
                .success
        );
    }

    let now = 1_700_000_250_500;
    let rejected = limiter.limit(&t.client, "user_1", now).await.unwrap();

    assert_eq!(rejected, decision(false, 3, 0, 1_700_000_400_000));
    assert_eq!(
        rejected.message(now),
        "Rate limit exceeded. Try again in 150s."
    );
    t.cleanup().await;
}

#[tokio::test]
async fn a_stopped_bridge_is_an_upstash_transport_error() {
    let t = TestRedis::start().await;
    let limiter = Limiter::general(&t.prefix);
    let client = t.client.clone();

    t.bridge.shutdown().await;
    let err = limiter
        .limit(&client, "user_1", 1_700_000_000_000)
        .await
        .unwrap_err();

    assert!(
        matches!(err, RateLimitError::Upstash(UpstashError::Transport(_))),
        "{err:?}"
    );
}

#[tokio::test]
async fn the_check_shares_one_round_trip_with_a_cache_read() {
    let t = TestRedis::start().await;
    let limiter = Limiter::general(&t.prefix);
    let now = 1_700_000_100_000;
    let cache_key = format!("{}:department:all", t.prefix);
    t.client
        .command(&Command::new("set").arg(&cache_key).arg(r#"[{"id":"d1"}]"#))
        .await
        .unwrap();
    // The bridge learns the script on its first EVAL; later calls are EVALSHA only.
    limiter.limit(&t.client, "warm-up", now).await.unwrap();
    let exchanges_before = t.exchanges();

    let results = t
        .client
        .pipeline(&[
            limiter.command("user_1", now),
            Command::new("get").arg(&cache_key),
        ])
        .await
        .unwrap();

    assert_eq!(t.exchanges() - exchanges_before, 1);
    let check = results[0].as_ref().unwrap();
    assert_eq!(
        limiter.decision(check, now).unwrap(),
        decision(true, 100, 99, 1_700_000_160_000)
    );
    assert_eq!(
        results[1].as_ref().unwrap().as_str(),
        Some(r#"[{"id":"d1"}]"#)
    );
    t.cleanup().await;
}
