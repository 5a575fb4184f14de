//! The `greet-user` binary's command line, run as a subprocess: the smallest binary has every
//! command too (the catalog example's tests cover each in depth).

use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_greet-user");
/// Long enough for a cold start on a loaded machine; a hung child fails the test.
const TIMEOUT: Duration = Duration::from_secs(60);

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs the binary with `args` and exactly `env`; the child is killed if it outlives
/// [`TIMEOUT`].
async fn exec(args: &[&str], env: &[(&str, &str)]) -> Run {
    let child = Command::new(BIN)
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn greet-user");
    let output = tokio::time::timeout(TIMEOUT, child.wait_with_output())
        .await
        .expect("greet-user finishes in time")
        .expect("greet-user runs");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

#[tokio::test]
async fn call_prints_the_output_as_json() {
    let run = exec(
        &["call", "greet_user", "--input", r#"{"name": "World"}"#],
        &[],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let output: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(output, json!({"greeting": "Hello World!"}));
    assert!(run.stderr.is_empty(), "{}", run.stderr);
}

#[tokio::test]
async fn an_action_error_is_name_and_message_on_stderr_with_status_1() {
    let run = exec(&["call", "greet_user", "--input", r#"{"name": " "}"#], &[]).await;
    assert_eq!(run.code, Some(1));
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert_eq!(run.stderr, "InputError: name must not be empty\n");
    let run = exec(&["call", "greet_user"], &[]).await;
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr.starts_with("InputError: invalid input"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn list_and_schema_describe_the_action() {
    let run = exec(&["list"], &[]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "Default server \"greet-user\" at /api/mcp-actions/v1: 1 of 1 actions\n\
         ID                     TOOL        TITLE       ATTRIBUTES           PERMISSION  SERVED  WHY\n\
         greet-user:greet_user  greet_user  Greet User  readOnly,idempotent  -           yes     no filter configured\n"
    );
    let run = exec(&["schema", "greet_user"], &[]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let schema: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        schema["inputSchema"]["properties"]["name"]["description"],
        "The name of the person to greet"
    );
    assert_eq!(
        schema["outputSchema"]["properties"]["greeting"]["type"],
        "string"
    );
}

#[tokio::test]
async fn token_and_config_check_work_without_a_config_file() {
    let run = exec(&["token"], &[]).await;
    assert_eq!(run.code, Some(0));
    assert_eq!(run.stdout.trim_end().len(), 32, "{}", run.stdout);
    let run = exec(&["config", "check", "--format", "json"], &[]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let effective: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        effective["backend"]["listen"],
        json!({"host": "127.0.0.1", "port": 7007})
    );
    assert!(
        run.stderr.ends_with(
            "the configuration is valid: 1 of 1 actions exposed at /api/mcp-actions/v1\n"
        ),
        "{}",
        run.stderr
    );
    // An invalid MCP_TOKEN is a configuration error.
    let run = exec(&["config", "check"], &[("MCP_TOKEN", "tiny1")]).await;
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("MCP_TOKEN"), "{}", run.stderr);
    assert!(!run.stderr.contains("tiny1"), "{}", run.stderr);
}
