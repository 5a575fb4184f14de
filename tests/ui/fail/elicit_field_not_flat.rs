use mcp_actions::prelude::*;

#[derive(Deserialize, JsonSchema)]
struct Address {
    street: String,
}

// MCP elicitation forms are flat: no lists, no nested objects.
#[derive(Deserialize, JsonSchema, Elicit)]
struct Answer {
    name: String,
    tags: Vec<String>,
    address: Address,
}

fn main() {}
