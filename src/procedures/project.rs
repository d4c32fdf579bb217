//! Router `project`: the project list (cached as `projects:list`), the search
//! page, and the project page (`ProjectDetail`, cached as `project:{id}`),
//! plus create/update/delete.
//!
//! Each read is one Postgres statement. Writes invalidate `project:{id}` and
//! `projects:list` after the commit; update and delete also invalidate the
//! views that embed the project row: `people:all`, the `person-me` of its
//! claimed members and assignees, and its GitHub stats (§9 item 12).

use super::paging::{ListInput, Page};
use super::Ctx;
use crate::cache::{
    invalidate_github_stats, invalidate_project_and_people, invalidate_project_cache, CacheKey,
};
use crate::db::new_id;
use crate::db::projects::{self, Project, ProjectDetail, ProjectFields, ProjectListItem};
use crate::trpc::types::View;
use crate::trpc::{Access, ApiError, FromInput, Input, Mutated, Registry, TrpcError};

pub fn register(r: &mut Registry<Ctx>) {
    r.query(
        "project.getAll",
        Access::Protected,
        |_: &()| Some(CacheKey::ProjectList),
        get_all,
    );
    r.query(
        "project.list",
        Access::Protected,
        |_: &ListInput| None,
        list,
    );
    r.query(
        "project.getById",
        Access::Protected,
        |i: &IdInput| Some(CacheKey::Project(i.id.clone())),
        get_by_id,
    );
    r.mutation("project.create", create);
    r.mutation("project.update", update);
    r.mutation("project.delete", delete);
}

fn not_found(id: &str) -> ApiError {
    TrpcError::not_found(format!("Project {id} not found.")).into()
}

/// `{id: str}` (non-empty).
pub struct IdInput {
    pub id: String,
}

impl FromInput for IdInput {
    fn from_input(i: &mut Input) -> Self {
        Self { id: i.id("id") }
    }
}

/// `{projectId: str}` (non-empty).
pub struct ProjectIdInput {
    pub project_id: String,
}

impl FromInput for ProjectIdInput {
    fn from_input(i: &mut Input) -> Self {
        Self {
            project_id: i.id("projectId"),
        }
    }
}

/// `[ProjectListItem]`, newest first (read through `projects:list`).
async fn get_all(ctx: Ctx, _: ()) -> Result<View<Vec<ProjectListItem>>, ApiError> {
    let mut conn = ctx.app.db.acquire().await?;
    Ok(projects::list_items(&mut conn).await?)
}

/// A page of projects; `search` matches the name literally (`%`, `_`, `\`
/// escaped, §9 item 27), case-insensitively.
/// `{items: [ProjectListItem], totalCount}`.
async fn list(ctx: Ctx, input: ListInput) -> Result<Page<View<Vec<ProjectListItem>>>, ApiError> {
    let mut conn = ctx.app.db.acquire().await?;
    let (search, offset, limit) = input.page_args();
    let (items, total_count) = projects::list_page(&mut conn, search, offset, limit).await?;
    Ok(Page { items, total_count })
}

/// `ProjectDetail` or `null` (read through `project:{id}`; a `null` is never
/// stored, §9 item 11).
async fn get_by_id(ctx: Ctx, input: IdInput) -> Result<Option<View<ProjectDetail>>, ApiError> {
    let mut conn = ctx.app.db.acquire().await?;
    Ok(projects::find_detail(&mut conn, &input.id).await?)
}

/// `ProjectInput`: URLs absent or `""` → NULL, and only `http:`/`https:`.
fn project_fields(i: &mut Input) -> ProjectFields {
    ProjectFields {
        name: i.string_min("name", 1),
        description: i.opt_string("description"),
        github_url: i.opt_web_url_or_empty("githubUrl"),
        gitlab_url: i.opt_web_url_or_empty("gitlabUrl"),
        image_url: i.opt_web_url_or_empty("imageUrl"),
    }
}

pub struct CreateInput(ProjectFields);

impl FromInput for CreateInput {
    fn from_input(i: &mut Input) -> Self {
        Self(project_fields(i))
    }
}

async fn create(ctx: Ctx, CreateInput(fields): CreateInput) -> Result<Mutated<Project>, ApiError> {
    let mut conn = ctx.app.db.acquire().await?;
    let project = projects::insert(&mut conn, &new_id(), &fields).await?;
    let keys = invalidate_project_cache(&project.id);
    Ok(Mutated::new(project, keys))
}

pub struct UpdateInput {
    id: String,
    fields: ProjectFields,
}

impl FromInput for UpdateInput {
    fn from_input(i: &mut Input) -> Self {
        let fields = project_fields(i);
        Self {
            id: i.id("id"),
            fields,
        }
    }
}

/// Everything that embeds project `id`'s row: its own entries, `people:all`,
/// the `person-me` of its claimed members and assignees, its GitHub stats.
async fn embedding_keys(
    conn: &mut sqlx::PgConnection,
    id: &str,
) -> Result<Vec<CacheKey>, sqlx::Error> {
    let users = projects::embedding_users(conn, id).await?;
    let mut keys = invalidate_project_and_people(id, &users);
    keys.extend(invalidate_github_stats(id));
    Ok(keys)
}

/// Sets name, URLs (absent → cleared, as in the original) and the
/// description when given. Unknown id → NOT_FOUND.
async fn update(ctx: Ctx, input: UpdateInput) -> Result<Mutated<Project>, ApiError> {
    let mut tx = ctx.app.db.begin().await?;
    let project = projects::update(&mut tx, &input.id, &input.fields)
        .await?
        .ok_or_else(|| not_found(&input.id))?;
    let keys = embedding_keys(&mut tx, &input.id).await?;
    tx.commit().await?;
    Ok(Mutated::new(project, keys))
}

/// Deletes the project and everything it owns. Unknown id → NOT_FOUND.
async fn delete(ctx: Ctx, input: IdInput) -> Result<Mutated<Project>, ApiError> {
    let mut tx = ctx.app.db.begin().await?;
    if !projects::lock_for_delete(&mut tx, &input.id).await? {
        return Err(not_found(&input.id));
    }
    // Read before the cascade removes the memberships and assignments.
    let keys = embedding_keys(&mut tx, &input.id).await?;
    let project = projects::delete(&mut tx, &input.id)
        .await?
        .ok_or_else(|| not_found(&input.id))?;
    tx.commit().await?;
    Ok(Mutated::new(project, keys))
}
