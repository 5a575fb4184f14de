use mcp_actions::prelude::*;

#[derive(Deserialize, JsonSchema)]
struct In {
    name: String,
}

#[derive(Serialize, JsonSchema)]
struct Out {
    greeting: String,
}

struct Greeter;

impl Greeter {
    /// Greet someone.
    #[action(title = "Greet")]
    async fn greet(&self, input: In) -> Result<Out, ActionError> {
        Ok(Out { greeting: input.name })
    }
}

fn main() {}
