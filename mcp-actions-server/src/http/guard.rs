//! The guard in front of every Streamable HTTP endpoint: the concurrency limit,
//! authentication, the body limit, the Host check, then the direct path or rmcp.

use std::borrow::Cow;
use std::collections::HashMap;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::response::Response;
use http::request::Parts;
use http::{HeaderValue, StatusCode, header};
use http_body_util::Full;
use mcp_actions::{BoxFuture, Credentials};
use rmcp::transport::streamable_http_server::StreamableHttpService;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use serde::Deserialize;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower::Service;

use super::body::{answer_early, content_type_is_json, invalid_message, json_rpc_error, read_body};
use super::direct::Direct;
use super::elicit::{Asker, SESSION_ID};
use super::hosts::AllowedHosts;
use crate::auth::{Gate, actor, insufficient_scope};
use crate::mcp::ActionsHandler;
use crate::telemetry::{AuditEvent, Target, Telemetry};

/// The `Retry-After` of a 503 sent when `mcpActions.limits.maxConcurrentRequests` requests are
/// already in progress, in seconds.
pub(crate) const BUSY_RETRY_AFTER_SECONDS: u64 = 1;

/// A JSON-RPC server error code: the server is overloaded.
const SERVER_BUSY: i32 = -32000;

/// `mcpActions.limits.maxConcurrentRequests`: one semaphore shared by every MCP endpoint.
#[derive(Clone)]
pub(crate) struct ConcurrencyLimit {
    permits: Arc<Semaphore>,
    max: usize,
}

impl ConcurrencyLimit {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(max.min(Semaphore::MAX_PERMITS))),
            max,
        }
    }

    /// A permit, or none when `maxConcurrentRequests` are already in progress.
    pub(crate) fn try_acquire(&self) -> Option<OwnedSemaphorePermit> {
        Arc::clone(&self.permits).try_acquire_owned().ok()
    }

    /// The answer when no permit is left: 503 with `Retry-After`, at once (nothing is queued).
    fn busy(&self, request: Request) -> Response {
        let (parts, body) = request.into_parts();
        answer_early(parts.version, &parts.headers, body, self.busy_response())
    }

    /// The 503 of [`ConcurrencyLimit::busy`], for a request whose body was read.
    fn busy_response(&self) -> Response {
        tracing::warn!(
            max = self.max,
            "refused a request: the server is at mcpActions.limits.maxConcurrentRequests"
        );
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
        response
    }
}

/// rmcp's Streamable HTTP service behind the guards, as one tower service. In order:
///
/// 1. the concurrency limit: 503 + `Retry-After` at once when `maxConcurrentRequests` are in
///    progress; the permit is held until the response body is done, so a streamed answer
///    counts until its end (a client's answer to a question for the user passes without one);
/// 2. authentication: 401 with the endpoint's challenge, or the caller's [`Credentials`]
///    in the request extensions (see [`authenticate`]);
/// 3. the body limit and JSON-RPC errors for bodies that are not one JSON-RPC message (see
///    [`read_body`]);
/// 4. the `Host` check (rmcp's own is turned off: one decision for every transport, see
///    [`AllowedHosts`]), answered as rmcp would;
/// 5. with a session id, a client's answer to a question for the user or a call that may ask
///    one (see [`Asker`]);
/// 6. a plain stateless request answered directly (see [`Direct`]); everything else by rmcp,
///    called by reference (an `initialize` from a client that can be asked gets its session
///    id here).
///
/// One service rather than `axum::middleware::from_fn` layers: each such layer clones (and
/// boxes) everything inside it on every request, rmcp's service included, which cost about a
/// tenth of a `tools/call`'s CPU time (see `benches/`).
///
/// [`Credentials`]: mcp_actions::Credentials
#[derive(Clone)]
pub(crate) struct GuardedMcpService {
    shared: Arc<Guarded>,
}

