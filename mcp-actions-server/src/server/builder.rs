//! [`ActionsServerBuilder`]: configuration, registry, services, policy and authenticator in;
//! a checked [`ActionsServer`] out.

use std::num::NonZeroUsize;
use std::sync::Arc;

use mcp_actions::dispatch::OutputCheck;
use mcp_actions::{
    ConfirmPolicy, Credentials, Dispatcher, PermissionPolicy, Registry, RegistryError, Services,
};
use tokio_util::sync::CancellationToken;

use super::error::{BuildError, StartupProblem};
use super::exposure::{Plan, WARNINGS_TARGET};
use super::{ActionsServer, Endpoint, MCP_PATH};
use crate::auth::{Authenticator, StaticTokenAuthenticator, default_token, generate_token};
use crate::config::Config;
use crate::http::ConcurrencyLimit;
use crate::http::health::Readiness;
use crate::mcp::{
    ActionsHandler, Observer, OutputSchemas, RoundSeal, ServerIdentity, ToolNames, ToolNaming,
};
use crate::telemetry::{Audit, Telemetry};

/// Builds an [`ActionsServer`].
///
/// ```no_run
/// use mcp_actions_server::{ActionsServer, ConfigLoader};
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
    #[cfg(feature = "jwt")]
    jwt: Option<Arc<crate::auth::JwtAuthenticator>>,
    version: String,
    default_name: Option<String>,
    direct_dispatch: bool,
    list_page_size: Option<usize>,
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
    pub(super) fn new() -> Self {
        Self {
            config: Config::default(),
            registry: None,
            plugin_sources: None,
            services: Services::new(),
            policy: None,
            authenticator: None,
            #[cfg(feature = "jwt")]
            jwt: None,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            default_name: None,
            direct_dispatch: true,
            list_page_size: None,
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
    pub fn authenticator(self, authenticator: impl Authenticator) -> Self {
        self.authenticator_arc(Arc::new(authenticator))
    }

    /// Like [`ActionsServerBuilder::authenticator`], for a shared authenticator.
    pub fn authenticator_arc(mut self, authenticator: Arc<dyn Authenticator>) -> Self {
        self.authenticator = Some(authenticator);
        self
    }

    /// Accepts the JWTs of `jwt`'s issuers, next to the static tokens of
    /// `backend.auth.externalAccess` (it replaces the config's `type: jwks` entries). Unlike an
    /// [`authenticator`](Self::authenticator), the server knows it: the protected-resource
    /// metadata names its issuers as the authorization servers (unless
    /// `mcpActions.authorizationServers` is set), and `config check` fetches their keys.
    #[cfg(feature = "jwt")]
    pub fn jwt_authenticator(mut self, jwt: crate::auth::JwtAuthenticator) -> Self {
        self.jwt = Some(Arc::new(jwt));
        self
    }

    /// The server name reported in `serverInfo` when the config does not set `mcpActions.name`
    /// (without either: `mcp-actions`). [`run!`](crate::run!) passes the binary's package name.
    pub fn default_name(mut self, name: impl Into<String>) -> Self {
        self.default_name = Some(name.into());
        self
    }

    /// The version reported in `serverInfo` (default: this crate's version;
    /// [`run!`](crate::run!) passes the binary's).
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = version.into();
        self
    }

    /// Whether plain stateless `tools/call`, `tools/list` and (2026-07-28) `server/discover`
    /// requests — no `_meta` but what their revision requires (so no progress token), matching
    /// SEP-2243 headers on 2026-07-28 — are
    /// answered without building rmcp's per-request service around them (default `true`).
    /// The answers are the same, byte for byte; the server does about half the work per call
    /// (see `BENCHMARKS.md`). `false` sends every request through rmcp's Streamable HTTP
    /// service.
    pub fn direct_dispatch(mut self, enabled: bool) -> Self {
        self.direct_dispatch = enabled;
        self
    }

    /// Tools per `tools/list` page, instead of `mcpActions.listPageSize` (`0`: every tool on
    /// one page). A client pages on with the `nextCursor` of each answer.
    pub fn list_page_size(mut self, tools: usize) -> Self {
        self.list_page_size = Some(tools);
        self
    }

    /// Checks everything and builds the server: the registry (every action linked into the
    /// binary, unless [`ActionsServerBuilder::registry`] was given), which actions each server
    /// exposes ([`ActionsServer::exposure`]), their tool names, the services the exposed
    /// actions need, the authenticator, and the tool lists. Start-up warnings are logged
    /// (target [`WARNINGS_TARGET`]) and kept in [`ActionsServer::warnings`].
    pub fn build(self) -> Result<ActionsServer, BuildError> {
        let linked = match self.registry {
            Some(registry) => registry,
            None => Registry::from_inventory().map_err(registry_problems)?,
        };
        let mut warnings = Vec::new();
        let plan = Plan::new(
            &linked,
            self.plugin_sources.as_deref(),
            &self.config,
            &mut warnings,
        )?;
        // Every server offers actions Backstage's discovery and plugin tokens.
        let mut services = self.services;
        let backstage = crate::Backstage::new(
            self.config.mcp_actions().backstage.plugin_id.clone(),
            self.config.discovery().clone(),
        );
        #[cfg(feature = "jwt")]
        let backstage = match &self.config.mcp_actions().backstage.signing_key {
            Some(key) => backstage.signed_with(key.expose()).map_err(|error| {
                BuildError::Config(crate::ConfigError::invalid(
                    "mcpActions.backstage.signingKey",
                    error,
                ))
            })?,
            None => backstage,
        };
        let backstage = Arc::new(backstage);
        services.insert_arc(Arc::clone(&backstage));
        let missing = plan.served.missing_services(&services);
        if !missing.is_empty() {
            return Err(BuildError::Actions(
                missing
                    .into_iter()
                    .map(StartupProblem::MissingService)
                    .collect(),
            ));
        }
        let mcp = self.config.mcp_actions();
        let names = ToolNames::new(&linked, ToolNaming::from_config(mcp.namespaced_tool_names));
        names.check(&plan.served).map_err(|problems| {
            BuildError::Actions(problems.into_iter().map(StartupProblem::ToolName).collect())
        })?;

        let (authenticator, generated_token, jwt) = match self.authenticator {
            Some(authenticator) => (authenticator, None, None),
            #[cfg(feature = "jwt")]
            None if self.jwt.is_some() => {
                let jwt = self.jwt.clone().expect("checked");
                let static_tokens = StaticTokenAuthenticator::from_config(
                    &self.config.backend().auth.external_access,
                );
                let authenticator: Arc<dyn Authenticator> = Arc::new(crate::auth::ExternalAccess {
                    static_tokens,
                    jwt: Arc::clone(&jwt),
                });
                (authenticator, None, Some(jwt))
            }
            None => default_authenticator(&self.config)?,
        };
        #[cfg(not(feature = "jwt"))]
        let _: Option<()> = jwt;
        // Validated with the rest of the configuration.
        let scope_rules = mcp.auth.compile().unwrap_or_default();

        let services = Arc::new(services);
        let policy = self
            .policy
            .unwrap_or_else(|| Arc::new(mcp_actions::AllowAll));
        // Cancels the calls still running when the shutdown grace period is over.
        let calls = CancellationToken::new();
        // For the served actions, each compiled at its first use; shared by every endpoint.
        let output_schemas: Arc<dyn OutputCheck> = Arc::new(OutputSchemas::new(&plan.served));
        let page_size = NonZeroUsize::new(self.list_page_size.unwrap_or(mcp.list_page_size));
        let audit = Audit::from_config(&mcp.audit).map_err(|error| {
            BuildError::Config(crate::ConfigError::invalid(
                "mcpActions.audit.file",
                format!("cannot open the audit file: {error}"),
            ))
        })?;
        let telemetry = Telemetry::new(audit);
        // One seal for every endpoint; the state is bound to the tool and the caller anyway.
        let seal = match &mcp.elicitation.state_key {
            Some(key) => RoundSeal::new(key.expose().as_bytes(), mcp.elicitation.answer_within())
                .map_err(|error| {
                BuildError::Config(crate::ConfigError::invalid(
                    "mcpActions.elicitation.stateKey",
                    error,
                ))
            })?,
            None => RoundSeal::ephemeral(mcp.elicitation.answer_within()),
        };
        let handler =
            |registry: Registry, identity: ServerIdentity, key: &str, confirm: ConfirmPolicy| {
                let dispatcher = Dispatcher::new(registry)
                    .with_services(Arc::clone(&services))
                    .with_policy(Arc::clone(&policy))
                    .with_timeout(mcp.limits.action_timeout())
                    .with_output_check(Arc::clone(&output_schemas))
                    .with_scope_rules(&scope_rules)
                    .with_confirm_policy(confirm);
                ActionsHandler::new(dispatcher, identity, &names)
                    .seal_rounds_with(seal.clone())
                    .cancel_calls_with(calls.clone())
                    .page_tools_by(page_size)
                    .observed_by(Observer::new(telemetry.clone(), key))
            };
        let identity = |name: &str, description: &Option<String>, instructions: &Option<String>| {
            ServerIdentity {
                name: name.to_owned(),
                version: self.version.clone(),
                description: description.clone(),
                instructions: instructions.clone(),
            }
        };
        let name = match &self.default_name {
            Some(name) if self.config.tree().pointer("/mcpActions/name").is_none() => name,
            _ => &mcp.name,
        };
        let default_handler = handler(
            plan.served.clone(),
            identity(name, &mcp.description, &mcp.instructions),
            "default",
            mcp.confirm.policy(None, None),
        );
        // One set of remote sources (one listing of each) for every endpoint; a named server
        // applies its filter to their actions as to the linked ones.
        #[cfg(feature = "jwt")]
        let remote = remote_sources(&self.config, &linked, &names, backstage);
        #[cfg(feature = "jwt")]
        let with_remote = |handler: ActionsHandler, filter| match &remote {
            Some(remote) => handler.with_remote(Arc::clone(remote), filter),
            None => handler,
        };
        #[cfg(not(feature = "jwt"))]
        let (with_remote, _) = (
            |handler: ActionsHandler, _: Option<mcp_actions::filter::ActionFilter>| handler,
            backstage,
        );
        let default_handler = with_remote(default_handler, None);
        let mut endpoints = vec![Endpoint {
            key: None,
            path: MCP_PATH.to_owned(),
            handler: default_handler,
        }];
        for (key, actions, _) in &plan.servers {
            let server = &mcp.servers[key];
            endpoints.push(Endpoint {
                key: Some(key.clone()),
                path: format!("{MCP_PATH}/{key}"),
                handler: with_remote(
                    handler(
                        actions.clone(),
                        identity(&server.name, &server.description, &server.instructions),
                        key,
                        mcp.confirm
                            .policy(server.confirm, server.confirm_without_client_support),
                    ),
                    // Validated by `Plan::new`.
                    Some(server.filter.compile(None).unwrap_or_default()),
                ),
            });
        }
        let exposure = plan.exposure(&linked, &names);
        for warning in &warnings {
            tracing::warn!(target: WARNINGS_TARGET, "{warning}");
        }
        let concurrency = ConcurrencyLimit::new(mcp.limits.max_concurrent_requests);
        #[cfg(feature = "jwt")]
        if let Some(jwt) = &jwt {
            jwt.count_fetches_in(Arc::clone(&telemetry.metrics));
        }
        #[cfg(feature = "jwt")]
        let plugin_tokens = plugin_tokens(&self.config, &telemetry)?;
        Ok(ActionsServer {
            endpoints,
            exposure,
            warnings,
            concurrency,
            config: self.config,
            authenticator,
            generated_token,
            #[cfg(feature = "jwt")]
            jwt,
            #[cfg(feature = "jwt")]
            plugin_tokens,
            calls,
            sse_shutdown: CancellationToken::new(),
            shutdown: CancellationToken::new(),
            direct_dispatch: self.direct_dispatch,
            telemetry,
            readiness: Readiness::new(),
        })
    }
}

