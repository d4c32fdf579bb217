//! SQL of the GitHub stats: `github_syncs`, `contributor_stats` (the original's
//! tables) and `github_sync_state`, `github_pr_facts` (the incremental sync's).
//!
//! Every function takes a connection; the caller owns the transaction.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Serialize, Serializer};
use sqlx::types::Json;
use sqlx::PgConnection;
use ts_rs::TS;

use crate::github::aggregate::{Aggregated, ContributorAggregated};
use crate::github::model::{ContributorCommits, PrFact, ReviewFact};

/// `Row(GitHubSync)`.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, TS)]
#[serde(rename_all = "camelCase")]
pub struct GitHubSync {
    pub id: String,
    pub project_id: String,
    #[serde(with = "super::time::option")]
    #[ts(type = "string | null")]
    pub last_sync_at: Option<NaiveDateTime>,
    pub sync_status: String,
    pub sync_error: Option<String>,
    #[serde(with = "super::time")]
    #[ts(type = "string")]
    pub created_at: NaiveDateTime,
    #[serde(with = "super::time")]
    #[ts(type = "string")]
    pub updated_at: NaiveDateTime,
}

/// A float as JavaScript's `JSON.stringify` writes it: `4`, not `4.0`.
pub(crate) fn js_number<S: Serializer>(value: &f64, s: S) -> Result<S::Ok, S::Error> {
    if value.fract() == 0.0 && value.abs() < 9_007_199_254_740_992.0 {
        s.serialize_i64(*value as i64)
    } else {
        s.serialize_f64(*value)
    }
}

/// `Row(ContributorStats)`.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, TS)]
#[serde(rename_all = "camelCase")]
pub struct ContributorStats {
    pub id: String,
    pub project_id: String,
    pub github_username: String,
    pub period: String,
    pub commits: i32,
    pub prs_opened: i32,
    pub prs_merged: i32,
    pub reviews_done: i32,
    pub additions: i32,
    pub deletions: i32,
    #[serde(serialize_with = "js_number")]
    pub avg_weekly_commits: f64,
    #[serde(serialize_with = "js_number")]
    pub recent_weekly_commits: f64,
    pub trend: String,
    #[serde(serialize_with = "js_number")]
    pub avg_weekly_reviews: f64,
    #[serde(serialize_with = "js_number")]
    pub recent_weekly_reviews: f64,
    pub review_trend: String,
    #[serde(with = "super::time")]
    #[ts(type = "string")]
    pub created_at: NaiveDateTime,
    #[serde(with = "super::time")]
    #[ts(type = "string")]
    pub updated_at: NaiveDateTime,
}

/// A team member's person, as `githubStats.getByProjectId` selects it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct MemberPerson {
    pub id: String,
    pub first_name: String,
    pub last_name: String,
    pub callsign: Option<String>,
    pub github_username: Option<String>,
    pub email: String,
    pub image_url: Option<String>,
}

/// What a project looks like to the sync: `None` if it does not exist.
pub async fn project_github_url(
    conn: &mut PgConnection,
    project_id: &str,
) -> Result<Option<Option<String>>, sqlx::Error> {
    let row: Option<(Option<String>,)> =
        crate::db::sql::query_as("SELECT github_url FROM projects WHERE id = $1")
            .bind(project_id)
            .fetch_optional(conn)
            .await?;
    Ok(row.map(|(url,)| url))
}

/// `(id, github_url)` of every project with a GitHub URL, oldest first.
pub async fn projects_with_github_url(
    conn: &mut PgConnection,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    crate::db::sql::query_as(
        "SELECT id, github_url FROM projects
         WHERE github_url IS NOT NULL AND github_url <> ''
         ORDER BY created_at, id",
    )
    .fetch_all(conn)
    .await
}

/// The non-empty GitHub usernames of the project's team members.
pub async fn team_github_usernames(
    conn: &mut PgConnection,
    project_id: &str,
) -> Result<Vec<String>, sqlx::Error> {
    let rows: Vec<(String,)> = crate::db::sql::query_as(
        "SELECT p.github_username FROM team_members tm JOIN people p ON p.id = tm.person_id
         WHERE tm.project_id = $1 AND p.github_username IS NOT NULL AND p.github_username <> ''",
    )
    .bind(project_id)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|(u,)| u).collect())
}

/// The project's team members' people, in membership order.
pub async fn team_member_people(
    conn: &mut PgConnection,
    project_id: &str,
) -> Result<Vec<MemberPerson>, sqlx::Error> {
    crate::db::sql::query_as(
        "SELECT p.id, p.first_name, p.last_name, p.callsign, p.github_username, p.email, p.image_url
         FROM team_members tm JOIN people p ON p.id = tm.person_id
         WHERE tm.project_id = $1 ORDER BY tm.id",
    )
    .bind(project_id)
    .fetch_all(conn)
    .await
}

