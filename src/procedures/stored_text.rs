//! Text fields that end up in Postgres: zod's rule for the field plus what the
//! database cannot store (a NUL character, in `text` or inside `jsonb`) and a
//! length cap, each reported as a field error instead of a driver 500.

use serde_json::Value;

use crate::trpc::input::js_len;
use crate::trpc::Input;

/// Longest text a field accepts, in UTF-16 code units (JS `length`).
pub const MAX_TEXT: usize = 10_000;

const NUL_MESSAGE: &str = "Text must not contain NUL characters";

/// Records an issue at `key` if `s` cannot be stored.
pub fn check(i: &mut Input, key: &str, s: &str) {
    if s.contains('\0') {
        i.custom(&[key], NUL_MESSAGE);
    }
    if js_len(s) > MAX_TEXT {
        i.custom(
            &[key],
            &format!("String must contain at most {MAX_TEXT} character(s)"),
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
        i.custom(&[key], NUL_MESSAGE);
    }
}

/// A required string of at least `min` characters.
pub fn text(i: &mut Input, key: &str, min: usize) -> String {
    let s = i.string_min(key, min);
    check(i, key, &s);
    s
}

/// A required, non-empty id.
pub fn id(i: &mut Input, key: &str) -> String {
    let s = i.id(key);
    check(i, key, &s);
    s
}

/// An optional string (absent → `None`).
pub fn opt_text(i: &mut Input, key: &str) -> Option<String> {
    let s = i.opt_string(key);
    if let Some(s) = &s {
        check(i, key, s);
    }
    s
}

/// An optional string where `""` means absent (`str? | ""`, zod's union rule).
pub fn opt_text_or_empty(i: &mut Input, key: &str) -> Option<String> {
    let s = i.opt_string_or_empty(key);
    if let Some(s) = &s {
        check(i, key, s);
    }
    s
}

/// A required `http:`/`https:` URL.
pub fn web_url(i: &mut Input, key: &str) -> String {
    let s = i.web_url(key);
    check(i, key, &s);
    s
}

/// An optional `http:`/`https:` URL where `""` means absent.
pub fn opt_web_url_or_empty(i: &mut Input, key: &str) -> Option<String> {
    let s = i.opt_web_url_or_empty(key);
    if let Some(s) = &s {
        check(i, key, s);
    }
    s
}
