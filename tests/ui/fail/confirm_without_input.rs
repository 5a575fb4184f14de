use mcp_actions::prelude::*;

#[derive(Serialize, JsonSchema)]
struct Out {
    done: bool,
}

/// Purge everything.
#[action(title = "Purge", confirm = "Purge {what}?")]
async fn purge() -> Result<Out, ActionError> {
    Ok(Out { done: true })
}

fn main() {}