const SYNC_COLUMNS: &str =
    "id, project_id, last_sync_at, sync_status, sync_error, created_at, updated_at";

pub async fn sync_row(
    conn: &mut PgConnection,
    project_id: &str,
) -> Result<Option<GitHubSync>, sqlx::Error> {
    crate::db::sql::query_as(&format!(
        "SELECT {SYNC_COLUMNS} FROM github_syncs WHERE project_id = $1"
    ))
    .bind(project_id)
    .fetch_optional(conn)
    .await
}

/// Every stats row of the project, most commits first.
pub async fn contributor_stats(
    conn: &mut PgConnection,
    project_id: &str,
) -> Result<Vec<ContributorStats>, sqlx::Error> {
    crate::db::sql::query_as(
        "SELECT id, project_id, github_username, period, commits, prs_opened, prs_merged,
                reviews_done, additions, deletions, avg_weekly_commits, recent_weekly_commits,
                trend, avg_weekly_reviews, recent_weekly_reviews, review_trend, created_at, updated_at
         FROM contributor_stats WHERE project_id = $1
         ORDER BY commits DESC, period, github_username",
    )
    .bind(project_id)
    .fetch_all(conn)
    .await
}

/// `syncing` (created, or with the previous error cleared; `last_sync_at` kept).
pub async fn mark_syncing(conn: &mut PgConnection, project_id: &str) -> Result<(), sqlx::Error> {
    crate::db::sql::query(
        "INSERT INTO github_syncs (id, project_id, sync_status, updated_at)
         VALUES ($1, $2, 'syncing', $3)
         ON CONFLICT (project_id) DO UPDATE
         SET sync_status = 'syncing', sync_error = NULL, updated_at = EXCLUDED.updated_at",
    )
    .bind(super::new_id())
    .bind(project_id)
    .bind(super::time::now())
    .execute(conn)
    .await?;
    Ok(())
}

/// `idle` with `last_sync_at = now`.
pub async fn mark_idle(conn: &mut PgConnection, project_id: &str) -> Result<(), sqlx::Error> {
    let now = super::time::now();
    crate::db::sql::query(
        "UPDATE github_syncs SET sync_status = 'idle', sync_error = NULL, last_sync_at = $2,
                updated_at = $2
         WHERE project_id = $1",
    )
    .bind(project_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// `error` with the message (`last_sync_at` kept).
pub async fn mark_error(
    conn: &mut PgConnection,
    project_id: &str,
    message: &str,
) -> Result<(), sqlx::Error> {
    crate::db::sql::query(
        "UPDATE github_syncs SET sync_status = 'error', sync_error = $2, updated_at = $3
         WHERE project_id = $1",
    )
    .bind(project_id)
    .bind(message)
    .bind(super::time::now())
    .execute(conn)
    .await?;
    Ok(())
}

/// Replaces the project's stats with the all-time rows followed by the YTD rows.
pub async fn replace_contributor_stats(
    conn: &mut PgConnection,
    project_id: &str,
    stats: &Aggregated,
) -> Result<(), sqlx::Error> {
    crate::db::sql::query("DELETE FROM contributor_stats WHERE project_id = $1")
        .bind(project_id)
        .execute(&mut *conn)
        .await?;
    let rows: Vec<(&str, &ContributorAggregated)> = stats
        .all_time
        .iter()
        .map(|s| ("all_time", s))
        .chain(stats.ytd.iter().map(|s| ("ytd", s)))
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    let int = |v: i64| i32::try_from(v).unwrap_or(if v < 0 { i32::MIN } else { i32::MAX });
    let ids: Vec<String> = rows.iter().map(|_| super::new_id()).collect();
    let periods: Vec<&str> = rows.iter().map(|(p, _)| *p).collect();
    let names: Vec<&str> = rows
        .iter()
        .map(|(_, s)| s.github_username.as_str())
        .collect();
    let col = |f: fn(&ContributorAggregated) -> i64| -> Vec<i32> {
        rows.iter().map(|(_, s)| int(f(s))).collect()
    };
    let fcol = |f: fn(&ContributorAggregated) -> f64| -> Vec<f64> {
        rows.iter().map(|(_, s)| f(s)).collect()
    };
    let trends: Vec<&str> = rows.iter().map(|(_, s)| s.trend.as_str()).collect();
    let review_trends: Vec<&str> = rows.iter().map(|(_, s)| s.review_trend.as_str()).collect();
    crate::db::sql::query(
        "INSERT INTO contributor_stats (id, project_id, github_username, period, commits,
             prs_opened, prs_merged, reviews_done, additions, deletions, avg_weekly_commits,
             recent_weekly_commits, trend, avg_weekly_reviews, recent_weekly_reviews,
             review_trend, updated_at)
         SELECT id, $2, name, period, commits, opened, merged, reviews, adds, dels, avg_c,
                recent_c, trend, avg_r, recent_r, review_trend, $17
         FROM UNNEST($1::text[], $3::text[], $4::text[], $5::int[], $6::int[], $7::int[],
                     $8::int[], $9::int[], $10::int[], $11::float8[], $12::float8[],
                     $13::text[], $14::float8[], $15::float8[], $16::text[])
           AS t(id, name, period, commits, opened, merged, reviews, adds, dels, avg_c,
                recent_c, trend, avg_r, recent_r, review_trend)",
    )
    .bind(&ids)
    .bind(project_id)
    .bind(&names)
    .bind(&periods)
    .bind(col(|s| s.commits))
    .bind(col(|s| s.prs_opened))
    .bind(col(|s| s.prs_merged))
    .bind(col(|s| s.reviews_done))
    .bind(col(|s| s.additions))
    .bind(col(|s| s.deletions))
    .bind(fcol(|s| s.avg_weekly_commits))
    .bind(fcol(|s| s.recent_weekly_commits))
    .bind(&trends)
    .bind(fcol(|s| s.avg_weekly_reviews))
    .bind(fcol(|s| s.recent_weekly_reviews))
    .bind(&review_trends)
    .bind(super::time::now())
    .execute(conn)
    .await?;
    Ok(())
}

/// What the previous syncs of a project left behind.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SyncState {
    pub repo: String,
    pub stats_etag: Option<String>,
    pub contributors: Option<Vec<ContributorCommits>>,
    pub pr_watermark: Option<DateTime<Utc>>,
    pub pass_cursor: Option<String>,
    pub pass_newest: Option<DateTime<Utc>>,
}

