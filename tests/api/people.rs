//! Router `person` end to end: shapes, ordering, validation, errors, manager
//! history, claiming, project membership and every cache read and
//! invalidation (`people:all`, `person-me:*`, `clerk-person:*`, `mgmt-chain:*`).

use serde_json::{json, Value};

use crate::helpers::keys;
use crate::helpers::manager_changes;
use crate::helpers::mark;
use crate::helpers::PERSON_ROW_KEYS;
use crate::helpers::{data, error_code, spawn_app, TestApp, USER};

fn input(first: &str, email: &str) -> Value {
    json!({"firstName": first, "lastName": "Test", "email": email})
}

async fn create(app: &TestApp, body: Value) -> Value {
    let (status, res) = app.mutate("person.create", body).await;
    assert_eq!(status, 200, "{res}");
    data(&res).clone()
}

#[tokio::test]
async fn create_returns_the_row_with_empty_optionals_as_null() {
    let app = spawn_app().await;

    let person = create(
        &app,
        json!({"firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com",
               "callsign": "", "githubUsername": "ada", "imageUrl": "",
               "managerId": "", "departmentId": "", "titleId": ""}),
    )
    .await;

    let keys = keys(&person);
    assert_eq!(keys, PERSON_ROW_KEYS);
    assert_eq!(person["callsign"], Value::Null);
    assert_eq!(person["githubUsername"], "ada");
    assert_eq!(person["managerId"], Value::Null);
    assert!(person["createdAt"].as_str().unwrap().ends_with('Z'));
    assert!(manager_changes(&app, person["id"].as_str().unwrap())
        .await
        .is_empty());
}

#[tokio::test]
async fn create_with_a_manager_records_the_change_in_the_same_transaction() {
    let app = spawn_app().await;
    let boss = app.insert_person("Boss", None, Some("user_boss")).await;
    let people_key = mark(&app, "people:all").await;
    let boss_me = mark(&app, "person-me:user_boss").await;

    let person = create(
        &app,
        json!({"firstName": "Ann", "lastName": "T", "email": "ann@x.io", "managerId": boss}),
    )
    .await;

    let id = person["id"].as_str().unwrap();
    assert_eq!(
        manager_changes(&app, id).await,
        vec![(None, Some(boss.clone()), USER.to_string())]
    );
    assert_eq!(app.redis_get(&people_key).await, None);
    assert_eq!(
        app.redis_get(&boss_me).await,
        None,
        "the manager's directReports changed"
    );
}

#[tokio::test]
async fn create_and_update_validate_like_zod() {
    let app = spawn_app().await;

    let (status, body) = app
        .mutate(
            "person.create",
            json!({"firstName": "", "email": "not-an-email", "imageUrl": "nope", "callsign": null,
                   "managerId": 5, "githubUsername": false}),
        )
        .await;

    assert_eq!(status, 400);
    let fields = &body["error"]["data"]["zodError"]["fieldErrors"];
    assert_eq!(
        fields["firstName"],
        json!(["String must contain at least 1 character(s)"])
    );
    assert_eq!(fields["lastName"], json!(["Required"]));
    assert_eq!(fields["email"], json!(["Invalid email"]));
    assert_eq!(fields["imageUrl"], json!(["Invalid url"]));
    // `str? | ""` fields are zod unions: a non-string fails both branches.
    for field in ["callsign", "managerId", "githubUsername"] {
        assert_eq!(fields[field], json!(["Invalid input"]), "{field}");
    }
    let issues: Value = serde_json::from_str(body["error"]["message"].as_str().unwrap()).unwrap();
    let callsign = issues
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["path"] == json!(["callsign"]))
        .unwrap();
    assert_eq!(callsign["code"], "invalid_union");
    assert_eq!(callsign["message"], "Invalid input");
    assert_eq!(
        callsign["unionErrors"][0],
        json!({"issues": [{"code": "invalid_type", "expected": "string", "received": "null",
                           "path": ["callsign"], "message": "Expected string, received null"}],
               "name": "ZodError"})
    );
    let (null_image, null_image_body) = app
        .mutate(
            "person.create",
            json!({"firstName": "A", "lastName": "B", "email": "a@b.io", "imageUrl": null}),
        )
        .await;
    assert_eq!(null_image, 400);
    assert_eq!(
        null_image_body["error"]["data"]["zodError"]["fieldErrors"],
        json!({"imageUrl": ["Invalid input"]})
    );
    let (ok, _) = app
        .mutate(
            "person.create",
            json!({"firstName": "A", "lastName": "B", "email": "a@b.io", "imageUrl": "mailto:a@b.io"}),
        )
        .await;
    assert_eq!(ok, 200, "any URL scheme is accepted, as in the original");
}

