//! Router `projectLink`: a project's named links. URLs must be `http:` or
//! `https:` (§9 item 6). Every write invalidates the project's cached views.

use super::project::{IdInput, ProjectIdInput};
use super::Ctx;
use crate::cache::invalidate_project_cache;
use crate::db::project_links::{self, ProjectLink};
use crate::trpc::{Access, ApiError, FromInput, Input, Mutated, Registry, TrpcError};

pub fn register(r: &mut Registry<Ctx>) {
    r.query(
        "projectLink.getByProjectId",
        Access::Protected,
        |_: &ProjectIdInput| None,
        get_by_project_id,
    );
    r.query(
        "projectLink.getById",
        Access::Protected,
        |_: &IdInput| None,
        get_by_id,
    );
    r.mutation("projectLink.create", create);
    r.mutation("projectLink.update", update);
    r.mutation("projectLink.delete", delete);
}

fn not_found(id: &str) -> ApiError {
    TrpcError::not_found(format!("Project link {id} not found.")).into()
}

/// `[Row(ProjectLink)]` in insertion order (the original is unordered).
async fn get_by_project_id(ctx: Ctx, input: ProjectIdInput) -> Result<Vec<ProjectLink>, ApiError> {
    let mut conn = ctx.app.db.acquire().await?;
    Ok(project_links::list_for_project(&mut conn, &input.project_id).await?)
}

/// `Row(ProjectLink) | null`.
async fn get_by_id(ctx: Ctx, input: IdInput) -> Result<Option<ProjectLink>, ApiError> {
    let mut conn = ctx.app.db.acquire().await?;
    Ok(project_links::find(&mut conn, &input.id).await?)
}

/// `{label: str (non-empty), url: http(s) URL}`, the editable fields of a
/// link (create and update alike).
struct LinkFields {
    label: String,
    url: String,
}

fn link_fields(i: &mut Input) -> LinkFields {
    LinkFields {
        label: i.string_min("label", 1),
        url: i.web_url("url"),
    }
}

pub struct CreateInput {
    project_id: String,
    link: LinkFields,
}

impl FromInput for CreateInput {
    fn from_input(i: &mut Input) -> Self {
        Self {
            project_id: i.id("projectId"),
            link: link_fields(i),
        }
    }
}

/// Unknown `projectId` → BAD_REQUEST (dangling reference).
async fn create(ctx: Ctx, input: CreateInput) -> Result<Mutated<ProjectLink>, ApiError> {
    let mut conn = ctx.app.db.acquire().await?;
    let link = project_links::insert(
        &mut conn,
        &input.project_id,
        &input.link.label,
        &input.link.url,
    )
    .await?;
    let keys = invalidate_project_cache(&link.project_id);
    Ok(Mutated::new(link, keys))
}

pub struct UpdateInput {
    id: String,
    link: LinkFields,
}

impl FromInput for UpdateInput {
    fn from_input(i: &mut Input) -> Self {
        Self {
            id: i.id("id"),
            link: link_fields(i),
        }
    }
}

/// Unknown id → NOT_FOUND.
async fn update(ctx: Ctx, input: UpdateInput) -> Result<Mutated<ProjectLink>, ApiError> {
    let mut conn = ctx.app.db.acquire().await?;
    let link = project_links::update(&mut conn, &input.id, &input.link.label, &input.link.url)
        .await?
        .ok_or_else(|| not_found(&input.id))?;
    let keys = invalidate_project_cache(&link.project_id);
    Ok(Mutated::new(link, keys))
}

/// Returns the deleted row. Unknown id → NOT_FOUND.
async fn delete(ctx: Ctx, input: IdInput) -> Result<Mutated<ProjectLink>, ApiError> {
    let mut conn = ctx.app.db.acquire().await?;
    let link = project_links::delete(&mut conn, &input.id)
        .await?
        .ok_or_else(|| not_found(&input.id))?;
    let keys = invalidate_project_cache(&link.project_id);
    Ok(Mutated::new(link, keys))
}
