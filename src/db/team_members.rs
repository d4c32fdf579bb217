//! SQL of project membership (`team_members`, `team_memberships`), the
//! member views of router `teamMember` (procedures.md §2.3 `MemberView`,
//! §4.17) and the mirror of live teams into a project's active arrangement
//! (§5.3).
//!
//! Every statement is set-based: adding a member to ten teams, or mirroring
//! a project of 200 members, costs the same number of statements as one.

use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use sqlx::PgConnection;
use ts_rs::TS;

use super::departments::Department;
use super::people::{
    ManagerSummary, MembershipWithTeam, Person, TitleWithDept, DEPARTMENT_OF_P, MANAGER_OF_P,
    PERSON_FIELDS, TITLE_OF_P,
};

/// `Row(TeamMember)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow, TS)]
#[serde(rename_all = "camelCase")]
pub struct TeamMember {
    pub id: String,
    pub person_id: String,
    pub project_id: String,
}

pub async fn insert(
    conn: &mut PgConnection,
    person_id: &str,
    project_id: &str,
) -> Result<TeamMember, sqlx::Error> {
    crate::db::sql::query_as(
        "INSERT INTO team_members (id, person_id, project_id) VALUES ($1, $2, $3)
         RETURNING id, person_id, project_id",
    )
    .bind(super::new_id())
    .bind(person_id)
    .bind(project_id)
    .fetch_one(conn)
    .await
}

/// Removes a person from a project (cascading its team memberships and
/// arrangement assignments). `None` when the person was not a member.
pub async fn delete(
    conn: &mut PgConnection,
    person_id: &str,
    project_id: &str,
) -> Result<Option<TeamMember>, sqlx::Error> {
    crate::db::sql::query_as(
        "DELETE FROM team_members WHERE person_id = $1 AND project_id = $2
         RETURNING id, person_id, project_id",
    )
    .bind(person_id)
    .bind(project_id)
    .fetch_optional(conn)
    .await
}