#[tokio::test]
async fn duplicate_email_is_conflict_and_a_dangling_reference_bad_request() {
    let app = spawn_app().await;
    create(&app, input("A", "dup@x.io")).await;

    let (dup, dup_body) = app.mutate("person.create", input("B", "dup@x.io")).await;
    let mut dangling = input("C", "c@x.io");
    dangling["managerId"] = json!("nobody");
    let (bad, _) = app.mutate("person.create", dangling).await;

    assert_eq!((dup, error_code(&dup_body)), (409, "CONFLICT"));
    assert_eq!(bad, 400);
    let (count,): (i64,) = sqlx::query_as("SELECT count(*) FROM people")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(count, 1);
}

#[tokio::test]
async fn get_all_returns_person_full_by_name_and_is_cached_for_30_minutes() {
    let app = spawn_app().await;
    let boss = app.insert_person("Zed", None, None).await;
    app.insert_person("Amy", Some(&boss), None).await;
    let key = app.key("people:all");

    let (status, body) = app.query("person.getAll", None).await;

    assert_eq!(status, 200);
    let list = data(&body).as_array().unwrap();
    assert_eq!(list[0]["firstName"], "Amy");
    assert_eq!(list[1]["firstName"], "Zed");
    assert_eq!(list[0]["manager"]["id"], json!(boss));
    assert_eq!(list[1]["directReports"][0]["firstName"], "Amy");
    assert!(list[1]["directReports"][0]["email"].is_string());
    for k in ["department", "title"] {
        assert_eq!(list[0][k], Value::Null);
    }
    for k in [
        "projectMemberships",
        "milestoneAssignments",
        "quarterlyGoalAssignments",
    ] {
        assert_eq!(list[0][k], json!([]));
    }
    let stored: Value = serde_json::from_str(&app.redis_get(&key).await.unwrap()).unwrap();
    assert_eq!(&stored, data(&body));
    let ttl = app.redis_ttl(&key).await;
    assert!((1_790..=1_800).contains(&ttl), "ttl {ttl}");
    app.redis_set(&key, r#"[{"id":"from-cache"}]"#).await;
    let (_, cached) = app.query("person.getAll", None).await;
    assert_eq!(data(&cached), &json!([{"id": "from-cache"}]));
}

/// A person with a department, a titled department, a project with a team and
/// milestone/goal assignments.
async fn rich_person(app: &TestApp) -> (String, String, String) {
    let person = app.insert_person("Rich", None, None).await;
    let q = |sql: &'static str| sqlx::query(sql);
    q("INSERT INTO roles (id, name, color) VALUES ('d1', 'Eng', '#0af')")
        .execute(&app.db)
        .await
        .unwrap();
    q("INSERT INTO titles (id, name, sort_order, department_id) VALUES ('t1', 'Staff', 3, 'd1')")
        .execute(&app.db)
        .await
        .unwrap();
    q("INSERT INTO projects (id, name, updated_at) VALUES ('p1', 'Apollo', '2025-01-02 03:04:05.678')")
        .execute(&app.db)
        .await
        .unwrap();
    q("INSERT INTO projects (id, name, updated_at) VALUES ('p2', 'Gemini', now())")
        .execute(&app.db)
        .await
        .unwrap();
    q("INSERT INTO teams (id, name, project_id) VALUES ('team1', 'Core', 'p1')")
        .execute(&app.db)
        .await
        .unwrap();
    q("INSERT INTO teams (id, name, project_id) VALUES ('team2', 'Edge', 'p2')")
        .execute(&app.db)
        .await
        .unwrap();
    q(
        "INSERT INTO milestones (id, title, status, target_date, project_id, updated_at)
       VALUES ('m1', 'Launch', 'IN_PROGRESS', '2026-06-01', 'p1', now())",
    )
    .execute(&app.db)
    .await
    .unwrap();
    q(
        "INSERT INTO quarterly_goals (id, title, quarter, project_id, updated_at)
       VALUES ('g1', 'Grow', 'Q3', 'p1', now())",
    )
    .execute(&app.db)
    .await
    .unwrap();
    sqlx::query("UPDATE people SET role_id = 'd1', title_id = 't1' WHERE id = $1")
        .bind(&person)
        .execute(&app.db)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO milestone_assignments (id, milestone_id, person_id) VALUES ('ma1', 'm1', $1)",
    )
    .bind(&person)
    .execute(&app.db)
    .await
    .unwrap();
    sqlx::query("INSERT INTO quarterly_goal_assignments (id, quarterly_goal_id, person_id) VALUES ('ga1', 'g1', $1)")
        .bind(&person)
        .execute(&app.db)
        .await
        .unwrap();
    (person, "p1".into(), "team1".into())
}

