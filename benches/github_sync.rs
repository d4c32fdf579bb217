//! GitHub sync cost on a fixture repository of 5,000 PRs and 40 contributors, served
//! by the fake GitHub over local HTTP: requests sent and wall time of a first sync,
//! of a second sync with nothing changed, and of a sync after 10 PRs changed.
//!
//! Not a timed test: it prints numbers. Needs the local Postgres
//! (`TEST_DATABASE_ADMIN_URL`, default `postgres://postgres@127.0.0.1:5432/postgres`);
//! creates and drops its own database. Run with
//! `cargo bench --bench github_sync --profile dev` (or without `--profile dev` for an
//! optimised build).

use std::time::Instant;

use enghub::dev::fakes::github::{contributor, FakeGitHub, FakePr, FakeRepo};
use enghub::github::sync::{sync_project, SyncOptions, SyncReport};
use enghub::github::GitHubClient;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::{Connection, PgConnection, PgPool};

const PRS: i64 = 5_000;
const CONTRIBUTORS: usize = 40;
/// Five years of weekly contributor data.
const WEEKS: i64 = 260;
const FIRST_WEEK: i64 = 1_578_182_400; // Sunday 2020-01-05

fn login(i: usize) -> String {
    format!("dev{i:02}")
}

fn iso(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .expect("in range")
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn fixture() -> FakeRepo {
    let mut rng = StdRng::seed_from_u64(4);
    let contributors = (0..CONTRIBUTORS)
        .map(|i| {
            let weeks: Vec<(i64, i64, i64, i64)> = (0..WEEKS)
                .map(|w| {
                    let c = rng.gen_range(0..12);
                    (FIRST_WEEK + w * 7 * 86_400, c * 40, c * 15, c)
                })
                .collect();
            contributor(&login(i), &weeks)
        })
        .collect();
    let span = WEEKS * 7 * 86_400;
    let prs = (1..=PRS)
        .map(|n| {
            let created = FIRST_WEEK + span * n / (PRS + 1);
            let mut pr = FakePr::open(n, &login(rng.gen_range(0..CONTRIBUTORS)), &iso(created));
            for r in 0..rng.gen_range(0..4) {
                pr = pr.reviewed_by(
                    &login(rng.gen_range(0..CONTRIBUTORS)),
                    &iso(created + 3_600 * (r + 1)),
                );
            }
            if rng.gen_bool(0.8) {
                pr = pr.merged_at(&iso(created + 86_400));
            }
            pr
        })
        .collect();
    FakeRepo { contributors, prs }
}

fn admin_url() -> String {
    std::env::var("TEST_DATABASE_ADMIN_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

async fn seed_project(db: &PgPool) -> String {
    let project = enghub::db::new_id();
    sqlx::query("INSERT INTO projects (id, name, github_url, updated_at) VALUES ($1, 'Bench', 'https://github.com/bench/repo', now())")
        .bind(&project)
        .execute(db)
        .await
        .unwrap();
    for i in 0..CONTRIBUTORS {
        let person = enghub::db::new_id();
        sqlx::query("INSERT INTO people (id, first_name, last_name, email, github_username, updated_at) VALUES ($1, 'Dev', $2, $3, $2, now())")
            .bind(&person)
            .bind(login(i))
            .bind(format!("{}@bench.test", login(i)))
            .execute(db)
            .await
            .unwrap();
        sqlx::query("INSERT INTO team_members (id, person_id, project_id) VALUES ($1, $2, $3)")
            .bind(enghub::db::new_id())
            .bind(&person)
            .bind(&project)
            .execute(db)
            .await
            .unwrap();
    }
    project
}

fn print(label: &str, report: &SyncReport, wall_ms: u128) {
    println!(
        "{label:<34} {:>4} GitHub requests ({:>2} GraphQL pages, stats {:?}), {:>5} PRs fetched, {:>5} stored, {:>3} stat rows, {:>6} ms",
        report.github_requests,
        report.pr_pages,
        report.stats_source,
        report.prs_fetched,
        report.prs_total,
        report.stats_rows,
        wall_ms
    );
}

#[tokio::main]
async fn main() {
    let admin = admin_url();
    let server = admin
        .rsplit_once('/')
        .map(|(s, _)| s.to_owned())
        .unwrap_or_else(|| admin.clone());
    let name = format!("enghub_bench_{}", std::process::id());
    let mut conn = PgConnection::connect(&admin)
        .await
        .expect("postgres reachable");
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut conn)
        .await
        .unwrap();
    let db = PgPool::connect(&format!("{server}/{name}")).await.unwrap();
    enghub::db::migrate(&db).await.unwrap();

    let github = FakeGitHub::start().await;
    let built = Instant::now();
    github.put_repo("bench/repo", fixture());
    println!(
        "fixture: {PRS} PRs, {CONTRIBUTORS} contributors x {WEEKS} weeks (built in {} ms)",
        built.elapsed().as_millis()
    );
    let project = seed_project(&db).await;
    let client = GitHubClient::new(reqwest::Client::new(), &github.url(), Some("bench-token"));
    let options = SyncOptions::default();

    let t = Instant::now();
    let first = sync_project(&db, &client, &project, &options)
        .await
        .unwrap();
    print("first sync", &first, t.elapsed().as_millis());

    let t = Instant::now();
    let second = sync_project(&db, &client, &project, &options)
        .await
        .unwrap();
    print(
        "second sync, nothing changed",
        &second,
        t.elapsed().as_millis(),
    );

    github.edit_repo("bench/repo", |repo| {
        for pr in repo.prs.iter_mut().rev().take(10) {
            *pr = pr.clone().reviewed_by("dev00", "2025-06-01T00:00:00Z");
        }
    });
    let t = Instant::now();
    let third = sync_project(&db, &client, &project, &options)
        .await
        .unwrap();
    print(
        "third sync, 10 PRs updated",
        &third,
        t.elapsed().as_millis(),
    );

    db.close().await;
    sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .execute(&mut conn)
        .await
        .unwrap();
}
