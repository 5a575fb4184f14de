//! Serves the `greet_user` action: `cargo run -p greet-user [-- --config FILE]`.

use greet_user as _; // links the crate, so its actions are collected

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // `run!` rather than `run()`: `--version` and `serverInfo` then name this package.
    mcp_actions_server::run!().await
}
