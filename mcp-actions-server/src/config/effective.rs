//! The effective configuration, safe to print: the merged tree, with every key this crate
//! reads replaced by the value it uses (the model serialized: defaults filled in, secrets
//! masked by [`Secret`](super::Secret)'s `Serialize`), and in the application's sections every
//! value under a key that looks secret masked too.

use serde_json::{Map, Value};

use super::model::Root;
use super::secret::MASK;

/// The effective view of `tree` read as `root`.
pub(crate) fn effective(tree: &Value, root: &Root) -> Value {
    let mut tree = tree.clone();
    mask_secrets(&mut tree);
    let model = match serde_json::to_value(root) {
        Ok(Value::Object(model)) => model,
        _ => unreachable!("the model serializes to a mapping"),
    };
    overlay(&mut tree, model);
    tree
}

/// Puts the model's mappings over the tree's (keeping the tree's other keys, such as
/// `backend.database`); any other model value replaces the tree's. A key the model leaves out
/// (an unset optional key) is removed when it is one of the model's own: every key of the
/// model is known to serde, so a key of `backend.listen` that is not in the model's view
/// cannot be in the tree either (it would have been an error).
fn overlay(tree: &mut Value, model: Map<String, Value>) {
    let target = object(tree);
    for (key, value) in model {
        match (target.get_mut(&key), value) {
            (Some(existing @ Value::Object(_)), Value::Object(inner)) => overlay(existing, inner),
            (_, value) => {
                target.insert(key, value);
            }
        }
    }
}

/// The map inside `value`, which is made a map first if it is not one.
fn object(value: &mut Value) -> &mut Map<String, Value> {
    if !value.is_object() {
        *value = Value::Object(Map::new());
    }
    match value {
        Value::Object(map) => map,
        _ => unreachable!("made an object above"),
    }
}

/// Whether a key's value is probably a secret (compared without case, `-` and `_`).
fn is_secret_key(key: &str) -> bool {
    let key: String = key
        .chars()
        .filter(|c| *c != '-' && *c != '_')
        .flat_map(char::to_lowercase)
        .collect();
    [
        "token",
        "secret",
        "password",
        "passwd",
        "apikey",
        "privatekey",
        "credential",
        "clientkey",
    ]
    .iter()
    .any(|word| key.contains(word))
}

/// Replaces every scalar under a secret-looking key with [`MASK`].
fn mask_secrets(value: &mut Value) {
    fn mask_all(value: &mut Value) {
        match value {
            Value::Array(items) => items.iter_mut().for_each(mask_all),
            Value::Object(map) => map.values_mut().for_each(mask_all),
            Value::Null => {}
            other => *other = Value::from(MASK),
        }
    }
    match value {
        Value::Array(items) => items.iter_mut().for_each(mask_secrets),
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                if is_secret_key(key) {
                    mask_all(item);
                } else {
                    mask_secrets(item);
                }
            }
        }
        _ => {}
    }
}
