//! Query builders for every statement of this crate: `sqlx`'s, with the
//! statement kind chosen by the pooler setting.
//!
//! sqlx prepares each statement under a name and keeps it on the connection,
//! even with its statement cache off. Transaction-mode poolers (PgBouncer,
//! Supavisor, Neon's pooler) hand every transaction a different server
//! connection, where that name does not exist. With `?pgbouncer=true` (or
//! `DATABASE_STATEMENT_CACHE=off`) statements are therefore sent unnamed: the
//! parse, bind and execute travel together, at the price of one parse per
//! execution. The setting is process-wide, like the configuration it comes
//! from (one `DATABASE_URL` per function instance).

use std::sync::atomic::{AtomicBool, Ordering};

use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::{Query, QueryAs, QueryScalar};
use sqlx::{FromRow, Postgres};

static NAMED_STATEMENTS: AtomicBool = AtomicBool::new(true);

/// Whether statements are prepared under a name and kept on the connection.
pub fn named_statements() -> bool {
    NAMED_STATEMENTS.load(Ordering::Relaxed)
}

/// Set by [`super::connect_lazy`] from the pooler setting.
pub(crate) fn set_named_statements(on: bool) {
    NAMED_STATEMENTS.store(on, Ordering::Relaxed);
}

pub fn query(sql: &str) -> Query<'_, Postgres, PgArguments> {
    sqlx::query(sql).persistent(named_statements())
}

/// A `query_as` statement of this crate (binds added with `.bind`).
pub type PgQueryAs<'q, O> = QueryAs<'q, Postgres, O, PgArguments>;

pub fn query_as<'q, O>(sql: &'q str) -> QueryAs<'q, Postgres, O, PgArguments>
where
    O: for<'r> FromRow<'r, PgRow>,
{
    sqlx::query_as(sql).persistent(named_statements())
}

pub fn query_scalar<'q, O>(sql: &'q str) -> QueryScalar<'q, Postgres, O, PgArguments>
where
    (O,): for<'r> FromRow<'r, PgRow>,
{
    sqlx::query_scalar(sql).persistent(named_statements())
}

/// Locks the rows of `table` whose `column` is one of `values` in id order
/// (`FOR NO KEY UPDATE`: foreign-key checks of concurrent writes still run)
/// and returns their ids: the order every multi-row write of the reference
/// data follows within a table, so that two of them wait instead of
/// deadlocking. `table` and `column` are this crate's literals, never input.
pub(crate) async fn lock_rows_in(
    conn: &mut sqlx::PgConnection,
    table: &str,
    column: &str,
    values: &[String],
) -> Result<Vec<String>, sqlx::Error> {
    let sql =
        format!("SELECT id FROM {table} WHERE {column} = ANY($1) ORDER BY id FOR NO KEY UPDATE");
    query_scalar(&sql).bind(values).fetch_all(conn).await
}
