//! The wire, by hand: the 2026-07-28 input-required result and its sealed round state, and
//! `elicitation/create` on the HTTP+SSE transport (2025-11-25).

use std::time::Duration;

use mcp_actions_tests::prelude::*;
use serde_json::{Value, json};

use crate::actions::ran;
use crate::{TOKEN, server_with};

/// The JSON-RPC message of an answer, whether sent as JSON or as one SSE event.
fn message(reply: &Reply) -> Value {
    assert_eq!(reply.status, 200, "{reply:?}");
    if reply.body.trim_start().starts_with('{') {
        return reply.json();
    }
    let data = reply
        .body
        .lines()
        .filter_map(|line| line.strip_prefix("data:"))
        .map(str::trim)
        .rfind(|data| data.starts_with('{'))
        .unwrap_or_else(|| panic!("no JSON message in {reply:?}"));
    serde_json::from_str(data).expect("a JSON message")
}

/// `tools/call ask_delete {name}` on 2026-07-28 as `token`, from a client that declares
/// elicitation, with `retry` (`inputResponses`, `requestState`) merged into the params.
async fn call_delete(server: &TestServer, token: &str, name: &str, retry: Value) -> Value {
    let mut body = call_request_2026(1, "ask_delete", json!({"name": name}));
    body["params"]["_meta"]["io.modelcontextprotocol/clientCapabilities"] =
        json!({"elicitation": {"form": {}}});
    if let Value::Object(retry) = retry {
        for (key, value) in retry {
            body["params"][key] = value;
        }
    }
    let headers = headers_2026(token, "tools/call", Some("ask_delete"));
    message(&send(&server.endpoint, &headers, body.to_string()).await)
}

const ACCEPT: &str = r#"{"q0": {"action": "accept", "content": {}}}"#;

fn accept() -> Value {
    serde_json::from_str(ACCEPT).unwrap()
}

