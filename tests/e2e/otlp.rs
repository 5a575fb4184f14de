//! OpenTelemetry export: the greet-user binary, started with the standard `OTEL_*` variables
//! pointing at a loopback OTLP receiver, exports a SERVER span per request following the MCP
//! semantic conventions (parent from the caller's `traceparent`, the action's span its child)
//! and the `mcp.server.operation.duration` histogram; an unsupported setting stops it at
//! start-up with the way out.

use std::process::Stdio;

use mcp_actions_tests::otlp::{
    ExportedSpan, OtlpReceiver, attribute, histogram_points, sum_points,
};
use mcp_actions_tests::prelude::*;
use serde_json::json;
use tokio::process::Command;

use crate::operations::free_port;
use crate::replicas::greet_user_binary;

const TOKEN: &str = "otlp-token-12345";
/// The caller's traces, as W3C `traceparent` values: one sent in the HTTP header, one in
/// `_meta` (2026-07-28, the direct path), one in `_meta` of a 2025-11-25 request (through rmcp).
const HEADER_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const HEADER_PARENT: &str = "00f067aa0ba902b7";
const META_TRACE: &str = "0af7651916cd43dd8448eb211c80319c";
const META_PARENT: &str = "b7ad6b7169203331";
const RMCP_TRACE: &str = "5c1c63257de34c67a9c2f2f9b8e6a1d0";
const RMCP_PARENT: &str = "aa00bb11cc22dd33";
/// An argument value that must not reach any span.
const SECRET_NAME: &str = "Ada-not-in-traces";

fn traceparent(trace: &str, parent: &str) -> String {
    format!("00-{trace}-{parent}-01")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Starts greet-user on `port` with `env`, or `None` when the binary is not built (outside CI).
fn greet_user(port: u16, env: &[(&str, &str)]) -> Option<Command> {
    let binary = greet_user_binary()?;
    let dir = std::env::temp_dir().join(format!("mcp-actions-otlp-{port}"));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "backend:\n  listen: {{ host: 127.0.0.1, port: {port} }}\n  auth:\n    externalAccess:\n      \
             - type: static\n        options: {{ token: {TOKEN}, subject: tracer }}\n\
             mcpActions:\n  audit:\n    enabled: false\n"
        ),
    )
    .unwrap();
    let mut command = Command::new(binary);
    command
        .args(["--config", config.to_str().unwrap(), "serve"])
        .env_clear()
        // The log level does not decide what is exported.
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .kill_on_drop(true);
    Some(command)
}

