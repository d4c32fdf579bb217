//! Demo data: a small engineering organisation for `enghub dev` and the tests.
//!
//! [`seed`] loads it in one transaction, and only into a database without people, so it
//! is safe to run on every `enghub dev` start and never touches real data. Timestamps are
//! relative to now, so the roadmap always looks current.

use chrono::{Duration, NaiveDateTime};
use serde_json::{json, Value};
use sqlx::PgConnection;

use super::{new_id, time, Db, DEV_CLERK_USER_ID};

/// What [`seed`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedOutcome {
    /// The demo organisation was inserted.
    Seeded { people: usize, projects: usize },
    /// `people` already had rows; nothing was written.
    AlreadySeeded,
}

/// Serialises concurrent seeders (two `enghub dev` starts, parallel tests on one database):
/// the second waits, then sees the first one's people and does nothing.
const SEED_LOCK_KEY: i64 = 0x656e_6768_7562_5344; // "enghubSD"

/// Inserts the demo organisation unless `people` already has rows.
///
/// One transaction: either everything is inserted or nothing is.
/// The VP of Engineering (top of a four-level management chain) has
/// `clerk_user_id = DEV_CLERK_USER_ID`: a dev token acts as the manager, directly or
/// transitively, of every other seeded person.
pub async fn seed(db: &Db) -> Result<SeedOutcome, sqlx::Error> {
    let mut tx = db.begin().await?;
    crate::db::sql::query("SELECT pg_advisory_xact_lock($1)")
        .bind(SEED_LOCK_KEY)
        .execute(&mut *tx)
        .await?;
    let has_people: bool = crate::db::sql::query_scalar("SELECT EXISTS (SELECT 1 FROM people)")
        .fetch_one(&mut *tx)
        .await?;
    if has_people {
        return Ok(SeedOutcome::AlreadySeeded);
    }
    let now = time::now();
    let outcome = insert_organisation(&mut tx, now).await?;
    insert_roadmaps(&mut tx, now).await?;
    tx.commit().await?;
    Ok(outcome)
}

/// Tiptap document with one paragraph per line, the shape the web editor stores.
fn rich_text(paragraphs: &[&str]) -> Value {
    let content: Vec<Value> = paragraphs
        .iter()
        .map(|text| json!({"type": "paragraph", "content": [{"type": "text", "text": text}]}))
        .collect();
    json!({"type": "doc", "content": content})
}

struct NewPerson<'a> {
    first_name: &'a str,
    last_name: &'a str,
    callsign: Option<&'a str>,
    github_username: Option<&'a str>,
    clerk_user_id: Option<&'a str>,
    manager_id: Option<&'a str>,
    department_id: &'a str,
    title_id: &'a str,
}

struct NewRoadmapItem<'a> {
    title: &'a str,
    description: &'a str,
    quarter: Option<&'a str>,
    target_date: NaiveDateTime,
    status: &'a str,
    sort_order: i32,
    project_id: &'a str,
    parent_id: Option<&'a str>,
}

async fn insert_department(
    conn: &mut PgConnection,
    name: &str,
    color: &str,
) -> Result<String, sqlx::Error> {
    let id = new_id();
    crate::db::sql::query("INSERT INTO roles (id, name, color) VALUES ($1, $2, $3)")
        .bind(&id)
        .bind(name)
        .bind(color)
        .execute(conn)
        .await?;
    Ok(id)
}

async fn insert_title(
    conn: &mut PgConnection,
    name: &str,
    sort_order: i32,
    department_id: &str,
) -> Result<String, sqlx::Error> {
    let id = new_id();
    crate::db::sql::query(
        "INSERT INTO titles (id, name, sort_order, department_id) VALUES ($1, $2, $3, $4)",
    )
    .bind(&id)
    .bind(name)
    .bind(sort_order)
    .bind(department_id)
    .execute(conn)
    .await?;
    Ok(id)
}

