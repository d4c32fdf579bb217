//! Shared arrangements of the GitHub tests: an API whose GitHub (and optionally
//! QStash) is a fake served over HTTP, projects and team members inserted directly,
//! and signed cron deliveries.

use std::time::{SystemTime, UNIX_EPOCH};

use enghub::dev::fakes::github::{contributor, FakeGitHub, FakePr, FakeRepo};
use enghub::dev::fakes::qstash::FakeQStash;
use enghub::dev::tokens::sign_qstash;
use enghub::github::GitHubClient;
use serde_json::Value;

use crate::helpers::{spawn_app_with, TestApp, TestOptions, PUBLIC_URL, QSTASH_CURRENT};

pub const CRON_PATH: &str = "/api/cron/github-sync";
pub const GITHUB_TOKEN: &str = "ghp_test_token";
pub const REPO: &str = "acme/widgets";
pub const REPO_URL: &str = "https://github.com/acme/widgets";

pub struct World {
    pub app: TestApp,
    pub github: FakeGitHub,
    pub qstash: Option<FakeQStash>,
}

#[derive(Clone, Copy)]
pub struct Setup {
    pub github_token: bool,
    pub qstash: bool,
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            github_token: true,
            qstash: false,
        }
    }
}

pub async fn world() -> World {
    world_with(Setup::default()).await
}

pub async fn world_with(setup: Setup) -> World {
    let github = FakeGitHub::start().await;
    let qstash = if setup.qstash {
        Some(FakeQStash::start().await)
    } else {
        None
    };
    let mut extra_vars = vec![("GITHUB_API_URL", github.url())];
    if setup.github_token {
        extra_vars.push(("GITHUB_TOKEN", GITHUB_TOKEN.to_string()));
    }
    if let Some(q) = &qstash {
        extra_vars.push(("QSTASH_URL", q.url()));
        extra_vars.push(("QSTASH_TOKEN", "qstash-test-token".to_string()));
    }
    let app = spawn_app_with(TestOptions { extra_vars }).await;
    World {
        app,
        github,
        qstash,
    }
}

impl World {
    /// A client of the fake, as the API builds it.
    pub fn client(&self) -> GitHubClient {
        GitHubClient::new(
            reqwest::Client::new(),
            &self.github.url(),
            Some(GITHUB_TOKEN),
        )
    }
}

pub async fn insert_project(app: &TestApp, github_url: Option<&str>) -> String {
    let id = enghub::db::new_id();
    sqlx::query(
        "INSERT INTO projects (id, name, github_url, updated_at) VALUES ($1, $2, $3, now())",
    )
    .bind(&id)
    .bind(format!("Project {id}"))
    .bind(github_url)
    .execute(&app.db)
    .await
    .unwrap();
    id
}

/// Inserts a person and makes them a member of `project_id`; returns the person id.
pub async fn add_member(
    app: &TestApp,
    project_id: &str,
    first_name: &str,
    github_username: Option<&str>,
) -> String {
    let id = enghub::db::new_id();
    sqlx::query(
        "INSERT INTO people (id, first_name, last_name, email, github_username, updated_at)
         VALUES ($1, $2, 'Tester', $3, $4, now())",
    )
    .bind(&id)
    .bind(first_name)
    .bind(format!("{}@example.com", first_name.to_lowercase()))
    .bind(github_username)
    .execute(&app.db)
    .await
    .unwrap();
    sqlx::query("INSERT INTO team_members (id, person_id, project_id) VALUES ($1, $2, $3)")
        .bind(enghub::db::new_id())
        .bind(&id)
        .bind(project_id)
        .execute(&app.db)
        .await
        .unwrap();
    id
}

/// Sunday 2025-01-05 00:00 UTC, in unix seconds.
pub const WEEK_2025_01_05: i64 = 1_736_035_200;
pub const WEEK: i64 = 7 * 86_400;

