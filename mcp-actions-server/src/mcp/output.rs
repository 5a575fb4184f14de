//! Output schema validation: every successful output is checked against its action's declared
//! output schema before it is sent. An action whose output does not match (a hand-written
//! `Serialize`, a schema attribute that lies) fails with an `InternalError`: the mismatch is
//! logged with the call's reference, the client gets the reference only.
//!
//! Each validator is compiled at the first output it checks (`jsonschema`, without remote or
//! file `$ref` resolution: the schemas are self-contained), not at start-up: with thousands of
//! actions compiling them all took half the start-up time, for actions most servers call few
//! of. A schema that does not compile is logged once, as a warning naming the action, at its
//! first call; its output is then sent unchecked.

use std::collections::HashMap;
use std::sync::OnceLock;

use mcp_actions::dispatch::OutputCheck;
use mcp_actions::{RegisteredAction, Registry};
use serde_json::Value;

/// At most this many mismatches are named in the log.
const MAX_REPORTED_ERRORS: usize = 5;

/// The output validator of every action, by action id, each compiled at its first use.
pub(crate) struct OutputSchemas {
    validators: HashMap<String, OnceLock<Option<jsonschema::Validator>>>,
}

impl OutputSchemas {
    /// The output schemas of the actions of `registry`, to be compiled when first needed.
    pub(crate) fn new(registry: &Registry) -> Self {
        let validators = registry
            .iter()
            .map(|action| (action.id().to_owned(), OnceLock::new()))
            .collect();
        Self { validators }
    }

    /// The validator of `action`'s output schema, compiled now if this is its first use;
    /// `None` when `action` is not one of these actions or its schema does not compile.
    fn validator(&self, action: &RegisteredAction) -> Option<&jsonschema::Validator> {
        let slot = self.validators.get(action.id())?;
        slot.get_or_init(|| compile(action)).as_ref()
    }
}

/// `action`'s output validator, or `None` (logged as a warning) when its schema does not
/// compile.
fn compile(action: &RegisteredAction) -> Option<jsonschema::Validator> {
    let schema = Value::Object(action.output_schema().as_ref().clone());
    match jsonschema::validator_for(&schema) {
        Ok(validator) => Some(validator),
        Err(error) => {
            tracing::warn!(
                "the output schema of action `{}` at {} cannot be used to check its output ({}); its output is sent unchecked",
                action.id(),
                action.descriptor().location,
                mcp_actions::error::cap_message(&error.to_string())
            );
            None
        }
    }
}

impl OutputCheck for OutputSchemas {
    fn check(&self, action: &RegisteredAction, output: &Value) -> Result<(), String> {
        let Some(validator) = self.validator(action) else {
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
        let schemas = OutputSchemas::new(&registry);
        let action = registry.iter().next().unwrap();
        assert!(
            schemas.validators[action.id()].get().is_none(),
            "not compiled yet"
        );
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
    fn a_schema_that_does_not_compile_goes_unchecked() {
        let registry = echo_registry(|| {
            Ok(
                serde_json::json!({"type": "object", "properties": {"a": {"type": 7}}})
                    .as_object()
                    .unwrap()
                    .clone(),
            )
        });
        let schemas = OutputSchemas::new(&registry);
        let action = registry.iter().next().unwrap();
        assert_eq!(schemas.check(action, &serde_json::json!(1)), Ok(()));
        assert!(
            matches!(schemas.validators[action.id()].get(), Some(None)),
            "tried once, and remembered as not compiling"
        );
    }
}
