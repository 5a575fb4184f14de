//! Direct dispatch (plain stateless `tools/call` / `tools/list` / `server/discover` answered
//! without rmcp's per-request service) gives the same answers as rmcp: every request here goes
//! to a server with it and to one without it (`direct_dispatch(false)`), and the status,
//! content type and body must be the same, on both revisions (2025-11-25 and the 2026-07-28
//! per-request lifecycle, with every variant of its SEP-2243 headers). Requests the direct
//! path leaves to rmcp are in the list too.

use mcp_actions_tests::prelude::*;
use serde_json::{Value, json};

use crate::setup::*;

/// One request: the token, replaced, removed and repeated headers, and the body.
#[derive(Clone)]
struct Case {
    what: String,
    token: &'static str,
    /// Replace the standard header of the same name (or are added).
    headers: Vec<(&'static str, String)>,
    /// Standard headers left out.
    without: Vec<&'static str>,
    /// Added as they are, after the others (a repeated header).
    repeated: Vec<(&'static str, String)>,
    body: Value,
}

fn case(what: impl Into<String>, token: &'static str, body: Value) -> Case {
    Case {
        what: what.into(),
        token,
        headers: Vec::new(),
        without: Vec::new(),
        repeated: Vec::new(),
        body,
    }
}

impl Case {
    fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    fn without(mut self, name: &'static str) -> Self {
        self.without.push(name);
        self
    }

    fn repeated(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.repeated.push((name, value.into()));
        self
    }

    fn named(mut self, what: impl Into<String>) -> Self {
        self.what = what.into();
        self
    }

    /// The same request on 2026-07-28: the metadata it requires in `_meta`, the
    /// `MCP-Protocol-Version`, `Mcp-Method` and (for `tools/call`) `Mcp-Name` headers.
    /// Bodies that are not a request with object (or no) params are kept as they are.
    fn on_2026(&self) -> Self {
        let mut modern = self.clone().named(format!("{} (2026-07-28)", self.what));
        modern = modern.header("mcp-protocol-version", V2026);
        let Some(method) = self.body["method"].as_str() else {
            return modern;
        };
        modern = modern.header("mcp-method", method);
        if let Some(name) = self.body["params"]["name"].as_str() {
            modern = modern.header("mcp-name", name);
        }
        if self.body.get("id").is_some() {
            match &mut modern.body["params"] {
                params @ Value::Null => *params = json!({"_meta": meta_2026()}),
                Value::Object(params) => {
                    let meta = params.entry("_meta").or_insert_with(|| json!({}));
                    if let Value::Object(meta) = meta {
                        for (key, value) in meta_2026().as_object().unwrap() {
                            meta.entry(key.clone()).or_insert(value.clone());
                        }
                    }
                }
                _ => {}
            }
        }
        modern
    }
}

/// The `_meta` 2026-07-28 requires (with the optional client info).
fn meta_2026() -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": V2026,
        "io.modelcontextprotocol/clientInfo": {"name": "differential", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": {}
    })
}

fn request_2026(id: Value, method: &str, params: Value) -> Case {
    case(
        method,
        FULL_TOKEN,
        json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}),
    )
    .on_2026()
}

