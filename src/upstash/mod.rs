//! Upstash Redis REST client (owned here: `upstash-redis-rs` needs nightly and lacks
//! pipelines and EVAL). Knows nothing of key names.
//!
//! It speaks the protocol of `@upstash/redis` (shared/spec/protocols.md, section A):
//! every call is a JSON `POST` with `Authorization: Bearer`, `Upstash-Encoding: base64`
//! responses are decoded into [`Reply`], values are plain text (callers pass JSON text).
//!
//! Layout:
//! - [`command`]: [`Command`] (the JSON array) and [`Script`] (Lua text + SHA-1).
//! - [`reply`]: [`Reply`] and the base64 decoding rules.
//! - [`client`]: [`UpstashClient`]: `command`, `pipeline`, `multi_exec`, EVALSHA fallback.
//! - [`error`]: [`UpstashError`], [`RedisError`] and the error policy (no retries).

pub mod client;
pub mod command;
pub mod error;
pub mod reply;

pub use client::{Observer, UpstashClient};
pub use command::{Arg, Command, Script};
pub use error::{RedisError, UpstashError};
pub use reply::Reply;
