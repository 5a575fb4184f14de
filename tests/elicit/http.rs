//! 2025-11-25 over Streamable HTTP, by hand: the sealed `Mcp-Session-Id` assigned at
//! `initialize`, the call's response turning into an SSE stream that carries
//! `elicitation/create`, and the client's POSTed answer — taken only from the session and the
//! caller that were asked.

use mcp_actions_tests::prelude::*;
use serde_json::{Value, json};

use crate::actions::ran;
use crate::{TOKEN, server_with};

const OTHER_TOKEN: &str = "other-caller-token";

/// The 2025-11-25 headers with `token` and, if any, `session`.
fn headers(token: &str, session: Option<&str>) -> Vec<(&'static str, String)> {
    let mut headers = standard_headers(token);
    if let Some(session) = session {
        headers.push(("mcp-session-id", session.to_owned()));
    }
    headers
}

/// `initialize` as `token` with `capabilities`: the session id the server assigned, if any.
async fn initialize(server: &TestServer, token: &str, capabilities: Value) -> Option<String> {
    let body = rpc(
        0,
        "initialize",
        Some(json!({
            "protocolVersion": V2025,
            "capabilities": capabilities,
            "clientInfo": {"name": "elicit-raw", "version": "1"}
        })),
    );
    let reply = send(&server.endpoint, &headers(token, None), body.to_string()).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(
        reply.json()["result"]["protocolVersion"],
        V2025,
        "{reply:?}"
    );
    reply.header("mcp-session-id").map(str::to_owned)
}

/// A session of `token` whose client declared form elicitation.
async fn session(server: &TestServer, token: &str) -> String {
    initialize(server, token, json!({"elicitation": {"form": {}}}))
        .await
        .expect("a client that can be asked gets a session id")
}

/// The response to a call, read event by event while the call waits.
struct Stream {
    response: reqwest::Response,
    buffer: String,
}

impl Stream {
    /// POSTs `tools/call name arguments` as `token` in `session`.
    async fn call(
        server: &TestServer,
        token: &str,
        session: &str,
        name: &str,
        arguments: Value,
    ) -> Self {
        Self::send(server, token, session, call_request(7, name, arguments)).await
    }

    /// POSTs the call `body` as `token` in `session`.
    async fn send(server: &TestServer, token: &str, session: &str, body: Value) -> Self {
        let mut request = reqwest::Client::new()
            .post(&server.endpoint)
            .body(body.to_string());
        for (name, value) in headers(token, Some(session)) {
            request = request.header(name, value);
        }
        let response = bounded("the call's response head", request.send())
            .await
            .expect("the call is answered");
        assert_eq!(response.status(), 200);
        let content_type = response.headers()["content-type"].to_str().unwrap();
        assert!(
            content_type.starts_with("text/event-stream"),
            "{content_type}"
        );
        Self {
            response,
            buffer: String::new(),
        }
    }

    /// The next JSON-RPC message on the stream (keep-alive comments skipped), or `None` at its
    /// end.
    async fn next(&mut self) -> Option<Value> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let event: String = self.buffer.drain(..end + 2).collect();
                let data: Vec<&str> = event
                    .lines()
                    .filter_map(|line| line.strip_prefix("data:"))
                    .map(|data| data.strip_prefix(' ').unwrap_or(data))
                    .collect();
                if data.is_empty() {
                    continue;
                }
                return Some(serde_json::from_str(&data.join("\n")).expect("a JSON message"));
            }
            let chunk = bounded("an SSE event", self.response.chunk())
                .await
                .expect("the stream is readable")?;
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// The `elicitation/create` request the call sent.
    async fn question(&mut self) -> Value {
        let message = self.next().await.expect("a question before the end");
        assert_eq!(message["method"], "elicitation/create", "{message}");
        message
    }
}

/// POSTs the JSON-RPC response `{id, result}` as `token` in `session`.
async fn reply_to(
    server: &TestServer,
    token: &str,
    session: Option<&str>,
    id: &Value,
    result: Value,
) -> Reply {
    let body = json!({"jsonrpc": "2.0", "id": id, "result": result});
    send(&server.endpoint, &headers(token, session), body.to_string()).await
}

