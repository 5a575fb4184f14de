//! The transports suite's servers: its tokens, the handler of its actions, and [`SseServer`],
//! the SSE endpoints of that handler served alone.

use std::sync::Arc;

use mcp_actions::Credentials;
use mcp_actions_server::config::Secret;
use mcp_actions_server::transport::{SseEndpoint, SseOptions};
use mcp_actions_server::{
    ActionsHandler, ActionsServer, Authenticator, MCP_PATH, StaticTokenAuthenticator,
};
use mcp_actions_tests::prelude::*;
use tokio_util::sync::CancellationToken;

/// Subject `alice`.
pub const ALICE: &str = "alice-token-1";
/// Also subject `alice`, no restrictions: the same identity as [`ALICE`] (a rotated token).
pub const ALICE_ROTATED: &str = "alice-token-2";
/// Subject `alice` restricted to plugin `transports`: another identity.
pub const ALICE_RESTRICTED: &str = "alice-token-restricted";
/// Subject `bob`.
pub const BOB: &str = "bob-token-1";

/// The tokens above.
pub fn authenticator() -> Arc<dyn Authenticator> {
    Arc::new(
        StaticTokenAuthenticator::new()
            .with_token(Secret::new(ALICE), Credentials::service("alice"))
            .with_token(Secret::new(ALICE_ROTATED), Credentials::service("alice"))
            .with_token(
                Secret::new(ALICE_RESTRICTED),
                Credentials::service("alice")
                    .with_restrictions([mcp_actions::AccessRestriction::plugin("transports")]),
            )
            .with_token(Secret::new(BOB), Credentials::service("bob")),
    )
}

/// The handler of a server with the `transports` actions and `greet_user`.
pub fn handler() -> ActionsHandler {
    ActionsServer::builder()
        .config(config("mcpActions: { name: transports-test }"))
        .registry(registry(&["transports", "greet-user"]))
        .build()
        .expect("the test server builds")
        .handler()
        .clone()
}

/// The SSE endpoints of [`handler`] on an ephemeral loopback port; stops when dropped.
pub struct SseServer {
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    /// The endpoint, for its session count.
    pub endpoint: SseEndpoint,
    server: TestServer,
}

impl SseServer {
    /// Serves the default server's SSE endpoints with `options`.
    pub async fn start(options: SseOptions) -> Self {
        // The server's shutdown also ends the endpoint's open streams.
        let shutdown = CancellationToken::new();
        let endpoint = SseEndpoint::new(MCP_PATH, handler(), authenticator())
            .challenge("Bearer resource_metadata=\"http://test.invalid/prm\"")
            .options(options)
            .shutdown_token(shutdown.clone());
        let server = TestServer::serve_router(endpoint.router(), shutdown).await;
        Self {
            base_url: server.base_url.clone(),
            endpoint,
            server,
        }
    }

    /// `…/api/mcp-actions/v1/sse`.
    pub fn sse_url(&self) -> String {
        self.server.url(&format!("{MCP_PATH}/sse"))
    }

    /// `…/api/mcp-actions/v1/sse/messages`.
    pub fn messages_url(&self) -> String {
        self.server.url(&format!("{MCP_PATH}/sse/messages"))
    }

    /// Shuts down gracefully and waits for the server to stop.
    pub async fn stop(self) {
        self.server.stop().await.expect("the test server serves");
    }
}
