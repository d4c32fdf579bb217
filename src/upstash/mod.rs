//! Upstash Redis REST client (owned here: `upstash-redis-rs` needs nightly and lacks
//! pipelines and EVAL). Knows nothing of key names.
//!
//! INTERFACE CONTRACT (filled in by the upstash work package):
//!
//! ```ignore
//! pub struct UpstashClient { .. }            // Clone (Arc inside), Debug without the token
//! impl UpstashClient {
//!     pub fn new(http: reqwest::Client, base_url: &str, token: &str, timeout: Duration) -> Self;
//!     pub async fn command(&self, cmd: &Command) -> Result<Reply, UpstashError>;
//!     pub async fn pipeline(&self, cmds: &[Command]) -> Result<Vec<Result<Reply, RedisError>>, UpstashError>;
//!     pub async fn multi_exec(&self, cmds: &[Command]) -> Result<Vec<Result<Reply, RedisError>>, UpstashError>;
//! }
//! pub struct Command { .. }                  // Command::new("set").arg("k").arg("v").arg("ex").arg(10)
//! pub struct Script { .. }                   // Script::new(source) computes sha1; Command::evalsha(&Script, keys, args)
//! pub enum Reply { Nil, Int(i64), Bytes(Vec<u8>), Array(Vec<Reply>) }
//! pub struct RedisError(pub String);         // an error string Redis returned for one command
//! pub enum UpstashError { Http{status,message}, Redis(RedisError), Timeout, Transport(String), Decode(String) }
//! ```
