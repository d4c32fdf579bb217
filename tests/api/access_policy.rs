//! Who may change a reporting line (issue 11): the access matrix of
//! `person.update` (set, change, clear a manager), `person.create` with a
//! manager and `person.delete` of someone with reports, for every kind of
//! caller; the `open` policy; the "make myself the director's manager" attack;
//! and what an authorized change costs in Postgres statements. The same for
//! `teamMember.create` (for an existing person) and `teamMember.update`.

use serde_json::{json, Value};

use crate::helpers::manager_changes;
use crate::helpers::{
    data, error_code, server_timing_counts, spawn_app, spawn_app_with, token_for, token_with_role,
    TestApp, TestOptions,
};

/// Admin by the session token's `metadata.role`; has no person record.
const ADMIN_BY_ROLE: &str = "user_admin_role";
/// Admin by `ENGHUB_ADMIN_USER_IDS`; has no person record.
const ADMIN_BY_ENV: &str = "user_admin_env";
const CEO: &str = "user_ceo";
const DIRECTOR: &str = "user_director";
const MANAGER: &str = "user_manager";
const PEER: &str = "user_peer";
/// Signed in, no person record.
const STRANGER: &str = "user_stranger";

/// The kinds of caller of the matrix, relative to one subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    AdminByRole,
    AdminByEnv,
    DirectManager,
    SkipLevel,
    Peer,
    Subject,
    Stranger,
}

const CALLERS: [Caller; 7] = [
    Caller::AdminByRole,
    Caller::AdminByEnv,
    Caller::DirectManager,
    Caller::SkipLevel,
    Caller::Peer,
    Caller::Subject,
    Caller::Stranger,
];

/// CEO → Director → Manager → Peer; Director and CEO are claimed too.
struct Org {
    ceo: String,
    director: String,
    manager: String,
}

async fn spawn_policy_app(policy: &str) -> TestApp {
    spawn_app_with(TestOptions {
        extra_vars: vec![
            (
                "ENGHUB_ADMIN_USER_IDS",
                format!("user_nobody, {ADMIN_BY_ENV}"),
            ),
            ("ENGHUB_REPORTING_LINE_POLICY", policy.to_string()),
        ],
    })
    .await
}

async fn org(app: &TestApp) -> Org {
    let ceo = app.insert_person("Ceo", None, Some(CEO)).await;
    let director = app
        .insert_person("Director", Some(&ceo), Some(DIRECTOR))
        .await;
    let manager = app
        .insert_person("Manager", Some(&director), Some(MANAGER))
        .await;
    app.insert_person("Peer", Some(&manager), Some(PEER)).await;
    Org {
        ceo,
        director,
        manager,
    }
}

/// A fresh subject for one case: claimed by its own Clerk user, reporting to
/// `manager` (or to nobody), with one report of its own.
struct Subject {
    id: String,
    clerk_user: String,
    report: String,
}

async fn subject(app: &TestApp, case: &str, manager: Option<&str>) -> Subject {
    let clerk_user = format!("user_subject_{case}");
    let id = app
        .insert_person(&format!("Subject{case}"), manager, Some(&clerk_user))
        .await;
    let report = app
        .insert_person(&format!("Report{case}"), Some(&id), None)
        .await;
    Subject {
        id,
        clerk_user,
        report,
    }
}

/// The session token `caller` signs in with, for `subject`.
fn token(caller: Caller, subject: &Subject) -> String {
    match caller {
        Caller::AdminByRole => token_with_role(ADMIN_BY_ROLE, "admin"),
        Caller::AdminByEnv => token_for(ADMIN_BY_ENV),
        Caller::DirectManager => token_for(MANAGER),
        Caller::SkipLevel => token_for(DIRECTOR),
        Caller::Peer => token_for(PEER),
        Caller::Subject => token_for(&subject.clerk_user),
        Caller::Stranger => token_for(STRANGER),
    }
}

fn clerk_user(caller: Caller, subject: &Subject) -> String {
    match caller {
        Caller::AdminByRole => ADMIN_BY_ROLE.into(),
        Caller::AdminByEnv => ADMIN_BY_ENV.into(),
        Caller::DirectManager => MANAGER.into(),
        Caller::SkipLevel => DIRECTOR.into(),
        Caller::Peer => PEER.into(),
        Caller::Subject => subject.clerk_user.clone(),
        Caller::Stranger => STRANGER.into(),
    }
}

