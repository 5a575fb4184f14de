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
struct Greeter;

fn main() {}
