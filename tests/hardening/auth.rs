//! No way in without a valid token, no token in logs or answers, the metadata document tells
//! nothing secret, and the `Host` allow-list holds.

use mcp_actions_tests::prelude::*;
use serde_json::json;

use crate::actions::Probe;
use crate::setup::*;

async fn server() -> TestServer {
    TestServer::start(builder("", &Probe::shared())).await
}

fn list_body() -> Vec<u8> {
    rpc(1, "tools/list", None).to_string().into_bytes()
}

/// The standard headers with these `Authorization` values instead of the full token.
fn with_authorization(values: &[String]) -> Vec<(&'static str, String)> {
    let mut headers = standard_headers(FULL_TOKEN);
    headers.retain(|(name, _)| *name != "authorization");
    headers.extend(values.iter().map(|v| ("authorization", v.clone())));
    headers
}

fn assert_refused(reply: &Reply, what: &str, presented: &str) {
    assert_eq!(reply.status, 401, "{what}: {reply:?}");
    let challenge = reply.header("www-authenticate").unwrap_or_default();
    assert!(
        challenge.starts_with("Bearer resource_metadata=\""),
        "{what}: {reply:?}"
    );
    assert_eq!(
        reply.json()["error"]["name"],
        "AuthenticationError",
        "{what}: {reply:?}"
    );
    // Everything presented that looks like a token (the tokens' shared prefix).
    for secret in [FULL_TOKEN, RESTRICTED_TOKEN, presented] {
        if secret.contains("hardening-") {
            assert!(
                !reply.body.contains(secret) && !challenge.contains(secret),
                "{what}: the answer repeats a token: {reply:?}"
            );
        }
    }
}

