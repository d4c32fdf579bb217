//! Syncing one project: the original's `syncGitHubStatsForProject`, made
//! incremental, leased and honest about failures.
//!
//! Per sync:
//! 1. The project's URL is read and parsed ([`SyncError::ProjectNotFound`],
//!    [`SyncError::NoGitHubUrl`], [`SyncError::InvalidUrl`]: permanent).
//!    With a deadline, a sync with less than [`MIN_TIME_TO_START`] left does not
//!    start at all ([`SyncError::NotStarted`]; nothing is read or written).
//! 2. The project's lease is taken in `github_sync_state` (or
//!    [`SyncError::AlreadyRunning`]); a lease older than [`SyncOptions::lease`] is
//!    taken over, so a crashed sync does not block the project forever. The lease
//!    outlasts the run: [`SyncOptions::within`] derives it from the budget, and every
//!    GitHub request's timeout is capped at the time left. Then `github_syncs` says
//!    `syncing`.
//! 3. Concurrently: contributor statistics with `If-None-Match` (304 reuses the stored
//!    answer; 202 is asked again with doubling waits within
//!    [`SyncOptions::computing_budget`], then the stored answer is used if there is
//!    one), and one pass over the PRs newest-updated first, each page upserted into
//!    `github_pr_facts`, stopping at the first PR updated before the watermark. With
//!    nothing changed that is one 304 and one GraphQL page. A pass that runs out of
//!    time keeps its cursor and fails with [`SyncError::Partial`]; the next sync
//!    continues there, so nothing is ever silently truncated. A page asked from a
//!    saved cursor that GitHub refuses with a GraphQL error (an expired or invalid
//!    cursor) drops the cursor, so the next sync starts the pass again.
//!
//!    Every [`FULL_PASS_INTERVAL`] the pass is a **full** one, ignoring the
//!    watermark: facts that change without bumping a PR's `updatedAt` (an author
//!    renamed or deleted into a "ghost") are refreshed as the original, which
//!    refetched everything, would. A full pass is an ordinary pass (page/time
//!    budget, resumed through the cursor) whose saved watermark is empty; when no
//!    pass is under way, `pass_newest` holds the time the last full pass completed.
//! 4. The stored facts are aggregated (`super::aggregate`) and, in **one
//!    transaction**, `contributor_stats` is replaced, `github_syncs` becomes `idle`
//!    with `last_sync_at`, the ETag/watermark are saved and the lease released.
//! 5. On failure `github_syncs` becomes `error` with the message and the lease is
//!    released with the pass position saved; if that bookkeeping itself fails it is
//!    logged and the original error is still returned. A sync whose lease was taken
//!    over ([`SyncError::LeaseLost`]) writes nothing: the row is the new holder's.
//!
//! Cache invalidation is the caller's (`githubStats.syncNow` returns the key; the
//! cron function and the CLI call [`sync_and_invalidate`]).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::aggregate::{aggregate, ytd_start};
use super::client::{ContributorStats, GitHubClient, REQUEST_TIMEOUT};
use super::error::GitHubError;
use super::model::ContributorCommits;
use super::repo::RepoSlug;
use crate::cache::{invalidate_github_stats, Cache};
use crate::db::github::{self as sql, PassPosition, SyncState};
use crate::db::Db;

/// What a lease adds to the run's budget and the last request's timeout: the final
/// aggregation and transaction, and clock drift between instances.
pub const LEASE_MARGIN: Duration = Duration::from_secs(30);

/// A run with less time left than this does not start a sync.
pub const MIN_TIME_TO_START: Duration = Duration::from_secs(2);

/// How often the PR pass ignores the watermark and refetches every PR.
pub const FULL_PASS_INTERVAL: Duration = Duration::from_secs(7 * 24 * 3600);

/// Knobs of one sync; [`SyncOptions::default`] is what production uses.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// No new PR page is requested after this instant; the pass is then saved and
    /// the sync fails with [`SyncError::Partial`].
    pub deadline: Option<Instant>,
    /// How long to keep asking while GitHub answers 202 "computing".
    pub computing_budget: Duration,
    /// The first wait after a 202; each later wait doubles.
    pub computing_first_wait: Duration,
    /// A rate limit that resets within this is waited out once; a longer one fails
    /// the sync (transiently) with GitHub's wait attached.
    pub max_inline_wait: Duration,
    /// PRs per GraphQL page (GitHub's maximum is 100).
    pub page_size: u32,
    /// At most this many GraphQL pages per sync (`None`: no limit but the deadline);
    /// like the deadline, the pass is saved and the next sync continues it.
    pub max_pages: Option<u32>,
    /// How long a sync may hold a project before another may take it over: longer
    /// than the sync can run ([`SyncOptions::within`] derives it from the budget).
    pub lease: Duration,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            deadline: None,
            computing_budget: Duration::from_secs(20),
            computing_first_wait: Duration::from_secs(1),
            max_inline_wait: Duration::from_secs(5),
            page_size: 100,
            max_pages: None,
            lease: Duration::from_secs(15 * 60),
        }
    }
}

