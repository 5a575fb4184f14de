//! Talking to a server below what a client library shows: reqwest for status codes, headers and
//! odd bodies ([`post`], [`send`] → [`Reply`]), raw TCP for what reqwest refuses to send
//! ([`raw_post`], [`raw_exchange`]). Every exchange is bounded by [`WAIT`].

use std::future::Future;
use std::io;
use std::net::SocketAddr;

use mcp_actions_server::MCP_PATH;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::wait::{WAIT, bounded};

/// The 2025-11-25 protocol version (the stateless `initialize` lifecycle).
pub const V2025: &str = "2025-11-25";
/// The 2026-07-28 protocol version (per-request `_meta`).
pub const V2026: &str = "2026-07-28";

/// A JSON-RPC request.
pub fn rpc(id: impl Into<Value>, method: &str, params: Option<Value>) -> Value {
    let mut request = json!({"jsonrpc": "2.0", "id": id.into(), "method": method});
    if let Some(params) = params {
        request["params"] = params;
    }
    request
}

/// A tools/call request.
pub fn call_request(id: impl Into<Value>, name: &str, arguments: Value) -> Value {
    rpc(
        id,
        "tools/call",
        Some(json!({"name": name, "arguments": arguments})),
    )
}

/// A tools/call request in the 2026-07-28 shape (per-request `_meta`).
pub fn call_request_2026(id: impl Into<Value>, name: &str, arguments: Value) -> Value {
    rpc(
        id,
        "tools/call",
        Some(json!({
            "name": name,
            "arguments": arguments,
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": V2026,
                "io.modelcontextprotocol/clientInfo": {"name": "hardening", "version": "1"},
                "io.modelcontextprotocol/clientCapabilities": {}
            }
        })),
    )
}

/// The headers of a well-behaved 2025-11-25 client with `token`, for tests that change one.
pub fn standard_headers(token: &str) -> Vec<(&'static str, String)> {
    vec![
        ("content-type", "application/json".to_owned()),
        ("accept", "application/json, text/event-stream".to_owned()),
        ("mcp-protocol-version", V2025.to_owned()),
        ("authorization", format!("Bearer {token}")),
    ]
}

/// The headers of a 2026-07-28 request with `token`: the protocol version and the SEP-2243
/// `Mcp-Method` / `Mcp-Name` headers rmcp requires to match the body.
pub fn headers_2026(token: &str, method: &str, name: Option<&str>) -> Vec<(&'static str, String)> {
    let mut headers = standard_headers(token);
    headers[2].1 = V2026.to_owned();
    headers.push(("mcp-method", method.to_owned()));
    if let Some(name) = name {
        headers.push(("mcp-name", name.to_owned()));
    }
    headers
}

/// An HTTP answer, read to the end.
#[derive(Debug)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The headers.
    pub headers: reqwest::header::HeaderMap,
    /// The body, as text (lossy).
    pub body: String,
}

impl Reply {
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("the body is not JSON ({e}): {self:?}"))
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The in-band tool error text of a tools/call answer (asserts `isError: true`).
    pub fn tool_error(&self) -> String {
        assert_eq!(self.status, 200, "{self:?}");
        let json = self.json();
        assert_eq!(json["result"]["isError"], true, "{self:?}");
        json["result"]["content"][0]["text"]
            .as_str()
            .expect("a text block")
            .to_owned()
    }

    /// Asserts the answer is the one to a `tools/call` of an unknown tool `name` (a tool the
    /// caller may not see included): HTTP 200, JSON-RPC -32602, `NotFoundError: …`, no result.
    pub fn assert_unknown_tool(&self, name: &str) {
        assert_eq!(self.status, 200, "{name:?}: {self:?}");
        let json = self.json();
        assert_eq!(json["error"]["code"], -32602, "{name:?}: {self:?}");
        assert_eq!(
            json["error"]["message"],
            format!("NotFoundError: Action \"{name}\" not found"),
            "{self:?}"
        );
        assert!(json.get("result").is_none(), "{self:?}");
    }

    /// The JSON-RPC error code of the answer.
    pub fn rpc_error_code(&self) -> i64 {
        self.json()["error"]["code"]
            .as_i64()
            .unwrap_or_else(|| panic!("not a JSON-RPC error: {self:?}"))
    }
}

