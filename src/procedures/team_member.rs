//! Router `teamMember` (procedures.md §4.17): a person's membership in a
//! project, created and edited together with the person itself.
//!
//! Unlike the original, every reporting-line change goes through
//! [`change_reporting_line`] inside the writing transaction, under the
//! reporting-lines lock: cycles are refused, the `manager_changes` row is
//! written, and the chains of the person's whole subtree are invalidated
//! (§9 items 3, 14). `teamIds` must be teams of the member's project (§9 item
//! 24). Besides the project, each mutation invalidates `people:all` and the
//! `person-me` entries of everyone whose view embeds the person (§9 item 12).

use serde_json::json;

use crate::cache::{
    invalidate_people_cache, invalidate_person_me_by_ids, invalidate_project_cache, CacheKey,
};
use crate::db::people::{self, PersonFields};
use crate::db::team_members::{self, MemberView, OrgMember, TeamMember};
use crate::db::{new_id, reporting};
use crate::hierarchy;
use crate::trpc::{Access, ApiError, FromInput, Input, Mutated, Registry, TrpcError};
use sqlx::PgConnection;

use super::project::{IdInput, ProjectIdInput};
use super::roadmap::field_errors;
use super::Ctx;

pub fn register(r: &mut Registry<Ctx>) {
    r.query(
        "teamMember.getByProjectId",
        Access::Protected,
        |_: &ProjectIdInput| None,
        get_by_project_id,
    );
    r.query(
        "teamMember.getById",
        Access::Protected,
        |_: &IdInput| None,
        get_by_id,
    );
    r.query(
        "teamMember.getOrgTree",
        Access::Protected,
        |_: &ProjectIdInput| None,
        get_org_tree,
    );
    r.mutation("teamMember.create", create);
    r.mutation("teamMember.update", update);
    r.mutation("teamMember.delete", delete);
}

fn not_found(id: &str) -> ApiError {
    TrpcError::not_found(format!("Team member {id} not found.")).into()
}

/// `[MemberView]` by the person's last name.
async fn get_by_project_id(ctx: Ctx, input: ProjectIdInput) -> Result<Vec<MemberView>, ApiError> {
    let mut conn = ctx.app.db.acquire().await?;
    Ok(team_members::list_views(&mut conn, &input.project_id).await?)
}

/// `MemberView` or `null`.
async fn get_by_id(ctx: Ctx, input: IdInput) -> Result<Option<MemberView>, ApiError> {
    let mut conn = ctx.app.db.acquire().await?;
    Ok(team_members::find_view(&mut conn, &input.id).await?)
}

/// The members with their people (manager, department, title), by last
/// name; the client builds the tree.
async fn get_org_tree(ctx: Ctx, input: ProjectIdInput) -> Result<Vec<OrgMember>, ApiError> {
    let mut conn = ctx.app.db.acquire().await?;
    Ok(team_members::list_org(&mut conn, &input.project_id).await?)
}

/// `MemberInput` (after the leading `projectId` / `id`): the person's fields
/// and the member's teams. Optional strings absent or `""` are NULL;
/// `departmentId` is required and may not be `""` (§9 item 22); `""`
/// entries of `teamIds` are dropped, as in the original.
fn member_input(i: &mut Input) -> (PersonFields, Vec<String>) {
    let first_name = i.string_min("firstName", 1);
    let last_name = i.string_min("lastName", 1);
    let callsign = i.opt_string_or_empty("callsign");
    let email = i.email("email");
    let title_id = i.opt_id_or_empty("titleId");
    let department_id = Some(i.id("departmentId"));
    let team_ids = i
        .opt_id_list("teamIds")
        .into_iter()
        .filter(|t| !t.is_empty())
        .collect();
    let fields = PersonFields {
        first_name,
        last_name,
        callsign,
        email,
        github_username: i.opt_string_or_empty("githubUsername"),
        gitlab_username: i.opt_string_or_empty("gitlabUsername"),
        image_url: i.opt_url_or_empty("imageUrl"),
        manager_id: i.opt_id_or_empty("managerId"),
        department_id,
        title_id,
    };
    (fields, team_ids)
}

