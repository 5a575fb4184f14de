//! Bad input: each gets a clear error, and the server keeps serving afterwards.
//!
//! What answers what (rmcp 3.9's Streamable HTTP service behind our auth and body-limit layers):
//! - a body over `maxRequestBodyBytes` → 413 (from the `Content-Length` alone when it is
//!   announced, before any of the body is read; otherwise as soon as the limit is crossed);
//! - wrong `Content-Type` → 415; `Accept` without both JSON and SSE → 406;
//! - a body that is not JSON (invalid UTF-8, empty, nested past serde_json's depth limit of
//!   128) → 400 with JSON-RPC -32700; JSON that is not one JSON-RPC request (a batch array
//!   too) → 400 with -32600;
//! - a `tools/call` whose params do not have its shape → -32602;
//! - an unknown method → JSON-RPC -32601; an unknown tool, bad arguments → in-band tool errors;
//! - an unknown or malformed `MCP-Protocol-Version` → 400; control characters in a header →
//!   400 from hyper before anything else runs.

use mcp_actions_tests::prelude::*;
use serde_json::{Value, json};

use crate::actions::Probe;
use crate::setup::*;

async fn server() -> TestServer {
    TestServer::start(builder("", &Probe::shared())).await
}

fn list() -> Value {
    rpc(1, "tools/list", None)
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_from_the_announced_length_before_it_is_read() {
    let server = server().await;
    // Announce 100 MiB, send 1 KiB: the answer comes although the body never will.
    let head = format!(
        "POST {} HTTP/1.1\r\nhost: {}\r\nauthorization: Bearer {FULL_TOKEN}\r\ncontent-type: application/json\r\naccept: application/json, text/event-stream\r\ncontent-length: {}\r\n\r\n",
        mcp_actions_server::MCP_PATH,
        server.addr,
        100 * 1024 * 1024
    );
    let mut request = head.into_bytes();
    request.extend_from_slice(&[b' '; 1024]);
    let answer = raw_exchange(server.addr, &request).await.unwrap();
    assert_eq!(
        raw_status(&answer),
        413,
        "{}",
        String::from_utf8_lossy(&answer)
    );
    server.assert_serving().await;
}

/// A POST of `chunks` chunks of 1 KiB with no length announced, never terminated.
fn chunked_request(server: &TestServer, chunks: usize) -> Vec<u8> {
    let mut request = format!(
        "POST {} HTTP/1.1\r\nhost: {}\r\nauthorization: Bearer {FULL_TOKEN}\r\ncontent-type: application/json\r\naccept: application/json, text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n",
        mcp_actions_server::MCP_PATH,
        server.addr,
    )
    .into_bytes();
    for _ in 0..chunks {
        request.extend_from_slice(b"400\r\n");
        request.extend_from_slice(&[b' '; 1024]);
        request.extend_from_slice(b"\r\n");
    }
    request
}

#[tokio::test]
async fn a_chunked_body_over_the_limit_is_refused_before_it_is_read_whole() {
    // Refused after 64 KiB of the 128 KiB sent.
    let server = server().await;
    let answer = raw_exchange(server.addr, &chunked_request(&server, 128))
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&answer);
    assert_eq!(raw_status(&answer), 413, "{text}");
    assert!(text.contains("maxRequestBodyBytes"), "{text}");
    server.assert_serving().await;
}

#[tokio::test]
async fn a_chunked_body_over_the_limit_is_413() {
    let server = server().await;
    let answer = raw_exchange(server.addr, &chunked_request(&server, 128))
        .await
        .unwrap();
    assert_eq!(
        raw_status(&answer),
        413,
        "{}",
        String::from_utf8_lossy(&answer)
    );
}