/// Puts a project member into teams (one statement).
pub async fn add_to_teams(
    conn: &mut PgConnection,
    team_member_id: &str,
    team_ids: &[String],
) -> Result<(), sqlx::Error> {
    if team_ids.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = team_ids.iter().map(|_| super::new_id()).collect();
    crate::db::sql::query(
        "INSERT INTO team_memberships (id, team_id, team_member_id)
         SELECT id, team_id, $3 FROM UNNEST($1::text[], $2::text[]) AS t(id, team_id)",
    )
    .bind(&ids)
    .bind(team_ids)
    .bind(team_member_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// `syncLiveToActiveArrangement(tx, projectId)` (procedures.md §5.3): makes the
/// project's active arrangement (if any) mirror its live teams, with one
/// assignment per team membership. Run inside the caller's transaction.
///
/// Unlike the original (§9 item 17) it keeps what survives: an arrangement
/// team whose live team still exists keeps its id, its `reorderTeams` order
/// and its assignments rows (renamed if the live team was); teams whose live
/// team is gone are deleted; live teams without an arrangement team get one
/// appended after the others, by name. Assignments are rewritten as a set
/// difference.
///
/// At most five statements whatever the project's size: lock the
/// arrangement (concurrent mirrors of one project run one after the other),
/// drop and rename its teams while reading the live teams it lacks, insert
/// those, drop stale assignments while reading the missing ones, insert
/// those.
pub async fn sync_live_to_active_arrangement(
    conn: &mut PgConnection,
    project_id: &str,
) -> Result<(), sqlx::Error> {
    let active: Option<(String,)> = crate::db::sql::query_as(
        "SELECT id FROM team_arrangements WHERE project_id = $1 AND is_active
         ORDER BY created_at, id LIMIT 1 FOR NO KEY UPDATE",
    )
    .bind(project_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((arrangement,)) = active else {
        return Ok(());
    };
    let (live_ids, names, last): (Vec<String>, Vec<String>, i32) = crate::db::sql::query_as(
        "WITH gone AS (
             DELETE FROM arrangement_teams at WHERE at.arrangement_id = $2 AND NOT EXISTS (
                 SELECT 1 FROM teams t WHERE t.id = at.live_team_id AND t.project_id = $1)),
         renamed AS (
             UPDATE arrangement_teams at SET name = t.name FROM teams t
             WHERE at.arrangement_id = $2 AND t.id = at.live_team_id AND t.project_id = $1
               AND at.name <> t.name)
         SELECT COALESCE(array_agg(t.id ORDER BY t.name, t.id), '{}'),
                COALESCE(array_agg(t.name ORDER BY t.name, t.id), '{}'),
                COALESCE((SELECT max(at.sort_order) FROM arrangement_teams at
                          JOIN teams k ON k.id = at.live_team_id AND k.project_id = $1
                          WHERE at.arrangement_id = $2), -1)
         FROM teams t WHERE t.project_id = $1 AND NOT EXISTS (
             SELECT 1 FROM arrangement_teams at
             WHERE at.arrangement_id = $2 AND at.live_team_id = t.id)",
    )
    .bind(project_id)
    .bind(&arrangement)
    .fetch_one(&mut *conn)
    .await?;
    if !live_ids.is_empty() {
        let new_ids: Vec<String> = live_ids.iter().map(|_| super::new_id()).collect();
        crate::db::sql::query(
            "INSERT INTO arrangement_teams (id, name, arrangement_id, sort_order, live_team_id)
             SELECT t.id, t.name, $4, $5 + t.ord::int, t.live_id
             FROM UNNEST($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS t(id, name, live_id, ord)",
        )
        .bind(&new_ids)
        .bind(&names)
        .bind(&live_ids)
        .bind(&arrangement)
        .bind(last)
        .execute(&mut *conn)
        .await?;
    }
    let missing: Vec<(String, String)> = crate::db::sql::query_as(
        "WITH want AS (
             SELECT at.id AS team_id, ms.team_member_id FROM arrangement_teams at
             JOIN team_memberships ms ON ms.team_id = at.live_team_id
             WHERE at.arrangement_id = $1),
         gone AS (
             DELETE FROM arrangement_assignments aa USING arrangement_teams at
             WHERE at.id = aa.arrangement_team_id AND at.arrangement_id = $1 AND NOT EXISTS (
                 SELECT 1 FROM want w WHERE w.team_id = aa.arrangement_team_id
                   AND w.team_member_id = aa.team_member_id))
         SELECT w.team_id, w.team_member_id FROM want w WHERE NOT EXISTS (
             SELECT 1 FROM arrangement_assignments aa
             WHERE aa.arrangement_team_id = w.team_id AND aa.team_member_id = w.team_member_id)
         ORDER BY 1, 2",
    )
    .bind(&arrangement)
    .fetch_all(&mut *conn)
    .await?;
    if missing.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = missing.iter().map(|_| super::new_id()).collect();
    let teams: Vec<&str> = missing.iter().map(|m| m.0.as_str()).collect();
    let members: Vec<&str> = missing.iter().map(|m| m.1.as_str()).collect();
    crate::db::sql::query(
        "INSERT INTO arrangement_assignments (id, arrangement_team_id, team_member_id)
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[])",
    )
    .bind(&ids)
    .bind(&teams)
    .bind(&members)
    .execute(conn)
    .await?;
    Ok(())
}

/// The person of a [`MemberView`]: `Row(Person) + {manager, department, title}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct MemberPerson {
    #[serde(flatten)]
    pub person: Person,
    pub manager: Option<ManagerSummary>,
    pub department: Option<Department>,
    pub title: Option<TitleWithDept>,
}