/// What the guard checks with.
pub(crate) struct Guards {
    pub(crate) concurrency: ConcurrencyLimit,
    pub(crate) gate: Gate,
    pub(crate) body_limit: usize,
    pub(crate) hosts: AllowedHosts,
    pub(crate) scopes: ToolScopes,
    pub(crate) telemetry: Telemetry,
    /// The endpoint's server key (`default` for the default server), for audit events.
    pub(crate) server: Arc<str>,
}

/// The OAuth scopes of `tools/call`: a JWT without the scopes of the tool it calls is answered
/// 403 `insufficient_scope` naming them (so the client can step up and retry), before the
/// request reaches the handler. Credentials without scopes (static tokens) are not checked.
#[derive(Clone, Default)]
pub(crate) struct ToolScopes {
    /// `requiredScopes`.
    required: Vec<String>,
    /// Tool name → its `actionScopes` (only tools that need some).
    tools: Arc<HashMap<String, Vec<String>>>,
}

impl ToolScopes {
    pub(crate) fn new(required: Vec<String>, tools: HashMap<String, Vec<String>>) -> Self {
        Self {
            required,
            tools: Arc::new(tools),
        }
    }

    /// The 403 for a `tools/call` whose tool needs scopes the credentials lack.
    fn check(&self, guards: &Guards, parts: &Parts, body: &[u8]) -> Option<Response> {
        if self.tools.is_empty() {
            return None;
        }
        let credentials = parts.extensions.get::<Credentials>()?;
        credentials.scopes()?;
        #[derive(Deserialize)]
        struct Message<'a> {
            #[serde(borrow)]
            method: Cow<'a, str>,
            params: Option<Params>,
        }
        #[derive(Deserialize)]
        struct Params {
            name: String,
        }
        let message: Message = serde_json::from_slice(body).ok()?;
        if message.method != "tools/call" {
            return None;
        }
        let name = message.params?.name;
        let action_scopes = self.tools.get(&name)?;
        let missing = credentials.missing_scopes(action_scopes);
        if missing.is_empty() {
            return None;
        }
        let mut needed = self.required.clone();
        needed.extend(
            action_scopes
                .iter()
                .filter(|s| !self.required.contains(s))
                .cloned(),
        );
        tracing::info!(
            outcome = "insufficient_scope",
            tool = %name,
            principal = %credentials.principal(),
            missing = %missing.join(" "),
            "refused a tools/call"
        );
        guards.telemetry.metrics.auth_failure("insufficient_scope");
        guards.telemetry.audit(|| {
            AuditEvent::new(
                "mcp-actions.tool-execution",
                actor(parts, Some(credentials)),
                Target {
                    tool: Some(name.clone()),
                    action_id: None,
                    server: guards.server.to_string(),
                    api: None,
                },
            )
            .failed("NotAllowedError")
        });
        Some(insufficient_scope(
            guards.gate.challenge(),
            &needed,
            &missing,
            Some(&name),
        ))
    }
}

struct Guarded {
    guards: Guards,
    asker: Asker,
    direct: Option<Direct>,
    mcp: StreamableHttpService<ActionsHandler, NeverSessionManager>,
}

impl GuardedMcpService {
    pub(crate) fn new(
        guards: Guards,
        asker: Asker,
        direct: Option<Direct>,
        mcp: StreamableHttpService<ActionsHandler, NeverSessionManager>,
    ) -> Self {
        Self {
            shared: Arc::new(Guarded {
                guards,
                asker,
                direct,
                mcp,
            }),
        }
    }
}

