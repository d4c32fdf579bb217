//! [`FakeGitHub`]: `GET /repos/{owner}/{repo}/stats/contributors` and
//! `POST /graphql` (the PR query), as GitHub answers them.
//!
//! * Contributor stats carry a strong ETag derived from the body; a matching
//!   `If-None-Match` gets 304. Unknown repositories get 404.
//! * GraphQL pages PRs newest-updated first with opaque cursors, `first: $pageSize`.
//!   An unknown repository gets GitHub's `NOT_FOUND` error.
//! * Scripted answers ([`Scripted`]) are served first, in order, per endpoint: a
//!   202, a 502, a rate-limited 403 with its headers...

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{Request, Response};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{respond, FakeServer};

/// One pull request as the fake serves it (dates RFC 3339 with `Z`).
#[derive(Debug, Clone, PartialEq)]
pub struct FakePr {
    pub number: i64,
    pub author: Option<String>,
    pub state: String,
    pub merged: bool,
    pub merged_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// `(author login or ghost, createdAt)`.
    pub reviews: Vec<(Option<String>, String)>,
}

impl FakePr {
    /// An open PR by `author` created and last updated at `created_at`.
    pub fn open(number: i64, author: &str, created_at: &str) -> Self {
        Self {
            number,
            author: Some(author.to_owned()),
            state: "OPEN".into(),
            merged: false,
            merged_at: None,
            created_at: created_at.to_owned(),
            updated_at: created_at.to_owned(),
            reviews: vec![],
        }
    }

    pub fn merged_at(mut self, at: &str) -> Self {
        self.state = "MERGED".into();
        self.merged = true;
        self.merged_at = Some(at.to_owned());
        self.updated_at = self.updated_at.clone().max(at.to_owned());
        self
    }

    pub fn reviewed_by(mut self, login: &str, at: &str) -> Self {
        self.reviews.push((Some(login.to_owned()), at.to_owned()));
        self.updated_at = self.updated_at.clone().max(at.to_owned());
        self
    }

    fn node(&self) -> Value {
        json!({
            "number": self.number,
            "author": self.author.as_ref().map(|l| json!({"login": l})),
            "state": self.state,
            "merged": self.merged,
            "mergedAt": self.merged_at,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "reviews": {"nodes": self.reviews.iter().take(50).map(|(login, at)| json!({
                "author": login.as_ref().map(|l| json!({"login": l})),
                "createdAt": at,
            })).collect::<Vec<_>>()},
        })
    }
}

/// One contributor of `stats/contributors`: weeks as `(w, a, d, c)`.
pub fn contributor(login: &str, weeks: &[(i64, i64, i64, i64)]) -> Value {
    json!({
        "author": {"login": login},
        "total": weeks.iter().map(|w| w.3).sum::<i64>(),
        "weeks": weeks.iter().map(|&(w, a, d, c)| json!({"w": w, "a": a, "d": d, "c": c})).collect::<Vec<_>>(),
    })
}

/// A repository: its contributor stats body (a JSON array) and its PRs.
#[derive(Debug, Clone, Default)]
pub struct FakeRepo {
    pub contributors: Vec<Value>,
    pub prs: Vec<FakePr>,
}

/// An answer served before the normal behaviour.
#[derive(Debug, Clone)]
pub struct Scripted {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Scripted {
    /// 202 "computing", empty body as GitHub sends it.
    pub fn computing() -> Self {
        Self::status(202, "{}")
    }

