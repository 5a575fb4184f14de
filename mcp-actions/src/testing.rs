//! Call actions in unit tests, through the same pipeline the server uses, without a server.
//!
//! ```
//! use mcp_actions::prelude::*;
//! use mcp_actions::testing::ActionTester;
//!
//! #[derive(Deserialize, JsonSchema)]
//! struct GreetInput { name: String }
//! #[derive(Serialize, Deserialize, JsonSchema)]
//! struct GreetOutput { greeting: String }
//!
//! /// Generate a personalized greeting.
//! #[action(name = "doc_greet", title = "Greet", read_only)]
//! async fn doc_greet(input: GreetInput) -> Result<GreetOutput, ActionError> {
//!     Ok(GreetOutput { greeting: format!("Hello {}!", input.name) })
//! }
//!
//! # tokio_test_block_on(async {
//! let tester = ActionTester::new();
//! let out: GreetOutput = tester.call_typed("doc_greet", serde_json::json!({"name": "World"})).await?;
//! assert_eq!(out.greeting, "Hello World!");
//!
//! let err = tester.call("doc_greet", serde_json::json!({"name": 1})).await.unwrap_err();
//! assert_eq!(err.to_string(), "InputError: invalid input at `name`: invalid type: integer `1`, expected a string");
//! # Ok::<(), ActionError>(()) }).unwrap();
//! # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
//! # }
//! ```
//!
//! Tests of the registry, filters or a server that need actions outside the inventory build
//! their descriptors with [`descriptor`].

use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::context::ActionContext;
use crate::credentials::Credentials;
use crate::descriptor::{ActionAttributes, ActionDescriptor, InvokeFn, SchemaFn, SourceLocation};
use crate::dispatch::{CallOptions, Dispatcher};
use crate::elicit::Confirm;
use crate::error::ActionError;
use crate::permission::{BoxFuture, Permission};
use crate::policy::{AllowAll, PermissionPolicy};
use crate::registry::Registry;
use crate::schema::{JsonObject, SchemaError};
use crate::services::{ServiceKey, Services};

/// Calls actions by name with chosen credentials, services and permission policy.
///
/// By default: every action linked into the test binary, the caller
/// `Credentials::service("test")`, no services, and the [`AllowAll`] policy.
pub struct ActionTester {
    registry: Arc<Registry>,
    services: Services,
    policy: Arc<dyn PermissionPolicy>,
    credentials: Credentials,
    timeout: Option<Duration>,
}

impl Default for ActionTester {
    fn default() -> Self {
        Self::new()
    }
}

impl ActionTester {
    /// A tester over every action linked into the binary.
    ///
    /// # Panics
    /// If the linked actions are invalid (e.g. two share a name): the message lists why.
    pub fn new() -> Self {
        match Registry::from_inventory() {
            Ok(registry) => Self::with_registry(registry),
            Err(e) => panic!("{e}"),
        }
    }

    /// A tester over the given registry.
    pub fn with_registry(registry: impl Into<Arc<Registry>>) -> Self {
        Self {
            registry: registry.into(),
            services: Services::new(),
            policy: Arc::new(AllowAll),
            credentials: Credentials::service("test"),
            timeout: None,
        }
    }

    /// Registers a shared service.
    pub fn service<T: Send + Sync + 'static>(mut self, value: T) -> Self {
        self.services.insert(value);
        self
    }

    /// Registers an already shared service.
    pub fn service_arc<T: Send + Sync + 'static>(mut self, value: Arc<T>) -> Self {
        self.services.insert_arc(value);
        self
    }

    /// Uses this permission policy.
    pub fn policy(mut self, policy: impl PermissionPolicy) -> Self {
        self.policy = Arc::new(policy);
        self
    }

    /// Calls as these credentials.
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = credentials;
        self
    }

    /// Calls as the user with this entity ref.
    pub fn as_user(self, user_entity_ref: &str) -> Self {
        self.credentials(Credentials::user(user_entity_ref))
    }

    /// Calls as the service with this subject.
    pub fn as_service(self, subject: &str) -> Self {
        self.credentials(Credentials::service(subject))
    }

    /// Fails calls that run longer than this.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The registry the tester calls into.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// A dispatcher with the tester's services, policy and timeout.
    pub fn dispatcher(&self) -> Dispatcher {
        Dispatcher::new(Arc::clone(&self.registry))
            .with_services(self.services.clone())
            .with_policy(Arc::clone(&self.policy))
            .with_timeout(self.timeout)
    }

    /// Calls the action `name` with JSON input; returns its JSON output.
    pub async fn call(&self, name: &str, input: Value) -> Result<Value, ActionError> {
        self.dispatcher()
            .call(
                name,
                Some(input),
                CallOptions::new(self.credentials.clone()),
            )
            .await
    }

    /// Calls the action `name` and deserializes its output into `O`.
    pub async fn call_typed<O: DeserializeOwned>(
        &self,
        name: &str,
        input: Value,
    ) -> Result<O, ActionError> {
        let value = self.call(name, input).await?;
        serde_json::from_value(value).map_err(|e| {
            ActionError::internal(format!(
                "the output of `{name}` does not fit the type asked for: {e}"
            ))
        })
    }

    /// The names of the actions the tester's credentials may see.
    pub async fn visible(&self) -> Vec<&'static str> {
        self.dispatcher()
            .visible_actions(&self.credentials)
            .await
            .into_iter()
            .map(|a| a.name())
            .collect()
    }

    /// A context for calling the action function `name` directly, as the pipeline would.
    ///
    /// # Panics
    /// If no action has that name.
    pub fn context(&self, name: &str) -> ActionContext {
        let action = self
            .registry
            .get(name)
            .unwrap_or_else(|| panic!("no action named `{name}` is linked into this binary"));
        ActionContext::builder(action.plugin(), action.name())
            .credentials(self.credentials.clone())
            .services(Arc::new(self.services.clone()))
            .policy(Arc::clone(&self.policy))
            .build()
    }
}

