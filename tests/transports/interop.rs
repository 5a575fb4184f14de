//! The official TypeScript SDK's `SSEClientTransport` against the SSE endpoint
//! (`tests/interop/sse-client.mjs`, run by the `node` on PATH with the packages of
//! `tests/interop/node_modules`, which the `interop` suite installs with `npm ci`).
//!
//! Without `node` or the SDK the tests are skipped with a message on stderr, unless `CI` is set
//! (then they fail).

use std::process::Stdio;

use mcp_actions_server::transport::SseOptions;
use mcp_actions_tests::interop::{interop_dir, on_ci};
use mcp_actions_tests::prelude::*;
use serde_json::Value;
use tokio::process::Command;

use crate::setup::*;

/// `Some(node)` when the SDK can run; otherwise skips (or fails under `CI`).
fn node() -> Option<&'static str> {
    let sdk = interop_dir().join("node_modules/@modelcontextprotocol/sdk/package.json");
    let node_ok = std::process::Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let why = if !node_ok {
        "`node` is not on PATH"
    } else if !sdk.is_file() {
        "tests/interop/node_modules is not installed (run the `interop` suite once, or `npm ci` there)"
    } else {
        return Some("node");
    };
    if on_ci() {
        panic!("the SSE interop test cannot run under CI: {why}");
    }
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED the TypeScript SDK SSE test: {why}"
    );
    None
}

async fn run_sse_client(args: &[&str]) -> Value {
    let node = match node() {
        Some(node) => node,
        None => return Value::Null,
    };
    let mut command = Command::new(node);
    command
        .arg(interop_dir().join("sse-client.mjs"))
        .args(args)
        .current_dir(interop_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = command.spawn().expect("spawn node");
    let output = bounded("sse-client.mjs", child.wait_with_output())
        .await
        .expect("sse-client.mjs runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let summary: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("no JSON summary ({e}):\nstdout: {stdout}\nstderr: {stderr}"));
    assert!(
        output.status.success() && summary["ok"] == true,
        "sse-client.mjs failed ({}):\n{stderr}",
        output.status
    );
    summary
}

#[tokio::test]
async fn typescript_sdk_sse_client_as_a_2024_11_05_client() {
    let server = SseServer::start(SseOptions::default()).await;
    let summary = run_sse_client(&[
        "--url",
        &server.sse_url(),
        "--token",
        ALICE,
        "--protocol-version",
        "2024-11-05",
        "--whoami",
        "service:alice",
    ])
    .await;
    if summary.is_null() {
        return;
    }
    assert_eq!(summary["protocolVersion"], "2024-11-05");
    let passed: Vec<&str> = summary["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        passed,
        [
            "connect",
            "capabilities",
            "list-tools",
            "greet-ok",
            "greet-bad-args",
            "whoami",
            "wrong-token"
        ]
    );
    // The SDK closed its stream: the session is gone.
    eventually("the SDK's session to close", || async {
        (server.endpoint.open_sessions() == 0).then_some(())
    })
    .await;
}

#[tokio::test]
async fn typescript_sdk_sse_client_with_its_latest_version() {
    let server = SseServer::start(SseOptions::default()).await;
    let summary = run_sse_client(&[
        "--url",
        &server.sse_url(),
        "--token",
        BOB,
        "--whoami",
        "service:bob",
    ])
    .await;
    if summary.is_null() {
        return;
    }
    // The SDK offers its newest version with `initialize`; the server agrees to it.
    assert_eq!(summary["protocolVersion"], "2025-11-25");
}
