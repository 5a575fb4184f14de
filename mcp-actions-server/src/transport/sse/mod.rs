//! The deprecated HTTP+SSE transport of MCP 2024-11-05, for clients that speak nothing newer.
//!
//! **Deprecated by MCP itself:** the 2025-03-26 revision replaced it with Streamable HTTP, which
//! every current client speaks (and which this server serves at `…/v1`). Backstage's MCP Actions
//! Backend served it at the same paths until 0.2.0. Point clients at the Streamable HTTP
//! endpoint when you can; every response of these endpoints says so with
//! `Deprecation: @1742947200` (RFC 9745: deprecated since 2025-03-26) and `Link` headers to the
//! MCP transport specification and to the Streamable HTTP endpoint (`rel="successor-version"`).
//!
//! ## The protocol
//!
//! 1. `GET {base}/sse` with `Authorization: Bearer <token>` opens a session: the answer is an
//!    event stream whose first event is `endpoint`, whose data is the path to POST messages to,
//!    `{base}/sse/messages?sessionId=<id>`.
//! 2. The client POSTs each JSON-RPC message (one per request, no batches) to that path, with
//!    the bearer token again: `202 Accepted`; the reply arrives on the stream as a `message`
//!    event, one event per server message.
//!
//! ## Rules
//!
//! * **Identity:** the GET and every POST are authenticated by the server's
//!   [`Authenticator`]. The session belongs to the credentials of the GET (principal and access
//!   restrictions; not the token, so a token rotated for the same subject keeps working). A POST
//!   authenticated as anybody else gets **404**, exactly like an unknown session: to other
//!   callers a session does not exist (the same answer Backstage gives for an action the caller
//!   may not see). The server logs both principals.
//! * **Errors:** a POST without `sessionId` gets 400; an unknown or closed session 404; a body
//!   over `mcpActions.limits.maxRequestBodyBytes` 413; a body that is not one JSON-RPC message
//!   400; no or a bad token 401 with the `WWW-Authenticate` challenge; a `Host` header not in the
//!   allowed hosts 403. Bodies are JSON: `{"error":{"name":"NotFoundError","message":"…"}}`.
//! * **Sessions** live in memory (one server instance; behind a load balancer, route a client's
//!   requests to one instance). A session ends when the client closes the stream, after
//!   `idleTimeoutSeconds` without a POST, a message to the client or a call still running, or
//!   when the server shuts down; a POST to it then gets 404. At most `maxSessions` sessions are
//!   open per endpoint: one more GET gets **503** with `Retry-After: 5`.
//!
//! Mount one [`SseEndpoint`] per MCP server (the default server at `/api/mcp-actions/v1`, each
//! named server at `/api/mcp-actions/v1/<key>`): each serves its own handler.

use std::collections::{HashMap, HashSet};

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{OriginalUri, Query, Request, State};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::channel::mpsc;
use futures::{SinkExt, Stream, StreamExt};
use http::{HeaderValue, StatusCode, header};
use mcp_actions::Credentials;
use rmcp::ServiceExt;
use rmcp::model::{
    ClientJsonRpcMessage, ClientNotification, JsonRpcMessage, RequestId, ServerJsonRpcMessage,
};
use serde::Deserialize;
use tokio::time::Instant;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

mod handlers;
mod session;

use handlers::{open_session, post_message};
use session::{EndpointState, Sessions};

use crate::auth::{Authenticator, Gate};
use crate::config::SseConfig;
use crate::http::{AllowedHosts, require_auth};
use crate::mcp::ActionsHandler;

/// The `Retry-After` of a `503` when every session slot is taken, in seconds.
pub const RETRY_AFTER_SECONDS: u64 = 5;
/// The `Deprecation` header (RFC 9745) of every response: `@` + the Unix time of 2025-03-26,
/// the MCP revision that replaced HTTP+SSE with Streamable HTTP.
pub const DEPRECATION: &str = "@1742947200";
/// The MCP specification's note on the old transport, sent as `Link: <…>; rel="deprecation"`.
pub const DEPRECATION_INFO_URL: &str = "https://modelcontextprotocol.io/specification/2025-03-26/basic/transports#backwards-compatibility";

/// Messages buffered per direction before the sender waits.
const CHANNEL_CAPACITY: usize = 32;

/// Limits of an [`SseEndpoint`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SseOptions {
    /// Open sessions at most (default 100); one more GET gets `503` with `Retry-After`.
    pub max_sessions: usize,
    /// Close a session after this long without a POST, a message to the client or a call
    /// running (default 5 minutes; `None`: never).
    pub idle_timeout: Option<Duration>,
    /// Send an SSE comment this often so proxies keep an idle stream open (default 15 s;
    /// `None`: never). It does not count as activity.
    pub keep_alive: Option<Duration>,
    /// The largest POST body accepted (default 4 MiB); larger gets `413`.
    pub max_request_body_bytes: usize,
    /// `Host` header values accepted, `host` or `host:port` (DNS-rebinding guard, like the
    /// Streamable HTTP endpoint's). Default: `localhost`, `127.0.0.1`, `::1`. Empty: any host.
    pub allowed_hosts: Vec<String>,
}

