//! Logging to stderr (stdout carries command output, or the MCP protocol with `--stdio`).

use std::io::IsTerminal;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

use super::args::{Cli, Command};
use crate::server::WARNINGS_TARGET;
use crate::telemetry::trace::TARGET as REQUEST_TARGET;

/// Sends `tracing` output to stderr, at the level in `RUST_LOG` (default `info`, with rmcp's
/// own per-request lines at `warn`). Does nothing if a subscriber is already installed.
pub fn init_logging() {
    init_logging_with(SERVE_LOG_DEFAULT, true);
}

/// The log filter of a serving binary without `RUST_LOG`. rmcp logs three `info` lines for
/// every stateless request (session start, input stream end, serve end), which say nothing
/// to an operator and cost a third of the server's throughput; its warnings and errors stay.
const SERVE_LOG_DEFAULT: &str = "info,rmcp=warn";

/// `timestamps`: a server's log wants them; the few lines of a one-shot command do not.
fn init_logging_with(default: &str, timestamps: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let subscriber = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        // No colour codes in log files (e.g. a stdio client's log of the server's stderr).
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(filter);
    let _ = if timestamps {
        subscriber.try_init()
    } else {
        subscriber.without_time().try_init()
    };
}

/// What a server's logging holds until the process ends: the log writer's thread (dropping
/// it writes the lines still queued) and, with OpenTelemetry export, the exporters (dropping
/// them exports what is still buffered).
#[derive(Default)]
pub(super) struct Logging {
    _writer: Option<WorkerGuard>,
    #[cfg(feature = "otel")]
    _otel: Option<crate::telemetry::otel::OtelGuard>,
}

/// Logging for a server: written to stderr by a thread of its own, so that a request never
/// waits on the terminal or a log pipe; nothing is dropped (a full buffer makes the logging
/// thread wait). With `OTEL_EXPORTER_OTLP_ENDPOINT` (see `telemetry/otel.rs`), spans are
/// exported over OTLP too. An `OTEL_*` setting this server cannot honour is an error.
fn init_serve_logging() -> Result<Logging, String> {
    let rust_log = std::env::var("RUST_LOG").unwrap_or_default();
    let mut filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(SERVE_LOG_DEFAULT));
    // The request and action spans are for the trace exporter: in the log they would prefix
    // every line of a call with its attributes, and cost a span or two per call (the audit
    // trail already records who called what). Shown when RUST_LOG names them.
    for target in [REQUEST_TARGET, mcp_actions::dispatch::ACTION_SPAN_TARGET] {
        if !rust_log.contains(target) {
            filter =
                filter.add_directive(format!("{target}=off").parse().expect("a valid directive"));
        }
    }
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        // The default (128,000 lines) preallocates ~3 MB; a full queue makes logging wait.
        .buffered_lines_limit(4096)
        .thread_name("mcp-actions-log")
        // Lines reach stderr in batches: the writer thread writes what is queued into the
        // buffer and flushes once the queue is empty (and at exit), rather than a system call
        // per line under load.
        .finish(std::io::BufWriter::with_capacity(
            64 * 1024,
            std::io::stderr(),
        ));
    let ansi = std::io::stderr().is_terminal();
    // With traces exported: the log and the exporter as two layers, each with its filter.
    #[cfg(feature = "otel")]
    let otel = {
        use opentelemetry::trace::TracerProvider as _;
        use tracing_subscriber::Layer as _;
        use tracing_subscriber::layer::SubscriberExt as _;
        use tracing_subscriber::util::SubscriberInitExt as _;

        let otel = crate::telemetry::otel::init(&service_name())?;
        if let Some(provider) = otel.as_ref().and_then(|o| o.tracer_provider()) {
            let spans = tracing_opentelemetry::layer()
                .with_tracer(provider.tracer("mcp-actions-server"))
                .with_filter(EnvFilter::new(EXPORTED_SPANS));
            let log = tracing_subscriber::fmt::layer()
                .with_writer(writer)
                .with_ansi(ansi)
                .with_filter(filter);
            let installed = tracing_subscriber::registry()
                .with(log)
                .with(spans)
                .try_init();
            return Ok(Logging {
                _writer: installed.is_ok().then_some(guard),
                _otel: otel,
            });
        }
        otel
    };
    // Otherwise (and without the `otel` feature): the log alone.
    let installed = tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(ansi)
        .with_env_filter(filter)
        .try_init();
    Ok(Logging {
        _writer: installed.is_ok().then_some(guard),
        #[cfg(feature = "otel")]
        _otel: otel,
    })
}

/// The spans exported over OTLP: the request spans, the actions' and whatever they open at
/// `info` or above; not the HTTP machinery's, nor the exporter's own (which would export
/// itself).
#[cfg(feature = "otel")]
const EXPORTED_SPANS: &str = "info,rmcp=off,hyper=off,hyper_util=off,h2=off,reqwest=off,tower=off,tower_http=off,axum=off,opentelemetry=off,opentelemetry_sdk=off,opentelemetry_otlp=off,opentelemetry_http=off";

/// The default OpenTelemetry `service.name`: the binary's file name.
#[cfg(feature = "otel")]
fn service_name() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "mcp-actions-server".to_owned())
}

/// Logging for `cli`'s command: timestamped `info` for `serve` (off the request path; hold
/// what it returns until exit), only warnings otherwise.
pub(super) fn init_logging_for(cli: &Cli) -> Result<Logging, String> {
    match &cli.command {
        None | Some(Command::Serve(_)) => return init_serve_logging(),
        // `config check` prints the start-up warnings itself.
        Some(Command::Config(_)) => {
            init_logging_with(&format!("warn,{WARNINGS_TARGET}=off"), false)
        }
        Some(_) => init_logging_with("warn", false),
    }
    Ok(Logging::default())
}
