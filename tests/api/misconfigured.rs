//! A function whose configuration is missing still answers, with a JSON 500
//! naming every missing variable.

use std::collections::HashMap;

use bytes::Bytes;
use enghub::app::Instance;
use enghub::config::Config;
use enghub::functions::{handle, Function};
use serde_json::Value;

#[tokio::test]
async fn every_function_names_the_missing_variables() {
    let instance = Instance::from_config(Config::from_vars(&HashMap::new()));
    for function in [
        Function::Queries,
        Function::Mutations,
        Function::Health,
        Function::CronGithubSync,
    ] {
        let req = http::Request::get("/api/trpc/department.getAll")
            .body(Bytes::new())
            .unwrap();
        let res = handle(&instance, function, req).await;
        assert_eq!(res.status(), 500, "{function:?}");
        let body: Value = serde_json::from_slice(res.body()).unwrap();
        let vars: Vec<&str> = body["variables"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        for name in [
            "DATABASE_URL",
            "UPSTASH_REDIS_REST_URL",
            "CLERK_JWT_KEY",
            "QSTASH_CURRENT_SIGNING_KEY",
        ] {
            assert!(vars.contains(&name), "{function:?} names {name}: {body}");
        }
    }
}

#[tokio::test]
async fn an_unusable_clerk_key_is_a_configuration_error() {
    let vars: HashMap<String, String> = [
        (
            "DATABASE_URL",
            "postgres://postgres@127.0.0.1:5432/postgres",
        ),
        ("UPSTASH_REDIS_REST_URL", "http://127.0.0.1:1"),
        ("UPSTASH_REDIS_REST_TOKEN", "t"),
        ("QSTASH_CURRENT_SIGNING_KEY", "sig_a"),
        ("QSTASH_NEXT_SIGNING_KEY", "sig_b"),
        ("CLERK_JWT_KEY", "not a pem"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let instance = Instance::from_config(Config::from_vars(&vars));
    let Instance::Misconfigured(err) = instance else {
        panic!("a bad key must not build an app");
    };
    assert_eq!(err.variables(), vec!["CLERK_JWT_KEY"]);
}
