//! What operators observe: metrics (Prometheus text at the admin listener's `/metrics`) and the
//! audit trail.
//!
//! | file | what it owns |
//! |---|---|
//! | `metrics.rs` | the metrics: MCP operation durations, authentication failures, refusals, requests in flight, JWKS fetches |
//! | `audit.rs` | audit events, one JSON line each, written off the request path |

pub(crate) mod audit;
pub(crate) mod metrics;

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
