//! Router `project` end to end: the `ProjectListItem`/`ProjectDetail` shapes
//! and orderings, reads through `projects:list` and `project:{id}`, their cost
//! (Upstash round trips and Postgres statements from `Server-Timing`), search,
//! validation, and every invalidation.

use serde_json::{json, Value};

use crate::helpers::KEY_RESULT_KEYS;
use crate::helpers::{count, mark};
use crate::helpers::{data, error_code, server_timing_counts, spawn_app, token_for, TestApp, USER};
use crate::helpers::{field_errors, keys};

/// Creates a project through the API; returns the row.
pub async fn create_project(app: &TestApp, name: &str) -> Value {
    let (status, body) = app.mutate("project.create", json!({"name": name})).await;
    assert_eq!(status, 200, "{body}");
    data(&body).clone()
}

const PROJECT_KEYS: [&str; 8] = [
    "id",
    "name",
    "description",
    "githubUrl",
    "gitlabUrl",
    "imageUrl",
    "createdAt",
    "updatedAt",
];

async fn exec(app: &TestApp, sql: &str) {
    sqlx::raw_sql(sql).execute(&app.db).await.unwrap();
}

/// A batch GET as `httpBatchLink` sends it, with its `Server-Timing` header.
async fn batch_timed(app: &TestApp, calls: &[(&str, Option<Value>)]) -> (u16, Value, String) {
    let paths: Vec<&str> = calls.iter().map(|(p, _)| *p).collect();
    let mut inputs = serde_json::Map::new();
    for (i, (_, input)) in calls.iter().enumerate() {
        if let Some(v) = input {
            inputs.insert(i.to_string(), v.clone());
        }
    }
    let encoded = percent_encoding::utf8_percent_encode(
        &Value::Object(inputs).to_string(),
        percent_encoding::NON_ALPHANUMERIC,
    )
    .to_string();
    let res = app
        .http
        .get(format!(
            "{}/api/trpc/{}?batch=1&input={encoded}",
            app.base_url,
            paths.join(",")
        ))
        .bearer_auth(token_for(USER))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let timing = res.headers()["server-timing"].to_str().unwrap().to_string();
    (status, res.json().await.unwrap(), timing)
}

#[tokio::test]
async fn create_returns_the_row_with_empty_urls_as_null_and_invalidates_the_list() {
    let app = spawn_app().await;
    let list = mark(&app, "projects:list").await;

    let (status, body) = app
        .mutate(
            "project.create",
            json!({"name": "Apollo", "githubUrl": "", "gitlabUrl": "https://gitlab.com/a/b"}),
        )
        .await;

    assert_eq!(status, 200, "{body}");
    let p = data(&body);
    assert_eq!(keys(p), PROJECT_KEYS);
    assert_eq!(p["description"], Value::Null);
    assert_eq!(p["githubUrl"], Value::Null);
    assert_eq!(p["gitlabUrl"], "https://gitlab.com/a/b");
    assert!(p["createdAt"].as_str().unwrap().ends_with('Z'));
    assert_eq!(p["createdAt"], p["updatedAt"]);
    assert_eq!(app.redis_get(&list).await, None);
}

#[tokio::test]
async fn create_refuses_bad_input_with_field_errors_and_writes_nothing() {
    let app = spawn_app().await;
    let long = "x".repeat(10_001);

    for (input, field, message) in [
        (
            json!({"name": ""}),
            "name",
            "String must contain at least 1 character(s)",
        ),
        (json!({}), "name", "Required"),
        (
            json!({"name": "A", "githubUrl": "javascript:alert(1)"}),
            "githubUrl",
            "URL must start with http:// or https://",
        ),
        (
            json!({"name": "A", "imageUrl": "nope"}),
            "imageUrl",
            "Invalid url",
        ),
        (
            json!({"name": "A", "gitlabUrl": null}),
            "gitlabUrl",
            "Invalid input",
        ),
        (
            json!({"name": "A\u{0}B"}),
            "name",
            "String must not contain NUL characters (\\u0000)",
        ),
        (
            json!({"name": "x".repeat(501)}),
            "name",
            "String must contain at most 500 character(s)",
        ),
        (
            json!({"name": "A", "description": long}),
            "description",
            "String must contain at most 10000 character(s)",
        ),
        (
            json!({"name": "A", "imageUrl": format!("https://a.io/{}", "x".repeat(2_048))}),
            "imageUrl",
            "String must contain at most 2048 character(s)",
        ),
    ] {
        let (status, body) = app.mutate("project.create", input.clone()).await;
        assert_eq!(status, 400, "{input}: {body}");
        // Each bad field is reported once, with the one message.
        assert_eq!(
            field_errors(&body)[field],
            json!([message]),
            "{input}: {body}"
        );
    }
    assert_eq!(count(&app, "projects").await, 0);
}

