//! What the sync reads from GitHub, in the shapes the aggregation and Postgres use.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One contributor of `GET /repos/{owner}/{repo}/stats/contributors` (only those
/// with an author login), with GitHub's weeks in GitHub's order (oldest first).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContributorCommits {
    pub username: String,
    pub total_commits: i64,
    /// Σ of the weeks' additions.
    pub additions: i64,
    /// Σ of the weeks' deletions.
    pub deletions: i64,
    pub weekly_data: Vec<WeekCommits>,
}

/// One week of a contributor: `w` (unix seconds, Sunday 00:00 UTC), `a`, `d`, `c`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeekCommits {
    pub week: i64,
    pub additions: i64,
    pub deletions: i64,
    pub commits: i64,
}

/// What the sync keeps of one pull request (table `github_pr_facts`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrFact {
    pub number: i64,
    /// `None` for a deleted ("ghost") author: such PRs are kept but never counted,
    /// as the original skipped them with their reviews.
    pub author: Option<String>,
    /// `OPEN`, `CLOSED` or `MERGED`.
    pub state: String,
    pub merged: bool,
    pub merged_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The first 50 reviews GitHub lists, those without an author dropped, in
    /// GitHub's order (the first review of each reviewer is the one counted).
    pub reviews: Vec<ReviewFact>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewFact {
    pub login: String,
    pub created_at: DateTime<Utc>,
}