impl SyncOptions {
    /// Defaults with a deadline `budget` from now and a lease of
    /// [`SyncOptions::lease_for`] `budget`.
    pub fn within(budget: Duration) -> Self {
        Self {
            deadline: Some(Instant::now() + budget),
            lease: Self::lease_for(budget),
            ..Self::default()
        }
    }

    /// A lease that outlasts a run of `budget`: no request outlives the budget, the
    /// last one may take [`REQUEST_TIMEOUT`], and [`LEASE_MARGIN`] covers the rest.
    pub fn lease_for(budget: Duration) -> Duration {
        budget + REQUEST_TIMEOUT + LEASE_MARGIN
    }

    fn time_left(&self) -> Option<Duration> {
        self.deadline
            .map(|d| d.saturating_duration_since(Instant::now()))
    }
}

/// Why a sync did not complete. `Display` is what `syncNow` and `github_syncs.sync_error`
/// show.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("Project not found.")]
    ProjectNotFound,
    #[error("Project has no GitHub URL configured.")]
    NoGitHubUrl,
    #[error("Invalid GitHub URL format.")]
    InvalidUrl,
    #[error("A GitHub sync of this project is already running.")]
    AlreadyRunning,
    #[error("{0}")]
    GitHub(#[from] GitHubError),
    #[error(
        "PR history only partly fetched ({fetched} pull requests in this run) before the run's \
         time or page budget ran out; the next sync continues where this one stopped"
    )]
    Partial { fetched: usize },
    #[error("another sync took over this project's lease")]
    LeaseLost,
    #[error("not started: time budget exhausted")]
    NotStarted,
    #[error("database error")]
    Db(#[from] sqlx::Error),
}

impl SyncError {
    /// Whether trying again later can succeed (QStash should retry).
    pub fn is_transient(&self) -> bool {
        match self {
            SyncError::ProjectNotFound | SyncError::NoGitHubUrl | SyncError::InvalidUrl => false,
            SyncError::GitHub(e) => e.is_transient(),
            SyncError::AlreadyRunning
            | SyncError::Partial { .. }
            | SyncError::LeaseLost
            | SyncError::NotStarted
            | SyncError::Db(_) => true,
        }
    }

    /// How long to wait before trying again, when GitHub said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            SyncError::GitHub(e) => e.retry_after(),
            // Continue soon: the progress is saved.
            SyncError::Partial { .. } => Some(Duration::from_secs(5)),
            _ => None,
        }
    }
}

/// Where the contributor statistics came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatsSource {
    /// A 200 (or 204).
    Fresh,
    /// A 304: the stored answer is current.
    NotModified,
    /// GitHub kept answering 202; the previous answer was used.
    Stale,
}

/// What one successful sync did.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncReport {
    pub project_id: String,
    pub repo: RepoSlug,
    /// HTTP requests sent to GitHub (both APIs).
    pub github_requests: u64,
    pub stats_source: StatsSource,
    /// GraphQL pages fetched.
    pub pr_pages: u32,
    /// Whether the PR pass that completed was a full one (watermark ignored).
    pub full_pass: bool,
    /// PRs fetched and upserted (new or updated since the last sync).
    pub prs_fetched: usize,
    /// PRs the aggregation read from Postgres.
    pub prs_total: usize,
    /// `contributor_stats` rows written (both periods).
    pub stats_rows: usize,
    pub elapsed: Duration,
}

/// Reads and parses the project's URL (step 1).
pub async fn project_repo(db: &Db, project_id: &str) -> Result<RepoSlug, SyncError> {
    let mut conn = db.acquire().await?;
    match sql::project_github_url(&mut conn, project_id).await? {
        None => Err(SyncError::ProjectNotFound),
        Some(None) => Err(SyncError::NoGitHubUrl),
        Some(Some(url)) if url.is_empty() => Err(SyncError::NoGitHubUrl),
        Some(Some(url)) => RepoSlug::parse(&url).ok_or(SyncError::InvalidUrl),
    }
}

