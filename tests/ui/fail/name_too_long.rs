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
#[action(
    name = "greet_the_user_with_a_very_long_and_rather_detailed_personalized_message",
    title = "Greet"
)]
async fn greet(input: In) -> Result<Out, ActionError> {
    Ok(Out { greeting: input.name })
}

fn main() {}
