//! Departments and titles end to end: every procedure, its errors, and the
//! `departments:all` / `titles:all` cache entries.

use serde_json::{json, Value};

use crate::helpers::{data, error_code, spawn_app, TestApp};

async fn create_department(app: &TestApp, name: &str, color: Option<&str>) -> Value {
    let mut input = json!({"name": name});
    if let Some(c) = color {
        input["color"] = json!(c);
    }
    let (status, body) = app.mutate("department.create", input).await;
    assert_eq!(status, 200, "{body}");
    data(&body).clone()
}

async fn create_title(app: &TestApp, name: &str, department_id: Option<&str>) -> Value {
    let mut input = json!({"name": name});
    if let Some(d) = department_id {
        input["departmentId"] = json!(d);
    }
    let (status, body) = app.mutate("title.create", input).await;
    assert_eq!(status, 200, "{body}");
    data(&body).clone()
}

async fn insert_person(
    app: &TestApp,
    email: &str,
    department_id: Option<&str>,
    title_id: Option<&str>,
) -> String {
    let id = enghub::db::new_id();
    sqlx::query(
        "INSERT INTO people (id, first_name, last_name, email, role_id, title_id, updated_at)
         VALUES ($1, 'Test', 'Person', $2, $3, $4, now())",
    )
    .bind(&id)
    .bind(email)
    .bind(department_id)
    .bind(title_id)
    .execute(&app.db)
    .await
    .unwrap();
    id
}

#[tokio::test]
async fn department_get_all_lists_by_name_with_titles_and_head_count() {
    let app = spawn_app().await;
    let eng = create_department(&app, "Engineering", Some("#0af")).await;
    let design = create_department(&app, "Design", None).await;
    let eng_id = eng["id"].as_str().unwrap();
    let senior = create_title(&app, "Senior Engineer", Some(eng_id)).await;
    let junior = create_title(&app, "Engineer", Some(eng_id)).await;
    insert_person(&app, "a@example.com", Some(eng_id), None).await;
    insert_person(&app, "b@example.com", Some(eng_id), None).await;

    let (status, body) = app.query("department.getAll", None).await;

    assert_eq!(status, 200);
    let list = data(&body).as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["id"], design["id"]);
    assert_eq!(list[0]["titles"], json!([]));
    assert_eq!(list[0]["_count"], json!({"people": 0}));
    assert_eq!(list[1]["name"], "Engineering");
    assert_eq!(list[1]["color"], "#0af");
    assert_eq!(list[1]["_count"], json!({"people": 2}));
    assert_eq!(list[1]["titles"], json!([senior, junior]));
}

