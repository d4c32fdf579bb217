//! `enghub dev` and the Upstash-compatible REST bridge. Nothing outside `src/dev/`
//! and `src/bin/` depends on this module.

pub mod bridge;
pub mod tokens;