/// The 2026-07-28 cases: every 2025 case in that revision's shape, then what only it has:
/// `server/discover`, the metadata in `_meta` and the SEP-2243 headers, right and wrong.
fn cases_2026() -> Vec<Case> {
    let mut cases: Vec<Case> = cases().iter().map(Case::on_2026).collect();
    let whoami = call(json!(100), "e2e_whoami", json!({}));
    let whoami = case("whoami", FULL_TOKEN, whoami).on_2026();
    let discover = request_2026(json!(101), "server/discover", json!({}));
    cases.extend([
        discover.clone(),
        discover.clone().named("discover with a restricted token"),
        discover
            .clone()
            .named("discover with an unrelated header")
            .header("x-unrelated", "y"),
        case(
            "discover with another param",
            FULL_TOKEN,
            json!({"jsonrpc": "2.0", "id": 102, "method": "server/discover",
                   "params": {"_meta": meta_2026(), "extra": 1}}),
        )
        .on_2026(),
        discover
            .clone()
            .named("discover without Mcp-Method")
            .without("mcp-method"),
        case(
            "discover without params",
            FULL_TOKEN,
            json!({"jsonrpc": "2.0", "id": 103, "method": "server/discover"}),
        )
        .header("mcp-protocol-version", V2026)
        .header("mcp-method", "server/discover"),
        request_2026(
            json!(104),
            "tools/list",
            json!({"cursor": "AAAAAgAAAAAAAAAA"}),
        )
        .named("a cursor this server did not issue"),
        whoami
            .clone()
            .named("Mcp-Method missing")
            .without("mcp-method"),
        whoami
            .clone()
            .named("Mcp-Method of another method")
            .header("mcp-method", "tools/list"),
        whoami
            .clone()
            .named("Mcp-Method twice")
            .repeated("mcp-method", "tools/call"),
        whoami.clone().named("Mcp-Name missing").without("mcp-name"),
        whoami
            .clone()
            .named("Mcp-Name of another tool")
            .header("mcp-name", "e2e_echo"),
        whoami
            .clone()
            .named("Mcp-Name in Base64")
            .header("mcp-name", "=?base64?ZTJlX3dob2FtaQ==?="),
        whoami
            .clone()
            .named("Mcp-Name in Base64 of another tool")
            .header("mcp-name", "=?base64?ZTJlX2VjaG8=?="),
        whoami
            .clone()
            .named("Mcp-Name not Base64")
            .header("mcp-name", "=?base64?%%%?="),
        whoami
            .clone()
            .named("Mcp-Name twice")
            .repeated("mcp-name", "e2e_whoami"),
        whoami
            .clone()
            .named("an Mcp-Param header the tool does not declare")
            .header("mcp-param-region", "eu"),
        whoami
            .clone()
            .named("a session id")
            .header("mcp-session-id", "0123"),
        whoami
            .clone()
            .named("the 2025-11-25 header on a 2026 body")
            .header("mcp-protocol-version", V2025),
        request_2026(json!(105), "tools/list", json!({}))
            .named("Mcp-Name on tools/list")
            .header("mcp-name", "e2e_whoami"),
    ]);
    let with_meta = |what: &str, meta: Value| {
        case(
            what.to_owned(),
            FULL_TOKEN,
            json!({"jsonrpc": "2.0", "id": 106, "method": "tools/call",
                   "params": {"name": "e2e_whoami", "arguments": {}, "_meta": meta}}),
        )
        .header("mcp-protocol-version", V2026)
        .header("mcp-method", "tools/call")
        .header("mcp-name", "e2e_whoami")
    };
    let capabilities = json!({});
    cases.extend([
        with_meta(
            "only the required _meta",
            json!({"io.modelcontextprotocol/protocolVersion": V2026,
                   "io.modelcontextprotocol/clientCapabilities": capabilities}),
        ),
        with_meta(
            "_meta without clientCapabilities",
            json!({"io.modelcontextprotocol/protocolVersion": V2026}),
        ),
        with_meta(
            "_meta without protocolVersion",
            json!({"io.modelcontextprotocol/clientCapabilities": capabilities}),
        ),
        with_meta("an empty _meta", json!({})),
        with_meta("_meta that is not an object", json!([1])),
        with_meta(
            "_meta naming another version",
            json!({"io.modelcontextprotocol/protocolVersion": V2025,
                   "io.modelcontextprotocol/clientCapabilities": capabilities}),
        ),
        with_meta(
            "_meta naming an unknown version",
            json!({"io.modelcontextprotocol/protocolVersion": "2099-01-01",
                   "io.modelcontextprotocol/clientCapabilities": capabilities}),
        ),
        with_meta(
            "clientCapabilities that are not an object",
            json!({"io.modelcontextprotocol/protocolVersion": V2026,
                   "io.modelcontextprotocol/clientCapabilities": 7}),
        ),
        with_meta(
            "clientInfo that is not an Implementation",
            json!({"io.modelcontextprotocol/protocolVersion": V2026,
                   "io.modelcontextprotocol/clientCapabilities": capabilities,
                   "io.modelcontextprotocol/clientInfo": "me"}),
        ),
        with_meta(
            "a progress token",
            json!({"io.modelcontextprotocol/protocolVersion": V2026,
                   "io.modelcontextprotocol/clientCapabilities": capabilities,
                   "progressToken": "p"}),
        ),
        with_meta(
            "a log level",
            json!({"io.modelcontextprotocol/protocolVersion": V2026,
                   "io.modelcontextprotocol/clientCapabilities": capabilities,
                   "io.modelcontextprotocol/logLevel": "debug"}),
        ),
        with_meta(
            "a traceparent",
            json!({"io.modelcontextprotocol/protocolVersion": V2026,
                   "io.modelcontextprotocol/clientCapabilities": capabilities,
                   "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}),
        ),
        with_meta(
            "a traceparent and a tracestate",
            json!({"io.modelcontextprotocol/protocolVersion": V2026,
                   "io.modelcontextprotocol/clientCapabilities": capabilities,
                   "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                   "tracestate": "vendor=opaque"}),
        ),
        with_meta(
            "a traceparent that is not a string",
            json!({"io.modelcontextprotocol/protocolVersion": V2026,
                   "io.modelcontextprotocol/clientCapabilities": capabilities,
                   "traceparent": 7}),
        ),
        with_meta(
            "a malformed traceparent",
            json!({"io.modelcontextprotocol/protocolVersion": V2026,
                   "io.modelcontextprotocol/clientCapabilities": capabilities,
                   "traceparent": "not-a-trace"}),
        ),
        with_meta(
            "the tasks capability",
            json!({"io.modelcontextprotocol/protocolVersion": V2026,
                   "io.modelcontextprotocol/clientCapabilities": {"extensions": {"io.modelcontextprotocol/tasks": {}}}}),
        ),
        with_meta("no _meta at all", Value::Null).named("a null _meta"),
    ]);
    cases
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
        cases.push(
            case(what, FULL_TOKEN, call(json!(id), "e2e_whoami", json!({})))
                .header(header.0, header.1),
        );
    }
    cases
}

/// Status, content type and body, byte for byte but for internal-error references (random).
async fn exchange(endpoint: &str, case: &Case) -> (u16, String, String) {
    let mut headers = standard_headers(case.token);
    headers.retain(|(n, _)| !case.without.contains(n));
    for (name, value) in &case.headers {
        headers.retain(|(n, _)| n != name);
        if !case.without.contains(name) {
            headers.push((*name, value.clone()));
        }
    }
    headers.extend(case.repeated.iter().cloned());
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
    let modern = cases_2026();
    for case in cases.iter().chain(&modern) {
        let got = exchange(&direct.endpoint, case).await;
        let want = exchange(&rmcp.endpoint, case).await;
        assert_eq!(got, want, "{}: {}", case.what, case.body);
    }
    // On 2026-07-28: complete results, private list hints, public discovery, header errors.
    let named_2026 = |what: &str| modern.iter().find(|c| c.what == what).unwrap();
    let (status, _, whoami) = exchange(&direct.endpoint, named_2026("whoami (2026-07-28)")).await;
    assert_eq!(status, 200);
    let whoami: Value = serde_json::from_str(&whoami).unwrap();
    assert_eq!(whoami["result"]["resultType"], "complete", "{whoami}");
    assert_eq!(
        whoami["result"]["structuredContent"]["subject"],
        "mcp-clients"
    );
    let (_, _, list) = exchange(
        &direct.endpoint,
        named_2026("list, full token (2026-07-28)"),
    )
    .await;
    let list: Value = serde_json::from_str(&list).unwrap();
    assert_eq!(list["result"]["cacheScope"], "private", "{list}");
    let (status, _, discover) =
        exchange(&direct.endpoint, named_2026("server/discover (2026-07-28)")).await;
    assert_eq!(status, 200);
    let discover: Value = serde_json::from_str(&discover).unwrap();
    assert_eq!(discover["result"]["cacheScope"], "public", "{discover}");
    assert_eq!(discover["result"]["ttlMs"], 60_000, "{discover}");
    assert_eq!(
        discover["result"]["capabilities"]["tools"],
        json!({}),
        "{discover}"
    );
    let (status, _, mismatch) =
        exchange(&direct.endpoint, named_2026("Mcp-Name of another tool")).await;
    assert_eq!(status, 400, "{mismatch}");
    let mismatch: Value = serde_json::from_str(&mismatch).unwrap();
    assert_eq!(mismatch["error"]["code"], -32020, "{mismatch}");
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
/// wildcard, weights, upper case, a Host with the port, SEP-2243 headers on either revision.
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
    &[("mcp-protocol-version", "2026-07-28")],
    &[("mcp-method", "tools/call")],
    &[("Mcp-Method", "tools/list"), ("MCP-NAME", "e2e_whoami")],
];

#[tokio::test]
async fn direct_dispatch_answers_as_rmcp_under_every_header_variant() {
    let direct = TestServer::start(e2e_builder()).await;
    let rmcp = TestServer::start(e2e_builder().direct_dispatch(false)).await;
    let mut compared = 0;
    let all: Vec<Case> = cases().into_iter().chain(cases_2026()).collect();
    for variant in HEADER_VARIANTS {
        for base in &all {
            let case = variant.iter().fold(base.clone(), |case, (name, value)| {
                case.header(name, *value)
            });
            let got = exchange(&direct.endpoint, &case).await;
            let want = exchange(&rmcp.endpoint, &case).await;
            assert_eq!(got, want, "{} with {variant:?}: {}", case.what, case.body);
            compared += 1;
        }
    }
    assert_eq!(compared, HEADER_VARIANTS.len() * all.len());
}