/// [`sync_project`], then the project's cache entry is invalidated through
/// `cache` (a failed invalidation is logged: the sync itself committed).
pub async fn sync_and_invalidate(
    db: &Db,
    github: &GitHubClient,
    cache: &Cache,
    project_id: &str,
    options: &SyncOptions,
) -> Result<SyncReport, SyncError> {
    let report = sync_project(db, github, project_id, options).await?;
    if let Err(e) = cache.invalidate(&invalidate_github_stats(project_id)).await {
        tracing::warn!(error = %e, project_id, "github-stats cache invalidation failed after sync");
    }
    Ok(report)
}

/// Syncs one project (see the module docs).
pub async fn sync_project(
    db: &Db,
    github: &GitHubClient,
    project_id: &str,
    options: &SyncOptions,
) -> Result<SyncReport, SyncError> {
    let started = Instant::now();
    if options
        .time_left()
        .is_some_and(|left| left < MIN_TIME_TO_START)
    {
        return Err(SyncError::NotStarted);
    }
    let github = github.fresh_counter().with_deadline(options.deadline);
    let repo = project_repo(db, project_id).await?;

    let token = crate::db::new_id();
    let now = Utc::now();
    let lease = chrono::Duration::from_std(options.lease).unwrap_or(chrono::Duration::minutes(15));
    let mut state = {
        let mut conn = db.acquire().await?;
        let Some(state) = sql::acquire_lease(
            &mut conn,
            project_id,
            &repo.to_string(),
            &token,
            now.naive_utc(),
            (now + lease).naive_utc(),
        )
        .await?
        else {
            return Err(SyncError::AlreadyRunning);
        };
        state
    };
    let run = async {
        if state.repo != repo.to_string() {
            let mut tx = db.begin().await?;
            sql::reset_state(&mut tx, project_id, &repo.to_string()).await?;
            tx.commit().await?;
            state = SyncState {
                repo: repo.to_string(),
                ..SyncState::default()
            };
        }
        let mut conn = db.acquire().await?;
        sql::mark_syncing(&mut conn, project_id).await?;
        drop(conn);
        Ok::<_, SyncError>(())
    };
    if let Err(e) = run.await {
        let position = PassPosition::from(&state);
        record_failure(db, project_id, &token, &position, &e).await;
        return Err(e);
    }

    let (stats, pass, team) = tokio::join!(
        contributor_stats(&github, &repo, &state, options),
        pr_pass(db, &github, project_id, &repo, &state, options),
        async {
            let mut conn = db.acquire().await?;
            sql::team_github_usernames(&mut conn, project_id).await
        },
    );
    let outcome = async {
        pass.result?;
        let fetched = stats?;
        let team: HashSet<String> = team?.into_iter().collect();
        let prs = if github.has_token() {
            let mut conn = db.acquire().await?;
            sql::pr_facts(&mut conn, project_id).await?
        } else {
            // GraphQL needs a token: the original counted no PRs or reviews without one.
            Vec::new()
        };
        let aggregated = aggregate(&fetched.contributors, &prs, &team, ytd_start(Utc::now()));

        let mut tx = db.begin().await?;
        sql::replace_contributor_stats(&mut tx, project_id, &aggregated).await?;
        sql::mark_idle(&mut tx, project_id).await?;
        if fetched.source == StatsSource::Fresh {
            sql::store_contributors(
                &mut tx,
                project_id,
                fetched.etag.as_deref(),
                &fetched.contributors,
            )
            .await?;
        }
        if !sql::release_lease(&mut tx, project_id, &token, &pass.position).await? {
            return Err(SyncError::LeaseLost);
        }
        tx.commit().await?;
        Ok((
            fetched.source,
            prs.len(),
            aggregated.all_time.len() + aggregated.ytd.len(),
        ))
    }
    .await;
    match outcome {
        Ok((stats_source, prs_total, stats_rows)) => Ok(SyncReport {
            project_id: project_id.to_owned(),
            repo,
            github_requests: github.requests_sent(),
            stats_source,
            pr_pages: pass.pages,
            full_pass: pass.full,
            prs_fetched: pass.fetched,
            prs_total,
            stats_rows,
            elapsed: started.elapsed(),
        }),
        // The row is another sync's now: its status and pass position are its own.
        Err(SyncError::LeaseLost) => Err(SyncError::LeaseLost),
        Err(e) => {
            record_failure(db, project_id, &token, &pass.position, &e).await;
            Err(e)
        }
    }
}

