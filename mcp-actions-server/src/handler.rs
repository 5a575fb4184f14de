//! The MCP handler: rmcp's `ServerHandler` over a [`Dispatcher`].
//!
//! The tool list and the tool name → action map are built once, when the handler is created;
//! `tools/list` only filters the list for the caller (access restrictions and declared
//! permissions, through [`Dispatcher::is_visible`]). `tools/call` finds the action by tool name
//! in O(1) and runs it through [`Dispatcher::call_action`]; every failure is an in-band tool
//! result (`isError: true`, text `"<ErrorName>: <message>"`).
//!
//! Tool names are the action names (`get_catalog_entity`), or with
//! `mcpActions.namespacedToolNames` the plugin id and the name joined by `__`
//! (`catalog__get_catalog_entity`), see [`ToolNaming`].

use std::collections::HashMap;
use std::sync::Arc;

use mcp_actions::{
    ActionError, BoxFuture, CallOptions, Credentials, Dispatcher, Progress, ProgressReporter,
    RegisteredAction,
};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, CompleteRequestMethod,
    CompleteRequestParams, CompleteResult, ContentBlock, CustomRequest, CustomResult,
    Implementation, ListPromptsRequestMethod, ListPromptsResult,
    ListResourceTemplatesRequestMethod, ListResourceTemplatesResult, ListResourcesRequestMethod,
    ListResourcesResult, ListToolsResult, PaginatedRequestParams, ProgressNotificationParam,
    ProgressToken, ServerCapabilities, ServerConfig, Tool, ToolAnnotations,
};
use rmcp::service::{Peer, RequestContext};
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

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

/// How tools are named.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ToolNaming {
    /// The action's name, e.g. `get_catalog_entity` (action names are unique in a binary).
    #[default]
    Plain,
    /// `<plugin>__<name>` with every `-` of the plugin id replaced by `_`, e.g.
    /// `my_plugin__get_thing` (`mcpActions.namespacedToolNames: true`).
    ///
    /// Backstage names namespaced tools `plugin.name`; some clients (Claude, Gemini, OpenAI)
    /// reject `.` and `-` in tool names, so this form keeps to `^[a-zA-Z0-9_]{1,64}$`. A name
    /// over 64 characters, or two actions with the same name after the replacement, is a
    /// start-up error ([`ToolNameProblem`]).
    Namespaced,
}

impl ToolNaming {
    /// `Namespaced` when `namespaced`, else `Plain`.
    pub fn from_config(namespaced: bool) -> Self {
        if namespaced {
            ToolNaming::Namespaced
        } else {
            ToolNaming::Plain
        }
    }

    /// The tool name of `action`.
    pub fn tool_name(self, action: &RegisteredAction) -> String {
        match self {
            ToolNaming::Plain => action.name().to_owned(),
            ToolNaming::Namespaced => {
                format!("{}__{}", action.plugin().replace('-', "_"), action.name())
            }
        }
    }
}

/// The longest tool name clients accept.
pub const MAX_TOOL_NAME_LENGTH: usize = 64;

/// Why the actions' tool names cannot be served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ToolNameProblem {
    /// A tool name longer than [`MAX_TOOL_NAME_LENGTH`].
    #[error(
        "tool name `{name}` of action `{id}` at {location} is {length} characters long; clients accept at most 64 (shorten the plugin id or the action name, or turn `mcpActions.namespacedToolNames` off)"
    )]
    TooLong {
        /// The tool name.
        name: String,
        /// The action's id.
        id: String,
        /// Its length.
        length: usize,
        /// The action's `file:line`.
        location: String,
    },
    /// Two actions with the same tool name.
    #[error(
        "tool name `{name}` is used by two actions: {first} and {second}; rename one of them (`-` in a plugin id becomes `_` in namespaced tool names)"
    )]
    Collision {
        /// The tool name.
        name: String,
        /// The first action: id and `file:line`.
        first: String,
        /// The second action: id and `file:line`.
        second: String,
    },
}