/// BAD_REQUEST on `teamIds[n]` for each team that is not the project's.
async fn ensure_project_teams(
    conn: &mut PgConnection,
    project_id: &str,
    team_ids: &[String],
) -> Result<(), ApiError> {
    let foreign = team_members::foreign_teams(conn, project_id, team_ids).await?;
    if foreign.is_empty() {
        return Ok(());
    }
    Err(field_errors(
        foreign
            .into_iter()
            .map(|n| {
                (
                    json!(["teamIds", n]),
                    "This team does not belong to the project.".to_string(),
                )
            })
            .collect(),
    ))
}

/// The one path by which `teamMember` mutations change an existing person's
/// reporting line, and so the one place for a rule on who may: with the
/// reporting-lines lock held, refuses a caller the access policy does not
/// allow ([`hierarchy::authorize_reporting_line_change`]) and a cycle, records the change, and
/// returns the chain keys of the person's whole subtree. The caller writes
/// `people.manager_id` in the same transaction. (A person created with a
/// manager has no reports, so there is nothing to check; see `create`.)
async fn change_reporting_line(
    ctx: &Ctx,
    conn: &mut PgConnection,
    person_id: &str,
    old_manager: Option<String>,
    new_manager: Option<String>,
) -> Result<Vec<CacheKey>, ApiError> {
    let changed_by = ctx.user_id()?;
    // Who may (issue 11's policy) and the cycle check, in one statement.
    hierarchy::authorize_reporting_line_change(
        conn,
        &ctx.app.config,
        ctx.caller()?,
        person_id,
        new_manager.as_deref(),
    )
    .await?;
    reporting::record_changes(
        conn,
        &[(person_id.to_string(), old_manager, new_manager)],
        changed_by,
    )
    .await?;
    Ok(hierarchy::subtree_chain_keys(conn, person_id).await?)
}

/// `people:all`, and the `person-me` entries and project views embedding
/// person `id` (the person, `managers`, its reports, its projects).
async fn person_views(
    conn: &mut PgConnection,
    id: &str,
    managers: &[String],
) -> Result<Vec<CacheKey>, sqlx::Error> {
    let (users, projects) = people::views_embedding(conn, id, managers).await?;
    let mut keys = invalidate_people_cache(None);
    keys.extend(invalidate_person_me_by_ids(
        users.iter().map(String::as_str),
    ));
    for project in &projects {
        keys.extend(invalidate_project_cache(project));
    }
    Ok(keys)
}

pub struct CreateInput {
    project_id: String,
    fields: PersonFields,
    team_ids: Vec<String>,
}

impl FromInput for CreateInput {
    fn from_input(i: &mut Input) -> Self {
        let project_id = i.id("projectId");
        let (fields, team_ids) = member_input(i);
        Self {
            project_id,
            fields,
            team_ids,
        }
    }
}

