//! Direct dispatch: the common stateless requests answered without rmcp's per-request service.
//!
//! For every stateless POST, rmcp's Streamable HTTP service parses the message into its
//! `ClientJsonRpcMessage`, builds a whole MCP service around a one-shot transport, spawns its
//! serve loop and waits on a channel for the answer: about two thirds of the CPU time of a
//! `tools/call` of a trivial action, and two or three hand-offs between threads (see
//! `benches/`). The requests an MCP client sends over and over — `tools/call` and `tools/list`,
//! and on 2026-07-28 `server/discover` — need none of it when they carry nothing but a name,
//! arguments, a cursor and the metadata their revision requires.
//!
//! [`Direct::answer`] takes such a request — and only when it is plainly one of them — and
//! answers it with the same handler calls and the same rmcp model types, serialized the way
//! rmcp does, so the bytes on the wire are the same. On 2026-07-28 that takes what rmcp checks
//! before its handler runs: the `_meta` the revision requires (read with rmcp's
//! `RequestMetaObject`), naming the same version as the `MCP-Protocol-Version` header, and the
//! SEP-2243 `Mcp-Method` / `Mcp-Name` headers matching the body. rmcp's own validators for
//! those headers are not public, so only the case where they plainly pass is answered here:
//! one of each header, byte-equal to the body, no Base64-wrapped `Mcp-Name`, no tool whose
//! schema asks for `Mcp-Param-*` headers. Anything else (another method, more `_meta` such as
//! a progress token, a header that is missing, repeated or does not match, a body of another
//! shape) returns `None` and goes through rmcp as before, errors included. The differential
//! test in `tests/e2e/direct.rs` sends the same requests both ways, on both revisions, and
//! compares the answers; the fuzz target `direct_vs_rmcp` does the same with arbitrary bytes.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::response::Response;
use http::request::Parts;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use mcp_actions::{BoxFuture, CallOptions, Credentials};
use rmcp::ErrorData as McpError;
use rmcp::ServerHandler;
use rmcp::model::{
    CallToolResponse, ProtocolVersion, RequestId, ServerJsonRpcMessage, ServerResult,
};
use rmcp::transport::common::http_header::{
    BASE64_HEADER_PREFIX, HEADER_MCP_METHOD, HEADER_MCP_NAME, HEADER_MCP_PROTOCOL_VERSION,
};
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use super::body::content_type_is_json;
use super::elicit::SESSION_ID;
use crate::mcp::{ActionsHandler, Asking, Seen, can_elicit};
use crate::telemetry::trace::{Request, W3c};
pub(crate) use request::take_call;
use request::{PlainParams, PlainRequest};

/// Whether requests of the revision `version` may be answered here: a revision rmcp knows and
/// the handler supports, from before both the SEP-2243 standard headers (`Mcp-Method`,
/// `Mcp-Name`, which rmcp checks against the body) and the per-request `_meta` lifecycle.
/// Taken from rmcp's own definitions, so an rmcp upgrade that adds or moves a revision moves
/// this line with it.
fn answered_directly(version: &str) -> bool {
    ProtocolVersion::KNOWN_VERSIONS
        .iter()
        .find(|known| known.as_str() == version)
        .is_some_and(|known| known.has_initialize() && *known < ProtocolVersion::STANDARD_HEADERS)
}

/// What [`Direct::answer`] needs besides the request: the handler.
#[derive(Clone)]
pub(crate) struct Direct {
    handler: ActionsHandler,
}

impl Direct {
    pub(crate) fn new(handler: ActionsHandler) -> Self {
        Self { handler }
    }

    /// The answer to a plain stateless `tools/call`, `tools/list` or (2026-07-28)
    /// `server/discover`, or `None` for rmcp.
    pub(crate) async fn answer(&self, parts: &Parts, body: &Bytes) -> Option<Response> {
        if !head_is_plain(parts) {
            return None;
        }
        let revision = self.revision(&parts.headers)?;
        let credentials = parts.extensions.get::<Credentials>()?;
        let request = PlainRequest::parse(body)?;
        let at = At::new(&request.id, credentials, parts, revision.version());
        let answer = match &revision {
            Revision::Legacy(_) => self.legacy(&request.method, request.params, at),
            Revision::Stateless(headers) => {
                self.stateless(headers, &request.method, request.params, at)
            }
        }?
        .await;
        let mut result = match answer {
            Ok(result) => result,
            Err(error) => {
                // Only -32602 arises here (an unknown or hidden tool, a bad cursor): HTTP 200
                // on both revisions, as rmcp answers it for well-formed request metadata.
                return Some(json_response(&ServerJsonRpcMessage::error(
                    error,
                    Some(request.id),
                )));
            }
        };
        match revision {
            // As rmcp answers a peer on a revision before 2026-07-28: no `resultType`.
            Revision::Legacy(_) => result.strip_result_type_for_legacy_peer(),
            // As rmcp completes a 2026-07-28 answer (the handler sets the hints itself).
            Revision::Stateless(_) => result.fill_missing_cache_hints(),
        }
        tracing::trace!(method = %request.method, "answered directly (not through rmcp's service)");
        Some(json_response(&ServerJsonRpcMessage::response(
            result, request.id,
        )))
    }