/// `person.update` input for `id` with `manager` (`None`: the field omitted,
/// which clears it).
fn update_input(id: &str, manager: Option<&str>) -> Value {
    let mut v = json!({"id": id, "firstName": "Moved", "lastName": "Test",
                       "email": format!("{id}@moved.io")});
    if let Some(m) = manager {
        v["managerId"] = json!(m);
    }
    v
}

async fn manager_of(app: &TestApp, id: &str) -> Option<Option<String>> {
    sqlx::query_as::<_, (Option<String>,)>("SELECT manager_id FROM people WHERE id = $1")
        .bind(id)
        .fetch_optional(&app.db)
        .await
        .unwrap()
        .map(|(m,)| m)
}

/// Asserts a refusal: FORBIDDEN with a message saying why.
fn assert_forbidden(status: u16, body: &Value, why: &str, case: &str) {
    assert_eq!(
        (status, error_code(body)),
        (403, "FORBIDDEN"),
        "{case}: {body}"
    );
    assert_eq!(body["error"]["message"], why, "{case}");
}

const NOT_ABOVE: &str =
    "Only an org admin or one of this person's managers can change their manager.";
const NO_MANAGER: &str = "Only an org admin can give a manager to a person who has none.";
const DELETE_NOT_ABOVE: &str =
    "Only an org admin or one of this person's managers can delete a person who has reports.";

fn may_move_reports(caller: Caller) -> bool {
    matches!(
        caller,
        Caller::AdminByRole | Caller::AdminByEnv | Caller::DirectManager | Caller::SkipLevel
    )
}

/// Asserts a refusal that changed nothing: FORBIDDEN saying `why`, person
/// `id` still under `manager`, no manager change recorded.
async fn assert_refused_unchanged(
    app: &TestApp,
    (status, body): (u16, &Value),
    why: &str,
    id: &str,
    manager: Option<&str>,
    case: &str,
) {
    assert_forbidden(status, body, why, case);
    assert_eq!(
        manager_of(app, id).await,
        Some(manager.map(str::to_string)),
        "{case}"
    );
    assert!(manager_changes(app, id).await.is_empty(), "{case}");
}

/// Each caller moves a fresh report of the manager (named after `prefix`)
/// to `new` of the org (`None` clears):
/// admins and the managers above succeed, with the change recorded under
/// their user; everyone else is refused and nothing changes.
async fn each_caller_moves_a_report(tag: &str, prefix: &str, new: fn(&Org) -> Option<String>) {
    let app = spawn_policy_app("managers").await;
    let o = org(&app).await;
    let new = new(&o);

    for caller in CALLERS {
        let case = format!("{tag} by {caller:?}");
        let s = subject(&app, &format!("{prefix}{caller:?}"), Some(&o.manager)).await;

        let (status, body) = app
            .mutate_with_token(
                &token(caller, &s),
                "person.update",
                update_input(&s.id, new.as_deref()),
            )
            .await;

        if may_move_reports(caller) {
            assert_eq!(status, 200, "{case}: {body}");
            assert_eq!(data(&body)["managerId"], json!(new), "{case}");
            assert_eq!(
                manager_changes(&app, &s.id).await,
                vec![(Some(o.manager.clone()), new.clone(), clerk_user(caller, &s))],
                "{case}"
            );
        } else {
            assert_refused_unchanged(
                &app,
                (status, &body),
                NOT_ABOVE,
                &s.id,
                Some(&o.manager),
                &case,
            )
            .await;
        }
    }
}

#[tokio::test]
async fn changing_a_manager_is_for_admins_and_the_managers_above() {
    each_caller_moves_a_report("change", "c", |o| Some(o.director.clone())).await;
}

#[tokio::test]
async fn clearing_a_manager_is_for_admins_and_the_managers_above() {
    each_caller_moves_a_report("clear", "x", |_| None).await;
}

