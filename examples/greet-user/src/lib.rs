//! The smallest mcp-actions plugin: one action, `greet_user`.
//!
//! `cargo run -p greet-user` serves it at `http://127.0.0.1:7007/api/mcp-actions/v1`; the
//! binary (`src/main.rs`) only links this crate and calls `mcp_actions_server::run()`.

use mcp_actions::prelude::*;

/// Who to greet.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct GreetInput {
    /// The name of the person to greet
    pub name: String,
}

/// The greeting.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct GreetOutput {
    /// The generated greeting
    pub greeting: String,
}

/// Generate a personalized greeting.
#[action(name = "greet_user", title = "Greet User", read_only, idempotent)]
pub async fn greet_user(
    input: GreetInput,
    ctx: &ActionContext,
) -> Result<GreetOutput, ActionError> {
    if input.name.trim().is_empty() {
        return Err(ActionError::input("name must not be empty"));
    }
    // `debug`, not `info`: the server's audit trail already records every call (who, which
    // action, outcome, duration) at any log level; a second line per call at `info` would
    // cost throughput and say nothing new. `RUST_LOG=greet_user=debug` shows it.
    tracing::debug!(principal = %ctx.principal(), "greeting");
    Ok(GreetOutput {
        greeting: format!("Hello {}!", input.name),
    })
}

#[cfg(test)]
mod tests {
    use mcp_actions::testing::ActionTester;
    use serde_json::json;

    #[tokio::test]
    async fn greets_and_rejects_an_empty_name() {
        let tester = ActionTester::new();
        let out = tester
            .call("greet_user", json!({"name": "World"}))
            .await
            .unwrap();
        assert_eq!(out, json!({"greeting": "Hello World!"}));
        let err = tester
            .call("greet_user", json!({"name": " "}))
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "InputError: name must not be empty");
    }
}