#[tokio::test]
async fn department_get_all_is_cached_for_a_day_and_served_from_cache() {
    let app = spawn_app().await;
    create_department(&app, "Engineering", None).await;
    let key = app.key("departments:all");
    assert_eq!(app.redis_get(&key).await, None);

    let (_, first) = app.query("department.getAll", None).await;

    let stored = app.redis_get(&key).await.expect("cached after a read");
    assert_eq!(
        serde_json::from_str::<Value>(&stored).unwrap(),
        *data(&first)
    );
    let ttl = app.redis_ttl(&key).await;
    assert!((86_000..=86_400).contains(&ttl), "ttl {ttl}");

    // A hit is answered from Redis, not Postgres.
    app.redis_set(&key, r#"[{"id":"from-cache"}]"#).await;
    let (_, second) = app.query("department.getAll", None).await;
    assert_eq!(data(&second), &json!([{"id": "from-cache"}]));
}

#[tokio::test]
async fn every_department_and_title_mutation_deletes_both_reference_keys() {
    let app = spawn_app().await;
    let a = create_department(&app, "A", None).await;
    let b = create_department(&app, "B", None).await;
    let t1 = create_title(&app, "T1", None).await;
    let t2 = create_title(&app, "T2", None).await;
    let (a, b) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
    let (t1, t2) = (t1["id"].as_str().unwrap(), t2["id"].as_str().unwrap());
    let c = create_department(&app, "C", None).await;
    let t3 = create_title(&app, "T3", None).await;

    let mutations: Vec<(&str, Value)> = vec![
        ("department.create", json!({"name": "D"})),
        ("department.update", json!({"id": a, "name": "A2"})),
        ("department.merge", json!({"keepId": a, "mergeIds": [b]})),
        ("department.delete", json!({"id": c["id"]})),
        ("title.create", json!({"name": "T4"})),
        ("title.update", json!({"id": t1, "name": "T1b"})),
        ("title.reorder", json!({"ids": [t2, t1]})),
        ("title.merge", json!({"keepId": t1, "mergeIds": [t2]})),
        ("title.delete", json!({"id": t3["id"]})),
    ];
    for (path, input) in mutations {
        app.query("department.getAll", None).await;
        app.query("title.getAll", None).await;
        assert!(app.redis_get(&app.key("departments:all")).await.is_some());
        assert!(app.redis_get(&app.key("titles:all")).await.is_some());

        let (status, body) = app.mutate(path, input).await;

        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(
            app.redis_get(&app.key("departments:all")).await,
            None,
            "{path}"
        );
        assert_eq!(app.redis_get(&app.key("titles:all")).await, None, "{path}");
    }
}

#[tokio::test]
async fn department_create_validates_and_rejects_duplicates_with_conflict() {
    let app = spawn_app().await;
    let (status, body) = app.mutate("department.create", json!({"name": ""})).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error"]["data"]["zodError"]["fieldErrors"]["name"],
        json!(["String must contain at least 1 character(s)"])
    );
    let (status, body) = app.mutate("department.create", json!({"color": 3})).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error"]["data"]["zodError"]["fieldErrors"]["name"],
        json!(["Required"])
    );
    assert_eq!(
        body["error"]["data"]["zodError"]["fieldErrors"]["color"],
        json!(["Expected string, received number"])
    );

    create_department(&app, "Engineering", None).await;
    let (status, body) = app
        .mutate("department.create", json!({"name": "Engineering"}))
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(error_code(&body), "CONFLICT");
    assert!(
        !body.to_string().contains("duplicate key"),
        "no driver text: {body}"
    );
}

#[tokio::test]
async fn department_update_keeps_color_when_absent_and_404s_unknown_ids() {
    let app = spawn_app().await;
    let d = create_department(&app, "Eng", Some("#111")).await;
    let id = d["id"].as_str().unwrap();

    let (status, body) = app
        .mutate(
            "department.update",
            json!({"id": id, "name": "Engineering"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        data(&body),
        &json!({"id": id, "name": "Engineering", "color": "#111"})
    );

    let (_, body) = app
        .mutate(
            "department.update",
            json!({"id": id, "name": "Engineering", "color": ""}),
        )
        .await;
    assert_eq!(data(&body)["color"], "");

    let (status, body) = app
        .mutate("department.update", json!({"id": "nope", "name": "X"}))
        .await;
    assert_eq!(status, 404);
    assert_eq!(error_code(&body), "NOT_FOUND");

    let (status, _) = app
        .mutate("department.update", json!({"id": "", "name": "X"}))
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn department_delete_returns_the_row_and_clears_references() {
    let app = spawn_app().await;
    let d = create_department(&app, "Eng", None).await;
    let id = d["id"].as_str().unwrap();
    let t = create_title(&app, "Engineer", Some(id)).await;
    let person = insert_person(&app, "p@example.com", Some(id), None).await;

    let (status, body) = app.mutate("department.delete", json!({"id": id})).await;

    assert_eq!(status, 200);
    assert_eq!(data(&body), &d);
    let (role,): (Option<String>,) = sqlx::query_as("SELECT role_id FROM people WHERE id = $1")
        .bind(&person)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(role, None);
    let (dept,): (Option<String>,) =
        sqlx::query_as("SELECT department_id FROM titles WHERE id = $1")
            .bind(t["id"].as_str().unwrap())
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(dept, None);

    let (status, _) = app.mutate("department.delete", json!({"id": id})).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn department_merge_moves_people_and_titles_then_deletes_the_rest() {
    let app = spawn_app().await;
    let keep = create_department(&app, "Keep", None).await;
    let gone1 = create_department(&app, "Gone1", None).await;
    let gone2 = create_department(&app, "Gone2", None).await;
    let keep_id = keep["id"].as_str().unwrap();
    let (g1, g2) = (gone1["id"].as_str().unwrap(), gone2["id"].as_str().unwrap());
    let p = insert_person(&app, "p@example.com", Some(g1), None).await;
    let t = create_title(&app, "T", Some(g2)).await;

    let (status, body) = app
        .mutate(
            "department.merge",
            json!({"keepId": keep_id, "mergeIds": [g1, g2]}),
        )
        .await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"result": {}}));
    let (_, list) = app.query("department.getAll", None).await;
    let list = data(&list).as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["_count"]["people"], 1);
    assert_eq!(list[0]["titles"][0]["id"], t["id"]);
    let (role,): (Option<String>,) = sqlx::query_as("SELECT role_id FROM people WHERE id = $1")
        .bind(&p)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(role.as_deref(), Some(keep_id));
}

