//! Checking what a server logs: [`LogCapture`], and [`in_own_process`] for tests that need the
//! `tracing` global state fresh.

use std::io;
use std::sync::{Arc, Mutex};

/// A `tracing` writer into a shared buffer, to check what the server logs.
///
/// Use it in a current-thread runtime so the server's tasks log on the test's thread, and in a
/// process of its own (see [`in_own_process`]): with other tests running in parallel, a
/// callsite first hit while no subscriber was set keeps a cached interest of "never", and its
/// events would be missed.
#[derive(Clone, Default)]
pub struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl LogCapture {
    /// Everything written so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// Captures every event and span (TRACE and up, every crate) on this thread until the
    /// guard is dropped.
    pub fn install(&self) -> tracing::subscriber::DefaultGuard {
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(self.clone())
            .finish();
        tracing::subscriber::set_default(subscriber)
    }
}

impl io::Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogCapture {
    type Writer = LogCapture;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Set in the child process [`in_own_process`] starts.
const IN_CHILD: &str = "MCP_ACTIONS_TESTS_IN_CHILD";

/// Runs the test `name` (its full path in the test binary, e.g. `auth::x`) alone in a child
/// process of this test binary; returns whether this is the child (then run the test's body).
/// Used where global state (the `tracing` callsite cache) must be fresh.
pub fn in_own_process(name: &str) -> bool {
    if std::env::var_os(IN_CHILD).is_some() {
        return true;
    }
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads", "1"])
        .env(IN_CHILD, "1")
        .output()
        .expect("the test binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "{name} failed in its own process:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    false
}
