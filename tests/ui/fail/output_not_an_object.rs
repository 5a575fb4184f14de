use mcp_actions::prelude::*;

#[derive(Deserialize, JsonSchema)]
struct In {
    name: String,
}

#[derive(Serialize, JsonSchema)]
struct Entity {
    name: String,
}

/// Greet someone: the output is a bare `String`, not an object.
#[action(title = "Greet")]
async fn greet(input: In) -> Result<String, ActionError> {
    Ok(input.name)
}

/// List: a `Vec`.
#[action(title = "List")]
async fn list(input: In) -> Result<Vec<Entity>, ActionError> {
    Ok(vec![Entity { name: input.name }])
}

/// Find: an `Option`.
#[action(title = "Find")]
async fn find(input: In) -> Result<Option<Entity>, ActionError> {
    Ok(Some(Entity { name: input.name }))
}

/// Check: a `bool`.
#[action(title = "Check")]
async fn check(input: In) -> Result<bool, ActionError> {
    Ok(input.name.is_empty())
}

/// Delete: unit.
#[action(title = "Delete")]
async fn delete(input: In) -> Result<(), ActionError> {
    let _ = input;
    Ok(())
}

/// Raw: any JSON value.
#[action(title = "Raw")]
async fn raw(input: In) -> Result<serde_json::Value, ActionError> {
    Ok(serde_json::Value::String(input.name))
}

fn main() {}
