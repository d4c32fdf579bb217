//! Token minting for `enghub dev` and the tests: Clerk-style RS256 session tokens
//! ([`DevClerkKeys`]) and QStash `Upstash-Signature` tokens ([`sign_qstash`]).
//!
//! These only *create* tokens with keys the caller holds; the verifiers in
//! [`crate::auth`] and [`crate::qstash`] are the same in dev and production.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use jwt_simple::prelude::{Claims, RS256KeyPair, RSAKeyPairLike, UnixTimeStamp};
use rand::distributions::Alphanumeric;
use rand::Rng;
use serde::Serialize;
use sha2::Sha256;

/// Current signing key of the QStash dev server's default user (public, fixed).
pub const QSTASH_DEV_CURRENT_KEY: &str = "sig_7kYjw48mhY7kAjqNGcy6cr29RJ6r";
/// Next signing key of the QStash dev server's default user (public, fixed).
pub const QSTASH_DEV_NEXT_KEY: &str = "sig_5ZB6DVzB1wjE8S6rZ7eenA8Pdnhs";

/// An RSA key pair that plays the role of a Clerk instance's signing key.
pub struct DevClerkKeys {
    key_pair: RS256KeyPair,
}

impl std::fmt::Debug for DevClerkKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DevClerkKeys { .. }")
    }
}

/// The PEM given to [`DevClerkKeys::from_private_pem`] is not an RSA private key.
#[derive(Debug, thiserror::Error)]
#[error("not a PEM-encoded RSA private key")]
pub struct InvalidPrivateKey;

impl DevClerkKeys {
    /// A fresh RSA-2048 key pair. Slow in debug builds (seconds): generate once and reuse.
    pub fn generate() -> Self {
        let key_pair = RS256KeyPair::generate(2048).expect("2048 is a supported RSA modulus size");
        Self { key_pair }
    }

    /// Loads a private key (PKCS#1 or PKCS#8 PEM; `\n` escapes and surrounding
    /// quotes are tolerated, as for `CLERK_JWT_KEY`).
    pub fn from_private_pem(pem: &str) -> Result<Self, InvalidPrivateKey> {
        let key_pair = RS256KeyPair::from_pem(&crate::auth::normalize_pem(pem))
            .map_err(|_| InvalidPrivateKey)?;
        Ok(Self { key_pair })
    }

    /// The private key as PEM, to persist dev keys between runs.
    pub fn private_pem(&self) -> String {
        self.key_pair
            .to_pem()
            .expect("an in-memory RSA key encodes as PEM")
    }

    /// The public key as PEM: the value for `CLERK_JWT_KEY`.
    pub fn public_pem(&self) -> String {
        self.key_pair
            .public_key()
            .to_pem()
            .expect("an in-memory RSA key encodes as PEM")
    }

    /// An RS256 session token carrying `claims`, shaped like a Clerk session token.
    pub fn sign(&self, claims: ClerkClaims) -> String {
        let custom = ClerkCustomClaims {
            azp: claims.azp,
            sid: claims.session_id,
            sts: claims.sts,
            metadata: claims.role.map(|role| RoleMetadata { role }),
        };
        let mut jwt = Claims::with_custom_claims(custom, jwt_simple::prelude::Duration::default());
        jwt.issued_at = Some(UnixTimeStamp::from_secs(claims.issued_at));
        jwt.expires_at = Some(UnixTimeStamp::from_secs(claims.expires_at));
        jwt.invalid_before = claims.not_before.map(UnixTimeStamp::from_secs);
        jwt.subject = Some(claims.sub).filter(|sub| !sub.is_empty());
        self.key_pair
            .sign(jwt)
            .expect("signing serializable claims with an in-memory key succeeds")
    }
}

