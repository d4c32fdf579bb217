//! The HTTP side: one method per REST route, response classification, EVALSHA fallback.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use serde::Serialize;
use serde_json::Value;

use super::{Command, RedisError, Reply, UpstashError};

/// Called after every HTTP exchange (success or failure) with its elapsed time;
/// callers use it to build a per-request `Server-Timing`.
pub type Observer = Arc<dyn Fn(Duration) + Send + Sync>;

/// A client of one Upstash Redis database. Cheap to clone.
///
/// ```no_run
/// # async fn demo() -> Result<(), enghub::upstash::UpstashError> {
/// use std::time::Duration;
/// use enghub::upstash::{Command, UpstashClient};
/// let client = UpstashClient::new(
///     reqwest::Client::new(),
///     "https://example.upstash.io",
///     "token",
///     Duration::from_secs(2),
/// );
/// client.command(&Command::new("set").arg("k").arg(r#"{"a":1}"#)).await?;
/// let value = client.command(&Command::new("get").arg("k")).await?;
/// assert_eq!(value.as_str(), Some(r#"{"a":1}"#));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct UpstashClient {
    inner: Arc<Inner>,
    observer: Option<Observer>,
}

struct Inner {
    http: reqwest::Client,
    base_url: String,
    /// `None` when the token cannot be put in a header (control characters).
    authorization: Option<HeaderValue>,
    timeout: Duration,
}

impl fmt::Debug for UpstashClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UpstashClient")
            .field("base_url", &self.inner.base_url)
            .field("token", &"***")
            .field("timeout", &self.inner.timeout)
            .field("observer", &self.observer.is_some())
            .finish()
    }
}

/// Which REST route a request goes to; decides how a non-2xx answer is read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Route {
    Single,
    Pipeline,
    MultiExec,
}

impl UpstashClient {
    /// `base_url` is the database's REST URL (one trailing `/` is ignored); `timeout`
    /// bounds each whole HTTP exchange, body included.
    pub fn new(http: reqwest::Client, base_url: &str, token: &str, timeout: Duration) -> Self {
        let base_url = base_url.strip_suffix('/').unwrap_or(base_url).to_owned();
        let authorization =
            HeaderValue::from_str(&format!("Bearer {token}"))
                .ok()
                .map(|mut value| {
                    value.set_sensitive(true);
                    value
                });
        Self {
            inner: Arc::new(Inner {
                http,
                base_url,
                authorization,
                timeout,
            }),
            observer: None,
        }
    }

    /// A copy of this client that reports every HTTP exchange to `observer`.
    pub fn with_observer(&self, observer: Observer) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
            observer: Some(observer),
        }
    }

    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    pub fn timeout(&self) -> Duration {
        self.inner.timeout
    }

    /// Runs one command (`POST {base}`). An EVALSHA built by [`Command::evalsha`]
    /// that the server does not know (NOSCRIPT) is re-sent once as EVAL.
    pub async fn command(&self, cmd: &Command) -> Result<Reply, UpstashError> {
        match self.single(cmd).await {
            Err(UpstashError::Redis(err)) if err.is_noscript() => match cmd.as_eval() {
                Some(eval) => self.single(&eval).await,
                None => Err(UpstashError::Redis(err)),
            },
            result => result,
        }
    }

    /// Runs commands in one request, not atomically (`POST {base}/pipeline`); a failed
    /// entry does not stop later ones. EVALSHA entries answered NOSCRIPT are re-sent
    /// as EVAL together in one more request and their results put back in place; if
    /// that second request fails, the whole call fails (the first one's effects stay).
    pub async fn pipeline(
        &self,
        cmds: &[Command],
    ) -> Result<Vec<Result<Reply, RedisError>>, UpstashError> {
        if cmds.is_empty() {
            return Ok(Vec::new());
        }
        let mut results = self.batch(Route::Pipeline, cmds).await?;
        let (positions, evals): (Vec<usize>, Vec<Command>) = results
            .iter()
            .zip(cmds)
            .enumerate()
            .filter_map(|(i, (result, cmd))| match result {
                Err(err) if err.is_noscript() => cmd.as_eval().map(|eval| (i, eval)),
                _ => None,
            })
            .unzip();
        if !evals.is_empty() {
            let retried = self.batch(Route::Pipeline, &evals).await?;
            for (position, result) in positions.into_iter().zip(retried) {
                results[position] = result;
            }
        }
        Ok(results)
    }

    /// Runs commands atomically in MULTI/EXEC (`POST {base}/multi-exec`). Scripts are
    /// always sent as EVAL: retrying after NOSCRIPT could apply the other commands twice.
    /// A transaction the server discards as a whole is an [`UpstashError::Http`].
    pub async fn multi_exec(
        &self,
        cmds: &[Command],
    ) -> Result<Vec<Result<Reply, RedisError>>, UpstashError> {
        if cmds.is_empty() {
            return Ok(Vec::new());
        }
        let cmds: Vec<_> = cmds.iter().map(Command::for_transaction).collect();
        self.batch(Route::MultiExec, &cmds).await
    }

    async fn single(&self, cmd: &Command) -> Result<Reply, UpstashError> {
        let body = self.exchange(Route::Single, cmd).await?;
        let value: Value = serde_json::from_slice(&body)
            .map_err(|err| UpstashError::Decode(format!("body is not JSON: {err}")))?;
        match entry(&value)? {
            Ok(reply) => Ok(reply),
            Err(err) => Err(UpstashError::Redis(err)),
        }
    }

    async fn batch<C: Serialize>(
        &self,
        route: Route,
        cmds: &[C],
    ) -> Result<Vec<Result<Reply, RedisError>>, UpstashError> {
        let body = self.exchange(route, cmds).await?;
        let entries: Vec<Value> = serde_json::from_slice(&body).map_err(|err| {
            UpstashError::Decode(format!("body is not a JSON array of results: {err}"))
        })?;
        if entries.len() != cmds.len() {
            return Err(UpstashError::Decode(format!(
                "{} results for {} commands",
                entries.len(),
                cmds.len()
            )));
        }
        entries.iter().map(entry).collect()
    }

    /// One HTTP exchange: the 2xx body, or the error it amounts to.
    async fn exchange<B: Serialize + ?Sized>(
        &self,
        route: Route,
        body: &B,
    ) -> Result<bytes::Bytes, UpstashError> {
        let authorization = self.inner.authorization.clone().ok_or_else(|| {
            UpstashError::Transport("the token cannot be sent in an HTTP header".to_owned())
        })?;
        let url = match route {
            Route::Single => self.inner.base_url.clone(),
            Route::Pipeline => format!("{}/pipeline", self.inner.base_url),
            Route::MultiExec => format!("{}/multi-exec", self.inner.base_url),
        };
        let body = serde_json::to_vec(body).expect("commands always serialize");

        let started = Instant::now();
        let result: Result<_, UpstashError> = async {
            let response = self
                .inner
                .http
                .post(url)
                .header(AUTHORIZATION, authorization)
                .header(CONTENT_TYPE, "application/json")
                .header("Upstash-Encoding", "base64")
                .timeout(self.inner.timeout)
                .body(body)
                .send()
                .await
                .map_err(transport_error)?;
            let status = response.status();
            let body = response.bytes().await.map_err(transport_error)?;
            Ok((status, body))
        }
        .await;
        let elapsed = started.elapsed();
        if let Some(observer) = &self.observer {
            observer(elapsed);
        }
        tracing::debug!(
            route = route.as_str(),
            elapsed_ms = elapsed.as_secs_f64() * 1000.0,
            ok = result.is_ok(),
            "upstash exchange"
        );

        let (status, body) = result?;
        if status.is_success() {
            Ok(body)
        } else {
            Err(status_error(route, status.as_u16(), &body))
        }
    }
}

