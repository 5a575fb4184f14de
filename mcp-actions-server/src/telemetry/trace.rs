//! The SERVER span of each `tools/call` and `tools/list`, following the OpenTelemetry semantic
//! conventions for MCP: named `{mcp.method.name} {target}` (`tools/call greet_user`,
//! `tools/list`), with the method, tool, request id, protocol revision, network and client
//! attributes, the caller's principal (`mcp_actions.principal`), and `error.type` once the
//! request has ended. Arguments and results are never recorded.
//!
//! Its parent is the caller's trace, from `params._meta.traceparent` / `tracestate` (SEP-414,
//! normative from 2026-07-28) or else the W3C `traceparent` / `tracestate` HTTP headers; the
//! `action` span of the call, and every span the action opens, are its children.
//!
//! It is an ordinary `tracing` span of target [`TARGET`], exported by the OpenTelemetry layer
//! that `otel.rs` installs. The command line's log output leaves that target out, so with no
//! exporter the span's callsite is disabled and costs nothing.

use std::fmt;

use http::request::Parts;
use mcp_actions::Credentials;
use tracing::Span;
use tracing::field::Empty;

/// The target of the request spans, for filters (`RUST_LOG=mcp_actions_server::request=info`
/// shows them in the log too).
pub(crate) const TARGET: &str = "mcp_actions_server::request";

/// What a request's span is made of.
pub(crate) struct Request<'a> {
    /// `tools/call` or `tools/list`.
    pub(crate) method: &'static str,
    /// The tool called, for `tools/call`.
    pub(crate) tool: Option<&'a str>,
    /// The JSON-RPC request id.
    pub(crate) id: &'a dyn fmt::Display,
    /// `_meta.traceparent` and `_meta.tracestate`, when the request has them.
    #[cfg_attr(not(feature = "otel"), allow(dead_code))] // read to set the span's parent
    pub(crate) context: W3c<'a>,
}

/// W3C Trace Context values.
#[derive(Clone, Copy, Debug, Default)]
#[cfg_attr(not(feature = "otel"), allow(dead_code))] // read to set the span's parent
pub(crate) struct W3c<'a> {
    pub(crate) traceparent: Option<&'a str>,
    pub(crate) tracestate: Option<&'a str>,
}

#[cfg(feature = "otel")]
impl opentelemetry::propagation::Extractor for W3c<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        match key {
            "traceparent" => self.traceparent,
            "tracestate" => self.tracestate,
            _ => None,
        }
    }
    fn keys(&self) -> Vec<&str> {
        vec!["traceparent", "tracestate"]
    }
}

/// `{method} {tool}`, or the method alone.
struct SpanName<'a>(&'static str, Option<&'a str>);

impl fmt::Display for SpanName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.1 {
            Some(tool) => write!(f, "{} {tool}", self.0),
            None => f.write_str(self.0),
        }
    }
}

/// The span of `request`, received over HTTP (`parts`) or stdio (`None`) at `version`, from
/// `credentials`' holder, for the server `server`. Disabled (and not built) when nothing
/// records it.
pub(crate) fn request_span(
    request: &Request<'_>,
    parts: Option<&Parts>,
    credentials: &Credentials,
    version: Option<&str>,
    server: &str,
) -> Span {
    let span = tracing::info_span!(
        target: TARGET,
        "mcp.request",
        "otel.name" = %SpanName(request.method, request.tool),
        "otel.kind" = "server",
        "otel.status_code" = Empty,
        "mcp.method.name" = request.method,
        "gen_ai.tool.name" = request.tool,
        "gen_ai.operation.name" = request.tool.map(|_| "execute_tool"),
        "jsonrpc.request.id" = %request.id,
        "mcp.protocol.version" = version,
        "network.transport" = if parts.is_some() { "tcp" } else { "pipe" },
        "network.protocol.name" = parts.map(|_| "http"),
        "network.protocol.version" = parts.map(|p| http_version(p.version)),
        "client.address" = Empty,
        "client.port" = Empty,
        "server.address" = Empty,
        "server.port" = Empty,
        "error.type" = Empty,
        "mcp_actions.principal" = %credentials.principal(),
        "mcp_actions.server" = server,
    );
    if span.is_disabled() {
        return span;
    }
    if let Some(parts) = parts {
        if let Some(client) = parts
            .extensions
            .get::<axum::extract::ConnectInfo<crate::http::Peer>>()
        {
            span.record(
                "client.address",
                tracing::field::display(client.0.addr.ip()),
            );
            span.record("client.port", client.0.addr.port());
        }
        let host = parts
            .headers
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .and_then(|h| h.parse::<http::uri::Authority>().ok());
        if let Some(host) = host {
            span.record("server.address", host.host());
            if let Some(port) = host.port_u16() {
                span.record("server.port", port);
            }
        }
    }
    #[cfg(feature = "otel")]
    set_parent(&span, parts, request.context);
    span
}

fn http_version(version: http::Version) -> &'static str {
    match version {
        http::Version::HTTP_09 => "0.9",
        http::Version::HTTP_10 => "1.0",
        http::Version::HTTP_2 => "2",
        http::Version::HTTP_3 => "3",
        _ => "1.1",
    }
}

/// Records how the request ended on its span: `error.type` (`tool_error`, or the JSON-RPC
/// error code) and an error status. Nothing on success.
pub(crate) fn record_error(span: &Span, error_type: &str) {
    if !error_type.is_empty() && !span.is_disabled() {
        span.record("error.type", error_type);
        span.record("otel.status_code", "ERROR");
    }
}

/// Makes the caller's trace the parent of `span`: `_meta`'s context when it has a
/// `traceparent`, else the HTTP headers'.
#[cfg(feature = "otel")]
fn set_parent(span: &Span, parts: Option<&Parts>, meta: W3c<'_>) {
    use opentelemetry::propagation::Extractor;
    use tracing_opentelemetry::OpenTelemetrySpanExt;

    struct Headers<'a>(&'a http::HeaderMap);
    impl Extractor for Headers<'_> {
        fn get(&self, key: &str) -> Option<&str> {
            self.0.get(key).and_then(|v| v.to_str().ok())
        }
        fn keys(&self) -> Vec<&str> {
            self.0.keys().map(http::HeaderName::as_str).collect()
        }
    }
    let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
        if meta.traceparent.is_some() {
            Some(propagator.extract(&meta))
        } else {
            parts
                .filter(|p| p.headers.contains_key("traceparent"))
                .map(|p| propagator.extract(&Headers(&p.headers)))
        }
    });
    if let Some(parent) = parent {
        let _ = span.set_parent(parent);
    }
}