#[tokio::test]
async fn only_an_admin_gives_a_manager_to_a_person_who_has_none() {
    let app = spawn_policy_app("managers").await;
    let o = org(&app).await;

    for caller in CALLERS {
        let case = format!("set by {caller:?}");
        // At the top of the tree: the would-be manager and its manager are
        // not above it (yet).
        let s = subject(&app, &format!("s{caller:?}"), None).await;

        let (status, body) = app
            .mutate_with_token(
                &token(caller, &s),
                "person.update",
                update_input(&s.id, Some(&o.manager)),
            )
            .await;

        if matches!(caller, Caller::AdminByRole | Caller::AdminByEnv) {
            assert_eq!(status, 200, "{case}: {body}");
            assert_eq!(
                manager_changes(&app, &s.id).await,
                vec![(None, Some(o.manager.clone()), clerk_user(caller, &s))],
                "{case}"
            );
        } else {
            assert_refused_unchanged(&app, (status, &body), NO_MANAGER, &s.id, None, &case).await;
        }
    }
}

#[tokio::test]
async fn deleting_a_person_with_reports_is_for_admins_and_the_managers_above() {
    let app = spawn_policy_app("managers").await;
    let o = org(&app).await;

    for caller in CALLERS {
        let case = format!("delete by {caller:?}");
        let s = subject(&app, &format!("d{caller:?}"), Some(&o.manager)).await;

        let (status, body) = app
            .mutate_with_token(&token(caller, &s), "person.delete", json!({"id": s.id}))
            .await;

        if may_move_reports(caller) {
            assert_eq!(status, 200, "{case}: {body}");
            assert_eq!(manager_of(&app, &s.id).await, None, "{case}");
            assert_eq!(manager_of(&app, &s.report).await, Some(None), "{case}");
            assert_eq!(
                manager_changes(&app, &s.report).await,
                vec![(None, None, clerk_user(caller, &s))],
                "{case}"
            );
        } else {
            assert_forbidden(status, &body, DELETE_NOT_ABOVE, &case);
            assert_eq!(
                manager_of(&app, &s.id).await,
                Some(Some(o.manager.clone())),
                "{case}: the person is still there"
            );
            assert_eq!(
                manager_of(&app, &s.report).await,
                Some(Some(s.id.clone())),
                "{case}: its report still reports to it"
            );
            assert!(manager_changes(&app, &s.report).await.is_empty(), "{case}");
        }
    }
}

#[tokio::test]
async fn a_person_without_reports_can_still_be_deleted_by_anyone() {
    let app = spawn_policy_app("managers").await;
    let o = org(&app).await;
    let leaf = app.insert_person("Leaf", Some(&o.manager), None).await;

    let (status, body) = app
        .mutate_as(STRANGER, "person.delete", json!({"id": leaf}))
        .await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(manager_of(&app, &leaf).await, None);
}

#[tokio::test]
async fn creating_a_person_with_a_manager_and_editing_other_fields_stay_open() {
    let app = spawn_policy_app("managers").await;
    let o = org(&app).await;

    for caller in CALLERS {
        let case = format!("{caller:?}");
        let s = subject(&app, &format!("n{caller:?}"), Some(&o.manager)).await;
        let token = token(caller, &s);

        let (created, created_body) = app
            .mutate_with_token(
                &token,
                "person.create",
                json!({"firstName": "New", "lastName": "Hire",
                       "email": format!("new-{caller:?}@x.io"), "managerId": o.director}),
            )
            .await;
        // Same manager, other fields changed.
        let (edited, edited_body) = app
            .mutate_with_token(
                &token,
                "person.update",
                update_input(&s.id, Some(&o.manager)),
            )
            .await;

        assert_eq!(created, 200, "{case} create: {created_body}");
        let new_id = data(&created_body)["id"].as_str().unwrap();
        assert_eq!(
            manager_changes(&app, new_id).await,
            vec![(None, Some(o.director.clone()), clerk_user(caller, &s))],
            "{case}"
        );
        assert_eq!(edited, 200, "{case} edit: {edited_body}");
        assert_eq!(data(&edited_body)["firstName"], "Moved", "{case}");
        assert!(manager_changes(&app, &s.id).await.is_empty(), "{case}");
    }
}

