//! Bytes → an HTTP POST through the server's axum router (in process, `tower::ServiceExt::oneshot`).
//!
//! The first byte picks the request head (token, `MCP-Protocol-Version`, `Accept`,
//! `Content-Type`); the rest is the body. Whatever arrives, the server must answer without
//! panicking and without a 5xx (a 5xx for client input would be a server bug).
#![no_main]

use std::sync::LazyLock;

use axum::Router;
use axum::body::Body;
use libfuzzer_sys::fuzz_target;
use mcp_actions::Registry;
use mcp_actions_fuzz::{CONFIG, TOKEN};
use mcp_actions_server::{ActionsServer, ConfigLoader, MCP_PATH};
use tower::ServiceExt;

struct Harness {
    runtime: tokio::runtime::Runtime,
    router: Router,
}

static HARNESS: LazyLock<Harness> = LazyLock::new(|| {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
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
        .build()
        .expect("the fuzz server builds");
    // The router spawns nothing until a request arrives, but build it inside the runtime
    // anyway, as a real server does.
    let router = runtime.block_on(async { server.router("http://127.0.0.1:7007") });
    Harness { runtime, router }
});

const VERSIONS: [Option<&str>; 4] = [
    None,
    Some("2025-11-25"),
    Some("2026-07-28"),
    Some("1999-01-01"),
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let harness = &*HARNESS;
    let mut request = http::Request::post(MCP_PATH).header("host", "127.0.0.1:7007");
    request = match selector & 0b11 {
        0 | 1 => request.header("authorization", format!("Bearer {TOKEN}")),
        2 => request.header("authorization", "Bearer fuzz-restricted-token"),
        _ => request,
    };
    if let Some(version) = VERSIONS[usize::from((selector >> 2) & 0b11)] {
        request = request.header("mcp-protocol-version", version);
    }
    if selector & 0b1_0000 == 0 {
        request = request.header("accept", "application/json, text/event-stream");
    } else {
        request = request.header("accept", "text/plain");
    }
    if selector & 0b10_0000 == 0 {
        request = request.header("content-type", "application/json");
    }
    let request = request.body(Body::from(body.to_vec())).expect("a request");
    harness.runtime.block_on(async {
        let response = harness
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("the router is infallible");
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 16 * 1024 * 1024)
            .await
            .expect("the response body is read");
        assert!(
            !status.is_server_error(),
            "{status} for client input: {}",
            String::from_utf8_lossy(&bytes)
        );
    });
});
