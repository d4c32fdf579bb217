//! Timestamps as the original API serialises them.
//!
//! Columns are `timestamp(3) without time zone` holding UTC, read as
//! [`chrono::NaiveDateTime`]. The original returns JS `Date.toISOString()` strings:
//! always three fraction digits and a `Z` (`2025-01-02T03:04:05.678Z`). Use
//! `#[serde(with = "crate::db::time")]` on `NaiveDateTime` fields and
//! `#[serde(with = "crate::db::time::option")]` on `Option<NaiveDateTime>` ones.
//!
//! Deserialising accepts RFC 3339 with any offset (converted to UTC) and, for symmetry
//! with what this module and Postgres print, a date-time without offset read as UTC.

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};
use serde::{de, Deserialize, Deserializer, Serializer};

const ISO_MILLIS_Z: &str = "%Y-%m-%dT%H:%M:%S%.3fZ";

/// The current UTC time at the precision Postgres stores (`timestamp(3)`: milliseconds), so
/// a value written and read back compares equal.
pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc().trunc_subsecs(3)
}

/// `2025-01-02T03:04:05.678Z`, like JS `Date.toISOString()`.
///
/// ```
/// let t = chrono::NaiveDate::from_ymd_opt(2025, 1, 2).unwrap().and_hms_opt(3, 4, 5).unwrap();
/// assert_eq!(enghub::db::time::to_iso(&t), "2025-01-02T03:04:05.000Z");
/// ```
pub fn to_iso(value: &NaiveDateTime) -> String {
    value.format(ISO_MILLIS_Z).to_string()
}

/// Parses an RFC 3339 date-time (any offset, converted to UTC) or one without offset (UTC).
pub fn parse(text: &str) -> Option<NaiveDateTime> {
    if let Ok(with_offset) = DateTime::parse_from_rfc3339(text) {
        return Some(with_offset.naive_utc());
    }
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
}

pub fn serialize<S: Serializer>(value: &NaiveDateTime, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&value.format(ISO_MILLIS_Z))
}

pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<NaiveDateTime, D::Error> {
    let text = String::deserialize(deserializer)?;
    parse(&text).ok_or_else(|| de::Error::custom(format!("invalid date-time: {text:?}")))
}

/// The same format for `Option<NaiveDateTime>`; `None` is JSON `null`.
pub mod option {
    use chrono::NaiveDateTime;
    use serde::{de, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(
        value: &Option<NaiveDateTime>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(value) => super::serialize(value, serializer),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<NaiveDateTime>, D::Error> {
        match Option::<String>::deserialize(deserializer)? {
            None => Ok(None),
            Some(text) => super::parse(&text)
                .map(Some)
                .ok_or_else(|| de::Error::custom(format!("invalid date-time: {text:?}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, Timelike};

    fn at(h: u32, m: u32, s: u32, milli: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2025, 1, 2)
            .unwrap()
            .and_hms_milli_opt(h, m, s, milli)
            .unwrap()
    }

    #[test]
    fn now_has_millisecond_precision() {
        assert_eq!(now().nanosecond() % 1_000_000, 0);
    }

    #[test]
    fn sub_millisecond_digits_are_truncated_not_rounded() {
        let t = at(3, 4, 5, 678).with_nanosecond(678_999_999).unwrap();
        assert_eq!(to_iso(&t), "2025-01-02T03:04:05.678Z");
    }

    #[test]
    fn offsets_are_converted_to_utc_when_parsing() {
        assert_eq!(
            parse("2025-01-02T05:04:05.678+02:00"),
            Some(at(3, 4, 5, 678))
        );
        assert_eq!(parse("2025-01-02T03:04:05Z"), Some(at(3, 4, 5, 0)));
        assert_eq!(parse("2025-01-02T03:04:05.678"), Some(at(3, 4, 5, 678)));
        assert_eq!(parse("yesterday"), None);
    }
}
