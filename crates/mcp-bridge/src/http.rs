//! The bridge's HTTP side. Each server is an MCP endpoint in the streamable HTTP form, with
//! answers as plain JSON:
//!
//! - `POST /servers/NAME` with one JSON-RPC message: a request is answered with `200` and its
//!   answer, a notification with `202`;
//! - `GET /servers`: each server, its path and where it stands;
//! - `GET /health`: `200` while the bridge serves.
//!
//! Every error is a JSON-RPC error whose message is a sentence that says what went wrong.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{ALLOW, CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::bridge::Bridge;
use crate::server::{CallError, Outcome};

/// The largest message the bridge takes: 8 MiB.
const MAX_MESSAGE: usize = 8 * 1024 * 1024;

/// Serves the bridge on `listener` until `shutdown` completes.
pub async fn serve(listener: TcpListener, bridge: Arc<Bridge>, shutdown: impl Future<Output = ()>) {
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    // Out of file handles, most often: wait a little rather than spin.
                    tracing::warn!("could not accept a connection: {error}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => return,
        };
        let bridge = bridge.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let bridge = bridge.clone();
                async move { Ok::<_, Infallible>(respond(&bridge, request).await) }
            });
            if let Err(error) = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!("a connection ended badly: {error}");
            }
        });
    }
}

async fn respond(bridge: &Bridge, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = request.uri().path().to_string();
    if let Some(name) = path.strip_prefix("/servers/") {
        return respond_for_server(bridge, name, request).await;
    }
    match (request.method(), path.as_str()) {
        (&Method::GET, "/health") => json_response(
            StatusCode::OK,
            &json!({"status": "ok", "servers": bridge.names().len()}),
        ),
        (&Method::GET, "/servers") => json_response(StatusCode::OK, &bridge.list()),
        _ => error_response(
            StatusCode::NOT_FOUND,
            Value::Null,
            &format!(
                "nothing is served at {} {path}: the bridge serves GET /health, GET /servers and POST /servers/NAME",
                request.method()
            ),
        ),
    }
}

async fn respond_for_server(
    bridge: &Bridge,
    name: &str,
    request: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let Some(server) = bridge.server(name) else {
        let names = bridge.names();
        let served = if names.is_empty() {
            "none: add servers to its servers file and restart it".to_string()
        } else {
            names.join(", ")
        };
        return error_response(
            StatusCode::NOT_FOUND,
            Value::Null,
            &format!("there is no MCP server \"{name}\" on this bridge; it serves {served}"),
        );
    };
    if request.method() != Method::POST {
        let mut response = error_response(
            StatusCode::METHOD_NOT_ALLOWED,
            Value::Null,
            &format!(
                "the MCP server {name} takes POST only: one JSON-RPC message per request, answered as JSON"
            ),
        );
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    let body = match Limited::new(request.into_body(), MAX_MESSAGE)
        .collect()
        .await
    {
        Ok(body) => body.to_bytes(),
        Err(error) => {
            return error_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                Value::Null,
                &format!("the message could not be read (at most 8 MiB are taken): {error}"),
            );
        }
    };
    let message = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(message)) if message.get("method").is_some_and(Value::is_string) => {
            message
        }
        Ok(Value::Array(_)) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                Value::Null,
                "batches are not passed on: send one JSON-RPC message per request",
            );
        }
        Ok(_) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                Value::Null,
                "only requests and notifications (JSON-RPC objects with a \"method\") are passed on",
            );
        }
        Err(error) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                Value::Null,
                &format!("the message is not JSON: {error}"),
            );
        }
    };
    let id = message.get("id").cloned().unwrap_or(Value::Null);
    match server.call(message).await {
        Ok(Outcome::Answer(answer)) => json_response(StatusCode::OK, &answer),
        Ok(Outcome::Accepted) => empty_response(StatusCode::ACCEPTED),
        Err(error) => {
            let status = match error {
                CallError::Timeout { .. } => StatusCode::GATEWAY_TIMEOUT,
                CallError::Start { .. } | CallError::Ended { .. } => StatusCode::BAD_GATEWAY,
            };
            error_response(status, id, &error.to_string())
        }
    }
}

/// A JSON-RPC error with `message` as its sentence.
fn error_response(status: StatusCode, id: Value, message: &str) -> Response<Full<Bytes>> {
    json_response(
        status,
        &json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32000, "message": message}}),
    )
}

fn json_response(status: StatusCode, body: &impl Serialize) -> Response<Full<Bytes>> {
    let body = serde_json::to_vec(body).unwrap_or_default();
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn empty_response(status: StatusCode) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    response
}
