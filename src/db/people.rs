//! SQL of the `people` table (model Person) and the nested person shapes
//! (`PersonFull`, `PersonListItem`), each built by Postgres in one query.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use sqlx::PgConnection;
use ts_rs::TS;

use super::departments::Department;
use super::paging::SearchPage;
use super::sql::PgQueryAs;
use super::time;

/// `Row(Person)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow, TS)]
#[serde(rename_all = "camelCase")]
pub struct Person {
    pub id: String,
    pub first_name: String,
    pub last_name: String,
    pub callsign: Option<String>,
    pub email: String,
    pub github_username: Option<String>,
    pub gitlab_username: Option<String>,
    pub image_url: Option<String>,
    pub clerk_user_id: Option<String>,
    pub manager_id: Option<String>,
    #[sqlx(rename = "role_id")]
    pub department_id: Option<String>,
    pub title_id: Option<String>,
    #[serde(with = "time")]
    #[ts(type = "string")]
    pub created_at: NaiveDateTime,
    #[serde(with = "time")]
    #[ts(type = "string")]
    pub updated_at: NaiveDateTime,
}

/// The scalar columns of [`Person`], for `RETURNING`/`SELECT`.
pub const PERSON_COLUMNS: &str = "id, first_name, last_name, callsign, email, github_username, \
     gitlab_username, image_url, clerk_user_id, manager_id, role_id, title_id, created_at, updated_at";

/// `ManagerSummary`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ManagerSummary {
    pub id: String,
    pub first_name: String,
    pub last_name: String,
    pub callsign: Option<String>,
    pub image_url: Option<String>,
}

/// `ManagerSummary + {email}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DirectReport {
    pub id: String,
    pub first_name: String,
    pub last_name: String,
    pub callsign: Option<String>,
    pub image_url: Option<String>,
    pub email: String,
}

/// `TitleWithDept`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TitleWithDept {
    pub id: String,
    pub name: String,
    pub sort_order: i32,
    pub department_id: Option<String>,
    pub department: Option<Department>,
}

/// `Row(Project)` (also `projects::Project`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "Project")]
pub struct ProjectRow {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub github_url: Option<String>,
    pub gitlab_url: Option<String>,
    pub image_url: Option<String>,
    #[serde(with = "time")]
    #[ts(type = "string")]
    pub created_at: NaiveDateTime,
    #[serde(with = "time")]
    #[ts(type = "string")]
    pub updated_at: NaiveDateTime,
}

/// `Row(Team)` (also `teams::Team`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "Team")]
pub struct TeamRow {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub image_url: Option<String>,
    pub project_id: String,
}

/// `MembershipWithTeam`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct MembershipWithTeam {
    pub id: String,
    pub team_id: String,
    pub team_member_id: String,
    pub team: TeamRow,
}

/// `Row(TeamMember) + {project, teamMemberships}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ProjectMembership {
    pub id: String,
    pub person_id: String,
    pub project_id: String,
    pub project: ProjectRow,
    pub team_memberships: Vec<MembershipWithTeam>,
}

/// `{id, name}` of a project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ProjectName {
    pub id: String,
    pub name: String,
}

/// The milestone of a person's milestone assignment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AssignedMilestone {
    pub id: String,
    pub title: String,
    #[ts(as = "super::enums::RoadmapStatus")]
    pub status: String,
    #[serde(with = "time::option")]
    #[ts(type = "string | null")]
    pub target_date: Option<NaiveDateTime>,
    pub project_id: String,
    pub project: ProjectName,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct MilestoneAssignment {
    pub id: String,
    pub milestone_id: String,
    pub person_id: String,
    #[serde(with = "time")]
    #[ts(type = "string")]
    pub created_at: NaiveDateTime,
    pub milestone: AssignedMilestone,
}

