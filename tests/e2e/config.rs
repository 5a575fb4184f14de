//! Configuration errors (each naming the key) and the defaults without any config.

use mcp_actions_server::{ActionsServer, BuildError, ConfigError, ConfigLoader};
use mcp_actions_tests::prelude::*;
use serde_json::json;

use crate::setup::*;

fn load(yaml: &str) -> Result<mcp_actions_server::Config, ConfigError> {
    ConfigLoader::new()
        .yaml("app-config.yaml", yaml)
        .env(|name| (name == "PORT").then(|| "9001".to_owned()))
        .load()
}

const STATIC: &str = "backend:\n  auth:\n    externalAccess:\n      - type: static\n";

#[test]
fn a_short_token_is_an_error_naming_the_key() {
    let error = load(&format!(
        "{STATIC}        options: {{ token: short12, subject: s }}\n"
    ))
    .unwrap_err();
    assert_eq!(
        error.key(),
        Some("backend.auth.externalAccess[0].options.token"),
        "{error}"
    );
    let text = error.to_string();
    assert!(text.contains("at least 8"), "{text}");
    assert!(
        !text.contains("short12"),
        "the token is never shown: {text}"
    );
}

#[test]
fn a_token_with_spaces_or_a_duplicate_is_an_error() {
    let error = load(&format!(
        "{STATIC}        options: {{ token: two words here, subject: s }}\n"
    ))
    .unwrap_err();
    assert!(error.to_string().contains("spaces"), "{error}");
    let error = load(&format!(
        "{STATIC}        options: {{ token: same-token-1, subject: a }}\n      - type: static\n        options: {{ token: same-token-1, subject: b }}\n"
    ))
    .unwrap_err();
    assert_eq!(
        error.key(),
        Some("backend.auth.externalAccess[1].options.token"),
        "{error}"
    );
    assert!(
        error.to_string().contains("backend.auth.externalAccess[0]"),
        "{error}"
    );
}

#[test]
fn a_missing_environment_variable_is_an_error_naming_it_and_the_key() {
    let error = load(&format!(
        "{STATIC}        options: {{ token: \"${{MCP_SECRET}}\", subject: s }}\n"
    ))
    .unwrap_err();
    assert!(matches!(error, ConfigError::MissingEnv { .. }), "{error}");
    let text = error.to_string();
    assert!(text.contains("`MCP_SECRET`"), "{text}");
    assert!(
        text.contains("`backend.auth.externalAccess[0].options.token`"),
        "{text}"
    );
    assert!(text.contains("app-config.yaml"), "{text}");
    // Present variables are substituted, `$${…}` is a literal.
    let config = load(
        "backend:\n  listen:\n    port: ${PORT}\nmcpActions:\n  description: costs $${PORT}\n",
    )
    .unwrap();
    assert_eq!(config.backend().listen.port, 9001);
    assert_eq!(
        config.mcp_actions().description.as_deref(),
        Some("costs ${PORT}")
    );
}

#[test]
fn an_unknown_key_in_an_owned_section_is_an_error_naming_it() {
    let error = load("mcpActions:\n  limits:\n    maxRequestBodySize: 10\n").unwrap_err();
    let text = error.to_string();
    assert!(text.contains("`mcpActions.limits"), "{text}");
    assert!(text.contains("maxRequestBodySize"), "{text}");
    assert!(
        text.contains("maxRequestBodyBytes"),
        "the valid keys are listed: {text}"
    );
    // Keys of other Backstage sections are not ours to judge.
    load("backend:\n  database:\n    client: better-sqlite3\ncatalog:\n  locations: []\n").unwrap();
}

#[test]
fn a_wrong_value_type_is_an_error_naming_the_key() {
    let error = load("backend:\n  listen:\n    port: seven\n").unwrap_err();
    assert_eq!(error.key(), Some("backend.listen.port"), "{error}");
}

#[test]
fn bad_yaml_is_an_error_naming_the_file_and_position() {
    let error = load("backend:\n  listen: {port: 1\n").unwrap_err();
    let text = error.to_string();
    assert!(matches!(error, ConfigError::Syntax { .. }), "{text}");
    assert!(
        text.contains("app-config.yaml") && text.contains("line"),
        "{text}"
    );
}

