//! HTTP guards in front of rmcp's Streamable HTTP service: the concurrency limit, the body
//! limit, and JSON-RPC errors for bodies that are not one JSON-RPC message; and
//! [`answer_early`], which keeps a keep-alive connection usable when a request is answered
//! before its body was read.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use http::{HeaderMap, HeaderValue, StatusCode, Version, header};
use rmcp::model::ClientJsonRpcMessage;
use serde_json::{Value, json};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The `Retry-After` of a 503 sent when `mcpActions.limits.maxConcurrentRequests` requests are
/// already in progress, in seconds.
pub const BUSY_RETRY_AFTER_SECONDS: u64 = 1;

/// A request answered before its body was read keeps its connection when the body announced
/// is at most this long: the body is read (and dropped) in the background.
const DRAIN_MAX_BYTES: u64 = 64 * 1024;
/// How long such a background read waits for the rest of the body.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Finishes a request answered before its body was read.
///
/// HTTP/1.1 cannot tell where the next request on the connection starts until this body has
/// been read, and hyper closes the connection when the body is dropped unread, without telling
/// the client. So: a request without a body needs nothing; a body of known length up to 64 KiB
/// is read in the background (the connection stays usable for the next request); anything
/// else is answered with `Connection: close`, so a keep-alive client opens a new connection
/// instead of failing its next request.
pub(crate) fn answer_early(
    version: Version,
    headers: &HeaderMap,
    body: Body,
    mut response: Response,
) -> Response {
    if body.is_end_stream() {
        return response;
    }
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let chunked = headers.contains_key(header::TRANSFER_ENCODING);
    match length {
        Some(0) if !chunked => {}
        Some(length) if !chunked && length <= DRAIN_MAX_BYTES => {
            tokio::spawn(async move {
                let mut data = body.into_data_stream();
                let drain = async { while let Some(Ok(_)) = data.next().await {} };
                let _ = tokio::time::timeout(DRAIN_TIMEOUT, drain).await;
            });
        }
        _ => {
            // HTTP/2 and later have no `Connection` header (and need none: streams are framed).
            if version <= Version::HTTP_11 {
                response
                    .headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
        }
    }
    response
}

/// A JSON-RPC error answer with no request id (the request was not read, or not understood).
pub(crate) fn json_rpc_error(status: StatusCode, code: i32, message: String) -> Response {
    let body = json!({
        "jsonrpc": "2.0",
        "id": null,
        "error": { "code": code, "message": message },
    });
    (status, axum::Json(body)).into_response()
}

/// JSON-RPC's "Invalid Request" (-32600), also used for the HTTP-level refusals below.
const INVALID_REQUEST: i32 = -32600;
/// JSON-RPC's "Parse error".
const PARSE_ERROR: i32 = -32700;
/// A JSON-RPC server error code: the server is overloaded.
const SERVER_BUSY: i32 = -32000;

/// The state of [`limit_concurrency`]: one semaphore shared by every MCP endpoint.
#[derive(Clone)]
pub(crate) struct ConcurrencyLimit {
    pub(crate) permits: Arc<Semaphore>,
    pub(crate) max: usize,
}

impl ConcurrencyLimit {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(max.min(Semaphore::MAX_PERMITS))),
            max,
        }
    }
}

/// Refuses a request at once — 503 with `Retry-After` — when `maxConcurrentRequests` are
/// already in progress (nothing is queued). The permit is held until the response body is
/// done, so a streamed answer counts until its end.
pub(crate) async fn limit_concurrency(
    State(limit): State<ConcurrencyLimit>,
    request: Request,
    next: Next,
) -> Response {
    let Ok(permit) = Arc::clone(&limit.permits).try_acquire_owned() else {
        tracing::warn!(
            max = limit.max,
            "refused a request: the server is at mcpActions.limits.maxConcurrentRequests"
        );
        let (parts, body) = request.into_parts();
        let mut response = json_rpc_error(
            StatusCode::SERVICE_UNAVAILABLE,
            SERVER_BUSY,
            format!(
                "the server is busy ({} requests in progress, mcpActions.limits.maxConcurrentRequests); retry after {BUSY_RETRY_AFTER_SECONDS} s",
                limit.max
            ),
        );
        response.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(BUSY_RETRY_AFTER_SECONDS),
        );
        return answer_early(parts.version, &parts.headers, body, response);
    };
    let response = next.run(request).await;
    response.map(|body| {
        Body::new(PermitBody {
            inner: body,
            _permit: permit,
        })
    })
}

/// A response body that holds a concurrency permit until it is done (or dropped).
struct PermitBody {
    inner: Body,
    _permit: OwnedSemaphorePermit,
}

