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
    /// Sync GitHub stats now, from this machine (every project with a GitHub URL, or one).
    ///
    /// Each project is synced in passes of at most 4 minutes (its lease outlasts a
    /// pass); a pass that runs out of time or pages is continued from its saved
    /// cursor until the project is done, with a line per pass.
    Sync {
        /// Only this project.
        #[arg(long)]
        project: Option<String>,
        /// At most this many GraphQL pages (100 PRs each) per pass.
        #[arg(long)]
        pages_per_pass: Option<u32>,
    },
    /// Manage the QStash schedule that calls the cron function (QSTASH_URL, QSTASH_TOKEN).
    Schedule {
        #[command(subcommand)]
        action: ScheduleAction,
    },
    /// Cache maintenance against UPSTASH_REDIS_REST_URL.
    Cache {
        #[command(subcommand)]
        action: CacheAction,
    },
    /// Write the TypeScript `AppRouter` type of every procedure (for the web app's tRPC client).
    Typegen {
        /// The file to write; `-` prints it instead.
        #[arg(long, default_value = enghub::typegen::DEFAULT_OUT)]
        out: String,
        /// Write nothing; fail (exit 1) if the file differs from what would be written.
        #[arg(long)]
        check: bool,
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

#[derive(Subcommand)]
enum CacheAction {
    /// Delete every key under ENGHUB_KEY_PREFIX (cache, generations, locks, rate limits).
    Flush,
}

#[derive(Subcommand)]
enum ScheduleAction {
    /// Create (or, with --id, create or replace) a schedule POSTing to the cron function.
    Create {
        /// Cron expression (UTC unless prefixed with `CRON_TZ=<zone> `).
        #[arg(long, default_value = "0 */6 * * *")]
        cron: String,
        /// The public URL of the cron function, e.g. https://<host>/api/cron/github-sync.
        #[arg(long)]
        url: String,
        /// Schedule id; creating with an existing id replaces that schedule.
        #[arg(long)]
        id: Option<String>,
        /// Retries QStash makes after a failed delivery.
        #[arg(long, default_value_t = 3)]
        retries: u32,
    },
    /// List the schedules of this QStash account.
    List,
    /// Delete a schedule by id.
    Delete { id: String },
}

/// `enghub typegen`: writes (or with `check`, compares) the generated module.
fn typegen(out: &str, check: bool) -> DevResult<()> {
    let text = enghub::typegen::render(&enghub::procedures::registry());
    if out == "-" {
        print!("{text}");
        return Ok(());
    }
    let path = std::path::Path::new(out);
    if check {
        let current = std::fs::read_to_string(path).unwrap_or_default();
        if current != text {
            return Err(format!(
                "{out} is stale: run `cargo run -- typegen` and commit the result"
            )
            .into());
        }
        println!("{out} is up to date");
        return Ok(());
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, &text)?;
    println!("wrote {out}");
    Ok(())
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
        Command::Typegen { out, check } => typegen(&out, check),
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
        Command::Sync {
            project,
            pages_per_pass,
        } => operator::sync(project.as_deref(), pages_per_pass).await,
        Command::Schedule { action } => operator::schedule(action).await,
        Command::Cache {
            action: CacheAction::Flush,
        } => {
            // Only the Upstash variables: no database, QStash or Clerk needed.
            let settings = enghub::config::CacheSettings::from_env()?;
            let redis = enghub::upstash::UpstashClient::new(
                reqwest::Client::new(),
                &settings.upstash_url,
                settings.upstash_token.expose(),
                settings.upstash_timeout,
            );
            let cache = enghub::cache::Cache::new(redis, settings.key_prefix);
            let deleted = cache.flush().await?;
            println!("deleted {deleted} keys under {}:*", cache.prefix());
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

/// `enghub sync` and `enghub schedule`.
mod operator {
    use std::time::{Duration, Instant};

    use enghub::app::App;
    use enghub::config::Config;
    use enghub::dev::local::DevResult;
    use enghub::github::sync::{sync_and_invalidate, SyncError, SyncOptions, SyncReport};
    use enghub::github::RepoSlug;
    use enghub::qstash::{NewSchedule, Publisher};

    use super::ScheduleAction;

    /// How long one pass may fetch; its lease (`SyncOptions::within`) is longer.
    const PASS_BUDGET: Duration = Duration::from_secs(240);

    /// Syncs one project in passes: a pass stopped by its budget (`Partial`) is
    /// continued from the saved cursor, with a progress line, until one completes.
    async fn sync_in_passes(
        app: &App,
        id: &str,
        label: &str,
        pages_per_pass: Option<u32>,
    ) -> Result<SyncReport, SyncError> {
        let mut pass = 1;
        loop {
            let options = SyncOptions {
                max_pages: pages_per_pass,
                ..SyncOptions::within(PASS_BUDGET)
            };
            match sync_and_invalidate(&app.db, &app.github_client(), &app.cache, id, &options).await
            {
                // No page fetched: another pass would not get further.
                Err(SyncError::Partial { fetched }) if fetched > 0 => {
                    println!("pass  {label}: pass {pass} fetched {fetched} PRs; continuing");
                    pass += 1;
                }
                other => return other,
            }
        }
    }

    /// Runs the sync of one or every project here, one at a time, printing a line each.
    pub async fn sync(project: Option<&str>, pages_per_pass: Option<u32>) -> DevResult<()> {
        let app = App::new(Config::from_env()?)?;
        let projects: Vec<(String, String)> = match project {
            Some(id) => vec![(id.to_owned(), String::new())],
            None => {
                let mut conn = app.db.acquire().await?;
                enghub::db::github::projects_with_github_url(&mut conn).await?
            }
        };
        if projects.is_empty() {
            println!("no project has a GitHub URL");
        }
        let mut failed = 0;
        let started = Instant::now();
        for (id, url) in &projects {
            let label = RepoSlug::parse(url).map_or_else(|| id.clone(), |r| format!("{id} ({r})"));
            match sync_in_passes(&app, id, &label, pages_per_pass).await {
                Ok(r) => println!(
                    "ok    {label}: {} GitHub requests, stats {:?}, {} PRs fetched / {} stored{}, {} rows, {} ms",
                    r.github_requests,
                    r.stats_source,
                    r.prs_fetched,
                    r.prs_total,
                    if r.full_pass { " (full pass)" } else { "" },
                    r.stats_rows,
                    r.elapsed.as_millis()
                ),
                Err(e) => {
                    failed += 1;
                    println!("error {label}: {e}");
                }
            }
        }
        println!(
            "{} synced, {failed} failed in {} ms",
            projects.len() - failed,
            started.elapsed().as_millis()
        );
        if failed > 0 {
            return Err(format!("{failed} project(s) failed").into());
        }
        Ok(())
    }

    fn publisher() -> DevResult<Publisher> {
        let token = std::env::var("QSTASH_TOKEN")
            .ok()
            .filter(|t| !t.trim().is_empty())
            .ok_or("QSTASH_TOKEN is not set")?;
        let url = std::env::var("QSTASH_URL")
            .ok()
            .filter(|u| !u.trim().is_empty())
            .unwrap_or_else(|| "https://qstash.upstash.io".into());
        Ok(Publisher::new(
            reqwest::Client::new(),
            url.trim(),
            token.trim(),
        ))
    }

    pub async fn schedule(action: ScheduleAction) -> DevResult<()> {
        let publisher = publisher()?;
        match action {
            ScheduleAction::Create {
                cron,
                url,
                id,
                retries,
            } => {
                let parsed = url::Url::parse(&url).map_err(|e| format!("--url: {e}"))?;
                if parsed.scheme() != "https" && parsed.scheme() != "http" {
                    return Err("--url must be an http(s) URL".into());
                }
                let schedule_id = publisher
                    .create_schedule(&NewSchedule {
                        destination: url.clone(),
                        cron: cron.clone(),
                        schedule_id: id,
                        retries: Some(retries),
                        body: String::new(),
                    })
                    .await?;
                println!("{schedule_id}\t{cron}\t{url}");
            }
            ScheduleAction::List => {
                for s in publisher.list_schedules().await? {
                    let field =
                        |k: &str| s.get(k).and_then(|v| v.as_str()).unwrap_or("-").to_owned();
                    let paused = s.get("isPaused").and_then(|v| v.as_bool()).unwrap_or(false);
                    println!(
                        "{}\t{}\t{}{}",
                        field("scheduleId"),
                        field("cron"),
                        field("destination"),
                        if paused { "\t(paused)" } else { "" }
                    );
                }
            }
            ScheduleAction::Delete { id } => {
                publisher.delete_schedule(&id).await?;
                println!("deleted {id}");
            }
        }
        Ok(())
    }
}
