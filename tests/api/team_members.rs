//! Router `teamMember` end to end: member views, creating and editing the
//! person behind a membership, reporting-line changes (cycle check, history,
//! subtree chains), teams of the project only, the mirror into the active
//! arrangement, and the people/project invalidations.

use serde_json::{json, Value};

use crate::helpers::keys;
use crate::helpers::PERSON_ROW_KEYS;
use crate::helpers::{data, error_code, server_timing_counts, spawn_app, token_for, TestApp};
use crate::helpers::{mark, ok};

async fn exec(app: &TestApp, sql: &str, binds: &[&str]) {
    let mut q = sqlx::query(sql);
    for b in binds {
        q = q.bind(*b);
    }
    q.execute(&app.db).await.unwrap();
}

/// Department `d1`, title `t1`, projects `p1` (teams `core`, `edge`) and
/// `p2` (team `far`).
async fn org(app: &TestApp) {
    exec(
        app,
        "INSERT INTO roles (id, name, color) VALUES ('d1', 'Eng', '#00f')",
        &[],
    )
    .await;
    exec(
        app,
        "INSERT INTO titles (id, name, sort_order, department_id) VALUES ('t1', 'Staff', 1, 'd1')",
        &[],
    )
    .await;
    for (id, name) in [("p1", "Apollo"), ("p2", "Gemini")] {
        exec(
            app,
            "INSERT INTO projects (id, name, updated_at) VALUES ($1, $2, now())",
            &[id, name],
        )
        .await;
    }
    for (id, name, project) in [
        ("core", "Core", "p1"),
        ("edge", "Edge", "p1"),
        ("far", "Far", "p2"),
    ] {
        exec(
            app,
            "INSERT INTO teams (id, name, project_id) VALUES ($1, $2, $3)",
            &[id, name, project],
        )
        .await;
    }
}

fn member(first: &str, last: &str, email: &str) -> Value {
    json!({"projectId": "p1", "firstName": first, "lastName": last, "email": email,
           "departmentId": "d1"})
}

/// [`ok`] as an org admin, for manager changes the access policy leaves to
/// admins (`tests/api/access_policy.rs` covers who else may make them).
async fn ok_as_admin(app: &TestApp, path: &str, input: Value) -> Value {
    let (status, body) = app.mutate_as_admin(path, input).await;
    assert_eq!(status, 200, "{path}: {body}");
    data(&body).clone()
}

/// `(old, new)` of every manager change of `person`, oldest first.
async fn manager_changes(app: &TestApp, person: &str) -> Vec<(Option<String>, Option<String>)> {
    crate::helpers::manager_changes(app, person)
        .await
        .into_iter()
        .map(|(old, new, _)| (old, new))
        .collect()
}

