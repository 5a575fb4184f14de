//! The deprecated HTTP+SSE transport with a hand-written 2024-11-05 client.

use std::time::{Duration, Instant};

use mcp_actions_server::transport::SseOptions;
use mcp_actions_server::transport::sse::DEPRECATION;
use mcp_actions_tests::prelude::*;
use serde_json::json;

use crate::setup::*;

#[tokio::test]
async fn a_2024_11_05_session_lists_and_calls_as_the_caller() {
    let server = SseServer::start(SseOptions::default()).await;
    let mut client = SseClient::open(&server.sse_url(), ALICE).await;

    assert!(
        client
            .endpoint
            .starts_with("/api/mcp-actions/v1/sse/messages?sessionId="),
        "{}",
        client.endpoint
    );
    assert_eq!(client.session_id().len(), 32);
    let headers = client.headers();
    assert_eq!(headers["content-type"], "text/event-stream");
    assert_eq!(headers["deprecation"], DEPRECATION);
    let link = headers["link"].to_str().unwrap();
    assert!(link.contains("rel=\"deprecation\""), "{link}");
    assert!(
        link.contains("</api/mcp-actions/v1>; rel=\"successor-version\""),
        "{link}"
    );

    let init = client.initialize().await;
    assert_eq!(init["protocolVersion"], "2024-11-05");
    assert_eq!(init["serverInfo"]["name"], "transports-test");
    assert!(init["capabilities"]["tools"].is_object(), "{init}");

    assert_eq!(
        client.tool_names(1).await,
        ["greet_user", "transports_whoami", "transports_work"]
    );

    let greeting = client.call(2, "greet_user", json!({"name": "World"})).await;
    assert_eq!(
        greeting["structuredContent"],
        json!({"greeting": "Hello World!"}),
        "{greeting}"
    );
    let bad = client.call(3, "greet_user", json!({"name": " "})).await;
    assert_eq!(bad["isError"], true, "{bad}");
    assert_eq!(
        bad["content"][0]["text"],
        "InputError: name must not be empty"
    );

    let whoami = client.call(4, "transports_whoami", json!({})).await;
    assert_eq!(whoami["structuredContent"]["principal"], "service:alice");

    // The same identity with a rotated token is the same caller.
    let rotated = client
        .post_as(
            Some(ALICE_ROTATED),
            &json!({"jsonrpc": "2.0", "id": 5, "method": "tools/call",
                    "params": {"name": "transports_whoami", "arguments": {}}}),
        )
        .await;
    assert_eq!(rotated.status, 202);
    let answer = client.next_message().await.expect("the answer");
    assert_eq!(answer["id"], 5);
    assert_eq!(
        answer["result"]["structuredContent"]["principal"],
        "service:alice"
    );

    // A JSON-RPC error for an unknown method also arrives on the stream.
    let unknown = client.request(6, "prompts/list", json!({})).await;
    assert_eq!(unknown["error"]["code"], -32601, "{unknown}");
    // So does the -32602 of an unknown tool.
    let unknown = client
        .request(
            7,
            "tools/call",
            json!({"name": "no_such_tool", "arguments": {}}),
        )
        .await;
    assert_eq!(unknown["error"]["code"], -32602, "{unknown}");
    assert_eq!(
        unknown["error"]["message"],
        "NotFoundError: Action \"no_such_tool\" not found"
    );
}

