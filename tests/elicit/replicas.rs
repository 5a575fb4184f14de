//! Two replicas behind a real nginx (Debian's, installed by `.ci/run`) that routes by the
//! `Mcp-Session-Id` header (`hash $http_mcp_session_id consistent;`, as the README's
//! "Deploying" shows): 2025-11-25 clients are asked over Streamable HTTP through it, their
//! answers reaching the replica that holds the call, and requests without a session id still
//! spread over both replicas.

use std::process::Stdio;

use mcp_actions_server::MCP_PATH;
use mcp_actions_tests::prelude::*;
use mcp_actions_tests::real::{NginxRouting, free_port, nginx_config, real_part};
use rmcp::model::ElicitationAction;
use serde_json::json;
use tokio::process::Command;

use crate::actions::ran;
use crate::{TOKEN, server_with};

/// The `serverInfo.name` of whichever replica answers an `initialize` without a session.
async fn replica_answering(url: &str) -> String {
    let body = rpc(
        0,
        "initialize",
        Some(json!({
            "protocolVersion": V2025,
            "capabilities": {},
            "clientInfo": {"name": "elicit-replicas", "version": "1"}
        })),
    );
    let reply = post(url, Some(TOKEN), &body).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert!(reply.header("mcp-session-id").is_none(), "{reply:?}");
    reply.json()["result"]["serverInfo"]["name"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_nginx_hashing_the_session_id_each_answer_reaches_its_call() {
    let Some(nginx) = real_part("nginx") else {
        return;
    };
    // The same `stateKey` (in CONFIG): a session id sealed by one replica opens on the other.
    let a = server_with("mcpActions: { name: replica-a }").await;
    let b = server_with("mcpActions: { name: replica-b }").await;
    let dir = std::env::temp_dir().join(format!("elicit-nginx-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let listen = free_port();
    let config = nginx_config(
        &dir,
        listen,
        &[a.addr.port(), b.addr.port()],
        NginxRouting {
            upstream: "hash $http_mcp_session_id consistent;",
            ..NginxRouting::default()
        },
    );
    std::fs::write(dir.join("nginx.conf"), config).unwrap();
    let _nginx = Command::new(nginx)
        .args(["-e", dir.join("error.log").to_str().unwrap()])
        .args(["-c", dir.join("nginx.conf").to_str().unwrap()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start nginx");
    let url = format!("http://127.0.0.1:{listen}{MCP_PATH}");
    eventually("nginx to proxy", || async {
        let client = reqwest::Client::new();
        let response = client
            .get(format!("http://127.0.0.1:{listen}/readyz"))
            .send()
            .await
            .ok()?;
        response.status().is_success().then_some(())
    })
    .await;

    // Without a session id nginx spreads requests (round robin): both replicas answer.
    let mut names = Vec::new();
    for _ in 0..4 {
        names.push(replica_answering(&url).await);
    }
    assert!(
        names.iter().any(|n| n == "replica-a") && names.iter().any(|n| n == "replica-b"),
        "{names:?}"
    );

    // Several clients (several sessions, hashed over both replicas): each is asked, and its
    // answer reaches the replica that waits for it.
    for index in 0..6 {
        let name = format!("rho-{index}");
        let user = User::answering([answer(ElicitationAction::Accept, json!({}))]);
        let client = user.connect(&url, TOKEN, Lifecycle::Initialize).await;
        let result = call(&client, "ask_delete", json!({"name": name})).await;
        assert_eq!(result.is_error, Some(false), "{name}: {result:?}");
        assert!(ran(&format!("delete:{name}")));
        assert_eq!(user.asked().len(), 1);
        client.cancel().await.unwrap();
    }
    let _ = std::fs::remove_dir_all(&dir);
}
