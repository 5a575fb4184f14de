//! The audit trail: one JSON line per `tools/call` (`mcp-actions.tool-execution`), per
//! `tools/list` (`mcp-actions.tool-discovery`) and per refused authentication
//! (`mcp-actions.connection`), to stderr or appended to a file, whatever `RUST_LOG` says.
//!
//! A call writes its event as a line into a buffer and goes on; a thread of its own writes the
//! lines out in batches ([`batches`]), so the disk and the terminal are off the request path and
//! a busy server makes one write per batch, not per call. Nothing is dropped: past
//! [`batches::BACKLOG`] bytes not yet written, calls wait for the writer; [`Audit::flush`] (at
//! shutdown) writes everything out.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use serde_json::Value;

use crate::config::AuditConfig;

mod batches;

use batches::Batches;

/// The audit sink.
pub(crate) struct Audit {
    batches: Batches,
    arguments: bool,
    /// Event ids: a random prefix for this process and a counter.
    id_prefix: u64,
    id_counter: AtomicU64,
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
        let mut prefix = [0u8; 8];
        let _ = getrandom::fill(&mut prefix);
        Self {
            batches: Batches::start(writer),
            arguments,
            id_prefix: u64::from_le_bytes(prefix),
            id_counter: AtomicU64::new(0),
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
        self.batches.push(count, &line);
    }

    /// Waits (at most 5 s) until every event recorded so far is written and flushed.
    pub(crate) fn flush(&self) {
        self.batches.flush();
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
mod tests;