#[tokio::test]
async fn a_refused_caller_learns_nothing_about_loops() {
    let app = spawn_policy_app("managers").await;
    let o = org(&app).await;

    // The peer tries to put the director under the manager (a loop): the
    // refusal comes first.
    let (status, body) = app
        .mutate_as(
            PEER,
            "person.update",
            update_input(&o.director, Some(&o.manager)),
        )
        .await;
    // The CEO, who may, gets the cycle error.
    let (allowed_status, allowed_body) = app
        .mutate_as(
            CEO,
            "person.update",
            update_input(&o.director, Some(&o.manager)),
        )
        .await;

    assert_forbidden(status, &body, NOT_ABOVE, "peer");
    assert_eq!(allowed_status, 400, "{allowed_body}");
    assert_eq!(
        allowed_body["error"]["message"],
        enghub::hierarchy::CYCLE_MESSAGE
    );
    assert!(manager_changes(&app, &o.director).await.is_empty());
}

#[tokio::test]
async fn the_open_policy_lets_anyone_change_reporting_lines_as_the_original_did() {
    let app = spawn_policy_app("open").await;
    let o = org(&app).await;
    let top = subject(&app, "top", None).await;
    let moved = subject(&app, "moved", Some(&o.manager)).await;
    let gone = subject(&app, "gone", Some(&o.manager)).await;

    let (set, set_body) = app
        .mutate_as(
            STRANGER,
            "person.update",
            update_input(&top.id, Some(&o.manager)),
        )
        .await;
    let (changed, changed_body) = app
        .mutate_as(PEER, "person.update", update_input(&moved.id, Some(&o.ceo)))
        .await;
    let (deleted, deleted_body) = app
        .mutate_as(&gone.clerk_user, "person.delete", json!({"id": gone.id}))
        .await;

    assert_eq!(set, 200, "{set_body}");
    assert_eq!(
        manager_changes(&app, &top.id).await,
        vec![(None, Some(o.manager.clone()), STRANGER.to_string())]
    );
    assert_eq!(changed, 200, "{changed_body}");
    assert_eq!(manager_of(&app, &moved.id).await, Some(Some(o.ceo.clone())));
    assert_eq!(deleted, 200, "{deleted_body}");
    assert_eq!(manager_of(&app, &gone.report).await, Some(None));
}

