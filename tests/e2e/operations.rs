//! What operators run the server with: `/healthz` and `/readyz` (503 while draining), the admin
//! listener's `/metrics`, and the audit trail.

use mcp_actions_server::ActionsServer;
use mcp_actions_tests::prelude::*;
use serde_json::{Value, json};

use crate::setup::*;

/// A port nobody listens on right now (bound, then released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// [`TEST_CONFIG`] merged with `extra` (a YAML document).
fn server_with(extra: &str) -> mcp_actions_server::ActionsServerBuilder {
    ActionsServer::builder()
        .config(configs(&[TEST_CONFIG, extra]))
        .registry(registry(&["e2e", "e2e-other"]))
}

async fn get_json(url: &str) -> (u16, Value) {
    let response = reqwest::get(url).await.expect("GET");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn health_checks_answer_without_a_token() {
    let server = TestServer::start(e2e_builder()).await;
    assert_eq!(
        get_json(&server.url("/healthz")).await,
        (200, json!({ "status": "ok" }))
    );
    assert_eq!(
        get_json(&server.url("/readyz")).await,
        (200, json!({ "status": "ready" }))
    );
}

#[tokio::test]
async fn the_admin_listener_serves_metrics_of_calls_refusals_and_health() {
    let port = free_port();
    let server = TestServer::start(server_with(&format!(
        "mcpActions:\n  admin:\n    listen: {{ host: 127.0.0.1, port: {port} }}\n"
    )))
    .await;
    let admin = format!("http://127.0.0.1:{port}");
    // Not on the public listener.
    assert_eq!(get_json(&server.url("/metrics")).await.0, 404);
    assert_eq!(
        post(&server.endpoint, None, &rpc(1, "tools/list", None))
            .await
            .status,
        401
    );
    assert_eq!(
        post(
            &server.endpoint,
            Some("wrong-token-123"),
            &rpc(1, "tools/list", None)
        )
        .await
        .status,
        401
    );
    let reply = post(
        &server.endpoint,
        Some(FULL_TOKEN),
        &call_request(1, "e2e_whoami", json!({})),
    )
    .await;
    assert_eq!(reply.status, 200);
    let response = reqwest::get(format!("{admin}/metrics")).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let text = response.text().await.unwrap();
    for line in [
        "mcp_actions_auth_failures_total{reason=\"missing_token\"} 1",
        "mcp_actions_auth_failures_total{reason=\"invalid_token\"} 1",
        "mcp_actions_requests_in_flight 0",
    ] {
        assert!(text.contains(line), "{line}\nin\n{text}");
    }
    assert_eq!(
        get_json(&format!("{admin}/readyz")).await,
        (200, json!({ "status": "ready" }))
    );
    assert!(!text.contains(FULL_TOKEN));
}

#[tokio::test]
async fn readyz_turns_503_when_shutdown_begins_while_calls_finish() {
    let port = free_port();
    let mut server = TestServer::start(server_with(&format!(
        "mcpActions:\n  admin:\n    listen: {{ host: 127.0.0.1, port: {port} }}\n  limits:\n    actionTimeoutSeconds: 4\n"
    )))
    .await;
    let admin = format!("http://127.0.0.1:{port}");
    let endpoint = server.endpoint.clone();
    // A call in progress (it ends with its 4 s timeout, within the 10 s grace period).
    let call = tokio::spawn(async move {
        post(
            &endpoint,
            Some(FULL_TOKEN),
            &call_request(1, "e2e_sleep", json!({})),
        )
        .await
    });
    eventually("the call to be in flight", || async {
        let text = reqwest::get(format!("{admin}/metrics"))
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        text.contains("mcp_actions_requests_in_flight 1")
            .then_some(())
    })
    .await;
    let serving = server.shut_down();
    eventually("/readyz to answer 503", || async {
        let (status, body) = get_json(&format!("{admin}/readyz")).await;
        (status == 503 && body == json!({ "status": "draining" })).then_some(())
    })
    .await;
    assert_eq!(get_json(&format!("{admin}/healthz")).await.0, 200);
    // The call in progress still gets its answer.
    let reply = bounded("the call to finish", call).await.unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
    bounded("the server to stop", serving)
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn refused_authentication_is_audited_without_the_token() {
    let dir = std::env::temp_dir().join(format!("mcp-actions-audit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("connection.jsonl");
    let _ = std::fs::remove_file(&file);
    let server = TestServer::start(server_with(&format!(
        "mcpActions:\n  audit:\n    file: {}\n",
        file.display()
    )))
    .await;
    let reply = send(
        &server.endpoint,
        &[
            ("authorization", "Bearer not-the-token-4242".into()),
            ("user-agent", "audit-test/1.0".into()),
            ("content-type", "application/json".into()),
            ("accept", "application/json, text/event-stream".into()),
        ],
        rpc(1, "tools/list", None).to_string(),
    )
    .await;
    assert_eq!(reply.status, 401);
    server.stop().await.unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains("not-the-token-4242"), "{text}");
    let events: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let connection: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "mcp-actions.connection")
        .collect();
    assert_eq!(connection.len(), 1, "{text}");
    let event = connection[0];
    assert_eq!(event["outcome"], "failed");
    assert_eq!(event["error"], "AuthenticationError");
    assert_eq!(event["actor"]["authentication"], "none");
    assert_eq!(event["actor"]["userAgent"], "audit-test/1.0");
    assert!(
        event["actor"]["clientAddress"]
            .as_str()
            .unwrap()
            .starts_with("127.0.0.1:"),
        "{event}"
    );
    assert_eq!(event["target"]["server"], "default");
    let _ = std::fs::remove_dir_all(&dir);
}