#[tokio::test]
async fn update_keeps_an_absent_description_clears_absent_urls_and_invalidates_embedding_views() {
    let app = spawn_app().await;
    let (_, body) = app
        .mutate(
            "project.create",
            json!({"name": "Apollo", "description": "Moon", "githubUrl": "https://github.com/a/b"}),
        )
        .await;
    let id = data(&body)["id"].as_str().unwrap().to_string();
    let member = app.insert_person("Mia", None, Some("user_mia")).await;
    sqlx::query("INSERT INTO team_members (id, person_id, project_id) VALUES ('tm1', $1, $2)")
        .bind(&member)
        .bind(&id)
        .execute(&app.db)
        .await
        .unwrap();
    let marked = [
        mark(&app, &format!("project:{id}")).await,
        mark(&app, "projects:list").await,
        mark(&app, "people:all").await,
        mark(&app, &format!("github-stats:{id}")).await,
        mark(&app, "person-me:user_mia").await,
    ];
    let untouched = mark(&app, "person-me:user_other").await;

    let (status, body) = app
        .mutate("project.update", json!({"id": id, "name": "Artemis"}))
        .await;

    assert_eq!(status, 200, "{body}");
    let p = data(&body);
    assert_eq!(keys(p), PROJECT_KEYS);
    assert_eq!(p["name"], "Artemis");
    assert_eq!(p["description"], "Moon");
    assert_eq!(p["githubUrl"], Value::Null);
    for key in &marked {
        assert_eq!(app.redis_get(key).await, None, "{key}");
    }
    assert!(app.redis_get(&untouched).await.is_some());
}

#[tokio::test]
async fn update_and_delete_of_unknown_or_empty_ids_are_not_found_and_bad_request() {
    let app = spawn_app().await;

    let (s1, b1) = app
        .mutate("project.update", json!({"id": "nope", "name": "X"}))
        .await;
    let (s2, b2) = app.mutate("project.delete", json!({"id": "nope"})).await;
    let (s3, b3) = app.mutate("project.delete", json!({"id": ""})).await;

    assert_eq!((s1, error_code(&b1)), (404, "NOT_FOUND"));
    assert_eq!(b1["error"]["message"], "Project nope not found.");
    assert_eq!((s2, error_code(&b2)), (404, "NOT_FOUND"));
    assert_eq!(s3, 400);
    assert_eq!(
        field_errors(&b3)["id"],
        json!(["String must contain at least 1 character(s)"])
    );
}

#[tokio::test]
async fn delete_returns_the_row_cascades_and_invalidates_people_and_stats() {
    let app = spawn_app().await;
    let p = create_project(&app, "Apollo").await;
    let id = p["id"].as_str().unwrap();
    exec(
        &app,
        &format!(
            "INSERT INTO teams (id, name, project_id) VALUES ('t1', 'Core', '{id}');
             INSERT INTO project_links (id, label, url, project_id) VALUES ('l1', 'Doc', 'https://d', '{id}');"
        ),
    )
    .await;
    let marked = [
        mark(&app, &format!("project:{id}")).await,
        mark(&app, "projects:list").await,
        mark(&app, "people:all").await,
        mark(&app, &format!("github-stats:{id}")).await,
    ];

    let (status, body) = app.mutate("project.delete", json!({"id": id})).await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(data(&body), &p);
    assert_eq!(count(&app, "teams").await, 0);
    assert_eq!(count(&app, "project_links").await, 0);
    for key in &marked {
        assert_eq!(app.redis_get(key).await, None, "{key}");
    }
}

