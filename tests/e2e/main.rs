//! The server end to end: real HTTP on ephemeral loopback ports, rmcp's client, both MCP
//! lifecycles (2025-11-25 `initialize` and 2026-07-28 per-request `_meta`).
//!
//! Servers are started in-process through `ActionsServer::builder()`, with the actions of
//! `actions.rs` (plugins `e2e` and `e2e-other`, linked into this test binary only) and the
//! example crates.

// Link greet-user so its action is collected (catalog is linked through `catalog::setup`).
use greet_user as _;

mod actions;
mod setup;

mod auth;
mod backstage;
mod calls;
mod catalog;
mod config;
mod direct;
mod filters;
mod http;
mod jwt;
mod listing;
mod naming;
mod operations;
mod otlp;
mod permissions;
mod replicas;
mod servers;