impl Guarded {
    async fn serve(&self, request: Request) -> Response {
        let guards = &self.guards;
        let permit = guards.concurrency.try_acquire();
        // A request with a session id may be a client's answer to a question, which is let
        // through without a permit (below): the calls waiting for answers hold permits, so
        // refusing their answers when they hold them all would stall every one of them.
        if permit.is_none() && !request.headers().contains_key(SESSION_ID) {
            guards.telemetry.metrics.refused("concurrency_limit");
            return guards.concurrency.busy(request);
        }
        let in_flight = InFlight::start(&guards.telemetry);
        let request = match authenticate(&guards.gate, request).await {
            Ok(request) => request,
            Err(unauthorized) => return unauthorized,
        };
        let (parts, bytes) = match read_body(guards.body_limit, request).await {
            Ok(read) => read,
            Err(refused) => {
                if refused.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    guards.telemetry.metrics.refused("body_limit");
                }
                return refused;
            }
        };
        if let Err(refused) = guards.hosts.check(&parts.uri, &parts.headers) {
            return refused;
        }
        if let Some(refused) = guards.scopes.check(guards, &parts, &bytes) {
            return refused;
        }
        let Some(permit) = permit else {
            if let Some(taken) = self.asker.take_answer(&parts, &bytes) {
                return taken;
            }
            guards.telemetry.metrics.refused("concurrency_limit");
            return guards.concurrency.busy_response();
        };
        // A session (2025-11-25 clients that can be asked): an answer to a question, or a call
        // that may ask.
        let asked = match parts.headers.contains_key(SESSION_ID) {
            true => self.asker.answer(&parts, &bytes).await,
            false => None,
        };
        let direct = match (asked, &self.direct) {
            (Some(response), _) => Some(response),
            (None, Some(direct)) => direct.answer(&parts, &bytes).await,
            (None, None) => None,
        };
        let response = match direct {
            Some(response) => response,
            None => {
                let json = content_type_is_json(&parts.headers);
                let session = self.asker.session_for(&parts, &bytes);
                let request = Request::from_parts(parts, Full::new(bytes.clone()));
                let mut response = self.mcp.handle(request).await.map(Body::new);
                // rmcp answers 415 for a wrong Content-Type, and for a JSON body that is not
                // one JSON-RPC message: with a JSON Content-Type it can only be the latter,
                // which JSON-RPC answers with 400 and -32700 or -32600.
                if response.status() == StatusCode::UNSUPPORTED_MEDIA_TYPE && json {
                    invalid_message(&bytes)
                } else {
                    if let Some(session) = session
                        && response.status() == StatusCode::OK
                    {
                        response.headers_mut().insert(SESSION_ID, session);
                    }
                    response
                }
            }
        };
        response.map(|body| {
            Body::new(PermitBody {
                inner: body,
                _permit: permit,
                _in_flight: in_flight,
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

/// A response body that holds a concurrency permit, and counts as a request in flight, until it
/// is done (or dropped).
struct PermitBody {
    inner: Body,
    _permit: OwnedSemaphorePermit,
    _in_flight: InFlight,
}

/// One request counted in `mcp_actions_requests_in_flight` until dropped.
struct InFlight(Arc<crate::telemetry::Metrics>);

impl InFlight {
    fn start(telemetry: &Telemetry) -> Self {
        telemetry.metrics.in_flight(1);
        Self(Arc::clone(&telemetry.metrics))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight(-1);
    }
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

/// Runs the request's head through `gate`: the request with the caller's credentials in its
/// extensions, or the 401 to send — sent before the body is read, so [`answer_early`] keeps the
/// connection usable for a keep-alive client (or says `Connection: close`).
pub(crate) async fn authenticate(gate: &Gate, request: Request) -> Result<Request, Response> {
    let (mut parts, body) = request.into_parts();
    match gate.admit(&mut parts).await {
        Ok(()) => Ok(Request::from_parts(parts, body)),
        Err(response) => Err(answer_early(parts.version, &parts.headers, body, response)),
    }
}

/// [`authenticate`] as an axum middleware (the SSE transport's routes).
#[cfg(feature = "sse")]
pub(crate) async fn require_auth(
    axum::extract::State(gate): axum::extract::State<Gate>,
    request: Request,
    next: axum::middleware::Next,
) -> Response {
    match authenticate(&gate, request).await {
        Ok(request) => next.run(request).await,
        Err(response) => response,
    }
}
