#![doc = include_str!("docs/overview.md")]
//!
//! ## Configuration reference
//!
#![doc = include_str!("docs/configuration.md")]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod auth;
mod backstage;
#[cfg(feature = "cli")]
#[cfg_attr(docsrs, doc(cfg(feature = "cli")))]
pub mod cli;
pub mod config;
mod http;
mod mcp;
mod server;
mod telemetry;
#[cfg(test)]
mod test_support;
#[cfg(any(feature = "sse", feature = "stdio"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "sse", feature = "stdio"))))]
pub mod transport;

#[cfg(feature = "jwt")]
pub use auth::{
    ASYMMETRIC_ALGORITHMS, DEFAULT_LEEWAY, DEFAULT_MIN_REFETCH, JwtAuthenticator, JwtConfigError,
    JwtIssuer, TokenRejection, VerifiedToken,
};
pub use auth::{AuthError, Authenticator, StaticTokenAuthenticator, bearer_token};
pub use backstage::Backstage;
#[cfg(feature = "cli")]
pub use cli::{RunError, run, run_cli, run_with};
pub use config::{Config, ConfigError, ConfigLoader};
pub use mcp::{ActionsHandler, ToolNameProblem};
pub use server::{
    ActionExposure, ActionsServer, ActionsServerBuilder, BuildError, Endpoint, MCP_PATH,
    ServeError, StartupProblem, WARNINGS_TARGET,
};