impl HttpBody for PermitBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// The answer to a body over `maxRequestBodyBytes`.
fn too_large(limit: usize) -> Response {
    json_rpc_error(
        StatusCode::PAYLOAD_TOO_LARGE,
        INVALID_REQUEST,
        format!(
            "the request body is larger than {limit} bytes (mcpActions.limits.maxRequestBodyBytes)"
        ),
    )
}

/// Reads the body of an MCP POST before rmcp does:
///
/// - over `limit` → 413 with a JSON-RPC error body: from `Content-Length` before any of the
///   body is read, else as soon as the bytes read cross the limit (never read whole);
/// - rmcp's answer to a body that is not one JSON-RPC message (415, text
///   `fail to deserialize request body …`) becomes what JSON-RPC asks for: HTTP 400 with
///   -32700 (Parse error) for a body that is not JSON, -32600 (Invalid Request) for JSON that
///   is not a JSON-RPC request. A wrong `Content-Type` stays 415.
pub(crate) async fn read_body(
    State(limit): State<usize>,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let announced = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if announced.is_some_and(|length| length > limit as u64) {
        return answer_early(parts.version, &parts.headers, body, too_large(limit));
    }
    let mut collected = Vec::new();
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(chunk) => {
                if chunk.len() > limit.saturating_sub(collected.len()) {
                    // The rest is not read: the connection cannot be reused.
                    let mut response = too_large(limit);
                    if parts.version <= Version::HTTP_11 {
                        response
                            .headers_mut()
                            .insert(header::CONNECTION, HeaderValue::from_static("close"));
                    }
                    return response;
                }
                collected.extend_from_slice(&chunk);
            }
            Err(error) => {
                tracing::debug!(%error, "could not read a request body");
                return json_rpc_error(
                    StatusCode::BAD_REQUEST,
                    INVALID_REQUEST,
                    format!("the request body could not be read: {error}"),
                );
            }
        }
    }
    let bytes = Bytes::from(collected);
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes.clone())))
        .await;
    if response.status() != StatusCode::UNSUPPORTED_MEDIA_TYPE {
        return response;
    }
    // Only rmcp's "not one JSON-RPC message" answer; a wrong Content-Type stays as it is.
    let (head, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .unwrap_or_default();
    if !text.starts_with(b"fail to deserialize request body") {
        return Response::from_parts(head, Body::from(text));
    }
    invalid_message(&bytes)
}

/// The JSON-RPC error for a body rmcp could not take as one JSON-RPC message.
fn invalid_message(body: &[u8]) -> Response {
    let value = match serde_json::from_slice::<Value>(body) {
        Ok(value) => value,
        Err(error) => {
            return json_rpc_error(
                StatusCode::BAD_REQUEST,
                PARSE_ERROR,
                crate_cap(&format!("Parse error: the body is not JSON: {error}")),
            );
        }
    };
    let reason = match serde_json::from_value::<ClientJsonRpcMessage>(value.clone()) {
        Err(error) if value.is_array() => {
            format!("batches are not supported: send one message per request ({error})")
        }
        Err(error) => error.to_string(),
        Ok(_) => "not a JSON-RPC request this server accepts".to_owned(),
    };
    // Echo a well-formed id, so the client can match the answer; else `null`.
    let id = value
        .get("id")
        .filter(|id| id.is_string() || id.is_i64())
        .cloned()
        .unwrap_or(Value::Null);
    let body = json!({
        "jsonrpc": "2.0",
        "id": id,
        "error": {
            "code": INVALID_REQUEST,
            "message": crate_cap(&format!(
                "Invalid Request: the body is not a JSON-RPC 2.0 request: {reason}"
            )),
        },
    });
    (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
}

fn crate_cap(message: &str) -> String {
    mcp_actions::error::cap_message(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn json_of(response: Response) -> (StatusCode, Value) {
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, serde_json::from_slice(&body).unwrap())
    }

    #[tokio::test]
    async fn bodies_that_are_not_json_rpc_get_json_rpc_errors() {
        let (status, body) = json_of(invalid_message(b"hello")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"]["code"], PARSE_ERROR);
        assert_eq!(body["id"], Value::Null);
        let (status, body) =
            json_of(invalid_message(br#"{"jsonrpc":"1.0","id":7,"method":"x"}"#)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"]["code"], INVALID_REQUEST);
        assert_eq!(body["id"], 7, "a well-formed id is echoed");
        let (_, body) = json_of(invalid_message(br#"{"id":{"an":"object"}}"#)).await;
        assert_eq!(body["id"], Value::Null);
        let (_, body) = json_of(invalid_message(b"[]")).await;
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("batches are not supported"),
            "{body}"
        );
    }
}
