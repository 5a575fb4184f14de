use starter as _; // link the library: only linked crates' actions are served

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    mcp_actions_server::run!().await
}
