//! [`GitHubClient`]: one method per remote call, nothing else. Retries, waiting
//! and bookkeeping belong to the sync (`super::sync`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reqwest::header::{
    HeaderMap, ACCEPT, AUTHORIZATION, CONTENT_TYPE, ETAG, IF_NONE_MATCH, USER_AGENT,
};
use serde::Deserialize;
use serde_json::json;

use super::error::{classify, wait_from_headers, Api, GitHubError};
use super::model::{ContributorCommits, PrFact, ReviewFact, WeekCommits};
use super::repo::RepoSlug;

/// Per-request timeout: generous, the statistics endpoint can be slow. With a
/// deadline ([`GitHubClient::with_deadline`]) it is capped at the time left.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The PR query: newest *updated* first, so an incremental sync can stop at the
/// first PR older than its watermark. `number` and `updatedAt` are what the
/// original did not need; reviews stay capped at 50 as in the original, so the
/// numbers match it.
const PR_QUERY: &str = r#"query($owner: String!, $repo: String!, $cursor: String, $pageSize: Int!) {
  repository(owner: $owner, name: $repo) {
    pullRequests(first: $pageSize, after: $cursor, orderBy: {field: UPDATED_AT, direction: DESC}) {
      pageInfo { hasNextPage endCursor }
      nodes {
        number
        author { login }
        state
        merged
        mergedAt
        createdAt
        updatedAt
        reviews(first: 50) { nodes { author { login } createdAt } }
      }
    }
  }
}"#;

/// The answer of `stats/contributors`.
#[derive(Debug, Clone, PartialEq)]
pub enum ContributorStats {
    /// 304: unchanged since the ETag we sent (free: not counted against the rate limit).
    NotModified,
    /// 202: GitHub is computing the statistics; ask again later.
    Computing,
    /// 200 (or 204 for an empty repository).
    Fresh {
        etag: Option<String>,
        contributors: Vec<ContributorCommits>,
    },
}

/// One page of pull requests.
#[derive(Debug, Clone, PartialEq)]
pub struct PrPage {
    pub prs: Vec<PrFact>,
    pub has_next_page: bool,
    pub end_cursor: Option<String>,
}

/// A GitHub REST + GraphQL client. Cheap to clone; clones share the request counter.
///
/// ```
/// let client = enghub::github::GitHubClient::new(reqwest::Client::new(), "https://api.github.com/", None);
/// assert!(!client.has_token());
/// assert_eq!(client.requests_sent(), 0);
/// ```
#[derive(Clone)]
pub struct GitHubClient {
    http: reqwest::Client,
    base_url: String,
    token: Option<String>,
    requests: Arc<AtomicU64>,
    /// No request may outlive this instant (its timeout is capped at the time left).
    deadline: Option<Instant>,
}

impl std::fmt::Debug for GitHubClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitHubClient")
            .field("base_url", &self.base_url)
            .field("token", &self.token.as_ref().map(|_| "***"))
            .finish()
    }
}

fn now_unix() -> u64 {
    Utc::now().timestamp().max(0) as u64
}

impl GitHubClient {
    /// `base_url` is `GITHUB_API_URL` (`https://api.github.com`); GraphQL is at
    /// `{base_url}/graphql`.
    pub fn new(http: reqwest::Client, base_url: &str, token: Option<&str>) -> Self {
        Self {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            token: token.map(str::to_owned).filter(|t| !t.is_empty()),
            requests: Arc::new(AtomicU64::new(0)),
            deadline: None,
        }
    }

    /// This client (sharing its counter) with every request's timeout capped at the
    /// time left until `deadline`, so no request outlives a run's budget.
    pub fn with_deadline(&self, deadline: Option<Instant>) -> Self {
        Self {
            deadline,
            ..self.clone()
        }
    }

    /// [`REQUEST_TIMEOUT`], or less when the deadline is nearer.
    fn timeout(&self) -> Duration {
        self.deadline.map_or(REQUEST_TIMEOUT, |d| {
            d.saturating_duration_since(Instant::now())
                .min(REQUEST_TIMEOUT)
        })
    }

    /// A client with its own request counter (one per sync).
    pub fn fresh_counter(&self) -> Self {
        Self {
            requests: Arc::new(AtomicU64::new(0)),
            ..self.clone()
        }
    }