/// Marks the sync failed and releases the lease, keeping the pass position. Its own
/// failures are logged, never returned: the caller reports the sync's error.
async fn record_failure(
    db: &Db,
    project_id: &str,
    token: &str,
    position: &PassPosition,
    error: &SyncError,
) {
    let message = error.to_string();
    if let Some(detail) = match error {
        SyncError::GitHub(e) => e.detail(),
        _ => None,
    } {
        tracing::warn!(project_id, sync_error = %message, detail, "GitHub sync failed");
    }
    let result = async {
        let mut tx = db.begin().await?;
        sql::mark_error(&mut tx, project_id, &message).await?;
        sql::release_lease(&mut tx, project_id, token, position).await?;
        tx.commit().await
    }
    .await;
    if let Err(e) = result {
        tracing::error!(project_id, sync_error = %message, error = %e, "could not record the failed GitHub sync");
    }
}

/// Contributor statistics for the aggregation.
struct FetchedStats {
    contributors: Vec<ContributorCommits>,
    etag: Option<String>,
    source: StatsSource,
}

/// Sleeps `wait` if it ends before the deadline; `false` when it would not.
async fn wait_within(options: &SyncOptions, wait: Duration) -> bool {
    if options.time_left().is_some_and(|left| left < wait) {
        return false;
    }
    tokio::time::sleep(wait).await;
    true
}

/// `stats/contributors`, conditional on the stored ETag, with 202 and short rate
/// limits waited out.
async fn contributor_stats(
    github: &GitHubClient,
    repo: &RepoSlug,
    state: &SyncState,
    options: &SyncOptions,
) -> Result<FetchedStats, SyncError> {
    // An ETag is only worth sending when the answer it stands for is stored.
    let stored = state.contributors.as_ref();
    let etag = stored.and(state.stats_etag.as_deref());
    let started = Instant::now();
    let mut next_wait = options.computing_first_wait;
    let mut rate_limit_waited = false;
    loop {
        match github.contributor_stats(repo, etag).await {
            Ok(ContributorStats::NotModified) => {
                return Ok(FetchedStats {
                    contributors: stored.cloned().unwrap_or_default(),
                    etag: etag.map(str::to_owned),
                    source: StatsSource::NotModified,
                })
            }
            Ok(ContributorStats::Fresh { etag, contributors }) => {
                return Ok(FetchedStats {
                    contributors,
                    etag,
                    source: StatsSource::Fresh,
                })
            }
            Ok(ContributorStats::Computing) => {
                let within_budget = started.elapsed() + next_wait <= options.computing_budget;
                if !within_budget || !wait_within(options, next_wait).await {
                    return match stored {
                        Some(previous) => {
                            tracing::info!(%repo, "contributor statistics still computing; using the previous answer");
                            Ok(FetchedStats {
                                contributors: previous.clone(),
                                etag: None,
                                source: StatsSource::Stale,
                            })
                        }
                        None => Err(GitHubError::StillComputing.into()),
                    };
                }
                next_wait *= 2;
            }
            Err(e) => {
                if let Some(wait) = inline_wait(&e, options, rate_limit_waited) {
                    if wait_within(options, wait).await {
                        rate_limit_waited = true;
                        continue;
                    }
                }
                return Err(e.into());
            }
        }
    }
}

/// A rate limit short enough to wait out here (once per call site).
fn inline_wait(e: &GitHubError, options: &SyncOptions, already_waited: bool) -> Option<Duration> {
    match e {
        GitHubError::RateLimited {
            retry_after: Some(wait),
            ..
        } if !already_waited && *wait <= options.max_inline_wait => Some(*wait),
        _ => None,
    }
}

/// One PR pass and what it left behind.
struct Pass {
    position: PassPosition,
    /// Whether this pass ignores the watermark.
    full: bool,
    pages: u32,
    fetched: usize,
    result: Result<(), SyncError>,
}

/// Whether the pass starting now should be a full one: the last one completed
/// [`FULL_PASS_INTERVAL`] ago or more, or none is known.
fn full_pass_due(last_full_pass: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    let interval = chrono::Duration::from_std(FULL_PASS_INTERVAL).expect("fits");
    last_full_pass.is_none_or(|at| now - at >= interval)
}

