//! QStash webhook signatures: the [`Receiver`] that checks the `Upstash-Signature`
//! header of a delivery against the raw request body, and [`expected_url`], the URL
//! QStash must have signed for. Publishing and schedules: [`publisher`].
//!
//! # What is verified, in order
//!
//! 1. The header is present ([`SignatureError::MissingHeader`]) and is a compact JWS
//!    whose three parts decode ([`SignatureError::Malformed`]).
//! 2. The JOSE header says `"alg":"HS256"`. QStash only ever signs with HS256, so
//!    every other algorithm (`none`, `HS384`, `HS512`, `RS256`, ...) is rejected as
//!    [`SignatureError::InvalidSignature`]; the TypeScript receiver accepted any `HS*`.
//! 3. The HMAC-SHA256 of `header.payload` matches under the **current** signing key,
//!    else under the **next** one (key rotation). The MAC comparison is constant-time
//!    (`hmac`'s `verify_slice`). An empty key is never tried. Neither key matches →
//!    [`SignatureError::InvalidSignature`].
//! 4. Only then are the claims read, and each failure is reported precisely (the TS
//!    receiver re-ran every check with the next key and surfaced that key's error, so an
//!    expired token signed with the current key said "signature verification failed"):
//!    `iss` is exactly `"Upstash"`; `sub` equals the expected URL byte for byte; `exp`
//!    and `nbf` are present (as the Python SDK requires) and valid within
//!    [`CLOCK_TOLERANCE_SECS`]; the `body` claim is the base64url SHA-256 of the raw
//!    body bytes.
//!
//! Nothing in this module parses the body: callers verify first and parse after.
//! Replay protection is the caller's: the `jti` (and `exp`) are returned, and the
//! cron function remembers each `jti` in Redis until the token expires, refusing a
//! second delivery of the same token (the original had none).
//! Error messages never contain the token.

pub mod publisher;

pub use publisher::{BatchMessage, NewSchedule, Published, Publisher, QStashError};

use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// Clock skew tolerated on `exp` and `nbf`, in seconds.
///
/// With `now` the verifier's clock in unix seconds:
/// * expired iff `exp <= now - 5`, i.e. a token stays valid up to and including
///   `now = exp + 4` and is rejected from `now = exp + 5`;
/// * not yet valid iff `nbf > now + 5`, i.e. accepted from `now = nbf - 5`.
///
/// Small on purpose: QStash signs each delivery attempt just before sending it, with
/// a five-minute lifetime, so only genuine clock drift needs absorbing.
pub const CLOCK_TOLERANCE_SECS: u64 = 5;

/// The only issuer QStash uses.
const ISSUER: &str = "Upstash";

/// Far larger than any real header (QStash tokens are ~600 bytes); bounds the work
/// an unauthenticated caller can make us do.
const MAX_TOKEN_LEN: usize = 16 * 1024;

type HmacSha256 = Hmac<Sha256>;

/// Why a delivery's signature was rejected. `Display` is a short reason that is safe
/// to log; it never contains the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No (or an empty) `Upstash-Signature` header.
    #[error("missing Upstash-Signature header")]
    MissingHeader,
    /// Not a compact JWS, undecodable parts, or a required claim (`sub`, `exp`, `nbf`,
    /// `body`) missing or of the wrong type.
    #[error("malformed signature token")]
    Malformed,
    /// Not HS256, or the MAC matches neither signing key.
    #[error("signature verification failed")]
    InvalidSignature,
    /// `iss` missing or not exactly `"Upstash"`.
    #[error("unexpected issuer, want \"Upstash\"")]
    WrongIssuer,
    /// `sub` is not the URL this request was delivered to.
    #[error("invalid subject: {got}, want: {want}")]
    WrongSubject { got: String, want: String },
    /// `exp <= now - CLOCK_TOLERANCE_SECS`.
    #[error("token expired")]
    Expired,
    /// `nbf > now + CLOCK_TOLERANCE_SECS`.
    #[error("token not yet valid")]
    NotYetValid,
    /// The `body` claim is not the base64url SHA-256 of the received body.
    #[error("body hash does not match")]
    BodyMismatch,
}

