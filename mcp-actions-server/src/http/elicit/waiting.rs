//! The questions waiting for the client's answer on this process, and the prompt that asks
//! them on a call's response stream.
//!
//! Each question gets a fresh, unguessable JSON-RPC id (128 random bits). The answer — a
//! JSON-RPC response the client POSTs — reaches the question only with that id, the same
//! session id and the same caller; anything else leaves it waiting. A question leaves the map
//! when it is answered or when its call stops waiting (timeout, cancellation, the client gone):
//! the waiting future's drop removes it. The map holds at most [`MAX_WAITING`] questions.
//!
//! The calls that may ask are known here too, by session, caller and JSON-RPC id, so that the
//! client's `notifications/cancelled` for one (POSTed like an answer) reaches it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use mcp_actions::{
    ActionError, Answer, AskError, BoxFuture, Progress, ProgressReporter, Question, UserPrompt,
};
use rmcp::model::{
    ElicitRequest, ElicitResult, NumberOrString, ProgressNotification, ProgressNotificationParam,
    ProgressToken, RequestId, ServerJsonRpcMessage, ServerNotification, ServerRequest,
};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::mcp::{answer_of, form};

/// The most questions waiting at once on one endpoint of this process; one more fails its call
/// with `ServiceUnavailableError`. Each waiting call also holds one of
/// `mcpActions.limits.maxConcurrentRequests`, which usually bounds them first.
pub(crate) const MAX_WAITING: usize = 4096;

/// The client's reply to a question: its `result`, or its `error`.
pub(crate) type Reply = Result<Value, Value>;

/// Why an answer was not taken.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct NotWaiting;

/// The questions waiting on one endpoint, and the calls that may ask them.
#[derive(Default)]
pub(crate) struct Waiting {
    questions: Mutex<HashMap<String, Waiter>>,
    calls: Mutex<HashMap<String, Running>>,
}

/// A call in progress that may ask: how to cancel it, and whether its client did.
struct Running {
    cancellation: CancellationToken,
    cancelled_by_client: Arc<AtomicBool>,
}

/// The key of a call: its session, caller and JSON-RPC id.
fn call_key(session: &str, principal: &str, id: &RequestId) -> String {
    match id {
        NumberOrString::Number(id) => format!("{session}\n{principal}\nn{id}"),
        NumberOrString::String(id) => format!("{session}\n{principal}\ns{id}"),
    }
}

/// A call known to [`Waiting`] until dropped.
pub(crate) struct Registration {
    waiting: Arc<Waiting>,
    key: String,
    cancelled_by_client: Arc<AtomicBool>,
}

impl Registration {
    /// Whether the client cancelled the call (`notifications/cancelled`): its answer is then
    /// not sent, as the spec asks.
    pub(crate) fn cancelled_by_client(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.cancelled_by_client)
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Ok(mut calls) = self.waiting.calls.lock() {
            calls.remove(&self.key);
        }
    }
}

struct Waiter {
    session: String,
    principal: String,
    reply: oneshot::Sender<Reply>,
}

impl Waiting {
    /// Registers a question of `session` and `principal`: its id and the ticket that receives
    /// the reply (and removes the question when dropped); `None` when [`MAX_WAITING`] are
    /// waiting.
    fn wait(self: &Arc<Self>, session: &str, principal: &str) -> Option<Ticket> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).expect("the operating system's random number generator failed");
        let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let id = format!("mcp-actions-ask-{id}");
        let (sender, receiver) = oneshot::channel();
        let mut questions = self.questions.lock().expect("waiting questions lock");
        if questions.len() >= MAX_WAITING {
            return None;
        }
        questions.insert(
            id.clone(),
            Waiter {
                session: session.to_owned(),
                principal: principal.to_owned(),
                reply: sender,
            },
        );
        Some(Ticket {
            waiting: Arc::clone(self),
            id,
            receiver,
        })
    }

    /// Hands `reply` to the question `id` if it is waiting for this session and caller.
    pub(crate) fn deliver(
        &self,
        id: &str,
        session: &str,
        principal: &str,
        reply: Reply,
    ) -> Result<(), NotWaiting> {
        let mut questions = self.questions.lock().expect("waiting questions lock");
        match questions.get(id) {
            Some(waiter) if waiter.session == session && waiter.principal == principal => {}
            _ => return Err(NotWaiting),
        }
        let waiter = questions.remove(id).ok_or(NotWaiting)?;
        drop(questions);
        waiter.reply.send(reply).map_err(|_| NotWaiting)
    }

    /// Makes the call `id` of `session` and `principal` cancellable by its client; `None`
    /// (not cancellable, it runs all the same) when a call with that key is in progress or
    /// [`MAX_WAITING`] are.
    pub(crate) fn register(
        self: &Arc<Self>,
        session: &str,
        principal: &str,
        id: &RequestId,
        cancellation: CancellationToken,
    ) -> Option<Registration> {
        let key = call_key(session, principal, id);
        let mut calls = self.calls.lock().expect("calls lock");
        if calls.len() >= MAX_WAITING || calls.contains_key(&key) {
            return None;
        }
        let cancelled_by_client = Arc::new(AtomicBool::new(false));
        calls.insert(
            key.clone(),
            Running {
                cancellation,
                cancelled_by_client: Arc::clone(&cancelled_by_client),
            },
        );
        Some(Registration {
            waiting: Arc::clone(self),
            key,
            cancelled_by_client,
        })
    }

    /// Cancels the call `id` of `session` and `principal`, if it is in progress here.
    pub(crate) fn cancel(&self, session: &str, principal: &str, id: &RequestId) -> bool {
        let calls = self.calls.lock().expect("calls lock");
        let Some(running) = calls.get(&call_key(session, principal, id)) else {
            return false;
        };
        running.cancelled_by_client.store(true, Ordering::Release);
        running.cancellation.cancel();
        true
    }

    /// How many questions are waiting.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.questions.lock().expect("waiting questions lock").len()
    }
}