#[tokio::test]
async fn create_makes_the_person_and_member_and_views_show_them_by_last_name() {
    let app = spawn_app().await;
    org(&app).await;
    let boss = app.insert_person("Boss", None, None).await;
    let people_key = mark(&app, "people:all").await;
    let project_key = mark(&app, "project:p1").await;
    let mut zed = member("Zed", "Zulu", "zed@x.io");
    zed["teamIds"] = json!(["core", "", "edge"]);
    zed["managerId"] = json!(boss);
    zed["titleId"] = json!("t1");
    zed["callsign"] = json!("");

    let created = ok(&app, "teamMember.create", zed).await;
    ok(
        &app,
        "teamMember.create",
        member("Amy", "Alpha", "amy@x.io"),
    )
    .await;

    assert_eq!(keys(&created), ["id", "personId", "projectId"]);
    assert_eq!(created["projectId"], "p1");
    let person = created["personId"].as_str().unwrap();
    assert_eq!(
        manager_changes(&app, person).await,
        vec![(None, Some(boss.clone()))]
    );
    assert_eq!(app.redis_get(&people_key).await, None);
    assert_eq!(app.redis_get(&project_key).await, None);

    let (_, list) = app
        .query(
            "teamMember.getByProjectId",
            Some(json!({"projectId": "p1"})),
        )
        .await;
    let list = data(&list).as_array().unwrap();
    let last: Vec<&str> = list
        .iter()
        .map(|m| m["person"]["lastName"].as_str().unwrap())
        .collect();
    assert_eq!(last, ["Alpha", "Zulu"]);
    let view = &list[1];
    assert_eq!(
        keys(view),
        ["id", "personId", "projectId", "person", "teamMemberships"]
    );
    let p = &view["person"];
    assert_eq!(
        keys(p),
        [&PERSON_ROW_KEYS[..], &["manager", "department", "title"]].concat()
    );
    assert_eq!(p["callsign"], Value::Null);
    // Dates of the person fragment are ISO strings (`db::time`), not epoch numbers.
    for key in ["createdAt", "updatedAt"] {
        let text = p[key].as_str().unwrap_or_default();
        assert_eq!(
            enghub::db::time::parse(text).map(|t| enghub::db::time::to_iso(&t)),
            Some(text.to_string()),
            "{key}: {}",
            p[key]
        );
    }
    assert_eq!(
        p["manager"],
        json!({"id": boss, "firstName": "Boss", "lastName": "Test", "callsign": null, "imageUrl": null})
    );
    assert_eq!(
        p["department"],
        json!({"id": "d1", "name": "Eng", "color": "#00f"})
    );
    assert_eq!(p["title"]["department"]["id"], "d1");
    let teams: Vec<&str> = view["teamMemberships"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["team"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(teams, ["Core", "Edge"]);
    assert_eq!(
        keys(&view["teamMemberships"][0]),
        ["id", "teamId", "teamMemberId", "team"]
    );

    let (_, tree) = app
        .query("teamMember.getOrgTree", Some(json!({"projectId": "p1"})))
        .await;
    assert_eq!(
        keys(&data(&tree)[1]),
        ["id", "personId", "projectId", "person"]
    );
    let (_, one) = app
        .query("teamMember.getById", Some(json!({"id": created["id"]})))
        .await;
    assert_eq!(data(&one), view);
    let (status, none) = app
        .query("teamMember.getById", Some(json!({"id": "zz"})))
        .await;
    assert_eq!((status, data(&none)), (200, &Value::Null));
}

#[tokio::test]
async fn create_for_an_existing_person_keeps_its_fields_and_only_applies_a_new_manager() {
    let app = spawn_app().await;
    org(&app).await;
    // `Top` moves its own report (the reporting-line policy, issue 11).
    let top = app.insert_person("Top", None, Some("user_top")).await;
    let existing = app.insert_person("Old", Some(&top), None).await;
    let report = app.insert_person("Rep", Some(&existing), None).await;
    let new_boss = app.insert_person("New", None, None).await;
    let (email,): (String,) = sqlx::query_as("SELECT email FROM people WHERE id = $1")
        .bind(&existing)
        .fetch_one(&app.db)
        .await
        .unwrap();
    let chains = [
        mark(&app, &format!("mgmt-chain:{existing}")).await,
        mark(&app, &format!("mgmt-chain:{report}")).await,
    ];
    let mut input = member("Renamed", "Ignored", &email);
    input["managerId"] = json!(new_boss);

    let (status, body) = app
        .mutate_as("user_top", "teamMember.create", input.clone())
        .await;
    let (dup, dup_body) = app.mutate_as("user_top", "teamMember.create", input).await;

    assert_eq!(status, 200, "{body}");
    let created = data(&body);
    assert_eq!(created["personId"], json!(existing));
    let (first, manager): (String, Option<String>) =
        sqlx::query_as("SELECT first_name, manager_id FROM people WHERE id = $1")
            .bind(&existing)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(first, "Old", "identity fields are not updated");
    assert_eq!(manager.as_deref(), Some(new_boss.as_str()));
    assert_eq!(
        manager_changes(&app, &existing).await,
        vec![(Some(top.clone()), Some(new_boss.clone()))]
    );
    for key in chains {
        assert_eq!(app.redis_get(&key).await, None, "{key}: the whole subtree");
    }
    assert_eq!((dup, error_code(&dup_body)), (409, "CONFLICT"));
}

#[tokio::test]
async fn create_refuses_other_projects_teams_cycles_and_empty_ids_writing_nothing() {
    let app = spawn_app().await;
    org(&app).await;
    let top = app.insert_person("Top", None, None).await;
    let low = app.insert_person("Low", Some(&top), None).await;
    let (top_email,): (String,) = sqlx::query_as("SELECT email FROM people WHERE id = $1")
        .bind(&top)
        .fetch_one(&app.db)
        .await
        .unwrap();

    let mut foreign = member("A", "B", "a@x.io");
    foreign["teamIds"] = json!(["core", "far", "nope"]);
    let (foreign_status, foreign_body) = app.mutate("teamMember.create", foreign).await;
    let mut cycle = member("Top", "Test", &top_email);
    cycle["managerId"] = json!(low);
    // `Top` has no manager: only an org admin may give it one (issue 11).
    let (cycle_status, cycle_body) = app.mutate_as_admin("teamMember.create", cycle).await;
    let mut empty = member("A", "B", "a@x.io");
    empty["departmentId"] = json!("");
    let (empty_status, empty_body) = app.mutate("teamMember.create", empty).await;
    let mut bad_url = member("A", "B", "a@x.io");
    bad_url["imageUrl"] = json!("not a url");
    bad_url["callsign"] = json!(null);
    let (bad_status, bad_body) = app.mutate("teamMember.create", bad_url).await;

    assert_eq!(foreign_status, 400);
    let issues: Value =
        serde_json::from_str(foreign_body["error"]["message"].as_str().unwrap()).unwrap();
    let paths: Vec<&Value> = issues
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["path"])
        .collect();
    assert_eq!(paths, [&json!(["teamIds", 1]), &json!(["teamIds", 2])]);
    assert_eq!(
        foreign_body["error"]["data"]["zodError"]["fieldErrors"]["teamIds"][0],
        "This team does not belong to the project."
    );
    assert_eq!(cycle_status, 400);
    assert_eq!(
        cycle_body["error"]["message"],
        "Cannot set this manager — it would create a circular reporting chain."
    );
    assert_eq!(empty_status, 400);
    assert_eq!(
        empty_body["error"]["data"]["zodError"]["fieldErrors"]["departmentId"],
        json!(["String must contain at least 1 character(s)"])
    );
    assert_eq!(bad_status, 400);
    let fields = &bad_body["error"]["data"]["zodError"]["fieldErrors"];
    assert_eq!(fields["imageUrl"], json!(["Invalid url"]));
    assert_eq!(
        fields["callsign"],
        json!(["Invalid input"]),
        "zod union rule"
    );
    let (members,): (i64,) = sqlx::query_as("SELECT count(*) FROM team_members")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(members, 0);
    assert!(manager_changes(&app, &top).await.is_empty());
    let (people,): (i64,) = sqlx::query_as("SELECT count(*) FROM people")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(people, 2);
}

/// `POST` of one mutation with a bearer token, with its `Server-Timing`
/// counts.
pub(crate) async fn mutate_timed(
    app: &TestApp,
    token: &str,
    path: &str,
    input: Value,
) -> (u16, Value, (u64, u64)) {
    let (status, body, timing) = app.mutate_timed(token, path, input).await;
    (status, body, server_timing_counts(&timing))
}

#[tokio::test]
async fn update_changes_the_manager_with_history_subtree_chains_and_people_views() {
    let app = spawn_app().await;
    org(&app).await;
    let old_boss = app.insert_person("Old", None, Some("user_old")).await;
    let new_boss = app.insert_person("New", None, Some("user_new")).await;
    let mut input = member("Moved", "Person", "moved@x.io");
    input["managerId"] = json!(old_boss);
    let created = ok_as_admin(&app, "teamMember.create", input).await;
    let moved = created["personId"].as_str().unwrap().to_string();
    exec(
        &app,
        "UPDATE people SET clerk_user_id = 'user_moved' WHERE id = $1",
        &[&moved],
    )
    .await;
    let report = app.insert_person("Rep", Some(&moved), None).await;
    let deep = app.insert_person("Deep", Some(&report), None).await;
    let (status, _) = app.query("person.getAll", None).await;
    assert_eq!(status, 200);
    let people_key = app.key("people:all");
    assert!(app.redis_get(&people_key).await.is_some());
    let mut stale = vec![
        mark(&app, "project:p1").await,
        mark(&app, "person-me:user_moved").await,
        mark(&app, "person-me:user_old").await,
        mark(&app, "person-me:user_new").await,
    ];
    for id in [&moved, &report, &deep] {
        stale.push(mark(&app, &format!("mgmt-chain:{id}")).await);
    }
    let bystander = mark(&app, &format!("mgmt-chain:{old_boss}")).await;
    let mut update = member("Moved", "Person", "moved@x.io");
    update["id"] = created["id"].clone();
    update["managerId"] = json!(new_boss);
    update["teamIds"] = json!(["edge"]);

    // As the current manager (`Old`), whom the reporting-line policy allows.
    let (status, body, (_, statements)) =
        mutate_timed(&app, &token_for("user_old"), "teamMember.update", update).await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(data(&body), &created, "returns Row(TeamMember)");
    println!("teamMember.update with a manager change: {statements} Postgres statements");
    assert!(statements <= 20, "{statements} statements");
    assert_eq!(
        manager_changes(&app, &moved).await,
        vec![
            (None, Some(old_boss.clone())),
            (Some(old_boss.clone()), Some(new_boss.clone()))
        ]
    );
    assert_eq!(app.redis_get(&people_key).await, None);
    for key in stale {
        assert_eq!(app.redis_get(&key).await, None, "{key}");
    }
    assert!(app.redis_get(&bystander).await.is_some());
    let (_, people) = app.query("person.getAll", None).await;
    let row = data(&people)
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == json!(moved))
        .unwrap()
        .clone();
    assert_eq!(row["managerId"], json!(new_boss), "the next read changed");
    assert_eq!(
        row["projectMemberships"][0]["teamMemberships"][0]["teamId"],
        "edge"
    );

    // A loop through the moved person's report is refused, nothing written.
    let mut cycle = member("Moved", "Person", "moved@x.io");
    cycle["id"] = created["id"].clone();
    cycle["managerId"] = json!(deep);
    let (status, body) = app.mutate_as("user_new", "teamMember.update", cycle).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["error"]["message"],
        "Cannot set this manager — it would create a circular reporting chain."
    );
    assert_eq!(manager_changes(&app, &moved).await.len(), 2);

    // Omitting the manager removes it (as in the original), recorded too.
    let mut removed = member("Moved", "Person", "moved@x.io");
    removed["id"] = created["id"].clone();
    let (status, body) = app
        .mutate_as("user_new", "teamMember.update", removed)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        manager_changes(&app, &moved).await.last().unwrap(),
        &(Some(new_boss.clone()), None)
    );
    let (missing, missing_body) = app
        .mutate(
            "teamMember.update",
            json!({"id": "zz", "firstName": "A", "lastName": "B", "email": "a@x.io", "departmentId": "d1"}),
        )
        .await;
    assert_eq!((missing, error_code(&missing_body)), (404, "NOT_FOUND"));
}

