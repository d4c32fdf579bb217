//! Router `arrangement` (procedures.md §4.1): draft layouts of a project's
//! members into teams, cloning, and the activation that makes one the live
//! teams.
//!
//! Unlike the original:
//! - at most one arrangement per project is active, enforced by a partial
//!   unique index; `ensureActiveArrangement` relies on it (§9 item 16);
//! - activation keeps the live teams that survive (id, description, image)
//!   and rewrites memberships as a set difference (§9 item 17);
//! - every write that touches the live layout invalidates the project's
//!   views, `people:all` and the `person-me` of the people whose teams
//!   changed; drafts invalidate nothing (§9 item 12);
//! - members, teams and arrangements of another project or arrangement are
//!   BAD_REQUEST field errors (§9 item 24); missing rows are NOT_FOUND;
//! - every statement is set-based (§9 item 20).

use serde_json::json;

use super::project::{IdInput, ProjectIdInput};
use super::roadmap::field_errors;
use super::Ctx;
use crate::cache::{invalidate_project_and_people, CacheKey};
use crate::db::arrangements::{
    self, Arrangement, ArrangementDetail, ArrangementListItem, ArrangementTeam, Assignment,
    TeamContext,
};
use crate::db::teams::{self, TeamFields};
use crate::trpc::registry::Nothing;
use crate::trpc::types::View;
use crate::trpc::{Access, ApiError, FromInput, Input, Mutated, Registry, TrpcError};

pub fn register(r: &mut Registry<Ctx>) {
    r.query(
        "arrangement.getByProjectId",
        Access::Protected,
        |_: &ProjectIdInput| None,
        get_by_project_id,
    );
    r.query(
        "arrangement.getById",
        Access::Protected,
        |_: &IdInput| None,
        get_by_id,
    );
    r.mutation("arrangement.create", create);
    r.mutation("arrangement.update", update);
    r.mutation("arrangement.delete", delete);
    r.mutation("arrangement.clone", clone);
    r.mutation("arrangement.cloneFromLive", clone_from_live);
    r.mutation("arrangement.ensureActiveArrangement", ensure_active);
    r.mutation("arrangement.activate", activate);
    r.mutation("arrangement.addTeam", add_team);
    r.mutation("arrangement.updateTeam", update_team);
    r.mutation("arrangement.deleteTeam", delete_team);
    r.mutation("arrangement.reorderTeams", reorder_teams);
    r.mutation("arrangement.assignMember", assign_member);
    r.mutation("arrangement.unassignMember", unassign_member);
    r.mutation("arrangement.moveMember", move_member);
}

fn arrangement_not_found() -> ApiError {
    TrpcError::not_found("Arrangement not found").into()
}

fn team_not_found(id: &str) -> ApiError {
    TrpcError::not_found(format!("Arrangement team {id} not found.")).into()
}

fn field_error(path: &str, message: impl Into<String>) -> ApiError {
    field_errors(vec![(json!([path]), message.into())])
}

/// The views that embed the live layout of `project`: the project, the
/// project list, the people list and the `person-me` of `users`.
fn live_keys(project: &str, users: &[String]) -> Vec<CacheKey> {
    invalidate_project_and_people(project, users)
}

/// The project's arrangements, most recently updated first, each with its
/// teams (by sort order) and their `_count.assignments`.
async fn get_by_project_id(
    ctx: Ctx,
    input: ProjectIdInput,
) -> Result<View<Vec<ArrangementListItem>>, ApiError> {
    let mut conn = ctx.app.db.acquire().await?;
    Ok(arrangements::list_for_project(&mut conn, &input.project_id).await?)
}

/// The arrangement with teams, assignments and `unassignedMembers`.
/// Unknown id → NOT_FOUND "Arrangement not found".
async fn get_by_id(ctx: Ctx, input: IdInput) -> Result<View<ArrangementDetail>, ApiError> {
    let mut conn = ctx.app.db.acquire().await?;
    arrangements::find_detail(&mut conn, &input.id)
        .await?
        .ok_or_else(arrangement_not_found)
}

/// `{projectId, name: str≥1}`.
pub struct CreateInput {
    project_id: String,
    name: String,
}

impl FromInput for CreateInput {
    fn from_input(i: &mut Input) -> Self {
        Self {
            project_id: i.id("projectId"),
            name: i.string_min("name", 1),
        }
    }
}

