//! Graceful shutdown: once the signal comes, new connections are refused, and no accepted call
//! is lost — calls in progress finish normally within `mcpActions.limits.shutdownGraceSeconds`;
//! only those still running after it are cancelled (at once, with no grace period).

use std::io::ErrorKind;
use std::net::SocketAddr;

use mcp_actions_tests::prelude::*;
use serde_json::json;
use tokio::task::JoinHandle;

use crate::actions::Probe;
use crate::setup::*;

/// Waits until a connection to `addr` is refused: the server stopped listening. Each attempt
/// that still connects lets the server run before the next one.
async fn wait_until_refused(addr: SocketAddr) {
    eventually(
        "the server to refuse connections after the shutdown signal",
        || async {
            match tokio::net::TcpStream::connect(addr).await {
                Ok(stream) => {
                    drop(stream);
                    None
                }
                // Reset: the listener was closing while this connection waited in its backlog.
                Err(error) if error.kind() == ErrorKind::ConnectionReset => None,
                Err(error) => {
                    assert_eq!(error.kind(), ErrorKind::ConnectionRefused, "{error}");
                    Some(())
                }
            }
        },
    )
    .await;
}

/// A server with `limits` (YAML under `mcpActions.limits`, or none) and a call of `action`
/// that has started.
async fn server_with_a_running_call(
    limits: &str,
    action: &'static str,
    probe: &std::sync::Arc<Probe>,
) -> (TestServer, JoinHandle<Reply>) {
    let extra = if limits.is_empty() {
        String::new()
    } else {
        format!("mcpActions:\n  limits:\n    {limits}\n")
    };
    let server = TestServer::start(builder(&extra, probe)).await;
    let endpoint = server.endpoint.clone();
    let call = tokio::spawn(async move {
        post(
            &endpoint,
            Some(FULL_TOKEN),
            &call_request(1, action, json!({})),
        )
        .await
    });
    probe
        .wait_for("the call to start", |p| p.started() == 1)
        .await;
    (server, call)
}

#[tokio::test]
async fn no_accepted_call_is_lost_and_new_connections_are_refused() {
    let probe = Probe::shared();
    // The default grace period (10 s); the call is released long before it ends.
    let (mut server, call) = server_with_a_running_call("", "hardening_gate", &probe).await;
    let serving = server.shut_down();
    wait_until_refused(server.addr).await;
    // Not listening any more, yet the accepted call is still running, and the server waits
    // for it.
    assert_eq!((probe.stopped(), probe.finished()), (0, 0));
    assert!(!serving.is_finished());
    assert!(!call.is_finished());
    probe.release();
    let reply = call.await.unwrap();
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(
        reply.json()["result"]["structuredContent"],
        json!({"count": 1}),
        "{reply:?}"
    );
    assert_eq!(probe.finished(), 1);
    serving
        .await
        .unwrap()
        .expect("serve_with_shutdown returns Ok");
    assert!(
        reqwest::get(&server.base_url).await.is_err(),
        "no longer accepting"
    );
}

/// Shuts `server` down and waits for its running `call` to be cut: the call's future stops,
/// the client gets the cancellation as an in-band error (not a cut connection), and the server
/// returns Ok.
async fn shut_down_and_see_the_call_cut(
    server: &mut TestServer,
    call: JoinHandle<Reply>,
    probe: &Probe,
) {
    let serving = server.shut_down();
    probe
        .wait_for("the call to be cut", |p| p.stopped() == 1)
        .await;
    let text = call.await.unwrap().tool_error();
    assert!(text.starts_with("ServiceUnavailableError: "), "{text}");
    serving
        .await
        .unwrap()
        .expect("serve_with_shutdown returns Ok");
}

#[tokio::test]
async fn calls_still_running_after_the_grace_period_are_cancelled() {
    let probe = Probe::shared();
    // It never finishes by itself: the end of the grace period cancels it.
    let (mut server, call) =
        server_with_a_running_call("shutdownGraceSeconds: 1", "hardening_hang", &probe).await;
    shut_down_and_see_the_call_cut(&mut server, call, &probe).await;
}

#[tokio::test]
async fn with_no_grace_period_a_running_call_is_cut_at_once() {
    let probe = Probe::shared();
    // The in-flight call is cancelled at once (the shutdown token reaches rmcp and the
    // action), before it is released.
    let (mut server, call) =
        server_with_a_running_call("shutdownGraceSeconds: 0", "hardening_gate", &probe).await;
    shut_down_and_see_the_call_cut(&mut server, call, &probe).await;
    assert_eq!(probe.finished(), 0);
    assert!(
        reqwest::get(&server.base_url).await.is_err(),
        "no longer accepting"
    );
}
