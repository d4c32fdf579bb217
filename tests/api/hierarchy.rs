//! The management-chain check (`enghub::hierarchy`) against real Redis and
//! Postgres: the original's seven `hierarchy.test.ts` cases, the atomic and
//! generation-checked chain writes, the cost of warm and cold checks, and the
//! reporting-lines lock that keeps concurrent manager changes from closing a
//! loop.

use std::sync::Arc;
use std::time::Duration;

use enghub::cache::{Cache, CacheKey};
use enghub::hierarchy::{self, EMPTY_CHAIN_MEMBER, FILL_LUA};
use enghub::telemetry::{Costs, RequestStats};
use enghub::upstash::{Arg, Command, Script};
use serde_json::json;

use crate::helpers::{data, error_code, server_timing_counts, spawn_app, TestApp};

/// Runs one access check, returning its answer and what it cost.
async fn check(app: &TestApp, clerk_user: &str, person: &str) -> (bool, Costs) {
    let stats = RequestStats::new();
    let cache = app
        .cache()
        .with_client(app.redis.with_observer(stats.upstash_observer()));
    let allowed = stats
        .scope(hierarchy::is_in_management_chain(
            &cache, &app.db, clerk_user, person,
        ))
        .await
        .expect("check runs");
    (allowed, stats.costs())
}

fn chain_key(app: &TestApp, person: &str) -> String {
    app.key(&format!("mgmt-chain:{person}"))
}

/// Loads the check script once (the first EVALSHA of a fresh Redis falls back
/// to EVAL), so round-trip counts are those of a running deployment.
async fn warm_up(app: &TestApp) {
    let someone = app.insert_person("WarmUp", None, None).await;
    check(app, "clerk-warm-up", &someone).await;
}

async fn sadd(app: &TestApp, key: &str, members: &[&str]) {
    app.redis
        .command(&Command::new("sadd").arg(key).args(members.iter().copied()))
        .await
        .unwrap();
}

// --- The original's seven cases (procedures.md §8.2) ---------------------------------------

#[tokio::test]
async fn unknown_clerk_user_is_not_in_any_chain() {
    let app = spawn_app().await;
    let boss = app.insert_person("Boss", None, None).await;
    let report = app.insert_person("Report", Some(&boss), None).await;

    let (allowed, _) = check(&app, "clerk-nobody", &report).await;

    assert!(!allowed);
    // A negative mapping is not cached, as in the original.
    assert_eq!(
        app.redis_get(&app.key("clerk-person:clerk-nobody")).await,
        None
    );
}

#[tokio::test]
async fn cached_mapping_and_cached_chain_answer_without_postgres_in_one_round_trip() {
    let app = spawn_app().await;
    app.redis_set(&app.key("clerk-person:clerk-abc"), "viewer-id")
        .await;
    sadd(&app, &chain_key(&app, "person-1"), &["viewer-id"]).await;
    warm_up(&app).await;

    let (allowed, costs) = check(&app, "clerk-abc", "person-1").await;

    assert!(allowed);
    assert_eq!(costs.upstash_round_trips, 1);
    assert_eq!(costs.pg_queries, 0, "Postgres is never queried");
}

#[tokio::test]
async fn mapping_miss_reads_postgres_and_caches_the_raw_id_for_an_hour() {
    let app = spawn_app().await;
    let viewer = app.insert_person("Viewer", None, Some("clerk-abc")).await;
    sadd(&app, &chain_key(&app, "person-1"), &[&viewer]).await;

    let (allowed, _) = check(&app, "clerk-abc", "person-1").await;

    assert!(allowed);
    let key = app.key("clerk-person:clerk-abc");
    assert_eq!(app.redis_get(&key).await.as_deref(), Some(viewer.as_str()));
    let ttl = app.redis_ttl(&key).await;
    assert!((3_590..=3_600).contains(&ttl), "ttl {ttl}");
}

#[tokio::test]
async fn cached_chain_without_the_viewer_denies() {
    let app = spawn_app().await;
    app.redis_set(&app.key("clerk-person:clerk-abc"), "viewer-id")
        .await;
    sadd(&app, &chain_key(&app, "person-1"), &["someone-else"]).await;

    let (allowed, costs) = check(&app, "clerk-abc", "person-1").await;

    assert!(!allowed);
    assert_eq!(costs.pg_queries, 0);
}