/// Adds the person with `email` to the project, creating the person from
/// the input if there is none (an existing person keeps its fields; only a
/// non-empty, different `managerId` is applied). Already a member: CONFLICT.
async fn create(ctx: Ctx, input: CreateInput) -> Result<Mutated<TeamMember>, ApiError> {
    let user = ctx.user_id()?.to_string();
    let new_manager = input.fields.manager_id.clone();
    let mut tx = ctx.app.db.begin().await?;
    if new_manager.is_some() {
        // Before any people row lock (see `hierarchy::lock_reporting_lines`).
        hierarchy::lock_reporting_lines(&mut tx).await?;
    }
    ensure_project_teams(&mut tx, &input.project_id, &input.team_ids).await?;
    let mut keys = invalidate_project_cache(&input.project_id);
    let mut managers = Vec::new();
    let person_id = match team_members::lock_person_by_email(&mut tx, &input.fields.email).await? {
        None => {
            // As `person.create`: a new person has no reports, so no loop and
            // no other chain to invalidate; only its first change is recorded.
            let person = people::insert(&mut tx, &new_id(), &input.fields).await?;
            if let Some(manager) = new_manager {
                reporting::record_changes(
                    &mut tx,
                    &[(person.id.clone(), None, Some(manager.clone()))],
                    &user,
                )
                .await?;
                managers.push(manager);
            }
            person.id
        }
        Some((id, current)) => {
            if let Some(manager) = new_manager.filter(|m| current.as_ref() != Some(m)) {
                keys.extend(
                    change_reporting_line(
                        &ctx,
                        &mut tx,
                        &id,
                        current.clone(),
                        Some(manager.clone()),
                    )
                    .await?,
                );
                team_members::set_manager(&mut tx, &id, &manager).await?;
                managers.extend(current);
                managers.push(manager);
            }
            id
        }
    };
    let member = team_members::insert_new(&mut tx, &person_id, &input.project_id)
        .await?
        .ok_or_else(|| TrpcError::conflict("This person is already a member of the project."))?;
    team_members::replace_teams(&mut tx, &member.id, &input.team_ids).await?;
    team_members::sync_live_to_active_arrangement(&mut tx, &input.project_id).await?;
    keys.extend(person_views(&mut tx, &person_id, &managers).await?);
    tx.commit().await?;
    Ok(Mutated::new(member, keys))
}

pub struct UpdateInput {
    id: String,
    fields: PersonFields,
    team_ids: Vec<String>,
}

impl FromInput for UpdateInput {
    fn from_input(i: &mut Input) -> Self {
        let id = i.id("id");
        let (fields, team_ids) = member_input(i);
        Self {
            id,
            fields,
            team_ids,
        }
    }
}

/// Overwrites the member's person (absent `managerId` removes the manager,
/// as in the original) and makes `teamIds` its exact set of teams (absent:
/// none). Its input always sets the manager, so it always takes the
/// reporting-lines lock first.
async fn update(ctx: Ctx, input: UpdateInput) -> Result<Mutated<TeamMember>, ApiError> {
    let new_manager = input.fields.manager_id.clone();
    let mut tx = ctx.app.db.begin().await?;
    hierarchy::lock_reporting_lines(&mut tx).await?;
    let (person_id, project_id, old_manager) = team_members::lock_member(&mut tx, &input.id)
        .await?
        .ok_or_else(|| not_found(&input.id))?;
    ensure_project_teams(&mut tx, &project_id, &input.team_ids).await?;
    let mut keys = invalidate_project_cache(&project_id);
    if new_manager != old_manager {
        keys.extend(
            change_reporting_line(
                &ctx,
                &mut tx,
                &person_id,
                old_manager.clone(),
                new_manager.clone(),
            )
            .await?,
        );
    }
    people::update(&mut tx, &person_id, &input.fields)
        .await?
        .ok_or_else(|| not_found(&input.id))?;
    team_members::replace_teams(&mut tx, &input.id, &input.team_ids).await?;
    team_members::sync_live_to_active_arrangement(&mut tx, &project_id).await?;
    let managers: Vec<String> = old_manager.into_iter().chain(new_manager).collect();
    keys.extend(person_views(&mut tx, &person_id, &managers).await?);
    tx.commit().await?;
    Ok(Mutated::new(
        TeamMember {
            id: input.id,
            person_id,
            project_id,
        },
        keys,
    ))
}

/// Removes the member from its project (memberships and arrangement
/// assignments go with it; the person stays).
async fn delete(ctx: Ctx, input: IdInput) -> Result<Mutated<TeamMember>, ApiError> {
    let mut tx = ctx.app.db.begin().await?;
    let member = team_members::delete_by_id(&mut tx, &input.id)
        .await?
        .ok_or_else(|| not_found(&input.id))?;
    team_members::sync_live_to_active_arrangement(&mut tx, &member.project_id).await?;
    let keys =
        super::person::membership_keys(&mut tx, &member.person_id, &[&member.project_id]).await?;
    tx.commit().await?;
    Ok(Mutated::new(member, keys))
}
