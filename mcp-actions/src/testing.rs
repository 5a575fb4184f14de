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

use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::context::ActionContext;
use crate::credentials::Credentials;
use crate::dispatch::{CallOptions, Dispatcher};
use crate::error::ActionError;
use crate::policy::{AllowAll, PermissionPolicy};
use crate::registry::Registry;
use crate::services::Services;

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
