//! HTTP-level behaviour: the Host allow-list, the body limit, stateless GET, plugin sources.

use mcp_actions_server::ActionsServer;
use mcp_actions_tests::prelude::*;
use serde_json::json;

use crate::setup::*;

async fn post_with_host(endpoint: &str, host: &str) -> u16 {
    let mut headers = standard_headers(FULL_TOKEN);
    headers.push(("host", host.to_owned()));
    send(endpoint, &headers, rpc(1, "tools/list", None).to_string())
        .await
        .status
}

#[tokio::test]
async fn only_allowed_hosts_are_served() {
    let server = TestServer::start(e2e_builder()).await;
    assert_eq!(post_with_host(&server.endpoint, "localhost").await, 200);
    assert_eq!(
        post_with_host(&server.endpoint, "mcp.example.com").await,
        403
    );

    let server = TestServer::start(
        ActionsServer::builder()
            .config(configs(&[
                TEST_CONFIG,
                "mcpActions:\n  allowedHosts: [mcp.example.com]\n",
            ]))
            .registry(registry(&["e2e"])),
    )
    .await;
    assert_eq!(
        post_with_host(&server.endpoint, "mcp.example.com").await,
        200
    );
    assert_eq!(
        post_with_host(&server.endpoint, "other.example.com").await,
        403
    );
}

#[tokio::test]
async fn the_base_url_host_is_allowed() {
    let server = TestServer::start(
        ActionsServer::builder()
            .config(configs(&[
                TEST_CONFIG,
                "backend:\n  baseUrl: https://actions.example.com\n",
            ]))
            .registry(registry(&["e2e"])),
    )
    .await;
    assert_eq!(
        post_with_host(&server.endpoint, "actions.example.com").await,
        200
    );
}

#[tokio::test]
async fn a_body_over_the_configured_limit_is_refused_with_413() {
    let server = TestServer::start(
        ActionsServer::builder()
            .config(configs(&[
                TEST_CONFIG,
                "mcpActions:\n  limits:\n    maxRequestBodyBytes: 1024\n",
            ]))
            .registry(registry(&["e2e"])),
    )
    .await;
    let big = json!({
        "jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": "e2e_echo", "arguments": {"message": "x".repeat(4096), "options": {"loud": false}}}
    });
    assert_eq!(
        post(&server.endpoint, Some(FULL_TOKEN), &big).await.status,
        413
    );
    let small = json!({
        "jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "e2e_echo", "arguments": {"message": "x", "options": {"loud": false}}}
    });
    assert_eq!(
        post(&server.endpoint, Some(FULL_TOKEN), &small)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn get_on_the_stateless_endpoint_is_405_and_no_session_is_issued() {
    let server = TestServer::start(e2e_builder()).await;
    let response = reqwest::Client::new()
        .get(&server.endpoint)
        .header("authorization", format!("Bearer {FULL_TOKEN}"))
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    let reply = post(
        &server.endpoint,
        Some(FULL_TOKEN),
        &json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "e2e", "version": "1"}}}),
    )
    .await;
    assert_eq!(reply.status, 200);
    assert!(reply.header("mcp-session-id").is_none());
}

#[tokio::test]
async fn plugin_sources_limit_the_served_actions() {
    let server = TestServer::start(
        ActionsServer::builder()
            .config(config(TEST_CONFIG))
            .registry(registry(&["e2e", "e2e-other"]))
            .plugin_sources(["e2e-other"]),
    )
    .await;
    let client = server.client(FULL_TOKEN, Lifecycle::Initialize).await;
    assert_eq!(tool_names(&client).await, ["e2e_other_plugin"]);
}
