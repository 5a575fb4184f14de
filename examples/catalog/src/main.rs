//! Serves the catalog actions:
//! `cargo run -p catalog -- --config examples/catalog/app-config.yaml`.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // `catalog::setup` registers the catalog's store and its permission policy (from the
    // `catalog.policy` config section); referencing it also links the crate's actions.
    mcp_actions_server::run!(catalog::setup).await
}