/// What authenticates without a custom authenticator.
#[cfg(feature = "jwt")]
type Defaults = (
    Arc<dyn Authenticator>,
    Option<crate::config::Secret>,
    Option<Arc<crate::auth::JwtAuthenticator>>,
);
#[cfg(not(feature = "jwt"))]
type Defaults = (
    Arc<dyn Authenticator>,
    Option<crate::config::Secret>,
    Option<()>,
);

/// `backend.auth.externalAccess`: its static tokens and, for `type: jwks` entries, a JWT
/// verifier (returned too: the server tells it its URLs). Without any entry, the token in
/// `MCP_TOKEN`, or one generated for this run (returned too, so that it can be shown).
fn default_authenticator(config: &Config) -> Result<Defaults, BuildError> {
    let auth = &config.backend().auth;
    if !auth.external_access.is_empty() {
        let static_tokens = StaticTokenAuthenticator::from_config(&auth.external_access);
        if auth.jwks_entries().next().is_none() {
            return Ok((Arc::new(static_tokens), None, None));
        }
        return jwt_authenticator(config, static_tokens);
    }
    let (token, generated) = match default_token(config)? {
        Some(token) => (token, None),
        None => {
            let token = generate_token();
            (token.clone(), Some(token))
        }
    };
    let authenticator =
        StaticTokenAuthenticator::new().with_token(token, Credentials::service("mcp-clients"));
    Ok((Arc::new(authenticator), generated, None))
}

