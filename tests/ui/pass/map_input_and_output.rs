//! A map is a JSON object: it is accepted as input and output, and its schema is an object.
use std::collections::{BTreeMap, HashMap};

use mcp_actions::prelude::*;
use mcp_actions::testing::ActionTester;
use serde_json::json;

/// Counts the characters of each value.
#[action(title = "Lengths")]
async fn lengths(input: HashMap<String, String>) -> Result<BTreeMap<String, usize>, ActionError> {
    Ok(input.into_iter().map(|(k, v)| (k, v.len())).collect())
}

async fn run() {
    let tester = ActionTester::new();
    let out = tester.call("lengths", json!({"a": "xyz"})).await.unwrap();
    assert_eq!(out, json!({"a": 3}));
    let registry = tester.registry();
    assert_eq!(registry.get("lengths").unwrap().input_schema()["type"], "object");
}

fn main() {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(run());
}
