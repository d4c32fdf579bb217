//! Command results, decoded from `Upstash-Encoding: base64` responses (protocols.md A.6).

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::Value;

/// The result of one Redis command.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Nil,
    Int(i64),
    Bytes(Vec<u8>),
    Array(Vec<Reply>),
}

impl Reply {
    /// The integer of an integer reply (INCR, Lua numbers); `None` for anything else,
    /// including strings that look like numbers.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Reply::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// A string reply as UTF-8 text; `None` for other replies or invalid UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Reply::Bytes(bytes) => std::str::from_utf8(bytes).ok(),
            _ => None,
        }
    }

    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Reply::Bytes(bytes) => Some(bytes),
            _ => None,
        }
    }

    /// A string reply as owned UTF-8 text; `None` for other replies or invalid UTF-8.
    pub fn into_string(self) -> Option<String> {
        match self {
            Reply::Bytes(bytes) => String::from_utf8(bytes).ok(),
            _ => None,
        }
    }

    pub fn is_nil(&self) -> bool {
        matches!(self, Reply::Nil)
    }

    pub fn into_array(self) -> Option<Vec<Reply>> {
        match self {
            Reply::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The strings of an array reply (e.g. SMEMBERS, a SCAN page); anything
    /// else is an empty list.
    pub fn into_strings(self) -> Vec<String> {
        self.into_array()
            .unwrap_or_default()
            .into_iter()
            .filter_map(Reply::into_string)
            .collect()
    }

    /// Decodes a `result` of a base64-mode response: a top-level `"OK"` is plain,
    /// every other string (and every string inside an array, "OK" included) is
    /// base64; a string that is not valid base64 is taken as it is, like @upstash/redis.
    pub(crate) fn from_base64_json(value: &Value) -> Result<Reply, String> {
        match value {
            Value::String(s) if s == "OK" => Ok(Reply::Bytes(b"OK".to_vec())),
            _ => Self::decode_nested(value),
        }
    }

    fn decode_nested(value: &Value) -> Result<Reply, String> {
        match value {
            Value::Null => Ok(Reply::Nil),
            Value::String(s) => Ok(Reply::Bytes(
                STANDARD
                    .decode(s)
                    .unwrap_or_else(|_| s.clone().into_bytes()),
            )),
            Value::Number(n) => match n.as_i64() {
                Some(i) => Ok(Reply::Int(i)),
                None => Err(format!("number {n} is not a 64-bit integer")),
            },
            Value::Array(items) => items
                .iter()
                .map(Self::decode_nested)
                .collect::<Result<_, _>>()
                .map(Reply::Array),
            Value::Bool(_) | Value::Object(_) => Err(format!("unexpected result {value}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn decode(value: Value) -> Reply {
        Reply::from_base64_json(&value).unwrap()
    }

    #[test]
    fn top_level_ok_is_not_base64() {
        assert_eq!(decode(json!("OK")).as_str(), Some("OK"));
    }

    #[test]
    fn other_top_level_strings_are_base64() {
        assert_eq!(decode(json!("YmFy")).as_str(), Some("bar"));
        assert_eq!(decode(json!("UE9ORw==")).as_str(), Some("PONG"));
    }

    #[test]
    fn strings_inside_arrays_are_all_base64_even_ok() {
        assert_eq!(
            decode(json!(["T0s=", "YmFy", 3, null, ["MA=="]])),
            Reply::Array(vec![
                Reply::Bytes(b"OK".to_vec()),
                Reply::Bytes(b"bar".to_vec()),
                Reply::Int(3),
                Reply::Nil,
                Reply::Array(vec![Reply::Bytes(b"0".to_vec())]),
            ])
        );
    }

    #[test]
    fn invalid_base64_is_taken_as_it_is() {
        assert_eq!(decode(json!("not base64!")).as_str(), Some("not base64!"));
    }

    #[test]
    fn binary_values_keep_their_bytes() {
        assert_eq!(decode(json!("/wA=")), Reply::Bytes(vec![0xff, 0x00]));
        assert_eq!(decode(json!("/wA=")).as_str(), None);
    }

    #[test]
    fn integers_and_nulls_stay_as_they_are() {
        assert_eq!(decode(json!(-42)), Reply::Int(-42));
        assert!(decode(json!(null)).is_nil());
    }

    #[test]
    fn objects_booleans_and_fractions_are_not_replies() {
        assert!(Reply::from_base64_json(&json!({"a": 1})).is_err());
        assert!(Reply::from_base64_json(&json!(true)).is_err());
        assert!(Reply::from_base64_json(&json!(1.5)).is_err());
    }

    #[test]
    fn json_text_values_decode_to_the_text() {
        // GET of a value stored as JSON text, the way @upstash/redis stores objects.
        let text = r#"{"a":1,"b":[true,null]}"#;
        assert_eq!(
            decode(json!(STANDARD.encode(text)))
                .into_string()
                .as_deref(),
            Some(text)
        );
    }
}