#[tokio::test]
async fn a_body_just_under_the_limit_is_served() {
    let server = server().await;
    let overhead = call_request(1, "hardening_sizes", json!({"text": "", "items": []}))
        .to_string()
        .len();
    let text = "x".repeat(65536 - overhead);
    let reply = server
        .call("hardening_sizes", json!({"text": text, "items": []}))
        .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(
        reply.json()["result"]["structuredContent"]["text"],
        65536 - overhead
    );
}

/// `depth` nested arrays around `inner`.
fn nested(depth: usize, inner: &str) -> String {
    format!("{}{inner}{}", "[".repeat(depth), "]".repeat(depth))
}

#[tokio::test]
async fn json_nested_10000_deep_is_refused_without_overflowing_the_stack() {
    let server = server().await;
    let bodies = [
        // Inside the arguments of a valid call.
        format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"hardening_sizes","arguments":{{"text":"","items":{}}}}}}}"#,
            nested(10_000, "")
        ),
        // As the whole body.
        nested(10_000, "1"),
        // Objects rather than arrays.
        format!("{}1{}", r#"{"a":"#.repeat(10_000), "}".repeat(10_000)),
    ];
    for body in bodies {
        let reply = send(
            &server.endpoint,
            &standard_headers(FULL_TOKEN),
            body.into_bytes(),
        )
        .await;
        assert_eq!(reply.status, 400, "{reply:?}");
        assert_eq!(reply.rpc_error_code(), -32700, "{reply:?}");
        assert!(reply.body.contains("recursion limit exceeded"), "{reply:?}");
    }
    // Nesting within serde_json's limit (128) parses and reaches the action.
    let reply = server
        .call(
            "hardening_sizes",
            json!({"text": "", "items": serde_json::from_str::<Value>(&nested(100, "")).unwrap()}),
        )
        .await;
    assert_eq!(
        reply.json()["result"]["structuredContent"]["items"],
        1,
        "{reply:?}"
    );
    server.assert_serving().await;
}

