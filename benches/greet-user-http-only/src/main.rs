//! `greet_user` served over Streamable HTTP only: `greet-user-http-only [--config FILE]…`,
//! stopped by Ctrl-C or SIGTERM. No CLI crate: the arguments are read by hand.

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
    let mut args = std::env::args_os().skip(1);
    let mut loader = ConfigLoader::new();
    while let Some(arg) = args.next() {
        anyhow::ensure!(arg == "--config", "usage: greet-user-http-only [--config FILE]…");
        let file = args.next().ok_or_else(|| anyhow::anyhow!("--config needs a file"))?;
        loader = loader.file(file);
    }
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
