//! Input validation with zod-compatible errors.
//!
//! The original validates inputs with zod 3; clients read `data.zodError`
//! (`{formErrors, fieldErrors}`) and the message (the issue list as
//! 2-space-indented JSON). [`Input`] reads one input object field by field,
//! records zod-shaped issues, and [`Input::finish`] turns them into one
//! BAD_REQUEST. Unknown keys are ignored, as zod strips them.
//!
//! Beyond zod, every reader knows what Postgres can store, so input the
//! database would refuse is a field error, never a 500 (README "Input limits"):
//! no NUL (`\u0000`) in any string, id or JSON document; ids at most
//! [`MAX_ID_LEN`] characters, other single-line strings [`MAX_STRING_LEN`]
//! (both fit a btree index entry), free text [`MAX_TEXT_LEN`], URLs
//! [`MAX_URL_LEN`]; dates from [`PG_MIN_DATE`] on; integers without explicit
//! bounds inside `int4`. In a query ([`Input::for_query`]), an id that cannot
//! exist (NUL or over the cap) is read as the empty id, which matches no row:
//! the read answers as for an unknown id.

use serde_json::{json, Map, Value};

use super::error::{TrpcCode, TrpcError};

pub use super::zod::ZodError;

/// The issue message for a NUL in a string or id.
pub const NUL_MESSAGE: &str = "String must not contain NUL characters (\\u0000)";
/// The issue message for a NUL inside a JSON document.
pub const NUL_DOCUMENT_MESSAGE: &str = "Document must not contain NUL characters (\\u0000)";

/// zod's name for the type of a JSON value (`received`).
fn type_name(v: Option<&Value>) -> &'static str {
    match v {
        None => "undefined",
        Some(Value::Null) => "null",
        Some(Value::Bool(_)) => "boolean",
        Some(Value::Number(_)) => "number",
        Some(Value::String(_)) => "string",
        Some(Value::Array(_)) => "array",
        Some(Value::Object(_)) => "object",
    }
}

/// `options` as a union of TypeScript string literals (`"a" | "b"`).
pub(crate) fn literal_union(options: &[&str]) -> String {
    options
        .iter()
        .map(|o| Value::from(*o).to_string())
        .collect::<Vec<_>>()
        .join(" | ")
}

/// Longest id accepted (characters): ids are generated cuids (25), so 255
/// leaves room for imported ones and keeps any composite index entry small.
pub const MAX_ID_LEN: usize = 255;
/// Longest single-line string (names, emails, usernames, `str? | ""` fields):
/// 500 UTF-16 units are at most 1,500 bytes of UTF-8, so a unique index entry
/// (`roles_name_key`, `people_email_key`) stays under btree's 2,704-byte limit.
pub const MAX_STRING_LEN: usize = 500;
/// Longest optional free text (`opt_string`: descriptions, colors, search).
pub const MAX_TEXT_LEN: usize = 10_000;
/// Longest URL (`opt_url_or_empty`).
pub const MAX_URL_LEN: usize = 2_048;

/// The earliest timestamp Postgres stores: 4714-11-24 BC (Julian day 0),
/// astronomical year -4713 (the latest JS date, +275760, is inside its range).
pub fn pg_min_date() -> chrono::NaiveDateTime {
    chrono::NaiveDate::from_ymd_opt(-4713, 11, 24)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("a valid date")
}

/// [`pg_min_date`] as the API prints it.
pub const PG_MIN_DATE: &str = "-004713-11-24T00:00:00.000Z";

/// String length as JavaScript counts it (UTF-16 code units).
pub fn js_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// A procedure input type.
pub trait FromInput: Sized {
    /// Whether the procedure reads its input (has an input parser). tRPC 11
    /// reads a call's raw input lazily, from the input parser: a procedure
    /// without one never sees, nor fails on, an unparsable body or `input`.
    const TAKES_INPUT: bool = true;

    fn from_input(input: &mut Input) -> Self;
}

/// Procedures without input ignore whatever was sent, as the original does.
impl FromInput for () {
    const TAKES_INPUT: bool = false;

    fn from_input(input: &mut Input) -> Self {
        input.ignore();
    }
}

/// Parses and validates a raw tRPC input into `T`.
pub fn parse<T: FromInput>(raw: Option<&Value>) -> Result<T, TrpcError> {
    let mut input = Input::new(raw);
    let value = T::from_input(&mut input);
    input.finish()?;
    Ok(value)
}

/// [`parse`] for a query: ids that cannot exist read as unknown ids
/// ([`Input::for_query`]).
pub fn parse_query<T: FromInput>(raw: Option<&Value>) -> Result<T, TrpcError> {
    let mut input = Input::for_query(raw);
    let value = T::from_input(&mut input);
    input.finish()?;
    Ok(value)
}

