//! The audit trail: one JSON line per `tools/call` (`mcp-actions.tool-execution`), per
//! `tools/list` (`mcp-actions.tool-discovery`) and per refused authentication
//! (`mcp-actions.connection`), to stderr or appended to a file, whatever `RUST_LOG` says.
//!
//! A call serializes its event into a shared buffer and goes on; a thread of its own writes the
//! buffer out [`FLUSH_EVERY`] after its first event (or as soon as it holds [`FLUSH_AT`]
//! bytes), so the disk and the terminal are off the request path and a busy server makes one
//! write per batch, not per call. An idle server's writer sleeps until an event comes. Nothing
//! is dropped: past [`BACKLOG`] bytes not yet written, calls wait for the writer;
//! [`Audit::flush`] (at shutdown) writes everything out.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

use crate::config::AuditConfig;

/// How long the writer gathers events after the first one before it writes them.
pub(crate) const FLUSH_EVERY: Duration = Duration::from_millis(100);
/// A buffer this large is written at once.
pub(crate) const FLUSH_AT: usize = 64 * 1024;
/// Recording waits while this much is not yet written (a stalled disk or terminal).
pub(crate) const BACKLOG: usize = 4 * 1024 * 1024;

#[derive(Default)]
struct Shared {
    buffer: Mutex<Buffer>,
    /// Wakes the writer: a full buffer, a flush, the end.
    wake: Condvar,
    /// Wakes recorders and flushers: the buffer was written.
    written: Condvar,
}

#[derive(Default)]
struct Buffer {
    bytes: Vec<u8>,
    /// Batches handed to the writer so far, and written so far.
    taken: u64,
    done: u64,
    flush_requested: bool,
    closed: bool,
    /// Recorders and flushers waiting on `written`: the writer wakes them only when some are.
    waiting: usize,
}

/// The audit sink.
pub(crate) struct Audit {
    shared: Arc<Shared>,
    arguments: bool,
    /// Event ids: a random prefix for this process and a counter.
    id_prefix: u64,
    id_counter: AtomicU64,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl std::fmt::Debug for Audit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Audit")
            .field("arguments", &self.arguments)
            .finish_non_exhaustive()
    }
}

/// Who made a request.
///
/// Written by [`AuditEvent::write_members`], as the audit line's `actor` (absent members are
/// left out).
#[derive(Debug, Clone, Default)]
pub(crate) struct Actor {
    /// The caller (`service:…`, `user:default/…`), absent when authentication failed.
    pub(crate) principal: Option<String>,
    /// `static`, `jwt`, `custom` or `none`.
    pub(crate) authentication: &'static str,
    /// The peer's address and port (shared by the requests of a connection).
    pub(crate) client_address: Option<Arc<str>>,
    pub(crate) user_agent: Option<String>,
}

/// What a request was for.
#[derive(Debug, Clone, Default)]
pub(crate) struct Target {
    pub(crate) tool: Option<String>,
    pub(crate) action_id: Option<String>,
    /// The server key (`default` for the default server).
    pub(crate) server: String,
    /// `backstage-actions` when the request came through Backstage's actions API
    /// (`/api/<plugin>/.backstage/actions/…`) rather than MCP.
    pub(crate) api: Option<&'static str>,
}

/// One event: a line of camelCase members after the time and the event id, absent ones left
/// out (see [`AuditEvent::write_members`]).
#[derive(Debug, Clone)]
pub(crate) struct AuditEvent {
    pub(crate) event: &'static str,
    pub(crate) severity: &'static str,
    pub(crate) actor: Actor,
    pub(crate) target: Target,
    /// `succeeded`, `failed`, or `input-required` (a 2026-07-28 call waiting for the user's
    /// answer; the client's retry is an event of its own).
    pub(crate) outcome: &'static str,
    /// The error name (`NotFoundError`, `AuthenticationError`, …) when it failed.
    pub(crate) error: Option<String>,
    /// The reference id of an internal error, as the client got it.
    pub(crate) reference_id: Option<String>,
    pub(crate) duration_ms: f64,
    /// The arguments, when `mcpActions.audit.arguments` is on (secrets redacted).
    pub(crate) arguments: Option<Value>,
}

