use mcp_actions::prelude::*;

#[derive(Deserialize, JsonSchema, Elicit)]
enum Environment {
    Staging,
    Custom { url: String },
}

fn main() {}