/// Whether a JSON value holds a NUL character in any string or key.
fn has_nul(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(has_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

/// Reader over one input object that records zod-shaped issues.
pub struct Input {
    raw: Option<Value>,
    object: Map<String, Value>,
    issues: Vec<Value>,
    checked_root: bool,
    lookup: bool,
    /// In describing mode ([`Input::describing`]), the fields read so far.
    fields: Option<Vec<InputField>>,
}

/// One field of a procedure's input as a caller writes it (zod's input type,
/// `z.input<typeof schema>`): its key, TypeScript type and whether the key
/// may be left out. Recorded by the readers themselves, so the declared type
/// is the one the parser checks and cannot drift from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputField {
    pub key: String,
    /// A TypeScript type expression, e.g. `string | ""` or `Date | null`.
    pub ts: String,
    /// `key?:` — zod makes a key optional when its schema accepts `undefined`
    /// (`.optional()`, `.default(..)`, `z.any()`).
    pub optional: bool,
}

/// A procedure's input type: `None` when it has no input parser (tRPC's
/// `void`), else the object's fields in the order the parser reads them.
pub type InputShape = Option<Vec<InputField>>;

/// The input type of `T` as a caller writes it, from `T`'s own parser: the
/// parser runs once over `{}` in describing mode and each reader records its
/// key. Readers record before they delegate, so the outermost reader of a key
/// (e.g. [`Input::opt_nullable_date`], not the [`Input::date`] it calls) wins.
pub fn input_shape<T: FromInput>() -> InputShape {
    if !T::TAKES_INPUT {
        return None;
    }
    let mut input = Input::describing();
    let _ = T::from_input(&mut input);
    input.fields
}

impl Input {
    /// A reader for a mutation's input: every storage limit is a field error.
    pub fn new(raw: Option<&Value>) -> Self {
        Self {
            raw: raw.cloned(),
            object: Map::new(),
            issues: Vec::new(),
            checked_root: false,
            lookup: false,
            fields: None,
        }
    }

    /// A reader for a query's input: an id that cannot exist (NUL, or longer
    /// than [`MAX_ID_LEN`]) is not an error but the empty id, which no row
    /// has, so the read answers as for any unknown id. Other fields keep
    /// their errors.
    pub fn for_query(raw: Option<&Value>) -> Self {
        Self {
            lookup: true,
            ..Self::new(raw)
        }
    }

    /// A reader over `{}` that records each field's TypeScript type ([`input_shape`]).
    fn describing() -> Self {
        Self {
            fields: Some(Vec::new()),
            ..Self::new(Some(&Value::Object(Map::new())))
        }
    }

    /// Records `key`'s type in describing mode (first record of a key wins).
    fn declare(&mut self, key: &str, ts: &str, optional: bool) {
        if let Some(fields) = &mut self.fields {
            if !fields.iter().any(|f| f.key == key) {
                fields.push(InputField {
                    key: key.to_string(),
                    ts: ts.to_string(),
                    optional,
                });
            }
        }
    }

    /// Marks the input as unused (procedures without input).
    pub fn ignore(&mut self) {
        self.checked_root = true;
    }

    fn root(&mut self) -> bool {
        if !self.checked_root {
            self.checked_root = true;
            match self.raw.take() {
                Some(Value::Object(map)) => self.object = map,
                other => {
                    self.invalid_type(json!([]), "object", other.as_ref());
                    return false;
                }
            }
        }
        self.issues.is_empty()
            || !self
                .issues
                .iter()
                .any(|i| i["path"].as_array().is_some_and(|p| p.is_empty()))
    }

    fn invalid_type(&mut self, path: Value, expected: &str, got: Option<&Value>) {
        let received = type_name(got);
        let message = if received == "undefined" {
            "Required".to_string()
        } else {
            format!("Expected {expected}, received {received}")
        };
        self.issues.push(json!({
            "code": "invalid_type",
            "expected": expected,
            "received": received,
            "path": path,
            "message": message,
        }));
    }

    /// Records a custom issue at `path` (zod `refine`).
    pub fn custom(&mut self, path: &[&str], message: &str) {
        self.issues
            .push(json!({"code": "custom", "message": message, "path": path}));
    }

    fn too_small_string(&mut self, path: Value, min: usize) {
        self.issues.push(json!({
            "code": "too_small",
            "minimum": min,
            "type": "string",
            "inclusive": true,
            "exact": false,
            "message": format!("String must contain at least {min} character(s)"),
            "path": path,
        }));
    }

    fn present(&mut self, key: &str) -> Option<Option<Value>> {
        if !self.root() {
            return None;
        }
        Some(self.object.get(key).cloned())
    }

    /// A required string (`z.string()`).
    pub fn string(&mut self, key: &str) -> String {
        self.declare(key, "string", false);
        self.string_min(key, 0)
    }

    /// A required string of at least `min` characters (`z.string().min(min)`),
    /// at most [`MAX_STRING_LEN`].
    pub fn string_min(&mut self, key: &str, min: usize) -> String {
        self.declare(key, "string", false);
        self.string_checked(key, min, MAX_STRING_LEN)
    }

    fn string_checked(&mut self, key: &str, min: usize, max: usize) -> String {
        match self.present(key) {
            None => String::new(),
            Some(Some(Value::String(s))) => {
                if js_len(&s) < min {
                    self.too_small_string(json!([key]), min);
                }
                self.storable(json!([key]), &s, max);
                s
            }
            Some(other) => {
                self.invalid_type(json!([key]), "string", other.as_ref());
                String::new()
            }
        }
    }

    /// Records what Postgres could not store: a NUL, or more than `max` characters.
    fn storable(&mut self, path: Value, s: &str, max: usize) {
        if s.contains('\0') {
            self.issues.push(json!({
                "validation": "regex",
                "code": "invalid_string",
                "message": NUL_MESSAGE,
                "path": path.clone(),
            }));
        }
        if js_len(s) > max {
            self.too_big_string(path, max);
        }
    }

    /// In a query, an id that cannot exist becomes the empty id (no row has
    /// it); elsewhere it is checked like any string of [`MAX_ID_LEN`].
    fn checked_id(&mut self, path: Value, id: String) -> String {
        let impossible = id.contains('\0') || js_len(&id) > MAX_ID_LEN;
        if self.lookup && impossible {
            return String::new();
        }
        self.storable(path, &id, MAX_ID_LEN);
        id
    }

    /// A required id. Ids are never format-checked, but an empty id is
    /// rejected here instead of reaching the database (procedures.md §9 item 22);
    /// at most [`MAX_ID_LEN`] characters, no NUL (in a query: unknown id).
    pub fn id(&mut self, key: &str) -> String {
        self.declare(key, "string", false);
        match self.present(key) {
            None => String::new(),
            Some(Some(Value::String(s))) => {
                if s.is_empty() {
                    self.too_small_string(json!([key]), 1);
                }
                self.checked_id(json!([key]), s)
            }
            Some(other) => {
                self.invalid_type(json!([key]), "string", other.as_ref());
                String::new()
            }
        }
    }

    /// An optional string (free text, at most [`MAX_TEXT_LEN`]): absent →
    /// `None`; `null` is rejected as zod does.
    pub fn opt_string(&mut self, key: &str) -> Option<String> {
        self.declare(key, "string", true);
        match self.present(key) {
            None | Some(None) => None,
            Some(Some(Value::String(s))) => {
                self.storable(json!([key]), &s, MAX_TEXT_LEN);
                Some(s)
            }
            Some(other) => {
                self.invalid_type(json!([key]), "string", other.as_ref());
                None
            }
        }
    }

    /// An optional id: absent → `None`; `""` is rejected instead of reaching
    /// the database as a foreign key (procedures.md §9 item 22).
    pub fn opt_id(&mut self, key: &str) -> Option<String> {
        self.declare(key, "string", true);
        match self.present(key) {
            None | Some(None) => None,
            Some(Some(Value::String(s))) => {
                if s.is_empty() {
                    self.too_small_string(json!([key]), 1);
                }
                Some(self.checked_id(json!([key]), s))
            }
            Some(other) => {
                self.invalid_type(json!([key]), "string", other.as_ref());
                None
            }
        }
    }

    /// An optional id that may also be `""` (`z.string().optional().or(z.literal(""))`
    /// stored as `value || null`): absent or `""` → `None`; a non-string is
    /// zod's union error; at most [`MAX_ID_LEN`] characters, no NUL.
    pub fn opt_id_or_empty(&mut self, key: &str) -> Option<String> {
        self.declare(key, "string | \"\"", true);
        let id = self.opt_string_or_literal_empty(key)?;
        if id.is_empty() {
            return None;
        }
        Some(self.checked_id(json!([key]), id))
    }

    /// A required array of ids (`z.array(z.string())`), each non-empty.
    pub fn id_list(&mut self, key: &str) -> Vec<String> {
        self.declare(key, "string[]", false);
        match self.present(key) {
            None => Vec::new(),
            Some(Some(Value::Array(items))) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.into_iter().enumerate() {
                    match item {
                        Value::String(s) => {
                            if s.is_empty() {
                                self.too_small_string(json!([key, i]), 1);
                            }
                            let id = self.checked_id(json!([key, i]), s);
                            out.push(id)
                        }
                        other => self.invalid_type(json!([key, i]), "string", Some(&other)),
                    }
                }
                out
            }
            Some(other) => {
                self.invalid_type(json!([key]), "array", other.as_ref());
                Vec::new()
            }
        }
    }

    fn too_big_string(&mut self, path: Value, max: usize) {
        self.issues.push(json!({
            "code": "too_big",
            "maximum": max,
            "type": "string",
            "inclusive": true,
            "exact": false,
            "message": format!("String must contain at most {max} character(s)"),
            "path": path,
        }));
    }

    fn invalid_string(&mut self, key: &str, validation: &str, message: &str) {
        self.issues.push(json!({
            "validation": validation,
            "code": "invalid_string",
            "message": message,
            "path": [key],
        }));
    }

    /// A required string of `min..=max` characters (`z.string().min(min).max(max)`).
    pub fn string_between(&mut self, key: &str, min: usize, max: usize) -> String {
        self.declare(key, "string", false);
        self.string_checked(key, min, max)
    }

    /// A required email (`z.string().email()`, zod 3's pattern).
    pub fn email(&mut self, key: &str) -> String {
        self.declare(key, "string", false);
        let present = matches!(self.present(key), Some(Some(Value::String(_))));
        let s = self.string(key);
        if present && !is_zod_email(&s) {
            self.invalid_string(key, "email", "Invalid email");
        }
        s
    }

    /// The string side of a `z.string()…optional().or(z.literal(""))` union:
    /// absent → `None`. Any other non-string (`null` included) fails both
    /// branches, which zod 3 reports as one `invalid_union` issue carrying each
    /// branch's issues (`unionErrors`, each serialised as a `ZodError`).
    /// The string itself is not checked: see [`Self::opt_storable_or_literal_empty`].
    fn opt_string_or_literal_empty(&mut self, key: &str) -> Option<String> {
        match self.present(key) {
            None | Some(None) => None,
            Some(Some(Value::String(s))) => Some(s),
            Some(Some(other)) => {
                let received = type_name(Some(&other));
                let string_branch = json!({
                    "code": "invalid_type",
                    "expected": "string",
                    "received": received,
                    "path": [key],
                    "message": format!("Expected string, received {received}"),
                });
                let literal_branch = json!({
                    "received": other,
                    "code": "invalid_literal",
                    "expected": "",
                    "path": [key],
                    "message": "Invalid literal value, expected \"\"",
                });
                self.issues.push(json!({
                    "code": "invalid_union",
                    "unionErrors": [
                        {"issues": [string_branch], "name": "ZodError"},
                        {"issues": [literal_branch], "name": "ZodError"},
                    ],
                    "path": [key],
                    "message": "Invalid input",
                }));
                None
            }
        }
    }

    /// [`Self::opt_string_or_literal_empty`], then the string checked for NUL
    /// and against `max` characters.
    fn opt_storable_or_literal_empty(&mut self, key: &str, max: usize) -> Option<String> {
        let s = self.opt_string_or_literal_empty(key)?;
        self.storable(json!([key]), &s, max);
        Some(s)
    }

    /// An optional URL that may also be `""` (`z.string().url().optional().or(z.literal(""))`):
    /// absent or `""` → `None`. A URL is whatever the WHATWG parser accepts. A
    /// string that is not a URL only fails the `url()` check (zod returns that
    /// branch's "Invalid url", not an `invalid_union`).
    pub fn opt_url_or_empty(&mut self, key: &str) -> Option<String> {
        self.declare(key, "string | \"\"", true);
        let s = self.opt_storable_or_literal_empty(key, MAX_URL_LEN)?;
        if s.is_empty() {
            return None;
        }
        if url::Url::parse(&s).is_err() {
            self.invalid_string(key, "url", "Invalid url");
        }
        Some(s)
    }

    /// An optional string where `""` means absent (`z.string().optional().or(z.literal(""))`
    /// stored as `value || null`).
    pub fn opt_string_or_empty(&mut self, key: &str) -> Option<String> {
        self.declare(key, "string | \"\"", true);
        self.opt_storable_or_literal_empty(key, MAX_STRING_LEN)
            .filter(|s| !s.is_empty())
    }

    /// Optional free text where `""` means absent (`z.string().optional().or(z.literal(""))`
    /// stored as `value || null`), at most [`MAX_TEXT_LEN`] characters.
    pub fn opt_text_or_empty(&mut self, key: &str) -> Option<String> {
        self.declare(key, "string | \"\"", true);
        self.opt_storable_or_literal_empty(key, MAX_TEXT_LEN)
            .filter(|s| !s.is_empty())
    }

    /// Any JSON value (`z.any()`): absent → `None`, `null` → `Some(Value::Null)`.
    /// A NUL in any string or key is an error: `jsonb` cannot store it.
    pub fn any(&mut self, key: &str) -> Option<Value> {
        self.declare(key, "any", true);
        let value = self.present(key).flatten();
        if value.as_ref().is_some_and(has_nul) {
            self.custom(&[key], NUL_DOCUMENT_MESSAGE);
        }
        value
    }

    /// A rich-text document (`z.any()` stored as `content ?? {}`): absent and
    /// `null` become an empty object.
    pub fn document(&mut self, key: &str) -> Value {
        self.declare(key, "any", true);
        self.any(key)
            .filter(|c| !c.is_null())
            .unwrap_or_else(|| json!({}))
    }

    /// A required date (`z.coerce.date()`): what JS `new Date(v)` accepts.
    pub fn date(&mut self, key: &str) -> chrono::NaiveDateTime {
        self.declare(key, "Date", false);
        match self.present(key) {
            None => chrono::NaiveDateTime::default(),
            Some(v) => match coerce_date(v.as_ref()) {
                Some(d) if d < pg_min_date() => {
                    self.issues.push(json!({
                        "code": "too_small",
                        "minimum": PG_MIN_DATE,
                        "type": "date",
                        "inclusive": true,
                        "exact": false,
                        "message": format!("Date must be greater than or equal to {PG_MIN_DATE}"),
                        "path": [key],
                    }));
                    chrono::NaiveDateTime::default()
                }
                Some(d) => d,
                None => {
                    self.issues.push(json!({
                        "code": "invalid_date",
                        "path": [key],
                        "message": "Invalid date",
                    }));
                    chrono::NaiveDateTime::default()
                }
            },
        }
    }

    /// An optional date (`z.coerce.date().optional()`): absent → `None`.
    pub fn opt_date(&mut self, key: &str) -> Option<chrono::NaiveDateTime> {
        self.declare(key, "Date", true);
        match self.present(key) {
            None | Some(None) => None,
            Some(Some(_)) => Some(self.date(key)),
        }
    }

    fn number(&mut self, key: &str) -> Option<f64> {
        match self.present(key) {
            None | Some(None) => None,
            Some(Some(Value::Number(n))) => n.as_f64(),
            Some(other) => {
                self.invalid_type(json!([key]), "number", other.as_ref());
                None
            }
        }
    }

    /// An optional integer (`z.number().int().min(min).max(max).optional()`):
    /// like zod, a fraction reports "Expected integer" and then any bound it
    /// also breaks. A bound left `None` is `int4`'s, so the value fits an
    /// `INTEGER` column.
    pub fn opt_int(&mut self, key: &str, min: Option<i64>, max: Option<i64>) -> Option<i64> {
        self.declare(key, "number", true);
        let min = Some(min.unwrap_or(i32::MIN.into()));
        let max = Some(max.unwrap_or(i32::MAX.into()));
        let n = self.number(key)?;
        if n.fract() != 0.0 {
            self.issues.push(json!({
                "code": "invalid_type",
                "expected": "integer",
                "received": "float",
                "message": "Expected integer, received float",
                "path": [key],
            }));
            // zod keeps checking (the issue only makes the result dirty): the
            // bounds below are reported too, in the schema's order.
        }
        if let Some(min) = min.filter(|m| n < *m as f64) {
            self.issues.push(json!({
                "code": "too_small", "minimum": min, "type": "number", "inclusive": true,
                "exact": false, "message": format!("Number must be greater than or equal to {min}"),
                "path": [key],
            }));
        }
        if let Some(max) = max.filter(|m| n > *m as f64) {
            self.issues.push(json!({
                "code": "too_big", "maximum": max, "type": "number", "inclusive": true,
                "exact": false, "message": format!("Number must be less than or equal to {max}"),
                "path": [key],
            }));
        }
        Some(n.clamp(i64::MIN as f64, i64::MAX as f64) as i64)
    }

    /// An optional array of ids (`z.array(z.string()).optional()`): absent →
    /// empty; `""` elements are kept (callers drop them, as the original
    /// does); each at most [`MAX_ID_LEN`] characters, no NUL.
    pub fn opt_id_list(&mut self, key: &str) -> Vec<String> {
        self.declare(key, "string[]", true);
        match self.present(key) {
            None | Some(None) => Vec::new(),
            Some(Some(Value::Array(items))) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.into_iter().enumerate() {
                    match item {
                        Value::String(s) => out.push(self.checked_id(json!([key, i]), s)),
                        other => self.invalid_type(json!([key, i]), "string", Some(&other)),
                    }
                }
                out
            }
            Some(other) => {
                self.invalid_type(json!([key]), "array", other.as_ref());
                Vec::new()
            }
        }
    }

    /// An object-level `.refine(check, message)`: when `holds` is false, a
    /// form error (path `[]`). Like zod, the refinement only runs when no
    /// field failed in a way that aborts the object parse (a wrong type, enum
    /// value, union or date); failed length or number checks do not.
    pub fn refine(&mut self, holds: bool, message: &str) {
        const ABORTING: [&str; 5] = [
            "invalid_type",
            "invalid_enum_value",
            "invalid_union",
            "invalid_date",
            "invalid_literal",
        ];
        let aborted = self
            .issues
            .iter()
            .any(|i| i["code"].as_str().is_some_and(|c| ABORTING.contains(&c)));
        if !holds && !aborted {
            self.custom(&[], message);
        }
    }

    /// One of `options` (`z.enum([...])`, with `.default(d)` when `default`
    /// is given: only an absent key takes it, `null` is rejected).
    pub fn enumeration(
        &mut self,
        key: &str,
        options: &[&'static str],
        default: Option<&'static str>,
    ) -> &'static str {
        if self.fields.is_some() {
            let union = literal_union(options);
            self.declare(key, &union, default.is_some());
        }
        let fallback = default.or(options.first().copied()).unwrap_or_default();
        let expected = options
            .iter()
            .map(|o| format!("'{o}'"))
            .collect::<Vec<_>>()
            .join(" | ");
        match self.present(key) {
            None => fallback,
            Some(None) if default.is_some() => fallback,
            Some(Some(Value::String(s))) => match options.iter().find(|o| **o == s) {
                Some(o) => o,
                None => {
                    self.issues.push(json!({
                        "received": s,
                        "code": "invalid_enum_value",
                        "options": options,
                        "path": [key],
                        "message": format!("Invalid enum value. Expected {expected}, received '{s}'"),
                    }));
                    fallback
                }
            },
            Some(other) => {
                self.invalid_type(json!([key]), &expected, other.as_ref());
                fallback
            }
        }
    }

    /// An optional enum (`z.enum([...]).optional()`): absent → `None`; `null`
    /// or another type is zod's `invalid_type`, a string outside `options`
    /// its `invalid_enum_value` (one issue per field).
    pub fn opt_enumeration(&mut self, key: &str, options: &[&'static str]) -> Option<&'static str> {
        if self.fields.is_some() {
            let union = literal_union(options);
            self.declare(key, &union, true);
        }
        match self.present(key) {
            None | Some(None) => None,
            Some(Some(_)) => Some(self.enumeration(key, options, None)),
        }
    }

    /// An optional finite number (`z.number().optional()`).
    pub fn opt_number(&mut self, key: &str) -> Option<f64> {
        self.declare(key, "number", true);
        self.number(key)
    }

    /// A required number (`z.number()`); `positive` adds `.positive()`.
    pub fn required_number(&mut self, key: &str, positive: bool) -> f64 {
        self.declare(key, "number", false);
        let Some(raw) = self.present(key) else {
            return 0.0;
        };
        if raw.is_none() {
            self.invalid_type(json!([key]), "number", None);
            return 0.0;
        }
        let n = self.number(key).unwrap_or(0.0);
        if positive && matches!(raw, Some(Value::Number(_))) && n <= 0.0 {
            self.issues.push(json!({
                "code": "too_small", "minimum": 0, "type": "number", "inclusive": false,
                "exact": false, "message": "Number must be greater than 0", "path": [key],
            }));
        }
        n
    }

    /// A nullable optional date (`z.coerce.date().nullable().optional()`):
    /// absent → `None`, `null` → `Some(None)`.
    pub fn opt_nullable_date(&mut self, key: &str) -> Option<Option<chrono::NaiveDateTime>> {
        self.declare(key, "Date | null", true);
        match self.present(key) {
            None | Some(None) => None,
            Some(Some(Value::Null)) => Some(None),
            Some(Some(_)) => Some(Some(self.date(key))),
        }
    }

    /// A nullable optional id (`z.string().nullable().optional()`): absent →
    /// `None`, `null` → `Some(None)`; `""` is rejected (procedures.md §9 item 22).
    pub fn opt_nullable_id(&mut self, key: &str) -> Option<Option<String>> {
        self.declare(key, "string | null", true);
        match self.present(key) {
            None | Some(None) => None,
            Some(Some(Value::Null)) => Some(None),
            Some(Some(_)) => Some(self.opt_id(key)),
        }
    }

    /// Ends validation: any recorded issue becomes one BAD_REQUEST.
    pub fn finish(mut self) -> Result<(), TrpcError> {
        if !self.checked_root {
            self.root();
        }
        if self.issues.is_empty() {
            return Ok(());
        }
        let zod = ZodError {
            issues: std::mem::take(&mut self.issues),
        };
        Err(TrpcError {
            code: TrpcCode::BadRequest,
            message: zod.message(),
            zod: Some(zod),
            allow: None,
        })
    }
}

/// URL fields restricted to the web schemes (procedures.md §9 item 6): the
/// original accepted any absolute URL (`javascript:`, `data:` ...), a stored
/// XSS vector wherever the value is rendered as a link.
impl Input {
    /// A required `http:`/`https:` URL (`z.string().url()`, scheme-restricted).
    /// At most [`MAX_URL_LEN`] characters, no NUL.
    pub fn web_url(&mut self, key: &str) -> String {
        self.declare(key, "string", false);
        let present = matches!(self.present(key), Some(Some(Value::String(_))));
        let s = self.string_checked(key, 0, MAX_URL_LEN);
        if present {
            self.check_web_url(key, &s);
        }
        s
    }

    /// An optional `http:`/`https:` URL that may also be `""`
    /// (`z.string().url().optional().or(z.literal(""))`): absent or `""` → `None`;
    /// at most [`MAX_URL_LEN`] characters, no NUL.
    pub fn opt_web_url_or_empty(&mut self, key: &str) -> Option<String> {
        self.declare(key, "string | \"\"", true);
        let s = self.opt_storable_or_literal_empty(key, MAX_URL_LEN)?;
        if s.is_empty() {
            return None;
        }
        self.check_web_url(key, &s);
        Some(s)
    }

    fn check_web_url(&mut self, key: &str, s: &str) {
        match url::Url::parse(s) {
            Err(_) => self.invalid_string(key, "url", "Invalid url"),
            Ok(u) if !matches!(u.scheme(), "http" | "https") => {
                self.custom(&[key], "URL must start with http:// or https://")
            }
            Ok(_) => {}
        }
    }
}

/// zod 3's email pattern (case-insensitive, ASCII):
/// `^(?!\.)(?!.*\.\.)([A-Z0-9_'+\-\.]*)[A-Z0-9_+-]@([A-Z0-9][A-Z0-9\-]*\.)+[A-Z]{2,}$`.
pub fn is_zod_email(s: &str) -> bool {
    if s.starts_with('.') || s.contains("..") {
        return false;
    }
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    let local_ok = |c: char| c.is_ascii_alphanumeric() || "_'+-.".contains(c);
    match local.chars().last() {
        Some(c) if c.is_ascii_alphanumeric() || "_+-".contains(c) => {}
        _ => return false,
    }
    if !local.chars().all(local_ok) {
        return false;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let Some((tld, rest)) = labels.split_last() else {
        return false;
    };
    if rest.is_empty() || tld.len() < 2 || !tld.chars().all(|c| c.is_ascii_alphabetic()) {
        return false;
    }
    rest.iter().all(|l| {
        l.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    })
}

/// JS `new Date(v)` for the values a JSON input can hold; `None` = Invalid Date.
/// Strings: the ECMAScript date-time format ([`parse_es_date`]), then, as V8's
/// fallback parser does for the common cases, RFC 3339 with any offset and a
/// date-time with a space instead of `T` (no offset: server local time, UTC).
fn coerce_date(v: Option<&Value>) -> Option<chrono::NaiveDateTime> {
    match v? {
        Value::Null => from_epoch_ms(0.0),
        Value::Bool(b) => from_epoch_ms(if *b { 1.0 } else { 0.0 }),
        Value::Number(n) => from_epoch_ms(n.as_f64()?),
        Value::String(s) => {
            let s = s.trim();
            parse_es_date(s)
                .or_else(|| crate::db::time::parse(s).and_then(in_js_range))
                .or_else(|| parse_legacy_date(s).and_then(in_js_range))
        }
        Value::Array(_) | Value::Object(_) => None,
    }
}

/// JS's time value range: ±8.64e15 ms around the epoch.
const JS_MAX_MS: i64 = 8_640_000_000_000_000;

fn from_epoch_ms(ms: f64) -> Option<chrono::NaiveDateTime> {
    if !ms.is_finite() || ms.abs() > JS_MAX_MS as f64 {
        return None;
    }
    chrono::DateTime::from_timestamp_millis(ms.trunc() as i64).map(|d| d.naive_utc())
}

fn in_js_range(d: chrono::NaiveDateTime) -> Option<chrono::NaiveDateTime> {
    (d.and_utc().timestamp_millis().abs() <= JS_MAX_MS).then_some(d)
}

/// The forms outside the ECMAScript format that V8's fallback parser reads and
/// clients send: what JS itself prints (`Date.prototype.toString()`:
/// `Mon Mar 16 2026 10:00:00 GMT+0000 (Coordinated Universal Time)`,
/// `toUTCString()`: `Mon, 16 Mar 2026 10:00:00 GMT`), `YYYY/MM/DD`,
/// `MM/DD/YYYY`, `YYYY-MM-DD HH:MM`, `16 March 2026`, `March 16, 2026 10:00 PM`.
/// Tokens: an optional weekday, a month name (English, 3+ letters), numbers,
/// a `H:MM[:SS[.fff]]` time with optional AM/PM, `GMT`/`UTC`/`Z` with an
/// optional `±HHMM`/`±HH:MM` offset, and a parenthesised comment (ignored).
/// Without an offset the time is local, UTC on the server. Anything else
/// (two-digit years, other zone names, other languages) is refused.
fn parse_legacy_date(s: &str) -> Option<chrono::NaiveDateTime> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    // Drop a trailing parenthesised comment: `(Coordinated Universal Time)`.
    let s = match s.find('(') {
        Some(at) if s.ends_with(')') => s[..at].trim_end(),
        Some(_) => return None,
        None => s,
    };
    let (mut year, mut month, mut day) = (None::<i64>, None::<i64>, None::<i64>);
    let mut numbers: Vec<i64> = Vec::new();
    let mut time: Option<(i64, i64, i64, i64)> = None;
    let mut pm: Option<bool> = None;
    let mut offset: Option<i64> = None;
    let parse_offset = |t: &str| -> Option<i64> {
        let sign = match t.as_bytes().first()? {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        let digits: String = t[1..].chars().filter(|c| *c != ':').collect();
        if !(digits.len() == 4 || digits.len() == 2) || !digits.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let h: i64 = digits[..2].parse().ok()?;
        let m: i64 = if digits.len() == 4 {
            digits[2..].parse().ok()?
        } else {
            0
        };
        (h < 24 && m < 60).then_some(sign * (h * 60 + m))
    };
    for token in s
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|t| !t.is_empty())
    {
        let lower = token.to_ascii_lowercase();
        if lower.chars().all(|c| c.is_ascii_alphabetic() || c == '.') {
            let word = lower.trim_end_matches('.');
            if let Some(m) = MONTHS
                .iter()
                .position(|m| word.len() >= 3 && word.starts_with(m))
            {
                if month.replace(m as i64 + 1).is_some() {
                    return None;
                }
            } else if WEEKDAYS
                .iter()
                .any(|d| word.len() >= 3 && word.starts_with(d))
            {
            } else if matches!(word, "am" | "pm" | "a.m" | "p.m") {
                pm = Some(word.starts_with('p'));
            } else if matches!(word, "gmt" | "utc" | "ut" | "z") {
                offset.get_or_insert(0);
            } else {
                return None;
            }
            continue;
        }
        // `GMT+0000`, `UTC-05:00`, or a bare `+0200` after a time.
        let zone = ["gmt", "utc"].iter().find_map(|z| lower.strip_prefix(z));
        if let Some(rest) = zone {
            offset = Some(parse_offset(rest)?);
            continue;
        }
        if (token.starts_with('+') || token.starts_with('-')) && time.is_some() {
            offset = Some(parse_offset(token)?);
            continue;
        }
        if token.contains(':') {
            let mut parts = token.split(':');
            let h: i64 = parts.next()?.parse().ok()?;
            let m: i64 = parts.next()?.parse().ok()?;
            let (sec, milli) = match parts.next() {
                None => (0, 0),
                Some(sec) => match sec.split_once('.') {
                    None => (sec.parse().ok()?, 0),
                    Some((s, f)) if !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()) => (
                        s.parse().ok()?,
                        format!("{:0<3}", &f[..f.len().min(3)]).parse().ok()?,
                    ),
                    Some(_) => return None,
                },
            };
            if parts.next().is_some() || time.is_some() || m > 59 || sec > 59 {
                return None;
            }
            time = Some((h, m, sec, milli));
            continue;
        }
        let separator = ['/', '-'].into_iter().find(|c| token.contains(*c));
        if let Some(sep) = separator {
            let parts: Vec<&str> = token.split(sep).collect();
            if parts.len() != 3 || year.is_some() || month.is_some() {
                return None;
            }
            let nums: Vec<i64> = parts
                .iter()
                .map(|p| p.parse().ok())
                .collect::<Option<_>>()?;
            if parts[0].len() == 4 {
                (year, month, day) = (Some(nums[0]), Some(nums[1]), Some(nums[2]));
            } else if sep == '/' && parts[2].len() == 4 {
                (year, month, day) = (Some(nums[2]), Some(nums[0]), Some(nums[1]));
            } else {
                return None;
            }
            continue;
        }
        if token.bytes().all(|b| b.is_ascii_digit()) {
            numbers.push(token.parse().ok()?);
            continue;
        }
        return None;
    }
    // With a month name, the remaining numbers are the day and a 4-digit year.
    for n in numbers {
        if year.is_none() && n > 31 {
            year = Some(n);
        } else if day.is_none() {
            day = Some(n);
        } else if year.is_none() && n >= 1000 {
            year = Some(n);
        } else {
            return None;
        }
    }
    let (year, month, day) = (year?, month?, day.unwrap_or(1));
    if year < 1000 || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let (mut h, m, sec, milli) = time.unwrap_or((0, 0, 0, 0));
    match pm {
        Some(is_pm) if (1..=12).contains(&h) => h = h % 12 + if is_pm { 12 } else { 0 },
        Some(_) => return None,
        None if h > 24 || (h == 24 && (m, sec, milli) != (0, 0, 0)) => return None,
        None => {}
    }
    let first =
        chrono::NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, u32::try_from(month).ok()?, 1)?;
    let midnight = first
        .checked_add_days(chrono::Days::new(u64::try_from(day - 1).ok()?))?
        .and_hms_opt(0, 0, 0)?;
    Some(
        midnight + chrono::Duration::milliseconds(((h * 60 + m) * 60 + sec) * 1000 + milli)
            - chrono::Duration::minutes(offset.unwrap_or(0)),
    )
}

