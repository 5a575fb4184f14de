//! OpenTelemetry export over OTLP/HTTP (feature `otel`), configured by the standard
//! environment variables and nothing else, so that a collector set up for every other service
//! of the platform takes this one's spans and metrics too:
//!
//! | variable | effect |
//! |---|---|
//! | `OTEL_EXPORTER_OTLP_ENDPOINT` | the collector's base URL (e.g. `http://collector:4318`): traces to `/v1/traces`, metrics to `/v1/metrics` |
//! | `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` | one signal's URL, used as given |
//! | `OTEL_TRACES_EXPORTER`, `OTEL_METRICS_EXPORTER` | `otlp` (export even without an endpoint: `http://localhost:4318`) or `none` |
//! | `OTEL_SDK_DISABLED=true` | nothing is exported |
//! | `OTEL_EXPORTER_OTLP_PROTOCOL` | `http/protobuf` (the default) or `http/json`; `grpc` is refused at start-up |
//! | `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES` | the resource (default `service.name`: the binary's name) |
//! | `OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG` | the sampler (default `parentbased_always_on`) |
//! | `OTEL_BSP_*`, `OTEL_METRIC_EXPORT_INTERVAL`, `OTEL_EXPORTER_OTLP_HEADERS`, `…_TIMEOUT`, `…_COMPRESSION` | read by the OpenTelemetry SDK and exporter themselves |
//!
//! With none of them set nothing is set up: no exporter thread, no span of ours recorded
//! (their callsites stay disabled), the metrics only in Prometheus text.

use std::env;
use std::sync::OnceLock;
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Histogram, UpDownCounter};
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;

use super::metrics::{DURATION_BUCKETS, OperationLabels};

/// Which signals the environment asks to export.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Signals {
    pub(crate) traces: bool,
    pub(crate) metrics: bool,
}

impl Signals {
    /// The signals `var` (the process environment, in production) asks for, or why it cannot
    /// be done.
    pub(crate) fn from(var: &impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let set = |name: &str| var(name).is_some_and(|v| !v.trim().is_empty());
        if var("OTEL_SDK_DISABLED").is_some_and(|v| v.trim().eq_ignore_ascii_case("true")) {
            return Ok(Self::default());
        }
        let signal = |exporter: &str, endpoint: &str| -> Result<bool, String> {
            match var(exporter).as_deref().map(str::trim) {
                None | Some("") => Ok(set("OTEL_EXPORTER_OTLP_ENDPOINT") || set(endpoint)),
                Some("none") => Ok(false),
                Some("otlp") => Ok(true),
                Some(other) => Err(format!(
                    "{exporter}={other} is not supported: use `otlp` or `none`"
                )),
            }
        };
        let signals = Self {
            traces: signal("OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")?,
            metrics: signal(
                "OTEL_METRICS_EXPORTER",
                "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
            )?,
        };
        if signals != Self::default() {
            for name in [
                "OTEL_EXPORTER_OTLP_PROTOCOL",
                "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
                "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
            ] {
                match var(name).as_deref().map(str::trim) {
                    None | Some("" | "http/protobuf" | "http/json") => {}
                    Some(other) => {
                        return Err(format!(
                            "{name}={other} is not supported: this server exports OTLP over HTTP \
                             (`http/protobuf`, the default, or `http/json`; a collector listens \
                             for it on port 4318)"
                        ));
                    }
                }
            }
        }
        Ok(signals)
    }
}

/// What `config check` says of the export the environment asks for: `None` when there is
/// none, else a note (`Ok`) or why `serve` will refuse to start (`Err`). Endpoints are shown
/// as scheme, host and port only: a URL's user info or query may hold a secret.
pub(crate) fn describe(var: impl Fn(&str) -> Option<String>) -> Option<Result<String, String>> {
    let signals = match Signals::from(&var) {
        Ok(signals) if signals == Signals::default() => return None,
        Ok(signals) => signals,
        Err(error) => return Some(Err(error)),
    };
    let endpoint = |signal: &str, path: &str| {
        let url = var(signal)
            .filter(|v| !v.trim().is_empty())
            .or_else(|| {
                var("OTEL_EXPORTER_OTLP_ENDPOINT")
                    .filter(|v| !v.trim().is_empty())
                    .map(|base| format!("{}{path}", base.trim_end_matches('/')))
            })
            .unwrap_or_else(|| format!("http://localhost:4318{path}"));
        match url.trim().parse::<http::Uri>() {
            Ok(uri) => format!(
                "{}://{}{}",
                uri.scheme_str().unwrap_or("http"),
                uri.host().unwrap_or("?"),
                uri.port_u16().map(|p| format!(":{p}")).unwrap_or_default()
            ),
            Err(_) => "an endpoint that is not a URL".to_owned(),
        }
    };
    let mut parts = Vec::new();
    if signals.traces {
        parts.push(format!(
            "traces to {}",
            endpoint("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "/v1/traces")
        ));
    }
    if signals.metrics {
        parts.push(format!(
            "metrics to {}",
            endpoint("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "/v1/metrics")
        ));
    }
    Some(Ok(format!(
        "OpenTelemetry export is on (OTEL_* variables): {}",
        parts.join(", ")
    )))
}

/// The providers set up for export. Dropping it exports what is still buffered (at most 5 s
/// per signal) and stops the export threads: hold it until the process ends.
pub struct OtelGuard {
    tracer: Option<SdkTracerProvider>,
    meter: Option<SdkMeterProvider>,
}

impl std::fmt::Debug for OtelGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtelGuard")
            .field("traces", &self.tracer.is_some())
            .field("metrics", &self.meter.is_some())
            .finish()
    }
}