#[tokio::test]
async fn the_first_round_carries_the_question_and_the_retry_runs_the_action() {
    let audit = std::env::temp_dir().join(format!("elicit-audit-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&audit);
    let server = server_with(&format!(
        "mcpActions:\n  audit:\n    enabled: true\n    file: {}\n",
        audit.display()
    ))
    .await;
    let first = call_delete(&server, TOKEN, "kappa", json!({})).await;
    let result = &first["result"];
    assert_eq!(result["resultType"], "input_required", "{first}");
    let request = &result["inputRequests"]["q0"];
    assert_eq!(request["method"], "elicitation/create", "{first}");
    assert_eq!(request["params"]["mode"], "form", "{first}");
    assert_eq!(request["params"]["message"], "Delete kappa?");
    assert_eq!(
        request["params"]["requestedSchema"],
        json!({"type": "object", "properties": {}})
    );
    let state = result["requestState"].as_str().expect("a requestState");
    assert!(!ran("delete:kappa"));

    // Answers without the state that asked for them are not taken: the question comes back.
    let unasked = call_delete(&server, TOKEN, "kappa", json!({"inputResponses": accept()})).await;
    assert_eq!(
        unasked["result"]["resultType"], "input_required",
        "{unasked}"
    );
    assert!(!ran("delete:kappa"));

    let retry = json!({"inputResponses": accept(), "requestState": state});
    let done = call_delete(&server, TOKEN, "kappa", retry).await;
    assert_eq!(done["result"]["isError"], false, "{done}");
    assert_eq!(done["result"]["structuredContent"]["done"], "deleted kappa");
    assert!(ran("delete:kappa"));

    // The audit trail: the two rounds that waited for the user, then the call that ran.
    let outcomes = eventually("the three calls to be audited", || async {
        let text = std::fs::read_to_string(&audit).ok()?;
        let outcomes: Vec<String> = text
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|event| event["event"] == "mcp-actions.tool-execution")
            .map(|event| event["outcome"].as_str().unwrap_or_default().to_owned())
            .collect();
        (outcomes.len() >= 3).then_some(outcomes)
    })
    .await;
    assert_eq!(outcomes, ["input-required", "input-required", "succeeded"]);
    let _ = std::fs::remove_file(&audit);
}

fn assert_refused_state(answer: &Value) {
    assert_eq!(answer["error"]["code"], -32602, "{answer}");
    assert_eq!(
        answer["error"]["message"],
        "InputError: the `requestState` of this call is not valid: it was altered, issued for another call or caller, or has expired; call the tool again without `requestState` and `inputResponses`",
        "{answer}"
    );
}

#[tokio::test]
async fn a_round_state_is_refused_when_altered_or_carried_to_another_call_or_caller() {
    let server = server_with("{}").await;
    let first = call_delete(&server, TOKEN, "lambda", json!({})).await;
    let state = first["result"]["requestState"].as_str().unwrap().to_owned();

    let mut altered = state.clone().into_bytes();
    let last = altered.len() - 1;
    altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    let retry = |state: &str| json!({"inputResponses": accept(), "requestState": state});

    assert_refused_state(&call_delete(&server, TOKEN, "lambda", retry(&altered)).await);
    assert_refused_state(&call_delete(&server, TOKEN, "lambda", retry("not-a-state")).await);
    // The same state for other arguments, or from another caller.
    assert_refused_state(&call_delete(&server, TOKEN, "other", retry(&state)).await);
    assert_refused_state(
        &call_delete(&server, "other-caller-token", "lambda", retry(&state)).await,
    );
    assert!(!ran("delete:lambda") && !ran("delete:other"));

    // Another replica with the same key accepts it.
    let replica = server_with("{}").await;
    let done = call_delete(&replica, TOKEN, "lambda", retry(&state)).await;
    assert_eq!(done["result"]["isError"], false, "{done}");
    assert!(ran("delete:lambda"));
}

#[tokio::test]
async fn an_expired_round_state_is_refused() {
    let server = server_with("mcpActions: { elicitation: { answerWithinSeconds: 1 } }").await;
    let first = call_delete(&server, TOKEN, "mu", json!({})).await;
    let state = first["result"]["requestState"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let retry = json!({"inputResponses": accept(), "requestState": state});
    assert_refused_state(&call_delete(&server, TOKEN, "mu", retry).await);
    assert!(!ran("delete:mu"));
}

/// Opens an HTTP+SSE session that negotiates 2025-11-25 and declares elicitation.
async fn sse_session(server: &TestServer) -> SseClient {
    let mut client = SseClient::open(&server.url("/api/mcp-actions/v1/sse"), TOKEN).await;
    let init = client
        .request(
            0,
            "initialize",
            json!({
                "protocolVersion": "2025-11-25",
                "capabilities": {"elicitation": {"form": {}}},
                "clientInfo": {"name": "elicit-test", "version": "0"}
            }),
        )
        .await;
    assert_eq!(init["result"]["protocolVersion"], "2025-11-25", "{init}");
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    assert_eq!(client.post(&initialized).await.status, 202);
    client
}

#[tokio::test]
async fn on_2025_11_25_the_server_sends_elicitation_create_and_waits_for_the_answer() {
    let server = server_with("{}").await;
    for (action, name, ok) in [
        ("accept", "nu", true),
        ("decline", "xi", false),
        ("cancel", "omicron", false),
    ] {
        let mut client = sse_session(&server).await;
        let call = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "ask_delete", "arguments": {"name": name}}});
        assert_eq!(client.post(&call).await.status, 202);
        let question = client.next_message().await.expect("a question");
        assert_eq!(question["method"], "elicitation/create", "{question}");
        assert_eq!(question["params"]["message"], format!("Delete {name}?"));
        let content = if action == "accept" {
            json!({})
        } else {
            Value::Null
        };
        let mut result = json!({"action": action});
        if !content.is_null() {
            result["content"] = content;
        }
        let answer = json!({"jsonrpc": "2.0", "id": question["id"], "result": result});
        assert_eq!(client.post(&answer).await.status, 202);
        let done = loop {
            let message = client.next_message().await.expect("the call's answer");
            if message["id"] == 1 {
                break message;
            }
        };
        if ok {
            assert_eq!(done["result"]["isError"], false, "{done}");
            assert!(ran(&format!("delete:{name}")));
        } else {
            assert_eq!(
                done["result"]["content"][0]["text"], "NotAllowedError: declined by the user",
                "{done}"
            );
            assert!(!ran(&format!("delete:{name}")));
        }
    }
}
