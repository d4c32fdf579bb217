//! tRPC v11 HTTP wire format (no transformer): parsing `httpLink` and
//! `httpBatchLink` requests and building their responses (protocols.md §D).

use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, Method, Response, StatusCode};
use serde_json::value::RawValue;
use serde_json::Value;

use super::error::{TrpcCode, TrpcError};

/// Most calls accepted in one batch.
pub const MAX_BATCH_SIZE: usize = 50;
/// Largest request body (mutations) and `input` parameter accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// One call of a (possibly batched) request.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// Dotted procedure path, e.g. `department.getAll`.
    pub path: String,
    /// The call's raw input (`None` = undefined), or why it could not be read.
    pub input: Result<Option<Value>, TrpcError>,
}

/// A parsed tRPC request.
#[derive(Debug, Clone, PartialEq)]
pub struct TrpcRequest {
    pub batch: bool,
    pub calls: Vec<Call>,
}

/// The request-level error tRPC 11 answers for a batch naming procedures of
/// more than one type: `kinds` in the order the calls first name them.
pub fn mixed_types_error(kinds: &[&str]) -> TrpcError {
    TrpcError::bad_request(format!(
        "Cannot mix procedure types in call: {}",
        kinds.join(", ")
    ))
}

/// The function paths `vercel.json` rewrites `/api/trpc/<path>` to, adding
/// the procedure list as `trpcPath`.
const FUNCTION_PATHS: [&str; 2] = ["/api/queries", "/api/mutations"];

/// Extracts the comma-separated procedure list: on a function path, the
/// `trpcPath` query parameter that `vercel.json` adds; elsewhere the URL path
/// after `/api/trpc/` (a `trpcPath` there is ignored: the path wins).
fn procedure_list(path: &str, query: &[(String, String)]) -> String {
    let on_function_path = FUNCTION_PATHS
        .iter()
        .any(|f| path.trim_end_matches('/') == *f);
    if on_function_path {
        if let Some((_, p)) = query.iter().find(|(k, _)| k == "trpcPath") {
            return p.clone();
        }
    }
    let rest = path
        .strip_prefix("/api/trpc/")
        .or_else(|| path.strip_prefix("/api/trpc"))
        .unwrap_or(path)
        .trim_start_matches('/');
    percent_encoding::percent_decode_str(rest)
        .decode_utf8_lossy()
        .into_owned()
}

fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

/// An unparsable input. Input that ends too early (an empty POST body
/// included) gets V8's `JSON.parse` message, as tRPC answers it.
fn json_error(e: &serde_json::Error) -> TrpcError {
    if e.is_eof() {
        return TrpcError::bad_request(UNEXPECTED_END);
    }
    TrpcError::bad_request(format!("Invalid JSON input: {e}"))
}

/// V8's message for JSON that ends before a value does.
pub const UNEXPECTED_END: &str = "Unexpected end of JSON input";

