//! The list and invoke handlers of one plugin's actions API.
//!
//! Every request passes, in order: the `Host` check (403), the concurrency limit (503), the
//! caller's authentication (401) and access restrictions (403), then the body limit (413).
//! A call then goes through the [`Dispatcher`] exactly as an MCP `tools/call` does: access
//! restrictions and declared permission (an action the caller may not see is a 404, as an
//! unknown one — Backstage answers a denied `visibilityPermission` the same way), input
//! deserialization with the path of the bad value (400), the action with its timeout,
//! cancellation and panic isolation, and the output check.
//!
//! Operators see these requests as they see MCP ones: refusals counted
//! (`mcp_actions_auth_failures_total`, `mcp_actions_requests_refused_total`) and audited
//! (`mcp-actions.connection`), each list a `mcp-actions.tool-discovery` event and each invoke a
//! `mcp-actions.tool-execution` event, with `"api": "backstage-actions"` in their target.

use std::sync::Arc;
use std::time::Instant;

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
use crate::auth::actor;
use crate::http::body::answer_early;
use crate::telemetry::{AuditEvent, Target};

/// The `api` of these requests' audit events.
const API: &str = "backstage-actions";

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
    parts: http::request::Parts,
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl PluginApi {
    /// The host check, the concurrency limit and the caller; or the answer refusing them.
    async fn check(&self, request: Request) -> Result<(Checked, Body), Response> {
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
            self.api.telemetry.metrics.refused("concurrency_limit");
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
                self.refused(&parts, &error);
                let response = error_response(&parts.method, &parts.uri, &error);
                return Err(refuse(&parts, body, response));
            }
        };
        let checked = Checked {
            method: parts.method.clone(),
            uri: parts.uri.clone(),
            credentials,
            parts,
            _permit: permit,
        };
        Ok((checked, body))
    }

    /// Counts and audits a request refused by authentication or access restrictions.
    fn refused(&self, parts: &http::request::Parts, error: &ActionError) {
        let telemetry = &self.api.telemetry;
        let reason = match error.kind() {
            mcp_actions::ErrorKind::NotAllowedError => "rejected",
            _ if parts.headers.get(http::header::AUTHORIZATION).is_none() => "missing_token",
            _ if parts
                .headers
                .get_all(http::header::AUTHORIZATION)
                .iter()
                .count()
                > 1 =>
            {
                "ambiguous_token"
            }
            _ => "invalid_token",
        };
        telemetry.metrics.auth_failure(reason);
        telemetry.audit(|| {
            AuditEvent::new(
                "mcp-actions.connection",
                actor(parts, None),
                self.target(None),
            )
            .failed(error.name())
        });
    }

    /// The audit target of a request for `action_id` (none for a list).
    fn target(&self, action_id: Option<&str>) -> Target {
        Target {
            tool: None,
            action_id: action_id.map(|id| id.chars().take(200).collect()),
            server: "default".to_owned(),
            api: Some(API),
        }
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
        Ok((checked, _body)) => checked,
        Err(response) => return response,
    };
    let started = Instant::now();
    let actions: Vec<Value> = api
        .visible(&checked.credentials)
        .await
        .into_iter()
        .map(describe)
        .collect();
    api.api.telemetry.audit(|| {
        AuditEvent::new(
            "mcp-actions.tool-discovery",
            actor(&checked.parts, Some(&checked.credentials)),
            api.target(None),
        )
        .took(started.elapsed())
    });
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
    let (checked, body) = match api.check(request).await {
        Ok(checked) => checked,
        Err(response) => return response,
    };
    let started = Instant::now();
    let requested = id.as_ref().ok().map(|Path(id)| id.clone());
    let (response, failure) = call(&api, version, id, &checked, body).await;
    api.api.telemetry.audit(|| {
        let event = AuditEvent::new(
            "mcp-actions.tool-execution",
            actor(&checked.parts, Some(&checked.credentials)),
            api.target(requested.as_deref()),
        )
        .took(started.elapsed());
        match failure {
            None => event,
            Some(Failure { name, reference }) => {
                let mut event = event.failed(name);
                event.reference_id = reference;
                event
            }
        }
    });
    response
}

/// Why an invoke failed, as its audit event records it.
struct Failure {
    /// The error's name (`InputError`, `PayloadTooLargeError`, …).
    name: &'static str,
    /// The reference id of an internal error.
    reference: Option<String>,
}

impl Failure {
    fn of(error: &ActionError) -> Self {
        Self {
            name: error.name(),
            reference: error.reference().map(str::to_owned),
        }
    }
}

/// An invoke after the checks: the answer, and why it failed if it did.
async fn call(
    api: &PluginApi,
    version: Version,
    id: Result<Path<String>, PathRejection>,
    checked: &Checked,
    request_body: Body,
) -> (Response, Option<Failure>) {
    let Checked {
        method,
        uri,
        credentials,
        parts,
        ..
    } = checked;
    let fail = |error: ActionError| {
        (
            error_response(method, uri, &error),
            Some(Failure::of(&error)),
        )
    };
    let Ok(Path(id)) = id else {
        let (error, failure) = fail(ActionError::input("the action id in the path is not valid"));
        return (
            answer_early(parts.version, &parts.headers, request_body, error),
            failure,
        );
    };
    let dispatcher = &api.api.dispatcher;
    let action = dispatcher
        .registry()
        .get_by_id(&id)
        .filter(|a| a.plugin() == api.plugin);
    let Some(action) = action else {
        // Answered before the body is read: keep the connection usable.
        let (error, failure) = fail(not_found(&id));
        return (
            answer_early(parts.version, &parts.headers, request_body, error),
            failure,
        );
    };
    let bytes = match read(api.api.body_limit, parts, request_body).await {
        Ok(bytes) => bytes,
        Err(response) => {
            let name = if response.status() == StatusCode::PAYLOAD_TOO_LARGE {
                api.api.telemetry.metrics.refused("body_limit");
                "PayloadTooLargeError"
            } else {
                "InputError"
            };
            return (
                response,
                Some(Failure {
                    name,
                    reference: None,
                }),
            );
        }
    };
    let input = match arguments(version, &bytes) {
        Ok(input) => input,
        Err(error) => return fail(error),
    };
    let options =
        CallOptions::new(credentials.clone()).with_cancellation(api.api.calls.child_token());
    match dispatcher.call_visible(action, Some(input), options).await {
        Ok(output) => (
            axum::Json(json!({ "output": output })).into_response(),
            None,
        ),
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
