//! tools/list and tools/call: results, every error kind, bad arguments, panics, progress,
//! timeouts, server info. Each over both lifecycles where the lifecycle matters.

use mcp_actions_server::ActionsServer;
use mcp_actions_tests::prelude::*;
use rmcp::ServiceError;
use rmcp::model::{ErrorCode, Tool};
use serde_json::json;

use crate::setup::*;

async fn greet_server() -> TestServer {
    TestServer::start(
        ActionsServer::builder()
            .config(config(TEST_CONFIG))
            .registry(registry(&["greet-user"])),
    )
    .await
}

fn greet_user_tool(tools: &[Tool]) -> &Tool {
    tools
        .iter()
        .find(|t| t.name == "greet_user")
        .expect("greet_user is listed")
}

#[tokio::test]
async fn tools_list_has_title_schemas_and_annotations_on_both_lifecycles() {
    let server = greet_server().await;
    for lifecycle in LIFECYCLES {
        let client = server.client(FULL_TOKEN, lifecycle).await;
        let tools = client.list_all_tools().await.unwrap();
        assert_eq!(tools.len(), 1, "{lifecycle:?}");
        let tool = greet_user_tool(&tools);
        assert_eq!(tool.title.as_deref(), Some("Greet User"));
        assert_eq!(
            tool.description.as_deref(),
            Some("Generate a personalized greeting.")
        );
        assert_eq!(tool.input_schema["type"], "object");
        assert_eq!(tool.input_schema["required"], json!(["name"]));
        assert_eq!(tool.input_schema["properties"]["name"]["type"], "string");
        let output = tool.output_schema.as_ref().expect("outputSchema is sent");
        assert_eq!(output["properties"]["greeting"]["type"], "string");
        let schemas = serde_json::to_string(&(&tool.input_schema, output)).unwrap();
        assert!(
            !schemas.contains("$schema") && !schemas.contains("$ref"),
            "{schemas}"
        );
        let a = tool.annotations.as_ref().expect("annotations");
        assert_eq!(a.title.as_deref(), Some("Greet User"));
        assert_eq!(a.read_only_hint, Some(true));
        assert_eq!(a.destructive_hint, Some(false));
        assert_eq!(a.idempotent_hint, Some(true));
        assert_eq!(a.open_world_hint, Some(false));
        client.cancel().await.unwrap();
    }
}

