//! Waiting without sleeping as synchronisation: every wait is bounded in time (and every loop
//! in its number of rounds), and fails the test with what it was waiting for.

use std::future::Future;
use std::time::Duration;

/// The longest any single wait may take: a hang guard, not a timing assertion.
pub const WAIT: Duration = Duration::from_secs(60);

/// How long [`eventually`] lets the system run between two checks.
const POLL: Duration = Duration::from_millis(20);

/// Awaits `future`, failing the test after [`WAIT`].
pub async fn bounded<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(WAIT, future)
        .await
        .unwrap_or_else(|_| panic!("timed out after {WAIT:?} waiting for {what}"))
}

/// Checks `check` until it returns `Some`, failing the test after [`WAIT`] (or as many rounds
/// as fit in it).
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let rounds = WAIT.as_millis() / POLL.as_millis();
    bounded(what, async {
        for _ in 0..rounds {
            if let Some(value) = check().await {
                return value;
            }
            tokio::time::sleep(POLL).await;
        }
        panic!("{what} did not happen in {rounds} checks")
    })
    .await
}
