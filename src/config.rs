//! Typed settings, read from the environment once per cold start.
//!
//! Every variable is read in [`Config::from_env`]; all missing or malformed ones are
//! collected into one [`ConfigError`] that names each of them. Secrets are wrapped
//! in [`Secret`], whose `Debug` never prints the value.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

/// A value that must never reach a log line.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// What to do with a rate-limited call when Upstash cannot be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateLimitOnError {
    Allow,
    Deny,
}

/// Who may change an existing person's reporting line
/// (`ENGHUB_REPORTING_LINE_POLICY`; see [`crate::hierarchy`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReportingLinePolicy {
    /// `managers` (default): org admins, and the people above the person in
    /// its management chain.
    #[default]
    Managers,
    /// `open`: every signed-in user, as in the original.
    Open,
}

/// All settings of the API.
#[derive(Debug, Clone)]
pub struct Config {
    /// `DATABASE_URL`: Postgres connection string.
    pub database_url: Secret,
    /// Statement cache off for transaction-mode poolers: `?pgbouncer=true` in
    /// `DATABASE_URL`, or `DATABASE_STATEMENT_CACHE=off`.
    pub pgbouncer: bool,
    /// `UPSTASH_REDIS_REST_URL`.
    pub upstash_url: String,
    /// `UPSTASH_REDIS_REST_TOKEN`.
    pub upstash_token: Secret,
    /// `UPSTASH_TIMEOUT_MS` (default 2000): per-request timeout of the Upstash client.
    pub upstash_timeout: Duration,
    /// `QSTASH_URL` (default `https://qstash.upstash.io`).
    pub qstash_url: String,
    /// `QSTASH_TOKEN` (optional; needed to publish and manage schedules).
    pub qstash_token: Option<Secret>,
    /// `QSTASH_CURRENT_SIGNING_KEY`.
    pub qstash_current_signing_key: Secret,
    /// `QSTASH_NEXT_SIGNING_KEY`.
    pub qstash_next_signing_key: Secret,
    /// `CLERK_JWT_KEY`: PEM public key (real newlines or `\n` escapes).
    pub clerk_jwt_key: String,
    /// `CLERK_AUTHORIZED_PARTIES`: comma-separated origins accepted in `azp` (empty: any).
    pub clerk_authorized_parties: Vec<String>,
    /// `GITHUB_TOKEN` (optional).
    pub github_token: Option<Secret>,
    /// `GITHUB_API_URL` (default `https://api.github.com`).
    pub github_api_url: String,
    /// `ENGHUB_KEY_PREFIX` (default `enghub`): prefix of every Redis key.
    pub key_prefix: String,
    /// `ENGHUB_PUBLIC_URL`: public origin of this deployment, e.g. `https://hub.example.com`.
    pub public_url: Option<String>,
    /// `ENGHUB_ALLOWED_ORIGINS`: comma-separated origins allowed by CORS (empty: none).
    pub allowed_origins: Vec<String>,
    /// `VERCEL_ENV`: `production`, `preview` or `development`.
    pub vercel_env: Option<String>,
    /// `RATE_LIMIT_ON_ERROR` (`allow`|`deny`, default `allow`).
    pub rate_limit_on_error: RateLimitOnError,
    /// `ENGHUB_ADMIN_USER_IDS`: comma-separated Clerk user ids that are org
    /// admins, besides session tokens whose `metadata.role` is `admin`.
    pub admin_user_ids: Vec<String>,
    /// `ENGHUB_REPORTING_LINE_POLICY` (`managers`|`open`, default `managers`).
    pub reporting_line_policy: ReportingLinePolicy,
}

/// Every variable that was missing or malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid configuration: {}", .problems.join("; "))]
pub struct ConfigError {
    pub problems: Vec<String>,
}