#[cfg(feature = "jwt")]
fn jwt_authenticator(
    config: &Config,
    static_tokens: StaticTokenAuthenticator,
) -> Result<Defaults, BuildError> {
    use crate::auth::{ExternalAccess, JwtAuthenticator, JwtIssuer};
    let issuers = config
        .backend()
        .auth
        .jwks_entries()
        .map(JwtIssuer::from_config);
    let jwt = JwtAuthenticator::for_this_server(issuers).map_err(|error| {
        BuildError::Config(crate::ConfigError::invalid(
            "backend.auth.externalAccess",
            error.to_string(),
        ))
    })?;
    let jwt = Arc::new(jwt);
    let authenticator = ExternalAccess {
        static_tokens,
        jwt: Arc::clone(&jwt),
    };
    Ok((Arc::new(authenticator), None, Some(jwt)))
}

/// The remote plugin sources: the plugins of `backend.actions.pluginSources` that have no
/// linked action and are listed in `discovery.endpoints`.
#[cfg(feature = "jwt")]
fn remote_sources(
    config: &Config,
    linked: &Registry,
    names: &ToolNames,
    backstage: Arc<crate::Backstage>,
) -> Option<Arc<crate::backstage::RemoteSources>> {
    let plugin_sources = config.backend().actions.plugin_sources.as_ref()?;
    let sources: Vec<(String, String)> = plugin_sources
        .iter()
        .filter(|plugin| !linked.iter().any(|a| a.plugin() == plugin.as_str()))
        .filter_map(|plugin| {
            let base = config.discovery().base_url(plugin)?;
            Some((plugin.clone(), base))
        })
        .collect();
    if sources.is_empty() {
        return None;
    }
    let mcp = config.mcp_actions();
    // Every linked action's tool name, served by the default server or by a named one only.
    let taken = linked.iter().map(|a| names.of(a).to_owned()).collect();
    let actions = &config.backend().actions;
    // Validated with the rest of the configuration.
    let filter = actions
        .filter
        .compile(actions.plugin_sources.clone())
        .unwrap_or_default();
    Some(Arc::new(
        crate::backstage::RemoteSources::new(
            backstage,
            sources,
            ToolNaming::from_config(mcp.namespaced_tool_names),
            filter,
            taken,
            std::time::Duration::from_secs(mcp.backstage.refresh_seconds.max(1)),
            mcp.limits.action_timeout(),
        )
        // Validated with the rest of the configuration, as the filter.
        .with_scope_rules(mcp.auth.compile().unwrap_or_default()),
    ))
}

