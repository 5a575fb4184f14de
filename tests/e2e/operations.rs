//! What operators run the server with: `/healthz` and `/readyz` (503 while draining), the admin
//! listener's `/metrics`, and the audit trail.

use mcp_actions_server::ActionsServer;
use mcp_actions_tests::prelude::*;
use serde_json::{Value, json};

use crate::setup::*;

pub(crate) use mcp_actions_tests::real::{free_port, real_part};

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

/// Reads the audit file of a stopped server: one JSON object per line.
pub(super) fn audit_events(file: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

pub(super) fn audit_file(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("mcp-actions-audit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(name);
    let _ = std::fs::remove_file(&file);
    file
}

#[tokio::test]
async fn every_call_and_list_is_audited_once_with_its_outcome_and_no_arguments() {
    let file = audit_file("calls.jsonl");
    let server = TestServer::start(server_with(&format!(
        "mcpActions:\n  audit:\n    file: {}\n",
        file.display()
    )))
    .await;
    let calls = [
        (
            FULL_TOKEN,
            "e2e_echo",
            json!({ "message": "secret-argument-77", "options": { "loud": false } }),
        ),
        (FULL_TOKEN, "e2e_fail", json!({ "error": "InputError" })),
        (FULL_TOKEN, "e2e_explode", json!({})),
        (FULL_TOKEN, "no_such_tool", json!({})),
        // Hidden from this token (its plugin is outside the restriction): like an unknown tool.
        (RESTRICTED_TOKEN, "e2e_other_plugin", json!({})),
    ];
    for (token, tool, arguments) in &calls {
        post(
            &server.endpoint,
            Some(token),
            &call_request(1, tool, arguments.clone()),
        )
        .await;
    }
    post(
        &server.endpoint,
        Some(FULL_TOKEN),
        &rpc(2, "tools/list", None),
    )
    .await;
    server.stop().await.unwrap();
    let events = audit_events(&file);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains("secret-argument-77"), "{text}");
    assert!(!text.contains(FULL_TOKEN), "{text}");
    let executions: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "mcp-actions.tool-execution")
        .collect();
    assert_eq!(executions.len(), calls.len(), "{text}");
    let summary: Vec<(String, String, String)> = executions
        .iter()
        .map(|e| {
            (
                e["target"]["tool"].as_str().unwrap().to_owned(),
                e["outcome"].as_str().unwrap().to_owned(),
                e["error"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let expected = [
        ("e2e_echo", "succeeded", ""),
        ("e2e_fail", "failed", "InputError"),
        ("e2e_explode", "failed", "InternalError"),
        ("no_such_tool", "failed", "NotFoundError"),
        ("e2e_other_plugin", "failed", "NotFoundError"),
    ];
    assert_eq!(
        summary,
        expected
            .iter()
            .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
            .collect::<Vec<_>>()
    );
    let echo = executions[0];
    assert_eq!(echo["actor"]["principal"], "service:mcp-clients");
    assert_eq!(echo["actor"]["authentication"], "token");
    assert_eq!(echo["target"]["actionId"], "e2e:e2e_echo");
    assert!(echo["durationMs"].as_f64().unwrap() >= 0.0);
    assert!(echo.get("arguments").is_none());
    // The internal error's reference id, as the client got it.
    assert!(
        executions[2]["referenceId"]
            .as_str()
            .is_some_and(|r| !r.is_empty()),
        "{}",
        executions[2]
    );
    // A hidden action is not named to the audit reader either way: no action id.
    assert!(executions[4]["target"].get("actionId").is_none());
    let discoveries: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "mcp-actions.tool-discovery")
        .collect();
    assert_eq!(discoveries.len(), 1, "{text}");
    assert_eq!(discoveries[0]["outcome"], "succeeded");
}

#[tokio::test]
async fn arguments_are_audited_only_when_asked_and_then_redacted() {
    let file = audit_file("arguments.jsonl");
    let server = TestServer::start(server_with(&format!(
        "mcpActions:\n  audit:\n    file: {}\n    arguments: true\n",
        file.display()
    )))
    .await;
    post(
        &server.endpoint,
        Some(FULL_TOKEN),
        &call_request(
            1,
            "e2e_echo",
            json!({ "message": "hello", "options": { "loud": true }, "apiToken": "tok-123456" }),
        ),
    )
    .await;
    server.stop().await.unwrap();
    let events = audit_events(&file);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains("tok-123456"), "{text}");
    assert_eq!(
        events[0]["arguments"],
        json!({ "message": "hello", "options": { "loud": true }, "apiToken": "***" })
    );
}

#[tokio::test]
async fn the_operation_histogram_counts_calls_by_tool_and_error_type() {
    let port = free_port();
    let server = TestServer::start(server_with(&format!(
        "mcpActions:\n  admin:\n    listen: {{ host: 127.0.0.1, port: {port} }}\n"
    )))
    .await;
    for _ in 0..3 {
        let arguments = json!({ "message": "m", "options": { "loud": false } });
        post(
            &server.endpoint,
            Some(FULL_TOKEN),
            &call_request(1, "e2e_echo", arguments),
        )
        .await;
    }
    post(
        &server.endpoint,
        Some(FULL_TOKEN),
        &call_request(1, "e2e_fail", json!({ "error": "NotFoundError" })),
    )
    .await;
    post(
        &server.endpoint,
        Some(FULL_TOKEN),
        &call_request(1, "nope", json!({})),
    )
    .await;
    let text = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "mcp_server_operation_duration_seconds_count{mcp_method_name=\"tools/call\",gen_ai_tool_name=\"e2e_echo\",error_type=\"\",mcp_protocol_version=\"2025-11-25\",server=\"default\"} 3",
        "mcp_server_operation_duration_seconds_count{mcp_method_name=\"tools/call\",gen_ai_tool_name=\"e2e_fail\",error_type=\"tool_error\",mcp_protocol_version=\"2025-11-25\",server=\"default\"} 1",
        "mcp_server_operation_duration_seconds_count{mcp_method_name=\"tools/call\",gen_ai_tool_name=\"nope\",error_type=\"-32602\",mcp_protocol_version=\"2025-11-25\",server=\"default\"} 1",
    ] {
        assert!(text.contains(line), "{line}\nin\n{text}");
    }
}

/// A real Prometheus (Debian's `prometheus`, installed by `.ci/run`) scrapes the admin
/// listener every second, and a PromQL query through its HTTP API counts the calls per tool
/// and error type this test made.
#[tokio::test]
async fn prometheus_scrapes_the_calls_per_tool_and_error_type() {
    let Some(prometheus) = real_part("prometheus") else {
        return;
    };
    let admin_port = free_port();
    let server = TestServer::start(server_with(&format!(
        "mcpActions:\n  admin:\n    listen: {{ host: 127.0.0.1, port: {admin_port} }}\n"
    )))
    .await;
    let dir = std::env::temp_dir().join(format!("mcp-actions-prometheus-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("prometheus.yml"),
        format!(
            "global: {{ scrape_interval: 1s, evaluation_interval: 1s }}\n\
             scrape_configs:\n  - job_name: mcp-actions\n    static_configs: [ {{ targets: ['127.0.0.1:{admin_port}'] }} ]\n"
        ),
    )
    .unwrap();
    let web_port = free_port();
    let _prometheus = tokio::process::Command::new(prometheus)
        .arg(format!(
            "--config.file={}",
            dir.join("prometheus.yml").display()
        ))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{web_port}"))
        .arg("--log.level=warn")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start prometheus");
    let web = format!("http://127.0.0.1:{web_port}");
    eventually("Prometheus to be ready", || async {
        let response = reqwest::get(format!("{web}/-/ready")).await.ok()?;
        response.status().is_success().then_some(())
    })
    .await;
    for _ in 0..4 {
        let arguments = json!({ "message": "m", "options": { "loud": false } });
        post(
            &server.endpoint,
            Some(FULL_TOKEN),
            &call_request(1, "e2e_echo", arguments),
        )
        .await;
    }
    for _ in 0..2 {
        let arguments = json!({ "error": "ConflictError" });
        post(
            &server.endpoint,
            Some(FULL_TOKEN),
            &call_request(1, "e2e_fail", arguments),
        )
        .await;
    }
    let query = "sum by (gen_ai_tool_name, error_type) (mcp_server_operation_duration_seconds_count{mcp_method_name=\"tools/call\"})";
    let counts = eventually("Prometheus to have scraped the calls", || async {
        let response = reqwest::Client::new()
            .get(format!("{web}/api/v1/query"))
            .query(&[("query", query)])
            .send()
            .await
            .ok()?;
        let body: Value = response.json().await.ok()?;
        let mut counts: Vec<(String, String, String)> = body["data"]["result"]
            .as_array()?
            .iter()
            .map(|series| {
                (
                    series["metric"]["gen_ai_tool_name"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    series["metric"]["error_type"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    series["value"][1].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        counts.sort();
        (counts.len() == 2 && counts.iter().all(|c| c.2 != "0")).then_some(counts)
    })
    .await;
    assert_eq!(
        counts,
        [
            ("e2e_echo".to_owned(), String::new(), "4".to_owned()),
            (
                "e2e_fail".to_owned(),
                "tool_error".to_owned(),
                "2".to_owned()
            ),
        ]
    );
    let _ = std::fs::remove_dir_all(&dir);
}
