use mcp_actions::prelude::*;

#[derive(Deserialize, JsonSchema)]
struct Target {
    environment: String,
}

#[derive(Serialize, JsonSchema)]
struct Out {
    environment: String,
}

/// Deploy where the user says.
#[action(title = "Deploy")]
async fn deploy(ctx: &ActionContext) -> Result<Out, ActionError> {
    let target: Target = ctx.elicit("Where to?").await?;
    Ok(Out { environment: target.environment })
}

fn main() {}
