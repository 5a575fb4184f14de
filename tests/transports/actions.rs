//! Test-only actions, in plugin `transports`.

use std::time::Duration;

use mcp_actions::prelude::*;

/// Who the handler saw.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct Caller {
    /// The principal as displayed, e.g. `service:alice`
    pub principal: String,
}

/// Say who is calling.
#[action(plugin = "transports", title = "Who Am I", read_only)]
async fn transports_whoami(ctx: &ActionContext) -> Result<Caller, ActionError> {
    Ok(Caller {
        principal: ctx.principal().to_string(),
    })
}

/// How long to work.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct WorkInput {
    /// Milliseconds
    pub millis: u64,
}

/// What was done.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct WorkOutput {
    /// Milliseconds worked
    pub worked: u64,
}

/// Work for a while without sending anything (a long call on a quiet session).
#[action(plugin = "transports", title = "Work", read_only)]
async fn transports_work(input: WorkInput) -> Result<WorkOutput, ActionError> {
    tokio::time::sleep(Duration::from_millis(input.millis)).await;
    Ok(WorkOutput {
        worked: input.millis,
    })
}
