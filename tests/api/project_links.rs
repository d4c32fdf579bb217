//! Router `projectLink` end to end: rows, insertion order, http(s)-only URLs,
//! NOT_FOUND for unknown ids, and the project invalidation of every write.

use serde_json::{json, Value};

use crate::helpers::{count, mark};
use crate::helpers::{data, error_code, spawn_app, TestApp};
use crate::helpers::{field_errors, keys};
use crate::projects::create_project;

async fn project(app: &TestApp) -> String {
    create_project(app, "Apollo").await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn create_link(app: &TestApp, project: &str, label: &str) -> Value {
    let (status, body) = app
        .mutate(
            "projectLink.create",
            json!({"projectId": project, "label": label, "url": format!("https://x.io/{label}")}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    data(&body).clone()
}

#[tokio::test]
async fn create_returns_the_row_and_invalidates_the_project() {
    let app = spawn_app().await;
    let p = project(&app).await;
    let marked = [
        mark(&app, &format!("project:{p}")).await,
        mark(&app, "projects:list").await,
    ];

    let link = create_link(&app, &p, "Doc").await;

    let keys = keys(&link);
    assert_eq!(keys, ["id", "label", "url", "projectId"]);
    assert_eq!(link["url"], "https://x.io/Doc");
    assert_eq!(link["projectId"], json!(p));
    for key in &marked {
        assert_eq!(app.redis_get(key).await, None, "{key}");
    }
}

#[tokio::test]
async fn a_javascript_url_is_refused_with_a_field_error_and_nothing_is_written() {
    let app = spawn_app().await;
    let p = project(&app).await;
    let link = create_link(&app, &p, "Doc").await;

    let (s1, b1) = app
        .mutate(
            "projectLink.create",
            json!({"projectId": p, "label": "XSS", "url": "javascript:alert(1)"}),
        )
        .await;
    let (s2, b2) = app
        .mutate(
            "projectLink.update",
            json!({"id": link["id"], "label": "XSS", "url": "data:text/html,<script>alert(1)</script>"}),
        )
        .await;
    let (s3, b3) = app
        .mutate(
            "projectLink.create",
            json!({"projectId": p, "label": "", "url": "not a url"}),
        )
        .await;

    assert_eq!((s1, error_code(&b1)), (400, "BAD_REQUEST"));
    assert_eq!(
        field_errors(&b1)["url"],
        json!(["URL must start with http:// or https://"])
    );
    assert_eq!(s2, 400);
    assert!(field_errors(&b2)["url"].is_array());
    assert_eq!(s3, 400);
    assert_eq!(field_errors(&b3)["url"], json!(["Invalid url"]));
    assert_eq!(
        field_errors(&b3)["label"],
        json!(["String must contain at least 1 character(s)"])
    );
    assert_eq!(count(&app, "project_links").await, 1);
    let (_, stored) = app
        .query("projectLink.getById", Some(json!({"id": link["id"]})))
        .await;
    assert_eq!(data(&stored), &link);

    // URLs have the URL cap (2,048), not the 500 of names and labels.
    let long = format!("https://a.io/{}", "x".repeat(1_500));
    let (ok, body) = app
        .mutate(
            "projectLink.create",
            json!({"projectId": p, "label": "Long", "url": long}),
        )
        .await;
    assert_eq!(ok, 200, "{body}");
    assert_eq!(data(&body)["url"], json!(long));
    let (too_long, body) = app
        .mutate(
            "projectLink.create",
            json!({"projectId": p, "label": "Long", "url": format!("https://a.io/{}", "x".repeat(2_036))}),
        )
        .await;
    assert_eq!(too_long, 400);
    assert_eq!(
        field_errors(&body)["url"],
        json!(["String must contain at most 2048 character(s)"])
    );
    assert_eq!(count(&app, "project_links").await, 2);
}

#[tokio::test]
async fn reads_list_a_projects_links_in_insertion_order_and_null_for_unknown_ids() {
    let app = spawn_app().await;
    let p = project(&app).await;
    let other = create_project(&app, "Other").await;
    let first = create_link(&app, &p, "Zeta").await;
    let second = create_link(&app, &p, "Alpha").await;
    create_link(&app, other["id"].as_str().unwrap(), "Elsewhere").await;

    let (status, list) = app
        .query("projectLink.getByProjectId", Some(json!({"projectId": p})))
        .await;
    let (_, one) = app
        .query("projectLink.getById", Some(json!({"id": second["id"]})))
        .await;
    let (_, none) = app
        .query("projectLink.getById", Some(json!({"id": "missing"})))
        .await;
    let (bad, _) = app
        .query("projectLink.getByProjectId", Some(json!({"projectId": ""})))
        .await;

    assert_eq!(status, 200);
    assert_eq!(data(&list), &json!([first, second]));
    assert_eq!(data(&one), &second);
    assert_eq!(data(&none), &Value::Null);
    assert_eq!(bad, 400);
}

#[tokio::test]
async fn update_and_delete_return_the_row_invalidate_and_404_unknown_ids() {
    let app = spawn_app().await;
    let p = project(&app).await;
    let link = create_link(&app, &p, "Doc").await;
    let project_key = mark(&app, &format!("project:{p}")).await;

    let (status, updated) = app
        .mutate(
            "projectLink.update",
            json!({"id": link["id"], "label": "Spec", "url": "http://spec.io"}),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(data(&updated)["label"], "Spec");
    assert_eq!(data(&updated)["url"], "http://spec.io");
    assert_eq!(app.redis_get(&project_key).await, None);

    let project_key = mark(&app, &format!("project:{p}")).await;
    let (status, deleted) = app
        .mutate("projectLink.delete", json!({"id": link["id"]}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(data(&deleted), data(&updated));
    assert_eq!(app.redis_get(&project_key).await, None);
    assert_eq!(count(&app, "project_links").await, 0);

    let (s1, b1) = app
        .mutate(
            "projectLink.update",
            json!({"id": "missing", "label": "X", "url": "https://x.io"}),
        )
        .await;
    let (s2, b2) = app
        .mutate("projectLink.delete", json!({"id": "missing"}))
        .await;
    assert_eq!((s1, error_code(&b1)), (404, "NOT_FOUND"));
    assert_eq!((s2, error_code(&b2)), (404, "NOT_FOUND"));
}

#[tokio::test]
async fn a_link_to_an_unknown_project_or_with_unstorable_text_is_bad_request() {
    let app = spawn_app().await;
    let p = project(&app).await;

    let (s1, _) = app
        .mutate(
            "projectLink.create",
            json!({"projectId": "missing", "label": "Doc", "url": "https://x.io"}),
        )
        .await;
    let (s2, b2) = app
        .mutate(
            "projectLink.create",
            json!({"projectId": p, "label": "a\u{0}b", "url": "https://x.io"}),
        )
        .await;
    let (s3, b3) = app
        .mutate(
            "projectLink.create",
            json!({"projectId": p, "label": "Doc", "url": format!("https://x.io/{}", "a".repeat(10_000))}),
        )
        .await;

    assert_eq!(s1, 400);
    assert_eq!(s2, 400);
    assert!(field_errors(&b2)["label"].is_array());
    assert_eq!(s3, 400);
    assert!(field_errors(&b3)["url"].is_array());
    assert_eq!(count(&app, "project_links").await, 0);
}
