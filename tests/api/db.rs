//! `enghub::db`: the schema against the spec (§2 of procedures.md), migrations on empty and
//! Prisma-created databases, the demo seed, ids and timestamp serialisation.

use std::collections::BTreeSet;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use sqlx::{Connection, PgPool, Row};

use crate::test_db::TestDb;
use enghub::db::{self, SeedOutcome, DEV_CLERK_USER_ID};

/// Every column of §2: `table column type nullability [default as Postgres prints it]`.
const SPEC_COLUMNS: &str = r#"
projects id text notnull
projects name text notnull
projects description text null
projects github_url text null
projects gitlab_url text null
projects image_url text null
projects created_at timestamp(3) notnull CURRENT_TIMESTAMP
projects updated_at timestamp(3) notnull
roles id text notnull
roles name text notnull
roles color text null
teams id text notnull
teams name text notnull
teams description text null
teams image_url text null
teams project_id text notnull
health_assessments id text notnull
health_assessments project_id text notnull
health_assessments author_id text notnull
health_assessments overall_status "HealthStatus" notnull
health_assessments overall_notes jsonb null
health_assessments growth_status "HealthStatus" null
health_assessments growth_notes jsonb null
health_assessments margin_status "HealthStatus" null
health_assessments margin_notes jsonb null
health_assessments longevity_status "HealthStatus" null
health_assessments longevity_notes jsonb null
health_assessments client_satisfaction_status "HealthStatus" null
health_assessments client_satisfaction_notes jsonb null
health_assessments engineering_vibe_status "HealthStatus" null
health_assessments engineering_vibe_notes jsonb null
health_assessments product_vibe_status "HealthStatus" null
health_assessments product_vibe_notes jsonb null
health_assessments design_vibe_status "HealthStatus" null
health_assessments design_vibe_notes jsonb null
health_assessments created_at timestamp(3) notnull CURRENT_TIMESTAMP
health_assessments updated_at timestamp(3) notnull
titles id text notnull
titles name text notnull
titles sort_order integer notnull 0
titles department_id text null
people id text notnull
people first_name text notnull
people last_name text notnull
people callsign text null
people email text notnull
people github_username text null
people gitlab_username text null
people image_url text null
people clerk_user_id text null
people manager_id text null
people role_id text null
people title_id text null
people created_at timestamp(3) notnull CURRENT_TIMESTAMP
people updated_at timestamp(3) notnull
manager_changes id text notnull
manager_changes person_id text notnull
manager_changes old_manager_id text null
manager_changes new_manager_id text null
manager_changes changed_by text notnull
manager_changes created_at timestamp(3) notnull CURRENT_TIMESTAMP
team_members id text notnull
team_members person_id text notnull
team_members project_id text notnull
team_memberships id text notnull
team_memberships team_id text notnull
team_memberships team_member_id text notnull
milestones id text notnull
milestones title text notnull
milestones description text null
milestones target_date timestamp(3) null
milestones status "RoadmapStatus" notnull 'NOT_STARTED'::"RoadmapStatus"
milestones sort_order integer notnull 0
milestones created_at timestamp(3) notnull CURRENT_TIMESTAMP
milestones updated_at timestamp(3) notnull
milestones project_id text notnull
milestones parent_id text null
quarterly_goals id text notnull
quarterly_goals title text notnull
quarterly_goals description text null
quarterly_goals quarter text null
quarterly_goals target_date timestamp(3) null
quarterly_goals status "RoadmapStatus" notnull 'NOT_STARTED'::"RoadmapStatus"
quarterly_goals sort_order integer notnull 0
quarterly_goals created_at timestamp(3) notnull CURRENT_TIMESTAMP
quarterly_goals updated_at timestamp(3) notnull
quarterly_goals project_id text notnull
quarterly_goals parent_id text null
project_links id text notnull
project_links label text notnull
project_links url text notnull
project_links project_id text notnull
team_arrangements id text notnull
team_arrangements name text notnull
team_arrangements is_active boolean notnull false
team_arrangements project_id text notnull
team_arrangements created_at timestamp(3) notnull CURRENT_TIMESTAMP
team_arrangements updated_at timestamp(3) notnull
arrangement_teams id text notnull
arrangement_teams name text notnull
arrangement_teams arrangement_id text notnull
arrangement_teams sort_order integer notnull 0
arrangement_teams live_team_id text null
arrangement_assignments id text notnull
arrangement_assignments arrangement_team_id text notnull
arrangement_assignments team_member_id text notnull
github_syncs id text notnull
github_syncs project_id text notnull
github_syncs last_sync_at timestamp(3) null
github_syncs sync_status text notnull 'idle'::text
github_syncs sync_error text null
github_syncs created_at timestamp(3) notnull CURRENT_TIMESTAMP
github_syncs updated_at timestamp(3) notnull
contributor_stats id text notnull
contributor_stats project_id text notnull
contributor_stats github_username text notnull
contributor_stats period text notnull
contributor_stats commits integer notnull 0
contributor_stats prs_opened integer notnull 0
contributor_stats prs_merged integer notnull 0
contributor_stats reviews_done integer notnull 0
contributor_stats additions integer notnull 0
contributor_stats deletions integer notnull 0
contributor_stats avg_weekly_commits double precision notnull 0
contributor_stats recent_weekly_commits double precision notnull 0
contributor_stats trend text notnull 'stable'::text
contributor_stats avg_weekly_reviews double precision notnull 0
contributor_stats recent_weekly_reviews double precision notnull 0
contributor_stats review_trend text notnull 'stable'::text
contributor_stats created_at timestamp(3) notnull CURRENT_TIMESTAMP
contributor_stats updated_at timestamp(3) notnull
meeting_templates id text notnull
meeting_templates name text notnull
meeting_templates description text null
meeting_templates content jsonb notnull '{}'::jsonb
meeting_templates author_id text notnull
meeting_templates created_at timestamp(3) notnull CURRENT_TIMESTAMP
meeting_templates updated_at timestamp(3) notnull
meetings id text notnull
meetings date timestamp(3) notnull
meetings content jsonb notnull '{}'::jsonb
meetings author_id text notnull
meetings person_id text notnull
meetings template_id text null
meetings created_at timestamp(3) notnull CURRENT_TIMESTAMP
meetings updated_at timestamp(3) notnull
person_comments id text notnull
person_comments content text notnull
person_comments person_id text notnull
person_comments author_id text notnull
person_comments author_person_id text notnull
person_comments created_at timestamp(3) notnull CURRENT_TIMESTAMP
person_comments updated_at timestamp(3) notnull
milestone_assignments id text notnull
milestone_assignments milestone_id text notnull
milestone_assignments person_id text notnull
milestone_assignments created_at timestamp(3) notnull CURRENT_TIMESTAMP
quarterly_goal_assignments id text notnull
quarterly_goal_assignments quarterly_goal_id text notnull
quarterly_goal_assignments person_id text notnull
quarterly_goal_assignments created_at timestamp(3) notnull CURRENT_TIMESTAMP
key_results id text notnull
key_results title text notnull
key_results target_value double precision notnull
key_results current_value double precision notnull 0
key_results unit text null
key_results status "RoadmapStatus" notnull 'NOT_STARTED'::"RoadmapStatus"
key_results sort_order integer notnull 0
key_results milestone_id text null
key_results quarterly_goal_id text null
key_results created_at timestamp(3) notnull CURRENT_TIMESTAMP
key_results updated_at timestamp(3) notnull
"#;

