//! JSON schemas for action inputs and outputs, in the form strict MCP clients accept.
//!
//! Schemas come from [`schemars`] 1 and are post-processed so that:
//! - the root is an object schema (`"type": "object"`), as MCP requires for tool schemas;
//! - they are self-contained: every `$ref` is inlined and `$defs` removed (a recursive type is
//!   cut at the point where it recurses, which then accepts any value);
//! - there is no `$schema` key;
//! - doc comments on types and fields become `description`s.

use schemars::JsonSchema;
use schemars::generate::{Contract, SchemaSettings};
use serde_json::{Map, Value};

/// A JSON object, as MCP tool schemas are.
pub type JsonObject = Map<String, Value>;

/// Why a type cannot be used as an action's input or output.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SchemaError(String);

/// Which side of an action a schema describes; serde attributes can make them differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaSide {
    /// What the action accepts (deserialization).
    Input,
    /// What the action returns (serialization).
    Output,
}

/// The self-contained, object-rooted schema of `T`.
///
/// ```
/// use mcp_actions::schema::{schema_for, SchemaSide};
/// use mcp_actions::prelude::*;
///
/// #[derive(Deserialize, JsonSchema)]
/// struct Tree { /// The label
///     label: String, children: Vec<Leaf> }
/// #[derive(Deserialize, JsonSchema)]
/// struct Leaf { weight: Option<u32> }
///
/// let schema = schema_for::<Tree>(SchemaSide::Input).unwrap();
/// let text = serde_json::to_string(&schema).unwrap();
/// assert_eq!(schema["type"], "object");
/// assert!(!text.contains("$ref") && !text.contains("$defs") && !text.contains("$schema"));
/// ```
pub fn schema_for<T: JsonSchema + ?Sized>(side: SchemaSide) -> Result<JsonObject, SchemaError> {
    let contract = match side {
        SchemaSide::Input => Contract::Deserialize,
        SchemaSide::Output => Contract::Serialize,
    };
    let generator = SchemaSettings::draft2020_12()
        .with(|s| {
            s.inline_subschemas = false;
            s.meta_schema = None;
            s.contract = contract;
        })
        .into_generator();
    let schema = generator.into_root_schema_for::<T>().to_value();
    normalize(schema, &T::schema_name())
}

/// Makes a generated schema self-contained and object-rooted.
pub fn normalize(schema: Value, type_name: &str) -> Result<JsonObject, SchemaError> {
    let Value::Object(mut root) = schema else {
        return Err(SchemaError(format!(
            "the schema of `{type_name}` is not an object schema; use a struct with named fields"
        )));
    };
    root.remove("$schema");
    let defs = match root.remove("$defs") {
        Some(Value::Object(defs)) => defs,
        _ => Map::new(),
    };
    let mut stack = Vec::new();
    let mut root = Value::Object(root);
    inline_refs(&mut root, &defs, &mut stack);
    let Value::Object(mut root) = root else {
        unreachable!("inlining keeps an object an object")
    };
    ensure_object_root(&mut root, type_name)?;
    Ok(root)
}

fn inline_refs(value: &mut Value, defs: &JsonObject, stack: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get("$ref") {
                let name = reference
                    .strip_prefix("#/$defs/")
                    .or_else(|| reference.strip_prefix("#/definitions/"))
                    .unwrap_or(reference)
                    .to_owned();
                map.remove("$ref");
                if stack.contains(&name) {
                    // Recursion: cut here. Keep what describes the value, accept any shape.
                    if let Some(Value::String(d)) =
                        defs.get(&name).and_then(|d| d.get("description"))
                    {
                        map.entry("description")
                            .or_insert_with(|| Value::String(d.clone()));
                    }
                    return;
                }
                if let Some(Value::Object(target)) = defs.get(&name) {
                    let mut target = Value::Object(target.clone());
                    stack.push(name);
                    inline_refs(&mut target, defs, stack);
                    stack.pop();
                    if let Value::Object(target) = target {
                        // Sibling keywords (e.g. a field's description) win over the definition's.
                        for (k, v) in target {
                            map.entry(k).or_insert(v);
                        }
                    }
                }
            }
            for v in map.values_mut() {
                inline_refs(v, defs, stack);
            }
        }
        Value::Array(items) => {
            for v in items {
                inline_refs(v, defs, stack);
            }
        }
        _ => {}
    }
}

fn ensure_object_root(root: &mut JsonObject, type_name: &str) -> Result<(), SchemaError> {
    match root.get("type") {
        Some(Value::String(t)) if t == "object" => return Ok(()),
        Some(other) => {
            return Err(SchemaError(format!(
                "`{type_name}` must be a JSON object (a struct with named fields or a map), but its schema has type {other}"
            )));
        }
        None => {}
    }
    // Enums of objects (tagged enums) have `oneOf`/`anyOf` roots: they are objects too.
    let branches_are_objects = ["oneOf", "anyOf"].iter().any(|key| {
        root.get(*key)
            .and_then(Value::as_array)
            .is_some_and(|branches| {
                !branches.is_empty()
                    && branches
                        .iter()
                        .all(|b| b.get("type").and_then(Value::as_str) == Some("object"))
            })
    });
    if branches_are_objects {
        root.insert("type".into(), Value::String("object".into()));
        return Ok(());
    }
    Err(SchemaError(format!(
        "`{type_name}` must be a JSON object (a struct with named fields, a map, or an enum whose variants are objects)"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn non_object_roots_are_rejected() {
        assert!(schema_for::<String>(SchemaSide::Input).is_err());
        assert!(schema_for::<Vec<u8>>(SchemaSide::Output).is_err());
        assert!(schema_for::<std::collections::BTreeMap<String, u8>>(SchemaSide::Input).is_ok());
    }

    #[test]
    fn recursion_is_cut_not_left_as_ref() {
        #[derive(schemars::JsonSchema)]
        #[allow(dead_code)]
        struct Node {
            /// Child nodes
            children: Vec<Node>,
        }
        let schema = schema_for::<Node>(SchemaSide::Input).unwrap();
        let text = serde_json::to_string(&schema).unwrap();
        assert!(!text.contains("$ref") && !text.contains("$defs"), "{text}");
        assert_eq!(schema["properties"]["children"]["type"], json!("array"));
    }
}
