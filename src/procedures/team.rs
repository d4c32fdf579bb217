//! Router `team`: a project's live teams. Each write runs in one transaction
//! with the mirror into the project's active arrangement
//! (`syncLiveToActiveArrangement`). Writes invalidate the project's cached
//! views; renaming or deleting a team also invalidates `people:all` and the
//! `person-me` of its claimed members, whose memberships embed the team row.

use super::project::{IdInput, ProjectIdInput};
use super::Ctx;
use crate::cache::{invalidate_project_and_people, invalidate_project_cache, CacheKey};
use crate::db::team_members;
use crate::db::teams::{self, Team, TeamFields, TeamWithCount};
use crate::trpc::{Access, ApiError, FromInput, Input, Mutated, Registry, TrpcError};

pub fn register(r: &mut Registry<Ctx>) {
    r.query(
        "team.getByProjectId",
        Access::Protected,
        |_: &ProjectIdInput| None,
        get_by_project_id,
    );
    r.query(
        "team.getById",
        Access::Protected,
        |_: &IdInput| None,
        get_by_id,
    );
    r.mutation("team.create", create);
    r.mutation("team.update", update);
    r.mutation("team.delete", delete);
}

fn not_found(id: &str) -> ApiError {
    TrpcError::not_found(format!("Team {id} not found.")).into()
}

/// `[Row(Team) + {_count: {memberships}}]` by name.
async fn get_by_project_id(
    ctx: Ctx,
    input: ProjectIdInput,
) -> Result<Vec<TeamWithCount>, ApiError> {
    let mut conn = ctx.app.db.acquire().await?;
    Ok(teams::list_for_project(&mut conn, &input.project_id).await?)
}

/// `Row(Team) | null`.
async fn get_by_id(ctx: Ctx, input: IdInput) -> Result<Option<Team>, ApiError> {
    let mut conn = ctx.app.db.acquire().await?;
    Ok(teams::find(&mut conn, &input.id).await?)
}

/// `description` and `imageUrl`: absent or `""` → NULL.
fn team_fields(i: &mut Input) -> TeamFields {
    TeamFields {
        name: i.string_min("name", 1),
        description: i.opt_text_or_empty("description"),
        image_url: i.opt_web_url_or_empty("imageUrl"),
    }
}

pub struct CreateInput {
    project_id: String,
    fields: TeamFields,
}

impl FromInput for CreateInput {
    fn from_input(i: &mut Input) -> Self {
        Self {
            project_id: i.id("projectId"),
            fields: team_fields(i),
        }
    }
}

/// Unknown `projectId` → BAD_REQUEST (dangling reference).
async fn create(ctx: Ctx, input: CreateInput) -> Result<Mutated<Team>, ApiError> {
    let mut tx = ctx.app.db.begin().await?;
    let team = teams::insert(&mut tx, &input.project_id, &input.fields).await?;
    team_members::sync_live_to_active_arrangement(&mut tx, &team.project_id).await?;
    tx.commit().await?;
    let keys = invalidate_project_cache(&team.project_id);
    Ok(Mutated::new(team, keys))
}

pub struct UpdateInput {
    id: String,
    fields: TeamFields,
}

impl FromInput for UpdateInput {
    fn from_input(i: &mut Input) -> Self {
        Self {
            id: i.id("id"),
            fields: team_fields(i),
        }
    }
}

/// The project's views and the member views that embed team `id`.
async fn embedding_keys(
    conn: &mut sqlx::PgConnection,
    team: &Team,
) -> Result<Vec<CacheKey>, sqlx::Error> {
    let users = teams::member_users(conn, &team.id).await?;
    Ok(invalidate_project_and_people(&team.project_id, &users))
}

/// Overwrites name, description and image (absent or `""` clears them).
/// Unknown id → NOT_FOUND.
async fn update(ctx: Ctx, input: UpdateInput) -> Result<Mutated<Team>, ApiError> {
    let mut tx = ctx.app.db.begin().await?;
    let team = teams::update(&mut tx, &input.id, &input.fields)
        .await?
        .ok_or_else(|| not_found(&input.id))?;
    team_members::sync_live_to_active_arrangement(&mut tx, &team.project_id).await?;
    let keys = embedding_keys(&mut tx, &team).await?;
    tx.commit().await?;
    Ok(Mutated::new(team, keys))
}

/// Deletes the team (its memberships cascade); returns the deleted row.
/// Unknown id → NOT_FOUND.
async fn delete(ctx: Ctx, input: IdInput) -> Result<Mutated<Team>, ApiError> {
    let mut tx = ctx.app.db.begin().await?;
    let team = teams::lock_for_delete(&mut tx, &input.id)
        .await?
        .ok_or_else(|| not_found(&input.id))?;
    // Read before the cascade removes the memberships.
    let keys = embedding_keys(&mut tx, &team).await?;
    let team = teams::delete(&mut tx, &input.id)
        .await?
        .ok_or_else(|| not_found(&input.id))?;
    team_members::sync_live_to_active_arrangement(&mut tx, &team.project_id).await?;
    tx.commit().await?;
    Ok(Mutated::new(team, keys))
}
