//! Router `healthAssessment`: a project's health history. Only the author
//! (Clerk user) may update or delete an assessment; the check and the write
//! run in one transaction on the locked row. Every write invalidates the
//! project's cached views (`projects:list` shows the newest assessment).

use super::project::{IdInput, ProjectIdInput};
use super::{Ctx, Deleted};
use crate::cache::invalidate_project_cache;
use crate::db::enums::HEALTH_STATUSES as STATUSES;
use crate::db::health_assessments::{self, AssessmentRef, Dimension, DIMENSIONS};
use crate::db::new_id;
use crate::db::projects::HealthAssessment;
use crate::trpc::types::View;
use crate::trpc::{Access, ApiError, FromInput, Input, Mutated, Registry, TrpcCode, TrpcError};

pub fn register(r: &mut Registry<Ctx>) {
    r.query(
        "healthAssessment.getByProjectId",
        Access::Protected,
        |_: &ProjectIdInput| None,
        get_by_project_id,
    );
    r.query(
        "healthAssessment.getById",
        Access::Protected,
        |_: &IdInput| None,
        get_by_id,
    );
    r.mutation("healthAssessment.create", create);
    r.mutation("healthAssessment.update", update);
    r.mutation("healthAssessment.delete", delete);
}

/// `[Row(HealthAssessment)]`, newest first.
async fn get_by_project_id(
    ctx: Ctx,
    input: ProjectIdInput,
) -> Result<View<Vec<HealthAssessment>>, ApiError> {
    let mut conn = ctx.app.db.acquire().await?;
    Ok(health_assessments::list_for_project(&mut conn, &input.project_id).await?)
}

/// `Row(HealthAssessment)`; missing → NOT_FOUND "Health assessment not found.".
async fn get_by_id(ctx: Ctx, input: IdInput) -> Result<View<HealthAssessment>, ApiError> {
    let mut conn = ctx.app.db.acquire().await?;
    health_assessments::find(&mut conn, &input.id)
        .await?
        .ok_or_else(|| TrpcError::not_found("Health assessment not found.").into())
}

/// A status field (`z.enum(["RED", "YELLOW", "GREEN"])`): required for
/// `overallStatus`, optional for the others (`null` is rejected, as zod's
/// `.optional()` does). One issue per bad field (a NUL is just not a status).
fn status(i: &mut Input, key: &str, required: bool) -> Option<String> {
    let status = if required {
        Some(i.enumeration(key, STATUSES, None))
    } else {
        i.opt_enumeration(key, STATUSES)
    };
    status.map(str::to_string)
}

/// camelCase name of a dimension column prefix (`client_satisfaction` →
/// `clientSatisfaction`).
fn camel(snake: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// `AssessmentInput`: `overallStatus` is required; another status may be
/// absent ("not provided") but not `null`; notes absent or `null` are "not
/// provided".
fn dimensions(i: &mut Input) -> [Dimension; 8] {
    std::array::from_fn(|n| {
        let name = camel(DIMENSIONS[n]);
        let status_key = format!("{name}Status");
        let notes_key = format!("{name}Notes");
        let status = status(i, &status_key, n == 0);
        // `any` reports a NUL anywhere in the document (jsonb cannot store it).
        let notes = i.any(&notes_key).filter(|v| !v.is_null());
        Dimension { status, notes }
    })
}

pub struct CreateInput {
    project_id: String,
    dims: [Dimension; 8],
}

impl FromInput for CreateInput {
    fn from_input(i: &mut Input) -> Self {
        Self {
            project_id: i.id("projectId"),
            dims: dimensions(i),
        }
    }
}

/// Inserts an assessment authored by the caller; returns `{id, projectId}`.
/// Unknown `projectId` → BAD_REQUEST (dangling reference).
async fn create(ctx: Ctx, input: CreateInput) -> Result<Mutated<AssessmentRef>, ApiError> {
    let author = ctx.user_id()?.to_string();
    let mut conn = ctx.app.db.acquire().await?;
    let row = health_assessments::insert(
        &mut conn,
        &new_id(),
        &input.project_id,
        &author,
        &input.dims,
    )
    .await?;
    let keys = invalidate_project_cache(&row.project_id);
    Ok(Mutated::new(row, keys))
}

pub struct UpdateInput {
    id: String,
    dims: [Dimension; 8],
}

impl FromInput for UpdateInput {
    fn from_input(i: &mut Input) -> Self {
        let dims = dimensions(i);
        Self {
            id: i.id("id"),
            dims,
        }
    }
}

/// Locks the assessment and checks the caller wrote it: missing or someone
/// else's → FORBIDDEN (as the original: it does not reveal which). Returns
/// its project.
async fn lock_own(conn: &mut sqlx::PgConnection, id: &str, user: &str) -> Result<String, ApiError> {
    match health_assessments::lock(conn, id).await? {
        Some((author, project)) if author == user => Ok(project),
        _ => Err(TrpcError::bare(TrpcCode::Forbidden).into()),
    }
}

/// Sets the overall status and every provided field; returns `{id, projectId}`.
async fn update(ctx: Ctx, input: UpdateInput) -> Result<Mutated<AssessmentRef>, ApiError> {
    let user = ctx.user_id()?.to_string();
    let mut tx = ctx.app.db.begin().await?;
    lock_own(&mut tx, &input.id, &user).await?;
    let row = health_assessments::update(&mut tx, &input.id, &input.dims)
        .await?
        .ok_or_else(|| TrpcError::bare(TrpcCode::Forbidden))?;
    tx.commit().await?;
    let keys = invalidate_project_cache(&row.project_id);
    Ok(Mutated::new(row, keys))
}

async fn delete(ctx: Ctx, input: IdInput) -> Result<Mutated<Deleted>, ApiError> {
    let user = ctx.user_id()?.to_string();
    let mut tx = ctx.app.db.begin().await?;
    let project = lock_own(&mut tx, &input.id, &user).await?;
    health_assessments::delete(&mut tx, &input.id).await?;
    tx.commit().await?;
    Ok(Mutated::new(
        Deleted { id: input.id },
        invalidate_project_cache(&project),
    ))
}
