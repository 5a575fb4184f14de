//! [`JwtAuthenticator`]: JWT access tokens of an identity provider (Backstage's
//! `backend.auth.externalAccess` entries of `type: jwks`), verified with its published keys.
//!
//! | file | what it owns |
//! |---|---|
//! | `mod.rs` | [`JwtAuthenticator`], the checks of one token |
//! | `issuer.rs` | [`JwtIssuer`]: one entry, and its callers' credentials |
//! | `keys.rs` | fetching, caching and refreshing an issuer's JWKS |
//! | `plugin_token.rs` | Backstage plugin-to-plugin tokens on the Backstage actions API, with the keys of `keys.rs` |
//! | `cache.rs` | verified tokens, by digest, until `exp` |
//! | `rejection.rs` | [`TokenRejection`]: why a token is refused, in words |
//!
//! A token is accepted when, in this order: it is at most 8 KiB of three base64url parts; its
//! header has no `crit` and a `typ` of an access token (`JWT`, `at+jwt`, or none); its `iss` is
//! an entry's issuer, exactly; its `alg` is one of that entry's (asymmetric only: never `none`,
//! never HMAC); the key with its `kid` is published by the issuer and made for that algorithm
//! (the `jku`, `x5u` and `jwk` headers are ignored, never fetched); the signature verifies;
//! `exp` is present and not past, `nbf` and `iat` not in the future (each with the leeway); and
//! `aud` names one of the entry's audiences.

mod cache;
mod issuer;
mod keys;
pub(crate) mod plugin_token;
mod rejection;

use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::request::Parts;
use jsonwebtoken::errors::ErrorKind as JwtErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use mcp_actions::{BoxFuture, Credentials};
use serde_json::{Map, Value};

use self::cache::{TokenCache, digest};
pub use self::issuer::JwtIssuer;
#[cfg(test)]
use self::issuer::scopes;
use self::keys::{IssuerKeys, KeySource};
pub use self::rejection::TokenRejection;
use self::rejection::{listed, shown};
use super::{AuthError, Authenticator, bearer_token};

/// The longest token looked at.
pub(crate) const MAX_TOKEN_BYTES: usize = 8192;
/// The default clock-skew leeway for `exp`, `nbf` and `iat`.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(60);
/// The default shortest interval between two fetches of an issuer's keys.
pub const DEFAULT_MIN_REFETCH: Duration = Duration::from_secs(10);
/// The algorithms an entry accepts when it names none: every asymmetric one.
pub const ASYMMETRIC_ALGORITHMS: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// One issuer, ready: its entry and its keys.
struct Verifier {
    issuer: JwtIssuer,
    keys: Arc<IssuerKeys>,
}

/// A verified token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifiedToken {
    /// Who the caller is, with the token's scopes and the entry's access restrictions.
    pub credentials: Credentials,
    /// The token's `iss`.
    pub issuer: String,
    /// When it expires.
    pub expires_at: SystemTime,
}

/// Accepts JWT access tokens of the configured [`JwtIssuer`]s. Verified tokens are cached by
/// digest until they expire, so a call with a JWT costs about what a static-token call costs.
pub struct JwtAuthenticator {
    verifiers: Vec<Verifier>,
    cache: Arc<TokenCache>,
    /// This server's MCP endpoint URLs: the audience of entries that name none.
    resource_urls: RwLock<Vec<String>>,
    /// Where the key fetches are counted (set by the server).
    metrics: Arc<std::sync::OnceLock<Arc<crate::telemetry::Metrics>>>,
}

impl fmt::Debug for JwtAuthenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtAuthenticator")
            .field(
                "issuers",
                &self
                    .verifiers
                    .iter()
                    .flat_map(|v| v.issuer.issuers.iter())
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// A [`JwtIssuer`] that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwtConfigError {
    /// No accepted audience: every token would be accepted for any resource.
    #[error(
        "issuer {0}: no audience is configured, so any token of the issuer would be accepted; set the accepted audiences (this server's URL)"
    )]
    NoAudience(String),
    /// No accepted algorithm.
    #[error("issuer {0}: no signing algorithm is accepted")]
    NoAlgorithm(String),
    /// The HTTP client for fetching keys could not be built.
    #[error("the HTTP client for fetching signing keys could not be built: {0}")]
    Client(String),
}

