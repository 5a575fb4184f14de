//! The server: a builder that wires configuration, registry, services, policy and
//! authenticator together, and the axum router that serves them.
//!
//! Which actions are served is decided once, in [`ActionsServerBuilder::build`]:
//!
//! 1. every action linked into the binary (or the [`ActionsServerBuilder::registry`] given);
//! 2. only the plugins of [`ActionsServerBuilder::plugin_sources`], when the code sets them;
//! 3. `backend.actions.pluginSources` and `backend.actions.filter` from the config — the
//!    result is the **default server** at [`MCP_PATH`];
//! 4. each named server (`mcpActions.servers.<key>`, at `MCP_PATH/<key>`) serves the default
//!    server's actions that pass its own `filter`.
//!
//! Every decision keeps its reason ([`ActionsServer::exposure`]); a plugin source or rule that
//! matches nothing is a start-up warning ([`ActionsServer::warnings`]).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::response::IntoResponse;
use axum::serve::ListenerExt;
use mcp_actions::BoxFuture;
use mcp_actions::filter::{ActionFilter, FilterDecision};
use mcp_actions::registry::MissingService;
use mcp_actions::{
    Dispatcher, PermissionPolicy, RegisteredAction, Registry, RegistryError, RegistryProblem,
    Services,
};
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::auth::{AuthLayerState, Authenticator, StaticTokenAuthenticator};
use crate::config::{self, Config, ConfigError, FilterConfig, Secret, TOKEN_ENV_VAR};
use crate::direct::Direct;
use crate::guard::{self, ConcurrencyLimit};
use crate::handler::{ActionsHandler, ServerIdentity, ToolNameProblem, ToolNaming};
use crate::output::OutputSchemas;
use crate::prm::{self, ProtectedResourceMetadata};
use crate::transport::{SseEndpoint, SseOptions};
use mcp_actions::dispatch::OutputCheck;

/// At shutdown, how long the calls cancelled at the end of the grace period have to send their
/// (in-band) answers before every connection is cut.
const CANCELLED_CALLS_ANSWER_WITHIN: std::time::Duration = std::time::Duration::from_secs(2);

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
    /// A tool name is too long, or two actions share one (`mcpActions.namespacedToolNames`).
    #[error("{0}")]
    ToolName(ToolNameProblem),
}

/// The `tracing` target of start-up warnings (a plugin source or filter rule that matches no
/// action, a server that serves nothing).
pub const WARNINGS_TARGET: &str = "mcp_actions_server::startup";