/// Every foreign key of §2: `table column -> target ON DELETE rule`.
const SPEC_FOREIGN_KEYS: &[(&str, &str, &str, OnDelete)] = &[
    ("teams", "project_id", "projects", OnDelete::Cascade),
    (
        "health_assessments",
        "project_id",
        "projects",
        OnDelete::Cascade,
    ),
    ("titles", "department_id", "roles", OnDelete::SetNull),
    ("people", "manager_id", "people", OnDelete::SetNull),
    ("people", "role_id", "roles", OnDelete::SetNull),
    ("people", "title_id", "titles", OnDelete::SetNull),
    ("manager_changes", "person_id", "people", OnDelete::Cascade),
    (
        "manager_changes",
        "old_manager_id",
        "people",
        OnDelete::SetNull,
    ),
    (
        "manager_changes",
        "new_manager_id",
        "people",
        OnDelete::SetNull,
    ),
    ("team_members", "person_id", "people", OnDelete::Cascade),
    ("team_members", "project_id", "projects", OnDelete::Cascade),
    ("team_memberships", "team_id", "teams", OnDelete::Cascade),
    (
        "team_memberships",
        "team_member_id",
        "team_members",
        OnDelete::Cascade,
    ),
    ("milestones", "project_id", "projects", OnDelete::Cascade),
    ("milestones", "parent_id", "milestones", OnDelete::Cascade),
    (
        "quarterly_goals",
        "project_id",
        "projects",
        OnDelete::Cascade,
    ),
    (
        "quarterly_goals",
        "parent_id",
        "quarterly_goals",
        OnDelete::Cascade,
    ),
    ("project_links", "project_id", "projects", OnDelete::Cascade),
    (
        "team_arrangements",
        "project_id",
        "projects",
        OnDelete::Cascade,
    ),
    (
        "arrangement_teams",
        "arrangement_id",
        "team_arrangements",
        OnDelete::Cascade,
    ),
    (
        "arrangement_teams",
        "live_team_id",
        "teams",
        OnDelete::SetNull,
    ),
    (
        "arrangement_assignments",
        "arrangement_team_id",
        "arrangement_teams",
        OnDelete::Cascade,
    ),
    (
        "arrangement_assignments",
        "team_member_id",
        "team_members",
        OnDelete::Cascade,
    ),
    ("github_syncs", "project_id", "projects", OnDelete::Cascade),
    (
        "contributor_stats",
        "project_id",
        "projects",
        OnDelete::Cascade,
    ),
    ("meetings", "person_id", "people", OnDelete::Cascade),
    (
        "meetings",
        "template_id",
        "meeting_templates",
        OnDelete::SetNull,
    ),
    ("person_comments", "person_id", "people", OnDelete::Cascade),
    (
        "person_comments",
        "author_person_id",
        "people",
        OnDelete::Cascade,
    ),
    (
        "milestone_assignments",
        "milestone_id",
        "milestones",
        OnDelete::Cascade,
    ),
    (
        "milestone_assignments",
        "person_id",
        "people",
        OnDelete::Cascade,
    ),
    (
        "quarterly_goal_assignments",
        "quarterly_goal_id",
        "quarterly_goals",
        OnDelete::Cascade,
    ),
    (
        "quarterly_goal_assignments",
        "person_id",
        "people",
        OnDelete::Cascade,
    ),
    (
        "key_results",
        "milestone_id",
        "milestones",
        OnDelete::Cascade,
    ),
    (
        "key_results",
        "quarterly_goal_id",
        "quarterly_goals",
        OnDelete::Cascade,
    ),
];

