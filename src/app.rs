//! The shared application state of one function instance: configuration,
//! outbound clients, the lazily connected Postgres pool and the procedure
//! registry. Built once per cold start; nothing else lives between requests.

use std::sync::Arc;
use std::time::Duration;

use crate::auth::ClerkVerifier;
use crate::cache::Cache;
use crate::config::{Config, ConfigError};
use crate::db::{self, Db};
use crate::procedures::{self, Ctx};
use crate::qstash::Receiver;
use crate::ratelimit::EphemeralBlocks;
use crate::trpc::Registry;
use crate::upstash::UpstashClient;

pub struct App {
    pub config: Config,
    pub db: Db,
    pub redis: UpstashClient,
    pub cache: Cache,
    pub clerk: ClerkVerifier,
    pub qstash: Receiver,
    pub http: reqwest::Client,
    pub procedures: Registry<Ctx>,
    /// Identifiers rejected by a rate limit, blocked locally until their window ends
    /// (as @upstash/ratelimit's ephemeral cache does, per instance).
    pub rate_limit_blocks: EphemeralBlocks,
    /// When this instance last read the cache outbox, and whether it knows of
    /// undrained entries.
    pub outbox_hint: crate::cache::DrainHint,
}

impl App {
    /// The GitHub client for this instance's configuration (`GITHUB_API_URL`,
    /// `GITHUB_TOKEN`), sharing its HTTP client.
    pub fn github_client(&self) -> crate::github::client::GitHubClient {
        crate::github::client::GitHubClient::new(
            self.http.clone(),
            &self.config.github_api_url,
            self.config.github_token.as_ref().map(|t| t.expose()),
        )
    }

    /// Builds the app without touching the network (Postgres connects lazily).
    pub fn new(config: Config) -> Result<Self, ConfigError> {
        let mut problems = Vec::new();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .pool_idle_timeout(Duration::from_secs(60))
            .user_agent(concat!("enghub-api/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ConfigError {
                problems: vec![format!("HTTP client could not be built: {e}")],
            })?;
        let clerk = ClerkVerifier::new(
            &config.clerk_jwt_key,
            config.clerk_authorized_parties.clone(),
        )
        .map_err(|e| {
            problems.push(format!(
                "CLERK_JWT_KEY is not a usable RSA public key ({e})"
            ))
        })
        .ok();
        let db = db::connect_lazy(config.database_url.expose(), config.pgbouncer)
            .map_err(|e| problems.push(format!("DATABASE_URL is not a valid Postgres URL ({e})")))
            .ok();
        let (Some(clerk), Some(db)) = (clerk, db) else {
            return Err(ConfigError { problems });
        };
        let redis = UpstashClient::new(
            http.clone(),
            &config.upstash_url,
            config.upstash_token.expose(),
            config.upstash_timeout,
        );
        let cache = Cache::new(redis.clone(), config.key_prefix.clone());
        if config.reporting_line_policy == crate::config::ReportingLinePolicy::Open {
            tracing::warn!(
                "ENGHUB_REPORTING_LINE_POLICY=open: any signed-in user may change anyone's \
                 manager, and with it who can read their 1:1 notes"
            );
        }
        let qstash = Receiver::new(
            config.qstash_current_signing_key.expose(),
            config.qstash_next_signing_key.expose(),
        );
        Ok(App {
            config,
            db,
            redis,
            cache,
            clerk,
            qstash,
            http,
            procedures: procedures::registry(),
            rate_limit_blocks: EphemeralBlocks::default(),
            outbox_hint: Default::default(),
        })
    }
}

/// One function instance: ready, or misconfigured (then every request is
/// answered with a JSON 500 naming the variables, and `/_vercel/ping` still works).
#[derive(Clone)]
pub enum Instance {
    Ready(Arc<App>),
    Misconfigured(ConfigError),
}

impl Instance {
    pub fn from_env() -> Self {
        Self::from_config(Config::from_env())
    }

    pub fn from_config(config: Result<Config, ConfigError>) -> Self {
        match config.and_then(App::new) {
            Ok(app) => Instance::Ready(Arc::new(app)),
            Err(e) => {
                tracing::error!(error = %e, "configuration error");
                Instance::Misconfigured(e)
            }
        }
    }
}
