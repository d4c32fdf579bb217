//! Router `person`: people, reporting lines, project membership and claiming
//! a person record as "me".
//!
//! Every write runs in one transaction with its `manager_changes` rows; a
//! manager change takes the reporting-lines lock, checks who may make it and
//! that it closes no loop inside the transaction and invalidates the chains of the moved person's whole subtree
//! (see [`crate::hierarchy`]).

use crate::cache::{
    invalidate_people_cache, invalidate_person_me_by_ids, invalidate_project_cache, CacheKey,
};
use crate::db::people::{self, Person, PersonFields, PersonFull, PersonListItem};
use crate::db::team_members::{self, TeamMember};
use crate::db::{new_id, reporting};
use crate::hierarchy;
use crate::trpc::registry::Nothing;
use crate::trpc::{Access, ApiError, FromInput, Input, Mutated, Registry, TrpcError};

use super::paging::{ListInput, Page};
use super::Ctx;

pub fn register(r: &mut Registry<Ctx>) {
    r.query(
        "person.getAll",
        Access::Protected,
        |_: &()| Some(CacheKey::People),
        get_all,
    );
    r.query("person.list", Access::Protected, |_: &ListInput| None, list);
    r.query(
        "person.getById",
        Access::Protected,
        |_: &IdInput| None,
        get_by_id,
    );
    r.mutation("person.create", create);
    r.mutation("person.update", update);
    r.mutation("person.delete", delete);
    r.mutation("person.joinProject", join_project);
    r.mutation("person.moveToProject", move_to_project);
    r.mutation("person.leaveProject", leave_project);
    r.query_for_caller(
        "person.me",
        |user_id| CacheKey::PersonMe(user_id.to_string()),
        me,
    );
    r.mutation("person.claimAsMe", claim_as_me);
    r.mutation("person.unclaimMe", unclaim_me);
}

fn not_found(id: &str) -> ApiError {
    TrpcError::not_found(format!("Person {id} not found.")).into()
}

async fn get_all(ctx: Ctx, _: ()) -> Result<Vec<PersonFull>, ApiError> {
    let mut conn = ctx.app.db.acquire().await?;
    Ok(people::list_full(&mut conn).await?)
}

async fn list(ctx: Ctx, input: ListInput) -> Result<Page<Vec<PersonListItem>>, ApiError> {
    let mut conn = ctx.app.db.acquire().await?;
    let (search, offset, limit) = input.page_args();
    let (items, total_count) = people::list_page(&mut conn, search, offset, limit).await?;
    Ok(Page { items, total_count })
}

pub struct IdInput {
    id: String,
}

impl FromInput for IdInput {
    fn from_input(i: &mut Input) -> Self {
        Self { id: i.id("id") }
    }
}

async fn get_by_id(ctx: Ctx, input: IdInput) -> Result<Option<PersonFull>, ApiError> {
    let mut conn = ctx.app.db.acquire().await?;
    Ok(people::find_full(&mut conn, &input.id).await?)
}

/// `PersonInput`: optional fields absent or `""` are stored as NULL.
fn person_fields(i: &mut Input) -> PersonFields {
    PersonFields {
        first_name: i.string_min("firstName", 1),
        last_name: i.string_min("lastName", 1),
        callsign: i.opt_string_or_empty("callsign"),
        email: i.email("email"),
        github_username: i.opt_string_or_empty("githubUsername"),
        gitlab_username: i.opt_string_or_empty("gitlabUsername"),
        image_url: i.opt_url_or_empty("imageUrl"),
        manager_id: i.opt_id_or_empty("managerId"),
        department_id: i.opt_id_or_empty("departmentId"),
        title_id: i.opt_id_or_empty("titleId"),
    }
}

pub struct CreateInput(PersonFields);

impl FromInput for CreateInput {
    fn from_input(i: &mut Input) -> Self {
        Self(person_fields(i))
    }
}