    /// What the request's `Mcp-*` headers say: a revision answered here, and nothing else
    /// (no `Mcp-Param-*`), or `None`. An `Mcp-Session-Id` changes nothing here: rmcp's
    /// stateless service ignores it too, and a session that lets the server ask the user was
    /// taken by `http::elicit` first.
    fn revision<'a>(&self, headers: &'a HeaderMap) -> Option<Revision<'a>> {
        let mcp = McpHeaders::of(headers)?;
        let version = mcp.version?;
        if answered_directly(version) {
            return (mcp.method.is_none() && mcp.name.is_none())
                .then_some(Revision::Legacy(version));
        }
        let stateless = ProtocolVersion::KNOWN_VERSIONS.iter().find(|known| {
            known.as_str() == version
                && !known.has_initialize()
                && **known >= ProtocolVersion::STANDARD_HEADERS
        })?;
        self.handler
            .supported_protocol_versions()
            .contains(stateless)
            .then_some(Revision::Stateless(mcp))
    }

    /// A 2025 (or older) request: `tools/list` with at most a `cursor`, `tools/call` with a
    /// name and object arguments; nothing else (a `_meta`, a `task`, …).
    fn legacy<'a>(
        &'a self,
        method: &str,
        params: Option<PlainParams>,
        at: At<'a>,
    ) -> Option<BoxFuture<'a, Answer>> {
        let params = match params {
            None if method == "tools/list" => Map::new(),
            Some(PlainParams { meta: None, rest }) => rest,
            _ => return None,
        };
        self.dispatch(method, params, at, None)
    }

    /// A 2026-07-28 request: the metadata that revision requires in `_meta` and nothing else
    /// (no progress token), matching the `MCP-Protocol-Version` header, and the SEP-2243
    /// `Mcp-Method` / `Mcp-Name` headers matching the body as rmcp requires them. Anything
    /// else (an error among them) is left to rmcp, which answers it.
    fn stateless<'a>(
        &'a self,
        headers: &McpHeaders<'_>,
        method: &str,
        params: Option<PlainParams>,
        mut at: At<'a>,
    ) -> Option<BoxFuture<'a, Answer>> {
        let PlainParams {
            meta: Some(meta),
            rest: params,
        } = params?
        else {
            return None;
        };
        if meta.protocol_version.as_str() != headers.version? || headers.method? != method {
            return None;
        }
        let can_ask = can_elicit(&meta.client_capabilities);
        at.context = TraceContext {
            traceparent: meta.traceparent,
            tracestate: meta.tracestate,
        };
        match (method, params.get("name"), headers.name) {
            // A Base64-wrapped `Mcp-Name` (`=?base64?…?=`) is rmcp's to decode; an
            // `x-mcp-header` annotation on the tool asks for `Mcp-Param-*` headers, which rmcp
            // checks.
            ("tools/call", Some(Value::String(name)), Some(header))
                if header != name
                    || header.starts_with(BASE64_HEADER_PREFIX)
                    || self.handler.has_param_headers(name) =>
            {
                return None;
            }
            ("tools/call", Some(Value::String(_)), Some(_)) => {}
            ("tools/call", _, _) | (_, _, Some(_)) => return None,
            _ => {}
        }
        if method == "server/discover" {
            if !params.is_empty() {
                return None;
            }
            let result = ServerResult::DiscoverResult(self.handler.discover_result());
            return Some(Box::pin(std::future::ready(Ok(result))));
        }
        self.dispatch(method, params, at, Some(can_ask))
    }

    /// `tools/list` (a `cursor` at most) or `tools/call` (a `name`, object `arguments` at
    /// most), with `params` left after `_meta`; `None` for anything else. `stateless`: a
    /// 2026-07-28 request (list caching hints, questions for the user as input-required
    /// results), and whether its client can be asked.
    fn dispatch<'a>(
        &'a self,
        method: &str,
        mut params: Map<String, Value>,
        at: At<'a>,
        stateless: Option<bool>,
    ) -> Option<BoxFuture<'a, Answer>> {
        let hints = stateless.is_some();
        let At {
            id,
            credentials,
            parts,
            version,
            context,
        } = at;
        let seen = |method, tool| {
            let request = Request {
                method,
                tool,
                id,
                context: context.w3c(),
            };
            self.handler
                .seen(&request, Some(parts), credentials, Some(version))
        };
        match method {
            "tools/list" => {
                let cursor = match params.remove("cursor") {
                    None => None,
                    Some(Value::String(cursor)) => Some(cursor),
                    Some(_) => return None,
                };
                if !params.is_empty() {
                    return None;
                }
                let seen = seen("tools/list", None);
                Some(Box::pin(async move {
                    self.handler
                        .list_for(credentials, cursor.as_deref(), hints, &seen)
                        .await
                        .map(ServerResult::ListToolsResult)
                }))
            }
            "tools/call" => {
                let (name, arguments) = take_call(&mut params)?;
                if !params.is_empty() {
                    return None; // `task`, `inputResponses`, `requestState`, …: rmcp's
                }
                let seen = seen("tools/call", Some(&name));
                // The first round of a 2026-07-28 call may end input-required here too; its
                // retries carry `requestState` and go through rmcp, to the same handler.
                let asking = match stateless {
                    None => Asking::Nobody,
                    Some(can_ask) => Asking::Rounds {
                        can_ask,
                        request_state: None,
                        responses: None,
                    },
                };
                Some(Box::pin(call(
                    &self.handler,
                    name,
                    arguments,
                    credentials.clone(),
                    seen,
                    asking,
                )))
            }
            _ => None,
        }
    }
}