#[tokio::test]
async fn spans_and_the_duration_histogram_reach_an_otlp_collector() {
    let receiver = OtlpReceiver::start().await;
    let port = free_port();
    let Some(mut command) = greet_user(
        port,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.endpoint),
            ("OTEL_SERVICE_NAME", "greet-test"),
            // Export every 50 ms rather than every 5 s / 60 s.
            ("OTEL_BSP_SCHEDULE_DELAY", "50"),
            ("OTEL_METRIC_EXPORT_INTERVAL", "100"),
        ],
    ) else {
        return;
    };
    let _server = command
        .stderr(Stdio::null())
        .spawn()
        .expect("start greet-user");
    let endpoint = format!("http://127.0.0.1:{port}/api/mcp-actions/v1");
    eventually("greet-user to be ready", || async {
        let response = reqwest::get(format!("http://127.0.0.1:{port}/readyz"))
            .await
            .ok()?;
        response.status().is_success().then_some(())
    })
    .await;

    // 2025-11-25 on the direct path, the caller's trace in the `traceparent` header.
    let mut headers = standard_headers(TOKEN);
    headers.push(("traceparent", traceparent(HEADER_TRACE, HEADER_PARENT)));
    let body = call_request(1, "greet_user", json!({ "name": SECRET_NAME }));
    let reply = send(&endpoint, &headers, body.to_string()).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    // 2026-07-28 on the direct path, the trace in `_meta`.
    let mut body = call_request_2026(2, "greet_user", json!({ "name": SECRET_NAME }));
    body["params"]["_meta"]["traceparent"] = json!(traceparent(META_TRACE, META_PARENT));
    let headers = headers_2026(TOKEN, "tools/call", Some("greet_user"));
    let reply = send(&endpoint, &headers, body.to_string()).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        reply.json()["result"]["isError"],
        json!(false),
        "{}",
        reply.body
    );
    // 2025-11-25 with `_meta` (answered by rmcp's service), an in-band tool error.
    let mut body = call_request(3, "greet_user", json!({ "name": " " }));
    body["params"]["_meta"] = json!({ "traceparent": traceparent(RMCP_TRACE, RMCP_PARENT) });
    let reply = send(&endpoint, &standard_headers(TOKEN), body.to_string()).await;
    assert_eq!(
        reply.json()["result"]["isError"],
        json!(true),
        "{}",
        reply.body
    );
    // An unknown tool (-32602) and a list.
    let reply = post(
        &endpoint,
        Some(TOKEN),
        &call_request(4, "no_such_tool", json!({})),
    )
    .await;
    assert_eq!(reply.rpc_error_code(), -32602);
    let reply = post(&endpoint, Some(TOKEN), &rpc(5, "tools/list", None)).await;
    assert_eq!(reply.status, 200);
    // A refused token: counted, no span (nothing was handled).
    let reply = post(
        &endpoint,
        Some("wrong-token-123"),
        &rpc(6, "tools/list", None),
    )
    .await;
    assert_eq!(reply.status, 401);

    let spans = eventually("the five request spans to be exported", || async {
        let spans = receiver.spans();
        let requests = spans
            .iter()
            .filter(|s| s.attribute("mcp.method.name").is_some())
            .count();
        (requests >= 5).then_some(spans)
    })
    .await;
    let request = |id: &str| -> &ExportedSpan {
        spans
            .iter()
            .find(|s| s.attribute("jsonrpc.request.id").as_deref() == Some(id))
            .unwrap_or_else(|| panic!("no span of request {id}: {spans:#?}"))
    };

    let first = request("1");
    assert_eq!(first.span.name, "tools/call greet_user");
    assert_eq!(first.span.kind, 2, "SPAN_KIND_SERVER");
    assert_eq!(first.service.as_deref(), Some("greet-test"));
    for (key, value) in [
        ("mcp.method.name", "tools/call"),
        ("gen_ai.tool.name", "greet_user"),
        ("gen_ai.operation.name", "execute_tool"),
        ("mcp.protocol.version", "2025-11-25"),
        ("network.transport", "tcp"),
        ("network.protocol.name", "http"),
        ("client.address", "127.0.0.1"),
        ("server.address", "127.0.0.1"),
        ("server.port", &port.to_string()),
        ("mcp_actions.principal", "service:tracer"),
        ("mcp_actions.server", "default"),
    ] {
        assert_eq!(
            first.attribute(key).as_deref(),
            Some(value),
            "{key}: {first:#?}"
        );
    }
    assert_eq!(first.attribute("error.type"), None);
    assert_eq!(hex(&first.span.trace_id), HEADER_TRACE);
    assert_eq!(hex(&first.span.parent_span_id), HEADER_PARENT);
    // The action's span is a child of the request's, in the caller's trace.
    let action = spans
        .iter()
        .find(|s| s.span.parent_span_id == first.span.span_id)
        .unwrap_or_else(|| panic!("no child of the request span: {spans:#?}"));
    assert_eq!(action.span.name, "action");
    assert_eq!(action.span.trace_id, first.span.trace_id);
    assert_eq!(
        action.attribute("action.id").as_deref(),
        Some("greet-user:greet_user")
    );

    let second = request("2");
    assert_eq!(hex(&second.span.trace_id), META_TRACE);
    assert_eq!(hex(&second.span.parent_span_id), META_PARENT);
    assert_eq!(
        second.attribute("mcp.protocol.version").as_deref(),
        Some("2026-07-28")
    );

    let third = request("3");
    assert_eq!(hex(&third.span.trace_id), RMCP_TRACE);
    assert_eq!(hex(&third.span.parent_span_id), RMCP_PARENT);
    assert_eq!(third.attribute("error.type").as_deref(), Some("tool_error"));
    assert_eq!(
        third.span.status.as_ref().map(|s| s.code),
        Some(2),
        "STATUS_CODE_ERROR"
    );

    let fourth = request("4");
    assert_eq!(fourth.span.name, "tools/call no_such_tool");
    assert_eq!(fourth.attribute("error.type").as_deref(), Some("-32602"));

    let fifth = request("5");
    assert_eq!(fifth.span.name, "tools/list");
    assert_eq!(fifth.attribute("gen_ai.tool.name"), None);
    // A request without a caller's trace starts one.
    assert_eq!(fifth.span.parent_span_id, Vec::<u8>::new());

    // Arguments are never recorded.
    let everything = format!("{spans:?}");
    assert!(!everything.contains(SECRET_NAME), "{everything}");
    assert!(!everything.contains(TOKEN), "{everything}");

    // Each export holds the totals so far: wait for one made after the last request.
    let (points, refused) = eventually("the metrics to be exported", || async {
        let metrics = receiver.metrics();
        let points: Vec<_> = metrics
            .iter()
            .filter(|m| m.name == "mcp.server.operation.duration")
            .flat_map(histogram_points)
            .collect();
        let refused: i64 = metrics
            .iter()
            .filter(|m| m.name == "mcp_actions.auth.failures")
            .flat_map(sum_points)
            .filter(|(attributes, _)| {
                attribute(attributes, "reason").as_deref() == Some("invalid_token")
            })
            .map(|(_, value)| value)
            .max()
            .unwrap_or(0);
        (refused >= 1).then_some((points, refused))
    })
    .await;
    assert_eq!(refused, 1);
    for (tool, error_type) in [
        ("greet_user", ""),
        ("greet_user", "tool_error"),
        ("no_such_tool", "-32602"),
    ] {
        let recorded = points.iter().any(|(attributes, count)| {
            attribute(attributes, "gen_ai.tool.name").as_deref() == Some(tool)
                && attribute(attributes, "error.type").unwrap_or_default() == error_type
                && *count >= 1
        });
        assert!(recorded, "{tool} {error_type}: {points:#?}");
    }
    assert!(
        !spans
            .iter()
            .any(|s| s.attribute("jsonrpc.request.id").as_deref() == Some("6")),
        "a refused request has no span"
    );
}

#[tokio::test]
async fn an_unsupported_otlp_protocol_stops_the_server_at_start_up() {
    let port = free_port();
    let Some(mut command) = greet_user(
        port,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ],
    ) else {
        return;
    };
    let output = bounded(
        "greet-user to exit",
        command.stderr(Stdio::piped()).output(),
    )
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("error: OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not supported")
            && stderr.contains("http/protobuf"),
        "{stderr}"
    );
}
