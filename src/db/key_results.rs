//! SQL of `key_results` (model KeyResult, procedures.md §4.4): at most five
//! per milestone or goal, ordered by `sort_order`.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use ts_rs::TS;

use super::roadmap::{iso, RoadmapTable};
use super::time;

/// How many key results one milestone or goal may have.
pub const MAX_PER_PARENT: i64 = 5;

/// `Row(KeyResult)`. Floats are written as JavaScript writes them (`10`, not `10.0`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow, TS)]
#[serde(rename_all = "camelCase")]
pub struct KeyResult {
    pub id: String,
    pub title: String,
    #[serde(serialize_with = "super::github::js_number")]
    pub target_value: f64,
    #[serde(serialize_with = "super::github::js_number")]
    pub current_value: f64,
    pub unit: Option<String>,
    #[ts(as = "super::enums::RoadmapStatus")]
    pub status: String,
    pub sort_order: i32,
    pub milestone_id: Option<String>,
    pub quarterly_goal_id: Option<String>,
    #[serde(with = "time")]
    #[ts(type = "string")]
    pub created_at: NaiveDateTime,
    #[serde(with = "time")]
    #[ts(type = "string")]
    pub updated_at: NaiveDateTime,
}

const COLUMNS: &str = "id, title, target_value, current_value, unit, status::text AS status, \
     sort_order, milestone_id, quarterly_goal_id, created_at, updated_at";

/// `{projectId}` of a key result's parent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ParentProject {
    pub project_id: String,
}

/// `KeyResultWithParents`: the row plus the project of each parent.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct KeyResultWithParents {
    #[serde(flatten)]
    pub key_result: KeyResult,
    pub milestone: Option<ParentProject>,
    pub quarterly_goal: Option<ParentProject>,
}

impl KeyResultWithParents {
    /// The project whose cached view embeds this key result.
    pub fn project_id(&self) -> Option<&str> {
        self.milestone
            .as_ref()
            .or(self.quarterly_goal.as_ref())
            .map(|p| p.project_id.as_str())
    }
}

/// `Row(KeyResult)` of alias `k` as one JSON expression (Postgres prints
/// `float8` the way JavaScript does).
pub fn row_json(k: &str) -> String {
    format!(
        "json_build_object('id', {k}.id, 'title', {k}.title, 'targetValue', {k}.target_value, \
         'currentValue', {k}.current_value, 'unit', {k}.unit, 'status', {k}.status, \
         'sortOrder', {k}.sort_order, 'milestoneId', {k}.milestone_id, \
         'quarterlyGoalId', {k}.quarterly_goal_id, 'createdAt', {}, 'updatedAt', {})",
        iso(&format!("{k}.created_at")),
        iso(&format!("{k}.updated_at")),
    )
}

/// Locks a milestone or goal row until the end of the transaction (key
/// results of one parent are then created one at a time) and returns its
/// project. `None` if there is no such item.
pub async fn lock_parent(
    conn: &mut PgConnection,
    parent: &RoadmapTable,
    id: &str,
) -> Result<Option<String>, sqlx::Error> {
    let sql = format!(
        "SELECT project_id FROM {} WHERE id = $1 FOR NO KEY UPDATE",
        parent.table
    );
    let row: Option<(String,)> = crate::db::sql::query_as(&sql)
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|(p,)| p))
}

/// The values of a key result.
#[derive(Debug, Clone, Default)]
pub struct KeyResultFields {
    pub title: String,
    pub target_value: f64,
    pub current_value: f64,
    /// For updates, `None` leaves the unit unchanged.
    pub unit: Option<String>,
    pub status: &'static str,
}

/// Inserts a key result after its siblings (max `sort_order` + 1, or 0)
/// unless the parent already has [`MAX_PER_PARENT`]: then `None`. Count, max
/// and insert are one statement; call under [`lock_parent`].
pub async fn insert_capped(
    conn: &mut PgConnection,
    parent: &RoadmapTable,
    parent_id: &str,
    f: &KeyResultFields,
) -> Result<Option<KeyResult>, sqlx::Error> {
    let sql = format!(
        "INSERT INTO key_results (id, title, target_value, current_value, unit, status, sort_order,
                                  {owner}, created_at, updated_at)
         SELECT $1, $2, $3, $4, $5, $6::\"RoadmapStatus\",
                LEAST(COALESCE(max(k.sort_order)::bigint + 1, 0), 2147483647)::int, $7, $8, $8
         FROM key_results k WHERE k.{owner} = $7
         HAVING count(*) < $9
         RETURNING {COLUMNS}",
        owner = parent.owner_column
    );
    crate::db::sql::query_as(&sql)
        .bind(super::new_id())
        .bind(&f.title)
        .bind(f.target_value)
        .bind(f.current_value)
        .bind(&f.unit)
        .bind(f.status)
        .bind(parent_id)
        .bind(time::now())
        .bind(MAX_PER_PARENT)
        .fetch_optional(conn)
        .await
}

#[derive(sqlx::FromRow)]
struct WithParentsRow {
    #[sqlx(flatten)]
    key_result: KeyResult,
    milestone_project: Option<String>,
    goal_project: Option<String>,
}

impl From<WithParentsRow> for KeyResultWithParents {
    fn from(r: WithParentsRow) -> Self {
        let project = |p: Option<String>| p.map(|project_id| ParentProject { project_id });
        Self {
            key_result: r.key_result,
            milestone: project(r.milestone_project),
            quarterly_goal: project(r.goal_project),
        }
    }
}

/// `statement` (a data-modifying statement returning `key_results.*`) as a
/// CTE `k`, followed by the select of its row with the parents' projects.
fn with_parents_sql(statement: &str) -> String {
    format!(
        "WITH k AS ({statement})
         SELECT k.id, k.title, k.target_value, k.current_value, k.unit, k.status::text AS status,
                k.sort_order, k.milestone_id, k.quarterly_goal_id, k.created_at, k.updated_at,
                (SELECT project_id FROM milestones WHERE id = k.milestone_id) AS milestone_project,
                (SELECT project_id FROM quarterly_goals WHERE id = k.quarterly_goal_id) AS goal_project
         FROM k"
    )
}

/// Overwrites title, values and status (`unit` only when given). `None` if
/// there is no such key result.
pub async fn update(
    conn: &mut PgConnection,
    id: &str,
    f: &KeyResultFields,
) -> Result<Option<KeyResultWithParents>, sqlx::Error> {
    let sql = with_parents_sql(
        "UPDATE key_results SET title = $2, target_value = $3, current_value = $4,
             unit = COALESCE($5, unit), status = $6::\"RoadmapStatus\", updated_at = $7
         WHERE id = $1 RETURNING *",
    );
    let row: Option<WithParentsRow> = crate::db::sql::query_as(&sql)
        .bind(id)
        .bind(&f.title)
        .bind(f.target_value)
        .bind(f.current_value)
        .bind(&f.unit)
        .bind(f.status)
        .bind(time::now())
        .fetch_optional(conn)
        .await?;
    Ok(row.map(Into::into))
}

/// Deletes a key result. `None` if there is no such key result.
pub async fn delete(
    conn: &mut PgConnection,
    id: &str,
) -> Result<Option<KeyResultWithParents>, sqlx::Error> {
    let sql = with_parents_sql("DELETE FROM key_results WHERE id = $1 RETURNING *");
    let row: Option<WithParentsRow> = crate::db::sql::query_as(&sql)
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(Into::into))
}
