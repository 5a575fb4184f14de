//! OAuth 2.0 Protected Resource Metadata (RFC 9728) for an MCP endpoint.
//!
//! Served without authentication at `/.well-known/oauth-protected-resource<endpoint path>`
//! (e.g. `/.well-known/oauth-protected-resource/api/mcp-actions/v1`), the path-suffixed form
//! Backstage uses; every endpoint (each named server, later) gets its own document. The 401
//! challenge points clients here. Anyone may read it: it names the resource and where to get a
//! token for it, nothing else.

use axum::Router;
use axum::routing::get;
use serde::Serialize;

/// The well-known prefix of RFC 9728 metadata documents.
pub(crate) const WELL_KNOWN_PREFIX: &str = "/.well-known/oauth-protected-resource";

/// The metadata document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub(crate) struct ProtectedResourceMetadata {
    /// The protected resource: the endpoint's URL.
    pub(crate) resource: String,
    /// Authorization servers that issue tokens for it (may be empty: static tokens only).
    pub(crate) authorization_servers: Vec<String>,
    /// The scopes this resource uses: `requiredScopes` and every `actionScopes` scope of the
    /// endpoint's actions.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) scopes_supported: Vec<String>,
    /// How a token may be sent: only the `Authorization` header.
    pub(crate) bearer_methods_supported: Vec<String>,
    /// A human-readable name of the resource.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) resource_name: Option<String>,
}

impl ProtectedResourceMetadata {
    /// The document for the endpoint at `base_url` + `endpoint_path`.
    pub(crate) fn new(
        base_url: &str,
        endpoint_path: &str,
        authorization_servers: Vec<String>,
        scopes_supported: Vec<String>,
        resource_name: Option<String>,
    ) -> Self {
        Self {
            resource: format!("{base_url}{endpoint_path}"),
            authorization_servers,
            scopes_supported,
            bearer_methods_supported: vec!["header".to_owned()],
            resource_name,
        }
    }
}

/// The URL of the metadata document of the endpoint at `base_url` + `endpoint_path`.
pub(crate) fn metadata_url(base_url: &str, endpoint_path: &str) -> String {
    format!("{base_url}{WELL_KNOWN_PREFIX}{endpoint_path}")
}

/// A router serving `document` for the endpoint at `endpoint_path`.
pub(crate) fn router(endpoint_path: &str, document: ProtectedResourceMetadata) -> Router {
    let document = axum::Json(document);
    Router::new().route(
        &format!("{WELL_KNOWN_PREFIX}{endpoint_path}"),
        get(move || {
            let document = document.clone();
            async move { document }
        }),
    )
}