/// Every unique index of §2, with the name Prisma gives it.
const SPEC_UNIQUE_INDEXES: &[(&str, &str, &[&str])] = &[
    ("roles_name_key", "roles", &["name"]),
    ("titles_name_key", "titles", &["name"]),
    ("people_email_key", "people", &["email"]),
    ("people_clerk_user_id_key", "people", &["clerk_user_id"]),
    (
        "team_members_person_id_project_id_key",
        "team_members",
        &["person_id", "project_id"],
    ),
    (
        "team_memberships_team_id_team_member_id_key",
        "team_memberships",
        &["team_id", "team_member_id"],
    ),
    (
        "arrangement_teams_live_team_id_key",
        "arrangement_teams",
        &["live_team_id"],
    ),
    (
        "arrangement_assignments_arrangement_team_id_team_member_id_key",
        "arrangement_assignments",
        &["arrangement_team_id", "team_member_id"],
    ),
    (
        "github_syncs_project_id_key",
        "github_syncs",
        &["project_id"],
    ),
    (
        "contributor_stats_project_id_github_username_period_key",
        "contributor_stats",
        &["project_id", "github_username", "period"],
    ),
    (
        "milestone_assignments_milestone_id_person_id_key",
        "milestone_assignments",
        &["milestone_id", "person_id"],
    ),
    (
        "quarterly_goal_assignments_quarterly_goal_id_person_id_key",
        "quarterly_goal_assignments",
        &["quarterly_goal_id", "person_id"],
    ),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum OnDelete {
    Cascade,
    SetNull,
}

impl OnDelete {
    /// `pg_constraint.confdeltype`.
    fn code(self) -> &'static str {
        match self {
            OnDelete::Cascade => "c",
            OnDelete::SetNull => "n",
        }
    }
}

type ColumnRow = (String, String, String, bool, Option<String>);

/// Tables of the port that the original does not have (migration 0002: the
/// incremental GitHub sync; 0003: the cache outbox). They are left out of the comparisons with the spec and
/// checked by the GitHub tests.
const PORT_TABLES: &[&str] = &["github_sync_state", "github_pr_facts", "cache_outbox"];

