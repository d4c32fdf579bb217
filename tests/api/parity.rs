//! Values come back as they went in, and the wire answers as tRPC 11.10 and
//! zod do (issue 10 §4 and §6): a test per difference found by sending the
//! same requests to the original and to the port.

use serde_json::{json, Value};

use crate::helpers::{data, spawn_app, token_for, TestApp, USER};

/// A manager claimed by [`USER`] and one direct report; returns the report.
async fn report_of_user(app: &TestApp) -> String {
    let manager = app.insert_person("Manager", None, Some(USER)).await;
    app.insert_person("Report", Some(&manager), None).await
}

/// The raw text of a GET, for number formatting.
async fn raw_get(app: &TestApp, path_and_query: &str) -> (u16, String) {
    let res = app
        .http
        .get(format!("{}{path_and_query}", app.base_url))
        .bearer_auth(token_for(USER))
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

async fn raw_post(app: &TestApp, path: &str, body: &str) -> (u16, Value) {
    let req = app
        .http
        .post(format!("{}/api/trpc/{path}", app.base_url))
        .header("content-type", "application/json")
        .bearer_auth(token_for(USER))
        .body(body.to_string());
    app.send(req).await
}

fn encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[tokio::test]
async fn dates_before_year_one_read_back_as_written() {
    let app = spawn_app().await;
    let report = report_of_user(&app).await;
    for date in [
        "0000-06-15T00:00:00.000Z",
        "-000001-06-15T12:30:00.250Z",
        "-004713-11-24T00:00:00.000Z",
        "+010000-01-01T00:00:00.000Z",
        "9999-12-31T23:59:59.999Z",
    ] {
        let (status, body) = app
            .mutate("meeting.create", json!({"personId": report, "date": date}))
            .await;
        assert_eq!(status, 200, "{date}: {body}");
        let id = data(&body)["id"].as_str().unwrap().to_string();
        let (status, body) = app.query("meeting.getById", Some(json!({"id": id}))).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(data(&body)["date"], date);
        let (_, list) = app
            .query("meeting.getByPersonId", Some(json!({"personId": report})))
            .await;
        let listed = data(&list)
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == id.as_str())
            .cloned()
            .unwrap();
        assert_eq!(listed["date"], date, "the SQL view agrees");
    }
}

#[tokio::test]
async fn dates_in_the_forms_javascript_prints_are_accepted() {
    let app = spawn_app().await;
    let report = report_of_user(&app).await;
    for (sent, stored) in [
        (
            "Mon Mar 16 2026 10:00:00 GMT+0000 (Coordinated Universal Time)",
            "2026-03-16T10:00:00.000Z",
        ),
        ("Mon, 16 Mar 2026 10:00:00 GMT", "2026-03-16T10:00:00.000Z"),
        ("2026/03/16", "2026-03-16T00:00:00.000Z"),
        ("2026-03-16 10:00", "2026-03-16T10:00:00.000Z"),
    ] {
        let (status, body) = app
            .mutate("meeting.create", json!({"personId": report, "date": sent}))
            .await;
        assert_eq!(status, 200, "{sent}: {body}");
        let id = data(&body)["id"].as_str().unwrap().to_string();
        let (_, body) = app.query("meeting.getById", Some(json!({"id": id}))).await;
        assert_eq!(data(&body)["date"], stored, "{sent}");
    }
}

