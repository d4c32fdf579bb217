//! Token minting for `enghub dev` and the tests: QStash `Upstash-Signature` tokens
//! ([`sign_qstash`]).
//!
//! These only *create* tokens with keys the caller holds; the verifiers in
//! [`crate::auth`] and [`crate::qstash`] are the same in dev and production.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::distributions::Alphanumeric;
use rand::Rng;
use serde::Serialize;
use sha2::Sha256;

/// Current signing key of the QStash dev server's default user (public, fixed).
pub const QSTASH_DEV_CURRENT_KEY: &str = "sig_7kYjw48mhY7kAjqNGcy6cr29RJ6r";
/// Next signing key of the QStash dev server's default user (public, fixed).
pub const QSTASH_DEV_NEXT_KEY: &str = "sig_5ZB6DVzB1wjE8S6rZ7eenA8Pdnhs";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ClaimOverride<T> {
    /// What QStash would send.
    #[default]
    Default,
    /// This value instead.
    Set(T),
    /// Leave the claim out.
    Omit,
}

impl<T> ClaimOverride<T> {
    fn resolve(self, default: impl FnOnce() -> T) -> Option<T> {
        match self {
            Self::Default => Some(default()),
            Self::Set(value) => Some(value),
            Self::Omit => None,
        }
    }
}

/// Deviations from a genuine QStash token, for tests of the receiver.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QStashOverrides {
    /// The `alg` written in the header (the MAC is HS256 regardless).
    pub alg: Option<String>,
    pub iss: ClaimOverride<String>,
    pub sub: ClaimOverride<String>,
    pub exp: ClaimOverride<u64>,
    pub nbf: ClaimOverride<u64>,
    pub iat: ClaimOverride<u64>,
    pub jti: ClaimOverride<String>,
    pub body: ClaimOverride<String>,
}

/// Claims in QStash's order: iss, sub, exp, nbf, iat, jti, body.
#[derive(Serialize)]
struct QStashClaims {
    #[serde(skip_serializing_if = "Option::is_none")]
    iss: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exp: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nbf: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    iat: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    jti: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<String>,
}

/// An `Upstash-Signature` value exactly as QStash makes it for a delivery of `body`
/// to `url` at `now`: header `{"alg":"HS256","typ":"JWT"}`, claims `iss` "Upstash",
/// `sub` url, `exp` now+300, `nbf` now, `iat` now, `jti` "jwt_" + random, `body`
/// base64url SHA-256 with `=` padding; HMAC-SHA256 keyed with the UTF-8 bytes of
/// `signing_key`. `overrides` changes or removes individual parts.
pub fn sign_qstash(
    signing_key: &str,
    url: &str,
    body: &[u8],
    now: u64,
    overrides: QStashOverrides,
) -> String {
    let alg = overrides.alg.unwrap_or_else(|| "HS256".into());
    let header = format!(
        r#"{{"alg":{},"typ":"JWT"}}"#,
        serde_json::Value::String(alg)
    );
    let claims = QStashClaims {
        iss: overrides.iss.resolve(|| "Upstash".into()),
        sub: overrides.sub.resolve(|| url.into()),
        exp: overrides.exp.resolve(|| now + 300),
        nbf: overrides.nbf.resolve(|| now),
        iat: overrides.iat.resolve(|| now),
        jti: overrides
            .jti
            .resolve(|| format!("jwt_{}", random_alphanumeric(24))),
        body: overrides.body.resolve(|| crate::qstash::body_hash(body)),
    };
    let claims = serde_json::to_string(&claims).expect("claims serialize");
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(signing_key.as_bytes())
        .expect("HMAC-SHA256 accepts keys of any length");
    mac.update(signing_input.as_bytes());
    let mac = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signing_input}.{mac}")
}