/// Who sent a request, and how: what its span and audit event are made of.
struct At<'a> {
    id: &'a RequestId,
    credentials: &'a Credentials,
    parts: &'a Parts,
    /// The `MCP-Protocol-Version` header's value.
    version: &'a str,
    /// The trace context of `_meta` (2026-07-28 requests only).
    context: TraceContext,
}

impl<'a> At<'a> {
    fn new(
        id: &'a RequestId,
        credentials: &'a Credentials,
        parts: &'a Parts,
        version: &'a str,
    ) -> Self {
        Self {
            id,
            credentials,
            parts,
            version,
            context: TraceContext::default(),
        }
    }
}

/// `_meta.traceparent` and `_meta.tracestate` (SEP-414) of a 2026-07-28 request.
#[derive(Default)]
struct TraceContext {
    traceparent: Option<String>,
    tracestate: Option<String>,
}

impl TraceContext {
    fn w3c(&self) -> W3c<'_> {
        W3c {
            traceparent: self.traceparent.as_deref(),
            tracestate: self.tracestate.as_deref(),
        }
    }
}

/// What a request answered here gets: a result, or a JSON-RPC error (-32602).
type Answer = Result<ServerResult, McpError>;

/// The revision of a request answered here.
enum Revision<'a> {
    /// Before 2026-07-28 (this one, from `MCP-Protocol-Version`): no per-request metadata, no
    /// SEP-2243 headers.
    Legacy(&'a str),
    /// 2026-07-28 (and later revisions rmcp and the handler know without `initialize`), with
    /// its `Mcp-*` headers.
    Stateless(McpHeaders<'a>),
}

impl<'a> Revision<'a> {
    /// The `MCP-Protocol-Version` header's value (a request answered here always has one).
    fn version(&self) -> &'a str {
        match self {
            Revision::Legacy(version) => version,
            Revision::Stateless(headers) => headers.version.unwrap_or_default(),
        }
    }
}

/// The `Mcp-*` headers of a request, each at most once and valid text.
struct McpHeaders<'a> {
    version: Option<&'a str>,
    method: Option<&'a str>,
    name: Option<&'a str>,
}

