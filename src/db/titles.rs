//! SQL of the `titles` table.

use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use sqlx::PgConnection;
use ts_rs::TS;

pub use super::reference_rows::Title;
use super::reference_rows::{Department, PeopleCount};
use super::sql::lock_rows_in;

/// `TitleView`: a title with its department and head count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TitleView {
    pub id: String,
    pub name: String,
    pub sort_order: i32,
    pub department_id: Option<String>,
    pub department: Option<Department>,
    #[serde(rename = "_count")]
    pub count: PeopleCount,
}

const COLUMNS: &str = "id, name, sort_order, department_id";

/// Every title with department and head count, by sort order (one query).
pub async fn list_views(conn: &mut PgConnection) -> Result<Vec<TitleView>, sqlx::Error> {
    let rows: Vec<(Json<TitleView>,)> = crate::db::sql::query_as(
        r#"SELECT json_build_object(
              'id', t.id, 'name', t.name, 'sortOrder', t.sort_order, 'departmentId', t.department_id,
              'department', CASE WHEN r.id IS NULL THEN NULL
                                 ELSE json_build_object('id', r.id, 'name', r.name, 'color', r.color) END,
              '_count', json_build_object('people',
                  (SELECT count(*) FROM people p WHERE p.title_id = t.id)))
           FROM titles t LEFT JOIN roles r ON r.id = t.department_id
           ORDER BY t.sort_order, t.name"#,
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|(Json(v),)| v).collect())
}

/// Inserts a title at the end of the global order. Run inside a transaction:
/// an advisory lock serialises concurrent creates so no two get the same
/// sort order (procedures.md §9 item 15).
pub async fn insert_last(
    conn: &mut PgConnection,
    id: &str,
    name: &str,
    department_id: Option<&str>,
) -> Result<Title, sqlx::Error> {
    crate::db::sql::query("SELECT pg_advisory_xact_lock(hashtext('enghub.titles.sort_order'))")
        .execute(&mut *conn)
        .await?;
    crate::db::sql::query_as(&format!(
        "INSERT INTO titles (id, name, department_id, sort_order)
         SELECT $1, $2, $3, COALESCE(MAX(sort_order), -1) + 1 FROM titles
         RETURNING {COLUMNS}"
    ))
    .bind(id)
    .bind(name)
    .bind(department_id)
    .fetch_one(conn)
    .await
}

/// Sets name and department (`None` clears it). `None` if no such row.
pub async fn update(
    conn: &mut PgConnection,
    id: &str,
    name: &str,
    department_id: Option<&str>,
) -> Result<Option<Title>, sqlx::Error> {
    crate::db::sql::query_as(&format!(
        "UPDATE titles SET name = $2, department_id = $3 WHERE id = $1 RETURNING {COLUMNS}"
    ))
    .bind(id)
    .bind(name)
    .bind(department_id)
    .fetch_optional(conn)
    .await
}

pub async fn delete(conn: &mut PgConnection, id: &str) -> Result<Option<Title>, sqlx::Error> {
    crate::db::sql::query_as(&format!(
        "DELETE FROM titles WHERE id = $1 RETURNING {COLUMNS}"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

pub async fn exists(conn: &mut PgConnection, id: &str) -> Result<bool, sqlx::Error> {
    let row: Option<(i32,)> = crate::db::sql::query_as("SELECT 1 FROM titles WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(row.is_some())
}

/// Sets `sort_order = position` for each `(id, position)` in one statement and
/// returns the updated rows (in no particular order).
pub async fn set_positions(
    conn: &mut PgConnection,
    ids: &[String],
    positions: &[i32],
) -> Result<Vec<Title>, sqlx::Error> {
    crate::db::sql::query_as(
        "UPDATE titles AS t SET sort_order = u.pos
         FROM unnest($1::text[], $2::int4[]) AS u(id, pos)
         WHERE t.id = u.id
         RETURNING t.id, t.name, t.sort_order, t.department_id",
    )
    .bind(ids)
    .bind(positions)
    .fetch_all(conn)
    .await
}

/// Locks the titles `ids` in id order (`FOR NO KEY UPDATE`) and returns those
/// that exist (one deleted by a concurrent write is gone once its lock is
/// granted). Every multi-row write of titles takes these locks first, so two
/// of them wait for each other instead of deadlocking.
pub async fn lock(conn: &mut PgConnection, ids: &[String]) -> Result<Vec<String>, sqlx::Error> {
    lock_rows_in(conn, "titles", "id", ids).await
}

/// [`lock`] of `keep_id` and `merge_ids`, then of the people holding a
/// merged title (ids sorted): the rows [`merge`] writes, in the order every
/// multi-row write follows (titles before people). Returns the titles that
/// still exist.
pub async fn lock_for_merge(
    conn: &mut PgConnection,
    keep_id: &str,
    merge_ids: &[String],
) -> Result<Vec<String>, sqlx::Error> {
    let mut all: Vec<String> = merge_ids.to_vec();
    all.push(keep_id.to_string());
    let existing = lock(&mut *conn, &all).await?;
    lock_rows_in(&mut *conn, "people", "title_id", merge_ids).await?;
    Ok(existing)
}

/// Moves people of `merge_ids` to `keep_id`, then deletes `merge_ids`. Run
/// inside a transaction. Lock first with [`lock_for_merge`].
pub async fn merge(
    conn: &mut PgConnection,
    keep_id: &str,
    merge_ids: &[String],
) -> Result<(), sqlx::Error> {
    crate::db::sql::query(
        "UPDATE people SET title_id = $1, updated_at = $3 WHERE title_id = ANY($2)",
    )
    .bind(keep_id)
    .bind(merge_ids)
    .bind(super::time::now())
    .execute(&mut *conn)
    .await?;
    crate::db::sql::query("DELETE FROM titles WHERE id = ANY($1)")
        .bind(merge_ids)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
