//! [`PluginTokens`]: Backstage's plugin-to-plugin tokens, verified as Backstage's own
//! `PluginTokenHandler` verifies them, with the key machinery of [`IssuerKeys`] (cache,
//! rate-limited single-flight refetch, the known keys kept through an outage).
//!
//! A plugin token is accepted when, in this order: it is at most 8 KiB of three base64url
//! parts; its header's `typ` is `vnd.backstage.plugin` and its `alg` is `ES256` (what Backstage
//! signs with; never `none`, never HMAC); its `sub` (the calling plugin) is a plugin id listed
//! in `discovery.endpoints` — its keys are fetched from `<its target>/.backstage/auth/v1/jwks.json`,
//! and a plugin not listed there is not trusted; the key with its `kid` is published there; the
//! signature verifies; `exp`, `iat`, `sub` and `aud` are present, `exp` is not past (60 s
//! leeway), and `aud` is the plugin the request is for. The caller is then
//! `Service { subject: "plugin:<sub>" }`; when the token carries an `obo` claim (a call on
//! behalf of a user), that limited user token must verify against the `auth` plugin's keys
//! (`<auth target>/.well-known/jwks.json`) and the caller is that user.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jsonwebtoken::{Algorithm, Validation};
use mcp_actions::Credentials;
use serde_json::{Map, Value};

use super::cache::{TokenCache, digest};
use super::keys::{IssuerKeys, KeySource};
use super::rejection::shown;
use super::{
    DEFAULT_LEEWAY, DEFAULT_MIN_REFETCH, JwtConfigError, TokenRejection, check_shape, http_client,
    unix_now,
};
use crate::config::DiscoveryConfig;

/// The `typ` of Backstage's plugin-to-plugin tokens.
pub(crate) const PLUGIN_TOKEN_TYPE: &str = "vnd.backstage.plugin";
/// The `typ` of Backstage's limited user tokens (the `obo` claim).
const LIMITED_USER_TOKEN_TYPE: &str = "vnd.backstage.limited-user";
/// The `typ` of Backstage's full user tokens (also accepted in `obo`).
const USER_TOKEN_TYPE: &str = "vnd.backstage.user";
/// The plugin whose keys sign user tokens.
const AUTH_PLUGIN: &str = "auth";

/// Verifies Backstage plugin tokens for this server's plugins.
pub(crate) struct PluginTokens {
    discovery: DiscoveryConfig,
    client: reqwest::Client,
    /// The calling plugin (or `auth`, for `obo` tokens) → its keys; only plugins listed in
    /// `discovery.endpoints` ever get an entry, so the map is bounded by the config.
    keys: Mutex<HashMap<String, Arc<IssuerKeys>>>,
    /// Verified tokens, by the digest of the audience and the token.
    cache: TokenCache,
    metrics: Arc<std::sync::OnceLock<Arc<crate::telemetry::Metrics>>>,
}

impl std::fmt::Debug for PluginTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginTokens")
            .field("discovery", &self.discovery)
            .finish_non_exhaustive()
    }
}

/// Whether `token`'s header says it is a Backstage plugin token (nothing is verified).
pub(crate) fn is_plugin_token(token: &str) -> bool {
    token.len() <= super::MAX_TOKEN_BYTES
        && jsonwebtoken::decode_header(token)
            .ok()
            .and_then(|h| h.typ)
            .is_some_and(|typ| typ.eq_ignore_ascii_case(PLUGIN_TOKEN_TYPE))
}

impl PluginTokens {
    /// A verifier finding callers' keys through `discovery`.
    pub(crate) fn new(discovery: DiscoveryConfig) -> Result<Self, JwtConfigError> {
        Ok(Self {
            discovery,
            client: http_client()?,
            keys: Mutex::default(),
            cache: TokenCache::default(),
            metrics: Arc::default(),
        })
    }

    /// Counts the key fetches in `metrics`.
    pub(crate) fn count_fetches_in(&self, metrics: Arc<crate::telemetry::Metrics>) {
        let _ = self.metrics.set(metrics);
    }

    /// The keys of `plugin`, published at `<its discovery target><path>`.
    fn keys_of(&self, plugin: &str, path: &str) -> Result<Arc<IssuerKeys>, TokenRejection> {
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(found) = keys.get(plugin) {
            return Ok(Arc::clone(found));
        }
        let base = self
            .discovery
            .base_url(plugin)
            .ok_or_else(|| TokenRejection::UnknownCaller(shown(plugin)))?;
        let found = Arc::new(IssuerKeys::new(
            KeySource::Url(format!("{base}{path}")),
            self.client.clone(),
            DEFAULT_MIN_REFETCH,
            Arc::clone(&self.metrics),
        ));
        keys.insert(plugin.to_owned(), Arc::clone(&found));
        Ok(found)
    }

    /// The caller of a plugin token sent to `audience` (one of this server's plugin ids).
    pub(crate) async fn verify(
        &self,
        token: &str,
        audience: &str,
    ) -> Result<Credentials, TokenRejection> {
        let key = digest(&format!("{audience}\n{token}"));
        let now = unix_now();
        if let Some(credentials) = self.cache.get(&key, now) {
            return Ok(credentials);
        }
        let (credentials, exp) = self.verify_uncached(token, audience).await?;
        self.cache.insert(key, credentials.clone(), exp, now);
        Ok(credentials)
    }