/// Writes the `"key":value` members of a JSON object, a comma before each but the object's
/// first (keys are constants that need no escaping).
struct Members<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl Members<'_> {
    fn key(&mut self, key: &str) -> &mut Vec<u8> {
        if !std::mem::take(&mut self.first) {
            self.out.push(b',');
        }
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
        self.out
    }

    fn text(&mut self, key: &str, value: &str) {
        let _ = serde_json::to_writer(self.key(key), value);
    }

    fn optional(&mut self, key: &str, value: Option<&str>) {
        if let Some(value) = value {
            self.text(key, value);
        }
    }

    /// `"key":{…}`, with the members `members` writes.
    fn object(&mut self, key: &str, members: impl FnOnce(&mut Members<'_>)) {
        self.key(key).push(b'{');
        members(&mut Members {
            out: self.out,
            first: true,
        });
        self.out.push(b'}');
    }
}

impl AuditEvent {
    /// An event of `kind` (`tool-execution`, `tool-discovery`, `connection`).
    pub(crate) fn new(kind: &'static str, actor: Actor, target: Target) -> Self {
        Self {
            event: kind,
            severity: "info",
            actor,
            target,
            outcome: "succeeded",
            error: None,
            reference_id: None,
            duration_ms: 0.0,
            arguments: None,
        }
    }

    /// Failed with `error` (its name).
    pub(crate) fn failed(mut self, error: impl Into<String>) -> Self {
        self.outcome = "failed";
        self.severity = "warn";
        self.error = Some(error.into());
        self
    }

    pub(crate) fn took(mut self, duration: Duration) -> Self {
        self.duration_ms = duration.as_secs_f64() * 1000.0;
        self
    }

    /// Appends the event's members to `line`, each as `,"name":value`, in a fixed order.
    /// Written by hand rather than with a derived `Serialize`: this runs on every call.
    fn write_members(&self, line: &mut Vec<u8>) {
        // After the line's time and id: a comma before the first member too.
        let mut out = Members {
            out: line,
            first: false,
        };
        out.text("event", self.event);
        out.text("severity", self.severity);
        let actor = &self.actor;
        out.object("actor", |out| {
            out.optional("principal", actor.principal.as_deref());
            out.text("authentication", actor.authentication);
            out.optional("clientAddress", actor.client_address.as_deref());
            out.optional("userAgent", actor.user_agent.as_deref());
        });
        let target = &self.target;
        out.object("target", |out| {
            out.optional("tool", target.tool.as_deref());
            out.optional("actionId", target.action_id.as_deref());
            out.text("server", &target.server);
            out.optional("api", target.api);
        });
        out.text("outcome", self.outcome);
        out.optional("error", self.error.as_deref());
        out.optional("referenceId", self.reference_id.as_deref());
        let _ = serde_json::to_writer(out.key("durationMs"), &self.duration_ms);
        if let Some(arguments) = &self.arguments {
            let _ = serde_json::to_writer(out.key("arguments"), arguments);
        }
    }
}

