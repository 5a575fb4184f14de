//! The direct path's choice: what it answers, and what it leaves to rmcp.
use super::request::{ObjectOnly, PlainMeta};
use super::*;
use crate::mcp::{ServerIdentity, ToolNames, ToolNaming};
use crate::test_support::{echo_registry, object_schema};
use mcp_actions::Dispatcher;

fn direct() -> Direct {
    let registry = echo_registry(object_schema);
    let names = ToolNames::new(&registry, ToolNaming::Plain);
    let identity = ServerIdentity {
        name: "test".into(),
        version: "0".into(),
        description: None,
        instructions: None,
    };
    let handler = ActionsHandler::new(Dispatcher::new(registry), identity, &names);
    Direct::new(handler)
}

fn parts(extra: &[(&str, &str)], drop: &[&str]) -> Parts {
    let mut builder = http::Request::builder()
        .method(Method::POST)
        .uri("/api/mcp-actions/v1")
        .extension(Credentials::service("tester"));
    let base = [
        ("host", "127.0.0.1:7007"),
        ("content-type", "application/json"),
        ("accept", "application/json, text/event-stream"),
        ("mcp-protocol-version", "2025-11-25"),
    ];
    for (name, value) in base.iter().filter(|(n, _)| !drop.contains(n)) {
        builder = builder.header(*name, *value);
    }
    for (name, value) in extra {
        builder = builder.header(*name, *value);
    }
    builder.body(()).unwrap().into_parts().0
}

async fn answer(direct: &Direct, parts: &Parts, body: Value) -> Option<Value> {
    let response = direct.answer(parts, &Bytes::from(body.to_string())).await?;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    Some(serde_json::from_slice(&bytes).unwrap())
}

fn call(params: Value) -> Value {
    serde_json::json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": params})
}

#[tokio::test]
async fn plain_calls_and_lists_are_answered_directly() {
    let direct = direct();
    let plain = parts(&[], &[]);
    let answer_of = |body| answer(&direct, &plain, body);
    let called = answer_of(call(
        serde_json::json!({"name": "echo", "arguments": {"a": 1}}),
    ))
    .await
    .expect("a plain tools/call is answered directly");
    assert_eq!(called["id"], 7);
    assert_eq!(
        called["result"]["structuredContent"],
        serde_json::json!({"a": 1})
    );
    assert_eq!(called["result"]["isError"], false);
    let unknown = answer_of(call(serde_json::json!({"name": "nope"})))
        .await
        .expect("an unknown tool is answered directly");
    assert_eq!(unknown["id"], 7);
    assert_eq!(unknown["error"]["code"], -32602);
    assert_eq!(
        unknown["error"]["message"],
        "NotFoundError: Action \"nope\" not found"
    );
    assert!(unknown.get("result").is_none());
    for list in [
        serde_json::json!({"jsonrpc": "2.0", "id": "x", "method": "tools/list"}),
        serde_json::json!({"jsonrpc": "2.0", "id": "x", "method": "tools/list", "params": {}}),
    ] {
        let listed = answer_of(list).await.expect("a plain tools/list");
        assert_eq!(listed["id"], "x");
        assert_eq!(listed["result"]["tools"][0]["name"], "echo");
        assert!(listed["result"].get("nextCursor").is_none(), "{listed}");
    }
    let cursor = serde_json::json!({"jsonrpc": "2.0", "id": 3, "method": "tools/list", "params": {"cursor": "AAAAAQAAAAAAAAAA"}});
    let refused = answer_of(cursor)
        .await
        .expect("a tools/list with a cursor is answered directly");
    assert_eq!(refused["error"]["code"], -32602, "{refused}");
}

#[tokio::test]
async fn everything_else_is_left_to_rmcp() {
    let direct = direct();
    let plain = parts(&[], &[]);
    let ok = call(serde_json::json!({"name": "echo"}));
    for body in [
        call(serde_json::json!({"name": "echo", "_meta": {"progressToken": 1}})),
        call(serde_json::json!({"name": "echo", "arguments": [1]})),
        call(serde_json::json!({"arguments": {}})),
        call(Value::Null),
        serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"cursor": 1}}),
        serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": {}}}),
        serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": null}),
        serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}),
        serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}),
        serde_json::json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        serde_json::json!({"jsonrpc": "1.0", "id": 1, "method": "tools/list"}),
    ] {
        assert!(
            answer(&direct, &plain, body.clone()).await.is_none(),
            "{body}"
        );
    }
    for (extra, drop) in [
        (&[("origin", "http://localhost")][..], &[][..]),
        (&[("accept", "application/json")], &["accept"]),
        (&[("content-type", "text/plain")], &["content-type"]),
        (
            &[("mcp-protocol-version", "2026-07-28")],
            &["mcp-protocol-version"],
        ),
        (&[], &["mcp-protocol-version"]),
    ] {
        let head = parts(extra, drop);
        assert!(
            answer(&direct, &head, ok.clone()).await.is_none(),
            "{extra:?} without {drop:?}"
        );
    }
    let mut get = parts(&[], &[]);
    get.method = Method::GET;
    assert!(answer(&direct, &get, ok.clone()).await.is_none());
    let mut anonymous = parts(&[], &[]);
    anonymous.extensions.clear();
    assert!(answer(&direct, &anonymous, ok.clone()).await.is_none());
    // The base request itself is direct (so the cases above test one difference each).
    assert!(answer(&direct, &plain, ok).await.is_some());
}

