//! Clerk session tokens → [`Identity`], verified locally with the instance's PEM public
//! key (`CLERK_JWT_KEY`); no network call.
//!
//! [`session_token`] finds the token in a request; [`ClerkVerifier::verify`] checks it.
//! The rules follow `@clerk/backend`'s networkless verification:
//!
//! * **RS256 only.** The algorithm is read from the header first and anything else
//!   (`HS256`, `none`, `RS512`, ...) is [`AuthError::UnsupportedAlgorithm`] without
//!   attempting verification, so the public key can never be used as an HMAC secret.
//!   A header with a non-empty `crit`, or a `typ` other than `JWT` / `*+JWT`, is
//!   malformed (as jwt-simple rules).
//! * The signature (RSASSA-PKCS1-v1_5 with SHA-256, 2048 to 8192-bit keys) is checked
//!   with `ring`, several times faster than jwt-simple's pure-Rust RSA; jwt-simple
//!   parses the PEM key, the header and the claims.
//! * Time claims, with [`CLOCK_SKEW_SECS`] (5 s) of skew, `now` in unix seconds:
//!   expired iff `exp <= now - 5` (`exp` is required); not yet valid iff
//!   `nbf > now + 5`; issued in the future iff `iat > now + 5`.
//! * `sub` is the user id and is required; `azp`, when present and when authorized
//!   parties are configured, must be one of them (trailing `/` ignored on both sides);
//!   `sts == "pending"` is rejected; the role comes from the string claim `metadata.role`.
//!
//! **Verified-token cache.** A browser sends the same token with every request for
//! its whole lifetime (about a minute for Clerk), so each [`ClerkVerifier`] (one per
//! function instance, shared by its clones) remembers up to
//! [`VERIFIED_TOKEN_CACHE_CAPACITY`] tokens that passed every check, keyed by the
//! SHA-256 of the whole token: a token that differs in any byte is another key and is
//! verified in full. An entry holds the identity and the time claims, which are checked
//! again on every use, so an entry is never used once `exp + skew` has passed. Only
//! successes are remembered. A key rotation starts a new instance, hence a new cache.
//!
//! Error messages never contain the token.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jwt_simple::claims::JWTClaims;
use jwt_simple::prelude::RS256PublicKey;
use jwt_simple::token::Token;
use ring::signature::{RsaPublicKeyComponents, RSA_PKCS1_2048_8192_SHA256};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds (Clerk's default).
pub const CLOCK_SKEW_SECS: u64 = 5;

/// Most verified tokens one [`ClerkVerifier`] remembers (about 2.5 MiB when full).
pub const VERIFIED_TOKEN_CACHE_CAPACITY: usize = 10_000;

/// Clerk session tokens are ~1 KiB; this bounds the work a caller can cause.
const MAX_TOKEN_LEN: usize = 16 * 1024;

/// Longest algorithm name echoed in [`AuthError::UnsupportedAlgorithm`].
const MAX_ALG_LEN: usize = 32;

/// The authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Clerk user id (`sub`).
    pub user_id: String,
    /// Clerk session id (`sid`).
    pub session_id: Option<String>,
    /// `metadata.role`, when the session-token template provides it as a string.
    pub role: Option<String>,
}

/// Why a session token was rejected. `Display` is safe to log and never contains the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("no session token")]
    Missing,
    #[error("malformed session token")]
    Malformed,
    /// The header's `alg` (at most 32 characters of it).
    #[error("unsupported session token algorithm {0:?}, want RS256")]
    UnsupportedAlgorithm(String),
    #[error("session token signature verification failed")]
    BadSignature,
    #[error("session token expired")]
    Expired,
    #[error("session token not yet valid")]
    NotYetValid,
    #[error("session token issued in the future")]
    IssuedInFuture,
    /// The token's `azp`.
    #[error("unauthorized party {0:?}")]
    UnauthorizedParty(String),
    #[error("session is pending")]
    PendingSession,
    #[error("session token has no subject")]
    MissingSubject,
}

/// `CLERK_JWT_KEY` cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthConfigError {
    #[error("CLERK_JWT_KEY is empty")]
    EmptyKey,
    /// Not PEM, not RSA, or a modulus outside 2048..=8192 bits.
    #[error("CLERK_JWT_KEY is not a PEM-encoded RSA public key of 2048 to 8192 bits")]
    InvalidKey,
}

/// A token that passed every check but the time claims, which are checked at each use.
struct Verified {
    identity: Identity,
    /// `exp`, unix seconds.
    expires_at: u64,
    /// `nbf`, unix seconds.
    not_before: Option<u64>,
    /// `iat`, unix seconds.
    issued_at: Option<u64>,
}

