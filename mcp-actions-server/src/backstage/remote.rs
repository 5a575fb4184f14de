//! Remote plugin sources: the plugins of `backend.actions.pluginSources` that are not linked
//! into this binary but are listed in `discovery.endpoints` — Backstage plugins, such as the
//! catalog. Their actions are served as MCP tools next to the linked ones.
//!
//! - Each source's list (`GET <base>/.backstage/actions/v1/actions`) is fetched with a plugin
//!   token this server signs, at start and then every `mcpActions.backstage.refreshSeconds`,
//!   each source on its own (a slow one never delays another), not on every call as Backstage
//!   does. A source that fails is a warning, and its tools are hidden until it answers again.
//! - Tool names follow this server's rules: the action name with `-` as `_` (and the plugin
//!   first with `namespacedToolNames`); an action whose name cannot be made client-safe, or
//!   clashes with a linked action's tool, is left out with a warning; `backend.actions.filter`
//!   applies to them as to linked actions (attributes after Backstage's defaults). Schemas are given as the
//!   plugin lists them, made self-contained (no `$schema`, `$defs` inlined).
//! - A call is forwarded to `POST <base>/.backstage/actions/v1/actions/<id>/invoke` with a
//!   plugin token; a Backstage error body comes back as that error (its name and message), any
//!   other failure as a `ServiceUnavailableError` or an internal error (details logged).
//!   Callers restricted to other plugins do not see the tools; a Backstage user's call carries
//!   the user's token as `obo`, other users cannot call them (see
//!   [`Backstage::plugin_request_token`]).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use mcp_actions::filter::{ActionFilter, ScopeRules};
use mcp_actions::{ActionAttributes, ActionError, Credentials, ErrorKind};
use rmcp::model::{Tool, ToolAnnotations};
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use super::Backstage;
use crate::mcp::ToolNaming;

/// The longest body read from a remote plugin.
const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// One remote action, served as a tool.
#[derive(Debug, Clone)]
pub(crate) struct RemoteAction {
    /// The plugin it belongs to (the source).
    pub(crate) plugin: String,
    /// Its Backstage id, `plugin:name`.
    pub(crate) id: String,
    /// The tool.
    pub(crate) tool: Tool,
    /// The OAuth scopes a caller needs to see and call it (`mcpActions.auth.actionScopes`).
    pub(crate) scopes: Vec<String>,
    /// Its attributes after Backstage's defaults, which filters match.
    pub(crate) attributes: ActionAttributes,
}

/// The remote sources of one server, and what they last listed.
pub(crate) struct RemoteSources {
    backstage: Arc<Backstage>,
    /// Each source's plugin id and base URL.
    sources: Vec<(String, String)>,
    naming: ToolNaming,
    /// `backend.actions.filter` (and `pluginSources`), applied to remote actions too.
    filter: ActionFilter,
    /// `mcpActions.auth.actionScopes`, applied to remote actions too.
    scope_rules: ScopeRules,
    /// Tool names of the linked actions: a remote tool may not take one.
    taken: Vec<String>,
    refresh: Duration,
    timeout: Option<Duration>,
    client: reqwest::Client,
    /// Per source, its tools (absent or empty: hidden).
    listed: RwLock<HashMap<String, Vec<RemoteAction>>>,
    started: std::sync::Once,
}

impl std::fmt::Debug for RemoteSources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteSources")
            .field("sources", &self.sources)
            .finish_non_exhaustive()
    }
}

impl RemoteSources {
    pub(crate) fn new(
        backstage: Arc<Backstage>,
        sources: Vec<(String, String)>,
        naming: ToolNaming,
        filter: ActionFilter,
        taken: Vec<String>,
        refresh: Duration,
        timeout: Option<Duration>,
    ) -> Self {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        Self {
            backstage,
            sources,
            naming,
            filter,
            scope_rules: ScopeRules::default(),
            taken,
            refresh,
            timeout,
            client,
            listed: RwLock::default(),
            started: std::sync::Once::new(),
        }
    }

