//! The server: a builder that wires configuration, registry, services, policy and
//! authenticator together, and the axum router that serves them.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::middleware;
use axum::serve::ListenerExt;
use base64::Engine;
use mcp_actions::registry::MissingService;
use mcp_actions::{
    Dispatcher, PermissionPolicy, Registry, RegistryError, RegistryProblem, Services,
};
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::limit::RequestBodyLimitLayer;

use crate::auth::{self, AuthLayerState, Authenticator, StaticTokenAuthenticator};
use crate::config::{self, Config, ConfigError, Secret, TOKEN_ENV_VAR};
use crate::handler::{ActionsHandler, ServerIdentity};
use crate::prm::{self, ProtectedResourceMetadata};

/// The path of the MCP endpoint.
pub const MCP_PATH: &str = "/api/mcp-actions/v1";

/// Why the server could not be built. Every problem found is listed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The configuration is invalid (e.g. `MCP_TOKEN` is not a valid token).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The actions cannot be served: invalid definitions or unregistered services.
    #[error("{}", describe_problems(.0))]
    Actions(Vec<StartupProblem>),
}

/// One reason the actions cannot be served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StartupProblem {
    /// An invalid action definition (name, schema, duplicate…).
    #[error("{0}")]
    Registry(RegistryProblem),
    /// An action needs a service nobody registered.
    #[error("{0}; register it with `ActionsServer::builder().service(…)`")]
    MissingService(MissingService),
}

fn describe_problems(problems: &[StartupProblem]) -> String {
    match problems {
        [one] => format!("the actions in this binary cannot be served: {one}"),
        many => {
            let mut text = format!(
                "the actions in this binary cannot be served ({} problems):",
                many.len()
            );
            for problem in many {
                text.push_str(&format!("\n  - {problem}"));
            }
            text
        }
    }
}

/// Serving failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The listen address could not be bound.
    #[error(
        "cannot listen on {address}: {source}; choose another address with `backend.listen` in the config"
    )]
    Bind {
        /// The address.
        address: String,
        /// Why.
        source: std::io::Error,
    },
    /// The server stopped with an I/O error.
    #[error("the server stopped: {0}")]
    Io(#[from] std::io::Error),
}

/// Builds an [`ActionsServer`].
///
/// ```no_run
/// use mcp_actions_server::{ActionsServer, config::ConfigLoader};
/// use mcp_actions::{policy_fn, Decision, PermissionAction};
///
/// # #[derive(Default)] struct Store;
/// # async fn example() -> anyhow::Result<()> {
/// let config = ConfigLoader::new().file("app-config.yaml").load()?;
/// let server = ActionsServer::builder()
///     .config(config)
///     .service(Store::default())
///     .permission_policy(policy_fn(|req| Decision::from_bool(req.permission.action() == PermissionAction::Read)))
///     .build()?;
/// let listener = server.bind().await?;
/// server.serve(listener).await?;
/// # Ok(()) }
/// ```
pub struct ActionsServerBuilder {
    config: Config,
    registry: Option<Registry>,
    plugin_sources: Option<Vec<String>>,
    services: Services,
    policy: Option<Arc<dyn PermissionPolicy>>,
    authenticator: Option<Arc<dyn Authenticator>>,
    version: String,
}

impl std::fmt::Debug for ActionsServerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActionsServerBuilder")
            .field("config", &self.config)
            .field("services", &self.services)
            .field("custom_policy", &self.policy.is_some())
            .field("custom_authenticator", &self.authenticator.is_some())
            .finish_non_exhaustive()
    }
}

impl ActionsServerBuilder {
    fn new() -> Self {
        Self {
            config: Config::empty(),
            registry: None,
            plugin_sources: None,
            services: Services::new(),
            policy: None,
            authenticator: None,
            version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }

    /// Uses this configuration (default: no config file, every default).
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// The configuration the server will use, so the application can read its own sections
    /// (see [`Config::get`]) while it registers services and a policy.
    pub fn app_config(&self) -> &Config {
        &self.config
    }

    /// Serves these actions instead of every `#[action]` linked into the binary.
    pub fn registry(mut self, registry: Registry) -> Self {
        self.registry = Some(registry);
        self
    }

    /// Serves only the actions of these plugins (like Backstage's
    /// `backend.actions.pluginSources`), e.g. when the binary links more plugins than one
    /// server should expose.
    pub fn plugin_sources<I, S>(mut self, plugins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.plugin_sources = Some(plugins.into_iter().map(Into::into).collect());
        self
    }

    /// Registers a shared service, reached by actions as a `Service<T>` argument or
    /// `ctx.service::<T>()`.
    pub fn service<T: Send + Sync + 'static>(mut self, service: T) -> Self {
        self.services.insert(service);
        self
    }

