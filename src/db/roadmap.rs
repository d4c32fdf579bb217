//! SQL shared by the two roadmap hierarchies, milestones and quarterly goals
//! (procedures.md §2.2, §2.3 `RoadmapNode`, §4.8, §4.13, §5.2).
//!
//! Both tables have the same columns (goals add `quarter`), the same
//! assignment table shape and the same key-result link, so every statement
//! here is written once and parameterised by a [`RoadmapTable`] descriptor
//! ([`MILESTONES`], [`QUARTERLY_GOALS`]).
//!
//! Nested shapes are built by Postgres as `json` (not `jsonb`: key order is
//! kept), in one statement however many children, assignees and key results
//! there are. Where the original has no `ORDER BY` ("unordered"), rows come in
//! insertion order (`created_at, id`), which is what Postgres returns for the
//! original's freshly written tables.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::types::Json;
use sqlx::PgConnection;
use ts_rs::TS;

use super::enums::RoadmapStatus;
use super::key_results::KeyResult;
use super::people::AssigneePerson;
use super::{key_results, time};

/// The declared shapes of one roadmap table's JSON views: `Row(M)`, an
/// assignment with its person, `RoadmapNode<M>` (two levels) and the node
/// with its parent (`getById`). Dates are `toISOString` strings.
macro_rules! roadmap_views {
    (
        $row:ident, $assignment:ident, $child:ident, $node:ident, $detail:ident,
        owner: $owner:ident, extra: { $($extra:tt)* }
    ) => {
        #[doc = concat!("`Row(", stringify!($row), ")`.")]
        #[derive(Debug, Serialize, Deserialize, TS)]
        #[serde(rename_all = "camelCase")]
        pub struct $row {
            pub id: String,
            pub title: String,
            pub description: Option<String>,
            $($extra)*
            pub target_date: Option<String>,
            #[ts(as = "RoadmapStatus")]
            pub status: String,
            pub sort_order: i32,
            pub created_at: String,
            pub updated_at: String,
            pub project_id: String,
            pub parent_id: Option<String>,
        }

        #[doc = concat!("`Row(", stringify!($assignment), ") + {person: AssigneePerson}`.")]
        #[derive(Debug, Serialize, Deserialize, TS)]
        #[serde(rename_all = "camelCase")]
        pub struct $assignment {
            pub id: String,
            pub $owner: String,
            pub person_id: String,
            pub created_at: String,
            pub person: AssigneePerson,
        }

        /// A second-level item: the row, its assignments and key results.
        #[derive(Debug, Serialize, Deserialize, TS)]
        #[serde(rename_all = "camelCase")]
        pub struct $child {
            #[serde(flatten)]
            pub row: $row,
            pub assignments: Vec<$assignment>,
            pub key_results: Vec<KeyResult>,
        }

        /// `RoadmapNode`: a top-level item with its children (two levels only).
        #[derive(Debug, Serialize, Deserialize, TS)]
        #[serde(rename_all = "camelCase")]
        pub struct $node {
            #[serde(flatten)]
            pub row: $row,
            pub assignments: Vec<$assignment>,
            pub key_results: Vec<KeyResult>,
            pub children: Vec<$child>,
        }

        /// `RoadmapNode + {parent: {id, title} | null}` (`getById`).
        #[derive(Debug, Serialize, Deserialize, TS)]
        #[serde(rename_all = "camelCase")]
        pub struct $detail {
            #[serde(flatten)]
            pub row: $row,
            pub assignments: Vec<$assignment>,
            pub key_results: Vec<KeyResult>,
            pub children: Vec<$child>,
            pub parent: Option<RoadmapParent>,
        }
    };
}

/// `{id, title}` of a roadmap item's parent.
#[derive(Debug, Serialize, Deserialize, TS)]
pub struct RoadmapParent {
    pub id: String,
    pub title: String,
}

roadmap_views!(
    Milestone, MilestoneAssignmentWithPerson, MilestoneChild, MilestoneNode, MilestoneDetail,
    owner: milestone_id, extra: {}
);
roadmap_views!(
    QuarterlyGoal, QuarterlyGoalAssignmentWithPerson, QuarterlyGoalChild, QuarterlyGoalNode,
    QuarterlyGoalDetail,
    owner: quarterly_goal_id, extra: { pub quarter: Option<String>, }
);

