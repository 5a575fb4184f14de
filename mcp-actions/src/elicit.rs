//! Asking the user: a confirmation before an action runs (`#[action(confirm)]`,
//! [`ActionContext::confirm`](crate::ActionContext::confirm)) and typed questions inside one
//! ([`ActionContext::elicit`](crate::ActionContext::elicit)).
//!
//! The question travels as an MCP form elicitation: a message and a flat object schema. How it
//! reaches the user is the server's business ([`UserPrompt`]): an `elicitation/create` request
//! on 2025-11-25, an input-required result on 2026-07-28, the terminal for a local call.

use std::borrow::Cow;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::ActionError;
use crate::permission::BoxFuture;
use crate::schema::{JsonObject, SchemaSide, schema_for};

/// One question for the user: a message and the schema of the form to fill in (an empty
/// object schema for a confirmation).
#[derive(Debug, Clone, PartialEq)]
pub struct Question {
    /// What the user reads.
    pub message: String,
    /// MCP's restricted elicitation schema: a flat object of primitives and enums.
    pub schema: JsonObject,
}

/// What the user did with a [`Question`].
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// Submitted the form (for a confirmation: confirmed).
    Accept(JsonObject),
    /// Explicitly said no.
    Decline,
    /// Dismissed the question without choosing.
    Cancel,
}

/// Why a [`Question`] got no [`Answer`].
#[derive(Debug)]
pub enum AskError {
    /// The client cannot ask the user (it did not declare the elicitation capability).
    Unsupported,
    /// Asking failed (the client went away, the answer did not arrive in time), or the
    /// answer must come in a later round; the call ends with this error.
    Failed(ActionError),
}

/// Where questions for the user go. The server provides one per call; the default,
/// [`NoPrompt`], cannot ask anyone.
pub trait UserPrompt: Send + Sync + 'static {
    /// Asks the user `question` and waits for the answer.
    fn ask(&self, question: Question) -> BoxFuture<'_, Result<Answer, AskError>>;
}

/// A caller that cannot be asked: every question is [`AskError::Unsupported`].
#[derive(Debug, Clone, Copy, Default)]
pub struct NoPrompt;

impl UserPrompt for NoPrompt {
    fn ask(&self, _question: Question) -> BoxFuture<'_, Result<Answer, AskError>> {
        Box::pin(std::future::ready(Err(AskError::Unsupported)))
    }
}

/// What a confirmation does when the client cannot ask the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WithoutPrompt {
    /// Refuse the call with `NotAllowedError` (the default).
    #[default]
    Refuse,
    /// Run it unconfirmed. A typed question ([`ActionContext::elicit`](crate::ActionContext::elicit))
    /// still fails: there is no answer to give the action.
    Proceed,
}

/// When confirmations are asked for: the server's `mcpActions.confirm` settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfirmPolicy {
    /// `false`: confirmations are not asked for at all (a server for unattended agents);
    /// typed questions still are.
    pub enabled: bool,
    /// Ask before every destructive action, whether or not it says `confirm`.
    pub destructive: bool,
    /// What a confirmation does when the client cannot ask the user.
    pub without_prompt: WithoutPrompt,
}

impl Default for ConfirmPolicy {
    fn default() -> Self {
        Self {
            enabled: true,
            destructive: false,
            without_prompt: WithoutPrompt::Refuse,
        }
    }
}

/// Whether and how an action asks the user to confirm before it runs (`#[action(confirm)]`).
#[derive(Clone, Copy, Default)]
pub enum Confirm {
    /// The action does not ask (the server may still, for destructive actions).
    #[default]
    No,
    /// `confirm`: the action's title and a short rendering of its arguments.
    Default,
    /// `confirm = "Delete {name}?"`: the message rendered from the arguments. An `Err` (the
    /// arguments do not deserialize) ends the call before anything runs.
    Message(fn(&Value) -> Result<String, ActionError>),
}

impl std::fmt::Debug for Confirm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Confirm::No => "No",
            Confirm::Default => "Default",
            Confirm::Message(_) => "Message(..)",
        })
    }
}