fn assert_refused(reply: &Reply) {
    assert_eq!(reply.status, 400, "{reply:?}");
    assert_eq!(reply.rpc_error_code(), -32600, "{reply:?}");
    let message = reply.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        message.starts_with("no question for the user waits for this answer on this server"),
        "{message}"
    );
    assert!(message.contains("Mcp-Session-Id"), "{message}");
}

#[tokio::test]
async fn only_a_client_that_can_be_asked_gets_a_session_id() {
    let server = server_with("{}").await;
    assert!(initialize(&server, TOKEN, json!({})).await.is_none());
    let url_only = json!({"elicitation": {"url": {}}});
    assert!(initialize(&server, TOKEN, url_only).await.is_none());
    let session = session(&server, TOKEN).await;
    assert!(
        session.bytes().all(|b| (0x21..=0x7e).contains(&b)),
        "{session}"
    );
}

#[tokio::test]
async fn the_answer_is_taken_only_from_the_session_and_caller_that_were_asked() {
    let server = server_with("{}").await;
    let asked = session(&server, TOKEN).await;
    let mut stream =
        Stream::call(&server, TOKEN, &asked, "ask_delete", json!({"name": "mu"})).await;
    let question = stream.question().await;
    assert_eq!(question["params"]["message"], "Delete mu?", "{question}");
    assert_eq!(
        question["params"]["requestedSchema"],
        json!({"type": "object", "properties": {}})
    );
    let id = &question["id"];
    assert!(id.as_str().is_some_and(|id| id.len() >= 32), "{question}");
    let accept = json!({"action": "accept", "content": {}});

    // Another session of the same caller, another caller with the question's session, no
    // session at all, an id no question has: refused, and the call goes on waiting.
    let other_session = session(&server, TOKEN).await;
    assert_ne!(other_session, asked);
    assert_refused(&reply_to(&server, TOKEN, Some(&other_session), id, accept.clone()).await);
    let reply = reply_to(&server, OTHER_TOKEN, Some(&asked), id, accept.clone()).await;
    assert_refused(&reply);
    let stolen = session(&server, OTHER_TOKEN).await;
    assert_refused(&reply_to(&server, OTHER_TOKEN, Some(&stolen), id, accept.clone()).await);
    let reply = reply_to(&server, TOKEN, None, id, accept.clone()).await;
    assert_eq!(reply.status, 400, "{reply:?}");
    let unknown = json!("mcp-actions-ask-00000000000000000000000000000000");
    assert_refused(&reply_to(&server, TOKEN, Some(&asked), &unknown, accept.clone()).await);
    assert!(!ran("delete:mu"));

    // The user declines: the call ends declined, and the action did not run.
    let reply = reply_to(
        &server,
        TOKEN,
        Some(&asked),
        id,
        json!({"action": "decline"}),
    )
    .await;
    assert_eq!(reply.status, 202, "{reply:?}");
    let answer = stream.next().await.expect("the call's answer");
    assert_eq!(answer["id"], 7, "{answer}");
    assert_eq!(answer["result"]["isError"], true, "{answer}");
    assert_eq!(
        answer["result"]["content"][0]["text"],
        "NotAllowedError: declined by the user"
    );
    assert!(
        stream.next().await.is_none(),
        "the stream ends with the answer"
    );
    assert!(!ran("delete:mu"));
    // Answered once: a second answer finds nothing waiting.
    assert_refused(&reply_to(&server, TOKEN, Some(&asked), id, accept).await);
}

#[tokio::test]
async fn a_typed_answer_and_a_confirmation_on_one_stream() {
    let server = server_with("{}").await;
    let asked = session(&server, TOKEN).await;
    let mut stream =
        Stream::call(&server, TOKEN, &asked, "ask_deploy", json!({"name": "nu"})).await;
    let first = stream.question().await;
    assert_eq!(first["params"]["message"], "Where should nu go?");
    let content = json!({"environment": "production", "replicas": 2});
    let result = json!({"action": "accept", "content": content});
    let reply = reply_to(&server, TOKEN, Some(&asked), &first["id"], result).await;
    assert_eq!(reply.status, 202, "{reply:?}");
    let second = stream.question().await;
    assert_eq!(
        second["params"]["message"],
        "Deploy nu to production with 2 replicas?"
    );
    assert_ne!(second["id"], first["id"]);
    let result = json!({"action": "accept", "content": {}});
    let reply = reply_to(&server, TOKEN, Some(&asked), &second["id"], result).await;
    assert_eq!(reply.status, 202, "{reply:?}");
    let answer = stream.next().await.expect("the call's answer");
    assert_eq!(
        answer["result"]["structuredContent"],
        json!({"service": "nu", "environment": "production", "reason": null, "replicas": 2}),
        "{answer}"
    );
    assert!(ran("deploy:nu"));
}

