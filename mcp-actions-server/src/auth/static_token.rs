//! [`StaticTokenAuthenticator`]: the static tokens of Backstage's `backend.auth.externalAccess`
//! (`type: static`), the token in `MCP_TOKEN`, and tokens generated for a run.

use std::fmt;

use base64::Engine;
use http::request::Parts;
use mcp_actions::{BoxFuture, Credentials};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{AuthError, Authenticator, bearer_token};
use crate::config::{Config, ConfigError, ExternalAccessConfig, Secret, check_token_shape};

/// The environment variable holding the access token when `backend.auth.externalAccess` is not
/// configured.
pub(crate) const TOKEN_ENV_VAR: &str = "MCP_TOKEN";

struct StaticToken {
    /// SHA-256 of the token: digests have one length, so comparing them takes the same time
    /// whatever the configured tokens' lengths (a byte comparison stops early at a length
    /// mismatch, which would tell a caller how long the tokens are).
    digest: [u8; 32],
    credentials: Credentials,
}

pub(crate) fn token_digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Accepts static tokens (Backstage's `externalAccess` entries of `type: static`); the caller
/// becomes `Principal::Service { subject }` with the entry's access restrictions.
///
/// Tokens are compared as SHA-256 digests in constant time, and every configured token is
/// compared on every request, so response timing tells neither which token nearly matched nor
/// how long the tokens are.
pub struct StaticTokenAuthenticator {
    tokens: Vec<StaticToken>,
}

impl fmt::Debug for StaticTokenAuthenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticTokenAuthenticator")
            .field(
                "subjects",
                &self
                    .tokens
                    .iter()
                    .map(|t| t.credentials.principal().to_string())
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl StaticTokenAuthenticator {
    /// No tokens: every request is refused.
    pub fn new() -> Self {
        Self { tokens: Vec::new() }
    }

    /// Accepts `token` for `credentials`.
    pub fn with_token(mut self, token: Secret, credentials: Credentials) -> Self {
        self.tokens.push(StaticToken {
            digest: token_digest(token.expose()),
            credentials,
        });
        self
    }

    /// The tokens of `backend.auth.externalAccess`.
    pub fn from_config(entries: &[ExternalAccessConfig]) -> Self {
        let statics = entries
            .iter()
            .filter(|e| e.kind == crate::config::ExternalAccessType::Static);
        statics.fold(Self::new(), |auth, entry| match &entry.options.token {
            Some(token) => auth.with_token(token.clone(), entry.credentials()),
            None => auth,
        })
    }

    /// The number of tokens accepted.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Whether no token is accepted.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    pub(crate) fn check(&self, presented: &str) -> Option<&Credentials> {
        self.check_digest(&token_digest(presented))
    }

    /// [`Self::check`] with the SHA-256 of the presented token already computed.
    pub(crate) fn check_digest(&self, presented: &[u8; 32]) -> Option<&Credentials> {
        let mut found = None;
        for entry in &self.tokens {
            let equal: bool = entry.digest.ct_eq(presented).into();
            if equal && found.is_none() {
                found = Some(&entry.credentials);
            }
        }
        found
    }
}

impl Default for StaticTokenAuthenticator {
    fn default() -> Self {
        Self::new()
    }
}

impl Authenticator for StaticTokenAuthenticator {
    fn authenticate<'a>(
        &'a self,
        request: &'a Parts,
    ) -> BoxFuture<'a, Result<Credentials, AuthError>> {
        let result = match bearer_token(request) {
            None => Err(AuthError::MissingToken),
            Some(token) => self.check(token).cloned().ok_or(AuthError::InvalidToken),
        };
        Box::pin(std::future::ready(result))
    }
}

/// A new random access token: 24 bytes from the operating system's generator, base64
/// (URL-safe alphabet, no padding: 32 characters that paste into shells, YAML and JSON as is).
pub(crate) fn generate_token() -> Secret {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).expect("the operating system's random number generator failed");
    Secret::new(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// The token in `MCP_TOKEN`, for a configuration without static tokens; `Ok(None)` when the
/// variable is unset or empty, an error when it is set to something that is not a valid token.
pub(crate) fn default_token(config: &Config) -> Result<Option<Secret>, ConfigError> {
    if !config.backend().auth.external_access.is_empty() {
        return Ok(None);
    }
    match config.env_var(TOKEN_ENV_VAR) {
        None => Ok(None),
        Some(token) if token.is_empty() => Ok(None),
        Some(token) => {
            check_token_shape(&token).map_err(|error| {
                ConfigError::invalid(
                    TOKEN_ENV_VAR,
                    format!("{error} (the environment variable {TOKEN_ENV_VAR})"),
                )
            })?;
            Ok(Some(Secret::new(token)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ConfigLoader;
    use crate::test_support::request_head as parts;

    #[tokio::test]
    async fn static_tokens() {
        let auth = StaticTokenAuthenticator::new()
            .with_token(Secret::new("token-one"), Credentials::service("one"))
            .with_token(Secret::new("token-two"), Credentials::service("two"));
        let ok = auth
            .authenticate(&parts(Some("bearer token-two")))
            .await
            .unwrap();
        assert_eq!(ok, Credentials::service("two"));
        // Neither a prefix nor an extension of a configured token passes the digest check.
        for wrong in [
            "token-three",
            "token-tw",
            "token-two2",
            "token-one token-two",
        ] {
            assert_eq!(
                auth.authenticate(&parts(Some(&format!("Bearer {wrong}"))))
                    .await,
                Err(AuthError::InvalidToken),
                "{wrong}"
            );
        }
        assert_eq!(
            auth.authenticate(&parts(Some("Basic dG9rZW4="))).await,
            Err(AuthError::MissingToken)
        );
        assert_eq!(
            auth.authenticate(&parts(None)).await,
            Err(AuthError::MissingToken)
        );
        assert!(!format!("{auth:?}").contains("token-one"));
    }

    #[test]
    fn default_token_from_env() {
        let config = ConfigLoader::new()
            .env(|n| (n == TOKEN_ENV_VAR).then(|| "from-env-123".into()))
            .load()
            .unwrap();
        assert_eq!(
            default_token(&config).unwrap().unwrap().expose(),
            "from-env-123"
        );
        let config = ConfigLoader::new()
            .env(|n| (n == TOKEN_ENV_VAR).then(|| "short".into()))
            .load()
            .unwrap();
        let err = default_token(&config).unwrap_err();
        assert!(err.to_string().contains("MCP_TOKEN"), "{err}");
    }

    #[test]
    fn generated_tokens_are_24_random_bytes() {
        let a = generate_token();
        assert_eq!(a.expose().len(), 32);
        assert!(check_token_shape(a.expose()).is_ok());
        assert_ne!(a, generate_token());
    }
}