/// The goal of a person's quarterly-goal assignment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AssignedGoal {
    pub id: String,
    pub title: String,
    #[ts(as = "super::enums::RoadmapStatus")]
    pub status: String,
    pub quarter: Option<String>,
    #[serde(with = "time::option")]
    #[ts(type = "string | null")]
    pub target_date: Option<NaiveDateTime>,
    pub project_id: String,
    pub project: ProjectName,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct GoalAssignment {
    pub id: String,
    pub quarterly_goal_id: String,
    pub person_id: String,
    #[serde(with = "time")]
    #[ts(type = "string")]
    pub created_at: NaiveDateTime,
    pub quarterly_goal: AssignedGoal,
}

/// `AssigneePerson`: `{id, firstName, lastName, imageUrl}` (roadmap
/// assignees, comment authors).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AssigneePerson {
    pub id: String,
    pub first_name: String,
    pub last_name: String,
    pub image_url: Option<String>,
}

/// `PersonWithOrg`: `Row(Person) + {department, title}` (project and
/// arrangement members).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PersonWithOrg {
    #[serde(flatten)]
    pub person: Person,
    pub department: Option<Department>,
    pub title: Option<TitleWithDept>,
}

/// `PersonFull` (the original's `personInclude`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PersonFull {
    #[serde(flatten)]
    pub person: Person,
    pub manager: Option<ManagerSummary>,
    pub direct_reports: Vec<DirectReport>,
    pub department: Option<Department>,
    pub title: Option<TitleWithDept>,
    pub project_memberships: Vec<ProjectMembership>,
    pub milestone_assignments: Vec<MilestoneAssignment>,
    pub quarterly_goal_assignments: Vec<GoalAssignment>,
}

/// `PersonListItem` (the original's `personListInclude`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PersonListItem {
    #[serde(flatten)]
    pub person: Person,
    pub department: Option<Department>,
    pub title: Option<TitleWithDept>,
    pub project_memberships: Vec<ProjectMembership>,
}

/// A `timestamp(3)` in a JSON view: epoch milliseconds, formatted by `time`.
macro_rules! iso {
    ($col:expr) => {
        crate::db::time::epoch_ms!($col)
    };
}

/// `Row(Person)` of alias `p` as JSON arguments.
pub(crate) const PERSON_FIELDS: &str = concat!(
    "'id', p.id, 'firstName', p.first_name, 'lastName', p.last_name, 'callsign', p.callsign, ",
    "'email', p.email, 'githubUsername', p.github_username, 'gitlabUsername', p.gitlab_username, ",
    "'imageUrl', p.image_url, 'clerkUserId', p.clerk_user_id, 'managerId', p.manager_id, ",
    "'departmentId', p.role_id, 'titleId', p.title_id, ",
    "'createdAt', ",
    iso!("p.created_at"),
    ", 'updatedAt', ",
    iso!("p.updated_at")
);

/// [`PERSON_FIELDS`] with its dates printed in SQL ([`crate::js_iso_sql!`]),
/// for views answered as untyped JSON (the project detail, arrangements),
/// where epoch milliseconds would reach the client as numbers.
pub(crate) const PERSON_FIELDS_ISO: &str = concat!(
    "'id', p.id, 'firstName', p.first_name, 'lastName', p.last_name, 'callsign', p.callsign, ",
    "'email', p.email, 'githubUsername', p.github_username, 'gitlabUsername', p.gitlab_username, ",
    "'imageUrl', p.image_url, 'clerkUserId', p.clerk_user_id, 'managerId', p.manager_id, ",
    "'departmentId', p.role_id, 'titleId', p.title_id, ",
    "'createdAt', ",
    crate::js_iso_sql!("p.created_at"),
    ", 'updatedAt', ",
    crate::js_iso_sql!("p.updated_at")
);

/// `department` (`Row(Department) | null`) of person `p`, as JSON arguments.
pub(crate) const DEPARTMENT_OF_P: &str =
    "'department', (SELECT json_build_object('id', d.id, 'name', d.name, 'color', d.color) \
     FROM roles d WHERE d.id = p.role_id)";

