//! SQL of team arrangements (`team_arrangements`, `arrangement_teams`,
//! `arrangement_assignments`; procedures.md §2.2, §4.1): drafts of a
//! project's layout, their cloning, and the activation that turns one into
//! the live teams.
//!
//! Every statement is set-based (§9 item 20): cloning or activating an
//! arrangement costs a fixed number of statements whatever its member count.
//! At most one arrangement per project is active, enforced by the partial
//! unique index `team_arrangements_project_id_active_key` (migration 0004).

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::types::Json;
use sqlx::PgConnection;
use ts_rs::TS;

use super::people::{PersonWithOrg, DEPARTMENT_OF_P, PERSON_FIELDS_ISO, TITLE_OF_P};
use super::{new_id, time};
use crate::trpc::types::View;

/// `Row(TeamArrangement)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow, TS)]
#[serde(rename_all = "camelCase")]
pub struct Arrangement {
    pub id: String,
    pub name: String,
    pub is_active: bool,
    pub project_id: String,
    #[serde(with = "time")]
    #[ts(type = "string")]
    pub created_at: NaiveDateTime,
    #[serde(with = "time")]
    #[ts(type = "string")]
    pub updated_at: NaiveDateTime,
}

const ARRANGEMENT_COLUMNS: &str = "id, name, is_active, project_id, created_at, updated_at";

/// `Row(ArrangementTeam)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow, TS)]
#[serde(rename_all = "camelCase")]
pub struct ArrangementTeam {
    pub id: String,
    pub name: String,
    pub arrangement_id: String,
    pub sort_order: i32,
    pub live_team_id: Option<String>,
}

const TEAM_COLUMNS: &str = "id, name, arrangement_id, sort_order, live_team_id";

/// `Row(ArrangementAssignment)`.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, TS)]
#[serde(rename_all = "camelCase")]
pub struct Assignment {
    pub id: String,
    pub arrangement_team_id: String,
    pub team_member_id: String,
}

/// `{assignments: n}`.
#[derive(Debug, Serialize, Deserialize, TS)]
pub struct AssignmentCount {
    pub assignments: i64,
}

/// `Row(ArrangementTeam) + {_count: {assignments}}`.
#[derive(Debug, Serialize, Deserialize, TS)]
pub struct ArrangementTeamWithCount {
    #[serde(flatten)]
    pub team: ArrangementTeam,
    #[serde(rename = "_count")]
    pub count: AssignmentCount,
}

/// An arrangement in `arrangement.getByProjectId`: `Row(TeamArrangement) +
/// {teams}` (teams by sort order).
#[derive(Debug, Serialize, Deserialize, TS)]
pub struct ArrangementListItem {
    #[serde(flatten)]
    pub arrangement: Arrangement,
    pub teams: Vec<ArrangementTeamWithCount>,
}

/// A project member in an arrangement: `Row(TeamMember) + {person: PersonWithOrg}`.
#[derive(Debug, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ArrangementMember {
    pub id: String,
    pub person_id: String,
    pub project_id: String,
    pub person: PersonWithOrg,
}

/// `Row(ArrangementAssignment) + {teamMember}`.
#[derive(Debug, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AssignmentWithMember {
    pub id: String,
    pub arrangement_team_id: String,
    pub team_member_id: String,
    pub team_member: ArrangementMember,
}

/// `Row(ArrangementTeam) + {assignments}` (by the member's last name).
#[derive(Debug, Serialize, Deserialize, TS)]
pub struct ArrangementTeamDetail {
    #[serde(flatten)]
    pub team: ArrangementTeam,
    pub assignments: Vec<AssignmentWithMember>,
}

/// `arrangement.getById`: the arrangement, its teams by sort order and the
/// project members in none of them.
#[derive(Debug, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ArrangementDetail {
    #[serde(flatten)]
    pub arrangement: Arrangement,
    pub teams: Vec<ArrangementTeamDetail>,
    pub unassigned_members: Vec<ArrangementMember>,
}

/// An arrangement team with what the member moves need of its arrangement.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TeamContext {
    pub id: String,
    pub arrangement_id: String,
    pub live_team_id: Option<String>,
    pub project_id: String,
    pub is_active: bool,
}

