//! The stdio transport in-process: rmcp's client on one end of a pipe, the server on the other,
//! each message carrying the configured credentials. (`examples/greet-user/tests/stdio.rs` runs
//! the real binary with `serve --stdio`.)

use mcp_actions::Credentials;
use mcp_actions_server::transport::stdio;
use mcp_actions_tests::prelude::bounded;
use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, ErrorCode};
use rmcp::service::ServiceError;
use tokio_util::sync::CancellationToken;

use crate::setup::handler;

async fn whoami_over_a_pipe(credentials: Credentials) -> String {
    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(stdio::serve_transport(
        handler(),
        credentials,
        server_io,
        shutdown.clone(),
    ));
    let client = bounded("the client to initialize", ().serve(client_io))
        .await
        .expect("initialize over the pipe");
    let mut tools: Vec<String> = bounded("tools/list", client.list_all_tools())
        .await
        .expect("tools/list")
        .into_iter()
        .map(|t| t.name.to_string())
        .collect();
    tools.sort();
    assert_eq!(
        tools,
        ["greet_user", "transports_whoami", "transports_work"]
    );
    let result = bounded(
        "tools/call",
        client.call_tool(CallToolRequestParams::new("transports_whoami")),
    )
    .await
    .expect("tools/call");
    let principal = result.structured_content.expect("structured")["principal"]
        .as_str()
        .unwrap()
        .to_owned();
    // Closing the client's end ends the session normally.
    bounded("the client to close", client.cancel())
        .await
        .unwrap();
    bounded("the server to stop", server)
        .await
        .expect("the server task")
        .expect("a clean end of the session");
    principal
}

#[tokio::test]
async fn an_unknown_tool_and_a_hidden_one_are_the_same_json_rpc_error() {
    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    let restricted = Credentials::service("stdio")
        .with_restrictions([mcp_actions::AccessRestriction::plugin("transports")]);
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(stdio::serve_transport(
        handler(),
        restricted,
        server_io,
        shutdown.clone(),
    ));
    let client = bounded("the client to initialize", ().serve(client_io))
        .await
        .expect("initialize over the pipe");
    // `greet_user` exists but belongs to another plugin than the one the caller may use.
    for name in ["no_such_tool", "greet_user"] {
        let answer = bounded(
            "tools/call",
            client.call_tool(CallToolRequestParams::new(name)),
        )
        .await;
        let Err(ServiceError::McpError(error)) = answer else {
            panic!("{name}: expected a JSON-RPC error, got {answer:?}");
        };
        assert_eq!(error.code, ErrorCode::INVALID_PARAMS, "{name}");
        assert_eq!(
            error.message,
            format!("NotFoundError: Action \"{name}\" not found")
        );
    }
    bounded("the client to close", client.cancel())
        .await
        .unwrap();
    bounded("the server to stop", server)
        .await
        .expect("the server task")
        .expect("a clean end of the session");
}

#[tokio::test]
async fn every_message_carries_the_configured_credentials() {
    assert_eq!(
        whoami_over_a_pipe(Credentials::service("stdio")).await,
        "service:stdio"
    );
    assert_eq!(
        whoami_over_a_pipe(Credentials::user("user:default/jane")).await,
        "user:default/jane"
    );
}

#[tokio::test]
async fn a_client_that_leaves_before_initializing_is_not_an_error() {
    let (client_io, server_io) = tokio::io::duplex(1024);
    drop(client_io);
    let result = bounded(
        "the server to stop",
        stdio::serve_transport(
            handler(),
            Credentials::service("stdio"),
            server_io,
            CancellationToken::new(),
        ),
    )
    .await;
    assert!(result.is_ok(), "{result:?}");
}

#[tokio::test]
async fn shutdown_ends_the_session() {
    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(stdio::serve_transport(
        handler(),
        Credentials::service("stdio"),
        server_io,
        shutdown.clone(),
    ));
    let _client = bounded("the client to initialize", ().serve(client_io))
        .await
        .expect("initialize over the pipe");
    shutdown.cancel();
    bounded("the server to stop", server)
        .await
        .expect("the server task")
        .expect("a clean end");
}