fn spec_columns() -> BTreeSet<ColumnRow> {
    SPEC_COLUMNS
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let (table, rest) = line.split_once(' ').unwrap();
            let (column, rest) = rest.split_once(' ').unwrap();
            // "double precision" is the one type with a space.
            let (ty, rest) = match rest.strip_prefix("double precision ") {
                Some(rest) => ("double precision", rest),
                None => rest.split_once(' ').unwrap(),
            };
            let (nullability, default) = match rest.split_once(' ') {
                Some((nullability, default)) => (nullability, Some(default.to_owned())),
                None => (rest, None),
            };
            let not_null = match nullability {
                "notnull" => true,
                "null" => false,
                other => panic!("bad nullability {other:?} in {line:?}"),
            };
            (table.into(), column.into(), ty.into(), not_null, default)
        })
        .collect()
}

async fn actual_columns(pool: &PgPool) -> BTreeSet<ColumnRow> {
    sqlx::query(
        "SELECT c.table_name::text, c.column_name::text, \
                CASE WHEN c.data_type = 'USER-DEFINED' THEN '\"' || c.udt_name || '\"' \
                     WHEN c.data_type = 'timestamp without time zone' \
                          THEN 'timestamp(' || c.datetime_precision || ')' \
                     ELSE c.data_type END, \
                c.is_nullable = 'NO', c.column_default::text \
         FROM information_schema.columns c \
         JOIN information_schema.tables t USING (table_schema, table_name) \
         WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' \
           AND c.table_name <> '_sqlx_migrations' AND c.table_name <> ALL($1)",
    )
    .bind(PORT_TABLES)
    .fetch_all(pool)
    .await
    .unwrap()
    .into_iter()
    .map(|row| (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4)))
    .collect()
}

type ForeignKeyRow = (String, String, String, String, String, String);

async fn actual_foreign_keys(pool: &PgPool) -> BTreeSet<ForeignKeyRow> {
    sqlx::query(
        "SELECT con.conname::text, con.conrelid::regclass::text, a.attname::text, \
                con.confrelid::regclass::text, con.confdeltype::text, con.confupdtype::text \
         FROM pg_constraint con \
         JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = con.conkey[1] \
         WHERE con.contype = 'f' AND con.connamespace = current_schema()::regnamespace \
           AND cardinality(con.conkey) = 1 AND con.conrelid::regclass::text <> ALL($1)",
    )
    .bind(PORT_TABLES)
    .fetch_all(pool)
    .await
    .unwrap()
    .into_iter()
    .map(|row| {
        (
            row.get(0),
            row.get(1),
            row.get(2),
            row.get(3),
            row.get(4),
            row.get(5),
        )
    })
    .collect()
}

/// `(index name, table, columns in order, unique, primary)` of every index in the schema.
type IndexRow = (String, String, Vec<String>, bool, bool);

async fn actual_indexes(pool: &PgPool) -> Vec<IndexRow> {
    sqlx::query(
        "SELECT ic.relname::text, tc.relname::text, \
                ARRAY(SELECT a.attname::text FROM unnest(i.indkey) WITH ORDINALITY k(attnum, ord) \
                      JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum \
                      ORDER BY k.ord), \
                i.indisunique, i.indisprimary \
         FROM pg_index i \
         JOIN pg_class ic ON ic.oid = i.indexrelid \
         JOIN pg_class tc ON tc.oid = i.indrelid \
         WHERE tc.relnamespace = current_schema()::regnamespace \
           AND tc.relname <> '_sqlx_migrations' AND tc.relname::text <> ALL($1)",
    )
    .bind(PORT_TABLES)
    .fetch_all(pool)
    .await
    .unwrap()
    .into_iter()
    .map(|row| (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4)))
    .collect()
}

