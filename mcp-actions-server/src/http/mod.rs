//! HTTP in front of the MCP handler.
//!
//! | file | what it owns |
//! |---|---|
//! | `guard.rs` | the one service in front of each Streamable HTTP endpoint: concurrency limit, authentication, body limit, Host check, the OAuth scopes of `tools/call`, then the direct path or rmcp |
//! | `elicit/` | asking the user on 2025-11-25: sealed session ids, `elicitation/create` on the call's SSE stream, the client's POSTed answer routed to the waiting call |
//! | `direct.rs` | the direct path: plain stateless `tools/call`, `tools/list` and `server/discover` answered without rmcp's per-request service, on 2025-11-25 and 2026-07-28 |
//! | `body.rs` | body limit, early answers that keep keep-alive connections usable, JSON-RPC errors for bodies that are not JSON-RPC |
//! | `hosts.rs` | the DNS-rebinding guard: one decision for every transport |
//! | `health.rs` | `/healthz` and `/readyz` (503 while draining) |

pub(crate) mod body;
mod direct;
mod elicit;
mod guard;
pub(crate) mod health;
pub(crate) mod hosts;

pub(crate) use direct::Direct;
pub(crate) use elicit::Asker;
#[cfg(feature = "sse")]
pub(crate) use guard::require_auth;
pub(crate) use guard::{ConcurrencyLimit, GuardedMcpService, Guards, ToolScopes};
pub(crate) use hosts::AllowedHosts;
