//! zod's error value: the issues of one failed validation, with zod 3's
//! `flatten()` and message. Shared by the validation layer (`input`), which
//! records issues, and the error layer (`error`), which answers with them.

use serde_json::{json, Map, Value};

/// The zod issues of one failed validation.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ZodError {
    pub issues: Vec<Value>,
}

impl ZodError {
    /// zod's `error.flatten()`.
    pub fn flatten(&self) -> Value {
        let mut form = Vec::new();
        let mut fields: Map<String, Value> = Map::new();
        for issue in &self.issues {
            let message = issue["message"].clone();
            match issue["path"].as_array().and_then(|p| p.first()) {
                None => form.push(message),
                Some(first) => {
                    let key = match first {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    fields
                        .entry(key)
                        .or_insert_with(|| Value::Array(vec![]))
                        .as_array_mut()
                        .expect("field errors are arrays")
                        .push(message);
                }
            }
        }
        json!({"formErrors": form, "fieldErrors": fields})
    }

    /// zod's error message: the issues as pretty JSON.
    pub fn message(&self) -> String {
        serde_json::to_string_pretty(&self.issues).unwrap_or_default()
    }
}
