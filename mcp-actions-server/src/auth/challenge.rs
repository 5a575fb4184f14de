//! The gate every MCP request passes: the caller's [`Credentials`] go into the request, or the
//! answer is 401 with a `WWW-Authenticate` challenge pointing at the endpoint's
//! protected-resource metadata.

use std::sync::Arc;

use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::{HeaderValue, StatusCode, header};
use mcp_actions::Credentials;

use super::{AuthError, Authenticator};
use crate::telemetry::{Actor, AuditEvent, Target, Telemetry};

/// An endpoint's authenticator and its challenge.
#[derive(Clone)]
pub(crate) struct Gate {
    authenticator: Arc<dyn Authenticator>,
    /// `Bearer resource_metadata="…"`.
    challenge: String,
    /// `mcpActions.auth.requiredScopes`: every request with scope-governed credentials (a
    /// JWT) needs them.
    required_scopes: Arc<[String]>,
    /// Where refusals are counted and audited, and the endpoint's server key.
    telemetry: Option<(Telemetry, Arc<str>)>,
}

impl Gate {
    pub(crate) fn new(authenticator: Arc<dyn Authenticator>, challenge: String) -> Self {
        Self {
            authenticator,
            challenge,
            required_scopes: Arc::new([]),
            telemetry: None,
        }
    }

    /// Counts refusals in `telemetry`'s metrics and audits them (`mcp-actions.connection`),
    /// for the server `server` (`default` or a named server's key).
    pub(crate) fn with_telemetry(mut self, telemetry: Telemetry, server: &str) -> Self {
        self.telemetry = Some((telemetry, server.into()));
        self
    }

    /// Requires `scopes` of every JWT: a token without them is answered 403
    /// `insufficient_scope`, and the 401 challenge names them as a `scope` hint.
    pub(crate) fn with_required_scopes(mut self, scopes: &[String]) -> Self {
        self.required_scopes = scopes.into();
        if !scopes.is_empty() {
            self.challenge = format!(
                "Bearer scope=\"{}\", {}",
                scopes.join(" "),
                bearer_params(&self.challenge)
            );
        }
        self
    }

    /// The challenge of a 401 (`Bearer [scope="…", ]resource_metadata="…"`).
    pub(crate) fn challenge(&self) -> &str {
        &self.challenge
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
                let missing = credentials.missing_scopes(&self.required_scopes);
                if !missing.is_empty() {
                    self.refused(
                        parts,
                        "insufficient_scope",
                        "NotAllowedError",
                        Some(&credentials),
                    );
                    tracing::info!(
                        outcome = "insufficient_scope",
                        method = %parts.method,
                        principal = %credentials.principal(),
                        missing = %missing.join(" "),
                        "refused an MCP request"
                    );
                    return Err(insufficient_scope(
                        &self.challenge,
                        &self.required_scopes,
                        &missing,
                        None,
                    ));
                }
                parts.extensions.insert::<Credentials>(credentials);
                Ok(())
            }
            Err(error) => {
                let reason = match &error {
                    AuthError::MissingToken => "missing_token",
                    AuthError::AmbiguousToken(_) => "ambiguous_token",
                    AuthError::Rejected(_) => "rejected",
                    _ => "invalid_token",
                };
                self.refused(parts, reason, "AuthenticationError", None);
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

impl Gate {
    /// Counts and audits a refused request.
    fn refused(
        &self,
        parts: &Parts,
        reason: &'static str,
        error: &str,
        credentials: Option<&Credentials>,
    ) {
        let Some((telemetry, server)) = &self.telemetry else {
            return;
        };
        telemetry.metrics.auth_failure(reason);
        telemetry.audit(|| {
            AuditEvent::new(
                "mcp-actions.connection",
                actor(parts, credentials),
                Target {
                    server: server.to_string(),
                    ..Target::default()
                },
            )
            .failed(error)
        });
    }
}

/// Who sent `parts`: the principal of `credentials` (if authenticated), how, the client's
/// address and user agent.
pub(crate) fn actor(parts: &Parts, credentials: Option<&Credentials>) -> Actor {
    let authentication = match credentials {
        None => "none",
        Some(c) if c.scopes().is_some() => "jwt",
        Some(_) => "token",
    };
    Actor {
        principal: credentials.map(|c| c.principal().to_string()),
        authentication,
        client_address: parts
            .extensions
            .get::<axum::extract::ConnectInfo<crate::http::Peer>>()
            .map(|info| Arc::clone(&info.0.text)),
        user_agent: parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(200).collect()),
    }
}

fn unauthorized(challenge: &str, error: &AuthError) -> Response {
    let challenge = match error {
        // RFC 6750 §3.1: a token was sent but is not valid.
        AuthError::InvalidToken => format!(
            "{challenge}, error=\"invalid_token\", error_description=\"the access token is not valid\""
        ),
        // The reason is in the body only: it may quote values from the token.
        #[cfg(feature = "jwt")]
        AuthError::TokenRefused(_) => format!(
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

/// The parameters of a `Bearer …` challenge, without the scheme.
fn bearer_params(challenge: &str) -> &str {
    challenge.strip_prefix("Bearer ").unwrap_or(challenge)
}

/// 403 with `WWW-Authenticate: Bearer error="insufficient_scope", scope="<needed>", …` (RFC
/// 6750 §3.1), so that the client can ask for a token with more scopes and retry. `tool`: the
/// tool that needs them, when it is a `tools/call`.
pub(crate) fn insufficient_scope(
    challenge: &str,
    needed: &[String],
    missing: &[&str],
    tool: Option<&str>,
) -> Response {
    let params = bearer_params(challenge);
    // The `scope` hint of the 401 challenge, if any, is replaced by the scopes needed here.
    let params = match params.strip_prefix("scope=\"") {
        Some(rest) => rest.split_once("\", ").map_or(params, |(_, after)| after),
        None => params,
    };
    let header = format!(
        "Bearer error=\"insufficient_scope\", scope=\"{}\", {params}",
        needed.join(" ")
    );
    let message = match tool {
        Some(tool) => format!(
            "calling `{tool}` needs the scope(s) {}, which the access token lacks; ask for a token with the scopes: {}",
            missing.join(" "),
            needed.join(" ")
        ),
        None => format!(
            "the access token lacks the scope(s) {} this server requires; ask for a token with the scopes: {}",
            missing.join(" "),
            needed.join(" ")
        ),
    };
    let body = serde_json::json!({
        "error": { "name": "NotAllowedError", "message": message },
    });
    let mut response = (StatusCode::FORBIDDEN, axum::Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(&header) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}
