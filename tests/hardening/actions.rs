//! Test-only actions, in plugins `hardening` and `hardening-other` (linked into this test
//! binary only).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use mcp_actions::prelude::*;
use mcp_actions_tests::wait::WAIT;
use serde::Serializer;
use tokio::sync::Notify;

/// What the never-returning and gated actions report to the test that started them.
#[derive(Debug, Default)]
pub struct Probe {
    started: AtomicUsize,
    /// Calls that saw `ctx.cancellation_token()` fire, or whose future was dropped.
    stopped: AtomicUsize,
    finished: AtomicUsize,
    changed: Notify,
    release: Notify,
}

impl Probe {
    /// A probe to register as a service and keep in the test.
    pub fn shared() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Calls started so far.
    pub fn started(&self) -> usize {
        self.started.load(Ordering::SeqCst)
    }

    /// Calls stopped (cancelled or dropped) so far.
    pub fn stopped(&self) -> usize {
        self.stopped.load(Ordering::SeqCst)
    }

    /// Gated calls that ran to the end so far.
    pub fn finished(&self) -> usize {
        self.finished.load(Ordering::SeqCst)
    }

    /// Waits until `condition` holds (checked on every change; no polling interval).
    pub async fn wait_for(&self, what: &str, condition: impl Fn(&Self) -> bool) {
        let wait = async {
            loop {
                let changed = self.changed.notified();
                tokio::pin!(changed);
                changed.as_mut().enable();
                if condition(self) {
                    return;
                }
                changed.await;
            }
        };
        // A hang guard, not a timing assertion: the condition is expected within milliseconds.
        tokio::time::timeout(WAIT, wait).await.unwrap_or_else(|_| {
            panic!(
                "waited {WAIT:?} for {what}: started {}, stopped {}, finished {}",
                self.started(),
                self.stopped(),
                self.finished()
            )
        });
    }

    /// Lets every gated call waiting now (and the next one) finish.
    pub fn release(&self) {
        self.release.notify_waiters();
        self.release.notify_one();
    }

    fn bump(&self, counter: &AtomicUsize) {
        counter.fetch_add(1, Ordering::SeqCst);
        self.changed.notify_waiters();
    }
}

/// Counts a call as stopped when dropped before `finish`.
struct StopGuard<'a> {
    probe: &'a Probe,
    finished: bool,
}

