//! Two replicas behind a real nginx (Debian's, installed by `.ci/run`) that routes by the
//! `Mcp-Session-Id` header (`hash $http_mcp_session_id consistent;`, as the README's
//! "Deploying" shows): 2025-11-25 clients are asked over Streamable HTTP through it, their
//! answers reaching the replica that holds the call, and requests without a session id still
//! spread over both replicas.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use mcp_actions_server::MCP_PATH;
use mcp_actions_tests::prelude::*;
use rmcp::model::ElicitationAction;
use serde_json::json;
use tokio::process::Command;

use crate::actions::ran;
use crate::{TOKEN, server_with};

/// nginx, where Debian puts it (a user's PATH may lack /usr/sbin); `None` (skipped, loudly)
/// when it is not installed, unless `CI` is set.
fn nginx() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .chain(["/usr/sbin".into()])
            .map(|dir| dir.join("nginx"))
            .find(|path| path.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "`nginx` is not installed; .ci/run installs it (apt-get install nginx)"
        );
        eprintln!("SKIPPED: `nginx` is not installed (apt-get install nginx)");
    }
    found
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn nginx_config(dir: &Path, listen: u16, replicas: &[u16]) -> String {
    let servers: String = replicas
        .iter()
        .map(|port| format!("    server 127.0.0.1:{port};\n"))
        .collect();
    let d = dir.display();
    format!(
        "worker_processes 1;\ndaemon off;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
         events {{ worker_connections 256; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n  \
         fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n  \
         upstream mcp {{\n    hash $http_mcp_session_id consistent;\n{servers}  }}\n  \
         server {{\n    listen 127.0.0.1:{listen};\n    location / {{\n      proxy_pass http://mcp;\n      \
         proxy_http_version 1.1;\n      proxy_set_header Host $http_host;\n      proxy_buffering off;\n    }}\n  }}\n}}\n"
    )
}

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
    let Some(nginx) = nginx() else {
        return;
    };
    // The same `stateKey` (in CONFIG): a session id sealed by one replica opens on the other.
    let a = server_with("mcpActions: { name: replica-a }").await;
    let b = server_with("mcpActions: { name: replica-b }").await;
    let dir = std::env::temp_dir().join(format!("elicit-nginx-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let listen = free_port();
    let config = nginx_config(&dir, listen, &[a.addr.port(), b.addr.port()]);
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