#[tokio::test]
async fn get_by_id_embeds_org_projects_and_assignments() {
    let app = spawn_app().await;
    let (person, project, team) = rich_person(&app).await;
    let (status, body) = app
        .mutate(
            "person.joinProject",
            json!({"personId": person, "projectId": project, "teamIds": [team, ""]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let (status, body) = app
        .query("person.getById", Some(json!({"id": person})))
        .await;

    assert_eq!(status, 200);
    let p = data(&body);
    assert_eq!(
        p["department"],
        json!({"id": "d1", "name": "Eng", "color": "#0af"})
    );
    assert_eq!(
        p["title"],
        json!({"id": "t1", "name": "Staff", "sortOrder": 3, "departmentId": "d1",
               "department": {"id": "d1", "name": "Eng", "color": "#0af"}})
    );
    let membership = &p["projectMemberships"][0];
    assert_eq!(membership["projectId"], "p1");
    assert_eq!(membership["project"]["name"], "Apollo");
    assert_eq!(
        membership["project"]["updatedAt"],
        "2025-01-02T03:04:05.678Z"
    );
    assert_eq!(membership["teamMemberships"][0]["team"]["name"], "Core");
    assert_eq!(
        p["milestoneAssignments"][0]["milestone"],
        json!({"id": "m1", "title": "Launch", "status": "IN_PROGRESS",
               "targetDate": "2026-06-01T00:00:00.000Z", "projectId": "p1",
               "project": {"id": "p1", "name": "Apollo"}})
    );
    assert_eq!(
        p["quarterlyGoalAssignments"][0]["quarterlyGoal"]["quarter"],
        "Q3"
    );
    assert_eq!(
        p["quarterlyGoalAssignments"][0]["quarterlyGoal"]["targetDate"],
        Value::Null
    );

    let (status, missing) = app
        .query("person.getById", Some(json!({"id": "nobody"})))
        .await;
    assert_eq!(status, 200);
    assert_eq!(data(&missing), &Value::Null);
}

#[tokio::test]
async fn list_pages_searches_literally_and_counts() {
    let app = spawn_app().await;
    for (first, last) in [
        ("Ann", "Alpha"),
        ("Bob", "Beta"),
        ("Cy", "Gamma"),
        ("Di_x", "Delta"),
    ] {
        let id = app.insert_person(first, None, None).await;
        // A fixed email: the generated one ends with random id characters,
        // which could contain the search text ("ta") and match a third person.
        sqlx::query("UPDATE people SET last_name = $1, email = $2 WHERE id = $3")
            .bind(last)
            .bind(format!("{}@example.com", first.to_lowercase()))
            .bind(&id)
            .execute(&app.db)
            .await
            .unwrap();
    }

    let (_, page) = app
        .query("person.list", Some(json!({"page": 2, "pageSize": 2})))
        .await;
    let (_, search) = app
        .query("person.list", Some(json!({"search": "TA"})))
        .await;
    let (_, wildcard) = app.query("person.list", Some(json!({"search": "_"}))).await;
    let (bad, bad_body) = app
        .query("person.list", Some(json!({"page": 0, "pageSize": 101})))
        .await;
    let (fraction, _) = app.query("person.list", Some(json!({"page": 1.5}))).await;
    let (small_fraction, small_fraction_body) = app
        .query("person.list", Some(json!({"pageSize": 0.5})))
        .await;
    let (missing, _) = app.query("person.list", None).await;

    let names = |v: &Value| -> Vec<String> {
        data(v)["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["lastName"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(&page), ["Delta", "Gamma"]);
    assert_eq!(data(&page)["totalCount"], 4);
    assert_eq!(names(&search), ["Beta", "Delta"]);
    assert_eq!(data(&search)["totalCount"], 2);
    assert_eq!(names(&wildcard), ["Delta"], "_ matches itself only");
    let item = data(&page)["items"][0].as_object().unwrap();
    assert!(item.contains_key("projectMemberships") && !item.contains_key("manager"));
    assert_eq!(bad, 400);
    let fields = &bad_body["error"]["data"]["zodError"]["fieldErrors"];
    assert_eq!(
        fields["page"],
        json!(["Number must be greater than or equal to 1"])
    );
    assert_eq!(
        fields["pageSize"],
        json!(["Number must be less than or equal to 100"])
    );
    assert_eq!(fraction, 400);
    assert_eq!(small_fraction, 400);
    assert_eq!(
        small_fraction_body["error"]["data"]["zodError"]["fieldErrors"]["pageSize"],
        json!([
            "Expected integer, received float",
            "Number must be greater than or equal to 1"
        ]),
        "zod reports the bound a fraction breaks too"
    );
    assert_eq!(missing, 400, "the input object itself is required");
}

#[tokio::test]
async fn update_overwrites_fields_and_omitting_the_manager_removes_it() {
    let app = spawn_app().await;
    // The caller is the boss: it may clear its report's manager.
    let boss = app.insert_person("Boss", None, Some(USER)).await;
    let mut body = input("Ann", "ann@x.io");
    body["managerId"] = json!(boss);
    body["callsign"] = json!("annie");
    let person = create(&app, body).await;
    let id = person["id"].as_str().unwrap();

    let mut update = input("Anna", "anna@x.io");
    update["id"] = json!(id);
    let (status, res) = app.mutate("person.update", update.clone()).await;

    assert_eq!(status, 200, "{res}");
    assert_eq!(data(&res)["firstName"], "Anna");
    assert_eq!(data(&res)["callsign"], Value::Null);
    assert_eq!(data(&res)["managerId"], Value::Null);
    assert!(data(&res)["updatedAt"].as_str() >= person["updatedAt"].as_str());
    assert_eq!(
        manager_changes(&app, id).await,
        vec![
            (None, Some(boss.clone()), USER.to_string()),
            (Some(boss.clone()), None, USER.to_string())
        ]
    );
    // No manager change, no history row.
    app.mutate("person.update", update).await;
    assert_eq!(manager_changes(&app, id).await.len(), 2);
}

#[tokio::test]
async fn update_rejects_cycles_and_unknown_people() {
    let app = spawn_app().await;
    let top = app.insert_person("Top", None, None).await;
    let mid = app.insert_person("Mid", Some(&top), None).await;
    let low = app.insert_person("Low", Some(&mid), None).await;
    let set_manager = |id: &str, manager: &str| {
        let mut v = input("X", &format!("{id}@x.io"));
        v["id"] = json!(id);
        v["managerId"] = json!(manager);
        v
    };

    // Top has no manager: only an org admin may give it one.
    let (loop_status, loop_body) = app
        .mutate_as_admin("person.update", set_manager(&top, &low))
        .await;
    let (self_status, _) = app
        .mutate_as_admin("person.update", set_manager(&mid, &mid))
        .await;
    let (missing, missing_body) = app
        .mutate_as_admin("person.update", set_manager("nobody", &top))
        .await;

    assert_eq!(loop_status, 400);
    assert_eq!(
        loop_body["error"]["message"],
        "Cannot set this manager — it would create a circular reporting chain."
    );
    assert_eq!(self_status, 400);
    assert_eq!((missing, error_code(&missing_body)), (404, "NOT_FOUND"));
    assert!(
        manager_changes(&app, &top).await.is_empty(),
        "nothing written"
    );
}

#[tokio::test]
async fn a_manager_change_invalidates_people_person_me_and_every_chain_below() {
    let app = spawn_app().await;
    let old_boss = app.insert_person("Old", None, Some("user_old")).await;
    let new_boss = app.insert_person("New", None, Some("user_new")).await;
    let moved = app
        .insert_person("Moved", Some(&old_boss), Some("user_moved"))
        .await;
    let report = app
        .insert_person("Report", Some(&moved), Some("user_report"))
        .await;
    let deep = app.insert_person("Deep", Some(&report), None).await;
    let bystander = app.insert_person("By", Some(&old_boss), None).await;
    let mut keys = vec![mark(&app, "people:all").await];
    for uid in ["user_old", "user_new", "user_moved", "user_report"] {
        keys.push(mark(&app, &format!("person-me:{uid}")).await);
    }
    for id in [&moved, &report, &deep] {
        keys.push(mark(&app, &format!("mgmt-chain:{id}")).await);
    }
    let untouched = mark(&app, &format!("mgmt-chain:{bystander}")).await;

    let mut update = input("Moved", "moved@x.io");
    update["id"] = json!(moved);
    update["managerId"] = json!(new_boss);
    // The current manager hands its report over.
    let (status, body) = app.mutate_as("user_old", "person.update", update).await;

    assert_eq!(status, 200, "{body}");
    for key in keys {
        assert_eq!(app.redis_get(&key).await, None, "{key}");
    }
    assert!(app.redis_get(&untouched).await.is_some());
}

#[tokio::test]
async fn delete_unlinks_reports_records_their_changes_and_invalidates_what_it_read_before() {
    let app = spawn_app().await;
    let boss = app.insert_person("Boss", None, Some("user_boss")).await;
    let gone = app
        .insert_person("Gone", Some(&boss), Some("user_gone"))
        .await;
    let report = app.insert_person("Report", Some(&gone), None).await;
    let deep = app.insert_person("Deep", Some(&report), None).await;
    let mut keys = vec![
        mark(&app, "people:all").await,
        mark(&app, "person-me:user_gone").await,
        mark(&app, "person-me:user_boss").await,
        mark(&app, "clerk-person:user_gone").await,
    ];
    for id in [&gone, &report, &deep] {
        keys.push(mark(&app, &format!("mgmt-chain:{id}")).await);
    }

    // Gone's manager deletes it.
    let (status, body) = app
        .mutate_as("user_boss", "person.delete", json!({"id": gone}))
        .await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(data(&body)["id"], json!(gone));
    assert_eq!(data(&body)["clerkUserId"], "user_gone");
    for key in keys {
        assert_eq!(app.redis_get(&key).await, None, "{key}");
    }
    let (manager,): (Option<String>,) =
        sqlx::query_as("SELECT manager_id FROM people WHERE id = $1")
            .bind(&report)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(manager, None);
    // The history row keeps the report; the deleted manager's id is nulled by its FK.
    assert_eq!(
        manager_changes(&app, &report).await,
        vec![(None, None, "user_boss".to_string())]
    );
    let (missing, _) = app
        .mutate_as("user_boss", "person.delete", json!({"id": gone}))
        .await;
    assert_eq!(missing, 404);
}

#[tokio::test]
async fn me_is_null_until_claimed_then_cached_for_an_hour() {
    let app = spawn_app().await;
    let person = app.insert_person("Me", None, None).await;
    let key = app.key(&format!("person-me:{USER}"));

    let (status, body) = app.query("person.me", None).await;
    assert_eq!(status, 200);
    assert_eq!(data(&body), &Value::Null);
    assert_eq!(app.redis_get(&key).await, None, "null is not cached");

    let (status, claimed) = app
        .mutate("person.claimAsMe", json!({"personId": person}))
        .await;
    assert_eq!(status, 200, "{claimed}");
    assert_eq!(data(&claimed)["clerkUserId"], USER);
    let (_, me) = app.query("person.me", None).await;
    assert_eq!(data(&me)["id"], json!(person));
    assert!(data(&me)["directReports"].is_array());
    let ttl = app.redis_ttl(&key).await;
    assert!((3_590..=3_600).contains(&ttl), "ttl {ttl}");
    let mut stored: Value = serde_json::from_str(&app.redis_get(&key).await.unwrap()).unwrap();
    assert_eq!(&stored, data(&me));
    stored["firstName"] = json!("FromCache");
    app.redis_set(&key, &stored.to_string()).await;
    let (_, cached) = app.query("person.me", None).await;
    assert_eq!(data(&cached)["firstName"], "FromCache");
}

#[tokio::test]
async fn claiming_moves_your_claim_in_one_transaction_and_invalidates_your_keys() {
    let app = spawn_app().await;
    let first = app.insert_person("First", None, None).await;
    let second = app.insert_person("Second", None, None).await;
    app.mutate("person.claimAsMe", json!({"personId": first}))
        .await;
    let keys = [
        mark(&app, "people:all").await,
        mark(&app, &format!("person-me:{USER}")).await,
        mark(&app, &format!("clerk-person:{USER}")).await,
    ];

    let (status, body) = app
        .mutate("person.claimAsMe", json!({"personId": second}))
        .await;

    assert_eq!(status, 200, "{body}");
    for key in &keys {
        assert_eq!(app.redis_get(key).await, None, "{key}");
    }
    let claims: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT id, clerk_user_id FROM people ORDER BY first_name")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(
        claims,
        vec![
            (first.clone(), None),
            (second.clone(), Some(USER.to_string()))
        ]
    );
    // Re-claiming your own record is fine.
    let (again, _) = app
        .mutate("person.claimAsMe", json!({"personId": second}))
        .await;
    assert_eq!(again, 200);
}

#[tokio::test]
async fn claiming_someone_elses_record_is_conflict_and_changes_nothing() {
    let app = spawn_app().await;
    let mine = app.insert_person("Mine", None, None).await;
    let theirs = app.insert_person("Theirs", None, Some("user_other")).await;
    app.mutate("person.claimAsMe", json!({"personId": mine}))
        .await;

    let (status, body) = app
        .mutate("person.claimAsMe", json!({"personId": theirs}))
        .await;
    let (missing, _) = app
        .mutate("person.claimAsMe", json!({"personId": "nobody"}))
        .await;

    assert_eq!((status, error_code(&body)), (409, "CONFLICT"));
    assert_eq!(missing, 404);
    let (holder,): (Option<String>,) =
        sqlx::query_as("SELECT clerk_user_id FROM people WHERE id = $1")
            .bind(&theirs)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(holder.as_deref(), Some("user_other"));
    let (_, me) = app.query("person.me", None).await;
    assert_eq!(data(&me)["id"], json!(mine), "the caller kept their claim");
}

#[tokio::test]
async fn unclaim_clears_the_claim_and_invalidates_your_keys() {
    let app = spawn_app().await;
    let person = app.insert_person("Me", None, Some(USER)).await;
    let keys = [
        mark(&app, "people:all").await,
        mark(&app, &format!("person-me:{USER}")).await,
        mark(&app, &format!("clerk-person:{USER}")).await,
    ];

    let (status, body) = app.mutate("person.unclaimMe", json!({})).await;

    assert_eq!(status, 200);
    assert_eq!(body, json!({"result": {}}));
    for key in &keys {
        assert_eq!(app.redis_get(key).await, None, "{key}");
    }
    let (holder,): (Option<String>,) =
        sqlx::query_as("SELECT clerk_user_id FROM people WHERE id = $1")
            .bind(&person)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(holder, None);
}

#[tokio::test]
async fn join_move_and_leave_projects_mirror_the_active_arrangement_and_invalidate() {
    let app = spawn_app().await;
    let (person, _, _) = rich_person(&app).await;
    sqlx::query("UPDATE people SET clerk_user_id = 'user_rich' WHERE id = $1")
        .bind(&person)
        .execute(&app.db)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO team_arrangements (id, name, is_active, project_id, updated_at)
         VALUES ('arr2', 'Live', true, 'p2', now())",
    )
    .execute(&app.db)
    .await
    .unwrap();
    let watched = [
        "people:all",
        "person-me:user_rich",
        "project:p1",
        "project:p2",
    ];
    async fn mark_all(app: &TestApp, keys: &[&str]) -> Vec<String> {
        let mut out = Vec::new();
        for k in keys {
            out.push(mark(app, k).await);
        }
        out
    }

    let keys = mark_all(&app, &watched[..3]).await;
    let (status, joined) = app
        .mutate(
            "person.joinProject",
            json!({"personId": person, "projectId": "p1", "teamIds": ["team1"]}),
        )
        .await;
    assert_eq!(status, 200, "{joined}");
    assert_eq!(data(&joined)["projectId"], "p1");
    for key in &keys {
        assert_eq!(app.redis_get(key).await, None, "join: {key}");
    }
    let (dup, dup_body) = app
        .mutate(
            "person.joinProject",
            json!({"personId": person, "projectId": "p1"}),
        )
        .await;
    assert_eq!((dup, error_code(&dup_body)), (409, "CONFLICT"));

    let keys = mark_all(&app, &watched).await;
    let (status, moved) = app
        .mutate(
            "person.moveToProject",
            json!({"personId": person, "fromProjectId": "p1", "toProjectId": "p2", "teamIds": ["team2"]}),
        )
        .await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(data(&moved)["projectId"], "p2");
    for key in &keys {
        assert_eq!(app.redis_get(key).await, None, "move: {key}");
    }
    // The active arrangement of p2 mirrors its live team with the new member.
    let mirrored: Vec<(String, i32, Option<String>, i64)> = sqlx::query_as(
        "SELECT at.name, at.sort_order, at.live_team_id,
                (SELECT count(*) FROM arrangement_assignments aa WHERE aa.arrangement_team_id = at.id)
         FROM arrangement_teams at WHERE at.arrangement_id = 'arr2'",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(
        mirrored,
        vec![("Edge".to_string(), 0, Some("team2".to_string()), 1)]
    );
    let (not_member, _) = app
        .mutate(
            "person.moveToProject",
            json!({"personId": person, "fromProjectId": "p1", "toProjectId": "p2"}),
        )
        .await;
    assert_eq!(not_member, 404);

    let keys = mark_all(&app, &["people:all", "person-me:user_rich", "project:p2"]).await;
    let (status, left) = app
        .mutate(
            "person.leaveProject",
            json!({"personId": person, "projectId": "p2"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(left, json!({"result": {}}));
    for key in &keys {
        assert_eq!(app.redis_get(key).await, None, "leave: {key}");
    }
    let (assignments,): (i64,) = sqlx::query_as("SELECT count(*) FROM arrangement_assignments")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(assignments, 0);
    let (again, _) = app
        .mutate(
            "person.leaveProject",
            json!({"personId": person, "projectId": "p2"}),
        )
        .await;
    assert_eq!(again, 404);
}

#[tokio::test]
async fn all_thirty_procedures_exist_and_require_a_session() {
    let app = spawn_app().await;
    let registry = enghub::procedures::registry();
    let routers = [
        "person.",
        "managerChange.",
        "meeting.",
        "meetingTemplate.",
        "personComment.",
    ];
    let paths: Vec<&str> = registry
        .paths()
        .into_iter()
        .filter(|p| routers.iter().any(|r| p.starts_with(r)))
        .collect();
    assert_eq!(paths.len(), 30, "{paths:?}");

    for path in paths {
        let procedure = registry.get(path).unwrap();
        let url = format!("{}/api/trpc/{path}", app.base_url);
        let req = match procedure.kind {
            enghub::trpc::Kind::Query => app.http.get(url),
            enghub::trpc::Kind::Mutation => app
                .http
                .post(url)
                .header("content-type", "application/json")
                .body("{}"),
        };
        let (status, body) = app.send(req).await;
        assert_eq!((status, error_code(&body)), (401, "UNAUTHORIZED"), "{path}");
    }
}

#[tokio::test]
async fn two_users_claiming_one_record_at_once_get_one_success_and_one_conflict() {
    let app = spawn_app().await;
    for round in 0..5 {
        let person = app.insert_person(&format!("Up{round}"), None, None).await;
        let input = json!({"personId": person});

        let (a, b) = tokio::join!(
            app.mutate_as("user_a", "person.claimAsMe", input.clone()),
            app.mutate_as("user_b", "person.claimAsMe", input.clone())
        );

        let mut statuses = [a.0, b.0];
        statuses.sort();
        assert_eq!(statuses, [200, 409], "round {round}: {a:?} {b:?}");
        let winner = if a.0 == 200 { "user_a" } else { "user_b" };
        let (holder,): (Option<String>,) =
            sqlx::query_as("SELECT clerk_user_id FROM people WHERE id = $1")
                .bind(&person)
                .fetch_one(&app.db)
                .await
                .unwrap();
        assert_eq!(holder.as_deref(), Some(winner));
        // Free both users for the next round.
        app.mutate_as("user_a", "person.unclaimMe", json!({})).await;
        app.mutate_as("user_b", "person.unclaimMe", json!({})).await;
    }
}

// --- Locking ---------------------------------------------------------------------------

/// Waits until `n` sessions of the test database wait for a lock.
async fn lock_waiters(app: &TestApp, n: i64) {
    for _ in 0..200 {
        let (waiting,): (i64,) = sqlx::query_as(
            "SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .fetch_one(&app.db)
        .await
        .unwrap();
        if waiting >= n {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("{n} sessions never waited for a lock");
}

/// Inserts a person with a chosen id (so tests can fix the id order of rows).
async fn insert_person_with_id(
    app: &TestApp,
    id: &str,
    manager_id: Option<&str>,
    clerk_user_id: Option<&str>,
) {
    sqlx::query(
        "INSERT INTO people (id, first_name, last_name, email, manager_id, clerk_user_id, updated_at)
         VALUES ($1, $1, 'Test', $1 || '@example.com', $2, $3, now())",
    )
    .bind(id)
    .bind(manager_id)
    .bind(clerk_user_id)
    .execute(&app.db)
    .await
    .unwrap();
}

/// Holds a lock that stops `person.delete` at its `manager_changes` insert,
/// after it has locked the rows it writes.
async fn block_manager_changes(app: &TestApp) -> sqlx::Transaction<'static, sqlx::Postgres> {
    let mut blocker = app.db.begin().await.unwrap();
    sqlx::query("LOCK TABLE manager_changes IN SHARE ROW EXCLUSIVE MODE")
        .execute(&mut *blocker)
        .await
        .unwrap();
    blocker
}

#[tokio::test]
async fn claiming_a_report_of_your_record_while_that_record_is_deleted_does_not_deadlock() {
    let app = spawn_app().await;
    // A reports to B, the caller's current record; A sorts before B.
    insert_person_with_id(&app, "b-old-record", None, Some(USER)).await;
    insert_person_with_id(&app, "a-target", Some("b-old-record"), None).await;
    let blocker = block_manager_changes(&app).await;

    // The delete of B locks its rows, then waits at the blocker; the claim of
    // A (which also writes B) starts while the delete holds them.
    // B has reports and no manager: only an org admin may delete it (here
    // the caller, an admin, deletes its own record).
    let (deleted, claimed, ()) = tokio::join!(
        app.mutate_as_admin("person.delete", json!({"id": "b-old-record"})),
        async {
            lock_waiters(&app, 1).await;
            app.mutate("person.claimAsMe", json!({"personId": "a-target"}))
                .await
        },
        async {
            lock_waiters(&app, 2).await;
            blocker.commit().await.unwrap();
        }
    );

    assert_eq!(deleted.0, 200, "{}", deleted.1);
    assert_eq!(claimed.0, 200, "{}", claimed.1);
    let rows: Vec<(String, Option<String>, Option<String>)> =
        sqlx::query_as("SELECT id, manager_id, clerk_user_id FROM people ORDER BY id")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(
        rows,
        vec![("a-target".to_string(), None, Some(USER.to_string()))]
    );
}

#[tokio::test]
async fn a_person_being_deleted_cannot_gain_a_report_meanwhile() {
    let app = spawn_app().await;
    let boss = app.insert_person("Boss", None, None).await;
    app.insert_person("Report", Some(&boss), None).await;
    let blocker = block_manager_changes(&app).await;

    // Boss has a report and no manager: an org admin deletes it.
    let (deleted, late_insert) = tokio::join!(
        app.mutate_as_admin("person.delete", json!({"id": boss})),
        async {
            lock_waiters(&app, 1).await;
            // An insert naming the person as manager, by a path that takes no
            // reporting-lines lock: its FOR KEY SHARE must conflict with the
            // delete's row lock.
            let mut tx = app.db.begin().await.unwrap();
            sqlx::query("SET LOCAL lock_timeout = '300ms'")
                .execute(&mut *tx)
                .await
                .unwrap();
            let res = sqlx::query(
                "INSERT INTO people (id, first_name, last_name, email, manager_id, updated_at)
                 VALUES ('late', 'Late', 'Test', 'late@example.com', $1, now())",
            )
            .bind(&boss)
            .execute(&mut *tx)
            .await;
            let outcome = match res {
                Ok(_) => tx.commit().await.map(|_| ()),
                Err(e) => Err(e),
            };
            blocker.commit().await.unwrap();
            outcome
        }
    );

    let err = late_insert.expect_err("the insert waits for the delete's row lock");
    assert_eq!(
        err.as_database_error().and_then(|e| e.code()).as_deref(),
        Some("55P03"),
        "{err}"
    );
    assert_eq!(deleted.0, 200, "{}", deleted.1);
}

#[tokio::test]
async fn an_update_that_keeps_the_manager_does_not_wait_for_the_reporting_lines_lock() {
    let app = spawn_app().await;
    // The caller is the boss: it may move its report.
    let boss = app.insert_person("Boss", None, Some(USER)).await;
    let other = app.insert_person("Other", None, None).await;
    let person = app.insert_person("Person", Some(&boss), None).await;
    let body = |manager: &str| {
        json!({"id": person, "firstName": "Renamed", "lastName": "Test",
               "email": "renamed@example.com", "managerId": manager})
    };
    let mut holder = app.db.begin().await.unwrap();
    enghub::hierarchy::lock_reporting_lines(&mut holder)
        .await
        .unwrap();

    let same = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        app.mutate("person.update", body(&boss)),
    )
    .await
    .expect("an update keeping the manager does not take the lock");
    assert_eq!(same.0, 200, "{}", same.1);
    assert_eq!(data(&same.1)["firstName"], "Renamed");
    assert!(manager_changes(&app, &person).await.is_empty());

    // A manager change still waits for the lock.
    let (moved, ()) = tokio::join!(app.mutate("person.update", body(&other)), async {
        lock_waiters(&app, 1).await;
        holder.commit().await.unwrap();
    });
    assert_eq!(moved.0, 200, "{}", moved.1);
    assert_eq!(
        manager_changes(&app, &person).await,
        vec![(Some(boss.clone()), Some(other.clone()), USER.to_string())]
    );
}