    /// Starts refreshing every source (once; within the Tokio runtime), until `shutdown`.
    pub(crate) fn start(self: &Arc<Self>, shutdown: CancellationToken) {
        if tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        self.started.call_once(|| {
            for (plugin, base) in &self.sources {
                let this = Arc::clone(self);
                let (plugin, base) = (plugin.clone(), base.clone());
                let shutdown = shutdown.clone();
                tokio::spawn(async move {
                    loop {
                        this.refresh_source(&plugin, &base).await;
                        tokio::select! {
                            () = shutdown.cancelled() => return,
                            () = tokio::time::sleep(this.refresh) => {}
                        }
                    }
                });
            }
        });
    }

    async fn refresh_source(&self, plugin: &str, base: &str) {
        let listed = match self.fetch_list(plugin, base).await {
            Ok(actions) => actions,
            Err(error) => {
                tracing::warn!(
                    target: crate::WARNINGS_TARGET,
                    plugin,
                    %error,
                    "could not list the actions of remote plugin source `{plugin}`; its tools are hidden until it answers"
                );
                Vec::new()
            }
        };
        let mut all = self.listed.write().unwrap_or_else(|e| e.into_inner());
        all.insert(plugin.to_owned(), listed);
    }

    async fn fetch_list(&self, plugin: &str, base: &str) -> Result<Vec<RemoteAction>, String> {
        let token = self
            .backstage
            .sign_for(plugin)
            .map_err(|e| e.message().to_owned())?;
        let response = self
            .client
            .get(format!("{base}/.backstage/actions/v1/actions"))
            .bearer_auth(token)
            .send()
            .await
            .map_err(|e| without_url(&e))?;
        let status = response.status();
        let body = read_limited(response).await?;
        if !status.is_success() {
            return Err(format!("it answered {status}"));
        }
        let body: Value =
            serde_json::from_slice(&body).map_err(|e| format!("the list is not JSON: {e}"))?;
        let actions = body["actions"]
            .as_array()
            .ok_or("the list has no `actions`")?;
        Ok(actions
            .iter()
            .filter_map(|action| self.remote_action(plugin, action))
            .collect())
    }

    /// One listed action as a tool, or `None` (with a warning) when it cannot be served.
    fn remote_action(&self, plugin: &str, action: &Value) -> Option<RemoteAction> {
        let id = action["id"].as_str()?;
        let name = action["name"].as_str()?;
        if action["pluginId"].as_str().is_some_and(|p| p != plugin)
            || !id.starts_with(&format!("{plugin}:"))
        {
            tracing::warn!(plugin, id, "skipped a remote action of another plugin");
            return None;
        }
        let safe_name = name.replace('-', "_").to_ascii_lowercase();
        let tool_name = match self.naming {
            ToolNaming::Namespaced => format!("{}__{safe_name}", plugin.replace('-', "_")),
            _ => safe_name,
        };
        if !mcp_actions::descriptor::is_valid_action_name(&tool_name)
            || self.taken.contains(&tool_name)
        {
            tracing::warn!(
                plugin,
                id,
                tool = tool_name,
                "skipped a remote action: its tool name is not client-safe or is a linked action's"
            );
            return None;
        }
        let schema = |side: &str| match action["schema"][side].clone() {
            Value::Null => Some(Map::new()),
            schema => mcp_actions::schema::normalize(schema, id).ok(),
        };
        let (Some(input), output) = (schema("input"), schema("output")) else {
            tracing::warn!(
                plugin,
                id,
                "skipped a remote action: its input schema is not an object schema"
            );
            return None;
        };
        let attribute = |key: &str| action["attributes"][key].as_bool();
        let read_only = attribute("readOnly").unwrap_or(false);
        let attributes = ActionAttributes::new(
            read_only,
            attribute("destructive"),
            attribute("idempotent").unwrap_or(false),
            false,
        );
        if !self.filter.decide_for(plugin, id, &attributes).is_exposed() {
            tracing::debug!(
                plugin,
                id,
                "a remote action filtered out by backend.actions.filter"
            );
            return None;
        }
        let title = action["title"].as_str().unwrap_or(name).to_owned();
        let annotations = ToolAnnotations::with_title(title.clone())
            .read_only(attributes.read_only)
            .destructive(attributes.destructive)
            .idempotent(attributes.idempotent)
            .open_world(false);
        let description = action["description"]
            .as_str()
            .unwrap_or_default()
            .trim()
            .to_owned();
        let mut tool = Tool::new(tool_name, description, Arc::new(input))
            .with_title(title)
            .with_annotations(annotations);
        if let Some(output) = output.filter(|o| o.get("type") == Some(&Value::from("object"))) {
            tool = tool.with_raw_output_schema(Arc::new(output));
        }
        Some(RemoteAction {
            plugin: plugin.to_owned(),
            id: id.to_owned(),
            tool,
            scopes: self.scope_rules.scopes_for_id(id, &attributes),
            attributes,
        })
    }

