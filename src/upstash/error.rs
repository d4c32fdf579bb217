//! Errors of the Upstash client.
//!
//! Policy: the client never retries (callers decide; Redis is an optimisation for
//! us). [`UpstashError`] says which layer failed so callers can tell "Redis said
//! no" ([`UpstashError::Redis`]) from "Redis could not be asked" (everything else).

/// The error text Redis returned for one command, e.g.
/// `NOSCRIPT No matching script. Please use EVAL.`
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RedisError(pub String);

impl RedisError {
    /// True for an EVALSHA whose script the server does not have (same test as
    /// @upstash/ratelimit: the text contains `NOSCRIPT`).
    pub fn is_noscript(&self) -> bool {
        self.0.contains("NOSCRIPT")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum UpstashError {
    /// A non-2xx answer that is not one command's Redis error (bad token, a
    /// discarded transaction, a proxy error page, ...).
    #[error("Upstash answered HTTP {status}: {message}")]
    Http { status: u16, message: String },
    /// Redis rejected the (single) command.
    #[error("Redis error: {0}")]
    Redis(#[from] RedisError),
    /// The whole HTTP exchange took longer than the client's timeout.
    #[error("Upstash request timed out")]
    Timeout,
    /// No HTTP answer: connection refused, DNS, TLS, connection reset.
    #[error("could not reach Upstash: {0}")]
    Transport(String),
    /// A 2xx answer whose body is not what the protocol says.
    #[error("unexpected Upstash response: {0}")]
    Decode(String),
}
