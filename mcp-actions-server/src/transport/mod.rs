//! Transports besides Streamable HTTP: the deprecated HTTP+SSE transport of MCP 2024-11-05
//! ([`sse`]) for clients that speak nothing newer, and stdio ([`stdio`]) for local clients that
//! start the server as a child process (Claude Desktop, IDEs).
//!
//! Both serve the same [`ActionsHandler`](crate::ActionsHandler) as Streamable HTTP, so a tool
//! behaves the same whichever way the client connects; only how the caller's
//! [`Credentials`](mcp_actions::Credentials) are found differs:
//!
//! | transport | credentials |
//! |---|---|
//! | Streamable HTTP, `…/v1` | the bearer token of every POST |
//! | HTTP+SSE, `…/v1/sse` | the bearer token of the `GET` that opens the session, checked again on every POST (the identity must stay the same) |
//! | stdio | the command line (`--subject`, `--user`) or `mcpActions.stdio`; default `service:stdio` |
//!
//! Their keys (`mcpActions.sse.*`, `mcpActions.stdio.*`) are in the crate's
//! [configuration reference](crate#configuration-reference). The body of an SSE POST is
//! limited by `mcpActions.limits.maxRequestBodyBytes`, like a Streamable HTTP POST.

#[cfg(feature = "sse")]
#[cfg_attr(docsrs, doc(cfg(feature = "sse")))]
pub mod sse;
#[cfg(feature = "stdio")]
#[cfg_attr(docsrs, doc(cfg(feature = "stdio")))]
pub mod stdio;

#[cfg(feature = "sse")]
pub use sse::{SseEndpoint, SseOptions};
