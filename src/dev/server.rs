//! Every function on one local port, at its production path, the way
//! `vercel.json` routes them. Used by `enghub dev` and by the tests.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::json;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use crate::app::Instance;
use crate::functions::{self, json_response, Function};

/// Which function a production request would reach (see `vercel.json`).
pub fn route(method: &Method, path: &str) -> Option<Function> {
    if path.starts_with("/api/trpc/") || path == "/api/trpc" {
        return Some(if *method == Method::POST {
            Function::Mutations
        } else {
            Function::Queries
        });
    }
    match path {
        "/api/health" => Some(Function::Health),
        "/api/cron/github-sync" => Some(Function::CronGithubSync),
        _ => None,
    }
}

/// Largest request head (request line and headers) this server reads, in bytes.
pub const MAX_HEAD_BYTES: usize = 1024 * 1024;
/// Longest request target hyper can parse (`http::Uri`'s limit).
const MAX_TARGET_BYTES: usize = u16::MAX as usize - 1;

/// Reads the first request head of a connection before hyper does: one hyper
/// would refuse with an empty 414/431 (a request target over
/// [`MAX_TARGET_BYTES`], a head over [`MAX_HEAD_BYTES`]) is answered here with
/// a tRPC JSON error instead; anything else is replayed to hyper untouched.
async fn screen_head(mut stream: TcpStream) -> Option<Replay> {
    let mut head = Vec::with_capacity(8192);
    let mut chunk = vec![0u8; 64 * 1024];
    let refused = loop {
        let line_end = head.windows(2).position(|w| w == b"\r\n");
        let target_len = line_end.unwrap_or(head.len());
        if target_len > MAX_TARGET_BYTES + 32 {
            break Some(format!(
                "Request URL exceeds {MAX_TARGET_BYTES} bytes; send large inputs with POST"
            ));
        }
        if head.windows(4).any(|w| w == b"\r\n\r\n") {
            break None;
        }
        if head.len() > MAX_HEAD_BYTES {
            break Some(format!("Request headers exceed {MAX_HEAD_BYTES} bytes"));
        }
        let read =
            tokio::time::timeout(std::time::Duration::from_secs(30), stream.read(&mut chunk)).await;
        match read {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break None,
            Ok(Ok(n)) => head.extend_from_slice(&chunk[..n]),
        }
    };
    if let Some(message) = refused {
        let err = crate::trpc::TrpcError::new(crate::trpc::TrpcCode::PayloadTooLarge, message);
        let body = crate::js_json::to_string(&err.envelope(None));
        let response = format!(
            "HTTP/1.1 {} Payload Too Large\r\ncontent-type: application/json\r\n\
             content-length: {}\r\nconnection: close\r\n\r\n{body}",
            err.code.http_status(),
            body.len()
        );
        let _ = stream.write_all(response.as_bytes()).await;
        let _ = stream.shutdown().await;
        return None;
    }
    Some(Replay {
        head,
        at: 0,
        stream,
    })
}

/// A connection whose first bytes were already read: they are served again first.
struct Replay {
    head: Vec<u8>,
    at: usize,
    stream: TcpStream,
}

impl AsyncRead for Replay {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        if this.at < this.head.len() {
            let n = buf.remaining().min(this.head.len() - this.at);
            buf.put_slice(&this.head[this.at..this.at + n]);
            this.at += n;
            if this.at == this.head.len() {
                this.head = Vec::new();
                this.at = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Replay {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

async fn dispatch(instance: Instance, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let (mut parts, body) = req.into_parts();
    // This server only speaks plain HTTP: say so, as a TLS-terminating proxy
    // would, unless a proxy in front of it already did. A local QStash then
    // delivers to `http://127.0.0.1:<port>/api/cron/github-sync`, and the
    // `sub` it signed matches without any setting (production, behind
    // Vercel, keeps `https`).
    if !parts.headers.contains_key("x-forwarded-proto") {
        parts
            .headers
            .insert("x-forwarded-proto", http::HeaderValue::from_static("http"));
    }
    let res = if parts.uri.path() == "/_vercel/ping" {
        Response::new(Bytes::from_static(b"OK"))
    } else {
        match route(&parts.method, parts.uri.path()) {
            None => json_response(StatusCode::NOT_FOUND, &json!({"error": "not found"})),
            Some(function) => match body.collect().await {
                Ok(body) => {
                    let req = Request::from_parts(parts, body.to_bytes());
                    functions::handle(&instance, function, req).await
                }
                Err(_) => json_response(
                    StatusCode::BAD_REQUEST,
                    &json!({"error": "could not read request body"}),
                ),
            },
        }
    };
    res.map(Full::new)
}

/// Serves every function on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, instance: Instance) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                // E.g. out of file descriptors: back off instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let instance = instance.clone();
        tokio::spawn(async move {
            let Some(stream) = screen_head(stream).await else {
                return;
            };
            let service = hyper::service::service_fn(move |req| {
                let instance = instance.clone();
                async move { Ok::<_, Infallible>(dispatch(instance, req).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .max_buf_size(MAX_HEAD_BYTES + 64 * 1024)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// Binds `addr` and serves in a background task; returns the bound address.
pub async fn spawn(
    addr: SocketAddr,
    instance: Instance,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    Ok((local, tokio::spawn(serve(listener, instance))))
}
