//! Authentication: every MCP request is turned into [`Credentials`] before it reaches an action.
//!
//! The hook is the [`Authenticator`] trait (request head → credentials). The built-in one,
//! [`StaticTokenAuthenticator`], accepts the static tokens of Backstage's
//! `backend.auth.externalAccess` config. A failed authentication is answered with HTTP 401 and
//! an RFC 9728 `WWW-Authenticate: Bearer resource_metadata="…"` challenge, so OAuth-capable
//! clients can discover where to get a token.

use std::fmt;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::{HeaderValue, StatusCode, header};
use mcp_actions::{BoxFuture, Credentials};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::{Secret, StaticTokenConfig};
use crate::guard::answer_early;

/// Why a request could not be authenticated. The `Display` text is sent to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No `Authorization: Bearer …` header.
    #[error("this server requires an access token; send it as `Authorization: Bearer <token>`")]
    MissingToken,
    /// A token was sent but is not valid.
    #[error("the access token is not valid")]
    InvalidToken,
    /// A custom authenticator's reason (sent to the client: keep secrets out of it).
    #[error("{0}")]
    Rejected(String),
    /// More than one `Authorization` header: which one counts is ambiguous (a proxy and the
    /// server could each pick a different one), so none does.
    #[error("send exactly one `Authorization` header; this request has {0}")]
    AmbiguousToken(usize),
}

/// Turns the head of an HTTP request into the caller's [`Credentials`].
///
/// Implement it for JWT, OAuth introspection, mTLS… and pass it to
/// [`ActionsServerBuilder::authenticator`](crate::ActionsServerBuilder::authenticator).
///
/// ```
/// use mcp_actions::{BoxFuture, Credentials};
/// use mcp_actions_server::auth::{bearer_token, AuthError, Authenticator};
///
/// /// Trusts a header set by an authenticating proxy in front of the server.
/// struct ProxyUser;
///
/// impl Authenticator for ProxyUser {
///     fn authenticate<'a>(&'a self, request: &'a http::request::Parts)
///         -> BoxFuture<'a, Result<Credentials, AuthError>> {
///         let user = request.headers.get("x-forwarded-user").and_then(|v| v.to_str().ok());
///         let result = match user {
///             Some(user) => Ok(Credentials::user(format!("user:default/{user}"))),
///             None => Err(AuthError::MissingToken),
///         };
///         Box::pin(std::future::ready(result))
///     }
/// }
/// # let _ = bearer_token;
/// ```
pub trait Authenticator: Send + Sync + 'static {
    /// Authenticates one request.
    fn authenticate<'a>(
        &'a self,
        request: &'a Parts,
    ) -> BoxFuture<'a, Result<Credentials, AuthError>>;
}

/// The bearer token of a request, if it has exactly one `Authorization: Bearer …` header (the
/// scheme is matched case-insensitively). With two or more `Authorization` headers there is no
/// token (and the server's middleware refuses the request before any authenticator runs).
pub fn bearer_token(request: &Parts) -> Option<&str> {
    let mut values = request.headers.get_all(header::AUTHORIZATION).iter();
    let value = values.next()?.to_str().ok()?;
    if values.next().is_some() {
        return None;
    }
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

struct StaticToken {
    /// SHA-256 of the token: digests have one length, so comparing them takes the same time
    /// whatever the configured tokens' lengths (a byte comparison stops early at a length
    /// mismatch, which would tell a caller how long the tokens are).
    digest: [u8; 32],
    credentials: Credentials,
}

fn token_digest(token: &str) -> [u8; 32] {
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
    pub fn from_config(entries: &[StaticTokenConfig]) -> Self {
        entries.iter().fold(Self::new(), |auth, entry| {
            let mut credentials = Credentials::service(entry.subject.clone());
            if let Some(restrictions) = &entry.access_restrictions {
                credentials = credentials.with_restrictions(restrictions.iter().cloned());
            }
            auth.with_token(entry.token.clone(), credentials)
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

    fn check(&self, presented: &str) -> Option<&Credentials> {
        let presented = token_digest(presented);
        let mut found = None;
        for entry in &self.tokens {
            let equal: bool = entry.digest.ct_eq(&presented).into();
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

/// What the authentication middleware needs.
#[derive(Clone)]
pub(crate) struct AuthLayerState {
    pub(crate) authenticator: Arc<dyn Authenticator>,
    /// `Bearer resource_metadata="…"`.
    pub(crate) challenge: String,
}

/// Authenticates the request; on success the [`Credentials`] go into the request extensions
/// (where the MCP handler finds them through `http::request::Parts`), on failure the answer is
/// 401 with a `WWW-Authenticate` challenge. A request with more than one `Authorization`
/// header is refused whatever the authenticator.
///
/// The 401 is sent before the body is read; [`answer_early`] keeps the connection usable for
/// a keep-alive client (or says `Connection: close`).
pub(crate) async fn require_auth(
    State(state): State<AuthLayerState>,
    request: Request,
    next: Next,
) -> Response {
    match authenticate(&state, request).await {
        Ok(request) => next.run(request).await,
        Err(response) => response,
    }
}

/// What [`require_auth`] does, for a service that runs it itself: the request with the
/// caller's [`Credentials`] in its extensions, or the 401 to send.
pub(crate) async fn authenticate(
    state: &AuthLayerState,
    request: Request,
) -> Result<Request, Response> {
    let (mut parts, body) = request.into_parts();
    let authorizations = parts.headers.get_all(header::AUTHORIZATION).iter().count();
    let result = if authorizations > 1 {
        Err(AuthError::AmbiguousToken(authorizations))
    } else {
        state.authenticator.authenticate(&parts).await
    };
    match result {
        Ok(credentials) => {
            parts.extensions.insert(credentials);
            Ok(Request::from_parts(parts, body))
        }
        Err(error) => {
            tracing::info!(
                outcome = "unauthenticated",
                method = %parts.method,
                reason = %error,
                "refused an MCP request"
            );
            let response = unauthorized(&state.challenge, &error);
            Err(answer_early(parts.version, &parts.headers, body, response))
        }
    }
}

fn unauthorized(challenge: &str, error: &AuthError) -> Response {
    let challenge = match error {
        // RFC 6750 §3.1: a token was sent but is not valid.
        AuthError::InvalidToken => format!(
            "{challenge}, error=\"invalid_token\", error_description=\"the access token is not valid\""
        ),
        AuthError::AmbiguousToken(_) => format!(
            "{challenge}, error=\"invalid_request\", error_description=\"more than one Authorization header\""
        ),
        _ => challenge.to_owned(),
    };
    let body = serde_json::json!({
        "error": { "name": "AuthenticationError", "message": error.to_string() },
    });
    let mut response = (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(authorization: Option<&str>) -> Parts {
        let mut builder = http::Request::builder().uri("/");
        if let Some(value) = authorization {
            builder = builder.header(header::AUTHORIZATION, value);
        }
        builder.body(()).unwrap().into_parts().0
    }

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
    fn two_authorization_headers_give_no_bearer_token() {
        let mut request = parts(Some("Bearer token-one"));
        assert_eq!(bearer_token(&request), Some("token-one"));
        request.headers.append(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer token-one"),
        );
        assert_eq!(bearer_token(&request), None);
    }
}
