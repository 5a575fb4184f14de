//! Direct dispatch: the common stateless requests answered without rmcp's per-request service.
//!
//! For every stateless POST, rmcp's Streamable HTTP service parses the message into its
//! `ClientJsonRpcMessage`, builds a whole MCP service around a one-shot transport, spawns its
//! serve loop and waits on a channel for the answer: about two thirds of the CPU time of a
//! `tools/call` of a trivial action, and two or three hand-offs between threads (see
//! `benches/`). The two requests an MCP client sends over and over — `tools/call` and
//! `tools/list` — need none of it when they carry nothing but a name and arguments.
//!
//! [`answer`] takes such a request — and only when it is plainly one of them — and answers it
//! with the same handler calls and the same rmcp model types, serialized the way rmcp does, so
//! the bytes on the wire are the same. Anything else (another method, `_meta` such as a
//! progress token, the 2026-07-28 per-request lifecycle, an unusual
//! header, a body of another shape) returns `None` and goes through rmcp as before, errors
//! included. The differential test in `tests/e2e/direct.rs` sends the same requests both ways
//! and compares the answers.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::response::Response;
use http::request::Parts;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use mcp_actions::{BoxFuture, CallOptions, Credentials};
use rmcp::ErrorData as McpError;
use rmcp::model::{
    CallToolResponse, CallToolResult, ProtocolVersion, RequestId, ServerJsonRpcMessage,
    ServerResult,
};
use serde::Deserialize;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::body::content_type_is_json;
use crate::mcp::ActionsHandler;

/// Whether requests of the revision `version` may be answered here: a revision rmcp knows and
/// the handler supports, from before both the SEP-2243 standard headers (`Mcp-Method`,
/// `Mcp-Name`, which rmcp checks against the body) and the per-request `_meta` lifecycle.
/// Taken from rmcp's own definitions, so an rmcp upgrade that adds or moves a revision moves
/// this line with it.
fn answered_directly(version: &str) -> bool {
    ProtocolVersion::KNOWN_VERSIONS
        .iter()
        .find(|known| known.as_str() == version)
        .is_some_and(|known| known.has_initialize() && *known < ProtocolVersion::STANDARD_HEADERS)
}

/// What [`Direct::answer`] needs besides the request: the handler.
#[derive(Clone)]
pub(crate) struct Direct {
    handler: ActionsHandler,
}

impl Direct {
    pub(crate) fn new(handler: ActionsHandler) -> Self {
        Self { handler }
    }

    /// The answer to a plain stateless `tools/call` or `tools/list`, or `None` for rmcp.
    pub(crate) async fn answer(&self, parts: &Parts, body: &Bytes) -> Option<Response> {
        if !self.head_is_plain(parts) {
            return None;
        }
        let credentials = parts.extensions.get::<Credentials>()?;
        let request: PlainRequest = serde_json::from_slice(body).ok()?;
        if request.jsonrpc != "2.0" {
            return None;
        }
        let answer = match (&*request.method, request.params) {
            ("tools/list", None) => self
                .handler
                .list_for(credentials, None, false)
                .await
                .map(ServerResult::ListToolsResult),
            ("tools/list", Some(Value::Object(mut params))) => {
                let cursor = match params.remove("cursor") {
                    None => None,
                    Some(Value::String(cursor)) => Some(cursor),
                    Some(_) => return None,
                };
                if !params.is_empty() {
                    return None; // `_meta`: rmcp's
                }
                self.handler
                    .list_for(credentials, cursor.as_deref(), false)
                    .await
                    .map(ServerResult::ListToolsResult)
            }
            ("tools/call", Some(Value::Object(mut params))) => {
                let name = match params.remove("name") {
                    Some(Value::String(name)) => name,
                    _ => return None,
                };
                let arguments = match params.remove("arguments") {
                    None => None,
                    Some(Value::Object(arguments)) => Some(Value::Object(arguments)),
                    Some(_) => return None,
                };
                if !params.is_empty() {
                    return None; // `_meta` (a progress token), `task`, …: rmcp's
                }
                call(&self.handler, name, arguments, credentials.clone()).await
            }
            _ => return None,
        };
        let mut result = match answer {
            Ok(result) => result,
            Err(error) => {
                return Some(json_response(&ServerJsonRpcMessage::error(
                    error,
                    Some(request.id),
                )));
            }
        };
        // As rmcp answers a peer on a revision before 2026-07-28: no `resultType`.
        result.strip_result_type_for_legacy_peer();
        tracing::trace!(method = %request.method, "answered directly (not through rmcp's service)");
        Some(json_response(&ServerJsonRpcMessage::response(
            result, request.id,
        )))
    }

    /// A POST with the headers of an ordinary stateless request, which rmcp would accept (the
    /// guard has checked its `Host`): no `Origin`, both media types accepted (no parameters),
    /// a JSON body, a revision [answered directly](answered_directly), and no other `Mcp-*`
    /// header.
    fn head_is_plain(&self, parts: &Parts) -> bool {
        parts.method == Method::POST
            && !parts.headers.contains_key(header::ORIGIN)
            && accepts_json_and_sse(&parts.headers)
            && content_type_is_json(&parts.headers)
            && plain_mcp_headers(&parts.headers)
    }
}