/// The claims of a delivery whose signature and claims all checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedMessage {
    /// QStash's unique token id (`jwt_...`), if present.
    pub jti: Option<String>,
    /// Expiry in unix seconds (the claim is required).
    pub exp: u64,
    /// The destination URL QStash signed for (equal to the expected URL).
    pub sub: String,
}

/// Verifies QStash signatures with the current and next signing keys.
///
/// ```
/// use enghub::qstash::{Receiver, SignatureError};
///
/// let receiver = Receiver::new("sig_current", "sig_next");
/// let err = receiver.verify(None, b"{}", "https://hub.example.com/api/cron/github-sync", 0);
/// assert_eq!(err.unwrap_err(), SignatureError::MissingHeader);
/// ```
#[derive(Clone)]
pub struct Receiver {
    /// Current key first, then next; empty keys are left out so that nothing ever
    /// verifies under a key an attacker can guess.
    keys: Vec<Vec<u8>>,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("keys", &format_args!("[{} redacted]", self.keys.len()))
            .finish()
    }
}

impl Receiver {
    /// `current_signing_key` / `next_signing_key` are the `sig_...` strings of
    /// `QSTASH_CURRENT_SIGNING_KEY` / `QSTASH_NEXT_SIGNING_KEY`; the HMAC key is their
    /// UTF-8 bytes (not base64-decoded). Surrounding whitespace is ignored.
    pub fn new(current_signing_key: &str, next_signing_key: &str) -> Self {
        let keys = [current_signing_key, next_signing_key]
            .into_iter()
            .map(str::trim)
            .filter(|key| !key.is_empty())
            .map(|key| key.as_bytes().to_vec())
            .collect();
        Self { keys }
    }

    /// Verifies the `Upstash-Signature` header value against the raw body bytes,
    /// before anything parses the body. `expected_url` is what [`expected_url`]
    /// returns for the request; `now_unix_secs` is the current time.
    pub fn verify(
        &self,
        signature: Option<&str>,
        body: &[u8],
        expected_url: &str,
        now_unix_secs: u64,
    ) -> Result<VerifiedMessage, SignatureError> {
        let token = signature
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(SignatureError::MissingHeader)?;
        let claims = self.authenticate(token)?;
        claims.check(body, expected_url, now_unix_secs)
    }

    /// Steps 1–3: structure, algorithm and MAC. Returns the still unchecked claims.
    fn authenticate(&self, token: &str) -> Result<Claims, SignatureError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(SignatureError::Malformed);
        }
        let mut parts = token.split('.');
        let (Some(header_b64), Some(payload_b64), Some(mac_b64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(SignatureError::Malformed);
        };
        let header: Header = decode_json(header_b64)?;
        let mac = URL_SAFE_NO_PAD
            .decode(mac_b64)
            .map_err(|_| SignatureError::Malformed)?;
        let payload = URL_SAFE_NO_PAD
            .decode(payload_b64)
            .map_err(|_| SignatureError::Malformed)?;
        if header.crit.is_some() {
            // RFC 7515 §4.1.11: extensions we do not understand must not be ignored.
            return Err(SignatureError::Malformed);
        }
        if header.alg != "HS256" {
            return Err(SignatureError::InvalidSignature);
        }

        let signing_input = &token[..header_b64.len() + 1 + payload_b64.len()];
        let verified = self.keys.iter().any(|key| {
            let mut hmac =
                HmacSha256::new_from_slice(key).expect("HMAC-SHA256 accepts keys of any length");
            hmac.update(signing_input.as_bytes());
            hmac.verify_slice(&mac).is_ok()
        });
        if !verified {
            return Err(SignatureError::InvalidSignature);
        }
        serde_json::from_slice(&payload).map_err(|_| SignatureError::Malformed)
    }
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    crit: Option<serde_json::Value>,
}

/// The claims QStash puts in a signature; typed so that a wrong type is `Malformed`.
#[derive(Deserialize)]
struct Claims {
    iss: Option<String>,
    sub: Option<String>,
    exp: Option<u64>,
    nbf: Option<u64>,
    #[allow(dead_code)] // parsed only so that a non-numeric `iat` is rejected
    iat: Option<u64>,
    jti: Option<String>,
    body: Option<String>,
}

