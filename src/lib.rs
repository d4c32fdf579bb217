//! enghub: the eng-hub API as Rust serverless functions.
//!
//! Layout (see `ARCHITECTURE.md` in the steering repo for the full design):
//! - [`functions`]: one entry point per Vercel function; `api/*.rs` only call these.
//! - [`trpc`]: tRPC wire format and the procedure registry; [`typegen`]: the TypeScript `AppRouter` type.
//! - [`procedures`]: one module per router.
//! - [`cache`]: cache keys, TTLs and invalidation; [`upstash`]: the Upstash REST client.
//! - [`auth`]: Clerk session tokens; [`qstash`]: QStash webhook signatures.
//! - [`hierarchy`]: management-chain authorization and reporting-line rules.
//! - [`db`]: Postgres pool, migrations, row types and SQL.
//! - [`dev`]: `enghub dev` and the Upstash-compatible bridge (never used by `api/`).

pub mod app;
pub mod auth;
pub mod cache;
pub mod config;
pub mod db;
pub mod dev;
pub mod functions;
pub mod github;
pub mod hierarchy;
pub mod js_json;
pub mod procedures;
pub mod qstash;
pub mod ratelimit;
pub mod telemetry;
pub mod trpc;
pub mod typegen;
pub mod upstash;