/// `title` (`TitleWithDept | null`) of person `p`, as JSON arguments.
pub(crate) const TITLE_OF_P: &str =
    "'title', (SELECT json_build_object('id', t.id, 'name', t.name, \
     'sortOrder', t.sort_order, 'departmentId', t.department_id, \
     'department', (SELECT json_build_object('id', td.id, 'name', td.name, 'color', td.color) \
                    FROM roles td WHERE td.id = t.department_id)) \
     FROM titles t WHERE t.id = p.title_id)";

const MEMBERSHIPS_OF_P: &str = concat!(
    "'projectMemberships', COALESCE((SELECT json_agg(json_build_object(",
    "'id', tm.id, 'personId', tm.person_id, 'projectId', tm.project_id, ",
    "'project', json_build_object('id', pr.id, 'name', pr.name, 'description', pr.description, ",
    "'githubUrl', pr.github_url, 'gitlabUrl', pr.gitlab_url, 'imageUrl', pr.image_url, ",
    "'createdAt', ",
    iso!("pr.created_at"),
    ", 'updatedAt', ",
    iso!("pr.updated_at"),
    "), 'teamMemberships', COALESCE((SELECT json_agg(json_build_object(",
    "'id', ms.id, 'teamId', ms.team_id, 'teamMemberId', ms.team_member_id, ",
    "'team', json_build_object('id', te.id, 'name', te.name, 'description', te.description, ",
    "'imageUrl', te.image_url, 'projectId', te.project_id))) ",
    "FROM team_memberships ms JOIN teams te ON te.id = ms.team_id ",
    "WHERE ms.team_member_id = tm.id), '[]'::json))) ",
    "FROM team_members tm JOIN projects pr ON pr.id = tm.project_id ",
    "WHERE tm.person_id = p.id), '[]'::json)"
);

/// `manager` (`ManagerSummary | null`) of person `p`, as JSON arguments.
pub(crate) const MANAGER_OF_P: &str = concat!(
    "'manager', (SELECT json_build_object('id', m.id, 'firstName', m.first_name, ",
    "'lastName', m.last_name, 'callsign', m.callsign, 'imageUrl', m.image_url) ",
    "FROM people m WHERE m.id = p.manager_id)"
);

/// `directReports` of person `p`, as JSON arguments.
const DIRECT_REPORTS_OF_P: &str = concat!(
    "'directReports', COALESCE((SELECT json_agg(json_build_object('id', r.id, ",
    "'firstName', r.first_name, 'lastName', r.last_name, 'callsign', r.callsign, ",
    "'imageUrl', r.image_url, 'email', r.email) ORDER BY r.last_name, r.first_name, r.id) ",
    "FROM people r WHERE r.manager_id = p.id), '[]'::json)"
);

const ASSIGNMENTS_OF_P: &str = concat!(
    "'milestoneAssignments', COALESCE((SELECT json_agg(json_build_object(",
    "'id', ma.id, 'milestoneId', ma.milestone_id, 'personId', ma.person_id, 'createdAt', ",
    iso!("ma.created_at"),
    ", 'milestone', json_build_object('id', mi.id, 'title', mi.title, 'status', mi.status, ",
    "'targetDate', ",
    iso!("mi.target_date"),
    ", 'projectId', mi.project_id, 'project', json_build_object('id', mp.id, 'name', mp.name)))) ",
    "FROM milestone_assignments ma JOIN milestones mi ON mi.id = ma.milestone_id ",
    "JOIN projects mp ON mp.id = mi.project_id WHERE ma.person_id = p.id), '[]'::json), ",
    "'quarterlyGoalAssignments', COALESCE((SELECT json_agg(json_build_object(",
    "'id', ga.id, 'quarterlyGoalId', ga.quarterly_goal_id, 'personId', ga.person_id, 'createdAt', ",
    iso!("ga.created_at"),
    ", 'quarterlyGoal', json_build_object('id', qg.id, 'title', qg.title, 'status', qg.status, ",
    "'quarter', qg.quarter, 'targetDate', ",
    iso!("qg.target_date"),
    ", 'projectId', qg.project_id, 'project', json_build_object('id', gp.id, 'name', gp.name)))) ",
    "FROM quarterly_goal_assignments ga JOIN quarterly_goals qg ON qg.id = ga.quarterly_goal_id ",
    "JOIN projects gp ON gp.id = qg.project_id WHERE ga.person_id = p.id), '[]'::json)"
);

