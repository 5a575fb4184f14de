//! stdio: the server asks the user with `elicitation/create` over the same pipe, on the
//! client that started it.

use mcp_actions::Credentials;
use mcp_actions_server::ActionsServer;
use mcp_actions_server::transport::stdio;
use mcp_actions_tests::prelude::*;
use mcp_actions_tests::user::{User, answer};
use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, ElicitationAction};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::CONFIG;
use crate::actions::ran;

#[tokio::test]
async fn over_stdio_the_user_is_asked_on_the_clients_pipe() {
    let handler = ActionsServer::builder()
        .config(configs(&[CONFIG]))
        .registry(registry(&["ask"]))
        .build()
        .expect("the test server builds")
        .handler()
        .clone();
    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(stdio::serve_transport(
        handler,
        Credentials::service("stdio"),
        server_io,
        shutdown.clone(),
    ));
    let user = User::answering([
        answer(ElicitationAction::Decline, serde_json::Value::Null),
        answer(ElicitationAction::Accept, json!({})),
    ]);
    let client = bounded("the client to initialize", user.clone().serve(client_io))
        .await
        .expect("initialize over the pipe");
    let call = |name: &str| {
        CallToolRequestParams::new("ask_delete")
            .with_arguments(json!({ "name": name }).as_object().unwrap().clone())
    };

    let declined = bounded("the declined call", client.call_tool(call("stdio-one")))
        .await
        .expect("tools/call");
    assert_eq!(declined.is_error, Some(true));
    assert_eq!(
        text(&declined),
        "NotAllowedError: declined by the user",
        "{declined:?}"
    );
    assert!(!ran("delete:stdio-one"));

    let accepted = bounded("the accepted call", client.call_tool(call("stdio-two")))
        .await
        .expect("tools/call");
    assert_eq!(accepted.is_error, Some(false), "{accepted:?}");
    assert!(ran("delete:stdio-two"));
    let asked: Vec<String> = user.asked().into_iter().map(|(m, _)| m).collect();
    assert_eq!(asked, ["Delete stdio-one?", "Delete stdio-two?"]);

    bounded("the client to close", client.cancel())
        .await
        .unwrap();
    bounded("the server to stop", server)
        .await
        .expect("the server task")
        .expect("a clean end of the session");
}