/// A draft. Unknown project → BAD_REQUEST (dangling reference).
async fn create(ctx: Ctx, input: CreateInput) -> Result<Mutated<Arrangement>, ApiError> {
    let mut conn = ctx.app.db.acquire().await?;
    let a = arrangements::insert(&mut conn, &input.project_id, &input.name).await?;
    Ok(Mutated::new(a, vec![]))
}

/// `{id, name: str≥1}`.
pub struct RenameInput {
    id: String,
    name: String,
}

impl FromInput for RenameInput {
    fn from_input(i: &mut Input) -> Self {
        Self {
            id: i.id("id"),
            name: i.string_min("name", 1),
        }
    }
}

/// Renames; unknown id → NOT_FOUND.
async fn update(ctx: Ctx, input: RenameInput) -> Result<Mutated<Arrangement>, ApiError> {
    let mut conn = ctx.app.db.acquire().await?;
    let a = arrangements::rename(&mut conn, &input.id, &input.name)
        .await?
        .ok_or_else(arrangement_not_found)?;
    Ok(Mutated::new(a, vec![]))
}

/// Deletes the arrangement (live teams untouched, even for the active one);
/// unknown id → NOT_FOUND.
async fn delete(ctx: Ctx, input: IdInput) -> Result<Mutated<Arrangement>, ApiError> {
    let mut conn = ctx.app.db.acquire().await?;
    let a = arrangements::delete(&mut conn, &input.id)
        .await?
        .ok_or_else(arrangement_not_found)?;
    Ok(Mutated::new(a, vec![]))
}

/// `{sourceArrangementId, name: str≥1}`.
pub struct CloneInput {
    source: String,
    name: String,
}

impl FromInput for CloneInput {
    fn from_input(i: &mut Input) -> Self {
        Self {
            source: i.id("sourceArrangementId"),
            name: i.string_min("name", 1),
        }
    }
}

/// A draft copy of an arrangement (teams, sort orders, assignments; no live
/// links). Unknown source → NOT_FOUND.
async fn clone(ctx: Ctx, input: CloneInput) -> Result<Mutated<Arrangement>, ApiError> {
    let mut tx = ctx.app.db.begin().await?;
    let source = arrangements::lock(&mut tx, &input.source)
        .await?
        .ok_or_else(arrangement_not_found)?;
    let a = arrangements::insert(&mut tx, &source.project_id, &input.name).await?;
    arrangements::copy_teams(&mut tx, &source.id, &a.id).await?;
    tx.commit().await?;
    Ok(Mutated::new(a, vec![]))
}

/// A draft copy of the live teams (by name) and memberships. Unknown project
/// → BAD_REQUEST (dangling reference).
async fn clone_from_live(ctx: Ctx, input: CreateInput) -> Result<Mutated<Arrangement>, ApiError> {
    let mut tx = ctx.app.db.begin().await?;
    let a = arrangements::insert(&mut tx, &input.project_id, &input.name).await?;
    arrangements::copy_live(&mut tx, &input.project_id, &a.id, false).await?;
    tx.commit().await?;
    Ok(Mutated::new(a, vec![]))
}

/// The project's active arrangement, created ("Current Teams", mirroring the
/// live teams with links) if it has none. Concurrent calls return the same
/// one: the partial unique index admits one insert, the others read it.
async fn ensure_active(ctx: Ctx, input: ProjectIdInput) -> Result<Mutated<Arrangement>, ApiError> {
    let mut tx = ctx.app.db.begin().await?;
    let a = match arrangements::insert_active(&mut tx, &input.project_id).await? {
        Some(a) => {
            arrangements::copy_live(&mut tx, &input.project_id, &a.id, true).await?;
            a
        }
        None => arrangements::find_active(&mut tx, &input.project_id)
            .await?
            .ok_or_else(|| {
                ApiError::from(TrpcError::conflict(
                    "The project's active arrangement changed meanwhile; try again.",
                ))
            })?,
    };
    tx.commit().await?;
    Ok(Mutated::new(a, vec![]))
}