    /// GraphQL needs a token; without one the original fetched no PR data at all.
    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    /// HTTP requests sent through this client (and its clones).
    pub fn requests_sent(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    fn request(&self, method: reqwest::Method, url: String) -> reqwest::RequestBuilder {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let mut req = self
            .http
            .request(method, url)
            .timeout(self.timeout())
            .header(USER_AGENT, "eng-hub");
        if let Some(token) = &self.token {
            req = req.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        req
    }

    /// `GET /repos/{owner}/{repo}/stats/contributors`, conditional on `etag`.
    pub async fn contributor_stats(
        &self,
        slug: &RepoSlug,
        etag: Option<&str>,
    ) -> Result<ContributorStats, GitHubError> {
        let url = format!(
            "{}/repos/{}/{}/stats/contributors",
            self.base_url, slug.owner, slug.repo
        );
        let mut req = self
            .request(reqwest::Method::GET, url)
            .header(ACCEPT, "application/vnd.github.v3+json");
        if let Some(etag) = etag {
            req = req.header(IF_NONE_MATCH, etag);
        }
        let res = req.send().await.map_err(GitHubError::Network)?;
        let status = res.status().as_u16();
        match status {
            304 => return Ok(ContributorStats::NotModified),
            202 => return Ok(ContributorStats::Computing),
            204 => {
                return Ok(ContributorStats::Fresh {
                    etag: etag_of(res.headers()),
                    contributors: vec![],
                })
            }
            _ => {}
        }
        let headers = res.headers().clone();
        let body = res.text().await.map_err(GitHubError::Network)?;
        if !(200..300).contains(&status) {
            return Err(classify(Api::Rest, status, &headers, &body, now_unix()));
        }
        Ok(ContributorStats::Fresh {
            etag: etag_of(&headers),
            contributors: parse_contributors(&body)?,
        })
    }

    /// One page of `repository.pullRequests`, newest updated first.
    pub async fn pull_requests_page(
        &self,
        slug: &RepoSlug,
        cursor: Option<&str>,
        page_size: u32,
    ) -> Result<PrPage, GitHubError> {
        let body = json!({
            "query": PR_QUERY,
            "variables": {"owner": slug.owner, "repo": slug.repo, "cursor": cursor, "pageSize": page_size},
        });
        let res = self
            .request(reqwest::Method::POST, format!("{}/graphql", self.base_url))
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_string())
            .send()
            .await
            .map_err(GitHubError::Network)?;
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.map_err(GitHubError::Network)?;
        if !(200..300).contains(&status) {
            return Err(classify(Api::GraphQl, status, &headers, &text, now_unix()));
        }
        parse_pr_page(&text, &headers)
    }
}

fn etag_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get(ETAG)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

#[derive(Deserialize)]
struct Login {
    login: Option<String>,
}

#[derive(Deserialize)]
struct RestContributor {
    author: Option<Login>,
    #[serde(default)]
    total: i64,
    #[serde(default)]
    weeks: Vec<RestWeek>,
}

#[derive(Deserialize)]
struct RestWeek {
    w: i64,
    #[serde(default)]
    a: i64,
    #[serde(default)]
    d: i64,
    #[serde(default)]
    c: i64,
}

/// Contributors with an author login; a body that is not an array is no data
/// (the original's behaviour, e.g. for `{}`).
fn parse_contributors(body: &str) -> Result<Vec<ContributorCommits>, GitHubError> {
    let value: serde_json::Value = serde_json::from_str(body)
        .map_err(|e| GitHubError::Decode(format!("contributor stats: {e}")))?;
    if !value.is_array() {
        return Ok(vec![]);
    }
    let rows: Vec<RestContributor> = serde_json::from_value(value)
        .map_err(|e| GitHubError::Decode(format!("contributor stats: {e}")))?;
    Ok(rows
        .into_iter()
        .filter_map(|c| {
            let username = c.author?.login.filter(|l| !l.is_empty())?;
            let weekly_data: Vec<WeekCommits> = c
                .weeks
                .iter()
                .map(|w| WeekCommits {
                    week: w.w,
                    additions: w.a,
                    deletions: w.d,
                    commits: w.c,
                })
                .collect();
            Some(ContributorCommits {
                username,
                total_commits: c.total,
                additions: weekly_data.iter().map(|w| w.additions).sum(),
                deletions: weekly_data.iter().map(|w| w.deletions).sum(),
                weekly_data,
            })
        })
        .collect())
}

#[derive(Deserialize)]
struct GqlResponse {
    data: Option<GqlData>,
    errors: Option<Vec<GqlError>>,
}

#[derive(Deserialize)]
struct GqlError {
    message: String,
    #[serde(rename = "type")]
    kind: Option<String>,
}

#[derive(Deserialize)]
struct GqlData {
    repository: Option<GqlRepository>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GqlRepository {
    pull_requests: GqlConnection,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GqlConnection {
    page_info: GqlPageInfo,
    nodes: Vec<Option<GqlPr>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GqlPageInfo {
    has_next_page: bool,
    end_cursor: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GqlPr {
    number: i64,
    author: Option<Login>,
    state: String,
    merged: bool,
    merged_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    reviews: Option<GqlReviews>,
}

#[derive(Deserialize)]
struct GqlReviews {
    nodes: Vec<Option<GqlReview>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GqlReview {
    author: Option<Login>,
    created_at: DateTime<Utc>,
}

fn parse_pr_page(text: &str, headers: &HeaderMap) -> Result<PrPage, GitHubError> {
    let response: GqlResponse = serde_json::from_str(text)
        .map_err(|e| GitHubError::Decode(format!("GraphQL answer: {e}")))?;
    if let Some(first) = response.errors.and_then(|e| e.into_iter().next()) {
        if first.kind.as_deref() == Some("RATE_LIMITED") {
            return Err(GitHubError::RateLimited {
                retry_after: wait_from_headers(headers, now_unix()),
                secondary: false,
            });
        }
        return Err(GitHubError::GraphQl {
            kind: first.kind,
            message: first.message,
        });
    }
    let Some(repository) = response.data.and_then(|d| d.repository) else {
        return Err(GitHubError::GraphQl {
            kind: Some("NOT_FOUND".into()),
            message: "Could not resolve to a Repository".into(),
        });
    };
    let connection = repository.pull_requests;
    let prs = connection
        .nodes
        .into_iter()
        .flatten()
        .map(|pr| PrFact {
            number: pr.number,
            author: pr.author.and_then(|a| a.login).filter(|l| !l.is_empty()),
            state: pr.state,
            merged: pr.merged,
            merged_at: pr.merged_at,
            created_at: pr.created_at,
            updated_at: pr.updated_at,
            reviews: pr
                .reviews
                .map(|r| r.nodes)
                .unwrap_or_default()
                .into_iter()
                .flatten()
                .filter_map(|r| {
                    Some(ReviewFact {
                        login: r.author?.login.filter(|l| !l.is_empty())?,
                        created_at: r.created_at,
                    })
                })
                .collect(),
        })
        .collect();
    Ok(PrPage {
        prs,
        has_next_page: connection.page_info.has_next_page,
        end_cursor: connection.page_info.end_cursor,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contributors_without_author_are_skipped_and_weeks_summed() {
        let body = r#"[
          {"author": null, "total": 5, "weeks": [{"w": 1, "a": 1, "d": 1, "c": 5}]},
          {"author": {"login": "ann"}, "total": 7,
           "weeks": [{"w": 100, "a": 10, "d": 2, "c": 3}, {"w": 200, "a": 5, "d": 1, "c": 4}]}
        ]"#;
        let rows = parse_contributors(body).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].username, "ann");
        assert_eq!(
            (rows[0].total_commits, rows[0].additions, rows[0].deletions),
            (7, 15, 3)
        );
        assert_eq!(rows[0].weekly_data[1].week, 200);
    }

    #[test]
    fn a_non_array_body_is_no_data() {
        assert_eq!(parse_contributors("{}").unwrap(), vec![]);
    }

    #[test]
    fn graphql_page_drops_authorless_reviews_and_keeps_ghost_prs() {
        let text = r#"{"data":{"repository":{"pullRequests":{
          "pageInfo":{"hasNextPage":true,"endCursor":"c1"},
          "nodes":[{"number":3,"author":null,"state":"OPEN","merged":false,"mergedAt":null,
            "createdAt":"2025-01-02T00:00:00Z","updatedAt":"2025-01-03T00:00:00Z",
            "reviews":{"nodes":[{"author":null,"createdAt":"2025-01-02T01:00:00Z"},
                                {"author":{"login":"bo"},"createdAt":"2025-01-02T02:00:00Z"}]}}]}}}}"#;
        let page = parse_pr_page(text, &HeaderMap::new()).unwrap();
        assert!(page.has_next_page);
        assert_eq!(page.end_cursor.as_deref(), Some("c1"));
        assert_eq!(page.prs[0].author, None);
        assert_eq!(page.prs[0].reviews.len(), 1);
        assert_eq!(page.prs[0].reviews[0].login, "bo");
    }

    #[test]
    fn graphql_errors_are_reported_with_their_type() {
        let text = r#"{"data":{"repository":null},"errors":[{"type":"NOT_FOUND","message":"Could not resolve to a Repository with the name 'o/r'."}]}"#;
        let err = parse_pr_page(text, &HeaderMap::new()).unwrap_err();
        assert!(!err.is_transient());
        assert_eq!(err.to_string(), "GitHub repository not found");
        let limited = r#"{"errors":[{"type":"RATE_LIMITED","message":"API rate limit exceeded"}]}"#;
        assert!(matches!(
            parse_pr_page(limited, &HeaderMap::new()),
            Err(GitHubError::RateLimited { .. })
        ));
    }
}