#[tokio::test]
async fn without_a_valid_session_the_client_cannot_be_asked_and_other_calls_are_unchanged() {
    let server = server_with("{}").await;
    let refused = "NotAllowedError: this action needs the user's confirmation, and this client cannot ask the user for it (it did not declare the elicitation capability)";
    let valid = session(&server, TOKEN).await;
    let mut forged = valid.clone();
    forged.push('A');
    for session in [None, Some(forged.as_str()), Some("0123")] {
        let body = call_request(1, "ask_delete", json!({"name": "xi"}));
        let reply = send(&server.endpoint, &headers(TOKEN, session), body.to_string()).await;
        assert_eq!(reply.tool_error(), refused, "{session:?}");
    }
    // Another caller's session does not open for this one.
    let theirs = session(&server, OTHER_TOKEN).await;
    let body = call_request(1, "ask_delete", json!({"name": "xi"}));
    let reply = send(
        &server.endpoint,
        &headers(TOKEN, Some(&theirs)),
        body.to_string(),
    )
    .await;
    assert_eq!(reply.tool_error(), refused);
    assert!(!ran("delete:xi"));

    // A call that does not ask is plain JSON, session or not; so is a list.
    for session in [None, Some(valid.as_str())] {
        let body = call_request(
            2,
            "ask_purge",
            json!({"name": format!("omicron-{}", session.is_some())}),
        );
        let reply = send(&server.endpoint, &headers(TOKEN, session), body.to_string()).await;
        assert_eq!(
            reply.header("content-type"),
            Some("application/json"),
            "{reply:?}"
        );
        assert_eq!(reply.json()["result"]["isError"], false, "{reply:?}");
        let list = rpc(3, "tools/list", None);
        let reply = send(&server.endpoint, &headers(TOKEN, session), list.to_string()).await;
        assert!(
            reply.json()["result"]["tools"].as_array().is_some(),
            "{reply:?}"
        );
    }
}

