//! [`Backstage`]: what an action needs to call a Backstage plugin with the caller's authority —
//! Backstage's `discovery.getBaseUrl(pluginId)` and `auth.getPluginRequestToken({ onBehalfOf,
//! targetPluginId })` — as a service every server registers.

use mcp_actions::{ActionContext, ActionError, Principal};

use crate::config::DiscoveryConfig;

/// Backstage's discovery and plugin tokens, for actions that call Backstage plugins: reach it
/// as a `Service<Backstage>` argument or `ctx.service::<Backstage>()`.
///
/// ```no_run
/// use mcp_actions::prelude::*;
/// use mcp_actions_server::Backstage;
///
/// # #[derive(Serialize, Deserialize, JsonSchema)] struct Out { found: bool }
/// /// Whether the catalog knows the component.
/// #[action(title = "Has Component", read_only)]
/// async fn has_component(ctx: &ActionContext, backstage: Service<Backstage>) -> Result<Out, ActionError> {
///     let base = backstage.base_url("catalog")
///         .ok_or_else(|| ActionError::service_unavailable("the catalog is not in discovery.endpoints"))?;
///     let token = backstage.plugin_request_token(ctx, "catalog")?;
///     // GET {base}/entities/by-name/component/default/… with `Authorization: Bearer {token}`
///     # let _ = (base, token);
///     Ok(Out { found: true })
/// }
/// ```
pub struct Backstage {
    plugin_id: String,
    discovery: DiscoveryConfig,
    /// The key plugin tokens are signed with: the configured one, or one generated on first
    /// use (a key generation costs more than the rest of a small server's start-up).
    #[cfg(feature = "jwt")]
    signer: std::sync::OnceLock<Option<super::signing::Signer>>,
}

impl std::fmt::Debug for Backstage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backstage")
            .field("plugin_id", &self.plugin_id)
            .field("discovery", &self.discovery)
            .finish_non_exhaustive()
    }
}

impl Backstage {
    /// The service of a server whose plugin id is `plugin_id` (`mcpActions.backstage.pluginId`)
    /// and which finds plugins through `discovery`. With the `jwt` feature it signs tokens with
    /// a key generated when first needed and kept in memory, published at
    /// `/api/<plugin_id>/.backstage/auth/v1/jwks.json`.
    pub(crate) fn new(plugin_id: String, discovery: DiscoveryConfig) -> Self {
        Self {
            #[cfg(feature = "jwt")]
            signer: std::sync::OnceLock::new(),
            plugin_id,
            discovery,
        }
    }

    /// Signs with the key of `pem` (`mcpActions.backstage.signingKey`, shared by replicas)
    /// instead of one of this process's own; the error says why it is not a usable key.
    #[cfg(feature = "jwt")]
    pub(crate) fn signed_with(mut self, pem: &str) -> Result<Self, String> {
        self.signer = std::sync::OnceLock::from(Some(super::signing::Signer::from_pem(pem)?));
        Ok(self)
    }

    /// The signing key: the configured one, else this process's own, generated on first use.
    #[cfg(feature = "jwt")]
    fn signer(&self) -> Option<&super::signing::Signer> {
        self.signer
            .get_or_init(|| {
                super::signing::Signer::generate()
                    .map_err(|error| {
                        tracing::error!(%error, "could not generate the Backstage plugin token key; plugin_request_token will fail");
                    })
                    .ok()
            })
            .as_ref()
    }

    /// The plugin id this server signs plugin tokens as.
    pub fn plugin_id(&self) -> &str {
        &self.plugin_id
    }

    /// The base URL of `plugin` from `discovery.endpoints` (e.g.
    /// `http://backstage:7007/api/catalog`), as Backstage's `discovery.getBaseUrl`; `None` when
    /// no endpoint lists it.
    pub fn base_url(&self, plugin: &str) -> Option<String> {
        self.discovery.base_url(plugin)
    }

    /// A Backstage plugin token for calling `target` on behalf of the action's caller, as
    /// Backstage's `auth.getPluginRequestToken({ onBehalfOf: credentials, targetPluginId })`:
    /// valid one hour, signed with this server's key. Send it as `Authorization: Bearer …`;
    /// the target plugin sees the caller `plugin:<plugin id>`.
    ///
    /// When the caller is a Backstage user (it came with a Backstage plugin token on the
    /// user's behalf), the token carries the user's token as `obo`, so the target plugin sees
    /// that user, as Backstage does. Refused (`NotAllowedError`) when the caller's token is
    /// restricted to plugins other than `target`, and for a user whose Backstage token this
    /// server does not have (e.g. signed in through another identity provider): a token of
    /// this server's own would lend the user its authority.
    pub fn plugin_request_token(
        &self,
        ctx: &ActionContext,
        target: &str,
    ) -> Result<String, ActionError> {
        let credentials = ctx.credentials();
        if !credentials.allows_plugin(target) {
            return Err(ActionError::not_allowed(format!(
                "the caller's access is restricted to other plugins than `{target}`"
            )));
        }
        self.sign_on_behalf_of(credentials, target)
    }

