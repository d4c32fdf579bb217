//! Timestamps as the original API serialises them.
//!
//! Columns are `timestamp(3) without time zone` holding UTC, read as
//! [`chrono::NaiveDateTime`]. The original returns JS `Date.toISOString()` strings:
//! always three fraction digits and a `Z` (`2025-01-02T03:04:05.678Z`). Use
//! `#[serde(with = "crate::db::time")]` on `NaiveDateTime` fields and
//! `#[serde(with = "crate::db::time::option")]` on `Option<NaiveDateTime>` ones.
//!
//! Deserialising accepts RFC 3339 with any offset (converted to UTC), the
//! expanded years [`to_iso`] prints (`-000001-…`, `+010000-…`), a date-time
//! without offset read as UTC, and a number of milliseconds since the epoch:
//! SQL views emit timestamps as [`epoch_ms!`] numbers, so this module is the
//! one formatter of every date the API returns.

use chrono::{DateTime, Datelike, NaiveDateTime, SubsecRound, Utc};
use serde::{de, Deserializer, Serializer};

/// SQL for a `timestamp` expression as milliseconds since the epoch (a JSON
/// number, `NULL` stays `NULL`), which [`deserialize`] reads back exactly:
/// views built in SQL never format dates themselves.
macro_rules! epoch_ms {
    ($col:expr) => {
        concat!("(extract(epoch FROM ", $col, ") * 1000)::int8")
    };
}
pub(crate) use epoch_ms;

/// SQL for a `timestamp` expression as the text [`to_iso`] prints (`NULL`
/// stays `NULL`), for JSON views that go to the client as they are: years 0 to
/// 9999 as 4 digits, others as a sign and 6 digits, like JS `toISOString`
/// (Postgres' `to_char(…, 'YYYY')` prints 1 BC as `0001`). The expression is
/// checked against [`to_iso`] in the tests; `$col` is evaluated once.
#[macro_export]
macro_rules! js_iso_sql {
    ($col:expr) => {
        concat!(
            "(SELECT CASE WHEN iso_y BETWEEN 0 AND 9999 THEN lpad(iso_y::text, 4, '0') ",
            "WHEN iso_y < 0 THEN '-' || lpad((-iso_y)::text, 6, '0') ",
            "ELSE '+' || lpad(iso_y::text, 6, '0') END ",
            "|| to_char(iso_t, '-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') ",
            "FROM (SELECT iso_t, extract(year FROM iso_t)::int + (extract(year FROM iso_t) < 0)::int AS iso_y ",
            "FROM (SELECT ",
            $col,
            " AS iso_t) AS iso_v) AS iso_parts)"
        )
    };
}

/// [`js_iso_sql!`] for a column known only at run time (an alias chosen by
/// the caller): the same SQL text, so the same output.
pub fn js_iso_sql(column: &str) -> String {
    format!(crate::js_iso_sql!("{}"), column)
}

/// The current UTC time at the precision Postgres stores (`timestamp(3)`: milliseconds), so
/// a value written and read back compares equal.
pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc().trunc_subsecs(3)
}

/// `2025-01-02T03:04:05.678Z`, exactly like JS `Date.prototype.toISOString`:
/// years 0 to 9999 as 4 digits, any other year as a sign and 6 digits
/// (`-000001-…`, `+010000-…`); milliseconds truncated.
///
/// ```
/// let t = chrono::NaiveDate::from_ymd_opt(2025, 1, 2).unwrap().and_hms_opt(3, 4, 5).unwrap();
/// assert_eq!(enghub::db::time::to_iso(&t), "2025-01-02T03:04:05.000Z");
/// let bc = chrono::NaiveDate::from_ymd_opt(-1, 6, 15).unwrap().and_hms_opt(0, 0, 0).unwrap();
/// assert_eq!(enghub::db::time::to_iso(&bc), "-000001-06-15T00:00:00.000Z");
/// ```
pub fn to_iso(value: &NaiveDateTime) -> String {
    let year = value.year();
    let year = if (0..=9999).contains(&year) {
        format!("{year:04}")
    } else if year < 0 {
        format!("-{:06}", year.unsigned_abs())
    } else {
        format!("+{year:06}")
    };
    format!("{year}{}", value.format("-%m-%dT%H:%M:%S%.3fZ"))
}

/// Parses an RFC 3339 date-time (any offset, converted to UTC) or one without
/// offset (UTC); the year may be expanded (`±YYYYYY`) as [`to_iso`] prints it.
pub fn parse(text: &str) -> Option<NaiveDateTime> {
    let expanded = text
        .get(..7)
        .filter(|head| {
            head.starts_with(['+', '-']) && head[1..].bytes().all(|b| b.is_ascii_digit())
        })
        .and_then(|head| head.parse::<i32>().ok());
    if let Some(year) = expanded {
        if text.starts_with("-000000") {
            return None;
        }
        // Parse the rest against a leap year, then move it to its own year
        // (a February 29 that year lacks fails there).
        return parse_plain(&format!("2000{}", &text[7..]))?.with_year(year);
    }
    parse_plain(text)
}