impl Verified {
    /// The identity as of `now` (unix seconds), or why the token is not valid then.
    /// Same order as jwt-simple: `iat`, then `nbf`, then `exp`.
    fn at(&self, now: u64) -> Result<Identity, AuthError> {
        let latest = now.saturating_add(CLOCK_SKEW_SECS);
        if self.issued_at.is_some_and(|iat| iat > latest) {
            return Err(AuthError::IssuedInFuture);
        }
        if self.not_before.is_some_and(|nbf| nbf > latest) {
            return Err(AuthError::NotYetValid);
        }
        // Clerk: expired when `exp <= now - skew`.
        if self.expires_at.saturating_add(CLOCK_SKEW_SECS) <= now {
            return Err(AuthError::Expired);
        }
        Ok(self.identity.clone())
    }
}

/// Verifies Clerk session tokens with one instance's public key. Clones share the
/// verified-token cache and the counter of signature checks.
#[derive(Clone)]
pub struct ClerkVerifier {
    /// The RSA modulus and exponent, big-endian, as `ring` takes them.
    key: Arc<RsaPublicKeyComponents<Vec<u8>>>,
    /// Normalised: trimmed, without trailing `/`, no empty entries.
    authorized_parties: Vec<String>,
    /// SHA-256 of the token → what its verification established.
    verified: Arc<quick_cache::sync::Cache<[u8; 32], Arc<Verified>>>,
    signature_checks: Arc<AtomicU64>,
}

impl std::fmt::Debug for ClerkVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClerkVerifier")
            .field("authorized_parties", &self.authorized_parties)
            .field("cached_tokens", &self.verified.len())
            .finish_non_exhaustive()
    }
}

impl ClerkVerifier {
    /// `pem` is the PEM public key as in `CLERK_JWT_KEY`: real newlines or literal
    /// `\n` escapes (as `.env` files hold it), surrounding quotes and whitespace
    /// tolerated. `authorized_parties` are origins accepted in `azp`; empty accepts any.
    pub fn new(pem: &str, authorized_parties: Vec<String>) -> Result<Self, AuthConfigError> {
        let pem = normalize_pem(pem);
        if pem.is_empty() {
            return Err(AuthConfigError::EmptyKey);
        }
        let components = RS256PublicKey::from_pem(&pem)
            .map_err(|_| AuthConfigError::InvalidKey)?
            .to_components();
        // `ring` refuses other sizes at verification: refuse them here instead.
        let n = components.n.strip_prefix(&[0]).unwrap_or(&components.n);
        if !(2048..=8192).contains(&(n.len() * 8)) {
            return Err(AuthConfigError::InvalidKey);
        }
        let key = RsaPublicKeyComponents {
            n: n.to_vec(),
            e: components.e,
        };
        let authorized_parties = authorized_parties
            .iter()
            .map(|party| trim_origin(party).to_owned())
            .filter(|party| !party.is_empty())
            .collect();
        Ok(Self {
            key: Arc::new(key),
            authorized_parties,
            verified: Arc::new(quick_cache::sync::Cache::new(VERIFIED_TOKEN_CACHE_CAPACITY)),
            signature_checks: Arc::new(AtomicU64::new(0)),
        })
    }

