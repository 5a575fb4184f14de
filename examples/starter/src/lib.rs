//! A starter plugin: one action, `add_numbers`, and its unit test. Copy this crate to begin your
//! own (README.md, "Start your own"); `cargo run -p starter` serves it.

use mcp_actions::prelude::*;

/// Two numbers to add.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct AddInput {
    /// The first number
    pub a: i64,
    /// The second number
    pub b: i64,
}

/// Their sum.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AddOutput {
    /// `a + b`
    pub sum: i64,
}

/// Add two whole numbers.
#[action(name = "add_numbers", title = "Add Numbers", read_only, idempotent)]
pub async fn add_numbers(input: AddInput) -> Result<AddOutput, ActionError> {
    let sum = input
        .a
        .checked_add(input.b)
        .ok_or_else(|| ActionError::input("the sum does not fit in a 64-bit integer"))?;
    Ok(AddOutput { sum })
}

#[cfg(test)]
mod tests {
    use mcp_actions::testing::ActionTester;
    use serde_json::json;

    #[tokio::test]
    async fn adds_and_refuses_an_overflow() {
        let tester = ActionTester::new();
        let out = tester
            .call("add_numbers", json!({"a": 2, "b": 3}))
            .await
            .unwrap();
        assert_eq!(out, json!({"sum": 5}));

        let err = tester
            .call("add_numbers", json!({"a": i64::MAX, "b": 1}))
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "InputError: the sum does not fit in a 64-bit integer"
        );
    }
}
