use mcp_actions::prelude::*;

#[derive(Deserialize, JsonSchema)]
struct In {
    name: String,
    tags: Vec<String>,
}

#[derive(Serialize, JsonSchema)]
struct Out {
    done: bool,
}

/// Delete something.
#[action(title = "Delete", confirm = "Delete {}?")]
async fn delete_it(input: In) -> Result<Out, ActionError> {
    let _ = (input.name, input.tags);
    Ok(Out { done: true })
}

fn main() {}
