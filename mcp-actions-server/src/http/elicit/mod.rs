//! Asking the user over Streamable HTTP on 2025-11-25, which rmcp serves statelessly.
//!
//! | file | what it owns |
//! |---|---|
//! | `session.rs` | the `Mcp-Session-Id` assigned at `initialize`: the client's elicitation capability, sealed and bound to the caller (no server state) |
//! | `waiting.rs` | the questions waiting for an answer on this process, and the prompt that asks on the call's stream |
//! | `stream.rs` | a call that may ask: its JSON answer, or an SSE stream once it asks |
//!
//! 1. `initialize` from a client that declares form elicitation: rmcp answers it, and the
//!    answer gets an `Mcp-Session-Id` carrying that capability ([`Sessions`]).
//! 2. A `tools/call` with such a session: the call runs with a [`StreamPrompt`]. Until it asks,
//!    nothing changes (a call that does not ask is answered with JSON, as always); its first
//!    question turns the response into an SSE stream carrying `elicitation/create` with a fresh
//!    unguessable id, and the call waits, bounded by the action's timeout.
//! 3. The client POSTs its JSON-RPC response with the same session id: it goes to the waiting
//!    call if the id, the session and the caller match, answered `202 Accepted`; otherwise 400
//!    with a JSON-RPC error, and the call goes on waiting. Its `notifications/cancelled` for
//!    the call cancels it (no answer is sent then).
//!
//! Every other request stays stateless. The answer must reach the process that holds the call:
//! behind a load balancer, route by the `Mcp-Session-Id` header (session affinity).

mod session;
mod stream;
mod waiting;

use std::sync::Arc;

use axum::body::Bytes;
use axum::response::Response;
use http::request::Parts;
use http::{HeaderValue, Method, StatusCode, header};
use mcp_actions::Credentials;
use rmcp::model::{ProtocolVersion, RequestId};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::body::{content_type_is_json, json_rpc_error};
use crate::mcp::ActionsHandler;
pub(crate) use session::{SESSION_ID, Sessions};
use waiting::Waiting;

/// JSON-RPC's "invalid request" code.
const INVALID_REQUEST: i32 = -32600;

/// The `MCP-Protocol-Version` header, by name (a header looked up by text is hashed first).
const MCP_PROTOCOL_VERSION: http::HeaderName =
    http::HeaderName::from_static("mcp-protocol-version");

/// Sessions, questions and answers of one endpoint.
#[derive(Clone)]
pub(crate) struct Asker {
    handler: ActionsHandler,
    sessions: Sessions,
    waiting: Arc<Waiting>,
}

/// The members of a JSON-RPC message that tell what it is.
#[derive(Deserialize)]
struct Message {
    jsonrpc: Option<String>,
    id: Option<RequestId>,
    method: Option<String>,
    params: Option<Value>,
    result: Option<Value>,
    error: Option<Value>,
}

impl Asker {
    pub(crate) fn new(handler: ActionsHandler) -> Self {
        let sessions = Sessions::new(handler.seal().clone());
        Self {
            handler,
            sessions,
            waiting: Arc::default(),
        }
    }

    /// The session id to give the answer to `initialize`, when the request is one from a
    /// client that can be asked (`None` for every other request).
    pub(crate) fn session_for(&self, parts: &Parts, body: &Bytes) -> Option<HeaderValue> {
        // Most requests are not `initialize`: skip the parse for them.
        if parts.method != Method::POST || !contains(body, b"\"initialize\"") {
            return None;
        }
        let message: Message = serde_json::from_slice(body).ok()?;
        if message.method.as_deref() != Some("initialize") || message.id.is_none() {
            return None;
        }
        let credentials = parts.extensions.get::<Credentials>()?;
        let capabilities = message.params.as_ref()?.get("capabilities");
        self.sessions.issue(credentials, capabilities)
    }

    /// The answer to a request with a session id that is this module's: a client's answer to
    /// a question (`202`, or `400` when no question of this session and caller waits for it),
    /// or a `tools/call` from a client that can be asked. `None` for anything else.
    pub(crate) async fn answer(&self, parts: &Parts, body: &Bytes) -> Option<Response> {
        let (credentials, message) = message(parts, body)?;
        match message.method.as_deref() {
            Some("tools/call") => {}
            Some("notifications/cancelled") => return self.cancel(parts, credentials, message),
            _ => return self.take(parts, credentials, message),
        }
        let id = message.id?;
        if !legacy_revision(parts) || !accepts_sse(parts) {
            return None;
        }
        let session = self.sessions.can_ask(credentials, &parts.headers)?;
        let Some(Value::Object(params)) = message.params else {
            return None;
        };
        let call = stream::Call::of(params)?;
        let caller = stream::Caller {
            id,
            session,
            credentials,
            parts,
        };
        Some(call.run(&self.handler, &self.waiting, caller).await)
    }