/// `MemberView` (the original's `memberInclude`: `teamMember.getById`,
/// `getByProjectId`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct MemberView {
    pub id: String,
    pub person_id: String,
    pub project_id: String,
    pub person: MemberPerson,
    /// Insertion order (the original leaves it unordered).
    pub team_memberships: Vec<MembershipWithTeam>,
}

/// A member in `teamMember.getOrgTree`: [`MemberView`] without
/// `teamMemberships`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct OrgMember {
    pub id: String,
    pub person_id: String,
    pub project_id: String,
    pub person: MemberPerson,
}

/// `[MembershipWithTeam]` of the member aliased `tm` (insertion order).
const TEAM_MEMBERSHIPS_OF_TM: &str = "'teamMemberships', COALESCE((SELECT json_agg(\
     json_build_object('id', ms.id, 'teamId', ms.team_id, 'teamMemberId', ms.team_member_id, \
     'team', json_build_object('id', te.id, 'name', te.name, 'description', te.description, \
     'imageUrl', te.image_url, 'projectId', te.project_id)) ORDER BY ms.id) \
     FROM team_memberships ms JOIN teams te ON te.id = ms.team_id \
     WHERE ms.team_member_id = tm.id), '[]'::json)";

/// `Row(TeamMember) + {person: Row(Person) + {manager, department, title}}`
/// of `tm` joined to its person `p`; with `teamMemberships` when `teams`.
fn member_json(teams: bool) -> String {
    let memberships = if teams {
        format!(", {TEAM_MEMBERSHIPS_OF_TM}")
    } else {
        String::new()
    };
    format!(
        "json_build_object('id', tm.id, 'personId', tm.person_id, 'projectId', tm.project_id, \
         'person', json_build_object({PERSON_FIELDS}, {MANAGER_OF_P}, {DEPARTMENT_OF_P}, {TITLE_OF_P})\
         {memberships})"
    )
}

/// The members of a project as [`MemberView`]s, by the person's last name
/// (ties in insertion order). One statement.
pub async fn list_views(
    conn: &mut PgConnection,
    project_id: &str,
) -> Result<Vec<MemberView>, sqlx::Error> {
    list_members(conn, project_id, true).await
}

/// The members of a project as [`OrgMember`]s, ordered as [`list_views`].
pub async fn list_org(
    conn: &mut PgConnection,
    project_id: &str,
) -> Result<Vec<OrgMember>, sqlx::Error> {
    list_members(conn, project_id, false).await
}

/// The members of a project, with `teamMemberships` when `teams`.
async fn list_members<T: serde::de::DeserializeOwned + Send + Unpin + 'static>(
    conn: &mut PgConnection,
    project_id: &str,
    teams: bool,
) -> Result<Vec<T>, sqlx::Error> {
    let sql = format!(
        "SELECT {} FROM team_members tm JOIN people p ON p.id = tm.person_id
         WHERE tm.project_id = $1 ORDER BY p.last_name, tm.id",
        member_json(teams)
    );
    let rows: Vec<(Json<T>,)> = crate::db::sql::query_as(&sql)
        .bind(project_id)
        .fetch_all(conn)
        .await?;
    Ok(rows.into_iter().map(|(Json(v),)| v).collect())
}

/// One member as `MemberView`.
pub async fn find_view(
    conn: &mut PgConnection,
    id: &str,
) -> Result<Option<MemberView>, sqlx::Error> {
    let sql = format!(
        "SELECT {} FROM team_members tm JOIN people p ON p.id = tm.person_id WHERE tm.id = $1",
        member_json(true)
    );
    let row: Option<(Json<MemberView>,)> = crate::db::sql::query_as(&sql)
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|(Json(v),)| v))
}

/// The person with `email`, row-locked for a possible manager change:
/// `(id, manager_id)`.
pub async fn lock_person_by_email(
    conn: &mut PgConnection,
    email: &str,
) -> Result<Option<(String, Option<String>)>, sqlx::Error> {
    crate::db::sql::query_as("SELECT id, manager_id FROM people WHERE email = $1 FOR NO KEY UPDATE")
        .bind(email)
        .fetch_optional(conn)
        .await
}