/// Inserts the person and, with a manager, its first manager change, in one
/// transaction. A new person has no reports, so no loop is possible; the
/// reporting-lines lock still orders it against concurrent moves.
async fn create(ctx: Ctx, CreateInput(fields): CreateInput) -> Result<Mutated<Person>, ApiError> {
    let user = ctx.user_id()?.to_string();
    let mut tx = ctx.app.db.begin().await?;
    if fields.manager_id.is_some() {
        // Serialise with manager changes: a move that collected its subtree's
        // chain keys before this insert must not miss the new report.
        hierarchy::lock_reporting_lines(&mut tx).await?;
    }
    let person = people::insert(&mut tx, &new_id(), &fields).await?;
    let mut keys = invalidate_people_cache(None);
    if let Some(manager) = &person.manager_id {
        reporting::record_changes(
            &mut tx,
            &[(person.id.clone(), None, Some(manager.clone()))],
            &user,
        )
        .await?;
        // The manager's `person.me` lists its direct reports.
        if let Some(uid) = people::clerk_user_of(&mut tx, manager).await? {
            keys.extend(invalidate_person_me_by_ids([uid.as_str()]));
        }
    }
    tx.commit().await?;
    Ok(Mutated::new(person, keys))
}

pub struct UpdateInput {
    id: String,
    fields: PersonFields,
}

impl FromInput for UpdateInput {
    fn from_input(i: &mut Input) -> Self {
        let fields = person_fields(i);
        Self {
            id: i.id("id"),
            fields,
        }
    }
}

/// Overwrites the person (omitting `managerId` removes the manager, as in the
/// original). A manager change is authorized (FORBIDDEN unless the caller is
/// an org admin or above the person, see
/// [`hierarchy::authorize_reporting_line_change`]) and cycle-checked under the
/// reporting-lines lock, recorded in the same transaction, and invalidates the chains of the
/// person's whole subtree. An update that keeps the manager does not take
/// that global lock.
async fn update(ctx: Ctx, input: UpdateInput) -> Result<Mutated<Person>, ApiError> {
    let user = ctx.user_id()?.to_string();
    let new_manager = input.fields.manager_id.clone();
    let mut tx = ctx.app.db.begin().await?;
    let current = people::manager_of(&mut tx, &input.id)
        .await?
        .ok_or_else(|| not_found(&input.id))?;
    let mut reporting_locked = current != new_manager;
    let (old_manager, clerk_user) = loop {
        if reporting_locked {
            // The lock comes before any row lock (see `lock_reporting_lines`).
            hierarchy::lock_reporting_lines(&mut tx).await?;
        }
        let (old_manager, clerk_user) = people::lock_for_update(&mut tx, &input.id)
            .await?
            .ok_or_else(|| not_found(&input.id))?;
        if old_manager == new_manager || reporting_locked {
            break (old_manager, clerk_user);
        }
        // The manager changed between the unlocked read and the row lock: start
        // over, taking the reporting-lines lock first.
        tx.rollback().await?;
        tx = ctx.app.db.begin().await?;
        reporting_locked = true;
    };
    let manager_changed = new_manager != old_manager;
    if manager_changed {
        // Who may, and no loop, in one statement; a refusal writes nothing.
        hierarchy::authorize_reporting_line_change(
            &mut tx,
            &ctx.app.config,
            ctx.caller()?,
            &input.id,
            new_manager.as_deref(),
        )
        .await?;
    }
    let person = people::update(&mut tx, &input.id, &input.fields)
        .await?
        .ok_or_else(|| not_found(&input.id))?;

    let mut keys = invalidate_people_cache(clerk_user.as_deref());
    let managers: Vec<String> = old_manager.iter().chain(&new_manager).cloned().collect();
    if manager_changed {
        reporting::record_changes(
            &mut tx,
            &[(input.id.clone(), old_manager.clone(), new_manager.clone())],
            &user,
        )
        .await?;
        keys.extend(hierarchy::subtree_chain_keys(&mut tx, &input.id).await?);
    }
    // `person.me` of the person, its managers (directReports) and its reports
    // (manager summary) embed this row; so do its projects' cached views.
    keys.extend(embedding_views(&mut tx, &input.id, &managers).await?);
    tx.commit().await?;
    Ok(Mutated::new(person, keys))
}

/// The `person-me` entries (the person, `managers`, its reports) and project
/// views that embed person `id`'s row (one query).
async fn embedding_views(
    conn: &mut sqlx::PgConnection,
    id: &str,
    managers: &[String],
) -> Result<Vec<CacheKey>, sqlx::Error> {
    let (users, projects) = people::views_embedding(conn, id, managers).await?;
    let mut keys = invalidate_person_me_by_ids(users.iter().map(String::as_str));
    for project in &projects {
        keys.extend(invalidate_project_cache(project));
    }
    Ok(keys)
}