fn parse_plain(text: &str) -> Option<NaiveDateTime> {
    if let Ok(with_offset) = DateTime::parse_from_rfc3339(text) {
        return Some(with_offset.naive_utc());
    }
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
}

/// Milliseconds since the epoch as a UTC date-time.
pub fn from_epoch_ms(ms: i64) -> Option<NaiveDateTime> {
    DateTime::from_timestamp_millis(ms).map(|d| d.naive_utc())
}

pub fn serialize<S: Serializer>(value: &NaiveDateTime, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&to_iso(value))
}

/// Reads a date-time string ([`parse`]) or epoch milliseconds.
struct DateTimeVisitor;

impl de::Visitor<'_> for DateTimeVisitor {
    type Value = NaiveDateTime;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a date-time string or milliseconds since the epoch")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<NaiveDateTime, E> {
        parse(text).ok_or_else(|| E::custom(format!("invalid date-time: {text:?}")))
    }

    fn visit_i64<E: de::Error>(self, ms: i64) -> Result<NaiveDateTime, E> {
        from_epoch_ms(ms).ok_or_else(|| E::custom(format!("date-time out of range: {ms}")))
    }

    fn visit_u64<E: de::Error>(self, ms: u64) -> Result<NaiveDateTime, E> {
        let ms = i64::try_from(ms).map_err(|_| E::custom("date-time out of range"))?;
        self.visit_i64(ms)
    }

    fn visit_f64<E: de::Error>(self, ms: f64) -> Result<NaiveDateTime, E> {
        if !ms.is_finite() || ms.fract() != 0.0 || ms.abs() > 9.0e15 {
            return Err(E::custom(format!("date-time out of range: {ms}")));
        }
        self.visit_i64(ms as i64)
    }
}

pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<NaiveDateTime, D::Error> {
    deserializer.deserialize_any(DateTimeVisitor)
}

/// The same format for `Option<NaiveDateTime>`; `None` is JSON `null`.
pub mod option {
    use chrono::NaiveDateTime;
    use serde::{Deserialize, Deserializer, Serializer};

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
        /// `null` or what [`super::deserialize`] reads.
        #[derive(Deserialize)]
        struct Present(#[serde(with = "super")] NaiveDateTime);
        Ok(Option::<Present>::deserialize(deserializer)?.map(|p| p.0))
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

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_milli_opt(10, 20, 30, 45)
            .unwrap()
    }

    #[test]
    fn every_year_prints_like_js_to_iso_string() {
        for (t, js) in [
            (ymd(2025, 1, 2), "2025-01-02T10:20:30.045Z"),
            (ymd(0, 6, 15), "0000-06-15T10:20:30.045Z"),
            (ymd(9999, 12, 31), "9999-12-31T10:20:30.045Z"),
            (ymd(-1, 6, 15), "-000001-06-15T10:20:30.045Z"),
            (ymd(-4713, 11, 24), "-004713-11-24T10:20:30.045Z"),
            (ymd(10000, 1, 1), "+010000-01-01T10:20:30.045Z"),
            (ymd(200000, 9, 13), "+200000-09-13T10:20:30.045Z"),
            (ymd(-200000, 4, 20), "-200000-04-20T10:20:30.045Z"),
            (ymd(33, 2, 1), "0033-02-01T10:20:30.045Z"),
        ] {
            assert_eq!(to_iso(&t), js);
            assert_eq!(parse(js), Some(t), "{js} reads back");
        }
    }

    #[test]
    fn expanded_years_parse_only_where_the_day_exists() {
        assert_eq!(parse("-000001-02-29T00:00:00.000Z"), None); // 2 BC is not leap
        assert!(parse("-000004-02-29T00:00:00.000Z").is_some()); // 5 BC is
        assert_eq!(parse("-000000-01-01T00:00:00.000Z"), None);
        assert_eq!(parse("+01000-01-01T00:00:00.000Z"), None);
    }

    #[test]
    fn epoch_milliseconds_deserialize_like_strings() {
        #[derive(serde::Deserialize)]
        struct Row {
            #[serde(with = "super")]
            at: NaiveDateTime,
            #[serde(with = "super::option")]
            maybe: Option<NaiveDateTime>,
        }
        let t = ymd(-1, 6, 15);
        let ms = t.and_utc().timestamp_millis();
        let row: Row =
            serde_json::from_value(serde_json::json!({"at": ms, "maybe": to_iso(&t)})).unwrap();
        assert_eq!((row.at, row.maybe), (t, Some(t)));
        let row: Row = serde_json::from_value(serde_json::json!({"at": 0, "maybe": null})).unwrap();
        assert_eq!(row.maybe, None);
        assert_eq!(to_iso(&row.at), "1970-01-01T00:00:00.000Z");
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
