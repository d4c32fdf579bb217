//! 1:1 meetings and templates end to end: the access-control matrix before and
//! after manager changes, every procedure's success and error cases, and the
//! `meeting-templates:all` cache entry.

use serde_json::{json, Value};

use crate::helpers::keys;
use crate::helpers::{data, error_code, spawn_app, TestApp};

/// CEO → VP → {Manager, Peer}; Manager → Employee; Stranger alone at the top.
struct Org {
    ceo: String,
    vp: String,
    manager: String,
    employee: String,
    stranger: String,
}

const CEO: &str = "user_ceo";
const VP: &str = "user_vp";
const MANAGER: &str = "user_manager";
const PEER: &str = "user_peer";
const EMPLOYEE: &str = "user_employee";
const STRANGER: &str = "user_stranger";
const UNCLAIMED: &str = "user_unclaimed";

async fn org(app: &TestApp) -> Org {
    let ceo = app.insert_person("Ceo", None, Some(CEO)).await;
    let vp = app.insert_person("Vp", Some(&ceo), Some(VP)).await;
    let manager = app.insert_person("Manager", Some(&vp), Some(MANAGER)).await;
    app.insert_person("Peer", Some(&vp), Some(PEER)).await;
    let employee = app
        .insert_person("Employee", Some(&manager), Some(EMPLOYEE))
        .await;
    let stranger = app.insert_person("Stranger", None, Some(STRANGER)).await;
    Org {
        ceo,
        vp,
        manager,
        employee,
        stranger,
    }
}

