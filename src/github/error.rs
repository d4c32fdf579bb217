//! [`GitHubError`]: every way a GitHub call can fail, classified.
//!
//! Policy: a failure is either **transient** (GitHub 5xx, a rate limit, a network
//! error, statistics still being computed, an unreadable answer; trying again later
//! can succeed) or **permanent** (repository gone, bad credentials, a GraphQL
//! `NOT_FOUND`; trying again cannot help). Rate limits carry the time GitHub asked
//! us to wait, so callers can hand it to QStash instead of hammering.
//!
//! `Display` is shown to users (`syncNow`, `github_syncs.sync_error`), so it names
//! the kind of failure and never carries the HTTP client's text or a URL: "GitHub
//! repository not found (404)", "GitHub rate limited until <time>", "GitHub
//! unreachable", "GitHub unreachable (timed out)", "unexpected answer from
//! GitHub"; other statuses keep the original's `GitHub API error: 503 Service
//! Unavailable` / `GitHub GraphQL error: 502 Bad Gateway`, and GraphQL errors
//! GitHub's own message (`GitHub GraphQL: <message>`). The details stay in the
//! error's source chain and in [`GitHubError::detail`], for logs.

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
    #[error("{}", status_message(*.api, *.status, .reason))]
    Status {
        api: Api,
        status: u16,
        reason: String,
    },
    /// Primary (`x-ratelimit-remaining: 0`) or secondary (`retry-after`) rate limit.
    #[error("{}", rate_limited_message(*.retry_after))]
    RateLimited {
        retry_after: Option<Duration>,
        secondary: bool,
    },
    /// A GraphQL answer with `errors` (HTTP 200).
    #[error("{}", graphql_message(.kind.as_deref(), .message))]
    GraphQl {
        kind: Option<String>,
        message: String,
    },
    /// `stats/contributors` kept answering 202 for the whole wait budget.
    #[error("GitHub is still computing contributor statistics; try again shortly")]
    StillComputing,
    /// Connect/read failure or timeout.
    #[error("GitHub unreachable{}", if .0.is_timeout() { " (timed out)" } else { "" })]
    Network(#[source] reqwest::Error),
    /// An answer whose body does not have the documented shape.
    #[error("unexpected answer from GitHub")]
    Decode(String),
}

fn status_message(api: Api, status: u16, reason: &str) -> String {
    if matches!(status, 404 | 410) {
        return format!("GitHub repository not found ({status})");
    }
    let label = match api {
        Api::Rest => "GitHub API error",
        Api::GraphQl => "GitHub GraphQL error",
    };
    format!("{label}: {status} {reason}")
}

fn rate_limited_message(retry_after: Option<Duration>) -> String {
    let until = retry_after.and_then(|wait| {
        let at = chrono::Utc::now() + chrono::Duration::from_std(wait).ok()?;
        Some(crate::db::time::to_iso(&at.naive_utc().trunc_subsecs(0)))
    });
    match until {
        Some(until) => format!("GitHub rate limited until {until}"),
        None => "GitHub rate limited".to_string(),
    }
}

fn graphql_message(kind: Option<&str>, message: &str) -> String {
    match kind {
        Some("NOT_FOUND") => "GitHub repository not found".to_string(),
        _ => format!("GitHub GraphQL: {message}"),
    }
}

use chrono::SubsecRound;

impl GitHubError {
    /// What the message leaves out, for logs only: which step of the request
    /// failed (never its URL), or the decoding problem.
    pub fn detail(&self) -> Option<String> {
        match self {
            GitHubError::Network(e) => Some(
                if e.is_timeout() {
                    "timeout"
                } else if e.is_connect() {
                    "connect"
                } else if e.is_body() || e.is_decode() {
                    "reading the answer"
                } else {
                    "sending the request"
                }
                .to_string(),
            ),
            GitHubError::Decode(why) => Some(why.clone()),
            _ => None,
        }
    }

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
            "GitHub repository not found (404)"
        );
    }

    #[test]
    fn messages_name_the_kind_of_failure_never_client_text() {
        let limited = GitHubError::RateLimited {
            retry_after: Some(Duration::from_secs(120)),
            secondary: false,
        }
        .to_string();
        assert!(
            limited.starts_with("GitHub rate limited until 20"),
            "{limited}"
        );
        assert!(limited.ends_with(".000Z"), "{limited}");
        assert_eq!(
            GitHubError::RateLimited {
                retry_after: None,
                secondary: true
            }
            .to_string(),
            "GitHub rate limited"
        );
        assert_eq!(
            GitHubError::Decode("missing field `data` at http://10.0.0.7/graphql".into())
                .to_string(),
            "unexpected answer from GitHub"
        );
        let not_found = GitHubError::GraphQl {
            kind: Some("NOT_FOUND".into()),
            message: "Could not resolve to a Repository with the name 'o/r'.".into(),
        };
        assert_eq!(not_found.to_string(), "GitHub repository not found");
    }

    #[tokio::test]
    async fn an_unreachable_github_is_named_without_the_clients_text() {
        // A closed port: the connection is refused.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let err = reqwest::Client::new()
            .get(format!("http://127.0.0.1:{port}/internal/graphql"))
            .send()
            .await
            .unwrap_err();
        let e = GitHubError::Network(err);
        assert_eq!(e.to_string(), "GitHub unreachable");
        let detail = e.detail().unwrap();
        assert!(
            !detail.contains("127.0.0.1") && !detail.contains("internal"),
            "{detail}"
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
        assert_eq!(nf.to_string(), "GitHub repository not found");
        let other = GitHubError::GraphQl {
            kind: None,
            message: "Something went wrong".into(),
        };
        assert!(other.is_transient());
    }
}