    /// Verifies `token` against the system clock.
    pub fn verify(&self, token: &str) -> Result<Identity, AuthError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        self.verify_at(token, now)
    }

    /// Verifies `token` as of `now_unix_secs`: from the verified-token cache when
    /// this exact token passed before (only its time claims are checked again),
    /// else in full (then a success is remembered).
    pub fn verify_at(&self, token: &str, now_unix_secs: u64) -> Result<Identity, AuthError> {
        let token = token.trim();
        if token.is_empty() {
            return Err(AuthError::Missing);
        }
        if token.len() > MAX_TOKEN_LEN {
            return Err(AuthError::Malformed);
        }
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if let Some(verified) = self.verified.get(&digest) {
            // An expired entry stays until evicted: a stale tab retrying the
            // same token is refused without another RSA check.
            return verified.at(now_unix_secs);
        }
        let verified = self.verify_uncached(token, now_unix_secs)?;
        let identity = verified.identity.clone();
        self.verified.insert(digest, Arc::new(verified));
        Ok(identity)
    }

    /// How many RSA signature checks this verifier (and its clones) made: a token
    /// served from the verified-token cache adds none.
    pub fn signature_checks(&self) -> u64 {
        self.signature_checks.load(Ordering::Relaxed)
    }

    /// Every check, without the cache.
    fn verify_uncached(&self, token: &str, now: u64) -> Result<Verified, AuthError> {
        let mut parts = token.split('.');
        let (Some(header_b64), Some(claims_b64), Some(signature_b64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(AuthError::Malformed);
        };
        // (`decode_metadata` also refuses a header over its size limit.)
        let header = Token::decode_metadata(token).map_err(|_| AuthError::Malformed)?;
        if header.algorithm() != "RS256" {
            return Err(AuthError::UnsupportedAlgorithm(
                header.algorithm().chars().take(MAX_ALG_LEN).collect(),
            ));
        }
        if header.critical().is_some_and(|crit| !crit.is_empty()) {
            return Err(AuthError::Malformed);
        }
        if let Some(typ) = header.signature_type() {
            let typ = typ.to_uppercase();
            if typ != "JWT" && !typ.ends_with("+JWT") {
                return Err(AuthError::Malformed);
            }
        }

        let claims = URL_SAFE_NO_PAD
            .decode(claims_b64)
            .map_err(|_| AuthError::Malformed)?;
        // `exp` must be a number > 0 as written (`exp: -1` never expiring is
        // what the claims' own parser would let through).
        check_exp_claim(&claims)?;

        let signature = URL_SAFE_NO_PAD
            .decode(signature_b64)
            .map_err(|_| AuthError::Malformed)?;
        let signed = &token[..header_b64.len() + 1 + claims_b64.len()];
        self.signature_checks.fetch_add(1, Ordering::Relaxed);
        self.key
            .verify(&RSA_PKCS1_2048_8192_SHA256, signed.as_bytes(), &signature)
            .map_err(|_| AuthError::BadSignature)?;

        let claims: JWTClaims<SessionClaims> =
            serde_json::from_slice(&claims).map_err(|_| AuthError::Malformed)?;
        let mut verified = Verified {
            identity: Identity {
                user_id: String::new(),
                session_id: None,
                role: None,
            },
            expires_at: claims.expires_at.ok_or(AuthError::Malformed)?.as_secs(),
            not_before: claims.invalid_before.map(|t| t.as_secs()),
            issued_at: claims.issued_at.map(|t| t.as_secs()),
        };
        verified.at(now)?;

        let user_id = claims
            .subject
            .filter(|sub| !sub.is_empty())
            .ok_or(AuthError::MissingSubject)?;
        let session = claims.custom;
        if let Some(azp) = session.azp {
            if !self.authorized_parties.is_empty()
                && !self
                    .authorized_parties
                    .iter()
                    .any(|party| party == trim_origin(&azp))
            {
                return Err(AuthError::UnauthorizedParty(azp));
            }
        }
        if session.sts.as_deref() == Some("pending") {
            return Err(AuthError::PendingSession);
        }
        let role = session
            .metadata
            .as_ref()
            .and_then(|metadata| metadata.get("role"))
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned);
        verified.identity = Identity {
            user_id,
            session_id: session.sid,
            role,
        };
        Ok(verified)
    }
}

/// The Clerk claims beyond the registered ones jwt-simple parses.
#[derive(Deserialize)]
struct SessionClaims {
    azp: Option<String>,
    sid: Option<String>,
    sts: Option<String>,
    /// Any JSON: only a string `role` inside an object is used.
    metadata: Option<serde_json::Value>,
}

/// `exp` as the decoded claims `payload` states it, before any library reads it: a JSON number
/// greater than 0 (`exp: -1` must not read as "never expires"). Not a number
/// (or absent) is malformed; 0 or less is expired.
fn check_exp_claim(payload: &[u8]) -> Result<(), AuthError> {
    #[derive(serde::Deserialize)]
    struct Exp {
        exp: Option<serde_json::Value>,
    }
    let claims: Exp = serde_json::from_slice(payload).map_err(|_| AuthError::Malformed)?;
    match claims.exp.as_ref().and_then(serde_json::Value::as_f64) {
        None => Err(AuthError::Malformed),
        Some(exp) if exp <= 0.0 => Err(AuthError::Expired),
        Some(_) => Ok(()),
    }
}

fn trim_origin(origin: &str) -> &str {
    origin.trim().trim_end_matches('/')
}

/// A PEM as found in environment variables: trimmed, one pair of surrounding quotes
/// removed, literal `\n` (and `\r\n`) escapes turned into newlines.
pub(crate) fn normalize_pem(pem: &str) -> String {
    let pem = pem.trim();
    let unquoted = ['"', '\'']
        .iter()
        .find_map(|q| pem.strip_prefix(*q).and_then(|p| p.strip_suffix(*q)))
        .unwrap_or(pem);
    unquoted
        .replace("\\r\\n", "\n")
        .replace("\\n", "\n")
        .trim()
        .to_owned()
}

/// Most session cookies tried for one request (`__session` and its suffixed
/// siblings), so a request cannot make the server verify many signatures.
pub const MAX_SESSION_COOKIES: usize = 4;

/// The first candidate of [`session_tokens`].
pub fn session_token(headers: &http::HeaderMap) -> Option<String> {
    session_tokens(headers).into_iter().next()
}

