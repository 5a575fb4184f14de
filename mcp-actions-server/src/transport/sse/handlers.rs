//! The two routes: `GET {base}/sse` opens a session, `POST {base}/sse/messages` sends to it.

use super::session::*;
use super::*;

// ---------------------------------------------------------------------------------------------
// GET {base}/sse
// ---------------------------------------------------------------------------------------------

pub(super) async fn open_session(
    State(state): State<Arc<EndpointState>>,
    OriginalUri(uri): OriginalUri,
    request: Request,
) -> Response {
    let Some(owner) = request.extensions().get::<Credentials>().cloned() else {
        return missing_credentials();
    };
    if state.shutdown.is_cancelled() {
        return error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailableError",
            "the server is shutting down",
        );
    }
    let id = new_session_id();
    let cancel = state.shutdown.child_token();
    let activity = Arc::new(Activity::new());
    let (to_server, from_client) = mpsc::channel::<ClientJsonRpcMessage>(CHANNEL_CAPACITY);
    let (to_client, from_server) = mpsc::channel::<ServerJsonRpcMessage>(CHANNEL_CAPACITY);
    {
        let mut sessions = state.sessions.lock();
        if sessions.len() >= state.options.max_sessions {
            drop(sessions);
            tracing::warn!(
                max_sessions = state.options.max_sessions,
                principal = %owner.principal(),
                "refused an SSE session: every session slot is taken (mcpActions.sse.maxSessions)"
            );
            let mut response = error_response(
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailableError",
                &format!(
                    "too many open SSE sessions (at most {}); retry later, or use the Streamable HTTP endpoint, which has no sessions",
                    state.options.max_sessions
                ),
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
            return response;
        }
        sessions.insert(
            id.clone(),
            Session {
                to_server,
                owner: owner.clone(),
                activity: Arc::clone(&activity),
            },
        );
    }
    tracing::info!(session = %id, principal = %owner.principal(), "SSE session opened");

    // The session's MCP service: the handler on a (Sink, Stream) pair.
    let sink_activity = Arc::clone(&activity);
    let to_client = to_client.with(move |message: ServerJsonRpcMessage| {
        sink_activity.sent(&message);
        futures::future::ready(Ok::<_, mpsc::SendError>(message))
    });
    let handler = state.handler.clone();
    let idle_timeout = state.options.idle_timeout;
    let (task_id, task_sessions, task_cancel) =
        (id.clone(), Arc::clone(&state.sessions), cancel.clone());
    tokio::spawn(async move {
        let serve = async {
            match handler
                .serve_with_ct((to_client, from_client), task_cancel.clone())
                .await
            {
                Ok(running) => {
                    let _ = running.waiting().await;
                }
                Err(error) => {
                    tracing::debug!(session = %task_id, %error, "SSE session ended before initializing")
                }
            }
        };
        let idle = async {
            match idle_timeout {
                Some(timeout) => activity.idle_for(timeout).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = serve => {}
            () = idle => tracing::info!(
                session = %task_id,
                idle_timeout_seconds = idle_timeout.map(|t| t.as_secs()),
                "SSE session closed: idle (mcpActions.sse.idleTimeoutSeconds)"
            ),
            () = task_cancel.cancelled() => {}
        }
        task_cancel.cancel();
        task_sessions.remove(&task_id);
    });

    let messages_url = format!(
        "{}/messages?sessionId={id}",
        uri.path().trim_end_matches('/')
    );
    let stream = SessionStream {
        endpoint: Some(Event::default().event("endpoint").data(messages_url)),
        from_server,
        closed: Box::pin(cancel.clone().cancelled_owned()),
        _guard: SessionGuard {
            id,
            sessions: Arc::clone(&state.sessions),
            cancel,
        },
    };
    let sse = Sse::new(stream);
    let mut response = match state.options.keep_alive {
        Some(interval) => sse
            .keep_alive(KeepAlive::new().interval(interval))
            .into_response(),
        None => sse.into_response(),
    };
    // Tell nginx-style proxies not to buffer the stream.
    response
        .headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

/// The event stream of one session: `endpoint`, then one `message` per server message; ends
/// when the session is closed.
pub(super) struct SessionStream {
    pub(super) endpoint: Option<Event>,
    pub(super) from_server: mpsc::Receiver<ServerJsonRpcMessage>,
    pub(super) closed: Pin<Box<WaitForCancellationFutureOwned>>,
    pub(super) _guard: SessionGuard,
}

impl Stream for SessionStream {
    type Item = Result<Event, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Some(endpoint) = self.endpoint.take() {
            return Poll::Ready(Some(Ok(endpoint)));
        }
        loop {
            match self.from_server.poll_next_unpin(cx) {
                Poll::Ready(Some(message)) => match serde_json::to_string(&message) {
                    Ok(json) => {
                        return Poll::Ready(Some(Ok(Event::default().event("message").data(json))));
                    }
                    Err(error) => {
                        tracing::error!(%error, "could not serialize a message for an SSE client");
                    }
                },
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => {
                    return match self.closed.as_mut().poll(cx) {
                        Poll::Ready(()) => Poll::Ready(None),
                        Poll::Pending => Poll::Pending,
                    };
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// POST {base}/sse/messages?sessionId=…
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize)]
pub(super) struct MessageQuery {
    #[serde(rename = "sessionId")]
    pub(super) session_id: Option<String>,
}

pub(super) async fn post_message(
    State(state): State<Arc<EndpointState>>,
    query: Result<Query<MessageQuery>, QueryRejection>,
    request: Request,
) -> Response {
    let session_id = match query {
        Ok(Query(MessageQuery {
            session_id: Some(id),
        })) if !id.is_empty() => id,
        Ok(_) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                "InputError",
                "the sessionId query parameter is required: POST to the URL of the `endpoint` event that GET …/sse sends first",
            );
        }
        Err(rejection) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                "InputError",
                &format!("the query string is not valid: {}", rejection.body_text()),
            );
        }
    };
    let (parts, body) = request.into_parts();
    let Some(caller) = parts.extensions.get::<Credentials>() else {
        return missing_credentials();
    };
    let session = state.sessions.lock().get(&session_id).cloned();
    let Some(session) = session.filter(|session| {
        let same = session.owner == *caller;
        if !same {
            tracing::warn!(
                session = %session_id,
                owner = %session.owner.principal(),
                caller = %caller.principal(),
                "refused a POST into an SSE session opened by somebody else"
            );
        }
        same
    }) else {
        return no_such_session(&session_id);
    };

    let bytes = match axum::body::to_bytes(body, state.options.max_request_body_bytes).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return error_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                "InputError",
                &format!(
                    "the request body is larger than {} bytes (mcpActions.limits.maxRequestBodyBytes)",
                    state.options.max_request_body_bytes
                ),
            );
        }
    };
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return error_response(
            StatusCode::BAD_REQUEST,
            "InputError",
            "JSON-RPC batches are not supported: POST one message per request",
        );
    }
    let mut message: ClientJsonRpcMessage = match serde_json::from_slice(&bytes) {
        Ok(message) => message,
        Err(error) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                "InputError",
                &format!("the body is not a JSON-RPC message of the MCP client: {error}"),
            );
        }
    };
    session.activity.received(&message);
    // The handler finds the caller's credentials in the request's `Parts`, as over
    // Streamable HTTP.
    message.insert_extension(parts);
    let mut to_server = session.to_server;
    if to_server.send(message).await.is_err() {
        return no_such_session(&session_id);
    }
    (StatusCode::ACCEPTED, "Accepted").into_response()
}
