//! `enghub dev`: the whole API on one local port with local Postgres, a local
//! Redis behind the REST bridge, a dev Clerk key pair and the QStash dev keys.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use sqlx::Connection;

use super::bridge::{Bridge, BridgeConfig};
use super::tokens::{ClerkClaims, DevClerkKeys, QSTASH_DEV_CURRENT_KEY, QSTASH_DEV_NEXT_KEY};
use crate::app::Instance;
use crate::config::Config;
use crate::db;

pub type DevResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

pub const DEV_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432";
pub const DEV_DATABASE: &str = "enghub_dev";
pub const DEV_BRIDGE_PORT: u16 = 8079;
pub const DEV_BRIDGE_TOKEN: &str = "enghub-dev";

/// Where the dev key pair is kept, so printed tokens survive restarts.
pub fn dev_dir() -> PathBuf {
    std::env::var_os("ENGHUB_DEV_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/enghub-dev"))
}

/// Loads the dev Clerk key pair, creating it on first use.
pub fn dev_clerk_keys() -> DevResult<DevClerkKeys> {
    let path = dev_dir().join("clerk-dev-key.pem");
    if let Ok(pem) = std::fs::read_to_string(&path) {
        return Ok(DevClerkKeys::from_private_pem(&pem)?);
    }
    let keys = DevClerkKeys::generate();
    std::fs::create_dir_all(dev_dir())?;
    std::fs::write(&path, keys.private_pem())?;
    Ok(keys)
}

/// A bearer token for `sub`, valid for `ttl`.
pub fn dev_token(sub: &str, role: Option<&str>, ttl: Duration) -> DevResult<String> {
    let keys = dev_clerk_keys()?;
    let mut claims = ClerkClaims::for_user(sub, ttl);
    claims.role = role.map(str::to_string);
    Ok(keys.sign(claims))
}

/// Creates `name` on the server at `server_url` unless it exists.
pub async fn ensure_database(server_url: &str, name: &str) -> DevResult<String> {
    let mut conn = sqlx::PgConnection::connect(&format!("{server_url}/postgres")).await?;
    let exists: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(name)
        .fetch_optional(&mut conn)
        .await?;
    if exists.is_none() {
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut conn)
            .await?;
    }
    Ok(format!("{server_url}/{name}"))
}

/// Runs `enghub dev` until Ctrl-C.
pub async fn run(port: u16) -> DevResult<()> {
    let mut vars: HashMap<String, String> = std::env::vars().collect();
    let set =
        |vars: &HashMap<String, String>, k: &str| vars.get(k).is_some_and(|v| !v.trim().is_empty());

    // A database you name is used as it is (run `enghub migrate` / `seed`
    // yourself); the local one is created, migrated and seeded here.
    let mut fresh = false;
    if set(&vars, "DATABASE_URL") {
        println!("postgres: using DATABASE_URL as it is");
    } else {
        let url = ensure_database(DEV_POSTGRES, DEV_DATABASE).await?;
        println!("postgres: {url} (set DATABASE_URL to use another)");
        let pool = db::connect_lazy(&url, false)?;
        db::migrate(&pool).await?;
        fresh = match db::seed(&pool).await? {
            db::SeedOutcome::Seeded { .. } => {
                println!("postgres: migrated and seeded with demo data");
                true
            }
            db::SeedOutcome::AlreadySeeded => {
                println!("postgres: migrated (demo data already present)");
                false
            }
        };
        pool.close().await;
        vars.insert("DATABASE_URL".into(), url);
    }

    let bridge = if set(&vars, "UPSTASH_REDIS_REST_URL") {
        None
    } else {
        let redis_url = vars
            .get("REDIS_URL")
            .cloned()
            .unwrap_or_else(|| "redis://127.0.0.1:6379".into());
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", DEV_BRIDGE_PORT)).await?;
        let bridge = Bridge::start(
            listener,
            BridgeConfig {
                redis_url: redis_url.clone(),
                token: DEV_BRIDGE_TOKEN.into(),
                latency: Duration::ZERO,
            },
        )
        .await?;
        println!(
            "redis: Upstash REST bridge on {} -> {redis_url}",
            bridge.url()
        );
        vars.insert("UPSTASH_REDIS_REST_URL".into(), bridge.url());
        vars.insert("UPSTASH_REDIS_REST_TOKEN".into(), DEV_BRIDGE_TOKEN.into());
        Some(bridge)
    };

    if !set(&vars, "CLERK_JWT_KEY") {
        let keys = dev_clerk_keys()?;
        vars.insert("CLERK_JWT_KEY".into(), keys.public_pem());
        let token = dev_token(
            db::DEV_CLERK_USER_ID,
            None,
            Duration::from_secs(7 * 24 * 3600),
        )?;
        println!("auth: dev Clerk key pair in {}", dev_dir().display());
        println!(
            "auth: bearer token for seeded user {} (7 days):",
            db::DEV_CLERK_USER_ID
        );
        println!("{token}");
        println!("auth: more with `cargo run -- token --sub <clerkUserId> [--role admin]`");
    }
    if !set(&vars, "QSTASH_CURRENT_SIGNING_KEY") && !set(&vars, "QSTASH_NEXT_SIGNING_KEY") {
        vars.insert(
            "QSTASH_CURRENT_SIGNING_KEY".into(),
            QSTASH_DEV_CURRENT_KEY.into(),
        );
        vars.insert("QSTASH_NEXT_SIGNING_KEY".into(), QSTASH_DEV_NEXT_KEY.into());
        println!(
            "qstash: dev signing keys current={QSTASH_DEV_CURRENT_KEY} next={QSTASH_DEV_NEXT_KEY}"
        );
    }

    let instance = Instance::from_config(Config::from_vars(&vars));
    let app = match &instance {
        Instance::Misconfigured(e) => return Err(e.clone().into()),
        Instance::Ready(app) => app,
    };
    if fresh && bridge.is_some() {
        // A new local database behind the local bridge: entries cached from an
        // earlier one would be served for up to a day. (Never done to an
        // Upstash you configured: it may be shared.)
        match app.cache.flush().await {
            Ok(n) => println!(
                "redis: fresh database, deleted {n} keys under {}:*",
                app.cache.prefix()
            ),
            Err(e) => println!("redis: could not flush old cache entries ({e})"),
        }
    }
    let (addr, server) =
        super::server::spawn(SocketAddr::from(([127, 0, 0, 1], port)), instance).await?;
    println!("listening on http://{addr}");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = server => {}
    }
    Ok(())
}
