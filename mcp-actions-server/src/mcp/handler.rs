//! The MCP handler: rmcp's `ServerHandler` over a [`Dispatcher`].
//!
//! The tool list and the tool name → action map are built once, when the handler is created;
//! `tools/list` only filters the list for the caller (access restrictions and declared
//! permissions, through [`Dispatcher::is_visible`]). `tools/call` finds the action by tool name
//! in O(1) and runs it through [`Dispatcher::call_visible`]. A tool that does not exist, or that
//! this caller may not see, is a JSON-RPC error -32602 (the MCP tools spec's "unknown tool"),
//! the same for both so a caller cannot probe for tools it may not see; every failure once the
//! tool is found and visible is an in-band tool result (`isError: true`, text
//! `"<ErrorName>: <message>"`), as Backstage answers.

use std::collections::{HashMap, HashSet};
use std::num::NonZeroUsize;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use mcp_actions::{ActionError, CallError, CallOptions, Credentials, Dispatcher, RegisteredAction};
use rmcp::model::{
    CacheScope, CallToolResponse, CallToolResult, ContentBlock, DiscoverResult, Implementation,
    ListToolsResult, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::{ErrorData as McpError, ServerHandler};
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::ask::{self, Asking, RoundSeal};
use super::list::{self, Listing};
use super::observe::{Ended, Observer, Seen};
use super::tools::{ToolNames, tool_named};
use crate::telemetry::trace::Request;

/// JSON-RPC's "invalid params" code, which an unknown tool is answered with.
const INVALID_PARAMS: i32 = -32602;

/// How the server presents itself to clients (`serverInfo`, `instructions`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServerIdentity {
    /// `serverInfo.name`.
    pub(crate) name: String,
    /// `serverInfo.version`.
    pub(crate) version: String,
    /// `serverInfo.description`.
    pub(crate) description: Option<String>,
    /// `instructions`.
    pub(crate) instructions: Option<String>,
}

/// The MCP handler serving one endpoint's actions: rmcp's `ServerHandler`, the one rmcp type
/// in this crate's API — it is what you serve when you mount rmcp yourself (another rmcp
/// transport, or [`ActionsServer::handler`](crate::ActionsServer::handler) into your own
/// `StreamableHttpService`). Cheap to clone (rmcp creates one per stateless request).
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
    /// Pages, cursors and caching hints of `tools/list`.
    listing: Listing,
    /// Names of the tools whose input schema has an `x-mcp-header` annotation (SEP-2243): a
    /// call of one carries `Mcp-Param-*` headers, which only rmcp checks. Found at the first
    /// 2026-07-28 call answered directly, not at start-up.
    param_headers: OnceLock<HashSet<String>>,
    info: ServerConfig,
    /// Cancels every call in progress (the server's shutdown, once its grace period is over).
    calls: CancellationToken,
    /// Where operations are recorded (metrics, audit); none in a bare handler.
    observer: Option<Observer>,
    /// The actions of remote Backstage plugin sources, served after the linked ones.
    #[cfg(feature = "jwt")]
    remote: Option<Arc<crate::backstage::RemoteSources>>,
    /// A named server's filter, applied to the remote actions too.
    #[cfg(feature = "jwt")]
    remote_filter: Option<mcp_actions::filter::ActionFilter>,
    /// Seals the round state of 2026-07-28 calls that ask the user.
    seal: RoundSeal,
}

impl std::fmt::Debug for ActionsHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActionsHandler")
            .field("tools", &self.inner.tools.len())
            .field("dispatcher", &self.inner.dispatcher)
            .finish_non_exhaustive()
    }
}

impl ActionsHandler {
    /// A handler for the dispatcher's registry, its tools named by `names` (checked by the
    /// caller); the tools are built here, once.
    pub(crate) fn new(dispatcher: Dispatcher, identity: ServerIdentity, names: &ToolNames) -> Self {
        let actions: Vec<RegisteredAction> = dispatcher.registry().iter().cloned().collect();
        let tools: Vec<Tool> = actions
            .iter()
            .map(|action| tool_named(action, names.of(action).to_owned()))
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
        let listing = Listing::new(None);
        Self {
            inner: Arc::new(Inner {
                dispatcher,
                tools,
                actions,
                by_name,
                listing,
                param_headers: OnceLock::new(),
                info,
                calls: CancellationToken::new(),
                observer: None,
                #[cfg(feature = "jwt")]
                remote: None,
                #[cfg(feature = "jwt")]
                remote_filter: None,
                seal: RoundSeal::ephemeral(ask::DEFAULT_ROUND_TTL),
            }),
        }
    }

