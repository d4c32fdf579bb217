//! Rate limiting with the keys, arithmetic and results of `@upstash/ratelimit` 2.2.0
//! (shared/spec/protocols.md, section B), so a TypeScript deployment and this one can
//! share one Upstash database and one budget per user.
//!
//! Owns: the three tiers of the original ([`Limiter::general`], [`Limiter::mutation`],
//! [`Limiter::strict`], procedures.md §1.4), the two Lua scripts, the interpretation of
//! their replies ([`Decision`]) and the per-instance block cache ([`EphemeralBlocks`]).
//! Does not own: the policy when Redis cannot be asked (a timeout or transport error is
//! returned as [`RateLimitError::Upstash`]; the caller allows or denies), nor the tRPC
//! error it becomes.
//!
//! Layout in Redis (identical to the library's):
//! - fixed window: `{prefix}:{identifier}:{floor(now / W)}`, a plain integer counter
//!   (INCRBY), `PEXPIRE W` on its first increment; rejected calls are counted too.
//! - sliding window: the same key for the current bucket plus the one of the bucket
//!   before; `PEXPIRE 2W + 1000` on the first increment; a rejected call increments
//!   nothing.
//!
//! A check is a command rather than a round trip ([`Limiter::command`] /
//! [`Limiter::decision`]) so a request can put it in the same pipeline as its cache
//! reads; [`Limiter::limit`] is the one-round-trip convenience.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::upstash::{Arg, Command, RedisError, Reply, Script, UpstashClient, UpstashError};

/// Fixed window. KEYS[1] = the current bucket's counter; ARGV = limit, window ms,
/// increment. Returns `{used, limit}`.
///
/// Written for this crate (the library's text differs, so does the SHA-1); the
/// behaviour is the library's. The shebang flag makes Upstash lock only KEYS instead
/// of the whole database; every key the script touches is therefore in KEYS.
const FIXED_WINDOW_LUA: &str = r#"#!lua flags=allow-key-locking
-- enghub fixed window (same semantics as @upstash/ratelimit 2.2.0 fixedWindow)
local counter = KEYS[1]
local limit = tonumber(ARGV[1])
local window_ms = tonumber(ARGV[2])
local increment = tonumber(ARGV[3])

local used = redis.call("INCRBY", counter, increment)
if used == increment then
  -- first write in this bucket: the counter lives one window from now
  redis.call("PEXPIRE", counter, window_ms)
end
return { used, limit }
"#;

/// Sliding window (two-bucket approximation). KEYS[1] = current bucket's counter,
/// KEYS[2] = previous bucket's counter; ARGV = limit, now ms, window ms, increment.
/// Returns `{limit - (used + weighted_previous), limit}`, or `{-1, limit}` when the
/// call is rejected (nothing is incremented then).
///
/// `now` comes from the caller rather than Redis `TIME` so results are reproducible,
/// and the weight is computed exactly as the library does, in doubles and in this
/// order: `floor((1 - (now % W) / W) * previous)` (a different order changes the
/// result at millisecond boundaries).
const SLIDING_WINDOW_LUA: &str = r#"#!lua flags=allow-key-locking
-- enghub sliding window (same semantics as @upstash/ratelimit 2.2.0 slidingWindow)
local current_counter = KEYS[1]
local previous_counter = KEYS[2]
local limit = tonumber(ARGV[1])
local now_ms = tonumber(ARGV[2])
local window_ms = tonumber(ARGV[3])
local increment = tonumber(ARGV[4])

local current = tonumber(redis.call("GET", current_counter) or "0")
local previous = tonumber(redis.call("GET", previous_counter) or "0")
local weighted_previous = math.floor((1 - (now_ms % window_ms) / window_ms) * previous)

if increment > 0 and weighted_previous + current >= limit then
  return { -1, limit }
end

local used = redis.call("INCRBY", current_counter, increment)
if used == increment then
  -- first write in this bucket: it must outlive the next bucket, where it is "previous"
  redis.call("PEXPIRE", current_counter, window_ms * 2 + 1000)
