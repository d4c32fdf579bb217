//! One integration-test binary: every module runs against the real Postgres
//! (`TEST_DATABASE_ADMIN_URL`, default `postgres://postgres@127.0.0.1:5432/postgres`)
//! and Redis (`REDIS_URL`, default `redis://127.0.0.1:6379`).

mod access_policy;
mod arrangements;
mod auth;
mod cache_layer;
mod comments_and_history;
mod concurrent_writes;
mod cron_signature;
mod db;
mod github_cli;
mod github_cron;
mod github_procedures;
mod github_support;
mod github_sync;
mod health;
mod health_assessments;
mod helpers;
mod hierarchy;
mod input_limits;
mod meetings;
mod misconfigured;
mod outage_recovery;
mod parity;
mod people;
mod project_links;
mod projects;
mod rate_limits;
mod ratelimit;
mod real_clients;
mod redis_outage;
mod reference_data;
mod roadmap;
mod team_members;
mod teams;
mod test_db;
mod trpc_wire;
mod upstash;
