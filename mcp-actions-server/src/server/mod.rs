//! The server: [`ActionsServer`] and its builder, the routes of its endpoints, serving and
//! graceful shutdown.
//!
//! | file | what it owns |
//! |---|---|
//! | `builder.rs` | [`ActionsServerBuilder`]: everything checked at build time |
//! | `exposure.rs` | which linked actions each endpoint serves, and why ([`ActionExposure`]) |
//! | `router.rs` | the axum routes of each endpoint: guarded MCP, metadata, legacy SSE |
//! | `serve.rs` | binding, serving, graceful shutdown |
//! | `error.rs` | [`BuildError`], [`StartupProblem`], [`ServeError`] |

mod banner;
mod builder;
mod error;
mod exposure;
mod router;
mod serve;

use std::net::SocketAddr;
use std::sync::Arc;

use mcp_actions::Dispatcher;
use tokio_util::sync::CancellationToken;

pub use builder::ActionsServerBuilder;
pub use error::{BuildError, ServeError, StartupProblem};
pub use exposure::{ActionExposure, WARNINGS_TARGET};

use crate::auth::Authenticator;
use crate::config::{Config, Secret};
use crate::http::ConcurrencyLimit;
use crate::http::health::Readiness;
use crate::mcp::ActionsHandler;
use crate::telemetry::Telemetry;

/// The path of the MCP endpoint.
pub const MCP_PATH: &str = "/api/mcp-actions/v1";

/// One MCP endpoint of an [`ActionsServer`]: the default server at [`MCP_PATH`], or a named
/// server (`mcpActions.servers.<key>`) at `MCP_PATH/<key>`.
#[derive(Debug, Clone)]
pub struct Endpoint {
    key: Option<String>,
    path: String,
    handler: ActionsHandler,
}

impl Endpoint {
    /// The key under `mcpActions.servers`; `None` for the default server.
    pub fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    /// The path of the MCP endpoint, e.g. `/api/mcp-actions/v1/ops`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The server name clients see.
    pub fn name(&self) -> &str {
        self.handler.name()
    }

    /// The handler serving this endpoint's actions.
    pub fn handler(&self) -> &ActionsHandler {
        &self.handler
    }

    /// The endpoint's URL under `base_url`.
    pub fn url(&self, base_url: &str) -> String {
        format!("{}{}", base_url.trim_end_matches('/'), self.path)
    }

    /// The `WWW-Authenticate` challenge of a 401 from this endpoint: it points at this
    /// endpoint's protected-resource metadata.
    pub fn challenge(&self, base_url: &str) -> String {
        format!(
            "Bearer resource_metadata=\"{}\"",
            crate::auth::metadata::metadata_url(base_url.trim_end_matches('/'), &self.path)
        )
    }
}

/// Serves the actions of a registry over MCP (Streamable HTTP at [`MCP_PATH`]), with
/// authentication, permissions and the protected-resource metadata document.
pub struct ActionsServer {
    /// The default server first, then the named servers in key order.
    endpoints: Vec<Endpoint>,
    exposure: Vec<ActionExposure>,
    warnings: Vec<String>,
    /// `mcpActions.limits.maxConcurrentRequests`, shared by every endpoint.
    concurrency: ConcurrencyLimit,
    config: Config,
    authenticator: Arc<dyn Authenticator>,
    generated_token: Option<Secret>,
    /// The JWT verifier of `type: jwks` entries, if any: it learns this server's URLs (the
    /// default audience) when the router is built.
    #[cfg(feature = "jwt")]
    jwt: Option<Arc<crate::auth::JwtAuthenticator>>,
    /// The verifier of Backstage plugin tokens on the Backstage actions API, when
    /// `discovery.endpoints` lists plugins.
    #[cfg(feature = "jwt")]
    plugin_tokens: Option<Arc<crate::auth::PluginTokens>>,
    /// Cancels the calls in progress (in-band `ServiceUnavailableError`): at shutdown, once
    /// the grace period is over.
    calls: CancellationToken,
    /// Closes the SSE sessions: with `calls`.
    sse_shutdown: CancellationToken,
    /// Stops rmcp's Streamable HTTP service (what is still running is cut): last.
    shutdown: CancellationToken,
    /// See [`ActionsServerBuilder::direct_dispatch`].
    direct_dispatch: bool,
    /// Metrics and the audit sink.
    telemetry: Telemetry,
    /// `/readyz`: 503 once shutdown begins.
    readiness: Readiness,
}

