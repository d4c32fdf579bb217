//! SQL of the `roles` table (model Department).

use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use sqlx::PgConnection;
use ts_rs::TS;

use super::reference_rows::Title;
pub use super::reference_rows::{Department, PeopleCount};
use super::sql::lock_rows_in;

/// `DepartmentView`: a department with its titles (sort order) and head count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DepartmentView {
    pub id: String,
    pub name: String,
    pub color: Option<String>,
    pub titles: Vec<Title>,
    #[serde(rename = "_count")]
    pub count: PeopleCount,
}

/// Every department with titles and head count, by name (one query).
pub async fn list_views(conn: &mut PgConnection) -> Result<Vec<DepartmentView>, sqlx::Error> {
    let rows: Vec<(Json<DepartmentView>,)> = crate::db::sql::query_as(
        r#"SELECT json_build_object(
              'id', r.id, 'name', r.name, 'color', r.color,
              'titles', COALESCE((
                  SELECT json_agg(json_build_object('id', t.id, 'name', t.name,
                             'sortOrder', t.sort_order, 'departmentId', t.department_id)
                         ORDER BY t.sort_order, t.name)
                  FROM titles t WHERE t.department_id = r.id), '[]'::json),
              '_count', json_build_object('people',
                  (SELECT count(*) FROM people p WHERE p.role_id = r.id)))
           FROM roles r
           ORDER BY r.name"#,
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|(Json(v),)| v).collect())
}

pub async fn insert(
    conn: &mut PgConnection,
    id: &str,
    name: &str,
    color: Option<&str>,
) -> Result<Department, sqlx::Error> {
    crate::db::sql::query_as(
        "INSERT INTO roles (id, name, color) VALUES ($1, $2, $3) RETURNING id, name, color",
    )
    .bind(id)
    .bind(name)
    .bind(color)
    .fetch_one(conn)
    .await
}

/// Sets the name, and the colour only when one is given. `None` if no such row.
pub async fn update(
    conn: &mut PgConnection,
    id: &str,
    name: &str,
    color: Option<&str>,
) -> Result<Option<Department>, sqlx::Error> {
    crate::db::sql::query_as(
        "UPDATE roles SET name = $2, color = COALESCE($3, color) WHERE id = $1 RETURNING id, name, color",
    )
    .bind(id)
    .bind(name)
    .bind(color)
    .fetch_optional(conn)
    .await
}

/// Deletes one department (people and titles keep a NULL department).
pub async fn delete(conn: &mut PgConnection, id: &str) -> Result<Option<Department>, sqlx::Error> {
    crate::db::sql::query_as("DELETE FROM roles WHERE id = $1 RETURNING id, name, color")
        .bind(id)
        .fetch_optional(conn)
        .await
}

pub async fn exists(conn: &mut PgConnection, id: &str) -> Result<bool, sqlx::Error> {
    let row: Option<(i32,)> = crate::db::sql::query_as("SELECT 1 FROM roles WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(row.is_some())
}

/// Locks, in the order every multi-row write follows (departments, then
/// titles, then people; ids sorted within each table), the rows a merge of
/// `merge_ids` into `keep_id` writes: both departments, the titles and the
/// people of the merged ones. Returns which of `keep_id` and `merge_ids`
/// still exist once locked: a department merged away by a concurrent merge is
/// gone when its lock is granted. `FOR NO KEY UPDATE` leaves the foreign-key
/// checks of concurrent person/title writes free to run. Run inside a
/// transaction, before [`merge`].
pub async fn lock_for_merge(
    conn: &mut PgConnection,
    keep_id: &str,
    merge_ids: &[String],
) -> Result<Vec<String>, sqlx::Error> {
    let mut all: Vec<String> = merge_ids.to_vec();
    all.push(keep_id.to_string());
    let existing = lock_rows_in(&mut *conn, "roles", "id", &all).await?;
    lock_rows_in(&mut *conn, "titles", "department_id", merge_ids).await?;
    lock_rows_in(&mut *conn, "people", "role_id", merge_ids).await?;
    Ok(existing)
}

/// Moves people and titles of `merge_ids` to `keep_id`, then deletes
/// `merge_ids`. Run inside a transaction. Lock first with [`lock_for_merge`].
pub async fn merge(
    conn: &mut PgConnection,
    keep_id: &str,
    merge_ids: &[String],
) -> Result<(), sqlx::Error> {
    crate::db::sql::query(
        "UPDATE people SET role_id = $1, updated_at = $3 WHERE role_id = ANY($2)",
    )
    .bind(keep_id)
    .bind(merge_ids)
    .bind(super::time::now())
    .execute(&mut *conn)
    .await?;
    crate::db::sql::query("UPDATE titles SET department_id = $1 WHERE department_id = ANY($2)")
        .bind(keep_id)
        .bind(merge_ids)
        .execute(&mut *conn)
        .await?;
    crate::db::sql::query("DELETE FROM roles WHERE id = ANY($1)")
        .bind(merge_ids)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
