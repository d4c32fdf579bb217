//! SQL of the `project_links` table (model ProjectLink).

use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use ts_rs::TS;

/// `Row(ProjectLink)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow, TS)]
#[serde(rename_all = "camelCase")]
pub struct ProjectLink {
    pub id: String,
    pub label: String,
    pub url: String,
    pub project_id: String,
}

/// The links of a project. The original issues no `ORDER BY`; rows come in
/// insertion order (ids are time-ordered cuids), as Postgres returns them.
pub async fn list_for_project(
    conn: &mut PgConnection,
    project_id: &str,
) -> Result<Vec<ProjectLink>, sqlx::Error> {
    super::sql::query_as(
        "SELECT id, label, url, project_id FROM project_links WHERE project_id = $1 ORDER BY id",
    )
    .bind(project_id)
    .fetch_all(conn)
    .await
}

pub async fn find(conn: &mut PgConnection, id: &str) -> Result<Option<ProjectLink>, sqlx::Error> {
    super::sql::query_as("SELECT id, label, url, project_id FROM project_links WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await
}

pub async fn insert(
    conn: &mut PgConnection,
    project_id: &str,
    label: &str,
    url: &str,
) -> Result<ProjectLink, sqlx::Error> {
    super::sql::query_as(
        "INSERT INTO project_links (id, label, url, project_id) VALUES ($1, $2, $3, $4)
         RETURNING id, label, url, project_id",
    )
    .bind(super::new_id())
    .bind(label)
    .bind(url)
    .bind(project_id)
    .fetch_one(conn)
    .await
}

/// Sets label and url. `None` if no such link.
pub async fn update(
    conn: &mut PgConnection,
    id: &str,
    label: &str,
    url: &str,
) -> Result<Option<ProjectLink>, sqlx::Error> {
    super::sql::query_as(
        "UPDATE project_links SET label = $2, url = $3 WHERE id = $1
         RETURNING id, label, url, project_id",
    )
    .bind(id)
    .bind(label)
    .bind(url)
    .fetch_optional(conn)
    .await
}

/// `None` if no such link.
pub async fn delete(conn: &mut PgConnection, id: &str) -> Result<Option<ProjectLink>, sqlx::Error> {
    super::sql::query_as(
        "DELETE FROM project_links WHERE id = $1 RETURNING id, label, url, project_id",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}
