//! The operator commands `enghub schedule` and `enghub sync`, run as the real binary
//! against the fake QStash and GitHub.

use enghub::dev::fakes::qstash::FakeQStash;

use crate::github_support::*;
use crate::helpers::{clerk_keys, server_url, BRIDGE_TOKEN, QSTASH_CURRENT, QSTASH_NEXT};

async fn enghub(args: &[&str], env: &[(&str, String)]) -> (bool, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_enghub"))
        .args(args)
        .env_clear()
        .env("RUST_LOG", "error")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .await
        .expect("enghub runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn schedule_create_list_and_delete_talk_to_qstash() {
    let qstash = FakeQStash::start().await;
    let env = [
        ("QSTASH_URL", qstash.url()),
        ("QSTASH_TOKEN", "qstash-cli-token".to_string()),
    ];
    let url = "https://hub.example.com/api/cron/github-sync";

    let (ok, out, err) = enghub(
        &["schedule", "create", "--cron", "0 */6 * * *", "--url", url],
        &env,
    )
    .await;
    assert!(ok, "{out}{err}");
    let created = &qstash.received()[0];
    assert_eq!(created.method, "POST");
    assert_eq!(created.target, format!("/v2/schedules/{url}"));
    assert_eq!(created.headers["upstash-cron"], "0 */6 * * *");
    assert_eq!(created.headers["upstash-method"], "POST");
    assert_eq!(created.headers["authorization"], "Bearer qstash-cli-token");
    assert_eq!(created.body, "");
    let id = out.split('\t').next().unwrap().to_owned();
    assert!(id.starts_with("scd_"), "{out}");

    let (ok, out, _) = enghub(&["schedule", "list"], &env).await;
    assert!(ok);
    assert_eq!(out.trim(), format!("{id}\t0 */6 * * *\t{url}"));

    let (ok, out, _) = enghub(&["schedule", "delete", &id], &env).await;
    assert!(ok, "{out}");
    let (_, out, _) = enghub(&["schedule", "list"], &env).await;
    assert_eq!(out.trim(), "");
}

#[tokio::test]
async fn schedule_without_a_token_names_the_variable() {
    let (ok, _, err) = enghub(&["schedule", "list"], &[]).await;
    assert!(!ok);
    assert!(err.contains("QSTASH_TOKEN"), "{err}");
}

#[tokio::test]
async fn sync_prints_a_line_per_project() {
    let world = world().await;
    let project = project_with_team(&world).await;
    let env = [
        (
            "DATABASE_URL",
            format!("{}/{}", server_url(), world.app.db_name),
        ),
        (
            "UPSTASH_REDIS_REST_URL",
            world.app.bridge.as_ref().unwrap().url(),
        ),
        ("UPSTASH_REDIS_REST_TOKEN", BRIDGE_TOKEN.to_string()),
        ("QSTASH_CURRENT_SIGNING_KEY", QSTASH_CURRENT.to_string()),
        ("QSTASH_NEXT_SIGNING_KEY", QSTASH_NEXT.to_string()),
        ("CLERK_JWT_KEY", clerk_keys().public_pem()),
        ("ENGHUB_KEY_PREFIX", world.app.prefix.clone()),
        ("GITHUB_API_URL", world.github.url()),
        ("GITHUB_TOKEN", GITHUB_TOKEN.to_string()),
    ];

    let (ok, out, err) = enghub(&["sync"], &env).await;
    assert!(ok, "{out}{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with(&format!(
            "ok    {project} (acme/widgets): 2 GitHub requests"
        )),
        "{out}"
    );
    assert!(lines[1].starts_with("1 synced, 0 failed"), "{out}");

    let (ok, out, _) = enghub(&["sync", "--project", "missing"], &env).await;
    assert!(!ok);
    assert!(out.contains("error missing: Project not found."), "{out}");
}

#[tokio::test]
async fn sync_continues_a_partial_pass_until_the_project_is_done() {
    let world = world().await;
    let project = project_with_team(&world).await;
    world.github.edit_repo(REPO, |repo| {
        for n in 10..260 {
            repo.prs.push(enghub::dev::fakes::github::FakePr::open(
                n,
                "ann",
                "2024-03-01T00:00:00Z",
            ));
        }
    });
    let env = [
        (
            "DATABASE_URL",
            format!("{}/{}", server_url(), world.app.db_name),
        ),
        (
            "UPSTASH_REDIS_REST_URL",
            world.app.bridge.as_ref().unwrap().url(),
        ),
        ("UPSTASH_REDIS_REST_TOKEN", BRIDGE_TOKEN.to_string()),
        ("QSTASH_CURRENT_SIGNING_KEY", QSTASH_CURRENT.to_string()),
        ("QSTASH_NEXT_SIGNING_KEY", QSTASH_NEXT.to_string()),
        ("CLERK_JWT_KEY", clerk_keys().public_pem()),
        ("ENGHUB_KEY_PREFIX", world.app.prefix.clone()),
        ("GITHUB_API_URL", world.github.url()),
        ("GITHUB_TOKEN", GITHUB_TOKEN.to_string()),
    ];

    // 253 PRs, 100 a page, one page a pass: three passes.
    let (ok, out, err) = enghub(&["sync", "--pages-per-pass", "1"], &env).await;

    assert!(ok, "{out}{err}");
    let lines: Vec<&str> = out.lines().collect();
    let label = format!("{project} (acme/widgets)");
    assert_eq!(
        lines[..2],
        [
            format!("pass  {label}: pass 1 fetched 100 PRs; continuing"),
            format!("pass  {label}: pass 2 fetched 100 PRs; continuing"),
        ],
        "{out}"
    );
    assert!(
        lines[2].starts_with(&format!("ok    {label}: 2 GitHub requests")),
        "{out}"
    );
    assert!(
        lines[2].contains("53 PRs fetched / 253 stored (full pass)"),
        "{out}"
    );
    assert!(lines[3].starts_with("1 synced, 0 failed"), "{out}");
    let cursors: Vec<_> = world
        .github
        .requests()
        .into_iter()
        .filter(|r| r.endpoint == enghub::dev::fakes::github::Endpoint::GraphQl)
        .map(|r| r.cursor)
        .collect();
    assert_eq!(
        cursors,
        [None, Some("cursor:100".into()), Some("cursor:200".into())]
    );
}

#[tokio::test]
async fn cache_flush_needs_only_the_upstash_variables() {
    let app = crate::helpers::spawn_app().await;
    app.redis_set(&app.key("departments:all"), "[]").await;
    let env = [
        ("UPSTASH_REDIS_REST_URL", app.bridge().url()),
        ("UPSTASH_REDIS_REST_TOKEN", BRIDGE_TOKEN.to_string()),
        ("ENGHUB_KEY_PREFIX", app.prefix.clone()),
    ];
    let (ok, out, err) = enghub(&["cache", "flush"], &env).await;
    assert!(ok, "{out}{err}");
    assert!(out.contains("deleted 1 keys"), "{out}");
    assert_eq!(app.redis_get(&app.key("departments:all")).await, None);

    let (ok, _, err) = enghub(&["cache", "flush"], &env[..1]).await;
    assert!(!ok);
    assert!(err.contains("UPSTASH_REDIS_REST_TOKEN is not set"), "{err}");
}