impl ConfigError {
    /// The names of the variables at fault, for the JSON error body.
    pub fn variables(&self) -> Vec<String> {
        self.problems
            .iter()
            .map(|p| p.split_whitespace().next().unwrap_or_default().to_string())
            .collect()
    }
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(&std::env::vars().collect())
    }

    /// Reads the given variables (tests and `enghub dev` pass their own).
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let mut problems = Vec::new();
        let get = |name: &str| {
            vars.get(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let mut required = |name: &str| match get(name) {
            Some(v) => v,
            None => {
                problems.push(format!("{name} is not set"));
                String::new()
            }
        };
        let database_url = required("DATABASE_URL");
        let upstash_url = required("UPSTASH_REDIS_REST_URL");
        let upstash_token = required("UPSTASH_REDIS_REST_TOKEN");
        let qstash_current = required("QSTASH_CURRENT_SIGNING_KEY");
        let qstash_next = required("QSTASH_NEXT_SIGNING_KEY");
        let clerk_jwt_key = required("CLERK_JWT_KEY");

        let pgbouncer = database_url.contains("pgbouncer=true")
            || get("DATABASE_STATEMENT_CACHE").as_deref() == Some("off");

        let mut url_var = |name: &str, value: Option<String>| -> Option<String> {
            let value = value?;
            match url::Url::parse(&value) {
                Ok(u) if u.scheme() == "http" || u.scheme() == "https" => {
                    Some(value.trim_end_matches('/').to_string())
                }
                _ => {
                    problems.push(format!("{name} is not an http(s) URL"));
                    None
                }
            }
        };
        let upstash_url = if upstash_url.is_empty() {
            String::new()
        } else {
            url_var("UPSTASH_REDIS_REST_URL", Some(upstash_url)).unwrap_or_default()
        };
        let qstash_url = url_var(
            "QSTASH_URL",
            Some(get("QSTASH_URL").unwrap_or_else(|| "https://qstash.upstash.io".into())),
        )
        .unwrap_or_default();
        let github_api_url = url_var(
            "GITHUB_API_URL",
            Some(get("GITHUB_API_URL").unwrap_or_else(|| "https://api.github.com".into())),
        )
        .unwrap_or_default();
        let public_url = url_var("ENGHUB_PUBLIC_URL", get("ENGHUB_PUBLIC_URL"));

        let upstash_timeout = match get("UPSTASH_TIMEOUT_MS").map(|v| v.parse::<u64>()) {
            None => Duration::from_millis(2000),
            Some(Ok(ms)) if ms > 0 => Duration::from_millis(ms),
            Some(_) => {
                problems.push("UPSTASH_TIMEOUT_MS is not a positive integer".into());
                Duration::from_millis(2000)
            }
        };
        let rate_limit_on_error = match get("RATE_LIMIT_ON_ERROR").as_deref() {
            None | Some("allow") => RateLimitOnError::Allow,
            Some("deny") => RateLimitOnError::Deny,
            Some(_) => {
                problems.push("RATE_LIMIT_ON_ERROR must be allow or deny".into());
                RateLimitOnError::Allow
            }
        };
        let reporting_line_policy = match get("ENGHUB_REPORTING_LINE_POLICY").as_deref() {
            None | Some("managers") => ReportingLinePolicy::Managers,
            Some("open") => ReportingLinePolicy::Open,
            Some(_) => {
                problems.push("ENGHUB_REPORTING_LINE_POLICY must be managers or open".into());
                ReportingLinePolicy::Managers
            }
        };
        let key_prefix = get("ENGHUB_KEY_PREFIX").unwrap_or_else(|| "enghub".into());
        if key_prefix.contains(char::is_whitespace) {
            problems.push("ENGHUB_KEY_PREFIX must not contain whitespace".into());
        }
        let list = |name: &str| -> Vec<String> {
            get(name)
                .map(|v| {
                    v.split(',')
                        .map(|s| s.trim().trim_end_matches('/').to_string())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default()
        };

        if !problems.is_empty() {
            return Err(ConfigError { problems });
        }
        Ok(Config {
            database_url: Secret(database_url),
            pgbouncer,
            upstash_url,
            upstash_token: Secret(upstash_token),
            upstash_timeout,
            qstash_url,
            qstash_token: get("QSTASH_TOKEN").map(Secret),
            qstash_current_signing_key: Secret(qstash_current),
            qstash_next_signing_key: Secret(qstash_next),
            clerk_jwt_key,
            clerk_authorized_parties: list("CLERK_AUTHORIZED_PARTIES"),
            github_token: get("GITHUB_TOKEN").map(Secret),
            github_api_url,
            key_prefix,
            public_url,
            allowed_origins: list("ENGHUB_ALLOWED_ORIGINS"),
            vercel_env: get("VERCEL_ENV"),
            rate_limit_on_error,
            admin_user_ids: get("ENGHUB_ADMIN_USER_IDS")
                .map(|v| {
                    v.split(',')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            reporting_line_policy,
        })
    }

    /// Rate limiting is skipped on preview deployments, as in the original.
    pub fn rate_limits_enabled(&self) -> bool {
        self.vercel_env.as_deref() != Some("preview")
    }
}

/// What the cache operator commands (`enghub cache flush`) need, and nothing
/// else: `UPSTASH_REDIS_REST_URL`, `UPSTASH_REDIS_REST_TOKEN`, and optionally
/// `ENGHUB_KEY_PREFIX` (default `enghub`) and `UPSTASH_TIMEOUT_MS` (2000).
pub struct CacheSettings {
    /// `UPSTASH_REDIS_REST_URL`, without a trailing `/`.
    pub upstash_url: String,
    /// `UPSTASH_REDIS_REST_TOKEN`.
    pub upstash_token: Secret,
    /// `UPSTASH_TIMEOUT_MS` (default 2 s): per Upstash request.
    pub upstash_timeout: Duration,
    /// `ENGHUB_KEY_PREFIX` (default `enghub`): the keys flushed are `<prefix>:*`.
    pub key_prefix: String,
}

impl CacheSettings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(&std::env::vars().collect())
    }

    /// Reads only the cache's variables; every problem is named, as in [`Config`].
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            vars.get(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let mut problems = Vec::new();
        let upstash_url = match get("UPSTASH_REDIS_REST_URL") {
            None => {
                problems.push("UPSTASH_REDIS_REST_URL is not set".to_string());
                String::new()
            }
            Some(u) => match url::Url::parse(&u) {
                Ok(parsed) if parsed.scheme() == "http" || parsed.scheme() == "https" => {
                    u.trim_end_matches('/').to_string()
                }
                _ => {
                    problems.push("UPSTASH_REDIS_REST_URL is not an http(s) URL".to_string());
                    String::new()
                }
            },
        };
        let upstash_token = get("UPSTASH_REDIS_REST_TOKEN").unwrap_or_else(|| {
            problems.push("UPSTASH_REDIS_REST_TOKEN is not set".to_string());
            String::new()
        });
        let upstash_timeout = match get("UPSTASH_TIMEOUT_MS").map(|v| v.parse::<u64>()) {
            None => Duration::from_millis(2000),
            Some(Ok(ms)) if ms > 0 => Duration::from_millis(ms),
            Some(_) => {
                problems.push("UPSTASH_TIMEOUT_MS is not a positive integer".into());
                Duration::from_millis(2000)
            }
        };
        let key_prefix = get("ENGHUB_KEY_PREFIX").unwrap_or_else(|| "enghub".into());
        if key_prefix.contains(char::is_whitespace) {
            problems.push("ENGHUB_KEY_PREFIX must not contain whitespace".into());
        }
        if !problems.is_empty() {
            return Err(ConfigError { problems });
        }
        Ok(Self {
            upstash_url,
            upstash_token: Secret(upstash_token),
            upstash_timeout,
            key_prefix,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> HashMap<String, String> {
        [
            ("DATABASE_URL", "postgres://postgres@127.0.0.1/enghub"),
            ("UPSTASH_REDIS_REST_URL", "http://127.0.0.1:8079/"),
            ("UPSTASH_REDIS_REST_TOKEN", "t"),
            ("QSTASH_CURRENT_SIGNING_KEY", "sig_a"),
            ("QSTASH_NEXT_SIGNING_KEY", "sig_b"),
            ("CLERK_JWT_KEY", "-----BEGIN PUBLIC KEY-----"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    #[test]
    fn every_missing_variable_is_named_in_one_error() {
        let err = Config::from_vars(&HashMap::new()).unwrap_err();
        let vars = err.variables();
        for name in [
            "DATABASE_URL",
            "UPSTASH_REDIS_REST_URL",
            "UPSTASH_REDIS_REST_TOKEN",
            "QSTASH_CURRENT_SIGNING_KEY",
            "QSTASH_NEXT_SIGNING_KEY",
            "CLERK_JWT_KEY",
        ] {
            assert!(
                vars.contains(&name.to_string()),
                "{name} missing from {vars:?}"
            );
        }
    }

    #[test]
    fn defaults_apply_and_trailing_slash_is_dropped() {
        let c = Config::from_vars(&full()).unwrap();
        assert_eq!(c.upstash_url, "http://127.0.0.1:8079");
        assert_eq!(c.key_prefix, "enghub");
        assert_eq!(c.github_api_url, "https://api.github.com");
        assert_eq!(c.upstash_timeout, Duration::from_secs(2));
        assert!(!c.pgbouncer);
        assert_eq!(c.rate_limit_on_error, RateLimitOnError::Allow);
        assert_eq!(c.reporting_line_policy, ReportingLinePolicy::Managers);
        assert!(c.admin_user_ids.is_empty());
    }

    #[test]
    fn reporting_line_policy_and_admins_are_read() {
        let mut vars = full();
        vars.insert("ENGHUB_REPORTING_LINE_POLICY".into(), "open".into());
        vars.insert("ENGHUB_ADMIN_USER_IDS".into(), " user_a, ,user_b ".into());
        let c = Config::from_vars(&vars).unwrap();
        assert_eq!(c.reporting_line_policy, ReportingLinePolicy::Open);
        assert_eq!(c.admin_user_ids, vec!["user_a", "user_b"]);
    }

    #[test]
    fn unknown_reporting_line_policy_is_named() {
        let mut vars = full();
        vars.insert("ENGHUB_REPORTING_LINE_POLICY".into(), "admins".into());
        let err = Config::from_vars(&vars).unwrap_err();
        assert_eq!(err.variables(), vec!["ENGHUB_REPORTING_LINE_POLICY"]);
    }

    #[test]
    fn malformed_values_are_reported() {
        let mut vars = full();
        vars.insert("RATE_LIMIT_ON_ERROR".into(), "maybe".into());
        vars.insert("UPSTASH_TIMEOUT_MS".into(), "-1".into());
        vars.insert("ENGHUB_PUBLIC_URL".into(), "not a url".into());
        let err = Config::from_vars(&vars).unwrap_err();
        assert_eq!(
            err.variables(),
            vec![
                "ENGHUB_PUBLIC_URL",
                "UPSTASH_TIMEOUT_MS",
                "RATE_LIMIT_ON_ERROR"
            ]
        );
    }

    #[test]
    fn pgbouncer_flag_turns_off_statement_cache() {
        let mut vars = full();
        vars.insert(
            "DATABASE_URL".into(),
            "postgres://u@h:6543/db?pgbouncer=true".into(),
        );
        assert!(Config::from_vars(&vars).unwrap().pgbouncer);
    }

    #[test]
    fn secrets_do_not_debug_print() {
        let c = Config::from_vars(&full()).unwrap();
        let printed = format!("{c:?}");
        assert!(!printed.contains("sig_a"));
        assert!(!printed.contains("postgres://"));
    }
}