#[tokio::test]
async fn a_question_unanswered_within_the_timeout_ends_the_call_and_stops_waiting() {
    let server = server_with("mcpActions: { limits: { actionTimeoutSeconds: 1 } }").await;
    let asked = session(&server, TOKEN).await;
    let mut stream =
        Stream::call(&server, TOKEN, &asked, "ask_delete", json!({"name": "pi"})).await;
    let question = stream.question().await;
    let answer = stream.next().await.expect("the call's answer");
    let text = answer["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.starts_with("ServiceUnavailableError:"), "{answer}");
    assert!(!ran("delete:pi"));
    let accept = json!({"action": "accept", "content": {}});
    assert_refused(&reply_to(&server, TOKEN, Some(&asked), &question["id"], accept).await);
}

#[tokio::test]
async fn progress_and_the_question_share_the_stream() {
    let server = server_with("{}").await;
    let asked = session(&server, TOKEN).await;
    let mut body = call_request(7, "ask_migrate", json!({"name": "sigma"}));
    body["params"]["_meta"] = json!({"progressToken": "p-1"});
    let mut stream = Stream::send(&server, TOKEN, &asked, body).await;
    let progress = stream.next().await.expect("a progress notification");
    assert_eq!(progress["method"], "notifications/progress", "{progress}");
    assert_eq!(progress["params"]["progressToken"], "p-1");
    assert_eq!(progress["params"]["message"], "copied");
    let question = stream.question().await;
    assert_eq!(question["params"]["message"], "Switch sigma over?");
    let accept = json!({"action": "accept", "content": {}});
    let reply = reply_to(&server, TOKEN, Some(&asked), &question["id"], accept).await;
    assert_eq!(reply.status, 202, "{reply:?}");
    let answer = stream.next().await.expect("the call's answer");
    assert_eq!(
        answer["result"]["structuredContent"]["done"],
        "migrated sigma"
    );
    assert!(ran("migrate:sigma"));
}

#[tokio::test]
async fn an_answer_is_taken_when_every_request_slot_is_busy() {
    // The one slot is held by the call that waits for the answer.
    let server = server_with("mcpActions: { limits: { maxConcurrentRequests: 1 } }").await;
    let asked = session(&server, TOKEN).await;
    let mut stream =
        Stream::call(&server, TOKEN, &asked, "ask_delete", json!({"name": "tau"})).await;
    let question = stream.question().await;
    // Anything else waits its turn…
    let list = rpc(3, "tools/list", None);
    let busy = send(
        &server.endpoint,
        &headers(TOKEN, Some(&asked)),
        list.to_string(),
    )
    .await;
    assert_eq!(busy.status, 503, "{busy:?}");
    // …but the answer gets through.
    let accept = json!({"action": "accept", "content": {}});
    let reply = reply_to(&server, TOKEN, Some(&asked), &question["id"], accept).await;
    assert_eq!(reply.status, 202, "{reply:?}");
    let answer = stream.next().await.expect("the call's answer");
    assert_eq!(answer["result"]["isError"], false, "{answer}");
    assert!(ran("delete:tau"));
}

#[tokio::test]
async fn the_client_cancels_a_call_that_waits_for_the_user() {
    let server = server_with("{}").await;
    let asked = session(&server, TOKEN).await;
    let mut cancel = json!({"jsonrpc": "2.0", "method": "notifications/cancelled"});
    cancel["params"] = json!({"requestId": 7});
    let cancel = cancel.to_string();
    let accept = json!({"action": "accept", "content": {}});

    // Another caller's cancellation does not reach the call (rmcp takes the notification, and
    // nothing happens): the user's answer still does.
    let mut stream =
        Stream::call(&server, TOKEN, &asked, "ask_delete", json!({"name": "chi"})).await;
    let question = stream.question().await;
    let theirs = session(&server, OTHER_TOKEN).await;
    let reply = send(
        &server.endpoint,
        &headers(OTHER_TOKEN, Some(&theirs)),
        cancel.clone(),
    )
    .await;
    assert_eq!(reply.status, 202, "{reply:?}");
    let reply = reply_to(
        &server,
        TOKEN,
        Some(&asked),
        &question["id"],
        accept.clone(),
    )
    .await;
    assert_eq!(reply.status, 202, "{reply:?}");
    let answer = stream.next().await.expect("the call's answer");
    assert_eq!(answer["result"]["isError"], false, "{answer}");
    assert!(ran("delete:chi"));

    // The caller's own cancellation ends the call, without an answer as the spec asks.
    let mut stream =
        Stream::call(&server, TOKEN, &asked, "ask_delete", json!({"name": "phi"})).await;
    let question = stream.question().await;
    let reply = send(&server.endpoint, &headers(TOKEN, Some(&asked)), cancel).await;
    assert_eq!(reply.status, 202, "{reply:?}");
    assert_eq!(stream.next().await, None);
    assert!(!ran("delete:phi"));
    assert_refused(&reply_to(&server, TOKEN, Some(&asked), &question["id"], accept).await);
}

#[tokio::test]
async fn an_error_for_an_answer_ends_the_call_unconfirmed() {
    let server = server_with("{}").await;
    let asked = session(&server, TOKEN).await;
    let mut stream =
        Stream::call(&server, TOKEN, &asked, "ask_delete", json!({"name": "psi"})).await;
    let question = stream.question().await;
    // A numeric id is no question's (they are strings): refused, the call waits on.
    let accept = json!({"action": "accept", "content": {}});
    assert_refused(&reply_to(&server, TOKEN, Some(&asked), &json!(7), accept).await);
    let error = json!({
        "jsonrpc": "2.0",
        "id": question["id"],
        "error": {"code": -32603, "message": "the user interface is gone"}
    });
    let reply = send(
        &server.endpoint,
        &headers(TOKEN, Some(&asked)),
        error.to_string(),
    )
    .await;
    assert_eq!(reply.status, 202, "{reply:?}");
    let answer = stream.next().await.expect("the call's answer");
    assert_eq!(
        answer["result"]["content"][0]["text"],
        "ServiceUnavailableError: the client did not answer the question for the user",
        "{answer}"
    );
    assert!(!ran("delete:psi"));
}