impl Default for SseOptions {
    fn default() -> Self {
        Self::from_config(&SseConfig::default())
    }
}

impl SseOptions {
    /// The options of `mcpActions.sse`, with the default body limit and allowed hosts.
    pub fn from_config(config: &SseConfig) -> Self {
        Self {
            max_sessions: config.max_sessions,
            idle_timeout: config.idle_timeout(),
            keep_alive: config.keep_alive(),
            max_request_body_bytes: 4 * 1024 * 1024,
            allowed_hosts: vec!["localhost".into(), "127.0.0.1".into(), "::1".into()],
        }
    }

    /// Sets [`SseOptions::max_sessions`].
    pub fn with_max_sessions(mut self, max_sessions: usize) -> Self {
        self.max_sessions = max_sessions;
        self
    }

    /// Sets [`SseOptions::idle_timeout`].
    pub fn with_idle_timeout(mut self, idle_timeout: Option<Duration>) -> Self {
        self.idle_timeout = idle_timeout;
        self
    }

    /// Sets [`SseOptions::keep_alive`].
    pub fn with_keep_alive(mut self, keep_alive: Option<Duration>) -> Self {
        self.keep_alive = keep_alive;
        self
    }

    /// Sets [`SseOptions::max_request_body_bytes`].
    pub fn with_max_request_body_bytes(mut self, bytes: usize) -> Self {
        self.max_request_body_bytes = bytes;
        self
    }

    /// Sets [`SseOptions::allowed_hosts`].
    pub fn with_allowed_hosts(
        mut self,
        hosts: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        self.allowed_hosts = hosts.into_iter().map(Into::into).collect();
        self
    }
}

/// The HTTP+SSE endpoints of one MCP server: `GET {base}/sse` and
/// `POST {base}/sse/messages?sessionId=…`, serving `handler`, authenticated by `authenticator`.
///
/// ```no_run
/// # fn example(server: &mcp_actions_server::ActionsServer,
/// #            authenticator: std::sync::Arc<dyn mcp_actions_server::Authenticator>) {
/// use mcp_actions_server::transport::{SseEndpoint, SseOptions};
///
/// let sse = SseEndpoint::new("/api/mcp-actions/v1", server.handler().clone(), authenticator)
///     .options(SseOptions::default().with_max_sessions(20));
/// let app = axum::Router::new().merge(sse.router());
/// # let _ = app; }
/// ```
pub struct SseEndpoint {
    base_path: String,
    handler: ActionsHandler,
    authenticator: Arc<dyn Authenticator>,
    challenge: String,
    /// `mcpActions.auth.requiredScopes`.
    required_scopes: Vec<String>,
    options: SseOptions,
    shutdown: CancellationToken,
    sessions: Arc<Sessions>,
}

impl std::fmt::Debug for SseEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SseEndpoint")
            .field("base_path", &self.base_path)
            .field("options", &self.options)
            .field("open_sessions", &self.open_sessions())
            .finish_non_exhaustive()
    }
}

impl SseEndpoint {
    /// The endpoints under `base_path` (the server's Streamable HTTP path, e.g.
    /// `/api/mcp-actions/v1` or `/api/mcp-actions/v1/<key>`), with default options and a bare
    /// `Bearer` challenge on 401.
    pub fn new(
        base_path: impl Into<String>,
        handler: ActionsHandler,
        authenticator: Arc<dyn Authenticator>,
    ) -> Self {
        Self {
            base_path: base_path.into().trim_end_matches('/').to_owned(),
            handler,
            authenticator,
            challenge: "Bearer".to_owned(),
            required_scopes: Vec::new(),
            options: SseOptions::default(),
            shutdown: CancellationToken::new(),
            sessions: Arc::default(),
        }
    }

    /// The `WWW-Authenticate` value of a 401, e.g. `Bearer resource_metadata="…"` (the same as
    /// the Streamable HTTP endpoint's).
    pub fn challenge(mut self, www_authenticate: impl Into<String>) -> Self {
        self.challenge = www_authenticate.into();
        self
    }

    /// Requires these OAuth scopes of every JWT (`mcpActions.auth.requiredScopes`): a token
    /// without them is answered 403 `insufficient_scope`, and the 401 challenge names them.
    pub fn required_scopes(mut self, scopes: &[String]) -> Self {
        self.required_scopes = scopes.to_vec();
        self
    }

    /// Sets the limits.
    pub fn options(mut self, options: SseOptions) -> Self {
        self.options = options;
        self
    }

    /// Closes every session (and refuses new ones) when `token` is cancelled; pass the server's
    /// shutdown token, or a graceful shutdown waits for SSE clients forever.
    pub fn shutdown_token(mut self, token: CancellationToken) -> Self {
        self.shutdown = token;
        self
    }