/// `PersonFull` of the row aliased `p`, as one JSON expression.
fn person_full_json() -> String {
    format!(
        "json_build_object({PERSON_FIELDS}, {MANAGER_OF_P}, {DIRECT_REPORTS_OF_P}, {DEPARTMENT_OF_P}, {TITLE_OF_P}, \
         {MEMBERSHIPS_OF_P}, {ASSIGNMENTS_OF_P})"
    )
}

/// `PersonListItem` of the row aliased `p`.
fn person_list_json() -> String {
    format!(
        "json_build_object({PERSON_FIELDS}, {DEPARTMENT_OF_P}, {TITLE_OF_P}, {MEMBERSHIPS_OF_P})"
    )
}

/// Every person as `PersonFull`, by last then first name (one query).
pub async fn list_full(conn: &mut PgConnection) -> Result<Vec<PersonFull>, sqlx::Error> {
    let sql = format!(
        "SELECT {} FROM people p ORDER BY p.last_name, p.first_name, p.id",
        person_full_json()
    );
    let rows: Vec<(Json<PersonFull>,)> = crate::db::sql::query_as(&sql).fetch_all(conn).await?;
    Ok(rows.into_iter().map(|(Json(v),)| v).collect())
}

/// One person as `PersonFull`.
pub async fn find_full(
    conn: &mut PgConnection,
    id: &str,
) -> Result<Option<PersonFull>, sqlx::Error> {
    let sql = format!(
        "SELECT {} FROM people p WHERE p.id = $1",
        person_full_json()
    );
    let row: Option<(Json<PersonFull>,)> = crate::db::sql::query_as(&sql)
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|(Json(v),)| v))
}

/// The person a Clerk user has claimed, as `PersonFull`.
pub async fn find_full_by_clerk_user(
    conn: &mut PgConnection,
    clerk_user_id: &str,
) -> Result<Option<PersonFull>, sqlx::Error> {
    let sql = format!(
        "SELECT {} FROM people p WHERE p.clerk_user_id = $1",
        person_full_json()
    );
    let row: Option<(Json<PersonFull>,)> = crate::db::sql::query_as(&sql)
        .bind(clerk_user_id)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|(Json(v),)| v))
}

/// One page of people (optionally filtered by a literal substring of first
/// name, last name, email or callsign) and the total count, in one query.
pub async fn list_page(
    conn: &mut PgConnection,
    search: Option<&str>,
    offset: i64,
    limit: i64,
) -> Result<(Vec<PersonListItem>, i64), sqlx::Error> {
    let item = person_list_json();
    SearchPage {
        table: "people",
        alias: "p",
        filter: "p.first_name ILIKE $1 OR p.last_name ILIKE $1 \
                 OR p.email ILIKE $1 OR p.callsign ILIKE $1",
        item: &item,
        keys: &["last_name", "first_name", "id"],
        descending: false,
    }
    .fetch(conn, search, offset, limit)
    .await
}

/// The editable fields of a person (`PersonInput`); `None` is stored as NULL.
#[derive(Debug, Clone, Default)]
pub struct PersonFields {
    pub first_name: String,
    pub last_name: String,
    pub callsign: Option<String>,
    pub email: String,
    pub github_username: Option<String>,
    pub gitlab_username: Option<String>,
    pub image_url: Option<String>,
    pub manager_id: Option<String>,
    pub department_id: Option<String>,
    pub title_id: Option<String>,
}