#[tokio::test]
async fn every_near_miss_of_a_valid_token_is_401() {
    let server = server().await;
    let full = FULL_TOKEN;
    let basic = |credentials: &str| {
        use std::fmt::Write;
        // Base64 by hand (no base64 crate in this test crate): RFC 4648 alphabet, padded.
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in credentials.as_bytes().chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    let _ = out.write_char(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        format!("Basic {out}")
    };
    let cases: Vec<(&str, Vec<String>)> = vec![
        ("no header", vec![]),
        ("empty header", vec![String::new()]),
        ("scheme only", vec!["Bearer".into()]),
        ("empty bearer", vec!["Bearer ".into()]),
        ("blank bearer", vec!["Bearer      ".into()]),
        ("token without scheme", vec![full.into()]),
        ("Basic with the token", vec![format!("Basic {full}")]),
        ("Basic user:token", vec![basic(&format!("user:{full}"))]),
        ("Basic token:", vec![basic(&format!("{full}:"))]),
        ("Token scheme", vec![format!("Token {full}")]),
        ("scheme glued to the token", vec![format!("Bearer{full}")]),
        (
            "prefix",
            vec![format!("Bearer {}", &full[..full.len() - 1])],
        ),
        ("short prefix", vec![format!("Bearer {}", &full[..8])]),
        ("suffix", vec![format!("Bearer {}", &full[1..])]),
        ("extra character", vec![format!("Bearer {full}x")]),
        ("extra word", vec![format!("Bearer {full} x")]),
        ("two tokens", vec![format!("Bearer {full} {full}")]),
        ("token twice glued", vec![format!("Bearer {full}{full}")]),
        (
            "upper case",
            vec![format!("Bearer {}", full.to_uppercase())],
        ),
        ("one letter's case", vec![format!("Bearer H{}", &full[1..])]),
        ("quoted", vec![format!("Bearer \"{full}\"")]),
        ("comma list", vec![format!("Bearer x, Bearer {full}")]),
        (
            "a wrong token first, the right one second",
            vec!["Bearer wrong-token-123".into(), format!("Bearer {full}")],
        ),
    ];
    for (what, values) in &cases {
        let reply = send(&server.endpoint, &with_authorization(values), list_body()).await;
        let presented = values.first().map(String::as_str).unwrap_or_default();
        assert_refused(&reply, what, presented.trim_start_matches("Bearer "));
    }
    // The token elsewhere than the Authorization header is not looked at (the metadata
    // document announces `bearer_methods_supported: ["header"]`).
    let mut headers = with_authorization(&[]);
    headers.push(("x-api-key", full.to_owned()));
    headers.push(("cookie", format!("token={full}")));
    let reply = send(
        &format!("{}?access_token={full}", server.endpoint),
        &headers,
        list_body(),
    )
    .await;
    assert_refused(&reply, "token in a query, cookie or other header", full);
    server.assert_serving().await;
}

#[tokio::test]
async fn what_is_accepted_is_the_token_itself() {
    // The scheme is case-insensitive (RFC 7235), and the whitespace HTTP strips around a
    // header value, or that separates scheme and token, is not part of the token. Static
    // tokens cannot contain whitespace (the config refuses them), so trimming cannot turn one
    // token into another.
    let server = server().await;
    for value in [
        format!("Bearer {FULL_TOKEN}"),
        format!("bearer {FULL_TOKEN}"),
        format!("BEARER {FULL_TOKEN}"),
        format!("Bearer    {FULL_TOKEN}"),
        format!("Bearer {FULL_TOKEN}   "),
        format!("Bearer {FULL_TOKEN}\t"),
    ] {
        let reply = send(
            &server.endpoint,
            &with_authorization(std::slice::from_ref(&value)),
            list_body(),
        )
        .await;
        assert_eq!(reply.status, 200, "{value:?}: {reply:?}");
    }
    // Trailing spaces on the wire, past reqwest: hyper drops them as HTTP whitespace.
    let answer = raw_exchange(
        server.addr,
        &raw_post(
            server.addr,
            &[format!("authorization: Bearer {FULL_TOKEN}   ").as_bytes()],
            &list_body(),
        ),
    )
    .await
    .unwrap();
    assert_eq!(
        raw_status(&answer),
        200,
        "{}",
        String::from_utf8_lossy(&answer)
    );
}

#[tokio::test]
async fn two_authorization_headers_are_refused_whatever_their_order() {
    let server = server().await;
    for values in [
        vec![
            format!("Bearer {FULL_TOKEN}"),
            "Bearer wrong-token-123".into(),
        ],
        vec![
            format!("Bearer {FULL_TOKEN}"),
            format!("Bearer {FULL_TOKEN}"),
        ],
        vec![
            "Bearer wrong-token-123".into(),
            format!("Bearer {FULL_TOKEN}"),
        ],
        vec![
            format!("Bearer {RESTRICTED_TOKEN}"),
            format!("Bearer {FULL_TOKEN}"),
        ],
    ] {
        let reply = send(&server.endpoint, &with_authorization(&values), list_body()).await;
        assert_eq!(reply.status, 401, "{values:?}: {reply:?}");
    }
}

#[tokio::test]
async fn a_restricted_token_neither_sees_nor_calls_other_plugins() {
    let server = server().await;
    let reply = post(
        &server.endpoint,
        Some(RESTRICTED_TOKEN),
        &rpc(1, "tools/list", None),
    )
    .await;
    let names: Vec<String> = reply.json()["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["hardening_other"]);
    for name in [
        "hardening_echo",
        "hardening_panic",
        "hardening_hang",
        "hardening_strict",
    ] {
        let reply = post(
            &server.endpoint,
            Some(RESTRICTED_TOKEN),
            &call_request(2, name, json!({"message": "x", "name": "x"})),
        )
        .await;
        reply.assert_unknown_tool(name);
    }
    let reply = post(
        &server.endpoint,
        Some(RESTRICTED_TOKEN),
        &call_request(3, "hardening_other", json!({})),
    )
    .await;
    assert_eq!(
        reply.json()["result"]["structuredContent"],
        json!({"count": 7})
    );
    // On the 2026-07-28 shape as well.
    let reply = send(
        &server.endpoint,
        &headers_2026(RESTRICTED_TOKEN, "tools/call", Some("hardening_echo")),
        call_request_2026(4, "hardening_echo", json!({"message": "x"}))
            .to_string()
            .into_bytes(),
    )
    .await;
    reply.assert_unknown_tool("hardening_echo");
}

#[test]
fn tokens_never_appear_in_logs_or_answers() {
    if in_own_process("auth::tokens_never_appear_in_logs_or_answers") {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(tokens_never_appear_in_logs_or_answers_body());
    }
}

async fn tokens_never_appear_in_logs_or_answers_body() {
    let logs = LogCapture::default();
    let _guard = logs.install();
    let server = server().await;
    let near_miss = format!("{FULL_TOKEN}-nearly");
    // Failed requests: a wrong token, a near miss, a token in the wrong scheme.
    for value in [
        format!("Bearer {near_miss}"),
        format!("Basic {FULL_TOKEN}"),
        format!("Bearer {}", &FULL_TOKEN[..FULL_TOKEN.len() - 2]),
    ] {
        let reply = send(&server.endpoint, &with_authorization(&[value]), list_body()).await;
        assert_eq!(reply.status, 401);
        assert!(!reply.body.contains(FULL_TOKEN), "{reply:?}");
    }
    // Successful requests, a failing call, a panicking call, a refused call.
    server.assert_serving().await;
    for (token, name) in [
        (FULL_TOKEN, "hardening_panic"),
        (FULL_TOKEN, "hardening_strict"),
        (FULL_TOKEN, "no_such_tool"),
        (RESTRICTED_TOKEN, "hardening_echo"),
    ] {
        let reply = post(
            &server.endpoint,
            Some(token),
            &call_request(1, name, json!({"unexpected": 1})),
        )
        .await;
        for secret in [FULL_TOKEN, RESTRICTED_TOKEN] {
            assert!(!reply.body.contains(secret), "{reply:?}");
        }
    }
    drop(server);
    let text = logs.text();
    // The capture works: the server's own events are there.
    assert!(text.contains("refused an MCP request"), "{text}");
    assert!(text.contains("action failed unexpectedly"), "{text}");
    assert!(
        text.contains("hardening-client"),
        "the subject is logged: {text}"
    );
    for secret in [
        FULL_TOKEN,
        RESTRICTED_TOKEN,
        near_miss.as_str(),
        &FULL_TOKEN[..FULL_TOKEN.len() - 2],
    ] {
        assert!(
            !text.contains(secret),
            "a token is in the logs: {}",
            text.lines()
                .filter(|l| l.contains(secret))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

#[tokio::test]
async fn the_metadata_document_reveals_nothing_secret() {
    let server = server().await;
    let url = format!(
        "{}/.well-known/oauth-protected-resource/api/mcp-actions/v1",
        server.base_url
    );
    let response = reqwest::get(&url).await.unwrap();
    assert_eq!(response.status(), 200);
    let document: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        document,
        json!({
            "resource": format!("{}/api/mcp-actions/v1", server.base_url),
            "authorization_servers": [],
            "bearer_methods_supported": ["header"],
            "resource_name": "hardening-server",
        })
    );
    let text = document.to_string();
    for secret in [
        FULL_TOKEN,
        RESTRICTED_TOKEN,
        "hardening-client",
        "restricted-client",
    ] {
        assert!(!text.contains(secret), "{text}");
    }
    // Nothing else is served without a token.
    for path in [
        "/.well-known/oauth-protected-resource",
        "/.well-known/oauth-authorization-server",
        "/.well-known/openid-configuration",
        "/api/mcp-actions",
        "/",
    ] {
        let response = reqwest::get(format!("{}{path}", server.base_url))
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }
}

#[tokio::test]
async fn another_host_is_403_even_with_a_valid_token() {
    let server = server().await;
    let port = server.addr.port();
    for host in [
        "evil.example.com".to_owned(),
        format!("evil.example.com:{port}"),
        format!("127.0.0.1.evil.example.com:{port}"),
        format!("localhost.evil.example.com:{port}"),
        "127.0.0.2".to_owned(),
        "0.0.0.0".to_owned(),
    ] {
        let mut headers = standard_headers(FULL_TOKEN);
        headers.push(("host", host.clone()));
        let reply = send(&server.endpoint, &headers, list_body()).await;
        assert_eq!(reply.status, 403, "{host}: {reply:?}");
    }
    for host in [
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
        format!("[::1]:{port}"),
    ] {
        let mut headers = standard_headers(FULL_TOKEN);
        headers.push(("host", host.clone()));
        assert_eq!(
            send(&server.endpoint, &headers, list_body()).await.status,
            200,
            "{host}"
        );
    }
    server.assert_serving().await;
}

/// Reads one HTTP/1.1 answer with a `content-length` from `stream`; `None` at EOF.
async fn read_one_answer(stream: &mut tokio::net::TcpStream) -> Option<String> {
    use tokio::io::AsyncReadExt;
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&data).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap())
                })
                .unwrap_or(0);
            if data.len() >= end + 4 + length {
                return Some(text);
            }
        }
        let read = tokio::time::timeout(std::time::Duration::from_secs(60), stream.read(&mut buf))
            .await
            .expect("a hang guard: no answer within 60 s");
        match read {
            Ok(0) | Err(_) => return None,
            Ok(n) => data.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test]