    /// Registers an already shared service.
    pub fn service_arc<T: Send + Sync + 'static>(mut self, service: Arc<T>) -> Self {
        self.services.insert_arc(service);
        self
    }

    /// Replaces every registered service with `services`.
    pub fn services(mut self, services: Services) -> Self {
        self.services = services;
        self
    }

    /// The permission policy (default: allow everything; tokens' access restrictions still
    /// apply). It decides which actions a caller sees and may call, and answers
    /// `ctx.authorize` inside actions.
    pub fn permission_policy(self, policy: impl PermissionPolicy) -> Self {
        self.permission_policy_arc(Arc::new(policy))
    }

    /// Like [`ActionsServerBuilder::permission_policy`], for a shared policy.
    pub fn permission_policy_arc(mut self, policy: Arc<dyn PermissionPolicy>) -> Self {
        self.policy = Some(policy);
        self
    }

    /// Authenticates requests with `authenticator` instead of the static tokens of
    /// `backend.auth.externalAccess`.
    pub fn authenticator(mut self, authenticator: impl Authenticator) -> Self {
        self.authenticator = Some(Arc::new(authenticator));
        self
    }

    /// The version reported in `serverInfo` (default: this crate's version).
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = version.into();
        self
    }

    /// Checks everything and builds the server: the registry (every action linked into the
    /// binary, unless [`ActionsServerBuilder::registry`] was given), the services the actions
    /// need, the authenticator, and the tool list.
    pub fn build(self) -> Result<ActionsServer, BuildError> {
        let registry = match self.registry {
            Some(registry) => registry,
            None => Registry::from_inventory().map_err(registry_problems)?,
        };
        let registry = match &self.plugin_sources {
            Some(plugins) => registry.with_plugin_sources(plugins),
            None => registry,
        };
        let missing = registry.missing_services(&self.services);
        if !missing.is_empty() {
            return Err(BuildError::Actions(
                missing
                    .into_iter()
                    .map(StartupProblem::MissingService)
                    .collect(),
            ));
        }

        let mut generated_token = None;
        let authenticator: Arc<dyn Authenticator> = match self.authenticator {
            Some(authenticator) => authenticator,
            None if !self.config.backend().external_access.is_empty() => Arc::new(
                StaticTokenAuthenticator::from_config(&self.config.backend().external_access),
            ),
            None => {
                let (token, subject) = match config::default_token(&self.config)? {
                    Some(token) => (token, "mcp-clients"),
                    None => {
                        let token = generate_token();
                        generated_token = Some(token.clone());
                        (token, "mcp-clients")
                    }
                };
                Arc::new(
                    StaticTokenAuthenticator::new()
                        .with_token(token, mcp_actions::Credentials::service(subject)),
                )
            }
        };

        let mcp = self.config.mcp_actions();
        let dispatcher = Dispatcher::new(registry)
            .with_services(self.services)
            .with_policy(
                self.policy
                    .unwrap_or_else(|| Arc::new(mcp_actions::AllowAll)),
            )
            .with_timeout(mcp.limits.action_timeout);
        let handler = ActionsHandler::new(
            dispatcher,
            ServerIdentity {
                name: mcp.name.clone(),
                version: self.version,
                description: mcp.description.clone(),
                instructions: mcp.instructions.clone(),
            },
        );
        Ok(ActionsServer {
            handler,
            config: self.config,
            authenticator,
            generated_token,
            shutdown: CancellationToken::new(),
        })
    }
}

fn registry_problems(error: RegistryError) -> BuildError {
    BuildError::Actions(
        error
            .problems
            .into_iter()
            .map(StartupProblem::Registry)
            .collect(),
    )
}

