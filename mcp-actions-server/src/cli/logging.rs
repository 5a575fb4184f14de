//! Logging to stderr (stdout carries command output, or the MCP protocol with `--stdio`).

use std::io::IsTerminal;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

use super::args::{Cli, Command};
use crate::server::WARNINGS_TARGET;

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

/// Logging for a server: written to stderr by a thread of its own, so that a request never
/// waits on the terminal or a log pipe; nothing is dropped (a full buffer makes the logging
/// thread wait). The returned guard flushes what is left when dropped: hold it until exit.
fn init_serve_logging() -> Option<WorkerGuard> {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(SERVE_LOG_DEFAULT));
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        // The default (128,000 lines) preallocates ~3 MB; a full queue makes logging wait.
        .buffered_lines_limit(4096)
        .thread_name("mcp-actions-log")
        .finish(std::io::stderr());
    let installed = tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(filter)
        .try_init();
    installed.is_ok().then_some(guard)
}

/// Logging for `cli`'s command: timestamped `info` for `serve` (off the request path; keep
/// the guard until exit), only warnings otherwise.
pub(super) fn init_logging_for(cli: &Cli) -> Option<WorkerGuard> {
    match &cli.command {
        None | Some(Command::Serve(_)) => return init_serve_logging(),
        // `config check` prints the start-up warnings itself.
        Some(Command::Config(_)) => {
            init_logging_with(&format!("warn,{WARNINGS_TARGET}=off"), false)
        }
        Some(_) => init_logging_with("warn", false),
    }
    None
}