impl Drop for StopGuard<'_> {
    fn drop(&mut self) {
        if !self.finished {
            self.probe.bump(&self.probe.stopped);
        }
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct EchoInput {
    /// Text to echo
    pub message: String,
    /// How many times
    #[serde(default)]
    pub count: Option<u32>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct EchoOutput {
    /// The echoed text
    pub echo: String,
}

/// Echo a message (unknown fields are ignored).
#[action(plugin = "hardening", title = "Echo", read_only, idempotent)]
async fn hardening_echo(input: EchoInput) -> Result<EchoOutput, ActionError> {
    Ok(EchoOutput {
        echo: input
            .message
            .repeat(input.count.unwrap_or(1).min(4) as usize),
    })
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StrictInput {
    /// A name
    pub name: String,
}

/// Echo a name (unknown fields are refused).
#[action(plugin = "hardening", title = "Strict", read_only)]
async fn hardening_strict(input: StrictInput) -> Result<EchoOutput, ActionError> {
    Ok(EchoOutput { echo: input.name })
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct TypedInput {
    /// A small number
    pub small: u8,
    /// A flag
    pub flag: bool,
    /// Numbers
    pub items: Vec<u32>,
    /// A nested object
    pub nested: Nested,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct Nested {
    /// An id
    pub id: u64,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct Count {
    /// How many
    pub count: usize,
}

/// Take typed arguments.
#[action(plugin = "hardening", title = "Typed", read_only)]
async fn hardening_typed(input: TypedInput) -> Result<Count, ActionError> {
    Ok(Count {
        count: input.items.len()
            + usize::from(input.small)
            + usize::from(input.flag)
            + usize::from(input.nested.id == 0),
    })
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct SizesInput {
    /// Any text
    pub text: String,
    /// Any values
    pub items: Vec<serde_json::Value>,
    /// Any map
    #[serde(default)]
    pub map: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct Sizes {
    /// Bytes of text
    pub text: usize,
    /// Items
    pub items: usize,
    /// Map entries
    pub map: usize,
}

/// Measure the arguments.
#[action(plugin = "hardening", title = "Sizes", read_only)]
async fn hardening_sizes(input: SizesInput) -> Result<Sizes, ActionError> {
    Ok(Sizes {
        text: input.text.len(),
        items: input.items.len(),
        map: input.map.len(),
    })
}

/// Panic with a message that must not reach the client.
#[action(plugin = "hardening", title = "Panic")]
async fn hardening_panic() -> Result<Count, ActionError> {
    panic!("hardening secret panic 9876")
}

/// Never return; counts how it was stopped.
#[action(plugin = "hardening", title = "Hang", read_only)]
async fn hardening_hang(ctx: &ActionContext, probe: Service<Probe>) -> Result<Count, ActionError> {
    let mut guard = StopGuard {
        probe: &probe,
        finished: false,
    };
    probe.bump(&probe.started);
    ctx.cancellation_token().cancelled().await;
    // Seen the cancellation: count it once (the guard would count the drop otherwise).
    guard.finished = true;
    probe.bump(&probe.stopped);
    Err(ActionError::service_unavailable("cancelled"))
}

/// Wait until the test releases it, then finish.
#[action(plugin = "hardening", title = "Gate", read_only)]
async fn hardening_gate(probe: Service<Probe>) -> Result<Count, ActionError> {
    let mut guard = StopGuard {
        probe: &probe,
        finished: false,
    };
    let released = probe.release.notified();
    tokio::pin!(released);
    released.as_mut().enable();
    probe.bump(&probe.started);
    released.await;
    guard.finished = true;
    probe.bump(&probe.finished);
    Ok(Count { count: 1 })
}

/// Declares `{ "count": integer }` but serializes something else.
#[derive(Debug, JsonSchema)]
#[allow(dead_code)] // only its schema is read
pub struct Liar {
    /// How many
    pub count: usize,
}

impl Serialize for Liar {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("count", "not a number")?;
        map.serialize_entry("undeclared", &true)?;
        map.end()
    }
}

/// Return output that does not match the declared schema.
#[action(plugin = "hardening", title = "Liar", read_only)]
async fn hardening_liar() -> Result<Liar, ActionError> {
    Ok(Liar { count: 1 })
}

/// Declares an object but serializes a bare string.
#[derive(Debug, JsonSchema)]
#[allow(dead_code)] // only its schema is read
pub struct Scalar {
    /// How many
    pub count: usize,
}

impl Serialize for Scalar {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str("a bare string")
    }
}

/// Return a non-object output.
#[action(plugin = "hardening", title = "Scalar", read_only)]
async fn hardening_scalar() -> Result<Scalar, ActionError> {
    Ok(Scalar { count: 1 })
}

/// Fails to serialize.
#[derive(Debug, JsonSchema)]
#[allow(dead_code)] // only its schema is read
pub struct Unserializable {
    /// How many
    pub count: usize,
}

impl Serialize for Unserializable {
    fn serialize<S: Serializer>(&self, _serializer: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom(
            "hardening secret serializer failure 5555",
        ))
    }
}

/// Return output that cannot be serialized.
#[action(plugin = "hardening", title = "Unserializable", read_only)]
async fn hardening_unserializable() -> Result<Unserializable, ActionError> {
    Ok(Unserializable { count: 1 })
}

/// An action of another plugin, for access restrictions.
#[action(plugin = "hardening-other", title = "Other", read_only)]
async fn hardening_other() -> Result<Count, ActionError> {
    Ok(Count { count: 7 })
}