end
return { limit - (used + weighted_previous), limit }
"#;

static FIXED_WINDOW: LazyLock<Script> = LazyLock::new(|| Script::new(FIXED_WINDOW_LUA));
static SLIDING_WINDOW: LazyLock<Script> = LazyLock::new(|| Script::new(SLIDING_WINDOW_LUA));

/// Every check spends one token, like the original (which never passes `rate`).
const RATE: i64 = 1;

/// How many calls an identifier may make per window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Algorithm {
    /// The library's `slidingWindow(tokens, window)`: the previous bucket's count,
    /// weighted by how much of it still overlaps the last `window_ms`, plus the
    /// current bucket's count.
    SlidingWindow { tokens: u32, window_ms: u64 },
    /// The library's `fixedWindow(tokens, window)`: one counter per aligned window.
    FixedWindow { tokens: u32, window_ms: u64 },
}

impl Algorithm {
    pub fn tokens(&self) -> u32 {
        match *self {
            Algorithm::SlidingWindow { tokens, .. } | Algorithm::FixedWindow { tokens, .. } => {
                tokens
            }
        }
    }

    pub fn window_ms(&self) -> u64 {
        match *self {
            Algorithm::SlidingWindow { window_ms, .. }
            | Algorithm::FixedWindow { window_ms, .. } => window_ms,
        }
    }
}

/// One rate limit: a key prefix and an algorithm (the library's `new Ratelimit({prefix,
/// limiter})`). Cheap to clone.
///
/// ```
/// use enghub::ratelimit::{Algorithm, Limiter};
/// let limiter = Limiter::strict("enghub");
/// assert_eq!(limiter.prefix(), "enghub:rl:strict");
/// assert_eq!(
///     limiter.algorithm(),
///     Algorithm::FixedWindow { tokens: 3, window_ms: 300_000 }
/// );
/// assert_eq!(limiter.keys("user_1", 1_700_000_100_000), ["enghub:rl:strict:user_1:5666667"]);
/// ```
#[derive(Debug, Clone)]
pub struct Limiter {
    prefix: String,
    algorithm: Algorithm,
}

impl Limiter {
    /// # Panics
    /// If the window is 0 ms (the library refuses windows under 1 ms too).
    pub fn new(prefix: impl Into<String>, algorithm: Algorithm) -> Self {
        assert!(
            algorithm.window_ms() >= 1,
            "a rate-limit window must be at least 1 ms"
        );
        Self {
            prefix: prefix.into(),
            algorithm,
        }
    }

    /// Every protected query: `{key_prefix}:rl:general`, sliding window, 100 per 60 s.
    pub fn general(key_prefix: &str) -> Self {
        Self::new(
            format!("{key_prefix}:rl:general"),
            Algorithm::SlidingWindow {
                tokens: 100,
                window_ms: 60_000,
            },
        )
    }

    /// Every protected mutation: `{key_prefix}:rl:mutation`, sliding window, 30 per 60 s.
    pub fn mutation(key_prefix: &str) -> Self {
        Self::new(
            format!("{key_prefix}:rl:mutation"),
            Algorithm::SlidingWindow {
                tokens: 30,
                window_ms: 60_000,
            },
        )
    }

