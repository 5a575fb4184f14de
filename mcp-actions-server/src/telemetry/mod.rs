//! What operators observe: metrics (Prometheus text at the admin listener's `/metrics`, and
//! OTLP), the audit trail, and a trace span per request (exported over OTLP).
//!
//! | file | what it owns |
//! |---|---|
//! | `metrics.rs` | the metrics: MCP operation durations, authentication failures, refusals, requests in flight, JWKS fetches |
//! | `audit.rs` | audit events, one JSON line each, written off the request path |
//! | `trace.rs` | the SERVER span of each `tools/call` and `tools/list`, its parent from `traceparent` |
//! | `otel.rs` | OTLP export of spans and metrics, set up from the `OTEL_*` environment (feature `otel`) |

pub(crate) mod audit;
pub(crate) mod metrics;
#[cfg(feature = "otel")]
pub(crate) mod otel;
pub(crate) mod trace;

use std::sync::Arc;

pub(crate) use audit::{Actor, Audit, AuditEvent, Target};
pub(crate) use metrics::Metrics;

/// The server's metrics and audit sink, shared by every endpoint.
#[derive(Clone, Debug)]
pub(crate) struct Telemetry {
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) audit: Option<Arc<Audit>>,
}

impl Telemetry {
    pub(crate) fn new(audit: Option<Audit>) -> Self {
        Self {
            metrics: Arc::new(Metrics::new()),
            audit: audit.map(Arc::new),
        }
    }

    /// Records `event` when auditing is on.
    pub(crate) fn audit(&self, event: impl FnOnce() -> AuditEvent) {
        if let Some(audit) = &self.audit {
            audit.record(&event());
        }
    }
}