/// Fetches PRs newest-updated first from the saved cursor (or the start), upserting
/// each page, until a PR older than the watermark (none for a full pass) or the end
/// of the list.
///
/// The saved position: while a pass is under way, its stop watermark (empty for a
/// full pass), cursor and newest `updatedAt`; otherwise the watermark and, in
/// `pass_newest`, when the last full pass completed.
async fn pr_pass(
    db: &Db,
    github: &GitHubClient,
    project_id: &str,
    repo: &RepoSlug,
    state: &SyncState,
    options: &SyncOptions,
) -> Pass {
    let resuming = state.pass_cursor.is_some();
    // Known only between passes: an unfinished pass keeps its newest PR there.
    let last_full_pass = if resuming { None } else { state.pass_newest };
    let full = if resuming {
        state.pr_watermark.is_none()
    } else {
        full_pass_due(last_full_pass, Utc::now())
    };
    let watermark = if full { None } else { state.pr_watermark };
    // Where the pass stands if it makes no progress: as it was.
    let unchanged = PassPosition::from(state);
    let mut pass = Pass {
        position: unchanged,
        full: full && github.has_token(),
        pages: 0,
        fetched: 0,
        result: Ok(()),
    };
    if !github.has_token() {
        return pass;
    }
    let mut cursor = state.pass_cursor.clone();
    let mut newest = if resuming { state.pass_newest } else { None };
    let mut rate_limit_waited = false;
    loop {
        let out_of_time = options.time_left().is_some_and(|left| left.is_zero());
        if out_of_time || options.max_pages.is_some_and(|max| pass.pages >= max) {
            pass.result = Err(SyncError::Partial {
                fetched: pass.fetched,
            });
            return pass;
        }
        let page = match github
            .pull_requests_page(repo, cursor.as_deref(), options.page_size)
            .await
        {
            Ok(page) => page,
            Err(e) => {
                if let Some(wait) = inline_wait(&e, options, rate_limit_waited) {
                    if wait_within(options, wait).await {
                        rate_limit_waited = true;
                        continue;
                    }
                }
                let timed_out = matches!(&e, GitHubError::Network(n) if n.is_timeout());
                if timed_out && options.time_left().is_some_and(|left| left.is_zero()) {
                    // Cut short by the budget, not by GitHub: continue next time.
                    pass.result = Err(SyncError::Partial {
                        fetched: pass.fetched,
                    });
                    return pass;
                }
                if cursor.is_some() && matches!(e, GitHubError::GraphQl { .. }) {
                    // Likely a cursor GitHub no longer accepts: start the pass over
                    // next time rather than failing on it forever.
                    tracing::warn!(%repo, error = %e, "GraphQL error on a saved cursor; the PR pass restarts next sync");
                    pass.position = PassPosition {
                        pr_watermark: watermark,
                        pass_cursor: None,
                        pass_newest: None,
                    };
                }
                pass.result = Err(e.into());
                return pass;
            }
        };
        pass.pages += 1;
        if let Some(first) = page.prs.first() {
            let n = newest.get_or_insert(first.updated_at);
            *n = (*n).max(first.updated_at);
        }
        let total = page.prs.len();
        let fresh: Vec<_> = page
            .prs
            .into_iter()
            .take_while(|pr| watermark.is_none_or(|w| pr.updated_at >= w))
            .collect();
        let reached_watermark = fresh.len() < total;
        let saved = async {
            let mut conn = db.acquire().await?;
            sql::upsert_pr_facts(&mut conn, project_id, &fresh).await
        }
        .await;
        if let Err(e) = saved {
            pass.result = Err(e.into());
            return pass;
        }
        pass.fetched += fresh.len();
        match page.end_cursor {
            Some(next) if page.has_next_page && !reached_watermark => {
                cursor = Some(next);
                pass.position = PassPosition {
                    pr_watermark: watermark,
                    pass_cursor: cursor.clone(),
                    pass_newest: newest,
                };
            }
            _ => {
                // Complete: everything updated since the pass began is stored.
                pass.position = PassPosition {
                    pr_watermark: match (watermark, newest) {
                        (Some(w), Some(n)) => Some(w.max(n)),
                        (w, n) => w.or(n),
                    },
                    pass_cursor: None,
                    pass_newest: if full {
                        Some(Utc::now())
                    } else {
                        last_full_pass
                    },
                };
                return pass;
            }
        }
    }
}