#[tokio::test]
async fn invalid_utf8_empty_and_non_json_bodies_are_parse_errors_with_a_reason() {
    let server = server().await;
    let cases: [(&str, Vec<u8>, &str); 5] = [
        (
            "invalid UTF-8 in a string",
            b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{\"x\":\"\xff\xfe\"}}".to_vec(),
            "invalid unicode",
        ),
        (
            "invalid UTF-8 outside strings",
            b"\xff\xfe{}".to_vec(),
            "expected value",
        ),
        ("an empty body", Vec::new(), "EOF while parsing"),
        ("not JSON", b"hello, server".to_vec(), "expected value"),
        (
            "truncated JSON",
            br#"{"jsonrpc":"2.0","id":1,"method":"tools/li"#.to_vec(),
            "EOF while parsing",
        ),
    ];
    for (what, body, reason) in cases {
        let reply = send(&server.endpoint, &standard_headers(FULL_TOKEN), body).await;
        assert_eq!(reply.status, 400, "{what}: {reply:?}");
        assert_eq!(reply.rpc_error_code(), -32700, "{what}: {reply:?}");
        assert!(reply.body.contains(reason), "{what}: {reply:?}");
    }
    server.assert_serving().await;
}

#[tokio::test]
async fn json_that_is_not_json_rpc_is_400_invalid_request() {
    let server = server().await;
    let bodies = [
        json!({"hello": "world"}),
        json!({"jsonrpc": "1.0", "id": 1, "method": "tools/list"}),
        json!({"jsonrpc": "2.0", "id": {"an": "object"}, "method": "tools/list"}),
        json!({"jsonrpc": "2.0", "id": 1, "method": 42}),
        json!("a string"),
        json!(null),
    ];
    for body in bodies {
        let reply = post(&server.endpoint, Some(FULL_TOKEN), &body).await;
        assert_eq!(reply.status, 400, "{body}: {reply:?}");
        assert_eq!(reply.rpc_error_code(), -32600, "{body}: {reply:?}");
    }
    server.assert_serving().await;
}

#[tokio::test]
async fn batches_are_refused_on_every_protocol_version() {
    // JSON-RPC batches were dropped from MCP in 2025-06-18; rmcp 3.9 does not parse them for
    // any version, including 2025-03-26 which allowed them: a batch is a 400 -32600, never
    // executed.
    let server = server().await;
    let batch = json!([
        list(),
        call_request(2, "hardening_echo", json!({"message": "b"}))
    ]);
    for version in ["2025-03-26", V2025, V2026] {
        let mut headers = standard_headers(FULL_TOKEN);
        headers.retain(|(name, _)| *name != "mcp-protocol-version");
        headers.push(("mcp-protocol-version", version.to_owned()));
        let reply = send(&server.endpoint, &headers, batch.to_string().into_bytes()).await;
        assert_eq!(reply.status, 400, "{version}: {reply:?}");
        assert_eq!(reply.rpc_error_code(), -32600, "{version}: {reply:?}");
    }
    let reply = post(&server.endpoint, Some(FULL_TOKEN), &json!([])).await;
    assert_eq!(reply.status, 400, "{reply:?}");
    server.assert_serving().await;
}

#[tokio::test]
async fn wrong_content_type_is_415_and_accept_without_json_and_sse_is_406() {
    let server = server().await;
    let body = list().to_string().into_bytes();
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("application/jsonx"),
        Some("multipart/form-data; boundary=x"),
    ] {
        let mut headers = standard_headers(FULL_TOKEN);
        headers.retain(|(name, _)| *name != "content-type");
        if let Some(value) = content_type {
            headers.push(("content-type", value.to_owned()));
        }
        let reply = send(&server.endpoint, &headers, body.clone()).await;
        assert_eq!(reply.status, 415, "{content_type:?}: {reply:?}");
        assert!(reply.body.contains("Content-Type"), "{reply:?}");
    }
    // Parameters and case do not matter.
    let mut headers = standard_headers(FULL_TOKEN);
    headers.retain(|(name, _)| *name != "content-type");
    headers.push(("content-type", "Application/JSON; charset=utf-8".to_owned()));
    assert_eq!(
        send(&server.endpoint, &headers, body.clone()).await.status,
        200
    );

    // rmcp requires both media types, even though this server answers with JSON: a client
    // that accepts only `application/json` (or `*/*`) is refused too.
    for accept in [
        None,
        Some("text/html"),
        Some("application/json"),
        Some("text/event-stream"),
        Some("*/*"),
    ] {
        let mut headers = standard_headers(FULL_TOKEN);
        headers.retain(|(name, _)| *name != "accept");
        if let Some(value) = accept {
            headers.push(("accept", value.to_owned()));
        }
        let reply = send(&server.endpoint, &headers, body.clone()).await;
        assert_eq!(reply.status, 406, "{accept:?}: {reply:?}");
        assert!(reply.body.contains("Not Acceptable"), "{reply:?}");
    }
    server.assert_serving().await;
}

#[tokio::test]
async fn unknown_methods_are_json_rpc_method_not_found() {
    let server = server().await;
    for method in [
        "no/such/method",
        "resources/list",
        "prompts/list",
        "completion/complete",
        "",
    ] {
        let reply = post(&server.endpoint, Some(FULL_TOKEN), &rpc(7, method, None)).await;
        assert_eq!(reply.status, 200, "{method}: {reply:?}");
        assert_eq!(reply.rpc_error_code(), -32601, "{method}: {reply:?}");
        assert_eq!(reply.json()["id"], 7, "{reply:?}");
    }
    server.assert_serving().await;
}

#[tokio::test]
async fn unknown_tools_are_json_rpc_invalid_params_not_found_errors() {
    let server = server().await;
    let long_name = "n".repeat(10_000);
    for name in [
        "no_such_tool",
        "",
        "../../etc/passwd",
        "hardening_echo\u{0}",
        long_name.as_str(),
    ] {
        server.call(name, json!({})).await.assert_unknown_tool(name);
    }
    server.assert_serving().await;
}