impl Claims {
    /// Step 4: the claims of an authenticated token, each failure reported exactly.
    fn check(
        self,
        body: &[u8],
        expected_url: &str,
        now: u64,
    ) -> Result<VerifiedMessage, SignatureError> {
        if self.iss.as_deref() != Some(ISSUER) {
            return Err(SignatureError::WrongIssuer);
        }
        let sub = self.sub.ok_or(SignatureError::Malformed)?;
        if sub != expected_url {
            return Err(SignatureError::WrongSubject {
                got: sub,
                want: expected_url.to_owned(),
            });
        }
        let exp = self.exp.ok_or(SignatureError::Malformed)?;
        if exp.saturating_add(CLOCK_TOLERANCE_SECS) <= now {
            return Err(SignatureError::Expired);
        }
        let nbf = self.nbf.ok_or(SignatureError::Malformed)?;
        if nbf > now.saturating_add(CLOCK_TOLERANCE_SECS) {
            return Err(SignatureError::NotYetValid);
        }
        let claimed = self.body.ok_or(SignatureError::Malformed)?;
        if claimed.trim_end_matches('=') != body_hash_unpadded(body) {
            return Err(SignatureError::BodyMismatch);
        }
        Ok(VerifiedMessage {
            jti: self.jti,
            exp,
            sub,
        })
    }
}

fn decode_json<T: serde::de::DeserializeOwned>(part: &str) -> Result<T, SignatureError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| SignatureError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| SignatureError::Malformed)
}

/// base64url (no padding) of SHA-256 of the raw body, as the receiver compares it.
fn body_hash_unpadded(body: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(body))
}

/// base64url of SHA-256 of the raw body **with** `=` padding, the form QStash puts in
/// the `body` claim.
pub fn body_hash(body: &[u8]) -> String {
    URL_SAFE.encode(Sha256::digest(body))
}

/// The URL QStash called, for the `sub` check.
///
/// * `public_url` (`ENGHUB_PUBLIC_URL`, trailing `/` ignored) + `path_and_query`
///   when set. Prefer this in production: it does not trust request headers.
/// * Else `<proto>://<host><path_and_query>` with `proto` from `X-Forwarded-Proto`
///   (default `https`) and `host` from `X-Forwarded-Host`, else `Host` (for
///   comma-separated proxy chains the first value is used). Vercel sets both
///   forwarded headers itself. With no host at all the result cannot match any
///   signed `sub`, so verification fails closed.
///
/// `path_and_query` is the request target exactly as received (QStash signs the
/// destination URL verbatim, query string included).
pub fn expected_url(
    public_url: Option<&str>,
    headers: &http::HeaderMap,
    path_and_query: &str,
) -> String {
    if let Some(base) = public_url.map(str::trim).filter(|u| !u.is_empty()) {
        return format!("{}{path_and_query}", base.trim_end_matches('/'));
    }
    let proto = first_header_value(headers, "x-forwarded-proto").unwrap_or("https");
    let host = first_header_value(headers, "x-forwarded-host")
        .or_else(|| first_header_value(headers, http::header::HOST.as_str()))
        .unwrap_or("");
    format!("{proto}://{host}{path_and_query}")
}

