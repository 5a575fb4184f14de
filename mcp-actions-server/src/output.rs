//! Output schema validation: every successful output is checked against its action's declared
//! output schema before it is sent. An action whose output does not match (a hand-written
//! `Serialize`, a schema attribute that lies) fails with an `InternalError`: the mismatch is
//! logged with the call's reference, the client gets the reference only.
//!
//! The validators are compiled once, when the server is built (`jsonschema`, without remote or
//! file `$ref` resolution: the schemas are self-contained).

use std::collections::HashMap;

use mcp_actions::dispatch::OutputCheck;
use mcp_actions::{RegisteredAction, Registry};
use serde_json::Value;

/// At most this many mismatches are named in the log.
const MAX_REPORTED_ERRORS: usize = 5;

/// One compiled validator per action with an output schema, by action id.
pub(crate) struct OutputSchemas {
    validators: HashMap<String, jsonschema::Validator>,
}

impl OutputSchemas {
    /// Compiles the output schema of every action of `registry`. A schema that does not compile
    /// is a start-up warning (in `warnings`) and its action's output is not checked.
    pub(crate) fn compile(registry: &Registry, warnings: &mut Vec<String>) -> Self {
        let mut validators = HashMap::with_capacity(registry.len());
        for action in registry.iter() {
            let schema = Value::Object(action.output_schema().as_ref().clone());
            match jsonschema::validator_for(&schema) {
                Ok(validator) => {
                    validators.insert(action.id().to_owned(), validator);
                }
                Err(error) => warnings.push(format!(
                    "the output schema of action `{}` at {} cannot be used to check its output ({}); its output is sent unchecked",
                    action.id(),
                    action.descriptor().location,
                    mcp_actions::error::cap_message(&error.to_string())
                )),
            }
        }
        Self { validators }
    }
}

impl OutputCheck for OutputSchemas {
    fn check(&self, action: &RegisteredAction, output: &Value) -> Result<(), String> {
        let Some(validator) = self.validators.get(action.id()) else {
            return Ok(());
        };
        // The usual case, without collecting errors.
        if validator.is_valid(output) {
            return Ok(());
        }
        let errors: Vec<String> = validator
            .iter_errors(output)
            .take(MAX_REPORTED_ERRORS)
            .map(|error| {
                let path = error.instance_path().to_string();
                let path = if path.is_empty() {
                    "/".to_owned()
                } else {
                    path
                };
                mcp_actions::error::cap_message(&format!("at `{path}`: {error}"))
            })
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("; "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mismatch_names_the_path_and_the_reason() {
        let schema = serde_json::json!({
            "type": "object",
            "properties": { "count": { "type": "integer" } },
            "required": ["count"],
        });
        let validator = jsonschema::validator_for(&schema).unwrap();
        let schemas = OutputSchemas {
            validators: HashMap::from([("p:a".to_owned(), validator)]),
        };
        let check = |output: Value| {
            let validator = &schemas.validators["p:a"];
            validator
                .iter_errors(&output)
                .map(|e| format!("{}: {e}", e.instance_path()))
                .collect::<Vec<_>>()
        };
        assert!(check(serde_json::json!({"count": 1})).is_empty());
        let errors = check(serde_json::json!({"count": "x"}));
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].contains("/count"), "{errors:?}");
        assert!(!check(serde_json::json!("a bare string")).is_empty());
    }
}