/// The whole schema in the shape the checks compare, to show a migration run changed nothing.
async fn schema_fingerprint(
    pool: &PgPool,
) -> (
    BTreeSet<ColumnRow>,
    BTreeSet<ForeignKeyRow>,
    BTreeSet<IndexRow>,
) {
    (
        actual_columns(pool).await,
        actual_foreign_keys(pool).await,
        actual_indexes(pool).await.into_iter().collect(),
    )
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

// ---- migrations -----------------------------------------------------------------------------

#[tokio::test]
async fn migrations_apply_to_an_empty_database_and_rerun_is_a_no_op() {
    let test_db = TestDb::empty().await;

    db::migrate(&test_db.pool).await.expect("first run");
    let after_first = schema_fingerprint(&test_db.pool).await;
    db::migrate(&test_db.pool).await.expect("second run");

    assert_eq!(schema_fingerprint(&test_db.pool).await, after_first);
    assert_eq!(
        count(&test_db.pool, "SELECT count(*) FROM _sqlx_migrations").await,
        db::MIGRATOR.iter().count() as i64
    );
    assert_eq!(
        count(
            &test_db.pool,
            "SELECT count(*) FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations'"
        )
        .await,
        23 + PORT_TABLES.len() as i64
    );
}

#[tokio::test]
async fn every_column_has_the_spec_type_nullability_and_default() {
    let test_db = TestDb::migrated().await;

    let actual = actual_columns(&test_db.pool).await;
    let expected = spec_columns();

    let missing: Vec<_> = expected.difference(&actual).collect();
    let unexpected: Vec<_> = actual.difference(&expected).collect();
    assert!(
        missing.is_empty() && unexpected.is_empty(),
        "missing or different: {missing:#?}\nnot in spec: {unexpected:#?}"
    );
}

#[tokio::test]
async fn enums_have_the_spec_values_in_order() {
    let test_db = TestDb::migrated().await;

    for (name, values) in [
        ("HealthStatus", vec!["RED", "YELLOW", "GREEN"]),
        (
            "RoadmapStatus",
            vec!["NOT_STARTED", "IN_PROGRESS", "COMPLETED", "AT_RISK"],
        ),
    ] {
        let actual: Vec<String> = sqlx::query_scalar(
            "SELECT e.enumlabel::text FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid \
             WHERE t.typname = $1 ORDER BY e.enumsortorder",
        )
        .bind(name)
        .fetch_all(&test_db.pool)
        .await
        .unwrap();
        assert_eq!(actual, values, "enum {name}");
    }
}

#[tokio::test]
async fn every_foreign_key_has_the_spec_delete_rule_and_cascades_updates() {
    let test_db = TestDb::migrated().await;

    let actual = actual_foreign_keys(&test_db.pool).await;
    let expected: BTreeSet<ForeignKeyRow> = SPEC_FOREIGN_KEYS
        .iter()
        .map(|&(table, column, target, on_delete)| {
            (
                format!("{table}_{column}_fkey"),
                table.to_owned(),
                column.to_owned(),
                target.to_owned(),
                on_delete.code().to_owned(),
                "c".to_owned(),
            )
        })
        .collect();

    assert_eq!(actual, expected);
    let all_foreign_keys = count(
        &test_db.pool,
        "SELECT count(*) FROM pg_constraint WHERE contype = 'f' \
         AND connamespace = current_schema()::regnamespace \
         AND conrelid::regclass::text NOT IN ('github_sync_state', 'github_pr_facts')",
    )
    .await;
    assert_eq!(
        all_foreign_keys as usize,
        SPEC_FOREIGN_KEYS.len(),
        "no multi-column FKs"
    );
}

#[tokio::test]
async fn every_foreign_key_column_leads_an_index() {
    let test_db = TestDb::migrated().await;
    let indexes = actual_indexes(&test_db.pool).await;

    for &(table, column, _, _) in SPEC_FOREIGN_KEYS {
        let leading: Vec<&IndexRow> = indexes
            .iter()
            .filter(|(_, t, columns, _, _)| {
                t == table && columns.first().map(String::as_str) == Some(column)
            })
            .collect();
        assert!(!leading.is_empty(), "{table}.{column} has no index");
        // Ours are named like Prisma's @@index, so a later Prisma schema adopts them.
        if leading.iter().all(|(_, _, _, unique, _)| !unique) {
            let name = format!("{table}_{column}_idx");
            assert!(
                leading.iter().any(|(n, _, _, _, _)| *n == name),
                "{table}.{column} index is not named {name}"
            );
        }
    }
}

#[tokio::test]
async fn unique_indexes_and_primary_keys_have_prisma_names() {
    let test_db = TestDb::migrated().await;
    let indexes = actual_indexes(&test_db.pool).await;

    let unique: BTreeSet<(String, String, Vec<String>)> = indexes
        .iter()
        .filter(|(_, _, _, unique, primary)| *unique && !*primary)
        .map(|(name, table, columns, _, _)| (name.clone(), table.clone(), columns.clone()))
        .collect();
    let expected: BTreeSet<(String, String, Vec<String>)> = SPEC_UNIQUE_INDEXES
        .iter()
        .map(|(name, table, columns)| {
            (
                (*name).to_owned(),
                (*table).to_owned(),
                columns.iter().map(|c| (*c).to_owned()).collect(),
            )
        })
        .collect();
    // Plus migration 0004's partial unique index (`WHERE is_active`; not in
    // the original): at most one active arrangement per project.
    let mut expected = expected;
    expected.insert((
        "team_arrangements_project_id_active_key".to_owned(),
        "team_arrangements".to_owned(),
        vec!["project_id".to_owned()],
    ));
    assert_eq!(unique, expected);

    let primary: BTreeSet<(String, String, Vec<String>)> = indexes
        .iter()
        .filter(|(_, _, _, _, primary)| *primary)
        .map(|(name, table, columns, _, _)| (name.clone(), table.clone(), columns.clone()))
        .collect();
    let tables: BTreeSet<String> = spec_columns()
        .into_iter()
        .map(|(table, ..)| table)
        .collect();
    let expected_primary: BTreeSet<(String, String, Vec<String>)> = tables
        .into_iter()
        .map(|table| (format!("{table}_pkey"), table, vec!["id".to_owned()]))
        .collect();
    assert_eq!(primary, expected_primary);
}

/// A database made by `prisma db push` has this schema minus our FK indexes and without
/// `_sqlx_migrations`. It is simulated by running the migration's SQL by hand (the checks
/// above show it is catalog-identical to the spec, i.e. to what Prisma creates), dropping
/// the `_idx` indexes Prisma does not make, and storing a row that must survive.
#[tokio::test]
async fn migration_adopts_a_prisma_created_database_and_keeps_its_data() {
    let test_db = TestDb::empty().await;
    let pool = &test_db.pool;
    sqlx::raw_sql(include_str!("../../migrations/0001_schema.sql"))
        .execute(pool)
        .await
        .unwrap();
    let extra_indexes: Vec<String> = actual_indexes(pool)
        .await
        .into_iter()
        .filter(|(name, ..)| name.ends_with("_idx"))
        .map(|(name, ..)| name)
        .collect();
    assert!(!extra_indexes.is_empty());
    for name in &extra_indexes {
        sqlx::raw_sql(&format!(r#"DROP INDEX "{name}""#))
            .execute(pool)
            .await
            .unwrap();
    }
    sqlx::query(
        "INSERT INTO projects (id, name, updated_at) VALUES ('cexisting', 'Legacy', now())",
    )
    .execute(pool)
    .await
    .unwrap();
    // Two active arrangements, as the original allowed: migration 0004 keeps
    // the most recently updated one.
    sqlx::raw_sql(
        "INSERT INTO team_arrangements (id, name, is_active, project_id, updated_at) VALUES
             ('carr_old', 'Old', true, 'cexisting', now() - interval '1 day'),
             ('carr_new', 'New', true, 'cexisting', now())",
    )
    .execute(pool)
    .await
    .unwrap();
    let before: BTreeSet<_> = actual_indexes(pool).await.into_iter().collect();

    db::migrate(pool)
        .await
        .expect("migrate a Prisma-created database");

    let after: BTreeSet<_> = actual_indexes(pool).await.into_iter().collect();
    let added: BTreeSet<String> = after
        .difference(&before)
        .map(|(name, ..)| name.clone())
        .collect();
    let mut expected_added: BTreeSet<String> = extra_indexes.into_iter().collect();
    expected_added.insert("team_arrangements_project_id_active_key".to_owned());
    assert_eq!(
        added, expected_added,
        "only the FK indexes and the one-active-arrangement index are added"
    );
    assert_eq!(
        count(
            pool,
            "SELECT count(*) FROM team_arrangements WHERE is_active AND id = 'carr_new'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            pool,
            "SELECT count(*) FROM team_arrangements WHERE is_active"
        )
        .await,
        1
    );
    assert_eq!(
        count(pool, "SELECT count(*) FROM projects WHERE id = 'cexisting'").await,
        1
    );
    assert_eq!(
        count(pool, "SELECT count(*) FROM _sqlx_migrations").await,
        db::MIGRATOR.iter().count() as i64
    );
    assert_eq!(
        actual_foreign_keys(pool).await.len(),
        SPEC_FOREIGN_KEYS.len()
    );
}

// ---- pool -----------------------------------------------------------------------------------

#[tokio::test]
async fn pool_from_a_pgbouncer_url_connects_lazily_and_runs_queries() {
    let test_db = TestDb::migrated().await;
    let url = format!("{}?pgbouncer=true", test_db.url);

    let pool = db::connect_lazy(&url, true).unwrap();
    assert_eq!(pool.size(), 0, "lazy: nothing connected before first use");
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM people WHERE email = $1")
        .bind("nobody@example.com")
        .fetch_one(&pool)
        .await
        .unwrap();

    assert_eq!(n, 0);
    pool.close().await;
}

/// Pins a sqlx 0.8 behaviour procedure code must know about: with the statement cache off
/// (pooler mode), a default (persistent) query still PARSEs a *named* statement and never
/// closes it; only `.persistent(false)` uses the unnamed statement a transaction-mode pooler
/// without prepared-statement support can cope with.
#[tokio::test]
async fn with_the_cache_off_only_non_persistent_queries_avoid_named_statements() {
    let test_db = TestDb::migrated().await;
    let options: sqlx::postgres::PgConnectOptions = test_db.url.parse().unwrap();
    let mut conn = sqlx::PgConnection::connect_with(&options.statement_cache_capacity(0))
        .await
        .unwrap();

    for _ in 0..3 {
        sqlx::query("SELECT $1::int")
            .bind(1)
            .persistent(false)
            .execute(&mut conn)
            .await
            .unwrap();
    }
    assert_eq!(named_statements(&mut conn).await, 0);

    for _ in 0..3 {
        sqlx::query("SELECT $1::int")
            .bind(1)
            .execute(&mut conn)
            .await
            .unwrap();
    }
    assert_eq!(
        named_statements(&mut conn).await,
        3,
        "one leaked statement per execution"
    );
}

async fn named_statements(conn: &mut sqlx::PgConnection) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM pg_prepared_statements")
        .persistent(false)
        .fetch_one(conn)
        .await
        .unwrap()
}

// ---- seed -----------------------------------------------------------------------------------

#[tokio::test]
async fn seed_creates_an_organisation_with_a_four_level_management_chain() {
    let test_db = TestDb::migrated().await;
    let pool = &test_db.pool;

    let outcome = db::seed(pool).await.unwrap();

    assert_eq!(
        outcome,
        SeedOutcome::Seeded {
            people: 12,
            projects: 2
        }
    );
    assert_eq!(count(pool, "SELECT count(*) FROM people").await, 12);
    assert_eq!(count(pool, "SELECT count(*) FROM projects").await, 2);
    let top_of_chain: Vec<Option<String>> = sqlx::query_scalar(
        "SELECT vp.clerk_user_id FROM people ic \
         JOIN people mgr ON mgr.id = ic.manager_id \
         JOIN people dir ON dir.id = mgr.manager_id \
         JOIN people vp ON vp.id = dir.manager_id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert!(
        !top_of_chain.is_empty(),
        "no person has manager -> manager -> manager"
    );
    assert!(top_of_chain
        .iter()
        .all(|id| id.as_deref() == Some(DEV_CLERK_USER_ID)));
}

#[tokio::test]
async fn seed_fills_every_demo_table() {
    let test_db = TestDb::migrated().await;
    let pool = &test_db.pool;

    db::seed(pool).await.unwrap();

    for table in [
        "roles",
        "titles",
        "people",
        "manager_changes",
        "projects",
        "teams",
        "team_members",
        "team_memberships",
        "milestones",
        "quarterly_goals",
        "milestone_assignments",
        "quarterly_goal_assignments",
        "key_results",
        "project_links",
        "health_assessments",
        "meeting_templates",
        "meetings",
        "person_comments",
    ] {
        assert!(
            count(pool, &format!("SELECT count(*) FROM {table}")).await > 0,
            "{table} is empty"
        );
    }
    assert_eq!(
        count(pool, "SELECT count(*) FROM roles WHERE color IS NOT NULL").await,
        4
    );
    assert!(
        count(
            pool,
            "SELECT count(*) FROM milestones WHERE parent_id IS NOT NULL"
        )
        .await
            >= 1
    );
    assert_eq!(
        count(
            pool,
            "SELECT count(*) FROM projects WHERE github_url = 'https://github.com/acme/widgets'"
        )
        .await,
        1
    );
    assert!(
        count(
            pool,
            "SELECT count(*) FROM people WHERE github_username IS NOT NULL"
        )
        .await
            > 0
    );
    let sort_orders: Vec<i32> =
        sqlx::query_scalar("SELECT sort_order FROM titles ORDER BY sort_order")
            .fetch_all(pool)
            .await
            .unwrap();
    assert_eq!(
        sort_orders,
        (0..sort_orders.len() as i32).collect::<Vec<_>>()
    );
    assert_eq!(
        count(
            pool,
            "SELECT count(*) FROM titles WHERE department_id IS NULL"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn seed_twice_inserts_once() {
    let test_db = TestDb::migrated().await;
    let pool = &test_db.pool;

    let first = db::seed(pool).await.unwrap();
    let second = db::seed(pool).await.unwrap();

    assert!(matches!(first, SeedOutcome::Seeded { .. }));
    assert_eq!(second, SeedOutcome::AlreadySeeded);
    assert_eq!(count(pool, "SELECT count(*) FROM people").await, 12);
    assert_eq!(count(pool, "SELECT count(*) FROM roles").await, 4);
}

#[tokio::test]
async fn concurrent_seeds_insert_once() {
    let test_db = TestDb::migrated().await;
    let pool = &test_db.pool;

    let (a, b) = tokio::join!(db::seed(pool), db::seed(pool));

    let outcomes = [a.unwrap(), b.unwrap()];
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == SeedOutcome::AlreadySeeded)
            .count(),
        1
    );
    assert_eq!(count(pool, "SELECT count(*) FROM people").await, 12);
}

#[tokio::test]
async fn seed_does_not_touch_a_database_that_has_people() {
    let test_db = TestDb::migrated().await;
    let pool = &test_db.pool;
    sqlx::query(
        "INSERT INTO people (id, first_name, last_name, email, updated_at) \
         VALUES ('creal', 'Real', 'Person', 'real@example.com', now())",
    )
    .execute(pool)
    .await
    .unwrap();

    assert_eq!(db::seed(pool).await.unwrap(), SeedOutcome::AlreadySeeded);
    assert_eq!(count(pool, "SELECT count(*) FROM people").await, 1);
    assert_eq!(count(pool, "SELECT count(*) FROM projects").await, 0);
}

// ---- ids and timestamps ---------------------------------------------------------------------

#[test]
fn new_id_looks_like_a_prisma_cuid() {
    let ids: BTreeSet<String> = (0..1000).map(|_| db::new_id()).collect();

    assert_eq!(ids.len(), 1000, "ids are unique");
    for id in &ids {
        assert_eq!(id.len(), 25, "{id}");
        assert!(id.starts_with('c'), "{id}");
        assert!(
            id.chars()
                .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase()),
            "{id}"
        );
    }
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Stamped {
    #[serde(with = "enghub::db::time")]
    at: NaiveDateTime,
    #[serde(with = "enghub::db::time::option")]
    maybe: Option<NaiveDateTime>,
}

fn datetime(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").unwrap()
}

#[test]
fn timestamps_serialise_with_three_fraction_digits_and_z() {
    let value = Stamped {
        at: datetime("2025-01-02 03:04:05.678"),
        maybe: Some(datetime("2025-01-02 03:04:05")),
    };

    let json = serde_json::to_value(&value).unwrap();

    assert_eq!(
        json,
        serde_json::json!({"at": "2025-01-02T03:04:05.678Z", "maybe": "2025-01-02T03:04:05.000Z"})
    );
    assert_eq!(serde_json::from_value::<Stamped>(json).unwrap(), value);
}

#[test]
fn missing_optional_timestamp_serialises_as_null() {
    let value = Stamped {
        at: datetime("2025-01-02 03:04:05.1"),
        maybe: None,
    };

    let json = serde_json::to_value(&value).unwrap();

    assert_eq!(
        json,
        serde_json::json!({"at": "2025-01-02T03:04:05.100Z", "maybe": null})
    );
    assert_eq!(serde_json::from_value::<Stamped>(json).unwrap(), value);
}

#[tokio::test]
async fn now_survives_a_round_trip_through_a_timestamp3_column() {
    let test_db = TestDb::migrated().await;
    let now = db::time::now();

    let stored: NaiveDateTime = sqlx::query_scalar(
        "INSERT INTO projects (id, name, updated_at) VALUES ($1, 'P', $2) RETURNING updated_at",
    )
    .bind(db::new_id())
    .bind(now)
    .fetch_one(&test_db.pool)
    .await
    .unwrap();

    assert_eq!(stored, now);
}

#[tokio::test]
async fn behind_a_pooler_our_queries_leave_no_named_statement_on_the_connection() {
    let test_db = TestDb::migrated().await;
    let db = enghub::db::connect_lazy(&format!("{}?pgbouncer=true", test_db.url), false).unwrap();
    let mut conn = db.acquire().await.unwrap();

    for _ in 0..3 {
        enghub::db::departments::list_views(&mut conn)
            .await
            .unwrap();
        enghub::db::titles::list_views(&mut conn).await.unwrap();
    }

    assert_eq!(named_statements(&mut conn).await, 0);
    drop(conn);
    db.close().await;
    // Back to the default for other tests of this process.
    let _ = enghub::db::connect_lazy(&test_db.url, false).unwrap();
}
