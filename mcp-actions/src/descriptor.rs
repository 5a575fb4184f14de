//! The static description of one action, as `#[action]` emits it into `inventory`.

use std::fmt;

use serde_json::Value;

use crate::context::ActionContext;
use crate::elicit::Confirm;
use crate::error::ActionError;
use crate::permission::{BoxFuture, Permission};
use crate::schema::{JsonObject, SchemaError};
use crate::services::ServiceKey;

/// The type-erased entry point of an action: deserializes the JSON input, runs the function and
/// serializes its output.
pub type InvokeFn = fn(ActionContext, Value) -> BoxFuture<'static, Result<Value, ActionError>>;

/// Produces a JSON schema (called once, when the registry is built).
pub type SchemaFn = fn() -> Result<JsonObject, SchemaError>;

/// Behavioural hints of an action, sent to clients as MCP tool annotations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ActionAttributes {
    /// Does not change anything.
    pub read_only: bool,
    /// May destroy or overwrite data.
    pub destructive: bool,
    /// Calling twice with the same input has no further effect.
    pub idempotent: bool,
    /// Reaches outside systems whose contents are not under the platform's control.
    pub open_world: bool,
}

impl ActionAttributes {
    /// Attributes with Backstage's defaults applied: `destructive` defaults to `!read_only`.
    pub const fn new(
        read_only: bool,
        destructive: Option<bool>,
        idempotent: bool,
        open_world: bool,
    ) -> Self {
        let destructive = match destructive {
            Some(d) => d,
            None => !read_only,
        };
        Self {
            read_only,
            destructive,
            idempotent,
            open_world,
        }
    }
}

impl Default for ActionAttributes {
    fn default() -> Self {
        Self::new(false, None, false, false)
    }
}

/// Where an action was defined, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SourceLocation {
    /// Source file, as `file!()` gives it.
    pub file: &'static str,
    /// Line, 1-based.
    pub line: u32,
}

impl fmt::Display for SourceLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// Everything known about an action at compile time. `#[action]` builds one in a `static` and
/// submits it to `inventory`; [`crate::Registry::from_inventory`] collects them all.
///
/// It can also be built by hand (e.g. for generated actions) and passed to
/// [`crate::Registry::from_descriptors`], which validates it the same way.
pub struct ActionDescriptor {
    /// The plugin (Backstage plugin id) the action belongs to, e.g. `catalog`.
    pub plugin: &'static str,
    /// The action's name, which is also its MCP tool name: `^[a-z][a-z0-9_]{0,63}$`.
    pub name: &'static str,
    /// Human-readable title.
    pub title: &'static str,
    /// What the action does, for the model to decide when to call it.
    pub description: &'static str,
    /// Behavioural hints.
    pub attributes: ActionAttributes,
    /// Whether the user confirms before the action runs (`#[action(confirm)]`).
    pub confirm: Confirm,
    /// The permission a caller needs to see and call the action.
    pub permission: Option<&'static Permission>,
    /// Services the action takes as [`Service<T>`](crate::Service) arguments.
    pub services: &'static [ServiceKey],
    /// Where the action was defined.
    pub location: SourceLocation,
    /// The JSON schema of the input.
    pub input_schema: SchemaFn,
    /// The JSON schema of the output.
    pub output_schema: SchemaFn,
    /// The entry point.
    pub invoke: InvokeFn,
}

impl ActionDescriptor {
    /// `plugin:name`.
    pub fn id(&self) -> String {
        format!("{}:{}", self.plugin, self.name)
    }
}

impl fmt::Debug for ActionDescriptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActionDescriptor")
            .field("plugin", &self.plugin)
            .field("name", &self.name)
            .field("title", &self.title)
            .field("attributes", &self.attributes)
            .field("confirm", &self.confirm)
            .field("permission", &self.permission)
            .field("services", &self.services)
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

inventory::collect!(ActionDescriptor);

/// Whether `name` is a client-safe action (tool) name: `^[a-z][a-z0-9_]{0,63}$`.
///
/// Claude, OpenAI and Gemini all accept such names; `.` and `-` are rejected by some of them.
pub fn is_valid_action_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 64
        && bytes[0].is_ascii_lowercase()
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_')
}

/// Whether `plugin` is a valid plugin id: `^[a-z0-9][a-z0-9_-]{0,63}$` (Backstage plugin ids,
/// Cargo package names).
pub fn is_valid_plugin_id(plugin: &str) -> bool {
    let bytes = plugin.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 64
        && (bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_' || *b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_defaults_follow_backstage() {
        let a = ActionAttributes::default();
        assert!(!a.read_only && a.destructive && !a.idempotent && !a.open_world);
        let a = ActionAttributes::new(true, None, false, false);
        assert!(a.read_only && !a.destructive);
        let a = ActionAttributes::new(false, Some(false), true, false);
        assert!(!a.destructive && a.idempotent);
    }

    #[test]
    fn names() {
        for ok in ["a", "greet_user", "get_catalog_entity2", &"a".repeat(64)] {
            assert!(is_valid_action_name(ok), "{ok}");
        }
        for bad in [
            "",
            "Greet",
            "1abc",
            "_x",
            "get-entity",
            "catalog.get",
            &"a".repeat(65),
        ] {
            assert!(!is_valid_action_name(bad), "{bad}");
        }
        assert!(is_valid_plugin_id("my-custom-plugin"));
        assert!(is_valid_plugin_id("plugin_a"));
        assert!(!is_valid_plugin_id("My Plugin"));
        assert!(!is_valid_plugin_id(""));
    }
}