/// Deletes the person. Its subtree's chains and its direct reports are read
/// before the delete unlinks them; each report gets a manager-change row. A
/// person with reports may be deleted only by an org admin or someone above it
/// (FORBIDDEN otherwise, see [`hierarchy::authorize_delete_with_reports`]).
async fn delete(ctx: Ctx, input: IdInput) -> Result<Mutated<Person>, ApiError> {
    let user = ctx.user_id()?.to_string();
    let mut tx = ctx.app.db.begin().await?;
    hierarchy::lock_reporting_lines(&mut tx).await?;
    let people::DeleteTarget {
        manager_id: manager,
        clerk_user_id: clerk_user,
        reports,
    } = people::lock_for_delete(&mut tx, &input.id)
        .await?
        .ok_or_else(|| not_found(&input.id))?;
    if !reports.is_empty() {
        hierarchy::authorize_delete_with_reports(
            &mut tx,
            &ctx.app.config,
            ctx.caller()?,
            &input.id,
        )
        .await?;
    }
    let mut keys = invalidate_people_cache(clerk_user.as_deref());
    keys.extend(hierarchy::subtree_chain_keys(&mut tx, &input.id).await?);
    if let Some(uid) = &clerk_user {
        keys.push(CacheKey::ClerkPerson(uid.clone()));
    }
    keys.extend(embedding_views(&mut tx, &input.id, manager.as_slice()).await?);
    let changes: Vec<_> = reports
        .into_iter()
        .map(|r| (r, Some(input.id.clone()), None))
        .collect();
    reporting::record_changes(&mut tx, &changes, &user).await?;
    let person = people::delete(&mut tx, &input.id)
        .await?
        .ok_or_else(|| not_found(&input.id))?;
    tx.commit().await?;
    Ok(Mutated::new(person, keys))
}

/// `teamIds` of join/move: `""` entries are dropped, as in the original.
fn team_ids(i: &mut Input) -> Vec<String> {
    i.opt_id_list("teamIds")
        .into_iter()
        .filter(|t| !t.is_empty())
        .collect()
}

/// What a membership change makes stale: the people list, the person's
/// `person.me`, and the projects' cached views (they embed their members).
pub(super) async fn membership_keys(
    conn: &mut sqlx::PgConnection,
    person_id: &str,
    projects: &[&str],
) -> Result<Vec<CacheKey>, sqlx::Error> {
    let claimed_by = people::clerk_user_of(conn, person_id).await?;
    let mut keys = invalidate_people_cache(claimed_by.as_deref());
    for p in projects {
        keys.extend(invalidate_project_cache(p));
    }
    Ok(keys)
}

pub struct JoinInput {
    person_id: String,
    project_id: String,
    team_ids: Vec<String>,
}

impl FromInput for JoinInput {
    fn from_input(i: &mut Input) -> Self {
        Self {
            person_id: i.id("personId"),
            project_id: i.id("projectId"),
            team_ids: team_ids(i),
        }
    }
}

async fn join_project(ctx: Ctx, input: JoinInput) -> Result<Mutated<TeamMember>, ApiError> {
    let mut tx = ctx.app.db.begin().await?;
    let member = team_members::insert(&mut tx, &input.person_id, &input.project_id).await?;
    team_members::add_to_teams(&mut tx, &member.id, &input.team_ids).await?;
    team_members::sync_live_to_active_arrangement(&mut tx, &input.project_id).await?;
    let keys = membership_keys(&mut tx, &input.person_id, &[&input.project_id]).await?;
    tx.commit().await?;
    Ok(Mutated::new(member, keys))
}

pub struct MoveInput {
    person_id: String,
    from_project_id: String,
    to_project_id: String,
    team_ids: Vec<String>,
}

impl FromInput for MoveInput {
    fn from_input(i: &mut Input) -> Self {
        Self {
            person_id: i.id("personId"),
            from_project_id: i.id("fromProjectId"),
            to_project_id: i.id("toProjectId"),
            team_ids: team_ids(i),
        }
    }
}

fn not_a_member(person_id: &str, project_id: &str) -> ApiError {
    TrpcError::not_found(format!(
        "Person {person_id} is not a member of project {project_id}."
    ))
    .into()
}