async fn a_401_before_the_body_arrives_keeps_the_connection_usable_or_says_close() {
    use tokio::io::AsyncWriteExt;
    let server = server().await;
    let body = rpc(1, "tools/list", None).to_string();
    let head = |token: &str| {
        format!(
            "POST {} HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\naccept: application/json, text/event-stream\r\nauthorization: Bearer {token}\r\ncontent-length: {}\r\n\r\n",
            mcp_actions_server::MCP_PATH,
            server.addr,
            body.len()
        )
    };
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    // The head of a request with a wrong token; its body is not sent yet.
    stream
        .write_all(head("wrong-token-123").as_bytes())
        .await
        .unwrap();
    let first = read_one_answer(&mut stream).await.expect("the 401");
    assert!(first.starts_with("HTTP/1.1 401"), "{first}");
    if first.to_ascii_lowercase().contains("connection: close") {
        return;
    }
    // Not announced as closing: the body and a valid request on the same connection work.
    let _ = stream.write_all(body.as_bytes()).await;
    let _ = stream
        .write_all(format!("{}{body}", head(FULL_TOKEN)).as_bytes())
        .await;
    let second = read_one_answer(&mut stream).await;
    assert!(
        second
            .as_deref()
            .is_some_and(|a| a.starts_with("HTTP/1.1 200")),
        "the connection was closed without `Connection: close`: {second:?}"
    );
}