/// Which roadmap table a statement works on.
#[derive(Debug)]
pub struct RoadmapTable {
    /// `milestones` / `quarterly_goals`.
    pub table: &'static str,
    /// `milestone_assignments` / `quarterly_goal_assignments`.
    pub assignments: &'static str,
    /// The column naming an item in its assignments and in `key_results`.
    pub owner_column: &'static str,
    /// Its JSON name (`milestoneId` / `quarterlyGoalId`), also the input key
    /// of `setAssignees`.
    pub owner_key: &'static str,
    /// Goals have a free-text `quarter`.
    pub has_quarter: bool,
    /// How messages name an item (`Milestone` / `Quarterly goal`).
    pub label: &'static str,
}

/// Model Milestone.
pub const MILESTONES: RoadmapTable = RoadmapTable {
    table: "milestones",
    assignments: "milestone_assignments",
    owner_column: "milestone_id",
    owner_key: "milestoneId",
    has_quarter: false,
    label: "Milestone",
};

/// Model QuarterlyGoal.
pub const QUARTERLY_GOALS: RoadmapTable = RoadmapTable {
    table: "quarterly_goals",
    assignments: "quarterly_goal_assignments",
    owner_column: "quarterly_goal_id",
    owner_key: "quarterlyGoalId",
    has_quarter: true,
    label: "Quarterly goal",
};

/// SQL printing a `timestamp(3)` expression as JS `toISOString` does, in
/// the API's one date format ([`time::js_iso_sql`]); NULL stays NULL.
pub(crate) fn iso(column: &str) -> String {
    time::js_iso_sql(column)
}

impl RoadmapTable {
    /// `Row(M)` of alias `a` as `json_build_object` arguments, in model order.
    fn row_fields(&self, a: &str) -> String {
        let quarter = if self.has_quarter {
            format!("'quarter', {a}.quarter, ")
        } else {
            String::new()
        };
        format!(
            "'id', {a}.id, 'title', {a}.title, 'description', {a}.description, {quarter}\
             'targetDate', {}, 'status', {a}.status, 'sortOrder', {a}.sort_order, \
             'createdAt', {}, 'updatedAt', {}, 'projectId', {a}.project_id, 'parentId', {a}.parent_id",
            iso(&format!("{a}.target_date")),
            iso(&format!("{a}.created_at")),
            iso(&format!("{a}.updated_at")),
        )
    }

    /// `Row(M)` of alias `a` as one JSON expression.
    pub fn row_json(&self, a: &str) -> String {
        format!("json_build_object({})", self.row_fields(a))
    }

    /// `assignments` (each with its `AssigneePerson`, insertion order) and
    /// `keyResults` (`sortOrder` ASC) of alias `a`, as arguments.
    fn relations(&self, a: &str) -> String {
        let (x, p, k) = (format!("{a}_as"), format!("{a}_pe"), format!("{a}_kr"));
        format!(
            "'assignments', COALESCE((SELECT json_agg(json_build_object(\
               'id', {x}.id, '{key}', {x}.{col}, 'personId', {x}.person_id, 'createdAt', {created}, \
               'person', json_build_object('id', {p}.id, 'firstName', {p}.first_name, \
               'lastName', {p}.last_name, 'imageUrl', {p}.image_url)) ORDER BY {x}.created_at, {x}.id) \
             FROM {assignments} {x} JOIN people {p} ON {p}.id = {x}.person_id \
             WHERE {x}.{col} = {a}.id), '[]'::json), \
             'keyResults', COALESCE((SELECT json_agg({kr} ORDER BY {k}.sort_order, {k}.created_at, {k}.id) \
             FROM key_results {k} WHERE {k}.{col} = {a}.id), '[]'::json)",
            key = self.owner_key,
            col = self.owner_column,
            created = iso(&format!("{x}.created_at")),
            assignments = self.assignments,
            kr = key_results::row_json(&k),
        )
    }

    /// `RoadmapNode<M>` of alias `a`: the row, its assignments and key
    /// results, and its children (`sortOrder` ASC, `targetDate` ASC with NULLs
    /// last, then insertion order) with theirs. Two levels only, as in the
    /// original.
    pub fn node_json(&self, a: &str) -> String {
        let c = format!("{a}_ch");
        format!(
            "json_build_object({row}, {rel}, 'children', COALESCE((SELECT json_agg(\
               json_build_object({child_row}, {child_rel}) \
               ORDER BY {c}.sort_order, {c}.target_date, {c}.created_at, {c}.id) \
             FROM {table} {c} WHERE {c}.parent_id = {a}.id), '[]'::json))",
            row = self.row_fields(a),
            rel = self.relations(a),
            child_row = self.row_fields(&c),
            child_rel = self.relations(&c),
            table = self.table,
        )
    }
}

