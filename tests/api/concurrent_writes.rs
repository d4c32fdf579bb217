//! Concurrent writes never answer 500 nor blame valid input (issue 10 §3):
//! multi-row writes lock their rows in one fixed order before checking them,
//! and constraint violations are told in words, without constraint names.

use serde_json::{json, Value};

use crate::helpers::{error_code, spawn_app, TestApp};

async fn insert_department(app: &TestApp, name: &str) -> String {
    let id = enghub::db::new_id();
    sqlx::query("INSERT INTO roles (id, name) VALUES ($1, $2)")
        .bind(&id)
        .bind(name)
        .execute(&app.db)
        .await
        .unwrap();
    id
}

async fn insert_title(app: &TestApp, name: &str, department: Option<&str>) -> String {
    let id = enghub::db::new_id();
    sqlx::query("INSERT INTO titles (id, name, sort_order, department_id) VALUES ($1, $2, 0, $3)")
        .bind(&id)
        .bind(name)
        .bind(department)
        .execute(&app.db)
        .await
        .unwrap();
    id
}

async fn scalar(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.db).await.unwrap()
}

/// Runs `calls` at once, each as its own user (so no rate limit interferes).
async fn all_at_once(app: &TestApp, path: &str, calls: Vec<Value>) -> Vec<(u16, Value)> {
    let futures = calls.into_iter().enumerate().map(|(i, input)| {
        let user = format!("user-concurrent-{i}");
        async move { app.mutate_as(&user, path, input).await }
    });
    futures::future::join_all(futures).await
}

/// Each answer is a success or NOT_FOUND (its survivor was merged away by
/// another call): never a 500, a foreign-key 400 or a deadlock.
fn assert_clean(answers: &[(u16, Value)]) -> usize {
    for (status, body) in answers {
        assert!(
            *status == 200 || (*status == 404 && error_code(body) == "NOT_FOUND"),
            "{status} {body}"
        );
    }
    answers.iter().filter(|(s, _)| *s == 200).count()
}

/// Ten merges over six rows, each overlapping two others.
fn overlapping_merges(ids: &[String]) -> Vec<Value> {
    (0..10)
        .map(|i| {
            let n = ids.len();
            json!({"keepId": ids[i % n], "mergeIds": [ids[(i + 1) % n], ids[(i + 3) % n]]})
        })
        .collect()
}

#[tokio::test]
async fn ten_overlapping_department_merges_all_answer_cleanly_and_leave_consistent_data() {
    let app = spawn_app().await;
    let mut departments = Vec::new();
    for i in 0..6 {
        let d = insert_department(&app, &format!("Dept {i}")).await;
        for j in 0..3 {
            app.insert_person(&format!("P{i}x{j}"), None, None).await;
            sqlx::query("UPDATE people SET role_id = $1 WHERE role_id IS NULL")
                .bind(&d)
                .execute(&app.db)
                .await
                .unwrap();
        }
        insert_title(&app, &format!("Title {i}"), Some(&d)).await;
        departments.push(d);
    }

    let answers = all_at_once(&app, "department.merge", overlapping_merges(&departments)).await;

    assert!(assert_clean(&answers) >= 1, "{answers:?}");
    // Nobody lost a department, and every reference points at a survivor.
    assert_eq!(
        scalar(&app, "SELECT count(*) FROM people WHERE role_id IS NULL").await,
        0
    );
    assert_eq!(
        scalar(
            &app,
            "SELECT count(*) FROM titles WHERE department_id IS NULL"
        )
        .await,
        0
    );
    assert_eq!(scalar(&app, "SELECT count(*) FROM people").await, 18);
    assert!(scalar(&app, "SELECT count(*) FROM roles").await < 6);
}

#[tokio::test]
async fn ten_overlapping_title_merges_all_answer_cleanly_and_leave_consistent_data() {
    let app = spawn_app().await;
    let mut titles = Vec::new();
    for i in 0..6 {
        let t = insert_title(&app, &format!("Title {i}"), None).await;
        for j in 0..3 {
            app.insert_person(&format!("P{i}x{j}"), None, None).await;
            sqlx::query("UPDATE people SET title_id = $1 WHERE title_id IS NULL")
                .bind(&t)
                .execute(&app.db)
                .await
                .unwrap();
        }
        titles.push(t);
    }

    let answers = all_at_once(&app, "title.merge", overlapping_merges(&titles)).await;

    assert!(assert_clean(&answers) >= 1, "{answers:?}");
    assert_eq!(
        scalar(&app, "SELECT count(*) FROM people WHERE title_id IS NULL").await,
        0
    );
    assert_eq!(scalar(&app, "SELECT count(*) FROM people").await, 18);
    assert!(scalar(&app, "SELECT count(*) FROM titles").await < 6);
}

