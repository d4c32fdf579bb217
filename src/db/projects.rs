//! SQL of the `projects` table (model Project) and the views built on it:
//! `ProjectListItem` (`project.getAll`, `project.list`) and `ProjectDetail`
//! (`project.getById`), each assembled by Postgres as JSON in one statement,
//! whatever the size of the project.
//!
//! Orderings follow the original's `orderBy`; where it had none ("unordered")
//! or left ties, rows come in insertion order (`created_at`, then the
//! time-ordered cuid `id`), which is what Postgres returns for the original's
//! freshly written tables.
//!
//! The views are returned as JSON values, not typed rows: key order is the
//! SQL's (serde_json keeps it), numbers keep Postgres' text (`10`, not
//! `10.0`), and dates are printed by Postgres in `toISOString` form
//! ([`crate::js_iso_sql!`], the API's one date format; the roadmap trees are
//! [`roadmap::RoadmapTable::project_nodes_json`]), so the value can go to the
//! cache and the client as is.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::types::Json;
use sqlx::PgConnection;
use ts_rs::TS;

use super::enums::HealthStatus;
use super::paging::SearchPage;
use super::people::{
    MembershipWithTeam, PersonWithOrg, TeamRow as Team, DEPARTMENT_OF_P, PERSON_FIELDS_ISO,
    TITLE_OF_P,
};
use super::project_links::ProjectLink;
use super::roadmap::{MilestoneNode, QuarterlyGoalNode};
use super::sql::PgQueryAs;
use super::{roadmap, time};
use crate::trpc::types::View;

/// `Row(Project)`.
pub use super::people::ProjectRow as Project;

/// `Row(HealthAssessment)`: eight dimensions, each a status and rich-text
/// notes (a JSON document), any of them null.
#[derive(Debug, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct HealthAssessment {
    pub id: String,
    pub project_id: String,
    pub author_id: String,
    #[ts(as = "Option<HealthStatus>")]
    pub overall_status: Option<String>,
    #[ts(type = "JsonValue | null")]
    pub overall_notes: Option<Value>,
    #[ts(as = "Option<HealthStatus>")]
    pub growth_status: Option<String>,
    #[ts(type = "JsonValue | null")]
    pub growth_notes: Option<Value>,
    #[ts(as = "Option<HealthStatus>")]
    pub margin_status: Option<String>,
    #[ts(type = "JsonValue | null")]
    pub margin_notes: Option<Value>,
    #[ts(as = "Option<HealthStatus>")]
    pub longevity_status: Option<String>,
    #[ts(type = "JsonValue | null")]
    pub longevity_notes: Option<Value>,
    #[ts(as = "Option<HealthStatus>")]
    pub client_satisfaction_status: Option<String>,
    #[ts(type = "JsonValue | null")]
    pub client_satisfaction_notes: Option<Value>,
    #[ts(as = "Option<HealthStatus>")]
    pub engineering_vibe_status: Option<String>,
    #[ts(type = "JsonValue | null")]
    pub engineering_vibe_notes: Option<Value>,
    #[ts(as = "Option<HealthStatus>")]
    pub product_vibe_status: Option<String>,
    #[ts(type = "JsonValue | null")]
    pub product_vibe_notes: Option<Value>,
    #[ts(as = "Option<HealthStatus>")]
    pub design_vibe_status: Option<String>,
    #[ts(type = "JsonValue | null")]
    pub design_vibe_notes: Option<Value>,
    /// ISO 8601 (`toISOString`).
    pub created_at: String,
    pub updated_at: String,
}

/// `ProjectListItem` (`project.getAll`, `project.list`): the project and
/// its newest health assessment, if any.
#[derive(Debug, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ProjectListItem {
    #[serde(flatten)]
    pub project: Project,
    /// At most one: the newest.
    pub health_assessments: Vec<HealthAssessment>,
}

