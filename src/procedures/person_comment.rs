//! Router `personComment`: comments about people, by people who claimed a
//! person record. Visible to every signed-in user, as in the original.

use crate::db::comments::{self, CommentView};
use crate::db::{new_id, people};
use crate::trpc::{Access, ApiError, FromInput, Input, Mutated, Registry, TrpcCode, TrpcError};

use super::meeting::CLAIM_FIRST_MESSAGE;
use super::{Ctx, Deleted};

/// The original's `z.string().min(1).max(5000)`.
const MAX_CONTENT: usize = 5000;

pub fn register(r: &mut Registry<Ctx>) {
    r.query(
        "personComment.getByPersonId",
        Access::Protected,
        |_: &PersonInput| None,
        get_by_person_id,
    );
    r.mutation("personComment.create", create);
    r.mutation("personComment.update", update);
    r.mutation("personComment.delete", delete);
}

fn forbidden() -> ApiError {
    TrpcError::bare(TrpcCode::Forbidden).into()
}

pub struct PersonInput {
    person_id: String,
}

impl FromInput for PersonInput {
    fn from_input(i: &mut Input) -> Self {
        Self {
            person_id: i.id("personId"),
        }
    }
}

async fn get_by_person_id(ctx: Ctx, input: PersonInput) -> Result<Vec<CommentView>, ApiError> {
    let mut conn = ctx.app.db.acquire().await?;
    Ok(comments::about(&mut conn, &input.person_id).await?)
}

pub struct CreateInput {
    person_id: String,
    content: String,
}

impl FromInput for CreateInput {
    fn from_input(i: &mut Input) -> Self {
        Self {
            person_id: i.id("personId"),
            content: i.string_between("content", 1, MAX_CONTENT),
        }
    }
}

async fn create(ctx: Ctx, input: CreateInput) -> Result<Mutated<CommentView>, ApiError> {
    let user = ctx.user_id()?;
    let mut conn = ctx.app.db.acquire().await?;
    let author = people::id_by_clerk_user(&mut conn, user)
        .await?
        .ok_or_else(|| ApiError::from(TrpcError::bad_request(CLAIM_FIRST_MESSAGE)))?;
    let view = comments::insert(
        &mut conn,
        &new_id(),
        &input.person_id,
        user,
        &author,
        &input.content,
    )
    .await?;
    Ok(Mutated::new(view, vec![]))
}

pub struct UpdateInput {
    id: String,
    content: String,
}

impl FromInput for UpdateInput {
    fn from_input(i: &mut Input) -> Self {
        Self {
            id: i.id("id"),
            content: i.string_between("content", 1, MAX_CONTENT),
        }
    }
}

async fn update(ctx: Ctx, input: UpdateInput) -> Result<Mutated<CommentView>, ApiError> {
    let user = ctx.user_id()?;
    let mut conn = ctx.app.db.acquire().await?;
    let view = comments::update_own(&mut conn, &input.id, user, &input.content)
        .await?
        .ok_or_else(forbidden)?;
    Ok(Mutated::new(view, vec![]))
}

pub struct IdInput {
    id: String,
}

impl FromInput for IdInput {
    fn from_input(i: &mut Input) -> Self {
        Self { id: i.id("id") }
    }
}

async fn delete(ctx: Ctx, input: IdInput) -> Result<Mutated<Deleted>, ApiError> {
    let user = ctx.user_id()?;
    let mut conn = ctx.app.db.acquire().await?;
    if !comments::delete_own(&mut conn, &input.id, user).await? {
        return Err(forbidden());
    }
    Ok(Mutated::new(Deleted { id: input.id }, vec![]))
}
