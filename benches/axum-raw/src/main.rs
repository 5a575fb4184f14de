//! `greet_user` as a bare axum handler speaking just enough JSON-RPC/MCP for `tools/call` and
//! `tools/list`: the upper limit a Rust MCP server can reach on this machine.
//!
//! Usage: `axum-raw PORT` (binds 127.0.0.1 only; `0` picks a free port). The token is read from
//! `MCP_TOKEN`. Prints `listening on 127.0.0.1:PORT` once bound.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use http::{HeaderMap, StatusCode, header};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The `tools/list` result, as mcp-actions and rmcp send it for this tool (built once).
const TOOLS: &str = include_str!("tools.json");

struct AppState {
    token: String,
    tools: Value,
}

#[derive(Deserialize)]
struct JsonRpcRequest {
    jsonrpc: String,
    #[serde(default)]
    id: Option<Value>,
    method: String,
    #[serde(default)]
    params: Option<Value>,
}

#[derive(Deserialize)]
struct CallParams {
    name: String,
    #[serde(default)]
    arguments: Option<Value>,
}

#[derive(Deserialize)]
struct GreetInput {
    name: String,
}

#[derive(Serialize)]
struct GreetOutput {
    greeting: String,
}

fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn rpc_error(id: Option<Value>, code: i64, message: &str) -> Response {
    let body = json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}});
    json_response(StatusCode::OK, serde_json::to_vec(&body).unwrap())
}

#[derive(Serialize)]
struct TextBlock {
    #[serde(rename = "type")]
    kind: &'static str,
    text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CallToolResult {
    content: Vec<TextBlock>,
    #[serde(skip_serializing_if = "Option::is_none")]
    structured_content: Option<Value>,
    is_error: bool,
}

#[derive(Serialize)]
struct JsonRpcResponse<T> {
    jsonrpc: &'static str,
    id: Value,
    result: T,
}

fn tool_result(id: Value, is_error: bool, output: Option<Value>, text: String) -> Response {
    let result = CallToolResult {
        content: vec![TextBlock { kind: "text", text }],
        structured_content: output,
        is_error,
    };
    let body = JsonRpcResponse { jsonrpc: "2.0", id, result };
    json_response(StatusCode::OK, serde_json::to_vec(&body).unwrap())
}

async fn mcp(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    let authorized = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        == Some(state.token.as_str());
    if !authorized {
        return (
            StatusCode::UNAUTHORIZED,
            [(
                header::WWW_AUTHENTICATE,
                "Bearer resource_metadata=\"http://127.0.0.1/.well-known/oauth-protected-resource/api/mcp-actions/v1\"",
            )],
            "unauthorized",
        )
            .into_response();
    }
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !(accept.contains("application/json") && accept.contains("text/event-stream")) {
        return (StatusCode::NOT_ACCEPTABLE, "Not Acceptable").into_response();
    }
    let request: JsonRpcRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(_) => return rpc_error(None, -32700, "Parse error"),
    };
    let Some(id) = request.id else {
        return StatusCode::ACCEPTED.into_response(); // a notification
    };
    if request.jsonrpc != "2.0" {
        return rpc_error(Some(id), -32600, "Invalid Request");
    }
    match request.method.as_str() {
        "tools/list" => {
            let body = JsonRpcResponse { jsonrpc: "2.0", id, result: &state.tools };
            json_response(StatusCode::OK, serde_json::to_vec(&body).unwrap())
        }
        "tools/call" => {
            let params: CallParams = match request.params.map(serde_json::from_value) {
                Some(Ok(p)) => p,
                _ => return rpc_error(Some(id), -32602, "Invalid params"),
            };
            if params.name != "greet_user" {
                return rpc_error(Some(id), -32602, "tool not found");
            }
            let input: GreetInput =
                match serde_json::from_value(params.arguments.unwrap_or_else(|| json!({}))) {
                    Ok(i) => i,
                    Err(e) => return tool_result(id, true, None, format!("InputError: {e}")),
                };
            if input.name.trim().is_empty() {
                return tool_result(id, true, None, "InputError: name must not be empty".into());
            }
            let output = serde_json::to_value(GreetOutput { greeting: format!("Hello {}!", input.name) })
                .unwrap();
            let text = output.to_string();
            tool_result(id, false, Some(output), text)
        }
        _ => rpc_error(Some(id), -32601, "Method not found"),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let port: u16 = std::env::args().nth(1).as_deref().unwrap_or("0").parse()?;
    let token = std::env::var("MCP_TOKEN")?;
    let state = Arc::new(AppState { token, tools: serde_json::from_str(TOOLS)? });
    let app = axum::Router::new().route("/api/mcp-actions/v1", post(mcp)).with_state(state);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on {}", listener.local_addr()?);
    use axum::serve::ListenerExt;
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app).await?;
    Ok(())
}