/// Whether and why one linked action is served, by the default server and by each named one.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ActionExposure {
    /// The action.
    pub action: RegisteredAction,
    /// Its tool name (also when it is not served).
    pub tool_name: String,
    /// The default server's decision.
    pub decision: FilterDecision,
    /// Each named server's decision, in the order of [`ActionsServer::endpoints`] after the
    /// default one.
    pub servers: Vec<FilterDecision>,
}

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
        &self.handler.info().server_info.name
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
            prm::metadata_url(base_url.trim_end_matches('/'), &self.path)
        )
    }
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
    direct_dispatch: bool,
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
            direct_dispatch: true,
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
    ///
    /// It combines with the config: `backend.actions.pluginSources` and
    /// `backend.actions.filter` then narrow these plugins' actions further, they never add
    /// others (an action is served only when both allow it).
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

    /// Whether plain stateless `tools/call` and `tools/list` requests — no `_meta` (so no
    /// progress token), no pagination cursor, a protocol revision before 2026-07-28 — are
    /// answered without building rmcp's per-request service around them (default `true`).
    /// The answers are the same, byte for byte; the server does about half the work per call
    /// (see `BENCHMARKS.md`). `false` sends every request through rmcp's Streamable HTTP
    /// service.
    pub fn direct_dispatch(mut self, enabled: bool) -> Self {
        self.direct_dispatch = enabled;
        self
    }

    /// Checks everything and builds the server: the registry (every action linked into the
    /// binary, unless [`ActionsServerBuilder::registry`] was given), which actions each server
    /// exposes, their tool names, the services the exposed actions need, the authenticator,
    /// and the tool lists. Start-up warnings are logged (target [`WARNINGS_TARGET`]) and kept
    /// in [`ActionsServer::warnings`].
    pub fn build(self) -> Result<ActionsServer, BuildError> {
        let linked = match self.registry {
            Some(registry) => registry,
            None => Registry::from_inventory().map_err(registry_problems)?,
        };
        let mut warnings = Vec::new();

        // The default server: plugin sources set in code, then the config's filter.
        let actions_config = &self.config.backend().actions;
        let config_filter = compile_filter(
            "backend.actions.filter",
            &actions_config.filter,
            actions_config.plugin_sources.clone(),
        )?;
        if let Some(plugins) = &self.plugin_sources {
            for plugin in plugins {
                if !linked.iter().any(|a| a.plugin() == plugin) {
                    warnings.push(format!(
                        "plugin source `{plugin}` (set in code with `plugin_sources`) has no actions in this binary"
                    ));
                }
            }
        }
        let in_code = |action: &RegisteredAction| {
            self.plugin_sources
                .as_ref()
                .is_none_or(|plugins| plugins.iter().any(|p| p == action.plugin()))
        };
        let candidates = linked.clone().retain(in_code);
        for part in config_filter.unused_parts(&candidates) {
            let prefix = if part.starts_with("pluginSources") {
                "backend.actions."
            } else {
                "backend.actions.filter."
            };
            warnings.push(format!("{prefix}{part}"));
        }
        let decisions: Vec<FilterDecision> = linked
            .iter()
            .map(|action| {
                if in_code(action) {
                    config_filter.decide(action.descriptor())
                } else {
                    FilterDecision::Filtered {
                        reason: format!(
                            "plugin `{}` is not in the plugin sources set in code",
                            action.plugin()
                        ),
                    }
                }
            })
            .collect();
        let served = {
            let mut exposed = decisions.iter().map(FilterDecision::is_exposed);
            linked.clone().retain(|_| exposed.next().unwrap_or(false))
        };
        if served.is_empty() {
            warnings.push(
                "no action is exposed: check `backend.actions.pluginSources` and `backend.actions.filter`"
                    .to_owned(),
            );
        }

        let missing = served.missing_services(&self.services);
        if !missing.is_empty() {
            return Err(BuildError::Actions(
                missing
                    .into_iter()
                    .map(StartupProblem::MissingService)
                    .collect(),
            ));
        }
        let mcp = self.config.mcp_actions();
        let naming = ToolNaming::from_config(mcp.namespaced_tool_names);
        crate::handler::tool_names(&served, naming).map_err(|problems| {
            BuildError::Actions(problems.into_iter().map(StartupProblem::ToolName).collect())
        })?;

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
                        let token = config::generate_token();
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

        let services = Arc::new(self.services);
        let policy = self
            .policy
            .unwrap_or_else(|| Arc::new(mcp_actions::AllowAll));
        // Cancels the calls still running when the shutdown grace period is over.
        let calls = CancellationToken::new();
        // Compiled once, for the served actions; shared by every endpoint.
        let output_schemas: Arc<dyn OutputCheck> =
            Arc::new(OutputSchemas::compile(&served, &mut warnings));
        let handler = |registry: Registry, identity: ServerIdentity| {
            let dispatcher = Dispatcher::new(registry)
                .with_services(Arc::clone(&services))
                .with_policy(Arc::clone(&policy))
                .with_timeout(mcp.limits.action_timeout)
                .with_output_check(Arc::clone(&output_schemas));
            ActionsHandler::with_tool_naming(dispatcher, identity, naming)
                .map(|handler| handler.cancel_calls_with(calls.clone()))
                .map_err(|problems| {
                    BuildError::Actions(
                        problems.into_iter().map(StartupProblem::ToolName).collect(),
                    )
                })
        };
        let mut endpoints = vec![Endpoint {
            key: None,
            path: MCP_PATH.to_owned(),
            handler: handler(
                served.clone(),
                ServerIdentity {
                    name: mcp.name.clone(),
                    version: self.version.clone(),
                    description: mcp.description.clone(),
                    instructions: mcp.instructions.clone(),
                },
            )?,
        }];

        // Named servers: subsets of the default server.
        let mut server_decisions: Vec<Vec<FilterDecision>> = Vec::new();
        for server in &mcp.servers {
            let key_path = format!("mcpActions.servers.{}", server.key);
            let filter = compile_filter(&format!("{key_path}.filter"), &server.filter, None)?;
            for part in filter.unused_parts(&served) {
                warnings.push(format!("{key_path}.filter.{part} of the default server"));
            }
            let mut own = Vec::with_capacity(linked.len());
            for (action, default) in linked.iter().zip(&decisions) {
                own.push(if default.is_exposed() {
                    filter.decide(action.descriptor())
                } else {
                    FilterDecision::Filtered {
                        reason: "not exposed by the default server".to_owned(),
                    }
                });
            }
            let subset = {
                let mut exposed = own.iter().map(FilterDecision::is_exposed);
                linked.clone().retain(|_| exposed.next().unwrap_or(false))
            };
            if subset.is_empty() && !served.is_empty() {
                warnings.push(format!("{key_path} serves no action"));
            }
            endpoints.push(Endpoint {
                key: Some(server.key.clone()),
                path: format!("{MCP_PATH}/{}", server.key),
                handler: handler(
                    subset,
                    ServerIdentity {
                        name: server.name.clone(),
                        version: self.version.clone(),
                        description: server.description.clone(),
                        instructions: server.instructions.clone(),
                    },
                )?,
            });
            server_decisions.push(own);
        }

        let exposure = linked
            .iter()
            .zip(decisions)
            .enumerate()
            .map(|(i, (action, decision))| ActionExposure {
                action: action.clone(),
                tool_name: naming.tool_name(action),
                decision,
                servers: server_decisions.iter().map(|d| d[i].clone()).collect(),
            })
            .collect();
        for warning in &warnings {
            tracing::warn!(target: WARNINGS_TARGET, "{warning}");
        }
        let concurrency = ConcurrencyLimit::new(mcp.limits.max_concurrent_requests);
        Ok(ActionsServer {
            endpoints,
            exposure,
            warnings,
            concurrency,
            config: self.config,
            authenticator,
            generated_token,
            calls,
            sse_shutdown: CancellationToken::new(),
            shutdown: CancellationToken::new(),
            direct_dispatch: self.direct_dispatch,
        })
    }
}

