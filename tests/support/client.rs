//! rmcp clients of a [`TestServer`], on either MCP lifecycle, and what tests ask of them.

use rmcp::model::{CallToolRequestParams, CallToolResult, ErrorCode, ProtocolVersion, Tool};
use rmcp::service::{RunningService, ServiceError};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{
    ClientHandler, ClientLifecycleMode, ClientServiceExt, ErrorData, RoleClient, ServiceExt,
};
use serde_json::Value;

use crate::server::TestServer;

/// The MCP lifecycles a client can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifecycle {
    /// `initialize`, negotiating 2025-11-25.
    Initialize,
    /// 2026-07-28: `server/discover` and per-request `_meta`.
    Discover,
}

/// Both lifecycles, for tests that must hold on each.
pub const LIFECYCLES: [Lifecycle; 2] = [Lifecycle::Initialize, Lifecycle::Discover];

impl Lifecycle {
    /// The protocol version the lifecycle negotiates.
    pub fn version(self) -> ProtocolVersion {
        match self {
            Lifecycle::Initialize => ProtocolVersion::V_2025_11_25,
            Lifecycle::Discover => ProtocolVersion::V_2026_07_28,
        }
    }
}

/// A client connected to a test server.
pub type Client = RunningService<RoleClient, ()>;

impl TestServer {
    /// An rmcp client of the default server with `token`, connected with `lifecycle`.
    pub async fn client(&self, token: &str, lifecycle: Lifecycle) -> Client {
        self.try_client(token, lifecycle)
            .await
            .unwrap_or_else(|e| panic!("connecting with {lifecycle:?}: {e}"))
    }

    /// Like [`TestServer::client`], returning the error.
    pub async fn try_client(&self, token: &str, lifecycle: Lifecycle) -> anyhow::Result<Client> {
        self.try_client_at(&self.endpoint, token, lifecycle).await
    }

    /// An rmcp client of the MCP endpoint at `url` (e.g. [`TestServer::named`]).
    pub async fn client_at(&self, url: &str, token: &str, lifecycle: Lifecycle) -> Client {
        self.try_client_at(url, token, lifecycle)
            .await
            .unwrap_or_else(|e| panic!("connecting to {url} with {lifecycle:?}: {e}"))
    }

    /// Like [`TestServer::client_at`], returning the error. Asserts the negotiated version.
    pub async fn try_client_at(
        &self,
        url: &str,
        token: &str,
        lifecycle: Lifecycle,
    ) -> anyhow::Result<Client> {
        let transport = StreamableHttpClientTransport::from_config(
            StreamableHttpClientTransportConfig::with_uri(url.to_owned()).auth_header(token),
        );
        let client = match lifecycle {
            Lifecycle::Initialize => ().serve(transport).await?,
            Lifecycle::Discover => {
                ().serve_with_lifecycle(
                    transport,
                    ClientLifecycleMode::Discover {
                        preferred_versions: vec![ProtocolVersion::V_2026_07_28],
                    },
                )
                .await?
            }
        };
        let negotiated = client.peer_info().map(|info| info.protocol_version.clone());
        assert_eq!(negotiated, Some(lifecycle.version()), "negotiated version");
        Ok(client)
    }
}

/// Calls `name` with `arguments` (a JSON object), as any client (one that plays the user, see
/// [`crate::user::User`], included).
pub async fn call<H: ClientHandler>(
    client: &RunningService<RoleClient, H>,
    name: &str,
    arguments: Value,
) -> CallToolResult {
    let Value::Object(arguments) = arguments else {
        panic!("arguments must be an object")
    };
    client
        .call_tool(CallToolRequestParams::new(name.to_owned()).with_arguments(arguments))
        .await
        .unwrap_or_else(|e| panic!("tools/call {name}: {e}"))
}

/// Calls `name` with `arguments` (a JSON object), expecting a JSON-RPC error; returns it.
pub async fn call_error(client: &Client, name: &str, arguments: Value) -> ErrorData {
    let Value::Object(arguments) = arguments else {
        panic!("arguments must be an object")
    };
    match client
        .call_tool(CallToolRequestParams::new(name.to_owned()).with_arguments(arguments))
        .await
    {
        Err(ServiceError::McpError(error)) => error,
        other => panic!("tools/call {name}: expected a JSON-RPC error, got {other:?}"),
    }
}

/// Asserts that calling `name` is answered as an unknown tool: JSON-RPC -32602 with the
/// message `NotFoundError: Action "<name>" not found` (a tool the caller may not see included).
pub async fn assert_unknown_tool(client: &Client, name: &str, arguments: Value) {
    let error = call_error(client, name, arguments).await;
    assert_eq!(error.code, ErrorCode::INVALID_PARAMS, "{name}: {error:?}");
    assert_eq!(
        error.message,
        format!("NotFoundError: Action \"{name}\" not found"),
        "{name}"
    );
    assert_eq!(error.data, None, "{name}");
}

/// The text of the result's first content block.
pub fn text(result: &CallToolResult) -> &str {
    &result
        .content
        .first()
        .and_then(|c| c.as_text())
        .expect("a text content block")
        .text
}

/// Asserts the result is an in-band error and returns its text.
pub fn error_text(result: &CallToolResult) -> &str {
    assert_eq!(result.is_error, Some(true), "expected isError: {result:?}");
    assert!(result.structured_content.is_none(), "{result:?}");
    text(result)
}

/// The names of the tools the client sees, sorted.
pub async fn tool_names(client: &Client) -> Vec<String> {
    let mut names: Vec<String> = client
        .list_all_tools()
        .await
        .expect("tools/list")
        .into_iter()
        .map(|t: Tool| t.name.to_string())
        .collect();
    names.sort();
    names
}