impl RoadmapTable {
    /// `[RoadmapNode<M>]` of the project whose id is the SQL expression
    /// `project_id` (a parameter like `$1`, or a column like `pr.id` when
    /// embedded in a larger view such as `ProjectDetail`): the top-level
    /// items, `sortOrder` ASC, `targetDate` ASC (NULLs last), then insertion
    /// order; `[]` when there are none. One JSON expression.
    pub fn project_nodes_json(&self, project_id: &str) -> String {
        format!(
            "COALESCE((SELECT json_agg({node} ORDER BY top.sort_order, top.target_date, \
             top.created_at, top.id) FROM {table} top \
             WHERE top.project_id = {project_id} AND top.parent_id IS NULL), '[]'::json)",
            node = self.node_json("top"),
            table = self.table,
        )
    }
}

/// The top-level items of a project as `RoadmapNode`s (see
/// [`RoadmapTable::project_nodes_json`]). One statement.
pub async fn list_top(
    conn: &mut PgConnection,
    t: &RoadmapTable,
    project_id: &str,
) -> Result<Value, sqlx::Error> {
    let sql = format!("SELECT {}", t.project_nodes_json("$1"));
    let (Json(nodes),): (Json<Value>,) = crate::db::sql::query_as(&sql)
        .bind(project_id)
        .fetch_one(conn)
        .await?;
    Ok(nodes)
}

/// One item as `RoadmapNode + {parent: {id, title} | null}`.
pub async fn find_node(
    conn: &mut PgConnection,
    t: &RoadmapTable,
    id: &str,
) -> Result<Option<Value>, sqlx::Error> {
    let node = t.node_json("a");
    // `node` is a json_build_object(...): add `parent` as its last key.
    let with_parent = format!(
        "{}, 'parent', (SELECT json_build_object('id', pa.id, 'title', pa.title) \
         FROM {} pa WHERE pa.id = a.parent_id))",
        &node[..node.len() - 1],
        t.table
    );
    let sql = format!("SELECT {with_parent} FROM {} a WHERE a.id = $1", t.table);
    let row: Option<(Json<Value>,)> = crate::db::sql::query_as(&sql)
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|(Json(v),)| v))
}

/// Locks a project row against concurrent structure changes of its roadmap
/// until the end of the transaction (`FOR NO KEY UPDATE`: rows referencing
/// the project can still be inserted). `false` if there is no such project.
pub async fn lock_project(conn: &mut PgConnection, project_id: &str) -> Result<bool, sqlx::Error> {
    let row: Option<(i32,)> =
        crate::db::sql::query_as("SELECT 1 FROM projects WHERE id = $1 FOR NO KEY UPDATE")
            .bind(project_id)
            .fetch_optional(conn)
            .await?;
    Ok(row.is_some())
}

/// What [`check_parent`] found about a proposed parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParentCheck {
    /// The parent's project; `None` if there is no such item.
    pub parent_project: Option<String>,
    /// Whether `item` is the parent or one of its ancestors (§5.2, without
    /// the original's 50-level limit).
    pub cycle: bool,
    /// `item`'s parent now.
    pub current_parent: Option<String>,
}

/// Looks up `parent`, walks up from it looking for `item` (one recursive
/// statement; `UNION` stops on loops that already exist) and reads `item`'s
/// current parent.
pub async fn check_parent(
    conn: &mut PgConnection,
    t: &RoadmapTable,
    parent: &str,
    item: Option<&str>,
) -> Result<ParentCheck, sqlx::Error> {
    let sql = format!(
        "WITH RECURSIVE up(id) AS (
             SELECT $1::text
           UNION
             SELECT x.parent_id FROM {table} x JOIN up ON x.id = up.id WHERE x.parent_id IS NOT NULL)
         SELECT (SELECT project_id FROM {table} WHERE id = $1),
                $2::text IS NOT NULL AND EXISTS (SELECT 1 FROM up WHERE id = $2),
                (SELECT parent_id FROM {table} WHERE id = $2)",
        table = t.table
    );
    let (parent_project, cycle, current_parent): (Option<String>, bool, Option<String>) =
        crate::db::sql::query_as(&sql)
            .bind(parent)
            .bind(item)
            .fetch_one(conn)
            .await?;
    Ok(ParentCheck {
        parent_project,
        cycle,
        current_parent,
    })
}

