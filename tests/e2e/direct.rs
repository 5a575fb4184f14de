//! Direct dispatch (plain stateless `tools/call` / `tools/list` answered without rmcp's
//! per-request service) gives the same answers as rmcp: every request here goes to a server
//! with it and to one without it (`direct_dispatch(false)`), and the status, content type and
//! body must be the same. Requests the direct path leaves to rmcp are in the list too.

use mcp_actions_tests::prelude::*;
use serde_json::{Value, json};

use crate::setup::*;

/// One request: the token, extra or replaced headers, and the body.
struct Case {
    what: &'static str,
    token: &'static str,
    headers: Vec<(&'static str, &'static str)>,
    body: Value,
}

fn case(what: &'static str, token: &'static str, body: Value) -> Case {
    Case {
        what,
        token,
        headers: Vec::new(),
        body,
    }
}

fn call(id: Value, name: &str, arguments: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
           "params": {"name": name, "arguments": arguments}})
}

fn list(id: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/list"})
}

fn cases() -> Vec<Case> {
    let mut cases = vec![
        case("list, full token", FULL_TOKEN, list(json!(1))),
        case("list, restricted token", RESTRICTED_TOKEN, list(json!("a"))),
        case("list, view-only token", VIEWER_TOKEN, list(json!(2))),
        case(
            "list, empty params",
            FULL_TOKEN,
            json!({"jsonrpc": "2.0", "id": 3, "method": "tools/list", "params": {}}),
        ),
        case(
            "whoami",
            FULL_TOKEN,
            call(json!(4), "e2e_whoami", json!({})),
        ),
        case(
            "whoami, restricted",
            RESTRICTED_TOKEN,
            call(json!("b"), "e2e_whoami", json!({})),
        ),
        case(
            "echo",
            FULL_TOKEN,
            call(
                json!(5),
                "e2e_echo",
                json!({"message": "hi", "options": {"loud": true}}),
            ),
        ),
        case(
            "echo without arguments",
            FULL_TOKEN,
            json!({"jsonrpc": "2.0", "id": 6, "method": "tools/call", "params": {"name": "e2e_echo"}}),
        ),
        case(
            "echo with a wrong type deep inside",
            FULL_TOKEN,
            call(
                json!(7),
                "e2e_echo",
                json!({"message": "hi", "options": {"loud": "yes"}}),
            ),
        ),
        case(
            "unknown tool",
            FULL_TOKEN,
            call(json!(8), "no_such_tool", json!({})),
        ),
        case(
            "a panicking action",
            FULL_TOKEN,
            call(json!(9), "e2e_explode", json!({})),
        ),
        case(
            "another plugin's action with a restricted token",
            RESTRICTED_TOKEN,
            call(json!(10), "e2e_other_plugin", json!({})),
        ),
        case(
            "a permission the token has",
            VIEWER_TOKEN,
            call(json!(11), "e2e_read_secret", json!({})),
        ),
        case(
            "a permission the token lacks",
            VIEWER_TOKEN,
            call(json!(12), "e2e_write_secret", json!({})),
        ),
        case(
            "a large id",
            FULL_TOKEN,
            call(json!(i64::MAX), "e2e_whoami", json!({})),
        ),
        // Left to rmcp by the direct path; compared all the same.
        case(
            "a progress token",
            FULL_TOKEN,
            json!({"jsonrpc": "2.0", "id": 13, "method": "tools/call",
                   "params": {"name": "e2e_echo", "arguments": {"message": "m"}, "_meta": {"progressToken": "p"}}}),
        ),
        case(
            "arguments that are not an object",
            FULL_TOKEN,
            call(json!(14), "e2e_echo", json!(["m"])),
        ),
        case(
            "a pagination cursor",
            FULL_TOKEN,
            json!({"jsonrpc": "2.0", "id": 15, "method": "tools/list", "params": {"cursor": "x"}}),
        ),
        case(
            "an unknown method",
            FULL_TOKEN,
            json!({"jsonrpc": "2.0", "id": 16, "method": "prompts/list"}),
        ),
        case(
            "a notification",
            FULL_TOKEN,
            json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        ),
        case(
            "an extra member",
            FULL_TOKEN,
            json!({"jsonrpc": "2.0", "id": 17, "method": "tools/list", "extra": true}),
        ),
    ];
    for error in [
        "InputError",
        "NotAllowedError",
        "NotFoundError",
        "ConflictError",
        "ServiceUnavailableError",
        "Unexpected",
    ] {
        cases.push(call_case(error));
    }
    for (id, what, header) in [
        (
            18,
            "no text/event-stream in Accept",
            ("accept", "application/json"),
        ),
        (
            19,
            "an older revision",
            ("mcp-protocol-version", "2025-06-18"),
        ),
        (
            20,
            "an unknown revision",
            ("mcp-protocol-version", "1999-01-01"),
        ),
        (21, "a Host not allowed", ("host", "evil.example")),
    ] {
        cases.push(Case {
            headers: vec![header],
            ..case(what, FULL_TOKEN, call(json!(id), "e2e_whoami", json!({})))
        });
    }
    cases
}

