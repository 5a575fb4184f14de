//! `greet-user serve --stdio` as a local MCP client runs it: a child process speaking MCP on
//! stdin/stdout, logging to stderr, calling actions as the configured principal.

use std::process::Stdio;
use std::time::Duration;

use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::TokioChildProcess;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_greet-user");
/// The longest any single wait may take.
const WAIT: Duration = Duration::from_secs(30);

async fn bounded<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(WAIT, future)
        .await
        .unwrap_or_else(|_| panic!("timed out after {WAIT:?} waiting for {what}"))
}

fn command(args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(args)
        // Logs on, with the action's own per-call line (at `debug`): they must all go to
        // stderr. No MCP_TOKEN: stdio needs none.
        .env("RUST_LOG", "info,greet_user=debug")
        .env_remove("MCP_TOKEN")
        .kill_on_drop(true);
    command
}

#[tokio::test]
async fn rmcp_client_lists_and_calls_as_the_given_subject() {
    let (transport, stderr) =
        TokioChildProcess::builder(command(&["serve", "--stdio", "--subject", "ide-plugin"]))
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn greet-user");
    let mut stderr = stderr.expect("piped stderr");

    let client = bounded("initialize", ().serve(transport))
        .await
        .expect("the client initializes");
    let info = client.peer_info().expect("server info");
    let server = info.server_info.as_ref().expect("serverInfo");
    // The binary's own package name (`run!`), not the framework's.
    assert_eq!(server.name, "greet-user");

    let tools = bounded("tools/list", client.list_all_tools())
        .await
        .expect("tools/list");
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(names, ["greet_user"]);

    let arguments = json!({"name": "World"}).as_object().cloned().unwrap();
    let result = bounded(
        "tools/call",
        client.call_tool(CallToolRequestParams::new("greet_user").with_arguments(arguments)),
    )
    .await
    .expect("tools/call");
    assert_eq!(
        result.structured_content,
        Some(json!({"greeting": "Hello World!"}))
    );

    // Closing stdin ends the server; its stderr then holds every log line.
    bounded("the client to close", client.cancel())
        .await
        .unwrap();
    let mut logs = String::new();
    bounded("stderr to close", stderr.read_to_string(&mut logs))
        .await
        .unwrap();
    assert!(
        logs.contains("serving MCP actions on stdin/stdout"),
        "{logs}"
    );
    // The action logs who called it: the handler saw the subject given on the command line.
    assert!(
        logs.lines()
            .any(|l| l.contains("greeting") && l.contains("principal=service:ide-plugin")),
        "{logs}"
    );
}

/// Sends one JSON-RPC message as a line.
async fn send(stdin: &mut tokio::process::ChildStdin, message: Value) {
    let mut line = message.to_string();
    line.push('\n');
    stdin.write_all(line.as_bytes()).await.expect("write stdin");
}

#[tokio::test]
async fn stdout_carries_only_protocol_and_the_configured_user_is_the_caller() {
    let dir = std::env::temp_dir().join(format!("greet-user-stdio-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("stdio.yaml");
    std::fs::write(
        &config,
        "mcpActions:\n  stdio:\n    user: user:default/jane\n",
    )
    .unwrap();

    let mut child = command(&["serve", "--stdio", "--config", config.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn greet-user");
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut stderr = child.stderr.take().unwrap();

    send(
        &mut stdin,
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2024-11-05", "capabilities": {},
            "clientInfo": {"name": "raw", "version": "0"}}}),
    )
    .await;
    send(
        &mut stdin,
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    )
    .await;
    send(
        &mut stdin,
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
               "params": {"name": "greet_user", "arguments": {"name": "Jane"}}}),
    )
    .await;

    // Every stdout line is a JSON-RPC message, up to the answer to the call.
    let mut answers = Vec::new();
    while answers.len() < 2 {
        let line = bounded("a line on stdout", stdout.next_line())
            .await
            .expect("read stdout")
            .expect("stdout open until the answers");
        let message: Value = serde_json::from_str(&line).unwrap_or_else(|e| {
            panic!("stdout carries something else than protocol ({e}): {line:?}")
        });
        assert_eq!(message["jsonrpc"], "2.0", "{line}");
        if message.get("id").is_some() {
            answers.push(message);
        }
    }
    assert_eq!(answers[0]["result"]["protocolVersion"], "2024-11-05");
    assert_eq!(
        answers[1]["result"]["structuredContent"],
        json!({"greeting": "Hello Jane!"})
    );

    // End of stdin: the server exits cleanly, having written nothing more on stdout.
    drop(stdin);
    let status = bounded("the server to exit", child.wait()).await.unwrap();
    assert!(status.success(), "{status}");
    assert_eq!(
        bounded("stdout to close", stdout.next_line())
            .await
            .unwrap(),
        None
    );
    let mut logs = String::new();
    stderr.read_to_string(&mut logs).await.unwrap();
    assert!(
        logs.lines()
            .any(|l| l.contains("greeting") && l.contains("principal=user:default/jane")),
        "{logs}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn a_bad_principal_is_a_usage_error() {
    let output = bounded(
        "the server to exit",
        command(&["serve", "--stdio", "--user", "jane"])
            .stdin(Stdio::null())
            .output(),
    )
    .await
    .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("user:default/jane"), "{stderr}");
}
