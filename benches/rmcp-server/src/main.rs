//! `greet_user` on plain rmcp 3.9: what a team writes without mcp-actions.
//!
//! Usage: `rmcp-server PORT` (binds 127.0.0.1 only; `0` picks a free port). The token is read
//! from `MCP_TOKEN`. Prints `listening on 127.0.0.1:PORT` once bound.

use std::sync::Arc;

use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use http::{StatusCode, header};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ServerHandler, tool, tool_handler, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Who to greet.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct GreetInput {
    /// The name of the person to greet
    pub name: String,
}

/// The greeting.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct GreetOutput {
    /// The generated greeting
    pub greeting: String,
}

/// The caller, as the auth middleware found it (what mcp-actions hands its actions).
#[derive(Debug, Clone)]
pub struct Caller {
    pub subject: Arc<str>,
}

#[derive(Clone)]
pub struct Greeter {
    tool_router: Arc<ToolRouter<Greeter>>,
}

#[tool_router]
impl Greeter {
    fn new() -> Self {
        Self { tool_router: Arc::new(Self::tool_router()) }
    }

    /// Generate a personalized greeting.
    #[tool(
        name = "greet_user",
        title = "Greet User",
        annotations(title = "Greet User", read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn greet_user(
        &self,
        Parameters(input): Parameters<GreetInput>,
    ) -> Result<Json<GreetOutput>, String> {
        if input.name.trim().is_empty() {
            return Err("InputError: name must not be empty".to_owned());
        }
        Ok(Json(GreetOutput { greeting: format!("Hello {}!", input.name) }))
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Greeter {}

async fn bearer_auth(token: Arc<str>, mut req: Request, next: Next) -> Response {
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if presented != Some(&*token) {
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
    req.extensions_mut().insert(Caller { subject: Arc::from("mcp-clients") });
    next.run(req).await
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let port: u16 = std::env::args().nth(1).as_deref().unwrap_or("0").parse()?;
    let token: Arc<str> = std::env::var("MCP_TOKEN")?.into();
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .with_allowed_hosts(["localhost", "127.0.0.1"]);
    // Built once; the factory (called per stateless request) clones an Arc.
    let greeter = Greeter::new();
    let service = StreamableHttpService::new(
        move || Ok(greeter.clone()),
        Arc::new(NeverSessionManager::default()),
        config,
    );
    let app = axum::Router::new()
        .route_service("/api/mcp-actions/v1", service)
        .layer(middleware::from_fn(move |req, next| bearer_auth(token.clone(), req, next)));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on {}", listener.local_addr()?);
    // TCP_NODELAY, as mcp-actions-server sets it.
    use axum::serve::ListenerExt;
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app).await?;
    Ok(())
}
