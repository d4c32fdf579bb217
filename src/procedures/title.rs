//! Router `title`.

use std::collections::HashMap;

use crate::cache::{invalidate_reference_data, CacheKey};
use crate::db::new_id;
use crate::db::titles::{self, Title, TitleView};
use crate::trpc::registry::Nothing;
use crate::trpc::{Access, ApiError, FromInput, Input, Mutated, Registry, TrpcError};

use super::department::{IdInput, MergeInput};
use super::Ctx;

pub fn register(r: &mut Registry<Ctx>) {
    r.query(
        "title.getAll",
        Access::Protected,
        |_: &()| Some(CacheKey::Titles),
        get_all,
    );
    r.mutation("title.create", create);
    r.mutation("title.update", update);
    r.mutation("title.delete", delete);
    r.mutation("title.reorder", reorder);
    r.mutation("title.merge", merge);
}

async fn get_all(ctx: Ctx, _: ()) -> Result<Vec<TitleView>, ApiError> {
    let mut conn = ctx.app.db.acquire().await?;
    Ok(titles::list_views(&mut conn).await?)
}

fn not_found(id: &str) -> ApiError {
    TrpcError::not_found(format!("Title {id} not found.")).into()
}

pub struct CreateInput {
    name: String,
    department_id: Option<String>,
}

impl FromInput for CreateInput {
    fn from_input(i: &mut Input) -> Self {
        Self {
            name: i.string_min("name", 1),
            department_id: i.opt_id("departmentId"),
        }
    }
}

async fn create(ctx: Ctx, input: CreateInput) -> Result<Mutated<Title>, ApiError> {
    let mut tx = ctx.app.db.begin().await?;
    let row = titles::insert_last(
        &mut tx,
        &new_id(),
        &input.name,
        input.department_id.as_deref(),
    )
    .await?;
    tx.commit().await?;
    Ok(Mutated::new(row, invalidate_reference_data()))
}

pub struct UpdateInput {
    id: String,
    name: String,
    /// Absent or `""` clears the department, as in the original.
    department_id: Option<String>,
}

impl FromInput for UpdateInput {
    fn from_input(i: &mut Input) -> Self {
        Self {
            id: i.id("id"),
            name: i.string_min("name", 1),
            department_id: i.opt_id_or_empty("departmentId"),
        }
    }
}

async fn update(ctx: Ctx, input: UpdateInput) -> Result<Mutated<Title>, ApiError> {
    let mut conn = ctx.app.db.acquire().await?;
    let row = titles::update(
        &mut conn,
        &input.id,
        &input.name,
        input.department_id.as_deref(),
    )
    .await?
    .ok_or_else(|| not_found(&input.id))?;
    Ok(Mutated::new(row, invalidate_reference_data()))
}

async fn delete(ctx: Ctx, input: IdInput) -> Result<Mutated<Title>, ApiError> {
    let mut conn = ctx.app.db.acquire().await?;
    let row = titles::delete(&mut conn, &input.id)
        .await?
        .ok_or_else(|| not_found(&input.id))?;
    Ok(Mutated::new(row, invalidate_reference_data()))
}

pub struct ReorderInput {
    ids: Vec<String>,
}

impl FromInput for ReorderInput {
    fn from_input(i: &mut Input) -> Self {
        Self {
            ids: i.id_list("ids"),
        }
    }
}

/// Sets `sort_order = i` on `ids[i]` in one statement inside a transaction;
/// an unknown id fails the whole call with nothing applied. As in the
/// original's sequential updates, a repeated id ends at its last position.
async fn reorder(ctx: Ctx, input: ReorderInput) -> Result<Mutated<Vec<Title>>, ApiError> {
    let mut last: HashMap<&str, i32> = HashMap::new();
    for (pos, id) in input.ids.iter().enumerate() {
        let pos = i32::try_from(pos).map_err(|_| TrpcError::bad_request("Too many ids."))?;
        last.insert(id.as_str(), pos);
    }
    let (ids, positions): (Vec<String>, Vec<i32>) =
        last.iter().map(|(id, pos)| (id.to_string(), *pos)).unzip();

    let mut tx = ctx.app.db.begin().await?;
    // Rows locked in id order first: overlapping reorders wait, never deadlock.
    titles::lock(&mut tx, &ids).await?;
    let updated = titles::set_positions(&mut tx, &ids, &positions).await?;
    if updated.len() != ids.len() {
        let missing = ids
            .iter()
            .find(|id| !updated.iter().any(|t| &t.id == *id))
            .cloned()
            .unwrap_or_default();
        return Err(not_found(&missing));
    }
    tx.commit().await?;
    let by_id: HashMap<&str, &Title> = updated.iter().map(|t| (t.id.as_str(), t)).collect();
    let ordered = input
        .ids
        .iter()
        .map(|id| by_id[id.as_str()].clone())
        .collect();
    Ok(Mutated::new(ordered, invalidate_reference_data()))
}

async fn merge(ctx: Ctx, input: MergeInput) -> Result<Mutated<Nothing>, ApiError> {
    let mut tx = ctx.app.db.begin().await?;
    // Locked before checked (see `department.merge`).
    let existing = titles::lock_for_merge(&mut tx, &input.keep_id, &input.merge_ids).await?;
    if !existing.contains(&input.keep_id) {
        return Err(not_found(&input.keep_id));
    }
    titles::merge(&mut tx, &input.keep_id, &input.merge_ids).await?;
    tx.commit().await?;
    Ok(Mutated::new(Nothing, invalidate_reference_data()))
}
