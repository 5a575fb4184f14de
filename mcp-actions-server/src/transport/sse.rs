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

use super::AllowedHosts;
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

use super::SseConfig;
use crate::auth::{self, AuthLayerState, Authenticator};
use crate::handler::ActionsHandler;

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
            idle_timeout: config.idle_timeout,
            keep_alive: config.keep_alive,
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
        let auth_state = AuthLayerState {
            authenticator: Arc::clone(&self.authenticator),
            challenge: self.challenge.clone(),
        };
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
            .route_layer(middleware::from_fn_with_state(
                auth_state,
                auth::require_auth,
            ))
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
// Sessions
// ---------------------------------------------------------------------------------------------

struct EndpointState {
    handler: ActionsHandler,
    options: SseOptions,
    shutdown: CancellationToken,
    sessions: Arc<Sessions>,
}

#[derive(Default)]
struct Sessions(Mutex<HashMap<String, Session>>);

impl Sessions {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Session>> {
        // A panic while holding the lock leaves the map consistent (single inserts/removes).
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn remove(&self, id: &str) -> bool {
        self.lock().remove(id).is_some()
    }
}

#[derive(Clone)]
struct Session {
    /// Client → server messages, to the session's rmcp service.
    to_server: mpsc::Sender<ClientJsonRpcMessage>,
    /// Who opened the session.
    owner: Credentials,
    activity: Arc<Activity>,
}

/// When the session was last used, and the requests still waiting for an answer.
struct Activity(Mutex<ActivityState>);

struct ActivityState {
    last: Instant,
    running: HashSet<RequestId>,
}

impl Activity {
    fn new() -> Self {
        Self(Mutex::new(ActivityState {
            last: Instant::now(),
            running: HashSet::new(),
        }))
    }

    fn lock(&self) -> MutexGuard<'_, ActivityState> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A message from the client.
    fn received(&self, message: &ClientJsonRpcMessage) {
        let mut state = self.lock();
        state.last = Instant::now();
        match message {
            JsonRpcMessage::Request(request) => {
                state.running.insert(request.id.clone());
            }
            JsonRpcMessage::Notification(notification) => {
                if let ClientNotification::CancelledNotification(cancelled) =
                    &notification.notification
                    && let Some(id) = &cancelled.params.request_id
                {
                    state.running.remove(id);
                }
            }
            JsonRpcMessage::Response(_) | JsonRpcMessage::Error(_) => {}
        }
    }

    /// A message to the client.
    fn sent(&self, message: &ServerJsonRpcMessage) {
        let mut state = self.lock();
        state.last = Instant::now();
        let answered = match message {
            JsonRpcMessage::Response(response) => Some(&response.id),
            JsonRpcMessage::Error(error) => error.id.as_ref(),
            JsonRpcMessage::Request(_) | JsonRpcMessage::Notification(_) => None,
        };
        if let Some(id) = answered {
            state.running.remove(id);
        }
    }

    /// Since when the session has been idle; `None` while a request is running.
    fn idle_since(&self) -> Option<Instant> {
        let state = self.lock();
        state.running.is_empty().then_some(state.last)
    }

