//! A hand-written client of the deprecated HTTP+SSE transport (2024-11-05) that shows what the
//! protocol puts on the wire: the GET event stream, and POSTs to the URL of its `endpoint`
//! event.

use std::collections::VecDeque;

use serde_json::{Value, json};

use crate::http::{Reply, send};
use crate::wait::bounded;

/// One server-sent event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// `event:` (default `message`).
    pub event: String,
    /// The `data:` lines, joined with `\n`.
    pub data: String,
}

/// `GET url` of an event stream with `token` and `host` if any (no redirects, no timeout: the
/// body is a stream; only the response head is awaited, bounded).
pub async fn get_sse(url: &str, token: Option<&str>, host: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .get(url)
        .header("accept", "text/event-stream");
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(host) = host {
        request = request.header("host", host);
    }
    bounded("the GET response head", request.send())
        .await
        .expect("the GET is answered")
}

/// POSTs `body` as a message: only `Content-Type: application/json` and `token` as a bearer
/// token (`None`: no Authorization header).
pub async fn post_message(url: &str, token: Option<&str>, body: impl Into<Vec<u8>>) -> Reply {
    let mut headers = vec![("content-type", "application/json".to_owned())];
    if let Some(token) = token {
        headers.push(("authorization", format!("Bearer {token}")));
    }
    send(url, &headers, body).await
}

/// The JSON error body `{"error":{"name","message"}}` of a refused request:
/// `(status, name, message)`.
pub fn error_of(reply: &Reply) -> (u16, String, String) {
    let body = reply.json();
    let field = |key: &str| body["error"][key].as_str().unwrap_or_default().to_owned();
    (reply.status, field("name"), field("message"))
}

/// A 2024-11-05 client: the GET stream, and POSTs to the URL of its `endpoint` event.
pub struct SseClient {
    response: reqwest::Response,
    buffer: String,
    events: VecDeque<SseEvent>,
    token: String,
    /// The `endpoint` event's data, as sent.
    pub endpoint: String,
    /// The absolute URL to POST to.
    pub messages_url: String,
}

impl SseClient {
    /// Opens a session as `token`; panics unless the answer is an event stream whose first
    /// event is `endpoint`.
    pub async fn open(sse_url: &str, token: &str) -> Self {
        let response = get_sse(sse_url, Some(token), None).await;
        assert_eq!(response.status(), 200, "GET {sse_url}");
        let mut client = Self {
            response,
            buffer: String::new(),
            events: VecDeque::new(),
            token: token.to_owned(),
            endpoint: String::new(),
            messages_url: String::new(),
        };
        let first = client.next_event().await.expect("an endpoint event");
        assert_eq!(first.event, "endpoint", "the first event: {first:?}");
        let base = reqwest::Url::parse(sse_url).unwrap();
        client.messages_url = base.join(&first.data).expect("a URL").to_string();
        client.endpoint = first.data;
        client
    }

    /// The response head of the GET.
    pub fn headers(&self) -> &reqwest::header::HeaderMap {
        self.response.headers()
    }

    /// The session id in the endpoint URL.
    pub fn session_id(&self) -> String {
        let url = reqwest::Url::parse(&self.messages_url).unwrap();
        url.query_pairs()
            .find(|(k, _)| k == "sessionId")
            .map(|(_, v)| v.into_owned())
            .expect("a sessionId")
    }

    /// The next event, or `None` when the server ended the stream. Bounded.
    pub async fn next_event(&mut self) -> Option<SseEvent> {
        bounded("an SSE event", async {
            loop {
                if let Some(event) = self.events.pop_front() {
                    return Some(event);
                }
                match self.response.chunk().await {
                    Ok(Some(bytes)) => {
                        self.buffer
                            .push_str(std::str::from_utf8(&bytes).expect("UTF-8"));
                        self.parse();
                    }
                    Ok(None) | Err(_) => return None,
                }
            }
        })
        .await
    }

    fn parse(&mut self) {
        while let Some(end) = self.buffer.find("\n\n") {
            let block: String = self.buffer.drain(..end + 2).collect();
            let mut event = String::from("message");
            let mut data: Vec<&str> = Vec::new();
            for line in block.lines() {
                if let Some(value) = line.strip_prefix("event:") {
                    event = value.trim_start().to_owned();
                } else if let Some(value) = line.strip_prefix("data:") {
                    data.push(value.strip_prefix(' ').unwrap_or(value));
                }
            }
            // Comment-only blocks (keep-alives) carry no data and are not events.
            if !data.is_empty() {
                self.events.push_back(SseEvent {
                    event,
                    data: data.join("\n"),
                });
            }
        }
    }

    /// POSTs `body` to the session as `token` (`None`: no Authorization header).
    pub async fn post_as(&self, token: Option<&str>, body: &Value) -> Reply {
        post_message(&self.messages_url, token, body.to_string()).await
    }

    /// POSTs `body` to the session with the client's token.
    pub async fn post(&self, body: &Value) -> Reply {
        self.post_as(Some(&self.token), body).await
    }

    /// The next `message` event, parsed.
    pub async fn next_message(&mut self) -> Option<Value> {
        let event = self.next_event().await?;
        assert_eq!(event.event, "message", "{event:?}");
        Some(serde_json::from_str(&event.data).expect("a JSON message"))
    }

    /// Sends a request (202 expected) and returns the response message with its `id`,
    /// skipping notifications.
    pub async fn request(&mut self, id: u64, method: &str, params: Value) -> Value {
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let reply = self.post(&body).await;
        assert_eq!(reply.status, 202, "POST {method}: {reply:?}");
        loop {
            let message = self
                .next_message()
                .await
                .unwrap_or_else(|| panic!("the stream ended before the answer to {method}"));
            if message.get("id") == Some(&json!(id)) {
                return message;
            }
        }
    }

    /// `initialize` as a 2024-11-05 client, then `notifications/initialized`; returns the
    /// `initialize` result.
    pub async fn initialize(&mut self) -> Value {
        let answer = self
            .request(
                0,
                "initialize",
                json!({
                    "protocolVersion": "2024-11-05",
                    "capabilities": {},
                    "clientInfo": {"name": "transports-test", "version": "0"}
                }),
            )
            .await;
        let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        assert_eq!(self.post(&initialized).await.status, 202);
        answer["result"].clone()
    }

    /// `tools/call` → the result.
    pub async fn call(&mut self, id: u64, name: &str, arguments: Value) -> Value {
        let answer = self
            .request(
                id,
                "tools/call",
                json!({"name": name, "arguments": arguments}),
            )
            .await;
        answer["result"].clone()
    }

    /// `tools/list` → the names of the tools, sorted.
    pub async fn tool_names(&mut self, id: u64) -> Vec<String> {
        let list = self.request(id, "tools/list", json!({})).await;
        let mut names: Vec<String> = list["result"]["tools"]
            .as_array()
            .expect("tools")
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_owned())
            .collect();
        names.sort();
        names
    }
}
