//! The routes of each endpoint: Streamable HTTP behind the guard, the protected-resource
//! metadata document, and the legacy HTTP+SSE transport.

use std::sync::Arc;

use axum::Router;
use axum::response::IntoResponse;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};

use super::{ActionsServer, Endpoint};
use crate::auth::Gate;
use crate::auth::metadata::{self, ProtectedResourceMetadata};
use crate::http::health;
use crate::http::{AllowedHosts, Asker, Direct, GuardedMcpService, Guards, ToolScopes};
#[cfg(feature = "sse")]
use crate::transport::{SseEndpoint, SseOptions};

impl ActionsServer {
    /// The axum router for an external base URL: every endpoint (the default server at
    /// [`MCP_PATH`](crate::MCP_PATH), each named server at `MCP_PATH/<key>`) behind authentication, and each
    /// one's protected-resource metadata document (unauthenticated). Any other path is 404.
    /// Merge it into your own axum app, or serve it with [`ActionsServer::serve`].
    pub fn router(&self, base_url: &str) -> Router {
        let base_url = base_url.trim_end_matches('/');
        self.accept_tokens_for(base_url);
        #[cfg(feature = "jwt")]
        if let Some(remote) = self.handler().remote() {
            remote.start(self.shutdown.child_token());
        }
        let router = self.endpoints.iter().fold(
            health::router(self.readiness.clone()),
            |router, endpoint| router.merge(self.endpoint_router(endpoint, base_url)),
        );
        router.merge(self.backstage_router(base_url))
    }

    /// Backstage's actions API for every plugin the default server serves (see
    /// [`crate::backstage`]).
    fn backstage_router(&self, base_url: &str) -> Router {
        let callers = crate::backstage::Callers::new(
            Arc::clone(&self.authenticator),
            #[cfg(feature = "jwt")]
            self.plugin_tokens.clone(),
        );
        crate::backstage::router(crate::backstage::Api {
            dispatcher: self.dispatcher().clone(),
            callers,
            hosts: AllowedHosts::new(&self.allowed_hosts(base_url)),
            concurrency: self.concurrency.clone(),
            body_limit: self.config.mcp_actions().limits.max_request_body_bytes,
            calls: self.calls.clone(),
            telemetry: self.telemetry.clone(),
            serve_actions: self.config.mcp_actions().backstage.actions_api,
        })
    }

    /// The routes of one endpoint: its MCP transports, and its protected-resource metadata
    /// document (`/.well-known/oauth-protected-resource<path>`, resource `<base_url><path>`),
    /// which its 401 challenge points at.
    fn endpoint_router(&self, endpoint: &Endpoint, base_url: &str) -> Router {
        let base_url = base_url.trim_end_matches('/');
        let mcp = self.config.mcp_actions();
        let limit = mcp.limits.max_request_body_bytes;
        let challenge = endpoint.challenge(base_url);
        let allowed_hosts = self.allowed_hosts(base_url);
        let http_config = StreamableHttpServerConfig::default()
            .with_legacy_session_mode(false)
            .with_json_response(true)
            .with_sse_keep_alive(None)
            // The guard checks the Host (one decision for every transport, see `http::hosts`).
            .disable_allowed_hosts()
            .with_max_request_body_bytes(limit)
            .with_cancellation_token(self.shutdown.child_token());
        let handler = endpoint.handler.clone();
        let service = StreamableHttpService::new(
            move || Ok(handler.clone()),
            Arc::new(NeverSessionManager::default()),
            http_config,
        );
        let auth = &mcp.auth;
        let server_key = endpoint.key().unwrap_or("default");
        let gate = Gate::new(Arc::clone(&self.authenticator), challenge.clone())
            .with_required_scopes(&auth.required_scopes)
            .with_telemetry(self.telemetry.clone(), server_key);
        let tool_scopes = endpoint.handler.tool_scopes();
        let mut scopes_supported = auth.required_scopes.clone();
        for scope in tool_scopes.values().flatten() {
            if !scopes_supported.contains(scope) {
                scopes_supported.push(scope.clone());
            }
        }
        // Streamable HTTP behind the concurrency limit (503), authentication (401), the body
        // limit and JSON-RPC errors for bodies that are not one JSON-RPC message, and the Host
        // check. Only this route: an unknown path (e.g. an unknown server key) stays a 404,
        // not a 401.
        let direct = self
            .direct_dispatch
            .then(|| Direct::new(endpoint.handler.clone()));
        let guards = Guards {
            concurrency: self.concurrency.clone(),
            gate: gate.clone(),
            body_limit: limit,
            hosts: AllowedHosts::new(&allowed_hosts),
            scopes: ToolScopes::new(auth.required_scopes.clone(), tool_scopes),
            telemetry: self.telemetry.clone(),
            server: server_key.into(),
        };
        let asker = Asker::new(endpoint.handler.clone());
        let guarded = GuardedMcpService::new(guards, asker, direct, service);
        let streamable = Router::new().route_service(&endpoint.path, guarded);
        let metadata = ProtectedResourceMetadata::new(
            base_url,
            &endpoint.path,
            self.authorization_servers(),
            scopes_supported,
            Some(endpoint.name().to_owned()),
        );
        let router = streamable.merge(metadata::router(&endpoint.path, metadata));
        self.mount_sse(router, endpoint, challenge, allowed_hosts)
    }

    /// The deprecated HTTP+SSE transport at `<path>/sse`, with its own authentication.
    #[cfg(feature = "sse")]
    fn mount_sse(
        &self,
        router: Router,
        endpoint: &Endpoint,
        challenge: String,
        allowed_hosts: Vec<String>,
    ) -> Router {
        let mcp = self.config.mcp_actions();
        if !mcp.sse.enabled {
            return router;
        }
        let sse = SseEndpoint::new(
            &endpoint.path,
            endpoint.handler.clone(),
            Arc::clone(&self.authenticator),
        )
        .challenge(challenge)
        .required_scopes(&mcp.auth.required_scopes)
        .options(
            SseOptions::from_config(&mcp.sse)
                .with_max_request_body_bytes(mcp.limits.max_request_body_bytes)
                .with_allowed_hosts(allowed_hosts),
        )
        .shutdown_token(self.sse_shutdown.child_token());
        router.merge(sse.router())
    }

    /// Built without the `sse` feature: nothing to mount.
    #[cfg(not(feature = "sse"))]
    fn mount_sse(&self, router: Router, _: &Endpoint, _: String, _: Vec<String>) -> Router {
        router
    }

    /// The router for [`ActionsServer::base_url`] without a bound address: set
    /// `backend.baseUrl` when mounting it into your own app behind another address.
    pub fn into_router(self) -> Router {
        let base_url = self.base_url(None);
        self.router(&base_url)
    }
}

/// The answer to a path no endpoint serves (e.g. an unknown server key): 404, naming the
/// endpoints there are. Only [`ActionsServer::serve`] sets it: a fallback in
/// [`ActionsServer::router`] would clash with the fallback of an app it is merged into.
pub(super) fn not_found(
    paths: Vec<String>,
) -> impl Fn(http::Uri) -> std::future::Ready<axum::response::Response> + Clone + Send + 'static {
    move |uri: http::Uri| {
        let body = serde_json::json!({
            "error": {
                "name": "NotFoundError",
                "message": format!(
                    "nothing is served at {}; the MCP endpoints are {}",
                    uri.path(),
                    paths.join(", ")
                ),
            }
        });
        std::future::ready((http::StatusCode::NOT_FOUND, axum::Json(body)).into_response())
    }
}
