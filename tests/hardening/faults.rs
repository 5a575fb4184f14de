//! Faults inside actions — a panic, a call that never returns, a client that goes away, output
//! that does not match its schema — answer clearly and leave every other call alone.

use std::sync::Arc;

use mcp_actions_tests::prelude::*;
use serde_json::json;

use crate::actions::Probe;
use crate::setup::*;

#[tokio::test]
async fn a_panicking_action_is_an_internal_error_without_its_details() {
    let server = TestServer::start(builder("", &Probe::shared())).await;
    for _ in 0..3 {
        let text = server.call("hardening_panic", json!({})).await.tool_error();
        assert!(text.starts_with("InternalError: "), "{text}");
        assert!(
            text.contains("(ref "),
            "a reference to find it in the logs: {text}"
        );
        assert!(!text.contains("9876") && !text.contains("secret"), "{text}");
    }
    server.assert_serving().await;
}

#[tokio::test]
async fn an_action_that_never_returns_times_out_with_service_unavailable() {
    let probe = Probe::shared();
    let server = TestServer::start(builder(
        "mcpActions:\n  limits:\n    actionTimeoutSeconds: 1\n",
        &probe,
    ))
    .await;
    let text = server.call("hardening_hang", json!({})).await.tool_error();
    assert_eq!(
        text,
        "ServiceUnavailableError: the action did not finish within 1 s"
    );
    // The action's future was dropped (not left running).
    probe
        .wait_for("the timed-out call to stop", |p| p.stopped() == 1)
        .await;
    assert_eq!(probe.started(), 1);
    server.assert_serving().await;
}

async fn disconnect_reaches_the_action(v2026: bool) {
    let probe = Probe::shared();
    let server = TestServer::start(builder("", &probe)).await;
    let endpoint = server.endpoint.clone();
    let call = tokio::spawn(async move {
        let body = if v2026 {
            call_request_2026(1, "hardening_hang", json!({}))
        } else {
            call_request(1, "hardening_hang", json!({}))
        };
        let headers = if v2026 {
            headers_2026(FULL_TOKEN, "tools/call", Some("hardening_hang"))
        } else {
            standard_headers(FULL_TOKEN)
        };
        send(&endpoint, &headers, body.to_string().into_bytes()).await
    });
    probe
        .wait_for("the call to start", |p| p.started() == 1)
        .await;
    assert_eq!(probe.stopped(), 0);
    // The client goes away: the request future is dropped, its connection closed.
    call.abort();
    assert!(call.await.unwrap_err().is_cancelled());
    probe
        .wait_for("the disconnect to reach the action", |p| p.stopped() == 1)
        .await;
    server.assert_serving().await;
}

#[tokio::test]
async fn a_client_disconnect_cancels_the_action_on_2025_11_25() {
    disconnect_reaches_the_action(false).await;
}

#[tokio::test]
async fn a_client_disconnect_cancels_the_action_on_2026_07_28() {
    disconnect_reaches_the_action(true).await;
}