    /// Serves the actions of `remote` after the linked ones: those `filter` keeps, when it is
    /// given (a named server's).
    #[cfg(feature = "jwt")]
    pub(crate) fn with_remote(
        mut self,
        remote: Arc<crate::backstage::RemoteSources>,
        filter: Option<mcp_actions::filter::ActionFilter>,
    ) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.remote = Some(remote);
            inner.remote_filter = filter;
        }
        self
    }

    /// The remote sources, if any.
    #[cfg(feature = "jwt")]
    pub(crate) fn remote(&self) -> Option<&Arc<crate::backstage::RemoteSources>> {
        self.inner.remote.as_ref()
    }

    /// Records every `tools/call` and `tools/list` with `observer`.
    pub(crate) fn observed_by(mut self, observer: Observer) -> Self {
        match Arc::get_mut(&mut self.inner) {
            Some(inner) => inner.observer = Some(observer),
            None => unreachable!("observed_by is called before the handler is shared"),
        }
        self
    }

    /// What is known of `request` besides its message, for the observer.
    pub(crate) fn seen(
        &self,
        request: &Request<'_>,
        parts: Option<&http::request::Parts>,
        credentials: &Credentials,
        version: Option<&str>,
    ) -> Seen {
        match &self.inner.observer {
            Some(observer) => observer.seen(request, parts, credentials, version),
            None => Seen::default(),
        }
    }

    /// Seals 2026-07-28 round states with `seal` (`mcpActions.elicitation`).
    pub(crate) fn seal_rounds_with(mut self, seal: RoundSeal) -> Self {
        match Arc::get_mut(&mut self.inner) {
            Some(inner) => inner.seal = seal,
            None => unreachable!("seal_rounds_with is called before the handler is shared"),
        }
        self
    }

    /// The key that seals 2026-07-28 round states, and (`http::elicit`) session ids.
    pub(crate) fn seal(&self) -> &RoundSeal {
        &self.inner.seal
    }

    /// Lists `page_size` tools a page (`mcpActions.listPageSize`; `None`: every tool on one
    /// page).
    pub(crate) fn page_tools_by(mut self, page_size: Option<NonZeroUsize>) -> Self {
        match Arc::get_mut(&mut self.inner) {
            Some(inner) => inner.listing = Listing::new(page_size),
            None => unreachable!("page_tools_by is called before the handler is shared"),
        }
        self
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

    /// Every tool, unfiltered, in registry order (rmcp's `Tool`).
    pub fn all_tools(&self) -> &[Tool] {
        &self.inner.tools
    }

    /// Tool name → the OAuth scopes calling it needs by `mcpActions.auth.actionScopes`, for
    /// the tools that need some.
    pub(crate) fn tool_scopes(&self) -> HashMap<String, Vec<String>> {
        let inner = &self.inner;
        inner
            .tools
            .iter()
            .zip(&inner.actions)
            .filter_map(|(tool, action)| {
                let scopes = inner.dispatcher.required_scopes(action);
                (!scopes.is_empty()).then(|| (tool.name.to_string(), scopes.to_vec()))
            })
            .collect()
    }

    /// The server's name as clients see it (`serverInfo.name`).
    pub fn name(&self) -> &str {
        &self.inner.info.server_info.name
    }

    /// The action served as the tool `name`.
    pub fn action(&self, name: &str) -> Option<&RegisteredAction> {
        self.inner
            .by_name
            .get(name)
            .map(|&i| &self.inner.actions[i])
    }

    /// Whether the tool `name`'s input schema asks for `Mcp-Param-*` headers (SEP-2243).
    pub(crate) fn has_param_headers(&self, name: &str) -> bool {
        self.inner
            .param_headers
            .get_or_init(|| {
                self.inner
                    .tools
                    .iter()
                    .filter(|tool| mentions_mcp_header(&tool.input_schema))
                    .map(|tool| tool.name.to_string())
                    .collect()
            })
            .contains(name)
    }

    /// The `server/discover` answer: the endpoint's identity and capabilities, the same for
    /// every caller, so clients and intermediaries may share it for [`list::LIST_TTL_MS`].
    pub(crate) fn discover_result(&self) -> DiscoverResult {
        DiscoverResult::from_server_info(
            self.supported_protocol_versions().into_owned(),
            self.get_info(),
        )
        .with_ttl_ms(list::LIST_TTL_MS)
        .with_cache_scope(CacheScope::Public)
    }

    /// The positions (in [`ActionsHandler::all_tools`]) of the tools `credentials` may see.
    async fn visible_positions(&self, credentials: &Credentials) -> Vec<usize> {
        let dispatcher = &self.inner.dispatcher;
        let mut visible = Vec::with_capacity(self.inner.tools.len());
        for (position, action) in self.inner.actions.iter().enumerate() {
            if dispatcher.is_visible(action, credentials).await {
                visible.push(position);
            }
        }
        visible
    }

    /// Every tool and the positions of those `credentials` may see, remote tools (of remote
    /// Backstage plugin sources) after the linked ones.
    #[cfg(feature = "jwt")]
    fn with_remote_tools(
        &self,
        credentials: &Credentials,
        mut visible: Vec<usize>,
    ) -> (std::borrow::Cow<'_, [Tool]>, Vec<usize>) {
        let mut all = std::borrow::Cow::Borrowed(self.inner.tools.as_slice());
        if let Some(remote) = &self.inner.remote {
            let extra = remote.visible(credentials, self.inner.remote_filter.as_ref());
            if !extra.is_empty() {
                let tools = all.to_mut();
                for action in extra {
                    visible.push(tools.len());
                    tools.push(action.tool);
                }
            }
        }
        (all, visible)
    }

    /// Without the `jwt` feature there are no remote tools.
    #[cfg(not(feature = "jwt"))]
    fn with_remote_tools(
        &self,
        _: &Credentials,
        visible: Vec<usize>,
    ) -> (std::borrow::Cow<'_, [Tool]>, Vec<usize>) {
        (
            std::borrow::Cow::Borrowed(self.inner.tools.as_slice()),
            visible,
        )
    }

    /// What `initialize` answers: the server's info and capabilities.
    pub(super) fn server_config(&self) -> ServerConfig {
        self.inner.info.clone()
    }

    /// The linked tool named `name`, whoever asks.
    pub(super) fn tool(&self, name: &str) -> Option<Tool> {
        self.inner
            .by_name
            .get(name)
            .map(|&i| self.inner.tools[i].clone())
    }

    /// The `tools/list` answer for `credentials`: the page `cursor` names of the tools they
    /// may see (every one without `mcpActions.listPageSize`), with 2026-07-28's caching hints
    /// when `hints`. A cursor this server did not issue for this list is -32602.
    pub(crate) async fn list_for(
        &self,
        credentials: &Credentials,
        cursor: Option<&str>,
        hints: bool,
        seen: &Seen,
    ) -> Result<ListToolsResult, McpError> {
        let started = Instant::now();
        let visible = self.visible_positions(credentials).await;
        let (all, visible) = self.with_remote_tools(credentials, visible);
        let (page, next) = match self.inner.listing.page(&all, &visible, cursor) {
            Ok(page) => page,
            Err(error) => {
                if let Some(observer) = &self.inner.observer {
                    observer.list(seen, Err(error.code.0), started);
                }
                return Err(error);
            }
        };
        tracing::debug!(
            principal = %credentials.principal(),
            visible = visible.len(),
            total = all.len(),
            page = ?page,
            "tools/list"
        );
        let tools: Vec<Tool> = visible[page]
            .iter()
            .map(|&position| all[position].clone())
            .collect();
        if let Some(observer) = &self.inner.observer {
            observer.list(seen, Ok(tools.len()), started);
        }
        Ok(list::result(tools, next, hints))
    }

    /// Calls the tool `name` as `options.credentials`, asking the user through `asking`: the
    /// JSON-RPC error -32602 when there is no such tool or the caller may not see it (the same
    /// error, see [`unknown_tool`]) or its `requestState` is refused, else the tool result
    /// (every failure of the call in-band, `isError: true`) or, on 2026-07-28, an
    /// input-required result carrying the question the action is waiting for.
    pub(crate) async fn call(
        &self,
        name: &str,
        arguments: Option<Value>,
        mut options: CallOptions,
        seen: Seen,
        asking: Asking,
    ) -> Result<CallToolResponse, McpError> {
        let started = Instant::now();
        // The action's span, and every span it opens, are children of the request's.
        let span = seen.span().clone();
        let observer = self.inner.observer.as_ref();
        let audited = observer.and_then(|o| o.arguments(arguments.as_ref()));
        let ended = |id: Option<&str>, ended: Ended<'_>| {
            if let Some(observer) = observer {
                observer.call(seen, name, id, ended, started, audited);
            }
        };
        let local = self.action(name);
        #[cfg(feature = "jwt")]
        if local.is_none()
            && let Some(remote) = &self.inner.remote
            && let Some(action) = remote.find(
                name,
                &options.credentials,
                self.inner.remote_filter.as_ref(),
            )
        {
            let result = remote
                .call(
                    &action,
                    arguments,
                    &options.credentials,
                    options.cancellation.clone(),
                )
                .await;
            return Ok(match result {
                Ok(output) => {
                    ended(Some(&action.id), Ended::Output);
                    CallToolResult::structured(output).into()
                }
                Err(error) => {
                    if error.is_internal() {
                        tracing::error!(
                            action.id = %action.id,
                            reference = error.reference().unwrap_or_default(),
                            details = %error.details(),
                            "a remote action failed unexpectedly"
                        );
                    }
                    ended(
                        Some(&action.id),
                        Ended::ToolError(error.name(), error.reference()),
                    );
                    error_result(&error).into()
                }
            });
        }
        let Some(action) = local else {
            tracing::debug!(tool = name, "tools/call of an unknown tool");
            ended(None, Ended::Protocol(INVALID_PARAMS, "NotFoundError"));
            return Err(unknown_tool(name));
        };
        let dispatcher = &self.inner.dispatcher;
        let (prompt, rounds) = match asking.prompt(
            &self.inner.seal,
            &options.credentials,
            name,
            arguments.as_ref(),
        ) {
            Ok(prepared) => prepared,
            Err(ask::BadState) => {
                if !dispatcher.is_visible(action, &options.credentials).await {
                    ended(None, Ended::Protocol(INVALID_PARAMS, "NotFoundError"));
                    return Err(unknown_tool(name));
                }
                ended(
                    Some(action.id()),
                    Ended::Protocol(INVALID_PARAMS, "InputError"),
                );
                return Err(ask::bad_state_error());
            }
        };
        if let Some(prompt) = prompt {
            options = options.with_prompt(prompt);
        }
        // Kept for the round state only (`Option::and` would clone them on every call).
        let bound_arguments = match rounds {
            Some(_) => arguments.clone(),
            None => None,
        };
        let outcome = dispatcher
            .call_visible(action, arguments, options)
            .instrument(span)
            .await;
        if let Some((rounds, credentials)) = &rounds
            && !matches!(outcome, Err(CallError::Hidden(_)))
        {
            let bound = (credentials, name, bound_arguments.as_ref());
            match rounds.input_required(&self.inner.seal, bound) {
                // Not an error: the call goes on in the client's next round.
                Some(Ok(result)) => {
                    ended(Some(action.id()), Ended::InputRequired);
                    return Ok(CallToolResponse::InputRequired(result));
                }
                Some(Err(error)) => {
                    ended(
                        Some(action.id()),
                        Ended::ToolError(error.name(), error.reference()),
                    );
                    return Ok(error_result(&error).into());
                }
                None => {}
            }
        }
        match outcome {
            Ok(output) => {
                ended(Some(action.id()), Ended::Output);
                Ok(CallToolResult::structured(output).into())
            }
            Err(CallError::Hidden(_)) => {
                // Audited under the tool's name only: the caller may not see the action.
                ended(None, Ended::Protocol(INVALID_PARAMS, "NotFoundError"));
                Err(unknown_tool(name))
            }
            Err(error) => {
                let error = error.into_action_error();
                ended(
                    Some(action.id()),
                    Ended::ToolError(error.name(), error.reference()),
                );
                Ok(error_result(&error).into())
            }
        }
    }
}

/// The answer to a `tools/call` of a tool that does not exist or that the caller may not see:
/// JSON-RPC -32602 (invalid params), as the MCP tools spec lists unknown tools, with the same
/// `NotFoundError: …` text Backstage's in-band answer has. Both cases answer exactly alike, so
/// a caller cannot tell a hidden tool from a missing one.
pub(crate) fn unknown_tool(name: &str) -> McpError {
    let error = ActionError::not_found(format!("Action \"{name}\" not found"));
    McpError::invalid_params(error.to_string(), None)
}

/// Whether `schema` has an `x-mcp-header` key anywhere (read conservatively: rmcp decides
/// which of them count).
fn mentions_mcp_header(schema: &serde_json::Map<String, Value>) -> bool {
    fn within(value: &Value) -> bool {
        match value {
            Value::Object(map) => mentions_mcp_header(map),
            Value::Array(items) => items.iter().any(within),
            _ => false,
        }
    }
    schema.contains_key("x-mcp-header") || schema.values().any(within)
}

/// The in-band result for a failed call: `isError: true` and the error's client-facing text.
fn error_result(error: &ActionError) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(error.to_string())])
}
