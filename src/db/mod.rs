//! Postgres: pool, embedded migrations, seed data, row types and SQL.
//!
//! Layout:
//! - this module: the pool ([`connect_lazy`]), the embedded migrations ([`migrate`]) and
//!   application-generated ids ([`new_id`]);
//! - [`time`]: `timestamp(3)` values as the JSON strings the original API returns;
//! - [`seed`](mod@seed): the demo organisation loaded by `enghub dev` / `enghub seed`.
//!
//! The schema lives in `migrations/` and matches what `prisma db push` creates for the
//! original, so the port can run against an existing eng-hub database. This module knows
//! nothing of caching or tRPC; SQL is written as runtime queries (no database at build time).

pub mod arrangements;
pub mod comments;
pub mod departments;
pub mod enums;
pub mod github;
pub mod health_assessments;
pub mod key_results;
pub mod meetings;
pub mod outbox;
pub mod paging;
pub mod people;
pub mod project_links;
pub mod projects;
pub mod reference_rows;
pub mod reporting;
pub mod roadmap;
pub mod seed;
pub mod sql;
pub mod team_members;
pub mod teams;
pub mod time;
pub mod titles;

use std::borrow::Cow;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

pub use seed::{seed, SeedOutcome};

/// The Postgres pool every procedure runs against.
pub type Db = sqlx::PgPool;

/// Clerk user id of the seeded person that `enghub dev` issues bearer tokens for.
pub const DEV_CLERK_USER_ID: &str = "user_dev_enghub";

/// Connections per instance. Each serverless instance serves one request at a time,
/// but a batch runs its procedures concurrently; more would only exhaust the server.
const MAX_CONNECTIONS: u32 = 5;
/// How long a request waits for a connection before failing instead of hanging.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
/// Idle connections are closed after this; a frozen instance should not pin server slots.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Builds a pool that connects lazily: no connection is opened until first use, so a
/// Vercel cold start never blocks on Postgres.
///
/// `pgbouncer` disables the prepared-statement cache and named statements (see
/// [`sql`]), which transaction-mode poolers (PgBouncer, Supavisor, Neon's
/// pooler) cannot support. Prisma-style URLs carry
/// `pgbouncer=true` as a query parameter: it is removed before the URL reaches sqlx, and
/// when its value is `true` it turns the flag on as well.
///
/// Must be called inside a Tokio runtime: the pool spawns its idle-connection reaper.
/// Errors are configuration errors about the URL; they never contain the URL itself,
/// which holds the password.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), sqlx::Error> {
/// let db = enghub::db::connect_lazy("postgres://u:p@db.example.com:6543/app?pgbouncer=true", true)?;
/// assert_eq!(db.size(), 0); // nothing connected yet
/// # Ok(())
/// # }
/// ```
pub fn connect_lazy(database_url: &str, pgbouncer: bool) -> Result<Db, sqlx::Error> {
    let (url, url_says_pgbouncer) = strip_pgbouncer_param(database_url)?;
    let mut options = PgConnectOptions::from_str(&url).map_err(|_| {
        sqlx::Error::Configuration("DATABASE_URL is not a valid Postgres connection URL".into())
    })?;
    let pooled = pgbouncer || url_says_pgbouncer;
    if pooled {
        options = options.statement_cache_capacity(0);
    }
    sql::set_named_statements(!pooled);
    Ok(PgPoolOptions::new()
        .max_connections(MAX_CONNECTIONS)
        .min_connections(0)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .idle_timeout(IDLE_TIMEOUT)
        .connect_lazy_with(options))
}

/// Removes every `pgbouncer` query parameter (sqlx would log it as unrecognised) and
/// reports whether one of them was `true`.
fn strip_pgbouncer_param(database_url: &str) -> Result<(Cow<'_, str>, bool), sqlx::Error> {
    let mut url = url::Url::parse(database_url).map_err(|e| {
        sqlx::Error::Configuration(format!("DATABASE_URL is not a valid URL: {e}").into())
    })?;
    if !url.query_pairs().any(|(key, _)| key == "pgbouncer") {
        return Ok((Cow::Borrowed(database_url), false));
    }
    let mut pgbouncer = false;
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(key, value)| {
            if key == "pgbouncer" {
                pgbouncer |= value == "true";
                false
            } else {
                true
            }
        })
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect();
    if kept.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(kept);
    }
    Ok((Cow::Owned(url.into()), pgbouncer))
}

/// Applies the embedded migrations (`migrations/`). Safe to run from several instances
/// at once (sqlx serialises them with an advisory lock) and on a database that
/// `prisma db push` created (every statement is `IF NOT EXISTS`).
pub async fn migrate(db: &Db) -> Result<(), sqlx::migrate::MigrateError> {
    MIGRATOR.run(db).await
}

/// The embedded migrations (tests hash them to name their template database).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();

/// A new primary key: a v1 cuid like Prisma's `@default(cuid())`
/// (`c` + 24 lowercase base-36 characters).
///
/// ```
/// let id = enghub::db::new_id();
/// assert!(id.starts_with('c') && id.len() == 25);
/// ```
pub fn new_id() -> String {
    // cuid1 only fails if the system clock is before 1970 or the hostname cannot be read;
    // an id is still needed then, so build one of the same shape from time and randomness.
    cuid::cuid1().unwrap_or_else(|_| fallback_cuid())
}

fn fallback_cuid() -> String {
    use rand::Rng;
    const BASE36: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut millis = u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0);
    let mut timestamp = [b'0'; 8];
    for digit in timestamp.iter_mut().rev() {
        *digit = BASE36[(millis % 36) as usize];
        millis /= 36;
    }
    let mut rng = rand::thread_rng();
    let mut id = String::with_capacity(25);
    id.push('c');
    id.extend(timestamp.iter().map(|&b| char::from(b)));
    id.extend((0..16).map(|_| char::from(BASE36[rng.gen_range(0..36)])));
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pgbouncer_param_is_removed_and_other_params_kept() {
        let (url, flag) =
            strip_pgbouncer_param("postgres://u:p%40ss@h:6543/db?pgbouncer=true&sslmode=require")
                .unwrap();
        assert_eq!(url, "postgres://u:p%40ss@h:6543/db?sslmode=require");
        assert!(flag);
    }

    #[test]
    fn url_without_other_params_loses_its_query_entirely() {
        let (url, flag) = strip_pgbouncer_param("postgres://u@h/db?pgbouncer=true").unwrap();
        assert_eq!(url, "postgres://u@h/db");
        assert!(flag);
    }

    #[test]
    fn url_without_pgbouncer_is_untouched() {
        let (url, flag) = strip_pgbouncer_param("postgres://u@h/db?sslmode=disable").unwrap();
        assert!(matches!(
            url,
            Cow::Borrowed("postgres://u@h/db?sslmode=disable")
        ));
        assert!(!flag);
    }

    #[test]
    fn pgbouncer_false_is_removed_without_setting_the_flag() {
        let (url, flag) = strip_pgbouncer_param("postgres://u@h/db?pgbouncer=false").unwrap();
        assert_eq!(url, "postgres://u@h/db");
        assert!(!flag);
    }

    #[test]
    fn invalid_url_error_does_not_echo_the_url() {
        let err = connect_lazy("not a url with secret-password", false).unwrap_err();
        assert!(!err.to_string().contains("secret-password"));
    }

    #[test]
    fn fallback_id_has_the_cuid_shape() {
        let id = fallback_cuid();
        assert_eq!(id.len(), 25);
        assert!(id.starts_with('c'));
        assert!(id
            .chars()
            .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase()));
    }
}