    /// `{base}/sse`, the path clients connect to.
    pub fn sse_path(&self) -> String {
        format!("{}/sse", self.base_path)
    }

    /// `{base}/sse/messages`, the path clients POST to.
    pub fn messages_path(&self) -> String {
        format!("{}/sse/messages", self.base_path)
    }

    /// The number of open sessions (of every router made from this endpoint).
    pub fn open_sessions(&self) -> usize {
        self.sessions.lock().len()
    }

    /// The axum router of the two endpoints, authentication and limits included. Merge it next
    /// to the Streamable HTTP endpoint, outside its authentication layer.
    pub fn router(&self) -> Router {
        let state = Arc::new(EndpointState {
            handler: self.handler.clone(),
            options: self.options.clone(),
            shutdown: self.shutdown.clone(),
            sessions: Arc::clone(&self.sessions),
        });
        let gate = Gate::new(Arc::clone(&self.authenticator), self.challenge.clone())
            .with_required_scopes(&self.required_scopes);
        let successor = HeaderValue::from_str(&format!(
            "<{DEPRECATION_INFO_URL}>; rel=\"deprecation\"; type=\"text/html\", <{}>; rel=\"successor-version\"",
            if self.base_path.is_empty() { "/" } else { &self.base_path }
        ))
        .ok();
        let hosts = Arc::new(AllowedHosts::new(&self.options.allowed_hosts));
        Router::new()
            .route(&self.sse_path(), get(open_session))
            .route(&self.messages_path(), post(post_message))
            .with_state(state)
            // `route_layer`: an unknown path merged next to these routes stays a plain 404.
            .route_layer(middleware::from_fn_with_state(gate, require_auth))
            .route_layer(middleware::from_fn_with_state(hosts, check_host))
            .route_layer(middleware::map_response(move |mut response: Response| {
                let successor = successor.clone();
                async move {
                    let headers = response.headers_mut();
                    headers.insert("deprecation", HeaderValue::from_static(DEPRECATION));
                    if let Some(link) = successor {
                        headers.append(header::LINK, link);
                    }
                    response
                }
            }))
    }
}

// ---------------------------------------------------------------------------------------------
// Host check, responses
// ---------------------------------------------------------------------------------------------

/// The Host check ([`AllowedHosts::decide`], the decision every transport shares), answered
/// in this transport's format: 403 with a JSON error body.
async fn check_host(
    State(allowed): State<Arc<AllowedHosts>>,
    request: Request,
    next: Next,
) -> Response {
    match allowed.decide(request.uri(), request.headers()) {
        Ok(()) => next.run(request).await,
        Err(refusal) => {
            tracing::info!(host = ?request.headers().get(header::HOST), ?refusal, "refused an SSE request: the Host header is not allowed (mcpActions.allowedHosts)");
            error_response(
                StatusCode::FORBIDDEN,
                "NotAllowedError",
                "the Host header is not allowed; add the host to mcpActions.allowedHosts",
            )
        }
    }
}

pub(super) fn error_response(status: StatusCode, name: &str, message: &str) -> Response {
    let body = serde_json::json!({ "error": { "name": name, "message": message } });
    (status, axum::Json(body)).into_response()
}

pub(super) fn no_such_session(id: &str) -> Response {
    error_response(
        StatusCode::NOT_FOUND,
        "NotFoundError",
        &format!(
            "there is no SSE session {id:?} (it was closed, timed out, or belongs to another caller); open a new one with GET …/sse"
        ),
    )
}

pub(super) fn missing_credentials() -> Response {
    tracing::error!("an SSE request reached its handler without credentials");
    error_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Error",
        "the request was not authenticated",
    )
}

#[cfg(test)]
mod tests {
    use super::session::{Activity, new_session_id};
    use super::*;

    #[test]
    fn session_ids_are_random_hex() {
        let (a, b) = (new_session_id(), new_session_id());
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[tokio::test(start_paused = true)]
    async fn idle_waits_for_running_requests() {
        let activity = Activity::new();
        let request: ClientJsonRpcMessage = serde_json::from_value(serde_json::json!({
            "jsonrpc": "2.0", "id": 7, "method": "tools/list", "params": {}
        }))
        .unwrap();
        activity.received(&request);
        let timeout = Duration::from_secs(10);
        let idle = activity.idle_for(timeout);
        tokio::pin!(idle);
        // A request is running: never idle, however long it takes.
        assert!(
            tokio::time::timeout(Duration::from_secs(60), idle.as_mut())
                .await
                .is_err()
        );
        let answer: ServerJsonRpcMessage = serde_json::from_value(serde_json::json!({
            "jsonrpc": "2.0", "id": 7, "result": {"tools": []}
        }))
        .unwrap();
        activity.sent(&answer);
        let answered = Instant::now();
        idle.await;
        assert_eq!(answered.elapsed(), timeout);
    }
}
