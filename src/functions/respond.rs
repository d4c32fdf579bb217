//! Small response builders shared by the functions.

use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, Response, StatusCode};
use serde_json::Value;

pub fn json_response(status: StatusCode, body: &Value) -> Response<Bytes> {
    let mut res = Response::new(Bytes::from(body.to_string()));
    *res.status_mut() = status;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}

/// Adds CORS headers when the request's `Origin` is one of `allowed`. A
/// listed origin may send credentials (the `__session` cookie); `*` allows any
/// origin but never with credentials, so no other site can read a user's data.
pub fn apply_cors(allowed: &[String], request: &HeaderMap, res: &mut Response<Bytes>) {
    let Some(origin) = request.get(header::ORIGIN).and_then(|o| o.to_str().ok()) else {
        return;
    };
    let listed = allowed.iter().any(|a| a == origin);
    if !listed && !allowed.iter().any(|a| a == "*") {
        return;
    }
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(origin) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
    }
    if listed {
        h.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
    }
    h.append(header::VARY, HeaderValue::from_static("origin"));
}

/// The answer to a CORS preflight (`OPTIONS`).
pub fn preflight(allowed: &[String], request: &HeaderMap) -> Response<Bytes> {
    let mut res = Response::new(Bytes::new());
    *res.status_mut() = StatusCode::NO_CONTENT;
    apply_cors(allowed, request, &mut res);
    if res
        .headers()
        .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN)
    {
        let h = res.headers_mut();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, OPTIONS"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("authorization, content-type, trpc-accept, x-trpc-source"),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request_from(origin: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ORIGIN, origin.parse().unwrap());
        h
    }

    #[test]
    fn a_listed_origin_may_send_credentials() {
        let mut res = Response::new(Bytes::new());
        apply_cors(
            &["https://app.example".into()],
            &request_from("https://app.example"),
            &mut res,
        );
        assert_eq!(
            res.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN],
            "https://app.example"
        );
        assert_eq!(
            res.headers()[header::ACCESS_CONTROL_ALLOW_CREDENTIALS],
            "true"
        );
    }

    #[test]
    fn a_wildcard_never_allows_credentials() {
        let mut res = Response::new(Bytes::new());
        apply_cors(
            &["*".into()],
            &request_from("https://evil.example"),
            &mut res,
        );
        assert_eq!(
            res.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN],
            "https://evil.example"
        );
        assert!(res
            .headers()
            .get(header::ACCESS_CONTROL_ALLOW_CREDENTIALS)
            .is_none());
    }

    #[test]
    fn an_unlisted_origin_gets_no_cors_headers() {
        let mut res = Response::new(Bytes::new());
        apply_cors(
            &["https://app.example".into()],
            &request_from("https://evil.example"),
            &mut res,
        );
        assert!(res
            .headers()
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .is_none());
    }
}
