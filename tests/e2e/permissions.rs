//! The permission policy hook: denied permissions are hidden from tools/list and refused.

use mcp_actions::{Decision, Principal, policy_fn};
use mcp_actions_tests::prelude::*;
use serde_json::json;

use crate::actions::SECRET_WRITE;
use crate::setup::*;

#[tokio::test]
async fn a_permission_the_policy_denies_is_hidden_and_refused_on_both_lifecycles() {
    // `mcp-clients` may not write the secret; `restricted` may.
    let policy = policy_fn(|request| {
        let denied = request.permission.name() == SECRET_WRITE.name()
            && *request.credentials.principal()
                == Principal::Service {
                    subject: "mcp-clients".into(),
                };
        Decision::from_bool(!denied)
    });
    let server = TestServer::start(e2e_builder().permission_policy(policy)).await;
    for lifecycle in LIFECYCLES {
        let denied = server.client(FULL_TOKEN, lifecycle).await;
        let names = tool_names(&denied).await;
        assert!(!names.contains(&"e2e_write_secret".to_owned()), "{names:?}");
        assert!(names.contains(&"e2e_read_secret".to_owned()), "{names:?}");
        // Answered exactly like a tool that does not exist: the caller cannot probe.
        assert_unknown_tool(&denied, "e2e_write_secret", json!({})).await;

        let allowed = server.client(RESTRICTED_TOKEN, lifecycle).await;
        assert!(
            tool_names(&allowed)
                .await
                .contains(&"e2e_write_secret".to_owned())
        );
        let result = call(&allowed, "e2e_write_secret", json!({})).await;
        assert_eq!(result.structured_content, Some(json!({"done": true})));
        denied.cancel().await.unwrap();
        allowed.cancel().await.unwrap();
    }
}

#[tokio::test]
async fn without_a_policy_every_permission_is_allowed() {
    let server = TestServer::start(e2e_builder()).await;
    let client = server.client(FULL_TOKEN, Lifecycle::Discover).await;
    let names = tool_names(&client).await;
    assert!(names.contains(&"e2e_write_secret".to_owned()), "{names:?}");
    let result = call(&client, "e2e_write_secret", json!({})).await;
    assert_eq!(result.structured_content, Some(json!({"done": true})));
}
