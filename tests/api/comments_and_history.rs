//! Routers `personComment` and `managerChange` end to end.

use serde_json::{json, Value};

use crate::helpers::keys;
use crate::helpers::{data, spawn_app, TestApp};

const AUTHOR: &str = "user_author";
const OTHER: &str = "user_other";

async fn comment(app: &TestApp, user: &str, person: &str, content: &str) -> Value {
    let (status, body) = app
        .mutate_as(
            user,
            "personComment.create",
            json!({"personId": person, "content": content}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    data(&body).clone()
}

#[tokio::test]
async fn comments_are_created_by_claimed_people_and_listed_newest_first_with_their_author() {
    let app = spawn_app().await;
    let author = app.insert_person("Author", None, Some(AUTHOR)).await;
    let subject = app.insert_person("Subject", None, None).await;

    let first = comment(&app, AUTHOR, &subject, "first").await;
    let second = comment(&app, AUTHOR, &subject, "second").await;
    let (status, body) = app
        .query_as(
            OTHER,
            "personComment.getByPersonId",
            Some(json!({"personId": subject})),
        )
        .await;

    assert_eq!(status, 200);
    let list = data(&body).as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["id"], second["id"]);
    assert_eq!(list[1]["id"], first["id"]);
    assert_eq!(list[0], second);
    assert_eq!(second["authorId"], AUTHOR);
    assert_eq!(second["authorPersonId"], json!(author));
    assert_eq!(
        second["author"],
        json!({"id": author, "firstName": "Author", "lastName": "Test", "imageUrl": null})
    );
    let keys = keys(&second);
    assert_eq!(
        keys,
        [
            "id",
            "content",
            "personId",
            "authorId",
            "authorPersonId",
            "createdAt",
            "updatedAt",
            "author"
        ]
    );
}

#[tokio::test]
async fn comment_create_needs_a_claim_valid_content_and_an_existing_subject() {
    let app = spawn_app().await;
    app.insert_person("Author", None, Some(AUTHOR)).await;
    let subject = app.insert_person("Subject", None, None).await;
    let app = &app;
    let create = |user: &'static str, person: &str, content: Value| {
        let body = json!({"personId": person, "content": content});
        async move { app.mutate_as(user, "personComment.create", body).await }
    };

    let (unclaimed, unclaimed_body) = create(OTHER, &subject, json!("hi")).await;
    let (empty, empty_body) = create(AUTHOR, &subject, json!("")).await;
    let (long, long_body) = create(AUTHOR, &subject, json!("x".repeat(5001))).await;
    let (max, _) = create(AUTHOR, &subject, json!("x".repeat(5000))).await;
    let (dangling, _) = create(AUTHOR, "nobody", json!("hi")).await;

    assert_eq!(unclaimed, 400);
    assert_eq!(
        unclaimed_body["error"]["message"],
        "You must claim a Person record first."
    );
    assert_eq!(empty, 400);
    assert_eq!(
        empty_body["error"]["data"]["zodError"]["fieldErrors"]["content"],
        json!(["String must contain at least 1 character(s)"])
    );
    assert_eq!(long, 400);
    assert_eq!(
        long_body["error"]["data"]["zodError"]["fieldErrors"]["content"],
        json!(["String must contain at most 5000 character(s)"])
    );
    assert_eq!(max, 200);
    assert_eq!(dangling, 400);
}

#[tokio::test]
async fn only_the_author_updates_or_deletes_a_comment() {
    let app = spawn_app().await;
    app.insert_person("Author", None, Some(AUTHOR)).await;
    app.insert_person("Other", None, Some(OTHER)).await;
    let subject = app.insert_person("Subject", None, None).await;
    let c = comment(&app, AUTHOR, &subject, "hello").await;
    let id = c["id"].as_str().unwrap();

    let (other_update, other_body) = app
        .mutate_as(
            OTHER,
            "personComment.update",
            json!({"id": id, "content": "x"}),
        )
        .await;
    let (other_delete, _) = app
        .mutate_as(OTHER, "personComment.delete", json!({"id": id}))
        .await;
    let (missing, _) = app
        .mutate_as(
            AUTHOR,
            "personComment.update",
            json!({"id": "nope", "content": "x"}),
        )
        .await;
    let (updated, updated_body) = app
        .mutate_as(
            AUTHOR,
            "personComment.update",
            json!({"id": id, "content": "edited"}),
        )
        .await;

    assert_eq!(other_update, 403);
    assert_eq!(other_body["error"]["message"], "FORBIDDEN");
    assert_eq!(other_delete, 403);
    assert_eq!(missing, 403);
    assert_eq!(updated, 200);
    assert_eq!(data(&updated_body)["content"], "edited");
    assert_eq!(data(&updated_body)["author"], c["author"]);

    let (deleted, deleted_body) = app
        .mutate_as(AUTHOR, "personComment.delete", json!({"id": id}))
        .await;
    assert_eq!(deleted, 200);
    assert_eq!(data(&deleted_body), &json!({"id": id}));
    let (_, list) = app
        .query(
            "personComment.getByPersonId",
            Some(json!({"personId": subject})),
        )
        .await;
    assert_eq!(data(&list), &json!([]));
}