    /// Returns once the session has been idle for `timeout`.
    async fn idle_for(&self, timeout: Duration) {
        loop {
            let now = Instant::now();
            let wake = match self.idle_since() {
                Some(since) if now >= since + timeout => return,
                Some(since) => since + timeout,
                None => now + timeout,
            };
            tokio::time::sleep_until(wake).await;
        }
    }
}

/// Removes the session and stops its service when the event stream is dropped (the client
/// disconnected, or the stream ended).
struct SessionGuard {
    id: String,
    sessions: Arc<Sessions>,
    cancel: CancellationToken,
}

impl Drop for SessionGuard {
    fn drop(&mut self) {
        self.cancel.cancel();
        if self.sessions.remove(&self.id) {
            tracing::info!(session = %self.id, "SSE session closed: the client disconnected");
        }
    }
}

/// 32 hex digits from the OS's random number generator.
fn new_session_id() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the operating system's random number generator failed");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// ---------------------------------------------------------------------------------------------
// GET {base}/sse
// ---------------------------------------------------------------------------------------------

async fn open_session(
    State(state): State<Arc<EndpointState>>,
    OriginalUri(uri): OriginalUri,
    request: Request,
) -> Response {
    let Some(owner) = request.extensions().get::<Credentials>().cloned() else {
        return missing_credentials();
    };
    if state.shutdown.is_cancelled() {
        return error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailableError",
            "the server is shutting down",
        );
    }
    let id = new_session_id();
    let cancel = state.shutdown.child_token();
    let activity = Arc::new(Activity::new());
    let (to_server, from_client) = mpsc::channel::<ClientJsonRpcMessage>(CHANNEL_CAPACITY);
    let (to_client, from_server) = mpsc::channel::<ServerJsonRpcMessage>(CHANNEL_CAPACITY);
    {
        let mut sessions = state.sessions.lock();
        if sessions.len() >= state.options.max_sessions {
            drop(sessions);
            tracing::warn!(
                max_sessions = state.options.max_sessions,
                principal = %owner.principal(),
                "refused an SSE session: every session slot is taken (mcpActions.sse.maxSessions)"
            );
            let mut response = error_response(
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailableError",
                &format!(
                    "too many open SSE sessions (at most {}); retry later, or use the Streamable HTTP endpoint, which has no sessions",
                    state.options.max_sessions
                ),
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
            return response;
        }
        sessions.insert(
            id.clone(),
            Session {
                to_server,
                owner: owner.clone(),
                activity: Arc::clone(&activity),
            },
        );
    }
    tracing::info!(session = %id, principal = %owner.principal(), "SSE session opened");

    // The session's MCP service: the handler on a (Sink, Stream) pair.
    let sink_activity = Arc::clone(&activity);
    let to_client = to_client.with(move |message: ServerJsonRpcMessage| {
        sink_activity.sent(&message);
        futures::future::ready(Ok::<_, mpsc::SendError>(message))
    });
    let handler = state.handler.clone();
    let idle_timeout = state.options.idle_timeout;
    let (task_id, task_sessions, task_cancel) =
        (id.clone(), Arc::clone(&state.sessions), cancel.clone());
    tokio::spawn(async move {
        let serve = async {
            match handler
                .serve_with_ct((to_client, from_client), task_cancel.clone())
                .await
            {
                Ok(running) => {
                    let _ = running.waiting().await;
                }
                Err(error) => {
                    tracing::debug!(session = %task_id, %error, "SSE session ended before initializing")
                }
            }
        };
        let idle = async {
            match idle_timeout {
                Some(timeout) => activity.idle_for(timeout).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = serve => {}
            () = idle => tracing::info!(
                session = %task_id,
                idle_timeout_seconds = idle_timeout.map(|t| t.as_secs()),
                "SSE session closed: idle (mcpActions.sse.idleTimeoutSeconds)"
            ),
            () = task_cancel.cancelled() => {}
        }
        task_cancel.cancel();
        task_sessions.remove(&task_id);
    });

    let messages_url = format!(
        "{}/messages?sessionId={id}",
        uri.path().trim_end_matches('/')
    );
    let stream = SessionStream {
        endpoint: Some(Event::default().event("endpoint").data(messages_url)),
        from_server,
        closed: Box::pin(cancel.clone().cancelled_owned()),
        _guard: SessionGuard {
            id,
            sessions: Arc::clone(&state.sessions),
            cancel,
        },
    };
    let sse = Sse::new(stream);
    let mut response = match state.options.keep_alive {
        Some(interval) => sse
            .keep_alive(KeepAlive::new().interval(interval))
            .into_response(),
        None => sse.into_response(),
    };
    // Tell nginx-style proxies not to buffer the stream.
    response
        .headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

/// The event stream of one session: `endpoint`, then one `message` per server message; ends
/// when the session is closed.
struct SessionStream {
    endpoint: Option<Event>,
    from_server: mpsc::Receiver<ServerJsonRpcMessage>,
    closed: Pin<Box<WaitForCancellationFutureOwned>>,
    _guard: SessionGuard,
}

impl Stream for SessionStream {
    type Item = Result<Event, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Some(endpoint) = self.endpoint.take() {
            return Poll::Ready(Some(Ok(endpoint)));
        }
        loop {
            match self.from_server.poll_next_unpin(cx) {
                Poll::Ready(Some(message)) => match serde_json::to_string(&message) {
                    Ok(json) => {
                        return Poll::Ready(Some(Ok(Event::default().event("message").data(json))));
                    }
                    Err(error) => {
                        tracing::error!(%error, "could not serialize a message for an SSE client");
                    }
                },
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => {
                    return match self.closed.as_mut().poll(cx) {
                        Poll::Ready(()) => Poll::Ready(None),
                        Poll::Pending => Poll::Pending,
                    };
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// POST {base}/sse/messages?sessionId=…
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize)]
struct MessageQuery {
    #[serde(rename = "sessionId")]
    session_id: Option<String>,
}

async fn post_message(
    State(state): State<Arc<EndpointState>>,
    query: Result<Query<MessageQuery>, QueryRejection>,
    request: Request,
) -> Response {
    let session_id = match query {
        Ok(Query(MessageQuery {
            session_id: Some(id),
        })) if !id.is_empty() => id,
        Ok(_) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                "InputError",
                "the sessionId query parameter is required: POST to the URL of the `endpoint` event that GET …/sse sends first",
            );
        }
        Err(rejection) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                "InputError",
                &format!("the query string is not valid: {}", rejection.body_text()),
            );
        }
    };
    let (parts, body) = request.into_parts();
    let Some(caller) = parts.extensions.get::<Credentials>() else {
        return missing_credentials();
    };
    let session = state.sessions.lock().get(&session_id).cloned();
    let Some(session) = session.filter(|session| {
        let same = session.owner == *caller;
        if !same {
            tracing::warn!(
                session = %session_id,
                owner = %session.owner.principal(),
                caller = %caller.principal(),
                "refused a POST into an SSE session opened by somebody else"
            );
        }
        same
    }) else {
        return no_such_session(&session_id);
    };

    let bytes = match axum::body::to_bytes(body, state.options.max_request_body_bytes).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return error_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                "InputError",
                &format!(
                    "the request body is larger than {} bytes (mcpActions.limits.maxRequestBodyBytes)",
                    state.options.max_request_body_bytes
                ),
            );
        }
    };
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return error_response(
            StatusCode::BAD_REQUEST,
            "InputError",
            "JSON-RPC batches are not supported: POST one message per request",
        );
    }
    let mut message: ClientJsonRpcMessage = match serde_json::from_slice(&bytes) {
        Ok(message) => message,
        Err(error) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                "InputError",
                &format!("the body is not a JSON-RPC message of the MCP client: {error}"),
            );
        }
    };
    session.activity.received(&message);
    // The handler finds the caller's credentials in the request's `Parts`, as over
    // Streamable HTTP.
    message.insert_extension(parts);
    let mut to_server = session.to_server;
    if to_server.send(message).await.is_err() {
        return no_such_session(&session_id);
    }
    (StatusCode::ACCEPTED, "Accepted").into_response()
}

