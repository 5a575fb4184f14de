//! Actions that ask the user, end to end: `#[action(confirm)]`, `ctx.confirm`, `ctx.elicit`,
//! over real HTTP with rmcp's client answering as the user would (accept, decline, cancel).
//!
//! - 2026-07-28: input-required results, retried by the client with the answers; the sealed
//!   round state refused when altered, carried to another call or caller, or expired.
//! - 2025-11-25: `elicitation/create` during the call — over Streamable HTTP (rmcp's client
//!   here, with the sealed `Mcp-Session-Id` the server assigns at `initialize`; the wire by hand
//!   in `http.rs`; two replicas behind nginx routing by the session id in `replicas.rs`), over
//!   the HTTP+SSE endpoint and over stdio.
//! - The server's settings: `mcpActions.confirm.destructive`, `withoutClientSupport`, and a
//!   named server with `confirm: false`.

mod actions;
mod http;
mod raw;
mod replicas;
mod stdio;

use mcp_actions_server::ActionsServer;
use mcp_actions_tests::prelude::*;
use rmcp::model::ElicitationAction;
use serde_json::json;

use actions::ran;
/// The token of every test, subject `tester`.
pub const TOKEN: &str = "elicit-test-token";

/// The config of the test servers: the token, and three named servers with other settings.
pub const CONFIG: &str = r#"
backend:
  auth:
    externalAccess:
      - type: static
        options: { token: elicit-test-token, subject: tester }
      - type: static
        options: { token: other-caller-token, subject: someone-else }
mcpActions:
  name: elicit-test
  audit:
    enabled: false
  limits:
    actionTimeoutSeconds: 10
  elicitation:
    stateKey: test-state-key-of-at-least-thirty-two-bytes
  servers:
    proceeding:
      name: proceeding
      confirmWithoutClientSupport: proceed
    unattended:
      name: unattended
      confirm: false
"#;

/// A server with [`CONFIG`] plus `extra` (YAML merged over it) and the `ask` actions.
pub async fn server_with(extra: &str) -> TestServer {
    TestServer::start(
        ActionsServer::builder()
            .config(configs(&[CONFIG, extra]))
            .registry(registry(&["ask"])),
    )
    .await
}

#[tokio::test]
async fn a_confirmed_action_runs_once_the_user_accepts() {
    let server = server_with("{}").await;
    for lifecycle in LIFECYCLES {
        let name = format!("alpha-{lifecycle:?}");
        let user = User::answering([answer(ElicitationAction::Accept, json!({}))]);
        let client = user.connect(&server.endpoint, TOKEN, lifecycle).await;
        let result = call(&client, "ask_delete", json!({"name": name})).await;
        assert_eq!(result.is_error, Some(false), "{lifecycle:?}: {result:?}");
        assert_eq!(
            result.structured_content.unwrap()["done"],
            format!("deleted {name}")
        );
        assert!(ran(&format!("delete:{name}")), "{lifecycle:?}");
        let asked = user.asked();
        assert_eq!(asked.len(), 1, "{asked:?}");
        assert_eq!(asked[0].0, format!("Delete {name}?"));
        assert_eq!(asked[0].1, json!({"type": "object", "properties": {}}));
        client.cancel().await.unwrap();
    }
}

#[tokio::test]
async fn declined_or_cancelled_the_action_does_not_run() {
    let server = server_with("{}").await;
    for lifecycle in LIFECYCLES {
        for (action, name) in [
            (ElicitationAction::Decline, "beta"),
            (ElicitationAction::Cancel, "gamma"),
        ] {
            let name = format!("{name}-{lifecycle:?}");
            let user = User::answering([answer(action, json!(null))]);
            let client = user.connect(&server.endpoint, TOKEN, lifecycle).await;
            let result = call(&client, "ask_delete", json!({"name": name})).await;
            assert_eq!(
                error_text(&result),
                "NotAllowedError: declined by the user",
                "{lifecycle:?}"
            );
            assert!(!ran(&format!("delete:{name}")));
            assert_eq!(user.asked().len(), 1);
            client.cancel().await.unwrap();
        }
    }
}