#[tokio::test]
async fn output_that_does_not_match_its_schema_is_an_internal_error() {
    // The output schema is enforced: the mismatch is logged with a reference, the client gets
    // an InternalError with that reference and nothing of the output.
    let server = TestServer::start(builder("", &Probe::shared())).await;
    let tools = post(
        &server.endpoint,
        Some(FULL_TOKEN),
        &rpc(1, "tools/list", None),
    )
    .await;
    let liar = tools.json()["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "hardening_liar")
        .cloned()
        .unwrap();
    assert_eq!(
        liar["outputSchema"]["properties"]["count"]["type"],
        "integer"
    );

    let text = server.call("hardening_liar", json!({})).await.tool_error();
    assert!(text.starts_with("InternalError: "), "{text}");
    assert!(text.contains("(ref "), "{text}");
    assert!(!text.contains("not a number"), "{text}");
    // Not even an object (`structuredContent` would be a bare string, which MCP forbids).
    let text = server
        .call("hardening_scalar", json!({}))
        .await
        .tool_error();
    assert!(text.starts_with("InternalError: "), "{text}");
    assert!(!text.contains("a bare string"), "{text}");
    // An output that fails to serialize is an internal error whose details stay in the logs.
    let text = server
        .call("hardening_unserializable", json!({}))
        .await
        .tool_error();
    assert!(text.starts_with("InternalError: "), "{text}");
    assert!(!text.contains("5555") && !text.contains("secret"), "{text}");
    server.assert_serving().await;
}

#[tokio::test]
async fn faults_leave_other_in_flight_calls_alone() {
    let probe = Probe::shared();
    let server = Arc::new(TestServer::start(builder("", &probe)).await);
    const HANGING: usize = 4;
    let hanging: Vec<_> = (0..HANGING)
        .map(|_| {
            let server = Arc::clone(&server);
            tokio::spawn(async move { server.call("hardening_hang", json!({})).await })
        })
        .collect();
    probe
        .wait_for("every hanging call to start", |p| p.started() == HANGING)
        .await;
    // Normal calls, panics and bad input, concurrently, while those hang.
    let mut work = tokio::task::JoinSet::new();
    for i in 0..40 {
        let server = Arc::clone(&server);
        work.spawn(async move {
            match i % 4 {
                0 => {
                    let reply = server
                        .call("hardening_echo", json!({"message": format!("m{i}")}))
                        .await;
                    assert_eq!(
                        reply.json()["result"]["structuredContent"],
                        json!({"echo": format!("m{i}")})
                    );
                }
                1 => {
                    let text = server.call("hardening_panic", json!({})).await.tool_error();
                    assert!(text.starts_with("InternalError: "), "{text}");
                }
                2 => {
                    let text = server
                        .call("hardening_typed", json!({"small": "x"}))
                        .await
                        .tool_error();
                    assert!(text.starts_with("InputError: "), "{text}");
                }
                _ => {
                    let reply = send(
                        &server.endpoint,
                        &standard_headers(FULL_TOKEN),
                        b"{".to_vec(),
                    )
                    .await;
                    assert_eq!(reply.status, 400);
                }
            }
        });
    }
    while let Some(done) = work.join_next().await {
        done.expect("a concurrent call failed");
    }
    server.assert_serving().await;
    // The hanging calls were not disturbed.
    assert_eq!(probe.stopped(), 0);
    assert!(hanging.iter().all(|h| !h.is_finished()));
    for call in &hanging {
        call.abort();
    }
    probe
        .wait_for("every hanging call to be cancelled", |p| {
            p.stopped() == HANGING
        })
        .await;
    server.assert_serving().await;
}

#[tokio::test]
async fn a_timeout_does_not_cut_other_calls() {
    // One call times out (1 s) while gated calls are in flight; the gated ones still finish.
    let probe = Probe::shared();
    let server = Arc::new(
        TestServer::start(builder(
            "mcpActions:\n  limits:\n    actionTimeoutSeconds: 1\n",
            &probe,
        ))
        .await,
    );
    let text = server.call("hardening_hang", json!({})).await.tool_error();
    assert!(text.starts_with("ServiceUnavailableError: "), "{text}");
    let gated = {
        let server = Arc::clone(&server);
        tokio::spawn(async move { server.call("hardening_gate", json!({})).await })
    };
    probe
        .wait_for("the gated call to start", |p| p.started() == 2)
        .await;
    server.assert_serving().await;
    probe.release();
    let reply = gated.await.unwrap();
    assert_eq!(
        reply.json()["result"]["structuredContent"],
        json!({"count": 1}),
        "{reply:?}"
    );
}

#[tokio::test]
async fn calls_over_the_concurrency_limit_are_503_with_retry_after() {
    let probe = Probe::shared();
    let server = Arc::new(
        TestServer::start(builder(
            "mcpActions:\n  limits:\n    maxConcurrentRequests: 2\n",
            &probe,
        ))
        .await,
    );
    let hanging: Vec<_> = (0..2)
        .map(|_| {
            let server = Arc::clone(&server);
            tokio::spawn(async move { server.call("hardening_hang", json!({})).await })
        })
        .collect();
    probe
        .wait_for("two calls to start", |p| p.started() == 2)
        .await;
    let reply = server.call("hardening_echo", json!({"message": "x"})).await;
    assert_eq!(reply.status, 503, "{reply:?}");
    assert!(reply.header("retry-after").is_some(), "{reply:?}");
    for call in hanging {
        call.abort();
    }
    probe.wait_for("both to stop", |p| p.stopped() == 2).await;
    server.assert_serving().await;
}

#[tokio::test]
async fn the_largest_configurable_limits_do_not_overflow() {
    // u64::MAX seconds and bytes: the deadline and the body limit saturate instead of panicking.
    let probe = Probe::shared();
    let server = TestServer::start(builder(
        "mcpActions:\n  limits:\n    actionTimeoutSeconds: 18446744073709551615\n    maxRequestBodyBytes: 18446744073709551615\n",
        &probe,
    ))
    .await;
    server.assert_serving().await;
    let text = server.call("hardening_panic", json!({})).await.tool_error();
    assert!(text.starts_with("InternalError: "), "{text}");
    // A hanging call under that timeout is still cancelled by a disconnect.
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
        .wait_for("the call to start", |p| p.started() == 1)
        .await;
    call.abort();
    probe
        .wait_for("the call to stop", |p| p.stopped() == 1)
        .await;
}
