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
#[action(title = "Greet", read_only = "yes")]
async fn greet(input: In) -> Result<Out, ActionError> {
    Ok(Out { greeting: input.name })
}

fn main() {}
