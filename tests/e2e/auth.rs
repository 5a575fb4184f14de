//! Authentication and credentials: 401 + challenge, the metadata document, the subject reaching
//! the handler, token access restrictions.

use mcp_actions_tests::prelude::*;
use serde_json::json;

use crate::setup::*;

#[tokio::test]
async fn missing_or_wrong_token_is_401_with_a_resource_metadata_challenge() {
    let server = TestServer::start(e2e_builder()).await;
    let expected = format!(
        "Bearer resource_metadata=\"{}/.well-known/oauth-protected-resource/api/mcp-actions/v1\"",
        server.base_url
    );
    for token in [
        None,
        Some("not-a-valid-token"),
        Some("full-access-token-but-longer"),
    ] {
        let reply = post(&server.endpoint, token, &rpc(1, "tools/list", None)).await;
        assert_eq!(reply.status, 401, "token {token:?}");
        let challenge = reply.header("www-authenticate").unwrap().to_owned();
        assert!(challenge.starts_with(&expected), "{challenge}");
        if token.is_some() {
            assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
        }
        assert_eq!(reply.json()["error"]["name"], "AuthenticationError");
    }
    // The right token passes.
    let reply = post(
        &server.endpoint,
        Some(FULL_TOKEN),
        &rpc(1, "tools/list", None),
    )
    .await;
    assert_eq!(reply.status, 200);
}

#[tokio::test]
async fn the_rmcp_client_with_a_wrong_token_cannot_connect() {
    let server = TestServer::start(e2e_builder()).await;
    for lifecycle in LIFECYCLES {
        let error = server
            .try_client("wrong-token-123", lifecycle)
            .await
            .err()
            .unwrap_or_else(|| panic!("{lifecycle:?}: connected with a wrong token"));
        let text = format!("{error:#}");
        assert!(
            text.contains("401") || text.to_lowercase().contains("auth"),
            "{lifecycle:?}: {text}"
        );
    }
}

#[tokio::test]
async fn protected_resource_metadata_is_served_without_auth() {
    let server = TestServer::start(
        mcp_actions_server::ActionsServer::builder()
            .config(config(&format!(
                "{TEST_CONFIG}  authorizationServers: [https://auth.example.com]\n"
            )))
            .registry(registry(&["e2e"])),
    )
    .await;
    let url = format!(
        "{}/.well-known/oauth-protected-resource/api/mcp-actions/v1",
        server.base_url
    );
    let response = reqwest::get(&url).await.unwrap();
    assert_eq!(response.status(), 200);
    let document: serde_json::Value = response.json().await.unwrap();
    assert_eq!(document["resource"], server.endpoint);
    assert_eq!(
        document["authorization_servers"],
        json!(["https://auth.example.com"])
    );
    assert_eq!(document["bearer_methods_supported"], json!(["header"]));
}

#[tokio::test]
async fn protected_resource_metadata_uses_the_configured_base_url() {
    let server = TestServer::start(
        mcp_actions_server::ActionsServer::builder()
            .config(configs(&[
                TEST_CONFIG,
                "backend:\n  baseUrl: https://mcp.example.com/\n",
            ]))
            .registry(registry(&["e2e"])),
    )
    .await;
    let url = format!(
        "{}/.well-known/oauth-protected-resource/api/mcp-actions/v1",
        server.base_url
    );
    let document: serde_json::Value = reqwest::get(&url).await.unwrap().json().await.unwrap();
    assert_eq!(
        document["resource"],
        "https://mcp.example.com/api/mcp-actions/v1"
    );
    assert_eq!(document["authorization_servers"], json!([]));
    let reply = post(&server.endpoint, None, &rpc(1, "tools/list", None)).await;
    assert_eq!(
        reply.headers["www-authenticate"],
        "Bearer resource_metadata=\"https://mcp.example.com/.well-known/oauth-protected-resource/api/mcp-actions/v1\""
    );
}

#[tokio::test]
async fn the_static_token_subject_reaches_the_handler_on_both_lifecycles() {
    let server = TestServer::start(e2e_builder()).await;
    for lifecycle in LIFECYCLES {
        for (token, subject) in [
            (FULL_TOKEN, "mcp-clients"),
            (RESTRICTED_TOKEN, "restricted"),
        ] {
            let client = server.client(token, lifecycle).await;
            let result = call(&client, "e2e_whoami", json!({})).await;
            assert_eq!(
                result.structured_content,
                Some(json!({"principal": format!("service:{subject}"), "subject": subject})),
                "{lifecycle:?}"
            );
            client.cancel().await.unwrap();
        }
    }
}

#[tokio::test]
async fn plugin_access_restrictions_hide_and_refuse_other_plugins() {
    let server = TestServer::start(e2e_builder()).await;
    for lifecycle in LIFECYCLES {
        let full = server.client(FULL_TOKEN, lifecycle).await;
        assert!(
            tool_names(&full)
                .await
                .contains(&"e2e_other_plugin".to_owned())
        );
        let restricted = server.client(RESTRICTED_TOKEN, lifecycle).await;
        let names = tool_names(&restricted).await;
        assert!(!names.contains(&"e2e_other_plugin".to_owned()), "{names:?}");
        assert!(names.contains(&"e2e_whoami".to_owned()), "{names:?}");
        assert_unknown_tool(&restricted, "e2e_other_plugin", json!({})).await;
        full.cancel().await.unwrap();
        restricted.cancel().await.unwrap();
    }
}

#[tokio::test]
async fn permission_access_restrictions_hide_and_refuse_other_permissions() {
    let server = TestServer::start(e2e_builder()).await;
    for lifecycle in LIFECYCLES {
        let viewer = server.client(VIEWER_TOKEN, lifecycle).await;
        let names = tool_names(&viewer).await;
        assert!(names.contains(&"e2e_read_secret".to_owned()), "{names:?}");
        assert!(!names.contains(&"e2e_write_secret".to_owned()), "{names:?}");
        let result = call(&viewer, "e2e_read_secret", json!({})).await;
        assert_eq!(result.structured_content, Some(json!({"done": true})));
        assert_unknown_tool(&viewer, "e2e_write_secret", json!({})).await;
        viewer.cancel().await.unwrap();
    }
}
