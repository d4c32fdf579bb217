//! The tRPC wire format as `httpBatchLink` / `httpLink` see it (protocols.md §D).

use serde_json::{json, Value};

use crate::helpers::{data, error_code, spawn_app, token_for, USER};

#[tokio::test]
async fn a_batch_of_two_queries_answers_both_in_order_with_200() {
    let app = spawn_app().await;
    app.mutate("department.create", json!({"name": "Eng"}))
        .await;
    app.mutate("title.create", json!({"name": "Engineer"}))
        .await;

    let (status, body) = app
        .batch_query(&[("department.getAll", None), ("title.getAll", None)])
        .await;

    assert_eq!(status, 200, "{body}");
    let items = body.as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(data(&items[0])[0]["name"], "Eng");
    assert_eq!(data(&items[1])[0]["name"], "Engineer");
}

#[tokio::test]
async fn a_mixed_batch_is_207_with_per_call_envelopes() {
    let app = spawn_app().await;

    let (status, body) = app
        .batch_query(&[("department.getAll", None), ("nope.missing", None)])
        .await;

    assert_eq!(status, 207, "{body}");
    assert!(body[0]["result"]["data"].is_array());
    assert_eq!(
        body[1],
        json!({"error": {"message": "No procedure found on path \"nope.missing\"", "code": -32004,
            "data": {"code": "NOT_FOUND", "httpStatus": 404, "path": "nope.missing", "zodError": null}}})
    );
}

#[tokio::test]
async fn an_unknown_procedure_alone_is_404() {
    let app = spawn_app().await;
    let (status, body) = app.query("doesNotExist", None).await;
    assert_eq!(status, 404);
    assert_eq!(error_code(&body), "NOT_FOUND");
    assert_eq!(body["error"]["data"]["path"], "doesNotExist");
}

#[tokio::test]
async fn a_mutation_over_get_and_a_query_over_post_are_405_with_allow() {
    let app = spawn_app().await;
    let res = app
        .http
        .get(format!(
            "{}/api/trpc/department.create?batch=1&input=%7B%220%22%3A%7B%22name%22%3A%22x%22%7D%7D",
            app.base_url
        ))
        .bearer_auth(token_for(USER))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    assert_eq!(res.headers()["allow"], "POST");
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body[0]["error"]["message"],
        "Unsupported GET-request to mutation procedure at path \"department.create\""
    );

    let res = app
        .http
        .post(format!(
            "{}/api/trpc/department.getAll?batch=1",
            app.base_url
        ))
        .header("content-type", "application/json")
        .bearer_auth(token_for(USER))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    assert_eq!(res.headers()["allow"], "GET");
    let body: Value = res.json().await.unwrap();
    assert_eq!(error_code(&body[0]), "METHOD_NOT_SUPPORTED");
    // Nothing was written.
    let (_, list) = app.query("department.getAll", None).await;
    assert_eq!(data(&list), &json!([]));
}

#[tokio::test]
async fn invalid_input_json_is_bad_request_not_a_500() {
    let app = spawn_app().await;
    let (status, body) = app
        .send(
            app.http
                .get(format!(
                    "{}/api/trpc/person.getById?input=%7Bbad",
                    app.base_url
                ))
                .bearer_auth(token_for(USER)),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(error_code(&body), "BAD_REQUEST");
    // tRPC 11 reads input only through an input parser: a procedure without
    // one never fails on it.
    let (status, body) = app
        .send(
            app.http
                .get(format!(
                    "{}/api/trpc/department.getAll?input=%7Bbad",
                    app.base_url
                ))
                .bearer_auth(token_for(USER)),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let (status, body) = app
        .send(
            app.http
                .post(format!("{}/api/trpc/department.create", app.base_url))
                .header("content-type", "application/json")
                .bearer_auth(token_for(USER))
                .body("{\"name\":"),
        )
        .await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn batch_input_that_is_not_an_object_is_bad_request() {
    let app = spawn_app().await;
    let (status, body) = app
        .send(
            app.http
                .get(format!(
                    "{}/api/trpc/department.getAll,person.getById?batch=1&input=%5B%7B%7D%5D",
                    app.base_url
                ))
                .bearer_auth(token_for(USER)),
        )
        .await;
    // Only the call with an input parser reads (and fails on) the input.
    assert_eq!(status, 207, "{body}");
    assert!(body[0]["result"]["data"].is_array(), "{body}");
    assert_eq!(
        body[1]["error"]["message"],
        "\"input\" needs to be an object when doing a batch call"
    );
}

#[tokio::test]
async fn an_oversize_batch_is_one_request_level_error() {
    let app = spawn_app().await;
    let paths = vec!["department.getAll"; 51].join(",");
    let res = app
        .http
        .get(format!(
            "{}/api/trpc/{paths}?batch=1&input=%7B%7D",
            app.base_url
        ))
        .bearer_auth(token_for(USER))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert!(body.is_object(), "a single object, not an array: {body}");
    assert!(body["error"]["data"].get("path").is_none());
}

#[tokio::test]
async fn an_oversize_body_is_413_and_a_missing_content_type_415() {
    let app = spawn_app().await;
    let big = format!("{{\"name\":\"{}\"}}", "x".repeat(1024 * 1024 + 10));
    let (status, body) = app
        .send(
            app.http
                .post(format!("{}/api/trpc/department.create", app.base_url))
                .header("content-type", "application/json")
                .bearer_auth(token_for(USER))
                .body(big),
        )
        .await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(error_code(&body), "PAYLOAD_TOO_LARGE");

    let res = app
        .http
        .post(format!("{}/api/trpc/department.create", app.base_url))
        .bearer_auth(token_for(USER))
        .body("{\"name\":\"x\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 415);
    assert_eq!(res.headers()["content-type"], "text/plain;charset=UTF-8");
    let body: Value = serde_json::from_str(&res.text().await.unwrap()).unwrap();
    assert_eq!(body["error"]["message"], "Missing content-type header");
}

#[tokio::test]
async fn a_batch_of_mutations_returns_each_result() {
    let app = spawn_app().await;
    let (status, body) = app
        .send(
            app.http
                .post(format!(
                    "{}/api/trpc/department.create,department.create?batch=1",
                    app.base_url
                ))
                .header("content-type", "application/json")
                .bearer_auth(token_for(USER))
                .body(r#"{"0":{"name":"A"},"1":{"name":""}}"#),
        )
        .await;
    assert_eq!(status, 207, "{body}");
    assert_eq!(data(&body[0])["name"], "A");
    assert_eq!(error_code(&body[1]), "BAD_REQUEST");
    assert_eq!(body[1]["error"]["data"]["path"], "department.create");
}

#[tokio::test]
async fn health_ping_is_public_and_head_is_204() {
    let app = spawn_app().await;
    let (status, body) = app
        .send(
            app.http
                .get(format!("{}/api/trpc/health.ping", app.base_url)),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(data(&body)["status"], "ok");
    assert!(data(&body)["timestamp"].as_str().unwrap().ends_with('Z'));

    let res = app
        .http
        .head(format!("{}/api/trpc/health.ping", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
}

#[tokio::test]
async fn cors_preflight_and_responses_allow_only_configured_origins() {
    let app = spawn_app().await;
    let res = app
        .http
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/api/trpc/department.getAll", app.base_url),
        )
        .header("origin", "https://app.enghub.test")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "https://app.enghub.test"
    );
    assert!(res.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .contains("authorization"));

    let res = app
        .http
        .get(format!("{}/api/trpc/health.ping", app.base_url))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());
}
