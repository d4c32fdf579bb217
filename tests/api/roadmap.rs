//! Routers `milestone`, `quarterlyGoal` and `keyResult` end to end: shapes
//! and orderings of the two-level roadmap, replace semantics, parent checks
//! and cycles, assignees, the key-result cap under concurrency, and every
//! invalidation they cause.

use serde_json::{json, Value};

use crate::helpers::KEY_RESULT_KEYS;
use crate::helpers::{count, mark, ok};
use crate::helpers::{data, error_code, spawn_app, TestApp};
use crate::helpers::{field_errors, keys};

async fn exec(app: &TestApp, sql: &str, binds: &[&str]) {
    let mut q = sqlx::query(sql);
    for b in binds {
        q = q.bind(*b);
    }
    q.execute(&app.db).await.unwrap();
}

/// Projects `p1` (members Ann, Bob) and `p2` (member Cy); returns the people ids.
async fn projects(app: &TestApp) -> (String, String, String) {
    for (id, name) in [("p1", "Apollo"), ("p2", "Gemini")] {
        exec(
            app,
            "INSERT INTO projects (id, name, updated_at) VALUES ($1, $2, now())",
            &[id, name],
        )
        .await;
    }
    let ann = app.insert_person("Ann", None, Some("user_ann")).await;
    let bob = app.insert_person("Bob", None, None).await;
    let cy = app.insert_person("Cy", None, None).await;
    for (person, project) in [(&ann, "p1"), (&bob, "p1"), (&cy, "p2")] {
        exec(
            app,
            "INSERT INTO team_members (id, person_id, project_id) VALUES ($1, $2, $3)",
            &[&enghub::db::new_id(), person, project],
        )
        .await;
    }
    (ann, bob, cy)
}

const MILESTONE_KEYS: [&str; 10] = [
    "id",
    "title",
    "description",
    "targetDate",
    "status",
    "sortOrder",
    "createdAt",
    "updatedAt",
    "projectId",
    "parentId",
];