    /// Each source's plugin id and base URL (for `list`).
    #[cfg(feature = "cli")]
    pub(crate) fn sources(&self) -> &[(String, String)] {
        &self.sources
    }

    /// Applies `mcpActions.auth.actionScopes` to the remote actions: a caller whose token
    /// lacks the scopes an action needs neither sees nor calls it.
    pub(crate) fn with_scope_rules(mut self, rules: ScopeRules) -> Self {
        self.scope_rules = rules;
        self
    }

    /// The remote tools `credentials` may see, in source order; only those `server` keeps
    /// when it is a named server's filter (`mcpActions.servers.<key>.filter`).
    pub(crate) fn visible(
        &self,
        credentials: &Credentials,
        server: Option<&ActionFilter>,
    ) -> Vec<RemoteAction> {
        let all = self.listed.read().unwrap_or_else(|e| e.into_inner());
        Self::seen_by(&self.sources, &all, credentials, server)
            .cloned()
            .collect()
    }

    /// The remote action served as the tool `name`, if `credentials` may see it. One whose
    /// scopes the caller's token lacks is not found, as a hidden linked action: remote tools
    /// have no step-up challenge.
    pub(crate) fn find(
        &self,
        name: &str,
        credentials: &Credentials,
        server: Option<&ActionFilter>,
    ) -> Option<RemoteAction> {
        let all = self.listed.read().unwrap_or_else(|e| e.into_inner());
        Self::seen_by(&self.sources, &all, credentials, server)
            .find(|a| a.tool.name == name)
            .cloned()
    }

    /// The listed actions of the sources `credentials` may reach, with the scopes it has, that
    /// `server`'s filter (if any) keeps.
    fn seen_by<'a>(
        sources: &'a [(String, String)],
        listed: &'a HashMap<String, Vec<RemoteAction>>,
        credentials: &'a Credentials,
        server: Option<&'a ActionFilter>,
    ) -> impl Iterator<Item = &'a RemoteAction> + 'a {
        sources
            .iter()
            .filter(|(plugin, _)| credentials.allows_plugin(plugin))
            .filter_map(|(plugin, _)| listed.get(plugin))
            .flatten()
            .filter(|action| credentials.missing_scopes(&action.scopes).is_empty())
            .filter(move |action| {
                server.is_none_or(|filter| {
                    filter
                        .decide_for(&action.plugin, &action.id, &action.attributes)
                        .is_exposed()
                })
            })
    }

    /// Forwards a call of `action` with `arguments`, as `credentials`.
    pub(crate) async fn call(
        &self,
        action: &RemoteAction,
        arguments: Option<Value>,
        credentials: &Credentials,
        cancellation: CancellationToken,
    ) -> Result<Value, ActionError> {
        let base = self
            .sources
            .iter()
            .find(|(plugin, _)| *plugin == action.plugin)
            .map(|(_, base)| base.clone())
            .ok_or_else(|| ActionError::not_found(format!("Action \"{}\" not found", action.id)))?;
        // On behalf of the caller: a Backstage user's own token goes along as `obo`.
        let token = self
            .backstage
            .sign_on_behalf_of(credentials, &action.plugin)?;
        let url = format!(
            "{base}/.backstage/actions/v1/actions/{}/invoke",
            action
                .id
                .replace('%', "%25")
                .replace(':', "%3A")
                .replace('/', "%2F")
        );
        let body = arguments.unwrap_or_else(|| Value::Object(Map::new()));
        let request = self
            .client
            .post(url)
            .bearer_auth(token)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(body.to_string());
        let forwarded = async {
            let response = request.send().await.map_err(|e| {
                ActionError::service_unavailable(format!(
                    "the Backstage plugin `{}` did not answer: {}",
                    action.plugin,
                    without_url(&e)
                ))
            })?;
            let status = response.status();
            let bytes = read_limited(response)
                .await
                .map_err(ActionError::service_unavailable)?;
            let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            if status.is_success() {
                return Ok(body
                    .get("output")
                    .cloned()
                    .unwrap_or(Value::Object(Map::new())));
            }
            Err(remote_error(&action.id, status, &body))
        };
        mcp_actions::dispatch::run_bounded(forwarded, &cancellation, self.timeout).await
    }
}