#[tokio::test]
async fn arguments_of_the_wrong_type_or_missing_are_input_errors_naming_the_path() {
    let server = server().await;
    let valid = json!({"small": 1, "flag": true, "items": [1], "nested": {"id": 1}});
    assert_eq!(
        server.call("hardening_typed", valid).await.json()["result"]["structuredContent"],
        json!({"count": 3})
    );
    let cases = [
        (
            json!({"small": 300, "flag": true, "items": [], "nested": {"id": 1}}),
            "`small`",
        ),
        (
            json!({"small": -1, "flag": true, "items": [], "nested": {"id": 1}}),
            "`small`",
        ),
        (
            json!({"small": "1", "flag": true, "items": [], "nested": {"id": 1}}),
            "`small`",
        ),
        (
            json!({"small": 1, "flag": "yes", "items": [], "nested": {"id": 1}}),
            "`flag`",
        ),
        (
            json!({"small": 1, "flag": true, "items": [1, "two"], "nested": {"id": 1}}),
            "`items[1]`",
        ),
        (
            json!({"small": 1, "flag": true, "items": [], "nested": {"id": 1.5}}),
            "`nested.id`",
        ),
        (
            json!({"small": 1, "flag": true, "items": [], "nested": []}),
            "`nested`",
        ),
        (json!({"small": 1, "flag": true, "items": []}), "`nested`"),
        (json!({}), "`small`"),
    ];
    for (arguments, path) in cases {
        let text = server
            .call("hardening_typed", arguments.clone())
            .await
            .tool_error();
        assert!(
            text.starts_with("InputError: ")
                && (text.contains(path) || text.contains(&path.replace('`', ""))),
            "{arguments}: {text}"
        );
    }
    server.assert_serving().await;
}

#[tokio::test]
async fn extra_fields_are_ignored_unless_the_input_denies_unknown_fields() {
    let server = server().await;
    let reply = server
        .call(
            "hardening_echo",
            json!({"message": "hi", "unexpected": {"deep": [1, 2]}, "another": null}),
        )
        .await;
    assert_eq!(
        reply.json()["result"]["structuredContent"],
        json!({"echo": "hi"}),
        "{reply:?}"
    );
    let text = server
        .call("hardening_strict", json!({"name": "x", "unexpected": 1}))
        .await
        .tool_error();
    assert!(
        text.starts_with("InputError: ") && text.contains("unknown field `unexpected`"),
        "{text}"
    );
    assert_eq!(
        server
            .call("hardening_strict", json!({"name": "x"}))
            .await
            .json()["result"]["structuredContent"],
        json!({"echo": "x"})
    );
}

/// tools/call requests whose params do not have the shape of tools/call's.
fn malformed_calls() -> Vec<serde_json::Value> {
    vec![
        json!({"name": "hardening_echo", "arguments": [1, 2]}),
        json!({"name": "hardening_echo", "arguments": "text"}),
        json!({"name": "hardening_echo", "arguments": 3}),
        json!({"arguments": {"message": "x"}}),
        json!({"name": 42}),
    ]
}