/// A member of a project in [`ProjectDetail`]: `Row(TeamMember) + {person:
/// PersonWithOrg, teamMemberships}`.
#[derive(Debug, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ProjectMember {
    pub id: String,
    pub person_id: String,
    pub project_id: String,
    pub person: PersonWithOrg,
    pub team_memberships: Vec<MembershipWithTeam>,
}

/// `ProjectDetail` (`project.getById`).
#[derive(Debug, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ProjectDetail {
    #[serde(flatten)]
    pub project: Project,
    /// Newest first.
    pub health_assessments: Vec<HealthAssessment>,
    /// By name.
    pub teams: Vec<Team>,
    /// By the person's last name.
    pub team_members: Vec<ProjectMember>,
    /// Top-level milestones with their children (two levels).
    pub milestones: Vec<MilestoneNode>,
    pub quarterly_goals: Vec<QuarterlyGoalNode>,
    pub links: Vec<ProjectLink>,
}

const PROJECT_COLUMNS: &str =
    "id, name, description, github_url, gitlab_url, image_url, created_at, updated_at";

/// `Row(Project)` of alias `pr` as JSON arguments.
const PROJECT_FIELDS: &str = concat!(
    "'id', pr.id, 'name', pr.name, 'description', pr.description, ",
    "'githubUrl', pr.github_url, 'gitlabUrl', pr.gitlab_url, 'imageUrl', pr.image_url, ",
    "'createdAt', ",
    crate::js_iso_sql!("pr.created_at"),
    ", 'updatedAt', ",
    crate::js_iso_sql!("pr.updated_at")
);

/// `Row(HealthAssessment)` of alias `h`, as one JSON expression.
pub(crate) const ASSESSMENT_JSON: &str = concat!(
    "json_build_object('id', h.id, 'projectId', h.project_id, 'authorId', h.author_id, ",
    "'overallStatus', h.overall_status, 'overallNotes', h.overall_notes, ",
    "'growthStatus', h.growth_status, 'growthNotes', h.growth_notes, ",
    "'marginStatus', h.margin_status, 'marginNotes', h.margin_notes, ",
    "'longevityStatus', h.longevity_status, 'longevityNotes', h.longevity_notes, ",
    "'clientSatisfactionStatus', h.client_satisfaction_status, ",
    "'clientSatisfactionNotes', h.client_satisfaction_notes, ",
    "'engineeringVibeStatus', h.engineering_vibe_status, ",
    "'engineeringVibeNotes', h.engineering_vibe_notes, ",
    "'productVibeStatus', h.product_vibe_status, 'productVibeNotes', h.product_vibe_notes, ",
    "'designVibeStatus', h.design_vibe_status, 'designVibeNotes', h.design_vibe_notes, ",
    "'createdAt', ",
    crate::js_iso_sql!("h.created_at"),
    ", 'updatedAt', ",
    crate::js_iso_sql!("h.updated_at"),
    ")"
);

/// Newest first; same-millisecond assessments newest-inserted first.
pub(crate) const ASSESSMENT_ORDER: &str = "h.created_at DESC, h.id DESC";

/// `Row(Team)` of alias `$alias`.
fn team_json(alias: &str) -> String {
    format!(
        "json_build_object('id', {alias}.id, 'name', {alias}.name, \
         'description', {alias}.description, 'imageUrl', {alias}.image_url, \
         'projectId', {alias}.project_id)"
    )
}

/// `ProjectListItem` of alias `pr`: the project and its newest assessment.
fn list_item_json() -> String {
    format!(
        "json_build_object({PROJECT_FIELDS}, 'healthAssessments', COALESCE((\
           SELECT json_agg({ASSESSMENT_JSON}) FROM (SELECT * FROM health_assessments h \
             WHERE h.project_id = pr.id ORDER BY {ASSESSMENT_ORDER} LIMIT 1) h), '[]'::json))"
    )
}