/// The ECMAScript date-time string format as V8 reads it:
/// `YYYY`, `YYYY-MM` or `YYYY-MM-DD` (or a signed 6-digit year), optionally
/// followed by `THH:mm`, `THH:mm:ss` or `THH:mm:ss.f…` and an optional `Z` or
/// `±HH:mm`. Date-only forms are UTC. A date-time without offset is local time
/// in JS; the functions (and the original's servers) run with TZ=UTC, so it is
/// read as UTC here. As in V8, a day past the month's end rolls over
/// (`2026-02-30` = March 2) and `T24:00` is the next midnight.
fn parse_es_date(s: &str) -> Option<chrono::NaiveDateTime> {
    fn digits(s: &[u8], at: &mut usize, n: usize) -> Option<i64> {
        let part = s.get(*at..*at + n)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        *at += n;
        std::str::from_utf8(part).ok()?.parse().ok()
    }
    fn eat(s: &[u8], at: &mut usize, c: u8) -> bool {
        let hit = s.get(*at) == Some(&c);
        if hit {
            *at += 1;
        }
        hit
    }

    let b = s.as_bytes();
    let mut at = 0;
    let year = match b.first()? {
        sign @ (b'+' | b'-') => {
            at = 1;
            let y = digits(b, &mut at, 6)?;
            if *sign == b'-' {
                if y == 0 {
                    return None; // -000000 is not a year
                }
                -y
            } else {
                y
            }
        }
        _ => digits(b, &mut at, 4)?,
    };
    let (mut month, mut day) = (1, 1);
    if eat(b, &mut at, b'-') {
        month = digits(b, &mut at, 2)?;
        if eat(b, &mut at, b'-') {
            day = digits(b, &mut at, 2)?;
        }
    }
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let mut ms_of_day = 0;
    let mut offset_minutes = 0;
    if eat(b, &mut at, b'T') {
        let hour = digits(b, &mut at, 2)?;
        if !eat(b, &mut at, b':') {
            return None;
        }
        let minute = digits(b, &mut at, 2)?;
        let (mut second, mut milli) = (0, 0);
        if eat(b, &mut at, b':') {
            second = digits(b, &mut at, 2)?;
            if eat(b, &mut at, b'.') {
                // One or more digits; milliseconds are the first three.
                let start = at;
                while b.get(at).is_some_and(u8::is_ascii_digit) {
                    at += 1;
                }
                if at == start {
                    return None;
                }
                let frac = format!("{:0<3}", &s[start..at.min(start + 3)]);
                milli = frac.parse().ok()?;
            }
        }
        let end_of_day = hour == 24 && minute == 0 && second == 0 && milli == 0;
        if (hour > 23 && !end_of_day) || minute > 59 || second > 59 {
            return None;
        }
        ms_of_day = ((hour * 60 + minute) * 60 + second) * 1000 + milli;
        match b.get(at) {
            Some(b'Z') => at += 1,
            Some(sign @ (b'+' | b'-')) => {
                let sign = if *sign == b'-' { -1 } else { 1 };
                at += 1;
                let oh = digits(b, &mut at, 2)?;
                if !eat(b, &mut at, b':') {
                    return None;
                }
                let om = digits(b, &mut at, 2)?;
                if oh > 23 || om > 59 {
                    return None;
                }
                offset_minutes = sign * (oh * 60 + om);
            }
            // No offset: local time, which is UTC on the server (see above).
            _ => {}
        }
    }
    if at != b.len() {
        return None;
    }
    let first_of_month =
        chrono::NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, u32::try_from(month).ok()?, 1)?;
    let midnight = first_of_month
        .checked_add_days(chrono::Days::new(u64::try_from(day - 1).ok()?))?
        .and_hms_opt(0, 0, 0)?;
    let utc = midnight + chrono::Duration::milliseconds(ms_of_day)
        - chrono::Duration::minutes(offset_minutes);
    in_js_range(utc)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Create {
        name: String,
        color: Option<String>,
    }
    impl FromInput for Create {
        fn from_input(i: &mut Input) -> Self {
            Create {
                name: i.string_min("name", 1),
                color: i.opt_string("color"),
            }
        }
    }

    #[test]
    fn valid_input_parses_and_unknown_keys_are_ignored() {
        let c: Create = parse(Some(&json!({"name": "Eng", "extra": 1}))).unwrap();
        assert_eq!(c.name, "Eng");
        assert_eq!(c.color, None);
    }

    #[test]
    fn empty_name_is_too_small_with_zod_shape() {
        let err = parse::<Create>(Some(&json!({"name": ""}))).err().unwrap();
        assert_eq!(err.code, TrpcCode::BadRequest);
        let flat = err.zod.as_ref().unwrap().flatten();
        assert_eq!(
            flat,
            json!({"formErrors": [], "fieldErrors": {"name": ["String must contain at least 1 character(s)"]}})
        );
        assert!(err
            .message
            .starts_with("[\n  {\n    \"code\": \"too_small\""));
    }

    #[test]
    fn missing_and_null_and_wrong_types_are_reported_per_field() {
        let err = parse::<Create>(Some(&json!({"color": null})))
            .err()
            .unwrap();
        let flat = err.zod.unwrap().flatten();
        assert_eq!(flat["fieldErrors"]["name"], json!(["Required"]));
        assert_eq!(
            flat["fieldErrors"]["color"],
            json!(["Expected string, received null"])
        );
    }

    #[test]
    fn undefined_input_is_a_form_error() {
        let err = parse::<Create>(None).err().unwrap();
        assert_eq!(
            err.zod.unwrap().flatten(),
            json!({"formErrors": ["Required"], "fieldErrors": {}})
        );
    }

    #[test]
    fn id_list_reports_element_paths() {
        struct Ids(Vec<String>);
        impl FromInput for Ids {
            fn from_input(i: &mut Input) -> Self {
                Ids(i.id_list("ids"))
            }
        }
        let err = parse::<Ids>(Some(&json!({"ids": ["a", 3, ""]})))
            .err()
            .unwrap();
        let z = err.zod.unwrap();
        assert_eq!(z.issues[0]["path"], json!(["ids", 1]));
        assert_eq!(z.issues[1]["path"], json!(["ids", 2]));
        assert_eq!(
            z.flatten()["fieldErrors"]["ids"].as_array().unwrap().len(),
            2
        );
        assert_eq!(parse::<Ids>(Some(&json!({"ids": []}))).unwrap().0.len(), 0);
    }

    #[test]
    fn no_input_procedures_accept_anything() {
        assert!(parse::<()>(Some(&json!(42))).is_ok());
        assert!(parse::<()>(None).is_ok());
    }

    #[test]
    fn length_counts_utf16_units() {
        assert_eq!(js_len("😀"), 2);
        assert_eq!(js_len("é"), 1);
    }

    #[test]
    fn zod_email_pattern() {
        for ok in [
            "a@b.co",
            "first.last+tag@example.com",
            "o'neil@sub.example.org",
            "x_-@a-b.io",
        ] {
            assert!(is_zod_email(ok), "{ok}");
        }
        for bad in [
            ".a@b.co",
            "a..b@c.co",
            "a.@b.co",
            "a@b",
            "a@b.c",
            "a@-b.co",
            "a@b.c0",
            "ab.co",
            "a@b..co",
        ] {
            assert!(!is_zod_email(bad), "{bad}");
        }
    }

    #[test]
    fn dates_coerce_like_js() {
        let d = |v: Value| coerce_date(Some(&v)).map(|d| crate::db::time::to_iso(&d));
        assert_eq!(d(json!("2026-03-15")).unwrap(), "2026-03-15T00:00:00.000Z");
        assert_eq!(d(json!(0)).unwrap(), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            d(json!("2026-03-15T10:00:00+02:00")).unwrap(),
            "2026-03-15T08:00:00.000Z"
        );
        assert_eq!(d(json!("soon")), None);
        assert_eq!(coerce_date(None), None);
    }

    #[test]
    fn dates_accept_every_ecmascript_date_time_form() {
        let d = |v: &str| coerce_date(Some(&json!(v))).map(|d| crate::db::time::to_iso(&d));
        for (input, expected) in [
            // datetime-local (no offset: local time, UTC on the server)
            ("2026-03-15T10:00", "2026-03-15T10:00:00.000Z"),
            ("2026-03-15T10:00Z", "2026-03-15T10:00:00.000Z"),
            ("2026-03-15T10:00+02:00", "2026-03-15T08:00:00.000Z"),
            ("2026-03-15T10:00:05.5", "2026-03-15T10:00:05.500Z"),
            ("2026-03-15T10:00:05.123456Z", "2026-03-15T10:00:05.123Z"),
            ("2026-03", "2026-03-01T00:00:00.000Z"),
            ("2026", "2026-01-01T00:00:00.000Z"),
            ("2026-03T10:00Z", "2026-03-01T10:00:00.000Z"),
            ("+002026-03-15", "2026-03-15T00:00:00.000Z"),
            ("2026-02-30", "2026-03-02T00:00:00.000Z"),
            ("2026-03-15T24:00", "2026-03-16T00:00:00.000Z"),
            ("2026-03-15 10:00:00", "2026-03-15T10:00:00.000Z"),
        ] {
            assert_eq!(d(input).as_deref(), Some(expected), "{input}");
        }
        for bad in [
            "2026-13",
            "2026-00-01",
            "2026-03-32",
            "2026-03-15T10",
            "2026-03-15T25:00",
            "2026-03-15T10:60",
            "2026-03-15T24:00:01",
            "-000000-01-01",
            "202",
            "2026-03-15T10:00:00.",
            "+275761-01-01",
        ] {
            assert_eq!(d(bad), None, "{bad}");
        }
    }

    #[test]
    fn dates_accept_the_forms_javascript_prints_and_common_local_forms() {
        let d = |v: &str| coerce_date(Some(&json!(v))).map(|d| crate::db::time::to_iso(&d));
        for (input, expected) in [
            (
                "Mon Mar 16 2026 10:00:00 GMT+0000 (Coordinated Universal Time)",
                "2026-03-16T10:00:00.000Z",
            ),
            (
                "Mon Mar 16 2026 11:30:00 GMT+0130 (Some Local Time)",
                "2026-03-16T10:00:00.000Z",
            ),
            (
                "Mon Mar 16 2026 05:00:00 GMT-0500",
                "2026-03-16T10:00:00.000Z",
            ),
            ("Mon, 16 Mar 2026 10:00:00 GMT", "2026-03-16T10:00:00.000Z"),
            ("2026-03-16T10:00:00.000Z", "2026-03-16T10:00:00.000Z"),
            ("2026/03/16", "2026-03-16T00:00:00.000Z"),
            ("2026/3/6", "2026-03-06T00:00:00.000Z"),
            ("2026/03/16 10:00", "2026-03-16T10:00:00.000Z"),
            ("2026-3-15", "2026-03-15T00:00:00.000Z"),
            ("03/16/2026", "2026-03-16T00:00:00.000Z"),
            ("2026-03-16 10:00", "2026-03-16T10:00:00.000Z"),
            ("2026-03-16 10:00:05.25", "2026-03-16T10:00:05.250Z"),
            ("16 March 2026", "2026-03-16T00:00:00.000Z"),
            ("March 16, 2026 10:00 PM", "2026-03-16T22:00:00.000Z"),
            ("Mar 16 2026 12:00 AM UTC", "2026-03-16T00:00:00.000Z"),
        ] {
            assert_eq!(d(input).as_deref(), Some(expected), "{input}");
        }
        for refused in [
            "Mon Mar 16 26",
            "16 Mär 2026",
            "Mar 16 2026 10:00 EST",
            "next tuesday",
            "2026/13/01",
            "Mar 16 2026 25:00",
            "Mon Mar 16 2026 10:00:00 GMT+0000 (unclosed",
        ] {
            assert_eq!(d(refused), None, "{refused}");
        }
    }

    struct Profile {
        callsign: Option<String>,
        image: Option<String>,
    }
    impl FromInput for Profile {
        fn from_input(i: &mut Input) -> Self {
            Profile {
                callsign: i.opt_string_or_empty("callsign"),
                image: i.opt_url_or_empty("imageUrl"),
            }
        }
    }

    #[test]
    fn a_non_string_in_an_or_empty_union_is_invalid_union() {
        let err = parse::<Profile>(Some(&json!({"callsign": null, "imageUrl": 5})))
            .err()
            .unwrap();
        let zod = err.zod.unwrap();
        assert_eq!(
            zod.flatten(),
            json!({"formErrors": [], "fieldErrors": {
                "callsign": ["Invalid input"], "imageUrl": ["Invalid input"]}})
        );
        assert_eq!(
            zod.issues[0],
            json!({
                "code": "invalid_union",
                "unionErrors": [
                    {"issues": [{"code": "invalid_type", "expected": "string", "received": "null",
                                 "path": ["callsign"], "message": "Expected string, received null"}],
                     "name": "ZodError"},
                    {"issues": [{"received": null, "code": "invalid_literal", "expected": "",
                                 "path": ["callsign"], "message": "Invalid literal value, expected \"\""}],
                     "name": "ZodError"},
                ],
                "path": ["callsign"],
                "message": "Invalid input",
            })
        );
        assert_eq!(zod.issues[1]["unionErrors"][1]["issues"][0]["received"], 5);
        // zod's key order, as clients see it in the message.
        assert!(err.message.starts_with(
            "[\n  {\n    \"code\": \"invalid_union\",\n    \"unionErrors\": [\n      {\n        \"issues\""
        ));
    }

    #[test]
    fn strings_in_an_or_empty_union_keep_their_own_checks() {
        let err = parse::<Profile>(Some(&json!({"imageUrl": "nope"})))
            .err()
            .unwrap();
        assert_eq!(
            err.zod.unwrap().flatten()["fieldErrors"],
            json!({"imageUrl": ["Invalid url"]})
        );
        let ok: Profile = parse(Some(&json!({"callsign": "", "imageUrl": ""}))).unwrap();
        assert_eq!((ok.callsign, ok.image), (None, None));
        let ok: Profile = parse(Some(
            &json!({"callsign": "Ace", "imageUrl": "https://x.io/a.png"}),
        ))
        .unwrap();
        assert_eq!(ok.callsign.as_deref(), Some("Ace"));
        assert_eq!(ok.image.as_deref(), Some("https://x.io/a.png"));
    }

    #[test]
    fn a_fractional_int_also_reports_the_bounds_it_breaks() {
        struct Page(Option<i64>);
        impl FromInput for Page {
            fn from_input(i: &mut Input) -> Self {
                Page(i.opt_int("pageSize", Some(1), Some(100)))
            }
        }
        let issues = |v: Value| parse::<Page>(Some(&v)).err().unwrap().zod.unwrap().issues;

        let small = issues(json!({"pageSize": 0.5}));
        assert_eq!(
            small,
            vec![
                json!({"code": "invalid_type", "expected": "integer", "received": "float",
                       "message": "Expected integer, received float", "path": ["pageSize"]}),
                json!({"code": "too_small", "minimum": 1, "type": "number", "inclusive": true,
                       "exact": false, "message": "Number must be greater than or equal to 1",
                       "path": ["pageSize"]}),
            ]
        );
        let big = issues(json!({"pageSize": 100.5}));
        assert_eq!(big.len(), 2);
        assert_eq!(
            big[1]["message"],
            "Number must be less than or equal to 100"
        );
        assert_eq!(issues(json!({"pageSize": 2.5})).len(), 1);
        assert_eq!(
            parse::<Page>(Some(&json!({"pageSize": 7}))).unwrap().0,
            Some(7)
        );
    }
}

