//! The gate every MCP request passes: the caller's [`Credentials`] go into the request, or the
//! answer is 401 with a `WWW-Authenticate` challenge pointing at the endpoint's
//! protected-resource metadata.

use std::sync::Arc;

use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::{HeaderValue, StatusCode, header};
use mcp_actions::Credentials;

use super::{AuthError, Authenticator};

/// An endpoint's authenticator and its challenge.
#[derive(Clone)]
pub(crate) struct Gate {
    authenticator: Arc<dyn Authenticator>,
    /// `Bearer resource_metadata="…"`.
    challenge: String,
}

impl Gate {
    pub(crate) fn new(authenticator: Arc<dyn Authenticator>, challenge: String) -> Self {
        Self {
            authenticator,
            challenge,
        }
    }

    /// Authenticates the request head: on success the [`Credentials`] go into its extensions
    /// (where the MCP handler finds them), on failure the answer is the 401 to send (the caller
    /// decides what becomes of the unread body). A request with more than one `Authorization`
    /// header is refused whatever the authenticator.
    pub(crate) async fn admit(&self, parts: &mut Parts) -> Result<(), Response> {
        let authorizations = parts.headers.get_all(header::AUTHORIZATION).iter().count();
        let result = if authorizations > 1 {
            Err(AuthError::AmbiguousToken(authorizations))
        } else {
            self.authenticator.authenticate(parts).await
        };
        match result {
            Ok(credentials) => {
                parts.extensions.insert::<Credentials>(credentials);
                Ok(())
            }
            Err(error) => {
                tracing::info!(
                    outcome = "unauthenticated",
                    method = %parts.method,
                    reason = %error,
                    "refused an MCP request"
                );
                Err(unauthorized(&self.challenge, &error))
            }
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