/// Every project as `ProjectListItem`, newest first (ties: newest-inserted
/// first), in one query.
pub async fn list_items(
    conn: &mut PgConnection,
) -> Result<View<Vec<ProjectListItem>>, sqlx::Error> {
    let sql = format!(
        "SELECT COALESCE(json_agg(item ORDER BY created_at DESC, id DESC), '[]'::json) \
         FROM (SELECT {} AS item, pr.created_at, pr.id FROM projects pr) x",
        list_item_json()
    );
    let (Json(items),): (Json<Value>,) = super::sql::query_as(&sql).fetch_one(conn).await?;
    Ok(View::new(items))
}

/// One page of `ProjectListItem`s, newest first, optionally filtered by a
/// literal, case-insensitive substring of the name, and the total count (one
/// query).
pub async fn list_page(
    conn: &mut PgConnection,
    search: Option<&str>,
    offset: i64,
    limit: i64,
) -> Result<(View<Vec<ProjectListItem>>, i64), sqlx::Error> {
    let item = list_item_json();
    SearchPage {
        table: "projects",
        alias: "pr",
        filter: "pr.name ILIKE $1",
        item: &item,
        keys: &["created_at", "id"],
        descending: true,
    }
    .fetch::<Value>(conn, search, offset, limit)
    .await
    .map(|(items, total)| (View::new(items), total))
}

/// `ProjectDetail` of alias `pr`, as one JSON expression.
fn detail_json() -> String {
    let team = team_json("t");
    let member_team = team_json("te");
    format!(
        "json_build_object({PROJECT_FIELDS}, \
         'healthAssessments', COALESCE((SELECT json_agg({ASSESSMENT_JSON} ORDER BY {ASSESSMENT_ORDER}) \
            FROM health_assessments h WHERE h.project_id = pr.id), '[]'::json), \
         'teams', COALESCE((SELECT json_agg({team} ORDER BY t.name, t.id) \
            FROM teams t WHERE t.project_id = pr.id), '[]'::json), \
         'teamMembers', COALESCE((SELECT json_agg(json_build_object(\
              'id', tm.id, 'personId', tm.person_id, 'projectId', tm.project_id, \
              'person', json_build_object({PERSON_FIELDS_ISO}, {DEPARTMENT_OF_P}, {TITLE_OF_P}), \
              'teamMemberships', COALESCE((SELECT json_agg(json_build_object(\
                  'id', ms.id, 'teamId', ms.team_id, 'teamMemberId', ms.team_member_id, \
                  'team', {member_team}) ORDER BY ms.id) \
                FROM team_memberships ms JOIN teams te ON te.id = ms.team_id \
                WHERE ms.team_member_id = tm.id), '[]'::json)) \
              ORDER BY p.last_name, tm.id) \
            FROM team_members tm JOIN people p ON p.id = tm.person_id \
            WHERE tm.project_id = pr.id), '[]'::json), \
         'milestones', {milestones}, \
         'quarterlyGoals', {goals}, \
         'links', COALESCE((SELECT json_agg(json_build_object('id', l.id, 'label', l.label, \
              'url', l.url, 'projectId', l.project_id) ORDER BY l.id) \
            FROM project_links l WHERE l.project_id = pr.id), '[]'::json))",
        milestones = roadmap::MILESTONES.project_nodes_json("pr.id"),
        goals = roadmap::QUARTERLY_GOALS.project_nodes_json("pr.id"),
    )
}

/// `ProjectDetail` of project `id` (`None` if there is none), in one query
/// however large the project: health assessments newest first, teams by name,
/// members by last name (ties: insertion order) with their person, department,
/// title and team memberships, the two-level milestone and goal trees with
/// assignees and key results, and the links (insertion order).
pub async fn find_detail(
    conn: &mut PgConnection,
    id: &str,
) -> Result<Option<View<ProjectDetail>>, sqlx::Error> {
    let sql = format!("SELECT {} FROM projects pr WHERE pr.id = $1", detail_json());
    let row: Option<(Json<Value>,)> = super::sql::query_as(&sql)
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|(Json(v),)| View::new(v)))
}

