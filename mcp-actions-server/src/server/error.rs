//! Why a server could not be built or could not serve.

use mcp_actions::RegistryProblem;
use mcp_actions::registry::MissingService;

use crate::config::ConfigError;
use crate::mcp::ToolNameProblem;

/// Why the server could not be built. Every problem found is listed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The configuration is invalid (e.g. `MCP_TOKEN` is not a valid token).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The actions cannot be served: invalid definitions or unregistered services.
    #[error("{}", describe_problems(.0))]
    Actions(Vec<StartupProblem>),
}

/// One reason the actions cannot be served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StartupProblem {
    /// An invalid action definition (name, schema, duplicate…).
    #[error("{0}")]
    Registry(RegistryProblem),
    /// An action needs a service nobody registered.
    #[error("{0}; register it with `ActionsServer::builder().service(…)`")]
    MissingService(MissingService),
    /// A tool name is too long, or two actions share one (`mcpActions.namespacedToolNames`).
    #[error("{0}")]
    ToolName(ToolNameProblem),
}

pub(crate) fn describe_problems(problems: &[StartupProblem]) -> String {
    match problems {
        [one] => format!("the actions in this binary cannot be served: {one}"),
        many => {
            let mut text = format!(
                "the actions in this binary cannot be served ({} problems):",
                many.len()
            );
            for problem in many {
                text.push_str(&format!("\n  - {problem}"));
            }
            text
        }
    }
}

/// Serving failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The listen address could not be bound.
    #[error(
        "cannot listen on {address}: {source}; choose another port with `serve --port N` (or `backend.listen` in the config), or stop the program that uses it"
    )]
    Bind {
        /// The address.
        address: String,
        /// Why.
        source: std::io::Error,
    },
    /// The server stopped with an I/O error.
    #[error("the server stopped: {0}")]
    Io(#[from] std::io::Error),
}