/// The message of the default confirmation: the title and the arguments, shortened.
pub fn default_confirmation(title: &str, arguments: &Value) -> String {
    const MAX: usize = 300;
    let rendered: Vec<String> = match arguments {
        Value::Object(map) => map.iter().map(|(k, v)| format!("{k} = {v}")).collect(),
        _ => Vec::new(),
    };
    if rendered.is_empty() {
        return format!("Run “{title}”?");
    }
    let mut text = rendered.join(", ");
    if text.len() > MAX {
        let mut cut = MAX;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    format!("Run “{title}” with {text}?")
}

/// A type whose values can be asked for in an MCP elicitation form: a struct with named fields,
/// each a string, number, boolean or an enum of unit variants (optionally `Option`al). Derive
/// it with `#[derive(Elicit)]`, next to `Deserialize` and `JsonSchema`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be asked for in an elicitation form",
    label = "not `Elicit`",
    note = "MCP elicitation forms are flat: add `#[derive(Deserialize, JsonSchema, Elicit)]` to a struct whose fields are strings, numbers, booleans or unit-only enums that also derive `Elicit`"
)]
pub trait Elicit: DeserializeOwned + JsonSchema {}

/// A type a field of an [`Elicit`] struct may have: a string, number or boolean, an enum of
/// unit variants deriving `Elicit`, or an `Option` of one of those.
#[diagnostic::on_unimplemented(
    message = "a field of type `{Self}` cannot be asked for in an elicitation form",
    label = "not a string, number, boolean or unit-only enum",
    note = "MCP elicitation forms are flat: each field must be a string, number, boolean, or an enum of unit variants that derives `Elicit` (optionally in an `Option`)"
)]
pub trait ElicitField {}

/// A field type that is not itself an `Option` (so `Option<Option<T>>` is not a field).
#[doc(hidden)]
pub trait ElicitScalar: ElicitField {}

macro_rules! scalars {
    ($($t:ty),*) => {$(
        impl ElicitField for $t {}
        impl ElicitScalar for $t {}
    )*};
}
scalars!(
    String,
    Cow<'static, str>,
    bool,
    i8,
    i16,
    i32,
    i64,
    isize,
    u8,
    u16,
    u32,
    u64,
    usize,
    f32,
    f64
);
impl<T: ElicitScalar> ElicitField for Option<T> {}

/// The restricted elicitation schema of `T`: an object whose properties each have one
/// primitive `type` and only the keywords MCP allows for it.
pub fn elicitation_schema<T: Elicit>() -> Result<JsonObject, ActionError> {
    let schema = schema_for::<T>(SchemaSide::Input).map_err(|e| {
        ActionError::internal(format!(
            "the elicitation schema of `{}`: {e}",
            std::any::type_name::<T>()
        ))
    })?;
    restrict(&schema).map_err(|problem| {
        ActionError::internal(format!(
            "`{}` cannot be asked for in an elicitation form: {problem}",
            std::any::type_name::<T>()
        ))
    })
}

/// The empty form of a confirmation.
pub fn confirmation_schema() -> JsonObject {
    let mut schema = Map::new();
    schema.insert("type".into(), Value::String("object".into()));
    schema.insert("properties".into(), Value::Object(Map::new()));
    schema
}

fn restrict(schema: &JsonObject) -> Result<JsonObject, String> {
    let empty = Map::new();
    let properties = match schema.get("properties") {
        Some(Value::Object(p)) => p,
        None => &empty,
        Some(_) => return Err("its `properties` is not an object".into()),
    };
    let mut out = Map::new();
    for (name, property) in properties {
        out.insert(
            name.clone(),
            Value::Object(restrict_property(name, property)?),
        );
    }
    let mut restricted = confirmation_schema();
    restricted.insert("properties".into(), Value::Object(out));
    for key in ["required", "title", "description"] {
        if let Some(value) = schema.get(key) {
            restricted.insert(key.into(), value.clone());
        }
    }
    Ok(restricted)
}

