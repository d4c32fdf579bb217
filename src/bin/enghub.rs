//! The `enghub` command line: local development and operator tasks.

use std::time::Duration;

use clap::{Parser, Subcommand};

use enghub::dev::local::{self, DevResult};

#[derive(Parser)]
#[command(
    name = "enghub",
    version,
    about = "eng-hub API: local server and operator commands"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve every function on one port with local Postgres and Redis and demo data.
    Dev {
        #[arg(long, env = "PORT", default_value_t = 3000)]
        port: u16,
    },
    /// Apply the database migrations to DATABASE_URL.
    Migrate,
    /// Load the demo organisation into DATABASE_URL (only into an empty database).
    Seed,
    /// Run the Upstash-compatible REST bridge in front of a local Redis.
    Bridge {
        #[arg(long, default_value_t = local::DEV_BRIDGE_PORT)]
        port: u16,
        #[arg(long, env = "REDIS_URL", default_value = "redis://127.0.0.1:6379")]
        redis_url: String,
        #[arg(long, default_value = local::DEV_BRIDGE_TOKEN)]
        token: String,
        /// Delay every answer by this many milliseconds (simulates distance).
        #[arg(long, default_value_t = 0)]
        latency_ms: u64,
    },
    /// Print a dev bearer token signed with the `enghub dev` key pair.
    Token {
        #[arg(long)]
        sub: String,
        #[arg(long)]
        role: Option<String>,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 7 * 24 * 3600)]
        ttl: u64,
    },
}

fn database_url() -> DevResult<String> {
    std::env::var("DATABASE_URL").map_err(|_| "DATABASE_URL is not set".into())
}

#[tokio::main]
async fn main() -> DevResult<()> {
    let cli = Cli::parse();
    enghub::telemetry::init(false);
    match cli.command {
        Command::Dev { port } => local::run(port).await,
        Command::Migrate => {
            let url = database_url()?;
            let db = enghub::db::connect_lazy(&url, url.contains("pgbouncer=true"))?;
            enghub::db::migrate(&db).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Seed => {
            let url = database_url()?;
            let db = enghub::db::connect_lazy(&url, url.contains("pgbouncer=true"))?;
            match enghub::db::seed(&db).await? {
                enghub::db::SeedOutcome::Seeded { .. } => println!("demo data loaded"),
                enghub::db::SeedOutcome::AlreadySeeded => {
                    println!("database already has people; nothing loaded")
                }
            }
            Ok(())
        }
        Command::Bridge {
            port,
            redis_url,
            token,
            latency_ms,
        } => {
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
            let bridge = enghub::dev::bridge::Bridge::start(
                listener,
                enghub::dev::bridge::BridgeConfig {
                    redis_url,
                    token,
                    latency: Duration::from_millis(latency_ms),
                },
            )
            .await?;
            println!("bridge listening on {}", bridge.url());
            tokio::signal::ctrl_c().await?;
            Ok(())
        }
        Command::Token { sub, role, ttl } => {
            println!(
                "{}",
                local::dev_token(&sub, role.as_deref(), Duration::from_secs(ttl))?
            );
            Ok(())
        }
    }
}
