//! SQL of `cache_outbox`: cache keys whose invalidation could not reach Upstash
//! after a commit (migration 0003). Keys are stored without the deployment
//! prefix; this module knows nothing of what they mean.

use sqlx::PgConnection;

use super::sql;

/// How many pending keys one drain takes (the rest wait for the next one).
pub const DRAIN_BATCH: i64 = 500;

/// Records keys to invalidate later (one statement).
pub async fn record(conn: &mut PgConnection, keys: &[String]) -> Result<(), sqlx::Error> {
    if keys.is_empty() {
        return Ok(());
    }
    sql::query("INSERT INTO cache_outbox (key) SELECT unnest($1::text[])")
        .bind(keys)
        .execute(conn)
        .await?;
    Ok(())
}

/// The oldest [`DRAIN_BATCH`] pending entries, as `(id, key)`.
pub async fn pending(conn: &mut PgConnection) -> Result<Vec<(i64, String)>, sqlx::Error> {
    sql::query_as("SELECT id, key FROM cache_outbox ORDER BY id LIMIT $1")
        .bind(DRAIN_BATCH)
        .fetch_all(conn)
        .await
}

/// Removes entries whose keys were invalidated (by id: entries recorded since
/// the read stay).
pub async fn remove(conn: &mut PgConnection, ids: &[i64]) -> Result<(), sqlx::Error> {
    if ids.is_empty() {
        return Ok(());
    }
    sql::query("DELETE FROM cache_outbox WHERE id = ANY($1)")
        .bind(ids)
        .execute(conn)
        .await?;
    Ok(())
}

/// How many entries are pending.
pub async fn depth(conn: &mut PgConnection) -> Result<i64, sqlx::Error> {
    sql::query_scalar("SELECT count(*) FROM cache_outbox")
        .fetch_one(conn)
        .await
}