fn meta_2026() -> Value {
    serde_json::json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {}
    })
}

fn head_2026(method: &str, name: Option<&str>) -> Parts {
    let mut extra = vec![
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-method", method),
    ];
    if let Some(name) = name {
        extra.push(("mcp-name", name));
    }
    parts(&extra, &["mcp-protocol-version"])
}

#[tokio::test]
async fn plain_2026_requests_are_answered_directly() {
    let direct = direct();
    let called = answer(
        &direct,
        &head_2026("tools/call", Some("echo")),
        call(serde_json::json!({"name": "echo", "arguments": {"a": 1}, "_meta": meta_2026()})),
    )
    .await
    .expect("a 2026-07-28 tools/call is answered directly");
    assert_eq!(
        called["result"]["structuredContent"],
        serde_json::json!({"a": 1})
    );
    assert_eq!(called["result"]["resultType"], "complete");
    let listed = answer(
        &direct,
        &head_2026("tools/list", None),
        serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": meta_2026()}}),
    )
    .await
    .expect("a 2026-07-28 tools/list is answered directly");
    assert_eq!(listed["result"]["tools"][0]["name"], "echo");
    assert_eq!(listed["result"]["ttlMs"], crate::mcp::LIST_TTL_MS);
    assert_eq!(listed["result"]["cacheScope"], "private");
    let discovered = answer(
        &direct,
        &head_2026("server/discover", None),
        serde_json::json!({"jsonrpc": "2.0", "id": 2, "method": "server/discover", "params": {"_meta": meta_2026()}}),
    )
    .await
    .expect("a server/discover is answered directly");
    assert_eq!(discovered["result"]["cacheScope"], "public");
    assert!(
        discovered["result"]["supportedVersions"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("2026-07-28"))
    );
}