#[tokio::test]
async fn overlapping_reorders_never_deadlock_and_one_wins_whole() {
    let app = spawn_app().await;
    let mut titles = Vec::new();
    for i in 0..6 {
        titles.push(insert_title(&app, &format!("Title {i}"), None).await);
    }
    let mut reversed = titles.clone();
    reversed.reverse();
    let reorders: Vec<Value> = (0..10)
        .map(|i| json!({"ids": if i % 2 == 0 { &titles } else { &reversed }}))
        .collect();

    let answers = all_at_once(&app, "title.reorder", reorders).await;

    assert_eq!(assert_clean(&answers), 10, "{answers:?}");
    let orders: Vec<i32> = sqlx::query_scalar("SELECT sort_order FROM titles ORDER BY sort_order")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert_eq!(
        orders,
        (0..6).collect::<Vec<i32>>(),
        "one reorder won whole"
    );
}

#[tokio::test]
async fn constraint_violations_say_what_conflicted_without_constraint_names() {
    let app = spawn_app().await;
    let (status, _) = app
        .mutate("department.create", json!({"name": "Eng"}))
        .await;
    assert_eq!(status, 200);
    let (status, body) = app
        .mutate("department.create", json!({"name": "Eng"}))
        .await;
    assert_eq!((status, error_code(&body)), (409, "CONFLICT"));
    assert_eq!(
        body["error"]["message"],
        "A department named \"Eng\" already exists."
    );

    app.mutate("title.create", json!({"name": "Staff"})).await;
    let (status, body) = app.mutate("title.create", json!({"name": "Staff"})).await;
    assert_eq!(status, 409);
    assert_eq!(
        body["error"]["message"],
        "A title named \"Staff\" already exists."
    );

    let person = |email: &str| json!({"firstName": "A", "lastName": "B", "email": email});
    app.mutate("person.create", person("a@x.io")).await;
    let (status, body) = app.mutate("person.create", person("a@x.io")).await;
    assert_eq!(status, 409);
    assert_eq!(
        body["error"]["message"],
        "A person with this email already exists."
    );

    let mut dangling = person("b@x.io");
    dangling["departmentId"] = json!("no-such-department");
    let (status, body) = app.mutate("person.create", dangling).await;
    assert_eq!((status, error_code(&body)), (400, "BAD_REQUEST"));
    assert_eq!(body["error"]["message"], "The department does not exist.");

    let dept = insert_department(&app, "Ops").await;
    let (status, body) = app
        .mutate("department.update", json!({"id": dept, "name": "Eng"}))
        .await;
    assert_eq!(status, 409);
    let message = body["error"]["message"].as_str().unwrap();
    assert_eq!(message, "A department named \"Eng\" already exists.");
    assert!(!message.contains("_key") && !message.contains("_fkey"));
}

/// A real deadlock: two transactions lock two rows in opposite orders.
/// Returns the error Postgres gave the one it rolled back.
async fn deadlock_error(app: &TestApp) -> sqlx::Error {
    let (a, b) = (
        insert_department(app, "Left").await,
        insert_department(app, "Right").await,
    );
    let mut first = app.db.begin().await.unwrap();
    let mut second = app.db.begin().await.unwrap();
    let lock = "SELECT id FROM roles WHERE id = $1 FOR UPDATE";
    sqlx::query(lock)
        .bind(&a)
        .execute(&mut *first)
        .await
        .unwrap();
    sqlx::query(lock)
        .bind(&b)
        .execute(&mut *second)
        .await
        .unwrap();
    let (x, y) = tokio::join!(
        sqlx::query(lock).bind(&b).execute(&mut *first),
        sqlx::query(lock).bind(&a).execute(&mut *second),
    );
    match (x, y) {
        (Err(e), Ok(_)) | (Ok(_), Err(e)) => e,
        other => panic!("expected exactly one deadlock victim: {other:?}"),
    }
}

#[tokio::test]
async fn a_write_rolled_back_by_a_deadlock_is_a_conflict_to_retry_not_a_500() {
    let app = spawn_app().await;
    let err = deadlock_error(&app).await;

    let answer = enghub::trpc::ApiError::Db(err).to_trpc();

    assert_eq!(answer.code, enghub::trpc::TrpcCode::Conflict);
    assert_eq!(answer.message, enghub::trpc::error::COLLISION_MESSAGE);
}
