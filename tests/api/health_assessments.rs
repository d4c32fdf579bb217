//! Router `healthAssessment` end to end: the row shape, newest-first history,
//! author-only update/delete (FORBIDDEN, nothing written), "not provided"
//! fields kept on update, validation, and the project invalidation.

use serde_json::{json, Value};

use crate::helpers::{count, mark};
use crate::helpers::{data, error_code, spawn_app, TestApp, USER};
use crate::helpers::{field_errors, keys};
use crate::projects::create_project;

const OTHER: &str = "user_test_bob";

async fn project(app: &TestApp) -> String {
    create_project(app, "Apollo").await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn create(app: &TestApp, input: Value) -> Value {
    let (status, body) = app.mutate("healthAssessment.create", input).await;
    assert_eq!(status, 200, "{body}");
    data(&body).clone()
}

async fn get(app: &TestApp, id: &Value) -> Value {
    let (status, body) = app
        .query("healthAssessment.getById", Some(json!({"id": id})))
        .await;
    assert_eq!(status, 200, "{body}");
    data(&body).clone()
}

#[tokio::test]
async fn create_returns_id_and_project_records_the_author_and_invalidates() {
    let app = spawn_app().await;
    let p = project(&app).await;
    let marked = [
        mark(&app, &format!("project:{p}")).await,
        mark(&app, "projects:list").await,
    ];

    let created = create(
        &app,
        json!({"projectId": p, "overallStatus": "YELLOW", "growthStatus": "GREEN",
               "growthNotes": {"type": "doc", "content": []}, "marginNotes": null}),
    )
    .await;

    let id = created["id"].clone();
    assert_eq!(created, json!({"id": id, "projectId": p}));
    let row = get(&app, &id).await;
    let keys = keys(&row);
    assert_eq!(
        keys,
        [
            "id",
            "projectId",
            "authorId",
            "overallStatus",
            "overallNotes",
            "growthStatus",
            "growthNotes",
            "marginStatus",
            "marginNotes",
            "longevityStatus",
            "longevityNotes",
            "clientSatisfactionStatus",
            "clientSatisfactionNotes",
            "engineeringVibeStatus",
            "engineeringVibeNotes",
            "productVibeStatus",
            "productVibeNotes",
            "designVibeStatus",
            "designVibeNotes",
            "createdAt",
            "updatedAt"
        ]
    );
    assert_eq!(row["authorId"], USER);
    assert_eq!(row["overallStatus"], "YELLOW");
    assert_eq!(row["growthNotes"], json!({"type": "doc", "content": []}));
    assert_eq!(row["marginNotes"], Value::Null);
    assert_eq!(row["designVibeStatus"], Value::Null);
    for key in &marked {
        assert_eq!(app.redis_get(key).await, None, "{key}");
    }
}

#[tokio::test]
async fn history_is_newest_first_and_an_unknown_id_is_not_found() {
    let app = spawn_app().await;
    let p = project(&app).await;
    sqlx::raw_sql(&format!(
        "INSERT INTO health_assessments (id, project_id, author_id, overall_status, created_at, updated_at) VALUES
           ('h-old', '{p}', 'u', 'RED', '2025-01-01', '2025-01-01'),
           ('h-new', '{p}', 'u', 'GREEN', '2025-03-01', '2025-03-01'),
           ('h-mid', '{p}', 'u', 'YELLOW', '2025-02-01', '2025-02-01');"
    ))
    .execute(&app.db)
    .await
    .unwrap();

    let (status, list) = app
        .query(
            "healthAssessment.getByProjectId",
            Some(json!({"projectId": p})),
        )
        .await;
    let (missing, body) = app
        .query("healthAssessment.getById", Some(json!({"id": "missing"})))
        .await;

    assert_eq!(status, 200);
    let ids: Vec<&str> = data(&list)
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["h-new", "h-mid", "h-old"]);
    assert_eq!(data(&list)[0]["createdAt"], "2025-03-01T00:00:00.000Z");
    assert_eq!((missing, error_code(&body)), (404, "NOT_FOUND"));
    assert_eq!(body["error"]["message"], "Health assessment not found.");
}