#[tokio::test]
async fn an_unknown_policy_is_a_configuration_error_naming_the_variable() {
    let mut vars: std::collections::HashMap<String, String> = [
        ("DATABASE_URL", "postgres://postgres@127.0.0.1/x"),
        ("UPSTASH_REDIS_REST_URL", "http://127.0.0.1:1"),
        ("UPSTASH_REDIS_REST_TOKEN", "t"),
        ("QSTASH_CURRENT_SIGNING_KEY", "a"),
        ("QSTASH_NEXT_SIGNING_KEY", "b"),
        ("CLERK_JWT_KEY", "k"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    vars.insert("ENGHUB_REPORTING_LINE_POLICY".into(), "everyone".into());

    let err = enghub::config::Config::from_vars(&vars).unwrap_err();

    assert_eq!(err.variables(), vec!["ENGHUB_REPORTING_LINE_POLICY"]);
}

#[tokio::test]
async fn nobody_can_make_themselves_a_directors_manager_to_read_their_notes() {
    let app = spawn_policy_app("managers").await;
    let o = org(&app).await;
    // The attacker has a person record and no reports.
    let attacker_user = "user_attacker";
    let attacker = app
        .insert_person("Attacker", Some(&o.manager), Some(attacker_user))
        .await;
    let (status, body) = app
        .mutate_as(
            CEO,
            "meeting.create",
            json!({"personId": o.director, "date": "2026-03-15",
                   "content": {"notes": "confidential"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let notes = || {
        app.query_as(
            attacker_user,
            "meeting.getByPersonId",
            Some(json!({"personId": o.director})),
        )
    };
    assert_eq!(notes().await.0, 403, "no access before");

    let (status, body) = app
        .mutate_as(
            attacker_user,
            "person.update",
            update_input(&o.director, Some(&attacker)),
        )
        .await;

    assert_refused_unchanged(
        &app,
        (status, &body),
        NOT_ABOVE,
        &o.director,
        Some(&o.ceo),
        "attack",
    )
    .await;
    let (read, read_body) = notes().await;
    assert_eq!((read, error_code(&read_body)), (403, "FORBIDDEN"));
    // The CEO still reads them.
    assert_eq!(
        app.query_as(
            CEO,
            "meeting.getByPersonId",
            Some(json!({"personId": o.director}))
        )
        .await
        .0,
        200
    );
}

/// Postgres statements of one `person.update` moving a report, from its
/// `Server-Timing` header.
async fn move_cost(app: &TestApp, token: &str, id: &str, manager: Option<&str>) -> u64 {
    let (status, body, timing) = app
        .mutate_timed(token, "person.update", update_input(id, manager))
        .await;
    assert_eq!(status, 200, "{body}");
    server_timing_counts(&timing).1
}

/// Postgres statements of one `person.delete`, from its `Server-Timing` header.
async fn delete_cost(app: &TestApp, token: &str, id: &str) -> u64 {
    let (status, body, timing) = app
        .mutate_timed(token, "person.delete", json!({"id": id}))
        .await;
    assert_eq!(status, 200, "{body}");
    server_timing_counts(&timing).1
}

#[tokio::test]
async fn an_authorized_manager_change_costs_no_statement_more_than_the_open_policy() {
    let open = spawn_policy_app("open").await;
    let managers = spawn_app().await;
    let mut costs = Vec::new();
    for app in [&open, &managers] {
        let o = org(app).await;
        let changed = subject(app, "changed", Some(&o.manager)).await;
        let cleared = subject(app, "cleared", Some(&o.manager)).await;
        let gone = subject(app, "gone", Some(&o.manager)).await;
        let manager = token_for(MANAGER);
        costs.push([
            move_cost(app, &manager, &changed.id, Some(&o.director)).await,
            move_cost(app, &manager, &cleared.id, None).await,
            move_cost(
                app,
                &token_with_role(ADMIN_BY_ROLE, "admin"),
                &changed.id,
                Some(&o.manager),
            )
            .await,
            delete_cost(app, &manager, &gone.id).await,
        ]);
    }
    let [[open_change, open_clear, open_admin, open_delete], [change, clear, admin, delete]] =
        costs[..]
    else {
        unreachable!()
    };

    // Setting or changing: the authorization rides in the cycle check's query.
    assert_eq!(change, open_change);
    // Clearing made no cycle check: the chain query is the one extra statement.
    assert_eq!(clear, open_clear + 1);
    // An admin's change costs what it did before.
    assert_eq!(admin, open_admin);
    // Deleting a person with reports: one chain query more.
    assert_eq!(delete, open_delete + 1);
}

#[tokio::test]
async fn claiming_a_held_managers_record_grants_nothing() {
    let app = spawn_policy_app("managers").await;
    let o = org(&app).await;
    let (status, body) = app
        .mutate_as(
            DIRECTOR,
            "meeting.create",
            json!({"personId": o.manager, "date": "2026-03-15",
                   "content": {"notes": "confidential"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    // The stranger tries to become the director by claiming its record.
    let (claimed, claimed_body) = app
        .mutate_as(
            STRANGER,
            "person.claimAsMe",
            json!({"personId": o.director}),
        )
        .await;
    let (read, _) = app
        .query_as(
            STRANGER,
            "meeting.getByPersonId",
            Some(json!({"personId": o.manager})),
        )
        .await;

    assert_eq!(
        (claimed, error_code(&claimed_body)),
        (409, "CONFLICT"),
        "{claimed_body}"
    );
    assert_eq!(read, 403);
    let (holder,): (Option<String>,) =
        sqlx::query_as("SELECT clerk_user_id FROM people WHERE id = $1")
            .bind(&o.director)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(holder.as_deref(), Some(DIRECTOR));
}

// `teamMember.create` (for an existing person) and `teamMember.update` set
// managers too: the same matrix through them.

/// Department `d1` and project `p1` with its team `core`, for the
/// `teamMember` procedures.
async fn project(app: &TestApp) {
    for sql in [
        "INSERT INTO roles (id, name) VALUES ('d1', 'Eng')",
        "INSERT INTO projects (id, name, updated_at) VALUES ('p1', 'Apollo', now())",
        "INSERT INTO teams (id, name, project_id) VALUES ('core', 'Core', 'p1')",
    ] {
        sqlx::query(sql).execute(&app.db).await.unwrap();
    }
}

async fn email_of(app: &TestApp, id: &str) -> String {
    let (email,): (String,) = sqlx::query_as("SELECT email FROM people WHERE id = $1")
        .bind(id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    email
}

/// The person's fields and teams of a `teamMember` input for the person with
/// `email`, in team `core`, with `manager` (`None`: the field omitted, which
/// `teamMember.update` takes as clearing it).
fn member_fields(email: &str, manager: Option<&str>) -> Value {
    let mut v = json!({"firstName": "Moved", "lastName": "Test", "email": email,
                       "departmentId": "d1", "teamIds": ["core"]});
    if let Some(m) = manager {
        v["managerId"] = json!(m);
    }
    v
}

/// `teamMember.create` input adding the person with `email` to `p1`.
fn member_create_input(email: &str, manager: Option<&str>) -> Value {
    let mut v = member_fields(email, manager);
    v["projectId"] = json!("p1");
    v
}

/// `teamMember.update` input for membership `id`.
fn member_update_input(id: &str, email: &str, manager: Option<&str>) -> Value {
    let mut v = member_fields(email, manager);
    v["id"] = json!(id);
    v
}

/// Makes `person` a member of `p1` (in no team); returns the membership id.
async fn membership(app: &TestApp, person: &str) -> String {
    let id = enghub::db::new_id();
    sqlx::query("INSERT INTO team_members (id, person_id, project_id) VALUES ($1, $2, 'p1')")
        .bind(&id)
        .bind(person)
        .execute(&app.db)
        .await
        .unwrap();
    id
}

/// `(first name, department (`role_id`), memberships of p1, team memberships)` of
/// `person`: what a `teamMember` mutation writes besides the manager.
async fn member_state(app: &TestApp, person: &str) -> (String, Option<String>, i64, i64) {
    sqlx::query_as(
        "SELECT p.first_name, p.role_id,
                (SELECT count(*) FROM team_members tm
                 WHERE tm.person_id = p.id AND tm.project_id = 'p1'),
                (SELECT count(*) FROM team_memberships ms
                 JOIN team_members tm ON tm.id = ms.team_member_id WHERE tm.person_id = p.id)
         FROM people p WHERE p.id = $1",
    )
    .bind(person)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

/// `teamMember.create` for an existing person with a new manager: it changes
/// the person's manager (`old`: the subject has one, else none); a refusal
/// creates no membership either.
async fn member_create_case(app: &TestApp, o: &Org, caller: Caller, old: bool) {
    let case = format!(
        "teamMember.create ({}) by {caller:?}",
        ["set", "change"][old as usize]
    );
    let (old_manager, new_manager) = if old {
        (Some(o.manager.clone()), o.director.clone())
    } else {
        (None, o.manager.clone())
    };
    let s = subject(app, &format!("mc{old}{caller:?}"), old_manager.as_deref()).await;
    let email = email_of(app, &s.id).await;

    let (status, body) = app
        .mutate_with_token(
            &token(caller, &s),
            "teamMember.create",
            member_create_input(&email, Some(&new_manager)),
        )
        .await;

    let allowed = if old {
        may_move_reports(caller)
    } else {
        matches!(caller, Caller::AdminByRole | Caller::AdminByEnv)
    };
    if allowed {
        assert_eq!(status, 200, "{case}: {body}");
        assert_eq!(data(&body)["personId"], json!(s.id), "{case}");
        assert_eq!(
            manager_of(app, &s.id).await,
            Some(Some(new_manager.clone())),
            "{case}"
        );
        assert_eq!(
            manager_changes(app, &s.id).await,
            vec![(old_manager, Some(new_manager), clerk_user(caller, &s))],
            "{case}"
        );
        // An existing person keeps its fields; it joined the project's team.
        let (first, department, members, teams) = member_state(app, &s.id).await;
        assert_eq!((department, members, teams), (None, 1, 1), "{case}");
        assert_ne!(first, "Moved", "{case}");
    } else {
        assert_forbidden(
            status,
            &body,
            if old { NOT_ABOVE } else { NO_MANAGER },
            &case,
        );
        assert_eq!(manager_of(app, &s.id).await, Some(old_manager), "{case}");
        assert!(manager_changes(app, &s.id).await.is_empty(), "{case}");
        let (_, _, members, teams) = member_state(app, &s.id).await;
        assert_eq!((members, teams), (0, 0), "{case}: no membership created");
    }
}

#[tokio::test]
async fn team_member_create_moves_an_existing_person_only_for_admins_and_the_managers_above() {
    let app = spawn_policy_app("managers").await;
    let o = org(&app).await;
    project(&app).await;

    for caller in CALLERS {
        member_create_case(&app, &o, caller, true).await;
        member_create_case(&app, &o, caller, false).await;
    }
}

/// `teamMember.update` of a member reporting to the manager: to the
/// director (`clear`: to nobody); a refusal changes neither the person nor
/// its teams.
async fn member_update_case(app: &TestApp, o: &Org, caller: Caller, clear: bool) {
    let case = format!(
        "teamMember.update ({}) by {caller:?}",
        ["change", "clear"][clear as usize]
    );
    let s = subject(app, &format!("mu{clear}{caller:?}"), Some(&o.manager)).await;
    let email = email_of(app, &s.id).await;
    let member = membership(app, &s.id).await;
    let new_manager = (!clear).then(|| o.director.clone());

    let (status, body) = app
        .mutate_with_token(
            &token(caller, &s),
            "teamMember.update",
            member_update_input(&member, &email, new_manager.as_deref()),
        )
        .await;

    if may_move_reports(caller) {
        assert_eq!(status, 200, "{case}: {body}");
        assert_eq!(data(&body)["personId"], json!(s.id), "{case}");
        assert_eq!(
            manager_of(app, &s.id).await,
            Some(new_manager.clone()),
            "{case}"
        );
        assert_eq!(
            manager_changes(app, &s.id).await,
            vec![(Some(o.manager.clone()), new_manager, clerk_user(caller, &s))],
            "{case}"
        );
        assert_eq!(
            member_state(app, &s.id).await,
            ("Moved".to_string(), Some("d1".to_string()), 1, 1),
            "{case}"
        );
    } else {
        assert_forbidden(status, &body, NOT_ABOVE, &case);
        assert_eq!(
            manager_of(app, &s.id).await,
            Some(Some(o.manager.clone())),
            "{case}"
        );
        assert!(manager_changes(app, &s.id).await.is_empty(), "{case}");
        assert_eq!(
            member_state(app, &s.id).await,
            (format!("Subjectmu{clear}{caller:?}"), None, 1, 0),
            "{case}: person and teams untouched"
        );
    }
}

#[tokio::test]
async fn team_member_update_changing_or_clearing_a_manager_is_for_admins_and_the_managers_above() {
    let app = spawn_policy_app("managers").await;
    let o = org(&app).await;
    project(&app).await;

    for caller in CALLERS {
        member_update_case(&app, &o, caller, false).await;
        member_update_case(&app, &o, caller, true).await;
    }
}

#[tokio::test]
async fn team_member_create_of_a_new_person_with_a_manager_stays_open() {
    let app = spawn_policy_app("managers").await;
    let o = org(&app).await;
    project(&app).await;

    for caller in CALLERS {
        let case = format!("{caller:?}");
        let s = subject(&app, &format!("tn{caller:?}"), Some(&o.manager)).await;

        let (status, body) = app
            .mutate_with_token(
                &token(caller, &s),
                "teamMember.create",
                member_create_input(&format!("hire-{caller:?}@x.io"), Some(&o.director)),
            )
            .await;

        assert_eq!(status, 200, "{case}: {body}");
        let new_id = data(&body)["personId"].as_str().unwrap();
        assert_eq!(
            manager_changes(&app, new_id).await,
            vec![(None, Some(o.director.clone()), clerk_user(caller, &s))],
            "{case}"
        );
    }
}

#[tokio::test]
async fn the_open_policy_lets_anyone_change_reporting_lines_through_team_member() {
    let app = spawn_policy_app("open").await;
    let o = org(&app).await;
    project(&app).await;
    let top = subject(&app, "top", None).await;
    let moved = subject(&app, "moved", Some(&o.manager)).await;
    let cleared = subject(&app, "cleared", Some(&o.manager)).await;
    let moved_member = membership(&app, &moved.id).await;
    let cleared_member = membership(&app, &cleared.id).await;

    let (set, set_body) = app
        .mutate_as(
            STRANGER,
            "teamMember.create",
            member_create_input(&email_of(&app, &top.id).await, Some(&o.manager)),
        )
        .await;
    let (changed, changed_body) = app
        .mutate_as(
            PEER,
            "teamMember.update",
            member_update_input(
                &moved_member,
                &email_of(&app, &moved.id).await,
                Some(&o.ceo),
            ),
        )
        .await;
    let (own, own_body) = app
        .mutate_as(
            &cleared.clerk_user,
            "teamMember.update",
            member_update_input(&cleared_member, &email_of(&app, &cleared.id).await, None),
        )
        .await;

    assert_eq!(set, 200, "{set_body}");
    assert_eq!(
        manager_changes(&app, &top.id).await,
        vec![(None, Some(o.manager.clone()), STRANGER.to_string())]
    );
    assert_eq!(changed, 200, "{changed_body}");
    assert_eq!(manager_of(&app, &moved.id).await, Some(Some(o.ceo.clone())));
    assert_eq!(own, 200, "{own_body}");
    assert_eq!(manager_of(&app, &cleared.id).await, Some(None));
}

/// Postgres statements of one `teamMember` mutation, from its `Server-Timing`
/// header.
async fn member_cost(app: &TestApp, token: &str, path: &str, input: Value) -> u64 {
    let (status, body, timing) = app.mutate_timed(token, path, input).await;
    assert_eq!(status, 200, "{path}: {body}");
    server_timing_counts(&timing).1
}

#[tokio::test]
async fn an_authorized_team_member_manager_change_costs_no_statement_more_than_the_open_policy() {
    let open = spawn_policy_app("open").await;
    let managers = spawn_app().await;
    let mut costs = Vec::new();
    for app in [&open, &managers] {
        let o = org(app).await;
        project(app).await;
        let joined = subject(app, "joined", Some(&o.manager)).await;
        let changed = subject(app, "changed", Some(&o.manager)).await;
        let cleared = subject(app, "cleared", Some(&o.manager)).await;
        let changed_member = membership(app, &changed.id).await;
        let cleared_member = membership(app, &cleared.id).await;
        let manager = token_for(MANAGER);
        costs.push([
            member_cost(
                app,
                &manager,
                "teamMember.create",
                member_create_input(&email_of(app, &joined.id).await, Some(&o.director)),
            )
            .await,
            member_cost(
                app,
                &manager,
                "teamMember.update",
                member_update_input(
                    &changed_member,
                    &email_of(app, &changed.id).await,
                    Some(&o.director),
                ),
            )
            .await,
            member_cost(
                app,
                &manager,
                "teamMember.update",
                member_update_input(&cleared_member, &email_of(app, &cleared.id).await, None),
            )
            .await,
            member_cost(
                app,
                &token_with_role(ADMIN_BY_ROLE, "admin"),
                "teamMember.update",
                member_update_input(
                    &changed_member,
                    &email_of(app, &changed.id).await,
                    Some(&o.manager),
                ),
            )
            .await,
        ]);
    }
    let [[open_join, open_change, open_clear, open_admin], [join, change, clear, admin]] =
        costs[..]
    else {
        unreachable!()
    };
    println!(
        "teamMember statements, open -> managers: create (existing, new manager) \
         {open_join} -> {join}, update changing {open_change} -> {change}, \
         clearing {open_clear} -> {clear}, by an admin {open_admin} -> {admin}"
    );

    // Setting or changing: the authorization rides in the cycle check's query.
    assert_eq!(join, open_join);
    assert_eq!(change, open_change);
    // Clearing made no cycle check: the chain query is the one extra statement.
    assert_eq!(clear, open_clear + 1);
    // An admin's change costs what it did before.
    assert_eq!(admin, open_admin);
}