impl JwtAuthenticator {
    /// An authenticator for `issuers`, each with its audiences set.
    pub fn new(issuers: impl IntoIterator<Item = JwtIssuer>) -> Result<Self, JwtConfigError> {
        let issuers: Vec<JwtIssuer> = issuers.into_iter().collect();
        if let Some(issuer) = issuers.iter().find(|i| i.audiences.is_empty()) {
            return Err(JwtConfigError::NoAudience(
                issuer.issuers.first().cloned().unwrap_or_default(),
            ));
        }
        Self::for_this_server(issuers)
    }

    /// An authenticator for `issuers`; those without audiences accept tokens for this
    /// server's endpoint URLs, set by the server with [`Self::set_resource_urls`] (until then,
    /// and without any, no token of theirs is accepted).
    pub(crate) fn for_this_server(
        issuers: impl IntoIterator<Item = JwtIssuer>,
    ) -> Result<Self, JwtConfigError> {
        let client = http_client()?;
        let metrics = Arc::new(std::sync::OnceLock::new());
        let verifiers = issuers
            .into_iter()
            .map(|issuer| {
                let name = issuer.issuers.first().cloned().unwrap_or_default();
                if issuer.algorithms.is_empty() {
                    return Err(JwtConfigError::NoAlgorithm(name));
                }
                let source = match &issuer.jwks_url {
                    Some(url) => KeySource::Url(url.clone()),
                    None => KeySource::Discovery(name),
                };
                let keys = Arc::new(IssuerKeys::new(
                    source,
                    client.clone(),
                    issuer.min_refetch,
                    Arc::clone(&metrics),
                ));
                Ok(Verifier { issuer, keys })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            verifiers,
            cache: Arc::default(),
            resource_urls: RwLock::new(Vec::new()),
            metrics,
        })
    }

    /// Counts the key fetches in `metrics` (the first server to set it wins).
    pub(crate) fn count_fetches_in(&self, metrics: Arc<crate::telemetry::Metrics>) {
        let _ = self.metrics.set(metrics);
    }

    /// This server's MCP endpoint URLs (RFC 8707 resources): the accepted audiences of the
    /// issuers configured without `audience`.
    pub(crate) fn set_resource_urls(&self, urls: Vec<String>) {
        *self
            .resource_urls
            .write()
            .unwrap_or_else(|e| e.into_inner()) = urls;
    }

    /// The audiences `issuer`'s tokens may have.
    fn audiences_of(&self, issuer: &JwtIssuer) -> Vec<String> {
        if issuer.audiences.is_empty() {
            self.resource_urls
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
        } else {
            issuer.audiences.clone()
        }
    }

    /// The issuers accepted (the first of each entry: where clients get tokens).
    pub(crate) fn authorization_servers(&self) -> Vec<String> {
        self.verifiers
            .iter()
            .filter_map(|v| v.issuer.issuers.first().cloned())
            .collect()
    }

    /// Fetches every issuer's keys now, in the background (call it from within the Tokio
    /// runtime): an unreachable provider is a warning, and its keys are fetched again when a
    /// token needs them.
    pub fn prefetch(&self) {
        if tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        for verifier in &self.verifiers {
            self.refresh_in_background(verifier);
        }
    }

    /// Refreshes `verifier`'s keys in a task of its own; a refresh that shows a key gone
    /// clears the verified tokens, so that tokens signed with it are refused from then on.
    fn refresh_in_background(&self, verifier: &Verifier) {
        let keys = Arc::clone(&verifier.keys);
        let cache = Arc::clone(&self.cache);
        tokio::spawn(async move {
            if let Ok(Some(changed)) = keys.refetch(true).await
                && changed.removed_keys
            {
                cache.clear();
            }
        });
    }

    /// Starts a refresh of every issuer whose keys are older than their max-age.
    fn refresh_stale_keys(&self) {
        for verifier in &self.verifiers {
            if verifier.keys.claim_stale_refresh() {
                self.refresh_in_background(verifier);
            }
        }
    }

    /// Fetches every issuer's keys and waits: the first error, if any (`config check` and
    /// `token verify` report it).
    pub async fn fetch_keys(&self) -> Result<(), String> {
        for verifier in &self.verifiers {
            verifier.keys.refetch(false).await?;
        }
        Ok(())
    }

    /// Verifies `token`, as every request's token is.
    pub async fn verify(&self, token: &str) -> Result<VerifiedToken, TokenRejection> {
        let (verified, _) = self.verify_uncached(token).await?;
        Ok(verified)
    }

    /// The credentials of a token, from the cache or verified now.
    async fn credentials_of(&self, token: &str) -> Result<Credentials, TokenRejection> {
        self.credentials_by_digest(token, digest(token)).await
    }