/// The session tokens a request carries, in the order to try them, as Clerk
/// reads them: the `Authorization` header's token if there is one (`Bearer
/// <t>`, or a value without a scheme, which is the token itself; another
/// scheme is ignored); else the `__session` cookie and then each non-empty
/// `__session_<suffix>` cookie (Clerk suffixes cookies when several instances
/// share a domain), at most [`MAX_SESSION_COOKIES`]. Empty values count as absent.
pub fn session_tokens(headers: &http::HeaderMap) -> Vec<String> {
    match header_token(headers) {
        Some(token) => vec![token],
        None => session_cookies(headers),
    }
}

/// The identity of the first of the request's [`session_tokens`] that
/// `verify` accepts; if none does, the first token's error
/// ([`AuthError::Missing`] without any).
pub fn authenticate(
    headers: &http::HeaderMap,
    verify: impl Fn(&str) -> Result<Identity, AuthError>,
) -> Result<Identity, AuthError> {
    let mut first_error = None;
    for token in session_tokens(headers) {
        match verify(&token) {
            Ok(identity) => return Ok(identity),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(first_error.unwrap_or(AuthError::Missing))
}

fn header_token(headers: &http::HeaderMap) -> Option<String> {
    let value = headers
        .get(http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim();
    match value.split_once(' ') {
        // No scheme: the whole value is the token (Clerk's own parsing).
        None => {
            (!value.is_empty() && !value.eq_ignore_ascii_case("bearer")).then(|| value.to_owned())
        }
        Some((scheme, token)) => {
            let token = token.trim();
            (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_owned())
        }
    }
}

fn session_cookies(headers: &http::HeaderMap) -> Vec<String> {
    let cookies: Vec<(&str, &str)> = headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.split_once('='))
        .map(|(name, value)| (name.trim(), unquote(value.trim())))
        .filter(|(_, value)| !value.is_empty())
        .collect();
    let plain = cookies.iter().filter(|(name, _)| *name == "__session");
    let suffixed = cookies.iter().filter(|(name, _)| {
        name.strip_prefix("__session_")
            .is_some_and(|suffix| !suffix.is_empty())
    });
    let mut tokens: Vec<String> = Vec::new();
    for (_, value) in plain.chain(suffixed) {
        if tokens.len() == MAX_SESSION_COOKIES {
            break;
        }
        if !tokens.iter().any(|t| t == value) {
            tokens.push((*value).to_owned());
        }
    }
    tokens
}

fn unquote(value: &str) -> &str {
    value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dev::tokens::{test_clerk_keys, ClerkClaims, DevClerkKeys};
    use http::{HeaderMap, HeaderValue};
    use jwt_simple::prelude::{
        Claims, Duration, HS256Key, MACLike, RS256KeyPair, RS512KeyPair, RSAKeyPairLike,
        UnixTimeStamp,
    };

    const NOW: u64 = 1_700_000_000;
    const APP: &str = "https://hub.example.com";

    fn keys() -> &'static DevClerkKeys {
        test_clerk_keys()
    }

    fn verifier() -> ClerkVerifier {
        ClerkVerifier::new(
            &keys().public_pem(),
            vec![format!("{APP}/"), "http://localhost:3000".into()],
        )
        .unwrap()
    }

    /// An active admin session of `user_2abc`, minted for `APP` at `NOW`, 60 s TTL.
    fn claims() -> ClerkClaims {
        ClerkClaims {
            sub: "user_2abc".into(),
            role: Some("admin".into()),
            azp: Some(APP.into()),
            sts: Some("active".into()),
            issued_at: NOW,
            expires_at: NOW + 60,
            not_before: Some(NOW - 10),
            session_id: Some("sess_1".into()),
        }
    }

    fn verify(claims: ClerkClaims, now: u64) -> Result<Identity, AuthError> {
        verifier().verify_at(&keys().sign(claims), now)
    }

    /// Signs arbitrary JSON claims with the test key (for shapes `ClerkClaims` cannot express).
    fn sign_raw(claims: serde_json::Value) -> String {
        let key_pair = RS256KeyPair::from_pem(&keys().private_pem()).unwrap();
        let serde_json::Value::Object(map) = claims else {
            panic!("claims must be an object")
        };
        let mut jwt = Claims::with_custom_claims(map, Duration::from_secs(0));
        jwt.issued_at = None;
        jwt.expires_at = None;
        jwt.invalid_before = None;
        key_pair.sign(jwt).unwrap()
    }

    #[test]
    fn valid_token_yields_the_identity() {
        assert_eq!(
            verify(claims(), NOW),
            Ok(Identity {
                user_id: "user_2abc".into(),
                session_id: Some("sess_1".into()),
                role: Some("admin".into()),
            })
        );
    }

    #[test]
    fn role_and_session_are_optional() {
        let identity = verify(
            ClerkClaims {
                role: None,
                session_id: None,
                sts: None,
                not_before: None,
                ..claims()
            },
            NOW,
        )
        .unwrap();
        assert_eq!(identity.role, None);
        assert_eq!(identity.session_id, None);
    }

    #[test]
    fn role_must_be_a_string_inside_metadata() {
        for metadata in [
            serde_json::json!({"role": 1}),
            serde_json::json!("admin"),
            serde_json::json!({}),
        ] {
            let token = sign_raw(serde_json::json!({
                "sub": "user_2abc", "exp": NOW + 60, "metadata": metadata,
            }));
            assert_eq!(verifier().verify_at(&token, NOW).unwrap().role, None);
        }
        let token = sign_raw(serde_json::json!({"sub": "u", "exp": NOW + 60, "role": "admin"}));
        assert_eq!(verifier().verify_at(&token, NOW).unwrap().role, None);
    }

    #[test]
    fn verify_uses_the_system_clock() {
        let token = keys().sign(ClerkClaims::for_user(
            "user_now",
            std::time::Duration::from_secs(60),
        ));
        assert_eq!(verifier().verify(&token).unwrap().user_id, "user_now");
        assert_eq!(
            verifier().verify(&keys().sign(claims())),
            Err(AuthError::Expired)
        );
    }

    #[test]
    fn empty_token_is_missing() {
        assert_eq!(verifier().verify_at("", NOW), Err(AuthError::Missing));
        assert_eq!(verifier().verify_at("  ", NOW), Err(AuthError::Missing));
    }

    #[test]
    fn garbage_is_malformed() {
        let token = keys().sign(claims());
        let [header, payload, signature]: [&str; 3] =
            token.split('.').collect::<Vec<_>>().try_into().unwrap();
        let cases = [
            "not-a-jwt".to_owned(),
            format!("{header}.{payload}"),
            format!("{header}.{payload}.{signature}.x"),
            format!("%%%.{payload}.{signature}"),
            format!("{}.{payload}.{signature}", URL_SAFE_NO_PAD.encode("[]")),
            format!("{header}.{payload}.{signature}="),
            "a".repeat(MAX_TOKEN_LEN + 1),
        ];
        for token in cases {
            assert_eq!(verifier().verify_at(&token, NOW), Err(AuthError::Malformed));
        }
    }

    #[test]
    fn token_without_exp_is_malformed() {
        let token = sign_raw(serde_json::json!({"sub": "user_2abc"}));
        assert_eq!(verifier().verify_at(&token, NOW), Err(AuthError::Malformed));
    }

    #[test]
    fn hs256_signed_with_the_public_key_is_rejected_before_verification() {
        let hmac = HS256Key::from_bytes(keys().public_pem().as_bytes());
        let mut jwt = Claims::create(Duration::from_secs(60)).with_subject("user_2abc");
        jwt.issued_at = Some(UnixTimeStamp::from_secs(NOW));
        jwt.expires_at = Some(UnixTimeStamp::from_secs(NOW + 60));
        jwt.invalid_before = None;
        let token = hmac.authenticate(jwt).unwrap();
        assert_eq!(
            verifier().verify_at(&token, NOW),
            Err(AuthError::UnsupportedAlgorithm("HS256".into()))
        );
    }

    #[test]
    fn rs512_and_none_are_unsupported() {
        let rs512 = RS512KeyPair::from_pem(&keys().private_pem()).unwrap();
        let mut jwt = Claims::create(Duration::from_secs(60)).with_subject("user_2abc");
        jwt.issued_at = Some(UnixTimeStamp::from_secs(NOW));
        jwt.expires_at = Some(UnixTimeStamp::from_secs(NOW + 60));
        jwt.invalid_before = None;
        let token = rs512.sign(jwt).unwrap();
        assert_eq!(
            verifier().verify_at(&token, NOW),
            Err(AuthError::UnsupportedAlgorithm("RS512".into()))
        );

        let payload = keys().sign(claims()).split('.').nth(1).unwrap().to_owned();
        let none = format!(
            "{}.{payload}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#)
        );
        assert_eq!(
            verifier().verify_at(&none, NOW),
            Err(AuthError::UnsupportedAlgorithm("none".into()))
        );
    }

    #[test]
    fn unsupported_algorithm_name_is_truncated() {
        let alg = "X".repeat(500);
        let header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"{alg}"}}"#));
        let token = format!("{header}.e30.AAAA");
        assert_eq!(
            verifier().verify_at(&token, NOW),
            Err(AuthError::UnsupportedAlgorithm("X".repeat(MAX_ALG_LEN)))
        );
    }

    #[test]
    fn tampered_claims_fail_the_signature_check() {
        let genuine = keys().sign(claims());
        let forged = keys().sign(ClerkClaims {
            sub: "user_admin".into(),
            ..claims()
        });
        let [header, _, signature]: [&str; 3] =
            genuine.split('.').collect::<Vec<_>>().try_into().unwrap();
        let forged_payload = forged.split('.').nth(1).unwrap();
        let token = format!("{header}.{forged_payload}.{signature}");
        assert_eq!(
            verifier().verify_at(&token, NOW),
            Err(AuthError::BadSignature)
        );
    }

    #[test]
    fn expiry_boundary_is_exp_plus_skew() {
        let exp = NOW + 60;
        assert!(verify(claims(), exp - 1).is_ok());
        assert!(verify(claims(), exp).is_ok());
        assert!(verify(claims(), exp + CLOCK_SKEW_SECS - 1).is_ok());
        assert_eq!(
            verify(claims(), exp + CLOCK_SKEW_SECS),
            Err(AuthError::Expired)
        );
        assert_eq!(verify(claims(), exp + 3600), Err(AuthError::Expired));
    }

    #[test]
    fn a_reused_token_is_verified_once_within_its_lifetime() {
        let verifier = verifier();
        let token = keys().sign(claims());
        for now in [NOW, NOW + 1, NOW + 60] {
            assert_eq!(
                verifier.verify_at(&token, now).unwrap().user_id,
                "user_2abc"
            );
        }
        let clone = verifier.clone();
        assert_eq!(
            clone.verify_at(&token, NOW).unwrap().role.as_deref(),
            Some("admin")
        );
        assert_eq!(verifier.signature_checks(), 1);
    }

    #[test]
    fn a_cached_token_is_refused_once_expired() {
        let verifier = verifier();
        let token = keys().sign(claims());
        let exp = NOW + 60;
        assert!(verifier.verify_at(&token, NOW).is_ok());
        assert!(verifier
            .verify_at(&token, exp + CLOCK_SKEW_SECS - 1)
            .is_ok());

        assert_eq!(
            verifier.verify_at(&token, exp + CLOCK_SKEW_SECS),
            Err(AuthError::Expired)
        );
        assert_eq!(
            verifier.verify_at(&token, exp + 3600),
            Err(AuthError::Expired)
        );
        assert_eq!(verifier.signature_checks(), 1);
    }

    #[test]
    fn a_cached_token_keeps_its_not_before_and_issued_at_checks() {
        let verifier = verifier();
        let token = keys().sign(ClerkClaims {
            not_before: Some(NOW),
            ..claims()
        });
        assert!(verifier.verify_at(&token, NOW).is_ok());
        assert_eq!(
            verifier.verify_at(&token, NOW - CLOCK_SKEW_SECS - 1),
            Err(AuthError::IssuedInFuture)
        );
    }

    #[test]
    fn a_token_differing_in_its_signatures_last_byte_is_refused_while_the_original_is_cached() {
        let verifier = verifier();
        let token = keys().sign(claims());
        assert!(verifier.verify_at(&token, NOW).is_ok());
        let (signed, signature) = token.rsplit_once('.').unwrap();
        let mut bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
        *bytes.last_mut().unwrap() ^= 0x01;
        let forged = format!("{signed}.{}", URL_SAFE_NO_PAD.encode(&bytes));

        assert_eq!(
            verifier.verify_at(&forged, NOW),
            Err(AuthError::BadSignature)
        );
        assert_eq!(verifier.signature_checks(), 2);
        // Same bytes once decoded, another spelling (unused low bits of the last
        // character): still another token, and refused.
        let last = signature.chars().last().unwrap();
        let respelt = format!(
            "{}{}",
            &token[..token.len() - 1],
            if last == 'A' { 'B' } else { 'A' }
        );
        assert!(verifier.verify_at(&respelt, NOW).is_err());
        assert!(verifier.verify_at(&token, NOW).is_ok());
    }

    #[test]
    fn refused_tokens_are_not_remembered() {
        let verifier = verifier();
        let token = keys().sign(ClerkClaims {
            not_before: Some(NOW + 30),
            ..claims()
        });
        assert_eq!(verifier.verify_at(&token, NOW), Err(AuthError::NotYetValid));
        assert!(verifier.verify_at(&token, NOW + 30).is_ok());
        assert_eq!(verifier.signature_checks(), 2);
    }

    #[test]
    fn the_verified_token_cache_is_bounded() {
        let verifier = verifier();
        let token = keys().sign(claims());
        let identity = verifier.verify_at(&token, NOW).unwrap();
        // Fill far beyond capacity with entries keyed like real ones.
        for i in 0..(2 * VERIFIED_TOKEN_CACHE_CAPACITY) {
            let digest: [u8; 32] = Sha256::digest(i.to_le_bytes()).into();
            verifier.verified.insert(
                digest,
                Arc::new(Verified {
                    identity: identity.clone(),
                    expires_at: NOW + 60,
                    not_before: None,
                    issued_at: None,
                }),
            );
        }
        assert!(verifier.verified.len() <= VERIFIED_TOKEN_CACHE_CAPACITY);
    }

    #[test]
    fn not_before_boundary_is_nbf_minus_skew() {
        let nbf = NOW + 30;
        let future = ClerkClaims {
            not_before: Some(nbf),
            ..claims()
        };
        assert!(verify(future.clone(), nbf - CLOCK_SKEW_SECS).is_ok());
        assert_eq!(
            verify(future, nbf - CLOCK_SKEW_SECS - 1),
            Err(AuthError::NotYetValid)
        );
    }

    #[test]
    fn issued_at_boundary_is_iat_minus_skew() {
        let issued_in_future = ClerkClaims {
            issued_at: NOW,
            not_before: None,
            ..claims()
        };
        assert!(verify(issued_in_future.clone(), NOW - CLOCK_SKEW_SECS).is_ok());
        assert_eq!(
            verify(issued_in_future, NOW - CLOCK_SKEW_SECS - 1),
            Err(AuthError::IssuedInFuture)
        );
    }

    #[test]
    fn authorized_party_must_be_listed() {
        let from = |azp: &str| ClerkClaims {
            azp: Some(azp.into()),
            ..claims()
        };
        assert!(verify(from(APP), NOW).is_ok());
        assert!(verify(from(&format!("{APP}/")), NOW).is_ok());
        assert!(verify(from("http://localhost:3000"), NOW).is_ok());
        assert_eq!(
            verify(from("https://evil.example"), NOW),
            Err(AuthError::UnauthorizedParty("https://evil.example".into()))
        );
        assert_eq!(
            verify(from("http://hub.example.com"), NOW),
            Err(AuthError::UnauthorizedParty(
                "http://hub.example.com".into()
            ))
        );
    }

    #[test]
    fn missing_authorized_party_passes() {
        let no_azp = ClerkClaims {
            azp: None,
            ..claims()
        };
        assert!(verify(no_azp, NOW).is_ok());
    }

    #[test]
    fn any_party_passes_when_none_are_configured() {
        let open = ClerkVerifier::new(&keys().public_pem(), vec![" ".into()]).unwrap();
        let token = keys().sign(ClerkClaims {
            azp: Some("https://anything.example".into()),
            ..claims()
        });
        assert!(open.verify_at(&token, NOW).is_ok());
    }

    #[test]
    fn pending_session_is_rejected() {
        let pending = ClerkClaims {
            sts: Some("pending".into()),
            ..claims()
        };
        assert_eq!(verify(pending, NOW), Err(AuthError::PendingSession));
    }

    #[test]
    fn token_without_subject_is_rejected() {
        let anonymous = ClerkClaims {
            sub: String::new(),
            ..claims()
        };
        assert_eq!(verify(anonymous, NOW), Err(AuthError::MissingSubject));
    }

    #[test]
    fn error_messages_never_contain_the_token() {
        let cases = [
            (keys().sign(claims()), NOW + 3600),
            (
                keys().sign(ClerkClaims {
                    azp: Some("https://evil.example".into()),
                    ..claims()
                }),
                NOW,
            ),
            (
                keys().sign(ClerkClaims {
                    sub: String::new(),
                    ..claims()
                }),
                NOW,
            ),
            (format!("{}x", keys().sign(claims())), NOW),
        ];
        for (token, now) in cases {
            let err = verifier().verify_at(&token, now).unwrap_err();
            let payload = token.split('.').nth(1).unwrap();
            assert!(!err.to_string().contains(payload), "{err}");
            assert!(!format!("{err:?}").contains(payload), "{err:?}");
        }
    }

    #[test]
    fn pem_with_escaped_newlines_quotes_and_whitespace_is_accepted() {
        let pem = keys().public_pem();
        let escaped = pem.trim_end().replace('\n', "\\n");
        let token = keys().sign(claims());
        for variant in [
            pem.clone(),
            escaped.clone(),
            format!("\"{escaped}\""),
            format!("  '{escaped}'\n"),
            format!("\n{pem}\n\n"),
            pem.replace('\n', "\\r\\n"),
        ] {
            let verifier = ClerkVerifier::new(&variant, vec![]).unwrap();
            assert!(verifier.verify_at(&token, NOW).is_ok(), "{variant}");
        }
    }

    #[test]
    fn unusable_keys_are_configuration_errors() {
        assert_eq!(
            ClerkVerifier::new("  \"\" ", vec![]).unwrap_err(),
            AuthConfigError::EmptyKey
        );
        assert_eq!(
            ClerkVerifier::new(
                "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----",
                vec![]
            )
            .unwrap_err(),
            AuthConfigError::InvalidKey
        );
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn bearer_header_is_preferred_over_cookies() {
        let h = headers(&[
            ("authorization", "Bearer header-token"),
            ("cookie", "__session=cookie-token"),
        ]);
        assert_eq!(session_token(&h).as_deref(), Some("header-token"));
    }

    #[test]
    fn bearer_scheme_is_case_insensitive() {
        let h = headers(&[("authorization", "bearer  tok ")]);
        assert_eq!(session_token(&h).as_deref(), Some("tok"));
    }

    #[test]
    fn other_authorization_schemes_fall_back_to_the_cookie() {
        for auth in ["Basic dXNlcjpwYXNz", "Bearer ", "Bearer"] {
            let mut h = headers(&[("cookie", "__session=cookie-token")]);
            h.insert("authorization", HeaderValue::from_static(auth));
            assert_eq!(session_token(&h).as_deref(), Some("cookie-token"), "{auth}");
        }
    }

    #[test]
    fn session_cookie_is_found_among_others() {
        let h = headers(&[(
            "cookie",
            "theme=dark; __session=abc.def.ghi; __client_uat=1",
        )]);
        assert_eq!(session_token(&h).as_deref(), Some("abc.def.ghi"));
    }

    #[test]
    fn suffixed_session_cookie_is_used_without_a_plain_one() {
        let h = headers(&[("cookie", "__client_uat_Xy12=1; __session_Xy12=suffixed")]);
        assert_eq!(session_token(&h).as_deref(), Some("suffixed"));
    }

    #[test]
    fn plain_session_cookie_wins_over_a_suffixed_one() {
        let h = headers(&[("cookie", "__session_Xy12=suffixed; __session=plain")]);
        assert_eq!(session_token(&h).as_deref(), Some("plain"));
    }

    #[test]
    fn cookies_across_several_headers_are_searched() {
        let h = headers(&[("cookie", "a=1"), ("cookie", "__session=\"quoted\"")]);
        assert_eq!(session_token(&h).as_deref(), Some("quoted"));
    }

    #[test]
    fn empty_or_lookalike_cookies_are_ignored() {
        let h = headers(&[(
            "cookie",
            "__session=; __session_=x; __sessionX=y; x__session=z",
        )]);
        assert_eq!(session_token(&h), None);
        assert_eq!(session_token(&HeaderMap::new()), None);
    }

    #[test]
    fn token_from_a_cookie_verifies() {
        let token = keys().sign(claims());
        let mut h = HeaderMap::new();
        h.insert(
            "cookie",
            HeaderValue::from_str(&format!("__session_Ab3d={token}")).unwrap(),
        );
        let found = session_token(&h).unwrap();
        assert_eq!(
            verifier().verify_at(&found, NOW).unwrap().user_id,
            "user_2abc"
        );
    }

    #[test]
    fn an_authorization_value_without_a_scheme_is_the_token() {
        let h = headers(&[("authorization", "abc.def.ghi"), ("cookie", "__session=c")]);
        assert_eq!(session_tokens(&h), ["abc.def.ghi"]);
        let h = headers(&[("authorization", "Bearer abc.def.ghi")]);
        assert_eq!(session_tokens(&h), ["abc.def.ghi"]);
    }

    #[test]
    fn every_session_cookie_is_a_candidate_up_to_four() {
        let h = headers(&[(
            "cookie",
            "__session_a=1; __session=0; __session_b=2; __session_c=3; __session_d=4; __session_a=1",
        )]);
        assert_eq!(session_tokens(&h), ["0", "1", "2", "3"]);
    }

    #[test]
    fn the_first_session_cookie_that_verifies_is_used() {
        let other_app = crate::dev::tokens::DevClerkKeys::from_private_pem(include_str!(
            "../tests/fixtures/other-test-key.pem"
        ))
        .unwrap()
        .sign(claims());
        let ours = keys().sign(claims());
        let mut h = HeaderMap::new();
        h.insert(
            "cookie",
            HeaderValue::from_str(&format!("__session={other_app}; __session_Ab3d={ours}"))
                .unwrap(),
        );
        let v = verifier();
        let identity = authenticate(&h, |t| v.verify_at(t, NOW)).unwrap();
        assert_eq!(identity.user_id, "user_2abc");
        // None verifies: the first one's reason.
        let mut h = HeaderMap::new();
        h.insert(
            "cookie",
            HeaderValue::from_str(&format!("__session={other_app}; __session_x=junk")).unwrap(),
        );
        assert_eq!(
            authenticate(&h, |t| v.verify_at(t, NOW)),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            authenticate(&HeaderMap::new(), |t| v.verify_at(t, NOW)),
            Err(AuthError::Missing)
        );
    }

    #[test]
    fn exp_that_is_not_a_positive_number_is_rejected() {
        let v = verifier();
        for exp in [json_num(-1), json_num(0)] {
            let token = sign_raw(serde_json::json!({"sub": "u", "exp": exp}));
            assert_eq!(v.verify_at(&token, NOW), Err(AuthError::Expired), "{exp}");
        }
        for exp in [
            serde_json::json!("9999999999"),
            serde_json::json!(null),
            serde_json::json!(true),
        ] {
            let token = sign_raw(serde_json::json!({"sub": "u", "exp": exp}));
            assert_eq!(v.verify_at(&token, NOW), Err(AuthError::Malformed), "{exp}");
        }
    }

    fn json_num(n: i64) -> serde_json::Value {
        serde_json::json!(n)
    }
}
