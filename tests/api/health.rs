//! `GET /api/health` checks Postgres and Redis.

use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn health_is_ok_when_postgres_and_redis_answer() {
    let app = spawn_app().await;
    let (status, body) = app
        .send(app.http.get(format!("{}/api/health", app.base_url)))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"status": "ok", "postgres": "ok", "redis": "ok", "cacheOutbox": 0})
    );
}

#[tokio::test]
async fn health_is_503_naming_redis_when_the_bridge_is_gone() {
    let mut app = spawn_app().await;
    app.stop_bridge().await;
    let (status, body) = app
        .send(app.http.get(format!("{}/api/health", app.base_url)))
        .await;
    assert_eq!(status, 503);
    assert_eq!(
        body,
        json!({"status": "error", "postgres": "ok", "redis": "error", "cacheOutbox": 0})
    );
}

#[tokio::test]
async fn health_is_503_naming_postgres_when_the_database_is_gone() {
    let app = spawn_app().await;
    sqlx::query(&format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{}' AND pid <> pg_backend_pid()",
        app.db_name
    ))
    .execute(&app.db)
    .await
    .unwrap();
    app.db.close().await;
    let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&crate::helpers::admin_url())
        .await
        .unwrap();
    sqlx::query(&format!("DROP DATABASE \"{}\" WITH (FORCE)", app.db_name))
        .execute(&mut admin)
        .await
        .unwrap();
    let (status, body) = app
        .send(app.http.get(format!("{}/api/health", app.base_url)))
        .await;
    assert_eq!(status, 503);
    assert_eq!(body["postgres"], "error");
    assert_eq!(body["redis"], "ok");
}
