//! [`GitHubError`]: every way a GitHub call can fail, classified.
//!
//! Policy: a failure is either **transient** (GitHub 5xx, a rate limit, a network
//! error, statistics still being computed, an unreadable answer; trying again later
//! can succeed) or **permanent** (repository gone, bad credentials, a GraphQL
//! `NOT_FOUND`; trying again cannot help). Rate limits carry the time GitHub asked
//! us to wait, so callers can hand it to QStash instead of hammering.
//!
//! `Display` keeps the original's messages where it had one (`GitHub API error: 404
//! Not Found`, `GitHub GraphQL error: 502 Bad Gateway`, `GitHub GraphQL: <message>`),
//! because `syncNow` shows them to the user.

use std::time::Duration;

use http::HeaderMap;

/// How soon to try again after GitHub kept answering 202 "computing": it usually
/// has the statistics within a minute.
pub const COMPUTING_RETRY_AFTER: Duration = Duration::from_secs(30);

/// Which of the two APIs answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    Rest,
    GraphQl,
}

#[derive(Debug, thiserror::Error)]
pub enum GitHubError {
    /// A non-2xx answer that is not a rate limit.
    #[error("{}: {status} {reason}", match .api { Api::Rest => "GitHub API error", Api::GraphQl => "GitHub GraphQL error" })]
    Status {
        api: Api,
        status: u16,
        reason: String,
    },
    /// Primary (`x-ratelimit-remaining: 0`) or secondary (`retry-after`) rate limit.
    #[error("GitHub rate limit exceeded{}", .retry_after.map(|d| format!("; retry in {}s", d.as_secs())).unwrap_or_default())]
    RateLimited {
        retry_after: Option<Duration>,
        secondary: bool,
    },
    /// A GraphQL answer with `errors` (HTTP 200).
    #[error("GitHub GraphQL: {message}")]
    GraphQl {
        kind: Option<String>,
        message: String,
    },
    /// `stats/contributors` kept answering 202 for the whole wait budget.
    #[error("GitHub is still computing contributor statistics; try again shortly")]
    StillComputing,
    /// Connect/read failure or timeout.
    #[error("GitHub request failed: {0}")]
    Network(#[source] reqwest::Error),
    /// An answer whose body does not have the documented shape.
    #[error("unexpected answer from GitHub: {0}")]
    Decode(String),
}

impl GitHubError {
    /// Whether trying again later can succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            GitHubError::Status { status, .. } => *status >= 500 || *status == 408,
            GitHubError::GraphQl { kind, .. } => !matches!(
                kind.as_deref(),
                Some("NOT_FOUND" | "FORBIDDEN" | "UNAUTHORIZED")
            ),
            GitHubError::RateLimited { .. }
            | GitHubError::StillComputing
            | GitHubError::Network(_)
            | GitHubError::Decode(_) => true,
        }
    }

    /// How long to wait before trying again: what GitHub asked for when it rate
    /// limited us, [`COMPUTING_RETRY_AFTER`] while it computes statistics.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            GitHubError::RateLimited { retry_after, .. } => *retry_after,
            GitHubError::StillComputing => Some(COMPUTING_RETRY_AFTER),
            _ => None,
        }
    }
}

/// How long a rate-limited answer asks us to wait: `retry-after` (seconds) first,
/// else `x-ratelimit-reset` (unix seconds) minus `now`.
pub fn wait_from_headers(headers: &HeaderMap, now_unix: u64) -> Option<Duration> {
    let number =
        |name: &str| -> Option<u64> { headers.get(name)?.to_str().ok()?.trim().parse().ok() };
    if let Some(secs) = number("retry-after") {
        return Some(Duration::from_secs(secs));
    }
    number("x-ratelimit-reset").map(|reset| Duration::from_secs(reset.saturating_sub(now_unix)))
}

/// Classifies a non-2xx, non-304 answer.
///
/// GitHub signals rate limits with 429, or with 403 plus `x-ratelimit-remaining: 0`
/// (primary) or `retry-after` / a "secondary rate limit" message (secondary).
pub fn classify(
    api: Api,
    status: u16,
    headers: &HeaderMap,
    body: &str,
    now_unix: u64,
) -> GitHubError {
    let remaining_zero = headers
        .get("x-ratelimit-remaining")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() == "0");
    let secondary = headers.contains_key("retry-after")
        || body.to_ascii_lowercase().contains("secondary rate limit");
    if status == 429 || (status == 403 && (remaining_zero || secondary)) {
        return GitHubError::RateLimited {
            retry_after: wait_from_headers(headers, now_unix),
            secondary: !remaining_zero,
        };
    }
    GitHubError::Status {
        api,
        status,
        reason: http::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("")
            .to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn server_errors_are_transient_and_keep_the_original_message() {
        let e = classify(Api::Rest, 502, &HeaderMap::new(), "", 0);
        assert!(e.is_transient());
        assert_eq!(e.to_string(), "GitHub API error: 502 Bad Gateway");
        let e = classify(Api::GraphQl, 503, &HeaderMap::new(), "", 0);
        assert_eq!(
            e.to_string(),
            "GitHub GraphQL error: 503 Service Unavailable"
        );
    }

    #[test]
    fn missing_repository_and_bad_credentials_are_permanent() {
        for status in [401, 403, 404, 410, 451] {
            let e = classify(Api::Rest, status, &HeaderMap::new(), "{}", 0);
            assert!(!e.is_transient(), "{status}");
        }
        assert_eq!(
            classify(Api::Rest, 404, &HeaderMap::new(), "", 0).to_string(),
            "GitHub API error: 404 Not Found"
        );
    }

    #[test]
    fn primary_rate_limit_waits_until_the_reset_time() {
        let h = headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "1700000060"),
        ]);
        let e = classify(Api::Rest, 403, &h, "API rate limit exceeded", 1_700_000_000);
        assert!(matches!(
            e,
            GitHubError::RateLimited {
                secondary: false,
                ..
            }
        ));
        assert!(e.is_transient());
        assert_eq!(e.retry_after(), Some(Duration::from_secs(60)));
    }

    #[test]
    fn secondary_rate_limit_honours_retry_after() {
        let h = headers(&[("retry-after", "30")]);
        let e = classify(Api::GraphQl, 403, &h, "", 0);
        assert!(matches!(
            e,
            GitHubError::RateLimited {
                secondary: true,
                ..
            }
        ));
        assert_eq!(e.retry_after(), Some(Duration::from_secs(30)));
        let e = classify(
            Api::Rest,
            403,
            &HeaderMap::new(),
            "You have exceeded a secondary rate limit",
            0,
        );
        assert!(matches!(
            e,
            GitHubError::RateLimited {
                retry_after: None,
                ..
            }
        ));
    }

    #[test]
    fn status_429_is_a_rate_limit() {
        assert!(matches!(
            classify(Api::Rest, 429, &HeaderMap::new(), "", 0),
            GitHubError::RateLimited { .. }
        ));
    }

    #[test]
    fn graphql_not_found_is_permanent_other_errors_transient() {
        let nf = GitHubError::GraphQl {
            kind: Some("NOT_FOUND".into()),
            message: "Could not resolve to a Repository".into(),
        };
        assert!(!nf.is_transient());
        assert_eq!(
            nf.to_string(),
            "GitHub GraphQL: Could not resolve to a Repository"
        );
        let other = GitHubError::GraphQl {
            kind: None,
            message: "Something went wrong".into(),
        };
        assert!(other.is_transient());
    }
}
