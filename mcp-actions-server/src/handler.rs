//! The MCP handler: rmcp's `ServerHandler` over a [`Dispatcher`].
//!
//! The tool list is built once, when the handler is created; `tools/list` only filters it for
//! the caller (access restrictions and declared permissions, through
//! [`Dispatcher::is_visible`]). `tools/call` goes through [`Dispatcher::call`], and every
//! failure is an in-band tool result (`isError: true`, text `"<ErrorName>: <message>"`).

use std::collections::HashMap;
use std::sync::Arc;

use mcp_actions::{
    ActionError, BoxFuture, CallOptions, Credentials, Dispatcher, Progress, ProgressReporter,
    RegisteredAction,
};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, CompleteRequestMethod,
    CompleteRequestParams, CompleteResult, ContentBlock, Implementation, ListPromptsRequestMethod,
    ListPromptsResult, ListResourceTemplatesRequestMethod, ListResourceTemplatesResult,
    ListResourcesRequestMethod, ListResourcesResult, ListToolsResult, PaginatedRequestParams,
    ProgressNotificationParam, ProgressToken, ServerCapabilities, ServerConfig, Tool,
    ToolAnnotations,
};
use rmcp::service::{Peer, RequestContext};
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use serde_json::Value;

/// How the server presents itself to clients (`serverInfo`, `instructions`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerIdentity {
    /// `serverInfo.name`.
    pub name: String,
    /// `serverInfo.version`.
    pub version: String,
    /// `serverInfo.description`.
    pub description: Option<String>,
    /// `instructions`.
    pub instructions: Option<String>,
}

/// The MCP handler serving a registry's actions. Cheap to clone (rmcp creates one per
/// stateless request).
#[derive(Clone)]
pub struct ActionsHandler {
    inner: Arc<Inner>,
}

struct Inner {
    dispatcher: Dispatcher,
    /// One tool per registry action, in registry order.
    tools: Vec<Tool>,
    by_name: HashMap<String, usize>,
    info: ServerConfig,
}

impl std::fmt::Debug for ActionsHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActionsHandler")
            .field("tools", &self.inner.tools.len())
            .field("dispatcher", &self.inner.dispatcher)
            .finish_non_exhaustive()
    }
}

/// The MCP tool describing `action`.
pub fn tool_for(action: &RegisteredAction) -> Tool {
    let d = action.descriptor();
    let annotations = ToolAnnotations::with_title(d.title)
        .read_only(d.attributes.read_only)
        .destructive(d.attributes.destructive)
        .idempotent(d.attributes.idempotent)
        .open_world(d.attributes.open_world);
    Tool::new(d.name, d.description, Arc::clone(action.input_schema()))
        .with_title(d.title)
        .with_raw_output_schema(Arc::clone(action.output_schema()))
        .with_annotations(annotations)
}

impl ActionsHandler {
    /// A handler for the dispatcher's registry; the tools are built here, once.
    pub fn new(dispatcher: Dispatcher, identity: ServerIdentity) -> Self {
        let tools: Vec<Tool> = dispatcher.registry().iter().map(tool_for).collect();
        let by_name = tools
            .iter()
            .enumerate()
            .map(|(i, t)| (t.name.to_string(), i))
            .collect();
        let mut implementation = Implementation::new(identity.name, identity.version);
        if let Some(description) = identity.description {
            implementation = implementation.with_description(description);
        }
        let mut info = ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(implementation);
        if let Some(instructions) = identity.instructions {
            info = info.with_instructions(instructions);
        }
        Self {
            inner: Arc::new(Inner {
                dispatcher,
                tools,
                by_name,
                info,
            }),
        }
    }

    /// The dispatcher every call goes through.
    pub fn dispatcher(&self) -> &Dispatcher {
        &self.inner.dispatcher
    }

    /// Every tool, unfiltered, in registry order.
    pub fn all_tools(&self) -> &[Tool] {
        &self.inner.tools
    }

    /// The tools `credentials` may see.
    pub async fn visible_tools(&self, credentials: &Credentials) -> Vec<Tool> {
        let dispatcher = &self.inner.dispatcher;
        let mut tools = Vec::with_capacity(self.inner.tools.len());
        for (action, tool) in dispatcher.registry().iter().zip(&self.inner.tools) {
            if dispatcher.is_visible(action, credentials).await {
                tools.push(tool.clone());
            }
        }
        tools
    }

    /// Calls the tool `name` as `options.credentials`, turning every failure into an in-band
    /// error result.
    pub async fn call(
        &self,
        name: &str,
        arguments: Option<Value>,
        options: CallOptions,
    ) -> CallToolResult {
        match self.inner.dispatcher.call(name, arguments, options).await {
            Ok(output) => CallToolResult::structured(output),
            Err(error) => error_result(&error),
        }
    }
}

/// The in-band result for a failed call: `isError: true` and the error's client-facing text.
pub fn error_result(error: &ActionError) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(error.to_string())])
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
        self.inner.info.clone()
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let credentials = credentials_of(&ctx)?;
        let tools = self.visible_tools(&credentials).await;
        tracing::debug!(
            principal = %credentials.principal(),
            visible = tools.len(),
            total = self.inner.tools.len(),
            "tools/list"
        );
        Ok(ListToolsResult::with_all_items(tools))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let credentials = credentials_of(&ctx)?;
        let mut options = CallOptions::new(credentials).with_cancellation(ctx.ct.clone());
        if let Some(token) = ctx.meta.get_progress_token() {
            options = options.with_progress(Arc::new(PeerProgress {
                peer: ctx.peer.clone(),
                token,
            }));
        }
        let arguments = request.arguments.map(Value::Object);
        Ok(self.call(&request.name, arguments, options).await.into())
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.inner
            .by_name
            .get(name)
            .map(|&i| self.inner.tools[i].clone())
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