#[tokio::test]
async fn tools_call_with_params_of_the_wrong_shape_is_refused() {
    // rmcp cannot parse them as tools/call and falls back to a custom request, which the
    // handler answers -32602 (invalid params).
    let server = server().await;
    for params in malformed_calls() {
        let reply = post(
            &server.endpoint,
            Some(FULL_TOKEN),
            &rpc(1, "tools/call", Some(params.clone())),
        )
        .await;
        assert_eq!(reply.status, 200, "{params}: {reply:?}");
        assert_eq!(reply.rpc_error_code(), -32602, "{params}: {reply:?}");
    }
    // Params that are not an object at all do not parse as any request.
    let reply = post(
        &server.endpoint,
        Some(FULL_TOKEN),
        &rpc(1, "tools/call", Some(json!("not an object"))),
    )
    .await;
    assert_eq!(reply.status, 400, "{reply:?}");
    assert_eq!(reply.rpc_error_code(), -32600, "{reply:?}");
    // `null` and absent arguments are an empty object: the action says what is missing.
    for params in [
        json!({"name": "hardening_echo", "arguments": null}),
        json!({"name": "hardening_echo"}),
    ] {
        let reply = post(
            &server.endpoint,
            Some(FULL_TOKEN),
            &rpc(1, "tools/call", Some(params.clone())),
        )
        .await;
        let text = reply.tool_error();
        assert!(text.contains("missing field `message`"), "{params}: {text}");
    }
    server.assert_serving().await;
}

#[tokio::test]
async fn tools_call_with_params_of_the_wrong_shape_is_invalid_params() {
    let server = server().await;
    for params in malformed_calls() {
        let reply = post(
            &server.endpoint,
            Some(FULL_TOKEN),
            &rpc(1, "tools/call", Some(params.clone())),
        )
        .await;
        assert_eq!(reply.rpc_error_code(), -32602, "{params}: {reply:?}");
    }
}