#[tokio::test]
async fn get_all_lists_newest_first_with_only_the_newest_assessment_and_is_cached_for_an_hour() {
    let app = spawn_app().await;
    exec(
        &app,
        "INSERT INTO projects (id, name, created_at, updated_at) VALUES
           ('old', 'Old', '2025-01-01 00:00:00', '2025-01-01 00:00:00'),
           ('new', 'New', '2025-02-01 00:00:00', '2025-02-01 00:00:00');
         INSERT INTO health_assessments (id, project_id, author_id, overall_status, created_at, updated_at) VALUES
           ('h1', 'old', 'u', 'RED', '2025-01-02', '2025-01-02'),
           ('h2', 'old', 'u', 'GREEN', '2025-01-03', '2025-01-03');",
    )
    .await;
    let key = app.key("projects:list");
    // Loads the cache scripts into Redis (a first EVALSHA may need a retry).
    app.query("project.getById", Some(json!({"id": "other"})))
        .await;

    let (status, body, cold) = app.query_timed(USER, "project.getAll", None).await;
    let (_, _, warm) = app.query_timed(USER, "project.getAll", None).await;

    assert_eq!(status, 200);
    let list = data(&body).as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["id"], "new");
    assert_eq!(list[0]["healthAssessments"], json!([]));
    let mut expected_keys = PROJECT_KEYS.to_vec();
    expected_keys.push("healthAssessments");
    assert_eq!(keys(&list[1]), expected_keys);
    let newest = &list[1]["healthAssessments"];
    assert_eq!(newest.as_array().unwrap().len(), 1);
    assert_eq!(newest[0]["id"], "h2");
    assert_eq!(newest[0]["createdAt"], "2025-01-03T00:00:00.000Z");
    assert_eq!(newest[0]["growthStatus"], Value::Null);
    let stored: Value = serde_json::from_str(&app.redis_get(&key).await.unwrap()).unwrap();
    assert_eq!(&stored, data(&body));
    let ttl = app.redis_ttl(&key).await;
    assert!((3_590..=3_600).contains(&ttl), "ttl {ttl}");
    assert_eq!(server_timing_counts(&cold), (2, 1), "{cold}");
    assert_eq!(server_timing_counts(&warm), (1, 0), "{warm}");
}