/// One waiting question: removed from the map when dropped.
struct Ticket {
    waiting: Arc<Waiting>,
    id: String,
    receiver: oneshot::Receiver<Reply>,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if let Ok(mut questions) = self.waiting.questions.lock() {
            questions.remove(&self.id);
        }
    }
}

/// Asks with `elicitation/create` on the call's response stream (`outbox`) and waits for the
/// client to POST the answer.
pub(crate) struct StreamPrompt {
    pub(crate) waiting: Arc<Waiting>,
    pub(crate) session: String,
    pub(crate) principal: String,
    pub(crate) outbox: mpsc::Sender<ServerJsonRpcMessage>,
}

fn not_answered() -> AskError {
    AskError::Failed(ActionError::service_unavailable(
        "the client did not answer the question for the user",
    ))
}

impl UserPrompt for StreamPrompt {
    fn ask(&self, question: Question) -> BoxFuture<'_, Result<Answer, AskError>> {
        Box::pin(async move {
            let params = form(&question)?;
            let Some(mut ticket) = self.waiting.wait(&self.session, &self.principal) else {
                tracing::warn!(
                    max = MAX_WAITING,
                    "refused a question for the user: too many are waiting for an answer"
                );
                return Err(AskError::Failed(ActionError::service_unavailable(
                    "too many questions for users are waiting for an answer on this server; try again later",
                )));
            };
            let request = ServerJsonRpcMessage::request(
                ServerRequest::ElicitRequest(ElicitRequest::new(params)),
                RequestId::String(ticket.id.as_str().into()),
            );
            if self.outbox.send(request).await.is_err() {
                return Err(not_answered());
            }
            match (&mut ticket.receiver).await {
                Ok(Ok(result)) => match serde_json::from_value::<ElicitResult>(result) {
                    Ok(result) => Ok(answer_of(result)),
                    Err(error) => Err(AskError::Failed(ActionError::input(
                        mcp_actions::error::cap_message(&format!(
                            "the client's answer to the question for the user is not an elicitation result: {error}"
                        )),
                    ))),
                },
                Ok(Err(error)) => {
                    let code = error.get("code").and_then(Value::as_i64);
                    tracing::info!(
                        code,
                        "the client answered a question for the user with an error"
                    );
                    Err(not_answered())
                }
                Err(_) => Err(not_answered()),
            }
        })
    }
}

/// Sends an action's progress as `notifications/progress` on the call's response stream.
pub(crate) struct StreamProgress {
    pub(crate) token: ProgressToken,
    pub(crate) outbox: mpsc::Sender<ServerJsonRpcMessage>,
}

impl ProgressReporter for StreamProgress {
    fn report(&self, progress: Progress) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let mut param = ProgressNotificationParam::new(self.token.clone(), progress.progress);
            param.total = progress.total;
            param.message = progress.message;
            let notification = ServerJsonRpcMessage::notification(
                ServerNotification::ProgressNotification(ProgressNotification::new(param)),
            );
            if self.outbox.send(notification).await.is_err() {
                tracing::debug!("could not send a progress notification: the stream is gone");
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_answer_reaches_its_question_only_from_its_session_and_caller() {
        let waiting = Arc::new(Waiting::default());
        let mut ticket = waiting.wait("s1", "alice").unwrap();
        let id = ticket.id.clone();
        let reply = || Ok(serde_json::json!({"action": "accept"}));
        assert_eq!(
            waiting.deliver(&id, "s2", "alice", reply()),
            Err(NotWaiting)
        );
        assert_eq!(waiting.deliver(&id, "s1", "bob", reply()), Err(NotWaiting));
        assert_eq!(
            waiting.deliver("other", "s1", "alice", reply()),
            Err(NotWaiting)
        );
        assert_eq!(waiting.deliver(&id, "s1", "alice", reply()), Ok(()));
        assert_eq!((&mut ticket.receiver).await.unwrap(), reply());
        assert_eq!(
            waiting.deliver(&id, "s1", "alice", reply()),
            Err(NotWaiting)
        );
        assert_eq!(waiting.len(), 0);
    }

    #[test]
    fn a_question_no_longer_waited_for_leaves_and_the_map_is_bounded() {
        let waiting = Arc::new(Waiting::default());
        let ticket = waiting.wait("s", "p").unwrap();
        let id = ticket.id.clone();
        drop(ticket);
        assert_eq!(waiting.len(), 0);
        assert_eq!(
            waiting.deliver(&id, "s", "p", Ok(Value::Null)),
            Err(NotWaiting)
        );
        let tickets: Vec<Ticket> = (0..MAX_WAITING)
            .map(|_| waiting.wait("s", "p").unwrap())
            .collect();
        assert!(waiting.wait("s", "p").is_none());
        drop(tickets);
        assert_eq!(waiting.len(), 0);
    }
}