async fn arrangement_state(app: &TestApp) -> Vec<(String, i32, Option<String>, i64)> {
    sqlx::query_as(
        "SELECT at.name, at.sort_order, at.live_team_id,
                (SELECT count(*) FROM arrangement_assignments aa WHERE aa.arrangement_team_id = at.id)
         FROM arrangement_teams at JOIN team_arrangements ta ON ta.id = at.arrangement_id
         WHERE ta.is_active ORDER BY at.sort_order",
    )
    .fetch_all(&app.db)
    .await
    .unwrap()
}

#[tokio::test]
async fn member_mutations_mirror_live_teams_into_the_active_arrangement() {
    let app = spawn_app().await;
    org(&app).await;
    exec(
        &app,
        "INSERT INTO team_arrangements (id, name, is_active, project_id, updated_at)
         VALUES ('active', 'Now', true, 'p1', now()), ('draft', 'Draft', false, 'p1', now())",
        &[],
    )
    .await;
    exec(
        &app,
        "INSERT INTO arrangement_teams (id, name, arrangement_id, sort_order, live_team_id)
         VALUES ('custom', 'Custom order', 'active', 0, 'edge'), ('d', 'Draft team', 'draft', 0, NULL)",
        &[],
    )
    .await;
    let mut input = member("A", "B", "a@x.io");
    input["teamIds"] = json!(["core", "edge"]);

    let created = ok(&app, "teamMember.create", input).await;
    let after_create = arrangement_state(&app).await;
    let mut update = member("A", "B", "a@x.io");
    update["id"] = created["id"].clone();
    update["teamIds"] = json!(["edge"]);
    ok(&app, "teamMember.update", update).await;
    let after_update = arrangement_state(&app).await;
    let people_key = mark(&app, "people:all").await;
    let deleted = ok(&app, "teamMember.delete", json!({"id": created["id"]})).await;
    let after_delete = arrangement_state(&app).await;

    let row = |name: &str, order: i32, live: &str, n: i64| {
        (name.to_string(), order, Some(live.to_string()), n)
    };
    // The arrangement team of "edge" keeps its custom place (renamed to
    // the live name); "core" is appended after it.
    assert_eq!(
        after_create,
        [row("Edge", 0, "edge", 1), row("Core", 1, "core", 1)]
    );
    assert_eq!(
        after_update,
        [row("Edge", 0, "edge", 1), row("Core", 1, "core", 0)]
    );
    assert_eq!(
        after_delete,
        [row("Edge", 0, "edge", 0), row("Core", 1, "core", 0)]
    );
    let (custom,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM arrangement_teams WHERE id = 'custom'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(custom, 1, "the arrangement team keeps its id");
    let (draft_teams,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM arrangement_teams WHERE arrangement_id = 'draft'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(draft_teams, 1, "drafts are left alone");
    assert_eq!(deleted, created);
    assert_eq!(app.redis_get(&people_key).await, None);
    let (people,): (i64,) = sqlx::query_as("SELECT count(*) FROM people")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(people, 1, "the person is kept");
    let (missing, body) = app
        .mutate("teamMember.delete", json!({"id": created["id"]}))
        .await;
    assert_eq!((missing, error_code(&body)), (404, "NOT_FOUND"));
}

#[tokio::test]
async fn update_to_another_persons_email_is_conflict_and_writes_nothing() {
    let app = spawn_app().await;
    org(&app).await;
    let first = ok(&app, "teamMember.create", member("A", "One", "one@x.io")).await;
    ok(&app, "teamMember.create", member("B", "Two", "two@x.io")).await;
    let mut update = member("A", "Renamed", "two@x.io");
    update["id"] = first["id"].clone();
    update["teamIds"] = json!(["core"]);

    let (status, body) = app.mutate("teamMember.update", update).await;

    assert_eq!((status, error_code(&body)), (409, "CONFLICT"));
    let (last,): (String,) = sqlx::query_as("SELECT last_name FROM people WHERE id = $1")
        .bind(first["personId"].as_str().unwrap())
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(last, "One");
    let (memberships,): (i64,) = sqlx::query_as("SELECT count(*) FROM team_memberships")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(memberships, 0);
}
