//! The configuration reference — every key, its default and what it does — generated from the
//! model's JSON schema (doc comments and `Default` impls), so it cannot drift from the code.
//!
//! The same table is in `src/docs/configuration.md` (the crate docs) and in the top-level
//! README between `<!-- config-reference:start -->` and `<!-- config-reference:end -->`; a
//! test compares both with [`markdown`] (`UPDATE_CONFIG_REFERENCE=1 cargo test -p
//! mcp-actions-server config_reference` rewrites them).

use serde_json::{Map, Value};

use super::model::Root;

/// The reference as a Markdown table.
pub(crate) fn markdown() -> String {
    let schema = schemars::schema_for!(Root);
    let schema = schema.as_value();
    let defs = schema
        .get("$defs")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut rows = Vec::new();
    walk(schema, "", &defs, None, &mut rows);
    let mut out = String::from("| key | default | what it does |\n|---|---|---|\n");
    for (key, default, description) in rows {
        out.push_str(&format!("| `{key}` | {default} | {description} |\n"));
    }
    out
}

/// The schema `schema` points at (following `$ref`), with the referring schema's own
/// `description` and `default` kept.
fn resolve<'a>(schema: &'a Value, defs: &'a Map<String, Value>) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => reference
            .strip_prefix("#/$defs/")
            .and_then(|name| defs.get(name))
            .unwrap_or(schema),
        None => schema,
    }
}

/// Rows for the keys of `schema`'s properties; `defaults` is the section's own default value
/// (where a section's type gives the default of the whole section, as `backend.listen` does).
fn walk(
    schema: &Value,
    prefix: &str,
    defs: &Map<String, Value>,
    defaults: Option<&Value>,
    rows: &mut Vec<(String, String, String)>,
) {
    let target = resolve(schema, defs);
    let Some(properties) = target.get("properties").and_then(Value::as_object) else {
        return;
    };
    for (name, property) in properties {
        let key = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        let inner = resolve(property, defs);
        let default = property
            .get("default")
            .or_else(|| defaults.and_then(|d| d.get(name)));
        if inner.get("properties").is_some() {
            walk(property, &key, defs, default, rows);
            continue;
        }
        // A map of sections (`mcpActions.servers.<key>`): one row for the map, then its
        // entries' keys.
        let entries = inner
            .get("additionalProperties")
            .filter(|entry| resolve(entry, defs).get("properties").is_some());
        rows.push((key.clone(), default_of(default), describe(property, inner)));
        if let Some(entry) = entries {
            walk(entry, &format!("{key}.<key>"), defs, None, rows);
        }
    }
}

fn describe(property: &Value, inner: &Value) -> String {
    let text = property
        .get("description")
        .or_else(|| inner.get("description"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
}

fn default_of(default: Option<&Value>) -> String {
    match default {
        None | Some(Value::Null) => "none".to_owned(),
        Some(Value::Array(items)) if items.is_empty() => "none".to_owned(),
        Some(Value::Object(map)) if map.is_empty() => "none".to_owned(),
        Some(Value::String(text)) => format!("`{text}`"),
        Some(other) => format!("`{other}`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The README's and the crate docs' tables are the generated one.
    #[test]
    fn config_reference_matches_the_model() {
        let table = markdown();
        let root = env!("CARGO_MANIFEST_DIR");
        let update = std::env::var_os("UPDATE_CONFIG_REFERENCE").is_some();
        let docs = format!("{root}/src/docs/configuration.md");
        let readme = format!("{root}/../README.md");
        for path in [docs, readme] {
            let text = std::fs::read_to_string(&path).unwrap();
            let (start, end) = (
                "<!-- config-reference:start -->\n",
                "<!-- config-reference:end -->",
            );
            let from = text.find(start).expect("the start marker") + start.len();
            let to = text.find(end).expect("the end marker");
            if update {
                let new = format!("{}{table}{}", &text[..from], &text[to..]);
                std::fs::write(&path, new).unwrap();
            } else {
                assert_eq!(
                    text[from..to],
                    table,
                    "{path} disagrees with the config model; run UPDATE_CONFIG_REFERENCE=1 cargo test -p mcp-actions-server config_reference"
                );
            }
        }
    }

    #[test]
    fn every_key_has_a_description_and_the_defaults_are_shown() {
        let table = markdown();
        for line in table.lines().skip(2) {
            assert!(!line.ends_with("|  |"), "no description: {line}");
        }
        for row in [
            "| `backend.listen.port` | `7007` |",
            "| `mcpActions.limits.actionTimeoutSeconds` | `30` |",
            "| `mcpActions.name` | `mcp-actions` |",
            "| `mcpActions.servers.<key>.name` | none |",
            "| `mcpActions.stdio.subject` | `stdio` |",
        ] {
            assert!(table.contains(row), "{row} in\n{table}");
        }
    }
}