type StateRow = (
    String,
    Option<String>,
    Option<Json<Vec<ContributorCommits>>>,
    Option<NaiveDateTime>,
    Option<String>,
    Option<NaiveDateTime>,
);

fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

fn naive(t: DateTime<Utc>) -> NaiveDateTime {
    t.naive_utc()
}

/// Takes the project's sync lease until `until` if nobody holds an unexpired one,
/// creating the state row for `repo` on first use. `None`: another sync holds it.
pub async fn acquire_lease(
    conn: &mut PgConnection,
    project_id: &str,
    repo: &str,
    token: &str,
    now: NaiveDateTime,
    until: NaiveDateTime,
) -> Result<Option<SyncState>, sqlx::Error> {
    let row: Option<StateRow> = crate::db::sql::query_as(
        "INSERT INTO github_sync_state (project_id, repo, lease_token, lease_until, updated_at)
         VALUES ($1, $2, $3, $5, $4)
         ON CONFLICT (project_id) DO UPDATE
         SET lease_token = EXCLUDED.lease_token, lease_until = EXCLUDED.lease_until,
             updated_at = EXCLUDED.updated_at
         WHERE github_sync_state.lease_until IS NULL OR github_sync_state.lease_until < $4
         RETURNING repo, stats_etag, contributors, pr_watermark, pass_cursor, pass_newest",
    )
    .bind(project_id)
    .bind(repo)
    .bind(token)
    .bind(now)
    .bind(until)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(
        |(repo, etag, contributors, watermark, cursor, newest)| SyncState {
            repo,
            stats_etag: etag,
            contributors: contributors.map(|Json(c)| c),
            pr_watermark: watermark.map(utc),
            pass_cursor: cursor,
            pass_newest: newest.map(utc),
        },
    ))
}

/// The repository changed: forget every fact about the old one.
pub async fn reset_state(
    conn: &mut PgConnection,
    project_id: &str,
    repo: &str,
) -> Result<(), sqlx::Error> {
    crate::db::sql::query("DELETE FROM github_pr_facts WHERE project_id = $1")
        .bind(project_id)
        .execute(&mut *conn)
        .await?;
    crate::db::sql::query(
        "UPDATE github_sync_state SET repo = $2, stats_etag = NULL, contributors = NULL,
                pr_watermark = NULL, pass_cursor = NULL, pass_newest = NULL
         WHERE project_id = $1",
    )
    .bind(project_id)
    .bind(repo)
    .execute(conn)
    .await?;
    Ok(())
}

/// Where the PR pass stands; written on success and failure alike. While a pass is
/// under way (`pass_cursor` set), `pr_watermark` is where it stops (`None`: a full
/// pass) and `pass_newest` the newest `updatedAt` it saw; between passes
/// `pass_newest` is when the last full pass completed (`None`: unknown, one is due).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PassPosition {
    pub pr_watermark: Option<DateTime<Utc>>,
    pub pass_cursor: Option<String>,
    pub pass_newest: Option<DateTime<Utc>>,
}

