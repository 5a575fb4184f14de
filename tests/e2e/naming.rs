//! `mcpActions.namespacedToolNames`: tools named `<plugin>__<name>` (`-` → `_`), listed and
//! called by that name on every server; names over 64 characters and collisions are start-up
//! errors naming both actions.

use mcp_actions::schema::{JsonObject, SchemaError};
use mcp_actions::{
    ActionAttributes, ActionContext, ActionDescriptor, ActionError, BoxFuture, Registry,
    SourceLocation,
};
use mcp_actions_server::{ActionsServer, BuildError};
use mcp_actions_tests::prelude::*;
use serde_json::{Value, json};

use crate::setup::*;

const NAMESPACED: &str = "mcpActions:\n  namespacedToolNames: true\n";

#[tokio::test]
async fn tools_are_listed_and_called_by_their_namespaced_names() {
    let server = TestServer::start(
        ActionsServer::builder()
            .config(configs(&[
                TEST_CONFIG,
                NAMESPACED,
                "mcpActions:\n  servers:\n    other:\n      name: other\n      filter:\n        include: [ { id: 'e2e-other:*' } ]\n",
            ]))
            .registry(registry(&["e2e", "e2e-other"])),
    )
    .await;
    for lifecycle in LIFECYCLES {
        let client = server.client(FULL_TOKEN, lifecycle).await;
        let names = tool_names(&client).await;
        assert_eq!(names.len(), 9);
        assert!(names.contains(&"e2e__e2e_echo".to_owned()), "{names:?}");
        // `-` in the plugin id becomes `_`: every name is `^[a-zA-Z0-9_]{1,64}$`.
        assert!(
            names.contains(&"e2e_other__e2e_other_plugin".to_owned()),
            "{names:?}"
        );
        assert!(names.iter().all(|n| n.len() <= 64
            && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')));

        let result = call(
            &client,
            "e2e__e2e_echo",
            json!({"message": "hi", "options": {"loud": true}}),
        )
        .await;
        assert_eq!(result.structured_content, Some(json!({"echo": "HI"})));
        // The bare name is not a tool any more.
        assert_unknown_tool(&client, "e2e_whoami", json!({})).await;
        // Errors, permissions and restrictions behave as with plain names.
        let result = call(&client, "e2e__e2e_fail", json!({"error": "ConflictError"})).await;
        assert_eq!(error_text(&result), "ConflictError: it already exists");
        client.cancel().await.unwrap();

        let restricted = server.client(RESTRICTED_TOKEN, lifecycle).await;
        assert_unknown_tool(&restricted, "e2e_other__e2e_other_plugin", json!({})).await;
        restricted.cancel().await.unwrap();

        // Named servers use the same names.
        let other = server
            .client_at(&server.named("other"), FULL_TOKEN, lifecycle)
            .await;
        assert_eq!(tool_names(&other).await, ["e2e_other__e2e_other_plugin"]);
        let result = call(&other, "e2e_other__e2e_other_plugin", json!({})).await;
        assert_eq!(result.structured_content, Some(json!({"done": true})));
        other.cancel().await.unwrap();
    }
}

#[tokio::test]
async fn plain_names_are_the_default() {
    let server = ActionsServer::builder()
        .config(config(TEST_CONFIG))
        .registry(registry(&["e2e-other"]))
        .build()
        .unwrap();
    assert_eq!(server.exposure()[0].tool_name, "e2e_other_plugin");
    assert_eq!(
        server.handler().all_tools()[0].name.as_ref(),
        "e2e_other_plugin"
    );
}

// Hand-built descriptors (not in the inventory, so no other test sees them).

fn schema() -> Result<JsonObject, SchemaError> {
    Ok(json!({"type": "object"}).as_object().unwrap().clone())
}

fn invoke(_: ActionContext, _: Value) -> BoxFuture<'static, Result<Value, ActionError>> {
    Box::pin(async { Ok(json!({})) })
}

const fn descriptor(plugin: &'static str, name: &'static str, line: u32) -> ActionDescriptor {
    ActionDescriptor {
        plugin,
        name,
        title: "Generated",
        description: "A generated action.",
        attributes: ActionAttributes::new(true, None, true, false),
        confirm: mcp_actions::elicit::Confirm::No,
        permission: None,
        services: &[],
        location: SourceLocation {
            file: "generated.rs",
            line,
        },
        input_schema: schema,
        output_schema: schema,
        invoke,
    }
}

// `team-a` + `b__c` and `team_a__b` + `c` are both `team_a__b__c` once namespaced.
static DASHED: ActionDescriptor = descriptor("team-a", "b__c", 10);
static UNDERSCORED: ActionDescriptor = descriptor("team_a__b", "c", 20);
static FINE: ActionDescriptor = descriptor("team-a", "fine", 30);
static LONG: ActionDescriptor = descriptor(
    "a-very-long-plugin-identifier-for-testing",
    "with_a_rather_long_action_name",
    40,
);

fn build(
    namespaced: bool,
    descriptors: &[&'static ActionDescriptor],
) -> Result<ActionsServer, BuildError> {
    let yaml = format!("mcpActions:\n  namespacedToolNames: {namespaced}\n");
    ActionsServer::builder()
        .config(configs(&[TEST_CONFIG, &yaml]))
        .registry(Registry::from_descriptors(descriptors.iter().copied()).expect("valid actions"))
        .build()
}

#[test]
fn a_collision_after_namespacing_is_a_start_up_error_naming_both_actions() {
    // Plain names do not collide.
    build(false, &[&DASHED, &UNDERSCORED]).unwrap();
    let error = build(true, &[&DASHED, &UNDERSCORED, &FINE]).unwrap_err();
    let text = error.to_string();
    assert!(
        matches!(error, BuildError::Actions(ref p) if p.len() == 1),
        "{text}"
    );
    assert!(
        text.contains(
            "tool name `team_a__b__c` is used by two actions: `team-a:b__c` at generated.rs:10 and `team_a__b:c` at generated.rs:20"
        ),
        "{text}"
    );
}

#[test]
fn a_collision_among_filtered_actions_is_no_error() {
    let yaml = "mcpActions:\n  namespacedToolNames: true\nbackend:\n  actions:\n    pluginSources: [team-a]\n";
    let server = ActionsServer::builder()
        .config(configs(&[TEST_CONFIG, yaml]))
        .registry(Registry::from_descriptors([&DASHED, &UNDERSCORED]).unwrap())
        .build()
        .unwrap();
    assert_eq!(server.handler().all_tools().len(), 1);
    assert!(server.handler().action("team_a__b__c").is_some());
}

#[test]
fn a_namespaced_name_over_64_characters_is_a_start_up_error() {
    build(false, &[&LONG]).unwrap();
    let error = build(true, &[&LONG, &FINE]).unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains(
            "tool name `a_very_long_plugin_identifier_for_testing__with_a_rather_long_action_name` of action `a-very-long-plugin-identifier-for-testing:with_a_rather_long_action_name` at generated.rs:40 is 73 characters long; clients accept at most 64"
        ),
        "{text}"
    );
}