/// 24 random bytes, base64 (URL-safe alphabet, so it pastes into shells and JSON as is).
fn generate_token() -> Secret {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).expect("the operating system's random number generator failed");
    Secret::new(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// Serves the actions of a registry over MCP (Streamable HTTP at [`MCP_PATH`]), with
/// authentication, permissions and the protected-resource metadata document.
pub struct ActionsServer {
    handler: ActionsHandler,
    config: Config,
    authenticator: Arc<dyn Authenticator>,
    generated_token: Option<Secret>,
    shutdown: CancellationToken,
}

impl std::fmt::Debug for ActionsServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActionsServer")
            .field("handler", &self.handler)
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

    /// The MCP handler (rmcp `ServerHandler`), e.g. to serve it over another transport.
    pub fn handler(&self) -> &ActionsHandler {
        &self.handler
    }

    /// The dispatcher every call goes through.
    pub fn dispatcher(&self) -> &Dispatcher {
        self.handler.dispatcher()
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

    /// The axum router for an external base URL: the MCP endpoint at [`MCP_PATH`] behind
    /// authentication, and its protected-resource metadata document (unauthenticated).
    /// Merge it into your own axum app, or serve it with [`ActionsServer::serve`].
    pub fn router(&self, base_url: &str) -> Router {
        let base_url = base_url.trim_end_matches('/');
        let mcp = self.config.mcp_actions();
        let limit = mcp.limits.max_request_body_bytes;
        let http_config = StreamableHttpServerConfig::default()
            .with_legacy_session_mode(false)
            .with_json_response(true)
            .with_sse_keep_alive(None)
            .with_allowed_hosts(self.allowed_hosts(base_url))
            .with_max_request_body_bytes(limit)
            .with_cancellation_token(self.shutdown.child_token());
        let handler = self.handler.clone();
        let service = StreamableHttpService::new(
            move || Ok(handler.clone()),
            Arc::new(NeverSessionManager::default()),
            http_config,
        );
        let auth_state = AuthLayerState {
            authenticator: Arc::clone(&self.authenticator),
            challenge: format!(
                "Bearer resource_metadata=\"{}\"",
                prm::metadata_url(base_url, MCP_PATH)
            ),
        };
        let endpoint = Router::new()
            .route_service(MCP_PATH, service)
            .layer(middleware::from_fn_with_state(
                auth_state,
                auth::require_auth,
            ))
            .layer(RequestBodyLimitLayer::new(limit));
        let metadata = ProtectedResourceMetadata::new(
            base_url,
            MCP_PATH,
            mcp.authorization_servers.clone(),
            Some(mcp.name.clone()),
        );
        endpoint.merge(prm::router(MCP_PATH, metadata))
    }

    /// The router for [`ActionsServer::base_url`] without a bound address: set
    /// `backend.baseUrl` when mounting it into your own app behind another address.
    pub fn into_router(self) -> Router {
        let base_url = self.base_url(None);
        self.router(&base_url)
    }

    /// Binds `backend.listen` (default `127.0.0.1:7007`).
    pub async fn bind(&self) -> Result<TcpListener, ServeError> {
        let address = self.config.backend().listen.address();
        TcpListener::bind(&address)
            .await
            .map_err(|source| ServeError::Bind { address, source })
    }

    /// Serves on `listener` until the process ends.
    pub async fn serve(self, listener: TcpListener) -> Result<(), ServeError> {
        self.serve_with_shutdown(listener, std::future::pending())
            .await
    }

    /// Serves on `listener` until `signal` completes, then stops accepting connections,
    /// cancels running calls and returns once open connections are done.
    pub async fn serve_with_shutdown(
        self,
        listener: TcpListener,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let local_addr = listener.local_addr()?;
        let base_url = self.base_url(Some(local_addr));
        let router = self.router(&base_url);
        tracing::info!(
            url = %Self::endpoint_url(&base_url),
            actions = self.dispatcher().registry().len(),
            name = %self.config.mcp_actions().name,
            allowed_hosts = ?self.allowed_hosts(&base_url),
            "serving MCP actions"
        );
        let shutdown = self.shutdown.clone();
        // Without TCP_NODELAY a streamed (SSE) response stalls ~40 ms per request (Nagle).
        let listener = listener.tap_io(|tcp| {
            if let Err(error) = tcp.set_nodelay(true) {
                tracing::debug!(%error, "could not set TCP_NODELAY");
            }
        });
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                signal.await;
                shutdown.cancel();
            })
            .await?;
        Ok(())
    }

    /// What to paste into an MCP client's configuration to reach this server with `token`:
    /// `{"mcpServers":{"<name>":{"url":…,"headers":{"Authorization":"Bearer …"}}}}`, pretty
    /// printed with `url` first.
    pub fn client_config_json(&self, base_url: &str, token: &str) -> String {
        let quote = |s: &str| serde_json::Value::from(s).to_string();
        format!(
            "{{\n  \"mcpServers\": {{\n    {name}: {{\n      \"url\": {url},\n      \"headers\": {{ \"Authorization\": {auth} }}\n    }}\n  }}\n}}",
            name = quote(&self.config.mcp_actions().name),
            url = quote(&Self::endpoint_url(base_url)),
            auth = quote(&format!("Bearer {token}")),
        )
    }

    /// The message `run()` prints to stderr when the token was generated: the client JSON,
    /// and how to keep the token across restarts. `None` when no token was generated.
    pub fn generated_token_notice(&self, base_url: &str) -> Option<String> {
        let token = self.generated_token()?;
        let json = self.client_config_json(base_url, token);
        Some(format!(
            "\nNo access token is configured (`backend.auth.externalAccess` in a --config file) and \
             {TOKEN_ENV_VAR} is not set,\nso this run accepts a generated token. To connect an MCP \
             client, add this to its configuration:\n\n{json}\n\nThe token changes on every start; \
             set {TOKEN_ENV_VAR} (8 or more characters, no spaces) to keep one.\n"
        ))
    }
}
