//! SQL of project membership (`team_members`, `team_memberships`) and the
//! mirror of live teams into a project's active arrangement.

use serde::{Deserialize, Serialize};
use sqlx::PgConnection;

/// `Row(TeamMember)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
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
/// project's active arrangement (if any) an exact mirror of its live teams,
/// ordered by name. Run inside the caller's transaction.
pub async fn sync_live_to_active_arrangement(
    conn: &mut PgConnection,
    project_id: &str,
) -> Result<(), sqlx::Error> {
    let active: Option<(String,)> = crate::db::sql::query_as(
        "SELECT id FROM team_arrangements WHERE project_id = $1 AND is_active
         ORDER BY created_at, id LIMIT 1",
    )
    .bind(project_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((arrangement,)) = active else {
        return Ok(());
    };
    crate::db::sql::query("DELETE FROM arrangement_teams WHERE arrangement_id = $1")
        .bind(&arrangement)
        .execute(&mut *conn)
        .await?;
    let teams: Vec<(String, String)> = crate::db::sql::query_as(
        "SELECT id, name FROM teams WHERE project_id = $1 ORDER BY name, id",
    )
    .bind(project_id)
    .fetch_all(&mut *conn)
    .await?;
    if teams.is_empty() {
        return Ok(());
    }
    let new_ids: Vec<String> = teams.iter().map(|_| super::new_id()).collect();
    let live_ids: Vec<&str> = teams.iter().map(|t| t.0.as_str()).collect();
    let names: Vec<&str> = teams.iter().map(|t| t.1.as_str()).collect();
    let orders: Vec<i32> = (0..teams.len() as i32).collect();
    crate::db::sql::query(
        "INSERT INTO arrangement_teams (id, name, arrangement_id, sort_order, live_team_id)
         SELECT id, name, $4, sort_order, live_id
         FROM UNNEST($1::text[], $2::text[], $3::int[], $5::text[]) AS t(id, name, sort_order, live_id)",
    )
    .bind(&new_ids)
    .bind(&names)
    .bind(&orders)
    .bind(&arrangement)
    .bind(&live_ids)
    .execute(&mut *conn)
    .await?;
    let memberships: Vec<(String, String)> = crate::db::sql::query_as(
        "SELECT t.arr_id, ms.team_member_id
         FROM UNNEST($1::text[], $2::text[]) AS t(arr_id, live_id)
         JOIN team_memberships ms ON ms.team_id = t.live_id",
    )
    .bind(&new_ids)
    .bind(&live_ids)
    .fetch_all(&mut *conn)
    .await?;
    if memberships.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = memberships.iter().map(|_| super::new_id()).collect();
    let teams: Vec<&str> = memberships.iter().map(|m| m.0.as_str()).collect();
    let members: Vec<&str> = memberships.iter().map(|m| m.1.as_str()).collect();
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