/// A small repository: ann (team) 12 commits over two weeks, bob (team) 3, zoe (not
/// on the team) 50; three PRs with reviews.
pub fn small_repo() -> FakeRepo {
    FakeRepo {
        contributors: vec![
            contributor(
                "ann",
                &[
                    (WEEK_2025_01_05 - WEEK, 100, 10, 4),
                    (WEEK_2025_01_05, 200, 20, 8),
                ],
            ),
            contributor("bob", &[(WEEK_2025_01_05, 30, 3, 3)]),
            contributor("zoe", &[(WEEK_2025_01_05, 500, 50, 50)]),
        ],
        prs: vec![
            FakePr::open(1, "ann", "2024-12-30T10:00:00Z")
                .reviewed_by("bob", "2024-12-31T10:00:00Z")
                .reviewed_by("bob", "2025-01-02T10:00:00Z")
                .merged_at("2025-01-02T12:00:00Z"),
            FakePr::open(2, "bob", "2025-01-06T10:00:00Z")
                .reviewed_by("ann", "2025-01-07T10:00:00Z"),
            FakePr::open(3, "zoe", "2025-01-08T10:00:00Z")
                .reviewed_by("ann", "2025-01-09T10:00:00Z"),
        ],
    }
}

/// A project on [`REPO`] with ann and bob on the team (and cid, without a login).
pub async fn project_with_team(world: &World) -> String {
    world.github.put_repo(REPO, small_repo());
    let project = insert_project(&world.app, Some(REPO_URL)).await;
    add_member(&world.app, &project, "Ann", Some("ann")).await;
    add_member(&world.app, &project, "Bob", Some("bob")).await;
    add_member(&world.app, &project, "Cid", None).await;
    project
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A token QStash would send for `body` to the cron URL.
pub fn signature(body: &str) -> String {
    sign_qstash(
        QSTASH_CURRENT,
        &format!("{PUBLIC_URL}{CRON_PATH}"),
        body.as_bytes(),
        now(),
        Default::default(),
    )
}

/// A delivery to the cron function: status, headers, JSON body.
pub async fn deliver_signed(
    app: &TestApp,
    signature: &str,
    body: &str,
    extra_headers: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut req = app
        .http
        .post(format!("{}{CRON_PATH}", app.base_url))
        .header("content-type", "application/json")
        .header("upstash-signature", signature)
        .body(body.to_string());
    for (name, value) in extra_headers {
        req = req.header(*name, *value);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap();
    (
        status,
        headers,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// A freshly signed delivery of `body`.
pub async fn deliver(app: &TestApp, body: &str) -> (u16, reqwest::header::HeaderMap, Value) {
    deliver_signed(app, &signature(body), body, &[]).await
}

/// `(github_username, period) -> row` of the project's stats.
pub async fn stats_rows(
    app: &TestApp,
    project_id: &str,
) -> Vec<(String, String, i32, i32, i32, i32)> {
    sqlx::query_as(
        "SELECT github_username, period, commits, prs_opened, prs_merged, reviews_done
         FROM contributor_stats WHERE project_id = $1 ORDER BY period, github_username",
    )
    .bind(project_id)
    .fetch_all(&app.db)
    .await
    .unwrap()
}

/// `(sync_status, sync_error, last_sync_at is set)`.
pub async fn sync_status(
    app: &TestApp,
    project_id: &str,
) -> Option<(String, Option<String>, bool)> {
    sqlx::query_as(
        "SELECT sync_status, sync_error, last_sync_at IS NOT NULL FROM github_syncs WHERE project_id = $1",
    )
    .bind(project_id)
    .fetch_optional(&app.db)
    .await
    .unwrap()
}

/// `github_sync_state` of a project: `(pr_watermark, pass_cursor, pass_newest,
/// lease_token, lease_until)`.
pub type StateRow = (
    Option<chrono::NaiveDateTime>,
    Option<String>,
    Option<chrono::NaiveDateTime>,
    Option<String>,
    Option<chrono::NaiveDateTime>,
);

pub async fn sync_state(app: &TestApp, project_id: &str) -> Option<StateRow> {
    sqlx::query_as(
        "SELECT pr_watermark, pass_cursor, pass_newest, lease_token, lease_until
         FROM github_sync_state WHERE project_id = $1",
    )
    .bind(project_id)
    .fetch_optional(&app.db)
    .await
    .unwrap()
}

/// A server that accepts connections and never answers.
pub async fn black_hole() -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    (url, task)
}