/// Starts a hand-built [`ActionDescriptor`] for tests: an action that is not in the inventory,
/// so only the test that builds it sees it.
///
/// Every field has a default, so a test sets only what it is about:
///
/// | field | default |
/// |---|---|
/// | `title` | the name |
/// | `description` | `"A hand-built test action."` |
/// | `attributes` | [`ActionAttributes::default()`] (not read-only, hence destructive) |
/// | `permission` | none |
/// | `services` | none |
/// | `location` | the file and line where `descriptor` was called |
/// | `input_schema`, `output_schema` | [`object_schema`]: `{"type": "object"}` |
/// | `invoke` | [`echo`]: returns its input |
///
/// [`build`](DescriptorBuilder::build) leaks the descriptor to get the `&'static` that
/// [`Registry::from_descriptors`] takes (a few bytes per test);
/// [`into_descriptor`](DescriptorBuilder::into_descriptor) is `const`, for a `static`.
///
/// ```
/// use mcp_actions::testing::{ActionTester, descriptor};
/// use mcp_actions::{ActionAttributes, ActionDescriptor, Permission, Registry};
///
/// const VIEW: Permission = Permission::read("example.view");
///
/// let get = descriptor("catalog", "get_entity")
///     .title("Get Entity")
///     .attributes(ActionAttributes::new(true, None, true, false))
///     .permission(&VIEW)
///     .location("hand/built.rs", 10)
///     .build();
/// assert_eq!(get.id(), "catalog:get_entity");
/// assert_eq!(get.location.to_string(), "hand/built.rs:10");
///
/// // In a `static`, without leaking:
/// static DELETE: ActionDescriptor = descriptor("catalog", "delete_entity").into_descriptor();
/// assert_eq!(DELETE.title, "delete_entity");
/// assert!(DELETE.attributes.destructive);
///
/// let registry = Registry::from_descriptors([get, &DELETE]).unwrap();
/// assert_eq!(registry.len(), 2);
///
/// // The default invoke echoes its input.
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let tester = ActionTester::with_registry(registry);
/// let input = serde_json::json!({"id": "component:default/website"});
/// assert_eq!(tester.call("delete_entity", input.clone()).await.unwrap(), input);
/// # });
/// ```
#[track_caller]
pub const fn descriptor(plugin: &'static str, name: &'static str) -> DescriptorBuilder {
    let caller = std::panic::Location::caller();
    DescriptorBuilder {
        descriptor: ActionDescriptor {
            plugin,
            name,
            title: name,
            description: "A hand-built test action.",
            attributes: ActionAttributes::new(false, None, false, false),
            confirm: Confirm::No,
            permission: None,
            services: &[],
            location: SourceLocation {
                file: caller.file(),
                line: caller.line(),
            },
            input_schema: object_schema,
            output_schema: object_schema,
            invoke: echo,
        },
    }
}

/// A hand-built [`ActionDescriptor`] under construction; see [`descriptor`].
#[must_use = "a builder does nothing until `.build()` or `.into_descriptor()`"]
pub struct DescriptorBuilder {
    descriptor: ActionDescriptor,
}

impl DescriptorBuilder {
    /// The human-readable title (default: the name).
    pub const fn title(mut self, title: &'static str) -> Self {
        self.descriptor.title = title;
        self
    }

    /// What the action does (default: `"A hand-built test action."`).
    pub const fn description(mut self, description: &'static str) -> Self {
        self.descriptor.description = description;
        self
    }

