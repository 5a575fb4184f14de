//! `crate = "…"`: the generated code reaches `mcp_actions` only through the given path.
extern crate mcp_actions as renamed;

mod inner {
    pub use ::mcp_actions as actions;
}

use renamed::prelude::*;

#[derive(Deserialize, JsonSchema)]
struct In {}

#[derive(Serialize, JsonSchema)]
struct Out {}

/// Reached through an `extern crate` alias.
#[action(crate = "renamed", title = "Renamed")]
async fn through_alias(_input: In) -> Result<Out, ActionError> {
    Ok(Out {})
}

/// Reached through a module path.
#[action(crate = "crate::inner::actions", title = "Nested")]
async fn through_module() -> Result<Out, ActionError> {
    Ok(Out {})
}

fn main() {
    let registry = Registry::from_inventory().unwrap();
    assert!(registry.get("through_alias").is_some());
    assert!(registry.get("through_module").is_some());
}