    async fn verify_uncached(
        &self,
        token: &str,
        audience: &str,
    ) -> Result<(Credentials, u64), TokenRejection> {
        let claims = self
            .verified_claims(
                token,
                &[PLUGIN_TOKEN_TYPE],
                Some(audience),
                "/.backstage/auth/v1/jwks.json",
            )
            .await?;
        let exp = claims.get("exp").and_then(Value::as_f64).unwrap_or(0.0) as u64;
        let sub = claims
            .get("sub")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let Some(obo) = claims.get("obo") else {
            return Ok((Credentials::service(format!("plugin:{sub}")), exp));
        };
        let obo = obo
            .as_str()
            .ok_or_else(|| TokenRejection::BadClaims("`obo` is not a token".to_owned()))?;
        check_shape(obo).map_err(|e| TokenRejection::BadClaims(format!("`obo`: {e}")))?;
        let user = self
            .verified_claims(
                obo,
                &[LIMITED_USER_TOKEN_TYPE, USER_TOKEN_TYPE],
                None,
                "/.well-known/jwks.json",
            )
            .await
            .map_err(|e| TokenRejection::BadClaims(format!("`obo`: {e}")))?;
        let user_exp = user.get("exp").and_then(Value::as_f64).unwrap_or(0.0) as u64;
        let user_ref = user.get("sub").and_then(Value::as_str).unwrap_or_default();
        // Kept (never logged) to call other plugins on the user's behalf.
        let credentials = Credentials::user(user_ref).with_delegation_token(obo);
        Ok((credentials, exp.min(user_exp)))
    }

    /// The claims of `token` once verified: its `typ` one of `types`, ES256 for plugin tokens
    /// (any asymmetric algorithm for the user tokens of `auth`), signed by a key of the plugin
    /// that issued it (`sub` for plugin tokens, `auth` for user tokens), `exp`, `iat` and `sub`
    /// present, and `aud` equal to `audience` when one is given.
    async fn verified_claims(
        &self,
        token: &str,
        types: &[&str],
        audience: Option<&str>,
        jwks_path: &str,
    ) -> Result<Map<String, Value>, TokenRejection> {
        check_shape(token)?;
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| TokenRejection::Malformed(format!("its header does not decode ({e})")))?;
        if let Some(crit) = &header.crit {
            return Err(TokenRejection::UnknownCritical(super::rejection::listed(
                crit,
            )));
        }
        let typ = header.typ.as_deref().unwrap_or_default();
        if !types.iter().any(|t| t.eq_ignore_ascii_case(typ)) {
            return Err(TokenRejection::NotBackstageToken {
                found: if typ.is_empty() {
                    "(none)".to_owned()
                } else {
                    shown(typ)
                },
                expected: types.join(" or "),
            });
        }
        let plugin_token = audience.is_some();
        let allowed: &[Algorithm] = if plugin_token {
            &[Algorithm::ES256]
        } else {
            super::ASYMMETRIC_ALGORITHMS
        };
        if !allowed.contains(&header.alg) {
            return Err(TokenRejection::DisallowedAlgorithm {
                found: format!("{:?}", header.alg),
                allowed: allowed
                    .iter()
                    .map(|a| format!("{a:?}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        let unverified: Map<String, Value> = jsonwebtoken::dangerous::insecure_decode_claims(token)
            .map_err(|e| TokenRejection::Malformed(format!("its claims do not decode ({e})")))?;
        let issuer = if plugin_token {
            let sub = unverified
                .get("sub")
                .and_then(Value::as_str)
                .ok_or(TokenRejection::MissingClaim("sub"))?;
            if !mcp_actions::descriptor::is_valid_plugin_id(sub) {
                return Err(TokenRejection::UnknownCaller(shown(sub)));
            }
            sub
        } else {
            AUTH_PLUGIN
        };
        let keys = self.keys_of(issuer, jwks_path)?;
        if keys.has_keys() && keys.claim_stale_refresh() {
            let refreshing = Arc::clone(&keys);
            tokio::spawn(async move {
                let _ = refreshing.refetch(true).await;
            });
        }
        let key = keys
            .key_for(header.kid.as_deref(), header.alg, |changed| {
                if changed.removed_keys {
                    self.cache.clear();
                }
            })
            .await?;
        let mut validation = Validation::new(header.alg);
        validation.leeway = DEFAULT_LEEWAY.as_secs();
        validation.set_required_spec_claims(&["exp", "sub"]);
        match audience {
            Some(audience) => validation.set_audience(&[audience]),
            None => validation.validate_aud = false,
        }
        let claims = jsonwebtoken::decode::<Map<String, Value>>(token, &key.key, &validation)
            .map_err(|e| {
                super::rejection(
                    e.kind(),
                    &unverified,
                    allowed,
                    &audience.map(str::to_owned).into_iter().collect::<Vec<_>>(),
                )
            })?
            .claims;
        let iat = claims
            .get("iat")
            .and_then(Value::as_f64)
            .ok_or(TokenRejection::MissingClaim("iat"))?;
        let now = unix_now();
        if iat > (now + DEFAULT_LEEWAY.as_secs()) as f64 {
            return Err(TokenRejection::IssuedInFuture(Duration::from_secs(
                (iat as u64).saturating_sub(now),
            )));
        }
        if plugin_token && claims.get("sub") != unverified.get("sub") {
            return Err(TokenRejection::BadSignature);
        }
        Ok(claims)
    }
}