// ---------------------------------------------------------------------------------------------
// Host check, responses
// ---------------------------------------------------------------------------------------------

async fn check_host(
    State(allowed): State<Arc<AllowedHosts>>,
    request: Request,
    next: Next,
) -> Response {
    if allowed.is_empty() {
        return next.run(request).await;
    }
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| request.uri().authority().map(|a| a.as_str().to_owned()));
    let permitted = host.as_deref().is_some_and(|host| allowed.permits(host));
    if permitted {
        next.run(request).await
    } else {
        tracing::info!(host = ?host, "refused an SSE request: the Host header is not allowed (mcpActions.allowedHosts)");
        error_response(
            StatusCode::FORBIDDEN,
            "NotAllowedError",
            "the Host header is not allowed; add the host to mcpActions.allowedHosts",
        )
    }
}

fn error_response(status: StatusCode, name: &str, message: &str) -> Response {
    let body = serde_json::json!({ "error": { "name": name, "message": message } });
    (status, axum::Json(body)).into_response()
}

fn no_such_session(id: &str) -> Response {
    error_response(
        StatusCode::NOT_FOUND,
        "NotFoundError",
        &format!(
            "there is no SSE session {id:?} (it was closed, timed out, or belongs to another caller); open a new one with GET …/sse"
        ),
    )
}

fn missing_credentials() -> Response {
    tracing::error!("an SSE request reached its handler without credentials");
    error_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Error",
        "the request was not authenticated",
    )
}

#[cfg(test)]
mod tests {
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