/// `Row(TeamArrangement)` of alias `a` as JSON arguments.
const ARRANGEMENT_JSON: &str = concat!(
    "'id', a.id, 'name', a.name, 'isActive', a.is_active, 'projectId', a.project_id, ",
    "'createdAt', ",
    crate::js_iso_sql!("a.created_at"),
    ", 'updatedAt', ",
    crate::js_iso_sql!("a.updated_at")
);

/// `Row(ArrangementTeam)` of alias `at` as JSON arguments.
const TEAM_JSON: &str = "'id', at.id, 'name', at.name, 'arrangementId', at.arrangement_id, \
     'sortOrder', at.sort_order, 'liveTeamId', at.live_team_id";

/// `[Row(TeamArrangement) + {teams: [Row(ArrangementTeam) + {_count: {assignments}}]}]`
/// of a project, most recently updated first; teams by sort order (the
/// original leaves them unordered). One statement.
pub async fn list_for_project(
    conn: &mut PgConnection,
    project_id: &str,
) -> Result<View<Vec<ArrangementListItem>>, sqlx::Error> {
    let sql = format!(
        "SELECT COALESCE(json_agg(json_build_object({ARRANGEMENT_JSON}, 'teams', COALESCE((
             SELECT json_agg(json_build_object({TEAM_JSON}, '_count', json_build_object(
                 'assignments', (SELECT count(*) FROM arrangement_assignments aa
                                 WHERE aa.arrangement_team_id = at.id)))
                 ORDER BY at.sort_order, at.id)
             FROM arrangement_teams at WHERE at.arrangement_id = a.id), '[]'::json))
             ORDER BY a.updated_at DESC, a.id DESC), '[]'::json)
         FROM team_arrangements a WHERE a.project_id = $1"
    );
    let (Json(v),): (Json<Value>,) = super::sql::query_as(&sql)
        .bind(project_id)
        .fetch_one(conn)
        .await?;
    Ok(View::new(v))
}

/// `Row(TeamMember) + {person: PersonWithOrg}` of `tm` joined to `p`.
fn member_json() -> String {
    format!(
        "json_build_object('id', tm.id, 'personId', tm.person_id, 'projectId', tm.project_id, \
         'person', json_build_object({PERSON_FIELDS_ISO}, {DEPARTMENT_OF_P}, {TITLE_OF_P}))"
    )
}

/// `arrangement.getById`: the arrangement, its teams by sort order with
/// their assignments by the member's last name, and `unassignedMembers`
/// (project members in no team of it, by last name). One statement; `None`
/// if there is no such arrangement.
pub async fn find_detail(
    conn: &mut PgConnection,
    id: &str,
) -> Result<Option<View<ArrangementDetail>>, sqlx::Error> {
    let member = member_json();
    let sql = format!(
        "SELECT json_build_object({ARRANGEMENT_JSON},
             'teams', COALESCE((
                 SELECT json_agg(json_build_object({TEAM_JSON}, 'assignments', COALESCE((
                     SELECT json_agg(json_build_object('id', aa.id,
                         'arrangementTeamId', aa.arrangement_team_id,
                         'teamMemberId', aa.team_member_id, 'teamMember', {member})
                         ORDER BY p.last_name, tm.id)
                     FROM arrangement_assignments aa
                     JOIN team_members tm ON tm.id = aa.team_member_id
                     JOIN people p ON p.id = tm.person_id
                     WHERE aa.arrangement_team_id = at.id), '[]'::json))
                     ORDER BY at.sort_order, at.id)
                 FROM arrangement_teams at WHERE at.arrangement_id = a.id), '[]'::json),
             'unassignedMembers', COALESCE((
                 SELECT json_agg({member} ORDER BY p.last_name, tm.id)
                 FROM team_members tm JOIN people p ON p.id = tm.person_id
                 WHERE tm.project_id = a.project_id AND NOT EXISTS (
                     SELECT 1 FROM arrangement_assignments aa
                     JOIN arrangement_teams at ON at.id = aa.arrangement_team_id
                     WHERE at.arrangement_id = a.id AND aa.team_member_id = tm.id)), '[]'::json))
         FROM team_arrangements a WHERE a.id = $1"
    );
    let row: Option<(Json<Value>,)> = super::sql::query_as(&sql)
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|(Json(v),)| View::new(v)))
}