/// `project_id` and `parent_id` of an item.
pub async fn placement(
    conn: &mut PgConnection,
    t: &RoadmapTable,
    id: &str,
) -> Result<Option<(String, Option<String>)>, sqlx::Error> {
    let sql = format!(
        "SELECT project_id, parent_id FROM {} WHERE id = $1",
        t.table
    );
    crate::db::sql::query_as(&sql)
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// The editable fields of a milestone or goal. For updates, `None`
/// `description`/`quarter` leave the column unchanged (as the original).
#[derive(Debug, Clone, Default)]
pub struct ItemFields {
    pub title: String,
    pub description: Option<String>,
    pub quarter: Option<String>,
    pub target_date: Option<NaiveDateTime>,
    pub status: &'static str,
    pub parent_id: Option<String>,
}

/// Inserts an item. Without `sort_order` it goes after its siblings (same
/// project and parent): max + 1, or 0 for the first. Call under
/// [`lock_project`] so concurrent creates get distinct orders.
pub async fn insert(
    conn: &mut PgConnection,
    t: &RoadmapTable,
    project_id: &str,
    f: &ItemFields,
    sort_order: Option<i32>,
) -> Result<Value, sqlx::Error> {
    let (quarter_column, quarter_value) = if t.has_quarter {
        ("quarter, ", "$10, ")
    } else {
        ("", "")
    };
    let sql = format!(
        "INSERT INTO {table} AS a (id, title, description, {quarter_column}target_date, status, \
         sort_order, project_id, parent_id, created_at, updated_at)
         VALUES ($1, $2, $3, {quarter_value}$4, $5::\"RoadmapStatus\",
                 COALESCE($6, (SELECT LEAST(COALESCE(max(s.sort_order)::bigint + 1, 0), 2147483647)::int
                               FROM {table} s
                               WHERE s.project_id = $7 AND s.parent_id IS NOT DISTINCT FROM $8)),
                 $7, $8, $9, $9)
         RETURNING {row}",
        table = t.table,
        row = t.row_json("a"),
    );
    let mut q = crate::db::sql::query_as(&sql)
        .bind(super::new_id())
        .bind(&f.title)
        .bind(&f.description)
        .bind(f.target_date)
        .bind(f.status)
        .bind(sort_order)
        .bind(project_id)
        .bind(&f.parent_id)
        .bind(time::now());
    if t.has_quarter {
        q = q.bind(&f.quarter);
    }
    let (Json(row),): (Json<Value>,) = q.fetch_one(conn).await?;
    Ok(row)
}

/// An updated or deleted item and who is affected: its project and the Clerk users of
/// its assignees (their `person.me` embeds its title, status and date).
pub struct ChangedItem {
    pub row: Value,
    pub project_id: String,
    pub assignee_users: Vec<String>,
    pub has_assignees: bool,
}

/// The columns [`update`] and [`delete`] return: the row, its project, its
/// assignees' Clerk users and whether it has any assignee.
type ChangedRow = (Json<Value>, String, Vec<String>, bool);

impl ChangedItem {
    fn from_row((Json(row), project_id, assignee_users, has_assignees): ChangedRow) -> Self {
        Self {
            row,
            project_id,
            assignee_users,
            has_assignees,
        }
    }
}

/// Overwrites an item with the original's replace semantics: `targetDate`,
/// `parentId` and `sortOrder` are always written (absent = NULL / NULL / 0),
/// `description`/`quarter` only when given. `None` if there is no such item.
pub async fn update(
    conn: &mut PgConnection,
    t: &RoadmapTable,
    id: &str,
    f: &ItemFields,
    sort_order: i32,
) -> Result<Option<ChangedItem>, sqlx::Error> {
    let quarter = if t.has_quarter {
        "quarter = COALESCE($9, a.quarter), "
    } else {
        ""
    };
    let sql = format!(
        "WITH u AS (
             UPDATE {table} a SET title = $2, description = COALESCE($3, a.description), {quarter}
                 target_date = $4, status = $5::\"RoadmapStatus\", parent_id = $6, sort_order = $7,
                 updated_at = $8
             WHERE a.id = $1 RETURNING a.*)
         SELECT {row}, u.project_id,
                ARRAY(SELECT p.clerk_user_id FROM {assignments} x JOIN people p ON p.id = x.person_id
                      WHERE x.{col} = u.id AND p.clerk_user_id IS NOT NULL),
                EXISTS (SELECT 1 FROM {assignments} x WHERE x.{col} = u.id)
         FROM u",
        table = t.table,
        row = t.row_json("u"),
        assignments = t.assignments,
        col = t.owner_column,
    );
    let mut q = crate::db::sql::query_as(&sql)
        .bind(id)
        .bind(&f.title)
        .bind(&f.description)
        .bind(f.target_date)
        .bind(f.status)
        .bind(&f.parent_id)
        .bind(sort_order)
        .bind(time::now());
    if t.has_quarter {
        q = q.bind(&f.quarter);
    }
    let row: Option<ChangedRow> = q.fetch_optional(conn).await?;
    Ok(row.map(ChangedItem::from_row))
}

