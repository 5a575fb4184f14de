//! Starting servers in-process on 127.0.0.1:0 and talking to them: reqwest for what a client
//! library hides (status codes, headers, odd bodies), raw TCP for what reqwest refuses to send.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcp_actions::Registry;
use mcp_actions_server::{ActionsServer, ActionsServerBuilder, Config, ConfigLoader, MCP_PATH};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::actions::Probe;

/// A token without restrictions, subject `hardening-client`.
pub const FULL_TOKEN: &str = "hardening-full-token-3141";
/// A token restricted to plugin `hardening-other`, subject `restricted-client`.
pub const RESTRICTED_TOKEN: &str = "hardening-restricted-2718";

/// The config of most test servers: two tokens, a 64 KiB body limit, a 60 s action timeout
/// (long enough that only the tests that want a timeout see one).
pub const CONFIG: &str = r#"
backend:
  auth:
    externalAccess:
      - type: static
        options: { token: hardening-full-token-3141, subject: hardening-client }
      - type: static
        options: { token: hardening-restricted-2718, subject: restricted-client }
        accessRestrictions: [ { plugin: hardening-other } ]
mcpActions:
  name: hardening-server
  limits:
    maxRequestBodyBytes: 65536
    actionTimeoutSeconds: 60
"#;

/// The 2025-11-25 protocol version (the stateless `initialize` lifecycle).
pub const V2025: &str = "2025-11-25";
/// The 2026-07-28 protocol version (per-request `_meta`).
pub const V2026: &str = "2026-07-28";

/// Loads these YAML documents, merged in order, with no environment variables.
pub fn config(docs: &[&str]) -> Config {
    docs.iter()
        .enumerate()
        .fold(ConfigLoader::new(), |loader, (i, doc)| {
            loader.yaml(format!("hardening-{i}.yaml"), *doc)
        })
        .env(|_| None)
        .load()
        .expect("the test config is valid")
}

/// The `hardening` and `hardening-other` actions, out of everything linked into the binary.
pub fn registry() -> Registry {
    Registry::from_inventory()
        .expect("the linked actions are valid")
        .retain(|a| a.plugin().starts_with("hardening"))
}

/// A builder with [`CONFIG`] (plus `extra` YAML merged over it), the hardening actions and
/// `probe` as a service.
pub fn builder(extra: &str, probe: &Arc<Probe>) -> ActionsServerBuilder {
    ActionsServer::builder()
        .config(config(&[CONFIG, extra]))
        .registry(registry())
        .service_arc(Arc::clone(probe))
}

/// A server running in-process on an ephemeral loopback port; stops when dropped.
pub struct TestServer {
    /// The bound address.
    pub addr: SocketAddr,
    /// The MCP endpoint URL.
    pub endpoint: String,
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), mcp_actions_server::ServeError>>>,
}

impl TestServer {
    /// Builds the server, binds 127.0.0.1:0 and serves (the port is bound before this returns).
    pub async fn start(builder: ActionsServerBuilder) -> Self {
        let server = builder.build().expect("the test server builds");
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(server.serve_with_shutdown(listener, async {
            let _ = rx.await;
        }));
        let base_url = format!("http://{addr}");
        Self {
            addr,
            endpoint: format!("{base_url}{MCP_PATH}"),
            base_url,
            shutdown: Some(tx),
            task: Some(task),
        }
    }

