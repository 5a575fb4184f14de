//! The `#[action]` attribute of [mcp-actions](https://docs.rs/mcp-actions). Use it through
//! `mcp_actions::action` (or `mcp_actions::prelude::*`); this crate is an implementation detail.
#![warn(missing_docs)]

use proc_macro::TokenStream;

mod attr;
mod confirm;
mod elicit;
mod errors;
mod expand;
mod object;
mod types;
mod validate;

/// Turns an async function into an action: a typed, permission-checked operation that
/// `mcp-actions-server` publishes as an MCP tool.
///
/// ```ignore
/// use mcp_actions::prelude::*;
///
/// #[derive(Deserialize, JsonSchema)]
/// struct GreetInput {
///     /// The name of the person to greet
///     name: String,
/// }
///
/// #[derive(Serialize, JsonSchema)]
/// struct GreetOutput {
///     /// The generated greeting
///     greeting: String,
/// }
///
/// /// Generate a personalized greeting.
/// #[action(name = "greet_user", title = "Greet User", read_only, idempotent)]
/// async fn greet_user(input: GreetInput, ctx: &ActionContext) -> Result<GreetOutput, ActionError> {
///     Ok(GreetOutput { greeting: format!("Hello {}!", input.name) })
/// }
/// ```
///
/// The function is kept as written (call it directly in tests); next to it the attribute emits
/// an `ActionDescriptor` that is collected at link time, so every action linked into a binary is
/// found by `Registry::from_inventory()`.
///
/// # Keys
///
/// | key | value | default |
/// |---|---|---|
/// | `name` | the tool name, `^[a-z][a-z0-9_]{0,63}$` | the function's name |
/// | `title` | a short human-readable name | **required** |
/// | `description` | what the action does, for the model | the doc comment (one of the two is **required**) |
/// | `plugin` | the plugin id, `^[a-z0-9][a-z0-9_-]{0,63}$` | the calling crate's package name |
/// | `read_only` | flag: changes nothing | `false` |
/// | `destructive` | flag: may destroy or overwrite data | `!read_only` |
/// | `idempotent` | flag: a repeated call has no further effect | `false` |
/// | `open_world` | flag: reaches systems outside the platform | `false` |
/// | `confirm` | flag, or a message `"Delete {name}?"` naming fields of the input: the user confirms through the client before the action runs | no confirmation |
/// | `permission` | path of a `const` or `static` `Permission` the caller needs | none |
/// | `crate` | `"path"` under which `mcp_actions` is reachable (a renamed dependency) | `"::mcp_actions"` |
///
/// Flags are written `read_only`, `read_only = true` or `read_only = false`. A doc comment's
/// lines are joined and their common indentation removed. `read_only` and `destructive` cannot
/// both be set.
///
/// # Handler shapes
///
/// ```text
/// async fn f(input: In) -> Result<Out, E>
/// async fn f(input: In, ctx: &ActionContext) -> Result<Out, E>
/// async fn f() -> Result<Out, E>                              // no input
/// async fn f(ctx: &ActionContext) -> Result<Out, E>           // no input
/// async fn f(input: In, ctx: &ActionContext, db: Service<Db>, http: Service<Http>) -> Result<Out, E>
/// ```
///
/// - At most one input argument, and it comes first: `In: Deserialize + JsonSchema`, an object
///   type (a struct, or an enum of structs).
/// - `&ActionContext` and any number of `Service<T>` arguments follow, in any order. A
///   `Service<T>` is a shared service registered on the server; the registry lists the ones an
///   action needs, so a missing service is reported at start-up
///   (`Registry::missing_services`).
/// - `Out: Serialize + JsonSchema`; `E: Into<ActionError>` (`ActionError` itself,
///   `anyhow::Error`, or your type with a `From` impl).
///
/// # Compile-time checks
///
/// Every misuse is a compile error on the offending token that says what to do: a function that
/// is not `async`, a `self` receiver, generics or lifetimes, an unknown or repeated key, a
/// missing title or description, a name clients may reject, `read_only` with `destructive`, a
/// wrong argument (`ActionContext` by value, `&mut`, two inputs), a missing or non-`Result`
/// return type, an input, output or error type without the needed traits, and a `permission`
/// that is not a `Permission`.
#[proc_macro_attribute]
pub fn action(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::action(attr.into(), item.into()).into()
}

/// Marks a type as something an action can ask the user for with `ctx.elicit::<T>(…)`: an MCP
/// elicitation form.
///
/// On a struct with named fields, each field must be a string, number, boolean, an enum that
/// also derives `Elicit`, or an `Option` of one of those; anything else is a compile error at
/// the field. On an enum, every variant must be a unit variant (the user picks one).
///
/// ```ignore
/// #[derive(Deserialize, JsonSchema, Elicit)]
/// struct Target {
///     /// Where to roll back
///     environment: Environment,
///     /// Why (recorded in the audit log)
///     reason: Option<String>,
/// }
///
/// #[derive(Deserialize, JsonSchema, Elicit)]
/// enum Environment { Staging, Production }
/// ```
#[proc_macro_derive(Elicit, attributes(elicit))]
pub fn derive_elicit(item: TokenStream) -> TokenStream {
    elicit::derive(item.into()).into()
}
