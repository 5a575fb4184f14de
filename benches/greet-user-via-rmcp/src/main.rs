//! `greet-user` with `ActionsServerBuilder::direct_dispatch(false)`.

use greet_user as _; // links the crate, so its actions are collected

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    mcp_actions_server::run_with(|builder| {
        Ok::<_, std::convert::Infallible>(builder.direct_dispatch(false))
    })
    .await
}
