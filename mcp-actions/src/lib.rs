//! # mcp-actions
//!
//! Publish your platform's operations — *actions* — to AI assistants as MCP tools.
//!
//! Write an async function with typed input and output, put [`#[action]`](action) on it, and
//! link the crate into a binary: every action in the binary is collected at link time and can be
//! served by `mcp-actions-server`, called from tests with [`testing::ActionTester`], or
//! inspected through the [`Registry`].
//!
//! ```
//! use mcp_actions::prelude::*;
//!
//! #[derive(Deserialize, JsonSchema)]
//! struct GreetInput {
//!     /// The name of the person to greet
//!     name: String,
//! }
//!
//! #[derive(Serialize, JsonSchema)]
//! struct GreetOutput {
//!     /// The generated greeting
//!     greeting: String,
//! }
//!
//! /// Generate a personalized greeting.
//! #[action(name = "greet_user", title = "Greet User", read_only, idempotent)]
//! async fn greet_user(input: GreetInput, ctx: &ActionContext) -> Result<GreetOutput, ActionError> {
//!     tracing::info!(principal = %ctx.principal(), "greeting");
//!     Ok(GreetOutput { greeting: format!("Hello {}!", input.name) })
//! }
//!
//! let registry = Registry::from_inventory().unwrap();
//! let action = registry.get("greet_user").unwrap();
//! assert!(action.descriptor().attributes.read_only);
//! assert_eq!(action.input_schema()["properties"]["name"]["description"], "The name of the person to greet");
//! ```
//!
//! Misuse is a compile error that says what to do:
//!
//! ```compile_fail
//! use mcp_actions::prelude::*;
//! #[derive(Deserialize, JsonSchema)] struct In {}
//! #[derive(Serialize, JsonSchema)] struct Out {}
//! /// Not async.
//! #[action(title = "Sync")]
//! fn not_async(input: In) -> Result<Out, ActionError> { Ok(Out {}) }
//! ```
//!
//! ```text
//! error: an action must be an `async fn`; write `async fn not_async(…)`
//! ```
//!
//! A type without the derives it needs is reported at that type:
//!
//! ```compile_fail
//! use mcp_actions::prelude::*;
//! struct In { name: String }
//! #[derive(Serialize, JsonSchema)] struct Out {}
//! /// No derives on the input.
//! #[action(title = "Underived")]
//! async fn underived(input: In) -> Result<Out, ActionError> { Ok(Out {}) }
//! ```
//!
//! ```text
//! error[E0277]: `In` cannot be used as an action's input
//!   |
//!   | async fn underived(input: In) -> Result<Out, ActionError> { Ok(Out {}) }
//!   |                           ^^ an action input must implement `serde::Deserialize` and `schemars::JsonSchema`
//!   = note: add `#[derive(Deserialize, JsonSchema)]` to `In` (both derives are in `mcp_actions::prelude`)
//! ```
//!
//! The keys of `#[action(...)]` (`name`, `title`, `description`, `plugin`, `read_only`,
//! `destructive`, `idempotent`, `open_world`, `permission`, `crate`) and the accepted function
//! shapes are described on [`action`].
#![warn(missing_docs)]
// docs.rs (`--cfg docsrs`, see Cargo.toml) labels feature-gated items with their feature.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod context;
pub mod credentials;
pub mod descriptor;
pub mod dispatch;
pub mod elicit;
pub mod error;
pub mod filter;
pub mod permission;
pub mod policy;
pub mod registry;
pub mod schema;
pub mod services;
pub mod testing;

#[doc(hidden)]
pub mod __private;

/// Turns an async function into an action.
pub use mcp_actions_macros::{Elicit, action};

pub use context::{ActionContext, NoProgress, Progress, ProgressReporter};
pub use credentials::{AccessRestriction, Credentials, Principal};
pub use descriptor::{ActionAttributes, ActionDescriptor, SourceLocation};
pub use dispatch::{CallError, CallOptions, Dispatcher};
pub use elicit::{
    Answer, AskError, Confirm, ConfirmPolicy, Elicit, NoPrompt, Question, UserPrompt, WithoutPrompt,
};
pub use error::{ActionError, ErrorKind};
pub use permission::{BoxFuture, Permission, PermissionAction};
pub use policy::{AllowAll, AuthorizeRequest, Decision, DenyAll, PermissionPolicy, policy_fn};
pub use registry::{RegisteredAction, Registry, RegistryError, RegistryProblem};
pub use services::{Service, Services};

/// What an action file needs: `use mcp_actions::prelude::*;`.
pub mod prelude {
    pub use crate::{
        ActionContext, ActionError, Credentials, Elicit, Permission, PermissionAction, Principal,
        Registry, Service, action,
    };
    pub use schemars::JsonSchema;
    pub use serde::{Deserialize, Serialize};
}
