//! [`ActionsHandler`] as rmcp's `ServerHandler`: the requests rmcp's service hands over
//! (everything the direct path leaves to rmcp, stdio, the legacy SSE transport), each turned
//! into the handler's own `tools/list` and `tools/call`, with the caller's credentials, the
//! request's span and progress notifications.

use std::sync::Arc;

use mcp_actions::{BoxFuture, CallOptions, Credentials, Progress, ProgressReporter};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CompleteRequestMethod, CompleteRequestParams,
    CompleteResult, CustomRequest, CustomResult, DiscoverResult, ListPromptsRequestMethod,
    ListPromptsResult, ListResourceTemplatesRequestMethod, ListResourceTemplatesResult,
    ListResourcesRequestMethod, ListResourcesResult, ListToolsResult, PaginatedRequestParams,
    ProgressNotificationParam, ProgressToken, ServerConfig, Tool,
};
use rmcp::service::{Peer, RequestContext};
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use serde_json::Value;

use super::ask::Asking;
use super::handler::ActionsHandler;
use super::list;
use crate::telemetry::trace::{Request, W3c};

/// Why `params` do not deserialize as `P` (shortened), or a generic reason.
fn params_error<P: serde::de::DeserializeOwned>(params: Option<Value>) -> Option<String> {
    let params = params.unwrap_or(Value::Null);
    Some(match serde_json::from_value::<P>(params) {
        Err(error) => mcp_actions::error::cap_message(&error.to_string()),
        Ok(_) => "they do not have this method's shape".to_owned(),
    })
}

/// The caller's credentials, put in the HTTP request's extensions by the authentication layer.
fn credentials_of(ctx: &RequestContext<RoleServer>) -> Result<Credentials, McpError> {
    ctx.extensions
        .get::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Credentials>())
        .cloned()
        .ok_or_else(|| {
            tracing::error!(
                "an MCP request reached the handler without credentials; is the authentication layer missing?"
            );
            McpError::invalid_request("the request was not authenticated", None)
        })
}

/// Sends an action's progress to the client as MCP progress notifications.
struct PeerProgress {
    peer: Peer<RoleServer>,
    token: ProgressToken,
}

impl ProgressReporter for PeerProgress {
    fn report(&self, progress: Progress) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let mut param = ProgressNotificationParam::new(self.token.clone(), progress.progress);
            param.total = progress.total;
            param.message = progress.message;
            if let Err(error) = self.peer.notify_progress(param).await {
                tracing::debug!(%error, "could not send a progress notification");
            }
        })
    }
}

impl ServerHandler for ActionsHandler {
    fn get_info(&self) -> ServerConfig {
        self.server_config()
    }

    async fn discover(&self, _ctx: RequestContext<RoleServer>) -> Result<DiscoverResult, McpError> {
        Ok(self.discover_result())
    }

    async fn list_tools(
        &self,
        request: Option<PaginatedRequestParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let credentials = credentials_of(&ctx)?;
        let cursor = request.as_ref().and_then(|r| r.cursor.as_deref());
        let version = ctx.protocol_version();
        let hints = list::has_cache_hints(version.as_ref());
        let seen = self.seen(
            &Request {
                method: "tools/list",
                tool: None,
                id: &ctx.id,
                context: w3c(&ctx.meta),
            },
            ctx.extensions.get::<http::request::Parts>(),
            &credentials,
            version.as_ref().map(|v| v.as_str()),
        );
        self.list_for(&credentials, cursor, hints, &seen).await
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let credentials = credentials_of(&ctx)?;
        let version = ctx.protocol_version();
        let seen = self.seen(
            &Request {
                method: "tools/call",
                tool: Some(&request.name),
                id: &ctx.id,
                context: w3c(&ctx.meta),
            },
            ctx.extensions.get::<http::request::Parts>(),
            &credentials,
            version.as_ref().map(|v| v.as_str()),
        );
        // Cancelled by the client (a disconnect, `notifications/cancelled`) or by the server's
        // shutdown.
        let cancellation = self.call_cancellation();
        let mut options = CallOptions::new(credentials).with_cancellation(cancellation.clone());
        if let Some(token) = ctx.meta.get_progress_token() {
            options = options.with_progress(Arc::new(PeerProgress {
                peer: ctx.peer.clone(),
                token,
            }));
        }
        let asking = match &version {
            Some(version) if !version.has_initialize() => Asking::Rounds {
                can_ask: ctx
                    .client_capabilities()
                    .is_some_and(|capabilities| super::ask::can_elicit(&capabilities)),
                request_state: request.request_state,
                responses: request.input_responses,
            },
            _ => Asking::Peer(
                ctx.peer.clone(),
                ctx.extensions
                    .get::<http::request::Parts>()
                    .and_then(|parts| parts.extensions.get::<super::ask::FallbackPrompt>())
                    .cloned(),
            ),
        };
        let arguments = request.arguments.map(Value::Object);
        let call = self.call(&request.name, arguments, options, seen, asking);
        tokio::pin!(call);
        let result = tokio::select! {
            biased;
            result = &mut call => result,
            () = ctx.ct.cancelled() => {
                cancellation.cancel();
                call.await
            }
        };
        result
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.tool(name)
    }

    /// rmcp routes a request here when its method is unknown to it, or when its params do not
    /// have its method's shape (e.g. a `tools/call` whose `arguments` is an array, or without a
    /// `name`). The latter is JSON-RPC -32602 (invalid params), naming what is wrong; the
    /// former -32601 (method not found).
    async fn on_custom_request(
        &self,
        request: CustomRequest,
        _ctx: RequestContext<RoleServer>,
    ) -> Result<CustomResult, McpError> {
        let CustomRequest { method, params, .. } = request;
        let reason = match method.as_str() {
            "tools/call" => params_error::<CallToolRequestParams>(params),
            "tools/list" => params_error::<Option<PaginatedRequestParams>>(params),
            // `initialize` and `ping` land here when malformed, and always on 2026-07-28, which
            // removed them: that revision requires method-not-found (HTTP 404) for them.
            _ => None,
        };
        match reason {
            Some(reason) => Err(McpError::invalid_params(
                format!("invalid params for `{method}`: {reason}"),
                None,
            )),
            None => Err(McpError::new(
                rmcp::model::ErrorCode::METHOD_NOT_FOUND,
                method,
                None,
            )),
        }
    }

    // Only `tools` is declared; rmcp answers these with empty lists by default, so say
    // method-not-found, as for every other undeclared method.

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _ctx: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, McpError> {
        Err(McpError::method_not_found::<ListPromptsRequestMethod>())
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _ctx: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        Err(McpError::method_not_found::<ListResourcesRequestMethod>())
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _ctx: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        Err(McpError::method_not_found::<
            ListResourceTemplatesRequestMethod,
        >())
    }

    async fn complete(
        &self,
        _request: CompleteRequestParams,
        _ctx: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, McpError> {
        Err(McpError::method_not_found::<CompleteRequestMethod>())
    }
}

/// The trace context in a request's `_meta` (SEP-414).
fn w3c(meta: &rmcp::model::RequestMetaObject) -> W3c<'_> {
    W3c {
        traceparent: meta.get_traceparent(),
        tracestate: meta.get_tracestate(),
    }
}