fn restrict_property(name: &str, property: &Value) -> Result<JsonObject, String> {
    let Value::Object(property) = property else {
        return Err(format!("field `{name}` has no schema"));
    };
    let mut out = Map::new();
    // Unit enums with documented variants come as `oneOf` of `const`s.
    let alternatives = property
        .get("oneOf")
        .or_else(|| property.get("anyOf"))
        .and_then(Value::as_array);
    let mut values: Option<Vec<Value>> = property.get("enum").and_then(Value::as_array).cloned();
    if values.is_none()
        && let Some(alternatives) = alternatives
    {
        let mut consts = Vec::new();
        for alternative in alternatives {
            if alternative.get("type").and_then(Value::as_str) == Some("null") {
                continue;
            }
            match (alternative.get("const"), alternative.get("enum")) {
                (Some(value), _) => consts.push(value.clone()),
                (None, Some(Value::Array(listed))) => consts.extend(listed.iter().cloned()),
                _ => return Err(format!("field `{name}` is not a unit-only enum")),
            }
        }
        values = Some(consts);
    }
    let ty = match property.get("type") {
        Some(Value::String(t)) => Some(t.clone()),
        Some(Value::Array(types)) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .map(str::to_owned),
        _ => None,
    };
    let ty = match (ty, &values) {
        (Some(t), _) => t,
        (None, Some(_)) => "string".to_owned(),
        (None, None) => return Err(format!("field `{name}` has no primitive type")),
    };
    if !matches!(ty.as_str(), "string" | "number" | "integer" | "boolean") {
        return Err(format!("field `{name}` is of type `{ty}`"));
    }
    out.insert("type".into(), Value::String(ty.clone()));
    if let Some(values) = values {
        let values: Vec<Value> = values.into_iter().filter(|v| !v.is_null()).collect();
        out.insert("enum".into(), Value::Array(values));
    }
    let mut keep = vec!["title", "description", "default"];
    match ty.as_str() {
        "string" => keep.extend(["minLength", "maxLength"]),
        "number" | "integer" => keep.extend(["minimum", "maximum"]),
        _ => {}
    }
    for key in keep {
        if let Some(value) = property.get(key)
            && !value.is_null()
        {
            out.insert(key.into(), value.clone());
        }
    }
    if ty == "string"
        && let Some(Value::String(format)) = property.get("format")
        && matches!(format.as_str(), "email" | "uri" | "date" | "date-time")
    {
        out.insert("format".into(), Value::String(format.clone()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Deserialize, JsonSchema)]
    #[allow(dead_code)]
    enum Environment {
        /// Where changes are tried first
        Staging,
        Production,
    }
    impl ElicitField for Environment {}
    impl ElicitScalar for Environment {}

    #[derive(Deserialize, JsonSchema)]
    #[allow(dead_code)]
    struct Target {
        /// Where to deploy
        environment: Environment,
        /// Why
        reason: Option<String>,
        replicas: u8,
        force: bool,
    }
    impl Elicit for Target {}

    #[test]
    fn schemas_are_flat_with_primitive_types() {
        let schema = elicitation_schema::<Target>().unwrap();
        let p = &schema["properties"];
        assert_eq!(p["environment"]["type"], json!("string"));
        let mut listed: Vec<&str> = p["environment"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        listed.sort_unstable();
        assert_eq!(listed, ["Production", "Staging"]);
        assert_eq!(p["environment"]["description"], json!("Where to deploy"));
        assert_eq!(p["reason"]["type"], json!("string"));
        assert_eq!(p["replicas"]["type"], json!("integer"));
        assert_eq!(p["replicas"]["minimum"], json!(0));
        assert!(p["replicas"].get("format").is_none());
        assert_eq!(p["force"], json!({"type": "boolean"}));
        assert_eq!(
            schema["required"],
            json!(["environment", "replicas", "force"])
        );
    }

    #[test]
    fn default_confirmations_name_the_action_and_its_arguments() {
        assert_eq!(
            default_confirmation("Delete Component", &json!({"name": "website"})),
            "Run “Delete Component” with name = \"website\"?"
        );
        assert_eq!(default_confirmation("Purge", &json!({})), "Run “Purge”?");
        let long = default_confirmation("X", &json!({"text": "é".repeat(400)}));
        assert!(long.len() < 340 && long.ends_with("…?"), "{long}");
    }
}