/// Deletes an item and, through the schema's cascades, its subtree with
/// their assignments and key results. Reports the assignees of the whole
/// subtree (read before the delete) like [`update`]. `None` if no such item.
pub async fn delete(
    conn: &mut PgConnection,
    t: &RoadmapTable,
    id: &str,
) -> Result<Option<ChangedItem>, sqlx::Error> {
    let sql = format!(
        "WITH RECURSIVE sub(id) AS (
             SELECT $1::text
           UNION
             SELECT c.id FROM {table} c JOIN sub ON c.parent_id = sub.id),
         assigned AS (
             SELECT x.person_id FROM {assignments} x WHERE x.{col} IN (SELECT id FROM sub)),
         u AS (DELETE FROM {table} a WHERE a.id = $1 RETURNING a.*)
         SELECT {row}, u.project_id,
                ARRAY(SELECT DISTINCT p.clerk_user_id FROM assigned s JOIN people p ON p.id = s.person_id
                      WHERE p.clerk_user_id IS NOT NULL),
                EXISTS (SELECT 1 FROM assigned)
         FROM u",
        table = t.table,
        row = t.row_json("u"),
        assignments = t.assignments,
        col = t.owner_column,
    );
    let row: Option<ChangedRow> = crate::db::sql::query_as(&sql)
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(ChangedItem::from_row))
}

/// What [`lock_for_assignees`] read about an item and a proposed assignee list.
pub struct AssigneeCheck {
    pub project_id: String,
    /// Indices (into the proposed list) of people who are not members of the
    /// item's project (unknown people included).
    pub outsiders: Vec<i32>,
    /// Clerk users of the current and the proposed assignees.
    pub affected_users: Vec<String>,
}

/// Locks an item's row (serialising assignee changes of that item) and checks
/// `person_ids` against its project's members, in one statement. `None` if
/// there is no such item.
pub async fn lock_for_assignees(
    conn: &mut PgConnection,
    t: &RoadmapTable,
    id: &str,
    person_ids: &[String],
) -> Result<Option<AssigneeCheck>, sqlx::Error> {
    let sql = format!(
        "SELECT a.project_id,
                ARRAY(SELECT (u.ord - 1)::int FROM unnest($2::text[]) WITH ORDINALITY AS u(pid, ord)
                      WHERE NOT EXISTS (SELECT 1 FROM team_members tm
                                        WHERE tm.person_id = u.pid AND tm.project_id = a.project_id)
                      ORDER BY u.ord),
                ARRAY(SELECT DISTINCT p.clerk_user_id FROM people p
                      WHERE p.clerk_user_id IS NOT NULL
                        AND (p.id = ANY($2)
                             OR p.id IN (SELECT x.person_id FROM {assignments} x WHERE x.{col} = a.id)))
         FROM {table} a WHERE a.id = $1 FOR NO KEY UPDATE OF a",
        table = t.table,
        assignments = t.assignments,
        col = t.owner_column,
    );
    let row: Option<(String, Vec<i32>, Vec<String>)> = crate::db::sql::query_as(&sql)
        .bind(id)
        .bind(person_ids)
        .fetch_optional(conn)
        .await?;
    Ok(
        row.map(|(project_id, outsiders, affected_users)| AssigneeCheck {
            project_id,
            outsiders,
            affected_users,
        }),
    )
}

/// Replaces an item's assignees (two statements whatever the list's size).
pub async fn replace_assignees(
    conn: &mut PgConnection,
    t: &RoadmapTable,
    id: &str,
    person_ids: &[String],
) -> Result<(), sqlx::Error> {
    let sql = format!(
        "DELETE FROM {} WHERE {} = $1",
        t.assignments, t.owner_column
    );
    crate::db::sql::query(&sql)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    if person_ids.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = person_ids.iter().map(|_| super::new_id()).collect();
    let sql = format!(
        "INSERT INTO {} (id, {}, person_id, created_at)
         SELECT u.id, $2, u.person_id, $4 FROM unnest($1::text[], $3::text[]) AS u(id, person_id)",
        t.assignments, t.owner_column
    );
    crate::db::sql::query(&sql)
        .bind(&ids)
        .bind(id)
        .bind(person_ids)
        .bind(time::now())
        .execute(conn)
        .await?;
    Ok(())
}
