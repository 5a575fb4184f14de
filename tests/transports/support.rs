//! An in-process server with the SSE endpoints, and a hand-written HTTP+SSE (2024-11-05)
//! client that shows what the protocol puts on the wire.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use mcp_actions::{Credentials, Registry};
use mcp_actions_server::config::Secret;
use mcp_actions_server::transport::{SseEndpoint, SseOptions};
use mcp_actions_server::{
    ActionsHandler, ActionsServer, Authenticator, ConfigLoader, MCP_PATH, StaticTokenAuthenticator,
};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Subject `alice`.
pub const ALICE: &str = "alice-token-1";
/// Also subject `alice`, no restrictions: the same identity as [`ALICE`] (a rotated token).
pub const ALICE_ROTATED: &str = "alice-token-2";
/// Subject `alice` restricted to plugin `transports`: another identity.
pub const ALICE_RESTRICTED: &str = "alice-token-restricted";
/// Subject `bob`.
pub const BOB: &str = "bob-token-1";

/// The longest any single wait in these tests may take.
pub const WAIT: Duration = Duration::from_secs(20);

/// The tokens above.
pub fn authenticator() -> Arc<dyn Authenticator> {
    Arc::new(
        StaticTokenAuthenticator::new()
            .with_token(Secret::new(ALICE), Credentials::service("alice"))
            .with_token(Secret::new(ALICE_ROTATED), Credentials::service("alice"))
            .with_token(
                Secret::new(ALICE_RESTRICTED),
                Credentials::service("alice")
                    .with_restrictions([mcp_actions::AccessRestriction::plugin("transports")]),
            )
            .with_token(Secret::new(BOB), Credentials::service("bob")),
    )
}

/// The handler of a server with the `transports` actions and `greet_user`.
pub fn handler() -> ActionsHandler {
    let config = ConfigLoader::new()
        .yaml("transports.yaml", "mcpActions: { name: transports-test }")
        .env(|_| None)
        .load()
        .expect("the test config is valid");
    let registry = Registry::from_inventory()
        .expect("the linked actions are valid")
        .retain(|a| matches!(a.plugin(), "transports" | "greet-user"));
    ActionsServer::builder()
        .config(config)
        .registry(registry)
        .build()
        .expect("the test server builds")
        .handler()
        .clone()
}

/// Awaits `future`, failing the test after [`WAIT`].
pub async fn bounded<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(WAIT, future)
        .await
        .unwrap_or_else(|_| panic!("timed out after {WAIT:?} waiting for {what}"))
}

/// Polls `check` until it returns `Some`, failing the test after [`WAIT`].
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    bounded(what, async {
        loop {
            if let Some(value) = check().await {
                return value;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
}

/// The SSE endpoints of [`handler`] on an ephemeral loopback port; stops when dropped.
pub struct SseServer {
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    /// The endpoint, for its session count.
    pub endpoint: SseEndpoint,
    shutdown: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl SseServer {
    /// Serves the default server's SSE endpoints with `options`.
    pub async fn start(options: SseOptions) -> Self {
        let shutdown = CancellationToken::new();
        let endpoint = SseEndpoint::new(MCP_PATH, handler(), authenticator())
            .challenge("Bearer resource_metadata=\"http://test.invalid/prm\"")
            .options(options)
            .shutdown_token(shutdown.clone());
        let router = endpoint.router();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let signal = shutdown.clone();
        let task = tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(signal.cancelled_owned())
                .await
                .expect("the test server serves");
        });
        Self {
            base_url,
            endpoint,
            shutdown,
            task: Some(task),
        }
    }

    /// `…/api/mcp-actions/v1/sse`.
    pub fn sse_url(&self) -> String {
        format!("{}{MCP_PATH}/sse", self.base_url)
    }

    /// `…/api/mcp-actions/v1/sse/messages`.
    pub fn messages_url(&self) -> String {
        format!("{}{MCP_PATH}/sse/messages", self.base_url)
    }

    /// Shuts down gracefully and waits for the server to stop.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        let task = self.task.take().expect("running");
        bounded("the server to stop", task)
            .await
            .expect("the server task");
    }
}

impl Drop for SseServer {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// One server-sent event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// `event:` (default `message`).
    pub event: String,
    /// The `data:` lines, joined with `\n`.
    pub data: String,
}

/// A 2024-11-05 client: the GET stream, and POSTs to the URL of its `endpoint` event.
pub struct SseClient {
    response: reqwest::Response,
    buffer: String,
    events: VecDeque<SseEvent>,
    http: reqwest::Client,
    token: String,
    /// The `endpoint` event's data, as sent.
    pub endpoint: String,
    /// The absolute URL to POST to.
    pub messages_url: String,
}

/// `GET url` with `token` (no redirects, no timeout: the body is a stream).
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
            http: reqwest::Client::new(),
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

    /// The next event, or `None` when the server ended the stream. Fails after [`WAIT`].
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
    pub async fn post_as(&self, token: Option<&str>, body: &Value) -> reqwest::Response {
        post(&self.http, &self.messages_url, token, body.to_string()).await
    }

    /// POSTs `body` to the session with the client's token.
    pub async fn post(&self, body: &Value) -> reqwest::Response {
        self.post_as(Some(&self.token.clone()), body).await
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
        let response = self.post(&body).await;
        assert_eq!(
            response.status(),
            202,
            "POST {method}: {:?}",
            response.text().await
        );
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
        assert_eq!(self.post(&initialized).await.status(), 202);
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
}

/// A raw POST.
pub async fn post(
    http: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    body: String,
) -> reqwest::Response {
    let mut request = http
        .post(url)
        .header("content-type", "application/json")
        .body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    bounded("a POST", request.send())
        .await
        .expect("the POST is answered")
}

/// The JSON error body `{"error":{"name","message"}}` of a refused request.
pub async fn error_of(response: reqwest::Response) -> (u16, String, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("a JSON error body");
    (
        status,
        body["error"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}
