//! The audit trail: one JSON line per `tools/call` (`mcp-actions.tool-execution`), per
//! `tools/list` (`mcp-actions.tool-discovery`) and per refused authentication
//! (`mcp-actions.connection`), written by a thread of its own (a call never waits on the disk)
//! to stderr or appended to a file, whatever `RUST_LOG` says. Nothing is dropped: when the
//! writer falls behind by [`QUEUE`] events, calls wait for it.

use std::fs::OpenOptions;
use std::io::{self, BufWriter, Write};
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::time::{Duration, SystemTime};

use serde::Serialize;
use serde_json::Value;

use crate::config::AuditConfig;

/// Events queued for the writer at most.
pub(crate) const QUEUE: usize = 16_384;

enum Message {
    Line(String),
    Flush(SyncSender<()>),
}

/// The audit sink.
pub(crate) struct Audit {
    sender: Mutex<Option<SyncSender<Message>>>,
    arguments: bool,
}

impl std::fmt::Debug for Audit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Audit")
            .field("arguments", &self.arguments)
            .finish_non_exhaustive()
    }
}

/// Who made a request.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Actor {
    /// The caller (`service:…`, `user:default/…`), absent when authentication failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) principal: Option<String>,
    /// `static`, `jwt`, `custom` or `none`.
    pub(crate) authentication: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) client_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) user_agent: Option<String>,
}

/// What a request was for.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Target {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tool: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) action_id: Option<String>,
    /// The server key (`default` for the default server).
    pub(crate) server: String,
}

/// One event.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AuditEvent {
    pub(crate) event: &'static str,
    pub(crate) severity: &'static str,
    pub(crate) actor: Actor,
    pub(crate) target: Target,
    /// `succeeded` or `failed`.
    pub(crate) outcome: &'static str,
    /// The error name (`NotFoundError`, `AuthenticationError`, …) when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
    /// The reference id of an internal error, as the client got it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) reference_id: Option<String>,
    pub(crate) duration_ms: f64,
    /// The arguments, when `mcpActions.audit.arguments` is on (secrets redacted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) arguments: Option<Value>,
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
        let (sender, receiver) = sync_channel(QUEUE);
        std::thread::Builder::new()
            .name("mcp-actions-audit".into())
            .spawn(move || write_events(receiver, writer))
            .expect("starting the audit writer thread");
        Self {
            sender: Mutex::new(Some(sender)),
            arguments,
        }
    }

    /// Whether arguments are recorded.
    pub(crate) fn records_arguments(&self) -> bool {
        self.arguments
    }

    /// Records `event` with its time and a new event id.
    pub(crate) fn record(&self, event: &AuditEvent) {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Line<'a> {
            time: String,
            event_id: String,
            #[serde(flatten)]
            event: &'a AuditEvent,
        }
        let mut id = [0u8; 16];
        let _ = getrandom::fill(&mut id);
        let line = Line {
            time: humantime::format_rfc3339_millis(SystemTime::now()).to_string(),
            event_id: id.iter().map(|b| format!("{b:02x}")).collect(),
            event,
        };
        let mut text = serde_json::to_string(&line).expect("audit events serialize");
        text.push('\n');
        let sender = self
            .sender
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if let Some(sender) = sender {
            let _ = sender.send(Message::Line(text));
        }
    }

    /// Waits until every event recorded so far is written and flushed.
    pub(crate) fn flush(&self) {
        let sender = self
            .sender
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if let Some(sender) = sender {
            let (done, wait) = sync_channel(1);
            if sender.send(Message::Flush(done)).is_ok() {
                let _ = wait.recv_timeout(Duration::from_secs(5));
            }
        }
    }
}

impl Drop for Audit {
    fn drop(&mut self) {
        self.flush();
        self.sender.lock().unwrap_or_else(|e| e.into_inner()).take();
    }
}

fn write_events(receiver: Receiver<Message>, writer: Box<dyn Write + Send>) {
    let mut out = BufWriter::new(writer);
    while let Ok(message) = receiver.recv() {
        let mut next = Some(message);
        // Write what is queued, then flush once.
        while let Some(message) = next.take() {
            match message {
                Message::Line(text) => {
                    let _ = out.write_all(text.as_bytes());
                }
                Message::Flush(done) => {
                    let _ = out.flush();
                    let _ = done.send(());
                }
            }
            next = receiver.try_recv().ok();
        }
        let _ = out.flush();
    }
    let _ = out.flush();
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

    #[test]
    fn every_event_is_one_json_line_written_by_flush() {
        let buffer = Buffer::default();
        let audit = Audit::to_writer(Box::new(buffer.clone()), false);
        for i in 0..100 {
            let event = AuditEvent::new(
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
            );
            audit.record(&event.failed("NotFoundError"));
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
        assert_eq!(lines[7]["eventId"].as_str().unwrap().len(), 32);
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