async fn create_meeting(app: &TestApp, author: &str, person: &str, date: &str) -> String {
    let (status, body) = app
        .mutate_as(
            author,
            "meeting.create",
            json!({"personId": person, "date": date, "content": {"notes": "hi"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    data(&body)["id"].as_str().unwrap().to_string()
}

/// `(getByPersonId status, getById status)` for `viewer`.
async fn access(app: &TestApp, viewer: &str, person: &str, meeting: &str) -> (u16, u16) {
    let (by_person, _) = app
        .query_as(
            viewer,
            "meeting.getByPersonId",
            Some(json!({"personId": person})),
        )
        .await;
    let (by_id, _) = app
        .query_as(viewer, "meeting.getById", Some(json!({"id": meeting})))
        .await;
    (by_person, by_id)
}

/// `actor` (who must be above `person`, or an admin) moves `person` under
/// `new_manager`.
async fn move_under(app: &TestApp, actor: &str, person: &str, first_name: &str, new_manager: &str) {
    let (status, body) = app
        .mutate_as(
            actor,
            "person.update",
            json!({"id": person, "firstName": first_name, "lastName": "Test",
                   "email": format!("{}@moved.io", first_name.to_lowercase()),
                   "managerId": new_manager}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn meeting_access_matrix_holds_before_and_after_a_manager_change() {
    let app = spawn_app().await;
    let o = org(&app).await;
    let meeting = create_meeting(&app, MANAGER, &o.employee, "2026-03-15").await;

    let before = [
        (MANAGER, (200, 200)),   // author and direct manager
        (VP, (200, 200)),        // skip-level manager
        (CEO, (200, 200)),       // two levels up
        (PEER, (403, 403)),      // the manager's peer
        (STRANGER, (403, 403)),  // another tree
        (UNCLAIMED, (403, 403)), // signed in, no person claimed
        (EMPLOYEE, (403, 403)),  // the subject: not in its own chain
    ];
    for (viewer, expected) in before {
        assert_eq!(
            access(&app, viewer, &o.employee, &meeting).await,
            expected,
            "{viewer} before"
        );
    }

    // The VP moves the manager (with the employee below) under the stranger.
    move_under(&app, VP, &o.manager, "Manager", &o.stranger).await;

    let after = [
        (MANAGER, (200, 200)),
        (STRANGER, (200, 200)), // new skip-level gains access at once
        (VP, (403, 403)),       // old skip-level loses it at once
        (CEO, (403, 403)),
        (PEER, (403, 403)),
        (UNCLAIMED, (403, 403)),
        (EMPLOYEE, (403, 403)),
    ];
    for (viewer, expected) in after {
        assert_eq!(
            access(&app, viewer, &o.employee, &meeting).await,
            expected,
            "{viewer} after"
        );
    }
}

#[tokio::test]
async fn moving_a_middle_manager_updates_every_cached_chain_below_it() {
    let app = spawn_app().await;
    // Four levels: CEO → VP → Manager → Employee, all chains cached.
    let o = org(&app).await;
    let meeting = create_meeting(&app, MANAGER, &o.employee, "2026-03-15").await;
    assert_eq!(access(&app, VP, &o.employee, &meeting).await, (200, 200));
    assert_eq!(
        access(&app, STRANGER, &o.employee, &meeting).await,
        (403, 403)
    );
    let employee_chain = app.key(&format!("mgmt-chain:{}", o.employee));
    assert!(app.redis_smembers(&employee_chain).await.contains(&o.vp));

    move_under(&app, VP, &o.manager, "Manager", &o.stranger).await;

    assert!(app.redis_smembers(&employee_chain).await.is_empty());
    assert_eq!(access(&app, VP, &o.employee, &meeting).await, (403, 403));
    assert_eq!(
        access(&app, STRANGER, &o.employee, &meeting).await,
        (200, 200)
    );
    let mut expected = vec![o.manager.clone(), o.stranger.clone()];
    expected.sort();
    assert_eq!(app.redis_smembers(&employee_chain).await, expected);
}

#[tokio::test]
async fn deleting_a_manager_revokes_access_through_it_at_once() {
    let app = spawn_app().await;
    let o = org(&app).await;
    let meeting = create_meeting(&app, MANAGER, &o.employee, "2026-03-15").await;
    assert_eq!(access(&app, CEO, &o.employee, &meeting).await, (200, 200));

    let (status, body) = app
        .mutate_as(VP, "person.delete", json!({"id": o.manager}))
        .await;
    assert_eq!(status, 200, "{body}");

    // The employee is now at the top: nobody above it.
    assert_eq!(access(&app, CEO, &o.employee, &meeting).await, (403, 403));
    assert_eq!(access(&app, VP, &o.employee, &meeting).await, (403, 403));
    let _ = o.ceo;
}

#[tokio::test]
async fn get_by_person_id_returns_every_authors_notes_newest_first_as_meeting_views() {
    let app = spawn_app().await;
    let o = org(&app).await;
    let older = create_meeting(&app, MANAGER, &o.employee, "2026-01-01").await;
    let newer = create_meeting(&app, MANAGER, &o.employee, "2026-02-01T10:30:00Z").await;

    let (status, body) = app
        .query_as(
            VP,
            "meeting.getByPersonId",
            Some(json!({"personId": o.employee})),
        )
        .await;

    assert_eq!(status, 200, "{body}");
    let list = data(&body).as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["id"], json!(newer));
    assert_eq!(list[1]["id"], json!(older));
    let view = list[0].as_object().unwrap();
    let keys: Vec<&str> = view.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "id",
            "date",
            "content",
            "authorId",
            "personId",
            "templateId",
            "createdAt",
            "updatedAt",
            "person",
            "template"
        ]
    );
    assert_eq!(view["date"], "2026-02-01T10:30:00.000Z");
    assert_eq!(view["content"], json!({"notes": "hi"}));
    assert_eq!(view["authorId"], MANAGER);
    assert_eq!(view["template"], Value::Null);
    assert_eq!(
        view["person"],
        json!({"id": o.employee, "firstName": "Employee", "lastName": "Test",
               "callsign": null, "imageUrl": null})
    );
}

#[tokio::test]
async fn forbidden_reads_say_why() {
    let app = spawn_app().await;
    let o = org(&app).await;
    let meeting = create_meeting(&app, MANAGER, &o.employee, "2026-03-15").await;

    let (_, by_person) = app
        .query_as(
            PEER,
            "meeting.getByPersonId",
            Some(json!({"personId": o.employee})),
        )
        .await;
    let (_, by_id) = app
        .query_as(PEER, "meeting.getById", Some(json!({"id": meeting})))
        .await;
    let (missing_status, missing) = app
        .query_as(VP, "meeting.getById", Some(json!({"id": "nope"})))
        .await;

    assert_eq!(
        by_person["error"]["message"],
        "You do not have access to this person's meeting notes."
    );
    assert_eq!(error_code(&by_person), "FORBIDDEN");
    assert_eq!(by_id["error"]["message"], "FORBIDDEN");
    assert_eq!(missing_status, 404);
    assert_eq!(missing["error"]["message"], "NOT_FOUND");
}

#[tokio::test]
async fn an_author_who_lost_the_reporting_line_still_reads_their_note_by_id() {
    let app = spawn_app().await;
    let o = org(&app).await;
    let meeting = create_meeting(&app, MANAGER, &o.employee, "2026-03-15").await;
    move_under(&app, VP, &o.employee, "Employee", &o.stranger).await;

    assert_eq!(
        access(&app, MANAGER, &o.employee, &meeting).await,
        (403, 200)
    );
}

#[tokio::test]
async fn get_my_meetings_lists_own_notes_by_subject_then_newest_date() {
    let app = spawn_app().await;
    let o = org(&app).await;
    let second_report = app.insert_person("Second", Some(&o.manager), None).await;
    let a_old = create_meeting(&app, MANAGER, &o.employee, "2026-01-01").await;
    let a_new = create_meeting(&app, MANAGER, &o.employee, "2026-03-01").await;
    let b = create_meeting(&app, MANAGER, &second_report, "2026-02-01").await;
    create_meeting(&app, VP, &o.manager, "2026-02-01").await;

    let (status, body) = app.query_as(MANAGER, "meeting.getMyMeetings", None).await;

    assert_eq!(status, 200);
    let ids: Vec<&str> = data(&body)
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    let mut by_subject = vec![
        (o.employee.as_str(), vec![a_new.as_str(), a_old.as_str()]),
        (second_report.as_str(), vec![b.as_str()]),
    ];
    by_subject.sort();
    let expected: Vec<&str> = by_subject.into_iter().flat_map(|(_, ids)| ids).collect();
    assert_eq!(ids, expected);
}

#[tokio::test]
async fn create_is_for_direct_reports_of_a_claimed_person_only() {
    let app = spawn_app().await;
    let o = org(&app).await;
    let input = |person: &str| json!({"personId": person, "date": "2026-03-15"});

    let (unclaimed, unclaimed_body) = app
        .mutate_as(UNCLAIMED, "meeting.create", input(&o.employee))
        .await;
    let (skip, skip_body) = app
        .mutate_as(VP, "meeting.create", input(&o.employee))
        .await;
    let (unknown, _) = app.mutate_as(VP, "meeting.create", input("nobody")).await;
    let (ok, ok_body) = app
        .mutate_as(MANAGER, "meeting.create", input(&o.employee))
        .await;

    assert_eq!(unclaimed, 400);
    assert_eq!(
        unclaimed_body["error"]["message"],
        "You must claim a Person record first."
    );
    assert_eq!(skip, 403);
    assert_eq!(
        skip_body["error"]["message"],
        "You can only create meeting notes for your direct reports."
    );
    assert_eq!(unknown, 403);
    assert_eq!(ok, 200);
    let id = data(&ok_body)["id"].as_str().unwrap();
    assert_eq!(data(&ok_body), &json!({"id": id}));
    let (content, template): (Value, Option<String>) =
        sqlx::query_as("SELECT content, template_id FROM meetings WHERE id = $1")
            .bind(id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(content, json!({}), "absent content is stored as {{}}");
    assert_eq!(template, None);
}

#[tokio::test]
async fn create_validates_its_input() {
    let app = spawn_app().await;
    let o = org(&app).await;

    let (bad_date, body) = app
        .mutate_as(
            MANAGER,
            "meeting.create",
            json!({"personId": o.employee, "date": "someday"}),
        )
        .await;
    let (no_date, no_date_body) = app
        .mutate_as(MANAGER, "meeting.create", json!({"personId": o.employee}))
        .await;
    let (bad_template, _) = app
        .mutate_as(
            MANAGER,
            "meeting.create",
            json!({"personId": o.employee, "date": 1_700_000_000_000_i64, "templateId": "nope"}),
        )
        .await;
    let (empty_template, _) = app
        .mutate_as(
            MANAGER,
            "meeting.create",
            json!({"personId": o.employee, "date": 1_700_000_000_000_i64, "templateId": ""}),
        )
        .await;

    assert_eq!(bad_date, 400);
    assert_eq!(
        body["error"]["data"]["zodError"]["fieldErrors"]["date"],
        json!(["Invalid date"])
    );
    assert_eq!(no_date, 400);
    assert_eq!(
        no_date_body["error"]["data"]["zodError"]["fieldErrors"]["date"],
        json!(["Invalid date"])
    );
    assert_eq!(bad_template, 400, "a dangling template is BAD_REQUEST");
    assert_eq!(empty_template, 200, "\"\" means no template");
}

#[tokio::test]
async fn create_rejects_a_non_string_template_as_zods_union_does() {
    let app = spawn_app().await;
    let o = org(&app).await;

    let (status, body) = app
        .mutate_as(
            MANAGER,
            "meeting.create",
            json!({"personId": o.employee, "date": "2026-03-15", "templateId": null}),
        )
        .await;

    assert_eq!(status, 400);
    assert_eq!(
        body["error"]["data"]["zodError"]["fieldErrors"],
        json!({"templateId": ["Invalid input"]})
    );
    let issues: Value = serde_json::from_str(body["error"]["message"].as_str().unwrap()).unwrap();
    assert_eq!(issues[0]["code"], "invalid_union");
    assert_eq!(issues[0]["path"], json!(["templateId"]));
    assert_eq!(issues[0]["unionErrors"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn dates_are_read_as_js_new_date_reads_them() {
    let app = spawn_app().await;
    let o = org(&app).await;

    // A datetime-local value (no offset: server local time, UTC), and the
    // shorter ISO forms JS accepts.
    for (date, stored) in [
        ("2026-03-15T10:00", "2026-03-15T10:00:00.000Z"),
        ("2026-03-15T10:00Z", "2026-03-15T10:00:00.000Z"),
        ("2026-03", "2026-03-01T00:00:00.000Z"),
        ("2026", "2026-01-01T00:00:00.000Z"),
    ] {
        let id = create_meeting(&app, MANAGER, &o.employee, date).await;
        let (_, view) = app
            .query_as(MANAGER, "meeting.getById", Some(json!({"id": id})))
            .await;
        assert_eq!(data(&view)["date"], stored, "{date}");
    }
}

#[tokio::test]
async fn only_the_author_updates_or_deletes_a_note() {
    let app = spawn_app().await;
    let o = org(&app).await;
    let meeting = create_meeting(&app, MANAGER, &o.employee, "2026-03-15").await;

    let (other_update, body) = app
        .mutate_as(
            VP,
            "meeting.update",
            json!({"id": meeting, "content": {"x": 1}}),
        )
        .await;
    let (other_delete, _) = app
        .mutate_as(VP, "meeting.delete", json!({"id": meeting}))
        .await;
    let (missing, _) = app
        .mutate_as(MANAGER, "meeting.update", json!({"id": "nope"}))
        .await;
    let (null_content, null_body) = app
        .mutate_as(
            MANAGER,
            "meeting.update",
            json!({"id": meeting, "content": null}),
        )
        .await;
    let (date_only, date_body) = app
        .mutate_as(
            MANAGER,
            "meeting.update",
            json!({"id": meeting, "date": "2026-04-01"}),
        )
        .await;

    assert_eq!(other_update, 403);
    assert_eq!(body["error"]["message"], "FORBIDDEN");
    assert_eq!(other_delete, 403);
    assert_eq!(missing, 403);
    assert_eq!(null_content, 400, "{null_body}");
    assert_eq!(date_only, 200);
    assert_eq!(data(&date_body), &json!({"id": meeting}));
    let (_, view) = app
        .query_as(MANAGER, "meeting.getById", Some(json!({"id": meeting})))
        .await;
    assert_eq!(data(&view)["date"], "2026-04-01T00:00:00.000Z");
    assert_eq!(
        data(&view)["content"],
        json!({"notes": "hi"}),
        "content kept"
    );

    let (updated, _) = app
        .mutate_as(
            MANAGER,
            "meeting.update",
            json!({"id": meeting, "content": [1, 2]}),
        )
        .await;
    assert_eq!(updated, 200);
    let (_, view) = app
        .query_as(MANAGER, "meeting.getById", Some(json!({"id": meeting})))
        .await;
    assert_eq!(data(&view)["content"], json!([1, 2]));

    let (deleted, deleted_body) = app
        .mutate_as(MANAGER, "meeting.delete", json!({"id": meeting}))
        .await;
    assert_eq!(deleted, 200);
    assert_eq!(data(&deleted_body), &json!({"id": meeting}));
    let (gone, _) = app
        .query_as(MANAGER, "meeting.getById", Some(json!({"id": meeting})))
        .await;
    assert_eq!(gone, 404);
}

// --- Templates -----------------------------------------------------------------------------

async fn create_template(app: &TestApp, author: &str, name: &str) -> String {
    let (status, body) = app
        .mutate_as(
            author,
            "meetingTemplate.create",
            json!({"name": name, "description": "d", "content": {"blocks": []}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    data(&body)["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn templates_are_listed_newest_first_and_cached_for_a_day() {
    let app = spawn_app().await;
    let first = create_template(&app, MANAGER, "First").await;
    let second = create_template(&app, VP, "Second").await;
    let key = app.key("meeting-templates:all");

    let (status, body) = app.query("meetingTemplate.getAll", None).await;

    assert_eq!(status, 200);
    let list = data(&body).as_array().unwrap();
    assert_eq!(list[0]["id"], json!(second));
    assert_eq!(list[1]["id"], json!(first));
    let keys = keys(&list[0]);
    assert_eq!(keys, ["id", "name", "description", "authorId", "updatedAt"]);
    let ttl = app.redis_ttl(&key).await;
    assert!((86_000..=86_400).contains(&ttl), "ttl {ttl}");
    app.redis_set(&key, r#"[{"id":"from-cache"}]"#).await;
    let (_, cached) = app.query("meetingTemplate.getAll", None).await;
    assert_eq!(data(&cached), &json!([{"id": "from-cache"}]));
}

#[tokio::test]
async fn every_template_mutation_invalidates_the_list() {
    let app = spawn_app().await;
    let id = create_template(&app, MANAGER, "T").await;
    let key = app.key("meeting-templates:all");
    let mutations = [
        ("meetingTemplate.create", json!({"name": "U"})),
        ("meetingTemplate.update", json!({"id": id, "name": "T2"})),
        ("meetingTemplate.delete", json!({"id": id})),
    ];
    for (path, input) in mutations {
        app.query("meetingTemplate.getAll", None).await;
        assert!(app.redis_get(&key).await.is_some());

        let (status, body) = app.mutate_as(MANAGER, path, input).await;

        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(app.redis_get(&key).await, None, "{path}");
    }
}

#[tokio::test]
async fn template_get_by_id_and_author_only_changes() {
    let app = spawn_app().await;
    let id = create_template(&app, MANAGER, "T").await;

    let (status, body) = app
        .query("meetingTemplate.getById", Some(json!({"id": id})))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        data(&body),
        &json!({"id": id, "name": "T", "description": "d", "content": {"blocks": []},
                "authorId": MANAGER})
    );
    let (missing, missing_body) = app
        .query("meetingTemplate.getById", Some(json!({"id": "nope"})))
        .await;
    assert_eq!(missing, 404);
    assert_eq!(missing_body["error"]["message"], "Template not found.");

    let (other, _) = app
        .mutate_as(VP, "meetingTemplate.update", json!({"id": id, "name": "X"}))
        .await;
    let (other_delete, _) = app
        .mutate_as(VP, "meetingTemplate.delete", json!({"id": id}))
        .await;
    let (empty_name, _) = app
        .mutate_as(
            MANAGER,
            "meetingTemplate.update",
            json!({"id": id, "name": ""}),
        )
        .await;
    assert_eq!((other, other_delete, empty_name), (403, 403, 400));

    // Absent description is kept; absent content resets to {} (as in the original).
    let (ok, _) = app
        .mutate_as(
            MANAGER,
            "meetingTemplate.update",
            json!({"id": id, "name": "T2"}),
        )
        .await;
    assert_eq!(ok, 200);
    let (_, body) = app
        .query("meetingTemplate.getById", Some(json!({"id": id})))
        .await;
    assert_eq!(data(&body)["name"], "T2");
    assert_eq!(data(&body)["description"], "d");
    assert_eq!(data(&body)["content"], json!({}));
}

#[tokio::test]
async fn deleting_a_template_keeps_its_meetings_without_it() {
    let app = spawn_app().await;
    let o = org(&app).await;
    let template = create_template(&app, MANAGER, "T").await;
    let (status, body) = app
        .mutate_as(
            MANAGER,
            "meeting.create",
            json!({"personId": o.employee, "date": "2026-03-15", "templateId": template}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let meeting = data(&body)["id"].as_str().unwrap().to_string();
    let (_, view) = app
        .query_as(MANAGER, "meeting.getById", Some(json!({"id": meeting})))
        .await;
    assert_eq!(
        data(&view)["template"],
        json!({"id": template, "name": "T"})
    );

    app.mutate_as(MANAGER, "meetingTemplate.delete", json!({"id": template}))
        .await;

    let (_, view) = app
        .query_as(MANAGER, "meeting.getById", Some(json!({"id": meeting})))
        .await;
    assert_eq!(data(&view)["templateId"], Value::Null);
    assert_eq!(data(&view)["template"], Value::Null);
}
