//! The e2e suite's server: its tokens, its config and its builder.

use mcp_actions_server::{ActionsServer, ActionsServerBuilder};
use mcp_actions_tests::prelude::*;

/// A token without restrictions, subject `mcp-clients`.
pub const FULL_TOKEN: &str = "full-access-token";
/// A token restricted to plugin `e2e`, subject `restricted`.
pub const RESTRICTED_TOKEN: &str = "restricted-token";
/// A token restricted to permission `e2e.secret.view` on plugin `e2e`, subject `viewer`.
pub const VIEWER_TOKEN: &str = "view-only-token";

/// The config of most test servers.
pub const TEST_CONFIG: &str = r#"
backend:
  auth:
    externalAccess:
      - type: static
        options: { token: full-access-token, subject: mcp-clients }
      - type: static
        options: { token: restricted-token, subject: restricted }
        accessRestrictions: [ { plugin: e2e } ]
      - type: static
        options: { token: view-only-token, subject: viewer }
        accessRestrictions: [ { plugin: e2e, permission: e2e.secret.view } ]
mcpActions:
  name: e2e-server
  description: The end-to-end test server.
  instructions: Call e2e_whoami first.
  limits:
    actionTimeoutSeconds: 1
"#;

/// A builder with [`TEST_CONFIG`] and the `e2e` and `e2e-other` actions.
pub fn e2e_builder() -> ActionsServerBuilder {
    ActionsServer::builder()
        .config(config(TEST_CONFIG))
        .registry(registry(&["e2e", "e2e-other"]))
}
