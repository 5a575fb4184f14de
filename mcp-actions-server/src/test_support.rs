//! Hand-built actions for this crate's unit tests.

use mcp_actions::schema::{JsonObject, SchemaError};
use mcp_actions::{
    ActionAttributes, ActionContext, ActionDescriptor, ActionError, BoxFuture, Registry,
    SourceLocation,
};
use serde_json::Value;

/// `{"type": "object"}`.
pub(crate) fn object_schema() -> Result<JsonObject, SchemaError> {
    Ok(serde_json::json!({"type": "object"})
        .as_object()
        .unwrap()
        .clone())
}

fn echo(_ctx: ActionContext, input: Value) -> BoxFuture<'static, Result<Value, ActionError>> {
    Box::pin(async move { Ok(input) })
}

/// A registry of one action, `test:echo`, which returns its input, with this output schema.
pub(crate) fn echo_registry(output_schema: fn() -> Result<JsonObject, SchemaError>) -> Registry {
    let descriptor: &'static ActionDescriptor = Box::leak(Box::new(ActionDescriptor {
        plugin: "test",
        name: "echo",
        title: "Echo",
        description: "Returns its input.",
        attributes: ActionAttributes::new(true, None, true, false),
        permission: None,
        services: &[],
        location: SourceLocation {
            file: "test_support.rs",
            line: 1,
        },
        input_schema: object_schema,
        output_schema,
        invoke: echo,
    }));
    Registry::from_descriptors([descriptor]).unwrap()
}
