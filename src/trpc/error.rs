//! tRPC error codes, the error envelope and the edge error type.
//!
//! Error policy: procedures return [`ApiError`]. Expected failures carry a tRPC
//! code and a message that is safe to show; everything else (driver errors,
//! bugs) is logged with its cause chain and answered as a generic
//! INTERNAL_SERVER_ERROR, never with driver text.

use serde_json::{json, Value};

use super::zod::ZodError;

/// The tRPC error codes this API answers with (protocols.md D.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrpcCode {
    ParseError,
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotSupported,
    Timeout,
    Conflict,
    PreconditionFailed,
    PayloadTooLarge,
    UnsupportedMediaType,
    UnprocessableContent,
    TooManyRequests,
    InternalServerError,
    NotImplemented,
    BadGateway,
    ServiceUnavailable,
    GatewayTimeout,
}

impl TrpcCode {
    pub fn name(self) -> &'static str {
        use TrpcCode::*;
        match self {
            ParseError => "PARSE_ERROR",
            BadRequest => "BAD_REQUEST",
            Unauthorized => "UNAUTHORIZED",
            Forbidden => "FORBIDDEN",
            NotFound => "NOT_FOUND",
            MethodNotSupported => "METHOD_NOT_SUPPORTED",
            Timeout => "TIMEOUT",
            Conflict => "CONFLICT",
            PreconditionFailed => "PRECONDITION_FAILED",
            PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            UnprocessableContent => "UNPROCESSABLE_CONTENT",
            TooManyRequests => "TOO_MANY_REQUESTS",
            InternalServerError => "INTERNAL_SERVER_ERROR",
            NotImplemented => "NOT_IMPLEMENTED",
            BadGateway => "BAD_GATEWAY",
            ServiceUnavailable => "SERVICE_UNAVAILABLE",
            GatewayTimeout => "GATEWAY_TIMEOUT",
        }
    }

    pub fn json_rpc(self) -> i32 {
        use TrpcCode::*;
        match self {
            ParseError => -32700,
            BadRequest => -32600,
            Unauthorized => -32001,
            Forbidden => -32003,
            NotFound => -32004,
            MethodNotSupported => -32005,
            Timeout => -32008,
            Conflict => -32009,
            PreconditionFailed => -32012,
            PayloadTooLarge => -32013,
            UnsupportedMediaType => -32015,
            UnprocessableContent => -32022,
            TooManyRequests => -32029,
            InternalServerError | NotImplemented | BadGateway | ServiceUnavailable
            | GatewayTimeout => -32603,
        }
    }

    pub fn http_status(self) -> u16 {
        use TrpcCode::*;
        match self {
            ParseError | BadRequest => 400,
            Unauthorized => 401,
            Forbidden => 403,
            NotFound => 404,
            MethodNotSupported => 405,
            Timeout => 408,
            Conflict => 409,
            PreconditionFailed => 412,
            PayloadTooLarge => 413,
            UnsupportedMediaType => 415,
            UnprocessableContent => 422,
            TooManyRequests => 429,
            InternalServerError => 500,
            NotImplemented => 501,
            BadGateway => 502,
            ServiceUnavailable => 503,
            GatewayTimeout => 504,
        }
    }
}

/// An error as the caller sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct TrpcError {
    pub code: TrpcCode,
    pub message: String,
    pub zod: Option<ZodError>,
    /// Extra response headers (e.g. `allow` on 405).
    pub allow: Option<&'static str>,
}