impl Audit {
    /// The sink `config` asks for; `None` when auditing is off.
    pub(crate) fn from_config(config: &AuditConfig) -> io::Result<Option<Self>> {
        if !config.enabled {
            return Ok(None);
        }
        let writer: Box<dyn Write + Send> = match &config.file {
            None => Box::new(io::stderr()),
            Some(path) => Box::new(
                OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| io::Error::new(e.kind(), format!("{path}: {e}")))?,
            ),
        };
        Ok(Some(Self::to_writer(writer, config.arguments)))
    }

    /// A sink writing to `writer` on a thread of its own.
    pub(crate) fn to_writer(writer: Box<dyn Write + Send>, arguments: bool) -> Self {
        let shared = Arc::new(Shared::default());
        let handle = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("mcp-actions-audit".into())
                .spawn(move || write_batches(&shared, writer))
                .expect("starting the audit writer thread")
        };
        let mut prefix = [0u8; 8];
        let _ = getrandom::fill(&mut prefix);
        Self {
            shared,
            arguments,
            id_prefix: u64::from_le_bytes(prefix),
            id_counter: AtomicU64::new(0),
            writer: Mutex::new(Some(handle)),
        }
    }

    /// Whether arguments are recorded.
    pub(crate) fn records_arguments(&self) -> bool {
        self.arguments
    }

    /// Records `event` with its time and a new event id.
    pub(crate) fn record(&self, event: &AuditEvent) {
        use std::io::Write as _;
        let count = self.id_counter.fetch_add(1, Ordering::Relaxed);
        // The line is written before the lock is taken: `{"time":…,"eventId":…` and then the
        // event's own members.
        let mut line = Vec::with_capacity(512);
        line.extend_from_slice(b"{\"time\":\"");
        let _ = write!(
            line,
            "{}",
            humantime::format_rfc3339_millis(SystemTime::now())
        );
        line.extend_from_slice(b"\",\"eventId\":\"");
        push_hex(&mut line, self.id_prefix);
        push_hex(&mut line, count);
        line.push(b'"');
        event.write_members(&mut line);
        line.extend_from_slice(b"}\n");
        let mut buffer = self.shared.buffer.lock().unwrap_or_else(|e| e.into_inner());
        while buffer.bytes.len() >= BACKLOG && !buffer.closed {
            buffer.waiting += 1;
            buffer = self
                .shared
                .written
                .wait(buffer)
                .unwrap_or_else(|e| e.into_inner());
            buffer.waiting -= 1;
        }
        let before = buffer.bytes.len();
        buffer.bytes.extend_from_slice(&line);
        // The writer sleeps until the first event of a batch, and waits for more until the
        // batch is full: it is woken at those two moments only, not for every event.
        if before == 0 || (before < FLUSH_AT && buffer.bytes.len() >= FLUSH_AT) {
            self.shared.wake.notify_one();
        }
    }

    /// Waits (at most 5 s) until every event recorded so far is written and flushed.
    pub(crate) fn flush(&self) {
        let mut buffer = self.shared.buffer.lock().unwrap_or_else(|e| e.into_inner());
        let target = buffer.taken + 1;
        buffer.flush_requested = true;
        self.shared.wake.notify_one();
        let deadline = Instant::now() + Duration::from_secs(5);
        while buffer.done < target && !buffer.closed {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            buffer.waiting += 1;
            buffer = self
                .shared
                .written
                .wait_timeout(buffer, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
            buffer.waiting -= 1;
        }
    }
}

/// `value` as 16 lower-case hexadecimal digits.
fn push_hex(line: &mut Vec<u8>, value: u64) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    line.extend(
        (0..16)
            .rev()
            .map(|nibble| DIGITS[(value >> (nibble * 4)) as usize & 0xf]),
    );
}

impl Drop for Audit {
    fn drop(&mut self) {
        self.flush();
        self.shared
            .buffer
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .closed = true;
        self.shared.wake.notify_one();
        if let Some(handle) = self.writer.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = handle.join();
        }
    }
}

