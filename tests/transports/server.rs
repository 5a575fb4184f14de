//! The SSE transport as `ActionsServer` serves it: on the default server and on every named
//! server, configured by `mcpActions.sse`.

use mcp_actions::Registry;
use mcp_actions_server::transport::sse::DEPRECATION;
use mcp_actions_server::{ActionsServer, ConfigLoader, MCP_PATH};
use serde_json::json;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::support::*;

const CONFIG: &str = r#"
backend:
  auth:
    externalAccess:
      - type: static
        options: { token: alice-token-1, subject: alice }
mcpActions:
  name: transports-server
  servers:
    ops:
      name: Ops
      filter:
        include: [ { id: 'transports:*' } ]
"#;

/// Serves `ActionsServer` with [`CONFIG`] merged with `extra`; stops when the token is dropped.
async fn start(extra: &str) -> (String, tokio_util::sync::DropGuard) {
    let config = ConfigLoader::new()
        .yaml("transports.yaml", CONFIG)
        .yaml("extra.yaml", extra)
        .env(|name| (name == "SSE_ON").then(|| "false".to_owned()))
        .load()
        .expect("the test config is valid");
    let registry = Registry::from_inventory()
        .expect("the linked actions are valid")
        .retain(|a| matches!(a.plugin(), "transports" | "greet-user"));
    let server = ActionsServer::builder()
        .config(config)
        .registry(registry)
        .build()
        .expect("the server builds");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    let stop = CancellationToken::new();
    let signal = stop.clone();
    tokio::spawn(async move {
        server
            .serve_with_shutdown(listener, signal.cancelled_owned())
            .await
            .expect("the server serves");
    });
    (base_url, stop.drop_guard())
}

async fn tool_names(client: &mut SseClient) -> Vec<String> {
    let list = client.request(1, "tools/list", json!({})).await;
    let mut names: Vec<String> = list["result"]["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn every_server_has_its_own_sse_endpoint() {
    let (base_url, _stop) = start("{}").await;

    let mut default = SseClient::open(&format!("{base_url}{MCP_PATH}/sse"), ALICE).await;
    assert!(
        default
            .endpoint
            .starts_with("/api/mcp-actions/v1/sse/messages?sessionId=")
    );
    assert_eq!(
        default.initialize().await["serverInfo"]["name"],
        "transports-server"
    );
    assert_eq!(
        tool_names(&mut default).await,
        ["greet_user", "transports_whoami", "transports_work"]
    );

    let mut ops = SseClient::open(&format!("{base_url}{MCP_PATH}/ops/sse"), ALICE).await;
    assert!(
        ops.endpoint
            .starts_with("/api/mcp-actions/v1/ops/sse/messages?sessionId=")
    );
    assert_eq!(ops.headers()["deprecation"], DEPRECATION);
    let link = ops.headers()["link"].to_str().unwrap();
    assert!(
        link.contains("</api/mcp-actions/v1/ops>; rel=\"successor-version\""),
        "{link}"
    );
    assert_eq!(ops.initialize().await["serverInfo"]["name"], "Ops");
    assert_eq!(
        tool_names(&mut ops).await,
        ["transports_whoami", "transports_work"]
    );
    let whoami = ops.call(2, "transports_whoami", json!({})).await;
    assert_eq!(whoami["structuredContent"]["principal"], "service:alice");

    // A session of one server does not exist on another.
    let ping = json!({"jsonrpc": "2.0", "id": 3, "method": "ping"}).to_string();
    let cross = format!(
        "{base_url}{MCP_PATH}/sse/messages?sessionId={}",
        ops.session_id()
    );
    let response = post(&reqwest::Client::new(), &cross, Some(ALICE), ping).await;
    assert_eq!(response.status(), 404);

    // Each 401 points at its own server's protected-resource metadata.
    let refused = get_sse(&format!("{base_url}{MCP_PATH}/ops/sse"), None, None).await;
    assert_eq!(refused.status(), 401);
    let challenge = refused.headers()["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.contains("/.well-known/oauth-protected-resource/api/mcp-actions/v1/ops\""),
        "{challenge}"
    );

    // Paths next to the SSE endpoints are not authenticated routes: 404, not 401.
    let unknown = get_sse(&format!("{base_url}{MCP_PATH}/sse/other"), None, None).await;
    assert_eq!(unknown.status(), 404);

    // The Streamable HTTP endpoint is unaffected.
    let response = reqwest::Client::new()
        .post(format!("{base_url}{MCP_PATH}/ops"))
        .bearer_auth(ALICE)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .header("mcp-protocol-version", "2025-11-25")
        .body(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(!response.headers().contains_key("deprecation"));
}

#[tokio::test]
async fn the_sse_keys_configure_every_endpoint() {
    let (base_url, _stop) =
        start("mcpActions: { sse: { maxSessions: 1, idleTimeoutSeconds: 1 } }").await;
    let default_url = format!("{base_url}{MCP_PATH}/sse");
    let mut first = SseClient::open(&default_url, ALICE).await;
    first.initialize().await;

    // The cap is per endpoint: the default server is full, `ops` is not.
    let refused = get_sse(&default_url, Some(ALICE), None).await;
    assert_eq!(refused.status(), 503);
    assert_eq!(refused.headers()["retry-after"], "5");
    let _ops = SseClient::open(&format!("{base_url}{MCP_PATH}/ops/sse"), ALICE).await;

    // The idle timeout closes the quiet session, which frees the slot.
    assert_eq!(first.next_event().await, None);
    let mut second = SseClient::open(&default_url, ALICE).await;
    second.initialize().await;
}

#[tokio::test]
async fn sse_can_be_turned_off() {
    let (base_url, _stop) = start("mcpActions: { sse: { enabled: '${SSE_ON}' } }").await;
    for path in ["sse", "ops/sse"] {
        let response = get_sse(&format!("{base_url}{MCP_PATH}/{path}"), Some(ALICE), None).await;
        assert_eq!(response.status(), 404, "{path}");
    }
    let url = format!("{base_url}{MCP_PATH}/sse/messages?sessionId=x");
    let response = post(&reqwest::Client::new(), &url, Some(ALICE), "{}".to_owned()).await;
    assert_eq!(response.status(), 404);
}
