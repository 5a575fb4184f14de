//! The transports besides Streamable HTTP, end to end over real connections: the deprecated
//! HTTP+SSE transport (2024-11-05) with a hand-written protocol-level client and with the
//! official TypeScript SDK's `SSEClientTransport`; and stdio in-process, rmcp's client on one
//! end of a pipe (`examples/greet-user/tests/stdio.rs` spawns the real binary with
//! `serve --stdio`).

// Link greet-user so its action is collected.
use greet_user as _;

mod actions;
mod setup;

mod interop;
mod server;
mod sse;
mod stdio;
