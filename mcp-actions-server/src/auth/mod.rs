//! Authentication: every MCP request is turned into [`Credentials`] before it reaches an action.
//!
//! | file | what it owns |
//! |---|---|
//! | `mod.rs` | the [`Authenticator`] hook (request head → credentials), [`AuthError`], [`bearer_token`] |
//! | `static_token.rs` | [`StaticTokenAuthenticator`]: Backstage's `type: static` external access, `MCP_TOKEN`, generated tokens |
//! | `jwt/` | `JwtAuthenticator` (feature `jwt`): Backstage's `type: jwks` external access, JWT access tokens of an identity provider verified with its published keys, and static tokens next to them |
//! | `jwt/plugin_token.rs` | `PluginTokens` (feature `jwt`): Backstage plugin-to-plugin tokens on the Backstage actions API, verified with the calling plugin's keys found through `discovery.endpoints` |
//! | `challenge.rs` | the gate every MCP request passes: credentials into the request, a 401 with its challenge, or a 403 `insufficient_scope` |
//! | `metadata.rs` | the RFC 9728 protected-resource metadata document the challenge points at |
//!
//! A failed authentication is answered with HTTP 401 and an RFC 9728 `WWW-Authenticate: Bearer
//! resource_metadata="…"` challenge, so OAuth-capable clients can discover where to get a
//! token. A JWT without the OAuth scopes the server requires is answered 403 with an
//! `insufficient_scope` challenge naming them. Another way to authenticate (OAuth token
//! introspection, mTLS, a trusted proxy header) is one more [`Authenticator`].

mod challenge;
#[cfg(feature = "jwt")]
pub(crate) mod jwt;
pub(crate) mod metadata;
mod static_token;

use http::header;
use http::request::Parts;
use mcp_actions::{BoxFuture, Credentials};

pub(crate) use challenge::{Gate, actor, insufficient_scope};
#[cfg(feature = "jwt")]
pub(crate) use jwt::ExternalAccess;
#[cfg(feature = "jwt")]
pub(crate) use jwt::plugin_token::{PLUGIN_TOKEN_TYPE, PluginTokens, is_plugin_token};
#[cfg(feature = "jwt")]
pub use jwt::{
    ASYMMETRIC_ALGORITHMS, DEFAULT_LEEWAY, DEFAULT_MIN_REFETCH, JwtAuthenticator, JwtConfigError,
    JwtIssuer, TokenRejection, VerifiedToken,
};
pub use static_token::StaticTokenAuthenticator;
pub(crate) use static_token::{TOKEN_ENV_VAR, default_token, generate_token};

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
    /// A JWT that was refused, and why (the reason never contains the token).
    #[cfg(feature = "jwt")]
    #[error("the access token is not valid: {0}")]
    TokenRefused(TokenRejection),
}

/// Turns the head of an HTTP request into the caller's [`Credentials`].
///
/// Implement it for JWT, OAuth introspection, mTLS… and pass it to
/// [`ActionsServerBuilder::authenticator`](crate::ActionsServerBuilder::authenticator), which also takes an
/// `Arc<dyn Authenticator>`.
///
/// ```
/// use mcp_actions::{BoxFuture, Credentials};
/// use mcp_actions_server::{bearer_token, AuthError, Authenticator};
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::request_head as parts;
    use http::HeaderValue;

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
