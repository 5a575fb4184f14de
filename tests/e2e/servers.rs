//! Named servers (`mcpActions.servers.<key>` at `/api/mcp-actions/v1/<key>`): their own tool
//! lists, identity, metadata document and 401 challenge; subsets of the default server; bad
//! keys; unknown keys are 404.

use mcp_actions_server::{ActionsServer, ActionsServerBuilder, ConfigLoader};
use mcp_actions_tests::prelude::*;
use serde_json::json;

use crate::setup::*;

const SERVERS: &str = r#"
mcpActions:
  authorizationServers: [https://auth.example.com]
  servers:
    read-only:
      name: e2e read-only
      description: Only what cannot change anything.
      instructions: Look, don't touch.
      filter:
        include: [ { attributes: { readOnly: true } } ]
        exclude: [ { id: '*:e2e_s*' } ]
    ops:
      name: e2e ops
      filter:
        include: [ { id: 'e2e:e2e_*_secret' } ]
    other7:
      name: everything of the default server
"#;

fn builder(extra: &str) -> ActionsServerBuilder {
    ActionsServer::builder()
        .config(configs(&[TEST_CONFIG, SERVERS, extra]))
        .registry(registry(&["e2e", "e2e-other"]))
}

#[tokio::test]
async fn each_named_server_serves_its_own_subset_with_its_own_identity() {
    let server = TestServer::start(builder("")).await;
    for lifecycle in LIFECYCLES {
        let client = server
            .client_at(&server.named("read-only"), FULL_TOKEN, lifecycle)
            .await;
        assert_eq!(
            tool_names(&client).await,
            [
                "e2e_echo",
                "e2e_fail",
                "e2e_other_plugin",
                "e2e_progress",
                "e2e_read_secret",
                "e2e_whoami"
            ],
            "{lifecycle:?}"
        );
        let info = client.peer_info().expect("server info");
        let implementation = info.server_info.as_ref().expect("serverInfo");
        assert_eq!(implementation.name, "e2e read-only");
        assert_eq!(
            implementation.description.as_deref(),
            Some("Only what cannot change anything.")
        );
        assert_eq!(info.instructions.as_deref(), Some("Look, don't touch."));
        let result = call(&client, "e2e_whoami", json!({})).await;
        assert_eq!(
            result.structured_content,
            Some(json!({"principal": "service:mcp-clients", "subject": "mcp-clients"}))
        );
        // Served by the default server, not by this one.
        assert_unknown_tool(&client, "e2e_write_secret", json!({})).await;
        client.cancel().await.unwrap();

        let ops = server
            .client_at(&server.named("ops"), FULL_TOKEN, lifecycle)
            .await;
        assert_eq!(
            tool_names(&ops).await,
            ["e2e_read_secret", "e2e_write_secret"]
        );
        let info = ops.peer_info().unwrap();
        assert_eq!(info.server_info.as_ref().unwrap().name, "e2e ops");
        // Without their own, named servers have no description or instructions.
        assert_eq!(info.server_info.as_ref().unwrap().description, None);
        assert_eq!(info.instructions, None);
        let result = call(&ops, "e2e_write_secret", json!({})).await;
        assert_eq!(result.structured_content, Some(json!({"done": true})));
        ops.cancel().await.unwrap();
    }
}

#[tokio::test]
async fn the_default_server_still_serves_everything_visible() {
    let server = TestServer::start(builder("")).await;
    let client = server.client(FULL_TOKEN, Lifecycle::Discover).await;
    assert_eq!(tool_names(&client).await.len(), 9);
    let info = client.peer_info().unwrap();
    assert_eq!(info.server_info.as_ref().unwrap().name, "e2e-server");
    // A server without a filter serves what the default server serves.
    let all = server
        .client_at(&server.named("other7"), FULL_TOKEN, Lifecycle::Discover)
        .await;
    assert_eq!(tool_names(&all).await, tool_names(&client).await);
}

#[tokio::test]
async fn named_servers_are_subsets_of_the_default_server() {
    // The default server excludes the secrets; `ops` includes only them: it serves nothing.
    let server =
        builder("backend:\n  actions:\n    filter:\n      exclude: [ { id: '*:*_secret' } ]\n")
            .build()
            .unwrap();
    let ops = server.endpoint("ops").unwrap();
    assert!(ops.handler().all_tools().is_empty());
    let index = server
        .endpoints()
        .iter()
        .skip(1)
        .position(|e| e.key() == Some("ops"))
        .unwrap();
    let secret = server
        .exposure()
        .iter()
        .find(|e| e.action.name() == "e2e_read_secret")
        .unwrap();
    assert_eq!(
        secret.servers[index].reason(),
        "not exposed by the default server"
    );
    assert!(
        server
            .warnings()
            .iter()
            .any(|w| w == "mcpActions.servers.ops serves no action"),
        "{:?}",
        server.warnings()
    );
    assert!(
        server.warnings().iter().any(|w| w
            == "mcpActions.servers.ops.filter.include[0] (id `e2e:e2e_*_secret`) matches no action of the default server"),
        "{:?}",
        server.warnings()
    );
    // The access restrictions of a token apply on named servers too.
    let server = TestServer::serve(server).await;
    let restricted = server
        .client_at(
            &server.named("read-only"),
            RESTRICTED_TOKEN,
            Lifecycle::Initialize,
        )
        .await;
    assert!(
        !tool_names(&restricted)
            .await
            .contains(&"e2e_other_plugin".to_owned())
    );
}

#[tokio::test]
async fn each_named_server_has_its_own_metadata_and_401_challenge() {
    let server = TestServer::start(builder("")).await;
    for key in ["read-only", "ops"] {
        let endpoint = server.named(key);
        let metadata_url = format!(
            "{}/.well-known/oauth-protected-resource/api/mcp-actions/v1/{key}",
            server.base_url
        );
        let response = reqwest::get(&metadata_url).await.unwrap();
        assert_eq!(response.status(), 200, "{metadata_url}");
        let document: serde_json::Value = response.json().await.unwrap();
        assert_eq!(document["resource"], endpoint, "{key}");
        assert_eq!(
            document["authorization_servers"],
            json!(["https://auth.example.com"])
        );
        assert_eq!(document["resource_name"], format!("e2e {key}"));

        for token in [None, Some("wrong-token-123")] {
            let reply = post(&endpoint, token, &rpc(1, "tools/list", None)).await;
            assert_eq!(reply.status, 401, "{key} {token:?}");
            let challenge = reply.header("www-authenticate").unwrap();
            assert!(
                challenge.starts_with(&format!("Bearer resource_metadata=\"{metadata_url}\"")),
                "{challenge}"
            );
        }
        assert_eq!(
            post(&endpoint, Some(FULL_TOKEN), &rpc(1, "tools/list", None))
                .await
                .status,
            200
        );
    }
    // The default server's document and challenge are unchanged.
    let default_metadata = format!(
        "{}/.well-known/oauth-protected-resource/api/mcp-actions/v1",
        server.base_url
    );
    let document: serde_json::Value = reqwest::get(&default_metadata)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(document["resource"], server.endpoint);
    assert_eq!(document["resource_name"], "e2e-server");
    let reply = post(&server.endpoint, None, &rpc(1, "tools/list", None)).await;
    assert_eq!(
        reply.header("www-authenticate").unwrap(),
        format!("Bearer resource_metadata=\"{default_metadata}\"")
    );
}

#[tokio::test]
async fn named_server_metadata_uses_the_base_url() {
    let server = TestServer::start(builder("backend:\n  baseUrl: https://mcp.example.com\n")).await;
    let url = format!(
        "{}/.well-known/oauth-protected-resource/api/mcp-actions/v1/ops",
        server.base_url
    );
    let document: serde_json::Value = reqwest::get(&url).await.unwrap().json().await.unwrap();
    assert_eq!(
        document["resource"],
        "https://mcp.example.com/api/mcp-actions/v1/ops"
    );
}

#[tokio::test]
async fn an_unknown_key_is_404_for_the_endpoint_and_its_metadata() {
    let server = TestServer::start(builder("")).await;
    for token in [Some(FULL_TOKEN), None] {
        let reply = post(&server.named("nope"), token, &rpc(1, "tools/list", None)).await;
        assert_eq!(reply.status, 404, "{token:?}");
        assert!(reply.header("www-authenticate").is_none());
        // The answer says which endpoints there are, for the operator with a typo.
        let body = reply.json();
        assert_eq!(body["error"]["name"], "NotFoundError");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("/api/mcp-actions/v1/nope")
                && message.contains("/api/mcp-actions/v1/read-only"),
            "{message}"
        );
    }
    let response = reqwest::get(format!(
        "{}/.well-known/oauth-protected-resource/api/mcp-actions/v1/nope",
        server.base_url
    ))
    .await
    .unwrap();
    assert_eq!(response.status(), 404);
    // Without named servers, no key is known.
    let server = TestServer::start(e2e_builder()).await;
    let reply = post(
        &server.named("ops"),
        Some(FULL_TOKEN),
        &rpc(1, "tools/list", None),
    )
    .await;
    assert_eq!(reply.status, 404);
}

