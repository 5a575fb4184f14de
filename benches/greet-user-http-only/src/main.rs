//! `greet_user` served over Streamable HTTP only, configured from `MCP_CONFIG` (a YAML file) or
//! the defaults, stopped by Ctrl-C or SIGTERM.

use mcp_actions::prelude::*;
use mcp_actions_server::{ActionsServer, ConfigLoader};

#[derive(Deserialize, JsonSchema)]
struct GreetInput {
    /// Who to greet.
    name: String,
}

#[derive(Serialize, JsonSchema)]
struct GreetOutput {
    greeting: String,
}

/// Generate a personalized greeting.
#[action(name = "greet_user", title = "Greet User", read_only, idempotent)]
async fn greet_user(input: GreetInput) -> Result<GreetOutput, ActionError> {
    Ok(GreetOutput {
        greeting: format!("Hello {}!", input.name),
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let loader = ConfigLoader::new().files(std::env::var_os("MCP_CONFIG"));
    let server = ActionsServer::builder().config(loader.load()?).build()?;
    let listener = server.bind().await?;
    let stop = async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("a SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    };
    server.serve_with_shutdown(listener, stop).await?;
    Ok(())
}