/// The writer thread: sleeps until an event is recorded, gathers more for [`FLUSH_EVERY`] (less
/// when [`FLUSH_AT`] bytes come first, or a flush is asked for), then writes them with one call.
fn write_batches(shared: &Shared, mut out: Box<dyn Write + Send>) {
    // The batch being written. It and the shared buffer swap allocations, so their memory is
    // reused rather than freed on this thread after the recording threads allocated it.
    let mut batch = Vec::new();
    loop {
        let (id, closing) = {
            let mut buffer = shared.buffer.lock().unwrap_or_else(|e| e.into_inner());
            let due = |b: &Buffer| b.flush_requested || b.closed;
            while buffer.bytes.is_empty() && !due(&buffer) {
                buffer = shared.wake.wait(buffer).unwrap_or_else(|e| e.into_inner());
            }
            let deadline = Instant::now() + FLUSH_EVERY;
            while buffer.bytes.len() < FLUSH_AT && !due(&buffer) {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                buffer = shared
                    .wake
                    .wait_timeout(buffer, left)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
            buffer.flush_requested = false;
            buffer.taken += 1;
            std::mem::swap(&mut buffer.bytes, &mut batch);
            (buffer.taken, buffer.closed)
        };
        if !batch.is_empty() {
            let _ = out.write_all(&batch);
            batch.clear();
            // A backlog (a stalled disk) may have grown it: keep no more than two batches' worth.
            batch.shrink_to(2 * FLUSH_AT);
        }
        let _ = out.flush();
        let waiting = {
            let mut buffer = shared.buffer.lock().unwrap_or_else(|e| e.into_inner());
            buffer.done = id;
            buffer.waiting > 0
        };
        if waiting {
            shared.written.notify_all();
        }
        if closing {
            return;
        }
    }
}

/// Keys whose values are replaced by `***` when arguments are recorded.
const SECRET_WORDS: &[&str] = &[
    "token",
    "password",
    "passwd",
    "secret",
    "key",
    "authorization",
    "credential",
    "cookie",
    "session",
    "private",
];

/// `value` with the values of secret-looking keys replaced by `***`, at any depth.
pub(crate) fn redacted(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, value)| {
                    let lower = key.to_ascii_lowercase();
                    if SECRET_WORDS.iter().any(|word| lower.contains(word)) {
                        (key.clone(), Value::String("***".into()))
                    } else {
                        (key.clone(), redacted(value))
                    }
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redacted).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex as StdMutex};

    use serde_json::json;

    use super::*;

    #[derive(Clone, Default)]
    struct Buffer(Arc<StdMutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// A slow terminal: each write takes a millisecond; it counts writes and flushes.
    #[derive(Clone, Default)]
    struct Slow {
        writes: Arc<AtomicU64>,
        flushes: Arc<AtomicU64>,
        bytes: Arc<AtomicU64>,
    }

    impl Write for Slow {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            std::thread::sleep(Duration::from_millis(1));
            self.writes.fetch_add(1, Ordering::Relaxed);
            self.bytes.fetch_add(buf.len() as u64, Ordering::Relaxed);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            self.flushes.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }
    }

    fn call_event(i: usize) -> AuditEvent {
        AuditEvent::new(
            "mcp-actions.tool-execution",
            Actor {
                principal: Some(format!("service:s{i}")),
                authentication: "static",
                ..Actor::default()
            },
            Target {
                tool: Some("greet_user".into()),
                server: "default".into(),
                ..Target::default()
            },
        )
    }

    #[test]
    fn a_steady_stream_of_events_is_written_in_batches_not_line_by_line() {
        // Events come every 0.2 ms and a write takes 1 ms: a writer that wrote whatever was
        // there as soon as it was free would make a write per handful of events.
        let slow = Slow::default();
        let audit = Audit::to_writer(Box::new(slow.clone()), false);
        let start = Instant::now();
        let events = 600;
        for i in 0..events {
            audit.record(&call_event(i));
            std::thread::sleep(Duration::from_micros(200));
        }
        audit.flush();
        let elapsed = start.elapsed();
        let bytes = slow.bytes.load(Ordering::Relaxed);
        let writes = slow.writes.load(Ordering::Relaxed);
        // One write per FLUSH_AT bytes, one per FLUSH_EVERY of recording, and the flush.
        let batches =
            bytes / FLUSH_AT as u64 + (elapsed.as_millis() / FLUSH_EVERY.as_millis()) as u64 + 2;
        assert!(bytes > 100 * events as u64, "{bytes} bytes written");
        assert!(
            writes <= batches,
            "{writes} writes for {events} events over {elapsed:?} ({bytes} bytes): at most \
             {batches} batches expected"
        );
    }

    #[test]
    fn an_idle_writer_sleeps_until_an_event_comes() {
        let slow = Slow::default();
        let audit = Audit::to_writer(Box::new(slow.clone()), false);
        // Three times FLUSH_EVERY with nothing recorded: the writer does not wake to write
        // (or flush) nothing.
        std::thread::sleep(3 * FLUSH_EVERY);
        assert_eq!(slow.flushes.load(Ordering::Relaxed), 0);
        audit.record(&call_event(1));
        audit.flush();
        assert_eq!(slow.writes.load(Ordering::Relaxed), 1);
        assert!(slow.flushes.load(Ordering::Relaxed) >= 1);
    }

    #[test]
    fn every_event_is_one_json_line_written_by_flush() {
        let buffer = Buffer::default();
        let audit = Audit::to_writer(Box::new(buffer.clone()), false);
        for i in 0..100 {
            audit.record(&call_event(i).failed("NotFoundError"));
        }
        audit.flush();
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 100);
        assert_eq!(lines[7]["actor"]["principal"], "service:s7");
        assert_eq!(lines[7]["outcome"], "failed");
        assert_eq!(lines[7]["error"], "NotFoundError");
        assert_eq!(lines[7]["event"], "mcp-actions.tool-execution");
        assert!(lines[7]["time"].as_str().unwrap().ends_with('Z'));
        let ids: Vec<&str> = lines
            .iter()
            .map(|l| l["eventId"].as_str().unwrap())
            .collect();
        assert!(ids.iter().all(|id| {
            id.len() == 32
                && id
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        }));
        // One process prefix, then the count in hexadecimal.
        assert!(ids.iter().all(|id| id[..16] == ids[0][..16]));
        assert_eq!(
            u64::from_str_radix(&ids[7][16..], 16).unwrap()
                - u64::from_str_radix(&ids[0][16..], 16).unwrap(),
            7
        );
        // The time and the id come first, then the event's members.
        let first = text.lines().next().unwrap();
        assert!(first.starts_with("{\"time\":\""), "{first}");
        assert!(first.contains("Z\",\"eventId\":\""), "{first}");
        assert!(
            first.contains("\",\"event\":\"mcp-actions.tool-execution\""),
            "{first}"
        );
    }

    #[test]
    fn a_line_has_its_members_in_order_and_escaped() {
        let buffer = Buffer::default();
        let audit = Audit::to_writer(Box::new(buffer.clone()), true);
        let full = AuditEvent {
            reference_id: Some("ref-1".into()),
            arguments: Some(json!({"name": "W\"o", "n": [1, 2.5]})),
            ..AuditEvent::new(
                "mcp-actions.tool-execution",
                Actor {
                    principal: Some("user:default/j\"ane".into()),
                    authentication: "jwt",
                    client_address: Some("127.0.0.1:4000".into()),
                    user_agent: Some("agent\u{1}/é".into()),
                },
                Target {
                    tool: Some("greet_user".into()),
                    action_id: Some("greet:greet-user".into()),
                    server: "default".into(),
                    api: Some("backstage-actions"),
                },
            )
            .failed("InternalError")
            .took(Duration::from_micros(1500))
        };
        audit.record(&full);
        audit.record(&AuditEvent::new(
            "mcp-actions.connection",
            Actor::default(),
            Target::default(),
        ));
        audit.flush();
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        let members: Vec<&str> = text
            .lines()
            .map(|line| &line[line.find("\",\"event\":").unwrap()..])
            .collect();
        assert_eq!(
            members,
            [
                concat!(
                    r#"","event":"mcp-actions.tool-execution","severity":"warn","#,
                    r#""actor":{"principal":"user:default/j\"ane","authentication":"jwt","#,
                    r#""clientAddress":"127.0.0.1:4000","userAgent":"agent\u0001/é"},"#,
                    r#""target":{"tool":"greet_user","actionId":"greet:greet-user","#,
                    r#""server":"default","api":"backstage-actions"},"outcome":"failed","#,
                    r#""error":"InternalError","referenceId":"ref-1","durationMs":1.5,"#,
                    r#""arguments":{"n":[1,2.5],"name":"W\"o"}}"#
                ),
                concat!(
                    r#"","event":"mcp-actions.connection","severity":"info","#,
                    r#""actor":{"authentication":""},"target":{"server":""},"#,
                    r#""outcome":"succeeded","durationMs":0.0}"#
                ),
            ]
        );
    }

    #[test]
    fn hex_is_sixteen_digits() {
        let mut line = Vec::new();
        push_hex(&mut line, 0x0123_4567_89ab_cdef);
        push_hex(&mut line, 10);
        assert_eq!(line, b"0123456789abcdef000000000000000a");
    }

    #[test]
    fn secret_looking_keys_are_redacted_at_any_depth() {
        let value = json!({
            "name": "x",
            "apiKey": "k1",
            "nested": { "Password": "p", "list": [{ "accessToken": "t", "ok": 1 }] }
        });
        assert_eq!(
            redacted(&value),
            json!({
                "name": "x",
                "apiKey": "***",
                "nested": { "Password": "***", "list": [{ "accessToken": "***", "ok": 1 }] }
            })
        );
    }
}