    /// Sends the shutdown signal; returns the serving task, which ends when the server is done.
    pub fn shut_down(&mut self) -> JoinHandle<Result<(), mcp_actions_server::ServeError>> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.task.take().expect("shut down once")
    }

    /// A tools/call of `name` with `arguments` and the full token (2025-11-25 shape).
    pub async fn call(&self, name: &str, arguments: Value) -> Reply {
        post(
            &self.endpoint,
            Some(FULL_TOKEN),
            &call_request(1, name, arguments),
        )
        .await
    }

    /// Proves the server still answers a normal call (and a tools/list).
    pub async fn assert_serving(&self) {
        let reply = self
            .call("hardening_echo", json!({"message": "still here"}))
            .await;
        assert_eq!(reply.status, 200, "{reply:?}");
        assert_eq!(
            reply.json()["result"]["structuredContent"],
            json!({"echo": "still here"}),
            "{reply:?}"
        );
        let reply = post(
            &self.endpoint,
            Some(FULL_TOKEN),
            &rpc(2, "tools/list", None),
        )
        .await;
        assert_eq!(reply.status, 200, "{reply:?}");
        assert!(
            reply.json()["result"]["tools"]
                .as_array()
                .is_some_and(|t| !t.is_empty()),
            "{reply:?}"
        );
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// A JSON-RPC request.
pub fn rpc(id: u64, method: &str, params: Option<Value>) -> Value {
    let mut request = json!({"jsonrpc": "2.0", "id": id, "method": method});
    if let Some(params) = params {
        request["params"] = params;
    }
    request
}

/// A tools/call request.
pub fn call_request(id: u64, name: &str, arguments: Value) -> Value {
    rpc(
        id,
        "tools/call",
        Some(json!({"name": name, "arguments": arguments})),
    )
}

/// A tools/call request in the 2026-07-28 shape (per-request `_meta`).
pub fn call_request_2026(id: u64, name: &str, arguments: Value) -> Value {
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

/// The standard headers for a 2026-07-28 request with the full token: the protocol version
/// and the SEP-2243 `Mcp-Method` / `Mcp-Name` headers rmcp requires to match the body.
pub fn headers_2026(token: &str, method: &str, name: Option<&str>) -> Vec<(&'static str, String)> {
    let mut headers = vec![
        ("content-type", "application/json".to_owned()),
        ("accept", "application/json, text/event-stream".to_owned()),
        ("mcp-protocol-version", V2026.to_owned()),
        ("authorization", format!("Bearer {token}")),
        ("mcp-method", method.to_owned()),
    ];
    if let Some(name) = name {
        headers.push(("mcp-name", name.to_owned()));
    }
    headers
}

/// An HTTP answer.
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

    /// The JSON-RPC error code of the answer.
    pub fn rpc_error_code(&self) -> i64 {
        self.json()["error"]["code"]
            .as_i64()
            .unwrap_or_else(|| panic!("not a JSON-RPC error: {self:?}"))
    }
}

/// POSTs a JSON body the way a well-behaved 2025-11-25 client does.
pub async fn post(endpoint: &str, token: Option<&str>, body: &Value) -> Reply {
    let mut headers = vec![
        ("content-type", "application/json".to_owned()),
        ("accept", "application/json, text/event-stream".to_owned()),
        ("mcp-protocol-version", V2025.to_owned()),
    ];
    if let Some(token) = token {
        headers.push(("authorization", format!("Bearer {token}")));
    }
    send(endpoint, &headers, body.to_string().into_bytes()).await
}

/// POSTs `body` with exactly these headers (repeated names are sent repeated).
pub async fn send(endpoint: &str, headers: &[(&str, String)], body: Vec<u8>) -> Reply {
    let mut request = reqwest::Client::new().post(endpoint).body(body);
    for (name, value) in headers {
        request = request.header(*name, value.as_str());
    }
    reply(request.send().await.expect("the request is answered")).await
}

/// Reads a reqwest response.
pub async fn reply(response: reqwest::Response) -> Reply {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.text().await.expect("the body is read");
    Reply {
        status,
        headers,
        body,
    }
}

/// The standard headers with the full token, for tests that change one of them.
pub fn standard_headers() -> Vec<(&'static str, String)> {
    vec![
        ("content-type", "application/json".to_owned()),
        ("accept", "application/json, text/event-stream".to_owned()),
        ("mcp-protocol-version", V2025.to_owned()),
        ("authorization", format!("Bearer {FULL_TOKEN}")),
    ]
}

/// Writes raw bytes to the server and reads until it closes the connection; returns what was
/// read (errors after a partial answer, e.g. a reset, end the read).
pub async fn raw_exchange(addr: SocketAddr, request: &[u8]) -> io::Result<Vec<u8>> {
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await?;
        // The server may answer (and close) before reading everything we send.
        let _ = stream.write_all(request).await;
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
    };
    // A hang guard, not a timing assertion.
    tokio::time::timeout(Duration::from_secs(60), exchange)
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no answer within 60 s"))?
}

/// The status code of a raw HTTP/1.1 answer.
pub fn raw_status(answer: &[u8]) -> u16 {
    let text = String::from_utf8_lossy(answer);
    text.split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {text:?}"))
}

/// A raw HTTP/1.1 POST to the MCP endpoint with `Connection: close`, the standard headers
/// (content type, accept, protocol version) unless `extra` has a line for the same name, and
/// the `extra` header lines as given.
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

/// A `tracing` writer into a shared buffer, to check what the server logs.
///
/// Use it in a current-thread runtime so the server's tasks log on the test's thread, and in a
/// process of its own (see `auth::tokens_never_appear_in_logs_or_answers`): with other tests
/// running in parallel, a callsite first hit while no subscriber was set keeps a cached
/// interest of "never", and its events would be missed.
#[derive(Clone, Default)]
pub struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl LogCapture {
    /// Everything written so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// Captures every event and span (TRACE and up, every crate) on this thread until the
    /// guard is dropped.
    pub fn install(&self) -> tracing::subscriber::DefaultGuard {
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(self.clone())
            .finish();
        tracing::subscriber::set_default(subscriber)
    }
}

impl io::Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogCapture {
    type Writer = LogCapture;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Runs the test `name` (its full path, e.g. `auth::x`) alone in a child process of this test
/// binary, with `HARDENING_IN_CHILD` set; returns whether this is the child (then run the
/// test's body). Used where global state (the `tracing` callsite cache) must be fresh.
pub fn in_own_process(name: &str) -> bool {
    if std::env::var_os("HARDENING_IN_CHILD").is_some() {
        return true;
    }
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads", "1"])
        .env("HARDENING_IN_CHILD", "1")
        .output()
        .expect("the test binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "{name} failed in its own process:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    false
}
