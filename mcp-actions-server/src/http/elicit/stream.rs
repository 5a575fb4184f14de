//! A `tools/call` that may ask the user: answered with JSON when it ends without asking (the
//! same bytes as any call), or — from its first question on — with an SSE stream that carries
//! the questions (`elicitation/create`), progress notifications, and finally the result.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::{Stream, StreamExt};
use http::request::Parts;
use mcp_actions::{CallOptions, Credentials};
use rmcp::model::{NumberOrString, ProgressToken, RequestId, ServerJsonRpcMessage, ServerResult};
use serde_json::{Map, Value};
use tokio::sync::mpsc;

use super::meta;
use super::waiting::{StreamProgress, StreamPrompt, Waiting};
use crate::http::direct::{CallOutcome, FinishOnDrop, json_response};
use crate::mcp::{ActionsHandler, Asking};
use crate::telemetry::trace::{Request, W3c};

/// How often an idle stream gets an SSE comment, so proxies do not close it while the user
/// thinks.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Messages the call may queue before it waits for the stream to take them.
const OUTBOX: usize = 16;

/// A plain `tools/call`: a name, object arguments, `_meta` (a progress token and trace context
/// are used; other keys are ignored, as rmcp does on these revisions).
pub(super) struct Call {
    name: String,
    arguments: Option<Value>,
    progress: Option<ProgressToken>,
    traceparent: Option<String>,
    tracestate: Option<String>,
}

/// Who calls, and in which session.
pub(super) struct Caller<'a> {
    pub(super) id: RequestId,
    pub(super) session: &'a str,
    pub(super) credentials: &'a Credentials,
    pub(super) parts: &'a Parts,
}

impl Call {
    /// The call in `params`, or `None` when they hold anything else (`task`, …: rmcp's).
    pub(super) fn of(mut params: Map<String, Value>) -> Option<Self> {
        let (name, arguments) = crate::http::direct::take_call(&mut params)?;
        let meta = meta(&params).cloned().unwrap_or_default();
        params.remove("_meta");
        if !params.is_empty() {
            return None;
        }
        let progress = match meta.get("progressToken") {
            None => None,
            Some(Value::String(token)) => Some(NumberOrString::String(token.as_str().into())),
            Some(Value::Number(token)) => Some(NumberOrString::Number(token.as_i64()?)),
            Some(_) => return None,
        };
        let text = |key| meta.get(key).and_then(Value::as_str).map(str::to_owned);
        Some(Self {
            name,
            arguments,
            progress: progress.map(ProgressToken),
            traceparent: text("traceparent"),
            tracestate: text("tracestate"),
        })
    }

