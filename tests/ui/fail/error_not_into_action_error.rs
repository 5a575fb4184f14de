use mcp_actions::prelude::*;

#[derive(Deserialize, JsonSchema)]
struct In {
    name: String,
}

#[derive(Serialize, JsonSchema)]
struct Out {
    greeting: String,
}

#[derive(Debug)]
struct GreetError;

/// Greet someone.
#[action(title = "Greet")]
async fn greet(input: In) -> Result<Out, GreetError> {
    Ok(Out { greeting: input.name })
}

fn main() {}
