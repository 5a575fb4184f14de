//! The list and invoke handlers of one plugin's actions API.
//!
//! Every request passes, in order: the `Host` check (403), the concurrency limit (503), the
//! caller's authentication (401) and access restrictions (403), then the body limit (413).
//! A call then goes through the [`Dispatcher`] exactly as an MCP `tools/call` does: access
//! restrictions and declared permission (an action the caller may not see is a 404, as an
//! unknown one — Backstage answers a denied `visibilityPermission` the same way), input
//! deserialization with the path of the bad value (400), the action with its timeout,
//! cancellation and panic isolation, and the output check.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use http::{Method, StatusCode, Uri};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use mcp_actions::{ActionError, CallError, CallOptions, Credentials, RegisteredAction};
use serde_json::{Value, json};

use super::Api;
use super::errors::{body, error_response};
use crate::http::body::answer_early;

/// The two invoke endpoints.
#[derive(Debug, Clone, Copy)]
enum Version {
    /// The body is the input.
    V1,
    /// The body is `{"input": …, "secrets": …}`.
    V2,
}

/// One plugin's routes' state.
#[derive(Clone)]
pub(super) struct PluginApi {
    pub(super) api: Arc<Api>,
    pub(super) plugin: &'static str,
}

/// What the checks before a handler's own work hand it.
struct Checked {
    method: Method,
    uri: Uri,
    credentials: Credentials,
    body: Body,
    parts: http::request::Parts,
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl PluginApi {
    /// The host check, the concurrency limit and the caller; or the answer refusing them.
    async fn check(&self, request: Request) -> Result<Checked, Response> {
        let (parts, body) = request.into_parts();
        let refuse = |parts: &http::request::Parts, body: Body, response: Response| {
            answer_early(parts.version, &parts.headers, body, response)
        };
        if self.api.hosts.decide(&parts.uri, &parts.headers).is_err() {
            let response = super::errors::body(
                StatusCode::FORBIDDEN,
                &parts.method,
                &parts.uri,
                "NotAllowedError",
                "the Host header is not allowed (mcpActions.allowedHosts)",
            );
            return Err(refuse(&parts, body, response));
        }
        let Some(permit) = self.api.concurrency.try_acquire() else {
            let response = super::errors::body(
                StatusCode::SERVICE_UNAVAILABLE,
                &parts.method,
                &parts.uri,
                "ServiceUnavailableError",
                "the server is busy (mcpActions.limits.maxConcurrentRequests); retry later",
            );
            return Err(refuse(&parts, body, response));
        };
        let credentials = match self.api.callers.credentials(&parts, self.plugin).await {
            Ok(credentials) => credentials,
            Err(error) => {
                let response = error_response(&parts.method, &parts.uri, &error);
                return Err(refuse(&parts, body, response));
            }
        };
        Ok(Checked {
            method: parts.method.clone(),
            uri: parts.uri.clone(),
            credentials,
            body,
            parts,
            _permit: permit,
        })
    }

    /// The plugin's actions the caller may see, in registry order.
    async fn visible(&self, credentials: &Credentials) -> Vec<&RegisteredAction> {
        let dispatcher = &self.api.dispatcher;
        let mut out = Vec::new();
        for action in dispatcher.registry().iter() {
            if action.plugin() == self.plugin && dispatcher.is_visible(action, credentials).await {
                out.push(action);
            }
        }
        out
    }
}

/// `GET /api/<plugin>/.backstage/actions/v1/actions`: `{"actions": [...]}`, the plugin's
/// actions the caller may see, as Backstage's registry lists its own.
pub(super) async fn list(State(api): State<PluginApi>, request: Request) -> Response {
    let checked = match api.check(request).await {
        Ok(checked) => checked,
        Err(response) => return response,
    };
    let actions: Vec<Value> = api
        .visible(&checked.credentials)
        .await
        .into_iter()
        .map(describe)
        .collect();
    axum::Json(json!({ "actions": actions })).into_response()
}

/// One action as Backstage lists it: attributes after defaults, the schemas as MCP serves
/// them.
fn describe(action: &RegisteredAction) -> Value {
    let d = action.descriptor();
    json!({
        "id": action.id(),
        "name": d.name,
        "title": d.title,
        "description": d.description,
        "pluginId": d.plugin,
        "attributes": {
            "destructive": d.attributes.destructive,
            "idempotent": d.attributes.idempotent,
            "readOnly": d.attributes.read_only,
        },
        "schema": {
            "input": Value::Object((**action.input_schema()).clone()),
            "output": Value::Object((**action.output_schema()).clone()),
        },
    })
}

/// `POST /api/<plugin>/.backstage/actions/v1/actions/<id>/invoke` (the body is the input) and
/// `.../v2/...` (the body is `{"input": …, "secrets": …}`): `{"output": …}`.
pub(super) async fn invoke_v1(
    State(api): State<PluginApi>,
    id: Result<Path<String>, PathRejection>,
    request: Request,
) -> Response {
    invoke(api, Version::V1, id, request).await
}

/// `POST /api/<plugin>/.backstage/actions/v2/actions/<id>/invoke`: see [`invoke_v1`].
pub(super) async fn invoke_v2(
    State(api): State<PluginApi>,
    id: Result<Path<String>, PathRejection>,
    request: Request,
) -> Response {
    invoke(api, Version::V2, id, request).await
}

async fn invoke(
    api: PluginApi,
    version: Version,
    id: Result<Path<String>, PathRejection>,
    request: Request,
) -> Response {
    let checked = match api.check(request).await {
        Ok(checked) => checked,
        Err(response) => return response,
    };
    let Checked {
        method,
        uri,
        credentials,
        body: request_body,
        parts,
        _permit,
    } = checked;
    let fail = |error: ActionError| error_response(&method, &uri, &error);
    let Ok(Path(id)) = id else {
        let error = fail(ActionError::input("the action id in the path is not valid"));
        return answer_early(parts.version, &parts.headers, request_body, error);
    };
    let dispatcher = &api.api.dispatcher;
    let action = dispatcher
        .registry()
        .get_by_id(&id)
        .filter(|a| a.plugin() == api.plugin);
    let Some(action) = action else {
        // Answered before the body is read: keep the connection usable.
        let error = fail(not_found(&id));
        return answer_early(parts.version, &parts.headers, request_body, error);
    };
    let bytes = match read(api.api.body_limit, &parts, request_body).await {
        Ok(bytes) => bytes,
        Err(response) => return response,
    };
    let input = match arguments(version, &bytes) {
        Ok(input) => input,
        Err(error) => return fail(error),
    };
    let options = CallOptions::new(credentials).with_cancellation(api.api.calls.child_token());
    match dispatcher.call_visible(action, Some(input), options).await {
        Ok(output) => axum::Json(json!({ "output": output })).into_response(),
        Err(CallError::Hidden(_)) => fail(not_found(&id)),
        Err(CallError::Failed(error)) => fail(error),
        Err(other) => fail(other.into_action_error()),
    }
}

/// The answer for an action that does not exist or that the caller may not see (the same).
fn not_found(id: &str) -> ActionError {
    ActionError::not_found(format!(
        "Action \"{}\" not found",
        mcp_actions::error::cap_message(id)
    ))
}

/// The input of an invoke request: v1's body, or v2's `input` (an action of this server takes
/// no secrets, so v2's `secrets` must be absent). An empty body is `{}`.
fn arguments(version: Version, bytes: &[u8]) -> Result<Value, ActionError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        ActionError::input(format!(
            "the request body is not JSON: {}",
            mcp_actions::error::cap_message(&e.to_string())
        ))
    })?;
    match version {
        Version::V1 => Ok(value),
        Version::V2 => {
            let Value::Object(mut body) = value else {
                return Err(ActionError::input(
                    "the request body must be an object `{\"input\": …, \"secrets\": …}`",
                ));
            };
            if body.get("secrets").is_some_and(|s| !s.is_null()) {
                return Err(ActionError::input(
                    "this action does not accept secrets, but secrets were provided",
                ));
            }
            Ok(body.remove("input").unwrap_or_else(|| json!({})))
        }
    }
}

/// The body, at most `limit` bytes: over it, 413 (from `Content-Length` before reading).
async fn read(limit: usize, parts: &http::request::Parts, body: Body) -> Result<Bytes, Response> {
    let too_large = || {
        body_response(
            parts,
            StatusCode::PAYLOAD_TOO_LARGE,
            "PayloadTooLargeError",
            &format!(
                "the request body is larger than {limit} bytes (mcpActions.limits.maxRequestBodyBytes)"
            ),
        )
    };
    if crate::http::body::content_length(&parts.headers).is_some_and(|n| n > limit as u64) {
        return Err(answer_early(
            parts.version,
            &parts.headers,
            body,
            too_large(),
        ));
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.is::<LengthLimitError>() => {
            let mut response = too_large();
            response.headers_mut().insert(
                http::header::CONNECTION,
                http::HeaderValue::from_static("close"),
            );
            Err(response)
        }
        Err(_) => Err(body_response(
            parts,
            StatusCode::BAD_REQUEST,
            "InputError",
            "the request body could not be read",
        )),
    }
}

fn body_response(
    parts: &http::request::Parts,
    status: StatusCode,
    name: &str,
    message: &str,
) -> Response {
    body(status, &parts.method, &parts.uri, name, message)
}
