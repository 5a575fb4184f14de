//! What operators run the server with besides its actions: the admin listener (metrics and
//! health checks) and the audit trail.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::model::ListenConfig;
use super::shapes;

/// `mcpActions.admin`: a second listener for operators, off unless `listen` is set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct AdminConfig {
    /// Where the admin listener serves `/metrics` (Prometheus text), `/healthz` and `/readyz`,
    /// unauthenticated: `{ host, port }` (keep it off the public interface). Absent: no admin
    /// listener (the health checks are on the MCP listener too).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<ListenConfig>,
}

/// `mcpActions.audit`: one JSON line per `tools/call`, per `tools/list` and per refused
/// authentication, whatever `RUST_LOG` says.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
#[non_exhaustive]
pub struct AuditConfig {
    /// Write audit events (`false`: none).
    #[serde(deserialize_with = "shapes::boolean")]
    pub enabled: bool,
    /// Append the events to this file instead of writing them to stderr.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Record each call's arguments, with the values of keys that look like secrets (`token`,
    /// `password`, `secret`, `key`, `authorization`, `credential`…) replaced by `***`.
    #[serde(deserialize_with = "shapes::boolean")]
    pub arguments: bool,
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            file: None,
            arguments: false,
        }
    }
}