#[tokio::test]
async fn document_numbers_come_back_as_javascript_writes_them() {
    let app = spawn_app().await;
    // What a client sends, as text: serde would print these `1.0`, `1e20`.
    let (status, body) = raw_post(
        &app,
        "meetingTemplate.create",
        r#"{"name":"t","content":{"a":1.0,"b":100,"c":1e20,"d":1e21,"e":0.000001,"f":1.5e-7}}"#,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let id = data(&body)["id"].as_str().unwrap().to_string();
    let query = format!(
        "/api/trpc/meetingTemplate.getById?input={}",
        encode(&json!({"id": id}).to_string())
    );
    let (status, text) = raw_get(&app, &query).await;
    assert_eq!(status, 200, "{text}");
    assert!(
        text.contains(
            r#""content":{"a":1,"b":100,"c":100000000000000000000,"d":1e+21,"e":0.000001,"f":1.5e-7}"#
        ),
        "{text}"
    );

    // And what the original stored, read straight from Postgres.
    sqlx::query(
        "UPDATE meeting_templates SET content = '{\"x\": 1.50, \"y\": 1e2, \"z\": 12345678901234567890}'::jsonb
         WHERE id = $1",
    )
    .bind(&id)
    .execute(&app.db)
    .await
    .unwrap();
    let (_, text) = raw_get(&app, &query).await;
    assert!(
        text.contains(r#""content":{"x":1.5,"y":100,"z":12345678901234567000}"#),
        "{text}"
    );
}

#[tokio::test]
async fn a_non_string_in_a_str_or_empty_field_is_zods_union_error() {
    let app = spawn_app().await;
    let (_, created) = app.mutate("title.create", json!({"name": "Eng"})).await;
    let id = data(&created)["id"].as_str().unwrap().to_string();
    let (status, body) = app
        .mutate(
            "title.update",
            json!({"id": id, "name": "Eng", "departmentId": 5}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let zod = &body["error"]["data"]["zodError"];
    assert_eq!(zod["fieldErrors"]["departmentId"], json!(["Invalid input"]));
    let report = report_of_user(&app).await;
    let (status, body) = app
        .mutate(
            "meeting.create",
            json!({"personId": report, "date": "2026-03-16", "templateId": false}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["error"]["data"]["zodError"]["fieldErrors"]["templateId"],
        json!(["Invalid input"])
    );
}

#[tokio::test]
async fn a_get_batch_naming_a_mutation_is_one_request_level_400() {
    let app = spawn_app().await;
    let (status, text) = raw_get(
        &app,
        "/api/trpc/department.getAll,department.create?batch=1&input=%7B%7D",
    )
    .await;
    assert_eq!(status, 400, "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        body["error"]["message"],
        "Cannot mix procedure types in call: query, mutation"
    );
    assert!(body["error"]["data"].get("path").is_none());
    let (status, text) = raw_get(
        &app,
        "/api/trpc/title.create,title.getAll?batch=1&input=%7B%7D",
    )
    .await;
    assert_eq!(status, 400);
    assert!(text.contains("Cannot mix procedure types in call: mutation, query"));
}

#[tokio::test]
async fn an_empty_json_body_fails_only_procedures_with_input() {
    let app = spawn_app().await;
    let (status, body) = raw_post(&app, "department.create", "").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["message"], "Unexpected end of JSON input");
    assert_eq!(body["error"]["data"]["zodError"], Value::Null);
    // `person.unclaimMe` takes no input: the body is never read.
    let (status, body) = raw_post(&app, "person.unclaimMe", "").await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = raw_post(&app, "person.unclaimMe", "{not json").await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn get_input_follows_trpc_11_for_empty_null_and_unparsable_values() {
    let app = spawn_app().await;
    // Without an input parser: whatever `input` holds is never read.
    for input in ["", "null", "%7Bbad", "%20"] {
        let (status, text) =
            raw_get(&app, &format!("/api/trpc/department.getAll?input={input}")).await;
        assert_eq!(status, 200, "{input}: {text}");
    }
    // With one: empty is no input (zod's Required), null is a null input,
    // unparsable is BAD_REQUEST without zodError.
    let (status, text) = raw_get(&app, "/api/trpc/person.getById?input=").await;
    assert_eq!(status, 400);
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        body["error"]["data"]["zodError"]["formErrors"],
        json!(["Required"])
    );
    let (status, text) = raw_get(&app, "/api/trpc/person.getById?input=null").await;
    assert_eq!(status, 400);
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        body["error"]["data"]["zodError"]["formErrors"],
        json!(["Expected object, received null"])
    );
    let (status, text) = raw_get(&app, "/api/trpc/person.getById?input=%7Bbad").await;
    assert_eq!(status, 400);
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["error"]["data"]["zodError"], Value::Null);
    let (status, text) = raw_get(&app, "/api/trpc/person.getById?input=%20").await;
    assert_eq!(status, 400);
    assert!(text.contains("Unexpected end of JSON input"), "{text}");
}

#[tokio::test]
async fn trpc_path_is_ignored_on_the_trpc_path() {
    let app = spawn_app().await;
    let (status, text) = raw_get(&app, "/api/trpc/health.ping?trpcPath=department.getAll").await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("\"status\":\"ok\""), "{text}");
}

#[tokio::test]
async fn direct_reports_are_ordered_by_last_name_first_name_and_id() {
    let app = spawn_app().await;
    let manager = app.insert_person("Boss", None, Some(USER)).await;
    for (first, last) in [
        ("Zed", "Adams"),
        ("Amy", "Young"),
        ("Bob", "Adams"),
        ("Bob", "Adams"),
    ] {
        let id = app.insert_person(first, Some(&manager), None).await;
        sqlx::query("UPDATE people SET last_name = $2 WHERE id = $1")
            .bind(&id)
            .bind(last)
            .execute(&app.db)
            .await
            .unwrap();
    }
    let key = |r: &Value| {
        (
            r["lastName"].as_str().unwrap().to_string(),
            r["firstName"].as_str().unwrap().to_string(),
            r["id"].as_str().unwrap().to_string(),
        )
    };
    let (_, me) = app.query("person.me", None).await;
    let reports: Vec<_> = data(&me)["directReports"]
        .as_array()
        .unwrap()
        .iter()
        .map(key)
        .collect();
    let mut sorted = reports.clone();
    sorted.sort();
    assert_eq!(reports.len(), 4);
    assert_eq!(reports, sorted);
    assert_eq!(reports[0].1, "Bob");
    let (_, all) = app.query("person.getAll", None).await;
    let boss = data(&all)
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == manager.as_str())
        .unwrap()
        .clone();
    let listed: Vec<_> = boss["directReports"]
        .as_array()
        .unwrap()
        .iter()
        .map(key)
        .collect();
    assert_eq!(listed, sorted);
}

#[tokio::test]
async fn the_sql_iso_formatter_prints_exactly_what_the_rust_one_prints() {
    let app = spawn_app().await;
    let sql = concat!(
        "SELECT ",
        enghub::js_iso_sql!("t0.ts"),
        " FROM (SELECT $1::timestamp(3) AS ts) t0"
    );
    for text in [
        "2026-03-16T10:00:00.123Z",
        "0000-06-15T00:00:00.000Z",
        "-000001-06-15T12:30:00.250Z",
        "-004713-11-24T00:00:00.000Z",
        "0001-01-01T00:00:00.000Z",
        "0999-12-31T23:59:59.999Z",
        "+010000-01-01T00:00:00.000Z",
        "+200000-09-13T00:00:00.000Z",
    ] {
        let t = enghub::db::time::parse(text).unwrap();
        let (printed,): (String,) = sqlx::query_as(sql)
            .bind(t)
            .fetch_one(&app.db)
            .await
            .unwrap();
        assert_eq!(printed, enghub::db::time::to_iso(&t));
        assert_eq!(printed, text);
    }
    let (null,): (Option<String>,) = sqlx::query_as(sql)
        .bind(None::<chrono::NaiveDateTime>)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(null, None);
}