/// A member row and its person row, both locked: `(person_id, project_id,
/// the person's manager_id)`.
pub async fn lock_member(
    conn: &mut PgConnection,
    id: &str,
) -> Result<Option<(String, String, Option<String>)>, sqlx::Error> {
    crate::db::sql::query_as(
        "SELECT tm.person_id, tm.project_id, p.manager_id
         FROM team_members tm JOIN people p ON p.id = tm.person_id
         WHERE tm.id = $1 FOR NO KEY UPDATE",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Adds a person to a project; `None` if it already is a member.
pub async fn insert_new(
    conn: &mut PgConnection,
    person_id: &str,
    project_id: &str,
) -> Result<Option<TeamMember>, sqlx::Error> {
    crate::db::sql::query_as(
        "INSERT INTO team_members (id, person_id, project_id) VALUES ($1, $2, $3)
         ON CONFLICT (person_id, project_id) DO NOTHING
         RETURNING id, person_id, project_id",
    )
    .bind(super::new_id())
    .bind(person_id)
    .bind(project_id)
    .fetch_optional(conn)
    .await
}

/// Indices of `team_ids` that are not teams of the project (unknown ids included).
pub async fn foreign_teams(
    conn: &mut PgConnection,
    project_id: &str,
    team_ids: &[String],
) -> Result<Vec<i32>, sqlx::Error> {
    if team_ids.is_empty() {
        return Ok(Vec::new());
    }
    let (indices,): (Vec<i32>,) = crate::db::sql::query_as(
        "SELECT COALESCE(array_agg((u.ord - 1)::int ORDER BY u.ord), '{}')
         FROM unnest($2::text[]) WITH ORDINALITY AS u(team_id, ord)
         WHERE NOT EXISTS (SELECT 1 FROM teams t WHERE t.id = u.team_id AND t.project_id = $1)",
    )
    .bind(project_id)
    .bind(team_ids)
    .fetch_one(conn)
    .await?;
    Ok(indices)
}

/// Makes `team_ids` the member's exact set of live teams in one statement:
/// memberships not listed are deleted, listed ones added (repeats ignored),
/// kept ones keep their rows.
pub async fn replace_teams(
    conn: &mut PgConnection,
    team_member_id: &str,
    team_ids: &[String],
) -> Result<(), sqlx::Error> {
    let ids: Vec<String> = team_ids.iter().map(|_| super::new_id()).collect();
    crate::db::sql::query(
        "WITH gone AS (
             DELETE FROM team_memberships WHERE team_member_id = $3 AND team_id <> ALL($2::text[]))
         INSERT INTO team_memberships (id, team_id, team_member_id)
         SELECT id, team_id, $3 FROM UNNEST($1::text[], $2::text[]) AS t(id, team_id)
         ON CONFLICT (team_id, team_member_id) DO NOTHING",
    )
    .bind(&ids)
    .bind(team_ids)
    .bind(team_member_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes a member by id (cascading its memberships and arrangement
/// assignments; the person is kept). `None` if there is no such member.
pub async fn delete_by_id(
    conn: &mut PgConnection,
    id: &str,
) -> Result<Option<TeamMember>, sqlx::Error> {
    crate::db::sql::query_as(
        "DELETE FROM team_members WHERE id = $1 RETURNING id, person_id, project_id",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Sets a person's manager (and `updated_at`).
pub async fn set_manager(
    conn: &mut PgConnection,
    person_id: &str,
    manager_id: &str,
) -> Result<(), sqlx::Error> {
    crate::db::sql::query("UPDATE people SET manager_id = $2, updated_at = $3 WHERE id = $1")
        .bind(person_id)
        .bind(manager_id)
        .bind(super::time::now())
        .execute(conn)
        .await?;
    Ok(())
}