/// Parses a GET (queries) or POST (mutations) request. An `Err` is a
/// request-level error, answered as one object without a path.
pub fn parse_request(
    method: &Method,
    uri: &http::Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<TrpcRequest, TrpcError> {
    let query = query_pairs(uri.query());
    // tRPC treats exactly `batch=1` as a batch call.
    let batch = query.iter().any(|(k, v)| k == "batch" && v == "1");
    let list = procedure_list(uri.path(), &query);
    let paths: Vec<String> = if batch {
        list.split(',').map(str::to_string).collect()
    } else {
        vec![list]
    };
    if paths.len() > MAX_BATCH_SIZE {
        return Err(TrpcError::bad_request(format!(
            "Batch call exceeds maximum size ({MAX_BATCH_SIZE} calls)"
        )));
    }

    let raw: Option<Result<Value, TrpcError>> = if *method == Method::POST {
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        match content_type {
            None => {
                return Err(TrpcError::new(
                    TrpcCode::UnsupportedMediaType,
                    "Missing content-type header",
                ))
            }
            Some(ct) => {
                let essence = ct.split(';').next().unwrap_or_default().trim();
                if !essence.eq_ignore_ascii_case("application/json") {
                    return Err(TrpcError::new(
                        TrpcCode::UnsupportedMediaType,
                        format!("Unsupported content-type \"{ct}"),
                    ));
                }
            }
        }
        if body.len() > MAX_BODY_BYTES {
            return Err(TrpcError::new(
                TrpcCode::PayloadTooLarge,
                format!("Request body exceeds {MAX_BODY_BYTES} bytes"),
            ));
        }
        // tRPC 11 reads the body with `req.json()`: an empty body is not
        // "no input" but "Unexpected end of JSON input", which only a
        // procedure with an input parser reports.
        Some(serde_json::from_slice(body).map_err(|e| json_error(&e)))
    } else {
        match query.iter().find(|(k, _)| k == "input") {
            // tRPC 11: `?input=` (empty) is no input.
            None => None,
            Some((_, text)) if text.is_empty() => None,
            Some((_, text)) if text.len() > MAX_BODY_BYTES => {
                return Err(TrpcError::new(
                    TrpcCode::PayloadTooLarge,
                    format!("input exceeds {MAX_BODY_BYTES} bytes"),
                ))
            }
            Some((_, text)) => Some(serde_json::from_str(text).map_err(|e| json_error(&e))),
        }
    };

    let calls = if batch {
        let inputs: Result<serde_json::Map<String, Value>, TrpcError> = match raw {
            None => Ok(Default::default()),
            Some(Ok(Value::Object(map))) => Ok(map),
            Some(Ok(_)) => Err(TrpcError::bad_request(
                "\"input\" needs to be an object when doing a batch call",
            )),
            Some(Err(e)) => Err(e),
        };
        paths
            .into_iter()
            .enumerate()
            .map(|(i, path)| Call {
                path,
                input: match &inputs {
                    Ok(map) => Ok(map.get(&i.to_string()).cloned()),
                    Err(e) => Err(e.clone()),
                },
            })
            .collect()
    } else {
        let path = paths.into_iter().next().unwrap_or_default();
        vec![Call {
            path,
            input: raw.transpose(),
        }]
    };
    Ok(TrpcRequest { batch, calls })
}

/// The `result.data` of a successful call.
#[derive(Debug, Clone)]
pub enum ResultData {
    /// A value a resolver built.
    Value(Value),
    /// JSON text written out as it is: a cache hit, whose stored text is already
    /// what serializing its value would give (the cache stores compact
    /// `serde_json` text), so it is never parsed into a [`Value`].
    Raw(Box<RawValue>),
}

impl From<Value> for ResultData {
    fn from(value: Value) -> Self {
        ResultData::Value(value)
    }
}

impl ResultData {
    /// Appends the compact JSON text of the data to `out`.
    fn write_to(&self, out: &mut Vec<u8>) {
        match self {
            ResultData::Value(value) => write_json(out, value),
            ResultData::Raw(raw) => out.extend_from_slice(raw.get().as_bytes()),
        }
    }
}

/// The outcome of one call: data (`None` = undefined) or an error.
pub type CallResult = Result<Option<ResultData>, TrpcError>;

/// Appends `value` as `JSON.stringify` writes it (see [`crate::js_json`]).
fn write_json(out: &mut Vec<u8>, value: &Value) {
    crate::js_json::write(out, value);
}

fn status_of(r: &CallResult) -> u16 {
    match r {
        Ok(_) => 200,
        Err(e) => e.code.http_status(),
    }
}

/// Appends the envelope of one call: the same bytes as serializing
/// `{"result":{"data":…}}`, `{"result":{}}` or the error envelope as a `Value`.
fn write_envelope(out: &mut Vec<u8>, path: &str, r: &CallResult) {
    match r {
        Ok(Some(data)) => {
            out.extend_from_slice(br#"{"result":{"data":"#);
            data.write_to(out);
            out.extend_from_slice(b"}}");
        }
        Ok(None) => out.extend_from_slice(br#"{"result":{}}"#),
        Err(e) => write_json(out, &e.envelope(Some(path))),
    }
}

fn base_response(status: u16, content_type: &'static str, body: Bytes) -> Response<Bytes> {
    let mut res = Response::new(body);
    *res.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    res.headers_mut().insert(
        header::VARY,
        HeaderValue::from_static("trpc-accept, accept"),
    );
    res
}

/// Builds the response of a parsed request: one object for a single call, an
/// array for a batch; status = the one status all calls share, else 207.
pub fn respond(request: &TrpcRequest, results: &[CallResult]) -> Response<Bytes> {
    let mut statuses: Vec<u16> = results.iter().map(status_of).collect();
    statuses.sort_unstable();
    statuses.dedup();
    let status = if statuses.len() == 1 {
        statuses[0]
    } else {
        207
    };
    let mut body = Vec::with_capacity(
        results
            .iter()
            .map(|r| match r {
                Ok(Some(ResultData::Raw(raw))) => raw.get().len() + 32,
                _ => 256,
            })
            .sum(),
    );
    if request.batch {
        body.push(b'[');
        for (i, (call, result)) in request.calls.iter().zip(results).enumerate() {
            if i > 0 {
                body.push(b',');
            }
            write_envelope(&mut body, &call.path, result);
        }
        body.push(b']');
    } else {
        write_envelope(&mut body, &request.calls[0].path, &results[0]);
    }
    let mut res = base_response(status, "application/json", Bytes::from(body));
    let allows: Vec<&'static str> = results
        .iter()
        .filter_map(|r| r.as_ref().err().and_then(|e| e.allow))
        .collect();
    if status == 405 {
        if let Some(allow) = allows.first() {
            res.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static(allow));
        }
    }
    res
}

/// A request-level error: one object without a path. tRPC answers these with
/// `content-type: text/plain;charset=UTF-8` (body still JSON); so do we.
pub fn respond_request_error(err: &TrpcError) -> Response<Bytes> {
    base_response(
        err.code.http_status(),
        "text/plain;charset=UTF-8",
        Bytes::from(crate::js_json::to_string(&err.envelope(None))),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn get(uri: &str) -> Result<TrpcRequest, TrpcError> {
        parse_request(&Method::GET, &uri.parse().unwrap(), &HeaderMap::new(), b"")
    }

    fn post(uri: &str, ct: Option<&str>, body: &str) -> Result<TrpcRequest, TrpcError> {
        let mut h = HeaderMap::new();
        if let Some(ct) = ct {
            h.insert(header::CONTENT_TYPE, ct.parse().unwrap());
        }
        parse_request(&Method::POST, &uri.parse().unwrap(), &h, body.as_bytes())
    }

    #[test]
    fn batched_get_splits_paths_and_indexes_inputs() {
        let r =
            get("/api/trpc/greeting,post.byId?batch=1&input=%7B%221%22%3A%7B%22id%22%3A7%7D%7D")
                .unwrap();
        assert!(r.batch);
        assert_eq!(r.calls[0].path, "greeting");
        assert_eq!(r.calls[0].input, Ok(None));
        assert_eq!(r.calls[1].path, "post.byId");
        assert_eq!(r.calls[1].input, Ok(Some(json!({"id": 7}))));
    }

    #[test]
    fn trpc_path_parameter_names_the_procedures_on_the_function_paths_only() {
        for function in ["/api/queries", "/api/mutations"] {
            let r = get(&format!(
                "{function}?trpcPath=a.b%2Cc.d&batch=1&input=%7B%7D"
            ))
            .unwrap();
            let paths: Vec<_> = r.calls.iter().map(|c| c.path.as_str()).collect();
            assert_eq!(paths, ["a.b", "c.d"], "{function}");
        }
        let r = get("/api/trpc/a.b?trpcPath=x.y").unwrap();
        assert_eq!(r.calls[0].path, "a.b");
    }

    #[test]
    fn an_empty_input_parameter_is_no_input() {
        let r = get("/api/trpc/a.b?input=").unwrap();
        assert_eq!(r.calls[0].input, Ok(None));
        let r = get("/api/trpc/a.b,c.d?batch=1&input=").unwrap();
        assert_eq!(r.calls[1].input, Ok(None));
        let r = get("/api/trpc/a.b?input=null").unwrap();
        assert_eq!(r.calls[0].input, Ok(Some(Value::Null)));
        let r = get("/api/trpc/a.b?input=%20").unwrap();
        assert_eq!(
            r.calls[0].input,
            Err(TrpcError::bad_request(UNEXPECTED_END))
        );
    }

    #[test]
    fn single_get_without_input_is_undefined() {
        let r = get("/api/trpc/department.getAll").unwrap();
        assert!(!r.batch);
        assert_eq!(r.calls[0].input, Ok(None));
    }

    #[test]
    fn invalid_json_fails_each_call_with_bad_request() {
        let r = get("/api/trpc/greeting?input=%7Bbad").unwrap();
        assert_eq!(
            r.calls[0].input.as_ref().unwrap_err().code,
            TrpcCode::BadRequest
        );
    }

    #[test]
    fn batch_input_must_be_an_object() {
        let r = get("/api/trpc/greeting?batch=1&input=%5B%7B%7D%5D").unwrap();
        let e = r.calls[0].input.clone().unwrap_err();
        assert_eq!(
            e.message,
            "\"input\" needs to be an object when doing a batch call"
        );
    }

    #[test]
    fn oversize_batch_is_a_request_level_error() {
        let list = vec!["a.b"; MAX_BATCH_SIZE + 1].join(",");
        let e = get(&format!("/api/trpc/{list}?batch=1&input=%7B%7D")).unwrap_err();
        assert_eq!(e.code, TrpcCode::BadRequest);
    }

    #[test]
    fn post_needs_json_content_type() {
        assert_eq!(
            post("/api/trpc/x", None, "{}").unwrap_err().message,
            "Missing content-type header"
        );
        assert_eq!(
            post("/api/trpc/x", Some("text/plain"), "{}")
                .unwrap_err()
                .message,
            "Unsupported content-type \"text/plain"
        );
        let r = post(
            "/api/trpc/x,y?batch=1",
            Some("application/json; charset=utf-8"),
            r#"{"1":{"a":1}}"#,
        )
        .unwrap();
        assert_eq!(r.calls[1].input, Ok(Some(json!({"a": 1}))));
        for empty in ["", "  \n"] {
            let r = post("/api/trpc/x", Some("application/json"), empty).unwrap();
            assert_eq!(
                r.calls[0].input,
                Err(TrpcError::bad_request(UNEXPECTED_END)),
                "{empty:?}"
            );
        }
        let r = post("/api/trpc/x", Some("application/json"), r#"{"a":"#).unwrap();
        assert_eq!(
            r.calls[0].input,
            Err(TrpcError::bad_request(UNEXPECTED_END))
        );
    }

    #[test]
    fn oversize_body_is_payload_too_large() {
        let body = "x".repeat(MAX_BODY_BYTES + 1);
        let e = post("/api/trpc/x", Some("application/json"), &body).unwrap_err();
        assert_eq!(e.code, TrpcCode::PayloadTooLarge);
    }

    #[test]
    fn mixed_batch_is_207_and_uniform_errors_keep_their_status() {
        let req = get("/api/trpc/a,b?batch=1&input=%7B%7D").unwrap();
        let ok_and_err = [Ok(Some(json!(1).into())), Err(TrpcError::not_found("x"))];
        assert_eq!(respond(&req, &ok_and_err).status(), 207);
        let both_err = [
            Err(TrpcError::not_found("x")),
            Err(TrpcError::not_found("y")),
        ];
        assert_eq!(respond(&req, &both_err).status(), 404);
        let ok = [Ok(Some(json!(1).into())), Ok(None)];
        let res = respond(&req, &ok);
        assert_eq!(res.status(), 200);
        assert_eq!(
            std::str::from_utf8(res.body()).unwrap(),
            r#"[{"result":{"data":1}},{"result":{}}]"#
        );
    }

    #[test]
    fn raw_and_built_data_give_the_bytes_of_the_value_envelope() {
        let value = json!({"b": [1, 2.5, "ü \"q\" </x>"], "a": null});
        let text = value.to_string();
        let raw = ResultData::Raw(RawValue::from_string(text).unwrap());
        let error = TrpcError::not_found("gone");
        let req = get("/api/trpc/a,b,c,d?batch=1&input=%7B%7D").unwrap();
        let results = [
            Ok(Some(raw)),
            Ok(Some(ResultData::Value(value.clone()))),
            Ok(None),
            Err(error.clone()),
        ];
        let expected = Value::Array(vec![
            json!({"result": {"data": value}}),
            json!({"result": {"data": value}}),
            json!({"result": {}}),
            error.envelope(Some("d")),
        ])
        .to_string();
        assert_eq!(
            std::str::from_utf8(respond(&req, &results).body()).unwrap(),
            expected
        );
        let single = get("/api/trpc/a").unwrap();
        let raw = ResultData::Raw(RawValue::from_string(value.to_string()).unwrap());
        assert_eq!(
            std::str::from_utf8(respond(&single, &[Ok(Some(raw))]).body()).unwrap(),
            json!({"result": {"data": value}}).to_string()
        );
    }
}
