//! Router `department` (table `roles`).

use crate::cache::{invalidate_reference_data, CacheKey};
use crate::db::departments::{self, Department, DepartmentView};
use crate::db::new_id;
use crate::trpc::registry::Nothing;
use crate::trpc::{Access, ApiError, FromInput, Input, Mutated, Registry, TrpcError};

use super::Ctx;

pub fn register(r: &mut Registry<Ctx>) {
    r.query(
        "department.getAll",
        Access::Protected,
        |_: &()| Some(CacheKey::Departments),
        get_all,
    );
    r.mutation("department.create", create);
    r.mutation("department.update", update);
    r.mutation("department.delete", delete);
    r.mutation("department.merge", merge);
}

async fn get_all(ctx: Ctx, _: ()) -> Result<Vec<DepartmentView>, ApiError> {
    let mut conn = ctx.app.db.acquire().await?;
    Ok(departments::list_views(&mut conn).await?)
}

pub struct CreateInput {
    name: String,
    color: Option<String>,
}

impl FromInput for CreateInput {
    fn from_input(i: &mut Input) -> Self {
        Self {
            name: i.string_min("name", 1),
            color: i.opt_string("color"),
        }
    }
}

async fn create(ctx: Ctx, input: CreateInput) -> Result<Mutated<Department>, ApiError> {
    let mut conn = ctx.app.db.acquire().await?;
    let row =
        departments::insert(&mut conn, &new_id(), &input.name, input.color.as_deref()).await?;
    Ok(Mutated::new(row, invalidate_reference_data()))
}

pub struct UpdateInput {
    id: String,
    name: String,
    color: Option<String>,
}

impl FromInput for UpdateInput {
    fn from_input(i: &mut Input) -> Self {
        Self {
            id: i.id("id"),
            name: i.string_min("name", 1),
            color: i.opt_string("color"),
        }
    }
}

fn not_found(id: &str) -> ApiError {
    TrpcError::not_found(format!("Department {id} not found.")).into()
}

async fn update(ctx: Ctx, input: UpdateInput) -> Result<Mutated<Department>, ApiError> {
    let mut conn = ctx.app.db.acquire().await?;
    let row = departments::update(&mut conn, &input.id, &input.name, input.color.as_deref())
        .await?
        .ok_or_else(|| not_found(&input.id))?;
    Ok(Mutated::new(row, invalidate_reference_data()))
}

pub struct IdInput {
    pub id: String,
}

impl FromInput for IdInput {
    fn from_input(i: &mut Input) -> Self {
        Self { id: i.id("id") }
    }
}

async fn delete(ctx: Ctx, input: IdInput) -> Result<Mutated<Department>, ApiError> {
    let mut conn = ctx.app.db.acquire().await?;
    let row = departments::delete(&mut conn, &input.id)
        .await?
        .ok_or_else(|| not_found(&input.id))?;
    Ok(Mutated::new(row, invalidate_reference_data()))
}

/// `{keepId, mergeIds}` shared by `department.merge` and `title.merge`.
pub struct MergeInput {
    pub keep_id: String,
    pub merge_ids: Vec<String>,
}

impl FromInput for MergeInput {
    fn from_input(i: &mut Input) -> Self {
        let keep_id = i.id("keepId");
        let merge_ids = i.id_list("mergeIds");
        if !keep_id.is_empty() && merge_ids.contains(&keep_id) {
            // The original deletes the survivor in this case (procedures.md §9 item 18).
            i.custom(&["mergeIds"], "mergeIds must not contain keepId");
        }
        Self { keep_id, merge_ids }
    }
}

async fn merge(ctx: Ctx, input: MergeInput) -> Result<Mutated<Nothing>, ApiError> {
    let mut tx = ctx.app.db.begin().await?;
    // Locked before checked: a survivor merged away by a concurrent merge is
    // NOT_FOUND here, never a foreign-key error or a deadlock later.
    let existing = departments::lock_for_merge(&mut tx, &input.keep_id, &input.merge_ids).await?;
    if !existing.contains(&input.keep_id) {
        return Err(not_found(&input.keep_id));
    }
    departments::merge(&mut tx, &input.keep_id, &input.merge_ids).await?;
    tx.commit().await?;
    Ok(Mutated::new(Nothing, invalidate_reference_data()))
}
