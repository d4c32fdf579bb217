//! Router `managerChange`: the read-only history of reporting-line changes
//! (rows are written by `person.*` and, later, `teamMember.*`).

use crate::db::reporting::{self, ManagerChange, ManagerChangeView};
use crate::trpc::{Access, ApiError, FromInput, Input, Registry};

use super::Ctx;

/// `limit ?? 20`.
const DEFAULT_LIMIT: i64 = 20;

pub fn register(r: &mut Registry<Ctx>) {
    r.query(
        "managerChange.getByPersonId",
        Access::Protected,
        |_: &PersonInput| None,
        get_by_person_id,
    );
    r.query(
        "managerChange.getRecent",
        Access::Protected,
        |_: &RecentInput| None,
        get_recent,
    );
    r.query(
        "managerChange.getByProjectId",
        Access::Protected,
        |_: &ProjectInput| None,
        get_by_project_id,
    );
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

async fn get_by_person_id(ctx: Ctx, input: PersonInput) -> Result<Vec<ManagerChange>, ApiError> {
    let mut conn = ctx.app.db.acquire().await?;
    Ok(reporting::changes_of(&mut conn, &input.person_id).await?)
}

/// `{limit?}`: an integer (the original passed fractions to Prisma, a 500); a
/// negative limit takes the oldest rows, as Prisma's negative `take` does.
pub struct RecentInput {
    limit: i64,
}

impl FromInput for RecentInput {
    fn from_input(i: &mut Input) -> Self {
        Self {
            limit: i.opt_int("limit", None, None).unwrap_or(DEFAULT_LIMIT),
        }
    }
}

async fn get_recent(ctx: Ctx, input: RecentInput) -> Result<Vec<ManagerChangeView>, ApiError> {
    let mut conn = ctx.app.db.acquire().await?;
    Ok(reporting::recent_views(&mut conn, None, input.limit).await?)
}

pub struct ProjectInput {
    project_id: String,
    limit: i64,
}

impl FromInput for ProjectInput {
    fn from_input(i: &mut Input) -> Self {
        Self {
            project_id: i.id("projectId"),
            limit: i.opt_int("limit", None, None).unwrap_or(DEFAULT_LIMIT),
        }
    }
}

async fn get_by_project_id(
    ctx: Ctx,
    input: ProjectInput,
) -> Result<Vec<ManagerChangeView>, ApiError> {
    let mut conn = ctx.app.db.acquire().await?;
    Ok(reporting::recent_views(&mut conn, Some(&input.project_id), input.limit).await?)
}
