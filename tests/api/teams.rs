//! Router `team` end to end: rows and membership counts, `""` as NULL,
//! http(s)-only images, the mirror into the active arrangement, NOT_FOUND for
//! unknown ids, and the invalidation of the project and of the member views
//! that embed the team.

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

async fn create_team(app: &TestApp, project: &str, name: &str) -> Value {
    let (status, body) = app
        .mutate(
            "team.create",
            json!({"projectId": project, "name": name, "description": "", "imageUrl": ""}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    data(&body).clone()
}

/// Puts a new person (claimed by `clerk_user`) into `team`.
async fn add_member(app: &TestApp, project: &str, team: &str, clerk_user: &str) {
    let person = app.insert_person("Mem", None, Some(clerk_user)).await;
    let member = enghub::db::new_id();
    sqlx::query("INSERT INTO team_members (id, person_id, project_id) VALUES ($1, $2, $3)")
        .bind(&member)
        .bind(&person)
        .bind(project)
        .execute(&app.db)
        .await
        .unwrap();
    sqlx::query("INSERT INTO team_memberships (id, team_id, team_member_id) VALUES ($1, $2, $3)")
        .bind(enghub::db::new_id())
        .bind(team)
        .bind(&member)
        .execute(&app.db)
        .await
        .unwrap();
}

#[tokio::test]
async fn create_stores_empty_optionals_as_null_mirrors_the_active_arrangement_and_invalidates() {
    let app = spawn_app().await;
    let p = project(&app).await;
    sqlx::query(
        "INSERT INTO team_arrangements (id, name, is_active, project_id, updated_at)
         VALUES ('arr', 'Live', true, $1, now())",
    )
    .bind(&p)
    .execute(&app.db)
    .await
    .unwrap();
    let marked = [
        mark(&app, &format!("project:{p}")).await,
        mark(&app, "projects:list").await,
    ];

    let team = create_team(&app, &p, "Core").await;

    assert_eq!(
        team,
        json!({"id": team["id"], "name": "Core", "description": null, "imageUrl": null, "projectId": p})
    );
    let (mirrored,): (String,) =
        sqlx::query_as("SELECT live_team_id FROM arrangement_teams WHERE arrangement_id = 'arr'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(json!(mirrored), team["id"]);
    for key in &marked {
        assert_eq!(app.redis_get(key).await, None, "{key}");
    }
}

#[tokio::test]
async fn get_by_project_id_orders_by_name_with_membership_counts() {
    let app = spawn_app().await;
    let p = project(&app).await;
    let beta = create_team(&app, &p, "Beta").await;
    let alpha = create_team(&app, &p, "Alpha").await;
    add_member(&app, &p, beta["id"].as_str().unwrap(), "user_a").await;
    add_member(&app, &p, beta["id"].as_str().unwrap(), "user_b").await;

    let (status, body) = app
        .query("team.getByProjectId", Some(json!({"projectId": p})))
        .await;
    let (_, one) = app
        .query("team.getById", Some(json!({"id": alpha["id"]})))
        .await;
    let (_, none) = app
        .query("team.getById", Some(json!({"id": "missing"})))
        .await;

    assert_eq!(status, 200);
    let mut alpha_counted = alpha.clone();
    alpha_counted["_count"] = json!({"memberships": 0});
    let mut beta_counted = beta.clone();
    beta_counted["_count"] = json!({"memberships": 2});
    assert_eq!(data(&body), &json!([alpha_counted, beta_counted]));
    let keys = keys(&data(&body)[0]);
    assert_eq!(
        keys,
        [
            "id",
            "name",
            "description",
            "imageUrl",
            "projectId",
            "_count"
        ]
    );
    assert_eq!(data(&one), &alpha);
    assert_eq!(data(&none), &Value::Null);
}

#[tokio::test]
async fn update_clears_absent_optionals_and_invalidates_the_members_views() {
    let app = spawn_app().await;
    let p = project(&app).await;
    let (_, body) = app
        .mutate(
            "team.create",
            json!({"projectId": p, "name": "Core", "description": "API", "imageUrl": "https://img.io/a.png"}),
        )
        .await;
    let team = data(&body).clone();
    add_member(&app, &p, team["id"].as_str().unwrap(), "user_member").await;
    let marked = [
        mark(&app, &format!("project:{p}")).await,
        mark(&app, "projects:list").await,
        mark(&app, "people:all").await,
        mark(&app, "person-me:user_member").await,
    ];

    let (status, body) = app
        .mutate("team.update", json!({"id": team["id"], "name": "Platform"}))
        .await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(
        data(&body),
        &json!({"id": team["id"], "name": "Platform", "description": null, "imageUrl": null, "projectId": p})
    );
    for key in &marked {
        assert_eq!(app.redis_get(key).await, None, "{key}");
    }
}

#[tokio::test]
async fn delete_returns_the_row_removes_memberships_and_invalidates_the_members_views() {
    let app = spawn_app().await;
    let p = project(&app).await;
    let team = create_team(&app, &p, "Core").await;
    add_member(&app, &p, team["id"].as_str().unwrap(), "user_member").await;
    let marked = [
        mark(&app, &format!("project:{p}")).await,
        mark(&app, "people:all").await,
        mark(&app, "person-me:user_member").await,
    ];

    let (status, body) = app.mutate("team.delete", json!({"id": team["id"]})).await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(data(&body), &team);
    assert_eq!(count(&app, "teams").await, 0);
    assert_eq!(count(&app, "team_memberships").await, 0);
    assert_eq!(
        count(&app, "team_members").await,
        1,
        "the member stays in the project"
    );
    for key in &marked {
        assert_eq!(app.redis_get(key).await, None, "{key}");
    }
}

#[tokio::test]
async fn unknown_ids_are_not_found_and_bad_input_writes_nothing() {
    let app = spawn_app().await;
    let p = project(&app).await;

    let (s1, b1) = app
        .mutate("team.update", json!({"id": "missing", "name": "X"}))
        .await;
    let (s2, b2) = app.mutate("team.delete", json!({"id": "missing"})).await;
    let (s3, b3) = app
        .mutate(
            "team.create",
            json!({"projectId": p, "name": "X", "imageUrl": "javascript:alert(1)"}),
        )
        .await;
    let (s4, b4) = app
        .mutate(
            "team.create",
            json!({"projectId": p, "name": "", "description": "a\u{0}"}),
        )
        .await;
    let (s5, b5) = app
        .mutate(
            "team.create",
            json!({"projectId": p, "name": "x".repeat(10_001)}),
        )
        .await;
    let (s6, _) = app
        .mutate("team.create", json!({"projectId": "missing", "name": "X"}))
        .await;

    assert_eq!((s1, error_code(&b1)), (404, "NOT_FOUND"));
    assert_eq!(b1["error"]["message"], "Team missing not found.");
    assert_eq!((s2, error_code(&b2)), (404, "NOT_FOUND"));
    assert_eq!(s3, 400);
    assert_eq!(
        field_errors(&b3)["imageUrl"],
        json!(["URL must start with http:// or https://"])
    );
    assert_eq!(s4, 400);
    assert!(field_errors(&b4)["name"].is_array());
    assert!(field_errors(&b4)["description"].is_array());
    assert_eq!(s5, 400);
    assert!(field_errors(&b5)["name"].is_array());
    assert_eq!(s6, 400);
    assert_eq!(count(&app, "teams").await, 0);
}
