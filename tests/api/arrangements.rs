//! Router `arrangement` end to end: drafts, cloning, the one active
//! arrangement per project (enforced by the database), activation keeping
//! the live teams that survive, member moves, the caches each write of the
//! live layout invalidates, cross-arrangement consistency, and the bounded
//! statement count of activation.

use serde_json::{json, Value};

use crate::helpers::{
    data, error_code, field_errors, mark, ok, server_timing_counts, spawn_app, token_for, TestApp,
    USER,
};
use crate::projects::create_project;

async fn project(app: &TestApp, name: &str) -> String {
    create_project(app, name).await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A person with last name `last` (claimed by `clerk` if given) as a member
/// of `project`; returns the team-member id.
async fn member(app: &TestApp, project: &str, last: &str, clerk: Option<&str>) -> String {
    let person = app.insert_person("M", None, clerk).await;
    sqlx::query("UPDATE people SET last_name = $2 WHERE id = $1")
        .bind(&person)
        .bind(last)
        .execute(&app.db)
        .await
        .unwrap();
    let id = enghub::db::new_id();
    sqlx::query("INSERT INTO team_members (id, person_id, project_id) VALUES ($1, $2, $3)")
        .bind(&id)
        .bind(&person)
        .bind(project)
        .execute(&app.db)
        .await
        .unwrap();
    id
}

async fn live_team(app: &TestApp, project: &str, name: &str, desc: Option<&str>) -> String {
    let id = enghub::db::new_id();
    sqlx::query(
        "INSERT INTO teams (id, name, description, image_url, project_id) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&id)
    .bind(name)
    .bind(desc)
    .bind(desc.map(|d| format!("https://img.example/{d}.png")))
    .bind(project)
    .execute(&app.db)
    .await
    .unwrap();
    id
}

async fn join(app: &TestApp, team: &str, member: &str) {
    sqlx::query("INSERT INTO team_memberships (id, team_id, team_member_id) VALUES ($1, $2, $3)")
        .bind(enghub::db::new_id())
        .bind(team)
        .bind(member)
        .execute(&app.db)
        .await
        .unwrap();
}

async fn get(app: &TestApp, path: &str, input: Value) -> Value {
    let (status, body) = app.query(path, Some(input)).await;
    assert_eq!(status, 200, "{path}: {body}");
    data(&body).clone()
}

/// `arrangement.create` of a draft in `project`.
async fn draft(app: &TestApp, project: &str, name: &str) -> Value {
    ok(
        app,
        "arrangement.create",
        json!({"projectId": project, "name": name}),
    )
    .await
}

/// `arrangement.addTeam` to `arrangement`.
async fn add_team(app: &TestApp, arrangement: &str, name: &str) -> Value {
    ok(
        app,
        "arrangement.addTeam",
        json!({"arrangementId": arrangement, "name": name}),
    )
    .await
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

/// The live layout: `(team name, sorted member ids)` by name.
async fn layout(app: &TestApp, project: &str) -> Vec<(String, Vec<String>)> {
    sqlx::query_as(
        "SELECT t.name, COALESCE(array_agg(ms.team_member_id ORDER BY ms.team_member_id)
                FILTER (WHERE ms.id IS NOT NULL), '{}')
         FROM teams t LEFT JOIN team_memberships ms ON ms.team_id = t.id
         WHERE t.project_id = $1 GROUP BY t.id, t.name ORDER BY t.name",
    )
    .bind(project)
    .fetch_all(&app.db)
    .await
    .unwrap()
}

/// Team names of `project.getById` and, per team id, the members that
/// `person.getAll` shows in it (sorted).
async fn api_view(app: &TestApp, project: &str) -> (Vec<String>, Vec<(String, String)>) {
    let detail = get(app, "project.getById", json!({"id": project})).await;
    let teams = detail["teams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect();
    let people = get(app, "person.getAll", json!({})).await;
    let mut pairs = Vec::new();
    for p in people.as_array().unwrap() {
        for pm in p["projectMemberships"].as_array().unwrap() {
            for ms in pm["teamMemberships"].as_array().unwrap() {
                pairs.push((
                    ms["team"]["name"].as_str().unwrap().to_string(),
                    pm["id"].as_str().unwrap().to_string(),
                ));
            }
        }
    }
    pairs.sort();
    (teams, pairs)
}

#[tokio::test]
async fn drafts_are_created_listed_renamed_and_deleted_with_not_found_for_unknown_ids() {
    let app = spawn_app().await;
    let p = project(&app, "Apollo").await;
    let first = draft(&app, &p, "One").await;
    let second = draft(&app, &p, "Two").await;
    assert_eq!(first["isActive"], json!(false));
    assert_eq!(first["projectId"], json!(p));
    let team = add_team(&app, &id(&first), "Core").await;
    let m = member(&app, &p, "Zed", None).await;
    ok(
        &app,
        "arrangement.assignMember",
        json!({"arrangementTeamId": id(&team), "teamMemberId": m}),
    )
    .await;
    let renamed = ok(
        &app,
        "arrangement.update",
        json!({"id": id(&first), "name": "Uno"}),
    )
    .await;
    assert_eq!(renamed["name"], json!("Uno"));

    let list = get(&app, "arrangement.getByProjectId", json!({"projectId": p})).await;
    // Most recently updated first: the rename made "Uno" the newest.
    assert_eq!(list[0]["id"], first["id"]);
    assert_eq!(list[1]["id"], second["id"]);
    assert_eq!(
        list[0]["teams"],
        json!([{"id": team["id"], "name": "Core", "arrangementId": first["id"], "sortOrder": 0,
                "liveTeamId": null, "_count": {"assignments": 1}}])
    );
    assert_eq!(list[1]["teams"], json!([]));

    let (status, body) = app
        .query("arrangement.getById", Some(json!({"id": "nope"})))
        .await;
    assert_eq!((status, error_code(&body)), (404, "NOT_FOUND"));
    assert_eq!(body["error"]["message"], json!("Arrangement not found"));
    for (path, input) in [
        ("arrangement.update", json!({"id": "nope", "name": "x"})),
        ("arrangement.delete", json!({"id": "nope"})),
        (
            "arrangement.clone",
            json!({"sourceArrangementId": "nope", "name": "x"}),
        ),
        ("arrangement.activate", json!({"id": "nope"})),
        (
            "arrangement.addTeam",
            json!({"arrangementId": "nope", "name": "x"}),
        ),
        (
            "arrangement.updateTeam",
            json!({"teamId": "nope", "name": "x"}),
        ),
        ("arrangement.deleteTeam", json!({"teamId": "nope"})),
        (
            "arrangement.reorderTeams",
            json!({"arrangementId": "nope", "teamIds": []}),
        ),
        (
            "arrangement.unassignMember",
            json!({"arrangementTeamId": "nope", "teamMemberId": m}),
        ),
        (
            "arrangement.assignMember",
            json!({"arrangementTeamId": "nope", "teamMemberId": m}),
        ),
    ] {
        let (status, body) = app.mutate(path, input).await;
        assert_eq!((status, error_code(&body)), (404, "NOT_FOUND"), "{path}");
    }
    let (status, body) = app
        .mutate("arrangement.create", json!({"projectId": p, "name": ""}))
        .await;
    assert_eq!(status, 400);
    assert!(field_errors(&body)["name"].is_array(), "{body}");
    let (status, body) = app
        .mutate(
            "arrangement.create",
            json!({"projectId": "ghost", "name": "x"}),
        )
        .await;
    assert_eq!((status, error_code(&body)), (400, "BAD_REQUEST"));

    for path in [
        "arrangement.ensureActiveArrangement",
        "arrangement.cloneFromLive",
    ] {
        let (status, body) = app
            .mutate(path, json!({"projectId": "ghost", "name": "x"}))
            .await;
        assert_eq!(
            (status, error_code(&body)),
            (400, "BAD_REQUEST"),
            "{path}: {body}"
        );
    }
    let (status, body) = app
        .mutate(
            "arrangement.moveMember",
            json!({"teamMemberId": m, "fromTeamId": "nope", "toTeamId": id(&team)}),
        )
        .await;
    assert_eq!((status, error_code(&body)), (404, "NOT_FOUND"));
    let (status, body) = app
        .mutate(
            "arrangement.moveMember",
            json!({"teamMemberId": m, "fromTeamId": id(&team), "toTeamId": id(&team)}),
        )
        .await;
    assert_eq!(status, 400);
    assert!(field_errors(&body)["toTeamId"].is_array(), "{body}");
    // Assigning a member to the team it is in keeps the assignment.
    let again = ok(
        &app,
        "arrangement.assignMember",
        json!({"arrangementTeamId": id(&team), "teamMemberId": m}),
    )
    .await;
    let detail = get(&app, "arrangement.getById", json!({"id": id(&first)})).await;
    assert_eq!(detail["teams"][0]["assignments"][0]["id"], again["id"]);
    assert_eq!(
        detail["teams"][0]["assignments"].as_array().unwrap().len(),
        1
    );

    let deleted = ok(&app, "arrangement.delete", json!({"id": id(&first)})).await;
    assert_eq!(deleted["name"], json!("Uno"));
    let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM arrangement_assignments")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(n, 0);
}

#[tokio::test]
async fn get_by_id_orders_teams_and_assignments_and_lists_unassigned_members_by_last_name() {
    let app = spawn_app().await;
    let p = project(&app, "Apollo").await;
    let a = draft(&app, &p, "Draft").await;
    let t1 = add_team(&app, &id(&a), "B").await;
    let t2 = add_team(&app, &id(&a), "A").await;
    assert_eq!(
        (t1["sortOrder"].clone(), t2["sortOrder"].clone()),
        (json!(0), json!(1))
    );
    let young = member(&app, &p, "Young", None).await;
    let adams = member(&app, &p, "Adams", None).await;
    let moss = member(&app, &p, "Moss", None).await;
    let brown = member(&app, &p, "Brown", None).await;
    for m in [&young, &adams] {
        ok(
            &app,
            "arrangement.assignMember",
            json!({"arrangementTeamId": id(&t1), "teamMemberId": m}),
        )
        .await;
    }

    let detail = get(&app, "arrangement.getById", json!({"id": id(&a)})).await;

    let names: Vec<&str> = detail["teams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["B", "A"]);
    let assigned: Vec<&Value> = detail["teams"][0]["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["teamMemberId"])
        .collect();
    assert_eq!(assigned, [&json!(adams), &json!(young)]);
    let person = &detail["teams"][0]["assignments"][0]["teamMember"]["person"];
    assert_eq!(person["lastName"], json!("Adams"));
    assert!(person.get("department").is_some() && person.get("title").is_some());
    // Dates as the API prints every date (toISOString), not epoch numbers.
    let created = person["createdAt"].as_str().expect("an ISO string");
    assert!(enghub::db::time::parse(created).is_some(), "{created}");
    let unassigned: Vec<&Value> = detail["unassignedMembers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["id"])
        .collect();
    assert_eq!(unassigned, [&json!(brown), &json!(moss)]);
    assert_eq!(detail["isActive"], json!(false));
}

#[tokio::test]
async fn clone_and_clone_from_live_copy_teams_and_assignments_without_live_links() {
    let app = spawn_app().await;
    let p = project(&app, "Apollo").await;
    let core = live_team(&app, &p, "Core", Some("c")).await;
    let apps = live_team(&app, &p, "Apps", None).await;
    let m1 = member(&app, &p, "A", None).await;
    let m2 = member(&app, &p, "B", None).await;
    join(&app, &core, &m1).await;
    join(&app, &apps, &m2).await;

    let draft = ok(
        &app,
        "arrangement.cloneFromLive",
        json!({"projectId": p, "name": "D"}),
    )
    .await;
    let copy = ok(
        &app,
        "arrangement.clone",
        json!({"sourceArrangementId": id(&draft), "name": "E"}),
    )
    .await;

    for a in [&draft, &copy] {
        let detail = get(&app, "arrangement.getById", json!({"id": id(a)})).await;
        let teams: Vec<(Value, Value, Value, Value)> = detail["teams"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["name"].clone(),
                    t["sortOrder"].clone(),
                    t["liveTeamId"].clone(),
                    t["assignments"][0]["teamMemberId"].clone(),
                )
            })
            .collect();
        assert_eq!(
            teams,
            [
                (json!("Apps"), json!(0), Value::Null, json!(m2)),
                (json!("Core"), json!(1), Value::Null, json!(m1)),
            ]
        );
        assert_eq!(detail["isActive"], json!(false));
        assert_eq!(detail["projectId"], json!(p));
    }
}

#[tokio::test]
async fn concurrent_ensure_active_arrangement_calls_return_one_active_arrangement() {
    let app = spawn_app().await;
    let p = project(&app, "Apollo").await;
    let core = live_team(&app, &p, "Core", None).await;
    let m1 = member(&app, &p, "A", None).await;
    join(&app, &core, &m1).await;

    let calls = (0..10).map(|_| {
        app.mutate(
            "arrangement.ensureActiveArrangement",
            json!({"projectId": p}),
        )
    });
    let results = futures::future::join_all(calls).await;

    let ids: Vec<Value> = results
        .iter()
        .map(|(status, body)| {
            assert_eq!(*status, 200, "{body}");
            data(body)["id"].clone()
        })
        .collect();
    assert!(ids.iter().all(|i| *i == ids[0]), "{ids:?}");
    let (active, all): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE is_active), count(*) FROM team_arrangements WHERE project_id = $1",
    )
    .bind(&p)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!((active, all), (1, 1));
    let detail = get(&app, "arrangement.getById", json!({"id": ids[0]})).await;
    assert_eq!(detail["name"], json!("Current Teams"));
    assert_eq!(detail["teams"][0]["liveTeamId"], json!(core));
    assert_eq!(
        detail["teams"][0]["assignments"][0]["teamMemberId"],
        json!(m1)
    );
    // A second active arrangement is refused by the database itself.
    let err = sqlx::query(
        "INSERT INTO team_arrangements (id, name, is_active, project_id, updated_at)
         VALUES ('x', 'x', true, $1, now())",
    )
    .bind(&p)
    .execute(&app.db)
    .await
    .unwrap_err();
    assert!(err
        .to_string()
        .contains("team_arrangements_project_id_active_key"));
}

#[tokio::test]
async fn migration_0004_keeps_the_most_recently_updated_active_arrangement() {
    let app = spawn_app().await;
    let p = project(&app, "Apollo").await;
    sqlx::query("DROP INDEX team_arrangements_project_id_active_key")
        .execute(&app.db)
        .await
        .unwrap();
    for (id, age) in [("old", "2 days"), ("new", "1 day"), ("oldest", "3 days")] {
        sqlx::query(&format!(
            "INSERT INTO team_arrangements (id, name, is_active, project_id, updated_at)
             VALUES ($1, $1, true, $2, now() - interval '{age}')"
        ))
        .bind(id)
        .bind(&p)
        .execute(&app.db)
        .await
        .unwrap();
    }

    sqlx::raw_sql(include_str!(
        "../../migrations/0004_one_active_arrangement.sql"
    ))
    .execute(&app.db)
    .await
    .unwrap();

    let active: Vec<(String,)> = sqlx::query_as("SELECT id FROM team_arrangements WHERE is_active")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert_eq!(active, [("new".to_string(),)]);
    let (n,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM pg_indexes WHERE indexname = 'team_arrangements_project_id_active_key'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn activation_keeps_surviving_teams_rewrites_memberships_and_invalidates_live_views() {
    let app = spawn_app().await;
    let p = project(&app, "Apollo").await;
    let core = live_team(&app, &p, "Core", Some("core")).await;
    let apps = live_team(&app, &p, "Apps", Some("apps")).await;
    let ann = member(&app, &p, "Ann", Some("user_ann")).await;
    let bob = member(&app, &p, "Bob", Some("user_bob")).await;
    let cy = member(&app, &p, "Cy", Some("user_cy")).await;
    join(&app, &core, &ann).await;
    join(&app, &core, &cy).await;
    join(&app, &apps, &bob).await;
    let before = api_view(&app, &p).await;
    assert_eq!(before.0, ["Apps", "Core"]);
    let marked = [
        mark(&app, "person-me:user_bob").await,
        mark(&app, "person-me:user_ann").await,
        mark(&app, "person-me:user_cy").await,
    ];

    // A draft from live: "Apps" dropped, "Data" added, Ann moved to it.
    let draft = ok(
        &app,
        "arrangement.cloneFromLive",
        json!({"projectId": p, "name": "Next"}),
    )
    .await;
    let detail = get(&app, "arrangement.getById", json!({"id": id(&draft)})).await;
    let draft_apps = id(&detail["teams"][0]);
    let draft_core = id(&detail["teams"][1]);
    ok(
        &app,
        "arrangement.deleteTeam",
        json!({"teamId": draft_apps}),
    )
    .await;
    let data_team = add_team(&app, &id(&draft), "Data").await;
    ok(
        &app,
        "arrangement.moveMember",
        json!({"teamMemberId": ann, "fromTeamId": draft_core, "toTeamId": id(&data_team)}),
    )
    .await;
    ok(
        &app,
        "arrangement.assignMember",
        json!({"arrangementTeamId": id(&data_team), "teamMemberId": bob}),
    )
    .await;
    ok(
        &app,
        "arrangement.unassignMember",
        json!({"arrangementTeamId": id(&data_team), "teamMemberId": bob}),
    )
    .await;
    let renamed = ok(
        &app,
        "arrangement.updateTeam",
        json!({"teamId": id(&data_team), "name": "Data"}),
    )
    .await;
    assert_eq!(renamed["id"], data_team["id"]);
    // Drafts touch no live team: nothing was invalidated.
    for key in &marked {
        assert!(app.redis_get(key).await.is_some(), "{key}");
    }
    for rest in [format!("project:{p}"), "people:all".to_string()] {
        assert!(app.redis_get(&app.key(&rest)).await.is_some(), "{rest}");
    }
    assert_eq!(api_view(&app, &p).await, before);

    let (status, body) = app
        .mutate("arrangement.activate", json!({"id": id(&draft)}))
        .await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"result": {}}));
    let kept: (String, Option<String>, Option<String>) =
        sqlx::query_as("SELECT name, description, image_url FROM teams WHERE id = $1")
            .bind(&core)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(
        kept,
        (
            "Core".into(),
            Some("core".into()),
            Some("https://img.example/core.png".into())
        )
    );
    let gone: Option<(String,)> = sqlx::query_as("SELECT id FROM teams WHERE id = $1")
        .bind(&apps)
        .fetch_optional(&app.db)
        .await
        .unwrap();
    assert_eq!(gone, None);
    assert_eq!(
        layout(&app, &p).await,
        [
            ("Core".to_string(), vec![cy.clone()]),
            ("Data".to_string(), vec![ann.clone()])
        ]
    );
    // Cy's membership survived as the same row.
    let (cy_rows,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM team_memberships WHERE team_id = $1 AND team_member_id = $2",
    )
    .bind(&core)
    .bind(&cy)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(cy_rows, 1);
    let after = api_view(&app, &p).await;
    assert_eq!(after.0, ["Core", "Data"]);
    let mut expected = vec![
        ("Core".to_string(), cy.clone()),
        ("Data".to_string(), ann.clone()),
    ];
    expected.sort();
    assert_eq!(after.1, expected);
    // Ann (moved) and Bob (team gone) lost their person-me; Cy's is intact.
    assert_eq!(app.redis_get(&marked[0]).await, None);
    assert_eq!(app.redis_get(&marked[1]).await, None);
    assert!(app.redis_get(&marked[2]).await.is_some());
    let active = get(&app, "arrangement.getById", json!({"id": id(&draft)})).await;
    assert_eq!(active["isActive"], json!(true));
    assert_eq!(active["teams"][0]["liveTeamId"], json!(core));
}

#[tokio::test]
async fn live_team_writes_through_the_active_arrangement_reach_the_cached_views() {
    let app = spawn_app().await;
    let p = project(&app, "Apollo").await;
    let core = live_team(&app, &p, "Core", Some("core")).await;
    let ann = member(&app, &p, "Ann", Some("user_ann")).await;
    let bob = member(&app, &p, "Bob", None).await;
    join(&app, &core, &ann).await;
    let active = ok(
        &app,
        "arrangement.ensureActiveArrangement",
        json!({"projectId": p}),
    )
    .await;
    let detail = get(&app, "arrangement.getById", json!({"id": id(&active)})).await;
    let arr_core = id(&detail["teams"][0]);
    api_view(&app, &p).await; // warms project:{id} and people:all

    // addTeam
    let extra = add_team(&app, &id(&active), "Extra").await;
    assert!(extra["liveTeamId"].is_string());
    assert_eq!(api_view(&app, &p).await.0, ["Core", "Extra"]);

    // assignMember
    let me = mark(&app, "person-me:user_ann").await;
    ok(
        &app,
        "arrangement.assignMember",
        json!({"arrangementTeamId": id(&extra), "teamMemberId": ann}),
    )
    .await;
    assert_eq!(app.redis_get(&me).await, None);
    assert_eq!(
        api_view(&app, &p).await.1,
        [("Extra".to_string(), ann.clone())]
    );

    // moveMember
    let me = mark(&app, "person-me:user_ann").await;
    ok(
        &app,
        "arrangement.moveMember",
        json!({"teamMemberId": ann, "fromTeamId": id(&extra), "toTeamId": arr_core}),
    )
    .await;
    assert_eq!(app.redis_get(&me).await, None);
    assert_eq!(
        api_view(&app, &p).await.1,
        [("Core".to_string(), ann.clone())]
    );

    // updateTeam
    let me = mark(&app, "person-me:user_ann").await;
    ok(
        &app,
        "arrangement.updateTeam",
        json!({"teamId": arr_core, "name": "Kernel"}),
    )
    .await;
    assert_eq!(app.redis_get(&me).await, None);
    assert_eq!(api_view(&app, &p).await.0, ["Extra", "Kernel"]);
    let (desc,): (Option<String>,) = sqlx::query_as("SELECT description FROM teams WHERE id = $1")
        .bind(&core)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(desc.as_deref(), Some("core"));

    // unassignMember
    let me = mark(&app, "person-me:user_ann").await;
    let (status, body) = app
        .mutate(
            "arrangement.unassignMember",
            json!({"arrangementTeamId": arr_core, "teamMemberId": ann}),
        )
        .await;
    assert_eq!((status, body), (200, json!({"result": {}})));
    assert_eq!(app.redis_get(&me).await, None);
    assert_eq!(api_view(&app, &p).await.1, []);

    // deleteTeam
    ok(
        &app,
        "arrangement.assignMember",
        json!({"arrangementTeamId": arr_core, "teamMemberId": bob}),
    )
    .await;
    api_view(&app, &p).await;
    let deleted = ok(&app, "arrangement.deleteTeam", json!({"teamId": arr_core})).await;
    assert_eq!(deleted["liveTeamId"], Value::Null);
    assert_eq!(
        api_view(&app, &p).await,
        (vec!["Extra".to_string()], vec![])
    );
}

#[tokio::test]
async fn members_teams_and_arrangements_of_others_are_bad_requests() {
    let app = spawn_app().await;
    let p = project(&app, "Apollo").await;
    let q = project(&app, "Other").await;
    let a = draft(&app, &p, "A").await;
    let b = draft(&app, &p, "B").await;
    let a1 = add_team(&app, &id(&a), "1").await;
    let a2 = add_team(&app, &id(&a), "2").await;
    let b1 = add_team(&app, &id(&b), "1").await;
    let mine = member(&app, &p, "Mine", None).await;
    let foreign = member(&app, &q, "Foreign", None).await;

    let (status, body) = app
        .mutate(
            "arrangement.assignMember",
            json!({"arrangementTeamId": id(&a1), "teamMemberId": foreign}),
        )
        .await;
    assert_eq!(status, 400);
    assert!(field_errors(&body)["teamMemberId"].is_array(), "{body}");

    ok(
        &app,
        "arrangement.assignMember",
        json!({"arrangementTeamId": id(&a1), "teamMemberId": mine}),
    )
    .await;
    let (status, body) = app
        .mutate(
            "arrangement.moveMember",
            json!({"teamMemberId": mine, "fromTeamId": id(&a1), "toTeamId": id(&b1)}),
        )
        .await;
    assert_eq!(status, 400);
    assert!(field_errors(&body)["toTeamId"].is_array(), "{body}");
    let (status, body) = app
        .mutate(
            "arrangement.moveMember",
            json!({"teamMemberId": mine, "fromTeamId": id(&a2), "toTeamId": id(&a1)}),
        )
        .await;
    assert_eq!((status, error_code(&body)), (409, "CONFLICT"), "{body}");

    let (status, body) = app
        .mutate(
            "arrangement.reorderTeams",
            json!({"arrangementId": id(&a), "teamIds": [id(&a2), id(&b1)]}),
        )
        .await;
    assert_eq!(status, 400);
    assert!(field_errors(&body)["teamIds"].is_array(), "{body}");
    let (status, body) = app
        .mutate(
            "arrangement.reorderTeams",
            json!({"arrangementId": id(&a), "teamIds": [id(&a2)]}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = app
        .mutate(
            "arrangement.reorderTeams",
            json!({"arrangementId": id(&a), "teamIds": [id(&a2), id(&a2)]}),
        )
        .await;
    assert_eq!(status, 400);
    let (sort_b1,): (i32,) =
        sqlx::query_as("SELECT sort_order FROM arrangement_teams WHERE id = $1")
            .bind(id(&b1))
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(sort_b1, 0);

    let reordered = ok(
        &app,
        "arrangement.reorderTeams",
        json!({"arrangementId": id(&a), "teamIds": [id(&a2), id(&a1)]}),
    )
    .await;
    assert_eq!(reordered[0]["id"], a2["id"]);
    assert_eq!(reordered[0]["sortOrder"], json!(0));
    assert_eq!(reordered[1]["sortOrder"], json!(1));
}

/// Postgres queries of activating a 12-team arrangement of `members`
/// members, of cloning it, and of a live write mirrored into it.
async fn statement_counts(members: usize) -> (u64, u64, u64) {
    let app = spawn_app().await;
    let p = project(&app, "Big").await;
    let draft = draft(&app, &p, "D").await;
    let mut teams = Vec::new();
    for n in 0..12 {
        let t = ok(
            &app,
            "arrangement.addTeam",
            json!({"arrangementId": id(&draft), "name": format!("T{n:02}")}),
        )
        .await;
        teams.push(id(&t));
    }
    for n in 0..members {
        let m = member(&app, &p, &format!("L{n:03}"), None).await;
        sqlx::query(
            "INSERT INTO arrangement_assignments (id, arrangement_team_id, team_member_id)
             VALUES ($1, $2, $3)",
        )
        .bind(enghub::db::new_id())
        .bind(&teams[n % 12])
        .bind(&m)
        .execute(&app.db)
        .await
        .unwrap();
    }
    let token = token_for(USER);
    let (status, body, activate) = app
        .mutate_timed(&token, "arrangement.activate", json!({"id": id(&draft)}))
        .await;
    assert_eq!(status, 200, "{body}");
    let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM team_memberships")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(n as usize, members);
    let (status, body, clone) = app
        .mutate_timed(
            &token,
            "arrangement.clone",
            json!({"sourceArrangementId": id(&draft), "name": "C"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body, sync) = app
        .mutate_timed(
            &token,
            "team.create",
            json!({"projectId": p, "name": "New", "description": "", "imageUrl": ""}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    (
        server_timing_counts(&activate).1,
        server_timing_counts(&clone).1,
        server_timing_counts(&sync).1,
    )
}

#[tokio::test]
async fn activation_clone_and_mirror_cost_the_same_statements_for_20_and_200_members() {
    let small = statement_counts(20).await;
    let large = statement_counts(200).await;
    eprintln!("postgres queries (activate, clone, team.create+sync): 20 members {small:?}, 200 members {large:?}");
    assert_eq!(small, large);
    assert!(small.0 < 20, "{small:?}");
}

#[tokio::test]
async fn live_team_writes_keep_arrangement_team_ids_and_the_reordered_order() {
    let app = spawn_app().await;
    let p = project(&app, "Apollo").await;
    let alpha = live_team(&app, &p, "Alpha", None).await;
    let beta = live_team(&app, &p, "Beta", None).await;
    let ann = member(&app, &p, "Ann", None).await;
    join(&app, &alpha, &ann).await;
    let active = ok(
        &app,
        "arrangement.ensureActiveArrangement",
        json!({"projectId": p}),
    )
    .await;
    let detail = get(&app, "arrangement.getById", json!({"id": id(&active)})).await;
    let (arr_alpha, arr_beta) = (id(&detail["teams"][0]), id(&detail["teams"][1]));
    ok(
        &app,
        "arrangement.reorderTeams",
        json!({"arrangementId": id(&active), "teamIds": [arr_beta, arr_alpha]}),
    )
    .await;

    // Live writes elsewhere: a new team, a rename, a membership change.
    ok(
        &app,
        "team.create",
        json!({"projectId": p, "name": "Aaa", "description": "", "imageUrl": ""}),
    )
    .await;
    ok(
        &app,
        "team.update",
        json!({"id": beta, "name": "Bravo", "description": "", "imageUrl": ""}),
    )
    .await;
    sqlx::query("DELETE FROM team_memberships WHERE team_id = $1")
        .bind(&alpha)
        .execute(&app.db)
        .await
        .unwrap();
    join(&app, &beta, &ann).await;
    ok(&app, "team.delete", json!({"id": alpha})).await;

    let detail = get(&app, "arrangement.getById", json!({"id": id(&active)})).await;
    let teams: Vec<(Value, Value, usize)> = detail["teams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["id"].clone(),
                t["name"].clone(),
                t["assignments"].as_array().unwrap().len(),
            )
        })
        .collect();
    assert_eq!(teams.len(), 2);
    assert_eq!(teams[0], (json!(arr_beta), json!("Bravo"), 1));
    assert_eq!(teams[1].1, json!("Aaa"));
    // Appended after the teams it found (gaps left by deletions stay).
    assert_eq!(detail["teams"][0]["sortOrder"], json!(0));
    assert_eq!(detail["teams"][1]["sortOrder"], json!(2));
}

#[tokio::test]
async fn concurrent_activations_of_one_project_leave_one_active_arrangement() {
    let app = spawn_app().await;
    let p = project(&app, "Apollo").await;
    let core = live_team(&app, &p, "Core", None).await;
    let ann = member(&app, &p, "Ann", None).await;
    join(&app, &core, &ann).await;
    ok(
        &app,
        "arrangement.ensureActiveArrangement",
        json!({"projectId": p}),
    )
    .await;
    let mut drafts = Vec::new();
    for n in 0..6 {
        let d = ok(
            &app,
            "arrangement.cloneFromLive",
            json!({"projectId": p, "name": format!("D{n}")}),
        )
        .await;
        ok(
            &app,
            "arrangement.addTeam",
            json!({"arrangementId": id(&d), "name": format!("New{n}")}),
        )
        .await;
        drafts.push(id(&d));
    }

    let calls = drafts
        .iter()
        .map(|d| app.mutate("arrangement.activate", json!({"id": d})));
    let results = futures::future::join_all(calls).await;

    for (status, body) in &results {
        assert_eq!(*status, 200, "{body}");
    }
    let active: Vec<(String,)> =
        sqlx::query_as("SELECT id FROM team_arrangements WHERE project_id = $1 AND is_active")
            .bind(&p)
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(active.len(), 1);
    let detail = get(&app, "arrangement.getById", json!({"id": active[0].0})).await;
    let live: Vec<Value> = detail["teams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["liveTeamId"].clone())
        .collect();
    // The surviving "Core" kept its id; the winner's new team is the other live team.
    assert_eq!(live[0], json!(core));
    assert_eq!(layout(&app, &p).await.len(), 2);
}

#[tokio::test]
async fn arrangement_writes_racing_live_team_writes_never_fail_with_500() {
    let app = spawn_app().await;
    let p = project(&app, "Apollo").await;
    let mut live = Vec::new();
    let mut members = Vec::new();
    for n in 0..3 {
        let t = live_team(&app, &p, &format!("T{n}"), None).await;
        let m = member(&app, &p, &format!("M{n}"), None).await;
        join(&app, &t, &m).await;
        live.push(t);
        members.push(m);
    }
    let active = ok(
        &app,
        "arrangement.ensureActiveArrangement",
        json!({"projectId": p}),
    )
    .await;
    let detail = get(&app, "arrangement.getById", json!({"id": id(&active)})).await;
    let arr_teams: Vec<String> = detail["teams"].as_array().unwrap().iter().map(id).collect();
    let draft = ok(
        &app,
        "arrangement.cloneFromLive",
        json!({"projectId": p, "name": "D"}),
    )
    .await;

    let mut calls = Vec::new();
    for round in 0..4 {
        calls.push(app.mutate(
            "team.update",
            json!({"id": live[round % 3], "name": format!("T{}", round % 3), "description": "d", "imageUrl": ""}),
        ));
        calls.push(app.mutate(
            "arrangement.assignMember",
            json!({"arrangementTeamId": arr_teams[(round + 1) % 3], "teamMemberId": members[round % 3]}),
        ));
        calls.push(app.mutate(
            "arrangement.updateTeam",
            json!({"teamId": arr_teams[round % 3], "name": format!("T{}", round % 3)}),
        ));
        calls.push(app.mutate(
            "arrangement.activate",
            json!({"id": if round % 2 == 0 { id(&draft) } else { id(&active) }}),
        ));
    }
    let results = futures::future::join_all(calls).await;

    for (status, body) in &results {
        assert!([200, 404].contains(status), "{status} {body}");
    }
    let (active_count,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM team_arrangements WHERE project_id = $1 AND is_active",
    )
    .bind(&p)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(active_count, 1);
}