/// A Backstage error answer as an [`ActionError`]: its known name and message; anything else
/// an internal error, its details logged.
fn remote_error(id: &str, status: http::StatusCode, body: &Value) -> ActionError {
    let name = body["error"]["name"].as_str().unwrap_or_default();
    let message = body["error"]["message"].as_str().unwrap_or_default();
    match ErrorKind::ALL
        .into_iter()
        .find(|k| *k != ErrorKind::InternalError && k.name() == name)
    {
        Some(kind) => ActionError::new(kind, mcp_actions::error::cap_message(message)),
        None => ActionError::internal(format!(
            "remote action `{id}` answered {status}: {}",
            mcp_actions::error::cap_message(&body.to_string())
        )),
    }
}

/// The body, at most [`MAX_BODY_BYTES`].
async fn read_limited(mut response: reqwest::Response) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| format!("the body could not be read: {}", without_url(&e)))?
    {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(format!("the body is larger than {MAX_BODY_BYTES} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A reqwest error without its URL.
fn without_url(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "could not connect".to_owned()
    } else {
        "the request failed".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::config::DiscoveryConfig;

    fn sources(naming: ToolNaming, filter: ActionFilter) -> RemoteSources {
        let backstage = Arc::new(Backstage::new(
            "rust-actions".to_owned(),
            DiscoveryConfig::default(),
        ));
        RemoteSources::new(
            backstage,
            vec![(
                "catalog".to_owned(),
                "http://backstage/api/catalog".to_owned(),
            )],
            naming,
            filter,
            vec!["greet_user".to_owned()],
            Duration::from_secs(60),
            None,
        )
    }

    fn listed(name: &str, plugin: &str) -> Value {
        json!({
            "id": format!("{plugin}:{name}"), "name": name, "title": "T", "description": " D ",
            "pluginId": plugin, "attributes": { "readOnly": true },
            "schema": { "input": { "type": "object", "$schema": "http://json-schema.org/draft-07/schema#",
                                   "properties": {} },
                        "output": { "type": "object" } }
        })
    }

    /// `mcpActions.auth.actionScopes` rules match remote actions by their id: a token without
    /// the scopes neither sees nor finds them; a token with them, or a static token (no
    /// scopes), does. A named server's filter keeps only the remote actions it matches.
    #[test]
    fn action_scopes_and_named_server_filters_apply_to_remote_actions() {
        let rules = ScopeRules::new([(
            mcp_actions::filter::FilterRule::id("catalog:get-*"),
            vec!["catalog.read".to_owned()],
        )])
        .unwrap();
        let remote = sources(ToolNaming::Plain, ActionFilter::allow_all()).with_scope_rules(rules);
        let guarded = remote
            .remote_action("catalog", &listed("get-catalog-entity", "catalog"))
            .unwrap();
        assert_eq!(guarded.scopes, ["catalog.read"]);
        let open = remote
            .remote_action("catalog", &listed("query-catalog-entities", "catalog"))
            .unwrap();
        assert!(open.scopes.is_empty());
        remote
            .listed
            .write()
            .unwrap()
            .insert("catalog".to_owned(), vec![guarded, open]);

        let names = |credentials: &Credentials| -> Vec<String> {
            remote
                .visible(credentials, None)
                .into_iter()
                .map(|a| a.tool.name.to_string())
                .collect()
        };
        let without = Credentials::user("user:default/jane").with_scopes(["openid"]);
        assert_eq!(names(&without), ["query_catalog_entities"]);
        assert!(remote.find("get_catalog_entity", &without, None).is_none());
        let with = Credentials::user("user:default/jane").with_scopes(["catalog.read"]);
        assert_eq!(
            names(&with),
            ["get_catalog_entity", "query_catalog_entities"]
        );
        assert!(remote.find("get_catalog_entity", &with, None).is_some());
        let static_token = Credentials::service("ci");
        assert_eq!(names(&static_token).len(), 2);

        // A named server's filter keeps some of them, by id or attributes.
        let named = mcp_actions::filter::ActionFilter::new(
            None,
            vec![mcp_actions::filter::FilterRule::id("catalog:query-*")],
            vec![],
        )
        .unwrap();
        let kept: Vec<String> = remote
            .visible(&static_token, Some(&named))
            .into_iter()
            .map(|a| a.tool.name.to_string())
            .collect();
        assert_eq!(kept, ["query_catalog_entities"]);
        assert!(
            remote
                .find("get_catalog_entity", &static_token, Some(&named))
                .is_none()
        );
    }

    #[test]
    fn remote_actions_get_client_safe_names_and_clean_schemas() {
        let plain = sources(ToolNaming::Plain, ActionFilter::allow_all());
        let action = plain
            .remote_action("catalog", &listed("get-catalog-entity", "catalog"))
            .unwrap();
        assert_eq!(action.tool.name, "get_catalog_entity");
        assert_eq!(action.id, "catalog:get-catalog-entity");
        assert!(!action.tool.input_schema.contains_key("$schema"));
        assert_eq!(action.tool.description.as_deref(), Some("D"));
        let annotations = action.tool.annotations.unwrap();
        assert_eq!(
            annotations.destructive_hint,
            Some(false),
            "readOnly ⇒ not destructive"
        );

        let namespaced = sources(ToolNaming::Namespaced, ActionFilter::allow_all());
        let action = namespaced
            .remote_action("catalog", &listed("get-catalog-entity", "catalog"))
            .unwrap();
        assert_eq!(action.tool.name, "catalog__get_catalog_entity");

        // A linked action's name, another plugin's action, a name no client accepts: left out.
        assert!(
            plain
                .remote_action("catalog", &listed("greet-user", "catalog"))
                .is_none()
        );
        assert!(
            plain
                .remote_action("catalog", &listed("x", "scaffolder"))
                .is_none()
        );
        assert!(
            plain
                .remote_action("catalog", &listed("9.bad", "catalog"))
                .is_none()
        );
    }

    #[test]
    fn the_filter_applies_to_remote_actions() {
        let exclude = mcp_actions::filter::FilterRule::id("catalog:get-*");
        let filter = ActionFilter::new(None, Vec::new(), vec![exclude]).unwrap();
        let filtered = sources(ToolNaming::Plain, filter);
        assert!(
            filtered
                .remote_action("catalog", &listed("get-catalog-entity", "catalog"))
                .is_none()
        );
        assert!(
            filtered
                .remote_action("catalog", &listed("query-catalog-entities", "catalog"))
                .is_some()
        );
    }

    #[test]
    fn backstage_errors_come_back_as_ours_and_others_as_internal() {
        let status = http::StatusCode::BAD_REQUEST;
        let known = json!({ "error": { "name": "InputError", "message": "bad kind" } });
        let error = remote_error("catalog:x", status, &known);
        assert_eq!(error.to_string(), "InputError: bad kind");
        let unknown = json!({ "error": { "name": "TypeError", "message": "secret stack" } });
        let error = remote_error(
            "catalog:x",
            http::StatusCode::INTERNAL_SERVER_ERROR,
            &unknown,
        );
        assert!(error.is_internal());
        assert!(!error.to_string().contains("secret"));
    }
}