#[tokio::test]
async fn uncached_chain_is_walked_in_postgres_and_cached_as_a_set_for_30_minutes() {
    let app = spawn_app().await;
    let manager_b = app.insert_person("B", None, Some("clerk-b")).await;
    let manager_a = app.insert_person("A", Some(&manager_b), None).await;
    let person = app.insert_person("P", Some(&manager_a), None).await;
    warm_up(&app).await;

    let (allowed, costs) = check(&app, "clerk-b", &person).await;

    assert!(allowed);
    let key = chain_key(&app, &person);
    let mut expected = vec![manager_a.clone(), manager_b.clone()];
    expected.sort();
    assert_eq!(app.redis_smembers(&key).await, expected);
    let ttl = app.redis_ttl(&key).await;
    assert!((1_790..=1_800).contains(&ttl), "ttl {ttl}");
    // Cold: the check script, one recursive query, one fill.
    assert_eq!(costs.upstash_round_trips, 2);
    assert_eq!(costs.pg_queries, 1);
}

#[tokio::test]
async fn subject_without_manager_denies_and_its_empty_chain_is_cached_too() {
    let app = spawn_app().await;
    app.insert_person("Viewer", None, Some("clerk-abc")).await;
    let top = app.insert_person("Top", None, None).await;

    let (allowed, _) = check(&app, "clerk-abc", &top).await;

    assert!(!allowed);
    let key = chain_key(&app, &top);
    assert_eq!(
        app.redis_smembers(&key).await,
        vec![EMPTY_CHAIN_MEMBER.to_string()]
    );
    assert!(app.redis_ttl(&key).await > 0);
    // The next check is warm: no Postgres.
    let (again, costs) = check(&app, "clerk-abc", &top).await;
    assert!(!again);
    assert_eq!((costs.upstash_round_trips, costs.pg_queries), (1, 0));
}

#[tokio::test]
async fn a_reporting_loop_ends_the_walk_and_the_chain_is_still_cached() {
    let app = spawn_app().await;
    app.insert_person("Unrelated", None, Some("clerk-x")).await;
    let a = app.insert_person("A", None, None).await;
    let b = app.insert_person("B", Some(&a), None).await;
    sqlx::query("UPDATE people SET manager_id = $1 WHERE id = $2")
        .bind(&b)
        .bind(&a)
        .execute(&app.db)
        .await
        .unwrap();
    let person = app.insert_person("P", Some(&a), None).await;

    let (allowed, _) = check(&app, "clerk-x", &person).await;

    assert!(!allowed);
    let mut expected = vec![a, b];
    expected.sort();
    assert_eq!(
        app.redis_smembers(&chain_key(&app, &person)).await,
        expected
    );
}

// --- Beyond the original ----------------------------------------------------------------

#[tokio::test]
async fn the_walk_stops_at_fifty_managers() {
    let app = spawn_app().await;
    let mut above: Option<String> = None;
    let mut ids = Vec::new();
    for i in 0..55 {
        let id = app
            .insert_person(&format!("L{i}"), above.as_deref(), None)
            .await;
        ids.push(id.clone());
        above = Some(id);
    }
    let bottom = ids.last().unwrap().clone();
    sqlx::query("UPDATE people SET clerk_user_id = 'clerk-top' WHERE id = $1")
        .bind(&ids[0])
        .execute(&app.db)
        .await
        .unwrap();
    sqlx::query("UPDATE people SET clerk_user_id = 'clerk-50th' WHERE id = $1")
        .bind(&ids[54 - 50])
        .execute(&app.db)
        .await
        .unwrap();

    let (top_allowed, _) = check(&app, "clerk-top", &bottom).await;
    let (fiftieth_allowed, _) = check(&app, "clerk-50th", &bottom).await;

    assert!(!top_allowed, "54 levels up is beyond the walk");
    assert!(fiftieth_allowed, "the 50th manager is the last one walked");
    assert_eq!(
        app.redis_smembers(&chain_key(&app, &bottom)).await.len(),
        50
    );
}