/// A JSON-RPC request of the plain form: nothing but these four members.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlainRequest {
    jsonrpc: String,
    id: RequestId,
    method: String,
    /// `Some(Value::Null)` for `"params": null`, `None` when absent.
    #[serde(default, deserialize_with = "present")]
    params: Option<Value>,
}

fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

/// `Accept` values without parameters or quotes that name both `application/json` and
/// `text/event-stream`.
fn accepts_json_and_sse(headers: &HeaderMap) -> bool {
    let (mut json, mut sse) = (false, false);
    for value in headers.get_all(header::ACCEPT) {
        let Ok(value) = value.to_str() else {
            return false;
        };
        if value.contains([';', '"']) {
            return false;
        }
        for essence in value.split(',').map(str::trim) {
            json |= essence.eq_ignore_ascii_case("application/json");
            sse |= essence.eq_ignore_ascii_case("text/event-stream");
        }
    }
    json && sse
}

/// One `MCP-Protocol-Version` of a revision [answered directly](answered_directly), and no
/// other `Mcp-*` header (session id, `Mcp-Method`, `Mcp-Name`, `Mcp-Param-*`).
fn plain_mcp_headers(headers: &HeaderMap) -> bool {
    let mut version = None;
    for (name, value) in headers {
        let name = name.as_str();
        if !name.starts_with("mcp-") {
            continue;
        }
        if name != "mcp-protocol-version" || version.is_some() {
            return false;
        }
        version = Some(value);
    }
    version
        .and_then(|v| v.to_str().ok())
        .is_some_and(answered_directly)
}

/// Calls the tool in place. Cancelled (with the action seeing its cancellation token fire)
/// when the client goes away or the server's grace period is over, as through rmcp.
async fn call(
    handler: &ActionsHandler,
    name: String,
    arguments: Option<Value>,
    credentials: Credentials,
) -> Result<ServerResult, McpError> {
    let cancellation = handler.call_cancellation();
    let options = CallOptions::new(credentials).with_cancellation(cancellation.clone());
    let handler = handler.clone();
    FinishOnDrop {
        call: Some(Box::pin(async move {
            handler.call(&name, arguments, options).await
        })),
        cancellation,
    }
    .await
    .map(|result| ServerResult::from(CallToolResponse::from(result)))
}

/// What [`ActionsHandler::call`] answers: a tool result, or -32602 for an unknown tool.
type CallOutcome = Result<CallToolResult, McpError>;

/// A call polled in place by the request's future. When that future is dropped first (the
/// client disconnected), the call's cancellation token is cancelled and the call is moved to
/// a task of its own, so the action sees the cancellation and ends as it chooses, instead of
/// being dropped at an arbitrary await point.
struct FinishOnDrop {
    call: Option<BoxFuture<'static, CallOutcome>>,
    cancellation: CancellationToken,
}

impl Future for FinishOnDrop {
    type Output = CallOutcome;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<CallOutcome> {
        let Some(call) = self.call.as_mut() else {
            panic!("FinishOnDrop polled after it finished");
        };
        let result = std::task::ready!(call.as_mut().poll(cx));
        self.call = None;
        Poll::Ready(result)
    }
}

impl Drop for FinishOnDrop {
    fn drop(&mut self) {
        if let Some(call) = self.call.take() {
            self.cancellation.cancel();
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(call);
            }
        }
    }
}

/// The message as rmcp sends a JSON answer: status 200, `Content-Type: application/json`.
fn json_response(message: &ServerJsonRpcMessage) -> Response {
    match serde_json::to_vec(message) {
        Ok(body) => {
            let mut response = Response::new(Body::from(body));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
        }
        Err(error) => {
            tracing::error!(%error, "could not serialize a JSON-RPC answer");
            let mut response = Response::new(Body::from("Internal Server Error"));
            *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            response
        }
    }
}

#[cfg(test)]
mod tests {
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
            (&[("mcp-session-id", "abc")], &[]),
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
    fn only_pre_2026_versions_without_other_mcp_headers_qualify() {
        let ok = |pairs: &[(&str, &str)]| plain_mcp_headers(&headers(pairs));
        assert!(ok(&[("mcp-protocol-version", "2025-11-25")]));
        assert!(ok(&[("mcp-protocol-version", "2025-06-18")]));
        assert!(!ok(&[("mcp-protocol-version", "2026-07-28")]));
        assert!(!ok(&[("mcp-protocol-version", "2099-01-01")]));
        assert!(!ok(&[]), "no version header: rmcp's default applies");
        assert!(!ok(&[
            ("mcp-protocol-version", "2025-11-25"),
            ("mcp-protocol-version", "2025-11-25")
        ]));
        assert!(!ok(&[
            ("mcp-protocol-version", "2025-11-25"),
            ("mcp-session-id", "abc")
        ]));
        assert!(!ok(&[
            ("mcp-protocol-version", "2025-11-25"),
            ("mcp-method", "tools/call")
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
        let parse = |s: &str| serde_json::from_slice::<PlainRequest>(s.as_bytes()).is_ok();
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
    }
}