#[tokio::test]
async fn a_typed_answer_reaches_the_action_and_the_next_question_follows() {
    let server = server_with("{}").await;
    for lifecycle in LIFECYCLES {
        let name = format!("api-{lifecycle:?}");
        let user = User::answering([
            answer(
                ElicitationAction::Accept,
                json!({"environment": "staging", "reason": "hotfix", "replicas": 3}),
            ),
            answer(ElicitationAction::Accept, json!({})),
        ]);
        let client = user.connect(&server.endpoint, TOKEN, lifecycle).await;
        let result = call(&client, "ask_deploy", json!({"name": name})).await;
        assert_eq!(result.is_error, Some(false), "{lifecycle:?}: {result:?}");
        assert_eq!(
            result.structured_content.unwrap(),
            json!({"service": name, "environment": "staging", "reason": "hotfix", "replicas": 3})
        );
        assert!(ran(&format!("deploy:{name}")));
        let asked = user.asked();
        assert_eq!(asked.len(), 2, "{asked:?}");
        assert_eq!(asked[0].0, format!("Where should {name} go?"));
        let form = &asked[0].1;
        assert_eq!(form["properties"]["environment"]["type"], "string");
        let mut environments = form["properties"]["environment"]["enum"].clone();
        environments
            .as_array_mut()
            .unwrap()
            .sort_by_key(|v| v.to_string());
        assert_eq!(environments, json!(["production", "staging"]));
        assert_eq!(form["properties"]["replicas"]["type"], "integer");
        assert_eq!(form["required"], json!(["environment", "replicas"]));
        assert_eq!(
            asked[1].0,
            format!("Deploy {name} to staging with 3 replicas?")
        );
        client.cancel().await.unwrap();
    }
}

#[tokio::test]
async fn an_answer_that_does_not_fit_the_form_is_an_input_error() {
    let server = server_with("{}").await;
    let user = User::answering([answer(
        ElicitationAction::Accept,
        json!({"environment": "moon", "replicas": 1}),
    )]);
    let client = user
        .connect(&server.endpoint, TOKEN, Lifecycle::Discover)
        .await;
    let result = call(&client, "ask_deploy", json!({"name": "moonbase"})).await;
    let text = error_text(&result);
    assert!(
        text.starts_with("InputError: the user's answer to “Where should moonbase go?” does not fit its form at `environment`"),
        "{text}"
    );
    assert!(!ran("deploy:moonbase"));
}

#[tokio::test]
async fn a_client_without_elicitation_is_refused_unless_the_server_proceeds() {
    let server = server_with("{}").await;
    for lifecycle in LIFECYCLES {
        let client = server.client(TOKEN, lifecycle).await;
        let result = call(&client, "ask_delete", json!({"name": "delta"})).await;
        assert_eq!(
            error_text(&result),
            "NotAllowedError: this action needs the user's confirmation, and this client cannot ask the user for it (it did not declare the elicitation capability)",
            "{lifecycle:?}"
        );
        let result = call(&client, "ask_deploy", json!({"name": "delta"})).await;
        assert_eq!(
            error_text(&result),
            "NotAllowedError: this action needs an answer from the user, and this client cannot ask the user (it did not declare the elicitation capability)",
            "{lifecycle:?}"
        );
        client.cancel().await.unwrap();
    }
    assert!(!ran("delete:delta") && !ran("deploy:delta"));

    // `confirmWithoutClientSupport: proceed` runs a confirmed action unconfirmed; a typed
    // question still has no answer.
    let client = server
        .client_at(&server.named("proceeding"), TOKEN, Lifecycle::Discover)
        .await;
    let result = call(&client, "ask_delete", json!({"name": "epsilon"})).await;
    assert_eq!(result.is_error, Some(false), "{result:?}");
    assert!(ran("delete:epsilon"));
    let result = call(&client, "ask_deploy", json!({"name": "epsilon"})).await;
    assert!(error_text(&result).starts_with("NotAllowedError: this action needs an answer"));
}

#[tokio::test]
async fn a_server_for_unattended_agents_does_not_ask_for_confirmation() {
    let server = server_with("{}").await;
    let user = User::answering([]);
    let client = user
        .connect(&server.named("unattended"), TOKEN, Lifecycle::Discover)
        .await;
    let result = call(&client, "ask_delete", json!({"name": "zeta"})).await;
    assert_eq!(result.is_error, Some(false), "{result:?}");
    assert!(ran("delete:zeta"));
    assert!(user.asked().is_empty());
}

#[tokio::test]
async fn confirm_destructive_asks_before_every_destructive_action() {
    let server = server_with("mcpActions: { confirm: { destructive: true } }").await;
    let user = User::answering([answer(ElicitationAction::Decline, json!(null))]);
    let client = user
        .connect(&server.endpoint, TOKEN, Lifecycle::Discover)
        .await;
    let result = call(&client, "ask_purge", json!({"name": "eta"})).await;
    assert_eq!(error_text(&result), "NotAllowedError: declined by the user");
    assert!(!ran("purge:eta"));
    assert_eq!(user.asked()[0].0, "Run “Purge Thing” with name = \"eta\"?");

    // Without the setting, the same action runs unasked.
    let server = server_with("{}").await;
    let client = server.client(TOKEN, Lifecycle::Discover).await;
    let result = call(&client, "ask_purge", json!({"name": "theta"})).await;
    assert_eq!(result.is_error, Some(false), "{result:?}");
    assert!(ran("purge:theta"));
}