    pub fn status(status: u16, body: &str) -> Self {
        Self {
            status,
            headers: vec![],
            body: body.to_owned(),
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

/// Which endpoint a request reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    ContributorStats,
    GraphQl,
    Other,
}

/// A request the fake received, and its answer's status.
#[derive(Debug, Clone)]
pub struct SeenRequest {
    pub endpoint: Endpoint,
    pub path: String,
    pub if_none_match: Option<String>,
    pub authorization: Option<String>,
    pub user_agent: Option<String>,
    /// GraphQL `variables.cursor`.
    pub cursor: Option<String>,
    /// GraphQL `query` text.
    pub query: Option<String>,
    pub status: u16,
}

#[derive(Default)]
struct State {
    repos: HashMap<String, FakeRepo>,
    stats_script: VecDeque<Scripted>,
    graphql_script: VecDeque<Scripted>,
    seen: Vec<SeenRequest>,
}

/// The fake GitHub API; stops when dropped.
pub struct FakeGitHub {
    server: FakeServer,
    state: Arc<Mutex<State>>,
}

impl FakeGitHub {
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let server = FakeServer::start(Arc::new(move |req| handle(&shared, req)))
            .await
            .expect("fake GitHub binds a port");
        Self { server, state }
    }

    /// The value for `GITHUB_API_URL`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Creates or replaces `owner/repo`.
    pub fn put_repo(&self, slug: &str, repo: FakeRepo) {
        self.state().repos.insert(slug.to_owned(), repo);
    }

    /// Changes `owner/repo` in place.
    pub fn edit_repo(&self, slug: &str, edit: impl FnOnce(&mut FakeRepo)) {
        edit(self.state().repos.entry(slug.to_owned()).or_default());
    }

    pub fn remove_repo(&self, slug: &str) {
        self.state().repos.remove(slug);
    }

    /// Serves `answer` to the next contributor-stats request (any repository).
    pub fn script_stats(&self, answer: Scripted) {
        self.state().stats_script.push_back(answer);
    }

    /// Serves `answer` to the next GraphQL request.
    pub fn script_graphql(&self, answer: Scripted) {
        self.state().graphql_script.push_back(answer);
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<SeenRequest> {
        self.state().seen.clone()
    }

    pub fn clear_requests(&self) {
        self.state().seen.clear();
    }

    /// The ETag the fake currently serves for a repository's stats.
    pub fn etag_of(&self, slug: &str) -> Option<String> {
        self.state().repos.get(slug).map(|r| etag(&stats_body(r)))
    }
}

fn stats_body(repo: &FakeRepo) -> String {
    Value::Array(repo.contributors.clone()).to_string()
}

fn etag(body: &str) -> String {
    format!(
        "\"{}\"",
        &hex::encode(Sha256::digest(body.as_bytes()))[..20]
    )
}

fn header(req: &Request<Bytes>, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn scripted(answer: Scripted) -> Response<Bytes> {
    let headers: Vec<(&str, &str)> = answer
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    respond(answer.status, &headers, answer.body)
}

fn handle(state: &Mutex<State>, req: Request<Bytes>) -> Response<Bytes> {
    let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
    let path = req.uri().path().to_owned();
    let mut seen = SeenRequest {
        endpoint: Endpoint::Other,
        path: path.clone(),
        if_none_match: header(&req, "if-none-match"),
        authorization: header(&req, "authorization"),
        user_agent: header(&req, "user-agent"),
        cursor: None,
        query: None,
        status: 404,
    };
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let res = match (req.method().as_str(), segments.as_slice()) {
        ("GET", ["repos", owner, repo, "stats", "contributors"]) => {
            seen.endpoint = Endpoint::ContributorStats;
            let slug = format!("{owner}/{repo}");
            if let Some(answer) = state.stats_script.pop_front() {
                scripted(answer)
            } else {
                match state.repos.get(&slug) {
                    None => respond(404, &[], r#"{"message":"Not Found"}"#),
                    Some(repo) => {
                        let body = stats_body(repo);
                        let tag = etag(&body);
                        if seen.if_none_match.as_deref() == Some(tag.as_str()) {
                            respond(304, &[("etag", &tag)], Bytes::new())
                        } else {
                            respond(
                                200,
                                &[("etag", &tag), ("content-type", "application/json")],
                                body,
                            )
                        }
                    }
                }
            }
        }
        ("POST", ["graphql"]) => {
            seen.endpoint = Endpoint::GraphQl;
            let body: Value = serde_json::from_slice(req.body()).unwrap_or(Value::Null);
            let vars = &body["variables"];
            seen.cursor = vars["cursor"].as_str().map(str::to_owned);
            seen.query = body["query"].as_str().map(str::to_owned);
            if let Some(answer) = state.graphql_script.pop_front() {
                scripted(answer)
            } else {
                graphql(&state, vars)
            }
        }
        _ => respond(404, &[], r#"{"message":"Not Found"}"#),
    };
    seen.status = res.status().as_u16();
    state.seen.push(seen);
    res
}

fn graphql(state: &State, vars: &Value) -> Response<Bytes> {
    let owner = vars["owner"].as_str().unwrap_or_default();
    let name = vars["repo"].as_str().unwrap_or_default();
    let Some(repo) = state.repos.get(&format!("{owner}/{name}")) else {
        let body = json!({
            "data": {"repository": null},
            "errors": [{"type": "NOT_FOUND", "path": ["repository"],
                        "message": format!("Could not resolve to a Repository with the name '{owner}/{name}'.")}],
        });
        return respond(
            200,
            &[("content-type", "application/json")],
            body.to_string(),
        );
    };
    let page_size = vars["pageSize"].as_u64().unwrap_or(100).clamp(1, 100) as usize;
    let start = vars["cursor"]
        .as_str()
        .and_then(|c| c.strip_prefix("cursor:"))
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(0);
    let mut ordered: Vec<&FakePr> = repo.prs.iter().collect();
    ordered.sort_by(|a, b| {
        b.updated_at
            .cmp(&a.updated_at)
            .then(b.number.cmp(&a.number))
    });
    let end = (start + page_size).min(ordered.len());
    let nodes: Vec<Value> = ordered
        .get(start..end)
        .unwrap_or_default()
        .iter()
        .map(|pr| pr.node())
        .collect();
    let body = json!({"data": {"repository": {"pullRequests": {
        "pageInfo": {
            "hasNextPage": end < ordered.len(),
            "endCursor": if nodes.is_empty() { Value::Null } else { json!(format!("cursor:{end}")) },
        },
        "nodes": nodes,
    }}}});
    respond(
        200,
        &[("content-type", "application/json")],
        body.to_string(),
    )
}
