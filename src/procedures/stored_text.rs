//! Text fields that end up in Postgres: zod's rule for the field plus what the
//! database cannot store (a NUL character, in `text` or inside `jsonb`) and a
//! length cap, each reported as a field error instead of a driver 500.
//!
//! The caps and messages are those the general `Input` hardening uses (ids
//! 255, single-line strings 500, free text 10,000, URLs 2,048 characters);
//! once `Input` applies them itself, these wrappers reduce to its methods.

use serde_json::Value;

use crate::trpc::input::js_len;
use crate::trpc::Input;

/// Longest id, in UTF-16 code units (JS `length`).
pub const MAX_ID: usize = 255;
/// Longest single-line string (names, labels).
pub const MAX_STRING: usize = 500;
/// Longest free text (descriptions, search).
pub const MAX_TEXT: usize = 10_000;
/// Longest URL.
pub const MAX_URL: usize = 2_048;

const NUL_MESSAGE: &str = "String must not contain NUL characters (\\u0000)";
const NUL_DOCUMENT_MESSAGE: &str = "Document must not contain NUL characters (\\u0000)";

/// Records an issue at `key` if `s` cannot be stored or is over `max`.
fn check(i: &mut Input, key: &str, s: &str, max: usize) {
    if s.contains('\0') {
        i.custom(&[key], NUL_MESSAGE);
    }
    if js_len(s) > max {
        i.custom(
            &[key],
            &format!("String must contain at most {max} character(s)"),
        );
    }
}

/// Records an issue at `key` if a JSON document holds a NUL character in any
/// string or object key (`jsonb` rejects `\u0000`).
pub fn check_json(i: &mut Input, key: &str, v: &Value) {
    fn has_nul(v: &Value) -> bool {
        match v {
            Value::String(s) => s.contains('\0'),
            Value::Array(items) => items.iter().any(has_nul),
            Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
            _ => false,
        }
    }
    if has_nul(v) {
        i.custom(&[key], NUL_DOCUMENT_MESSAGE);
    }
}

/// A required single-line string of at least `min` characters.
pub fn text(i: &mut Input, key: &str, min: usize) -> String {
    let s = i.string_min(key, min);
    check(i, key, &s, MAX_STRING);
    s
}

/// A required, non-empty id.
pub fn id(i: &mut Input, key: &str) -> String {
    let s = i.id(key);
    check(i, key, &s, MAX_ID);
    s
}

/// Optional free text (absent → `None`).
pub fn opt_text(i: &mut Input, key: &str) -> Option<String> {
    let s = i.opt_string(key);
    if let Some(s) = &s {
        check(i, key, s, MAX_TEXT);
    }
    s
}

/// Optional free text where `""` means absent (`str? | ""`, zod's union rule).
pub fn opt_text_or_empty(i: &mut Input, key: &str) -> Option<String> {
    let s = i.opt_string_or_empty(key);
    if let Some(s) = &s {
        check(i, key, s, MAX_TEXT);
    }
    s
}

/// A required `http:`/`https:` URL.
pub fn web_url(i: &mut Input, key: &str) -> String {
    let s = i.web_url(key);
    check(i, key, &s, MAX_URL);
    s
}

/// An optional `http:`/`https:` URL where `""` means absent.
pub fn opt_web_url_or_empty(i: &mut Input, key: &str) -> Option<String> {
    let s = i.opt_web_url_or_empty(key);
    if let Some(s) = &s {
        check(i, key, s, MAX_URL);
    }
    s
}
