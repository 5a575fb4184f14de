use std::rc::Rc;

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
async fn greet(input: In, ctx: &ActionContext) -> Result<Out, ActionError> {
    let name = Rc::new(input.name);
    ctx.progress(1.0, None, None).await;
    Ok(Out { greeting: name.to_string() })
}

fn main() {}