async fn move_to_project(ctx: Ctx, input: MoveInput) -> Result<Mutated<TeamMember>, ApiError> {
    let mut tx = ctx.app.db.begin().await?;
    team_members::delete(&mut tx, &input.person_id, &input.from_project_id)
        .await?
        .ok_or_else(|| not_a_member(&input.person_id, &input.from_project_id))?;
    team_members::sync_live_to_active_arrangement(&mut tx, &input.from_project_id).await?;
    let member = team_members::insert(&mut tx, &input.person_id, &input.to_project_id).await?;
    team_members::add_to_teams(&mut tx, &member.id, &input.team_ids).await?;
    team_members::sync_live_to_active_arrangement(&mut tx, &input.to_project_id).await?;
    let keys = membership_keys(
        &mut tx,
        &input.person_id,
        &[&input.from_project_id, &input.to_project_id],
    )
    .await?;
    tx.commit().await?;
    Ok(Mutated::new(member, keys))
}

pub struct LeaveInput {
    person_id: String,
    project_id: String,
}

impl FromInput for LeaveInput {
    fn from_input(i: &mut Input) -> Self {
        Self {
            person_id: i.id("personId"),
            project_id: i.id("projectId"),
        }
    }
}

async fn leave_project(ctx: Ctx, input: LeaveInput) -> Result<Mutated<Nothing>, ApiError> {
    let mut tx = ctx.app.db.begin().await?;
    team_members::delete(&mut tx, &input.person_id, &input.project_id)
        .await?
        .ok_or_else(|| not_a_member(&input.person_id, &input.project_id))?;
    team_members::sync_live_to_active_arrangement(&mut tx, &input.project_id).await?;
    let keys = membership_keys(&mut tx, &input.person_id, &[&input.project_id]).await?;
    tx.commit().await?;
    Ok(Mutated::new(Nothing, keys))
}

pub struct MeInput;

impl FromInput for MeInput {
    const TAKES_INPUT: bool = false;

    fn from_input(i: &mut Input) -> Self {
        i.ignore();
        MeInput
    }
}

/// Read through `person-me:{clerkUserId}` (declared per caller, so it shares
/// the batch's first round trip).
async fn me(ctx: Ctx, _: MeInput) -> Result<Option<PersonFull>, ApiError> {
    let user = ctx.user_id()?;
    let mut conn = ctx.app.db.acquire().await?;
    Ok(people::find_full_by_clerk_user(&mut conn, user).await?)
}

pub struct ClaimInput {
    person_id: String,
}

impl FromInput for ClaimInput {
    fn from_input(i: &mut Input) -> Self {
        Self {
            person_id: i.id("personId"),
        }
    }
}

/// The keys a claim change of `clerk_user_id` makes stale.
fn claim_keys(clerk_user_id: &str) -> Vec<CacheKey> {
    let mut keys = invalidate_people_cache(Some(clerk_user_id));
    keys.push(CacheKey::ClerkPerson(clerk_user_id.to_string()));
    keys
}

/// Claims an unclaimed person (or re-claims your own) and releases any other
/// record you held, in one transaction. A record claimed by someone else is
/// CONFLICT (the original silently took it over, procedures.md §9 item 1).
async fn claim_as_me(ctx: Ctx, input: ClaimInput) -> Result<Mutated<Person>, ApiError> {
    let user = ctx.user_id()?.to_string();
    hierarchy::fence_grants().await?;
    let mut tx = ctx.app.db.begin().await?;
    // Both rows written here (the target and the caller's current record) are
    // locked at once in id order, as `person.delete` locks the rows it writes.
    let holder = people::lock_claim_rows(&mut tx, &input.person_id, &user)
        .await?
        .into_iter()
        .find(|(id, _)| id == &input.person_id)
        .ok_or_else(|| not_found(&input.person_id))?
        .1;
    if holder.as_deref().is_some_and(|h| h != user) {
        return Err(
            TrpcError::conflict("This person has already been claimed by another user.").into(),
        );
    }
    people::unclaim(&mut tx, &user, Some(&input.person_id)).await?;
    let person = people::claim(&mut tx, &input.person_id, &user).await?;
    tx.commit().await?;
    let mut keys = claim_keys(&user);
    if let Some(previous) = holder.filter(|h| h != &user) {
        keys.extend(claim_keys(&previous));
    }
    Ok(Mutated::new(person, keys))
}

async fn unclaim_me(ctx: Ctx, _: MeInput) -> Result<Mutated<Nothing>, ApiError> {
    let user = ctx.user_id()?.to_string();
    hierarchy::fence_grants().await?;
    let mut conn = ctx.app.db.acquire().await?;
    people::unclaim(&mut conn, &user, None).await?;
    Ok(Mutated::new(Nothing, claim_keys(&user)))
}