fn random_alphanumeric(len: usize) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::qstash::{Receiver, VerifiedMessage};

    const URL: &str = "https://example.com/api/webhook";
    const BODY: &[u8] = br#"{"hello":"world"}"#;

    #[test]
    fn sign_qstash_reproduces_the_protocol_test_vectors() {
        let fixed_jti = || QStashOverrides {
            jti: ClaimOverride::Set("jwt_test_vector_1".into()),
            ..Default::default()
        };
        assert_eq!(
            sign_qstash(QSTASH_DEV_CURRENT_KEY, URL, BODY, 1_700_000_000, fixed_jti()),
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJVcHN0YXNoIiwic3ViIjoiaHR0cHM6Ly9leGFtcGxlLmNvbS9hcGkvd2ViaG9vayIsImV4cCI6MTcwMDAwMDMwMCwibmJmIjoxNzAwMDAwMDAwLCJpYXQiOjE3MDAwMDAwMDAsImp0aSI6Imp3dF90ZXN0X3ZlY3Rvcl8xIiwiYm9keSI6Ims2STVjYWtVNWVyTDhLalNVVlROb3duRHdjY3Z1NWtVMUh4Zzg4dG9GWWc9In0.QoInkGtwU7hBcyxLRHnK1tjR72_50ADPanhxBSm2w0s"
        );
        assert_eq!(
            sign_qstash(QSTASH_DEV_NEXT_KEY, URL, BODY, 1_700_000_000, fixed_jti()),
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJVcHN0YXNoIiwic3ViIjoiaHR0cHM6Ly9leGFtcGxlLmNvbS9hcGkvd2ViaG9vayIsImV4cCI6MTcwMDAwMDMwMCwibmJmIjoxNzAwMDAwMDAwLCJpYXQiOjE3MDAwMDAwMDAsImp0aSI6Imp3dF90ZXN0X3ZlY3Rvcl8xIiwiYm9keSI6Ims2STVjYWtVNWVyTDhLalNVVlROb3duRHdjY3Z1NWtVMUh4Zzg4dG9GWWc9In0.lSgv9iHZTO8VTe13eLnq0mylR9stFDJ0M0LGErqUDeU"
        );
    }

    #[test]
    fn sign_qstash_token_has_the_qstash_structure() {
        let token = sign_qstash(
            QSTASH_DEV_CURRENT_KEY,
            URL,
            BODY,
            1_700_000_000,
            QStashOverrides::default(),
        );
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header = URL_SAFE_NO_PAD.decode(parts[0]).unwrap();
        assert_eq!(header, br#"{"alg":"HS256","typ":"JWT"}"#);
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        let keys: Vec<&str> = claims
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut expected_keys = vec!["iss", "sub", "exp", "nbf", "iat", "jti", "body"];
        expected_keys.sort_unstable(); // serde_json::Map is sorted without preserve_order
        assert_eq!(keys, expected_keys);
        assert_eq!(claims["iss"], "Upstash");
        assert_eq!(claims["sub"], URL);
        assert_eq!(claims["exp"], 1_700_000_300);
        assert_eq!(claims["nbf"], 1_700_000_000);
        assert_eq!(claims["iat"], 1_700_000_000);
        assert_eq!(
            claims["body"],
            "k6I5cakU5erL8KjSUVTNownDwccvu5kU1Hxg88toFYg="
        );
        let jti = claims["jti"].as_str().unwrap();
        assert!(jti.starts_with("jwt_") && jti.len() > 4, "{jti}");
    }

    #[test]
    fn sign_qstash_token_verifies_with_the_receiver() {
        let receiver = Receiver::new(QSTASH_DEV_CURRENT_KEY, QSTASH_DEV_NEXT_KEY);
        let now = 1_750_000_000;
        let token = sign_qstash(
            QSTASH_DEV_CURRENT_KEY,
            URL,
            BODY,
            now,
            QStashOverrides::default(),
        );
        let message = receiver.verify(Some(&token), BODY, URL, now).unwrap();
        assert_eq!(message.sub, URL);
        assert_eq!(message.exp, Some(now + 300));
        assert!(message.jti.unwrap().starts_with("jwt_"));
    }

    #[test]
    fn sign_qstash_gives_each_token_its_own_jti() {
        let sign = || sign_qstash(QSTASH_DEV_CURRENT_KEY, URL, BODY, 0, Default::default());
        assert_ne!(sign(), sign());
    }

    #[test]
    fn verified_message_from_an_omitted_jti_is_none() {
        let receiver = Receiver::new(QSTASH_DEV_CURRENT_KEY, QSTASH_DEV_NEXT_KEY);
        let token = sign_qstash(
            QSTASH_DEV_NEXT_KEY,
            URL,
            b"",
            1_700_000_000,
            QStashOverrides {
                jti: ClaimOverride::Omit,
                ..Default::default()
            },
        );
        assert_eq!(
            receiver.verify(Some(&token), b"", URL, 1_700_000_000),
            Ok(VerifiedMessage {
                jti: None,
                exp: Some(1_700_000_300),
                sub: URL.into()
            })
        );
    }
}
