//! GitHub contributor statistics: the REST + GraphQL [`GitHubClient`], the
//! aggregation ported from the original ([`aggregate`]), and the incremental,
//! leased sync of one project ([`sync`]).
//!
//! Layout:
//! - [`repo`]: `RepoSlug::parse`, the original's `parseGitHubUrl`;
//! - [`client`]: one method per remote call, answers as typed values;
//! - [`error`]: [`GitHubError`], classified transient/permanent, rate limits with
//!   their wait;
//! - [`model`]: contributor weeks and per-PR facts;
//! - [`aggregate`]: `aggregateStats`, number for number;
//! - [`sync`]: the orchestration, state in Postgres.

pub mod aggregate;
pub mod client;
pub mod error;
pub mod model;
pub mod repo;
pub mod sync;

pub use client::GitHubClient;
pub use error::GitHubError;
pub use repo::RepoSlug;
pub use sync::{sync_and_invalidate, sync_project, SyncError, SyncOptions, SyncReport};
