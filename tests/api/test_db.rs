//! A throw-away Postgres database per test.
//!
//! Connects to the admin URL (`TEST_DATABASE_ADMIN_URL`, default
//! `postgres://postgres@127.0.0.1:5432/postgres`), creates `enghub_test_<random>`, and drops
//! it (terminating its connections) when the [`TestDb`] goes out of scope, also when the test
//! panicked.

use rand::Rng;
use sqlx::{Connection, PgConnection, PgPool};

pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_ADMIN_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

pub struct TestDb {
    pub name: String,
    pub url: String,
    pub pool: PgPool,
}

impl TestDb {
    /// An empty database, no migrations applied.
    pub async fn empty() -> Self {
        let name = format!("enghub_test_{:016x}", rand::thread_rng().gen::<u64>());
        let mut admin = PgConnection::connect(&admin_url())
            .await
            .expect("connect to the admin database (set TEST_DATABASE_ADMIN_URL)");
        sqlx::raw_sql(&format!(r#"CREATE DATABASE "{name}""#))
            .execute(&mut admin)
            .await
            .expect("create test database");
        admin.close().await.ok();
        let mut url = url::Url::parse(&admin_url()).expect("admin URL");
        url.set_path(&name);
        let url = url.to_string();
        let pool = enghub::db::connect_lazy(&url, false).expect("pool");
        Self { name, url, pool }
    }

    /// A database with the embedded migrations applied.
    pub async fn migrated() -> Self {
        let db = Self::empty().await;
        enghub::db::migrate(&db.pool).await.expect("migrate");
        db
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs inside the test's runtime, which cannot be blocked on; use a fresh one
        // on another thread and wait for it.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let mut admin = PgConnection::connect(&admin_url()).await?;
                sqlx::raw_sql(&format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#))
                    .execute(&mut admin)
                    .await?;
                admin.close().await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop test database {}", self.name);
        }
    }
}