/// Binds `id`, the fields and now as `$1`..`$12` (insert and update alike).
fn bind_fields<'q, O>(q: PgQueryAs<'q, O>, id: &'q str, f: &'q PersonFields) -> PgQueryAs<'q, O> {
    q.bind(id)
        .bind(&f.first_name)
        .bind(&f.last_name)
        .bind(&f.callsign)
        .bind(&f.email)
        .bind(&f.github_username)
        .bind(&f.gitlab_username)
        .bind(&f.image_url)
        .bind(&f.manager_id)
        .bind(&f.department_id)
        .bind(&f.title_id)
        .bind(time::now())
}

pub async fn insert(
    conn: &mut PgConnection,
    id: &str,
    f: &PersonFields,
) -> Result<Person, sqlx::Error> {
    let sql = format!(
        "INSERT INTO people (id, first_name, last_name, callsign, email, github_username, \
         gitlab_username, image_url, manager_id, role_id, title_id, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING {PERSON_COLUMNS}"
    );
    bind_fields(crate::db::sql::query_as(&sql), id, f)
        .fetch_one(conn)
        .await
}

/// Overwrites every editable field. `None` if no such person.
pub async fn update(
    conn: &mut PgConnection,
    id: &str,
    f: &PersonFields,
) -> Result<Option<Person>, sqlx::Error> {
    let sql = format!(
        "UPDATE people SET first_name = $2, last_name = $3, callsign = $4, email = $5, \
         github_username = $6, gitlab_username = $7, image_url = $8, manager_id = $9, \
         role_id = $10, title_id = $11, updated_at = $12 WHERE id = $1 RETURNING {PERSON_COLUMNS}"
    );
    bind_fields(crate::db::sql::query_as(&sql), id, f)
        .fetch_optional(conn)
        .await
}