    /// A plugin token for `target` on behalf of `credentials`: a service calls as this server,
    /// a Backstage user with its token as `obo`, another user not at all.
    pub(crate) fn sign_on_behalf_of(
        &self,
        credentials: &mcp_actions::Credentials,
        target: &str,
    ) -> Result<String, ActionError> {
        let obo = credentials.delegation_token();
        if matches!(credentials.principal(), Principal::User { .. }) && obo.is_none() {
            return Err(ActionError::not_allowed(format!(
                "calling `{target}` on behalf of this user needs the user's Backstage token, which this caller did not come with"
            )));
        }
        self.sign(target, obo)
    }

    /// A plugin token of this server for `target`, on no one's behalf.
    #[cfg(feature = "jwt")]
    pub(crate) fn sign_for(&self, target: &str) -> Result<String, ActionError> {
        self.sign(target, None)
    }

    #[cfg(feature = "jwt")]
    fn sign(&self, target: &str, obo: Option<&str>) -> Result<String, ActionError> {
        let signer = self.signer().ok_or_else(|| {
            ActionError::internal("the Backstage plugin token key could not be generated")
        })?;
        signer.sign(&self.plugin_id, target, obo)
    }

    #[cfg(not(feature = "jwt"))]
    fn sign(&self, _: &str, _: Option<&str>) -> Result<String, ActionError> {
        Err(ActionError::not_implemented(
            "Backstage plugin tokens need the `jwt` feature of mcp-actions-server",
        ))
    }

    /// The public keys of this server's plugin tokens, as a JWKS document.
    pub(crate) fn jwks(&self) -> serde_json::Value {
        #[cfg(feature = "jwt")]
        if let Some(signer) = self.signer() {
            return serde_json::json!({ "keys": [signer.jwk()] });
        }
        serde_json::json!({ "keys": [] })
    }
}

#[cfg(test)]
mod tests {
    use mcp_actions::{AccessRestriction, Credentials};

    use super::*;

    fn context(credentials: Credentials) -> ActionContext {
        ActionContext::builder("test", "call_catalog")
            .credentials(credentials)
            .build()
    }

    fn backstage() -> Backstage {
        let discovery: DiscoveryConfig = serde_json::from_value(serde_json::json!({
            "endpoints": [{ "target": "http://backstage/api/{{pluginId}}", "plugins": ["catalog"] }]
        }))
        .unwrap();
        Backstage::new("rust-actions".to_owned(), discovery)
    }

    #[test]
    fn base_urls_come_from_discovery() {
        let backstage = backstage();
        assert_eq!(
            backstage.base_url("catalog").as_deref(),
            Some("http://backstage/api/catalog")
        );
        assert_eq!(backstage.base_url("scaffolder"), None);
    }

    #[test]
    fn users_and_restricted_tokens_get_no_plugin_token() {
        let backstage = backstage();
        let user = context(Credentials::user("user:default/jane"));
        let error = backstage
            .plugin_request_token(&user, "catalog")
            .unwrap_err();
        assert_eq!(error.name(), "NotAllowedError");
        let restricted = context(
            Credentials::service("ci").with_restrictions([AccessRestriction::plugin("test")]),
        );
        let error = backstage
            .plugin_request_token(&restricted, "catalog")
            .unwrap_err();
        assert_eq!(error.name(), "NotAllowedError");
    }

    #[cfg(feature = "jwt")]
    #[test]
    fn a_backstage_user_gets_a_token_on_its_behalf() {
        use base64::Engine;
        let b64 = |v: serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let exp = now + 600;
        let limited = format!(
            "{}.{}.c2ln",
            b64(serde_json::json!({ "typ": "vnd.backstage.limited-user", "alg": "ES256" })),
            b64(serde_json::json!({ "sub": "user:default/jane", "iat": now, "exp": exp })),
        );
        let user = Credentials::user("user:default/jane").with_delegation_token(limited.as_str());
        assert!(
            !format!("{user:?}").contains(&limited),
            "Debug shows the token"
        );
        let token = backstage()
            .plugin_request_token(&context(user), "catalog")
            .unwrap();
        let claims: serde_json::Value =
            jsonwebtoken::dangerous::insecure_decode_claims(&token).unwrap();
        assert_eq!(claims["obo"], limited.as_str());
        assert_eq!(claims["exp"], exp, "it expires with the user's token");
    }

    #[cfg(feature = "jwt")]
    #[test]
    fn a_service_gets_a_token_whose_key_is_published() {
        let backstage = backstage();
        let token = backstage
            .plugin_request_token(&context(Credentials::service("ci")), "catalog")
            .unwrap();
        let kid = jsonwebtoken::decode_header(&token).unwrap().kid.unwrap();
        assert_eq!(backstage.jwks()["keys"][0]["kid"], kid.as_str());
    }
}
