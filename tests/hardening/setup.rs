//! The hardening suite's server: its tokens, its config, its builder, and the calls every test
//! makes of it.

use std::sync::Arc;

use mcp_actions_server::{ActionsServer, ActionsServerBuilder};
use mcp_actions_tests::prelude::*;
use serde_json::{Value, json};

use crate::actions::Probe;

/// A token without restrictions, subject `hardening-client`.
pub const FULL_TOKEN: &str = "hardening-full-token-3141";
/// A token restricted to plugin `hardening-other`, subject `restricted-client`.
pub const RESTRICTED_TOKEN: &str = "hardening-restricted-2718";

/// The config of most test servers: two tokens, a 64 KiB body limit, a 60 s action timeout
/// (long enough that only the tests that want a timeout see one).
pub const CONFIG: &str = r#"
backend:
  auth:
    externalAccess:
      - type: static
        options: { token: hardening-full-token-3141, subject: hardening-client }
      - type: static
        options: { token: hardening-restricted-2718, subject: restricted-client }
        accessRestrictions: [ { plugin: hardening-other } ]
mcpActions:
  name: hardening-server
  limits:
    maxRequestBodyBytes: 65536
    actionTimeoutSeconds: 60
"#;

/// A builder with [`CONFIG`] (plus `extra` YAML merged over it), the `hardening` and
/// `hardening-other` actions and `probe` as a service.
pub fn builder(extra: &str, probe: &Arc<Probe>) -> ActionsServerBuilder {
    ActionsServer::builder()
        .config(configs(&[CONFIG, extra]))
        .registry(registry(&["hardening", "hardening-other"]))
        .service_arc(Arc::clone(probe))
}

/// What the hardening tests ask of their server.
pub trait Hardened {
    /// A tools/call of `name` with `arguments` and the full token (2025-11-25 shape).
    async fn call(&self, name: &str, arguments: Value) -> Reply;

    /// Proves the server still answers a normal call (and a tools/list).
    async fn assert_serving(&self);
}

impl Hardened for TestServer {
    async fn call(&self, name: &str, arguments: Value) -> Reply {
        post(
            &self.endpoint,
            Some(FULL_TOKEN),
            &call_request(1, name, arguments),
        )
        .await
    }

    async fn assert_serving(&self) {
        let reply = self
            .call("hardening_echo", json!({"message": "still here"}))
            .await;
        assert_eq!(reply.status, 200, "{reply:?}");
        assert_eq!(
            reply.json()["result"]["structuredContent"],
            json!({"echo": "still here"}),
            "{reply:?}"
        );
        let reply = post(
            &self.endpoint,
            Some(FULL_TOKEN),
            &rpc(2, "tools/list", None),
        )
        .await;
        assert_eq!(reply.status, 200, "{reply:?}");
        assert!(
            reply.json()["result"]["tools"]
                .as_array()
                .is_some_and(|t| !t.is_empty()),
            "{reply:?}"
        );
    }
}
