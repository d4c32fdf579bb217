//! SQL of the `health_assessments` table (model HealthAssessment). Rows are
//! read as JSON (`Row(HealthAssessment)`, notes embedded as stored).

use serde::Serialize;
use serde_json::Value;
use sqlx::types::Json;
use sqlx::PgConnection;
use ts_rs::TS;

use super::projects::{HealthAssessment, ASSESSMENT_JSON, ASSESSMENT_ORDER};
use super::time;
use crate::trpc::types::View;

/// The status and notes columns, in the model's order (`overall` first).
pub const DIMENSIONS: [&str; 8] = [
    "overall",
    "growth",
    "margin",
    "longevity",
    "client_satisfaction",
    "engineering_vibe",
    "product_vibe",
    "design_vibe",
];

/// One dimension of an assessment input: `None` = not provided (the original's
/// `?? undefined`: the column is NULL on create and kept on update).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dimension {
    /// `RED`, `YELLOW` or `GREEN`.
    pub status: Option<String>,
    pub notes: Option<Value>,
}

/// `{id, projectId}`, what create and update return.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, TS)]
#[serde(rename_all = "camelCase")]
pub struct AssessmentRef {
    pub id: String,
    pub project_id: String,
}

/// The assessments of a project, newest first.
pub async fn list_for_project(
    conn: &mut PgConnection,
    project_id: &str,
) -> Result<View<Vec<HealthAssessment>>, sqlx::Error> {
    let sql = format!(
        "SELECT COALESCE(json_agg({ASSESSMENT_JSON} ORDER BY {ASSESSMENT_ORDER}), '[]'::json) \
         FROM health_assessments h WHERE h.project_id = $1"
    );
    let (Json(rows),): (Json<Value>,) = super::sql::query_as(&sql)
        .bind(project_id)
        .fetch_one(conn)
        .await?;
    Ok(View::new(rows))
}

pub async fn find(
    conn: &mut PgConnection,
    id: &str,
) -> Result<Option<View<HealthAssessment>>, sqlx::Error> {
    let sql = format!("SELECT {ASSESSMENT_JSON} FROM health_assessments h WHERE h.id = $1");
    let row: Option<(Json<Value>,)> = super::sql::query_as(&sql)
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|(Json(v),)| View::new(v)))
}

/// Statuses and notes as the parallel arrays the statements below unnest.
fn columns(dims: &[Dimension; 8]) -> (Vec<Option<String>>, Vec<Option<Json<Value>>>) {
    (
        dims.iter().map(|d| d.status.clone()).collect(),
        dims.iter().map(|d| d.notes.clone().map(Json)).collect(),
    )
}

/// Inserts an assessment by `author_id`; `dims` in [`DIMENSIONS`] order.
pub async fn insert(
    conn: &mut PgConnection,
    id: &str,
    project_id: &str,
    author_id: &str,
    dims: &[Dimension; 8],
) -> Result<AssessmentRef, sqlx::Error> {
    let (statuses, notes) = columns(dims);
    let mut columns = String::new();
    let mut values = String::new();
    for (i, d) in DIMENSIONS.iter().enumerate() {
        columns.push_str(&format!(", {d}_status, {d}_notes"));
        values.push_str(&format!(
            ", ($5::text[])[{n}]::\"HealthStatus\", ($6::jsonb[])[{n}]",
            n = i + 1
        ));
    }
    let sql = format!(
        "INSERT INTO health_assessments (id, project_id, author_id, created_at, updated_at{columns}) \
         VALUES ($1, $2, $3, $4, $4{values}) RETURNING id, project_id"
    );
    super::sql::query_as(&sql)
        .bind(id)
        .bind(project_id)
        .bind(author_id)
        .bind(time::now())
        .bind(&statuses)
        .bind(&notes)
        .fetch_one(conn)
        .await
}

/// The author and project of an assessment, row-locked for an update or
/// delete by its author.
pub async fn lock(
    conn: &mut PgConnection,
    id: &str,
) -> Result<Option<(String, String)>, sqlx::Error> {
    super::sql::query_as(
        "SELECT author_id, project_id FROM health_assessments WHERE id = $1 FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Sets the overall status and every provided dimension (others are kept).
pub async fn update(
    conn: &mut PgConnection,
    id: &str,
    dims: &[Dimension; 8],
) -> Result<Option<AssessmentRef>, sqlx::Error> {
    let (statuses, notes) = columns(dims);
    let sets: Vec<String> = DIMENSIONS
        .iter()
        .enumerate()
        .map(|(i, d)| {
            format!(
                "{d}_status = COALESCE(($3::text[])[{n}]::\"HealthStatus\", {d}_status), \
                 {d}_notes = COALESCE(($4::jsonb[])[{n}], {d}_notes)",
                n = i + 1
            )
        })
        .collect();
    let sql = format!(
        "UPDATE health_assessments SET updated_at = $2, {} WHERE id = $1 RETURNING id, project_id",
        sets.join(", ")
    );
    super::sql::query_as(&sql)
        .bind(id)
        .bind(time::now())
        .bind(&statuses)
        .bind(&notes)
        .fetch_optional(conn)
        .await
}

pub async fn delete(conn: &mut PgConnection, id: &str) -> Result<bool, sqlx::Error> {
    let done = super::sql::query("DELETE FROM health_assessments WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}
