use mcp_actions::prelude::*;
use mcp_actions::{Confirm, Registry};

#[derive(Deserialize, JsonSchema)]
struct In {
    name: String,
    namespace: String,
}

#[derive(Serialize, JsonSchema)]
struct Out {
    done: bool,
}

/// Where to.
#[derive(Deserialize, JsonSchema, Elicit)]
struct Target {
    /// The environment
    environment: Environment,
    reason: Option<String>,
    replicas: u32,
    force: bool,
}

#[derive(Deserialize, JsonSchema, Elicit)]
enum Environment {
    Staging,
    Production,
}

/// Delete something, once the user confirms.
#[action(title = "Delete It", destructive, confirm = "Delete {name} in {namespace}? {{really}}")]
async fn delete_it(input: In, ctx: &ActionContext) -> Result<Out, ActionError> {
    let _ = (input.name, input.namespace);
    let target: Target = ctx.elicit("Where to?").await?;
    let _ = (target.environment, target.reason, target.replicas, target.force);
    ctx.confirm("Sure?").await?;
    Ok(Out { done: true })
}

/// Purge everything, once the user confirms.
#[action(title = "Purge", confirm)]
async fn purge() -> Result<Out, ActionError> {
    Ok(Out { done: true })
}

/// Restart, never asking.
#[action(title = "Restart", confirm = false)]
async fn restart() -> Result<Out, ActionError> {
    Ok(Out { done: true })
}

fn main() {
    let registry = Registry::from_inventory().unwrap();
    let delete = registry.get("delete_it").unwrap().descriptor();
    let Confirm::Message(render) = delete.confirm else {
        panic!("expected a message: {:?}", delete.confirm)
    };
    let message = render(&serde_json::json!({"name": "web", "namespace": "prod"})).unwrap();
    assert_eq!(message, "Delete web in prod? {really}");
    let error = render(&serde_json::json!({"name": 1})).unwrap_err();
    assert_eq!(error.name(), "InputError");
    assert!(matches!(registry.get("purge").unwrap().descriptor().confirm, Confirm::Default));
    assert!(matches!(registry.get("restart").unwrap().descriptor().confirm, Confirm::No));
}