impl Route {
    fn as_str(self) -> &'static str {
        match self {
            Route::Single => "command",
            Route::Pipeline => "pipeline",
            Route::MultiExec => "multi-exec",
        }
    }
}

/// One `{"result": ..}` / `{"error": ".."}` object.
fn entry(value: &Value) -> Result<Result<Reply, RedisError>, UpstashError> {
    if let Some(error) = value.get("error") {
        let text = match error {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        return Ok(Err(RedisError(text)));
    }
    match value.get("result") {
        Some(result) => Reply::from_base64_json(result)
            .map(Ok)
            .map_err(UpstashError::Decode),
        None => Err(UpstashError::Decode(
            "response has neither result nor error".to_owned(),
        )),
    }
}

/// A non-2xx answer: a single command's 400 is Redis refusing it; anything else is HTTP.
fn status_error(route: Route, status: u16, body: &[u8]) -> UpstashError {
    let error_text = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|value| match value.get("error") {
            Some(Value::String(text)) => Some(text.clone()),
            _ => None,
        });
    match error_text {
        Some(text) if route == Route::Single && status == 400 => {
            UpstashError::Redis(RedisError(text))
        }
        Some(message) => UpstashError::Http { status, message },
        None => UpstashError::Http {
            status,
            message: String::from_utf8_lossy(body).chars().take(200).collect(),
        },
    }
}

fn transport_error(err: reqwest::Error) -> UpstashError {
    if err.is_timeout() {
        return UpstashError::Timeout;
    }
    // The URL in reqwest's message is the REST base URL; the token travels in a header.
    let mut message = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    UpstashError::Transport(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_does_not_print_the_token() {
        let client = UpstashClient::new(
            reqwest::Client::new(),
            "https://db.upstash.io/",
            "s3cret-token",
            Duration::from_secs(1),
        );
        let printed = format!("{client:?}");
        assert!(!printed.contains("s3cret-token"), "{printed}");
        assert!(printed.contains("https://db.upstash.io\""), "{printed}");
    }

    #[test]
    fn a_single_command_rejected_with_400_is_a_redis_error() {
        let err = status_error(Route::Single, 400, br#"{"error":"ERR syntax error"}"#);
        assert!(matches!(err, UpstashError::Redis(RedisError(text)) if text == "ERR syntax error"));
    }

    #[test]
    fn a_discarded_transaction_is_an_http_error() {
        let err = status_error(Route::MultiExec, 400, br#"{"error":"EXECABORT x"}"#);
        assert!(
            matches!(err, UpstashError::Http { status: 400, message } if message == "EXECABORT x")
        );
    }

    #[test]
    fn a_non_json_error_body_is_cut_to_200_characters() {
        let body = "x".repeat(500);
        let err = status_error(Route::Single, 502, body.as_bytes());
        assert!(matches!(err, UpstashError::Http { status: 502, message } if message.len() == 200));
    }

    #[test]
    fn an_entry_without_result_or_error_is_a_decode_error() {
        assert!(matches!(
            entry(&serde_json::json!({})),
            Err(UpstashError::Decode(_))
        ));
        assert_eq!(
            entry(&serde_json::json!({"error": "NOSCRIPT x"})).unwrap(),
            Err(RedisError("NOSCRIPT x".to_owned()))
        );
    }
}