#[tokio::test]
async fn every_request_is_authenticated_and_bound_to_the_session_owner() {
    let server = SseServer::start(SseOptions::default()).await;

    // GET without or with a bad token: 401 with the challenge.
    for token in [None, Some("not-a-token")] {
        let response = get_sse(&server.sse_url(), token, None).await;
        assert_eq!(response.status(), 401);
        let challenge = response.headers()["www-authenticate"].to_str().unwrap();
        assert!(
            challenge.starts_with("Bearer resource_metadata="),
            "{challenge}"
        );
        assert_eq!(response.headers()["deprecation"], DEPRECATION);
    }

    let mut alice = SseClient::open(&server.sse_url(), ALICE).await;
    alice.initialize().await;
    let call = json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call",
                      "params": {"name": "transports_whoami", "arguments": {}}});

    // A POST without a token: 401, even to a valid session.
    let reply = alice.post_as(None, &call).await;
    assert_eq!(reply.status, 401);
    assert!(reply.headers.contains_key("www-authenticate"));

    // Another caller, or the same subject with other access restrictions: the session does not
    // exist for them.
    for other in [BOB, ALICE_RESTRICTED] {
        let (status, name, message) = error_of(&alice.post_as(Some(other), &call).await);
        assert_eq!(
            (status, name.as_str()),
            (404, "NotFoundError"),
            "{other}: {message}"
        );
        assert!(message.contains("belongs to another caller"), "{message}");
    }

    // Nothing of those reached the handler: the next message is the answer to Alice's call.
    let mine = alice.call(10, "transports_whoami", json!({})).await;
    assert_eq!(mine["structuredContent"]["principal"], "service:alice");

    // Bob's own session works as Bob, alongside Alice's.
    let mut bob = SseClient::open(&server.sse_url(), BOB).await;
    assert_ne!(bob.session_id(), alice.session_id());
    bob.initialize().await;
    let his = bob.call(1, "transports_whoami", json!({})).await;
    assert_eq!(his["structuredContent"]["principal"], "service:bob");
    assert_eq!(server.endpoint.open_sessions(), 2);
}

#[tokio::test]
async fn bad_posts_get_clear_errors() {
    let server = SseServer::start(SseOptions::default().with_max_request_body_bytes(1024)).await;
    let http = reqwest::Client::new();
    let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}).to_string();

    let (status, name, message) =
        error_of(&post_message(&server.messages_url(), Some(ALICE), ping.clone()).await);
    assert_eq!((status, name.as_str()), (400, "InputError"));
    assert!(
        message.contains("the sessionId query parameter is required"),
        "{message}"
    );

    let empty = format!("{}?sessionId=", server.messages_url());
    assert_eq!(
        post_message(&empty, Some(ALICE), ping.clone()).await.status,
        400
    );

    let unknown = format!(
        "{}?sessionId=0123456789abcdef0123456789abcdef",
        server.messages_url()
    );
    let (status, name, _) = error_of(&post_message(&unknown, Some(ALICE), ping.clone()).await);
    assert_eq!((status, name.as_str()), (404, "NotFoundError"));

    // Unauthenticated requests learn nothing about sessions.
    assert_eq!(post_message(&unknown, None, ping.clone()).await.status, 401);

    let client = SseClient::open(&server.sse_url(), ALICE).await;
    let url = &client.messages_url;
    let big =
        json!({"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"pad": "x".repeat(2000)}});
    let (status, _, message) = error_of(&post_message(url, Some(ALICE), big.to_string()).await);
    assert_eq!(status, 413, "{message}");
    assert!(message.contains("larger than 1024 bytes"), "{message}");

    let (status, _, message) =
        error_of(&post_message(url, Some(ALICE), "{not json".to_owned()).await);
    assert_eq!(status, 400);
    assert!(message.contains("not a JSON-RPC message"), "{message}");

    let batch = format!("[{ping}]");
    let (status, _, message) = error_of(&post_message(url, Some(ALICE), batch).await);
    assert_eq!(status, 400);
    assert!(message.contains("batches are not supported"), "{message}");

    // Only GET opens and only POST sends.
    let wrong = http
        .post(server.sse_url())
        .bearer_auth(ALICE)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 405);
    let wrong = http.get(url).bearer_auth(ALICE).send().await.unwrap();
    assert_eq!(wrong.status(), 405);
}

#[tokio::test]
async fn a_disconnect_removes_the_session() {
    let server = SseServer::start(SseOptions::default()).await;
    let mut client = SseClient::open(&server.sse_url(), ALICE).await;
    client.initialize().await;
    let url = client.messages_url.clone();
    assert_eq!(server.endpoint.open_sessions(), 1);
    drop(client);

    let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}).to_string();
    eventually("a POST to the closed session to get 404", || {
        let (url, ping) = (&url, ping.clone());
        async move {
            let status = post_message(url, Some(ALICE), ping).await.status;
            assert!(status == 202 || status == 404, "{status}");
            (status == 404).then_some(())
        }
    })
    .await;
    assert_eq!(server.endpoint.open_sessions(), 0);
}

