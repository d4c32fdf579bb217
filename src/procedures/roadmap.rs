//! The procedures routers `milestone` and `quarterlyGoal` share
//! (procedures.md §4.8, §4.13): one implementation, parameterised by the
//! table it works on ([`Roadmap::TABLE`]).
//!
//! Differences from the original, all within one transaction per mutation:
//! a create without `sortOrder` goes after its siblings (under a lock of the
//! project row, so concurrent creates get distinct orders); a parent must be
//! an item of the same project (BAD_REQUEST with a `parentId` field error),
//! and the cycle check (§5.2) runs under that lock without a depth limit;
//! assignees must be members of the project; unknown ids are NOT_FOUND; and
//! whatever changes what people views embed (assignments, an assigned item's
//! title/status/date, deletes) also invalidates `people:all` and the
//! assignees' `person-me` entries.

use std::marker::PhantomData;

use serde_json::{json, Value};

use crate::cache::{invalidate_people_views, invalidate_project_cache};
use crate::db::roadmap::{self, ItemFields, RoadmapTable};
use crate::trpc::input::ZodError;
use crate::trpc::registry::Nothing;
use crate::trpc::types::{Shape, View};
use crate::trpc::{Access, ApiError, FromInput, Input, Mutated, Registry, TrpcCode, TrpcError};

use super::project::{IdInput, ProjectIdInput};
use super::Ctx;

/// The statuses of a roadmap item or key result (`RoadmapStatus`).
pub use crate::db::enums::ROADMAP_STATUSES;

/// The error of a parent change that would close a loop (the original's text).
pub const CYCLE_MESSAGE: &str = "Cannot set this parent — it would create a circular hierarchy.";

/// A roadmap router: its table and procedure paths.
pub trait Roadmap: Send + Sync + 'static {
    const TABLE: &'static RoadmapTable;
    /// `Row(M)` (create, update and delete answer it).
    type Row: Shape;
    /// `RoadmapNode<M>` (`getByProjectId`).
    type Node: Shape;
    /// `RoadmapNode<M> + {parent}` (`getById`).
    type Detail: Shape;
    const GET_BY_PROJECT_ID: &'static str;
    const GET_BY_ID: &'static str;
    const CREATE: &'static str;
    const UPDATE: &'static str;
    const DELETE: &'static str;
    const SET_ASSIGNEES: &'static str;
}

/// Registers the six procedures of router `K`.
pub fn register<K: Roadmap>(r: &mut Registry<Ctx>) {
    r.query(
        K::GET_BY_PROJECT_ID,
        Access::Protected,
        |_: &ProjectIdInput| None,
        get_by_project_id::<K>,
    );
    r.query(
        K::GET_BY_ID,
        Access::Protected,
        |_: &IdInput| None,
        get_by_id::<K>,
    );
    r.mutation(K::CREATE, create::<K>);
    r.mutation(K::UPDATE, update::<K>);
    r.mutation(K::DELETE, delete::<K>);
    r.mutation(K::SET_ASSIGNEES, set_assignees::<K>);
}

/// BAD_REQUEST with zod-shaped custom issues at the given paths, as if
/// validation had failed there (e.g. an id that exists but belongs to
/// another project).
pub fn field_errors(issues: Vec<(Value, String)>) -> ApiError {
    let zod = ZodError {
        issues: issues
            .into_iter()
            .map(|(path, message)| json!({"code": "custom", "message": message, "path": path}))
            .collect(),
    };
    TrpcError {
        code: TrpcCode::BadRequest,
        message: zod.message(),
        zod: Some(zod),
        allow: None,
    }
    .into()
}

fn not_found(t: &RoadmapTable, id: &str) -> ApiError {
    TrpcError::not_found(format!("{} {id} not found.", t.label)).into()
}

/// `[RoadmapNode]`: top-level items, `sortOrder` ASC, `targetDate` ASC.
async fn get_by_project_id<K: Roadmap>(
    ctx: Ctx,
    input: ProjectIdInput,
) -> Result<View<Vec<K::Node>>, ApiError> {
    let mut conn = ctx.app.db.acquire().await?;
    let nodes = roadmap::list_top(&mut conn, K::TABLE, &input.project_id).await?;
    Ok(View::new(nodes))
}

