//! Schema snapshots of the shapes action inputs take. Tool schemas must be object-rooted and
//! self-contained: no `$ref`, `$defs` or `$schema` left for strict clients to trip on.

// The input types exist for their schemas; the actions never read them.
#![allow(dead_code)]

use mcp_actions::Registry;
use mcp_actions::prelude::*;
use serde_json::{Value, json};

#[derive(Serialize, JsonSchema)]
struct Done {
    /// Always `true`
    ok: bool,
}

/// A postal address.
#[derive(Deserialize, JsonSchema)]
struct Address {
    /// Street and number
    street: String,
    /// The city
    city: String,
}

#[derive(Deserialize, JsonSchema)]
struct NestedInput {
    /// Where to send it
    to: Address,
    /// Where it comes from, if anywhere
    from: Option<Address>,
}

/// Take nested structs.
#[action(title = "Nested", read_only)]
async fn schema_nested(_input: NestedInput) -> Result<Done, ActionError> {
    Ok(Done { ok: true })
}

/// How loud.
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
enum Level {
    /// Quietly
    Low,
    /// Loudly
    High,
}

#[derive(Deserialize, JsonSchema)]
struct EnumInput {
    /// How loud to be
    level: Level,
}

/// Take a unit enum.
#[action(title = "Enum", read_only)]
async fn schema_enum(_input: EnumInput) -> Result<Done, ActionError> {
    Ok(Done { ok: true })
}

#[derive(Deserialize, JsonSchema)]
struct OptionalInput {
    /// A limit, if any
    limit: Option<u32>,
    /// Tags to match
    tags: Vec<String>,
    /// Defaults to `false`
    #[serde(default)]
    verbose: bool,
}

/// Take optional values and lists.
#[action(title = "Optional", read_only)]
async fn schema_optional(_input: OptionalInput) -> Result<Done, ActionError> {
    Ok(Done { ok: true })
}

/// A tree node.
#[derive(Deserialize, JsonSchema)]
struct Node {
    /// The label
    label: String,
    /// The children
    children: Vec<Node>,
}

/// Take a recursive type.
#[action(title = "Recursive", read_only)]
async fn schema_recursive(_input: Node) -> Result<Done, ActionError> {
    Ok(Done { ok: true })
}

/// What to do.
#[derive(Deserialize, JsonSchema)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Command {
    /// Create a thing
    Create {
        /// Its name
        name: String,
    },
    /// Delete a thing
    Delete {
        /// Its id
        id: u64,
    },
}

/// Take an internally tagged enum as the whole input.
#[action(title = "Tagged", destructive)]
async fn schema_tagged(_input: Command) -> Result<Done, ActionError> {
    Ok(Done { ok: true })
}

fn input_schema(name: &str) -> Value {
    let registry = Registry::from_inventory().unwrap();
    let schema = Value::Object((**registry.get(name).unwrap().input_schema()).clone());
    assert_self_contained(&schema);
    schema
}

fn assert_self_contained(schema: &Value) {
    assert_eq!(schema["type"], "object", "root is not an object: {schema}");
    let text = schema.to_string();
    for key in ["$ref", "$defs", "$schema", "definitions"] {
        assert!(!text.contains(key), "`{key}` left in {schema:#}");
    }
}

#[test]
fn nested_structs_are_inlined() {
    let address = json!({
        "description": "A postal address.",
        "properties": {
            "city": {"description": "The city", "type": "string"},
            "street": {"description": "Street and number", "type": "string"}
        },
        "required": ["street", "city"],
        "type": "object"
    });
    let mut to = address.clone();
    to["description"] = json!("Where to send it");
    assert_eq!(
        input_schema("schema_nested"),
        json!({
            "properties": {
                "from": {
                    "anyOf": [address, {"type": "null"}],
                    "description": "Where it comes from, if anywhere"
                },
                "to": to
            },
            "required": ["to"],
            "title": "NestedInput",
            "type": "object"
        })
    );
}

#[test]
fn unit_enums_become_documented_constants() {
    assert_eq!(
        input_schema("schema_enum"),
        json!({
            "properties": {
                "level": {
                    "description": "How loud to be",
                    "oneOf": [
                        {"const": "low", "description": "Quietly", "type": "string"},
                        {"const": "high", "description": "Loudly", "type": "string"}
                    ]
                }
            },
            "required": ["level"],
            "title": "EnumInput",
            "type": "object"
        })
    );
}

#[test]
fn options_vecs_and_defaults_are_not_required() {
    assert_eq!(
        input_schema("schema_optional"),
        json!({
            "properties": {
                "limit": {
                    "description": "A limit, if any",
                    "format": "uint32",
                    "minimum": 0,
                    "type": ["integer", "null"]
                },
                "tags": {"description": "Tags to match", "items": {"type": "string"}, "type": "array"},
                "verbose": {"default": false, "description": "Defaults to `false`", "type": "boolean"}
            },
            "required": ["tags"],
            "title": "OptionalInput",
            "type": "object"
        })
    );
}

#[test]
fn recursive_types_are_cut_where_they_recurse() {
    assert_eq!(
        input_schema("schema_recursive"),
        json!({
            "description": "A tree node.",
            "properties": {
                "children": {"description": "The children", "items": {}, "type": "array"},
                "label": {"description": "The label", "type": "string"}
            },
            "required": ["label", "children"],
            "title": "Node",
            "type": "object"
        })
    );
}

#[test]
fn a_tagged_enum_input_is_an_object_with_variants() {
    let schema = input_schema("schema_tagged");
    assert_eq!(schema["description"], "What to do.");
    let variants = schema["oneOf"].as_array().unwrap();
    assert_eq!(variants.len(), 2);
    assert_eq!(
        variants[1],
        json!({
            "description": "Delete a thing",
            "properties": {
                "id": {"description": "Its id", "format": "uint64", "minimum": 0, "type": "integer"},
                "op": {"const": "delete", "type": "string"}
            },
            "required": ["op", "id"],
            "type": "object"
        })
    );
}

#[test]
fn no_input_is_an_empty_object_and_outputs_are_objects_too() {
    let empty = json!({"type": "object", "properties": {}, "title": "NoInput"});
    assert_eq!(input_schema("ping"), empty);
    assert_eq!(input_schema("whoami"), empty);

    let registry = Registry::from_inventory().unwrap();
    let output = Value::Object((**registry.get("schema_nested").unwrap().output_schema()).clone());
    assert_self_contained(&output);
    assert_eq!(
        output,
        json!({
            "properties": {"ok": {"description": "Always `true`", "type": "boolean"}},
            "required": ["ok"],
            "title": "Done",
            "type": "object"
        })
    );
}