#[test]
fn config_files_merge_in_order_with_later_files_winning() {
    let dir = std::env::temp_dir().join(format!("mcp-actions-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let base = dir.join("app-config.yaml");
    let local = dir.join("app-config.local.yaml");
    std::fs::write(&base, "backend:\n  listen: { host: 0.0.0.0, port: 8000 }\nmcpActions:\n  name: base\n  description: from base\n").unwrap();
    std::fs::write(
        &local,
        "backend:\n  listen: { port: 8001 }\nmcpActions:\n  name: local\n",
    )
    .unwrap();
    let config = ConfigLoader::new()
        .files([&base, &local])
        .env(|_| None)
        .load()
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(config.backend().listen.host, "0.0.0.0");
    assert_eq!(config.backend().listen.port, 8001);
    assert_eq!(config.mcp_actions().name, "local");
    assert_eq!(
        config.mcp_actions().description.as_deref(),
        Some("from base")
    );

    let error = ConfigLoader::new()
        .file(dir.join("missing.yaml"))
        .load()
        .unwrap_err();
    assert!(matches!(error, ConfigError::Read { .. }), "{error}");
    assert!(error.to_string().contains("missing.yaml"), "{error}");
}

#[tokio::test]
async fn without_config_it_listens_on_7007_and_accepts_the_mcp_token() {
    let config = ConfigLoader::new()
        .env(|name| (name == "MCP_TOKEN").then(|| "token-from-env".to_owned()))
        .load()
        .unwrap();
    assert_eq!(config.backend().listen.host, "127.0.0.1");
    assert_eq!(config.backend().listen.port, 7007);
    assert_eq!(config.mcp_actions().name, "mcp-actions");
    let server = ActionsServer::builder()
        .config(config)
        .registry(registry(&["greet-user"]))
        .build()
        .unwrap();
    assert_eq!(server.generated_token(), None);
    // Served on an ephemeral port here, since 7007 may be taken on the test machine.
    let server = TestServer::serve(server).await;
    for lifecycle in LIFECYCLES {
        let client = server.client("token-from-env", lifecycle).await;
        assert_unknown_tool(&client, "e2e_whoami_absent_here", json!({})).await;
        let result = call(&client, "greet_user", json!({"name": "env"})).await;
        assert_eq!(
            result.structured_content,
            Some(json!({"greeting": "Hello env!"}))
        );
        client.cancel().await.unwrap();
    }
    assert_eq!(
        post(&server.endpoint, Some(FULL_TOKEN), &json!({}))
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn without_any_token_one_is_generated_with_a_ready_to_paste_client_config() {
    let config = ConfigLoader::new().env(|_| None).load().unwrap();
    let server = ActionsServer::builder()
        .config(config)
        .registry(registry(&["greet-user"]))
        .build()
        .unwrap();
    let token = server
        .generated_token()
        .expect("a generated token")
        .to_owned();
    assert_eq!(token.len(), 32, "24 random bytes in base64");
    let notice = server
        .generated_token_notice("http://127.0.0.1:7007")
        .unwrap();
    let json_start = notice.find('{').unwrap();
    let json_end = notice.rfind('}').unwrap();
    let client_config: serde_json::Value =
        serde_json::from_str(&notice[json_start..=json_end]).unwrap();
    assert_eq!(
        client_config,
        json!({"mcpServers": {"mcp-actions": {
            "url": "http://127.0.0.1:7007/api/mcp-actions/v1",
            "headers": {"Authorization": format!("Bearer {token}")}
        }}})
    );
    let server = TestServer::serve(server).await;
    let client = server.client(&token, Lifecycle::Discover).await;
    assert_eq!(tool_names(&client).await, ["greet_user"]);
}

#[test]
fn an_invalid_mcp_token_is_a_startup_error_naming_it() {
    let config = ConfigLoader::new()
        .env(|name| (name == "MCP_TOKEN").then(|| "tiny1".to_owned()))
        .load()
        .unwrap();
    let error = ActionsServer::builder()
        .config(config)
        .registry(registry(&["greet-user"]))
        .build()
        .unwrap_err();
    assert!(matches!(error, BuildError::Config(_)), "{error}");
    assert!(error.to_string().contains("MCP_TOKEN"), "{error}");
    assert!(
        !error.to_string().contains("tiny1"),
        "the token is never shown: {error}"
    );
}