#[tokio::test]
async fn list_pages_newest_first_counts_all_and_matches_search_literally() {
    let app = spawn_app().await;
    exec(
        &app,
        "INSERT INTO projects (id, name, created_at, updated_at) VALUES
           ('p1', '100% done', '2025-01-01', now()),
           ('p2', '100 done', '2025-01-02', now()),
           ('p3', 'a_b', '2025-01-03', now()),
           ('p4', 'AXB', '2025-01-04', now()),
           ('p5', 'back\\slash', '2025-01-05', now());",
    )
    .await;
    let names = |body: &Value| -> Vec<String> {
        data(body)["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_string())
            .collect()
    };

    let (status, page) = app
        .query("project.list", Some(json!({"page": 2, "pageSize": 2})))
        .await;
    let (_, percent) = app
        .query("project.list", Some(json!({"search": "%"})))
        .await;
    let (_, underscore) = app
        .query("project.list", Some(json!({"search": "_"})))
        .await;
    let (_, backslash) = app
        .query("project.list", Some(json!({"search": "\\"})))
        .await;
    let (_, case) = app
        .query("project.list", Some(json!({"search": "axb"})))
        .await;

    assert_eq!(status, 200);
    assert_eq!(names(&page), ["a_b", "100 done"].map(String::from));
    assert_eq!(data(&page)["totalCount"], 5);
    assert_eq!(
        keys(&data(&page)["items"][0]).last(),
        Some(&"healthAssessments")
    );
    assert_eq!(names(&percent), ["100% done"].map(String::from));
    assert_eq!(data(&percent)["totalCount"], 1);
    assert_eq!(names(&underscore), ["a_b"].map(String::from));
    assert_eq!(names(&backslash), ["back\\slash"].map(String::from));
    assert_eq!(names(&case), ["AXB"].map(String::from));
    assert_eq!(app.redis_get(&app.key("projects:list")).await, None);
}

#[tokio::test]
async fn list_rejects_bad_paging_and_survives_huge_pages() {
    let app = spawn_app().await;
    create_project(&app, "Apollo").await;

    let (s1, b1) = app
        .query("project.list", Some(json!({"pageSize": 101})))
        .await;
    let (s2, b2) = app.query("project.list", Some(json!({"page": 1.5}))).await;
    let (s3, b3) = app
        .query("project.list", Some(json!({"search": "a\u{0}"})))
        .await;
    let (s4, b4) = app
        .query(
            "project.list",
            Some(json!({"page": i32::MAX, "pageSize": 100})),
        )
        .await;
    let (s5, b5) = app
        .query("project.list", Some(json!({"page": 1e300})))
        .await;

    assert_eq!(s1, 400);
    assert_eq!(
        field_errors(&b1)["pageSize"],
        json!(["Number must be less than or equal to 100"])
    );
    assert_eq!(s2, 400);
    assert_eq!(
        field_errors(&b2)["page"],
        json!(["Expected integer, received float"])
    );
    assert_eq!(s3, 400);
    assert!(field_errors(&b3)["search"].is_array());
    assert_eq!(s4, 200, "{b4}");
    assert_eq!(data(&b4)["items"], json!([]));
    assert_eq!(data(&b4)["totalCount"], 1);
    // Integers without an explicit bound stay inside int4, as for `person.list`.
    assert_eq!(s5, 400);
    assert_eq!(
        field_errors(&b5)["page"],
        json!(["Number must be less than or equal to 2147483647"])
    );
}

/// A project with every relation of `ProjectDetail`; returns its id.
async fn rich_project(app: &TestApp) -> String {
    exec(
        app,
        "INSERT INTO projects (id, name, description, created_at, updated_at)
           VALUES ('p1', 'Apollo', 'Moon', '2025-01-01 00:00:00', '2025-01-02 03:04:05.678');
         INSERT INTO projects (id, name, updated_at) VALUES ('other', 'Other', now());
         INSERT INTO roles (id, name, color) VALUES ('d1', 'Eng', '#0af');
         INSERT INTO titles (id, name, sort_order, department_id) VALUES ('ti1', 'Staff', 3, 'd1');
         INSERT INTO people (id, first_name, last_name, email, role_id, title_id, image_url, updated_at) VALUES
           ('pz', 'Zoe', 'Zimmer', 'z@x.io', 'd1', 'ti1', 'https://img/z', '2025-01-01'),
           ('pa', 'Abe', 'Adams', 'a@x.io', NULL, NULL, NULL, '2025-01-01');
         INSERT INTO teams (id, name, project_id) VALUES ('tb', 'Beta', 'p1'), ('ta', 'Alpha', 'p1'),
           ('tx', 'Elsewhere', 'other');
         INSERT INTO team_members (id, person_id, project_id) VALUES ('m1', 'pz', 'p1'), ('m2', 'pa', 'p1'),
           ('m3', 'pa', 'other');
         INSERT INTO team_memberships (id, team_id, team_member_id) VALUES ('ms1', 'tb', 'm1'), ('ms2', 'ta', 'm1');
         INSERT INTO health_assessments (id, project_id, author_id, overall_status, overall_notes, created_at, updated_at) VALUES
           ('h1', 'p1', 'u', 'RED', '{\"type\": \"doc\"}', '2025-01-02', '2025-01-02'),
           ('h2', 'p1', 'u', 'GREEN', NULL, '2025-01-03', '2025-01-03');
         INSERT INTO milestones (id, title, target_date, status, sort_order, project_id, parent_id, updated_at, created_at) VALUES
           ('ms-late', 'Late', NULL, 'NOT_STARTED', 0, 'p1', NULL, '2025-01-01', '2025-01-01'),
           ('ms-first', 'First', '2026-01-01', 'IN_PROGRESS', 0, 'p1', NULL, '2025-01-01', '2025-01-01'),
           ('ms-second', 'Second', '2025-06-01', 'NOT_STARTED', 1, 'p1', NULL, '2025-01-01', '2025-01-01'),
           ('ms-child', 'Child', '2026-02-01', 'AT_RISK', 0, 'p1', 'ms-first', '2025-01-01', '2025-01-01'),
           ('ms-grandchild', 'Grandchild', NULL, 'NOT_STARTED', 0, 'p1', 'ms-child', '2025-01-01', '2025-01-01'),
           ('ms-foreign', 'Foreign', NULL, 'NOT_STARTED', 0, 'other', NULL, '2025-01-01', '2025-01-01');
         INSERT INTO milestone_assignments (id, milestone_id, person_id, created_at) VALUES
           ('a1', 'ms-first', 'pz', '2025-01-01 00:00:00.001'), ('a2', 'ms-child', 'pa', '2025-01-01');
         INSERT INTO quarterly_goals (id, title, quarter, status, sort_order, project_id, updated_at) VALUES
           ('g1', 'Grow', 'Q1 2026', 'COMPLETED', 0, 'p1', '2025-01-01');
         INSERT INTO quarterly_goal_assignments (id, quarterly_goal_id, person_id) VALUES ('ga1', 'g1', 'pa');
         INSERT INTO key_results (id, title, target_value, current_value, unit, status, sort_order, milestone_id, quarterly_goal_id, updated_at) VALUES
           ('k2', 'Second KR', 10, 2.5, 'users', 'IN_PROGRESS', 1, 'ms-first', NULL, '2025-01-01'),
           ('k1', 'First KR', 100, 0, NULL, 'NOT_STARTED', 0, 'ms-first', NULL, '2025-01-01'),
           ('k3', 'Goal KR', 5, 5, NULL, 'COMPLETED', 0, NULL, 'g1', '2025-01-01');
         INSERT INTO project_links (id, label, url, project_id) VALUES
           ('l1', 'Doc', 'https://doc', 'p1'), ('l2', 'Board', 'https://board', 'p1');",
    )
    .await;
    "p1".into()
}

#[tokio::test]
async fn get_by_id_returns_the_whole_project_detail_in_the_original_shape_and_order() {
    let app = spawn_app().await;
    let id = rich_project(&app).await;
    // Dates JavaScript prints with a year of 0 or an expanded year, through
    // the one formatter (a member's person fragment and a roadmap item).
    exec(
        &app,
        "UPDATE people SET created_at = '0001-06-15 00:00:00 BC' WHERE id = 'pa';
         UPDATE milestones SET target_date = '0002-06-15 10:20:30.045 BC' WHERE id = 'ms-second';",
    )
    .await;

    let (status, body) = app.query("project.getById", Some(json!({"id": id}))).await;

    assert_eq!(status, 200, "{body}");
    let p = data(&body);
    assert_eq!(
        p["teamMembers"][0]["person"]["createdAt"],
        "0000-06-15T00:00:00.000Z"
    );
    assert_eq!(
        p["milestones"][2]["targetDate"],
        "-000001-06-15T10:20:30.045Z"
    );
    let mut top = PROJECT_KEYS.to_vec();
    top.extend([
        "healthAssessments",
        "teams",
        "teamMembers",
        "milestones",
        "quarterlyGoals",
        "links",
    ]);
    assert_eq!(keys(p), top);
    assert_eq!(p["updatedAt"], "2025-01-02T03:04:05.678Z");
    let ids = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids(&p["healthAssessments"]), ["h2", "h1"]);
    assert_eq!(
        p["healthAssessments"][1]["overallNotes"],
        json!({"type": "doc"})
    );
    assert_eq!(
        keys(&p["healthAssessments"][0])[..5],
        [
            "id",
            "projectId",
            "authorId",
            "overallStatus",
            "overallNotes"
        ]
    );
    assert_eq!(ids(&p["teams"]), ["ta", "tb"]);
    assert_eq!(
        p["teams"][0],
        json!({"id": "ta", "name": "Alpha", "description": null, "imageUrl": null, "projectId": "p1"})
    );

    // Members by last name, each with PersonWithOrg and MembershipWithTeam.
    assert_eq!(ids(&p["teamMembers"]), ["m2", "m1"]);
    let zoe = &p["teamMembers"][1];
    assert_eq!(
        keys(zoe),
        ["id", "personId", "projectId", "person", "teamMemberships"]
    );
    let person_keys = keys(&zoe["person"]);
    assert_eq!(person_keys[0], "id");
    assert_eq!(
        &person_keys[person_keys.len() - 4..],
        ["createdAt", "updatedAt", "department", "title"]
    );
    assert_eq!(
        zoe["person"]["department"],
        json!({"id": "d1", "name": "Eng", "color": "#0af"})
    );
    assert_eq!(zoe["person"]["title"]["department"]["name"], "Eng");
    assert_eq!(zoe["person"]["updatedAt"], "2025-01-01T00:00:00.000Z");
    // A person's dates inside the project view are ISO strings, not epoch numbers.
    let created = zoe["person"]["createdAt"].as_str().unwrap_or_default();
    assert_eq!(
        enghub::db::time::parse(created).map(|t| enghub::db::time::to_iso(&t)),
        Some(created.to_string()),
        "{}",
        zoe["person"]["createdAt"]
    );
    assert_eq!(zoe["person"]["imageUrl"], "https://img/z");
    assert_eq!(p["teamMembers"][0]["person"]["title"], Value::Null);
    assert_eq!(ids(&zoe["teamMemberships"]), ["ms1", "ms2"]);
    assert_eq!(
        zoe["teamMemberships"][0],
        json!({"id": "ms1", "teamId": "tb", "teamMemberId": "m1",
               "team": {"id": "tb", "name": "Beta", "description": null, "imageUrl": null, "projectId": "p1"}})
    );
    assert_eq!(p["teamMembers"][0]["teamMemberships"], json!([]));

    // Top-level milestones by sortOrder, then targetDate with NULLs last.
    assert_eq!(ids(&p["milestones"]), ["ms-first", "ms-late", "ms-second"]);
    let first = &p["milestones"][0];
    assert_eq!(
        keys(first),
        [
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
            "assignments",
            "keyResults",
            "children"
        ]
    );
    assert_eq!(first["targetDate"], "2026-01-01T00:00:00.000Z");
    assert_eq!(p["milestones"][1]["targetDate"], Value::Null);
    assert_eq!(
        first["assignments"],
        json!([{"id": "a1", "milestoneId": "ms-first", "personId": "pz",
                "createdAt": "2025-01-01T00:00:00.001Z",
                "person": {"id": "pz", "firstName": "Zoe", "lastName": "Zimmer", "imageUrl": "https://img/z"}}])
    );
    assert_eq!(ids(&first["keyResults"]), ["k1", "k2"]);
    assert_eq!(keys(&first["keyResults"][0]), KEY_RESULT_KEYS);
    assert_eq!(first["keyResults"][1]["currentValue"], json!(2.5));
    let serialized = serde_json::to_string(&first["keyResults"][1]).unwrap();
    assert!(serialized.contains("\"targetValue\":10,"), "{serialized}");
    // Two levels only: the child carries no `children`.
    assert_eq!(ids(&first["children"]), ["ms-child"]);
    let child = &first["children"][0];
    assert_eq!(keys(child).last(), Some(&"keyResults"));
    assert_eq!(child["assignments"][0]["person"]["firstName"], "Abe");
    assert_eq!(child["parentId"], "ms-first");

    let goal = &p["quarterlyGoals"][0];
    assert_eq!(keys(goal)[..4], ["id", "title", "description", "quarter"]);
    assert_eq!(goal["quarter"], "Q1 2026");
    assert_eq!(goal["assignments"][0]["quarterlyGoalId"], "g1");
    assert_eq!(goal["keyResults"][0]["quarterlyGoalId"], "g1");
    assert_eq!(goal["children"], json!([]));

    assert_eq!(ids(&p["links"]), ["l1", "l2"]);
    assert_eq!(
        p["links"][0],
        json!({"id": "l1", "label": "Doc", "url": "https://doc", "projectId": "p1"})
    );
}