#[tokio::test]
async fn unusual_2026_requests_are_left_to_rmcp() {
    let direct = direct();
    let body =
        |meta: Value| call(serde_json::json!({"name": "echo", "arguments": {}, "_meta": meta}));
    let mut progress = meta_2026();
    progress["progressToken"] = 1.into();
    let mut older = meta_2026();
    older["io.modelcontextprotocol/protocolVersion"] = "2025-11-25".into();
    let plain = head_2026("tools/call", Some("echo"));
    for meta in [progress, older, serde_json::json!({})] {
        assert!(
            answer(&direct, &plain, body(meta.clone())).await.is_none(),
            "{meta}"
        );
    }
    for head in [
        head_2026("tools/call", None),
        head_2026("tools/call", Some("other")),
        head_2026("tools/list", Some("echo")),
        head_2026("tools/call", Some("=?base64?ZWNobw==?=")),
        parts(
            &[("mcp-protocol-version", "2026-07-28")],
            &["mcp-protocol-version"],
        ),
    ] {
        assert!(
            answer(&direct, &head, body(meta_2026())).await.is_none(),
            "{:?}",
            head.headers
        );
    }
    // The base request itself is direct (so the cases above test one difference each).
    assert!(answer(&direct, &plain, body(meta_2026())).await.is_some());
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(
            http::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    map
}

#[test]
fn only_plain_accept_headers_naming_both_types_qualify() {
    let ok = |v: &str| accepts_json_and_sse(&headers(&[("accept", v)]));
    assert!(ok("application/json, text/event-stream"));
    assert!(ok("text/event-stream,application/json"));
    assert!(!ok("application/json"));
    assert!(!ok("application/json, text/event-stream;q=0"));
    assert!(!ok(r#"application/json;profile="x", text/event-stream"#));
    assert!(!accepts_json_and_sse(&HeaderMap::new()));
}

#[test]
fn only_known_revisions_without_other_mcp_headers_qualify() {
    let direct = direct();
    let legacy = |pairs: &[(&str, &str)]| {
        let headers = headers(pairs);
        matches!(direct.revision(&headers), Some(Revision::Legacy(_)))
    };
    let stateless = |pairs: &[(&str, &str)]| {
        let headers = headers(pairs);
        matches!(direct.revision(&headers), Some(Revision::Stateless(_)))
    };
    assert!(legacy(&[("mcp-protocol-version", "2025-11-25")]));
    assert!(legacy(&[("mcp-protocol-version", "2025-06-18")]));
    assert!(stateless(&[("mcp-protocol-version", "2026-07-28")]));
    assert!(stateless(&[
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-method", "tools/call"),
        ("mcp-name", "echo")
    ]));
    let neither = |pairs: &[(&str, &str)]| direct.revision(&headers(pairs)).is_none();
    assert!(neither(&[("mcp-protocol-version", "2099-01-01")]));
    assert!(neither(&[]), "no version header: rmcp's default applies");
    assert!(neither(&[
        ("mcp-protocol-version", "2025-11-25"),
        ("mcp-protocol-version", "2025-11-25")
    ]));
    // A session id changes nothing (rmcp's stateless service ignores it too).
    assert!(!neither(&[
        ("mcp-protocol-version", "2025-11-25"),
        ("mcp-session-id", "abc")
    ]));
    // SEP-2243 headers on a revision without them are rmcp's to judge.
    assert!(neither(&[
        ("mcp-protocol-version", "2025-11-25"),
        ("mcp-method", "tools/call")
    ]));
    assert!(neither(&[
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-method", "tools/call"),
        ("mcp-method", "tools/call")
    ]));
    assert!(neither(&[
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-param-region", "eu")
    ]));
}

#[test]
fn content_type_must_be_json() {
    let ok = |pairs: &[(&str, &str)]| content_type_is_json(&headers(pairs));
    assert!(ok(&[("content-type", "application/json")]));
    assert!(ok(&[("content-type", "Application/JSON; charset=utf-8")]));
    assert!(!ok(&[("content-type", "text/plain")]));
    assert!(!ok(&[]));
}

#[test]
fn only_the_plain_request_shape_parses() {
    let parse = |s: &str| PlainRequest::parse(s.as_bytes()).is_some();
    assert!(parse(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#));
    assert!(parse(
        r#"{"jsonrpc":"2.0","id":"a","method":"tools/call","params":{"name":"x"}}"#
    ));
    assert!(!parse(
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","extra":1}"#
    ));
    assert!(!parse(
        r#"{"jsonrpc":"2.0","id":1,"id":2,"method":"tools/list"}"#
    ));
    assert!(!parse(r#"{"jsonrpc":"2.0","method":"tools/list"}"#));
    assert!(!parse(
        r#"[{"jsonrpc":"2.0","id":1,"method":"tools/list"}]"#
    ));
    // A derived struct would read these positionally.
    assert!(!parse(r#"["2.0",1,"tools/list"]"#));
    assert!(!parse(r#" ["2.0",1,"tools/call",{"name":"x"}]"#));
    assert!(!parse(r#"{"jsonrpc":"1.0","id":1,"method":"tools/list"}"#));
    assert!(!parse(
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":null}"#
    ));
    assert!(!parse(
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":[]}"#
    ));
    assert!(!parse(
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{},"_meta":{}}}"#
    ));
    // A `_meta` must be the plain 2026-07-28 one.
    assert!(!parse(
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","_meta":{"a":[1]}}}"#
    ));
    let request = PlainRequest::parse(
        br#" {"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}"#,
    )
    .unwrap();
    let params = request.params.unwrap();
    assert_eq!(params.meta.unwrap().protocol_version.as_str(), "2026-07-28");
    assert_eq!(params.rest.keys().collect::<Vec<_>>(), ["name"]);
}

#[test]
fn only_the_plain_2026_meta_reads() {
    let meta = |s: &str| {
        serde_json::from_str::<ObjectOnly<PlainMeta>>(s)
            .ok()
            .map(|meta| meta.0)
    };
    let plain = meta(
        r#"{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{"elicitation":{}},"io.modelcontextprotocol/clientInfo":{"name":"c","version":"1"},"traceparent":"00-a-b-01"}"#,
    )
    .unwrap();
    assert_eq!(plain.protocol_version.as_str(), "2026-07-28");
    assert!(can_elicit(&plain.client_capabilities));
    assert_eq!(plain.traceparent.as_deref(), Some("00-a-b-01"));
    assert_eq!(plain.tracestate, None);
    let required = r#""io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}"#;
    assert!(meta(&format!("{{{required}}}")).is_some());
    // Each required key, a readable clientInfo, string trace context, nothing else.
    assert!(meta(r#"{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}"#).is_none());
    assert!(meta(r#"{"io.modelcontextprotocol/clientCapabilities":{}}"#).is_none());
    assert!(
        meta(&format!(
            r#"{{{required},"io.modelcontextprotocol/clientInfo":"c"}}"#
        ))
        .is_none()
    );
    assert!(
        meta(&format!(
            r#"{{{required},"io.modelcontextprotocol/clientInfo":null}}"#
        ))
        .is_none()
    );
    assert!(meta(&format!(r#"{{{required},"traceparent":null}}"#)).is_none());
    assert!(meta(&format!(r#"{{{required},"tracestate":1}}"#)).is_none());
    assert!(meta(&format!(r#"{{{required},"progressToken":1}}"#)).is_none());
    assert!(meta(r#"{"io.modelcontextprotocol/protocolVersion":1,"io.modelcontextprotocol/clientCapabilities":{}}"#).is_none());
    assert!(meta(r#"["2026-07-28",{}]"#).is_none());
}