/// The answer to a path no endpoint serves (e.g. an unknown server key): 404, naming the
/// endpoints there are. Only [`ActionsServer::serve`] sets it: a fallback in
/// [`ActionsServer::router`] would clash with the fallback of an app it is merged into.
fn not_found(
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

/// Compiles a filter from the config. The globs were checked when the config was loaded, so
/// this fails only for a `Config` assembled some other way.
fn compile_filter(
    prefix: &str,
    filter: &FilterConfig,
    plugin_sources: Option<Vec<String>>,
) -> Result<ActionFilter, BuildError> {
    filter.compile(plugin_sources).map_err(|e| {
        BuildError::Config(ConfigError::Invalid {
            key: format!("{prefix}.{}[{}].id", e.list, e.index),
            message: format!("`{}` is not a valid glob: {}", e.glob, e.reason),
        })
    })
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
    /// Cancels the calls in progress (in-band `ServiceUnavailableError`): at shutdown, once
    /// the grace period is over.
    calls: CancellationToken,
    /// Closes the SSE sessions: with `calls`.
    sse_shutdown: CancellationToken,
    /// Stops rmcp's Streamable HTTP service (what is still running is cut): last.
    shutdown: CancellationToken,
    /// See [`ActionsServerBuilder::direct_dispatch`].
    direct_dispatch: bool,
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

    /// The default server's MCP handler (rmcp `ServerHandler`), e.g. to serve it over another
    /// transport.
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

    /// The axum router for an external base URL: every endpoint (the default server at
    /// [`MCP_PATH`], each named server at `MCP_PATH/<key>`) behind authentication, and each
    /// one's protected-resource metadata document (unauthenticated). Any other path is 404.
    /// Merge it into your own axum app, or serve it with [`ActionsServer::serve`].
    pub fn router(&self, base_url: &str) -> Router {
        let base_url = base_url.trim_end_matches('/');
        self.endpoints
            .iter()
            .fold(Router::new(), |router, endpoint| {
                router.merge(self.endpoint_router(endpoint, base_url))
            })
    }

    /// The routes of one endpoint: its MCP transports, and its protected-resource metadata
    /// document (`/.well-known/oauth-protected-resource<path>`, resource `<base_url><path>`),
    /// which its 401 challenge points at.
    pub fn endpoint_router(&self, endpoint: &Endpoint, base_url: &str) -> Router {
        let base_url = base_url.trim_end_matches('/');
        let mcp = self.config.mcp_actions();
        let limit = mcp.limits.max_request_body_bytes;
        let challenge = endpoint.challenge(base_url);
        let allowed_hosts = self.allowed_hosts(base_url);
        let http_config = StreamableHttpServerConfig::default()
            .with_legacy_session_mode(false)
            .with_json_response(true)
            .with_sse_keep_alive(None)
            .with_allowed_hosts(allowed_hosts.clone())
            .with_max_request_body_bytes(limit)
            .with_cancellation_token(self.shutdown.child_token());
        let handler = endpoint.handler.clone();
        let service = StreamableHttpService::new(
            move || Ok(handler.clone()),
            Arc::new(NeverSessionManager::default()),
            http_config,
        );
        let auth_state = AuthLayerState {
            authenticator: Arc::clone(&self.authenticator),
            challenge: challenge.clone(),
        };
        // Streamable HTTP behind the concurrency limit (503), authentication (401), the body
        // limit and JSON-RPC errors for bodies that are not one JSON-RPC message. Only this
        // route: an unknown path (e.g. an unknown server key) stays a 404, not a 401.
        let direct = self
            .direct_dispatch
            .then(|| Direct::new(endpoint.handler.clone(), &allowed_hosts));
        let guarded = guard::GuardedMcpService::new(
            self.concurrency.clone(),
            auth_state,
            limit,
            direct,
            service,
        );
        let streamable = Router::new().route_service(&endpoint.path, guarded);
        let metadata = ProtectedResourceMetadata::new(
            base_url,
            &endpoint.path,
            mcp.authorization_servers.clone(),
            Some(endpoint.name().to_owned()),
        );
        let router = streamable.merge(prm::router(&endpoint.path, metadata));
        if !mcp.sse.enabled {
            return router;
        }
        // The deprecated HTTP+SSE transport at `<path>/sse`, with its own authentication.
        let sse = SseEndpoint::new(
            &endpoint.path,
            endpoint.handler.clone(),
            Arc::clone(&self.authenticator),
        )
        .challenge(challenge)
        .options(
            SseOptions::from_config(&mcp.sse)
                .with_max_request_body_bytes(limit)
                .with_allowed_hosts(allowed_hosts),
        )
        .shutdown_token(self.sse_shutdown.child_token());
        router.merge(sse.router())
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

    /// Serves on `listener` until `signal` completes, then shuts down gracefully:
    ///
    /// 1. stops accepting connections (new ones are refused) and closes idle ones;
    /// 2. lets requests in progress finish, for up to `mcpActions.limits.shutdownGraceSeconds`
    ///    (default 10): their answers are sent as usual;
    /// 3. then cancels what still runs (calls end with `ServiceUnavailableError`, SSE sessions
    ///    close) and returns `Ok` once every connection is done.
    ///
    /// SSE sessions stay open during the grace period (a call in progress answers on its
    /// stream), so with an SSE client connected, shutdown takes the whole grace period.
    pub async fn serve_with_shutdown(
        self,
        listener: TcpListener,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        self.serve_boxed(listener, Box::pin(signal)).await
    }

    /// The body of [`ActionsServer::serve_with_shutdown`], not generic and boxed: the whole
    /// server's state machine is then compiled once, in this crate, rather than again in every
    /// binary that awaits it (a release build of a two-line `main` took 30 s more without it).
    fn serve_boxed(
        self,
        listener: TcpListener,
        signal: BoxFuture<'static, ()>,
    ) -> BoxFuture<'static, Result<(), ServeError>> {
        Box::pin(self.serve_until(listener, signal))
    }

    async fn serve_until(
        self,
        listener: TcpListener,
        signal: BoxFuture<'static, ()>,
    ) -> Result<(), ServeError> {
        let local_addr = listener.local_addr()?;
        let base_url = self.base_url(Some(local_addr));
        let router = self.router(&base_url).fallback(not_found(
            self.endpoints.iter().map(|e| e.path.clone()).collect(),
        ));
        for endpoint in &self.endpoints {
            tracing::info!(
                url = %endpoint.url(&base_url),
                actions = endpoint.handler.dispatcher().registry().len(),
                name = %endpoint.name(),
                "serving MCP actions"
            );
        }
        tracing::info!(allowed_hosts = ?self.allowed_hosts(&base_url), "accepting these Host headers");
        let (calls, sse_shutdown, shutdown) = (
            self.calls.clone(),
            self.sse_shutdown.clone(),
            self.shutdown.clone(),
        );
        // Without TCP_NODELAY a streamed (SSE) response stalls ~40 ms per request (Nagle).
        let listener = listener.tap_io(|tcp| {
            if let Err(error) = tcp.set_nodelay(true) {
                tracing::debug!(%error, "could not set TCP_NODELAY");
            }
        });
        let grace = self.config.mcp_actions().limits.shutdown_grace;
        let stopping = CancellationToken::new();
        let serving = axum::serve(listener, router).with_graceful_shutdown({
            let stopping = stopping.clone();
            async move {
                signal.await;
                tracing::info!(
                    grace_seconds = grace.as_secs(),
                    "shutting down: no new connections; requests in progress may finish"
                );
                stopping.cancel();
            }
        });
        let serving = std::future::IntoFuture::into_future(serving);
        tokio::pin!(serving);
        let grace_over = async {
            stopping.cancelled().await;
            tokio::time::sleep(grace).await;
        };
        tokio::select! {
            result = &mut serving => result?,
            () = grace_over => {
                tracing::warn!(
                    grace_seconds = grace.as_secs(),
                    "shutdown grace period over: cancelling the calls still running"
                );
                // Cancelled calls answer in-band (`ServiceUnavailableError`); whatever has not
                // answered shortly after is cut.
                calls.cancel();
                sse_shutdown.cancel();
                tokio::select! {
                    result = &mut serving => result?,
                    () = tokio::time::sleep(CANCELLED_CALLS_ANSWER_WITHIN) => {
                        shutdown.cancel();
                        serving.await?;
                    }
                }
            }
        }
        calls.cancel();
        sse_shutdown.cancel();
        shutdown.cancel();
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
        let mut json = self.client_config_json(base_url, token);
        let named: Vec<String> = self.endpoints[1..]
            .iter()
            .map(|e| {
                format!(
                    "  {} ({}): {}",
                    e.key().unwrap_or_default(),
                    e.name(),
                    e.url(base_url)
                )
            })
            .collect();
        if !named.is_empty() {
            json.push_str(&format!(
                "\n\nThe named servers take the same token; use their URLs instead:\n{}",
                named.join("\n")
            ));
        }
        Some(format!(
            "\nNo access token is configured (`backend.auth.externalAccess` in a --config file) and \
             {TOKEN_ENV_VAR} is not set,\nso this run accepts a generated token. To connect an MCP \
             client, add this to its configuration:\n\n{json}\n\nThe token changes on every start; \
             set {TOKEN_ENV_VAR} (8 or more characters, no spaces) to keep one.\n"
        ))
    }
}