    /// The behavioural hints (default: [`ActionAttributes::default()`]).
    pub const fn attributes(mut self, attributes: ActionAttributes) -> Self {
        self.descriptor.attributes = attributes;
        self
    }

    /// Whether the user confirms before it runs (default: [`Confirm::No`]).
    pub const fn confirm(mut self, confirm: Confirm) -> Self {
        self.descriptor.confirm = confirm;
        self
    }

    /// The permission a caller needs (default: none).
    pub const fn permission(mut self, permission: &'static Permission) -> Self {
        self.descriptor.permission = Some(permission);
        self
    }

    /// The services the action declares it needs (default: none).
    pub const fn services(mut self, services: &'static [ServiceKey]) -> Self {
        self.descriptor.services = services;
        self
    }

    /// Where the action claims to be defined (default: where [`descriptor`] was called).
    pub const fn location(mut self, file: &'static str, line: u32) -> Self {
        self.descriptor.location = SourceLocation { file, line };
        self
    }

    /// The input schema (default: [`object_schema`]).
    pub const fn input_schema(mut self, input_schema: SchemaFn) -> Self {
        self.descriptor.input_schema = input_schema;
        self
    }

    /// The output schema (default: [`object_schema`]).
    pub const fn output_schema(mut self, output_schema: SchemaFn) -> Self {
        self.descriptor.output_schema = output_schema;
        self
    }

    /// The entry point (default: [`echo`]).
    pub const fn invoke(mut self, invoke: InvokeFn) -> Self {
        self.descriptor.invoke = invoke;
        self
    }

    /// The descriptor, leaked to get a `&'static` (fine in tests: a few bytes each).
    pub fn build(self) -> &'static ActionDescriptor {
        Box::leak(Box::new(self.descriptor))
    }

    /// The descriptor by value, in a `const` context: for a `static`.
    pub const fn into_descriptor(self) -> ActionDescriptor {
        self.descriptor
    }
}

impl std::fmt::Debug for DescriptorBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("DescriptorBuilder")
            .field(&self.descriptor)
            .finish()
    }
}

/// The default schema of a hand-built descriptor: `{"type": "object"}` (any object).
pub fn object_schema() -> Result<JsonObject, SchemaError> {
    let mut schema = JsonObject::new();
    schema.insert("type".into(), "object".into());
    Ok(schema)
}

/// The default entry point of a hand-built descriptor: returns its input unchanged.
pub fn echo(_ctx: ActionContext, input: Value) -> BoxFuture<'static, Result<Value, ActionError>> {
    Box::pin(std::future::ready(Ok(input)))
}

#[cfg(test)]
mod tests {
    use super::*;

    static IN_A_STATIC: ActionDescriptor = descriptor("plugin-x", "in_a_static").into_descriptor();

    #[test]
    fn descriptor_defaults() {
        let line = line!() + 1;
        let d = descriptor("plugin-x", "do_thing").build();
        assert_eq!(d.id(), "plugin-x:do_thing");
        assert_eq!(d.title, "do_thing");
        assert!(!d.description.trim().is_empty());
        assert_eq!(d.attributes, ActionAttributes::default());
        assert!(d.permission.is_none() && d.services.is_empty());
        assert_eq!(d.location.to_string(), format!("{}:{line}", file!()));
        assert_eq!(IN_A_STATIC.location.file, file!());
        let object = serde_json::json!({"type": "object"});
        assert_eq!(Value::Object((d.input_schema)().unwrap()), object);
        assert_eq!(Value::Object((d.output_schema)().unwrap()), object);
        // The defaults pass the registry's checks.
        Registry::from_descriptors([d, &IN_A_STATIC]).unwrap();
    }

    #[test]
    fn descriptor_setters() {
        const VIEW: Permission = Permission::read("plugin-x.view");
        static SERVICES: [ServiceKey; 1] = [ServiceKey::of::<String>()];
        fn no_schema() -> Result<JsonObject, SchemaError> {
            Ok(JsonObject::new())
        }
        let d = descriptor("plugin-x", "viewed")
            .title("Viewed")
            .description("Set by hand.")
            .attributes(ActionAttributes::new(true, None, true, true))
            .permission(&VIEW)
            .services(&SERVICES)
            .location("hand/built.rs", 7)
            .input_schema(no_schema)
            .output_schema(no_schema)
            .build();
        assert_eq!((d.title, d.description), ("Viewed", "Set by hand."));
        assert!(d.attributes.read_only && d.attributes.open_world);
        assert_eq!(d.permission, Some(&VIEW));
        assert_eq!((d.services[0].type_name)(), "alloc::string::String");
        assert_eq!(d.location.to_string(), "hand/built.rs:7");
        assert!((d.input_schema)().unwrap().is_empty());
        assert!((d.output_schema)().unwrap().is_empty());
    }
}
