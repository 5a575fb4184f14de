//! Starting servers in-process and connecting rmcp clients to them.

use mcp_actions::Registry;
use mcp_actions_server::{ActionsServer, ActionsServerBuilder, Config, ConfigLoader, MCP_PATH};
use rmcp::model::{CallToolRequestParams, CallToolResult, ProtocolVersion, Tool};
use rmcp::service::RunningService;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{ClientLifecycleMode, ClientServiceExt, RoleClient, ServiceExt};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// A token without restrictions, subject `mcp-clients`.
pub const FULL_TOKEN: &str = "full-access-token";
/// A token restricted to plugin `e2e`, subject `restricted`.
pub const RESTRICTED_TOKEN: &str = "restricted-token";
/// A token restricted to permission `e2e.secret.view` on plugin `e2e`, subject `viewer`.
pub const VIEWER_TOKEN: &str = "view-only-token";

/// The config of most test servers.
pub const TEST_CONFIG: &str = r#"
backend:
  auth:
    externalAccess:
      - type: static
        options: { token: full-access-token, subject: mcp-clients }
      - type: static
        options: { token: restricted-token, subject: restricted }
        accessRestrictions: [ { plugin: e2e } ]
      - type: static
        options: { token: view-only-token, subject: viewer }
        accessRestrictions: [ { plugin: e2e, permission: e2e.secret.view } ]
mcpActions:
  name: e2e-server
  description: The end-to-end test server.
  instructions: Call e2e_whoami first.
  limits:
    actionTimeoutSeconds: 1
"#;

/// Loads YAML as the only config source, with no environment variables.
pub fn config(yaml: &str) -> Config {
    ConfigLoader::new()
        .yaml("e2e.yaml", yaml)
        .env(|_| None)
        .load()
        .expect("the test config is valid")
}

/// Loads several YAML documents, merged in order, with no environment variables.
pub fn configs(docs: &[&str]) -> Config {
    docs.iter()
        .enumerate()
        .fold(ConfigLoader::new(), |loader, (i, doc)| {
            loader.yaml(format!("e2e-{i}.yaml"), *doc)
        })
        .env(|_| None)
        .load()
        .expect("the test config is valid")
}

/// The actions of these plugins, out of everything linked into the test binary.
pub fn registry(plugins: &[&str]) -> Registry {
    Registry::from_inventory()
        .expect("the linked actions are valid")
        .retain(|a| plugins.contains(&a.plugin()))
}

/// A builder with [`TEST_CONFIG`] and the `e2e` and `e2e-other` actions.
pub fn e2e_builder() -> ActionsServerBuilder {
    ActionsServer::builder()
        .config(config(TEST_CONFIG))
        .registry(registry(&["e2e", "e2e-other"]))
}

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

/// A server running in-process on an ephemeral loopback port; stops when dropped.
pub struct TestServer {
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    /// The MCP endpoint URL.
    pub endpoint: String,
    shutdown: Option<oneshot::Sender<()>>,
}

impl TestServer {
    /// Builds the server, binds 127.0.0.1:0 and serves on it (the port is bound before this
    /// returns, so requests can be sent at once).
    pub async fn start(builder: ActionsServerBuilder) -> Self {
        let server = builder.build().expect("the test server builds");
        Self::serve(server).await
    }

    /// Serves an already built server.
    pub async fn serve(server: ActionsServer) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(async move {
            server
                .serve_with_shutdown(listener, async {
                    let _ = rx.await;
                })
                .await
                .expect("the test server serves");
        });
        let base_url = format!("http://{addr}");
        Self {
            endpoint: format!("{base_url}{MCP_PATH}"),
            base_url,
            shutdown: Some(tx),
        }
    }

    /// An rmcp client with `token`, connected with `lifecycle`.
    pub async fn client(&self, token: &str, lifecycle: Lifecycle) -> Client {
        self.try_client(token, lifecycle)
            .await
            .unwrap_or_else(|e| panic!("connecting with {lifecycle:?}: {e}"))
    }

    /// Like [`TestServer::client`], returning the error.
    pub async fn try_client(&self, token: &str, lifecycle: Lifecycle) -> anyhow::Result<Client> {
        self.try_client_at(&self.endpoint, token, lifecycle).await
    }

    /// The URL of the named server `key`: `<endpoint>/<key>`.
    pub fn named(&self, key: &str) -> String {
        format!("{}/{key}", self.endpoint)
    }

    /// An rmcp client of the MCP endpoint at `url` (e.g. [`TestServer::named`]).
    pub async fn client_at(&self, url: &str, token: &str, lifecycle: Lifecycle) -> Client {
        self.try_client_at(url, token, lifecycle)
            .await
            .unwrap_or_else(|e| panic!("connecting to {url} with {lifecycle:?}: {e}"))
    }

    /// Like [`TestServer::client_at`], returning the error.
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

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Calls `name` with `arguments` (a JSON object).
pub async fn call(client: &Client, name: &str, arguments: Value) -> CallToolResult {
    let Value::Object(arguments) = arguments else {
        panic!("arguments must be an object")
    };
    client
        .call_tool(CallToolRequestParams::new(name.to_owned()).with_arguments(arguments))
        .await
        .unwrap_or_else(|e| panic!("tools/call {name}: {e}"))
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

/// A POST to the MCP endpoint with reqwest, for what the rmcp client hides (status codes,
/// headers, streaming). Uses the 2025-11-25 stateless shape.
pub async fn raw_post(endpoint: &str, token: Option<&str>, body: Value) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(endpoint)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25")
        .body(body.to_string());
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    request.send().await.expect("the request is answered")
}