/// Deletes a person (cascades per the schema). `None` if no such person.
pub async fn delete(conn: &mut PgConnection, id: &str) -> Result<Option<Person>, sqlx::Error> {
    let sql = format!("DELETE FROM people WHERE id = $1 RETURNING {PERSON_COLUMNS}");
    crate::db::sql::query_as(&sql)
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// `manager_id` and `clerk_user_id` of a person, row-locked against concurrent
/// writers (`FOR NO KEY UPDATE`: foreign keys pointing at the row stay usable).
pub async fn lock_for_update(
    conn: &mut PgConnection,
    id: &str,
) -> Result<Option<(Option<String>, Option<String>)>, sqlx::Error> {
    crate::db::sql::query_as(
        "SELECT manager_id, clerk_user_id FROM people WHERE id = $1 FOR NO KEY UPDATE",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// `manager_id` of a person, read without any lock (`None` if no such person).
pub async fn manager_of(
    conn: &mut PgConnection,
    id: &str,
) -> Result<Option<Option<String>>, sqlx::Error> {
    let row: Option<(Option<String>,)> =
        crate::db::sql::query_as("SELECT manager_id FROM people WHERE id = $1")
            .bind(id)
            .fetch_optional(conn)
            .await?;
    Ok(row.map(|(m,)| m))
}

/// The person about to be deleted and its direct reports, with the
/// rows the delete writes locked `FOR UPDATE` in id order: the person itself
/// (the strength a delete needs, so a concurrent insert referencing it, which
/// takes `FOR KEY SHARE`, waits instead of slipping in before the delete) and
/// its direct reports (the `ON DELETE SET NULL` cascade updates them). Taking
/// them all up front, in the same order as [`lock_claim_rows`], means a delete
/// and a claim cannot each hold a row the other waits for.
pub async fn lock_for_delete(
    conn: &mut PgConnection,
    id: &str,
) -> Result<Option<DeleteTarget>, sqlx::Error> {
    let rows: Vec<(String, Option<String>, Option<String>)> = crate::db::sql::query_as(
        "SELECT id, manager_id, clerk_user_id FROM people
         WHERE id = $1 OR manager_id = $1 ORDER BY id FOR UPDATE",
    )
    .bind(id)
    .fetch_all(conn)
    .await?;
    let mut target = None;
    let mut reports = Vec::new();
    for (row, manager, clerk_user) in rows {
        if row == id {
            target = Some((manager, clerk_user));
        } else {
            reports.push(row);
        }
    }
    Ok(target.map(|(manager_id, clerk_user_id)| DeleteTarget {
        manager_id,
        clerk_user_id,
        reports,
    }))
}

/// What [`lock_for_delete`] locked: the person's manager and claim, and the
/// ids of its direct reports.
pub struct DeleteTarget {
    pub manager_id: Option<String>,
    pub clerk_user_id: Option<String>,
    pub reports: Vec<String>,
}

/// Locks, in one statement and in id order, the rows a claim writes: person
/// `id` and whichever person `clerk_user_id` holds now. Returns `(id,
/// clerk_user_id)` of each locked row.
pub async fn lock_claim_rows(
    conn: &mut PgConnection,
    id: &str,
    clerk_user_id: &str,
) -> Result<Vec<(String, Option<String>)>, sqlx::Error> {
    crate::db::sql::query_as(
        "SELECT id, clerk_user_id FROM people
         WHERE id = $1 OR clerk_user_id = $2 ORDER BY id FOR UPDATE",
    )
    .bind(id)
    .bind(clerk_user_id)
    .fetch_all(conn)
    .await
}

/// The id of the person a Clerk user has claimed.
pub async fn id_by_clerk_user(
    conn: &mut PgConnection,
    clerk_user_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    let row: Option<(String,)> =
        crate::db::sql::query_as("SELECT id FROM people WHERE clerk_user_id = $1")
            .bind(clerk_user_id)
            .fetch_optional(conn)
            .await?;
    Ok(row.map(|(id,)| id))
}

/// In one query, everything whose cached view embeds person `id`'s row: the
/// Clerk users of the person, of the people in `extra` (e.g. old and new
/// manager: `directReports`) and of its direct reports (their `manager`
/// summary), and the projects `id` is a member of.
pub async fn views_embedding(
    conn: &mut PgConnection,
    id: &str,
    extra: &[String],
) -> Result<(Vec<String>, Vec<String>), sqlx::Error> {
    crate::db::sql::query_as(
        "SELECT
           ARRAY(SELECT clerk_user_id FROM people
                 WHERE (id = $1 OR id = ANY($2) OR manager_id = $1)
                   AND clerk_user_id IS NOT NULL),
           ARRAY(SELECT DISTINCT project_id FROM team_members WHERE person_id = $1)",
    )
    .bind(id)
    .bind(extra)
    .fetch_one(conn)
    .await
}

/// The Clerk user who claimed person `id`.
pub async fn clerk_user_of(
    conn: &mut PgConnection,
    id: &str,
) -> Result<Option<String>, sqlx::Error> {
    let row: Option<(Option<String>,)> =
        crate::db::sql::query_as("SELECT clerk_user_id FROM people WHERE id = $1")
            .bind(id)
            .fetch_optional(conn)
            .await?;
    Ok(row.and_then(|(u,)| u))
}

/// Clears the claim of `clerk_user_id` on every person except `except`.
pub async fn unclaim(
    conn: &mut PgConnection,
    clerk_user_id: &str,
    except: Option<&str>,
) -> Result<u64, sqlx::Error> {
    let done = crate::db::sql::query(
        "UPDATE people SET clerk_user_id = NULL, updated_at = $3
         WHERE clerk_user_id = $1 AND ($2::text IS NULL OR id <> $2)",
    )
    .bind(clerk_user_id)
    .bind(except)
    .bind(time::now())
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Sets the claim of person `id` to `clerk_user_id`.
pub async fn claim(
    conn: &mut PgConnection,
    id: &str,
    clerk_user_id: &str,
) -> Result<Person, sqlx::Error> {
    let sql = format!(
        "UPDATE people SET clerk_user_id = $2, updated_at = $3 WHERE id = $1 RETURNING {PERSON_COLUMNS}"
    );
    crate::db::sql::query_as(&sql)
        .bind(id)
        .bind(clerk_user_id)
        .bind(time::now())
        .fetch_one(conn)
        .await
}