/// The tool names of the registry's actions under `naming`, in registry order, or every
/// problem (too long, collisions naming both actions).
pub fn tool_names(
    registry: &mcp_actions::Registry,
    naming: ToolNaming,
) -> Result<Vec<String>, Vec<ToolNameProblem>> {
    let mut problems = Vec::new();
    let mut names = Vec::with_capacity(registry.len());
    let mut seen: HashMap<String, &RegisteredAction> = HashMap::with_capacity(registry.len());
    for action in registry.iter() {
        let name = naming.tool_name(action);
        let location = action.descriptor().location.to_string();
        if name.len() > MAX_TOOL_NAME_LENGTH {
            problems.push(ToolNameProblem::TooLong {
                length: name.len(),
                name: name.clone(),
                id: action.id().to_owned(),
                location: location.clone(),
            });
        }
        if let Some(first) = seen.get(&name) {
            problems.push(ToolNameProblem::Collision {
                name: name.clone(),
                first: format!("`{}` at {}", first.id(), first.descriptor().location),
                second: format!("`{}` at {location}", action.id()),
            });
        } else {
            seen.insert(name.clone(), action);
        }
        names.push(name);
    }
    if problems.is_empty() {
        Ok(names)
    } else {
        Err(problems)
    }
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
    /// The actions, in the same order as `tools`.
    actions: Vec<RegisteredAction>,
    /// Tool name → index in `tools` and `actions`.
    by_name: HashMap<String, usize>,
    info: ServerConfig,
    /// Cancels every call in progress (the server's shutdown, once its grace period is over).
    calls: CancellationToken,
}

impl std::fmt::Debug for ActionsHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActionsHandler")
            .field("tools", &self.inner.tools.len())
            .field("dispatcher", &self.inner.dispatcher)
            .finish_non_exhaustive()
    }
}

/// The MCP tool describing `action`, named after the action.
pub fn tool_for(action: &RegisteredAction) -> Tool {
    tool_named(action, action.name().to_owned())
}

/// The MCP tool describing `action`, named `name`.
pub fn tool_named(action: &RegisteredAction, name: String) -> Tool {
    let d = action.descriptor();
    let annotations = ToolAnnotations::with_title(d.title)
        .read_only(d.attributes.read_only)
        .destructive(d.attributes.destructive)
        .idempotent(d.attributes.idempotent)
        .open_world(d.attributes.open_world);
    Tool::new(name, d.description, Arc::clone(action.input_schema()))
        .with_title(d.title)
        .with_raw_output_schema(Arc::clone(action.output_schema()))
        .with_annotations(annotations)
}

impl ActionsHandler {
    /// A handler for the dispatcher's registry, tools named after their actions; the tools are
    /// built here, once.
    pub fn new(dispatcher: Dispatcher, identity: ServerIdentity) -> Self {
        let names = dispatcher
            .registry()
            .iter()
            .map(|a| a.name().to_owned())
            .collect();
        Self::from_parts(dispatcher, identity, names)
    }

    /// A handler whose tools are named by `naming`; fails when a name is too long or two
    /// actions share one.
    pub fn with_tool_naming(
        dispatcher: Dispatcher,
        identity: ServerIdentity,
        naming: ToolNaming,
    ) -> Result<Self, Vec<ToolNameProblem>> {
        let names = tool_names(dispatcher.registry(), naming)?;
        Ok(Self::from_parts(dispatcher, identity, names))
    }