fn fill(app: &TestApp, person: &str, generation: &str, members: &[&str]) -> Command {
    let cache = app.cache();
    let chain = CacheKey::MgmtChain(person.to_string());
    let clerk = CacheKey::ClerkPerson("unused".to_string());
    let mut args: Vec<Arg> = vec![
        generation.into(),
        1_800u64.into(),
        "".into(),
        "".into(),
        3_600u64.into(),
    ];
    args.extend(members.iter().map(|m| Arg::from(*m)));
    Command::evalsha(
        &Script::new(FILL_LUA),
        [
            cache.key(&chain),
            cache.generation_key(&chain),
            cache.key(&clerk),
            cache.generation_key(&clerk),
        ],
        args,
    )
}

#[tokio::test]
async fn a_chain_fill_that_raced_an_invalidation_is_dropped() {
    let app = spawn_app().await;
    let cache: Cache = app.cache();
    let key = CacheKey::MgmtChain("p".into());
    // A reader saw generation "0", then the chain was invalidated.
    cache.invalidate(std::slice::from_ref(&key)).await.unwrap();

    let written = app
        .redis
        .command(&fill(&app, "p", "0", &["stale-boss"]))
        .await;

    assert_eq!(written.unwrap().as_int(), Some(0));
    assert!(app.redis_smembers(&chain_key(&app, "p")).await.is_empty());
    // With the current generation the same fill is written.
    let generation = app.redis_get(&cache.generation_key(&key)).await.unwrap();
    let written = app
        .redis
        .command(&fill(&app, "p", &generation, &["boss"]))
        .await;
    assert_eq!(written.unwrap().as_int(), Some(1));
    assert_eq!(
        app.redis_smembers(&chain_key(&app, "p")).await,
        vec!["boss"]
    );
}

#[tokio::test]
async fn a_chain_fill_replaces_the_whole_set_and_always_sets_the_ttl() {
    let app = spawn_app().await;
    let key = chain_key(&app, "p");
    sadd(&app, &key, &["old-1", "old-2"]).await;

    app.redis
        .command(&fill(&app, "p", "0", &["new-1", "new-2"]))
        .await
        .unwrap();

    assert_eq!(app.redis_smembers(&key).await, vec!["new-1", "new-2"]);
    let ttl = app.redis_ttl(&key).await;
    assert!((1_790..=1_800).contains(&ttl), "ttl {ttl}");
}

#[tokio::test]
async fn when_redis_is_down_the_check_is_answered_from_postgres() {
    let mut app = spawn_app().await;
    let boss = app.insert_person("Boss", None, Some("clerk-boss")).await;
    let report = app.insert_person("Report", Some(&boss), None).await;
    app.stop_bridge().await;

    let (allowed, _) = check(&app, "clerk-boss", &report).await;
    let (stranger, _) = check(&app, "clerk-else", &report).await;

    assert!(allowed);
    assert!(!stranger);
}

/// The numbers the issue asks for, observed on a real request.
#[tokio::test]
async fn warm_access_check_costs_one_round_trip_and_cold_one_query_and_one_write() {
    let app = spawn_app().await;
    let boss = app.insert_person("Boss", None, Some("clerk-boss")).await;
    let report = app.insert_person("Report", Some(&boss), None).await;
    let input = Some(json!({"personId": report}));
    warm_up(&app).await;
    // Loads the rate-limit script too.
    app.query_as("clerk-boss", "meeting.getMyMeetings", None)
        .await;

    let (status, body, cold) = app
        .query_timed("clerk-boss", "meeting.getByPersonId", input.clone())
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, _, warm) = app
        .query_timed("clerk-boss", "meeting.getByPersonId", input)
        .await;
    assert_eq!(status, 200);

    // Request totals: the check rides in the batch's first pipeline with the
    // rate limit (+ the fill when cold); Postgres: the chain query when cold +
    // the meetings read.
    eprintln!("cold: {cold}\nwarm: {warm}");
    assert_eq!(server_timing_counts(&cold), (2, 2), "{cold}");
    assert_eq!(server_timing_counts(&warm), (1, 1), "{warm}");
}

// --- No reporting cycles under concurrency ------------------------------------------------

