//! One module per tRPC router. Procedures reach Postgres through `db` and
//! declare cache keys as data; they never send Redis commands themselves.

use std::sync::Arc;

use crate::app::App;
use crate::auth::Identity;
use crate::cache::Cache;
use crate::trpc::{ApiError, Registry, TrpcCode, TrpcError};

pub mod arrangement;
pub mod department;
pub mod github_stats;
pub mod health;
pub mod health_assessment;
pub mod key_result;
pub mod manager_change;
pub mod meeting;
pub mod meeting_template;
pub mod milestone;
pub mod paging;
pub mod person;
pub mod person_comment;
pub mod project;
pub mod project_link;
pub mod quarterly_goal;
pub mod roadmap;
pub mod team;
pub mod team_member;
pub mod title;

/// `{id}` of a deleted row (`healthAssessment.delete`, `personComment.delete`).
#[derive(serde::Serialize, ts_rs::TS)]
pub struct Deleted {
    pub id: String,
}

/// What a resolver gets: the app and the caller.
#[derive(Clone)]
pub struct Ctx {
    pub app: Arc<App>,
    /// The cache, counting this request's Upstash round trips.
    pub cache: Cache,
    /// The reply to the procedure's probe (see `Registry::query_with_probe`),
    /// or why it failed; `None` when it has none.
    pub probe: Option<crate::cache::ProbeReply>,
    /// The verified caller; always `Some` in protected procedures.
    pub user: Option<Identity>,
}

impl Ctx {
    /// The caller's Clerk user id (protected procedures only).
    pub fn user_id(&self) -> Result<&str, ApiError> {
        self.user
            .as_ref()
            .map(|u| u.user_id.as_str())
            .ok_or_else(|| TrpcError::bare(TrpcCode::Unauthorized).into())
    }

    /// The verified caller (protected procedures only).
    pub fn caller(&self) -> Result<&Identity, ApiError> {
        self.user
            .as_ref()
            .ok_or_else(|| TrpcError::bare(TrpcCode::Unauthorized).into())
    }
}

/// Every procedure of the API.
pub fn registry() -> Registry<Ctx> {
    let mut r = Registry::default();
    health::register(&mut r);
    arrangement::register(&mut r);
    department::register(&mut r);
    github_stats::register(&mut r);
    title::register(&mut r);
    person::register(&mut r);
    manager_change::register(&mut r);
    meeting::register(&mut r);
    meeting_template::register(&mut r);
    person_comment::register(&mut r);
    project::register(&mut r);
    project_link::register(&mut r);
    health_assessment::register(&mut r);
    team::register(&mut r);
    milestone::register(&mut r);
    quarterly_goal::register(&mut r);
    key_result::register(&mut r);
    team_member::register(&mut r);
    r
}