/// The verifier of Backstage plugin tokens, when `discovery.endpoints` lists plugins.
#[cfg(feature = "jwt")]
fn plugin_tokens(
    config: &Config,
    telemetry: &Telemetry,
) -> Result<Option<Arc<crate::auth::PluginTokens>>, BuildError> {
    let discovery = config.discovery();
    if discovery.endpoints.is_empty() {
        return Ok(None);
    }
    let tokens = crate::auth::PluginTokens::new(discovery.clone()).map_err(|error| {
        BuildError::Config(crate::ConfigError::invalid(
            "discovery.endpoints",
            error.to_string(),
        ))
    })?;
    tokens.count_fetches_in(Arc::clone(&telemetry.metrics));
    Ok(Some(Arc::new(tokens)))
}

#[cfg(not(feature = "jwt"))]
fn jwt_authenticator(config: &Config, _: StaticTokenAuthenticator) -> Result<Defaults, BuildError> {
    let index = config
        .backend()
        .auth
        .external_access
        .iter()
        .position(|e| e.kind == crate::config::ExternalAccessType::Jwks)
        .unwrap_or_default();
    Err(BuildError::Config(crate::ConfigError::invalid(
        format!("backend.auth.externalAccess[{index}].type"),
        "`jwks` needs the `jwt` feature of mcp-actions-server, which this binary was built without",
    )))
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