#[test]
fn bad_server_keys_and_entries_are_config_errors_naming_the_key() {
    let load = |yaml: &str| {
        ConfigLoader::new()
            .yaml("app-config.yaml", yaml)
            .env(|_| None)
            .load()
            .unwrap_err()
    };
    for key in ["Read-Only", "-ops", "ops_team", "ops.team", "ops/x"] {
        let error = load(&format!(
            "mcpActions:\n  servers:\n    '{key}':\n      name: x\n"
        ));
        assert_eq!(
            error.key(),
            Some(format!("mcpActions.servers.{key}").as_str()),
            "{error}"
        );
        assert!(
            error.to_string().contains("not a valid server key"),
            "{error}"
        );
    }
    let error = load("mcpActions:\n  servers:\n    sse:\n      name: x\n");
    assert_eq!(error.key(), Some("mcpActions.servers.sse"), "{error}");
    // `name` is required, as in Backstage.
    let error = load("mcpActions:\n  servers:\n    ops:\n      description: x\n");
    assert_eq!(error.key(), Some("mcpActions.servers.ops"), "{error}");
    assert!(error.to_string().contains("`name`"), "{error}");
    // Unknown keys, in the entry or its rules.
    let error = load("mcpActions:\n  servers:\n    ops:\n      name: x\n      filters: {}\n");
    assert_eq!(
        error.key(),
        Some("mcpActions.servers.ops.filters"),
        "{error}"
    );
    let error = load(
        "mcpActions:\n  servers:\n    ops:\n      name: x\n      filter:\n        exclude: [ { id: x, attributes: { readonly: true } } ]\n",
    );
    assert_eq!(
        error.key(),
        Some("mcpActions.servers.ops.filter.exclude[0].attributes.readonly"),
        "{error}"
    );
    // Bad globs; several problems are all listed.
    let error = load(
        "mcpActions:\n  servers:\n    ops:\n      name: x\n      filter:\n        include: [ { id: 'a[' } ]\n    BAD:\n      name: y\n",
    );
    let text = error.to_string();
    assert!(
        text.contains("`mcpActions.servers.ops.filter.include[0].id`: `a[` is not a valid glob"),
        "{text}"
    );
    assert!(text.contains("`mcpActions.servers.BAD`"), "{text}");
}