/// First comma-separated element of a header, trimmed; `None` when absent or empty.
fn first_header_value<'a>(headers: &'a http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)?
        .to_str()
        .ok()?
        .split(',')
        .next()
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dev::tokens::{
        sign_qstash, ClaimOverride, QStashOverrides, QSTASH_DEV_CURRENT_KEY, QSTASH_DEV_NEXT_KEY,
    };
    use http::{HeaderMap, HeaderValue};

    // Test vectors of spec/protocols.md C.1.
    const URL: &str = "https://example.com/api/webhook";
    const BODY: &[u8] = br#"{"hello":"world"}"#;
    const SIGNED_WITH_CURRENT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJVcHN0YXNoIiwic3ViIjoiaHR0cHM6Ly9leGFtcGxlLmNvbS9hcGkvd2ViaG9vayIsImV4cCI6MTcwMDAwMDMwMCwibmJmIjoxNzAwMDAwMDAwLCJpYXQiOjE3MDAwMDAwMDAsImp0aSI6Imp3dF90ZXN0X3ZlY3Rvcl8xIiwiYm9keSI6Ims2STVjYWtVNWVyTDhLalNVVlROb3duRHdjY3Z1NWtVMUh4Zzg4dG9GWWc9In0.QoInkGtwU7hBcyxLRHnK1tjR72_50ADPanhxBSm2w0s";
    const SIGNED_WITH_NEXT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJVcHN0YXNoIiwic3ViIjoiaHR0cHM6Ly9leGFtcGxlLmNvbS9hcGkvd2ViaG9vayIsImV4cCI6MTcwMDAwMDMwMCwibmJmIjoxNzAwMDAwMDAwLCJpYXQiOjE3MDAwMDAwMDAsImp0aSI6Imp3dF90ZXN0X3ZlY3Rvcl8xIiwiYm9keSI6Ims2STVjYWtVNWVyTDhLalNVVlROb3duRHdjY3Z1NWtVMUh4Zzg4dG9GWWc9In0.lSgv9iHZTO8VTe13eLnq0mylR9stFDJ0M0LGErqUDeU";
    const IAT: u64 = 1_700_000_000;
    const EXP: u64 = 1_700_000_300;
    const NOW: u64 = 1_700_000_100;

    fn receiver() -> Receiver {
        Receiver::new(QSTASH_DEV_CURRENT_KEY, QSTASH_DEV_NEXT_KEY)
    }

    fn verify_vector(token: &str, now: u64) -> Result<VerifiedMessage, SignatureError> {
        receiver().verify(Some(token), BODY, URL, now)
    }

    /// A token for `URL`/`BODY` issued at `IAT`, signed with the current dev key.
    fn token_with(overrides: QStashOverrides) -> String {
        sign_qstash(QSTASH_DEV_CURRENT_KEY, URL, BODY, IAT, overrides)
    }

    #[test]
    fn test_vector_signed_with_current_key_is_accepted() {
        let message = verify_vector(SIGNED_WITH_CURRENT, NOW).unwrap();
        assert_eq!(
            message,
            VerifiedMessage {
                jti: Some("jwt_test_vector_1".into()),
                exp: EXP,
                sub: URL.into(),
            }
        );
    }

    #[test]
    fn test_vector_signed_with_next_key_is_accepted() {
        assert!(verify_vector(SIGNED_WITH_NEXT, NOW).is_ok());
    }

    #[test]
    fn token_signed_by_next_key_is_accepted_when_current_key_is_unrelated() {
        let receiver = Receiver::new("sig_unrelatedCurrentKey", QSTASH_DEV_NEXT_KEY);
        assert!(receiver
            .verify(Some(SIGNED_WITH_NEXT), BODY, URL, NOW)
            .is_ok());
    }

    #[test]
    fn token_signed_by_current_key_is_accepted_when_next_key_is_unrelated() {
        let receiver = Receiver::new(QSTASH_DEV_CURRENT_KEY, "sig_unrelatedNextKey");
        assert!(receiver
            .verify(Some(SIGNED_WITH_CURRENT), BODY, URL, NOW)
            .is_ok());
    }

    #[test]
    fn token_signed_with_an_unrelated_key_is_rejected() {
        let token = sign_qstash(
            "sig_someoneElsesKey",
            URL,
            BODY,
            IAT,
            QStashOverrides::default(),
        );
        assert_eq!(
            verify_vector(&token, NOW),
            Err(SignatureError::InvalidSignature)
        );
    }

    #[test]
    fn empty_signing_keys_are_never_used() {
        let token = sign_qstash("", URL, BODY, IAT, QStashOverrides::default());
        let receiver = Receiver::new("", "  ");
        assert_eq!(
            receiver.verify(Some(&token), BODY, URL, NOW),
            Err(SignatureError::InvalidSignature)
        );
    }

    #[test]
    fn signing_keys_are_trimmed() {
        let receiver = Receiver::new(&format!(" {QSTASH_DEV_CURRENT_KEY}\n"), "");
        assert!(receiver
            .verify(Some(SIGNED_WITH_CURRENT), BODY, URL, NOW)
            .is_ok());
    }

    /// The C.1 table, under our semantics (tolerance 5 s, not the TS default 0).
    #[test]
    fn expiry_boundary_is_exp_plus_tolerance() {
        for token in [SIGNED_WITH_CURRENT, SIGNED_WITH_NEXT] {
            assert!(verify_vector(token, EXP - 1).is_ok());
            // TS (tolerance 0) rejects at now = exp; we tolerate 5 s of skew.
            assert!(verify_vector(token, EXP).is_ok());
            assert!(verify_vector(token, EXP + CLOCK_TOLERANCE_SECS - 1).is_ok());
            assert_eq!(
                verify_vector(token, EXP + CLOCK_TOLERANCE_SECS),
                Err(SignatureError::Expired)
            );
            assert_eq!(
                verify_vector(token, EXP + 3600),
                Err(SignatureError::Expired)
            );
        }
    }

    #[test]
    fn not_before_boundary_is_nbf_minus_tolerance() {
        for token in [SIGNED_WITH_CURRENT, SIGNED_WITH_NEXT] {
            assert!(verify_vector(token, IAT).is_ok());
            // TS (tolerance 0) rejects at now = nbf - 1; we tolerate 5 s of skew.
            assert!(verify_vector(token, IAT - 1).is_ok());
            assert!(verify_vector(token, IAT - CLOCK_TOLERANCE_SECS).is_ok());
            assert_eq!(
                verify_vector(token, IAT - CLOCK_TOLERANCE_SECS - 1),
                Err(SignatureError::NotYetValid)
            );
        }
    }

    #[test]
    fn body_with_an_extra_byte_is_rejected() {
        let body = br#"{"hello":"world"}
"#;
        assert_eq!(
            receiver().verify(Some(SIGNED_WITH_CURRENT), body, URL, NOW),
            Err(SignatureError::BodyMismatch)
        );
    }

    #[test]
    fn subject_must_match_the_expected_url_exactly() {
        let want = format!("{URL}/");
        assert_eq!(
            receiver().verify(Some(SIGNED_WITH_CURRENT), BODY, &want, NOW),
            Err(SignatureError::WrongSubject {
                got: URL.into(),
                want: want.clone(),
            })
        );
        let err = receiver()
            .verify(Some(SIGNED_WITH_CURRENT), BODY, &want, NOW)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid subject: https://example.com/api/webhook, want: https://example.com/api/webhook/"
        );
    }

    #[test]
    fn body_hash_vectors() {
        assert_eq!(
            body_hash(BODY),
            "k6I5cakU5erL8KjSUVTNownDwccvu5kU1Hxg88toFYg="
        );
        assert_eq!(
            body_hash(b""),
            "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU="
        );
        assert_eq!(
            body_hash(br#"{"n":1}"#),
            "K_0U9D0X_HzqJOCReoh5tLL4gLi67sG52Q-6rWVecb0="
        );
        assert_eq!(
            body_hash_unpadded(format!("{}\n", std::str::from_utf8(BODY).unwrap()).as_bytes()),
            "akfDG3t8O5odvJYGafRnTOCIyPydmk9-n8w_aoH3uGw"
        );
    }

    #[test]
    fn padded_and_unpadded_body_claims_are_both_accepted() {
        for body in [br#"{"n":1}"#.as_slice(), b"", BODY] {
            let padded = body_hash(body);
            let unpadded = padded.trim_end_matches('=').to_owned();
            assert_ne!(padded, unpadded);
            for claim in [padded, unpadded] {
                let token = sign_qstash(
                    QSTASH_DEV_CURRENT_KEY,
                    URL,
                    body,
                    IAT,
                    QStashOverrides {
                        body: ClaimOverride::Set(claim),
                        ..Default::default()
                    },
                );
                assert!(receiver().verify(Some(&token), body, URL, NOW).is_ok());
            }
        }
    }

    #[test]
    fn standard_base64_body_claim_is_rejected() {
        let body = br#"{"n":1}"#;
        let token = sign_qstash(
            QSTASH_DEV_CURRENT_KEY,
            URL,
            body,
            IAT,
            QStashOverrides {
                body: ClaimOverride::Set("K/0U9D0X/HzqJOCReoh5tLL4gLi67sG52Q+6rWVecb0=".into()),
                ..Default::default()
            },
        );
        assert_eq!(
            receiver().verify(Some(&token), body, URL, NOW),
            Err(SignatureError::BodyMismatch)
        );
    }

    #[test]
    fn body_claim_of_another_body_is_rejected() {
        let token = token_with(QStashOverrides {
            body: ClaimOverride::Set(body_hash(b"something else")),
            ..Default::default()
        });
        assert_eq!(
            verify_vector(&token, NOW),
            Err(SignatureError::BodyMismatch)
        );
    }

    #[test]
    fn missing_or_empty_header_is_reported_as_missing() {
        for header in [None, Some(""), Some("   ")] {
            assert_eq!(
                receiver().verify(header, BODY, URL, NOW),
                Err(SignatureError::MissingHeader)
            );
        }
    }

    #[test]
    fn tokens_that_are_not_compact_jws_are_malformed() {
        let [header, payload, mac]: [&str; 3] = SIGNED_WITH_CURRENT
            .split('.')
            .collect::<Vec<_>>()
            .try_into()
            .unwrap();
        let long = "a".repeat(MAX_TOKEN_LEN + 1);
        let cases = [
            "not-a-jwt".to_owned(),
            format!("{header}.{payload}"),
            format!("{header}.{payload}.{mac}.extra"),
            format!("!!!.{payload}.{mac}"),
            format!("{header}.{payload}.{mac}=="),
            format!("{header}.{payload}.{mac}%"),
            format!("{}.{payload}.{mac}", URL_SAFE_NO_PAD.encode("not json")),
            format!(
                "{}.{payload}.{mac}",
                URL_SAFE_NO_PAD.encode(r#"{"typ":"JWT"}"#)
            ),
            long,
        ];
        for token in cases {
            assert_eq!(
                verify_vector(&token, NOW),
                Err(SignatureError::Malformed),
                "{token}"
            );
        }
    }

    #[test]
    fn algorithms_other_than_hs256_are_rejected_even_when_the_mac_verifies() {
        for alg in ["none", "HS384", "HS512", "RS256", "hs256"] {
            let token = token_with(QStashOverrides {
                alg: Some(alg.into()),
                ..Default::default()
            });
            assert_eq!(
                verify_vector(&token, NOW),
                Err(SignatureError::InvalidSignature),
                "{alg}"
            );
        }
    }

    #[test]
    fn unsigned_token_is_rejected() {
        let [header, payload, _]: [&str; 3] = SIGNED_WITH_CURRENT
            .split('.')
            .collect::<Vec<_>>()
            .try_into()
            .unwrap();
        let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        for token in [
            format!("{none_header}.{payload}."),
            format!("{header}.{payload}."),
        ] {
            assert_eq!(
                verify_vector(&token, NOW),
                Err(SignatureError::InvalidSignature)
            );
        }
    }

    #[test]
    fn tampered_payload_is_rejected() {
        let [header, _, mac]: [&str; 3] = SIGNED_WITH_CURRENT
            .split('.')
            .collect::<Vec<_>>()
            .try_into()
            .unwrap();
        let forged = token_with(QStashOverrides {
            exp: ClaimOverride::Set(EXP + 86_400),
            ..Default::default()
        });
        let forged_payload = forged.split('.').nth(1).unwrap();
        let token = format!("{header}.{forged_payload}.{mac}");
        assert_eq!(
            verify_vector(&token, NOW),
            Err(SignatureError::InvalidSignature)
        );
    }

    #[test]
    fn critical_header_extensions_are_rejected() {
        let [_, payload, mac]: [&str; 3] = SIGNED_WITH_CURRENT
            .split('.')
            .collect::<Vec<_>>()
            .try_into()
            .unwrap();
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","crit":["b64"]}"#);
        assert_eq!(
            verify_vector(&format!("{header}.{payload}.{mac}"), NOW),
            Err(SignatureError::Malformed)
        );
    }

    #[test]
    fn issuer_must_be_exactly_upstash() {
        for iss in [
            ClaimOverride::Omit,
            ClaimOverride::Set("upstash".into()),
            ClaimOverride::Set("Upstash ".into()),
            ClaimOverride::Set("Someone".into()),
        ] {
            let token = token_with(QStashOverrides {
                iss,
                ..Default::default()
            });
            assert_eq!(verify_vector(&token, NOW), Err(SignatureError::WrongIssuer));
        }
    }

    #[test]
    fn subject_for_another_url_is_rejected() {
        let token = token_with(QStashOverrides {
            sub: ClaimOverride::Set("https://example.com/api/other".into()),
            ..Default::default()
        });
        assert_eq!(
            verify_vector(&token, NOW),
            Err(SignatureError::WrongSubject {
                got: "https://example.com/api/other".into(),
                want: URL.into(),
            })
        );
    }

    #[test]
    fn missing_required_claims_are_malformed() {
        let cases = [
            QStashOverrides {
                sub: ClaimOverride::Omit,
                ..Default::default()
            },
            QStashOverrides {
                exp: ClaimOverride::Omit,
                ..Default::default()
            },
            QStashOverrides {
                nbf: ClaimOverride::Omit,
                ..Default::default()
            },
            QStashOverrides {
                body: ClaimOverride::Omit,
                ..Default::default()
            },
        ];
        for overrides in cases {
            let token = token_with(overrides.clone());
            assert_eq!(
                verify_vector(&token, NOW),
                Err(SignatureError::Malformed),
                "{overrides:?}"
            );
        }
    }

    #[test]
    fn optional_claims_may_be_omitted() {
        let token = token_with(QStashOverrides {
            iat: ClaimOverride::Omit,
            jti: ClaimOverride::Omit,
            ..Default::default()
        });
        let message = verify_vector(&token, NOW).unwrap();
        assert_eq!(message.jti, None);
    }

    #[test]
    fn claims_of_the_wrong_type_are_malformed() {
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(format!(
            r#"{{"iss":"Upstash","sub":"{URL}","exp":"{EXP}","nbf":{IAT},"body":"{}"}}"#,
            body_hash(BODY)
        ));
        let signing_input = format!("{header}.{payload}");
        let mut hmac = HmacSha256::new_from_slice(QSTASH_DEV_CURRENT_KEY.as_bytes()).unwrap();
        hmac.update(signing_input.as_bytes());
        let mac = URL_SAFE_NO_PAD.encode(hmac.finalize().into_bytes());
        assert_eq!(
            verify_vector(&format!("{signing_input}.{mac}"), NOW),
            Err(SignatureError::Malformed)
        );
    }

    #[test]
    fn expired_is_reported_for_a_token_signed_with_either_key() {
        for key in [QSTASH_DEV_CURRENT_KEY, QSTASH_DEV_NEXT_KEY] {
            let token = sign_qstash(key, URL, BODY, IAT, QStashOverrides::default());
            assert_eq!(
                verify_vector(&token, IAT + 300 + CLOCK_TOLERANCE_SECS),
                Err(SignatureError::Expired)
            );
        }
    }

    #[test]
    fn not_yet_valid_is_reported_for_a_future_nbf() {
        let token = token_with(QStashOverrides {
            nbf: ClaimOverride::Set(NOW + CLOCK_TOLERANCE_SECS + 1),
            ..Default::default()
        });
        assert_eq!(verify_vector(&token, NOW), Err(SignatureError::NotYetValid));
    }

    #[test]
    fn error_messages_are_short_and_never_contain_the_token() {
        let errors = [
            SignatureError::MissingHeader,
            SignatureError::Malformed,
            SignatureError::InvalidSignature,
            SignatureError::WrongIssuer,
            SignatureError::Expired,
            SignatureError::NotYetValid,
            SignatureError::BodyMismatch,
        ];
        let expected = [
            "missing Upstash-Signature header",
            "malformed signature token",
            "signature verification failed",
            "unexpected issuer, want \"Upstash\"",
            "token expired",
            "token not yet valid",
            "body hash does not match",
        ];
        for (error, message) in errors.iter().zip(expected) {
            assert_eq!(error.to_string(), message);
        }
        let err = verify_vector(SIGNED_WITH_CURRENT, EXP + 60).unwrap_err();
        assert!(!err.to_string().contains(SIGNED_WITH_CURRENT));
        assert!(!format!("{err:?}").contains(SIGNED_WITH_CURRENT));
    }

    #[test]
    fn receiver_debug_does_not_show_keys() {
        let debug = format!("{:?}", receiver());
        assert!(!debug.contains(QSTASH_DEV_CURRENT_KEY));
        assert!(!debug.contains(QSTASH_DEV_NEXT_KEY));
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    const PATH: &str = "/api/cron/github-sync?x=1";

    #[test]
    fn expected_url_prefers_the_configured_public_url() {
        let h = headers(&[
            ("host", "internal:3000"),
            ("x-forwarded-host", "evil.example"),
        ]);
        assert_eq!(
            expected_url(Some("https://hub.example.com"), &h, PATH),
            "https://hub.example.com/api/cron/github-sync?x=1"
        );
        assert_eq!(
            expected_url(Some("https://hub.example.com/"), &h, PATH),
            "https://hub.example.com/api/cron/github-sync?x=1"
        );
    }

    #[test]
    fn expected_url_uses_forwarded_proto_and_host() {
        let h = headers(&[
            ("host", "internal:3000"),
            ("x-forwarded-host", "hub.example.com"),
            ("x-forwarded-proto", "http"),
        ]);
        assert_eq!(
            expected_url(None, &h, PATH),
            "http://hub.example.com/api/cron/github-sync?x=1"
        );
    }

    #[test]
    fn expected_url_defaults_to_https_and_the_forwarded_host() {
        let h = headers(&[
            ("host", "internal:3000"),
            ("x-forwarded-host", "hub.example.com"),
        ]);
        assert_eq!(
            expected_url(None, &h, PATH),
            "https://hub.example.com/api/cron/github-sync?x=1"
        );
    }

    #[test]
    fn expected_url_falls_back_to_the_host_header() {
        let h = headers(&[("host", "localhost:3000"), ("x-forwarded-proto", "http")]);
        assert_eq!(
            expected_url(None, &h, PATH),
            "http://localhost:3000/api/cron/github-sync?x=1"
        );
        let h = headers(&[("host", "hub.example.com")]);
        assert_eq!(
            expected_url(None, &h, "/api/cron/github-sync"),
            "https://hub.example.com/api/cron/github-sync"
        );
    }

    #[test]
    fn expected_url_takes_the_first_of_a_forwarded_chain() {
        let h = headers(&[
            ("x-forwarded-host", "hub.example.com, proxy.internal"),
            ("x-forwarded-proto", "https, http"),
        ]);
        assert_eq!(
            expected_url(None, &h, PATH),
            "https://hub.example.com/api/cron/github-sync?x=1"
        );
    }

    #[test]
    fn expected_url_ignores_an_empty_public_url_and_empty_headers() {
        let h = headers(&[("x-forwarded-host", ""), ("host", "hub.example.com")]);
        assert_eq!(
            expected_url(Some(""), &h, PATH),
            "https://hub.example.com/api/cron/github-sync?x=1"
        );
    }

    #[test]
    fn expected_url_without_any_host_matches_no_signed_subject() {
        let url = expected_url(None, &HeaderMap::new(), PATH);
        assert_eq!(url, "https:///api/cron/github-sync?x=1");
    }

    #[test]
    fn expected_url_of_a_request_verifies_the_token_signed_for_it() {
        let h = headers(&[("x-forwarded-host", "example.com"), ("host", "internal")]);
        let url = expected_url(None, &h, "/api/webhook");
        assert_eq!(url, URL);
        assert!(receiver()
            .verify(Some(SIGNED_WITH_CURRENT), BODY, &url, NOW)
            .is_ok());
    }
}