/// `RoadmapNode + {parent}` or `null`.
async fn get_by_id<K: Roadmap>(
    ctx: Ctx,
    input: IdInput,
) -> Result<Option<View<K::Detail>>, ApiError> {
    let mut conn = ctx.app.db.acquire().await?;
    let node = roadmap::find_node(&mut conn, K::TABLE, &input.id).await?;
    Ok(node.map(View::new))
}

/// The item fields of create and update, in the schema's key order.
fn item_fields(
    i: &mut Input,
    t: &RoadmapTable,
    status_default: Option<&'static str>,
) -> (ItemFields, Option<i32>) {
    let title = i.string_min("title", 1);
    let description = i.opt_string("description");
    let quarter = if t.has_quarter {
        i.opt_string("quarter")
    } else {
        None
    };
    let target_date = i.opt_nullable_date("targetDate").flatten();
    let status = i.enumeration("status", ROADMAP_STATUSES, status_default);
    let parent_id = i.opt_nullable_id("parentId").flatten();
    // Postgres `integer`: fractions and out-of-range values are BAD_REQUEST
    // (the original answered a database 500).
    let sort_order = i
        .opt_int("sortOrder", Some(i32::MIN.into()), Some(i32::MAX.into()))
        .and_then(|n| i32::try_from(n).ok());
    (
        ItemFields {
            title,
            description,
            quarter,
            target_date,
            status,
            parent_id,
        },
        sort_order,
    )
}

pub struct CreateInput<K> {
    project_id: String,
    fields: ItemFields,
    sort_order: Option<i32>,
    router: PhantomData<K>,
}

impl<K: Roadmap> FromInput for CreateInput<K> {
    fn from_input(i: &mut Input) -> Self {
        let project_id = i.id("projectId");
        let (fields, sort_order) = item_fields(i, K::TABLE, Some("NOT_STARTED"));
        Self {
            project_id,
            fields,
            sort_order,
            router: PhantomData,
        }
    }
}

/// BAD_REQUEST on `parentId` unless `parent` is an item of `project`.
fn ensure_same_project(
    t: &RoadmapTable,
    check: &roadmap::ParentCheck,
    project: &str,
) -> Result<(), ApiError> {
    if check.parent_project.as_deref() == Some(project) {
        return Ok(());
    }
    Err(field_errors(vec![(
        json!(["parentId"]),
        format!(
            "The parent must be a {} of the same project.",
            t.label.to_lowercase()
        ),
    )]))
}

/// Inserts an item (`Row(M)`), after its siblings unless `sortOrder` is given.
async fn create<K: Roadmap>(
    ctx: Ctx,
    input: CreateInput<K>,
) -> Result<Mutated<View<K::Row>>, ApiError> {
    let t = K::TABLE;
    let mut tx = ctx.app.db.begin().await?;
    if !roadmap::lock_project(&mut tx, &input.project_id).await? {
        return Err(
            TrpcError::not_found(format!("Project {} not found.", input.project_id)).into(),
        );
    }
    if let Some(parent) = &input.fields.parent_id {
        let check = roadmap::check_parent(&mut tx, t, parent, None).await?;
        ensure_same_project(t, &check, &input.project_id)?;
    }
    let row = roadmap::insert(
        &mut tx,
        t,
        &input.project_id,
        &input.fields,
        input.sort_order,
    )
    .await?;
    tx.commit().await?;
    Ok(Mutated::new(
        View::new(row),
        invalidate_project_cache(&input.project_id),
    ))
}

pub struct UpdateInput<K> {
    id: String,
    fields: ItemFields,
    sort_order: Option<i32>,
    router: PhantomData<K>,
}

impl<K: Roadmap> FromInput for UpdateInput<K> {
    fn from_input(i: &mut Input) -> Self {
        let id = i.id("id");
        let (fields, sort_order) = item_fields(i, K::TABLE, None);
        Self {
            id,
            fields,
            sort_order,
            router: PhantomData,
        }
    }
}