#[tokio::test]
async fn over_the_session_cap_gets_503_with_retry_after() {
    let server = SseServer::start(SseOptions::default().with_max_sessions(2)).await;
    let first = SseClient::open(&server.sse_url(), ALICE).await;
    let _second = SseClient::open(&server.sse_url(), BOB).await;

    let refused = get_sse(&server.sse_url(), Some(ALICE), None).await;
    assert_eq!(refused.headers()["retry-after"], "5");
    assert_eq!(refused.headers()["deprecation"], DEPRECATION);
    let (status, name, message) = error_of(&reply(refused).await);
    assert_eq!((status, name.as_str()), (503, "ServiceUnavailableError"));
    assert!(message.contains("at most 2"), "{message}");

    drop(first);
    eventually("a session slot to free up", || async {
        (server.endpoint.open_sessions() < 2).then_some(())
    })
    .await;
    let mut third = SseClient::open(&server.sse_url(), ALICE).await;
    third.initialize().await;
}

#[tokio::test]
async fn an_idle_session_is_closed() {
    let timeout = Duration::from_secs(1);
    let server = SseServer::start(SseOptions::default().with_idle_timeout(Some(timeout))).await;
    let mut client = SseClient::open(&server.sse_url(), ALICE).await;
    client.initialize().await;
    let quiet_since = Instant::now();

    // Nothing more: the server ends the stream after the idle timeout.
    assert_eq!(client.next_event().await, None, "the stream should end");
    let idle = quiet_since.elapsed();
    assert!(idle >= timeout, "closed after {idle:?}");
    let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
    assert_eq!(client.post(&ping).await.status, 404);
    assert_eq!(server.endpoint.open_sessions(), 0);
}

#[tokio::test]
async fn a_running_call_keeps_a_quiet_session_open() {
    let timeout = Duration::from_secs(1);
    let server = SseServer::start(SseOptions::default().with_idle_timeout(Some(timeout))).await;
    let mut client = SseClient::open(&server.sse_url(), ALICE).await;
    client.initialize().await;

    // The call sends nothing for twice the idle timeout, and still gets its answer.
    let work = client
        .call(1, "transports_work", json!({"millis": 2500}))
        .await;
    assert_eq!(work["structuredContent"]["worked"], 2500, "{work}");
    // Then the session goes quiet and is closed.
    assert_eq!(client.next_event().await, None);
}

#[tokio::test]
async fn keep_alive_comments_do_not_count_as_activity() {
    let server = SseServer::start(
        SseOptions::default()
            .with_idle_timeout(Some(Duration::from_millis(1500)))
            .with_keep_alive(Some(Duration::from_millis(200))),
    )
    .await;
    let mut client = SseClient::open(&server.sse_url(), ALICE).await;
    client.initialize().await;
    // Several keep-alives are sent (and skipped by the parser), then the stream ends.
    assert_eq!(client.next_event().await, None);
    assert_eq!(server.endpoint.open_sessions(), 0);
}

#[tokio::test]
async fn shutdown_closes_open_streams() {
    let server = SseServer::start(SseOptions::default().with_idle_timeout(None)).await;
    let mut client = SseClient::open(&server.sse_url(), ALICE).await;
    client.initialize().await;
    // A graceful shutdown waits for open connections: it returns only because the stream ends.
    server.stop().await;
    assert_eq!(client.next_event().await, None);
}

#[tokio::test]
async fn only_allowed_hosts_are_served() {
    let server = SseServer::start(SseOptions::default()).await;
    let response = get_sse(&server.sse_url(), Some(ALICE), Some("evil.example:80")).await;
    let (status, name, message) = error_of(&reply(response).await);
    assert_eq!(
        (status, name.as_str()),
        (403, "NotAllowedError"),
        "{message}"
    );

    let port = server.base_url.rsplit(':').next().unwrap();
    let response = get_sse(
        &server.sse_url(),
        Some(ALICE),
        Some(&format!("localhost:{port}")),
    )
    .await;
    assert_eq!(response.status(), 200);
}