impl<'a> McpHeaders<'a> {
    /// The headers, or `None` when one is repeated or not text, or another `Mcp-*` header is
    /// present (`Mcp-Param-*`). The session id is skipped.
    fn of(headers: &'a HeaderMap) -> Option<Self> {
        let mut mcp = McpHeaders {
            version: None,
            method: None,
            name: None,
        };
        for (name, value) in headers {
            let name = name.as_str();
            if !name.starts_with("mcp-") || name == SESSION_ID {
                continue;
            }
            let slot = if name.eq_ignore_ascii_case(HEADER_MCP_PROTOCOL_VERSION) {
                &mut mcp.version
            } else if name.eq_ignore_ascii_case(HEADER_MCP_METHOD) {
                &mut mcp.method
            } else if name.eq_ignore_ascii_case(HEADER_MCP_NAME) {
                &mut mcp.name
            } else {
                return None;
            };
            if slot.is_some() {
                return None;
            }
            *slot = Some(value.to_str().ok()?);
        }
        Some(mcp)
    }
}

/// A POST with the headers of an ordinary stateless request, which rmcp would accept (the guard
/// has checked its `Host`): no `Origin`, both media types accepted (no parameters), a JSON
/// body.
fn head_is_plain(parts: &Parts) -> bool {
    parts.method == Method::POST
        && !parts.headers.contains_key(header::ORIGIN)
        && accepts_json_and_sse(&parts.headers)
        && content_type_is_json(&parts.headers)
}

/// `Accept` values without parameters or quotes that name both `application/json` and
/// `text/event-stream`.
fn accepts_json_and_sse(headers: &HeaderMap) -> bool {
    let mut values = headers.get_all(header::ACCEPT).iter();
    if let (Some(value), None) = (values.next(), values.next())
        && value == "application/json, text/event-stream"
    {
        return true; // what clients send
    }
    let (mut json, mut sse) = (false, false);
    for value in headers.get_all(header::ACCEPT) {
        let Ok(value) = value.to_str() else {
            return false;
        };
        if value.contains([';', '"']) {
            return false;
        }
        for essence in value.split(',').map(str::trim) {
            json |= essence.eq_ignore_ascii_case("application/json");
            sse |= essence.eq_ignore_ascii_case("text/event-stream");
        }
    }
    json && sse
}

/// Calls the tool in place. Cancelled (with the action seeing its cancellation token fire)
/// when the client goes away or the server's grace period is over, as through rmcp.
async fn call(
    handler: &ActionsHandler,
    name: String,
    arguments: Option<Value>,
    credentials: Credentials,
    seen: Seen,
    asking: Asking,
) -> Result<ServerResult, McpError> {
    let cancellation = handler.call_cancellation();
    let options = CallOptions::new(credentials).with_cancellation(cancellation.clone());
    let handler = handler.clone();
    FinishOnDrop {
        call: Some(Box::pin(async move {
            handler.call(&name, arguments, options, seen, asking).await
        })),
        cancellation,
    }
    .await
    .map(ServerResult::from)
}

/// What [`ActionsHandler::call`] answers: a tool result (or input-required), or -32602 for an
/// unknown tool.
pub(crate) type CallOutcome = Result<CallToolResponse, McpError>;

/// A call polled in place by the request's future. When that future is dropped first (the
/// client disconnected), the call's cancellation token is cancelled and the call is moved to
/// a task of its own, so the action sees the cancellation and ends as it chooses, instead of
/// being dropped at an arbitrary await point.
pub(crate) struct FinishOnDrop {
    call: Option<BoxFuture<'static, CallOutcome>>,
    cancellation: CancellationToken,
}

impl FinishOnDrop {
    /// `call`, which `cancellation` cancels.
    pub(crate) fn new(
        call: BoxFuture<'static, CallOutcome>,
        cancellation: CancellationToken,
    ) -> Self {
        Self {
            call: Some(call),
            cancellation,
        }
    }
}

impl Future for FinishOnDrop {
    type Output = CallOutcome;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<CallOutcome> {
        let Some(call) = self.call.as_mut() else {
            panic!("FinishOnDrop polled after it finished");
        };
        let result = std::task::ready!(call.as_mut().poll(cx));
        self.call = None;
        Poll::Ready(result)
    }
}

impl Drop for FinishOnDrop {
    fn drop(&mut self) {
        if let Some(call) = self.call.take() {
            self.cancellation.cancel();
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(call);
            }
        }
    }
}

/// The message as rmcp sends a JSON answer: status 200, `Content-Type: application/json`.
pub(crate) fn json_response(message: &ServerJsonRpcMessage) -> Response {
    match serde_json::to_vec(message) {
        Ok(body) => {
            let mut response = Response::new(Body::from(body));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
        }
        Err(error) => {
            tracing::error!(%error, "could not serialize a JSON-RPC answer");
            let mut response = Response::new(Body::from("Internal Server Error"));
            *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            response
        }
    }
}

mod request;
#[cfg(test)]
mod tests;