/// The editable fields of a project (`ProjectInput`).
#[derive(Debug, Clone, Default)]
pub struct ProjectFields {
    pub name: String,
    /// `None` on update keeps the stored description.
    pub description: Option<String>,
    pub github_url: Option<String>,
    pub gitlab_url: Option<String>,
    pub image_url: Option<String>,
}

/// Binds `id`, the fields and now as `$1`..`$7` (insert and update alike).
fn bind_fields<'q, O>(q: PgQueryAs<'q, O>, id: &'q str, f: &'q ProjectFields) -> PgQueryAs<'q, O> {
    q.bind(id)
        .bind(&f.name)
        .bind(&f.description)
        .bind(&f.github_url)
        .bind(&f.gitlab_url)
        .bind(&f.image_url)
        .bind(time::now())
}

pub async fn insert(
    conn: &mut PgConnection,
    id: &str,
    f: &ProjectFields,
) -> Result<Project, sqlx::Error> {
    let sql = format!(
        "INSERT INTO projects (id, name, description, github_url, gitlab_url, image_url, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING {PROJECT_COLUMNS}"
    );
    bind_fields(super::sql::query_as(&sql), id, f)
        .fetch_one(conn)
        .await
}

/// Sets the name and the three URLs (`None` clears them) and the description
/// when given. `None` if no such project.
pub async fn update(
    conn: &mut PgConnection,
    id: &str,
    f: &ProjectFields,
) -> Result<Option<Project>, sqlx::Error> {
    let sql = format!(
        "UPDATE projects SET name = $2, description = COALESCE($3, description), \
         github_url = $4, gitlab_url = $5, image_url = $6, updated_at = $7 \
         WHERE id = $1 RETURNING {PROJECT_COLUMNS}"
    );
    bind_fields(super::sql::query_as(&sql), id, f)
        .fetch_optional(conn)
        .await
}

/// Deletes a project and everything it owns (schema cascades). `None` if no
/// such project.
pub async fn delete(conn: &mut PgConnection, id: &str) -> Result<Option<Project>, sqlx::Error> {
    let sql = format!("DELETE FROM projects WHERE id = $1 RETURNING {PROJECT_COLUMNS}");
    super::sql::query_as(&sql)
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// Locks project `id` for its delete (`FOR UPDATE`: memberships and
/// assignments cannot be added meanwhile, so what the delete makes stale can
/// be read first). `false` if there is no such project.
pub async fn lock_for_delete(conn: &mut PgConnection, id: &str) -> Result<bool, sqlx::Error> {
    let row: Option<(i32,)> =
        super::sql::query_as("SELECT 1 FROM projects WHERE id = $1 FOR UPDATE")
            .bind(id)
            .fetch_optional(conn)
            .await?;
    Ok(row.is_some())
}

/// The Clerk users whose `person.me` embeds project `id`: claimed members
/// (`projectMemberships.project`) and claimed assignees of its milestones and
/// goals (`…Assignments.….project`).
pub async fn embedding_users(
    conn: &mut PgConnection,
    id: &str,
) -> Result<Vec<String>, sqlx::Error> {
    super::sql::query_scalar(
        "SELECT clerk_user_id FROM people p WHERE clerk_user_id IS NOT NULL AND (
           EXISTS (SELECT 1 FROM team_members tm WHERE tm.person_id = p.id AND tm.project_id = $1)
           OR EXISTS (SELECT 1 FROM milestone_assignments a JOIN milestones m ON m.id = a.milestone_id
                      WHERE a.person_id = p.id AND m.project_id = $1)
           OR EXISTS (SELECT 1 FROM quarterly_goal_assignments a
                      JOIN quarterly_goals g ON g.id = a.quarterly_goal_id
                      WHERE a.person_id = p.id AND g.project_id = $1))
         ORDER BY clerk_user_id",
    )
    .bind(id)
    .fetch_all(conn)
    .await
}
