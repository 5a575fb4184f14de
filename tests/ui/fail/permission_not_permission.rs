use mcp_actions::prelude::*;

#[derive(Deserialize, JsonSchema)]
struct In {
    name: String,
}

#[derive(Serialize, JsonSchema)]
struct Out {
    greeting: String,
}

const GREET: &str = "greet.read";

/// Greet someone.
#[action(title = "Greet", permission = GREET)]
async fn greet(input: In) -> Result<Out, ActionError> {
    Ok(Out { greeting: input.name })
}

fn main() {}