impl OtelGuard {
    /// The tracer provider, when traces are exported.
    pub(crate) fn tracer_provider(&self) -> Option<&SdkTracerProvider> {
        self.tracer.as_ref()
    }
}

impl Drop for OtelGuard {
    fn drop(&mut self) {
        const FLUSH: Duration = Duration::from_secs(5);
        if let Some(tracer) = self.tracer.take() {
            let _ = tracer.shutdown_with_timeout(FLUSH);
        }
        if let Some(meter) = self.meter.take() {
            let _ = meter.shutdown_with_timeout(FLUSH);
        }
    }
}

/// Sets up what the environment asks to export (`None`: nothing), as the service `name`
/// unless `OTEL_SERVICE_NAME` or `OTEL_RESOURCE_ATTRIBUTES` names it.
pub(crate) fn init(name: &str) -> Result<Option<OtelGuard>, String> {
    let signals = Signals::from(&|name: &str| env::var(name).ok())?;
    if signals == Signals::default() {
        return Ok(None);
    }
    let resource = resource(name);
    let tracer = if signals.traces {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(protocol("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"))
            .build()
            .map_err(|e| format!("cannot set up the OTLP trace exporter: {e}"))?;
        // W3C Trace Context, for `traceparent` / `tracestate` in headers and `_meta`.
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        Some(
            SdkTracerProvider::builder()
                .with_batch_exporter(exporter)
                .with_resource(resource.clone())
                .build(),
        )
    } else {
        None
    };
    let meter = if signals.metrics {
        let exporter = opentelemetry_otlp::MetricExporter::builder()
            .with_http()
            .with_protocol(protocol("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL"))
            .build()
            .map_err(|e| format!("cannot set up the OTLP metric exporter: {e}"))?;
        let provider = SdkMeterProvider::builder()
            .with_periodic_exporter(exporter)
            .with_resource(resource)
            .build();
        opentelemetry::global::set_meter_provider(provider.clone());
        let _ = INSTRUMENTS.set(Instruments::new());
        Some(provider)
    } else {
        None
    };
    Ok(Some(OtelGuard { tracer, meter }))
}

/// The protocol of a signal: its own variable's, else `OTEL_EXPORTER_OTLP_PROTOCOL`'s, else
/// protobuf (the specification's default; the exporter would pick JSON, its feature being on).
fn protocol(signal: &str) -> Protocol {
    let json = [signal, "OTEL_EXPORTER_OTLP_PROTOCOL"]
        .into_iter()
        .find_map(|name| env::var(name).ok().filter(|v| !v.trim().is_empty()))
        .is_some_and(|v| v.trim() == "http/json");
    if json {
        Protocol::HttpJson
    } else {
        Protocol::HttpBinary
    }
}

fn resource(name: &str) -> Resource {
    let named = env::var("OTEL_SERVICE_NAME").is_ok_and(|v| !v.is_empty())
        || env::var("OTEL_RESOURCE_ATTRIBUTES").is_ok_and(|v| v.contains("service.name="));
    let builder = Resource::builder();
    if named {
        builder.build()
    } else {
        builder.with_service_name(name.to_owned()).build()
    }
}

/// The metrics exported over OTLP: those of `/metrics`, under OpenTelemetry names.
pub(crate) struct Instruments {
    duration: Histogram<f64>,
    pub(crate) auth_failures: Counter<u64>,
    pub(crate) refused: Counter<u64>,
    pub(crate) in_flight: UpDownCounter<i64>,
    pub(crate) jwks_fetches: Counter<u64>,
}

