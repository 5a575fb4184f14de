//! A loopback OTLP/HTTP receiver: what a collector would receive from the server, decoded from
//! the protobuf with the OpenTelemetry protocol definitions (`opentelemetry-proto`).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{Metric, metric};
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use tokio_util::sync::CancellationToken;

/// A span as exported, with the `service.name` of its resource.
#[derive(Clone, Debug)]
pub struct ExportedSpan {
    /// The span.
    pub span: Span,
    /// Its resource's `service.name`.
    pub service: Option<String>,
}

impl ExportedSpan {
    /// The string, integer or boolean attribute `key`, as text.
    pub fn attribute(&self, key: &str) -> Option<String> {
        attribute(&self.span.attributes, key)
    }
}

/// The text of attribute `key` among `attributes`.
pub fn attribute(attributes: &[KeyValue], key: &str) -> Option<String> {
    let value = attributes.iter().find(|kv| kv.key == key)?.value.as_ref()?;
    text(value)
}

fn text(value: &AnyValue) -> Option<String> {
    match value.value.as_ref()? {
        any_value::Value::StringValue(s) => Some(s.clone()),
        any_value::Value::IntValue(i) => Some(i.to_string()),
        any_value::Value::BoolValue(b) => Some(b.to_string()),
        any_value::Value::DoubleValue(d) => Some(d.to_string()),
        _ => None,
    }
}

#[derive(Default)]
struct Received {
    spans: Vec<ExportedSpan>,
    metrics: Vec<Metric>,
    /// Bodies that did not decode.
    errors: Vec<String>,
}

/// The receiver: `endpoint` is what `OTEL_EXPORTER_OTLP_ENDPOINT` should say.
pub struct OtlpReceiver {
    /// `http://127.0.0.1:PORT` (the exporter appends `/v1/traces`, `/v1/metrics`).
    pub endpoint: String,
    received: Arc<Mutex<Received>>,
    stop: CancellationToken,
}

impl OtlpReceiver {
    /// Listens on an ephemeral loopback port.
    pub async fn start() -> Self {
        let received = Arc::new(Mutex::new(Received::default()));
        let router = Router::new()
            .route("/v1/traces", post(traces))
            .route("/v1/metrics", post(metrics))
            .with_state(received.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let stop = CancellationToken::new();
        let stopped = stop.clone();
        tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(stopped.cancelled_owned())
                .await
        });
        Self {
            endpoint: format!("http://{addr}"),
            received,
            stop,
        }
    }

    /// Every span received so far. Panics if a body did not decode.
    pub fn spans(&self) -> Vec<ExportedSpan> {
        let received = self.received.lock().unwrap();
        assert!(received.errors.is_empty(), "{:?}", received.errors);
        received.spans.clone()
    }

    /// Every metric received so far (one entry per export).
    pub fn metrics(&self) -> Vec<Metric> {
        let received = self.received.lock().unwrap();
        assert!(received.errors.is_empty(), "{:?}", received.errors);
        received.metrics.clone()
    }
}

impl Drop for OtlpReceiver {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn traces(State(received): State<Arc<Mutex<Received>>>, body: Bytes) -> &'static str {
    let mut received = received.lock().unwrap();
    match ExportTraceServiceRequest::decode(body) {
        Ok(request) => {
            for resource in request.resource_spans {
                let service = resource
                    .resource
                    .as_ref()
                    .and_then(|r| attribute(&r.attributes, "service.name"));
                for scope in resource.scope_spans {
                    for span in scope.spans {
                        received.spans.push(ExportedSpan {
                            span,
                            service: service.clone(),
                        });
                    }
                }
            }
        }
        Err(error) => received.errors.push(format!("traces: {error}")),
    }
    ""
}

async fn metrics(State(received): State<Arc<Mutex<Received>>>, body: Bytes) -> &'static str {
    let mut received = received.lock().unwrap();
    match ExportMetricsServiceRequest::decode(body) {
        Ok(request) => {
            for resource in request.resource_metrics {
                for scope in resource.scope_metrics {
                    received.metrics.extend(scope.metrics);
                }
            }
        }
        Err(error) => received.errors.push(format!("metrics: {error}")),
    }
    ""
}

/// The histogram data points of `metric`, as (attributes, count).
pub fn histogram_points(metric: &Metric) -> Vec<(Vec<KeyValue>, u64)> {
    match &metric.data {
        Some(metric::Data::Histogram(histogram)) => histogram
            .data_points
            .iter()
            .map(|point| (point.attributes.clone(), point.count))
            .collect(),
        _ => Vec::new(),
    }
}

/// The integer data points of the counter (sum) `metric`, as (attributes, value).
pub fn sum_points(metric: &Metric) -> Vec<(Vec<KeyValue>, i64)> {
    use opentelemetry_proto::tonic::metrics::v1::number_data_point::Value;
    match &metric.data {
        Some(metric::Data::Sum(sum)) => sum
            .data_points
            .iter()
            .filter_map(|point| match point.value {
                Some(Value::AsInt(value)) => Some((point.attributes.clone(), value)),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}