#[tokio::test]
async fn get_by_id_costs_two_statements_at_most_cold_and_no_statement_warm() {
    let app = spawn_app().await;
    let id = rich_project(&app).await;
    let key = app.key(&format!("project:{id}"));
    let input = json!({"id": id});
    // Loads the cache scripts into Redis (a first EVALSHA may need a retry).
    app.query("project.getById", Some(json!({"id": "other"})))
        .await;

    let (_, cold_body, cold) = app
        .query_timed(USER, "project.getById", Some(input.clone()))
        .await;
    let (_, warm_body, warm) = app.query_timed(USER, "project.getById", Some(input)).await;

    let (cold_trips, cold_queries) = server_timing_counts(&cold);
    assert_eq!(cold_trips, 2, "{cold}");
    assert!(cold_queries <= 2, "{cold}");
    assert_eq!(server_timing_counts(&warm), (1, 0), "{warm}");
    assert_eq!(cold_body, warm_body);
    let ttl = app.redis_ttl(&key).await;
    assert!((3_590..=3_600).contains(&ttl), "ttl {ttl}");
}

#[tokio::test]
async fn a_large_project_costs_the_same_statements_as_a_small_one() {
    let app = spawn_app().await;
    let small = create_project(&app, "Small").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let large = create_project(&app, "Large").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    exec(
        &app,
        &format!(
            "INSERT INTO people (id, first_name, last_name, email, updated_at)
               SELECT 'pp' || n, 'F' || n, 'L' || n, 'p' || n || '@x.io', now() FROM generate_series(1, 120) n;
             INSERT INTO teams (id, name, project_id)
               SELECT 'tt' || n, 'Team ' || n, '{large}' FROM generate_series(1, 12) n;
             INSERT INTO team_members (id, person_id, project_id)
               SELECT 'tm' || n, 'pp' || n, '{large}' FROM generate_series(1, 120) n;
             INSERT INTO team_members (id, person_id, project_id) VALUES ('small1', 'pp1', '{small}');
             INSERT INTO team_memberships (id, team_id, team_member_id)
               SELECT 'ms' || n, 'tt' || (n % 12 + 1), 'tm' || n FROM generate_series(1, 120) n;
             INSERT INTO milestones (id, title, project_id, parent_id, updated_at)
               SELECT 'mm' || n, 'M' || n, '{large}', CASE WHEN n > 20 THEN 'mm' || (n % 20 + 1) END, now()
               FROM generate_series(1, 60) n;
             INSERT INTO milestone_assignments (id, milestone_id, person_id)
               SELECT 'ma' || n, 'mm' || (n % 60 + 1), 'pp' || n FROM generate_series(1, 120) n;
             INSERT INTO key_results (id, title, target_value, milestone_id, updated_at)
               SELECT 'kr' || n, 'K' || n, 10, 'mm' || (n % 60 + 1), now() FROM generate_series(1, 100) n;"
        ),
    )
    .await;

    let cost = |id: String| {
        let app = &app;
        async move {
            let (status, body, timing) = app
                .query_timed(USER, "project.getById", Some(json!({"id": id})))
                .await;
            assert_eq!(status, 200);
            (server_timing_counts(&timing).1, body)
        }
    };
    let (small_queries, _) = cost(small).await;
    let (large_queries, body) = cost(large).await;

    assert_eq!(small_queries, large_queries);
    assert!(large_queries <= 2);
    let p = data(&body);
    assert_eq!(p["teamMembers"].as_array().unwrap().len(), 120);
    assert_eq!(p["milestones"].as_array().unwrap().len(), 20);
    assert_eq!(p["milestones"][0]["children"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn get_by_id_of_an_unknown_project_is_null_and_caches_nothing() {
    let app = spawn_app().await;

    let (status, body) = app
        .query("project.getById", Some(json!({"id": "missing"})))
        .await;
    let (_, again) = app
        .query("project.getById", Some(json!({"id": "missing"})))
        .await;
    let (empty, empty_body) = app.query("project.getById", Some(json!({"id": ""}))).await;

    assert_eq!(status, 200);
    assert_eq!(body, json!({"result": {"data": null}}));
    assert_eq!(again, body);
    assert_eq!(app.redis_get(&app.key("project:missing")).await, None);
    assert_eq!(app.redis_get(&app.key("lock:project:missing")).await, None);
    assert_eq!(empty, 400, "{empty_body}");
}

#[tokio::test]
async fn a_batch_of_cached_project_and_people_reads_is_one_round_trip() {
    let app = spawn_app().await;
    let id = rich_project(&app).await;
    let calls = [
        ("project.getById", Some(json!({"id": id}))),
        ("project.getAll", None),
        ("person.getAll", None),
    ];

    // Loads the cache scripts into Redis (a first EVALSHA may need a retry).
    app.query("project.getById", Some(json!({"id": "other"})))
        .await;
    let (cold_status, cold_body, cold) = batch_timed(&app, &calls).await;
    let (status, body, warm) = batch_timed(&app, &calls).await;

    assert_eq!((cold_status, status), (200, 200));
    assert_eq!(server_timing_counts(&cold).0, 2, "{cold}");
    assert_eq!(server_timing_counts(&warm), (1, 0), "{warm}");
    assert_eq!(body, cold_body);
    assert_eq!(body[0]["result"]["data"]["id"], "p1");
}

#[tokio::test]
async fn a_cached_project_is_served_until_a_mutation_invalidates_it() {
    let app = spawn_app().await;
    let p = create_project(&app, "Apollo").await;
    let id = p["id"].as_str().unwrap();
    let input = Some(json!({"id": id}));
    app.query("project.getById", input.clone()).await;
    app.query("project.getAll", None).await;
    // Written behind the API's back: the cache keeps serving the old name.
    sqlx::query("UPDATE projects SET name = 'Sneaky' WHERE id = $1")
        .bind(id)
        .execute(&app.db)
        .await
        .unwrap();
    let (_, stale) = app.query("project.getById", input.clone()).await;
    assert_eq!(data(&stale)["name"], "Apollo");

    let (status, _) = app
        .mutate("project.update", json!({"id": id, "name": "Artemis"}))
        .await;
    let (_, fresh) = app.query("project.getById", input).await;
    let (_, list) = app.query("project.getAll", None).await;

    assert_eq!(status, 200);
    assert_eq!(data(&fresh)["name"], "Artemis");
    assert_eq!(data(&list)[0]["name"], "Artemis");
}

#[tokio::test]
async fn a_mutation_invalidates_everything_in_one_round_trip_after_its_commit() {
    let app = spawn_app().await;
    let p = create_project(&app, "Apollo").await;
    let id = p["id"].as_str().unwrap();
    let marked = [
        mark(&app, &format!("project:{id}")).await,
        mark(&app, "projects:list").await,
        mark(&app, "people:all").await,
        mark(&app, &format!("github-stats:{id}")).await,
    ];

    let res = app
        .http
        .post(format!("{}/api/trpc/project.update", app.base_url))
        .header("content-type", "application/json")
        .bearer_auth(token_for(USER))
        .body(json!({"id": id, "name": "Artemis"}).to_string())
        .send()
        .await
        .unwrap();

    assert_eq!(res.status(), 200);
    let timing = res.headers()["server-timing"].to_str().unwrap().to_string();
    // The rate-limit check, then one invalidation of every key.
    assert_eq!(server_timing_counts(&timing).0, 2, "{timing}");
    for key in &marked {
        assert_eq!(app.redis_get(key).await, None, "{key}");
    }
}

#[tokio::test]
async fn every_seeded_project_page_has_teams_with_members_links_and_a_health_history() {
    let app = spawn_app().await;
    enghub::db::seed(&app.db).await.unwrap();

    let (status, list) = app.query("project.getAll", None).await;

    assert_eq!(status, 200);
    let projects = data(&list).as_array().unwrap();
    assert!(!projects.is_empty());
    for summary in projects {
        assert_eq!(summary["healthAssessments"].as_array().unwrap().len(), 1);
        let (status, body) = app
            .query("project.getById", Some(json!({"id": summary["id"]})))
            .await;
        assert_eq!(status, 200);
        let p = data(&body);
        let name = &p["name"];
        assert!(p["teams"].as_array().unwrap().len() >= 3, "{name}");
        assert!(p["links"].as_array().unwrap().len() >= 2, "{name}");
        let history = p["healthAssessments"].as_array().unwrap();
        assert!(history.len() >= 2, "{name}");
        assert!(
            history.iter().all(|h| h["growthStatus"].is_string()),
            "{name}"
        );
        for team in p["teams"].as_array().unwrap() {
            let members = p["teamMembers"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|m| {
                    m["teamMemberships"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|ms| ms["teamId"] == team["id"])
                })
                .count();
            assert!(members > 0, "{name}: team {} has no members", team["name"]);
        }
    }
}