#[tokio::test]
async fn a_cycle_check_waits_for_a_concurrent_manager_change_and_then_sees_it() {
    let app = spawn_app().await;
    let a = app.insert_person("A", None, None).await;
    let b = app.insert_person("B", None, None).await;

    // Transaction 1 makes B the manager of A, and holds its lock.
    let mut tx1 = app.db.begin().await.unwrap();
    hierarchy::lock_reporting_lines(&mut tx1).await.unwrap();
    hierarchy::ensure_no_cycle(&mut tx1, &a, &b).await.unwrap();
    sqlx::query("UPDATE people SET manager_id = $1 WHERE id = $2")
        .bind(&b)
        .bind(&a)
        .execute(&mut *tx1)
        .await
        .unwrap();

    // Transaction 2 wants A as the manager of B: it must wait for transaction 1.
    let db = app.db.clone();
    let (a2, b2) = (a.clone(), b.clone());
    let second = tokio::spawn(async move {
        let mut tx2 = db.begin().await.unwrap();
        hierarchy::lock_reporting_lines(&mut tx2).await.unwrap();
        hierarchy::ensure_no_cycle(&mut tx2, &b2, &a2).await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !second.is_finished(),
        "the second change waits for the lock"
    );

    tx1.commit().await.unwrap();
    let verdict = second.await.unwrap();

    let err = verdict.expect_err("the loop is detected").to_trpc();
    assert_eq!(err.message, hierarchy::CYCLE_MESSAGE);
}

fn person_input(first: &str, email: &str, manager: Option<&str>) -> serde_json::Value {
    let mut v = json!({"firstName": first, "lastName": "Test", "email": email});
    if let Some(m) = manager {
        v["managerId"] = json!(m);
    }
    v
}

#[tokio::test]
async fn two_concurrent_updates_cannot_close_a_loop() {
    let app = Arc::new(spawn_app().await);
    for round in 0..5 {
        let a = app.insert_person(&format!("A{round}"), None, None).await;
        let b = app.insert_person(&format!("B{round}"), None, None).await;
        let mut update_a = person_input("A", &format!("a{round}@x.io"), Some(&b));
        update_a["id"] = json!(a);
        let mut update_b = person_input("B", &format!("b{round}@x.io"), Some(&a));
        update_b["id"] = json!(b);

        // Both are at the top of the tree: only an org admin may give them a manager.
        let (ra, rb) = tokio::join!(
            app.mutate_as_admin("person.update", update_a),
            app.mutate_as_admin("person.update", update_b)
        );

        let statuses = [ra.0, rb.0];
        assert!(
            statuses.contains(&200) && statuses.contains(&400),
            "round {round}: {ra:?} {rb:?}"
        );
        let loser = if ra.0 == 400 { &ra.1 } else { &rb.1 };
        assert_eq!(error_code(loser), "BAD_REQUEST");
        assert_eq!(loser["error"]["message"], hierarchy::CYCLE_MESSAGE);
        let (loops,): (i64,) = sqlx::query_as(
            "SELECT count(*) FROM people p JOIN people m ON m.id = p.manager_id WHERE m.manager_id = p.id",
        )
        .fetch_one(&app.db)
        .await
        .unwrap();
        assert_eq!(loops, 0);
        let winner = if ra.0 == 200 { &ra.1 } else { &rb.1 };
        assert!(data(winner)["managerId"].is_string());
    }
}

/// The probe sent in the first pipeline failed: the access check is answered
/// from Postgres without asking Redis again.
#[tokio::test]
async fn with_upstash_down_a_meeting_read_checks_access_in_postgres() {
    let mut app = spawn_app().await;
    let boss = app.insert_person("Boss", None, Some("clerk-boss")).await;
    let report = app.insert_person("Report", Some(&boss), None).await;
    app.insert_person("Peer", None, Some("clerk-peer")).await;
    app.stop_bridge().await;
    let input = Some(json!({"personId": report}));

    let (boss_status, _) = app
        .query_as("clerk-boss", "meeting.getByPersonId", input.clone())
        .await;
    let (peer_status, _) = app
        .query_as("clerk-peer", "meeting.getByPersonId", input)
        .await;

    assert_eq!(boss_status, 200);
    assert_eq!(peer_status, 403);
}
