//! HTTP guards in front of rmcp's Streamable HTTP service: the concurrency limit, the body
//! limit, and JSON-RPC errors for bodies that are not one JSON-RPC message; and
//! [`answer_early`], which keeps a keep-alive connection usable when a request is answered
//! before its body was read.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use std::convert::Infallible;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use http::request::Parts;
use http::{HeaderMap, HeaderValue, StatusCode, Version, header};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use mcp_actions::BoxFuture;
use rmcp::model::ClientJsonRpcMessage;
use rmcp::transport::streamable_http_server::StreamableHttpService;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use tower::Service;

use crate::auth::{self, AuthLayerState};
use crate::direct::Direct;
use crate::handler::ActionsHandler;
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

impl ConcurrencyLimit {
    /// A permit, or none when `maxConcurrentRequests` are already in progress.
    fn try_acquire(&self) -> Option<OwnedSemaphorePermit> {
        Arc::clone(&self.permits).try_acquire_owned().ok()
    }

    /// The answer when no permit is left: 503 with `Retry-After`, at once (nothing is queued).
    fn busy(&self, request: Request) -> Response {
        tracing::warn!(
            max = self.max,
            "refused a request: the server is at mcpActions.limits.maxConcurrentRequests"
        );
        let (parts, body) = request.into_parts();
        let mut response = json_rpc_error(
            StatusCode::SERVICE_UNAVAILABLE,
            SERVER_BUSY,
            format!(
                "the server is busy ({} requests in progress, mcpActions.limits.maxConcurrentRequests); retry after {BUSY_RETRY_AFTER_SECONDS} s",
                self.max
            ),
        );
        response.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(BUSY_RETRY_AFTER_SECONDS),
        );
        answer_early(parts.version, &parts.headers, body, response)
    }
}

/// rmcp's Streamable HTTP service behind the guards, as one tower service. In order:
///
/// 1. the concurrency limit: 503 + `Retry-After` at once when `maxConcurrentRequests` are in
///    progress; the permit is held until the response body is done, so a streamed answer
///    counts until its end;
/// 2. authentication: 401 with the endpoint's challenge, or the caller's [`Credentials`]
///    in the request extensions (see [`auth::authenticate`]);
/// 3. the body limit and JSON-RPC errors for bodies that are not one JSON-RPC message (see
///    [`read_body`]);
/// 4. a plain stateless `tools/call` or `tools/list` answered directly (see [`Direct`]);
///    everything else by rmcp, called by reference.
///
/// One service rather than three `axum::middleware::from_fn` layers: each such layer clones
/// (and boxes) everything inside it on every request, rmcp's service included, which cost
/// about a tenth of a `tools/call`'s CPU time (see `benches/`).
///
/// [`Credentials`]: mcp_actions::Credentials
#[derive(Clone)]
pub(crate) struct GuardedMcpService {
    shared: Arc<Guarded>,
}

struct Guarded {
    concurrency: ConcurrencyLimit,
    auth: AuthLayerState,
    body_limit: usize,
    direct: Option<Direct>,
    mcp: StreamableHttpService<ActionsHandler, NeverSessionManager>,
}

impl GuardedMcpService {
    pub(crate) fn new(
        concurrency: ConcurrencyLimit,
        auth: AuthLayerState,
        body_limit: usize,
        direct: Option<Direct>,
        mcp: StreamableHttpService<ActionsHandler, NeverSessionManager>,
    ) -> Self {
        Self {
            shared: Arc::new(Guarded {
                concurrency,
                auth,
                body_limit,
                direct,
                mcp,
            }),
        }
    }
}

impl Guarded {
    async fn serve(&self, request: Request) -> Response {
        let Some(permit) = self.concurrency.try_acquire() else {
            return self.concurrency.busy(request);
        };
        let request = match auth::authenticate(&self.auth, request).await {
            Ok(request) => request,
            Err(unauthorized) => return unauthorized,
        };
        let (parts, bytes) = match read_body(self.body_limit, request).await {
            Ok(read) => read,
            Err(refused) => return refused,
        };
        let direct = match &self.direct {
            Some(direct) => direct.answer(&parts, &bytes).await,
            None => None,
        };
        let response = match direct {
            Some(response) => response,
            None => {
                let request = Request::from_parts(parts, Full::new(bytes.clone()));
                let response = self.mcp.handle(request).await.map(Body::new);
                rewrite_unparsable(response, &bytes).await
            }
        };
        response.map(|body| {
            Body::new(PermitBody {
                inner: body,
                _permit: permit,
            })
        })
    }
}

impl Service<Request> for GuardedMcpService {
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let shared = Arc::clone(&self.shared);
        Box::pin(async move { Ok(shared.serve(request).await) })
    }
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

/// Reads the body of an MCP POST before rmcp does: over `limit` → 413 with a JSON-RPC error
/// body, from `Content-Length` before any of the body is read, else as soon as the bytes
/// read cross the limit (never read whole; the connection is then closed).
async fn read_body(limit: usize, request: Request) -> Result<(Parts, Bytes), Response> {
    let (parts, body) = request.into_parts();
    let announced = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if announced.is_some_and(|length| length > limit as u64) {
        return Err(answer_early(
            parts.version,
            &parts.headers,
            body,
            too_large(limit),
        ));
    }
    match Limited::new(body, limit).collect().await {
        // One chunk (the usual case) is not copied.
        Ok(collected) => Ok((parts, collected.to_bytes())),
        Err(error) if error.is::<LengthLimitError>() => {
            // The rest is not read: the connection cannot be reused.
            let mut response = too_large(limit);
            if parts.version <= Version::HTTP_11 {
                response
                    .headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            Err(response)
        }
        Err(error) => {
            tracing::debug!(%error, "could not read a request body");
            Err(json_rpc_error(
                StatusCode::BAD_REQUEST,
                INVALID_REQUEST,
                format!("the request body could not be read: {error}"),
            ))
        }
    }
}

/// rmcp's answer to a body that is not one JSON-RPC message (415, text
/// `fail to deserialize request body …`) becomes what JSON-RPC asks for: HTTP 400 with
/// -32700 (Parse error) for a body that is not JSON, -32600 (Invalid Request) for JSON that is
/// not a JSON-RPC request. A wrong `Content-Type` stays 415; every other answer is untouched.
async fn rewrite_unparsable(response: Response, body: &[u8]) -> Response {
    if response.status() != StatusCode::UNSUPPORTED_MEDIA_TYPE {
        return response;
    }
    let (head, text) = response.into_parts();
    let text = axum::body::to_bytes(text, 64 * 1024)
        .await
        .unwrap_or_default();
    if !text.starts_with(b"fail to deserialize request body") {
        return Response::from_parts(head, Body::from(text));
    }
    invalid_message(body)
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