impl std::fmt::Debug for ActionsServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActionsServer")
            .field("endpoints", &self.endpoints)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl ActionsServer {
    /// Starts building a server.
    pub fn builder() -> ActionsServerBuilder {
        ActionsServerBuilder::new()
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The default server's MCP handler (rmcp's `ServerHandler`), e.g. to serve it over another
    /// rmcp transport.
    pub fn handler(&self) -> &ActionsHandler {
        &self.endpoints[0].handler
    }

    /// The default server's dispatcher, through which every call goes.
    pub fn dispatcher(&self) -> &Dispatcher {
        self.handler().dispatcher()
    }

    /// Every MCP endpoint: the default server first, then the named servers by key.
    pub fn endpoints(&self) -> &[Endpoint] {
        &self.endpoints
    }

    /// The named server with this key.
    pub fn endpoint(&self, key: &str) -> Option<&Endpoint> {
        self.endpoints.iter().find(|e| e.key() == Some(key))
    }

    /// Every action linked into the binary (or given to the builder), with whether and why
    /// each server serves it, sorted by id.
    pub fn exposure(&self) -> &[ActionExposure] {
        &self.exposure
    }

    /// The start-up warnings: plugin sources and filter rules that match no action, servers
    /// that serve nothing. Each names the config key.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The authenticator of the HTTP endpoints.
    pub fn authenticator(&self) -> &Arc<dyn Authenticator> {
        &self.authenticator
    }

    /// The JWT verifier of the configuration's `type: jwks` entries, if it has any.
    #[cfg(feature = "jwt")]
    pub fn jwt_authenticator(&self) -> Option<&Arc<crate::auth::JwtAuthenticator>> {
        self.jwt.as_ref()
    }

    /// The authorization servers named in the protected-resource metadata:
    /// `mcpActions.authorizationServers`, or the issuers of the `type: jwks` entries.
    pub fn authorization_servers(&self) -> Vec<String> {
        let configured = &self.config.mcp_actions().authorization_servers;
        #[cfg(feature = "jwt")]
        if configured.is_empty()
            && let Some(jwt) = &self.jwt
        {
            return jwt.authorization_servers();
        }
        configured.clone()
    }

    /// Every endpoint's URL under `base_url`: the resources (RFC 8707) JWTs must be for when a
    /// `type: jwks` entry names no `audience`. Also starts fetching the issuers' keys.
    pub(crate) fn accept_tokens_for(&self, base_url: &str) {
        #[cfg(feature = "jwt")]
        if let Some(jwt) = &self.jwt {
            jwt.set_resource_urls(self.endpoints.iter().map(|e| e.url(base_url)).collect());
            jwt.prefetch();
        }
        #[cfg(not(feature = "jwt"))]
        let _ = base_url;
    }

    /// The token generated for this run, when neither `backend.auth.externalAccess` nor
    /// `MCP_TOKEN` provides one (and no custom authenticator is set).
    pub fn generated_token(&self) -> Option<&str> {
        self.generated_token.as_ref().map(Secret::expose)
    }

    /// The external base URL: `backend.baseUrl`, or `http://` + the address the server listens
    /// on (`local_addr` once bound, else `backend.listen`), with `localhost` for an unspecified
    /// address.
    pub fn base_url(&self, local_addr: Option<SocketAddr>) -> String {
        if let Some(url) = &self.config.backend().base_url {
            return url.clone();
        }
        let listen = &self.config.backend().listen;
        let (host, port) = match local_addr {
            Some(addr) => (addr.ip().to_string(), addr.port()),
            None => (listen.host.clone(), listen.port),
        };
        let host = match host.as_str() {
            "0.0.0.0" | "::" | "[::]" => "localhost".to_owned(),
            h if h.contains(':') && !h.starts_with('[') => format!("[{h}]"),
            h => h.to_owned(),
        };
        format!("http://{host}:{port}")
    }

    /// The URL of the MCP endpoint under `base_url`.
    pub fn endpoint_url(base_url: &str) -> String {
        format!("{base_url}{MCP_PATH}")
    }

    /// The `Host` header values accepted (DNS-rebinding guard): `mcpActions.allowedHosts`, or
    /// the listen host, `localhost`, `127.0.0.1` and `::1`; plus the host of `base_url`.
    pub fn allowed_hosts(&self, base_url: &str) -> Vec<String> {
        let mut hosts = match &self.config.mcp_actions().allowed_hosts {
            Some(hosts) => hosts.clone(),
            None => {
                let mut hosts = vec![
                    "localhost".to_owned(),
                    "127.0.0.1".to_owned(),
                    "::1".to_owned(),
                ];
                let listen = &self.config.backend().listen.host;
                if !matches!(listen.as_str(), "0.0.0.0" | "::" | "[::]") {
                    hosts.push(listen.clone());
                }
                hosts
            }
        };
        if let Some(host) = base_url
            .parse::<http::Uri>()
            .ok()
            .and_then(|u| u.host().map(str::to_owned))
        {
            hosts.push(host);
        }
        hosts.sort();
        hosts.dedup();
        hosts
    }
}
