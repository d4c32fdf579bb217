//! Router `health`.

use serde::Serialize;
use ts_rs::TS;

use super::Ctx;
use crate::trpc::{Access, ApiError, Registry};

pub fn register(r: &mut Registry<Ctx>) {
    r.query("health.ping", Access::Public, |_: &()| None, ping);
}

/// `{status: "ok", timestamp}` (`timestamp`: now, ISO 8601).
#[derive(Serialize, TS)]
pub struct Ping {
    /// Always `"ok"` (the original's literal type).
    #[ts(type = "\"ok\"")]
    pub status: &'static str,
    pub timestamp: String,
}

/// Public and not rate-limited.
async fn ping(_ctx: Ctx, _: ()) -> Result<Ping, ApiError> {
    let timestamp = crate::db::time::to_iso(&chrono::Utc::now().naive_utc());
    Ok(Ping {
        status: "ok",
        timestamp,
    })
}
