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
async fn greet(input: In) -> Result<Out, String> {
    if input.name.is_empty() {
        return Err("no name".to_string());
    }
    Ok(Out { greeting: input.name })
}

fn main() {}
