//! What every test suite of this folder shares: starting and stopping servers, clients (rmcp's,
//! raw HTTP, raw TCP, the 2024-11-05 SSE one), configs, bounded waits and log capture.
//!
//! Each suite keeps only what is its own (its tokens, its config, its actions); everything it
//! needs to talk to a server comes from here, through [`prelude`].

#![warn(missing_docs)]

pub mod client;
pub mod config;
pub mod http;
pub mod idp;
pub mod interop;
pub mod logs;
pub mod otlp;
pub mod real;
pub mod server;
pub mod sse;
pub mod user;
pub mod wait;

/// Everything a suite usually needs, for `use mcp_actions_tests::prelude::*;`.
pub mod prelude {
    pub use crate::client::{
        Client, LIFECYCLES, Lifecycle, assert_unknown_tool, call, call_error, error_text, text,
        tool_names,
    };
    pub use crate::config::{config, configs, loader, registry};
    pub use crate::http::{
        Reply, V2025, V2026, call_request, call_request_2026, headers_2026, post, raw_exchange,
        raw_post, raw_status, read_until_closed, reply, rpc, send, standard_headers,
    };
    pub use crate::logs::{LogCapture, in_own_process};
    pub use crate::server::TestServer;
    pub use crate::sse::{SseClient, SseEvent, error_of, get_sse, post_message};
    pub use crate::user::{User, answer};
    pub use crate::wait::{WAIT, bounded, eventually};
}