#[tokio::test]
async fn enormous_strings_and_arrays_within_the_limit_are_served() {
    let server = TestServer::start(builder(
        "mcpActions:\n  limits:\n    maxRequestBodyBytes: 4194304\n",
        &Probe::shared(),
    ))
    .await;
    let text = "é".repeat(1_500_000); // 3 MB of two-byte characters
    let items: Vec<Value> = (0..200_000).map(|i| json!(i % 10)).collect();
    let map: serde_json::Map<String, Value> =
        (0..10_000).map(|i| (format!("k{i}"), json!("v"))).collect();
    let reply = server
        .call(
            "hardening_sizes",
            json!({"text": text, "items": items, "map": map}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.status);
    assert_eq!(
        reply.json()["result"]["structuredContent"],
        json!({"text": 3_000_000, "items": 200_000, "map": 10_000})
    );
    // A long string where a number is expected is an InputError (which does not repeat the
    // whole value: see the test below).
    let long = "9".repeat(100_000);
    let text = server
        .call(
            "hardening_typed",
            json!({"small": long, "flag": true, "items": [], "nested": {"id": 1}}),
        )
        .await
        .tool_error();
    assert!(
        text.starts_with("InputError: invalid input at `small`"),
        "{}",
        &text[..100]
    );
    server.assert_serving().await;
}

#[tokio::test]
async fn input_errors_do_not_repeat_huge_values() {
    let server = server().await;
    let long = "9".repeat(50_000);
    let text = server
        .call(
            "hardening_typed",
            json!({"small": long, "flag": true, "items": [], "nested": {"id": 1}}),
        )
        .await
        .tool_error();
    assert!(text.len() < 1_000, "the error is {} bytes", text.len());
}

#[tokio::test]
async fn unknown_or_malformed_protocol_version_headers_are_400() {
    let server = server().await;
    let body = list().to_string().into_bytes();
    for version in [
        "1999-01-01",
        "latest",
        "",
        "2025-11-25, 2026-07-28",
        "2025-11-25x",
    ] {
        let mut headers = standard_headers(FULL_TOKEN);
        headers.retain(|(name, _)| *name != "mcp-protocol-version");
        headers.push(("mcp-protocol-version", version.to_owned()));
        let reply = send(&server.endpoint, &headers, body.clone()).await;
        assert_eq!(reply.status, 400, "{version:?}: {reply:?}");
        assert!(
            reply.body.contains("MCP-Protocol-Version"),
            "{version:?}: {reply:?}"
        );
    }
    // Bytes that are not visible ASCII (obs-text): raw, since reqwest would refuse them.
    let answer = raw_exchange(
        server.addr,
        &raw_post(
            server.addr,
            &[
                format!("authorization: Bearer {FULL_TOKEN}").as_bytes(),
                b"mcp-protocol-version: 2025-\xff\xfe-25",
            ],
            &body,
        ),
    )
    .await
    .unwrap();
    assert_eq!(
        raw_status(&answer),
        400,
        "{}",
        String::from_utf8_lossy(&answer)
    );
    assert!(
        String::from_utf8_lossy(&answer).contains("Invalid MCP-Protocol-Version header encoding")
    );
    // Absent: accepted (2025-03-26 is assumed, as the spec says).
    let mut headers = standard_headers(FULL_TOKEN);
    headers.retain(|(name, _)| *name != "mcp-protocol-version");
    assert_eq!(send(&server.endpoint, &headers, body).await.status, 200);
    server.assert_serving().await;
}

#[tokio::test]
async fn header_values_with_control_characters_are_400() {
    let server = server().await;
    let body = list().to_string().into_bytes();
    let token = format!("authorization: Bearer {FULL_TOKEN}");
    let bad_lines: [&[u8]; 5] = [
        b"x-test: a\x01b",
        b"x-test: a\x00b",
        b"x-test: a\x7fb",
        b"x-test: a\x1bb",
        b"authorization: Bearer hardening-full\x00-token-3141",
    ];
    for line in bad_lines {
        let answer = raw_exchange(
            server.addr,
            &raw_post(server.addr, &[token.as_bytes(), line], &body),
        )
        .await
        .unwrap();
        assert_eq!(
            raw_status(&answer),
            400,
            "{:?}: {}",
            String::from_utf8_lossy(line),
            String::from_utf8_lossy(&answer)
        );
    }
    // A bare LF ends the header line early: what follows is a malformed header line.
    let answer = raw_exchange(
        server.addr,
        &raw_post(server.addr, &[token.as_bytes(), b"x-test: a\nb"], &body),
    )
    .await
    .unwrap();
    assert_eq!(
        raw_status(&answer),
        400,
        "{}",
        String::from_utf8_lossy(&answer)
    );
    // A tab is allowed in a header value, and the request is served.
    let answer = raw_exchange(
        server.addr,
        &raw_post(server.addr, &[token.as_bytes(), b"x-test: a\tb"], &body),
    )
    .await
    .unwrap();
    assert_eq!(
        raw_status(&answer),
        200,
        "{}",
        String::from_utf8_lossy(&answer)
    );
    server.assert_serving().await;
}

#[tokio::test]
async fn other_http_methods_are_refused() {
    let server = server().await;
    let client = reqwest::Client::new();
    for method in [
        reqwest::Method::PUT,
        reqwest::Method::PATCH,
        reqwest::Method::DELETE,
        reqwest::Method::GET,
    ] {
        let response = client
            .request(method.clone(), &server.endpoint)
            .header("authorization", format!("Bearer {FULL_TOKEN}"))
            .header("accept", "application/json, text/event-stream")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 405, "{method}");
    }
    server.assert_serving().await;
}

// What the JSON-RPC spec asks for (rmcp 3.9 answers 415 with a text body; the server's
// `guard::read_body` layer maps it).

#[tokio::test]
async fn not_json_is_json_rpc_parse_error() {
    let server = server().await;
    let reply = send(
        &server.endpoint,
        &standard_headers(FULL_TOKEN),
        b"hello".to_vec(),
    )
    .await;
    assert_eq!(reply.rpc_error_code(), -32700, "{reply:?}");
}

#[tokio::test]
async fn json_that_is_not_json_rpc_is_json_rpc_invalid_request() {
    let server = server().await;
    let reply = post(
        &server.endpoint,
        Some(FULL_TOKEN),
        &json!({"hello": "world"}),
    )
    .await;
    assert_eq!(reply.rpc_error_code(), -32600, "{reply:?}");
}
