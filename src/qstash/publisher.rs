//! [`Publisher`]: the QStash API calls this API makes (protocols.md C.2) — batch
//! publishing for the GitHub fan-out, and schedules for `enghub schedule`.

use std::time::Duration;

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use serde::{Deserialize, Serialize};
use serde_json::Value;

const TIMEOUT: Duration = Duration::from_secs(10);

/// Why a QStash API call failed.
#[derive(Debug, thiserror::Error)]
pub enum QStashError {
    #[error("QStash request failed: {0}")]
    Network(#[source] reqwest::Error),
    /// A non-2xx answer; `body` is QStash's error text (`{"error":"..."}`).
    #[error("QStash answered {status}: {body}")]
    Status { status: u16, body: String },
    #[error("unexpected answer from QStash: {0}")]
    Decode(String),
}

/// One message of `POST /v2/batch`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BatchMessage {
    pub destination: String,
    /// Lower-cased header names, as the official SDK sends them.
    pub headers: serde_json::Map<String, Value>,
    pub body: String,
}

impl BatchMessage {
    /// A JSON POST to `destination`, retried `retries` times by QStash, deduplicated
    /// for ten minutes by `deduplication_id`.
    pub fn json(destination: &str, body: &Value, deduplication_id: &str, retries: u32) -> Self {
        let mut headers = serde_json::Map::new();
        for (name, value) in [
            ("content-type", "application/json".to_owned()),
            ("upstash-method", "POST".to_owned()),
            ("upstash-retries", retries.to_string()),
            ("upstash-deduplication-id", deduplication_id.to_owned()),
        ] {
            headers.insert(name.into(), Value::String(value));
        }
        Self {
            destination: destination.to_owned(),
            headers,
            body: body.to_string(),
        }
    }
}

/// QStash's answer for one published message.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Published {
    pub message_id: String,
    #[serde(default)]
    pub deduplicated: bool,
}

/// A schedule to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSchedule {
    pub destination: String,
    /// `Upstash-Cron`, e.g. `0 */6 * * *`.
    pub cron: String,
    /// `Upstash-Schedule-Id`: makes the call an upsert.
    pub schedule_id: Option<String>,
    pub retries: Option<u32>,
    /// Sent with `Content-Type: application/json`; empty for the all-projects sync.
    pub body: String,
}

/// A client of the QStash API. Cheap to clone.
#[derive(Clone)]
pub struct Publisher {
    http: reqwest::Client,
    base_url: String,
    token: String,
}

impl std::fmt::Debug for Publisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Publisher")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl Publisher {
    /// `base_url` is `QSTASH_URL` (`https://qstash.upstash.io`), `token` `QSTASH_TOKEN`.
    pub fn new(http: reqwest::Client, base_url: &str, token: &str) -> Self {
        Self {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
        }
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<String, QStashError> {
        let res = req
            .header(AUTHORIZATION, format!("Bearer {}", self.token))
            .timeout(TIMEOUT)
            .send()
            .await
            .map_err(QStashError::Network)?;
        let status = res.status().as_u16();
        let body = res.text().await.map_err(QStashError::Network)?;
        if !(200..300).contains(&status) {
            return Err(QStashError::Status { status, body });
        }
        Ok(body)
    }

    fn decode<T: serde::de::DeserializeOwned>(body: &str) -> Result<T, QStashError> {
        serde_json::from_str(body).map_err(|e| QStashError::Decode(format!("{e}: {body}")))
    }

    /// `POST /v2/batch`: one answer per message, in order.
    pub async fn batch(&self, messages: &[BatchMessage]) -> Result<Vec<Published>, QStashError> {
        let body =
            serde_json::to_string(messages).map_err(|e| QStashError::Decode(e.to_string()))?;
        let text = self
            .send(
                self.http
                    .post(format!("{}/v2/batch", self.base_url))
                    .header(CONTENT_TYPE, "application/json")
                    .body(body),
            )
            .await?;
        Self::decode(&text)
    }

    /// `POST /v2/schedules/<destination>`; returns the schedule id.
    pub async fn create_schedule(&self, schedule: &NewSchedule) -> Result<String, QStashError> {
        let mut req = self
            .http
            .post(format!(
                "{}/v2/schedules/{}",
                self.base_url, schedule.destination
            ))
            .header(CONTENT_TYPE, "application/json")
            .header("Upstash-Cron", &schedule.cron)
            .header("Upstash-Method", "POST")
            .body(schedule.body.clone());
        if let Some(id) = &schedule.schedule_id {
            req = req.header("Upstash-Schedule-Id", id);
        }
        if let Some(retries) = schedule.retries {
            req = req.header("Upstash-Retries", retries.to_string());
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Created {
            schedule_id: String,
        }
        let created: Created = Self::decode(&self.send(req).await?)?;
        Ok(created.schedule_id)
    }

    /// `GET /v2/schedules`, as QStash describes them.
    pub async fn list_schedules(&self) -> Result<Vec<Value>, QStashError> {
        let text = self
            .send(self.http.get(format!("{}/v2/schedules", self.base_url)))
            .await?;
        Self::decode(&text)
    }

    /// `DELETE /v2/schedules/<id>`.
    pub async fn delete_schedule(&self, id: &str) -> Result<(), QStashError> {
        self.send(
            self.http
                .delete(format!("{}/v2/schedules/{id}", self.base_url)),
        )
        .await?;
        Ok(())
    }
}
