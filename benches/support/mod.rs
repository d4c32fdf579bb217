//! What the `cache` and `cpu` benches share: a freshly migrated and seeded
//! bench database on the local Postgres, dropped at the end.

use sqlx::Connection;

/// The local Postgres server the benches use (trust authentication).
pub const SERVER_URL: &str = "postgres://postgres@127.0.0.1:5432";

async fn admin() -> sqlx::PgConnection {
    sqlx::PgConnection::connect(&format!("{SERVER_URL}/postgres"))
        .await
        .unwrap()
}

/// Recreates database `db_name` (dropping a leftover one), migrates and seeds
/// it with the demo data; returns its URL and a pool on it.
pub async fn seeded_database(db_name: &str) -> (String, sqlx::PgPool) {
    let mut admin = admin().await;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {db_name} WITH (FORCE)"))
        .execute(&mut admin)
        .await
        .unwrap();
    sqlx::query(&format!("CREATE DATABASE {db_name}"))
        .execute(&mut admin)
        .await
        .unwrap();
    let database_url = format!("{SERVER_URL}/{db_name}");
    let pool = enghub::db::connect_lazy(&database_url, false).unwrap();
    enghub::db::migrate(&pool).await.unwrap();
    enghub::db::seed(&pool).await.unwrap();
    (database_url, pool)
}

/// Drops database `db_name` (best effort: the bench's numbers are already out).
pub async fn drop_database(db_name: &str) {
    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {db_name} WITH (FORCE)"))
        .execute(&mut admin().await)
        .await;
}
