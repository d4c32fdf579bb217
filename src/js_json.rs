//! JSON text as JavaScript's `JSON.stringify` writes it, for every response
//! body: numbers follow ECMAScript's Number::toString (`1`, `100`,
//! `100000000000000000000`, `1e+21`, `0.000001`, `1e-7`), where serde_json
//! would write `1.0`, `1e20` or `1e-6`. JSON documents stored by the original
//! (`meeting.content`, `meetingTemplate.content`) therefore come back with the
//! numbers it wrote, wherever they were read from (Postgres or the cache).

use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter};
use serde_json::Value;
use std::io;

/// `JSON.stringify(value)`.
pub fn to_string(value: &Value) -> String {
    let mut out = Vec::with_capacity(128);
    write(&mut out, value);
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// Appends `JSON.stringify(value)` to `out`.
pub fn write(out: &mut Vec<u8>, value: &Value) {
    let mut serializer = serde_json::Serializer::with_formatter(out, JsNumbers);
    value
        .serialize(&mut serializer)
        .expect("serialising a Value into memory cannot fail");
}

/// Integers beyond ±2^53 are not exact in JavaScript; it prints the double.
const MAX_SAFE: u64 = 1 << 53;

/// serde_json's compact output with JavaScript's number text.
struct JsNumbers;

impl Formatter for JsNumbers {
    fn write_f64<W: ?Sized + io::Write>(&mut self, w: &mut W, value: f64) -> io::Result<()> {
        w.write_all(number_to_string(value).as_bytes())
    }

    fn write_f32<W: ?Sized + io::Write>(&mut self, w: &mut W, value: f32) -> io::Result<()> {
        self.write_f64(w, f64::from(value))
    }

    fn write_u64<W: ?Sized + io::Write>(&mut self, w: &mut W, value: u64) -> io::Result<()> {
        if value > MAX_SAFE {
            return self.write_f64(w, value as f64);
        }
        CompactFormatter.write_u64(w, value)
    }

    fn write_i64<W: ?Sized + io::Write>(&mut self, w: &mut W, value: i64) -> io::Result<()> {
        if value.unsigned_abs() > MAX_SAFE {
            return self.write_f64(w, value as f64);
        }
        CompactFormatter.write_i64(w, value)
    }
}

/// ECMAScript Number::toString(x) (radix 10) for a finite `x`; JSON has no
/// NaN or infinities, which JavaScript writes as `null`.
pub fn number_to_string(x: f64) -> String {
    if !x.is_finite() {
        return "null".into();
    }
    if x == 0.0 {
        return "0".into();
    }
    if x < 0.0 {
        return format!("-{}", number_to_string(-x));
    }
    // Rust prints the shortest digits that read back as `x`, as ECMAScript
    // requires: `d.ddd…e<exp>`. Split into digits s (k of them) and n, with
    // x = 0.s × 10^n.
    let sci = format!("{x:e}");
    let (mantissa, exp) = sci.split_once('e').expect("LowerExp has an exponent");
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let k = digits.len() as i32;
    let n = exp.parse::<i32>().expect("integer exponent") + 1;
    if k <= n && n <= 21 {
        format!("{digits}{}", "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 21 {
        format!("{}.{}", &digits[..n as usize], &digits[n as usize..])
    } else if -6 < n && n <= 0 {
        format!("0.{}{digits}", "0".repeat((-n) as usize))
    } else {
        let sign = if n - 1 < 0 { '-' } else { '+' };
        let e = (n - 1).abs();
        if k == 1 {
            format!("{digits}e{sign}{e}")
        } else {
            format!("{}.{}e{sign}{e}", &digits[..1], &digits[1..])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_print_as_javascript_prints_them() {
        for (x, js) in [
            (1.0, "1"),
            (100.0, "100"),
            (1e20, "100000000000000000000"),
            (1e21, "1e+21"),
            (1.5, "1.5"),
            (-0.5, "-0.5"),
            (-0.0, "0"),
            (0.1, "0.1"),
            (0.000001, "0.000001"),
            (1e-7, "1e-7"),
            (1.5e-7, "1.5e-7"),
            (123456789.125, "123456789.125"),
            (1.2345e25, "1.2345e+25"),
            (123456789012345680000.0, "123456789012345680000"),
            (f64::MAX, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
            (0.30000000000000004, "0.30000000000000004"),
        ] {
            assert_eq!(number_to_string(x), js, "{x:e}");
        }
    }

    #[test]
    fn documents_serialise_like_json_stringify() {
        let doc: Value =
            serde_json::from_str(r#"{"a":1.0,"b":[100,1e20,1e21,-2.50],"c":"x","d":null}"#)
                .unwrap();
        assert_eq!(
            to_string(&doc),
            r#"{"a":1,"b":[100,100000000000000000000,1e+21,-2.5],"c":"x","d":null}"#
        );
        assert_eq!(
            to_string(&json!(12345678901234567890_u64)),
            "12345678901234567000"
        );
        assert_eq!(
            to_string(&json!(-9007199254740993_i64)),
            "-9007199254740992"
        );
        assert_eq!(to_string(&json!(9007199254740992_u64)), "9007199254740992");
    }
}