/// POSTs a JSON body to an MCP endpoint the way a well-behaved 2025-11-25 client does (the
/// stateless shape), with `token` if any.
pub async fn post(endpoint: &str, token: Option<&str>, body: &Value) -> Reply {
    let mut headers = standard_headers(token.unwrap_or_default());
    if token.is_none() {
        headers.retain(|(name, _)| *name != "authorization");
    }
    send(endpoint, &headers, body.to_string()).await
}

/// POSTs `body` with exactly these headers (repeated names are sent repeated).
pub async fn send(url: &str, headers: &[(&str, String)], body: impl Into<Vec<u8>>) -> Reply {
    let mut request = reqwest::Client::new().post(url).body(body.into());
    for (name, value) in headers {
        request = request.header(*name, value.as_str());
    }
    let response = bounded("an answer", request.send())
        .await
        .expect("the request is answered");
    reply(response).await
}

/// Reads a reqwest response to the end.
pub async fn reply(response: reqwest::Response) -> Reply {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = bounded("the body", response.text())
        .await
        .expect("the body is read");
    Reply {
        status,
        headers,
        body,
    }
}

/// A raw HTTP/1.1 POST to the MCP endpoint at `addr` with `Connection: close`, the standard
/// headers (content type, accept, protocol version) unless `extra` has a line for the same
/// name, and the `extra` header lines as given.
pub fn raw_post(addr: SocketAddr, extra: &[&[u8]], body: &[u8]) -> Vec<u8> {
    let overridden = |name: &str| {
        extra.iter().any(|line| {
            line.len() > name.len()
                && line[..name.len()].eq_ignore_ascii_case(name.as_bytes())
                && line[name.len()] == b':'
        })
    };
    let mut request = format!(
        "POST {MCP_PATH} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    )
    .into_bytes();
    for (name, value) in [
        ("content-type", "application/json"),
        ("accept", "application/json, text/event-stream"),
        ("mcp-protocol-version", V2025),
    ] {
        if !overridden(name) {
            request.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
    }
    for line in extra {
        request.extend_from_slice(line);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"\r\n");
    request.extend_from_slice(body);
    request
}

/// Writes raw bytes to the server and reads until it closes the connection; returns what was
/// read (see [`read_until_closed`]).
pub async fn raw_exchange(addr: SocketAddr, request: &[u8]) -> io::Result<Vec<u8>> {
    hang_guard(async {
        let mut stream = TcpStream::connect(addr).await?;
        // The server may answer (and close) before reading everything we send.
        let _ = stream.write_all(request).await;
        read_to_close(&mut stream).await
    })
    .await
}

/// Reads from `stream` until the server closes it. An error after a partial answer (e.g. a
/// reset) ends the read; an error before any byte, or no end within [`WAIT`], is an error.
pub async fn read_until_closed(mut stream: TcpStream) -> io::Result<Vec<u8>> {
    hang_guard(read_to_close(&mut stream)).await
}

async fn read_to_close(stream: &mut TcpStream) -> io::Result<Vec<u8>> {
    let mut answer = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(e) if answer.is_empty() => return Err(e),
            Err(_) => break,
        }
    }
    Ok(answer)
}

/// A hang guard, not a timing assertion: [`WAIT`] without an end is a `TimedOut` error.
async fn hang_guard<T>(exchange: impl Future<Output = io::Result<T>>) -> io::Result<T> {
    tokio::time::timeout(WAIT, exchange).await.map_err(|_| {
        io::Error::new(
            io::ErrorKind::TimedOut,
            format!("no end of the exchange within {WAIT:?}"),
        )
    })?
}

/// The status code of a raw HTTP/1.1 answer.
pub fn raw_status(answer: &[u8]) -> u16 {
    let text = String::from_utf8_lossy(answer);
    text.split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {text:?}"))
}
