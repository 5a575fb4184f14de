//! The server-wide limits: `maxConcurrentRequests` refuses at once (503, `Retry-After`, a
//! JSON-RPC error body) and only on the MCP endpoints; early refusals keep keep-alive clients
//! working.

use std::sync::Arc;

use mcp_actions_tests::prelude::*;
use serde_json::json;

use crate::actions::Probe;
use crate::setup::*;

#[tokio::test]
async fn the_busy_answer_is_json_rpc_and_the_metadata_document_is_not_limited() {
    let probe = Probe::shared();
    let server = Arc::new(
        TestServer::start(builder(
            "mcpActions:\n  limits:\n    maxConcurrentRequests: 1\n",
            &probe,
        ))
        .await,
    );
    let hanging = {
        let server = Arc::clone(&server);
        tokio::spawn(async move { server.call("hardening_hang", json!({})).await })
    };
    probe
        .wait_for("the call to start", |p| p.started() == 1)
        .await;
    // Every MCP request is refused at once, a tools/list as much as a call.
    let reply = post(
        &server.endpoint,
        Some(FULL_TOKEN),
        &rpc(1, "tools/list", None),
    )
    .await;
    assert_eq!(reply.status, 503, "{reply:?}");
    assert_eq!(reply.header("retry-after"), Some("1"), "{reply:?}");
    assert_eq!(reply.rpc_error_code(), -32000, "{reply:?}");
    assert!(
        reply.json()["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("maxConcurrentRequests")),
        "{reply:?}"
    );
    // The protected-resource metadata is served whatever the load.
    let metadata = reqwest::get(format!(
        "{}/.well-known/oauth-protected-resource{}",
        server.base_url,
        mcp_actions_server::MCP_PATH
    ))
    .await
    .unwrap();
    assert_eq!(metadata.status(), 200);
    hanging.abort();
    probe
        .wait_for("the call to stop", |p| p.stopped() == 1)
        .await;
    server.assert_serving().await;
}

#[tokio::test]
async fn a_401_before_a_body_of_unknown_length_says_connection_close() {
    use tokio::io::AsyncWriteExt;
    let server = TestServer::start(builder("", &Probe::shared())).await;
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let head = format!(
        "POST {} HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\naccept: application/json, text/event-stream\r\nauthorization: Bearer wrong-token-123\r\ntransfer-encoding: chunked\r\n\r\n",
        mcp_actions_server::MCP_PATH,
        server.addr,
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    // The body never comes; the answer does, and says the connection will close.
    let answer = read_until_closed(stream)
        .await
        .expect("the server closes the connection");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
    server.assert_serving().await;
}
