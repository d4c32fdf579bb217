//! The cache layer beyond the original: one round trip per batch, no stale
//! write-back, no stampede, visible cost.

use std::time::Duration;

use enghub::cache::{Cache, CacheKey, Lookup};
use enghub::upstash::Command;
use serde_json::{json, Value};
use tokio::sync::oneshot;

use crate::helpers::{data, server_timing_counts, spawn_app, token_for, TestApp, USER};

/// `(upstash round trips, postgres queries)` from a response's Server-Timing.
fn costs(res: &reqwest::Response) -> (u64, u64) {
    server_timing_counts(res.headers()["server-timing"].to_str().unwrap())
}

async fn get(app: &TestApp, path_and_query: &str) -> reqwest::Response {
    app.http
        .get(format!("{}{path_and_query}", app.base_url))
        .bearer_auth(token_for(USER))
        .send()
        .await
        .unwrap()
}

const BATCH_OF_THREE: &str =
    "/api/trpc/department.getAll,title.getAll,health.ping?batch=1&input=%7B%7D";

#[tokio::test]
async fn a_warm_batch_of_cached_queries_costs_one_upstash_round_trip_and_no_postgres() {
    let app = spawn_app().await;
    // First call loads the scripts and fills both keys.
    let res = get(&app, BATCH_OF_THREE).await;
    assert_eq!(res.status(), 200);

    let res = get(&app, BATCH_OF_THREE).await;

    assert_eq!(res.status(), 200);
    assert_eq!(costs(&res), (1, 0));
}

#[tokio::test]
async fn a_cold_batch_costs_one_read_round_trip_plus_one_for_all_write_backs() {
    let app = spawn_app().await;
    get(&app, BATCH_OF_THREE).await; // scripts now cached by Redis
    app.mutate("department.create", json!({"name": "Eng"}))
        .await; // both keys invalidated

    let res = get(&app, BATCH_OF_THREE).await;

    assert_eq!(res.status(), 200);
    assert_eq!(
        costs(&res),
        (2, 2),
        "one read pipeline, one write-back pipeline, two SELECTs"
    );
}