#[tokio::test]
async fn create_returns_the_row_goes_after_its_siblings_and_invalidates_the_project() {
    let app = spawn_app().await;
    projects(&app).await;
    let project_key = mark(&app, "project:p1").await;
    let list_key = mark(&app, "projects:list").await;

    let first = ok(
        &app,
        "milestone.create",
        json!({"projectId": "p1", "title": "Beta"}),
    )
    .await;
    let second = ok(
        &app,
        "milestone.create",
        json!({"projectId": "p1", "title": "GA", "targetDate": "2026-03-15", "status": "AT_RISK",
               "description": "", "parentId": null}),
    )
    .await;
    let explicit = ok(
        &app,
        "milestone.create",
        json!({"projectId": "p1", "title": "Later", "sortOrder": 7, "parentId": first["id"]}),
    )
    .await;
    let goal = ok(
        &app,
        "quarterlyGoal.create",
        json!({"projectId": "p1", "title": "Grow", "quarter": "Q3 2026"}),
    )
    .await;

    assert_eq!(keys(&first), MILESTONE_KEYS);
    assert_eq!(first["status"], "NOT_STARTED");
    assert_eq!(first["description"], Value::Null);
    assert_eq!(first["targetDate"], Value::Null);
    assert_eq!(first["parentId"], Value::Null);
    assert!(first["createdAt"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        (first["sortOrder"].clone(), second["sortOrder"].clone()),
        (json!(0), json!(1))
    );
    assert_eq!(second["targetDate"], "2026-03-15T00:00:00.000Z");
    assert_eq!(second["description"], "");
    assert_eq!(second["status"], "AT_RISK");
    assert_eq!(explicit["sortOrder"], 7);
    assert_eq!(explicit["parentId"], first["id"]);
    let mut goal_keys = MILESTONE_KEYS.to_vec();
    goal_keys.insert(3, "quarter");
    assert_eq!(keys(&goal), goal_keys);
    assert_eq!(goal["quarter"], "Q3 2026");
    assert_eq!(app.redis_get(&project_key).await, None);
    assert_eq!(app.redis_get(&list_key).await, None);
}

#[tokio::test]
async fn create_rejects_bad_input_and_foreign_parents_writing_nothing() {
    let app = spawn_app().await;
    projects(&app).await;
    let foreign = ok(
        &app,
        "milestone.create",
        json!({"projectId": "p2", "title": "Theirs"}),
    )
    .await;
    let create = |extra: Value| {
        let mut v = json!({"projectId": "p1", "title": "X"});
        for (k, val) in extra.as_object().unwrap() {
            v[k] = val.clone();
        }
        v
    };

    let cases = [
        (json!({"sortOrder": 1.5}), "sortOrder", "Expected integer, received float"),
        (
            json!({"sortOrder": 2_147_483_648_i64}),
            "sortOrder",
            "Number must be less than or equal to 2147483647",
        ),
        (json!({"targetDate": "someday"}), "targetDate", "Invalid date"),
        (
            json!({"status": "DONE"}),
            "status",
            "Invalid enum value. Expected 'NOT_STARTED' | 'IN_PROGRESS' | 'COMPLETED' | 'AT_RISK', received 'DONE'",
        ),
        (
            json!({"parentId": ""}),
            "parentId",
            "String must contain at least 1 character(s)",
        ),
        (
            json!({"projectId": ""}),
            "projectId",
            "String must contain at least 1 character(s)",
        ),
        (json!({"title": ""}), "title", "String must contain at least 1 character(s)"),
        (
            json!({"parentId": foreign["id"]}),
            "parentId",
            "The parent must be a milestone of the same project.",
        ),
        (
            json!({"parentId": "nothing"}),
            "parentId",
            "The parent must be a milestone of the same project.",
        ),
    ];
    for (extra, field, message) in cases {
        let (status, body) = app.mutate("milestone.create", create(extra.clone())).await;
        assert_eq!(status, 400, "{extra}: {body}");
        assert_eq!(field_errors(&body)[field][0], message, "{extra}");
    }
    let (missing, missing_body) = app
        .mutate(
            "milestone.create",
            json!({"projectId": "nope", "title": "X"}),
        )
        .await;

    assert_eq!((missing, error_code(&missing_body)), (404, "NOT_FOUND"));
    assert_eq!(count(&app, "milestones").await, 1, "only the foreign one");
}

#[tokio::test]
async fn concurrent_creates_get_distinct_sort_orders() {
    let app = spawn_app().await;
    projects(&app).await;

    let calls = (0..8).map(|n| {
        app.mutate(
            "milestone.create",
            json!({"projectId": "p1", "title": format!("M{n}")}),
        )
    });
    let results = futures::future::join_all(calls).await;

    let mut orders: Vec<i64> = results
        .iter()
        .map(|(status, body)| {
            assert_eq!(*status, 200, "{body}");
            data(body)["sortOrder"].as_i64().unwrap()
        })
        .collect();
    orders.sort_unstable();
    assert_eq!(orders, (0..8).collect::<Vec<_>>());
}

/// Inserts a milestone straight into Postgres.
async fn milestone(app: &TestApp, id: &str, parent: Option<&str>, sort: i32, date: Option<&str>) {
    sqlx::query(
        "INSERT INTO milestones (id, title, project_id, parent_id, sort_order, target_date, updated_at)
         VALUES ($1, $1, 'p1', $2, $3, $4::timestamp, now())",
    )
    .bind(id)
    .bind(parent)
    .bind(sort)
    .bind(date)
    .execute(&app.db)
    .await
    .unwrap();
}

#[tokio::test]
async fn get_by_project_id_returns_two_levels_ordered_with_assignees_and_key_results() {
    let app = spawn_app().await;
    let (ann, bob, _) = projects(&app).await;
    milestone(&app, "a", None, 1, None).await;
    milestone(&app, "b", None, 0, Some("2026-06-01")).await;
    milestone(&app, "c", None, 0, Some("2026-01-01")).await;
    milestone(&app, "d", None, 0, None).await;
    milestone(&app, "c2", Some("c"), 1, None).await;
    milestone(&app, "c1", Some("c"), 0, None).await;
    milestone(&app, "c1x", Some("c1"), 0, None).await;
    ok(
        &app,
        "milestone.setAssignees",
        json!({"milestoneId": "c", "personIds": [bob, ann]}),
    )
    .await;
    for (title, target) in [("First", 10.0), ("Second", 2.5)] {
        ok(
            &app,
            "keyResult.create",
            json!({"title": title, "targetValue": target, "milestoneId": "c", "unit": "%"}),
        )
        .await;
    }
    ok(
        &app,
        "keyResult.create",
        json!({"title": "Child KR", "targetValue": 1, "milestoneId": "c1"}),
    )
    .await;

    let (status, body) = app
        .query("milestone.getByProjectId", Some(json!({"projectId": "p1"})))
        .await;

    assert_eq!(status, 200);
    let nodes = data(&body).as_array().unwrap();
    let ids: Vec<&str> = nodes.iter().map(|n| n["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        ["c", "b", "d", "a"],
        "sortOrder, then targetDate NULLs last"
    );
    let c = &nodes[0];
    let mut node_keys = MILESTONE_KEYS.to_vec();
    node_keys.extend(["assignments", "keyResults", "children"]);
    assert_eq!(keys(c), node_keys);
    let assignees: Vec<&str> = c["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["person"]["firstName"].as_str().unwrap())
        .collect();
    assert_eq!(assignees, ["Bob", "Ann"], "insertion order");
    assert_eq!(
        keys(&c["assignments"][0]),
        ["id", "milestoneId", "personId", "createdAt", "person"]
    );
    assert_eq!(
        keys(&c["assignments"][0]["person"]),
        ["id", "firstName", "lastName", "imageUrl"]
    );
    let kr = &c["keyResults"][0];
    assert_eq!(keys(kr), KEY_RESULT_KEYS);
    assert_eq!(kr["targetValue"], json!(10), "written as JS writes 10.0");
    assert_eq!(kr["currentValue"], json!(0));
    assert_eq!(c["keyResults"][1]["targetValue"], json!(2.5));
    assert_eq!(c["keyResults"][1]["sortOrder"], 1);
    let children = c["children"].as_array().unwrap();
    let child_ids: Vec<&str> = children.iter().map(|n| n["id"].as_str().unwrap()).collect();
    assert_eq!(child_ids, ["c1", "c2"]);
    let mut child_keys = MILESTONE_KEYS.to_vec();
    child_keys.extend(["assignments", "keyResults"]);
    assert_eq!(keys(&children[0]), child_keys, "no grandchildren");
    assert_eq!(children[0]["keyResults"][0]["title"], "Child KR");

    let (_, one) = app
        .query("milestone.getById", Some(json!({"id": "c1"})))
        .await;
    let mut by_id_keys = node_keys.clone();
    by_id_keys.push("parent");
    assert_eq!(keys(data(&one)), by_id_keys);
    assert_eq!(data(&one)["parent"], json!({"id": "c", "title": "c"}));
    assert_eq!(data(&one)["children"][0]["id"], "c1x");
    let (_, top) = app
        .query("milestone.getById", Some(json!({"id": "a"})))
        .await;
    assert_eq!(data(&top)["parent"], Value::Null);
    let (status, none) = app
        .query("milestone.getById", Some(json!({"id": "zz"})))
        .await;
    assert_eq!((status, data(&none)), (200, &Value::Null));
}

#[tokio::test]
async fn update_replaces_fields_and_refuses_cycles_and_foreign_parents() {
    let app = spawn_app().await;
    projects(&app).await;
    milestone(&app, "top", None, 0, None).await;
    milestone(&app, "mid", Some("top"), 0, None).await;
    milestone(&app, "low", Some("mid"), 0, None).await;
    let theirs = ok(
        &app,
        "milestone.create",
        json!({"projectId": "p2", "title": "Theirs"}),
    )
    .await;
    ok(
        &app,
        "milestone.update",
        json!({"id": "low", "title": "Low", "status": "IN_PROGRESS", "description": "kept",
               "targetDate": "2026-05-01", "parentId": "mid", "sortOrder": 4}),
    )
    .await;
    let update = |id: &str, parent: Value| json!({"id": id, "title": "T", "status": "COMPLETED", "parentId": parent});

    let (cycle, cycle_body) = app
        .mutate("milestone.update", update("top", json!("low")))
        .await;
    let (own, _) = app
        .mutate("milestone.update", update("mid", json!("mid")))
        .await;
    let (foreign, foreign_body) = app
        .mutate("milestone.update", update("mid", theirs["id"].clone()))
        .await;
    let (missing, missing_body) = app
        .mutate("milestone.update", update("nope", json!(null)))
        .await;
    let (missing_with_parent, _) = app
        .mutate("milestone.update", update("nope", json!("top")))
        .await;
    let (no_status, _) = app
        .mutate("milestone.update", json!({"id": "low", "title": "T"}))
        .await;
    let same_parent = ok(&app, "milestone.update", update("mid", json!("top"))).await;
    let cleared = ok(
        &app,
        "milestone.update",
        json!({"id": "low", "title": "L", "status": "NOT_STARTED"}),
    )
    .await;

    assert_eq!(cycle, 400);
    assert_eq!(
        cycle_body["error"]["message"],
        "Cannot set this parent — it would create a circular hierarchy."
    );
    assert_eq!(own, 400, "self-parent is a cycle");
    assert_eq!(foreign, 400);
    assert_eq!(
        field_errors(&foreign_body)["parentId"][0],
        "The parent must be a milestone of the same project."
    );
    assert_eq!((missing, error_code(&missing_body)), (404, "NOT_FOUND"));
    assert_eq!(missing_with_parent, 404);
    assert_eq!(no_status, 400, "status is required on update");
    assert_eq!(same_parent["parentId"], "top");
    assert_eq!(cleared["description"], "kept", "absent description is kept");
    assert_eq!(
        cleared["targetDate"],
        Value::Null,
        "absent targetDate clears it"
    );
    assert_eq!(
        cleared["parentId"],
        Value::Null,
        "absent parentId moves it to the top"
    );
    assert_eq!(cleared["sortOrder"], 0, "absent sortOrder resets it");
    let (top_parent,): (Option<String>,) =
        sqlx::query_as("SELECT parent_id FROM milestones WHERE id = 'top'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(top_parent, None, "nothing written by refused updates");
}

#[tokio::test]
async fn goal_update_keeps_an_absent_quarter_and_shares_the_cycle_check() {
    let app = spawn_app().await;
    projects(&app).await;
    let goal = ok(
        &app,
        "quarterlyGoal.create",
        json!({"projectId": "p1", "title": "G", "quarter": "Q1", "targetDate": 0}),
    )
    .await;
    let id = goal["id"].as_str().unwrap();

    let updated = ok(
        &app,
        "quarterlyGoal.update",
        json!({"id": id, "title": "G2", "status": "IN_PROGRESS"}),
    )
    .await;
    let (own, body) = app
        .mutate(
            "quarterlyGoal.update",
            json!({"id": id, "title": "G2", "status": "IN_PROGRESS", "parentId": id}),
        )
        .await;

    assert_eq!(goal["targetDate"], "1970-01-01T00:00:00.000Z");
    assert_eq!(updated["quarter"], "Q1");
    assert_eq!(updated["title"], "G2");
    assert_eq!(own, 400);
    assert_eq!(
        body["error"]["message"],
        "Cannot set this parent — it would create a circular hierarchy."
    );
    let (_, list) = app
        .query(
            "quarterlyGoal.getByProjectId",
            Some(json!({"projectId": "p1"})),
        )
        .await;
    assert_eq!(data(&list)[0]["quarter"], "Q1");
    assert_eq!(data(&list)[0]["keyResults"], json!([]));
}

#[tokio::test]
async fn set_assignees_replaces_them_accepts_only_project_members_and_invalidates_people() {
    let app = spawn_app().await;
    let (ann, bob, cy) = projects(&app).await;
    milestone(&app, "m", None, 0, None).await;
    let (status, _) = app.query("person.getAll", None).await;
    assert_eq!(status, 200);
    let people_key = app.key("people:all");
    assert!(
        app.redis_get(&people_key).await.is_some(),
        "person.getAll cached"
    );
    let ann_me = mark(&app, "person-me:user_ann").await;
    let project_key = mark(&app, "project:p1").await;

    let (status, body) = app
        .mutate(
            "milestone.setAssignees",
            json!({"milestoneId": "m", "personIds": [ann, bob]}),
        )
        .await;

    assert_eq!(
        (status, &body),
        (200, &json!({"result": {}})),
        "returns nothing"
    );
    assert_eq!(app.redis_get(&people_key).await, None);
    assert_eq!(app.redis_get(&ann_me).await, None);
    assert_eq!(app.redis_get(&project_key).await, None);
    let (_, people) = app.query("person.getAll", None).await;
    let ann_row = data(&people)
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == json!(ann))
        .unwrap();
    assert_eq!(ann_row["milestoneAssignments"][0]["milestone"]["id"], "m");

    let (outsider, outsider_body) = app
        .mutate(
            "milestone.setAssignees",
            json!({"milestoneId": "m", "personIds": [bob, cy]}),
        )
        .await;
    let (twice, twice_body) = app
        .mutate(
            "milestone.setAssignees",
            json!({"milestoneId": "m", "personIds": [bob, bob]}),
        )
        .await;
    let (empty_id, _) = app
        .mutate(
            "milestone.setAssignees",
            json!({"milestoneId": "m", "personIds": [""]}),
        )
        .await;
    let (missing, _) = app
        .mutate(
            "milestone.setAssignees",
            json!({"milestoneId": "zz", "personIds": []}),
        )
        .await;
    assert_eq!(outsider, 400);
    assert_eq!(
        field_errors(&outsider_body)["personIds"],
        json!(["This person is not a member of the project."])
    );
    let issues: Value =
        serde_json::from_str(outsider_body["error"]["message"].as_str().unwrap()).unwrap();
    assert_eq!(issues[0]["path"], json!(["personIds", 1]));
    assert_eq!(twice, 400);
    assert_eq!(
        field_errors(&twice_body)["personIds"],
        json!(["This person is listed twice."])
    );
    assert_eq!((empty_id, missing), (400, 404));
    assert_eq!(count(&app, "milestone_assignments").await, 2, "unchanged");

    ok(
        &app,
        "milestone.setAssignees",
        json!({"milestoneId": "m", "personIds": []}),
    )
    .await;
    assert_eq!(count(&app, "milestone_assignments").await, 0);
    let goal = ok(
        &app,
        "quarterlyGoal.create",
        json!({"projectId": "p1", "title": "G"}),
    )
    .await;
    ok(
        &app,
        "quarterlyGoal.setAssignees",
        json!({"quarterlyGoalId": goal["id"], "personIds": [bob]}),
    )
    .await;
    assert_eq!(count(&app, "quarterly_goal_assignments").await, 1);
}

#[tokio::test]
async fn delete_removes_the_subtree_and_invalidates_people_when_assignments_go() {
    let app = spawn_app().await;
    let (ann, _, _) = projects(&app).await;
    milestone(&app, "top", None, 0, None).await;
    milestone(&app, "child", Some("top"), 0, None).await;
    milestone(&app, "alone", None, 1, None).await;
    ok(
        &app,
        "milestone.setAssignees",
        json!({"milestoneId": "child", "personIds": [ann]}),
    )
    .await;
    ok(
        &app,
        "keyResult.create",
        json!({"title": "K", "targetValue": 3, "milestoneId": "child"}),
    )
    .await;
    let people_key = mark(&app, "people:all").await;
    let ann_me = mark(&app, "person-me:user_ann").await;

    let deleted = ok(&app, "milestone.delete", json!({"id": "top"})).await;

    assert_eq!(keys(&deleted), MILESTONE_KEYS);
    assert_eq!(deleted["id"], "top");
    assert_eq!(count(&app, "milestones").await, 1);
    assert_eq!(count(&app, "key_results").await, 0);
    assert_eq!(count(&app, "milestone_assignments").await, 0);
    assert_eq!(app.redis_get(&people_key).await, None);
    assert_eq!(app.redis_get(&ann_me).await, None);

    let people_key = mark(&app, "people:all").await;
    let project_key = mark(&app, "project:p1").await;
    ok(&app, "milestone.delete", json!({"id": "alone"})).await;
    assert!(
        app.redis_get(&people_key).await.is_some(),
        "no assignments dropped: people:all kept"
    );
    assert_eq!(app.redis_get(&project_key).await, None);
    let (missing, body) = app.mutate("milestone.delete", json!({"id": "alone"})).await;
    assert_eq!((missing, error_code(&body)), (404, "NOT_FOUND"));
}

#[tokio::test]
async fn key_results_are_capped_ordered_and_return_their_parents() {
    let app = spawn_app().await;
    projects(&app).await;
    milestone(&app, "m", None, 0, None).await;
    let goal = ok(
        &app,
        "quarterlyGoal.create",
        json!({"projectId": "p1", "title": "G"}),
    )
    .await;
    let project_key = mark(&app, "project:p1").await;

    let first = ok(
        &app,
        "keyResult.create",
        json!({"title": "K0", "targetValue": 0.5, "currentValue": -1, "unit": "pts",
               "status": "IN_PROGRESS", "milestoneId": "m"}),
    )
    .await;
    assert_eq!(app.redis_get(&project_key).await, None);
    for n in 1..5 {
        ok(
            &app,
            "keyResult.create",
            json!({"title": format!("K{n}"), "targetValue": 1, "milestoneId": "m"}),
        )
        .await;
    }
    let (sixth, sixth_body) = app
        .mutate(
            "keyResult.create",
            json!({"title": "K5", "targetValue": 1, "milestoneId": "m"}),
        )
        .await;
    let on_goal = ok(
        &app,
        "keyResult.create",
        json!({"title": "G0", "targetValue": 2, "quarterlyGoalId": goal["id"]}),
    )
    .await;

    assert_eq!(first["sortOrder"], 0);
    assert_eq!(first["currentValue"], -1);
    assert_eq!(first["unit"], "pts");
    assert_eq!(first["quarterlyGoalId"], Value::Null);
    assert_eq!(sixth, 400);
    assert_eq!(
        sixth_body["error"]["message"],
        "Maximum 5 key results allowed"
    );
    assert_eq!(on_goal["sortOrder"], 0);
    assert_eq!(on_goal["milestoneId"], Value::Null);

    let project_key = mark(&app, "project:p1").await;
    let updated = ok(
        &app,
        "keyResult.update",
        json!({"id": first["id"], "title": "K0'", "targetValue": 4, "currentValue": 3,
               "status": "COMPLETED"}),
    )
    .await;
    assert_eq!(updated["unit"], "pts", "absent unit is kept");
    assert_eq!(updated["targetValue"], 4);
    assert_eq!(updated["milestone"], json!({"projectId": "p1"}));
    assert_eq!(updated["quarterlyGoal"], Value::Null);
    let mut with_parents = keys(&first);
    with_parents.extend(["milestone", "quarterlyGoal"]);
    assert_eq!(keys(&updated), with_parents);
    assert_eq!(app.redis_get(&project_key).await, None);

    let deleted = ok(&app, "keyResult.delete", json!({"id": on_goal["id"]})).await;
    assert_eq!(deleted["quarterlyGoal"], json!({"projectId": "p1"}));
    let (missing, _) = app
        .mutate("keyResult.delete", json!({"id": on_goal["id"]}))
        .await;
    let (missing_update, _) = app
        .mutate(
            "keyResult.update",
            json!({"id": "zz", "title": "T", "targetValue": 1, "currentValue": 0, "status": "AT_RISK"}),
        )
        .await;
    assert_eq!((missing, missing_update), (404, 404));
}

#[tokio::test]
async fn key_result_input_is_validated_like_zod() {
    let app = spawn_app().await;
    projects(&app).await;
    milestone(&app, "m", None, 0, None).await;

    let (none, none_body) = app
        .mutate("keyResult.create", json!({"title": "K", "targetValue": 1}))
        .await;
    let (both, both_body) = app
        .mutate(
            "keyResult.create",
            json!({"title": "K", "targetValue": 1, "milestoneId": "m", "quarterlyGoalId": "g"}),
        )
        .await;
    let (zero, zero_body) = app
        .mutate(
            "keyResult.create",
            json!({"title": "K", "targetValue": 0, "milestoneId": "m"}),
        )
        .await;
    let (empty, empty_body) = app
        .mutate(
            "keyResult.create",
            json!({"title": "K", "targetValue": 1, "milestoneId": "", "quarterlyGoalId": "g"}),
        )
        .await;
    let (unknown, unknown_body) = app
        .mutate(
            "keyResult.create",
            json!({"title": "K", "targetValue": 1, "milestoneId": "zz"}),
        )
        .await;

    let form = |b: &Value| b["error"]["data"]["zodError"]["formErrors"].clone();
    let one = json!(["Exactly one of milestoneId or quarterlyGoalId must be provided"]);
    assert_eq!((none, form(&none_body)), (400, one.clone()));
    assert_eq!((both, form(&both_body)), (400, one));
    assert_eq!(zero, 400);
    assert_eq!(
        field_errors(&zero_body)["targetValue"],
        json!(["Number must be greater than 0"])
    );
    assert_eq!(empty, 400, "an empty id is not written as a foreign key");
    assert_eq!(
        field_errors(&empty_body)["milestoneId"],
        json!(["String must contain at least 1 character(s)"])
    );
    assert_eq!((unknown, error_code(&unknown_body)), (404, "NOT_FOUND"));
    assert_eq!(count(&app, "key_results").await, 0);
}

#[tokio::test]
async fn concurrent_key_result_creates_cannot_pass_the_cap() {
    let app = spawn_app().await;
    projects(&app).await;
    milestone(&app, "m", None, 0, None).await;
    for n in 0..4 {
        ok(
            &app,
            "keyResult.create",
            json!({"title": format!("K{n}"), "targetValue": 1, "milestoneId": "m"}),
        )
        .await;
    }

    let calls = (0..8).map(|n| {
        app.mutate(
            "keyResult.create",
            json!({"title": format!("R{n}"), "targetValue": 1, "milestoneId": "m"}),
        )
    });
    let results = futures::future::join_all(calls).await;

    let statuses: Vec<u16> = results.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 400).count(),
        7,
        "{statuses:?}"
    );
    let orders: Vec<(i32,)> =
        sqlx::query_as("SELECT sort_order FROM key_results ORDER BY sort_order")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(orders, (0..5).map(|n| (n,)).collect::<Vec<_>>());
}

#[tokio::test]
async fn dates_print_like_javascript_in_every_year() {
    let app = spawn_app().await;
    projects(&app).await;

    let mut printed = Vec::new();
    for date in [
        "2026-03-15T10:20:30.045Z",
        "0033-02-01T00:00:00.000Z",
        "-000001-06-15T00:00:00.000Z",
        "+010000-01-01T00:00:00.000Z",
    ] {
        let row = ok(
            &app,
            "milestone.create",
            json!({"projectId": "p1", "title": date, "targetDate": date}),
        )
        .await;
        printed.push((date, row["targetDate"].clone()));
    }
    let (_, list) = app
        .query("milestone.getByProjectId", Some(json!({"projectId": "p1"})))
        .await;

    for (date, row) in &printed {
        assert_eq!(row, date);
    }
    for node in data(&list).as_array().unwrap() {
        assert_eq!(node["targetDate"], node["title"], "views print the same");
    }
}

#[tokio::test]
async fn seeded_projects_have_a_two_level_roadmap_with_assignees_and_key_results() {
    let app = spawn_app().await;
    enghub::db::seed(&app.db).await.unwrap();
    let projects: Vec<String> = sqlx::query_scalar("SELECT id FROM projects")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert!(projects.len() >= 2);

    for project in projects {
        for router in ["milestone", "quarterlyGoal"] {
            let (status, body) = app
                .query(
                    &format!("{router}.getByProjectId"),
                    Some(json!({"projectId": project})),
                )
                .await;
            assert_eq!(status, 200);
            let nodes = data(&body).as_array().unwrap();
            let with_children = nodes
                .iter()
                .filter(|n| !n["children"].as_array().unwrap().is_empty())
                .count();
            let assigned = nodes
                .iter()
                .filter(|n| !n["assignments"].as_array().unwrap().is_empty())
                .count();
            let with_key_results = nodes
                .iter()
                .filter(|n| !n["keyResults"].as_array().unwrap().is_empty())
                .count();
            assert!(with_children >= 2, "{router} of {project}");
            assert!(assigned >= 2, "{router} of {project}");
            assert!(with_key_results >= 2, "{router} of {project}");
            let child =
                &nodes.iter().find(|n| n["children"][0].is_object()).unwrap()["children"][0];
            assert!(!child["assignments"].as_array().unwrap().is_empty());
        }
    }
    let (outsiders,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM milestone_assignments ma JOIN milestones m ON m.id = ma.milestone_id
         WHERE NOT EXISTS (SELECT 1 FROM team_members tm
                           WHERE tm.person_id = ma.person_id AND tm.project_id = m.project_id)",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(outsiders, 0, "seeded assignees are project members");
}

#[tokio::test]
async fn renaming_an_assigned_item_refreshes_the_people_views_that_embed_it() {
    let app = spawn_app().await;
    let (ann, _, _) = projects(&app).await;
    milestone(&app, "m", None, 0, None).await;
    milestone(&app, "free", None, 1, None).await;
    ok(
        &app,
        "milestone.setAssignees",
        json!({"milestoneId": "m", "personIds": [ann]}),
    )
    .await;
    app.query("person.getAll", None).await;
    let people_key = app.key("people:all");
    assert!(app.redis_get(&people_key).await.is_some());
    let ann_me = mark(&app, "person-me:user_ann").await;

    ok(
        &app,
        "milestone.update",
        json!({"id": "m", "title": "Renamed", "status": "COMPLETED"}),
    )
    .await;

    assert_eq!(app.redis_get(&people_key).await, None);
    assert_eq!(app.redis_get(&ann_me).await, None);
    let (_, people) = app.query("person.getAll", None).await;
    let ann_row = data(&people)
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == json!(ann))
        .unwrap()
        .clone();
    assert_eq!(
        ann_row["milestoneAssignments"][0]["milestone"]["title"],
        "Renamed"
    );
    ok(
        &app,
        "milestone.update",
        json!({"id": "free", "title": "Nobody's", "status": "COMPLETED"}),
    )
    .await;
    assert!(
        app.redis_get(&people_key).await.is_some(),
        "an item without assignees leaves people:all alone"
    );
}

#[tokio::test]
async fn the_one_parent_refinement_runs_only_when_zod_would_run_it() {
    let app = spawn_app().await;

    let (_, type_error) = app
        .mutate("keyResult.create", json!({"title": 5, "targetValue": 1}))
        .await;
    let (_, length_error) = app
        .mutate("keyResult.create", json!({"title": "", "targetValue": 1}))
        .await;

    let form = |b: &Value| b["error"]["data"]["zodError"]["formErrors"].clone();
    assert_eq!(
        form(&type_error),
        json!([]),
        "a wrong type aborts the object"
    );
    assert_eq!(
        form(&length_error),
        json!(["Exactly one of milestoneId or quarterlyGoalId must be provided"])
    );
    assert_eq!(
        field_errors(&length_error)["title"],
        json!(["String must contain at least 1 character(s)"])
    );
}

/// Project `{project}` with `n` members, all in its team `{project}-team`,
/// mirrored by an active arrangement, and a milestone `{project}-m`.
async fn project_of_size(app: &TestApp, project: &str, n: i32) {
    let n = n.to_string();
    exec(
        app,
        "INSERT INTO projects (id, name, updated_at) VALUES ($1, $1, now())",
        &[project],
    )
    .await;
    for sql in [
        "INSERT INTO people (id, first_name, last_name, email, updated_at)
         SELECT $1 || '-p' || i, 'P', 'L' || i, $1 || i || '@x.io', now()
         FROM generate_series(1, $2::int) i",
        "INSERT INTO team_members (id, person_id, project_id)
         SELECT $1 || '-tm' || i, $1 || '-p' || i, $1 FROM generate_series(1, $2::int) i",
        "INSERT INTO teams (id, name, project_id) SELECT $1 || '-team', 'Team', $1 WHERE $2 <> ''",
        "INSERT INTO team_memberships (id, team_id, team_member_id)
         SELECT $1 || '-ms' || i, $1 || '-team', $1 || '-tm' || i FROM generate_series(1, $2::int) i",
        "INSERT INTO team_arrangements (id, name, is_active, project_id, updated_at)
         SELECT $1 || '-arr', 'Live', true, $1, now() WHERE $2 <> ''",
        "INSERT INTO milestones (id, title, project_id, updated_at)
         SELECT $1 || '-m', 'M', $1, now() WHERE $2 <> ''",
    ] {
        exec(app, sql, &[project, &n]).await;
    }
}

#[tokio::test]
async fn a_200_member_project_costs_the_same_statements_as_a_2_member_one() {
    let app = spawn_app().await;
    exec(
        &app,
        "INSERT INTO roles (id, name) VALUES ('d1', 'Eng')",
        &[],
    )
    .await;
    let mut costs = Vec::new();
    for (project, n) in [("small", 2), ("large", 200)] {
        project_of_size(&app, project, n).await;
        let everyone: Vec<String> = (1..=n).map(|i| format!("{project}-p{i}")).collect();
        let (status, body, (_, assign)) = crate::team_members::mutate_timed(
            &app,
            &crate::helpers::token_for(crate::helpers::USER),
            "milestone.setAssignees",
            json!({"milestoneId": format!("{project}-m"), "personIds": everyone}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        // `{project}-p1` has no manager, so only an org admin may give it one
        // (issue 11); for an admin the policy costs no statement (the cycle
        // check is the one query it makes, as before).
        let (status, body, (_, member_update)) = crate::team_members::mutate_timed(
            &app,
            &crate::helpers::token_with_role(crate::helpers::USER, "admin"),
            "teamMember.update",
            json!({"id": format!("{project}-tm1"), "firstName": "P", "lastName": "L1",
                   "email": format!("{project}1@x.io"), "departmentId": "d1",
                   "teamIds": [format!("{project}-team")], "managerId": format!("{project}-p2")}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let (_, _, timing) = app
            .query_timed(
                crate::helpers::USER,
                "milestone.getByProjectId",
                Some(json!({"projectId": project})),
            )
            .await;
        let (_, read) = crate::helpers::server_timing_counts(&timing);
        let (assignments,): (i64,) = sqlx::query_as(
            "SELECT count(*) FROM arrangement_assignments aa
             JOIN arrangement_teams at ON at.id = aa.arrangement_team_id
             WHERE at.arrangement_id = $1",
        )
        .bind(format!("{project}-arr"))
        .fetch_one(&app.db)
        .await
        .unwrap();
        assert_eq!(
            assignments,
            i64::from(n),
            "the arrangement mirrors every member"
        );
        println!("{project} ({n} members): setAssignees {assign}, teamMember.update with a manager change {member_update}, milestone.getByProjectId {read} statements");
        costs.push((assign, member_update, read));
    }
    assert_eq!(costs[0], costs[1]);
    assert_eq!(costs[0].2, 1, "one query for the whole roadmap");
}

#[tokio::test]
async fn all_twenty_one_procedures_exist_with_their_kind_and_require_a_session() {
    let app = spawn_app().await;
    let registry = enghub::procedures::registry();
    let routers = ["milestone.", "quarterlyGoal.", "keyResult.", "teamMember."];
    let paths: Vec<&str> = registry
        .paths()
        .into_iter()
        .filter(|p| routers.iter().any(|r| p.starts_with(r)))
        .collect();
    assert_eq!(paths.len(), 21, "{paths:?}");

    for path in paths {
        let procedure = registry.get(path).unwrap();
        let is_query = path.contains(".get");
        assert_eq!(
            procedure.kind == enghub::trpc::Kind::Query,
            is_query,
            "{path}"
        );
        let url = format!("{}/api/trpc/{path}", app.base_url);
        let req = if is_query {
            app.http.get(url)
        } else {
            app.http
                .post(url)
                .header("content-type", "application/json")
                .body("{}")
        };
        let (status, body) = app.send(req).await;
        assert_eq!((status, error_code(&body)), (401, "UNAUTHORIZED"), "{path}");
    }
}
