//! Differential: the same bytes to a server with direct dispatch and to one without it
//! (`direct_dispatch(false)`: every request through rmcp's Streamable HTTP service). Both must
//! answer with the same status, the same `Content-Type` and the same body, but for the
//! reference ids of internal errors (random).
//!
//! The first byte picks the token (full, restricted, none) and the `MCP-Protocol-Version`
//! (none, 2025-11-25, 2026-07-28, unknown), the second the SEP-2243 headers and the rest of
//! the head: `Mcp-Method` (none, the body's method, another), `Mcp-Name` (none, the body's
//! `params.name`, its Base64 form, another), a repeated `Mcp-Method`, an `Mcp-Param-*`, an
//! `Origin`, the `Accept` header. The rest is the body.
#![no_main]

use std::sync::LazyLock;

use axum::Router;
use axum::body::Body;
use libfuzzer_sys::fuzz_target;
use mcp_actions::Registry;
use mcp_actions_fuzz::{CONFIG, TOKEN, without_references};
use mcp_actions_server::{ActionsServer, ConfigLoader, MCP_PATH};
use tower::ServiceExt;

struct Harness {
    runtime: tokio::runtime::Runtime,
    direct: Router,
    rmcp: Router,
}

static HARNESS: LazyLock<Harness> = LazyLock::new(|| {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let router = |direct: bool| {
        let config = ConfigLoader::new()
            .yaml("fuzz.yaml", CONFIG)
            .env(|_| None)
            .load()
            .expect("the fuzz config is valid");
        let registry = Registry::from_inventory()
            .expect("the fuzz actions are valid")
            .retain(|a| a.plugin() == "fuzz");
        let server = ActionsServer::builder()
            .config(config)
            .registry(registry)
            .direct_dispatch(direct)
            .build()
            .expect("the fuzz server builds");
        runtime.block_on(async { server.router("http://127.0.0.1:7007") })
    };
    let (direct, rmcp) = (router(true), router(false));
    Harness {
        runtime,
        direct,
        rmcp,
    }
});

const VERSIONS: [Option<&str>; 4] = [
    None,
    Some("2025-11-25"),
    Some("2026-07-28"),
    Some("1999-01-01"),
];

/// The request both servers get.
fn request(head: [u8; 2], body: &[u8]) -> http::Request<Body> {
    let [first, second] = head;
    let mut request = http::Request::post(MCP_PATH).header("host", "127.0.0.1:7007");
    request = match first & 0b11 {
        0 | 1 => request.header("authorization", format!("Bearer {TOKEN}")),
        2 => request.header("authorization", "Bearer fuzz-restricted-token"),
        _ => request,
    };
    if let Some(version) = VERSIONS[usize::from((first >> 2) & 0b11)] {
        request = request.header("mcp-protocol-version", version);
    }
    request = request.header("content-type", "application/json");
    let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let method = json
        .as_ref()
        .and_then(|j| j.get("method"))
        .and_then(|m| m.as_str());
    let name = json
        .as_ref()
        .and_then(|j| j.pointer("/params/name"))
        .and_then(|n| n.as_str());
    let header_value = |value: &str| http::HeaderValue::from_str(value).ok();
    match second & 0b11 {
        1 => {
            if let Some(value) = method.and_then(header_value) {
                request = request.header("mcp-method", value);
            }
        }
        2 => request = request.header("mcp-method", "tools/list"),
        _ => {}
    }
    match (second >> 2) & 0b11 {
        1 => {
            if let Some(value) = name.and_then(header_value) {
                request = request.header("mcp-name", value);
            }
        }
        2 => {
            if let Some(name) = name {
                request = request.header("mcp-name", mcp_actions_fuzz::base64_header(name));
            }
        }
        3 => request = request.header("mcp-name", "fuzz_strict"),
        _ => {}
    }
    if second & 0b1_0000 != 0 {
        request = request.header("mcp-method", "tools/call");
    }
    if second & 0b10_0000 != 0 {
        request = request.header("mcp-param-region", "eu");
    }
    if second & 0b100_0000 != 0 {
        request = request.header("origin", "http://localhost");
    }
    request = if second & 0b1000_0000 == 0 {
        request.header("accept", "application/json, text/event-stream")
    } else {
        request.header("accept", "application/json")
    };
    request
        .body(Body::from(body.to_vec()))
        .expect("a request")
}

/// Status, `Content-Type` and body (references blanked) of `router`'s answer.
async fn answer(router: &Router, request: http::Request<Body>) -> (u16, String, String) {
    let response = router
        .clone()
        .oneshot(request)
        .await
        .expect("the router is infallible");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let bytes = axum::body::to_bytes(response.into_body(), 16 * 1024 * 1024)
        .await
        .expect("the response body is read");
    let body = without_references(&String::from_utf8_lossy(&bytes));
    (status, content_type, body)
}

fuzz_target!(|data: &[u8]| {
    let [first, second, body @ ..] = data else {
        return;
    };
    let harness = &*HARNESS;
    harness.runtime.block_on(async {
        let direct = answer(&harness.direct, request([*first, *second], body)).await;
        let rmcp = answer(&harness.rmcp, request([*first, *second], body)).await;
        assert_eq!(
            direct,
            rmcp,
            "direct dispatch and rmcp differ for head {first:#04x} {second:#04x}, body {}",
            String::from_utf8_lossy(body)
        );
    });
});