/// What goes into a dev session token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClerkClaims {
    /// `sub`: the Clerk user id. Empty: the claim is left out.
    pub sub: String,
    /// `metadata.role` (the session-token template maps public metadata there).
    pub role: Option<String>,
    /// `azp`: the origin the token was minted for.
    pub azp: Option<String>,
    /// `sts`: session status (`"active"`, `"pending"`).
    pub sts: Option<String>,
    /// `iat`, unix seconds.
    pub issued_at: u64,
    /// `exp`, unix seconds.
    pub expires_at: u64,
    /// `nbf`, unix seconds.
    pub not_before: Option<u64>,
    /// `sid`: the Clerk session id.
    pub session_id: Option<String>,
}

impl ClerkClaims {
    /// An active session of `sub`, issued now (system clock) and valid for `ttl`.
    pub fn for_user(sub: impl Into<String>, ttl: Duration) -> Self {
        let now = unix_now();
        Self {
            sub: sub.into(),
            role: None,
            azp: None,
            sts: Some("active".into()),
            issued_at: now,
            expires_at: now + ttl.as_secs(),
            not_before: Some(now),
            session_id: Some(format!("sess_{}", random_alphanumeric(24))),
        }
    }
}

#[derive(Serialize)]
struct ClerkCustomClaims {
    #[serde(skip_serializing_if = "Option::is_none")]
    azp: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sts: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<RoleMetadata>,
}

#[derive(Serialize)]
struct RoleMetadata {
    role: String,
}

/// How [`sign_qstash`] treats one claim.
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

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn random_alphanumeric(len: usize) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// One key pair per test binary: RSA generation is slow in debug builds.
#[cfg(test)]
pub(crate) fn test_clerk_keys() -> &'static DevClerkKeys {
    static KEYS: std::sync::OnceLock<DevClerkKeys> = std::sync::OnceLock::new();
    // A fixture key: RSA generation takes seconds in debug builds, and nextest
    // runs every test in its own process.
    KEYS.get_or_init(|| {
        DevClerkKeys::from_private_pem(include_str!("../../tests/fixtures/clerk-test-key.pem"))
            .expect("fixture key parses")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::ClerkVerifier;
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
        // The order QStash itself emits (serde_json preserves insertion order here).
        assert_eq!(keys, ["iss", "sub", "exp", "nbf", "iat", "jti", "body"]);
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
        assert_eq!(message.exp, now + 300);
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
                exp: 1_700_000_300,
                sub: URL.into()
            })
        );
    }

    #[test]
    fn dev_clerk_token_verifies_with_the_public_pem() {
        let keys = test_clerk_keys();
        let verifier = ClerkVerifier::new(&keys.public_pem(), vec![]).unwrap();
        let mut claims = ClerkClaims::for_user("user_123", Duration::from_secs(60));
        claims.role = Some("admin".into());
        let identity = verifier.verify(&keys.sign(claims.clone())).unwrap();
        assert_eq!(identity.user_id, "user_123");
        assert_eq!(identity.role.as_deref(), Some("admin"));
        assert_eq!(identity.session_id, claims.session_id);
    }

    #[test]
    fn private_pem_round_trips() {
        let keys = test_clerk_keys();
        let pem = keys.private_pem();
        assert!(pem.contains("PRIVATE KEY"));
        let escaped = format!("\"{}\"", pem.trim_end().replace('\n', "\\n"));
        let reloaded = DevClerkKeys::from_private_pem(&escaped).unwrap();
        assert_eq!(reloaded.public_pem(), keys.public_pem());
        let verifier = ClerkVerifier::new(&keys.public_pem(), vec![]).unwrap();
        let token = reloaded.sign(ClerkClaims::for_user("user_1", Duration::from_secs(60)));
        assert_eq!(verifier.verify(&token).unwrap().user_id, "user_1");
    }

    #[test]
    fn invalid_private_pem_is_rejected() {
        assert!(DevClerkKeys::from_private_pem("not a key").is_err());
    }

    #[test]
    fn debug_does_not_print_the_private_key() {
        assert_eq!(format!("{:?}", test_clerk_keys()), "DevClerkKeys { .. }");
    }
}