    /// Expensive operations (`githubStats.syncNow`): `{key_prefix}:rl:strict`, fixed
    /// window, 3 per 300 s.
    pub fn strict(key_prefix: &str) -> Self {
        Self::new(
            format!("{key_prefix}:rl:strict"),
            Algorithm::FixedWindow {
                tokens: 3,
                window_ms: 300_000,
            },
        )
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// `{prefix}:{identifier}`: what the block cache is keyed by, and the stem of
    /// every counter key.
    fn base(&self, identifier: &str) -> String {
        format!("{}:{identifier}", self.prefix)
    }

    /// The window number `now_ms` falls in: `floor(now / W)`, an index, not a time.
    fn bucket(&self, now_ms: u64) -> u64 {
        now_ms / self.algorithm.window_ms()
    }

    /// When the window `now_ms` falls in ends (ms since the epoch): the `reset` the
    /// library reports for both algorithms, even when the sliding window's previous
    /// bucket would still block after it.
    pub fn reset_ms(&self, now_ms: u64) -> u64 {
        (self.bucket(now_ms) + 1) * self.algorithm.window_ms()
    }

    /// The Redis keys a call at `now_ms` touches, in the order the script gets them:
    /// `[current]` for a fixed window, `[current, previous]` for a sliding window.
    pub fn keys(&self, identifier: &str, now_ms: u64) -> Vec<String> {
        let base = self.base(identifier);
        let bucket = self.bucket(now_ms);
        match self.algorithm {
            Algorithm::FixedWindow { .. } => vec![format!("{base}:{bucket}")],
            // Bucket 0's predecessor is "-1", as JavaScript's `${current - 1}` writes it.
            Algorithm::SlidingWindow { .. } => vec![
                format!("{base}:{bucket}"),
                format!("{base}:{}", i128::from(bucket) - 1),
            ],
        }
    }

    /// The script call for one `limit(identifier)` at `now_ms` (one token), to put in
    /// a larger pipeline. Numbers go out as JSON numbers, as the library sends them.
    pub fn command(&self, identifier: &str, now_ms: u64) -> Command {
        let keys = self.keys(identifier, now_ms);
        match self.algorithm {
            Algorithm::FixedWindow { tokens, window_ms } => Command::evalsha(
                &FIXED_WINDOW,
                keys,
                [Arg::from(tokens), Arg::from(window_ms), Arg::from(RATE)],
            ),
            Algorithm::SlidingWindow { tokens, window_ms } => Command::evalsha(
                &SLIDING_WINDOW,
                keys,
                [
                    Arg::from(tokens),
                    Arg::from(now_ms),
                    Arg::from(window_ms),
                    Arg::from(RATE),
                ],
            ),
        }
    }

    /// Interprets the reply to [`Limiter::command`] made at the same `now_ms`.
    pub fn decision(&self, reply: &Reply, now_ms: u64) -> Result<Decision, RateLimitError> {
        let (first, limit) = match reply {
            Reply::Array(items) => match items.as_slice() {
                [Reply::Int(first), Reply::Int(limit)] => (*first, *limit),
                _ => return Err(unexpected(reply)),
            },
            _ => return Err(unexpected(reply)),
        };
        let limit_u32 = u32::try_from(limit).map_err(|_| unexpected(reply))?;
        let (success, remaining) = match self.algorithm {
            // `first` is the counter after this call, rejected calls included.
            Algorithm::FixedWindow { .. } => (first <= limit, limit.saturating_sub(first)),
            // `first` is what is left, -1 for a rejected call.
            Algorithm::SlidingWindow { .. } => (first >= 0, first),
        };
        Ok(Decision {
            success,
            limit: limit_u32,
            // The library reports max(0, ..).
            remaining: u32::try_from(remaining.max(0)).unwrap_or(u32::MAX),
            reset_ms: self.reset_ms(now_ms),
        })
    }

    /// [`Limiter::command`] and [`Limiter::decision`] in one round trip. A Redis error
    /// for the script is [`RateLimitError::Redis`], as it would be inside a pipeline.
    pub async fn limit(
        &self,
        client: &UpstashClient,
        identifier: &str,
        now_ms: u64,
    ) -> Result<Decision, RateLimitError> {
        let reply = client
            .command(&self.command(identifier, now_ms))
            .await
            .map_err(|err| match err {
                UpstashError::Redis(err) => RateLimitError::Redis(err),
                other => RateLimitError::Upstash(other),
            })?;
        self.decision(&reply, now_ms)
    }
}

fn unexpected(reply: &Reply) -> RateLimitError {
    RateLimitError::Unexpected(format!(
        "a rate-limit script answered {reply:?}, not [integer, limit]"
    ))
}

/// The outcome of one check, as the library's `limit()` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub success: bool,
    /// The limit Redis applied (the tier's `tokens`).
    pub limit: u32,
    pub remaining: u32,
    /// End of the current window, ms since the epoch.
    pub reset_ms: u64,
}

