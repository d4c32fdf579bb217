//! `GET /api/health`: liveness plus a check of each dependency, and the depth
//! of the cache outbox (invalidations waiting for Upstash; drained here first
//! when Upstash answers, see `functions::outbox`): `cacheOutbox` is the number
//! of keys still pending, `null` when Postgres could not be asked.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use serde_json::json;

use super::json_response;
use crate::app::App;
use crate::upstash::Command;

const CHECK_TIMEOUT: Duration = Duration::from_secs(3);

pub async fn handle(app: &Arc<App>, _req: Request<Bytes>) -> Response<Bytes> {
    let postgres = async {
        match tokio::time::timeout(
            CHECK_TIMEOUT,
            crate::db::sql::query("SELECT 1").execute(&app.db),
        )
        .await
        {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("timed out".to_string()),
        }
    };
    let redis = async {
        match crate::telemetry::observed(&app.redis)
            .command(&Command::new("ping"))
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => Err(e.to_string()),
        }
    };
    let (pg, rd) = tokio::join!(postgres, redis);
    let outbox_depth = if pg.is_err() {
        None
    } else if rd.is_ok() {
        super::outbox::drain(app, &app.cache).await.ok()
    } else {
        super::outbox::depth(app).await
    };
    let word = |r: &Result<(), String>| if r.is_ok() { "ok" } else { "error" };
    let healthy = pg.is_ok() && rd.is_ok();
    if let Err(e) = &pg {
        tracing::warn!(error = %e, "health: postgres check failed");
    }
    if let Err(e) = &rd {
        tracing::warn!(error = %e, "health: redis check failed");
    }
    json_response(
        if healthy {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        },
        &json!({
            "status": if healthy { "ok" } else { "error" },
            "postgres": word(&pg),
            "redis": word(&rd),
            "cacheOutbox": outbox_depth,
        }),
    )
}
