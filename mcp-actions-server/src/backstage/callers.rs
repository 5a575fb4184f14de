//! Who may call the Backstage actions API: a Backstage plugin with its plugin token for this
//! plugin (`aud`), verified against the calling plugin's keys found through
//! `discovery.endpoints` (feature `jwt`); or any caller the server's own authenticator accepts
//! (the static tokens and JWTs of `backend.auth.externalAccess`, or a custom authenticator),
//! within its `accessRestrictions`.

use std::sync::Arc;

use http::request::Parts;
use mcp_actions::{ActionError, Credentials};

use crate::auth::{AuthError, Authenticator, bearer_token};

/// Turns a request to one plugin's actions API into the caller's credentials.
pub(crate) struct Callers {
    authenticator: Arc<dyn Authenticator>,
    /// `None` without `discovery.endpoints` (no plugin is trusted) or without the `jwt`
    /// feature.
    #[cfg(feature = "jwt")]
    plugin_tokens: Option<Arc<crate::auth::PluginTokens>>,
}

impl Callers {
    pub(crate) fn new(
        authenticator: Arc<dyn Authenticator>,
        #[cfg(feature = "jwt")] plugin_tokens: Option<Arc<crate::auth::PluginTokens>>,
    ) -> Self {
        Self {
            authenticator,
            #[cfg(feature = "jwt")]
            plugin_tokens,
        }
    }

    /// The caller of `request`, sent to `plugin`'s actions API: an `AuthenticationError` when
    /// it has no valid token, a `NotAllowedError` when its token may not reach `plugin`.
    pub(crate) async fn credentials(
        &self,
        request: &Parts,
        plugin: &str,
    ) -> Result<Credentials, ActionError> {
        let headers = request
            .headers
            .get_all(http::header::AUTHORIZATION)
            .iter()
            .count();
        if headers > 1 {
            return Err(ActionError::authentication(
                AuthError::AmbiguousToken(headers).to_string(),
            ));
        }
        let credentials = match bearer_token(request) {
            Some(token) if is_plugin_token(token) => self.plugin_caller(token, plugin).await?,
            _ => self
                .authenticator
                .authenticate(request)
                .await
                .map_err(|error| {
                    tracing::info!(plugin, %error, "refused a Backstage actions API request");
                    ActionError::authentication(error.to_string())
                })?,
        };
        if !credentials.allows_plugin(plugin) {
            return Err(ActionError::not_allowed(format!(
                "this token's access is restricted to other plugins than `{plugin}`"
            )));
        }
        Ok(credentials)
    }

    #[cfg(feature = "jwt")]
    async fn plugin_caller(&self, token: &str, plugin: &str) -> Result<Credentials, ActionError> {
        let Some(plugin_tokens) = &self.plugin_tokens else {
            return Err(ActionError::authentication(
                "Backstage plugin tokens are accepted only from the plugins listed in `discovery.endpoints`, and this server lists none",
            ));
        };
        plugin_tokens
            .verify(token, plugin)
            .await
            .map_err(|rejection| {
                tracing::info!(plugin, reason = %rejection, "refused a Backstage plugin token");
                ActionError::authentication(format!("the plugin token is not valid: {rejection}"))
            })
    }

    #[cfg(not(feature = "jwt"))]
    async fn plugin_caller(&self, _: &str, _: &str) -> Result<Credentials, ActionError> {
        Err(ActionError::authentication(
            "Backstage plugin tokens need the `jwt` feature of mcp-actions-server, which this binary was built without",
        ))
    }
}

#[cfg(feature = "jwt")]
fn is_plugin_token(token: &str) -> bool {
    crate::auth::is_plugin_token(token)
}

/// Without the `jwt` feature a plugin token is still recognised (by its header's `typ`), to
/// say why it is refused.
#[cfg(not(feature = "jwt"))]
fn is_plugin_token(token: &str) -> bool {
    use base64::Engine;
    let Some(header) = token.split('.').next() else {
        return false;
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .and_then(|h| h.get("typ").and_then(|t| t.as_str()).map(str::to_owned))
        .is_some_and(|typ| typ.eq_ignore_ascii_case("vnd.backstage.plugin"))
}