#[tokio::test]
async fn merging_into_a_survivor_listed_among_the_merged_is_bad_request() {
    let app = spawn_app().await;
    let keep = create_department(&app, "Keep", None).await;
    let keep_id = keep["id"].as_str().unwrap();

    let (status, body) = app
        .mutate(
            "department.merge",
            json!({"keepId": keep_id, "mergeIds": [keep_id]}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["error"]["data"]["zodError"]["fieldErrors"]["mergeIds"],
        json!(["mergeIds must not contain keepId"])
    );
    let (status, _) = app
        .mutate("title.merge", json!({"keepId": "t", "mergeIds": ["t"]}))
        .await;
    assert_eq!(status, 400);
    let (status, _) = app
        .mutate(
            "department.merge",
            json!({"keepId": "missing", "mergeIds": []}),
        )
        .await;
    assert_eq!(status, 404);

    let (_, list) = app.query("department.getAll", None).await;
    assert_eq!(data(&list).as_array().unwrap().len(), 1, "survivor kept");
}

#[tokio::test]
async fn title_get_all_orders_by_sort_order_with_department_and_head_count() {
    let app = spawn_app().await;
    let d = create_department(&app, "Eng", Some("#222")).await;
    let d_id = d["id"].as_str().unwrap();
    let a = create_title(&app, "Zeta", Some(d_id)).await;
    let b = create_title(&app, "Alpha", None).await;
    insert_person(&app, "p@example.com", None, a["id"].as_str()).await;
    assert_eq!(a["sortOrder"], 0);
    assert_eq!(b["sortOrder"], 1);

    let (status, body) = app.query("title.getAll", None).await;

    assert_eq!(status, 200);
    let list = data(&body).as_array().unwrap();
    assert_eq!(list[0]["id"], a["id"]);
    assert_eq!(list[0]["department"], d);
    assert_eq!(list[0]["_count"], json!({"people": 1}));
    assert_eq!(list[1]["department"], Value::Null);
    let ttl = app.redis_ttl(&app.key("titles:all")).await;
    assert!((86_000..=86_400).contains(&ttl), "ttl {ttl}");
}

#[tokio::test]
async fn title_create_rejects_empty_or_unknown_department_ids_as_bad_request() {
    let app = spawn_app().await;
    let (status, body) = app
        .mutate("title.create", json!({"name": "X", "departmentId": ""}))
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"]["data"]["zodError"]["fieldErrors"]["departmentId"].is_array());

    let (status, body) = app
        .mutate(
            "title.create",
            json!({"name": "X", "departmentId": "missing"}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(error_code(&body), "BAD_REQUEST");

    create_title(&app, "X", None).await;
    let (status, _) = app.mutate("title.create", json!({"name": "X"})).await;
    assert_eq!(status, 409);
}

#[tokio::test]
async fn title_update_clears_the_department_when_absent_or_empty() {
    let app = spawn_app().await;
    let d = create_department(&app, "Eng", None).await;
    let t = create_title(&app, "T", d["id"].as_str()).await;
    let id = t["id"].as_str().unwrap();

    let (_, body) = app
        .mutate(
            "title.update",
            json!({"id": id, "name": "T2", "departmentId": d["id"]}),
        )
        .await;
    assert_eq!(data(&body)["departmentId"], d["id"]);
    let (_, body) = app
        .mutate(
            "title.update",
            json!({"id": id, "name": "T2", "departmentId": ""}),
        )
        .await;
    assert_eq!(data(&body)["departmentId"], Value::Null);
    app.mutate(
        "title.update",
        json!({"id": id, "name": "T2", "departmentId": d["id"]}),
    )
    .await;
    let (_, body) = app
        .mutate("title.update", json!({"id": id, "name": "T3"}))
        .await;
    assert_eq!(
        data(&body),
        &json!({"id": id, "name": "T3", "sortOrder": 0, "departmentId": null})
    );

    let (status, _) = app
        .mutate("title.update", json!({"id": "nope", "name": "T"}))
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn title_reorder_sets_positions_and_returns_rows_in_input_order() {
    let app = spawn_app().await;
    let a = create_title(&app, "A", None).await;
    let b = create_title(&app, "B", None).await;
    let c = create_title(&app, "C", None).await;
    let (a, b, c) = (
        a["id"].as_str().unwrap(),
        b["id"].as_str().unwrap(),
        c["id"].as_str().unwrap(),
    );

    let (status, body) = app.mutate("title.reorder", json!({"ids": [c, a]})).await;

    assert_eq!(status, 200, "{body}");
    let rows = data(&body).as_array().unwrap();
    assert_eq!(rows[0]["id"], c);
    assert_eq!(rows[0]["sortOrder"], 0);
    assert_eq!(rows[1]["id"], a);
    assert_eq!(rows[1]["sortOrder"], 1);
    let (_, list) = app.query("title.getAll", None).await;
    let order: Vec<&str> = data(&list)
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        order,
        [c, a, b],
        "b keeps its old sort order 1, after a by name"
    );
}

#[tokio::test]
async fn title_reorder_with_an_unknown_id_applies_nothing() {
    let app = spawn_app().await;
    let a = create_title(&app, "A", None).await;
    let b = create_title(&app, "B", None).await;

    let (status, body) = app
        .mutate(
            "title.reorder",
            json!({"ids": [b["id"], "missing", a["id"]]}),
        )
        .await;

    assert_eq!(status, 404, "{body}");
    let (_, list) = app.query("title.getAll", None).await;
    assert_eq!(data(&list)[0]["id"], a["id"]);
    assert_eq!(data(&list)[0]["sortOrder"], 0);
}

#[tokio::test]
async fn title_delete_and_merge_move_people() {
    let app = spawn_app().await;
    let keep = create_title(&app, "Keep", None).await;
    let gone = create_title(&app, "Gone", None).await;
    let p = insert_person(&app, "p@example.com", None, gone["id"].as_str()).await;

    let (status, body) = app
        .mutate(
            "title.merge",
            json!({"keepId": keep["id"], "mergeIds": [gone["id"]]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"result": {}}));
    let (title,): (Option<String>,) = sqlx::query_as("SELECT title_id FROM people WHERE id = $1")
        .bind(&p)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(title.as_deref(), keep["id"].as_str());

    let (status, body) = app.mutate("title.delete", json!({"id": keep["id"]})).await;
    assert_eq!(status, 200);
    assert_eq!(data(&body), &keep);
    let (title,): (Option<String>,) = sqlx::query_as("SELECT title_id FROM people WHERE id = $1")
        .bind(&p)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(title, None);
    let (status, _) = app.mutate("title.delete", json!({"id": keep["id"]})).await;
    assert_eq!(status, 404);
}
