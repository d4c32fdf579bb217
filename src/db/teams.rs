//! SQL of the live `teams` table (model Team).

use serde::Serialize;
use sqlx::PgConnection;
use ts_rs::TS;

/// `Row(Team)`.
pub use super::people::TeamRow as Team;

/// `{memberships: int}`.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct MembershipCount {
    pub memberships: i64,
}

/// `Row(Team) + {_count: {memberships}}`.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct TeamWithCount {
    #[serde(flatten)]
    pub team: Team,
    #[serde(rename = "_count")]
    pub count: MembershipCount,
}

/// The editable fields of a team; `None` is stored as NULL.
#[derive(Debug, Clone, Default)]
pub struct TeamFields {
    pub name: String,
    pub description: Option<String>,
    pub image_url: Option<String>,
}

/// The teams of a project by name (ties: insertion order), with their
/// membership counts (one query).
pub async fn list_for_project(
    conn: &mut PgConnection,
    project_id: &str,
) -> Result<Vec<TeamWithCount>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Counted {
        #[sqlx(flatten)]
        team: Team,
        memberships: i64,
    }
    let rows: Vec<Counted> = super::sql::query_as(
        "SELECT t.id, t.name, t.description, t.image_url, t.project_id,
                (SELECT count(*) FROM team_memberships ms WHERE ms.team_id = t.id) AS memberships
         FROM teams t WHERE t.project_id = $1 ORDER BY t.name, t.id",
    )
    .bind(project_id)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| TeamWithCount {
            team: r.team,
            count: MembershipCount {
                memberships: r.memberships,
            },
        })
        .collect())
}

pub async fn find(conn: &mut PgConnection, id: &str) -> Result<Option<Team>, sqlx::Error> {
    super::sql::query_as(
        "SELECT id, name, description, image_url, project_id FROM teams WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Team `id`, row-locked for its delete (memberships cannot be added
/// meanwhile).
pub async fn lock_for_delete(
    conn: &mut PgConnection,
    id: &str,
) -> Result<Option<Team>, sqlx::Error> {
    super::sql::query_as(
        "SELECT id, name, description, image_url, project_id FROM teams WHERE id = $1 FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

pub async fn insert(
    conn: &mut PgConnection,
    project_id: &str,
    f: &TeamFields,
) -> Result<Team, sqlx::Error> {
    super::sql::query_as(
        "INSERT INTO teams (id, name, description, image_url, project_id) VALUES ($1, $2, $3, $4, $5)
         RETURNING id, name, description, image_url, project_id",
    )
    .bind(super::new_id())
    .bind(&f.name)
    .bind(&f.description)
    .bind(&f.image_url)
    .bind(project_id)
    .fetch_one(conn)
    .await
}

/// Overwrites name, description and image (`None` clears). `None` if no such
/// team.
pub async fn update(
    conn: &mut PgConnection,
    id: &str,
    f: &TeamFields,
) -> Result<Option<Team>, sqlx::Error> {
    super::sql::query_as(
        "UPDATE teams SET name = $2, description = $3, image_url = $4 WHERE id = $1
         RETURNING id, name, description, image_url, project_id",
    )
    .bind(id)
    .bind(&f.name)
    .bind(&f.description)
    .bind(&f.image_url)
    .fetch_optional(conn)
    .await
}

/// Deletes a team (cascading its memberships; arrangement teams lose their
/// live link). `None` if no such team.
pub async fn delete(conn: &mut PgConnection, id: &str) -> Result<Option<Team>, sqlx::Error> {
    super::sql::query_as(
        "DELETE FROM teams WHERE id = $1 RETURNING id, name, description, image_url, project_id",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// The Clerk users of the team's members: their `person.me` embeds the team
/// (`projectMemberships.teamMemberships.team`).
pub async fn member_users(conn: &mut PgConnection, id: &str) -> Result<Vec<String>, sqlx::Error> {
    super::sql::query_scalar(
        "SELECT p.clerk_user_id FROM team_memberships ms
         JOIN team_members tm ON tm.id = ms.team_member_id
         JOIN people p ON p.id = tm.person_id
         WHERE ms.team_id = $1 AND p.clerk_user_id IS NOT NULL ORDER BY p.clerk_user_id",
    )
    .bind(id)
    .fetch_all(conn)
    .await
}