    /// The answer to a request that is a client's answer to a question (see
    /// [`Asker::answer`]); `None` for any other request.
    pub(crate) fn take_answer(&self, parts: &Parts, body: &Bytes) -> Option<Response> {
        let (credentials, message) = message(parts, body)?;
        self.take(parts, credentials, message)
    }

    /// [`Asker::take_answer`] of a parsed message.
    fn take(&self, parts: &Parts, credentials: &Credentials, message: Message) -> Option<Response> {
        if message.method.is_some() {
            return None;
        }
        let id = message.id?;
        let reply = reply_of(message.result, message.error)?;
        let session = self.sessions.can_ask(credentials, &parts.headers);
        Some(self.deliver(session, credentials, &id, reply))
    }

    /// `notifications/cancelled` for a call in progress here that may ask: cancels it (its
    /// questions stop waiting; no answer is sent) and answers `202`. `None` (rmcp's, which
    /// ignores it) for any other.
    fn cancel(
        &self,
        parts: &Parts,
        credentials: &Credentials,
        message: Message,
    ) -> Option<Response> {
        if message.id.is_some() {
            return None;
        }
        let id = message.params.as_ref()?.get("requestId")?;
        let id: RequestId = serde_json::from_value(id.clone()).ok()?;
        let session = self.sessions.can_ask(credentials, &parts.headers)?;
        let principal = credentials.principal().to_string();
        if !self.waiting.cancel(session, &principal, &id) {
            return None;
        }
        tracing::debug!("the client cancelled a call that may ask the user");
        Some(accepted())
    }

    /// Hands a client's reply to the question it answers.
    fn deliver(
        &self,
        session: Option<&str>,
        credentials: &Credentials,
        id: &RequestId,
        reply: waiting::Reply,
    ) -> Response {
        let principal = credentials.principal().to_string();
        let delivered = match (session, id) {
            (Some(session), RequestId::String(id)) => {
                self.waiting.deliver(id, session, &principal, reply).is_ok()
            }
            _ => false,
        };
        if delivered {
            return accepted();
        }
        tracing::info!(
            principal = %principal,
            "refused an answer that no question of this session and caller waits for"
        );
        json_rpc_error(
            StatusCode::BAD_REQUEST,
            INVALID_REQUEST,
            "no question for the user waits for this answer on this server: it was answered already, its call ended, it was asked in another session or of another caller, or another replica holds it (behind a load balancer, route requests by their Mcp-Session-Id header)".to_owned(),
        )
    }
}

/// `202 Accepted`, empty: a notification or response taken.
fn accepted() -> Response {
    let mut response = Response::new(axum::body::Body::empty());
    *response.status_mut() = StatusCode::ACCEPTED;
    response
}

/// A JSON-RPC 2.0 message POSTed as JSON by an authenticated caller.
fn message<'a>(parts: &'a Parts, body: &Bytes) -> Option<(&'a Credentials, Message)> {
    if parts.method != Method::POST || !content_type_is_json(&parts.headers) {
        return None;
    }
    let credentials = parts.extensions.get::<Credentials>()?;
    let message: Message = serde_json::from_slice(body).ok()?;
    (message.jsonrpc.as_deref() == Some("2.0")).then_some((credentials, message))
}

/// A JSON-RPC response's `result` or `error` (exactly one of them).
fn reply_of(result: Option<Value>, error: Option<Value>) -> Option<waiting::Reply> {
    match (result, error) {
        (Some(result), None) => Some(Ok(result)),
        (None, Some(error)) => Some(Err(error)),
        _ => None,
    }
}

/// Whether the request's revision is one with `initialize` (and server-to-client requests):
/// its `MCP-Protocol-Version` header, or rmcp's default without one.
fn legacy_revision(parts: &Parts) -> bool {
    let mut versions = parts.headers.get_all(&MCP_PROTOCOL_VERSION).iter();
    match (versions.next(), versions.next()) {
        (None, _) => true,
        (Some(version), None) => version.to_str().is_ok_and(|version| {
            ProtocolVersion::KNOWN_VERSIONS
                .iter()
                .any(|known| known.as_str() == version && known.has_initialize())
        }),
        _ => false,
    }
}

/// Whether the client accepts an SSE response (and JSON), as rmcp requires of every POST.
fn accepts_sse(parts: &Parts) -> bool {
    let (mut json, mut sse) = (false, false);
    for value in parts.headers.get_all(header::ACCEPT) {
        let Ok(value) = value.to_str() else {
            return false;
        };
        for item in value.split(',') {
            let essence = item.split(';').next().unwrap_or_default().trim();
            json |= essence.eq_ignore_ascii_case("application/json");
            sse |= essence.eq_ignore_ascii_case("text/event-stream");
        }
    }
    json && sse
}

/// Whether `needle` occurs in `haystack`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// `params._meta` of a request, if it is an object.
fn meta(params: &Map<String, Value>) -> Option<&Map<String, Value>> {
    params.get("_meta").and_then(Value::as_object)
}
