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
use tokio::net::TcpListener;

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

async fn dispatch(instance: Instance, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
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
            let service = hyper::service::service_fn(move |req| {
                let instance = instance.clone();
                async move { Ok::<_, Infallible>(dispatch(instance, req).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
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