async fn insert_person(
    conn: &mut PgConnection,
    person: NewPerson<'_>,
    now: NaiveDateTime,
) -> Result<String, sqlx::Error> {
    let id = new_id();
    let email = format!(
        "{}.{}@acme.dev",
        person.first_name.to_lowercase(),
        person.last_name.to_lowercase()
    );
    crate::db::sql::query(
        "INSERT INTO people (id, first_name, last_name, callsign, email, github_username, \
         clerk_user_id, manager_id, role_id, title_id, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
    )
    .bind(&id)
    .bind(person.first_name)
    .bind(person.last_name)
    .bind(person.callsign)
    .bind(email)
    .bind(person.github_username)
    .bind(person.clerk_user_id)
    .bind(person.manager_id)
    .bind(person.department_id)
    .bind(person.title_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(id)
}

async fn insert_project(
    conn: &mut PgConnection,
    name: &str,
    description: &str,
    github_url: Option<&str>,
    now: NaiveDateTime,
) -> Result<String, sqlx::Error> {
    let id = new_id();
    crate::db::sql::query(
        "INSERT INTO projects (id, name, description, github_url, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $5)",
    )
    .bind(&id)
    .bind(name)
    .bind(description)
    .bind(github_url)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(id)
}

async fn insert_team(
    conn: &mut PgConnection,
    project_id: &str,
    name: &str,
    description: &str,
) -> Result<String, sqlx::Error> {
    let id = new_id();
    crate::db::sql::query(
        "INSERT INTO teams (id, name, description, project_id) VALUES ($1, $2, $3, $4)",
    )
    .bind(&id)
    .bind(name)
    .bind(description)
    .bind(project_id)
    .execute(conn)
    .await?;
    Ok(id)
}

/// Adds `person_id` to the project and to each of `team_ids`.
async fn insert_member(
    conn: &mut PgConnection,
    project_id: &str,
    person_id: &str,
    team_ids: &[&str],
) -> Result<(), sqlx::Error> {
    let member_id = new_id();
    crate::db::sql::query(
        "INSERT INTO team_members (id, person_id, project_id) VALUES ($1, $2, $3)",
    )
    .bind(&member_id)
    .bind(person_id)
    .bind(project_id)
    .execute(&mut *conn)
    .await?;
    for team_id in team_ids {
        crate::db::sql::query(
            "INSERT INTO team_memberships (id, team_id, team_member_id) VALUES ($1, $2, $3)",
        )
        .bind(new_id())
        .bind(team_id)
        .bind(&member_id)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Inserts into `milestones` or `quarterly_goals` (same columns, plus `quarter` for goals).
async fn insert_roadmap_item(
    conn: &mut PgConnection,
    item: NewRoadmapItem<'_>,
    now: NaiveDateTime,
) -> Result<String, sqlx::Error> {
    let id = new_id();
    let sql = if item.quarter.is_some() {
        "INSERT INTO quarterly_goals (id, title, description, target_date, status, sort_order, \
         project_id, parent_id, created_at, updated_at, quarter) \
         VALUES ($1, $2, $3, $4, $5::\"RoadmapStatus\", $6, $7, $8, $9, $9, $10)"
    } else {
        "INSERT INTO milestones (id, title, description, target_date, status, sort_order, \
         project_id, parent_id, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5::\"RoadmapStatus\", $6, $7, $8, $9, $9)"
    };
    let mut query = crate::db::sql::query(sql)
        .bind(&id)
        .bind(item.title)
        .bind(item.description)
        .bind(item.target_date)
        .bind(item.status)
        .bind(item.sort_order)
        .bind(item.project_id)
        .bind(item.parent_id)
        .bind(now);
    if let Some(quarter) = item.quarter {
        query = query.bind(quarter);
    }
    query.execute(conn).await?;
    Ok(id)
}

async fn insert_key_result(
    conn: &mut PgConnection,
    parent: KeyResultParent<'_>,
    title: &str,
    (current_value, target_value, unit): (f64, f64, &str),
    status: &str,
    now: NaiveDateTime,
) -> Result<(), sqlx::Error> {
    let (milestone_id, quarterly_goal_id) = match parent {
        KeyResultParent::Milestone(id) => (Some(id), None),
        KeyResultParent::Goal(id) => (None, Some(id)),
    };
    crate::db::sql::query(
        "INSERT INTO key_results (id, title, target_value, current_value, unit, status, \
         sort_order, milestone_id, quarterly_goal_id, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6::\"RoadmapStatus\", 0, $7, $8, $9, $9)",
    )
    .bind(new_id())
    .bind(title)
    .bind(target_value)
    .bind(current_value)
    .bind(unit)
    .bind(status)
    .bind(milestone_id)
    .bind(quarterly_goal_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

enum KeyResultParent<'a> {
    Milestone(&'a str),
    Goal(&'a str),
}

async fn insert_manager_change(
    conn: &mut PgConnection,
    person_id: &str,
    old_manager_id: Option<&str>,
    new_manager_id: &str,
    at: NaiveDateTime,
) -> Result<(), sqlx::Error> {
    crate::db::sql::query(
        "INSERT INTO manager_changes (id, person_id, old_manager_id, new_manager_id, changed_by, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(new_id())
    .bind(person_id)
    .bind(old_manager_id)
    .bind(new_manager_id)
    .bind(DEV_CLERK_USER_ID)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

async fn insert_organisation(
    conn: &mut PgConnection,
    now: NaiveDateTime,
) -> Result<SeedOutcome, sqlx::Error> {
    let days = Duration::days;

    // Departments and titles (titles are ordered globally, most senior first).
    let engineering = insert_department(conn, "Engineering", "#3b82f6").await?;
    let product = insert_department(conn, "Product", "#8b5cf6").await?;
    let design = insert_department(conn, "Design", "#ec4899").await?;
    let data = insert_department(conn, "Data", "#10b981").await?;

    let vp = insert_title(conn, "VP of Engineering", 0, &engineering).await?;
    let director = insert_title(conn, "Director of Engineering", 1, &engineering).await?;
    let manager = insert_title(conn, "Engineering Manager", 2, &engineering).await?;
    let staff = insert_title(conn, "Staff Engineer", 3, &engineering).await?;
    let senior = insert_title(conn, "Senior Software Engineer", 4, &engineering).await?;
    let engineer = insert_title(conn, "Software Engineer", 5, &engineering).await?;
    let pm = insert_title(conn, "Senior Product Manager", 6, &product).await?;
    let designer = insert_title(conn, "Product Designer", 7, &design).await?;
    let data_engineer = insert_title(conn, "Data Engineer", 8, &data).await?;

    // People: VP -> directors -> managers -> individual contributors.
    let person = |first_name, last_name, manager_id, department_id, title_id| NewPerson {
        first_name,
        last_name,
        callsign: None,
        github_username: None,
        clerk_user_id: None,
        manager_id,
        department_id,
        title_id,
    };
    let ava = NewPerson {
        github_username: Some("avathompson"),
        clerk_user_id: Some(DEV_CLERK_USER_ID),
        ..person("Ava", "Thompson", None, &engineering, &vp)
    };
    let ava = insert_person(conn, ava, now).await?;
    let marcus = NewPerson {
        github_username: Some("mchen"),
        ..person("Marcus", "Chen", Some(&ava), &engineering, &director)
    };
    let marcus = insert_person(conn, marcus, now).await?;
    let priya = person("Priya", "Patel", Some(&ava), &engineering, &director);
    let priya = insert_person(conn, priya, now).await?;
    let diego = NewPerson {
        github_username: Some("dalvarez"),
        ..person("Diego", "Alvarez", Some(&marcus), &engineering, &manager)
    };
    let diego = insert_person(conn, diego, now).await?;
    let hannah = person("Hannah", "Okafor", Some(&priya), &engineering, &manager);
    let hannah = insert_person(conn, hannah, now).await?;
    let sam = NewPerson {
        github_username: Some("srivera"),
        ..person("Sam", "Rivera", Some(&diego), &engineering, &senior)
    };
    let sam = insert_person(conn, sam, now).await?;
    let lena = NewPerson {
        github_username: Some("lfischer"),
        ..person("Lena", "Fischer", Some(&diego), &engineering, &engineer)
    };
    let lena = insert_person(conn, lena, now).await?;
    let tom = NewPerson {
        callsign: Some("Nak"),
        github_username: Some("tnakamura"),
        ..person("Tom", "Nakamura", Some(&hannah), &engineering, &staff)
    };
    let tom = insert_person(conn, tom, now).await?;
    let grace = person("Grace", "Kim", Some(&hannah), &engineering, &engineer);
    let grace = insert_person(conn, grace, now).await?;
    let omar = NewPerson {
        github_username: Some("ohaddad"),
        ..person("Omar", "Haddad", Some(&hannah), &data, &data_engineer)
    };
    let omar = insert_person(conn, omar, now).await?;
    let julia = person("Julia", "Rossi", Some(&priya), &product, &pm);
    let julia = insert_person(conn, julia, now).await?;
    let noah = person("Noah", "Williams", Some(&marcus), &design, &designer);
    let noah = insert_person(conn, noah, now).await?;
    let people = 12;

    insert_manager_change(conn, &lena, None, &diego, now - days(120)).await?;
    insert_manager_change(conn, &grace, Some(&diego), &hannah, now - days(30)).await?;

    // Project 1: a product with a GitHub repository, so the stats sync has something to do.
    let widgets = insert_project(
        conn,
        "Widgets Platform",
        "Public API and web client for the widgets product.",
        Some("https://github.com/acme/widgets"),
        now,
    )
    .await?;
    let core_api = insert_team(conn, &widgets, "Core API", "Public REST API and billing").await?;
    let web = insert_team(conn, &widgets, "Web Client", "Customer-facing web app").await?;
    insert_member(conn, &widgets, &diego, &[&core_api, &web]).await?;
    insert_member(conn, &widgets, &sam, &[&core_api]).await?;
    insert_member(conn, &widgets, &lena, &[&web]).await?;
    insert_member(conn, &widgets, &noah, &[&web]).await?;
    insert_member(conn, &widgets, &julia, &[&core_api]).await?;

    // Project 2: internal, no repository.
    let insights = insert_project(
        conn,
        "Insights Pipeline",
        "Event ingestion and self-serve analytics.",
        None,
        now,
    )
    .await?;
    let ingestion = insert_team(conn, &insights, "Ingestion", "Event collection").await?;
    let analytics = insert_team(conn, &insights, "Analytics", "Dashboards and reports").await?;
    insert_member(conn, &insights, &hannah, &[&ingestion, &analytics]).await?;
    insert_member(conn, &insights, &tom, &[&ingestion]).await?;
    insert_member(conn, &insights, &omar, &[&ingestion]).await?;
    insert_member(conn, &insights, &grace, &[&analytics]).await?;
    let projects = 2;

    // Roadmap: a milestone with a child, a second milestone, one goal per project.
    let beta = NewRoadmapItem {
        title: "Public beta",
        description: "Open the API to the first external customers.",
        target_date: now + days(45),
        status: "IN_PROGRESS",
        ..roadmap_item(&widgets, now)
    };
    let beta = insert_roadmap_item(conn, beta, now).await?;
    let quotas = NewRoadmapItem {
        title: "Rate limiting and quotas",
        description: "Per-customer quotas enforced at the edge.",
        target_date: now + days(30),
        status: "NOT_STARTED",
        parent_id: Some(&beta),
        ..roadmap_item(&widgets, now)
    };
    let quotas = insert_roadmap_item(conn, quotas, now).await?;
    let ga = NewRoadmapItem {
        title: "General availability",
        description: "SLA, pricing page and support rota in place.",
        target_date: now + days(120),
        status: "NOT_STARTED",
        sort_order: 1,
        ..roadmap_item(&widgets, now)
    };
    insert_roadmap_item(conn, ga, now).await?;
    let latency = NewRoadmapItem {
        title: "Reduce p95 latency below 200 ms",
        description: "Cache hot reads and remove N+1 queries.",
        quarter: Some("Q1 2026"),
        status: "IN_PROGRESS",
        ..roadmap_item(&widgets, now)
    };
    let latency = insert_roadmap_item(conn, latency, now).await?;
    let dashboards = NewRoadmapItem {
        title: "Ship self-serve dashboards",
        description: "Teams build their own reports without a data ticket.",
        quarter: Some("Q2 2026"),
        target_date: now + days(150),
        status: "AT_RISK",
        ..roadmap_item(&insights, now)
    };
    let dashboards = insert_roadmap_item(conn, dashboards, now).await?;

    for (milestone_id, person_id) in [(&beta, &sam), (&beta, &diego), (&quotas, &lena)] {
        crate::db::sql::query(
            "INSERT INTO milestone_assignments (id, milestone_id, person_id) VALUES ($1, $2, $3)",
        )
        .bind(new_id())
        .bind(milestone_id)
        .bind(person_id)
        .execute(&mut *conn)
        .await?;
    }
    for (goal_id, person_id) in [(&latency, &sam), (&dashboards, &tom), (&dashboards, &grace)] {
        crate::db::sql::query(
            "INSERT INTO quarterly_goal_assignments (id, quarterly_goal_id, person_id) \
             VALUES ($1, $2, $3)",
        )
        .bind(new_id())
        .bind(goal_id)
        .bind(person_id)
        .execute(&mut *conn)
        .await?;
    }
    insert_key_result(
        conn,
        KeyResultParent::Milestone(&beta),
        "Beta customers onboarded",
        (4.0, 10.0, "customers"),
        "IN_PROGRESS",
        now,
    )
    .await?;
    insert_key_result(
        conn,
        KeyResultParent::Goal(&latency),
        "p95 latency",
        (340.0, 200.0, "ms"),
        "AT_RISK",
        now,
    )
    .await?;

    for (project_id, label, url) in [
        (
            &widgets,
            "Design doc",
            "https://docs.acme.dev/widgets/design",
        ),
        (&widgets, "Runbook", "https://docs.acme.dev/widgets/runbook"),
        (&insights, "Dashboards", "https://insights.acme.dev"),
    ] {
        crate::db::sql::query(
            "INSERT INTO project_links (id, label, url, project_id) VALUES ($1, $2, $3, $4)",
        )
        .bind(new_id())
        .bind(label)
        .bind(url)
        .bind(project_id)
        .execute(&mut *conn)
        .await?;
    }

    crate::db::sql::query(
        "INSERT INTO health_assessments (id, project_id, author_id, overall_status, overall_notes, \
         growth_status, growth_notes, engineering_vibe_status, created_at, updated_at) \
         VALUES ($1, $2, $3, 'GREEN', $4, 'YELLOW', $5, 'GREEN', $6, $6)",
    )
    .bind(new_id())
    .bind(&widgets)
    .bind(DEV_CLERK_USER_ID)
    .bind(rich_text(&["Beta on track; two design partners live."]))
    .bind(rich_text(&["Pipeline is thinner than planned for Q2."]))
    .bind(now - days(7))
    .execute(&mut *conn)
    .await?;

    insert_project_health_teams_and_links(conn, now).await?;

    // 1:1s: a template and one meeting the VP had with a director.
    let template_id = new_id();
    crate::db::sql::query(
        "INSERT INTO meeting_templates (id, name, description, content, author_id, created_at, \
         updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(&template_id)
    .bind("Weekly 1:1")
    .bind("Wins, blockers, growth")
    .bind(rich_text(&["Wins:", "Blockers:", "Growth:"]))
    .bind(DEV_CLERK_USER_ID)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    crate::db::sql::query(
        "INSERT INTO meetings (id, date, content, author_id, person_id, template_id, created_at, \
         updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
    )
    .bind(new_id())
    .bind(now - days(3))
    .bind(rich_text(&[
        "Wins: beta launch plan approved.",
        "Blockers: hiring for the Web Client team.",
        "Growth: Marcus to run the next planning cycle.",
    ]))
    .bind(DEV_CLERK_USER_ID)
    .bind(&marcus)
    .bind(&template_id)
    .bind(now - days(3))
    .execute(&mut *conn)
    .await?;

    crate::db::sql::query(
        "INSERT INTO person_comments (id, content, person_id, author_id, author_person_id, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(new_id())
    .bind("Led the beta API review; great written proposals.")
    .bind(&sam)
    .bind(DEV_CLERK_USER_ID)
    .bind(&ava)
    .bind(now - days(1))
    .execute(&mut *conn)
    .await?;

    Ok(SeedOutcome::Seeded { people, projects })
}

/// Defaults shared by the seeded roadmap items; each item overrides what differs.
fn roadmap_item(project_id: &str, now: NaiveDateTime) -> NewRoadmapItem<'_> {
    NewRoadmapItem {
        title: "",
        description: "",
        quarter: None,
        target_date: now + Duration::days(90),
        status: "NOT_STARTED",
        sort_order: 0,
        project_id,
        parent_id: None,
    }
}

/// The project pages' health history, extra live teams and links: for each
/// seeded project (found by name) a quarterly health-assessment history with
/// every dimension filled in, a third team made of existing members, and its
/// usual links. Set-based: a handful of statements whatever the data.
async fn insert_project_health_teams_and_links(
    conn: &mut PgConnection,
    now: NaiveDateTime,
) -> Result<(), sqlx::Error> {
    let days = Duration::days;
    // (project, team, description, members' last names)
    let teams = [
        (
            "Widgets Platform",
            "Developer Experience",
            "SDKs, docs and the API console",
            &["Rivera", "Williams"][..],
        ),
        (
            "Insights Pipeline",
            "Data Quality",
            "Schemas, contracts and backfills",
            &["Haddad", "Nakamura", "Okafor"][..],
        ),
    ];
    for (project, team, description, members) in teams {
        let team_id = new_id();
        crate::db::sql::query(
            "INSERT INTO teams (id, name, description, project_id)
             SELECT $1, $2, $3, id FROM projects WHERE name = $4",
        )
        .bind(&team_id)
        .bind(team)
        .bind(description)
        .bind(project)
        .execute(&mut *conn)
        .await?;
        let names: Vec<&str> = members.to_vec();
        let ids: Vec<String> = names.iter().map(|_| new_id()).collect();
        crate::db::sql::query(
            "INSERT INTO team_memberships (id, team_id, team_member_id)
             SELECT n.id, $2, tm.id
             FROM UNNEST($1::text[], $3::text[]) AS n(id, last_name)
             JOIN people p ON p.last_name = n.last_name
             JOIN team_members tm ON tm.person_id = p.id
             JOIN projects pr ON pr.id = tm.project_id AND pr.name = $4",
        )
        .bind(&ids)
        .bind(&team_id)
        .bind(&names)
        .bind(project)
        .execute(&mut *conn)
        .await?;
    }

    // Health history: one assessment per quarter, oldest first.
    // (project, days ago, overall, growth, margin, longevity, client, eng, product, design, note)
    let history = [
        (
            "Widgets Platform",
            180,
            "RED",
            "RED",
            "YELLOW",
            "YELLOW",
            "RED",
            "YELLOW",
            "RED",
            "YELLOW",
            "Scope churn after the pricing change; the beta date slipped a quarter.",
        ),
        (
            "Widgets Platform",
            90,
            "YELLOW",
            "YELLOW",
            "YELLOW",
            "GREEN",
            "YELLOW",
            "GREEN",
            "YELLOW",
            "GREEN",
            "New API design settled; first design partner signed.",
        ),
        (
            "Insights Pipeline",
            120,
            "GREEN",
            "GREEN",
            "GREEN",
            "GREEN",
            "GREEN",
            "GREEN",
            "YELLOW",
            "GREEN",
            "Ingestion stable at 40k events/s; dashboards backlog growing.",
        ),
        (
            "Insights Pipeline",
            14,
            "YELLOW",
            "GREEN",
            "YELLOW",
            "YELLOW",
            "YELLOW",
            "RED",
            "YELLOW",
            "GREEN",
            "On-call load is high after the schema migration; two backfills pending.",
        ),
    ];
    for (project, ago, overall, growth, margin, longevity, client, eng, product, design, note) in
        history
    {
        let at = now - days(ago);
        crate::db::sql::query(
            "INSERT INTO health_assessments (id, project_id, author_id, overall_status, overall_notes,
               growth_status, margin_status, longevity_status, client_satisfaction_status,
               engineering_vibe_status, engineering_vibe_notes, product_vibe_status,
               design_vibe_status, created_at, updated_at)
             SELECT $1, id, $2, $3::\"HealthStatus\", $4, $5::\"HealthStatus\", $6::\"HealthStatus\",
               $7::\"HealthStatus\", $8::\"HealthStatus\", $9::\"HealthStatus\", $10,
               $11::\"HealthStatus\", $12::\"HealthStatus\", $13, $13
             FROM projects WHERE name = $14",
        )
        .bind(new_id())
        .bind(DEV_CLERK_USER_ID)
        .bind(overall)
        .bind(rich_text(&[note]))
        .bind(growth)
        .bind(margin)
        .bind(longevity)
        .bind(client)
        .bind(eng)
        .bind(rich_text(&["Retro actions tracked in the team board."]))
        .bind(product)
        .bind(design)
        .bind(at)
        .bind(project)
        .execute(&mut *conn)
        .await?;
    }

    for (project, label, url) in [
        (
            "Widgets Platform",
            "Repository",
            "https://github.com/acme/widgets",
        ),
        (
            "Insights Pipeline",
            "Runbook",
            "https://docs.acme.dev/insights/runbook",
        ),
        (
            "Insights Pipeline",
            "Event schema registry",
            "https://schemas.acme.dev",
        ),
    ] {
        crate::db::sql::query(
            "INSERT INTO project_links (id, label, url, project_id)
             SELECT $1, $2, $3, id FROM projects WHERE name = $4",
        )
        .bind(new_id())
        .bind(label)
        .bind(url)
        .bind(project)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Roadmaps: a two-level roadmap for every seeded project.
// ---------------------------------------------------------------------------

/// One top-level roadmap item of the demo plan, with its children and key results.
struct PlannedItem {
    title: &'static str,
    description: &'static str,
    status: &'static str,
    /// Target date, in days from now.
    due_in_days: i64,
    /// `(title, status, due in days)`.
    children: &'static [(&'static str, &'static str, i64)],
    /// `(title, current value, target value, unit)`.
    key_results: &'static [(&'static str, f64, f64, &'static str)],
}

const MILESTONE_PLAN: &[PlannedItem] = &[
    PlannedItem {
        title: "Discovery complete",
        description: "Interviews and spikes that shape the next release.",
        status: "COMPLETED",
        due_in_days: -20,
        children: &[
            ("User interviews", "COMPLETED", -30),
            ("Technical spike", "COMPLETED", -25),
        ],
        key_results: &[("Interviews held", 12.0, 12.0, "interviews")],
    },
    PlannedItem {
        title: "Release 2.0",
        description: "The next major release, with its hardening work.",
        status: "IN_PROGRESS",
        due_in_days: 75,
        children: &[
            ("Feature freeze", "IN_PROGRESS", 50),
            ("Load test at 3x traffic", "NOT_STARTED", 65),
        ],
        key_results: &[
            ("Test coverage", 72.0, 85.0, "%"),
            ("Open release blockers closed", 5.0, 12.0, "issues"),
        ],
    },
];

const GOAL_PLAN: &[PlannedItem] = &[
    PlannedItem {
        title: "Improve reliability",
        description: "Fewer pages, faster recovery.",
        status: "IN_PROGRESS",
        due_in_days: 40,
        children: &[
            ("Halve paging alerts", "AT_RISK", 30),
            ("Automate failover", "NOT_STARTED", 40),
        ],
        key_results: &[
            ("Uptime", 99.5, 99.9, "%"),
            ("Pages per week under", 9.0, 4.0, "pages"),
        ],
    },
    PlannedItem {
        title: "Grow adoption",
        description: "More teams using the product every week.",
        status: "NOT_STARTED",
        due_in_days: 130,
        children: &[("Self-serve onboarding", "NOT_STARTED", 110)],
        key_results: &[("Weekly active teams", 14.0, 40.0, "teams")],
    },
];

/// `Q3 2026` for a date in July 2026.
fn quarter_of(date: NaiveDateTime) -> String {
    use chrono::Datelike;
    format!("Q{} {}", date.month0() / 3 + 1, date.year())
}

/// Adds [`MILESTONE_PLAN`] and [`GOAL_PLAN`] to every project: top-level
/// items after any existing ones, each with children, key results and
/// assignees taken from the project's members (or, for a project without
/// members, from all people), so the roadmap pages have realistic content.
async fn insert_roadmaps(conn: &mut PgConnection, now: NaiveDateTime) -> Result<(), sqlx::Error> {
    use super::roadmap::{self, ItemFields, MILESTONES, QUARTERLY_GOALS};

    let projects: Vec<String> =
        crate::db::sql::query_scalar("SELECT id FROM projects ORDER BY created_at, id")
            .fetch_all(&mut *conn)
            .await?;
    for project in projects {
        let mut people: Vec<String> = crate::db::sql::query_scalar(
            "SELECT p.id FROM people p JOIN team_members tm ON tm.person_id = p.id
             WHERE tm.project_id = $1 ORDER BY p.last_name, p.id",
        )
        .bind(&project)
        .fetch_all(&mut *conn)
        .await?;
        if people.is_empty() {
            people = crate::db::sql::query_scalar("SELECT id FROM people ORDER BY last_name, id")
                .fetch_all(&mut *conn)
                .await?;
        }
        let mut next_person = people.iter().cycle();
        let mut assignees = |n: usize| -> Vec<String> {
            let mut picked: Vec<String> = next_person.by_ref().take(n).cloned().collect();
            picked.dedup();
            picked
        };
        for (table, plan) in [(&MILESTONES, MILESTONE_PLAN), (&QUARTERLY_GOALS, GOAL_PLAN)] {
            for item in plan {
                let due = now + Duration::days(item.due_in_days);
                let fields = |title: &str, status, due: NaiveDateTime, parent_id| ItemFields {
                    title: title.to_string(),
                    description: Some(item.description.to_string()),
                    quarter: table.has_quarter.then(|| quarter_of(due)),
                    target_date: Some(due),
                    status,
                    parent_id,
                };
                let top = roadmap::insert(
                    conn,
                    table,
                    &project,
                    &fields(item.title, item.status, due, None),
                    None,
                )
                .await?;
                let top_id = top["id"].as_str().unwrap_or_default().to_string();
                roadmap::replace_assignees(conn, table, &top_id, &assignees(2)).await?;
                for &(title, current, target, unit) in item.key_results {
                    let kr = super::key_results::KeyResultFields {
                        title: title.to_string(),
                        target_value: target,
                        current_value: current,
                        unit: Some(unit.to_string()),
                        status: item.status,
                    };
                    super::key_results::insert_capped(conn, table, &top_id, &kr).await?;
                }
                for &(title, status, days) in item.children {
                    let due = now + Duration::days(days);
                    let child = roadmap::insert(
                        conn,
                        table,
                        &project,
                        &fields(title, status, due, Some(top_id.clone())),
                        None,
                    )
                    .await?;
                    let child_id = child["id"].as_str().unwrap_or_default();
                    roadmap::replace_assignees(conn, table, child_id, &assignees(1)).await?;
                }
            }
        }
    }
    Ok(())
}