    /// [`Self::credentials_of`] with the token's SHA-256 already computed.
    async fn credentials_by_digest(
        &self,
        token: &str,
        key: [u8; 32],
    ) -> Result<Credentials, TokenRejection> {
        let now = unix_now();
        if let Some(credentials) = self.cache.get(&key, now) {
            self.refresh_stale_keys();
            return Ok(credentials);
        }
        let (verified, exp) = self.verify_uncached(token).await?;
        self.cache
            .insert(key, verified.credentials.clone(), exp, now);
        Ok(verified.credentials)
    }

    async fn verify_uncached(&self, token: &str) -> Result<(VerifiedToken, u64), TokenRejection> {
        check_shape(token)?;
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| TokenRejection::Malformed(format!("its header does not decode ({e})")))?;
        if let Some(crit) = &header.crit {
            return Err(TokenRejection::UnknownCritical(listed(crit)));
        }
        if let Some(typ) = &header.typ {
            let typ = typ.to_ascii_lowercase();
            let typ = typ.strip_prefix("application/").unwrap_or(&typ);
            // `vnd.backstage.user`: the user tokens of Backstage's own auth backend.
            if !matches!(typ, "jwt" | "at+jwt" | "vnd.backstage.user") {
                return Err(TokenRejection::WrongType(shown(
                    header.typ.as_deref().unwrap_or_default(),
                )));
            }
        }
        let unverified: Map<String, Value> = jsonwebtoken::dangerous::insecure_decode_claims(token)
            .map_err(|e| TokenRejection::Malformed(format!("its claims do not decode ({e})")))?;
        let iss = unverified
            .get("iss")
            .and_then(Value::as_str)
            .ok_or(TokenRejection::MissingIssuer)?;
        let Some(verifier) = self
            .verifiers
            .iter()
            .find(|v| v.issuer.issuers.iter().any(|i| i == iss))
        else {
            return Err(TokenRejection::UnknownIssuer {
                found: shown(iss),
                accepted: listed(
                    &self
                        .verifiers
                        .iter()
                        .flat_map(|v| v.issuer.issuers.iter())
                        .collect::<Vec<_>>(),
                ),
            });
        };
        let issuer = &verifier.issuer;
        if !issuer.algorithms.contains(&header.alg) {
            return Err(TokenRejection::DisallowedAlgorithm {
                found: format!("{:?}", header.alg),
                allowed: issuer
                    .algorithms
                    .iter()
                    .map(|a| format!("{a:?}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        if verifier.keys.has_keys() && verifier.keys.claim_stale_refresh() {
            // Refreshed in the background; the keys known now serve this token.
            self.refresh_in_background(verifier);
        }
        let key = verifier
            .keys
            .key_for(header.kid.as_deref(), header.alg, |changed| {
                if changed.removed_keys {
                    self.cache.clear();
                }
            })
            .await?;
        let mut validation = Validation::new(header.alg);
        validation.leeway = issuer.leeway.as_secs();
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.set_issuer(&issuer.issuers);
        let audiences = self.audiences_of(issuer);
        validation.set_audience(&audiences);
        let claims = jsonwebtoken::decode::<Map<String, Value>>(token, &key.key, &validation)
            .map_err(|e| rejection(e.kind(), &unverified, &issuer.algorithms, &audiences))?
            .claims;
        let now = unix_now();
        let leeway = issuer.leeway.as_secs();
        if let Some(iat) = claims.get("iat").and_then(Value::as_f64)
            && iat > (now + leeway) as f64
        {
            return Err(TokenRejection::IssuedInFuture(Duration::from_secs(
                (iat as u64).saturating_sub(now),
            )));
        }
        let exp = claims
            .get("exp")
            .and_then(Value::as_f64)
            .ok_or(TokenRejection::MissingClaim("exp"))? as u64;
        let credentials = issuer.credentials(&claims)?;
        Ok((
            VerifiedToken {
                credentials,
                issuer: iss.to_owned(),
                expires_at: UNIX_EPOCH + Duration::from_secs(exp),
            },
            exp,
        ))
    }
}

/// The HTTP client keys are fetched with: bounded in time and redirects. Also installs the
/// crypto provider.
fn http_client() -> Result<reqwest::Client, JwtConfigError> {
    // The one crypto provider this crate enables; if the application installed another, that
    // one is used.
    let _ = jsonwebtoken::crypto::CryptoProvider::install_default(
        &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER,
    );
    reqwest::Client::builder()
        .connect_timeout(keys::CONNECT_TIMEOUT)
        .timeout(keys::FETCH_TIMEOUT)
        .redirect(reqwest::redirect::Policy::limited(3))
        .user_agent(concat!("mcp-actions-server/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| JwtConfigError::Client(e.to_string()))
}

/// At most [`MAX_TOKEN_BYTES`], three non-empty base64url parts.
fn check_shape(token: &str) -> Result<(), TokenRejection> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(TokenRejection::TooLong(token.len()));
    }
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err(TokenRejection::Malformed(format!(
            "it has {} dot-separated parts, not 3",
            parts.len()
        )));
    }
    let base64url = |part: &str| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if !parts.iter().all(|part| base64url(part)) {
        return Err(TokenRejection::Malformed(
            "a part is empty or not base64url".to_owned(),
        ));
    }
    Ok(())
}

/// The rejection for an error of `jsonwebtoken::decode`.
fn rejection(
    kind: &JwtErrorKind,
    unverified: &Map<String, Value>,
    algorithms: &[Algorithm],
    audiences: &[String],
) -> TokenRejection {
    let now = unix_now();
    let time = |claim: &str| {
        unverified
            .get(claim)
            .and_then(Value::as_f64)
            .map(|t| t as u64)
    };
    match kind {
        JwtErrorKind::InvalidSignature => TokenRejection::BadSignature,
        JwtErrorKind::ExpiredSignature => TokenRejection::Expired(Duration::from_secs(
            now.saturating_sub(time("exp").unwrap_or(now)),
        )),
        JwtErrorKind::ImmatureSignature => TokenRejection::NotYetValid(Duration::from_secs(
            time("nbf").unwrap_or(now).saturating_sub(now),
        )),
        JwtErrorKind::InvalidAudience => {
            let found = match unverified.get("aud") {
                Some(Value::String(aud)) => shown(aud),
                Some(Value::Array(auds)) => {
                    listed(&auds.iter().filter_map(Value::as_str).collect::<Vec<_>>())
                }
                _ => "(none)".to_owned(),
            };
            TokenRejection::WrongAudience {
                found,
                accepted: if audiences.is_empty() {
                    "none yet: the server is not serving".to_owned()
                } else {
                    listed(audiences)
                },
            }
        }
        JwtErrorKind::MissingRequiredClaim(claim) => {
            TokenRejection::MissingClaim(match claim.as_str() {
                "exp" => "exp",
                "iss" => "iss",
                "aud" => "aud",
                _ => "required",
            })
        }
        JwtErrorKind::InvalidIssuer => TokenRejection::MissingIssuer,
        JwtErrorKind::InvalidAlgorithm | JwtErrorKind::InvalidAlgorithmName => {
            TokenRejection::DisallowedAlgorithm {
                found: "an algorithm the key is not for".to_owned(),
                allowed: listed(
                    &algorithms
                        .iter()
                        .map(|a| format!("{a:?}"))
                        .collect::<Vec<_>>(),
                ),
            }
        }
        JwtErrorKind::Json(e) => TokenRejection::BadClaims(e.to_string()),
        other => TokenRejection::Malformed(format!("{other:?}")),
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Authenticator for JwtAuthenticator {
    fn authenticate<'a>(
        &'a self,
        request: &'a Parts,
    ) -> BoxFuture<'a, Result<Credentials, AuthError>> {
        Box::pin(async move {
            let token = bearer_token(request).ok_or(AuthError::MissingToken)?;
            self.credentials_of(token)
                .await
                .map_err(AuthError::TokenRefused)
        })
    }
}

/// Static tokens and JWTs side by side (`backend.auth.externalAccess` with both types): a
/// token that is one of the static tokens is that; any other is verified as a JWT.
pub(crate) struct ExternalAccess {
    pub(crate) static_tokens: super::StaticTokenAuthenticator,
    pub(crate) jwt: Arc<JwtAuthenticator>,
}

impl Authenticator for ExternalAccess {
    fn authenticate<'a>(
        &'a self,
        request: &'a Parts,
    ) -> BoxFuture<'a, Result<Credentials, AuthError>> {
        Box::pin(async move {
            let token = bearer_token(request).ok_or(AuthError::MissingToken)?;
            // One digest for both: the static tokens are compared by it, and verified JWTs are
            // cached under it.
            let digest = digest(token);
            if let Some(credentials) = self.static_tokens.check_digest(&digest) {
                return Ok(credentials.clone());
            }
            self.jwt
                .credentials_by_digest(token, digest)
                .await
                .map_err(AuthError::TokenRefused)
        })
    }
}

#[cfg(test)]
mod tests;
