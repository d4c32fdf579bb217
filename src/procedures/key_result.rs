//! Router `keyResult` (procedures.md §4.4): key results of milestones and
//! quarterly goals, at most five per parent.
//!
//! `create` locks the parent row, then counts, takes the next sort order and
//! inserts in one statement, so concurrent creates can pass neither the cap
//! nor each other's sort order (the original's count-then-insert could, §9
//! item 15). An unknown parent is NOT_FOUND, an unknown key result too.

use crate::cache::invalidate_project_cache;
use crate::db::key_results::{self, KeyResult, KeyResultFields, KeyResultWithParents};
use crate::db::roadmap::{MILESTONES, QUARTERLY_GOALS};
use crate::trpc::{ApiError, FromInput, Input, Mutated, Registry, TrpcError};

use super::project::IdInput;
use super::roadmap::ROADMAP_STATUSES;
use super::Ctx;

/// The refinement error of a create naming no parent or both.
pub const ONE_PARENT_MESSAGE: &str =
    "Exactly one of milestoneId or quarterlyGoalId must be provided";

pub fn register(r: &mut Registry<Ctx>) {
    r.mutation("keyResult.create", create);
    r.mutation("keyResult.update", update);
    r.mutation("keyResult.delete", delete);
}

fn not_found(id: &str) -> ApiError {
    TrpcError::not_found(format!("Key result {id} not found.")).into()
}

pub struct CreateInput {
    fields: KeyResultFields,
    milestone_id: Option<String>,
    quarterly_goal_id: Option<String>,
}

impl FromInput for CreateInput {
    fn from_input(i: &mut Input) -> Self {
        let title = i.string_min("title", 1);
        let target_value = i.required_number("targetValue", true);
        let current_value = i.opt_number("currentValue").unwrap_or(0.0);
        let unit = i.opt_string("unit");
        let status = i.enumeration("status", ROADMAP_STATUSES, Some("NOT_STARTED"));
        let milestone_id = i.opt_id("milestoneId");
        let quarterly_goal_id = i.opt_id("quarterlyGoalId");
        let truthy = |id: &Option<String>| id.as_deref().is_some_and(|s| !s.is_empty());
        i.refine(
            usize::from(truthy(&milestone_id)) + usize::from(truthy(&quarterly_goal_id)) == 1,
            ONE_PARENT_MESSAGE,
        );
        Self {
            fields: KeyResultFields {
                title,
                target_value,
                current_value,
                unit,
                status,
            },
            milestone_id,
            quarterly_goal_id,
        }
    }
}

/// Adds a key result after its siblings; BAD_REQUEST "Maximum 5 key results
/// allowed" when the parent has five.
async fn create(ctx: Ctx, input: CreateInput) -> Result<Mutated<KeyResult>, ApiError> {
    let (table, parent_id) = match (&input.milestone_id, &input.quarterly_goal_id) {
        (Some(m), _) => (&MILESTONES, m),
        (None, Some(g)) => (&QUARTERLY_GOALS, g),
        (None, None) => return Err(TrpcError::bad_request(ONE_PARENT_MESSAGE).into()),
    };
    let mut tx = ctx.app.db.begin().await?;
    let project = key_results::lock_parent(&mut tx, table, parent_id)
        .await?
        .ok_or_else(|| TrpcError::not_found(format!("{} {parent_id} not found.", table.label)))?;
    let created = key_results::insert_capped(&mut tx, table, parent_id, &input.fields)
        .await?
        .ok_or_else(|| TrpcError::bad_request("Maximum 5 key results allowed"))?;
    tx.commit().await?;
    Ok(Mutated::new(created, invalidate_project_cache(&project)))
}

pub struct UpdateInput {
    id: String,
    fields: KeyResultFields,
}

impl FromInput for UpdateInput {
    fn from_input(i: &mut Input) -> Self {
        let id = i.id("id");
        Self {
            id,
            fields: KeyResultFields {
                title: i.string_min("title", 1),
                target_value: i.required_number("targetValue", true),
                current_value: i.required_number("currentValue", false),
                unit: i.opt_string("unit"),
                status: i.enumeration("status", ROADMAP_STATUSES, None),
            },
        }
    }
}

fn project_keys(kr: &KeyResultWithParents) -> Vec<crate::cache::CacheKey> {
    kr.project_id()
        .map(invalidate_project_cache)
        .unwrap_or_default()
}

/// Overwrites a key result (`unit` only when given); returns
/// `KeyResultWithParents`.
async fn update(ctx: Ctx, input: UpdateInput) -> Result<Mutated<KeyResultWithParents>, ApiError> {
    let mut conn = ctx.app.db.acquire().await?;
    let updated = key_results::update(&mut conn, &input.id, &input.fields)
        .await?
        .ok_or_else(|| not_found(&input.id))?;
    let keys = project_keys(&updated);
    Ok(Mutated::new(updated, keys))
}

/// Deletes a key result; returns the deleted row as `KeyResultWithParents`.
async fn delete(ctx: Ctx, input: IdInput) -> Result<Mutated<KeyResultWithParents>, ApiError> {
    let mut conn = ctx.app.db.acquire().await?;
    let deleted = key_results::delete(&mut conn, &input.id)
        .await?
        .ok_or_else(|| not_found(&input.id))?;
    let keys = project_keys(&deleted);
    Ok(Mutated::new(deleted, keys))
}
