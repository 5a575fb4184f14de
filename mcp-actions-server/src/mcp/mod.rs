//! MCP over the core [`Dispatcher`](mcp_actions::Dispatcher).
//!
//! | file | what it owns |
//! |---|---|
//! | `handler.rs` | [`ActionsHandler`]: `tools/list` filtered per caller, `tools/call` by name in O(1), on the direct path and through rmcp |
//! | `service.rs` | [`ActionsHandler`] as rmcp's `ServerHandler`: what rmcp's service hands over |
//! | `ask.rs` | questions for the user: `elicitation/create` on a peer, 2026-07-28 input-required rounds and their sealed state |
//! | `list.rs` | `tools/list`: the order, pages and cursors (`mcpActions.listPageSize`), 2026-07-28 caching hints |
//! | `tools.rs` | tool names (computed once for every linked action, checked for the served ones) and tool descriptions |
//! | `output.rs` | every output checked against its action's output schema |
//! | `observe.rs` | each `tools/call` and `tools/list` as a metric sample and an audit event |

mod ask;
mod handler;
mod list;
mod observe;
mod output;
mod service;
mod tools;

#[cfg(feature = "stdio")]
pub(crate) use ask::FallbackPrompt;
pub(crate) use ask::{Asking, RoundSeal, answer_of, can_elicit, form, json_can_elicit};
pub use handler::ActionsHandler;
pub(crate) use handler::ServerIdentity;
#[cfg(test)]
pub(crate) use list::LIST_TTL_MS;
pub(crate) use observe::{Observer, Seen};
pub(crate) use output::OutputSchemas;
pub(crate) use tools::ToolNames;
pub use tools::{ToolNameProblem, ToolNaming};