/// Status, content type and body, byte for byte but for internal-error references (random).
async fn exchange(endpoint: &str, case: &Case) -> (u16, String, String) {
    let mut headers = standard_headers(case.token);
    for (name, value) in &case.headers {
        headers.retain(|(n, _)| n != name);
        headers.push((*name, (*value).to_owned()));
    }
    let reply = send(endpoint, &headers, case.body.to_string()).await;
    let content_type = reply.header("content-type").unwrap_or_default().to_owned();
    (reply.status, content_type, without_references(&reply.body))
}

fn without_references(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("(ref ") {
        out.push_str(&rest[..at + 5]);
        rest = &rest[at + 5..];
        let hex = rest.chars().take_while(char::is_ascii_hexdigit).count();
        out.push('…');
        rest = &rest[hex..];
    }
    out.push_str(rest);
    out
}

#[tokio::test]
async fn direct_dispatch_answers_exactly_as_rmcp_does() {
    let direct = TestServer::start(e2e_builder()).await;
    let rmcp = TestServer::start(e2e_builder().direct_dispatch(false)).await;
    let cases = cases();
    for case in &cases {
        let got = exchange(&direct.endpoint, case).await;
        let want = exchange(&rmcp.endpoint, case).await;
        assert_eq!(got, want, "{}: {}", case.what, case.body);
    }
    // The comparison compared something: real answers, errors and refusals among them.
    let (status, _, whoami) = exchange(&direct.endpoint, &cases[4]).await;
    assert_eq!(status, 200);
    let whoami: Value = serde_json::from_str(&whoami).unwrap();
    assert_eq!(
        whoami["result"]["structuredContent"]["subject"],
        "mcp-clients"
    );
    let (_, _, explode) = exchange(&direct.endpoint, &cases[10]).await;
    let explode: Value = serde_json::from_str(&explode).unwrap();
    let text = explode["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.starts_with("InternalError: "), "{text}");
    // An unknown tool and a tool the caller may not see get the same -32602 error, but for
    // the name (a restricted plugin's, a permission the token lacks).
    let named = |what: &str| cases.iter().find(|c| c.what == what).unwrap();
    for (what, name) in [
        ("unknown tool", "no_such_tool"),
        (
            "another plugin's action with a restricted token",
            "e2e_other_plugin",
        ),
        ("a permission the token lacks", "e2e_write_secret"),
    ] {
        let (status, _, body) = exchange(&direct.endpoint, named(what)).await;
        assert_eq!(status, 200, "{what}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["error"]["code"], -32602, "{what}: {body}");
        assert_eq!(
            body["error"]["message"],
            format!("NotFoundError: Action \"{name}\" not found"),
            "{what}"
        );
    }
    // An action's own NotAllowedError stays in-band.
    let (_, _, own) = exchange(&direct.endpoint, &call_case("NotAllowedError")).await;
    let own: Value = serde_json::from_str(&own).unwrap();
    assert_eq!(own["result"]["isError"], true, "{own}");
    assert_eq!(
        own["result"]["content"][0]["text"],
        "NotAllowedError: not for you"
    );
}

fn call_case(error: &'static str) -> Case {
    case(
        "each kind of error",
        FULL_TOKEN,
        call(json!(error), "e2e_fail", json!({"error": error})),
    )
}

/// Header variants real clients send (all of which the direct path takes or leaves alone
/// correctly): each revision it answers, a charset, the media types the other way round, a
/// wildcard, weights, upper case, a Host with the port.
const HEADER_VARIANTS: &[&[(&str, &str)]] = &[
    &[("mcp-protocol-version", "2024-11-05")],
    &[("mcp-protocol-version", "2025-03-26")],
    &[("content-type", "application/json; charset=utf-8")],
    &[("content-type", "APPLICATION/JSON")],
    &[("accept", "text/event-stream, application/json")],
    &[("accept", "application/json, text/event-stream, */*")],
    &[("accept", "application/json;q=0.9, text/event-stream;q=0.8")],
    &[("accept", "application/json")],
    &[("accept", "*/*")],
    &[("host", "localhost")],
    &[("origin", "http://localhost")],
    &[("mcp-session-id", "0123")],
];

#[tokio::test]
async fn direct_dispatch_answers_as_rmcp_under_every_header_variant() {
    let direct = TestServer::start(e2e_builder()).await;
    let rmcp = TestServer::start(e2e_builder().direct_dispatch(false)).await;
    let mut compared = 0;
    for variant in HEADER_VARIANTS {
        for base in cases() {
            let case = Case {
                headers: variant.to_vec(),
                ..base
            };
            let got = exchange(&direct.endpoint, &case).await;
            let want = exchange(&rmcp.endpoint, &case).await;
            assert_eq!(got, want, "{} with {variant:?}: {}", case.what, case.body);
            compared += 1;
        }
    }
    assert_eq!(compared, HEADER_VARIANTS.len() * cases().len());
}