impl From<&SyncState> for PassPosition {
    /// Where a pass stands before it has fetched anything.
    fn from(state: &SyncState) -> Self {
        Self {
            pr_watermark: state.pr_watermark,
            pass_cursor: state.pass_cursor.clone(),
            pass_newest: state.pass_newest,
        }
    }
}

/// Saves the PR pass position and releases the lease, if `token` still holds it.
/// Returns whether it did.
pub async fn release_lease(
    conn: &mut PgConnection,
    project_id: &str,
    token: &str,
    position: &PassPosition,
) -> Result<bool, sqlx::Error> {
    let done = crate::db::sql::query(
        "UPDATE github_sync_state SET pr_watermark = $3, pass_cursor = $4, pass_newest = $5,
                lease_token = NULL, lease_until = NULL, updated_at = $6
         WHERE project_id = $1 AND lease_token = $2",
    )
    .bind(project_id)
    .bind(token)
    .bind(position.pr_watermark.map(naive))
    .bind(&position.pass_cursor)
    .bind(position.pass_newest.map(naive))
    .bind(super::time::now())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Stores the contributor statistics GitHub answered with, and their ETag.
pub async fn store_contributors(
    conn: &mut PgConnection,
    project_id: &str,
    etag: Option<&str>,
    contributors: &[ContributorCommits],
) -> Result<(), sqlx::Error> {
    crate::db::sql::query(
        "UPDATE github_sync_state SET stats_etag = $2, contributors = $3 WHERE project_id = $1",
    )
    .bind(project_id)
    .bind(etag)
    .bind(Json(contributors))
    .execute(conn)
    .await?;
    Ok(())
}

/// Inserts or refreshes pull requests (one statement per page).
pub async fn upsert_pr_facts(
    conn: &mut PgConnection,
    project_id: &str,
    prs: &[PrFact],
) -> Result<(), sqlx::Error> {
    if prs.is_empty() {
        return Ok(());
    }
    let numbers: Vec<i32> = prs.iter().map(|p| p.number as i32).collect();
    let authors: Vec<Option<&str>> = prs.iter().map(|p| p.author.as_deref()).collect();
    let states: Vec<&str> = prs.iter().map(|p| p.state.as_str()).collect();
    let merged: Vec<bool> = prs.iter().map(|p| p.merged).collect();
    let merged_at: Vec<Option<NaiveDateTime>> =
        prs.iter().map(|p| p.merged_at.map(naive)).collect();
    let created: Vec<NaiveDateTime> = prs.iter().map(|p| naive(p.created_at)).collect();
    let updated: Vec<NaiveDateTime> = prs.iter().map(|p| naive(p.updated_at)).collect();
    let reviews: Vec<Json<&Vec<ReviewFact>>> = prs.iter().map(|p| Json(&p.reviews)).collect();
    crate::db::sql::query(
        "INSERT INTO github_pr_facts (project_id, number, author, state, merged, merged_at,
             created_at, updated_at, reviews)
         SELECT $1, * FROM UNNEST($2::int[], $3::text[], $4::text[], $5::bool[],
                                  $6::timestamp(3)[], $7::timestamp(3)[], $8::timestamp(3)[],
                                  $9::jsonb[])
         ON CONFLICT (project_id, number) DO UPDATE
         SET author = EXCLUDED.author, state = EXCLUDED.state, merged = EXCLUDED.merged,
             merged_at = EXCLUDED.merged_at, created_at = EXCLUDED.created_at,
             updated_at = EXCLUDED.updated_at, reviews = EXCLUDED.reviews",
    )
    .bind(project_id)
    .bind(&numbers)
    .bind(&authors)
    .bind(&states)
    .bind(&merged)
    .bind(&merged_at)
    .bind(&created)
    .bind(&updated)
    .bind(&reviews)
    .execute(conn)
    .await?;
    Ok(())
}

type FactRow = (
    i32,
    Option<String>,
    String,
    bool,
    Option<NaiveDateTime>,
    NaiveDateTime,
    NaiveDateTime,
    Json<Vec<ReviewFact>>,
);

/// Every stored PR of the project, newest created first (the original's order).
pub async fn pr_facts(
    conn: &mut PgConnection,
    project_id: &str,
) -> Result<Vec<PrFact>, sqlx::Error> {
    let rows: Vec<FactRow> = crate::db::sql::query_as(
        "SELECT number, author, state, merged, merged_at, created_at, updated_at, reviews
         FROM github_pr_facts WHERE project_id = $1
         ORDER BY created_at DESC, number DESC",
    )
    .bind(project_id)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(number, author, state, merged, merged_at, created, updated, Json(reviews))| PrFact {
                number: i64::from(number),
                author,
                state,
                merged,
                merged_at: merged_at.map(utc),
                created_at: utc(created),
                updated_at: utc(updated),
                reviews,
            },
        )
        .collect())
}