/// Makes the arrangement active and its teams the live teams, keeping the
/// live teams that survive (see [`arrangements::activate`]). `{}`.
/// Unknown id → NOT_FOUND.
async fn activate(ctx: Ctx, input: IdInput) -> Result<Mutated<Nothing>, ApiError> {
    let mut tx = ctx.app.db.begin().await?;
    arrangements::lock_project_of(&mut tx, &input.id)
        .await?
        .ok_or_else(arrangement_not_found)?;
    arrangements::lock_live_teams(&mut tx, Some(&input.id), None).await?;
    let a = arrangements::lock(&mut tx, &input.id)
        .await?
        .ok_or_else(arrangement_not_found)?;
    let done = arrangements::activate(&mut tx, &a.id, &a.project_id).await?;
    tx.commit().await?;
    Ok(Mutated::new(Nothing, live_keys(&a.project_id, &done.users)))
}

/// `{arrangementId, name: str≥1}`.
pub struct AddTeamInput {
    arrangement_id: String,
    name: String,
}

impl FromInput for AddTeamInput {
    fn from_input(i: &mut Input) -> Self {
        Self {
            arrangement_id: i.id("arrangementId"),
            name: i.string_min("name", 1),
        }
    }
}

/// Appends a team (sort order max + 1); in the active arrangement it gets a
/// new live team too. Unknown arrangement → NOT_FOUND.
async fn add_team(ctx: Ctx, input: AddTeamInput) -> Result<Mutated<ArrangementTeam>, ApiError> {
    let mut tx = ctx.app.db.begin().await?;
    arrangements::lock_live_teams(&mut tx, Some(&input.arrangement_id), None).await?;
    let a = arrangements::lock(&mut tx, &input.arrangement_id)
        .await?
        .ok_or_else(arrangement_not_found)?;
    let max = arrangements::max_sort_order(&mut tx, &a.id).await?;
    let live = if a.is_active {
        let fields = TeamFields {
            name: input.name.clone(),
            ..TeamFields::default()
        };
        Some(teams::insert(&mut tx, &a.project_id, &fields).await?.id)
    } else {
        None
    };
    let team = arrangements::insert_team(
        &mut tx,
        &a.id,
        &input.name,
        max.map_or(0, |m| m.saturating_add(1)),
        live.as_deref(),
    )
    .await?;
    tx.commit().await?;
    let keys = if live.is_some() {
        live_keys(&a.project_id, &[])
    } else {
        vec![]
    };
    Ok(Mutated::new(team, keys))
}

/// `{teamId, name: str≥1}`.
pub struct UpdateTeamInput {
    team_id: String,
    name: String,
}

impl FromInput for UpdateTeamInput {
    fn from_input(i: &mut Input) -> Self {
        Self {
            team_id: i.id("teamId"),
            name: i.string_min("name", 1),
        }
    }
}

/// Renames the arrangement team and its live team (if linked). Unknown id →
/// NOT_FOUND.
async fn update_team(
    ctx: Ctx,
    input: UpdateTeamInput,
) -> Result<Mutated<ArrangementTeam>, ApiError> {
    let mut tx = ctx.app.db.begin().await?;
    arrangements::lock_live_teams(&mut tx, None, Some(&input.team_id)).await?;
    let ctx_team = arrangements::lock_team(&mut tx, &input.team_id)
        .await?
        .ok_or_else(|| team_not_found(&input.team_id))?;
    let team = arrangements::rename_team(&mut tx, &input.team_id, &input.name)
        .await?
        .ok_or_else(|| team_not_found(&input.team_id))?;
    let mut keys = vec![];
    if let Some(live) = &ctx_team.live_team_id {
        if let Some(existing) = teams::find(&mut tx, live).await? {
            let fields = TeamFields {
                name: input.name.clone(),
                description: existing.description,
                image_url: existing.image_url,
            };
            teams::update(&mut tx, live, &fields).await?;
            let users = teams::member_users(&mut tx, live).await?;
            keys = live_keys(&ctx_team.project_id, &users);
        }
    }
    tx.commit().await?;
    Ok(Mutated::new(team, keys))
}

/// `{teamId}`.
pub struct TeamIdInput {
    team_id: String,
}

impl FromInput for TeamIdInput {
    fn from_input(i: &mut Input) -> Self {
        Self {
            team_id: i.id("teamId"),
        }
    }
}

