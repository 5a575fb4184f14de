//! The SSE transport as `ActionsServer` serves it: on the default server and on every named
//! server, configured by `mcpActions.sse`.

use mcp_actions_server::transport::sse::DEPRECATION;
use mcp_actions_server::{ActionsServer, MCP_PATH};
use mcp_actions_tests::prelude::*;
use serde_json::json;

use crate::setup::*;

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

/// Serves `ActionsServer` with [`CONFIG`] merged with `extra` (and `SSE_ON=false`).
async fn start(extra: &str) -> TestServer {
    let config = loader(&[CONFIG, extra])
        .env(|name| (name == "SSE_ON").then(|| "false".to_owned()))
        .load()
        .expect("the test config is valid");
    TestServer::start(
        ActionsServer::builder()
            .config(config)
            .registry(registry(&["transports", "greet-user"])),
    )
    .await
}

#[tokio::test]
async fn every_server_has_its_own_sse_endpoint() {
    let server = start("{}").await;
    let base_url = &server.base_url;

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
        default.tool_names(1).await,
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
        ops.tool_names(1).await,
        ["transports_whoami", "transports_work"]
    );
    let whoami = ops.call(2, "transports_whoami", json!({})).await;
    assert_eq!(whoami["structuredContent"]["principal"], "service:alice");

    // A session of one server does not exist on another.
    let ping = rpc(3, "ping", None).to_string();
    let cross = format!(
        "{base_url}{MCP_PATH}/sse/messages?sessionId={}",
        ops.session_id()
    );
    assert_eq!(post_message(&cross, Some(ALICE), ping).await.status, 404);

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
    let reply = post(
        &server.named("ops"),
        Some(ALICE),
        &rpc(1, "tools/list", None),
    )
    .await;
    assert_eq!(reply.status, 200);
    assert!(!reply.headers.contains_key("deprecation"));
}

#[tokio::test]
async fn the_sse_keys_configure_every_endpoint() {
    let server = start("mcpActions: { sse: { maxSessions: 1, idleTimeoutSeconds: 1 } }").await;
    let base_url = &server.base_url;
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
    let server = start("mcpActions: { sse: { enabled: '${SSE_ON}' } }").await;
    let base_url = &server.base_url;
    for path in ["sse", "ops/sse"] {
        let response = get_sse(&format!("{base_url}{MCP_PATH}/{path}"), Some(ALICE), None).await;
        assert_eq!(response.status(), 404, "{path}");
    }
    let url = format!("{base_url}{MCP_PATH}/sse/messages?sessionId=x");
    assert_eq!(post_message(&url, Some(ALICE), "{}").await.status, 404);
}
