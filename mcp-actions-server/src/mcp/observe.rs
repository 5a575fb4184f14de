//! Each `tools/call` and `tools/list` as operators see it: a sample of
//! `mcp.server.operation.duration`, an audit event (`mcp-actions.tool-execution`,
//! `mcp-actions.tool-discovery`) and a SERVER span, on the direct path and through rmcp alike.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Instant;

use http::request::Parts;
use mcp_actions::Credentials;
use rmcp::model::ProtocolVersion;
use serde_json::Value;

use crate::auth::actor;
use crate::telemetry::audit::redacted;
use crate::telemetry::metrics::OperationLabels;
use crate::telemetry::trace::{self, Request};
use crate::telemetry::{Actor, AuditEvent, Target, Telemetry};

/// Where an endpoint's operations are recorded.
#[derive(Clone, Debug)]
pub(crate) struct Observer {
    telemetry: Telemetry,
    /// The server key: `default`, or a named server's (shared by every metrics label).
    server: Arc<String>,
}

/// `version` as a metrics label: borrowed for the revisions rmcp knows, so that the common
/// case makes no string.
fn revision_label(version: &str) -> Cow<'static, str> {
    match ProtocolVersion::KNOWN_VERSIONS
        .iter()
        .find(|known| known.as_str() == version)
    {
        Some(known) => Cow::Borrowed(known.as_str()),
        None => Cow::Owned(version.to_owned()),
    }
}

/// What is known of a request besides its message: its revision, its span and, when
/// auditing, who sent it.
#[derive(Debug)]
pub(crate) struct Seen {
    version: Cow<'static, str>,
    actor: Option<Actor>,
    span: tracing::Span,
}

impl Default for Seen {
    fn default() -> Self {
        Self {
            version: Cow::Borrowed(""),
            actor: None,
            span: tracing::Span::none(),
        }
    }
}

impl Seen {
    /// The request's span (disabled when nothing records it): the call runs in it.
    pub(crate) fn span(&self) -> &tracing::Span {
        &self.span
    }
}

/// How a call ended.
pub(crate) enum Ended<'a> {
    /// The action's output.
    Output,
    /// A 2026-07-28 input-required result: the action waits for the user's answer, which the
    /// client's retry brings (audited as a call of its own).
    InputRequired,
    /// An in-band error (`isError: true`): its name and reference id.
    ToolError(&'static str, Option<&'a str>),
    /// A JSON-RPC error: its code and the error name its message reads.
    Protocol(i32, &'static str),
}

impl Observer {
    pub(crate) fn new(telemetry: Telemetry, server: &str) -> Self {
        Self {
            telemetry,
            server: Arc::new(server.to_owned()),
        }
    }

    /// What is known of `request` from its HTTP head (`None` over stdio) and revision.
    pub(crate) fn seen(
        &self,
        request: &Request<'_>,
        parts: Option<&Parts>,
        credentials: &Credentials,
        version: Option<&str>,
    ) -> Seen {
        let audited = self.telemetry.audit.is_some();
        Seen {
            span: trace::request_span(request, parts, credentials, version, &self.server),
            version: revision_label(version.unwrap_or_default()),
            actor: audited.then(|| match parts {
                Some(parts) => actor(parts, Some(credentials)),
                None => Actor {
                    principal: Some(credentials.principal().to_string()),
                    authentication: "stdio",
                    ..Actor::default()
                },
            }),
        }
    }

    /// The arguments as the audit records them: `None` unless `mcpActions.audit.arguments`.
    pub(crate) fn arguments(&self, arguments: Option<&Value>) -> Option<Value> {
        let audit = self.telemetry.audit.as_ref()?;
        audit
            .records_arguments()
            .then(|| arguments.map(redacted).unwrap_or(Value::Null))
    }

    /// A `tools/call` of `tool` (action `action_id`, when found) that `ended` after `started`.
    pub(crate) fn call(
        &self,
        seen: Seen,
        tool: &str,
        action_id: Option<&str>,
        ended: Ended<'_>,
        started: Instant,
        arguments: Option<Value>,
    ) {
        let elapsed = started.elapsed();
        let waiting = matches!(ended, Ended::InputRequired);
        let (error_type, error, reference) = match ended {
            Ended::Output | Ended::InputRequired => (Cow::Borrowed(""), None, None),
            Ended::ToolError(name, reference) => {
                (Cow::Borrowed("tool_error"), Some(name), reference)
            }
            Ended::Protocol(code, name) => (Cow::Owned(code.to_string()), Some(name), None),
        };
        trace::record_error(&seen.span, &error_type);
        self.telemetry.metrics.operation(
            OperationLabels {
                mcp_method_name: "tools/call",
                gen_ai_tool_name: tool.to_owned(),
                error_type,
                mcp_protocol_version: seen.version,
                server: Arc::clone(&self.server),
            },
            elapsed.as_secs_f64(),
        );
        if let Some(actor) = seen.actor {
            self.telemetry.audit(|| {
                let mut event = AuditEvent::new(
                    "mcp-actions.tool-execution",
                    actor,
                    Target {
                        tool: Some(tool.to_owned()),
                        action_id: action_id.map(str::to_owned),
                        server: self.server.to_string(),
                        api: None,
                    },
                )
                .took(elapsed);
                if let Some(error) = error {
                    event = event.failed(error);
                }
                if waiting {
                    event.outcome = "input-required";
                }
                event.reference_id = reference.map(str::to_owned);
                event.arguments = arguments;
                event
            });
        }
    }

    /// A `tools/list` that answered `listed` tools (or the JSON-RPC error `Err(code)`).
    pub(crate) fn list(&self, seen: &Seen, listed: Result<usize, i32>, started: Instant) {
        let elapsed = started.elapsed();
        let error_type: Cow<'static, str> = match listed {
            Ok(_) => Cow::Borrowed(""),
            Err(code) => Cow::Owned(code.to_string()),
        };
        trace::record_error(&seen.span, &error_type);
        self.telemetry.metrics.operation(
            OperationLabels {
                mcp_method_name: "tools/list",
                gen_ai_tool_name: String::new(),
                error_type,
                mcp_protocol_version: seen.version.clone(),
                server: Arc::clone(&self.server),
            },
            elapsed.as_secs_f64(),
        );
        if let Some(actor) = &seen.actor {
            self.telemetry.audit(|| {
                let event = AuditEvent::new(
                    "mcp-actions.tool-discovery",
                    actor.clone(),
                    Target {
                        server: self.server.to_string(),
                        ..Target::default()
                    },
                )
                .took(elapsed);
                match listed {
                    Ok(_) => event,
                    Err(_) => event.failed("InputError"),
                }
            });
        }
    }
}
