//! Hardening: the server holds under what a hostile or buggy client can send.
//!
//! - `input`: bad HTTP and JSON-RPC input, each refused clearly, the server serving after;
//! - `auth`: no way in without a valid token, no token in logs or answers, Host allow-list;
//! - `config`: every malformed configuration is an error naming its key, never a panic;
//! - `limits`: the concurrency limit and early refusals on keep-alive connections;
//! - `faults`: panics, hangs, disconnects, lying output — no effect on other calls;
//! - `regressions`: inputs found by the fuzz targets in `fuzz/`;
//! - `shutdown`: graceful shutdown loses no accepted call, and cuts what outlives the grace period.
//!
//! Servers start in-process on 127.0.0.1:0 (`mcp_actions_tests::server::TestServer`) with the
//! config of `setup.rs` and the actions of `actions.rs` (plugins `hardening` and
//! `hardening-other`, linked into this test binary only).

mod actions;
mod setup;

mod auth;
mod config;
mod faults;
mod input;
mod limits;
mod regressions;
mod shutdown;
