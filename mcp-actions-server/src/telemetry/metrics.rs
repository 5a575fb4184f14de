//! The server's metrics, served as Prometheus text at the admin listener's `/metrics`:
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `mcp_server_operation_duration_seconds` | histogram (the MCP semantic conventions' buckets, 0.01 … 300 s) | `mcp_method_name`, `gen_ai_tool_name`, `error_type`, `mcp_protocol_version`, `server` |
//! | `mcp_actions_auth_failures_total` | counter | `reason`: `missing_token`, `invalid_token`, `ambiguous_token`, `insufficient_scope`, `rejected` |
//! | `mcp_actions_requests_refused_total` | counter | `reason`: `concurrency_limit`, `body_limit` |
//! | `mcp_actions_requests_in_flight` | gauge | |
//! | `mcp_actions_jwks_fetches_total` | counter | `outcome`: `ok`, `error` |
//!
//! With OTLP export (`otel.rs`) the same are exported as `mcp.server.operation.duration`,
//! `mcp_actions.auth.failures`, `mcp_actions.requests.refused`,
//! `mcp_actions.requests.in_flight` and `mcp_actions.jwks.fetches`.
//!
//! `mcp.server.operation.duration` is the OpenTelemetry name of the first; `error_type` is
//! `tool_error` for a result with `isError`, the JSON-RPC error code for a protocol error, and
//! empty on success.

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

#[cfg(feature = "otel")]
use opentelemetry::KeyValue;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

/// The buckets the OpenTelemetry MCP semantic conventions give `mcp.server.operation.duration`.
pub(crate) const DURATION_BUCKETS: [f64; 14] = [
    0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct OperationLabels {
    pub(crate) mcp_method_name: &'static str,
    pub(crate) gen_ai_tool_name: String,
    pub(crate) error_type: Cow<'static, str>,
    pub(crate) mcp_protocol_version: Cow<'static, str>,
    /// Shared by every request of the server: a label made once.
    pub(crate) server: Arc<String>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Reason {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Outcome {
    outcome: &'static str,
}

type HistogramFamily = Family<OperationLabels, Histogram, fn() -> Histogram>;

/// The metrics of one server (every endpoint).
pub(crate) struct Metrics {
    registry: Registry,
    operations: HistogramFamily,
    auth_failures: Family<Reason, Counter>,
    refused: Family<Reason, Counter>,
    in_flight: Gauge<i64, std::sync::atomic::AtomicI64>,
    #[cfg_attr(not(feature = "jwt"), allow(dead_code))] // counted by the JWT verifier
    jwks_fetches: Family<Outcome, Counter>,
    /// Scrapes served, for the tests.
    scrapes: AtomicU64,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

fn duration_histogram() -> Histogram {
    Histogram::new(DURATION_BUCKETS)
}

impl Metrics {
    pub(crate) fn new() -> Self {
        let mut registry = Registry::default();
        let operations: HistogramFamily = Family::new_with_constructor(duration_histogram);
        registry.register_with_unit(
            "mcp_server_operation_duration",
            "The duration of MCP requests (tools/call, tools/list, …) as the server handles them",
            Unit::Seconds,
            operations.clone(),
        );
        let auth_failures = Family::<Reason, Counter>::default();
        registry.register(
            "mcp_actions_auth_failures",
            "MCP requests refused by authentication (401) or for missing OAuth scopes (403)",
            auth_failures.clone(),
        );
        let refused = Family::<Reason, Counter>::default();
        registry.register(
            "mcp_actions_requests_refused",
            "MCP requests refused by mcpActions.limits before they were handled",
            refused.clone(),
        );
        let in_flight = Gauge::<i64, std::sync::atomic::AtomicI64>::default();
        registry.register(
            "mcp_actions_requests_in_flight",
            "MCP requests in progress",
            in_flight.clone(),
        );
        let jwks_fetches = Family::<Outcome, Counter>::default();
        registry.register(
            "mcp_actions_jwks_fetches",
            "Fetches of identity providers' signing keys (JWKS)",
            jwks_fetches.clone(),
        );
        Self {
            registry,
            operations,
            auth_failures,
            refused,
            in_flight,
            jwks_fetches,
            scrapes: AtomicU64::new(0),
        }
    }

    /// One MCP request handled.
    pub(crate) fn operation(&self, labels: OperationLabels, seconds: f64) {
        #[cfg(feature = "otel")]
        super::otel::record_operation(&labels, seconds);
        self.operations.get_or_create(&labels).observe(seconds);
    }

    /// A request refused by authentication, for `reason`.
    pub(crate) fn auth_failure(&self, reason: &'static str) {
        #[cfg(feature = "otel")]
        if let Some(otel) = super::otel::instruments() {
            otel.auth_failures
                .add(1, &[KeyValue::new("reason", reason)]);
        }
        self.auth_failures.get_or_create(&Reason { reason }).inc();
    }

    /// A request refused by a limit.
    pub(crate) fn refused(&self, reason: &'static str) {
        #[cfg(feature = "otel")]
        if let Some(otel) = super::otel::instruments() {
            otel.refused.add(1, &[KeyValue::new("reason", reason)]);
        }
        self.refused.get_or_create(&Reason { reason }).inc();
    }

    /// A request started (`1`) or ended (`-1`).
    pub(crate) fn in_flight(&self, delta: i64) {
        #[cfg(feature = "otel")]
        if let Some(otel) = super::otel::instruments() {
            otel.in_flight.add(delta, &[]);
        }
        self.in_flight.inc_by(delta);
    }

    /// A JWKS fetch.
    #[cfg_attr(not(feature = "jwt"), allow(dead_code))] // counted by the JWT verifier
    pub(crate) fn jwks_fetch(&self, ok: bool) {
        let outcome = if ok { "ok" } else { "error" };
        #[cfg(feature = "otel")]
        if let Some(otel) = super::otel::instruments() {
            otel.jwks_fetches
                .add(1, &[KeyValue::new("outcome", outcome)]);
        }
        self.jwks_fetches.get_or_create(&Outcome { outcome }).inc();
    }

    /// The Prometheus text exposition of every metric.
    pub(crate) fn encode(&self) -> String {
        self.scrapes.fetch_add(1, Ordering::Relaxed);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String does not fail");
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_names_every_metric() {
        let metrics = Metrics::new();
        metrics.operation(
            OperationLabels {
                mcp_method_name: "tools/call",
                gen_ai_tool_name: "greet_user".into(),
                error_type: "".into(),
                mcp_protocol_version: "2025-11-25".into(),
                server: Arc::new("default".into()),
            },
            0.003,
        );
        metrics.auth_failure("invalid_token");
        metrics.refused("concurrency_limit");
        metrics.in_flight(1);
        metrics.jwks_fetch(true);
        let text = metrics.encode();
        for line in [
            "mcp_server_operation_duration_seconds_bucket{le=\"0.01\",mcp_method_name=\"tools/call\",gen_ai_tool_name=\"greet_user\",error_type=\"\",mcp_protocol_version=\"2025-11-25\",server=\"default\"} 1",
            "mcp_actions_auth_failures_total{reason=\"invalid_token\"} 1",
            "mcp_actions_requests_refused_total{reason=\"concurrency_limit\"} 1",
            "mcp_actions_requests_in_flight 1",
            "mcp_actions_jwks_fetches_total{outcome=\"ok\"} 1",
        ] {
            assert!(text.contains(line), "{line}\nin\n{text}");
        }
    }
}
