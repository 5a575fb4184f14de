//! Backstage's actions HTTP API, served for every plugin this server serves, so that a
//! Backstage backend can list and invoke this server's actions as one of its
//! `backend.actions.pluginSources` (through `discovery.endpoints`).
//!
//! | file | what it owns |
//! |---|---|
//! | `mod.rs` | the routes |
//! | `actions.rs` | list and invoke (v1 and v2), through the same [`Dispatcher`] as MCP |
//! | `callers.rs` | who may call: Backstage plugin tokens, and the server's own tokens |
//! | `errors.rs` | Backstage's error body and status mapping |
//! | `remote.rs` | remote plugin sources: Backstage plugins' actions served as MCP tools (feature `jwt`) |
//! | `service.rs` | [`Backstage`]: discovery and plugin tokens for actions that call Backstage plugins |
//! | `signing.rs` | the key this server signs plugin tokens with (feature `jwt`) |
//!
//! For each plugin `<p>` with an action on the default server:
//!
//! - `GET /api/<p>/.backstage/actions/v1/actions` → `{"actions": [...]}`;
//! - `POST /api/<p>/.backstage/actions/v1/actions/<id>/invoke`, the body being the input,
//!   and `POST .../v2/actions/<id>/invoke`, the body being `{"input": …, "secrets": …}` →
//!   `{"output": …}`.
//!
//! And `GET /api/<mcpActions.backstage.pluginId>/.backstage/auth/v1/jwks.json`: the public
//! keys of the plugin tokens this server signs ([`Backstage::plugin_request_token`]), for
//! Backstage plugins to verify them; public, as Backstage's own.
//!
//! **Who may call them:** a Backstage plugin listed in `discovery.endpoints`, with a plugin
//! token for `<p>` (see `auth::jwt::plugin_token`; the caller is then `plugin:<its id>`, or the
//! user it calls on behalf of); and anyone the server's MCP endpoint accepts (the static tokens
//! and JWTs of `backend.auth.externalAccess`, `MCP_TOKEN`, or a custom authenticator) whose
//! `accessRestrictions` include `<p>`. Errors are Backstage's `ErrorResponseBody` with its
//! status (an internal error: 500 with a reference only).

mod actions;
mod callers;
mod errors;
#[cfg(feature = "jwt")]
mod remote;
mod service;
#[cfg(feature = "jwt")]
mod signing;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use mcp_actions::Dispatcher;
use tokio_util::sync::CancellationToken;

pub(crate) use callers::Callers;
#[cfg(feature = "jwt")]
pub(crate) use remote::RemoteSources;
pub use service::Backstage;

/// Why `pem` cannot be `mcpActions.backstage.signingKey` (checked with the configuration).
#[cfg(feature = "jwt")]
pub(crate) fn check_signing_key(pem: &str) -> Result<(), String> {
    signing::Signer::from_pem(pem).map(drop)
}

use crate::http::{AllowedHosts, ConcurrencyLimit};

/// The state every plugin's routes share.
pub(crate) struct Api {
    pub(crate) dispatcher: Dispatcher,
    pub(crate) callers: Callers,
    pub(crate) hosts: AllowedHosts,
    pub(crate) concurrency: ConcurrencyLimit,
    pub(crate) body_limit: usize,
    /// Cancels the calls in progress at shutdown.
    pub(crate) calls: CancellationToken,
    /// Where refusals are counted and calls audited, as for MCP requests.
    pub(crate) telemetry: crate::telemetry::Telemetry,
    /// `mcpActions.backstage.actionsApi`: serve the plugins' actions API (else only the JWKS).
    pub(crate) serve_actions: bool,
}

/// The path under which `plugin` is served, e.g. `/api/catalog`.
pub(crate) fn plugin_path(plugin: &str) -> String {
    format!("/api/{plugin}")
}

/// The actions API of every plugin of `api`'s dispatcher.
pub(crate) fn router(api: Api) -> Router {
    let api = Arc::new(api);
    let jwks = api
        .dispatcher
        .services()
        .get::<Backstage>()
        .map(|backstage| {
            let path = format!(
                "{}/.backstage/auth/v1/jwks.json",
                plugin_path(backstage.plugin_id())
            );
            // Built when asked for: without `mcpActions.backstage.signingKey` the key is
            // generated on first use, and most servers never sign a plugin token.
            Router::new().route(
                &path,
                get(move || std::future::ready(axum::Json(backstage.jwks()))),
            )
        })
        .unwrap_or_default();
    if !api.serve_actions {
        return jwks;
    }
    let plugins =
        api.dispatcher
            .registry()
            .plugins()
            .into_iter()
            .fold(Router::new(), |router, plugin| {
                let base = plugin_path(plugin);
                let state = actions::PluginApi {
                    api: Arc::clone(&api),
                    plugin,
                };
                router.merge(
                    Router::new()
                        .route(
                            &format!("{base}/.backstage/actions/v1/actions"),
                            get(actions::list),
                        )
                        .route(
                            &format!("{base}/.backstage/actions/v1/actions/{{id}}/invoke"),
                            post(actions::invoke_v1),
                        )
                        .route(
                            &format!("{base}/.backstage/actions/v2/actions/{{id}}/invoke"),
                            post(actions::invoke_v2),
                        )
                        .with_state(state),
                )
            });
    plugins.merge(jwks)
}