    fn from_parts(dispatcher: Dispatcher, identity: ServerIdentity, names: Vec<String>) -> Self {
        let actions: Vec<RegisteredAction> = dispatcher.registry().iter().cloned().collect();
        let tools: Vec<Tool> = actions
            .iter()
            .zip(names)
            .map(|(action, name)| tool_named(action, name))
            .collect();
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
                actions,
                by_name,
                info,
                calls: CancellationToken::new(),
            }),
        }
    }

    /// Cancels every call in progress when `token` is cancelled: each ends with
    /// `ServiceUnavailableError`, answered in-band as usual.
    pub(crate) fn cancel_calls_with(mut self, token: CancellationToken) -> Self {
        match Arc::get_mut(&mut self.inner) {
            Some(inner) => inner.calls = token,
            None => unreachable!("cancel_calls_with is called before the handler is shared"),
        }
        self
    }

    /// A token for one call: cancelled with every call in progress at the end of the
    /// server's shutdown grace period.
    pub(crate) fn call_cancellation(&self) -> CancellationToken {
        self.inner.calls.child_token()
    }

    /// The dispatcher every call goes through.
    pub fn dispatcher(&self) -> &Dispatcher {
        &self.inner.dispatcher
    }

    /// Every tool, unfiltered, in registry order.
    pub fn all_tools(&self) -> &[Tool] {
        &self.inner.tools
    }

    /// The server's identity as clients see it (`serverInfo`, `instructions`).
    pub fn info(&self) -> &ServerConfig {
        &self.inner.info
    }

    /// The action served as the tool `name`.
    pub fn action(&self, name: &str) -> Option<&RegisteredAction> {
        self.inner
            .by_name
            .get(name)
            .map(|&i| &self.inner.actions[i])
    }

    /// The tool name of the action with id `id` (`plugin:name`), if this handler serves it.
    pub fn tool_name_of(&self, id: &str) -> Option<&str> {
        self.inner
            .actions
            .iter()
            .position(|a| a.id() == id)
            .map(|i| &*self.inner.tools[i].name)
    }

    /// The tools `credentials` may see.
    pub async fn visible_tools(&self, credentials: &Credentials) -> Vec<Tool> {
        let dispatcher = &self.inner.dispatcher;
        let mut tools = Vec::with_capacity(self.inner.tools.len());
        for (action, tool) in self.inner.actions.iter().zip(&self.inner.tools) {
            if dispatcher.is_visible(action, credentials).await {
                tools.push(tool.clone());
            }
        }
        tools
    }

    /// The `tools/list` answer for `credentials`: every tool they may see, on one page.
    pub(crate) async fn list_for(&self, credentials: &Credentials) -> ListToolsResult {
        let tools = self.visible_tools(credentials).await;
        tracing::debug!(
            principal = %credentials.principal(),
            visible = tools.len(),
            total = self.inner.tools.len(),
            "tools/list"
        );
        ListToolsResult::with_all_items(tools)
    }

    /// Calls the tool `name` as `options.credentials`, turning every failure into an in-band
    /// error result.
    pub async fn call(
        &self,
        name: &str,
        arguments: Option<Value>,
        options: CallOptions,
    ) -> CallToolResult {
        let Some(action) = self.action(name) else {
            return error_result(&ActionError::not_found(format!(
                "Action \"{name}\" not found"
            )));
        };
        match self
            .inner
            .dispatcher
            .call_action(action, arguments, options)
            .await
        {
            Ok(output) => CallToolResult::structured(output),
            Err(error) => error_result(&error),
        }
    }
}

/// Why `params` do not deserialize as `P` (shortened), or a generic reason.
fn params_error<P: serde::de::DeserializeOwned>(params: Option<Value>) -> Option<String> {
    let params = params.unwrap_or(Value::Null);
    Some(match serde_json::from_value::<P>(params) {
        Err(error) => mcp_actions::error::cap_message(&error.to_string()),
        Ok(_) => "they do not have this method's shape".to_owned(),
    })
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
        Ok(self.list_for(&credentials).await)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let credentials = credentials_of(&ctx)?;
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
        let arguments = request.arguments.map(Value::Object);
        let call = self.call(&request.name, arguments, options);
        tokio::pin!(call);
        let result = tokio::select! {
            biased;
            result = &mut call => result,
            () = ctx.ct.cancelled() => {
                cancellation.cancel();
                call.await
            }
        };
        Ok(result.into())
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.inner
            .by_name
            .get(name)
            .map(|&i| self.inner.tools[i].clone())
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