/// Inserts a draft (`isActive` false).
pub async fn insert(
    conn: &mut PgConnection,
    project_id: &str,
    name: &str,
) -> Result<Arrangement, sqlx::Error> {
    let now = time::now();
    super::sql::query_as(&format!(
        "INSERT INTO team_arrangements (id, name, is_active, project_id, created_at, updated_at)
         VALUES ($1, $2, false, $3, $4, $4) RETURNING {ARRANGEMENT_COLUMNS}"
    ))
    .bind(new_id())
    .bind(name)
    .bind(project_id)
    .bind(now)
    .fetch_one(conn)
    .await
}

/// Inserts the project's active arrangement "Current Teams" unless it has
/// one: `None` when another is active (the partial unique index decides,
/// waiting for a concurrent insert to commit or roll back).
pub async fn insert_active(
    conn: &mut PgConnection,
    project_id: &str,
) -> Result<Option<Arrangement>, sqlx::Error> {
    let now = time::now();
    super::sql::query_as(&format!(
        "INSERT INTO team_arrangements (id, name, is_active, project_id, created_at, updated_at)
         VALUES ($1, 'Current Teams', true, $2, $3, $3)
         ON CONFLICT (project_id) WHERE is_active DO NOTHING
         RETURNING {ARRANGEMENT_COLUMNS}"
    ))
    .bind(new_id())
    .bind(project_id)
    .bind(now)
    .fetch_optional(conn)
    .await
}

/// The project's active arrangement, if any.
pub async fn find_active(
    conn: &mut PgConnection,
    project_id: &str,
) -> Result<Option<Arrangement>, sqlx::Error> {
    super::sql::query_as(&format!(
        "SELECT {ARRANGEMENT_COLUMNS} FROM team_arrangements WHERE project_id = $1 AND is_active"
    ))
    .bind(project_id)
    .fetch_optional(conn)
    .await
}

/// Renames an arrangement; `None` if there is none.
pub async fn rename(
    conn: &mut PgConnection,
    id: &str,
    name: &str,
) -> Result<Option<Arrangement>, sqlx::Error> {
    super::sql::query_as(&format!(
        "UPDATE team_arrangements SET name = $2, updated_at = $3 WHERE id = $1
         RETURNING {ARRANGEMENT_COLUMNS}"
    ))
    .bind(id)
    .bind(name)
    .bind(time::now())
    .fetch_optional(conn)
    .await
}

