//! SQL of reporting lines: management chains, subtrees, the cycle check, the
//! reporting-lines lock and the `manager_changes` history.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use sqlx::PgConnection;
use ts_rs::TS;

use super::time;

/// How far up a management chain is walked (the original's `MAX_DEPTH`).
pub const MAX_CHAIN_DEPTH: i32 = 50;

/// Key of the transaction-scoped advisory lock that serialises every change
/// of a reporting line (`pg_advisory_xact_lock`).
const REPORTING_LINES_LOCK: i64 = 0x656e_6768_7562_6d67; // "enghubmg"

/// What one access check needs from Postgres, read in one statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainRead {
    /// The person the viewer's Clerk user has claimed.
    pub viewer: Option<String>,
    pub subject_exists: bool,
    /// The subject's managers, nearest first: distinct ids, at most
    /// [`MAX_CHAIN_DEPTH`], stopping where the walk meets an id again.
    pub chain: Vec<String>,
}

/// The recursive CTE `chain(id, depth, path)`: the managers of person `$1`,
/// nearest first, at most `$3` levels, stopping where the walk meets an id
/// again. Shared by [`read_chain`] and [`read_chain_for_change`], so the access
/// rule for reading notes and the one for changing reporting lines walk the
/// same chain.
const CHAIN_CTE: &str = r#"chain(id, depth, path) AS (
               SELECT p.manager_id, 1, ARRAY[p.manager_id]
               FROM people p WHERE p.id = $1 AND p.manager_id IS NOT NULL
             UNION ALL
               SELECT m.manager_id, c.depth + 1, c.path || m.manager_id
               FROM chain c JOIN people m ON m.id = c.id
               WHERE m.manager_id IS NOT NULL AND c.depth < $3 AND m.manager_id <> ALL(c.path))"#;

/// The columns of a [`ChainRead`] (`$2` is the viewer's Clerk user id).
const CHAIN_READ_COLUMNS: &str = "(SELECT id FROM people WHERE clerk_user_id = $2),
                  EXISTS (SELECT 1 FROM people WHERE id = $1),
                  COALESCE((SELECT array_agg(id ORDER BY depth) FROM chain), '{}')";

/// The management chain of `subject` and the person claimed by `clerk_user_id`,
/// in one recursive query (not one query per level).
pub async fn read_chain(
    conn: &mut PgConnection,
    subject: &str,
    clerk_user_id: &str,
) -> Result<ChainRead, sqlx::Error> {
    let sql = format!("WITH RECURSIVE {CHAIN_CTE} SELECT {CHAIN_READ_COLUMNS}");
    let (viewer, subject_exists, chain): (Option<String>, bool, Vec<String>) =
        crate::db::sql::query_as(&sql)
            .bind(subject)
            .bind(clerk_user_id)
            .bind(MAX_CHAIN_DEPTH)
            .fetch_one(conn)
            .await?;
    Ok(ChainRead {
        viewer,
        subject_exists,
        chain,
    })
}

/// [`read_chain`] of `subject` for `clerk_user_id`, and, when `new_manager` is
/// given, whether making it `subject`'s manager closes a loop (as
/// [`would_create_cycle`] answers it), in ONE statement: an authorized manager
/// change costs no query beyond the cycle check it already made.
pub async fn read_chain_for_change(
    conn: &mut PgConnection,
    subject: &str,
    clerk_user_id: &str,
    new_manager: Option<&str>,
) -> Result<(ChainRead, bool), sqlx::Error> {
    let up = up_cte("$4::text WHERE $4::text IS NOT NULL");
    let sql = format!(
        r#"WITH RECURSIVE {CHAIN_CTE}, {up}
           SELECT {CHAIN_READ_COLUMNS},
                  EXISTS (SELECT 1 FROM up WHERE id = $1)"#
    );
    let (viewer, subject_exists, chain, cycle): (Option<String>, bool, Vec<String>, bool) =
        crate::db::sql::query_as(&sql)
            .bind(subject)
            .bind(clerk_user_id)
            .bind(MAX_CHAIN_DEPTH)
            .bind(new_manager)
            .fetch_one(conn)
            .await?;
    Ok((
        ChainRead {
            viewer,
            subject_exists,
            chain,
        },
        cycle,
    ))
}

/// `root` and everyone below it (reports, their reports, ...). Safe on
/// pre-existing cycles: `UNION` drops ids already seen.
pub async fn subtree(conn: &mut PgConnection, root: &str) -> Result<Vec<String>, sqlx::Error> {
    let rows: Vec<(String,)> = crate::db::sql::query_as(
        r#"WITH RECURSIVE below(id) AS (
               SELECT $1::text
             UNION
               SELECT p.id FROM people p JOIN below b ON p.manager_id = b.id)
           SELECT id FROM below"#,
    )
    .bind(root)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// Whether making `new_manager` the manager of `person` closes a loop: walks up
/// from `new_manager` (to the top, no depth limit; `UNION` stops on loops that
/// already exist) looking for `person`. Self-management is a loop.
///
/// (The recursive `up(id)` walk is [`up_cte`], shared with the access check.)
pub async fn would_create_cycle(
    conn: &mut PgConnection,
    person: &str,
    new_manager: &str,
) -> Result<bool, sqlx::Error> {
    let sql = format!(
        "WITH RECURSIVE {} SELECT EXISTS (SELECT 1 FROM up WHERE id = $1)",
        up_cte("$2::text")
    );
    let (found,): (bool,) = crate::db::sql::query_as(&sql)
        .bind(person)
        .bind(new_manager)
        .fetch_one(conn)
        .await?;
    Ok(found)
}

