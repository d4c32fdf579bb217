//! Router `meeting`: 1:1 notes. Authors manage their own notes; reading the
//! notes about a person requires being above that person in the reporting
//! chain ([`crate::hierarchy::is_in_management_chain`]).

use serde_json::Value;

use crate::db::meetings::{self, IdOnly, MeetingView, NewMeeting};
use crate::db::new_id;
use crate::hierarchy;
use crate::trpc::{Access, ApiError, FromInput, Input, Mutated, Registry, TrpcCode, TrpcError};

use super::Ctx;

pub const NO_ACCESS_MESSAGE: &str = "You do not have access to this person's meeting notes.";
pub const CLAIM_FIRST_MESSAGE: &str = "You must claim a Person record first.";
pub const DIRECT_REPORTS_MESSAGE: &str =
    "You can only create meeting notes for your direct reports.";

pub fn register(r: &mut Registry<Ctx>) {
    r.query(
        "meeting.getMyMeetings",
        Access::Protected,
        |_: &()| None,
        get_my_meetings,
    );
    // The access check rides in the batch's first Upstash pipeline.
    r.query_with_probe(
        "meeting.getByPersonId",
        |i: &PersonInput, user| hierarchy::access_probe(user, &i.person_id),
        get_by_person_id,
    );
    r.query(
        "meeting.getById",
        Access::Protected,
        |_: &IdInput| None,
        get_by_id,
    );
    r.mutation("meeting.create", create);
    r.mutation("meeting.update", update);
    r.mutation("meeting.delete", delete);
}

fn forbidden() -> ApiError {
    TrpcError::bare(TrpcCode::Forbidden).into()
}

async fn get_my_meetings(ctx: Ctx, _: ()) -> Result<Vec<MeetingView>, ApiError> {
    let user = ctx.user_id()?;
    let mut conn = ctx.app.db.acquire().await?;
    Ok(meetings::by_author(&mut conn, user).await?)
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

/// Every note about a person, for the people above them (authors get no
/// bypass here, as in the original).
async fn get_by_person_id(ctx: Ctx, input: PersonInput) -> Result<Vec<MeetingView>, ApiError> {
    let user = ctx.user_id()?;
    let allowed = hierarchy::is_in_management_chain_after(
        &ctx.cache,
        &ctx.app.db,
        user,
        &input.person_id,
        ctx.probe.clone(),
    )
    .await?;
    if !allowed {
        return Err(TrpcError::new(TrpcCode::Forbidden, NO_ACCESS_MESSAGE).into());
    }
    let mut conn = ctx.app.db.acquire().await?;
    Ok(meetings::by_subject(&mut conn, &input.person_id).await?)
}

pub struct IdInput {
    id: String,
}

impl FromInput for IdInput {
    fn from_input(i: &mut Input) -> Self {
        Self { id: i.id("id") }
    }
}

async fn get_by_id(ctx: Ctx, input: IdInput) -> Result<MeetingView, ApiError> {
    let user = ctx.user_id()?;
    let mut conn = ctx.app.db.acquire().await?;
    let meeting = meetings::find(&mut conn, &input.id)
        .await?
        .ok_or_else(|| ApiError::from(TrpcError::bare(TrpcCode::NotFound)))?;
    drop(conn);
    if meeting.author_id != user
        && !hierarchy::is_in_management_chain(&ctx.cache, &ctx.app.db, user, &meeting.person_id)
            .await?
    {
        return Err(forbidden());
    }
    Ok(meeting)
}

pub struct CreateInput {
    person_id: String,
    date: chrono::NaiveDateTime,
    content: Value,
    template_id: Option<String>,
}

impl FromInput for CreateInput {
    fn from_input(i: &mut Input) -> Self {
        Self {
            person_id: i.id("personId"),
            date: i.date("date"),
            // `content ?? {}`: absent and null become an empty document.
            content: i.document("content"),
            template_id: i.opt_id_or_empty("templateId"),
        }
    }
}

/// A note about one of the caller's direct reports (not skip-levels). The
/// reporting line is re-checked by the insert itself.
async fn create(ctx: Ctx, input: CreateInput) -> Result<Mutated<IdOnly>, ApiError> {
    let user = ctx.user_id()?;
    let mut conn = ctx.app.db.acquire().await?;
    let (author, subject_exists, subject_manager) =
        meetings::author_and_subject(&mut conn, user, &input.person_id).await?;
    let Some(author) = author else {
        return Err(TrpcError::bad_request(CLAIM_FIRST_MESSAGE).into());
    };
    let not_a_report =
        || ApiError::from(TrpcError::new(TrpcCode::Forbidden, DIRECT_REPORTS_MESSAGE));
    if !subject_exists || subject_manager.as_deref() != Some(author.as_str()) {
        return Err(not_a_report());
    }
    let meeting = NewMeeting {
        person_id: &input.person_id,
        date: input.date,
        content: &input.content,
        author_id: user,
        template_id: input.template_id.as_deref(),
    };
    let row = meetings::insert_for_report(&mut conn, &new_id(), &meeting, &author)
        .await?
        .ok_or_else(not_a_report)?;
    Ok(Mutated::new(row, vec![]))
}

pub struct UpdateInput {
    id: String,
    date: Option<chrono::NaiveDateTime>,
    content: Option<Value>,
}

impl FromInput for UpdateInput {
    fn from_input(i: &mut Input) -> Self {
        let id = i.id("id");
        let date = i.opt_date("date");
        let content = i.any("content");
        if content.as_ref().is_some_and(Value::is_null) {
            // The column is non-nullable JSON: the original failed with a 500.
            i.custom(&["content"], "Content cannot be null");
        }
        Self { id, date, content }
    }
}

async fn update(ctx: Ctx, input: UpdateInput) -> Result<Mutated<IdOnly>, ApiError> {
    let user = ctx.user_id()?;
    let mut conn = ctx.app.db.acquire().await?;
    let row = meetings::update_own(
        &mut conn,
        &input.id,
        user,
        input.date,
        input.content.as_ref(),
    )
    .await?
    .ok_or_else(forbidden)?;
    Ok(Mutated::new(row, vec![]))
}

async fn delete(ctx: Ctx, input: IdInput) -> Result<Mutated<IdOnly>, ApiError> {
    let user = ctx.user_id()?;
    let mut conn = ctx.app.db.acquire().await?;
    let row = meetings::delete_own(&mut conn, &input.id, user)
        .await?
        .ok_or_else(forbidden)?;
    Ok(Mutated::new(row, vec![]))
}
