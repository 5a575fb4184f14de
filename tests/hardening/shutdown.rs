//! Graceful shutdown: once the signal comes, new connections are refused, and no accepted call
//! is lost — calls in progress finish normally within `mcpActions.limits.shutdownGraceSeconds`;
//! only those still running after it are cancelled.

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::Duration;

use mcp_actions_tests::prelude::*;
use serde_json::json;

use crate::actions::Probe;
use crate::setup::*;

/// Waits until a connection to `addr` is refused: the server stopped listening. Each attempt
/// that still connects lets the server run before the next one.
async fn wait_until_refused(addr: SocketAddr) {
    let wait = async {
        loop {
            match tokio::net::TcpStream::connect(addr).await {
                Ok(stream) => {
                    drop(stream);
                    tokio::task::yield_now().await;
                }
                // Reset: the listener was closing while this connection waited in its backlog.
                Err(error) if error.kind() == ErrorKind::ConnectionReset => {}
                Err(error) => {
                    assert_eq!(error.kind(), ErrorKind::ConnectionRefused, "{error}");
                    return;
                }
            }
        }
    };
    // A hang guard, not a timing assertion.
    tokio::time::timeout(Duration::from_secs(60), wait)
        .await
        .expect("the server still accepts connections 60 s after the shutdown signal");
}

#[tokio::test]
async fn no_accepted_call_is_lost_and_new_connections_are_refused() {
    let probe = Probe::shared();
    // The default grace period (10 s); the call is released long before it ends.
    let mut server = TestServer::start(builder("", &probe)).await;
    let endpoint = server.endpoint.clone();
    let call = tokio::spawn(async move {
        post(
            &endpoint,
            Some(FULL_TOKEN),
            &call_request(1, "hardening_gate", json!({})),
        )
        .await
    });
    probe
        .wait_for("the gated call to start", |p| p.started() == 1)
        .await;
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

#[tokio::test]
async fn calls_still_running_after_the_grace_period_are_cancelled() {
    let probe = Probe::shared();
    let mut server = TestServer::start(builder(
        "mcpActions:\n  limits:\n    shutdownGraceSeconds: 1\n",
        &probe,
    ))
    .await;
    let endpoint = server.endpoint.clone();
    let call = tokio::spawn(async move {
        post(
            &endpoint,
            Some(FULL_TOKEN),
            &call_request(1, "hardening_hang", json!({})),
        )
        .await
    });
    probe
        .wait_for("the hanging call to start", |p| p.started() == 1)
        .await;
    let serving = server.shut_down();
    // It never finishes by itself: the end of the grace period cancels it, and the server
    // returns Ok.
    probe
        .wait_for("the call to be cancelled", |p| p.stopped() == 1)
        .await;
    // The client gets the cancellation as an in-band error, not a cut connection.
    let text = call.await.unwrap().tool_error();
    assert!(text.starts_with("ServiceUnavailableError: "), "{text}");
    serving
        .await
        .unwrap()
        .expect("serve_with_shutdown returns Ok");
}
