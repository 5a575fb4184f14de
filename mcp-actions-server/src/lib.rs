//! # mcp-actions-server
//!
//! Serves every [`mcp_actions`] action linked into a binary to AI clients as MCP tools:
//! Streamable HTTP at `http://HOST:PORT/api/mcp-actions/v1` (stateless, both the 2025-11-25
//! `initialize` lifecycle and 2026-07-28), with static-token authentication in Backstage's
//! format, access restrictions, a permission policy hook, typed services and YAML config. Old
//! clients get the deprecated HTTP+SSE transport at `…/v1/sse`, local ones stdio
//! (`serve --stdio`); see [`transport`].
//!
//! The requests clients send over and over — a stateless `tools/call` or `tools/list` with
//! nothing but a tool name and arguments — are answered directly, without building rmcp's
//! per-request service around them: the same answers, byte for byte, for under half the
//! server's work per call (see `BENCHMARKS.md`). Everything else goes through rmcp's Streamable
//! HTTP service; [`ActionsServerBuilder::direct_dispatch`] turns the direct path off.
//!
//! A binary is two lines:
//!
//! ```no_run
//! use greet_user as _; // link the crate whose actions to serve
//!
//! #[tokio::main]
//! async fn main() -> anyhow::Result<()> { mcp_actions_server::run().await }
//! # mod greet_user {}
//! ```
//!
//! Teams that register services, a permission policy or an authenticator, or mount the MCP
//! endpoint into their own axum app, use [`ActionsServer::builder`]:
//!
//! ```no_run
//! use mcp_actions_server::{ActionsServer, config::ConfigLoader};
//! # #[derive(Default)] struct Store;
//! # async fn example() -> anyhow::Result<()> {
//! let config = ConfigLoader::new().file("app-config.yaml").load()?;
//! let server = ActionsServer::builder().config(config).service(Store::default()).build()?;
//! let app = axum::Router::new().merge(server.into_router()); // or: server.serve(listener)
//! # let _ = app; Ok(()) }
//! ```
//!
//! ## Configuration keys
//!
//! | key | default |
//! |---|---|
//! | `backend.listen.{host,port}` (or `":7007"`) | `127.0.0.1`, `7007` |
//! | `backend.baseUrl` | `http://<listen address>` |
//! | `backend.auth.externalAccess[]` (`type: static`, `options.{token,subject}`, `accessRestrictions`) | none: the token in `MCP_TOKEN`, or a generated one |
//! | `mcpActions.{name,description,instructions}` | `mcp-actions` |
//! | `mcpActions.allowedHosts` | listen host, `localhost`, `127.0.0.1`, `::1` (+ baseUrl host) |
//! | `mcpActions.authorizationServers` | `[]` |
//! | `mcpActions.limits.maxRequestBodyBytes` | 4 MiB |
//! | `mcpActions.limits.actionTimeoutSeconds` | 30 (`0`: none) |
//! | `mcpActions.limits.maxConcurrentRequests` (Streamable HTTP requests in progress at once, every endpoint together; one more is refused at once with 503 + `Retry-After: 1`, never queued) | 256 |
//! | `mcpActions.limits.shutdownGraceSeconds` (on SIGTERM/Ctrl-C, how long requests in progress may finish before they are cancelled) | 10 (`0`: cancel at once) |
//! | `backend.actions.pluginSources` | every plugin linked in |
//! | `backend.actions.filter.{include,exclude}[]` (`{ id: <glob on plugin:name>, attributes: { readOnly, destructive, idempotent } }`) | no rules: everything |
//! | `mcpActions.namespacedToolNames` | `false` (`true`: tools named `<plugin>__<name>`, `-` → `_`) |
//! | `mcpActions.servers.<key>.{name,description,instructions,filter}` (`name` required; key `^[a-z0-9][a-z0-9-]*$`, not `sse`) | none |
//! | `mcpActions.sse.{enabled,maxSessions,idleTimeoutSeconds,keepAliveSeconds}` | `true`, 100 per server, 300 (`0`: never), 15 (`0`: never) |
//! | `mcpActions.stdio.{subject,user}` | subject `stdio` |
//!
//! See [`config`] for merging and `${VAR}` substitution.
//!
//! ## Limits and errors at the HTTP level
//!
//! - A body over `maxRequestBodyBytes` is 413, from `Content-Length` before the body is read,
//!   or as soon as a chunked body crosses the limit (never read whole).
//! - A body that is not JSON is HTTP 400 with JSON-RPC -32700 (Parse error); JSON that is not
//!   one JSON-RPC request (a batch too) 400 with -32600 (Invalid Request); a wrong
//!   `Content-Type` stays 415. A `tools/call` whose params do not have its shape is -32602.
//! - More than one `Authorization` header is a 401, whatever the authenticator.
//! - A request refused before its body is read (401, 413, 503) leaves a keep-alive connection
//!   usable: a short body (≤ 64 KiB, announced by `Content-Length`) is read and dropped in the
//!   background, anything else is answered with `Connection: close`.
//! - An action's output that does not match its declared output schema is an
//!   `InternalError` (the mismatch is logged with the reference the client gets).
//! - On SIGTERM/Ctrl-C ([`ActionsServer::serve_with_shutdown`]) the server stops accepting,
//!   lets requests in progress finish within `shutdownGraceSeconds`, cancels what still runs,
//!   and exits 0.
//!
//! ## Which actions are served
//!
//! The **default server** at `/api/mcp-actions/v1` serves every linked action that passes
//! [`ActionsServerBuilder::plugin_sources`] (when the code sets it), then
//! `backend.actions.pluginSources`, then `backend.actions.filter`: when there are include
//! rules an action must match one; an exclude rule that matches always wins; a rule's `id`
//! glob (`catalog:*`, `*:delete_*`) and `attributes` (compared after defaults: `destructive`
//! is `!readOnly` unless set) must both match. Each **named server**
//! (`mcpActions.servers.<key>`) serves, at `/api/mcp-actions/v1/<key>`, the default server's
//! actions that pass its own `filter`, with its own name, description, instructions,
//! protected-resource metadata (`/.well-known/oauth-protected-resource/api/mcp-actions/v1/<key>`)
//! and 401 challenge. A plugin source or rule that matches nothing is a start-up warning;
//! [`ActionsServer::exposure`] explains every decision.
//!
//! ```yaml
//! backend:
//!   actions:
//!     pluginSources: [catalog, my-custom-plugin]
//!     filter:
//!       include:
//!         - id: 'catalog:*'
//!         - attributes: { readOnly: true }
//!       exclude:
//!         - id: '*:delete_*'
//! mcpActions:
//!   namespacedToolNames: false
//!   servers:
//!     read-only:
//!       name: Catalog (read-only)
//!       filter:
//!         include: [ { attributes: { readOnly: true } } ]
//! ```
//!
//! ## Command line
//!
//! [`run`] gives every binary the same commands ([`cli`]): `serve` (the default; `--stdio`),
//! `list`, `schema <name>`, `call <name> --input '<json>' [--subject s | --user user:…]`,
//! `token`, and `config check`; `--config FILE` (repeatable) works with each. Exit status: 0
//! success, 1 an action error or a server that could not start or failed, 2 an invalid command
//! line or configuration.
#![warn(missing_docs)]

pub mod auth;
pub mod cli;
pub mod config;
mod direct;
mod guard;
pub mod handler;
mod output;
pub mod prm;
pub mod server;
pub mod transport;

pub use auth::{AuthError, Authenticator, StaticTokenAuthenticator};
pub use cli::{Cli, Command, RunError, ServeArgs, run, run_cli, run_with};
pub use config::{Config, ConfigError, ConfigLoader};
pub use handler::{ActionsHandler, ToolNaming};
pub use server::{
    ActionExposure, ActionsServer, ActionsServerBuilder, BuildError, Endpoint, MCP_PATH, ServeError,
};
