//! [`FakeQStash`]: the parts of the QStash API this project calls —
//! `POST /v2/batch`, `POST /v2/schedules/<destination>`, `GET /v2/schedules`,
//! `DELETE /v2/schedules/<id>` — answering like QStash and recording every request.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{Request, Response};
use serde_json::{json, Value};

use super::{respond, FakeServer};

/// A request the fake received.
#[derive(Debug, Clone)]
pub struct ReceivedRequest {
    pub method: String,
    /// Path and query, exactly as sent (schedule destinations ride in the path).
    pub target: String,
    /// Lower-cased names.
    pub headers: HashMap<String, String>,
    pub body: String,
}

#[derive(Default)]
struct State {
    received: Vec<ReceivedRequest>,
    failures: VecDeque<(u16, String)>,
    schedules: Vec<Value>,
    next_id: u64,
}

/// The fake QStash API; stops when dropped.
pub struct FakeQStash {
    server: FakeServer,
    state: Arc<Mutex<State>>,
}

impl FakeQStash {
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let server = FakeServer::start(Arc::new(move |req| handle(&shared, req)))
            .await
            .expect("fake QStash binds a port");
        Self { server, state }
    }

    /// The value for `QSTASH_URL`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The next request is answered with `status` and `{"error": message}`.
    pub fn fail_next(&self, status: u16, message: &str) {
        self.state()
            .failures
            .push_back((status, message.to_owned()));
    }

    pub fn received(&self) -> Vec<ReceivedRequest> {
        self.state().received.clone()
    }
}

fn handle(state: &Mutex<State>, req: Request<Bytes>) -> Response<Bytes> {
    let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
    let target = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let headers: HashMap<String, String> = req
        .headers()
        .iter()
        .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let body = String::from_utf8_lossy(req.body()).into_owned();
    state.received.push(ReceivedRequest {
        method: req.method().to_string(),
        target: target.clone(),
        headers: headers.clone(),
        body: body.clone(),
    });
    let json_ok = |v: Value| respond(200, &[("content-type", "application/json")], v.to_string());
    if !headers
        .get("authorization")
        .is_some_and(|a| a.starts_with("Bearer ") && a.len() > 7)
    {
        return respond(401, &[], r#"{"error":"Unauthorized"}"#);
    }
    if let Some((status, message)) = state.failures.pop_front() {
        return respond(status, &[], json!({"error": message}).to_string());
    }
    let method = req.method().as_str();
    if method == "POST" && target == "/v2/batch" {
        let Ok(Value::Array(messages)) = serde_json::from_str::<Value>(&body) else {
            return respond(400, &[], r#"{"error":"invalid batch body"}"#);
        };
        let answers: Vec<Value> = messages
            .iter()
            .map(|_| {
                state.next_id += 1;
                json!({"messageId": format!("msg_fake_{}", state.next_id)})
            })
            .collect();
        return json_ok(Value::Array(answers));
    }
    if method == "POST" {
        if let Some(destination) = target.strip_prefix("/v2/schedules/") {
            state.next_id += 1;
            let id = headers
                .get("upstash-schedule-id")
                .cloned()
                .unwrap_or_else(|| format!("scd_fake_{}", state.next_id));
            state.schedules.retain(|s| s["scheduleId"] != json!(id));
            state.schedules.push(json!({
                "scheduleId": id,
                "cron": headers.get("upstash-cron"),
                "destination": destination,
                "method": headers.get("upstash-method").cloned().unwrap_or_else(|| "POST".into()),
                "body": body,
                "retries": headers.get("upstash-retries").and_then(|r| r.parse::<u64>().ok()).unwrap_or(3),
                "isPaused": false,
            }));
            return json_ok(json!({"scheduleId": id}));
        }
    }
    if method == "GET" && target == "/v2/schedules" {
        return json_ok(Value::Array(state.schedules.clone()));
    }
    if method == "DELETE" {
        if let Some(id) = target.strip_prefix("/v2/schedules/") {
            let before = state.schedules.len();
            state.schedules.retain(|s| s["scheduleId"] != json!(id));
            if state.schedules.len() == before {
                return respond(404, &[], r#"{"error":"schedule not found"}"#);
            }
            return respond(200, &[], Bytes::new());
        }
    }
    respond(404, &[], r#"{"error":"not found"}"#)
}