/// Deletes an arrangement (its teams and assignments cascade; live teams are
/// untouched). `None` if there is none.
pub async fn delete(conn: &mut PgConnection, id: &str) -> Result<Option<Arrangement>, sqlx::Error> {
    super::sql::query_as(&format!(
        "DELETE FROM team_arrangements WHERE id = $1 RETURNING {ARRANGEMENT_COLUMNS}"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// The arrangement, row-locked (concurrent activations and team changes of
/// it run one after the other); `None` if there is none.
pub async fn lock(conn: &mut PgConnection, id: &str) -> Result<Option<Arrangement>, sqlx::Error> {
    super::sql::query_as(&format!(
        "SELECT {ARRANGEMENT_COLUMNS} FROM team_arrangements WHERE id = $1 FOR NO KEY UPDATE"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Serialises activations of the arrangement's project (a transaction-scoped
/// advisory lock on the project, taken before any arrangement row is locked,
/// so two activations cannot wait on each other's rows); returns the
/// project, `None` if there is no such arrangement.
pub async fn lock_project_of(
    conn: &mut PgConnection,
    id: &str,
) -> Result<Option<String>, sqlx::Error> {
    super::sql::query_scalar(
        "SELECT a.project_id FROM team_arrangements a,
         LATERAL (SELECT pg_advisory_xact_lock(hashtext('enghub.arrangements.' || a.project_id))) l
         WHERE a.id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Row-locks (`FOR UPDATE`, in id order) the live teams of the project of
/// arrangement `arrangement`, or of arrangement team `team`, before any
/// arrangement row is locked. Live writers elsewhere (team and membership
/// changes) lock a team row first and the active arrangement last (in the
/// mirror); taking the same order here means they either finish first or
/// wait, and never deadlock with an arrangement write.
pub async fn lock_live_teams(
    conn: &mut PgConnection,
    arrangement: Option<&str>,
    team: Option<&str>,
) -> Result<(), sqlx::Error> {
    super::sql::query(
        "SELECT t.id FROM teams t WHERE t.project_id = COALESCE(
             (SELECT a.project_id FROM team_arrangements a WHERE a.id = $1),
             (SELECT a.project_id FROM arrangement_teams at
              JOIN team_arrangements a ON a.id = at.arrangement_id WHERE at.id = $2))
         ORDER BY t.id FOR UPDATE OF t",
    )
    .bind(arrangement)
    .bind(team)
    .execute(conn)
    .await?;
    Ok(())
}

/// Inserts `assignments` (`(arrangement team, team member)` pairs) in one
/// statement.
async fn insert_assignments(
    conn: &mut PgConnection,
    assignments: &[(String, String)],
) -> Result<(), sqlx::Error> {
    if assignments.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = assignments.iter().map(|_| new_id()).collect();
    let teams: Vec<&str> = assignments.iter().map(|a| a.0.as_str()).collect();
    let members: Vec<&str> = assignments.iter().map(|a| a.1.as_str()).collect();
    super::sql::query(
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

/// Copies the teams (name, sort order; no live link) and assignments of
/// arrangement `source` into `target`. Three statements whatever the size.
pub async fn copy_teams(
    conn: &mut PgConnection,
    source: &str,
    target: &str,
) -> Result<(), sqlx::Error> {
    let old_ids: Vec<String> = super::sql::query_scalar(
        "SELECT id FROM arrangement_teams WHERE arrangement_id = $1 ORDER BY sort_order, id",
    )
    .bind(source)
    .fetch_all(&mut *conn)
    .await?;
    if old_ids.is_empty() {
        return Ok(());
    }
    let new_ids: Vec<String> = old_ids.iter().map(|_| new_id()).collect();
    let assignments: Vec<(String, String)> = super::sql::query_as(
        "WITH pairs AS (SELECT * FROM UNNEST($1::text[], $2::text[]) AS u(new_id, old_id)),
         added AS (
             INSERT INTO arrangement_teams (id, name, arrangement_id, sort_order, live_team_id)
             SELECT pairs.new_id, s.name, $3, s.sort_order, NULL
             FROM pairs JOIN arrangement_teams s ON s.id = pairs.old_id)
         SELECT pairs.new_id, aa.team_member_id FROM pairs
         JOIN arrangement_assignments aa ON aa.arrangement_team_id = pairs.old_id
         ORDER BY pairs.new_id, aa.id",
    )
    .bind(&new_ids)
    .bind(&old_ids)
    .bind(target)
    .fetch_all(&mut *conn)
    .await?;
    insert_assignments(conn, &assignments).await
}

/// Copies the project's live teams (by name, `sortOrder` = position) and
/// their memberships into `target`; with `link`, each arrangement team
/// links its live team. Two statements whatever the size.
pub async fn copy_live(
    conn: &mut PgConnection,
    project_id: &str,
    target: &str,
    link: bool,
) -> Result<(), sqlx::Error> {
    let live: Vec<String> =
        super::sql::query_scalar("SELECT id FROM teams WHERE project_id = $1 ORDER BY name, id")
            .bind(project_id)
            .fetch_all(&mut *conn)
            .await?;
    if live.is_empty() {
        return Ok(());
    }
    let new_ids: Vec<String> = live.iter().map(|_| new_id()).collect();
    let assignments: Vec<(String, String)> = super::sql::query_as(
        "WITH pairs AS (SELECT * FROM UNNEST($1::text[], $2::text[]) WITH ORDINALITY
                        AS u(new_id, live_id, ord)),
         added AS (
             INSERT INTO arrangement_teams (id, name, arrangement_id, sort_order, live_team_id)
             SELECT pairs.new_id, t.name, $3, (pairs.ord - 1)::int,
                    CASE WHEN $4 THEN t.id END
             FROM pairs JOIN teams t ON t.id = pairs.live_id)
         SELECT pairs.new_id, ms.team_member_id FROM pairs
         JOIN team_memberships ms ON ms.team_id = pairs.live_id
         ORDER BY pairs.new_id, ms.id",
    )
    .bind(&new_ids)
    .bind(&live)
    .bind(target)
    .bind(link)
    .fetch_all(&mut *conn)
    .await?;
    insert_assignments(conn, &assignments).await
}

/// What an activation changed in the live layout.
#[derive(Debug, Default)]
pub struct Activation {
    /// Clerk users whose teams changed (membership added or removed, or a
    /// team of theirs renamed or deleted).
    pub users: Vec<String>,
}

/// Makes `arrangement` (locked by the caller, of project `project_id`) the
/// project's active arrangement and its teams the live teams, keeping what
/// survives (§9 item 17): an arrangement team matched to a live team — by its
/// `liveTeamId`, else by name (the k-th unlinked arrangement team named X
/// takes the k-th unclaimed live team named X) — keeps that team (id,
/// description, image; renamed if its name differs); live teams left
/// unmatched are deleted, arrangement teams left unmatched get new teams;
/// memberships are rewritten as a set difference.
///
/// At most eight statements whatever the member count (the insert of new
/// memberships is skipped when there are none).
pub async fn activate(
    conn: &mut PgConnection,
    arrangement: &str,
    project_id: &str,
) -> Result<Activation, sqlx::Error> {
    let now = time::now();
    // 1. The other arrangements of the project become drafts without live links.
    super::sql::query(
        "WITH off AS (
             UPDATE team_arrangements SET is_active = false, updated_at = $3
             WHERE project_id = $1 AND is_active AND id <> $2)
         UPDATE arrangement_teams SET live_team_id = NULL
         WHERE live_team_id IS NOT NULL AND arrangement_id IN (
             SELECT id FROM team_arrangements WHERE project_id = $1 AND id <> $2)",
    )
    .bind(project_id)
    .bind(arrangement)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    // 2. This one becomes active.
    super::sql::query(
        "UPDATE team_arrangements SET is_active = true, updated_at = $2 WHERE id = $1",
    )
    .bind(arrangement)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    // 3. Match the arrangement's teams to live teams.
    let matched: Vec<(String, String, Option<String>)> = super::sql::query_as(
        "WITH at AS (SELECT id, name, sort_order, live_team_id FROM arrangement_teams
                     WHERE arrangement_id = $1),
         linked AS (SELECT at.id, at.live_team_id AS team_id FROM at
                    JOIN teams t ON t.id = at.live_team_id AND t.project_id = $2),
         free_at AS (SELECT id, name,
                         row_number() OVER (PARTITION BY name ORDER BY sort_order, id) AS rn
                     FROM at WHERE id NOT IN (SELECT id FROM linked)),
         free_t AS (SELECT id AS team_id, name,
                        row_number() OVER (PARTITION BY name ORDER BY id) AS rn
                    FROM teams WHERE project_id = $2
                      AND id NOT IN (SELECT team_id FROM linked)),
         named AS (SELECT free_at.id, free_t.team_id FROM free_at
                   JOIN free_t ON free_t.name = free_at.name AND free_t.rn = free_at.rn),
         m AS (SELECT * FROM linked UNION ALL SELECT * FROM named)
         SELECT at.id, at.name, m.team_id FROM at LEFT JOIN m ON m.id = at.id
         ORDER BY at.sort_order, at.id",
    )
    .bind(arrangement)
    .bind(project_id)
    .fetch_all(&mut *conn)
    .await?;
    let arr_ids: Vec<&str> = matched.iter().map(|m| m.0.as_str()).collect();
    let names: Vec<&str> = matched.iter().map(|m| m.1.as_str()).collect();
    let live_ids: Vec<String> = matched
        .iter()
        .map(|m| m.2.clone().unwrap_or_else(new_id))
        .collect();
    let is_new: Vec<bool> = matched.iter().map(|m| m.2.is_none()).collect();
    // 4. Create the new live teams, rename kept ones, link every arrangement
    //    team; returns the kept teams whose name changed.
    let renamed: Vec<String> = super::sql::query_scalar(
        "WITH u AS (SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::bool[])
                    AS u(arr_id, name, live_id, is_new)),
         ins AS (INSERT INTO teams (id, name, project_id)
                 SELECT live_id, name, $5 FROM u WHERE is_new),
         linked AS (UPDATE arrangement_teams a SET live_team_id = u.live_id FROM u
                    WHERE a.id = u.arr_id AND a.live_team_id IS DISTINCT FROM u.live_id)
         UPDATE teams t SET name = u.name FROM u
         WHERE NOT u.is_new AND t.id = u.live_id AND t.name <> u.name
         RETURNING t.id",
    )
    .bind(&arr_ids)
    .bind(&names)
    .bind(&live_ids)
    .bind(&is_new)
    .bind(project_id)
    .fetch_all(&mut *conn)
    .await?;
    // 5. Memberships as a set difference: delete the ones the arrangement
    //    does not have (including those of teams about to vanish), read the
    //    ones to add.
    let (removed, to_add): (Vec<String>, Vec<(String, String)>) = {
        let rows: Vec<(bool, String, String)> = super::sql::query_as(
            "WITH want AS (
                 SELECT DISTINCT at.live_team_id AS team_id, aa.team_member_id
                 FROM arrangement_assignments aa
                 JOIN arrangement_teams at ON at.id = aa.arrangement_team_id
                 WHERE at.arrangement_id = $1),
             gone AS (
                 DELETE FROM team_memberships ms USING teams t
                 WHERE t.id = ms.team_id AND t.project_id = $2 AND NOT EXISTS (
                     SELECT 1 FROM want w
                     WHERE w.team_id = ms.team_id AND w.team_member_id = ms.team_member_id)
                 RETURNING ms.team_id, ms.team_member_id)
             SELECT true, team_id, team_member_id FROM gone
             UNION ALL
             SELECT false, w.team_id, w.team_member_id FROM want w WHERE NOT EXISTS (
                 SELECT 1 FROM team_memberships ms
                 WHERE ms.team_id = w.team_id AND ms.team_member_id = w.team_member_id)",
        )
        .bind(arrangement)
        .bind(project_id)
        .fetch_all(&mut *conn)
        .await?;
        let mut removed = Vec::new();
        let mut to_add = Vec::new();
        for (gone, team, member) in rows {
            if gone {
                removed.push(member);
            } else {
                to_add.push((team, member));
            }
        }
        (removed, to_add)
    };
    if !to_add.is_empty() {
        let ids: Vec<String> = to_add.iter().map(|_| new_id()).collect();
        let teams: Vec<&str> = to_add.iter().map(|a| a.0.as_str()).collect();
        let members: Vec<&str> = to_add.iter().map(|a| a.1.as_str()).collect();
        super::sql::query(
            "INSERT INTO team_memberships (id, team_id, team_member_id)
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[])",
        )
        .bind(&ids)
        .bind(&teams)
        .bind(&members)
        .execute(&mut *conn)
        .await?;
    }
    // 6. The live teams no arrangement team kept vanish.
    super::sql::query("DELETE FROM teams WHERE project_id = $1 AND id <> ALL($2::text[])")
        .bind(project_id)
        .bind(&live_ids)
        .execute(&mut *conn)
        .await?;
    // 7. The Clerk users whose teams changed.
    let mut changed = removed;
    changed.extend(to_add.into_iter().map(|a| a.1));
    let users = super::sql::query_scalar(
        "SELECT DISTINCT p.clerk_user_id FROM team_members tm JOIN people p ON p.id = tm.person_id
         WHERE p.clerk_user_id IS NOT NULL AND (tm.id = ANY($1::text[]) OR tm.id IN (
             SELECT ms.team_member_id FROM team_memberships ms WHERE ms.team_id = ANY($2::text[])))
         ORDER BY 1",
    )
    .bind(&changed)
    .bind(&renamed)
    .fetch_all(conn)
    .await?;
    Ok(Activation { users })
}

/// The largest `sort_order` of the arrangement's teams.
pub async fn max_sort_order(
    conn: &mut PgConnection,
    arrangement: &str,
) -> Result<Option<i32>, sqlx::Error> {
    super::sql::query_scalar(
        "SELECT max(sort_order) FROM arrangement_teams WHERE arrangement_id = $1",
    )
    .bind(arrangement)
    .fetch_one(conn)
    .await
}

pub async fn insert_team(
    conn: &mut PgConnection,
    arrangement: &str,
    name: &str,
    sort_order: i32,
    live_team_id: Option<&str>,
) -> Result<ArrangementTeam, sqlx::Error> {
    super::sql::query_as(&format!(
        "INSERT INTO arrangement_teams (id, name, arrangement_id, sort_order, live_team_id)
         VALUES ($1, $2, $3, $4, $5) RETURNING {TEAM_COLUMNS}"
    ))
    .bind(new_id())
    .bind(name)
    .bind(arrangement)
    .bind(sort_order)
    .bind(live_team_id)
    .fetch_one(conn)
    .await
}

/// An arrangement team with its arrangement's project and state, both rows
/// locked; `None` if there is no such team.
pub async fn lock_team(
    conn: &mut PgConnection,
    id: &str,
) -> Result<Option<TeamContext>, sqlx::Error> {
    super::sql::query_as(
        "SELECT at.id, at.arrangement_id, at.live_team_id, a.project_id, a.is_active
         FROM arrangement_teams at JOIN team_arrangements a ON a.id = at.arrangement_id
         WHERE at.id = $1 FOR NO KEY UPDATE",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

pub async fn rename_team(
    conn: &mut PgConnection,
    id: &str,
    name: &str,
) -> Result<Option<ArrangementTeam>, sqlx::Error> {
    super::sql::query_as(&format!(
        "UPDATE arrangement_teams SET name = $2 WHERE id = $1 RETURNING {TEAM_COLUMNS}"
    ))
    .bind(id)
    .bind(name)
    .fetch_optional(conn)
    .await
}

/// Deletes an arrangement team (its assignments cascade).
pub async fn delete_team(
    conn: &mut PgConnection,
    id: &str,
) -> Result<Option<ArrangementTeam>, sqlx::Error> {
    super::sql::query_as(&format!(
        "DELETE FROM arrangement_teams WHERE id = $1 RETURNING {TEAM_COLUMNS}"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Indices of `team_ids` that are not teams of the arrangement, and whether
/// the list names each of its teams exactly once.
pub async fn check_order(
    conn: &mut PgConnection,
    arrangement: &str,
    team_ids: &[String],
) -> Result<(Vec<i32>, bool), sqlx::Error> {
    super::sql::query_as(
        "SELECT
             COALESCE((SELECT array_agg((u.ord - 1)::int ORDER BY u.ord)
                       FROM unnest($2::text[]) WITH ORDINALITY AS u(id, ord)
                       WHERE NOT EXISTS (SELECT 1 FROM arrangement_teams at
                                         WHERE at.id = u.id AND at.arrangement_id = $1)), '{}'),
             (SELECT count(*) FROM arrangement_teams WHERE arrangement_id = $1)
                 = cardinality($2::text[])
             AND cardinality($2::text[]) = (SELECT count(DISTINCT x) FROM unnest($2::text[]) x)",
    )
    .bind(arrangement)
    .bind(team_ids)
    .fetch_one(conn)
    .await
}

/// Sets `sort_order` = position for each of `team_ids` (one statement);
/// returns the rows in input order.
pub async fn reorder(
    conn: &mut PgConnection,
    arrangement: &str,
    team_ids: &[String],
) -> Result<Vec<ArrangementTeam>, sqlx::Error> {
    super::sql::query_as(
        "WITH u AS (SELECT * FROM unnest($2::text[]) WITH ORDINALITY AS u(id, ord)),
         upd AS (UPDATE arrangement_teams at SET sort_order = (u.ord - 1)::int FROM u
                 WHERE at.id = u.id AND at.arrangement_id = $1
                 RETURNING at.id, at.name, at.arrangement_id, at.sort_order, at.live_team_id)
         SELECT upd.* FROM upd JOIN u ON u.id = upd.id ORDER BY u.ord",
    )
    .bind(arrangement)
    .bind(team_ids)
    .fetch_all(conn)
    .await
}

/// The member's project, if it exists.
pub async fn member_project(
    conn: &mut PgConnection,
    team_member_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    super::sql::query_scalar("SELECT project_id FROM team_members WHERE id = $1")
        .bind(team_member_id)
        .fetch_optional(conn)
        .await
}

/// Puts the member into `team` and out of every other team of the same
/// arrangement (one statement); an existing assignment to `team` is kept.
pub async fn assign(
    conn: &mut PgConnection,
    team: &TeamContext,
    team_member_id: &str,
) -> Result<Assignment, sqlx::Error> {
    super::sql::query_as(
        "WITH gone AS (
             DELETE FROM arrangement_assignments aa USING arrangement_teams at
             WHERE at.id = aa.arrangement_team_id AND at.arrangement_id = $4
               AND aa.team_member_id = $3 AND aa.arrangement_team_id <> $2)
         INSERT INTO arrangement_assignments (id, arrangement_team_id, team_member_id)
         VALUES ($1, $2, $3)
         ON CONFLICT (arrangement_team_id, team_member_id)
         DO UPDATE SET id = arrangement_assignments.id
         RETURNING id, arrangement_team_id, team_member_id",
    )
    .bind(new_id())
    .bind(&team.id)
    .bind(team_member_id)
    .bind(&team.arrangement_id)
    .fetch_one(conn)
    .await
}

/// Deletes the assignment of the member to `team`; whether there was one.
pub async fn unassign(
    conn: &mut PgConnection,
    team: &str,
    team_member_id: &str,
) -> Result<bool, sqlx::Error> {
    let done = super::sql::query(
        "DELETE FROM arrangement_assignments WHERE arrangement_team_id = $1 AND team_member_id = $2",
    )
    .bind(team)
    .bind(team_member_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Moves the member's assignment from `from` to `to` (one statement): `None`
/// when it already is in `to` (the original's duplicate).
pub async fn move_assignment(
    conn: &mut PgConnection,
    from: &str,
    to: &str,
    team_member_id: &str,
) -> Result<Option<Assignment>, sqlx::Error> {
    super::sql::query_as(
        "WITH gone AS (
             DELETE FROM arrangement_assignments
             WHERE arrangement_team_id = $2 AND team_member_id = $4)
         INSERT INTO arrangement_assignments (id, arrangement_team_id, team_member_id)
         VALUES ($1, $3, $4) ON CONFLICT (arrangement_team_id, team_member_id) DO NOTHING
         RETURNING id, arrangement_team_id, team_member_id",
    )
    .bind(new_id())
    .bind(from)
    .bind(to)
    .bind(team_member_id)
    .fetch_optional(conn)
    .await
}

/// Rewrites one member's live memberships in the project (one statement):
/// deletes them all when `remove_all`, else the one in `remove`; keeps and
/// (re)adds the one in `add`.
pub async fn set_live_team(
    conn: &mut PgConnection,
    project_id: &str,
    team_member_id: &str,
    remove_all: bool,
    remove: Option<&str>,
    add: Option<&str>,
) -> Result<(), sqlx::Error> {
    super::sql::query(
        "WITH gone AS (
             DELETE FROM team_memberships ms USING teams t
             WHERE t.id = ms.team_id AND t.project_id = $1 AND ms.team_member_id = $2
               AND ($3 OR ms.team_id = $4) AND ms.team_id IS DISTINCT FROM $5)
         INSERT INTO team_memberships (id, team_id, team_member_id)
         SELECT $6, $5, $2 WHERE $5::text IS NOT NULL
         ON CONFLICT (team_id, team_member_id) DO NOTHING",
    )
    .bind(project_id)
    .bind(team_member_id)
    .bind(remove_all)
    .bind(remove)
    .bind(add)
    .bind(new_id())
    .execute(conn)
    .await?;
    Ok(())
}

/// The member's Clerk user, if claimed.
pub async fn member_user(
    conn: &mut PgConnection,
    team_member_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    let user: Option<Option<String>> = super::sql::query_scalar(
        "SELECT p.clerk_user_id FROM team_members tm JOIN people p ON p.id = tm.person_id
         WHERE tm.id = $1",
    )
    .bind(team_member_id)
    .fetch_optional(conn)
    .await?;
    Ok(user.flatten())
}
