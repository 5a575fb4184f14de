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
    use crate::test_support::echo_registry;

    #[test]
    fn a_mismatch_names_the_path_and_the_reason() {
        let registry = echo_registry(|| {
            Ok(serde_json::json!({
                "type": "object",
                "properties": { "count": { "type": "integer" } },
                "required": ["count"],
            })
            .as_object()
            .unwrap()
            .clone())
        });
        let mut warnings = Vec::new();
        let schemas = OutputSchemas::compile(&registry, &mut warnings);
        assert!(warnings.is_empty(), "{warnings:?}");
        let action = registry.iter().next().unwrap();
        assert_eq!(
            schemas.check(action, &serde_json::json!({"count": 1})),
            Ok(())
        );
        let error = schemas
            .check(action, &serde_json::json!({"count": "x"}))
            .unwrap_err();
        assert!(error.contains("at `/count`"), "{error}");
        assert!(error.contains("integer"), "{error}");
        let error = schemas
            .check(action, &serde_json::json!("a bare string"))
            .unwrap_err();
        assert!(error.contains("at `/`"), "{error}");
    }

    #[test]
    fn a_schema_that_does_not_compile_is_a_warning_and_goes_unchecked() {
        let registry = echo_registry(|| {
            Ok(
                serde_json::json!({"type": "object", "properties": {"a": {"type": 7}}})
                    .as_object()
                    .unwrap()
                    .clone(),
            )
        });
        let mut warnings = Vec::new();
        let schemas = OutputSchemas::compile(&registry, &mut warnings);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("sent unchecked"), "{warnings:?}");
        let action = registry.iter().next().unwrap();
        assert_eq!(schemas.check(action, &serde_json::json!(1)), Ok(()));
    }
}