impl Instruments {
    fn new() -> Self {
        let meter = opentelemetry::global::meter("mcp-actions-server");
        Self {
            duration: meter
                .f64_histogram("mcp.server.operation.duration")
                .with_unit("s")
                .with_description("The duration of MCP requests as the server handles them")
                .with_boundaries(DURATION_BUCKETS.to_vec())
                .build(),
            auth_failures: meter
                .u64_counter("mcp_actions.auth.failures")
                .with_description(
                    "MCP requests refused by authentication (401) or for missing OAuth scopes (403)",
                )
                .build(),
            refused: meter
                .u64_counter("mcp_actions.requests.refused")
                .with_description("MCP requests refused by mcpActions.limits before they were handled")
                .build(),
            in_flight: meter
                .i64_up_down_counter("mcp_actions.requests.in_flight")
                .with_description("MCP requests in progress")
                .build(),
            jwks_fetches: meter
                .u64_counter("mcp_actions.jwks.fetches")
                .with_description("Fetches of identity providers' signing keys (JWKS)")
                .build(),
        }
    }
}

/// The OTLP instruments, once [`init`] has set them up (metrics exported).
static INSTRUMENTS: OnceLock<Instruments> = OnceLock::new();

/// The OTLP instruments, when metrics are exported.
pub(crate) fn instruments() -> Option<&'static Instruments> {
    INSTRUMENTS.get()
}

/// Records one MCP request for OTLP, when metrics are exported.
pub(crate) fn record_operation(labels: &OperationLabels, seconds: f64) {
    let Some(histogram) = INSTRUMENTS.get().map(|i| &i.duration) else {
        return;
    };
    let mut attributes = Vec::with_capacity(5);
    attributes.push(KeyValue::new("mcp.method.name", labels.mcp_method_name));
    if !labels.gen_ai_tool_name.is_empty() {
        attributes.push(KeyValue::new(
            "gen_ai.tool.name",
            labels.gen_ai_tool_name.clone(),
        ));
    }
    if !labels.error_type.is_empty() {
        attributes.push(KeyValue::new("error.type", labels.error_type.clone()));
    }
    if !labels.mcp_protocol_version.is_empty() {
        attributes.push(KeyValue::new(
            "mcp.protocol.version",
            labels.mcp_protocol_version.clone(),
        ));
    }
    attributes.push(KeyValue::new(
        "mcp_actions.server",
        labels.server.as_str().to_owned(),
    ));
    histogram.record(seconds, &attributes);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signals(vars: &[(&str, &str)]) -> Result<Signals, String> {
        Signals::from(&|name: &str| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn nothing_is_exported_unless_asked() {
        assert_eq!(signals(&[]), Ok(Signals::default()));
        let both = Signals {
            traces: true,
            metrics: true,
        };
        assert_eq!(
            signals(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318")]),
            Ok(both)
        );
        assert_eq!(
            signals(&[("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://c/v1/traces")]),
            Ok(Signals {
                traces: true,
                metrics: false
            })
        );
        assert_eq!(
            signals(&[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
                ("OTEL_METRICS_EXPORTER", "none"),
            ]),
            Ok(Signals {
                traces: true,
                metrics: false
            })
        );
        assert_eq!(
            signals(&[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
                ("OTEL_SDK_DISABLED", "true"),
            ]),
            Ok(Signals::default())
        );
    }

    #[test]
    fn config_check_describes_the_export_without_secrets() {
        let describe = |vars: &[(&str, &str)]| {
            describe(|name| {
                vars.iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| (*v).to_owned())
            })
        };
        assert_eq!(describe(&[]), None);
        assert_eq!(
            describe(&[(
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                "https://user:hunter2@otel.example.com:4318/?key=s3cret"
            )]),
            Some(Ok(
                "OpenTelemetry export is on (OTEL_* variables): traces to \
                     https://otel.example.com:4318, metrics to https://otel.example.com:4318"
                    .to_owned()
            ))
        );
        assert_eq!(
            describe(&[("OTEL_TRACES_EXPORTER", "otlp")]),
            Some(Ok(
                "OpenTelemetry export is on (OTEL_* variables): traces to http://localhost:4318"
                    .to_owned()
            ))
        );
        assert!(matches!(
            describe(&[("OTEL_TRACES_EXPORTER", "jaeger")]),
            Some(Err(_))
        ));
    }

    #[test]
    fn unsupported_settings_are_refused_with_the_way_out() {
        let grpc = signals(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ])
        .unwrap_err();
        assert!(grpc.contains("OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not supported"));
        assert!(grpc.contains("4318"), "{grpc}");
        let zipkin = signals(&[("OTEL_TRACES_EXPORTER", "zipkin")]).unwrap_err();
        assert!(zipkin.contains("use `otlp` or `none`"), "{zipkin}");
        // A protocol setting alone exports nothing and is not an error.
        assert_eq!(
            signals(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")]),
            Ok(Signals::default())
        );
    }
}