#[tokio::test]
async fn a_mutation_costs_one_round_trip_before_and_one_after_its_commit() {
    let app = spawn_app().await;
    app.mutate("department.create", json!({"name": "Warm"}))
        .await; // scripts cached

    let res = app
        .http
        .post(format!("{}/api/trpc/department.create", app.base_url))
        .header("content-type", "application/json")
        .bearer_auth(token_for(USER))
        .body(r#"{"name":"Eng"}"#)
        .send()
        .await
        .unwrap();

    assert_eq!(res.status(), 200);
    assert_eq!(costs(&res).0, 2);
}

/// Runs the classic cache-aside race: a reader misses and reads Postgres, a
/// writer commits and invalidates, then the reader writes back. Returns what
/// the cache holds afterwards.
async fn race(app: &TestApp, write_back: impl AsyncFnOnce(Value)) -> Option<String> {
    let key = app.key("departments:all");
    let (read_done, read_done_rx) = oneshot::channel();
    let (go, go_rx) = oneshot::channel::<()>();
    let db = app.db.clone();
    let reader = tokio::spawn(async move {
        let mut conn = db.acquire().await.unwrap();
        let rows = enghub::db::departments::list_views(&mut conn)
            .await
            .unwrap();
        read_done.send(()).unwrap();
        go_rx.await.unwrap();
        serde_json::to_value(rows).unwrap()
    });
    read_done_rx.await.unwrap();
    let (status, _) = app
        .mutate("department.create", json!({"name": "Added later"}))
        .await;
    assert_eq!(status, 200);
    go.send(()).unwrap();
    let stale = reader.await.unwrap();
    assert_eq!(stale, json!([]), "the reader saw the old rows");
    write_back(stale).await;
    app.redis_get(&key).await
}

#[tokio::test]
async fn cached_value_is_not_restored_after_invalidation() {
    let app = spawn_app().await;
    let cache = Cache::new(app.redis.clone(), app.prefix.clone());
    let Lookup::Miss(ticket) = cache.read(&CacheKey::Departments).await.unwrap() else {
        panic!("cold key")
    };

    let stored = race(&app, async |stale| {
        let n = cache.store_many(&[(ticket, stale)]).await.unwrap();
        assert_eq!(n, 0, "write-back refused");
    })
    .await;

    assert_eq!(stored, None);
    let (_, body) = app.query("department.getAll", None).await;
    assert_eq!(data(&body).as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_naive_get_then_set_cache_does_restore_the_stale_value() {
    let app = spawn_app().await;
    let key = app.key("departments:all");
    assert_eq!(app.redis_get(&key).await, None);

    let stored = race(&app, async |stale| {
        app.redis
            .command(&Command::new("set").arg(key.as_str()).arg(stale.to_string()))
            .await
            .unwrap();
    })
    .await;

    assert_eq!(
        stored.as_deref(),
        Some("[]"),
        "the naive cache kept stale rows"
    );
}

#[tokio::test]
async fn a_hundred_concurrent_cold_misses_run_one_postgres_fetch() {
    let app = spawn_app().await;
    app.mutate("department.create", json!({"name": "Eng"}))
        .await;
    get(&app, "/api/trpc/title.getAll").await; // scripts cached

    let requests = (0..100).map(|i| {
        app.http
            .get(format!("{}/api/trpc/department.getAll", app.base_url))
            .bearer_auth(token_for(&format!("user_{i}")))
            .send()
    });
    let responses = futures::future::join_all(requests).await;

    let mut queries = 0;
    for res in responses {
        let res = res.unwrap();
        assert_eq!(res.status(), 200);
        queries += costs(&res).1;
        let body: Value = res.json().await.unwrap();
        assert_eq!(data(&body)[0]["name"], "Eng");
    }
    assert_eq!(
        queries, 1,
        "Postgres fetches for 100 concurrent cold requests"
    );
}

#[tokio::test]
async fn a_waiter_reads_postgres_itself_when_the_filler_never_finishes() {
    let app = spawn_app().await;
    let cache = Cache::new(app.redis.clone(), app.prefix.clone());
    // Somebody took the fill lock and died.
    let Lookup::Miss(t) = cache.read(&CacheKey::Departments).await.unwrap() else {
        panic!("cold")
    };
    assert!(t.leader);

    let started = std::time::Instant::now();
    let (status, body) = app.query("department.getAll", None).await;

    assert_eq!(status, 200);
    assert_eq!(data(&body), &json!([]));
    // It waited out the dead filler's lock, then filled itself.
    let waited = started.elapsed();
    let lock = Duration::from_millis(enghub::cache::FILL_LOCK_MS);
    assert!(
        waited >= lock - Duration::from_millis(500) && waited < lock + Duration::from_secs(3),
        "{waited:?}"
    );
}

#[tokio::test]
async fn a_null_result_is_returned_and_never_served_from_cache() {
    let app = spawn_app().await;
    let cache = Cache::new(app.redis.clone(), app.prefix.clone());
    let key = CacheKey::Project("nope".into());
    let mut calls = 0;
    for _ in 0..2 {
        let v: Option<Value> = cache
            .cached(&key, || async {
                calls += 1;
                Ok::<_, ()>(None)
            })
            .await
            .unwrap();
        assert_eq!(v, None);
    }
    assert_eq!(calls, 2);
    assert_eq!(app.redis_get(&app.key("project:nope")).await, None);
}

#[tokio::test]
async fn cached_serves_a_hit_without_calling_fetch_and_stores_a_miss_with_its_ttl() {
    let app = spawn_app().await;
    let cache = Cache::new(app.redis.clone(), app.prefix.clone());
    let key = CacheKey::PersonMe("clerk-abc".into());

    let first: Value = cache
        .cached(&key, || async { Ok::<_, ()>(json!({"id": "p1"})) })
        .await
        .unwrap();
    let second: Value = cache
        .cached(&key, || async { Err::<Value, ()>(()) })
        .await
        .unwrap();

    assert_eq!(first, second);
    let full = app.key("person-me:clerk-abc");
    assert_eq!(
        app.redis_get(&full).await.as_deref(),
        Some(r#"{"id":"p1"}"#)
    );
    let ttl = app.redis_ttl(&full).await;
    assert!((3_500..=3_600).contains(&ttl), "{ttl}");
}

#[tokio::test]
async fn invalidation_helpers_delete_exactly_their_keys() {
    use enghub::cache::*;
    let app = spawn_app().await;
    let cache = Cache::new(app.redis.clone(), app.prefix.clone());
    let all = [
        "departments:all",
        "titles:all",
        "projects:list",
        "project:proj-1",
        "people:all",
        "person-me:clerk-abc",
        "clerk-person:clerk-abc",
        "mgmt-chain:person-1",
        "github-stats:proj-1",
        "meeting-templates:all",
    ];
    let cases: Vec<(Vec<CacheKey>, Vec<&str>)> = vec![
        (
            invalidate_reference_data(),
            vec!["departments:all", "titles:all"],
        ),
        (
            invalidate_project_cache("proj-1"),
            vec!["project:proj-1", "projects:list"],
        ),
        (invalidate_people_cache(None), vec!["people:all"]),
        (
            invalidate_people_cache(Some("clerk-abc")),
            vec!["people:all", "person-me:clerk-abc"],
        ),
        (
            invalidate_mgmt_chain("person-1"),
            vec!["mgmt-chain:person-1"],
        ),
        (
            invalidate_github_stats("proj-1"),
            vec!["github-stats:proj-1"],
        ),
        (
            invalidate_meeting_templates(),
            vec!["meeting-templates:all"],
        ),
        (
            invalidate_person_me_by_ids(["clerk-abc"]),
            vec!["person-me:clerk-abc"],
        ),
    ];
    for (keys, expected) in cases {
        for k in all {
            app.redis_set(&app.key(k), "1").await;
        }
        cache.invalidate(&keys).await.unwrap();
        for k in all {
            let present = app.redis_get(&app.key(k)).await.is_some();
            assert_eq!(present, !expected.contains(&k), "{k} after {keys:?}");
        }
    }
}

#[tokio::test]
async fn flush_deletes_every_key_under_the_prefix_and_nothing_else() {
    let app = spawn_app().await;
    let cache = Cache::new(app.redis.clone(), app.prefix.clone());
    for i in 0..1_200 {
        app.redis_set(&app.key(&format!("project:p{i}")), "{}")
            .await;
    }
    let other = format!("{}-other:departments:all", app.prefix);
    app.redis_set(&other, "[]").await;

    let deleted = cache.flush().await.unwrap();

    assert_eq!(deleted, 1_200);
    assert_eq!(app.redis_get(&app.key("project:p7")).await, None);
    assert_eq!(app.redis_get(&other).await.as_deref(), Some("[]"));
    app.redis
        .command(&Command::new("del").arg(other.as_str()))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_null_result_releases_the_fill_lock() {
    let app = spawn_app().await;
    let unclaimed = "user_without_a_person";

    let res = app
        .http
        .get(format!("{}/api/trpc/person.me", app.base_url))
        .bearer_auth(token_for(unclaimed))
        .send()
        .await
        .unwrap();

    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(data(&body), &Value::Null);
    let lock = format!("{}:lock:person-me:{unclaimed}", app.prefix);
    assert_eq!(
        app.redis_get(&lock).await,
        None,
        "no one waits on a lock for a null"
    );
}

#[tokio::test]
async fn the_same_cold_key_twice_in_a_batch_is_fetched_once_without_waiting() {
    let app = spawn_app().await;
    get(&app, "/api/trpc/title.getAll").await; // scripts cached

    let res = get(
        &app,
        "/api/trpc/department.getAll,department.getAll?batch=1&input=%7B%7D",
    )
    .await;

    assert_eq!(res.status(), 200);
    assert_eq!(
        costs(&res),
        (2, 1),
        "one read, one write-back, no polling; one SELECT"
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(body[0], body[1]);
}

#[tokio::test]
async fn a_rate_limited_call_gives_back_the_fill_lock_it_took() {
    let app = spawn_app().await;
    let paths = vec!["title.getAll"; 50].join(",");
    for _ in 0..2 {
        app.http
            .get(format!(
                "{}/api/trpc/{paths}?batch=1&input=%7B%7D",
                app.base_url
            ))
            .bearer_auth(token_for("user_over"))
            .send()
            .await
            .unwrap();
    }
    // The key is cold and this caller is over its budget (unless the minute
    // just turned, when it may be allowed: either way no lock may remain).
    app.mutate("department.create", json!({"name": "Eng"}))
        .await;
    app.http
        .get(format!("{}/api/trpc/department.getAll", app.base_url))
        .bearer_auth(token_for("user_over"))
        .send()
        .await
        .unwrap();

    assert_eq!(app.redis_get(&app.key("lock:departments:all")).await, None);
}

#[tokio::test]
async fn a_cache_hit_answers_the_same_bytes_as_the_miss_that_filled_it() {
    let app = spawn_app().await;
    let paths = [
        "/api/trpc/department.getAll",
        "/api/trpc/department.getAll,title.getAll,no.such?batch=1&input=%7B%7D",
    ];
    for (i, path) in paths.into_iter().enumerate() {
        // Creating a department invalidates both cached lists.
        let name = format!("Ünïcødé \"quoted\" \\ </b>\t😀 1e21 {i}");
        let (status, _) = app
            .mutate("department.create", json!({ "name": name }))
            .await;
        assert_eq!(status, 200);

        let miss = get(&app, path).await;
        let miss_status = miss.status();
        assert!(costs(&miss).1 >= 1, "{path}: the miss read Postgres");
        let miss_body = miss.bytes().await.unwrap();
        let hit = get(&app, path).await;
        let hit_status = hit.status();
        assert_eq!(costs(&hit), (1, 0), "{path}: the hit did not");
        let hit_body = hit.bytes().await.unwrap();

        assert_eq!(hit_status, miss_status);
        assert_eq!(
            String::from_utf8_lossy(&hit_body),
            String::from_utf8_lossy(&miss_body),
            "{path}"
        );
        assert!(String::from_utf8_lossy(&hit_body).contains(r#"\"quoted\" \\ </b>\t😀"#));
    }
}

#[tokio::test]
async fn a_cached_float_is_written_as_javascript_writes_it_on_the_miss_and_the_hit() {
    let app = spawn_app().await;
    let (_, body) = app
        .mutate("project.create", json!({"name": "Floats"}))
        .await;
    let project = data(&body)["id"].as_str().unwrap().to_string();
    let (_, body) = app
        .mutate(
            "milestone.create",
            json!({"projectId": project, "title": "M"}),
        )
        .await;
    let milestone = data(&body)["id"].as_str().unwrap().to_string();
    // Float columns: serde_json alone would print `100.0` and `1e21`.
    let (status, body) = app
        .mutate(
            "keyResult.create",
            json!({"title": "KR", "targetValue": 1e21, "currentValue": 100, "milestoneId": milestone}),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let path = format!(
        "/api/trpc/project.getById?input={}",
        percent_encoding::utf8_percent_encode(
            &json!({ "id": project }).to_string(),
            percent_encoding::NON_ALPHANUMERIC
        )
    );
    let miss = get(&app, &path).await;
    assert!(costs(&miss).1 >= 1, "the miss read Postgres");
    let miss_body = miss.text().await.unwrap();
    let hit = get(&app, &path).await;
    assert_eq!(costs(&hit), (1, 0), "the hit did not");
    let hit_body = hit.text().await.unwrap();

    assert_eq!(hit_body, miss_body);
    assert!(
        miss_body.contains(r#""targetValue":1e+21,"currentValue":100,"#),
        "{miss_body}"
    );
}
