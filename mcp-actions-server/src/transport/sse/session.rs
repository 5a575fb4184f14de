//! The SSE sessions of an endpoint: who owns each, and when it is idle.

use super::*;

// ---------------------------------------------------------------------------------------------
// Sessions
// ---------------------------------------------------------------------------------------------

pub(super) struct EndpointState {
    pub(super) handler: ActionsHandler,
    pub(super) options: SseOptions,
    pub(super) shutdown: CancellationToken,
    pub(super) sessions: Arc<Sessions>,
}

#[derive(Default)]
pub(super) struct Sessions(pub(super) Mutex<HashMap<String, Session>>);

impl Sessions {
    pub(super) fn lock(&self) -> MutexGuard<'_, HashMap<String, Session>> {
        // A panic while holding the lock leaves the map consistent (single inserts/removes).
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn remove(&self, id: &str) -> bool {
        self.lock().remove(id).is_some()
    }
}

#[derive(Clone)]
pub(super) struct Session {
    /// Client → server messages, to the session's rmcp service.
    pub(super) to_server: mpsc::Sender<ClientJsonRpcMessage>,
    /// Who opened the session.
    pub(super) owner: Credentials,
    pub(super) activity: Arc<Activity>,
}

/// When the session was last used, and the requests still waiting for an answer.
pub(super) struct Activity(pub(super) Mutex<ActivityState>);

pub(super) struct ActivityState {
    pub(super) last: Instant,
    pub(super) running: HashSet<RequestId>,
}

impl Activity {
    pub(super) fn new() -> Self {
        Self(Mutex::new(ActivityState {
            last: Instant::now(),
            running: HashSet::new(),
        }))
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, ActivityState> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A message from the client.
    pub(super) fn received(&self, message: &ClientJsonRpcMessage) {
        let mut state = self.lock();
        state.last = Instant::now();
        match message {
            JsonRpcMessage::Request(request) => {
                state.running.insert(request.id.clone());
            }
            JsonRpcMessage::Notification(notification) => {
                if let ClientNotification::CancelledNotification(cancelled) =
                    &notification.notification
                    && let Some(id) = &cancelled.params.request_id
                {
                    state.running.remove(id);
                }
            }
            JsonRpcMessage::Response(_) | JsonRpcMessage::Error(_) => {}
        }
    }

    /// A message to the client.
    pub(super) fn sent(&self, message: &ServerJsonRpcMessage) {
        let mut state = self.lock();
        state.last = Instant::now();
        let answered = match message {
            JsonRpcMessage::Response(response) => Some(&response.id),
            JsonRpcMessage::Error(error) => error.id.as_ref(),
            JsonRpcMessage::Request(_) | JsonRpcMessage::Notification(_) => None,
        };
        if let Some(id) = answered {
            state.running.remove(id);
        }
    }

    /// Since when the session has been idle; `None` while a request is running.
    pub(super) fn idle_since(&self) -> Option<Instant> {
        let state = self.lock();
        state.running.is_empty().then_some(state.last)
    }

    /// Returns once the session has been idle for `timeout`.
    pub(super) async fn idle_for(&self, timeout: Duration) {
        loop {
            let now = Instant::now();
            let wake = match self.idle_since() {
                Some(since) if now >= since + timeout => return,
                Some(since) => since + timeout,
                None => now + timeout,
            };
            tokio::time::sleep_until(wake).await;
        }
    }
}

/// Removes the session and stops its service when the event stream is dropped (the client
/// disconnected, or the stream ended).
pub(super) struct SessionGuard {
    pub(super) id: String,
    pub(super) sessions: Arc<Sessions>,
    pub(super) cancel: CancellationToken,
}

impl Drop for SessionGuard {
    fn drop(&mut self) {
        self.cancel.cancel();
        if self.sessions.remove(&self.id) {
            tracing::info!(session = %self.id, "SSE session closed: the client disconnected");
        }
    }
}

/// 32 hex digits from the OS's random number generator.
pub(super) fn new_session_id() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the operating system's random number generator failed");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
