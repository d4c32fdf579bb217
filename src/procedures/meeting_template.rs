//! Router `meetingTemplate`: global 1:1 templates; only authors modify theirs.

use serde_json::Value;

use crate::cache::{invalidate_meeting_templates, CacheKey};
use crate::db::meetings::{self, IdOnly, TemplateDetail, TemplateSummary};
use crate::db::new_id;
use crate::trpc::{Access, ApiError, FromInput, Input, Mutated, Registry, TrpcCode, TrpcError};

use super::Ctx;

pub fn register(r: &mut Registry<Ctx>) {
    r.query(
        "meetingTemplate.getAll",
        Access::Protected,
        |_: &()| Some(CacheKey::MeetingTemplates),
        get_all,
    );
    r.query(
        "meetingTemplate.getById",
        Access::Protected,
        |_: &IdInput| None,
        get_by_id,
    );
    r.mutation("meetingTemplate.create", create);
    r.mutation("meetingTemplate.update", update);
    r.mutation("meetingTemplate.delete", delete);
}

fn forbidden() -> ApiError {
    TrpcError::bare(TrpcCode::Forbidden).into()
}

async fn get_all(ctx: Ctx, _: ()) -> Result<Vec<TemplateSummary>, ApiError> {
    let mut conn = ctx.app.db.acquire().await?;
    Ok(meetings::list_templates(&mut conn).await?)
}

pub struct IdInput {
    id: String,
}

impl FromInput for IdInput {
    fn from_input(i: &mut Input) -> Self {
        Self { id: i.id("id") }
    }
}

async fn get_by_id(ctx: Ctx, input: IdInput) -> Result<TemplateDetail, ApiError> {
    let mut conn = ctx.app.db.acquire().await?;
    meetings::find_template(&mut conn, &input.id)
        .await?
        .ok_or_else(|| TrpcError::not_found("Template not found.").into())
}

pub struct CreateInput {
    name: String,
    description: Option<String>,
    content: Value,
}

impl FromInput for CreateInput {
    fn from_input(i: &mut Input) -> Self {
        Self {
            name: i.string_min("name", 1),
            description: i.opt_string("description"),
            content: i.document("content"),
        }
    }
}

async fn create(ctx: Ctx, input: CreateInput) -> Result<Mutated<IdOnly>, ApiError> {
    let user = ctx.user_id()?;
    let mut conn = ctx.app.db.acquire().await?;
    let row = meetings::insert_template(
        &mut conn,
        &new_id(),
        &input.name,
        input.description.as_deref(),
        &input.content,
        user,
    )
    .await?;
    Ok(Mutated::new(row, invalidate_meeting_templates()))
}

pub struct UpdateInput {
    id: String,
    name: String,
    description: Option<String>,
    content: Value,
}

impl FromInput for UpdateInput {
    fn from_input(i: &mut Input) -> Self {
        Self {
            id: i.id("id"),
            name: i.string_min("name", 1),
            description: i.opt_string("description"),
            // As in the original, an absent content resets the template to `{}`.
            content: i.document("content"),
        }
    }
}

async fn update(ctx: Ctx, input: UpdateInput) -> Result<Mutated<IdOnly>, ApiError> {
    let user = ctx.user_id()?;
    let mut conn = ctx.app.db.acquire().await?;
    let row = meetings::update_own_template(
        &mut conn,
        &input.id,
        user,
        &input.name,
        input.description.as_deref(),
        &input.content,
    )
    .await?
    .ok_or_else(forbidden)?;
    Ok(Mutated::new(row, invalidate_meeting_templates()))
}

async fn delete(ctx: Ctx, input: IdInput) -> Result<Mutated<IdOnly>, ApiError> {
    let user = ctx.user_id()?;
    let mut conn = ctx.app.db.acquire().await?;
    let row = meetings::delete_own_template(&mut conn, &input.id, user)
        .await?
        .ok_or_else(forbidden)?;
    Ok(Mutated::new(row, invalidate_meeting_templates()))
}
