//! `enghub dev` and the Upstash-compatible REST bridge. Nothing outside `src/dev/`
//! and `src/bin/` depends on this module: production binaries never contain a
//! way around signature or token checks.

pub mod bridge;
pub mod fakes;
pub mod local;
pub mod server;
pub mod tokens;