    /// Runs the call, asking through the response: JSON if it ends first, else an SSE stream
    /// from its first message on.
    pub(super) async fn run(
        self,
        handler: &ActionsHandler,
        waiting: &Arc<Waiting>,
        caller: Caller<'_>,
    ) -> Response {
        let Caller {
            id,
            session,
            credentials,
            parts,
        } = caller;
        let version = parts
            .headers
            .get("mcp-protocol-version")
            .and_then(|v| v.to_str().ok());
        let seen = {
            let request = Request {
                method: "tools/call",
                tool: Some(&self.name),
                id: &id,
                context: W3c {
                    traceparent: self.traceparent.as_deref(),
                    tracestate: self.tracestate.as_deref(),
                },
            };
            handler.seen(&request, Some(parts), credentials, version)
        };
        let (outbox, mut messages) = mpsc::channel(OUTBOX);
        let prompt = StreamPrompt {
            waiting: Arc::clone(waiting),
            session: session.to_owned(),
            principal: credentials.principal().to_string(),
            outbox: outbox.clone(),
        };
        let cancellation = handler.call_cancellation();
        let mut options =
            CallOptions::new(credentials.clone()).with_cancellation(cancellation.clone());
        if let Some(token) = self.progress {
            options = options.with_progress(Arc::new(StreamProgress { token, outbox }));
        } else {
            drop(outbox);
        }
        // Known until the call ends, so that the client's `notifications/cancelled` reaches it.
        let principal = credentials.principal().to_string();
        let registration = waiting.register(session, &principal, &id, cancellation.clone());
        let cancelled_by_client = registration
            .as_ref()
            .map(|registration| registration.cancelled_by_client());
        let handler = handler.clone();
        let Call {
            name, arguments, ..
        } = self;
        let mut call = FinishOnDrop::new(
            Box::pin(async move {
                let _registration = registration;
                let asking = Asking::Prompt(Arc::new(prompt));
                handler.call(&name, arguments, options, seen, asking).await
            }),
            cancellation,
        );
        // Until the call sends something, the answer may still be plain JSON.
        let first = tokio::select! {
            biased;
            message = messages.recv() => message,
            outcome = &mut call => return json_response(&final_message(outcome, id)),
        };
        let Some(first) = first else {
            // Nothing more can come: every sender is gone, so the call has ended or will
            // without a message.
            let outcome = call.await;
            return json_response(&final_message(outcome, id));
        };
        tracing::debug!("a tools/call answers with an SSE stream: it asks the user");
        let stream = events(first, messages, call, id, cancelled_by_client);
        let mut response = Sse::new(stream)
            .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
            .into_response();
        // As rmcp's streams: a proxy that buffers would hold the question back.
        response
            .headers_mut()
            .insert("x-accel-buffering", http::HeaderValue::from_static("no"));
        response
    }
}

/// The stream of a call that sent `first`: it, what the call sends next, and its answer — none
/// when the client cancelled the call, as the spec asks. The call is polled by the stream, so a
/// client that goes away drops it (cancelled, see [`FinishOnDrop`]) and its questions stop
/// waiting.
fn events(
    first: ServerJsonRpcMessage,
    messages: mpsc::Receiver<ServerJsonRpcMessage>,
    call: FinishOnDrop,
    id: RequestId,
    cancelled_by_client: Option<Arc<AtomicBool>>,
) -> impl Stream<Item = Result<Event, Infallible>> + Send + 'static {
    let rest = futures::stream::unfold(
        (Some(call), messages, Some(id)),
        move |(call, mut messages, id)| {
            let cancelled_by_client = cancelled_by_client.clone();
            async move {
                let mut call = call?;
                tokio::select! {
                    biased;
                    Some(message) = messages.recv() => {
                        Some((Some(message), (Some(call), messages, id)))
                    }
                    outcome = &mut call => {
                        let id = id.expect("the answer is sent once");
                        let cancelled = cancelled_by_client
                            .is_some_and(|cancelled| cancelled.load(Ordering::Acquire));
                        let last = (!cancelled).then(|| final_message(outcome, id));
                        Some((last, (None, messages, None)))
                    }
                }
            }
        },
    );
    futures::stream::once(std::future::ready(Some(first)))
        .chain(rest)
        .filter_map(|message| std::future::ready(message.map(|message| Ok(event(&message)))))
}

/// One JSON-RPC message as an SSE event (`data:` only, as rmcp sends them).
fn event(message: &ServerJsonRpcMessage) -> Event {
    match serde_json::to_string(message) {
        Ok(data) => Event::default().data(data),
        Err(error) => {
            tracing::error!(%error, "could not serialize a JSON-RPC message");
            Event::default().comment("a message could not be serialized")
        }
    }
}

/// The call's answer as rmcp sends it to a peer on a revision before 2026-07-28.
fn final_message(outcome: CallOutcome, id: RequestId) -> ServerJsonRpcMessage {
    match outcome {
        Ok(response) => {
            let mut result = ServerResult::from(response);
            result.strip_result_type_for_legacy_peer();
            ServerJsonRpcMessage::response(result, id)
        }
        Err(error) => ServerJsonRpcMessage::error(error, Some(id)),
    }
}
