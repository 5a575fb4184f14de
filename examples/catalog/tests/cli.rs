//! The command line of the `catalog` binary, run as a subprocess: every command, its output,
//! its exit status. Each child gets an explicit environment and is killed if it outlives its
//! timeout.

use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

const BIN: &str = env!("CARGO_BIN_EXE_catalog");
const EXAMPLE_CONFIG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/app-config.yaml");
const READER: &str = "reader-token-123";
const ADMIN: &str = "admin-token-123";
/// Long enough for a cold start on a loaded two-core machine; a hung child fails the test.
const TIMEOUT: Duration = Duration::from_secs(60);

/// What the example config needs, and nothing from the test's own environment.
const ENV: [(&str, &str); 2] = [
    ("CATALOG_READER_TOKEN", READER),
    ("CATALOG_ADMIN_TOKEN", ADMIN),
];

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    #[track_caller]
    fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "exit status\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

fn command(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

async fn finish(child: Child) -> Run {
    let output = tokio::time::timeout(TIMEOUT, child.wait_with_output())
        .await
        .expect("the command finishes in time")
        .expect("the command runs");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

/// Runs the binary with `args` and exactly `env`.
async fn exec(args: &[&str], env: &[(&str, &str)]) -> Run {
    finish(command(args, env).spawn().expect("spawn the binary")).await
}

/// Like [`exec`], writing `stdin` to the child's standard input.
async fn run_with_stdin(args: &[&str], env: &[(&str, &str)], stdin: &str) -> Run {
    let mut child = command(args, env)
        .stdin(Stdio::piped())
        .spawn()
        .expect("spawn the binary");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).await.unwrap();
    drop(input);
    finish(child).await
}

/// A config file in the temp directory, removed when dropped.
struct TempConfig(PathBuf);

impl TempConfig {
    fn new(name: &str, yaml: &str) -> Self {
        let path =
            std::env::temp_dir().join(format!("catalog-cli-{}-{name}.yaml", std::process::id()));
        std::fs::write(&path, yaml).unwrap();
        Self(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempConfig {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Added to the example config: filters, a named server, namespaced names.
const OPERATOR: &str = r#"
backend:
  actions:
    pluginSources: [catalog, scaffolder]
    filter:
      exclude:
        - id: '*:delete_*'
mcpActions:
  namespacedToolNames: true
  servers:
    read-only:
      name: Catalog (read-only)
      filter:
        include:
          - attributes: { readOnly: true }
"#;

#[tokio::test]
async fn every_command_has_help_with_its_exit_statuses() {
    for (args, expected) in [
        (&["--help"][..], "Serve the actions linked into this binary"),
        (&["serve", "--help"], "--stdio"),
        (&["list", "--help"], "whether each server exposes it"),
        (&["schema", "--help"], "inputSchema"),
        (&["call", "--help"], "`<ErrorName>: message`"),
        (&["token", "--help"], "24 bytes, base64"),
        (&["config", "check", "--help"], "masked as ***"),
    ] {
        let run = exec(args, &[]).await;
        run.assert_code(0);
        assert!(run.stdout.contains(expected), "{args:?}:\n{}", run.stdout);
        assert!(
            run.stdout.contains("Exit status:\n  0  success"),
            "{args:?}:\n{}",
            run.stdout
        );
    }
    let run = exec(&["config", "--help"], &[]).await;
    run.assert_code(0);
    assert!(run.stdout.contains("check"), "{}", run.stdout);
}

#[tokio::test]
async fn usage_errors_exit_with_2() {
    for args in [
        &["frobnicate"][..],
        &["schema"],
        &[
            "call",
            "list_catalog_entities",
            "--subject",
            "a",
            "--user",
            "user:default/b",
        ],
        &["serve", "--subject", "x"],
        &["list", "--format", "xml"],
    ] {
        let run = exec(args, &ENV).await;
        run.assert_code(2);
        assert!(run.stdout.is_empty(), "{args:?}: {}", run.stdout);
        assert!(run.stderr.contains("error:"), "{args:?}: {}", run.stderr);
    }
}

#[tokio::test]
async fn list_shows_every_action_and_why_each_server_serves_it() {
    let operator = TempConfig::new("list", OPERATOR);
    let run = exec(&["list", "-c", EXAMPLE_CONFIG, "-c", operator.path()], &ENV).await;
    run.assert_code(0);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines[0],
        "Default server \"catalog\" at /api/mcp-actions/v1: 3 of 4 actions"
    );
    let header: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(
        header,
        [
            "ID",
            "TOOL",
            "TITLE",
            "ATTRIBUTES",
            "PERMISSION",
            "SERVED",
            "WHY"
        ]
    );
    let row = |id: &str| -> Vec<&str> {
        lines
            .iter()
            .find(|l| l.starts_with(&format!("{id} ")))
            .unwrap_or_else(|| panic!("no row for {id}:\n{}", run.stdout))
            .split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect()
    };
    assert_eq!(
        row("catalog:delete_catalog_entity"),
        [
            "catalog:delete_catalog_entity",
            "catalog__delete_catalog_entity",
            "Delete Catalog Entity",
            "destructive",
            "catalog.entity.delete (delete)",
            "no",
            "excluded by exclude[0] (id `*:delete_*`)"
        ]
    );
    assert_eq!(
        row("catalog:get_catalog_entity")[3..6],
        ["readOnly,idempotent", "catalog.entity.read (read)", "yes"]
    );
    let named = lines
        .iter()
        .position(|l| l.starts_with("Named server"))
        .expect("a section for the named server");
    assert_eq!(
        lines[named],
        "Named server `read-only` (\"Catalog (read-only)\") at /api/mcp-actions/v1/read-only: 2 of 3 actions"
    );
    let create = lines[named..]
        .iter()
        .find(|l| l.starts_with("catalog:create_catalog_entity"))
        .unwrap();
    assert!(
        create.ends_with("no      matches no include rule"),
        "{create}"
    );
    let get = lines[named..]
        .iter()
        .find(|l| l.starts_with("catalog:get_catalog_entity"))
        .unwrap();
    assert!(
        get.ends_with("yes     included by include[0] (attributes { readOnly: true })"),
        "{get}"
    );
    // The start-up warning reaches the operator.
    assert!(
        run.stderr.contains(
            "backend.actions.pluginSources entry `scaffolder` has no actions in this binary"
        ),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn list_as_json_for_scripts() {
    let operator = TempConfig::new("list-json", OPERATOR);
    let run = exec(
        &[
            "list",
            "--format",
            "json",
            "-c",
            EXAMPLE_CONFIG,
            "-c",
            operator.path(),
        ],
        &ENV,
    )
    .await;
    run.assert_code(0);
    let document = run.json();
    assert_eq!(
        document["servers"],
        json!([
            {"key": "default", "name": "catalog", "path": "/api/mcp-actions/v1", "actions": 3},
            {"key": "read-only", "name": "Catalog (read-only)", "path": "/api/mcp-actions/v1/read-only", "actions": 2},
        ])
    );
    let delete = document["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == "catalog:delete_catalog_entity")
        .unwrap();
    assert_eq!(delete["tool"], "catalog__delete_catalog_entity");
    assert_eq!(
        delete["attributes"],
        json!({"readOnly": false, "destructive": true, "idempotent": false, "openWorld": false})
    );
    assert_eq!(
        delete["permission"],
        json!({"name": "catalog.entity.delete", "action": "delete"})
    );
    assert_eq!(
        delete["servers"]["default"],
        json!({"exposed": false, "reason": "excluded by exclude[0] (id `*:delete_*`)"})
    );
    assert_eq!(
        delete["servers"]["read-only"],
        json!({"exposed": false, "reason": "not exposed by the default server"})
    );
}

#[tokio::test]
async fn schema_prints_both_schemas_by_any_name() {
    for name in [
        "get_catalog_entity",
        "catalog:get_catalog_entity",
        "catalog__get_catalog_entity",
    ] {
        let operator = TempConfig::new(&format!("schema-{name}"), OPERATOR);
        let run = exec(
            &["schema", name, "-c", EXAMPLE_CONFIG, "-c", operator.path()],
            &ENV,
        )
        .await;
        run.assert_code(0);
        assert!(
            run.stdout.starts_with("{\n  \""),
            "pretty JSON: {}",
            run.stdout
        );
        let document = run.json();
        assert_eq!(document["id"], "catalog:get_catalog_entity");
        assert_eq!(document["tool"], "catalog__get_catalog_entity");
        assert_eq!(document["inputSchema"]["type"], "object");
        assert_eq!(document["inputSchema"]["required"], json!(["entity_ref"]));
        assert_eq!(document["outputSchema"]["type"], "object");
    }
    let run = exec(&["schema", "get_catalog_entities"], &[]).await;
    run.assert_code(2);
    assert!(run.stdout.is_empty());
    assert!(
        run.stderr
            .contains("error: there is no action `get_catalog_entities` in this binary; `list` shows every action"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn call_runs_the_action_with_the_policy_and_prints_json() {
    let run = exec(
        &[
            "call",
            "list_catalog_entities",
            "--input",
            r#"{"kind": "system"}"#,
            "--subject",
            "catalog-admin",
            "--config",
            EXAMPLE_CONFIG,
        ],
        &ENV,
    )
    .await;
    run.assert_code(0);
    let output = run.json();
    assert_eq!(output["entities"][0]["ref"], "system:default/shop");
    assert_eq!(output["entities"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn call_input_can_come_from_stdin() {
    let run = run_with_stdin(
        &[
            "call",
            "get_catalog_entity",
            "--input",
            "-",
            "--subject",
            "catalog-reader",
            "-c",
            EXAMPLE_CONFIG,
        ],
        &ENV,
        r#"{"entity_ref": "system:default/shop"}"#,
    )
    .await;
    run.assert_code(0);
    assert_eq!(run.json()["title"], "Web Shop");
}

#[tokio::test]
async fn action_errors_print_name_and_message_and_exit_with_1() {
    let cases = [
        // The policy: readers may not create.
        (
            vec![
                "call",
                "create_catalog_entity",
                "--subject",
                "catalog-reader",
                "--input",
                r#"{"kind": "component", "name": "x", "owner": "group:default/a"}"#,
            ],
            "NotAllowedError: permission `catalog.entity.create` (create) is required to call `create_catalog_entity`",
        ),
        // Resource-level checks inside the action: readers may delete only in `sandbox`
        // (`--yes` confirms the deletion, which asks the user first).
        (
            vec![
                "call",
                "delete_catalog_entity",
                "--yes",
                "--subject",
                "catalog-reader",
                "--input",
                r#"{"entity_ref": "component:default/website"}"#,
            ],
            "NotAllowedError: permission `catalog.entity.delete` (delete) is required for component:default/website",
        ),
        // Without `--yes` and without a terminal to ask on, the deletion is not confirmed.
        (
            vec![
                "call",
                "delete_catalog_entity",
                "--subject",
                "catalog-admin",
                "--input",
                r#"{"entity_ref": "component:default/website"}"#,
            ],
            "NotAllowedError: this action needs the user's confirmation and there is no terminal to ask on: run `call` in a terminal, or pass --yes to confirm",
        ),
        (
            vec![
                "call",
                "get_catalog_entity",
                "--subject",
                "catalog-admin",
                "--input",
                r#"{"entity_ref": "component:default/nope"}"#,
            ],
            "NotFoundError:",
        ),
        // Input validation names the field.
        (
            vec![
                "call",
                "get_catalog_entity",
                "--subject",
                "catalog-admin",
                "--input",
                r#"{"entityRef": "component:default/website"}"#,
            ],
            "InputError: invalid input at `entityRef`",
        ),
        // A user the policy does not know.
        (
            vec![
                "call",
                "list_catalog_entities",
                "--user",
                "user:default/jane",
            ],
            "NotAllowedError:",
        ),
    ];
    for (mut args, expected) in cases {
        args.extend(["-c", EXAMPLE_CONFIG]);
        let run = exec(&args, &ENV).await;
        run.assert_code(1);
        assert!(run.stdout.is_empty(), "{args:?}: {}", run.stdout);
        let last = run.stderr.lines().last().unwrap_or_default();
        assert!(last.starts_with(expected), "{args:?}:\n{}", run.stderr);
    }
}

#[tokio::test]
async fn call_applies_the_access_restrictions_of_the_subjects_token() {
    let restricted = TempConfig::new(
        "restricted",
        "backend:\n  auth:\n    externalAccess:\n      - type: static\n        options: { token: elsewhere-token-1, subject: elsewhere }\n        accessRestrictions: [ { plugin: scaffolder } ]\n",
    );
    let run = exec(
        &[
            "call",
            "list_catalog_entities",
            "--subject",
            "elsewhere",
            "-c",
            restricted.path(),
        ],
        &[],
    )
    .await;
    run.assert_code(1);
    assert!(
        run.stderr.contains(
            "NotAllowedError: this token's access is restricted to other plugins; action `list_catalog_entities` belongs to plugin `catalog`"
        ),
        "{}",
        run.stderr
    );
}

/// `serve --stdio` started by hand (its stderr is the terminal) from a client that cannot ask
/// the user: the confirmation of a deletion is asked on the controlling terminal, and the
/// answer decides. With its stderr captured (as clients that start servers do), nothing is
/// asked there: the configured refusal. `tests/tty-client.py` gives the server a
/// pseudo-terminal and speaks MCP on pipes.
#[tokio::test]
async fn serve_stdio_asks_on_the_terminal_when_the_client_cannot() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/tty-client.py");
    for answer in ["y", "n", "-"] {
        let run = Command::new("python3")
            .args([script, BIN, answer])
            .envs(ENV)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output();
        let out = tokio::time::timeout(TIMEOUT, run)
            .await
            .expect("tty-client.py finished in time")
            .expect("python3 runs");
        assert!(
            out.status.success(),
            "tty-client.py {answer}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
        let terminal = summary["terminal"].as_str().unwrap();
        let deleted = &summary["deleted"];
        let after = &summary["after"];
        let text = deleted["content"][0]["text"].as_str().unwrap_or_default();
        match answer {
            "y" => {
                assert!(
                    terminal.contains("Delete component:default/website from the catalog? [y/N]"),
                    "{summary}"
                );
                assert_eq!(deleted["isError"], false, "{summary}");
                assert_eq!(after["isError"], true, "deleted: {summary}");
            }
            "n" => {
                assert!(terminal.contains("[y/N]"), "{summary}");
                assert_eq!(text, "NotAllowedError: declined by the user", "{summary}");
                assert_eq!(after["isError"], false, "still there: {summary}");
            }
            _ => {
                assert!(!terminal.contains("[y/N]"), "{summary}");
                assert!(
                    text.starts_with("NotAllowedError: this action needs the user's confirmation"),
                    "{summary}"
                );
                assert_eq!(after["isError"], false, "still there: {summary}");
            }
        }
    }
}

#[tokio::test]
async fn call_usage_errors_exit_with_2() {
    let operator = TempConfig::new("call-usage", OPERATOR);
    for (args, expected) in [
        (
            vec!["call", "get_catalog_entity", "--input", "{"],
            "error: --input is not valid JSON",
        ),
        (
            vec!["call", "get_catalog_entity", "--input", "[1]"],
            "error: --input must be a JSON object",
        ),
        (
            vec!["call", "get_catalog_entity", "--user", "jane"],
            "error: --user must be a user entity ref like `user:default/jane`",
        ),
        (
            vec!["call", "no_such_action"],
            "error: there is no action `no_such_action` in this binary",
        ),
        (
            vec!["call", "delete_catalog_entity", "-c", operator.path()],
            "error: action `catalog:delete_catalog_entity` is not exposed by this server (excluded by exclude[0] (id `*:delete_*`))",
        ),
    ] {
        let run = exec(&args, &ENV).await;
        run.assert_code(2);
        assert!(run.stderr.contains(expected), "{args:?}:\n{}", run.stderr);
    }
}

#[tokio::test]
async fn token_prints_a_fresh_random_token_alone() {
    let first = exec(&["token"], &[]).await;
    first.assert_code(0);
    let second = exec(&["token"], &[]).await;
    let token = first.stdout.strip_suffix('\n').expect("one line");
    assert_eq!(token.len(), 32, "24 bytes in base64: {token}");
    assert!(
        token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "{token}"
    );
    assert!(first.stderr.is_empty(), "{}", first.stderr);
    assert_ne!(first.stdout, second.stdout);
}

#[tokio::test]
async fn config_check_prints_the_effective_config_with_secrets_masked() {
    let operator = TempConfig::new("check", OPERATOR);
    let run = exec(
        &[
            "config",
            "check",
            "-c",
            EXAMPLE_CONFIG,
            "-c",
            operator.path(),
        ],
        &ENV,
    )
    .await;
    run.assert_code(0);
    for secret in [READER, ADMIN] {
        assert!(!run.stdout.contains(secret), "{}", run.stdout);
        assert!(!run.stderr.contains(secret), "{}", run.stderr);
    }
    for expected in [
        "        token: '***'\n",
        "        subject: catalog-reader\n",
        "  namespacedToolNames: true\n",
        "    read-only:\n",
        // Defaults are filled in.
        "    port: 7007\n",
        "    actionTimeoutSeconds: 30\n",
        // The application's own sections are kept.
        "  policy:\n",
    ] {
        assert!(
            run.stdout.contains(expected),
            "{expected:?} in:\n{}",
            run.stdout
        );
    }
    assert_eq!(
        run.stderr.lines().collect::<Vec<_>>(),
        [
            "warning: backend.actions.pluginSources entry `scaffolder` has no actions in this binary",
            "the configuration is valid: 3 of 4 actions exposed at /api/mcp-actions/v1, 2 at /api/mcp-actions/v1/read-only; 1 warning",
        ]
    );

    let run = exec(
        &["config", "check", "--format", "json", "-c", EXAMPLE_CONFIG],
        &ENV,
    )
    .await;
    run.assert_code(0);
    let effective = run.json();
    assert_eq!(
        effective["backend"]["auth"]["externalAccess"][1]["options"],
        json!({"token": "***", "subject": "catalog-admin"})
    );
    assert_eq!(effective["mcpActions"]["name"], "catalog");
}

#[tokio::test]
async fn config_check_without_tokens_says_where_the_token_comes_from() {
    let run = exec(&["config", "check"], &[("MCP_TOKEN", "from-the-env-1")]).await;
    run.assert_code(0);
    assert!(!run.stdout.contains("from-the-env-1"));
    assert!(
        run.stderr.contains(
            "note: no `backend.auth.externalAccess` is configured: the server accepts the token in MCP_TOKEN"
        ),
        "{}",
        run.stderr
    );
    let run = exec(&["config", "check"], &[]).await;
    run.assert_code(0);
    assert!(
        run.stderr
            .contains("the server generates a token on every start"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn config_check_says_where_opentelemetry_exports_to() {
    let run = exec(
        &["config", "check"],
        &[(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "https://collector:hunter2@otel.internal:4318",
        )],
    )
    .await;
    run.assert_code(0);
    assert!(
        run.stderr.contains(
            "note: OpenTelemetry export is on (OTEL_* variables): traces to https://otel.internal:4318, metrics to https://otel.internal:4318"
        ),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("hunter2"), "{}", run.stderr);
    let run = exec(
        &["config", "check"],
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://otel.internal:4317"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ],
    )
    .await;
    run.assert_code(0);
    assert!(
        run.stderr.contains(
            "warning: OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not supported: this server exports OTLP over HTTP"
        ) && run.stderr.contains("`serve` will not start"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn an_invalid_config_exits_with_2_naming_the_key() {
    for (yaml, key) in [
        (
            "mcpActions:\n  servers:\n    Ops:\n      name: x\n",
            "`mcpActions.servers.Ops`",
        ),
        (
            "backend:\n  actions:\n    filter:\n      include: [ { id: 'catalog:*', attribute: {} } ]\n",
            "`backend.actions.filter.include[0].attribute`",
        ),
        (
            "backend:\n  actions:\n    filter:\n      exclude: [ { id: 'catalog:[' } ]\n",
            "`backend.actions.filter.exclude[0].id`",
        ),
        // The catalog's own section, read by its setup function.
        (
            "catalog:\n  policy:\n    rules: [ { principals: ['*'], permission: [x] } ]\n",
            "`catalog.policy.rules[0].permission`",
        ),
    ] {
        let config = TempConfig::new("invalid", yaml);
        for command in [&["config", "check"][..], &["list"], &["serve"], &[]] {
            let mut args = command.to_vec();
            args.extend(["-c", config.path()]);
            let run = exec(&args, &[]).await;
            run.assert_code(2);
            assert!(run.stdout.is_empty(), "{args:?}: {}", run.stdout);
            assert!(
                run.stderr.contains("error: ") && run.stderr.contains(key),
                "{args:?}: {}",
                run.stderr
            );
        }
    }
    let run = exec(
        &["config", "check", "-c", "/nonexistent/app-config.yaml"],
        &[],
    )
    .await;
    run.assert_code(2);
    assert!(
        run.stderr.contains("/nonexistent/app-config.yaml"),
        "{}",
        run.stderr
    );
}

/// Starts `catalog <args>` with a config on an ephemeral port and returns the child, the base
/// URL (read from the first "serving MCP actions" log line) and the log up to the line that
/// follows the last endpoint's.
async fn start_server(args: &[&str], env: &[(&str, &str)]) -> (Child, String, Vec<String>) {
    let mut child = command(args, env).spawn().expect("spawn the server");
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let mut seen = Vec::new();
    let base = tokio::time::timeout(TIMEOUT, async {
        let mut base = None;
        while let Some(line) = lines.next_line().await.unwrap() {
            seen.push(line.clone());
            if line.contains("serving MCP actions")
                && base.is_none()
                && let Some(start) = line.find("http://127.0.0.1:")
            {
                let rest = &line[start..];
                let end = rest.find("/api/").unwrap();
                base = Some(rest[..end].to_owned());
            }
            if line.contains("accepting these Host headers") {
                return base.expect("the endpoints are logged first");
            }
        }
        panic!("the server exited before serving:\n{}", seen.join("\n"))
    })
    .await
    .expect("the server starts in time");
    // Keep draining stderr so the child never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, base, seen)
}

/// One HTTP/1.1 request over a plain TCP connection; returns the status line and the body.
async fn http(
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (String, String) {
    let authority = base.strip_prefix("http://").unwrap();
    let mut stream = tokio::net::TcpStream::connect(authority).await.unwrap();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    tokio::time::timeout(TIMEOUT, stream.read_to_string(&mut response))
        .await
        .expect("answered in time")
        .unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    (
        head.lines().next().unwrap_or_default().to_owned(),
        body.to_owned(),
    )
}

async fn tools_list(base: &str, path: &str, token: &str) -> (String, String) {
    http(
        base,
        "POST",
        path,
        &[
            ("Authorization", &format!("Bearer {token}")),
            ("Content-Type", "application/json"),
            ("Accept", "application/json, text/event-stream"),
            ("MCP-Protocol-Version", "2025-11-25"),
        ],
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
    )
    .await
}

#[cfg(unix)]
async fn terminate(child: Child) -> (ExitStatus, ()) {
    let pid = child.id().expect("running").to_string();
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("run kill");
    assert!(kill.success());
    let mut child = child;
    let status = tokio::time::timeout(TIMEOUT, child.wait())
        .await
        .expect("the server stops in time")
        .unwrap();
    (status, ())
}

#[cfg(unix)]
#[tokio::test]
async fn serving_is_the_default_and_sigterm_stops_it_cleanly() {
    let operator = TempConfig::new("serve", OPERATOR);
    let ephemeral = TempConfig::new("serve-port", "backend:\n  listen: { port: 0 }\n");
    for command in [&[][..], &["serve"]] {
        let mut args = command.to_vec();
        args.extend([
            "--config",
            EXAMPLE_CONFIG,
            "-c",
            operator.path(),
            "-c",
            ephemeral.path(),
        ]);
        let (child, base, log) = start_server(&args, &[ENV[0], ENV[1], ("RUST_LOG", "info")]).await;
        assert!(
            log.iter()
                .any(|l| l.contains("/api/mcp-actions/v1/read-only")),
            "the named server is announced: {log:?}"
        );

        let (status, body) = tools_list(&base, "/api/mcp-actions/v1", ADMIN).await;
        assert!(status.ends_with("200 OK"), "{status} {body}");
        assert!(body.contains("\"catalog__get_catalog_entity\""), "{body}");
        assert!(!body.contains("delete_catalog_entity"), "filtered: {body}");
        let (status, body) = tools_list(&base, "/api/mcp-actions/v1/read-only", ADMIN).await;
        assert!(status.ends_with("200 OK"), "{status} {body}");
        assert!(!body.contains("create_catalog_entity"), "{body}");
        let (status, _) = tools_list(&base, "/api/mcp-actions/v1", "wrong-token-1").await;
        assert!(status.ends_with("401 Unauthorized"), "{status}");
        let (status, body) = http(
            &base,
            "GET",
            "/.well-known/oauth-protected-resource/api/mcp-actions/v1/read-only",
            &[],
            "",
        )
        .await;
        assert!(status.ends_with("200 OK"), "{status}");
        assert!(
            body.contains(&format!(
                "\"resource\":\"{base}/api/mcp-actions/v1/read-only\""
            )),
            "{body}"
        );

        let (status, ()) = terminate(child).await;
        assert_eq!(status.code(), Some(0), "a clean stop");
    }
}

#[tokio::test]
async fn a_taken_port_exits_with_1() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let config = TempConfig::new(
        "taken",
        &format!("backend:\n  listen: {{ port: {port} }}\n"),
    );
    let run = exec(
        &["serve", "-c", config.path()],
        &[("MCP_TOKEN", "some-token-1")],
    )
    .await;
    run.assert_code(1);
    assert!(
        run.stderr
            .contains(&format!("error: cannot listen on 127.0.0.1:{port}")),
        "{}",
        run.stderr
    );
    drop(taken);
}

#[cfg(unix)]
#[tokio::test]
async fn port_and_host_come_from_the_command_line_or_port() {
    // `--port 0` over the example's 7007, and `PORT` the same way.
    for (args, env) in [
        (
            &[
                "serve",
                "-c",
                EXAMPLE_CONFIG,
                "--port",
                "0",
                "--host",
                "127.0.0.1",
            ][..],
            vec![ENV[0], ENV[1], ("RUST_LOG", "info")],
        ),
        (
            &["serve", "-c", EXAMPLE_CONFIG],
            vec![ENV[0], ENV[1], ("RUST_LOG", "info"), ("PORT", "0")],
        ),
        // Serving is the default command, `PORT` included.
        (
            &["-c", EXAMPLE_CONFIG],
            vec![ENV[0], ENV[1], ("RUST_LOG", "info"), ("PORT", "0")],
        ),
    ] {
        let (child, base, _) = start_server(args, &env).await;
        assert_ne!(base, "http://127.0.0.1:7007", "{args:?} {env:?}");
        let (status, _) = tools_list(&base, "/api/mcp-actions/v1", ADMIN).await;
        assert!(status.ends_with("200 OK"), "{status}");
        let (status, ()) = terminate(child).await;
        assert_eq!(status.code(), Some(0));
    }
    // A taken port names the flag that changes it.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let run = exec(
        &["serve", "--port", &port],
        &[("MCP_TOKEN", "some-token-1")],
    )
    .await;
    run.assert_code(1);
    assert!(run.stderr.contains("--port"), "{}", run.stderr);
}

#[cfg(unix)]
#[tokio::test]
async fn serve_prints_the_snippet_of_the_client_asked_for() {
    let (child, base, log) = start_server(
        &["serve", "--port", "0", "--client", "all"],
        &[("RUST_LOG", "info")],
    )
    .await;
    let log = log.join("\n");
    let url = format!("{base}/api/mcp-actions/v1");
    assert!(
        log.contains(&format!(
            "claude mcp add --transport http catalog {url} --header \"Authorization: Bearer "
        )),
        "{log}"
    );
    for heading in [
        "Cursor (~/.cursor/mcp.json)",
        "VS Code (.vscode/mcp.json)",
        "Claude Desktop",
    ] {
        assert!(log.contains(heading), "{heading} in {log}");
    }
    assert!(log.contains("\"type\": \"http\""), "{log}");
    terminate(child).await;
}

#[tokio::test]
async fn a_closed_pipe_ends_a_command_quietly() {
    for args in [
        &["list", "-c", EXAMPLE_CONFIG][..],
        &["list", "--format", "json", "-c", EXAMPLE_CONFIG],
        &["schema", "get_catalog_entity", "-c", EXAMPLE_CONFIG],
    ] {
        let mut child = command(args, &ENV).spawn().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).await.unwrap();
        assert!(!first.is_empty(), "{args:?}");
        drop(stdout); // like `| head -n 1`
        let run = finish(child).await;
        assert!(
            !run.stderr.contains("panicked") && !run.stderr.contains("Broken pipe"),
            "{args:?}: {}",
            run.stderr
        );
        assert!(
            matches!(run.code, Some(0)),
            "{args:?}: {:?} {}",
            run.code,
            run.stderr
        );
    }
}

#[tokio::test]
async fn commands_that_serve_nothing_need_no_serving_secrets() {
    // No CATALOG_*_TOKEN in the environment.
    exec(&["list", "-c", EXAMPLE_CONFIG], &[])
        .await
        .assert_code(0);
    exec(&["schema", "get_catalog_entity", "-c", EXAMPLE_CONFIG], &[])
        .await
        .assert_code(0);
    let run = exec(&["config", "check", "-c", EXAMPLE_CONFIG], &[]).await;
    run.assert_code(0);
    assert!(
        run.stderr
            .contains("note: environment variable `CATALOG_READER_TOKEN` is not set")
            && run.stderr.contains("`serve` needs it"),
        "{}",
        run.stderr
    );
    // Serving does need them.
    let run = exec(&["serve", "-c", EXAMPLE_CONFIG, "--port", "0"], &[]).await;
    run.assert_code(2);
    assert!(
        run.stderr.contains("CATALOG_READER_TOKEN"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn a_call_refused_for_the_default_caller_names_it() {
    let run = exec(
        &[
            "call",
            "get_catalog_entity",
            "--input",
            r#"{"name": "x"}"#,
            "-c",
            EXAMPLE_CONFIG,
        ],
        &[],
    )
    .await;
    run.assert_code(1);
    assert!(
        run.stderr.starts_with("NotAllowedError: "),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("the caller was `service:cli`") && run.stderr.contains("--subject"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn a_typo_under_backend_auth_is_an_error_naming_the_key() {
    let config = TempConfig::new(
        "auth-typo",
        "backend:\n  auth:\n    externalAcess:\n      - type: static\n        options: { token: abcdefgh1, subject: a }\n",
    );
    let run = exec(&["config", "check", "-c", config.path()], &[]).await;
    run.assert_code(2);
    assert!(
        run.stderr.contains("backend.auth.externalAcess"),
        "{}",
        run.stderr
    );
    // Backstage's own keys of the section still load.
    let config = TempConfig::new(
        "auth-keys",
        "backend:\n  auth:\n    keys: [ { secret: abc } ]\n",
    );
    exec(&["config", "check", "-c", config.path()], &[])
        .await
        .assert_code(0);
}

#[tokio::test]
async fn version_names_this_binary() {
    let run = exec(&["--version"], &[]).await;
    run.assert_code(0);
    assert_eq!(
        run.stdout,
        format!("catalog {}\n", env!("CARGO_PKG_VERSION"))
    );
}

/// A config accepting JWTs of `idp` (audience: this server's URL under `baseUrl`), requiring
/// the scope `mcp`, and the catalog's write actions needing `catalog.write`.
fn jwt_config(idp: &mcp_actions_tests::idp::TestIdp) -> String {
    format!(
        r#"
backend:
  baseUrl: https://mcp.example.com
  auth:
    externalAccess:
      - type: jwks
        options: {{ url: "{}", issuer: "{}", subjectPrefix: acme }}
mcpActions:
  auth:
    requiredScopes: [mcp]
    actionScopes:
      - {{ attributes: {{ readOnly: false }}, scopes: [catalog.write] }}
"#,
        idp.jwks_url, idp.issuer
    )
}

const AUDIENCE: &str = "https://mcp.example.com/api/mcp-actions/v1";

#[tokio::test]
async fn token_verify_explains_a_jwt_or_the_one_reason_it_is_refused() {
    use mcp_actions_tests::idp::{TestIdp, now};
    let idp = TestIdp::start().await;
    let config = TempConfig::new("token-verify", &jwt_config(&idp));
    let verify = |token: String| {
        let config = config.path().to_owned();
        async move { run_with_stdin(&["--config", &config, "token", "verify", "-"], &[], &token).await }
    };
    let reader = verify(idp.token(&idp.claims(AUDIENCE, "mcp"))).await;
    reader.assert_code(0);
    for line in [
        "caller: service:external:acme:svc-client\n",
        &format!("kind: JWT of {}\n", idp.issuer),
        "scopes: mcp\n",
        "access restrictions: none\n",
        "  get_catalog_entity (catalog:get_catalog_entity)\n",
    ] {
        assert!(
            reader.stdout.contains(line),
            "{line:?} in\n{}",
            reader.stdout
        );
    }
    assert!(
        !reader.stdout.contains("delete_catalog_entity"),
        "{}",
        reader.stdout
    );
    let writer = verify(idp.token(&idp.claims(AUDIENCE, "mcp catalog.write"))).await;
    writer.assert_code(0);
    assert!(
        writer.stdout.contains("delete_catalog_entity"),
        "{}",
        writer.stdout
    );

    let mut expired = idp.claims(AUDIENCE, "mcp");
    expired["exp"] = json!(now() - 185);
    let refused = verify(idp.token(&expired)).await;
    refused.assert_code(1);
    assert!(
        refused
            .stderr
            .ends_with("error: the token is refused: the token expired 3 min ago\n"),
        "{}",
        refused.stderr
    );
    let refused = verify(idp.token(&idp.claims("https://other.example/mcp", "mcp"))).await;
    refused.assert_code(1);
    assert!(
        refused.stderr.contains(&format!(
            "audience https://other.example/mcp is not this server's (accepted: {AUDIENCE})"
        )),
        "{}",
        refused.stderr
    );
    let refused = verify(idp.token(&idp.claims(AUDIENCE, "catalog.write"))).await;
    refused.assert_code(1);
    assert!(
        refused
            .stderr
            .contains("it lacks the scope(s) mcp that mcpActions.auth.requiredScopes requires"),
        "{}",
        refused.stderr
    );
    let refused = verify("not-a-token".into()).await;
    refused.assert_code(1);
    assert!(
        refused.stderr.contains("dot-separated parts"),
        "{}",
        refused.stderr
    );
}

#[tokio::test]
async fn token_verify_of_a_static_token_names_its_caller_and_restrictions() {
    let run = exec(
        &["--config", EXAMPLE_CONFIG, "token", "verify", READER],
        &ENV,
    )
    .await;
    run.assert_code(0);
    assert!(run.stdout.contains("kind: static token"), "{}", run.stdout);
    assert!(run.stdout.contains("may call"), "{}", run.stdout);
    assert!(!run.stdout.contains(READER) && !run.stderr.contains(READER));
}

#[tokio::test]
async fn config_check_warns_when_the_signing_keys_cannot_be_fetched() {
    use mcp_actions_tests::idp::{JwksMode, TestIdp};
    let idp = TestIdp::start().await;
    idp.set_mode(JwksMode::Down);
    let config = TempConfig::new("jwks-down", &jwt_config(&idp));
    let run = exec(&["--config", config.path(), "config", "check"], &[]).await;
    run.assert_code(0);
    assert!(
        run.stderr
            .contains("the signing keys of a `type: jwks` entry cannot be fetched now")
            && run.stderr.contains("503"),
        "{}",
        run.stderr
    );
    idp.set_mode(JwksMode::Normal);
    let run = exec(&["--config", config.path(), "config", "check"], &[]).await;
    run.assert_code(0);
    assert!(!run.stderr.contains("cannot be fetched"), "{}", run.stderr);
}