/// Deletes the arrangement team (its assignments cascade) and its live team
/// (its memberships cascade); returns the deleted row, `liveTeamId` null.
/// Unknown id → NOT_FOUND.
async fn delete_team(ctx: Ctx, input: TeamIdInput) -> Result<Mutated<ArrangementTeam>, ApiError> {
    let mut tx = ctx.app.db.begin().await?;
    arrangements::lock_live_teams(&mut tx, None, Some(&input.team_id)).await?;
    let ctx_team = arrangements::lock_team(&mut tx, &input.team_id)
        .await?
        .ok_or_else(|| team_not_found(&input.team_id))?;
    let mut keys = vec![];
    if let Some(live) = &ctx_team.live_team_id {
        let users = teams::member_users(&mut tx, live).await?;
        if teams::delete(&mut tx, live).await?.is_some() {
            keys = live_keys(&ctx_team.project_id, &users);
        }
    }
    let team = arrangements::delete_team(&mut tx, &input.team_id)
        .await?
        .ok_or_else(|| team_not_found(&input.team_id))?;
    tx.commit().await?;
    Ok(Mutated::new(team, keys))
}

/// `{arrangementId, teamIds: [str]}`.
pub struct ReorderInput {
    arrangement_id: String,
    team_ids: Vec<String>,
}

impl FromInput for ReorderInput {
    fn from_input(i: &mut Input) -> Self {
        Self {
            arrangement_id: i.id("arrangementId"),
            team_ids: i.id_list("teamIds"),
        }
    }
}

/// Sets each team's sort order to its position. The list must name each
/// team of the arrangement exactly once: a team of another arrangement (or
/// unknown) is a BAD_REQUEST on `teamIds[n]`, a missing or repeated one a
/// BAD_REQUEST on `teamIds`. Unknown arrangement → NOT_FOUND.
async fn reorder_teams(
    ctx: Ctx,
    input: ReorderInput,
) -> Result<Mutated<Vec<ArrangementTeam>>, ApiError> {
    let mut tx = ctx.app.db.begin().await?;
    let a = arrangements::lock(&mut tx, &input.arrangement_id)
        .await?
        .ok_or_else(arrangement_not_found)?;
    let (foreign, complete) = arrangements::check_order(&mut tx, &a.id, &input.team_ids).await?;
    if !foreign.is_empty() {
        return Err(field_errors(
            foreign
                .into_iter()
                .map(|n| {
                    (
                        json!(["teamIds", n]),
                        "Not a team of this arrangement".to_string(),
                    )
                })
                .collect(),
        ));
    }
    if !complete {
        return Err(field_error(
            "teamIds",
            "Must name each team of the arrangement exactly once",
        ));
    }
    let rows = arrangements::reorder(&mut tx, &a.id, &input.team_ids).await?;
    tx.commit().await?;
    Ok(Mutated::new(rows, vec![]))
}

/// `{arrangementTeamId, teamMemberId}`.
pub struct AssignInput {
    arrangement_team_id: String,
    team_member_id: String,
}

impl FromInput for AssignInput {
    fn from_input(i: &mut Input) -> Self {
        Self {
            arrangement_team_id: i.id("arrangementTeamId"),
            team_member_id: i.id("teamMemberId"),
        }
    }
}

/// The arrangement team (locked) and a check that the member is one of its
/// project's: unknown team → NOT_FOUND; unknown member or a member of
/// another project → BAD_REQUEST on `teamMemberId`.
async fn team_and_member(
    conn: &mut sqlx::PgConnection,
    team_id: &str,
    member: &str,
) -> Result<TeamContext, ApiError> {
    let team = arrangements::lock_team(conn, team_id)
        .await?
        .ok_or_else(|| team_not_found(team_id))?;
    match arrangements::member_project(conn, member).await? {
        Some(p) if p == team.project_id => Ok(team),
        Some(_) => Err(field_error(
            "teamMemberId",
            "Not a member of the arrangement's project",
        )),
        None => Err(field_error("teamMemberId", "Team member not found")),
    }
}

/// The member's `person-me` key, if claimed, with the live layout's keys.
async fn member_keys(
    conn: &mut sqlx::PgConnection,
    project: &str,
    member: &str,
) -> Result<Vec<CacheKey>, sqlx::Error> {
    let user = arrangements::member_user(conn, member).await?;
    Ok(live_keys(project, &user.into_iter().collect::<Vec<_>>()))
}

