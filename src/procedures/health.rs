//! Router `health`.

use serde_json::{json, Value};

use super::Ctx;
use crate::trpc::{Access, ApiError, Registry};

pub fn register(r: &mut Registry<Ctx>) {
    r.query("health.ping", Access::Public, |_: &()| None, ping);
}

/// `{status: "ok", timestamp}`; public and not rate-limited.
async fn ping(_ctx: Ctx, _: ()) -> Result<Value, ApiError> {
    let now = crate::db::time::to_iso(&chrono::Utc::now().naive_utc());
    Ok(json!({"status": "ok", "timestamp": now}))
}