impl Decision {
    /// The original's rejection message (`trpc.ts`):
    /// `Rate limit exceeded. Try again in {ceil((reset - now) / 1000)}s.`
    /// A reset already reached gives `0s` (the block cache still blocks at `now == reset`).
    ///
    /// ```
    /// use enghub::ratelimit::Decision;
    /// let d = Decision { success: false, limit: 3, remaining: 0, reset_ms: 10_000 };
    /// assert_eq!(d.message(8_999), "Rate limit exceeded. Try again in 2s.");
    /// ```
    pub fn message(&self, now_ms: u64) -> String {
        let seconds = self.reset_ms.saturating_sub(now_ms).div_ceil(1000);
        format!("Rate limit exceeded. Try again in {seconds}s.")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RateLimitError {
    /// Redis could not be asked (timeout, transport, HTTP): the caller's allow/deny
    /// policy applies.
    #[error("rate limit not checked")]
    Upstash(#[from] UpstashError),
    /// Redis refused the script.
    #[error("rate-limit script failed: {0}")]
    Redis(RedisError),
    /// The script answered something it never returns.
    #[error("{0}")]
    Unexpected(String),
}

/// Per-instance block cache, like @upstash/ratelimit's ephemeral cache: once an
/// identifier is rejected, later calls before `reset` are rejected here without asking
/// Redis. Blocked while `reset >= now` (so still at `now == reset`, like the library);
/// an expired entry is removed when next looked at. One per process, shared by all
/// requests; keyed by `{prefix}:{identifier}` so tiers do not block each other.
#[derive(Debug, Default)]
pub struct EphemeralBlocks {
    reset_by_base: Mutex<HashMap<String, u64>>,
}

impl EphemeralBlocks {
    /// The rejection to answer without Redis, if `identifier` is blocked at `now_ms`.
    /// `limit` is the tier's static `tokens`, as in the library's cache-block result.
    pub fn blocked(&self, limiter: &Limiter, identifier: &str, now_ms: u64) -> Option<Decision> {
        let base = limiter.base(identifier);
        let mut blocks = self.lock();
        let reset_ms = *blocks.get(&base)?;
        if reset_ms < now_ms {
            blocks.remove(&base);
            return None;
        }
        Some(Decision {
            success: false,
            limit: limiter.algorithm.tokens(),
            remaining: 0,
            reset_ms,
        })
    }

    /// Remembers a rejection until its `reset`; successes change nothing (only a refund
    /// unblocks in the library, and we never refund).
    pub fn record(&self, limiter: &Limiter, identifier: &str, decision: &Decision) {
        if !decision.success {
            self.lock()
                .insert(limiter.base(identifier), decision.reset_ms);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, u64>> {
        // A panic while holding the lock cannot leave the map half-updated.
        self.reset_by_base
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Milliseconds since the Unix epoch (the library's `Date.now()`).
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(prefix: &str, tokens: u32, window_ms: u64) -> Limiter {
        Limiter::new(prefix, Algorithm::FixedWindow { tokens, window_ms })
    }

    fn sliding(prefix: &str, tokens: u32, window_ms: u64) -> Limiter {
        Limiter::new(prefix, Algorithm::SlidingWindow { tokens, window_ms })
    }

    fn pair(first: i64, limit: i64) -> Reply {
        Reply::Array(vec![Reply::Int(first), Reply::Int(limit)])
    }

    #[test]
    fn tiers_use_the_original_prefixes_and_limits() {
        let general = Limiter::general("enghub");
        let mutation = Limiter::mutation("enghub");
        let strict = Limiter::strict("enghub");

        assert_eq!(general.prefix(), "enghub:rl:general");
        assert_eq!(
            general.algorithm(),
            Algorithm::SlidingWindow {
                tokens: 100,
                window_ms: 60_000
            }
        );
        assert_eq!(mutation.prefix(), "enghub:rl:mutation");
        assert_eq!(
            mutation.algorithm(),
            Algorithm::SlidingWindow {
                tokens: 30,
                window_ms: 60_000
            }
        );
        assert_eq!(strict.prefix(), "enghub:rl:strict");
        assert_eq!(
            strict.algorithm(),
            Algorithm::FixedWindow {
                tokens: 3,
                window_ms: 300_000
            }
        );
    }

    #[test]
    fn fixed_window_key_is_the_bucket_number_not_a_timestamp() {
        let limiter = fixed("@upstash/ratelimit", 3, 10_000);
        assert_eq!(
            limiter.keys("user1", 1_700_000_003_000),
            ["@upstash/ratelimit:user1:170000000"]
        );
        assert_eq!(
            limiter.keys("user1", 1_700_000_010_000),
            ["@upstash/ratelimit:user1:170000001"]
        );
    }

    #[test]
    fn sliding_window_keys_are_current_then_previous_bucket() {
        let limiter = sliding("@upstash/ratelimit", 10, 60_000);
        assert_eq!(
            limiter.keys("user1", 1_700_000_055_000),
            [
                "@upstash/ratelimit:user1:28333334",
                "@upstash/ratelimit:user1:28333333"
            ]
        );
    }

    #[test]
    fn the_bucket_before_bucket_zero_is_minus_one() {
        let limiter = sliding("p", 1, 1_000);
        assert_eq!(limiter.keys("id", 999), ["p:id:0", "p:id:-1"]);
    }

    #[test]
    fn reset_is_the_end_of_the_current_bucket() {
        let limiter = fixed("rl", 2, 30_000);
        assert_eq!(limiter.reset_ms(1_700_000_015_500), 1_700_000_040_000);
        assert_eq!(limiter.reset_ms(1_700_000_039_999), 1_700_000_040_000);
        assert_eq!(limiter.reset_ms(1_700_000_040_000), 1_700_000_070_000);
    }

    #[test]
    fn commands_match_the_library_wire_call_apart_from_the_script_sha() {
        // protocols.md B.9, observed calls.
        let fixed_call = fixed("@upstash/ratelimit", 3, 10_000)
            .command("user1", 1_700_000_003_000)
            .to_json();
        let sliding_call = sliding("@upstash/ratelimit", 10, 60_000)
            .command("user1", 1_700_000_055_000)
            .to_json();

        assert_eq!(
            fixed_call,
            format!(
                r#"["evalsha","{}",1,"@upstash/ratelimit:user1:170000000",3,10000,1]"#,
                FIXED_WINDOW.sha()
            )
        );
        assert_eq!(
            sliding_call,
            format!(
                r#"["evalsha","{}",2,"@upstash/ratelimit:user1:28333334","@upstash/ratelimit:user1:28333333",10,1700000055000,60000,1]"#,
                SLIDING_WINDOW.sha()
            )
        );
    }

    #[test]
    fn scripts_start_with_the_key_locking_shebang() {
        for source in [FIXED_WINDOW_LUA, SLIDING_WINDOW_LUA] {
            assert_eq!(source.lines().next(), Some("#!lua flags=allow-key-locking"));
        }
    }

    #[test]
    fn fixed_window_counter_at_the_limit_succeeds_with_nothing_left() {
        let limiter = fixed("p", 3, 10_000);
        let decision = limiter.decision(&pair(3, 3), 1_700_000_005_000).unwrap();
        assert_eq!(
            decision,
            Decision {
                success: true,
                limit: 3,
                remaining: 0,
                reset_ms: 1_700_000_010_000
            }
        );
    }

    #[test]
    fn fixed_window_counter_past_the_limit_is_rejected() {
        let limiter = fixed("p", 3, 10_000);
        let decision = limiter.decision(&pair(4, 3), 1_700_000_006_000).unwrap();
        assert!(!decision.success);
        assert_eq!(decision.remaining, 0);
    }

    #[test]
    fn sliding_window_remaining_is_what_the_script_says() {
        let limiter = sliding("p", 10, 60_000);
        let decision = limiter.decision(&pair(3, 10), 1_700_000_055_000).unwrap();
        assert_eq!(
            decision,
            Decision {
                success: true,
                limit: 10,
                remaining: 3,
                reset_ms: 1_700_000_100_000
            }
        );
    }

    #[test]
    fn sliding_window_minus_one_is_a_rejection() {
        let limiter = sliding("p", 4, 1_000);
        let decision = limiter.decision(&pair(-1, 4), 1_700_000_001_000).unwrap();
        assert_eq!(
            decision,
            Decision {
                success: false,
                limit: 4,
                remaining: 0,
                reset_ms: 1_700_000_002_000
            }
        );
    }

    #[test]
    fn replies_that_are_not_two_integers_are_unexpected() {
        let limiter = sliding("p", 4, 1_000);
        for reply in [
            Reply::Nil,
            Reply::Int(1),
            Reply::Array(vec![Reply::Int(1)]),
            Reply::Array(vec![Reply::Int(1), Reply::Bytes(b"4".to_vec())]),
            pair(1, -4),
        ] {
            assert!(
                matches!(
                    limiter.decision(&reply, 0),
                    Err(RateLimitError::Unexpected(_))
                ),
                "{reply:?}"
            );
        }
    }

    #[test]
    fn message_rounds_the_wait_up_to_whole_seconds() {
        let decision = Decision {
            success: false,
            limit: 3,
            remaining: 0,
            reset_ms: 10_000,
        };
        assert_eq!(
            decision.message(9_999),
            "Rate limit exceeded. Try again in 1s."
        );
        assert_eq!(
            decision.message(9_000),
            "Rate limit exceeded. Try again in 1s."
        );
        assert_eq!(
            decision.message(8_999),
            "Rate limit exceeded. Try again in 2s."
        );
        assert_eq!(
            decision.message(10_000),
            "Rate limit exceeded. Try again in 0s."
        );
    }

    #[test]
    fn a_rejection_blocks_until_and_including_reset() {
        let limiter = fixed("rl", 2, 30_000);
        let blocks = EphemeralBlocks::default();
        let rejected = Decision {
            success: false,
            limit: 2,
            remaining: 0,
            reset_ms: 1_700_000_040_000,
        };

        blocks.record(&limiter, "10.0.0.1", &rejected);

        assert_eq!(
            blocks.blocked(&limiter, "10.0.0.1", 1_700_000_040_000),
            Some(rejected)
        );
        assert_eq!(
            blocks.blocked(&limiter, "10.0.0.1", 1_700_000_040_001),
            None
        );
    }

    #[test]
    fn an_expired_block_is_forgotten() {
        let limiter = fixed("rl", 2, 30_000);
        let blocks = EphemeralBlocks::default();
        let rejected = Decision {
            success: false,
            limit: 2,
            remaining: 0,
            reset_ms: 1_000,
        };
        blocks.record(&limiter, "id", &rejected);

        assert_eq!(blocks.blocked(&limiter, "id", 1_001), None);
        assert_eq!(blocks.blocked(&limiter, "id", 500), None);
    }

    #[test]
    fn successes_and_other_tiers_are_not_blocked() {
        let strict = Limiter::strict("enghub");
        let mutation = Limiter::mutation("enghub");
        let blocks = EphemeralBlocks::default();
        let allowed = Decision {
            success: true,
            limit: 3,
            remaining: 0,
            reset_ms: 1_000,
        };
        let rejected = Decision {
            success: false,
            ..allowed
        };

        blocks.record(&strict, "a", &allowed);
        blocks.record(&strict, "b", &rejected);

        assert_eq!(blocks.blocked(&strict, "a", 0), None);
        assert_eq!(blocks.blocked(&mutation, "b", 0), None);
        assert!(blocks.blocked(&strict, "b", 0).is_some());
    }

    #[test]
    #[should_panic(expected = "at least 1 ms")]
    fn a_zero_window_is_refused() {
        fixed("p", 1, 0);
    }

    #[test]
    fn now_is_after_2023() {
        assert!(now_ms() > 1_700_000_000_000);
    }
}