#[tokio::test]
async fn tools_call_returns_structured_content_and_compact_json_text_on_both_lifecycles() {
    let server = greet_server().await;
    for lifecycle in LIFECYCLES {
        let client = server.client(FULL_TOKEN, lifecycle).await;
        let result = call(&client, "greet_user", json!({"name": "World"})).await;
        assert_ne!(result.is_error, Some(true), "{lifecycle:?}: {result:?}");
        assert_eq!(
            result.structured_content,
            Some(json!({"greeting": "Hello World!"}))
        );
        assert_eq!(text(&result), r#"{"greeting":"Hello World!"}"#);
        client.cancel().await.unwrap();
    }
}

#[tokio::test]
async fn every_action_error_kind_is_an_in_band_error_named_like_backstage() {
    let server = TestServer::start(e2e_builder()).await;
    let cases = [
        ("InputError", "InputError: the input was wrong"),
        ("AuthenticationError", "AuthenticationError: who are you"),
        ("NotAllowedError", "NotAllowedError: not for you"),
        ("NotFoundError", "NotFoundError: no such thing"),
        ("ConflictError", "ConflictError: it already exists"),
        ("NotModifiedError", "NotModifiedError: nothing changed"),
        ("NotImplementedError", "NotImplementedError: not yet"),
        (
            "ServiceUnavailableError",
            "ServiceUnavailableError: try again later",
        ),
    ];
    for lifecycle in LIFECYCLES {
        let client = server.client(FULL_TOKEN, lifecycle).await;
        for (kind, expected) in cases {
            let result = call(&client, "e2e_fail", json!({"error": kind})).await;
            assert_eq!(error_text(&result), expected, "{lifecycle:?}");
        }
        client.cancel().await.unwrap();
    }
}

#[tokio::test]
async fn unexpected_errors_show_only_a_reference_id() {
    let server = TestServer::start(e2e_builder()).await;
    let client = server.client(FULL_TOKEN, Lifecycle::Initialize).await;
    let result = call(&client, "e2e_fail", json!({"error": "Unexpected"})).await;
    let text = error_text(&result);
    assert!(
        text.starts_with("InternalError: the action failed unexpectedly (ref "),
        "{text}"
    );
    assert!(
        !text.contains("hunter2") && !text.contains("db-7"),
        "{text}"
    );
}

#[tokio::test]
async fn unknown_tool_is_a_json_rpc_invalid_params_error_on_both_lifecycles() {
    let server = TestServer::start(e2e_builder()).await;
    for lifecycle in LIFECYCLES {
        let client = server.client(FULL_TOKEN, lifecycle).await;
        assert_unknown_tool(&client, "no_such_tool", json!({})).await;
        client.cancel().await.unwrap();
    }
}

#[tokio::test]
async fn bad_arguments_are_an_input_error_naming_the_json_path() {
    let server = TestServer::start(e2e_builder()).await;
    for lifecycle in LIFECYCLES {
        let client = server.client(FULL_TOKEN, lifecycle).await;
        let result = call(
            &client,
            "e2e_echo",
            json!({"message": "hi", "options": {"loud": "yes"}}),
        )
        .await;
        let text = error_text(&result);
        assert!(text.starts_with("InputError: "), "{lifecycle:?}: {text}");
        assert!(text.contains("options.loud"), "{lifecycle:?}: {text}");
        let result = call(&client, "e2e_echo", json!({"options": {"loud": true}})).await;
        let text = error_text(&result);
        assert!(
            text.starts_with("InputError: ") && text.contains("message"),
            "{text}"
        );
        // And good arguments work.
        let result = call(
            &client,
            "e2e_echo",
            json!({"message": "hi", "options": {"loud": true}}),
        )
        .await;
        assert_eq!(result.structured_content, Some(json!({"echo": "HI"})));
        client.cancel().await.unwrap();
    }
}

#[tokio::test]
async fn a_panicking_action_is_an_internal_error_and_the_server_keeps_serving() {
    let server = TestServer::start(e2e_builder()).await;
    for lifecycle in LIFECYCLES {
        let client = server.client(FULL_TOKEN, lifecycle).await;
        let result = call(&client, "e2e_explode", json!({})).await;
        let text = error_text(&result);
        assert!(
            text.starts_with("InternalError: ") && text.contains("(ref "),
            "{text}"
        );
        assert!(
            !text.contains("4242"),
            "panic details stay in the log: {text}"
        );
        // Same connection, then a new one: both still served.
        let result = call(&client, "e2e_whoami", json!({})).await;
        assert_ne!(result.is_error, Some(true), "{result:?}");
        client.cancel().await.unwrap();
        let client = server.client(FULL_TOKEN, lifecycle).await;
        assert!(tool_names(&client).await.contains(&"e2e_whoami".to_owned()));
        client.cancel().await.unwrap();
    }
}

#[tokio::test]
async fn an_action_over_the_configured_timeout_is_a_service_unavailable_error() {
    // TEST_CONFIG sets mcpActions.limits.actionTimeoutSeconds: 1.
    let server = TestServer::start(e2e_builder()).await;
    let client = server.client(FULL_TOKEN, Lifecycle::Discover).await;
    let result = call(&client, "e2e_sleep", json!({})).await;
    assert_eq!(
        error_text(&result),
        "ServiceUnavailableError: the action did not finish within 1 s"
    );
}

#[tokio::test]
async fn progress_is_streamed_when_the_client_sends_a_progress_token() {
    let server = TestServer::start(e2e_builder()).await;
    let body = json!({
        "jsonrpc": "2.0", "id": 7, "method": "tools/call",
        "params": {"name": "e2e_progress", "arguments": {}, "_meta": {"progressToken": "p-1"}}
    });
    let reply = post(&server.endpoint, Some(FULL_TOKEN), &body).await;
    assert_eq!(reply.status, 200);
    let content_type = reply.header("content-type").unwrap();
    assert!(
        content_type.starts_with("text/event-stream"),
        "{content_type}"
    );
    let stream = &reply.body;
    let halfway = stream.find("\"halfway\"").expect("first progress message");
    let finished = stream
        .find("\"finished\"")
        .expect("second progress message");
    let result = stream.find("\"done\":true").expect("the result");
    assert!(halfway < finished && finished < result, "{stream}");
    assert!(
        stream.contains("notifications/progress") && stream.contains("\"p-1\""),
        "{stream}"
    );

    // Without a progress token the answer is plain JSON.
    let body = json!({
        "jsonrpc": "2.0", "id": 8, "method": "tools/call",
        "params": {"name": "e2e_progress", "arguments": {}}
    });
    let reply = post(&server.endpoint, Some(FULL_TOKEN), &body).await;
    let content_type = reply.header("content-type").unwrap();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    assert!(!reply.body.contains("notifications/progress"));
}

#[tokio::test]
async fn server_info_comes_from_config_and_only_tools_are_declared() {
    let server = TestServer::start(e2e_builder()).await;
    for lifecycle in LIFECYCLES {
        let client = server.client(FULL_TOKEN, lifecycle).await;
        let info = client.peer_info().expect("server info");
        let implementation = info.server_info.as_ref().expect("serverInfo");
        assert_eq!(implementation.name, "e2e-server", "{lifecycle:?}");
        assert_eq!(implementation.version, env!("CARGO_PKG_VERSION"));
        assert_eq!(
            implementation.description.as_deref(),
            Some("The end-to-end test server.")
        );
        assert_eq!(info.instructions.as_deref(), Some("Call e2e_whoami first."));
        let capabilities = &info.capabilities;
        assert!(capabilities.tools.is_some(), "{lifecycle:?}");
        assert!(capabilities.prompts.is_none() && capabilities.resources.is_none());
        assert!(capabilities.completions.is_none() && capabilities.logging.is_none());
        for result in [
            client.list_prompts(None).await.map(drop),
            client.list_resources(None).await.map(drop),
        ] {
            match result {
                Err(ServiceError::McpError(e)) => {
                    assert_eq!(e.code, ErrorCode::METHOD_NOT_FOUND, "{lifecycle:?}")
                }
                other => panic!("{lifecycle:?}: expected method-not-found, got {other:?}"),
            }
        }
        client.cancel().await.unwrap();
    }
}