impl TrpcError {
    pub fn new(code: TrpcCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            zod: None,
            allow: None,
        }
    }

    /// An error without a message: tRPC uses the code name as the message.
    pub fn bare(code: TrpcCode) -> Self {
        Self::new(code, code.name())
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(TrpcCode::BadRequest, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(TrpcCode::NotFound, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(TrpcCode::Conflict, message)
    }

    pub fn internal() -> Self {
        Self::new(TrpcCode::InternalServerError, "Internal server error")
    }

    /// The error envelope `{"error":{"message","code","data":{...}}}`. `path` is
    /// absent for request-level errors.
    pub fn envelope(&self, path: Option<&str>) -> Value {
        let mut data = serde_json::Map::new();
        data.insert("code".into(), json!(self.code.name()));
        data.insert("httpStatus".into(), json!(self.code.http_status()));
        if let Some(path) = path {
            data.insert("path".into(), json!(path));
        }
        data.insert(
            "zodError".into(),
            match &self.zod {
                Some(z) => z.flatten(),
                None => Value::Null,
            },
        );
        json!({"error": {"message": self.message, "code": self.code.json_rpc(), "data": data}})
    }
}

/// The error type of procedures: a caller-facing error, or an internal failure
/// that is logged and answered generically.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{}: {}", .0.code.name(), .0.message)]
    Trpc(TrpcError),
    #[error("database error")]
    Db(#[source] sqlx::Error),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<TrpcError> for ApiError {
    fn from(e: TrpcError) -> Self {
        ApiError::Trpc(e)
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        ApiError::Db(e)
    }
}

impl ApiError {
    /// What the caller is told. Constraint violations become CONFLICT or
    /// BAD_REQUEST and a missing row NOT_FOUND (procedures.md §9 item 26);
    /// other database errors are logged and answered generically.
    pub fn to_trpc(&self) -> TrpcError {
        match self {
            ApiError::Trpc(e) => e.clone(),
            ApiError::Db(sqlx::Error::RowNotFound) => TrpcError::not_found("Record not found"),
            ApiError::Db(sqlx::Error::Database(db)) if is_transaction_collision(db.as_ref()) => {
                TrpcError::conflict(COLLISION_MESSAGE)
            }
            ApiError::Db(sqlx::Error::Database(db)) => constraint_error(db.as_ref()),
            ApiError::Db(_) | ApiError::Internal(_) => TrpcError::internal(),
        }
    }
}

/// The answer to a write that Postgres rolled back because it collided with
/// a concurrent one (issue 10 §3: valid input never gets a 500).
pub const COLLISION_MESSAGE: &str =
    "This change collided with a concurrent one and was not saved. Try again.";

/// Whether Postgres rolled the transaction back for colliding with another
/// one: `deadlock_detected` (40P01) or `serialization_failure` (40001). Every
/// multi-row write locks its rows in one fixed order, so this is rare; when it
/// happens nothing was written and the same request can simply be sent again:
/// CONFLICT with [`COLLISION_MESSAGE`], never INTERNAL_SERVER_ERROR.
pub fn is_transaction_collision(db: &dyn sqlx::error::DatabaseError) -> bool {
    matches!(db.code().as_deref(), Some("40P01") | Some("40001"))
}

/// What a constraint violation means to the caller, in words (procedures.md
/// §9 item 26): which kind of record conflicted or is missing, and for a
/// unique name the name, e.g. `A department named "Eng" already exists.` It
/// never contains the constraint's name or the driver's text. Built from the
/// violated table, the constraint and Postgres' `Key (cols)=(vals)` detail,
/// so every constraint of the schema (and of later migrations) is covered;
/// other database errors are INTERNAL_SERVER_ERROR.
pub fn constraint_error(db: &dyn sqlx::error::DatabaseError) -> TrpcError {
    use sqlx::error::ErrorKind;
    let pg = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>();
    let table = pg.and_then(|e| e.table()).unwrap_or_default();
    let constraint = db.constraint().unwrap_or_default();
    let (columns, values) = pg
        .and_then(|e| e.detail())
        .map(parse_key_detail)
        .unwrap_or_default();
    // Prisma's names are `<table>_<columns>_key` / `<table>_<column>_fkey`.
    let named_columns = |suffix: &str| -> Vec<String> {
        if !columns.is_empty() {
            return columns.clone();
        }
        constraint
            .strip_prefix(&format!("{table}_"))
            .and_then(|rest| rest.strip_suffix(suffix))
            .map(|c| vec![c.to_string()])
            .unwrap_or_default()
    };
    let thing = if table.is_empty() {
        "record".to_string()
    } else {
        entity(table)
    };
    match db.kind() {
        ErrorKind::UniqueViolation => {
            let cols = named_columns("_key");
            let message = match (cols.as_slice(), values.as_slice()) {
                ([c], [v]) if c == "name" => {
                    format!("A {thing} named \"{}\" already exists.", shorten(v))
                }
                ([c], _) => format!("A {thing} with this {} already exists.", words(c)),
                ([], _) => format!("This {thing} already exists."),
                (cs, _) => format!(
                    "A {thing} with the same {} already exists.",
                    cs.iter()
                        .map(|c| referenced(c))
                        .collect::<Vec<_>>()
                        .join(" and ")
                ),
            };
            TrpcError::conflict(message)
        }
        ErrorKind::ForeignKeyViolation => {
            if !table.is_empty() && constraint.starts_with(&format!("{table}_")) {
                // The written row points at a row that does not exist (or no
                // longer: deleted or merged away meanwhile).
                let target = named_columns("_fkey")
                    .first()
                    .map(|c| referenced(c))
                    .unwrap_or_else(|| "referenced record".into());
                TrpcError::bad_request(format!("The {target} does not exist."))
            } else {
                TrpcError::conflict(format!(
                    "This {thing} is still referenced by other records."
                ))
            }
        }
        ErrorKind::NotNullViolation => match pg.and_then(|e| e.column()) {
            Some(c) => TrpcError::bad_request(format!("A {thing} needs a {}.", words(c))),
            None => TrpcError::bad_request(format!("A required value of this {thing} is missing.")),
        },
        ErrorKind::CheckViolation => {
            TrpcError::bad_request(format!("Invalid value for this {thing}."))
        }
        _ => TrpcError::internal(),
    }
}

/// `Key (a, b)=(x, y) already exists.` → `(["a","b"], ["x","y"])`; the values
/// only when there is one column (a value may itself contain `, `).
fn parse_key_detail(detail: &str) -> (Vec<String>, Vec<String>) {
    let Some(open) = detail.find('(') else {
        return Default::default();
    };
    let Some(close) = detail[open..].find(")=(").map(|i| open + i) else {
        return Default::default();
    };
    let columns: Vec<String> = detail[open + 1..close]
        .split(", ")
        .map(|c| c.trim_matches('"').to_string())
        .collect();
    let rest = &detail[close + 3..];
    let values = match (columns.len(), rest.rfind(')')) {
        (1, Some(end)) => vec![rest[..end].to_string()],
        _ => vec![],
    };
    (columns, values)
}

/// A value quoted in a message, cut to 100 characters.
fn shorten(v: &str) -> String {
    if v.chars().count() <= 100 {
        v.to_string()
    } else {
        format!("{}…", v.chars().take(100).collect::<String>())
    }
}

fn words(column: &str) -> String {
    column.replace('_', " ")
}

/// What a table's rows are called in messages.
fn entity(table: &str) -> String {
    match table {
        "roles" => "department".into(),
        "people" => "person".into(),
        "team_members" => "project member".into(),
        "person_comments" => "comment".into(),
        "github_syncs" => "GitHub sync".into(),
        "contributor_stats" => "contributor statistic".into(),
        other => other.strip_suffix('s').unwrap_or(other).replace('_', " "),
    }
}

/// What a referencing column points at, in messages (`role_id` → department).
fn referenced(column: &str) -> String {
    let base = column.strip_suffix("_id").unwrap_or(column);
    match base {
        "role" => "department".into(),
        "template" => "meeting template".into(),
        "author_person" => "author".into(),
        "old_manager" | "new_manager" => "manager".into(),
        "live_team" => "team".into(),
        "team_member" => "project member".into(),
        other => words(other),
    }
}

/// The full cause chain of an error, for logs.
pub fn cause_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_error_uses_code_as_message_and_null_zod() {
        let v = TrpcError::bare(TrpcCode::Unauthorized).envelope(Some("secret"));
        assert_eq!(
            v.to_string(),
            r#"{"error":{"message":"UNAUTHORIZED","code":-32001,"data":{"code":"UNAUTHORIZED","httpStatus":401,"path":"secret","zodError":null}}}"#
        );
    }

    #[test]
    fn request_level_error_has_no_path() {
        let v = TrpcError::new(
            TrpcCode::UnsupportedMediaType,
            "Missing content-type header",
        )
        .envelope(None);
        assert!(v["error"]["data"].get("path").is_none());
        assert_eq!(v["error"]["code"], -32015);
    }

    #[test]
    fn key_details_name_columns_and_a_single_value() {
        assert_eq!(
            parse_key_detail("Key (name)=(Eng, Ops) already exists."),
            (vec!["name".to_string()], vec!["Eng, Ops".to_string()])
        );
        assert_eq!(
            parse_key_detail("Key (person_id, project_id)=(a, b) already exists.").0,
            vec!["person_id".to_string(), "project_id".to_string()]
        );
        assert_eq!(parse_key_detail("no detail"), (vec![], vec![]));
    }

    #[test]
    fn tables_and_columns_read_as_words() {
        assert_eq!(entity("roles"), "department");
        assert_eq!(entity("meeting_templates"), "meeting template");
        assert_eq!(entity("quarterly_goals"), "quarterly goal");
        assert_eq!(referenced("role_id"), "department");
        assert_eq!(referenced("title_id"), "title");
        assert_eq!(referenced("manager_id"), "manager");
    }

    #[test]
    fn five_codes_share_json_rpc_32603() {
        for c in [
            TrpcCode::InternalServerError,
            TrpcCode::NotImplemented,
            TrpcCode::BadGateway,
            TrpcCode::ServiceUnavailable,
            TrpcCode::GatewayTimeout,
        ] {
            assert_eq!(c.json_rpc(), -32603);
        }
    }
}
