use mcp_actions::prelude::*;

#[derive(Deserialize, JsonSchema)]
struct In {
    name: String,
}

#[derive(Serialize, JsonSchema)]
struct Out {
    greeting: String,
}

/// Greet someone.
#[action(title = "Greet")]
async fn greet(input: In, ctx: ActionContext) -> Result<Out, ActionError> {
    let _ = ctx;
    Ok(Out { greeting: input.name })
}

fn main() {}