/// Creates `n` manager changes for `person` with distinct timestamps, oldest
/// first; returns their ids in that order.
async fn history(app: &TestApp, person: &str, managers: &[&str]) -> Vec<String> {
    let mut ids = Vec::new();
    for (i, m) in managers.iter().enumerate() {
        let id = enghub::db::new_id();
        sqlx::query(
            "INSERT INTO manager_changes (id, person_id, old_manager_id, new_manager_id, changed_by, created_at)
             VALUES ($1, $2, NULL, $3, 'user_x', TIMESTAMP '2026-01-01' + $4 * INTERVAL '1 minute')",
        )
        .bind(&id)
        .bind(person)
        .bind(m)
        .bind(i as i32)
        .execute(&app.db)
        .await
        .unwrap();
        ids.push(id);
    }
    ids
}

fn ids(body: &Value) -> Vec<String> {
    data(body)
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn manager_changes_of_a_person_are_rows_newest_first() {
    let app = spawn_app().await;
    let boss = app.insert_person("Boss", None, None).await;
    let person = app.insert_person("P", None, None).await;
    let rows = history(&app, &person, &[&boss, &boss]).await;

    let (status, body) = app
        .query(
            "managerChange.getByPersonId",
            Some(json!({"personId": person})),
        )
        .await;

    assert_eq!(status, 200);
    assert_eq!(ids(&body), vec![rows[1].clone(), rows[0].clone()]);
    assert_eq!(
        data(&body)[0],
        json!({"id": rows[1], "personId": person, "oldManagerId": null, "newManagerId": boss,
               "changedBy": "user_x", "createdAt": "2026-01-01T00:01:00.000Z"})
    );
}

#[tokio::test]
async fn recent_manager_changes_default_to_20_and_a_negative_limit_takes_the_oldest() {
    let app = spawn_app().await;
    let boss = app.insert_person("Boss", None, None).await;
    let person = app.insert_person("P", None, None).await;
    let managers: Vec<&str> = (0..25).map(|_| boss.as_str()).collect();
    let rows = history(&app, &person, &managers).await;

    let (_, default) = app.query("managerChange.getRecent", Some(json!({}))).await;
    let (_, two) = app
        .query("managerChange.getRecent", Some(json!({"limit": 2})))
        .await;
    let (_, oldest) = app
        .query("managerChange.getRecent", Some(json!({"limit": -2})))
        .await;
    let (fraction, _) = app
        .query("managerChange.getRecent", Some(json!({"limit": 1.5})))
        .await;
    let (no_object, _) = app.query("managerChange.getRecent", None).await;

    assert_eq!(data(&default).as_array().unwrap().len(), 20);
    assert_eq!(ids(&two), vec![rows[24].clone(), rows[23].clone()]);
    assert_eq!(ids(&oldest), vec![rows[1].clone(), rows[0].clone()]);
    let view = &data(&two)[0];
    assert_eq!(
        view["person"],
        json!({"id": person, "firstName": "P", "lastName": "Test"})
    );
    assert_eq!(view["oldManager"], Value::Null);
    assert_eq!(
        view["newManager"],
        json!({"id": boss, "firstName": "Boss", "lastName": "Test"})
    );
    assert_eq!(fraction, 400);
    assert_eq!(no_object, 400);
}

#[tokio::test]
async fn project_manager_changes_cover_its_members_only() {
    let app = spawn_app().await;
    let boss = app.insert_person("Boss", None, None).await;
    let member = app.insert_person("Member", None, None).await;
    let outsider = app.insert_person("Outsider", None, None).await;
    sqlx::query("INSERT INTO projects (id, name, updated_at) VALUES ('p1', 'Apollo', now())")
        .execute(&app.db)
        .await
        .unwrap();
    sqlx::query("INSERT INTO team_members (id, person_id, project_id) VALUES ('tm1', $1, 'p1')")
        .bind(&member)
        .execute(&app.db)
        .await
        .unwrap();
    let mine = history(&app, &member, &[&boss]).await;
    history(&app, &outsider, &[&boss]).await;

    let (_, body) = app
        .query(
            "managerChange.getByProjectId",
            Some(json!({"projectId": "p1"})),
        )
        .await;
    let (_, empty) = app
        .query(
            "managerChange.getByProjectId",
            Some(json!({"projectId": "none", "limit": 5})),
        )
        .await;

    assert_eq!(ids(&body), mine);
    assert_eq!(data(&empty), &json!([]));
}