#[cfg(test)]
mod shape_tests {
    use super::*;

    /// A parser using readers of every kind of type the API has.
    struct Everything;

    impl FromInput for Everything {
        fn from_input(i: &mut Input) -> Self {
            i.id("id");
            i.opt_string_or_empty("callsign");
            i.opt_nullable_date("targetDate");
            i.date("date");
            i.enumeration("status", &["A", "B"], Some("A"));
            i.enumeration("kind", &["X", "Y"], None);
            i.opt_enumeration("mood", &["UP"]);
            i.opt_int("page", Some(1), None);
            i.required_number("targetValue", true);
            i.id_list("ids");
            i.any("content");
            i.opt_nullable_id("parentId");
            Everything
        }
    }

    fn field(key: &str, ts: &str, optional: bool) -> InputField {
        InputField {
            key: key.into(),
            ts: ts.into(),
            optional,
        }
    }

    /// Each reader declares the zod input type of what it accepts; a reader
    /// that delegates (`opt_nullable_date` → `date`, `opt_enumeration` →
    /// `enumeration`) declares the outer type once.
    #[test]
    fn readers_declare_the_zod_input_type() {
        assert_eq!(
            input_shape::<Everything>(),
            Some(vec![
                field("id", "string", false),
                field("callsign", "string | \"\"", true),
                field("targetDate", "Date | null", true),
                field("date", "Date", false),
                field("status", "\"A\" | \"B\"", true),
                field("kind", "\"X\" | \"Y\"", false),
                field("mood", "\"UP\"", true),
                field("page", "number", true),
                field("targetValue", "number", false),
                field("ids", "string[]", false),
                field("content", "any", true),
                field("parentId", "string | null", true),
            ])
        );
    }

    #[test]
    fn a_procedure_without_input_is_void() {
        assert_eq!(input_shape::<()>(), None);
    }

    /// Describing never leaks into parsing: a normal reader records nothing.
    #[test]
    fn parsing_records_no_fields() {
        let mut i = Input::new(Some(&json!({"id": "x"})));
        i.id("id");
        assert!(i.fields.is_none());
    }
}