/// Assigns the member to the team, out of every other team of the same
/// arrangement; in the active arrangement the member's live teams follow.
async fn assign_member(ctx: Ctx, input: AssignInput) -> Result<Mutated<Assignment>, ApiError> {
    let mut tx = ctx.app.db.begin().await?;
    arrangements::lock_live_teams(&mut tx, None, Some(&input.arrangement_team_id)).await?;
    let team = team_and_member(&mut tx, &input.arrangement_team_id, &input.team_member_id).await?;
    let row = arrangements::assign(&mut tx, &team, &input.team_member_id).await?;
    let mut keys = vec![];
    if team.is_active {
        if let Some(live) = &team.live_team_id {
            arrangements::set_live_team(
                &mut tx,
                &team.project_id,
                &input.team_member_id,
                true,
                None,
                Some(live),
            )
            .await?;
            keys = member_keys(&mut tx, &team.project_id, &input.team_member_id).await?;
        }
    }
    tx.commit().await?;
    Ok(Mutated::new(row, keys))
}

/// Removes the member from the team (none is fine); in the active
/// arrangement from its live team too. `{}`. Unknown team → NOT_FOUND.
async fn unassign_member(ctx: Ctx, input: AssignInput) -> Result<Mutated<Nothing>, ApiError> {
    let mut tx = ctx.app.db.begin().await?;
    arrangements::lock_live_teams(&mut tx, None, Some(&input.arrangement_team_id)).await?;
    let team = arrangements::lock_team(&mut tx, &input.arrangement_team_id)
        .await?
        .ok_or_else(|| team_not_found(&input.arrangement_team_id))?;
    arrangements::unassign(&mut tx, &team.id, &input.team_member_id).await?;
    let mut keys = vec![];
    if team.is_active {
        if let Some(live) = &team.live_team_id {
            arrangements::set_live_team(
                &mut tx,
                &team.project_id,
                &input.team_member_id,
                false,
                Some(live),
                None,
            )
            .await?;
            keys = member_keys(&mut tx, &team.project_id, &input.team_member_id).await?;
        }
    }
    tx.commit().await?;
    Ok(Mutated::new(Nothing, keys))
}

/// `{teamMemberId, fromTeamId, toTeamId}`.
pub struct MoveInput {
    team_member_id: String,
    from: String,
    to: String,
}

impl FromInput for MoveInput {
    fn from_input(i: &mut Input) -> Self {
        Self {
            team_member_id: i.id("teamMemberId"),
            from: i.id("fromTeamId"),
            to: i.id("toTeamId"),
        }
    }
}

/// Moves the member's assignment between two teams of one arrangement (in
/// the active one, its live membership follows). Unknown team → NOT_FOUND;
/// teams of different arrangements → BAD_REQUEST on `toTeamId`; the same
/// team twice → BAD_REQUEST on `toTeamId`; already in the destination →
/// CONFLICT.
async fn move_member(ctx: Ctx, input: MoveInput) -> Result<Mutated<Assignment>, ApiError> {
    if input.from == input.to {
        return Err(field_error("toTeamId", "Must differ from fromTeamId"));
    }
    let mut tx = ctx.app.db.begin().await?;
    arrangements::lock_live_teams(&mut tx, None, Some(&input.to)).await?;
    let from = arrangements::lock_team(&mut tx, &input.from)
        .await?
        .ok_or_else(|| team_not_found(&input.from))?;
    let to = team_and_member(&mut tx, &input.to, &input.team_member_id).await?;
    if from.arrangement_id != to.arrangement_id {
        return Err(field_error(
            "toTeamId",
            "Not a team of the source team's arrangement",
        ));
    }
    let row = arrangements::move_assignment(&mut tx, &from.id, &to.id, &input.team_member_id)
        .await?
        .ok_or_else(|| {
            ApiError::from(TrpcError::conflict(
                "The member is already assigned to the destination team.",
            ))
        })?;
    let mut keys = vec![];
    if to.is_active && (from.live_team_id.is_some() || to.live_team_id.is_some()) {
        arrangements::set_live_team(
            &mut tx,
            &to.project_id,
            &input.team_member_id,
            false,
            from.live_team_id.as_deref(),
            to.live_team_id.as_deref(),
        )
        .await?;
        keys = member_keys(&mut tx, &to.project_id, &input.team_member_id).await?;
    }
    tx.commit().await?;
    Ok(Mutated::new(row, keys))
}