/// Overwrites an item with the original's replace semantics (absent
/// `targetDate`/`parentId`/`sortOrder` clear them). A new parent is checked
/// under the project lock: same project, no cycle (self-parent included).
async fn update<K: Roadmap>(
    ctx: Ctx,
    input: UpdateInput<K>,
) -> Result<Mutated<View<K::Row>>, ApiError> {
    let t = K::TABLE;
    let mut tx = ctx.app.db.begin().await?;
    if let Some(parent) = &input.fields.parent_id {
        let (project, _) = roadmap::placement(&mut tx, t, &input.id)
            .await?
            .ok_or_else(|| not_found(t, &input.id))?;
        roadmap::lock_project(&mut tx, &project).await?;
        let check = roadmap::check_parent(&mut tx, t, parent, Some(&input.id)).await?;
        if check.current_parent.as_deref() != Some(parent.as_str()) {
            if check.cycle {
                return Err(TrpcError::bad_request(CYCLE_MESSAGE).into());
            }
            ensure_same_project(t, &check, &project)?;
        }
    }
    let updated = roadmap::update(
        &mut tx,
        t,
        &input.id,
        &input.fields,
        input.sort_order.unwrap_or(0),
    )
    .await?
    .ok_or_else(|| not_found(t, &input.id))?;
    tx.commit().await?;
    let mut keys = invalidate_project_cache(&updated.project_id);
    if updated.has_assignees {
        keys.extend(invalidate_people_views(&updated.assignee_users));
    }
    Ok(Mutated::new(View::new(updated.row), keys))
}

/// Deletes an item with its subtree, assignments and key results.
async fn delete<K: Roadmap>(ctx: Ctx, input: IdInput) -> Result<Mutated<View<K::Row>>, ApiError> {
    let t = K::TABLE;
    let mut conn = ctx.app.db.acquire().await?;
    let deleted = roadmap::delete(&mut conn, t, &input.id)
        .await?
        .ok_or_else(|| not_found(t, &input.id))?;
    let mut keys = invalidate_project_cache(&deleted.project_id);
    if deleted.has_assignees {
        keys.extend(invalidate_people_views(&deleted.assignee_users));
    }
    Ok(Mutated::new(View::new(deleted.row), keys))
}

pub struct AssigneesInput<K> {
    id: String,
    person_ids: Vec<String>,
    router: PhantomData<K>,
}

impl<K: Roadmap> FromInput for AssigneesInput<K> {
    fn from_input(i: &mut Input) -> Self {
        Self {
            id: i.id(K::TABLE.owner_key),
            person_ids: i.id_list("personIds"),
            router: PhantomData,
        }
    }
}

/// Replaces an item's assignees with `personIds` (each a member of the
/// item's project, no repeats). Returns nothing.
async fn set_assignees<K: Roadmap>(
    ctx: Ctx,
    input: AssigneesInput<K>,
) -> Result<Mutated<Nothing>, ApiError> {
    let t = K::TABLE;
    let repeats: Vec<(Value, String)> = input
        .person_ids
        .iter()
        .enumerate()
        .filter(|(n, id)| input.person_ids[..*n].contains(id))
        .map(|(n, _)| {
            (
                json!(["personIds", n]),
                "This person is listed twice.".to_string(),
            )
        })
        .collect();
    if !repeats.is_empty() {
        return Err(field_errors(repeats));
    }
    let mut tx = ctx.app.db.begin().await?;
    let check = roadmap::lock_for_assignees(&mut tx, t, &input.id, &input.person_ids)
        .await?
        .ok_or_else(|| not_found(t, &input.id))?;
    if !check.outsiders.is_empty() {
        return Err(field_errors(
            check
                .outsiders
                .iter()
                .map(|n| {
                    (
                        json!(["personIds", n]),
                        "This person is not a member of the project.".to_string(),
                    )
                })
                .collect(),
        ));
    }
    roadmap::replace_assignees(&mut tx, t, &input.id, &input.person_ids).await?;
    tx.commit().await?;
    let mut keys = invalidate_project_cache(&check.project_id);
    keys.extend(invalidate_people_views(&check.affected_users));
    Ok(Mutated::new(Nothing, keys))
}
