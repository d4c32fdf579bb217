//! Router `githubStats` (procedures.md §4.2).

use serde::Serialize;
use serde_json::{Map, Value};
use ts_rs::TS;

use crate::cache::{invalidate_github_stats, CacheKey};
use crate::db::github::{self as sql, ContributorStats, GitHubSync};
use crate::github::sync::{self, SyncError, SyncOptions};
use crate::ratelimit::{now_ms, Limiter};
use crate::trpc::{Access, ApiError, FromInput, Input, Mutated, Registry, TrpcCode, TrpcError};

use super::Ctx;

/// `syncNow` runs inside the mutations function (60 s on Vercel): the PR pass
/// stops in time and the next sync continues it.
const SYNC_NOW_BUDGET: std::time::Duration = std::time::Duration::from_secs(45);

pub fn register(r: &mut Registry<Ctx>) {
    r.query(
        "githubStats.getByProjectId",
        Access::Protected,
        |i: &ProjectInput| Some(CacheKey::GithubStats(i.project_id.clone())),
        get_by_project_id,
    );
    r.query(
        "githubStats.getSyncStatus",
        Access::Protected,
        |_: &ProjectInput| None,
        get_sync_status,
    );
    r.mutation("githubStats.syncNow", sync_now);
}

/// `{projectId: z.string()}` (any string, as in the original).
pub struct ProjectInput {
    pub project_id: String,
}

impl FromInput for ProjectInput {
    fn from_input(i: &mut Input) -> Self {
        Self {
            project_id: i.string("projectId"),
        }
    }
}

/// `GithubStatsView`.
#[derive(Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct GithubStatsView {
    pub stats: Vec<ContributorStats>,
    pub sync: Option<GitHubSync>,
    /// By GitHub username and by email.
    #[ts(as = "crate::trpc::types::Record<MemberInfo>")]
    pub member_map: Map<String, Value>,
}

/// Who a contributor is, in [`GithubStatsView::member_map`].
#[derive(Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct MemberInfo {
    pub person_id: String,
    pub first_name: String,
    pub last_name: String,
    pub callsign: Option<String>,
    pub image_url: Option<String>,
}

async fn get_by_project_id(ctx: Ctx, input: ProjectInput) -> Result<GithubStatsView, ApiError> {
    let db = &ctx.app.db;
    let id = input.project_id.as_str();
    let (stats, sync, members) = tokio::try_join!(
        async { sql::contributor_stats(&mut *db.acquire().await?, id).await },
        async { sql::sync_row(&mut *db.acquire().await?, id).await },
        async { sql::team_member_people(&mut *db.acquire().await?, id).await },
    )?;
    // Keyed by GitHub username and by email; later members overwrite earlier ones
    // in place, as assignments to a JavaScript object do.
    let mut member_map = Map::new();
    for person in members {
        let info = serde_json::to_value(MemberInfo {
            person_id: person.id,
            first_name: person.first_name,
            last_name: person.last_name,
            callsign: person.callsign,
            image_url: person.image_url,
        })
        .map_err(|e| ApiError::Internal(e.to_string()))?;
        if let Some(login) = person.github_username.filter(|l| !l.is_empty()) {
            member_map.insert(login, info.clone());
        }
        member_map.insert(person.email, info);
    }
    Ok(GithubStatsView {
        stats,
        sync,
        member_map,
    })
}

async fn get_sync_status(ctx: Ctx, input: ProjectInput) -> Result<Option<GitHubSync>, ApiError> {
    let mut conn = ctx.app.db.acquire().await?;
    Ok(sql::sync_row(&mut conn, &input.project_id).await?)
}

#[derive(Serialize, TS)]
pub struct SyncNowResult {
    success: bool,
}

/// The strict tier (3 per 300 s per user), spent before any validation as in the
/// original. Redis failures follow `RATE_LIMIT_ON_ERROR`.
async fn enforce_strict_rate_limit(ctx: &Ctx) -> Result<(), ApiError> {
    let app = &ctx.app;
    if !app.config.rate_limits_enabled() {
        return Ok(());
    }
    let user = ctx.user_id()?;
    let limiter = Limiter::strict(&app.config.key_prefix);
    let now = now_ms();
    let too_many =
        |message: String| -> ApiError { TrpcError::new(TrpcCode::TooManyRequests, message).into() };
    if let Some(blocked) = app.rate_limit_blocks.blocked(&limiter, user, now) {
        return Err(too_many(blocked.message(now)));
    }
    match limiter.limit(ctx.cache.redis(), user, now).await {
        Ok(decision) => {
            app.rate_limit_blocks.record(&limiter, user, &decision);
            if decision.success {
                Ok(())
            } else {
                Err(too_many(decision.message(now)))
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "strict rate limit check failed");
            match app.config.rate_limit_on_error {
                crate::config::RateLimitOnError::Allow => Ok(()),
                crate::config::RateLimitOnError::Deny => Err(too_many(format!(
                    "Rate limit exceeded. Try again in {}s.",
                    limiter.algorithm().window_ms().div_ceil(1000)
                ))),
            }
        }
    }
}

async fn sync_now(ctx: Ctx, input: ProjectInput) -> Result<Mutated<SyncNowResult>, ApiError> {
    enforce_strict_rate_limit(&ctx).await?;
    let app = &ctx.app;
    let id = input.project_id.as_str();
    match sync::project_repo(&app.db, id).await {
        Err(SyncError::ProjectNotFound | SyncError::NoGitHubUrl) => {
            return Err(TrpcError::bad_request("Project has no GitHub URL configured.").into())
        }
        Err(SyncError::InvalidUrl) => {
            return Err(TrpcError::bad_request("Invalid GitHub URL format.").into())
        }
        Err(e) => return Err(sync_failed(&e)),
        Ok(_) => {}
    }
    let options = SyncOptions::within(SYNC_NOW_BUDGET);
    match sync::sync_project(&app.db, &app.github_client(), id, &options).await {
        Ok(report) => {
            tracing::info!(
                project_id = id,
                github_requests = report.github_requests,
                prs_fetched = report.prs_fetched,
                "githubStats.syncNow done"
            );
            Ok(Mutated::new(
                SyncNowResult { success: true },
                invalidate_github_stats(id),
            ))
        }
        Err(SyncError::AlreadyRunning) => {
            Err(TrpcError::conflict("A GitHub sync of this project is already running.").into())
        }
        Err(e) => Err(sync_failed(&e)),
    }
}

/// INTERNAL_SERVER_ERROR `GitHub sync failed: <message>`, as the original: the
/// message names GitHub's answer, never driver text (a database failure says
/// "database error" and is logged in full).
fn sync_failed(e: &SyncError) -> ApiError {
    if let SyncError::Db(db) = e {
        tracing::error!(error = %db, "GitHub sync failed on the database");
    }
    TrpcError::new(
        TrpcCode::InternalServerError,
        format!("GitHub sync failed: {e}"),
    )
    .into()
}