#[tokio::test]
async fn the_author_updates_provided_fields_and_keeps_the_rest() {
    let app = spawn_app().await;
    let p = project(&app).await;
    let created = create(
        &app,
        json!({"projectId": p, "overallStatus": "RED", "growthStatus": "RED",
               "growthNotes": {"v": 1}, "marginStatus": "YELLOW"}),
    )
    .await;
    let before = get(&app, &created["id"]).await;
    let project_key = mark(&app, &format!("project:{p}")).await;

    let (status, body) = app
        .mutate(
            "healthAssessment.update",
            json!({"id": created["id"], "overallStatus": "GREEN", "growthStatus": "GREEN",
                   "marginNotes": {"v": 2}}),
        )
        .await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(data(&body), &created);
    let after = get(&app, &created["id"]).await;
    assert_eq!(after["overallStatus"], "GREEN");
    assert_eq!(after["growthStatus"], "GREEN");
    assert_eq!(
        after["growthNotes"],
        json!({"v": 1}),
        "absent notes are kept"
    );
    assert_eq!(after["marginStatus"], "YELLOW", "absent status is kept");
    assert_eq!(after["marginNotes"], json!({"v": 2}));
    assert_eq!(after["createdAt"], before["createdAt"]);
    assert_eq!(app.redis_get(&project_key).await, None);
}

#[tokio::test]
async fn only_the_author_may_update_or_delete_and_others_change_nothing() {
    let app = spawn_app().await;
    let p = project(&app).await;
    let created = create(&app, json!({"projectId": p, "overallStatus": "RED"})).await;
    let before = get(&app, &created["id"]).await;
    let project_key = mark(&app, &format!("project:{p}")).await;

    let (s1, b1) = app
        .mutate_as(
            OTHER,
            "healthAssessment.update",
            json!({"id": created["id"], "overallStatus": "GREEN"}),
        )
        .await;
    let (s2, b2) = app
        .mutate_as(
            OTHER,
            "healthAssessment.delete",
            json!({"id": created["id"]}),
        )
        .await;
    let (s3, b3) = app
        .mutate(
            "healthAssessment.update",
            json!({"id": "missing", "overallStatus": "GREEN"}),
        )
        .await;
    let (s4, _) = app
        .mutate("healthAssessment.delete", json!({"id": "missing"}))
        .await;

    assert_eq!((s1, error_code(&b1)), (403, "FORBIDDEN"));
    assert_eq!(b1["error"]["message"], "FORBIDDEN");
    assert_eq!((s2, error_code(&b2)), (403, "FORBIDDEN"));
    assert_eq!((s3, error_code(&b3)), (403, "FORBIDDEN"));
    assert_eq!(s4, 403);
    assert_eq!(get(&app, &created["id"]).await, before);
    assert!(
        app.redis_get(&project_key).await.is_some(),
        "nothing to invalidate"
    );

    let (status, body) = app
        .mutate("healthAssessment.delete", json!({"id": created["id"]}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(data(&body), &json!({"id": created["id"]}));
    assert_eq!(count(&app, "health_assessments").await, 0);
    assert_eq!(app.redis_get(&project_key).await, None);
}

#[tokio::test]
async fn bad_statuses_and_unstorable_notes_are_bad_request_and_write_nothing() {
    let app = spawn_app().await;
    let p = project(&app).await;

    for (input, field) in [
        (json!({"projectId": p}), "overallStatus"),
        (
            json!({"projectId": p, "overallStatus": "BLUE"}),
            "overallStatus",
        ),
        (
            json!({"projectId": p, "overallStatus": "RED", "growthStatus": null}),
            "growthStatus",
        ),
        (
            json!({"projectId": p, "overallStatus": "RED", "marginStatus": 3}),
            "marginStatus",
        ),
        (
            json!({"projectId": p, "overallStatus": "RED", "overallNotes": {"text": "a\u{0}b"}}),
            "overallNotes",
        ),
        (
            json!({"projectId": "", "overallStatus": "RED"}),
            "projectId",
        ),
    ] {
        let (status, body) = app.mutate("healthAssessment.create", input.clone()).await;
        assert_eq!(status, 400, "{input}: {body}");
        // One issue per bad field (a NUL in notes is not reported twice).
        let issues = field_errors(&body)[field].as_array().map(Vec::len);
        assert_eq!(issues, Some(1), "{input}: {body}");
    }
    let (status, body) = app
        .mutate(
            "healthAssessment.create",
            json!({"projectId": p, "overallStatus": "BLUE"}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        field_errors(&body)["overallStatus"],
        json!(["Invalid enum value. Expected 'RED' | 'YELLOW' | 'GREEN', received 'BLUE'"])
    );
    let (unknown, _) = app
        .mutate(
            "healthAssessment.create",
            json!({"projectId": "missing", "overallStatus": "RED"}),
        )
        .await;
    assert_eq!(unknown, 400);
    assert_eq!(count(&app, "health_assessments").await, 0);
}