/// Takes the reporting-lines lock until the end of the current transaction.
/// Every change of a `people.manager_id` takes it first, before any row lock
/// (an update that rewrites the same manager does not need it), so
/// a cycle check and the write it guards see no concurrent manager change.
pub async fn lock_reporting_lines(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    crate::db::sql::query("SELECT pg_advisory_xact_lock($1)")
        .bind(REPORTING_LINES_LOCK)
        .execute(conn)
        .await?;
    Ok(())
}

/// `Row(ManagerChange)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow, TS)]
#[serde(rename_all = "camelCase")]
pub struct ManagerChange {
    pub id: String,
    pub person_id: String,
    pub old_manager_id: Option<String>,
    pub new_manager_id: Option<String>,
    pub changed_by: String,
    #[serde(with = "time")]
    #[ts(type = "string")]
    pub created_at: NaiveDateTime,
}

/// `{id, firstName, lastName}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PersonName {
    pub id: String,
    pub first_name: String,
    pub last_name: String,
}

/// `ManagerChangeView`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ManagerChangeView {
    #[serde(flatten)]
    pub change: ManagerChange,
    pub person: PersonName,
    pub old_manager: Option<PersonName>,
    pub new_manager: Option<PersonName>,
}

/// Records manager changes `(person, old manager, new manager)` by `changed_by`.
pub async fn record_changes(
    conn: &mut PgConnection,
    changes: &[(String, Option<String>, Option<String>)],
    changed_by: &str,
) -> Result<(), sqlx::Error> {
    if changes.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = changes.iter().map(|_| super::new_id()).collect();
    let people: Vec<&str> = changes.iter().map(|c| c.0.as_str()).collect();
    let old: Vec<Option<&str>> = changes.iter().map(|c| c.1.as_deref()).collect();
    let new: Vec<Option<&str>> = changes.iter().map(|c| c.2.as_deref()).collect();
    crate::db::sql::query(
        "INSERT INTO manager_changes (id, person_id, old_manager_id, new_manager_id, changed_by, created_at)
         SELECT id, person_id, old_id, new_id, $5, $6
         FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[]) AS c(id, person_id, old_id, new_id)",
    )
    .bind(&ids)
    .bind(&people)
    .bind(&old)
    .bind(&new)
    .bind(changed_by)
    .bind(time::now())
    .execute(conn)
    .await?;
    Ok(())
}

/// A person's manager changes, newest first (no relations).
pub async fn changes_of(
    conn: &mut PgConnection,
    person_id: &str,
) -> Result<Vec<ManagerChange>, sqlx::Error> {
    crate::db::sql::query_as(
        "SELECT id, person_id, old_manager_id, new_manager_id, changed_by, created_at
         FROM manager_changes WHERE person_id = $1 ORDER BY created_at DESC, id DESC",
    )
    .bind(person_id)
    .fetch_all(conn)
    .await
}

/// `ManagerChangeView`s newest first, `limit` rows; a negative `limit` takes
/// the |limit| oldest rows (still newest first), as Prisma's negative `take`
/// does. `project` restricts them to the people who are members of a project.
pub async fn recent_views(
    conn: &mut PgConnection,
    project: Option<&str>,
    limit: i64,
) -> Result<Vec<ManagerChangeView>, sqlx::Error> {
    let direction = if limit < 0 { "ASC" } else { "DESC" };
    let created_at = crate::db::time::epoch_ms!("mc.created_at");
    let sql = format!(
        r#"SELECT json_build_object(
               'id', mc.id, 'personId', mc.person_id, 'oldManagerId', mc.old_manager_id,
               'newManagerId', mc.new_manager_id, 'changedBy', mc.changed_by,
               'createdAt', {created_at},
               'person', json_build_object('id', p.id, 'firstName', p.first_name, 'lastName', p.last_name),
               'oldManager', (SELECT json_build_object('id', o.id, 'firstName', o.first_name, 'lastName', o.last_name)
                              FROM people o WHERE o.id = mc.old_manager_id),
               'newManager', (SELECT json_build_object('id', n.id, 'firstName', n.first_name, 'lastName', n.last_name)
                              FROM people n WHERE n.id = mc.new_manager_id))
           FROM manager_changes mc JOIN people p ON p.id = mc.person_id
           WHERE $1::text IS NULL
              OR mc.person_id IN (SELECT person_id FROM team_members WHERE project_id = $1)
           ORDER BY mc.created_at {direction}, mc.id {direction}
           LIMIT $2"#
    );
    let rows: Vec<(Json<ManagerChangeView>,)> = crate::db::sql::query_as(&sql)
        .bind(project)
        .bind(limit.saturating_abs())
        .fetch_all(conn)
        .await?;
    let mut views: Vec<ManagerChangeView> = rows.into_iter().map(|(Json(v),)| v).collect();
    if limit < 0 {
        views.reverse();
    }
    Ok(views)
}

/// The recursive CTE `up(id)`: `seed` (a SELECT list, e.g. `$2::text`) and
/// every manager above it. Walking up a chain that may already hold a loop
/// terminates: `UNION` drops repeated rows.
fn up_cte(seed: &str) -> String {
    format!(
        "up(id) AS (SELECT {seed} UNION \
         SELECT p.manager_id FROM people p JOIN up ON p.id = up.id \
         WHERE p.manager_id IS NOT NULL)"
    )
}
