//! After an Upstash outage no grant and no list is served stale (issue 10 §1).
//! Each scenario stops the test's REST bridge around the write and starts it
//! again on the same port afterwards.

use std::net::SocketAddr;
use std::time::Duration;

use enghub::app::Instance;
use enghub::config::Config;
use enghub::dev::bridge::{Bridge, BridgeConfig};
use serde_json::{json, Value};

use crate::helpers::{
    app_vars, data, error_code, redis_url, server_url, spawn_app, TestApp, BRIDGE_TOKEN,
};

/// Stops the bridge; returns its address for [`resume`].
async fn pause(app: &mut TestApp) -> SocketAddr {
    let addr = app.bridge().local_addr();
    app.stop_bridge().await;
    addr
}

/// Starts a bridge on the address the app was configured with.
async fn resume(app: &mut TestApp, addr: SocketAddr) {
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let bridge = Bridge::start(
        listener,
        BridgeConfig {
            redis_url: redis_url(),
            token: BRIDGE_TOKEN.into(),
            latency: Duration::ZERO,
        },
    )
    .await
    .unwrap();
    app.bridge = Some(bridge);
}

async fn outbox_depth(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM cache_outbox")
        .fetch_one(&app.db)
        .await
        .unwrap()
}

async fn manager_of(app: &TestApp, person: &str) -> Option<String> {
    sqlx::query_scalar("SELECT manager_id FROM people WHERE id = $1")
        .bind(person)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

async fn claimed_by(app: &TestApp, person: &str) -> Option<String> {
    sqlx::query_scalar("SELECT clerk_user_id FROM people WHERE id = $1")
        .bind(person)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

/// Status of `meeting.getByPersonId` for `viewer` (200 or 403).
async fn notes_status(app: &TestApp, viewer: &str, person: &str) -> u16 {
    let (status, body) = app
        .query_as(
            viewer,
            "meeting.getByPersonId",
            Some(json!({"personId": person})),
        )
        .await;
    assert!(status == 200 || status == 403, "{status} {body}");
    status
}

fn person_update(id: &str, first_name: &str, manager: Option<&str>) -> Value {
    let mut v = json!({"id": id, "firstName": first_name, "lastName": "Test",
                       "email": format!("{}@x.io", first_name.to_lowercase())});
    if let Some(m) = manager {
        v["managerId"] = json!(m);
    }
    v
}

fn assert_refused_unreachable(status: u16, body: &Value) {
    assert_eq!(status, 503, "{body}");
    assert_eq!(error_code(body), "SERVICE_UNAVAILABLE");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nothing was changed"),
        "{body}"
    );
}

#[tokio::test]
async fn a_manager_change_during_an_outage_is_refused_and_grants_follow_postgres_after() {
    let mut app = spawn_app().await;
    let m = app.insert_person("Mia", None, Some("clerk-m")).await;
    let n = app.insert_person("Ned", None, Some("clerk-n")).await;
    let r = app.insert_person("Rae", Some(&m), None).await;
    // Warm both grants: M's chain entry for R and both clerk-person entries.
    assert_eq!(notes_status(&app, "clerk-m", &r).await, 200);
    assert_eq!(notes_status(&app, "clerk-n", &r).await, 403);
    assert!(app
        .redis_get(&app.key("clerk-person:clerk-m"))
        .await
        .is_some());
    assert_eq!(
        app.redis_smembers(&app.key(&format!("mgmt-chain:{r}")))
            .await,
        vec![m.clone()]
    );

    let addr = pause(&mut app).await;
    let (status, body) = app
        .mutate_as_admin("person.update", person_update(&r, "Rae", Some(&n)))
        .await;
    assert_refused_unreachable(status, &body);
    assert_eq!(
        manager_of(&app, &r).await,
        Some(m.clone()),
        "nothing written"
    );
    let (changes,): (i64,) = sqlx::query_as("SELECT count(*) FROM manager_changes")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(changes, 0);
    resume(&mut app, addr).await;

    // What is cached is still what Postgres holds.
    assert_eq!(notes_status(&app, "clerk-m", &r).await, 200);
    assert_eq!(notes_status(&app, "clerk-n", &r).await, 403);
    // The same change with Upstash back: M loses the grant, N gets it, at once.
    let (status, body) = app
        .mutate_as_admin("person.update", person_update(&r, "Rae", Some(&n)))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(notes_status(&app, "clerk-m", &r).await, 403);
    assert_eq!(notes_status(&app, "clerk-n", &r).await, 200);
}

#[tokio::test]
async fn an_unclaim_during_an_outage_is_refused_and_no_grant_outlives_the_claim() {
    let mut app = spawn_app().await;
    let boss = app.insert_person("Boss", None, Some("clerk-c")).await;
    let report = app.insert_person("Rep", Some(&boss), None).await;
    assert_eq!(notes_status(&app, "clerk-c", &report).await, 200);

    let addr = pause(&mut app).await;
    let (status, body) = app
        .mutate_as("clerk-c", "person.unclaimMe", json!(null))
        .await;
    assert_refused_unreachable(status, &body);
    // So is claiming another record (it releases the caller's).
    let other = app.insert_person("Other", None, None).await;
    let (status, body) = app
        .mutate_as("clerk-c", "person.claimAsMe", json!({"personId": other}))
        .await;
    assert_refused_unreachable(status, &body);
    assert_eq!(claimed_by(&app, &boss).await.as_deref(), Some("clerk-c"));
    assert_eq!(claimed_by(&app, &other).await, None);
    // And deleting the claimed manager (it unlinks the reports and the claim).
    let (status, body) = app.mutate("person.delete", json!({"id": boss})).await;
    assert_refused_unreachable(status, &body);
    assert_eq!(manager_of(&app, &report).await, Some(boss.clone()));
    // A write that revokes no grant still commits.
    let (status, body) = app
        .mutate("person.update", person_update(&other, "Renamed", None))
        .await;
    assert_eq!(status, 200, "{body}");
    resume(&mut app, addr).await;

    assert_eq!(notes_status(&app, "clerk-c", &report).await, 200);
    let (status, body) = app
        .mutate_as("clerk-c", "person.unclaimMe", json!(null))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(notes_status(&app, "clerk-c", &report).await, 403);
    let (status, body) = app
        .mutate_as("clerk-d", "person.claimAsMe", json!({"personId": boss}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(notes_status(&app, "clerk-c", &report).await, 403);
    assert_eq!(notes_status(&app, "clerk-d", &report).await, 200);
}

fn names(list: &Value) -> Vec<String> {
    let mut v: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["name"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn writes_committed_during_an_outage_are_read_on_the_first_request_after_it() {
    let mut app = spawn_app().await;
    let me = app.insert_person("Pat", None, Some("clerk-p")).await;
    // Warm every list (and check it is cached).
    for path in [
        "department.getAll",
        "title.getAll",
        "meetingTemplate.getAll",
        "person.getAll",
    ] {
        let (status, body) = app.query(path, None).await;
        assert_eq!(status, 200, "{path}: {body}");
    }
    let (status, _) = app.query_as("clerk-p", "person.me", None).await;
    assert_eq!(status, 200);
    for key in ["departments:all", "people:all", "person-me:clerk-p"] {
        assert!(app.redis_get(&app.key(key)).await.is_some(), "{key} cached");
    }

    let addr = pause(&mut app).await;
    for (path, input) in [
        ("department.create", json!({"name": "Outage Dept"})),
        ("title.create", json!({"name": "Outage Title"})),
        ("meetingTemplate.create", json!({"name": "Outage Template"})),
        ("person.update", person_update(&me, "Renamed", None)),
    ] {
        let (status, body) = app.mutate(path, input).await;
        assert_eq!(
            status, 200,
            "writes that revoke no grant commit: {path} {body}"
        );
    }
    assert!(outbox_depth(&app).await >= 5, "stale keys were recorded");
    resume(&mut app, addr).await;

    // The very first request after the outage already sees every write.
    let (status, body) = app
        .batch_query(&[
            ("department.getAll", None),
            ("title.getAll", None),
            ("meetingTemplate.getAll", None),
            ("person.getAll", None),
        ])
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(names(&body[0]["result"]["data"]), vec!["Outage Dept"]);
    assert_eq!(names(&body[1]["result"]["data"]), vec!["Outage Title"]);
    assert_eq!(names(&body[2]["result"]["data"]), vec!["Outage Template"]);
    assert_eq!(body[3]["result"]["data"][0]["firstName"], "Renamed");
    let (_, body) = app.query_as("clerk-p", "person.me", None).await;
    assert_eq!(data(&body)["firstName"], "Renamed");
    assert_eq!(outbox_depth(&app).await, 0, "drained");
    // And the re-filled entries are the new ones.
    let cached = app.redis_get(&app.key("departments:all")).await.unwrap();
    assert!(cached.contains("Outage Dept"), "{cached}");
}

/// A second instance of the deployment (same database, Upstash and prefix).
async fn second_instance(app: &TestApp) -> (String, tokio::task::JoinHandle<()>) {
    let vars = app_vars(
        format!("{}/{}", server_url(), app.db_name),
        app.bridge().url(),
        &app.prefix,
    );
    let instance = Instance::from_config(Config::from_vars(&vars));
    let (addr, server) = enghub::dev::server::spawn("127.0.0.1:0".parse().unwrap(), instance)
        .await
        .unwrap();
    (format!("http://{addr}"), server)
}

#[tokio::test]
async fn another_instance_reads_fresh_data_within_the_outbox_poll_interval() {
    let mut app = spawn_app().await;
    let (other_url, other) = second_instance(&app).await;
    let http = app.http.clone();
    let get_on_other = || {
        http.get(format!("{other_url}/api/trpc/department.getAll"))
            .bearer_auth(crate::helpers::token_for(crate::helpers::USER))
    };
    let (status, body) = app.send(get_on_other()).await;
    assert_eq!((status, data(&body).clone()), (200, json!([])));
    assert!(app.redis_get(&app.key("departments:all")).await.is_some());

    let addr = pause(&mut app).await;
    let (status, body) = app
        .mutate("department.create", json!({"name": "During"}))
        .await;
    assert_eq!(status, 200, "{body}");
    let recorded = std::time::Instant::now();
    resume(&mut app, addr).await;

    // The stated bound: a request starting one poll interval after the entry
    // was recorded reads fresh data on any instance.
    tokio::time::sleep(
        enghub::functions::OUTBOX_POLL.saturating_sub(recorded.elapsed())
            + Duration::from_millis(50),
    )
    .await;
    let (status, body) = app.send(get_on_other()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(names(data(&body)), vec!["During"]);
    assert_eq!(outbox_depth(&app).await, 0);
    other.abort();
}

#[tokio::test]
async fn health_reports_and_drains_the_outbox() {
    let mut app = spawn_app().await;
    app.query("department.getAll", None).await;
    let addr = pause(&mut app).await;
    let (status, _) = app.mutate("department.create", json!({"name": "X"})).await;
    assert_eq!(status, 200);
    let (status, body) = app
        .send(app.http.get(format!("{}/api/health", app.base_url)))
        .await;
    assert_eq!(status, 503);
    assert_eq!(
        body["cacheOutbox"],
        json!(2),
        "departments:all and titles:all"
    );
    resume(&mut app, addr).await;
    let (status, body) = app
        .send(app.http.get(format!("{}/api/health", app.base_url)))
        .await;
    assert_eq!((status, &body["cacheOutbox"]), (200, &json!(0)), "{body}");
    assert_eq!(app.redis_get(&app.key("departments:all")).await, None);
}

/// The window the refusal cannot cover (Upstash lost after the change's
/// fence, before its invalidation): the fence makes every instance answer
/// grant checks from Postgres, and write nothing back, until it is lifted or
/// expires.
#[tokio::test]
async fn while_a_grant_fence_is_up_cached_grants_are_not_honoured() {
    let app = spawn_app().await;
    let boss = app.insert_person("Boss", None, None).await;
    let report = app.insert_person("Rep", Some(&boss), None).await;
    // A grant Postgres no longer holds, left in the cache by a lost invalidation.
    app.redis_set(&app.key("clerk-person:clerk-gone"), &boss)
        .await;
    app.redis
        .command(
            &enghub::upstash::Command::new("sadd")
                .arg(app.key(&format!("mgmt-chain:{report}")))
                .arg(boss.as_str()),
        )
        .await
        .unwrap();
    let cache = app.cache();
    let check =
        || enghub::hierarchy::is_in_management_chain(&cache, &app.db, "clerk-gone", &report);
    assert!(
        check().await.unwrap(),
        "without a fence the cached grant decides"
    );

    app.redis.command(&cache.fence_command("t1")).await.unwrap();
    assert!(!check().await.unwrap(), "fenced: Postgres decides");
    let other = app.insert_person("Other", Some(&boss), None).await;
    assert!(!check().await.unwrap());
    let _ = enghub::hierarchy::is_in_management_chain(&cache, &app.db, "clerk-x", &other).await;
    assert!(
        app.redis_smembers(&app.key(&format!("mgmt-chain:{other}")))
            .await
            .is_empty(),
        "nothing is written back while fenced"
    );
    let ttl: i64 = app
        .redis
        .command(&enghub::upstash::Command::new("pttl").arg(cache.grant_fence_key()))
        .await
        .unwrap()
        .as_int()
        .unwrap();
    assert!(
        ttl > 25_000 && ttl <= enghub::cache::GRANT_FENCE_MS as i64,
        "{ttl}"
    );

    app.redis
        .command(&cache.unfence_command(&["t1".to_string()]).unwrap())
        .await
        .unwrap();
    assert!(check().await.unwrap(), "lifted: the cache decides again");
}

#[tokio::test]
async fn a_manager_change_fences_before_it_writes_and_lifts_the_fence_with_its_invalidation() {
    let app = spawn_app().await;
    let m = app.insert_person("Mia", None, Some("clerk-m")).await;
    let n = app.insert_person("Ned", None, None).await;
    let r = app.insert_person("Rae", Some(&m), None).await;
    assert_eq!(notes_status(&app, "clerk-m", &r).await, 200);
    // Once, so every script is loaded (a fresh Redis answers EVALSHA with
    // NOSCRIPT once), then back to M, measured.
    let (status, _) = app
        .mutate_as_admin("person.update", person_update(&r, "Rae", Some(&n)))
        .await;
    assert_eq!(status, 200);
    assert_eq!(notes_status(&app, "clerk-m", &r).await, 403);
    let res = app
        .http
        .post(format!("{}/api/trpc/person.update", app.base_url))
        .bearer_auth(crate::helpers::token_with_role(
            crate::helpers::USER,
            "admin",
        ))
        .json(&person_update(&r, "Rae", Some(&m)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let timing = res.headers()["server-timing"].to_str().unwrap().to_string();
    assert_eq!(
        crate::helpers::server_timing_counts(&timing).0,
        3,
        "rate limit, fence, invalidation + lift: {timing}"
    );
    let fences = app
        .redis
        .command(&enghub::upstash::Command::new("zcard").arg(app.cache().grant_fence_key()))
        .await
        .unwrap();
    assert_eq!(fences.as_int(), Some(0), "lifted");
    assert_eq!(notes_status(&app, "clerk-m", &r).await, 200);
    // A write that changes no grant places no fence: still 2 round trips.
    let res = app
        .http
        .post(format!("{}/api/trpc/person.update", app.base_url))
        .bearer_auth(crate::helpers::token_for(crate::helpers::USER))
        .json(&person_update(&r, "Renamed", Some(&m)))
        .send()
        .await
        .unwrap();
    let timing = res.headers()["server-timing"].to_str().unwrap().to_string();
    assert_eq!(
        crate::helpers::server_timing_counts(&timing).0,
        2,
        "{timing}"
    );
}

#[tokio::test]
async fn every_cron_delivery_drains_the_outbox() {
    let world = crate::github_support::world().await;
    let app = &world.app;
    app.redis_set(&app.key("departments:all"), r#"[{"id":"x","name":"Old"}]"#)
        .await;
    sqlx::query("INSERT INTO cache_outbox (key) VALUES ('departments:all')")
        .execute(&app.db)
        .await
        .unwrap();

    // Even a delivery that fails permanently (unknown project).
    let (status, _, _) = crate::github_support::deliver(app, r#"{"projectId":"missing"}"#).await;

    assert_eq!(status, 489);
    assert_eq!(app.redis_get(&app.key("departments:all")).await, None);
    assert_eq!(outbox_depth(app).await, 0);
}
