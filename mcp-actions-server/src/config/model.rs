//! The configuration model: one serde type per section, each key written once, with its
//! default (the type's `Default`) and its description (the doc comment).
//!
//! Everything else derives from these types: reading (serde, with the key path in errors),
//! the effective view `config check` prints (serde again, secrets masked by [`Secret`]'s
//! `Serialize`), and the configuration reference in the README and the crate docs (their JSON
//! schema, see `reference.rs`; a test fails when the two disagree).

use std::collections::BTreeMap;
use std::time::Duration;

use mcp_actions::Credentials;
use mcp_actions::filter::{ActionFilter, FilterError, FilterRule};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::access::{AuthConfig, McpAuthConfig};
use super::confirm::{ConfirmConfig, ElicitationConfig, WithoutClientSupport};
use super::discovery::DiscoveryConfig;
use super::operations::{AdminConfig, AuditConfig};
use super::secret::Secret;
use super::shapes;

/// The keys of a config file this crate reads. Every other section (the rest of a Backstage
/// `app-config.yaml`) is left to the application ([`Config::get`](super::Config::get)).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(default)]
pub(crate) struct Root {
    pub(crate) backend: BackendConfig,
    #[serde(rename = "mcpActions")]
    pub(crate) mcp_actions: McpActionsConfig,
    pub(crate) discovery: DiscoveryConfig,
}

/// `backend`: the keys of Backstage's `backend` section this crate reads. Its other keys
/// (`database`, `cors`, …) are left alone.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(default, rename_all = "camelCase")]
#[non_exhaustive]
pub struct BackendConfig {
    /// Where to listen: `{ host, port }`, or Backstage's string form `":7007"` /
    /// `"0.0.0.0:7007"`.
    pub listen: ListenConfig,
    /// The external URL of the server, used in the `WWW-Authenticate` challenge, the
    /// protected-resource metadata and the allowed hosts. Default: `http://<listen address>`
    /// (with `localhost` for an unspecified address).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// Authentication.
    pub auth: AuthConfig,
    /// Which of the actions linked into the binary are exposed.
    pub actions: ActionsConfig,
}

/// `backend.listen`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[non_exhaustive]
pub struct ListenConfig {
    /// The address to listen on (`backend.listen` may also be written `":7007"` or
    /// `"0.0.0.0:7007"`).
    pub host: String,
    /// The port (`0` picks a free one).
    pub port: u16,
}

/// The default listen host.
pub(crate) const DEFAULT_HOST: &str = "127.0.0.1";
/// The default listen port (Backstage's).
pub(crate) const DEFAULT_PORT: u16 = 7007;

impl Default for ListenConfig {
    fn default() -> Self {
        Self {
            host: DEFAULT_HOST.to_owned(),
            port: DEFAULT_PORT,
        }
    }
}

impl ListenConfig {
    /// `host:port`, with IPv6 hosts in brackets, ready for `TcpListener::bind`.
    pub fn address(&self) -> String {
        if self.host.contains(':') && !self.host.starts_with('[') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// Backstage's string form: `":7007"`, `"0.0.0.0:7007"`, `"[::1]:7007"`.
    pub(crate) fn from_text(text: &str) -> Result<Self, ListenTextError> {
        let (host, port) = text
            .rsplit_once(':')
            .ok_or_else(|| ListenTextError::Shape(text.to_owned()))?;
        let port = port
            .parse::<u16>()
            .map_err(|_| ListenTextError::Port(port.to_owned()))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        Ok(Self {
            host: if host.is_empty() { DEFAULT_HOST } else { host }.to_owned(),
            port,
        })
    }
}

/// Why the string form of `backend.listen` cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ListenTextError {
    /// Not `host:port`.
    #[error("`{0}` should look like `:7007` or `0.0.0.0:7007`")]
    Shape(String),
    /// The port is not one (reported at `backend.listen.port`).
    #[error("`{0}` is not a port number (0-65535)")]
    Port(String),
}

/// The mapping form of `backend.listen`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListenParts {
    #[serde(default = "default_host")]
    host: String,
    #[serde(default = "default_port", deserialize_with = "shapes::port")]
    port: u16,
}

fn default_host() -> String {
    DEFAULT_HOST.to_owned()
}

fn default_port() -> u16 {
    DEFAULT_PORT
}

impl From<ListenParts> for ListenConfig {
    fn from(parts: ListenParts) -> Self {
        Self {
            host: parts.host,
            port: parts.port,
        }
    }
}

impl<'de> Deserialize<'de> for ListenConfig {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        shapes::string_or_map::<D, Self, ListenParts>(
            d,
            "a mapping like `{ host: 127.0.0.1, port: 7007 }` or a string like \":7007\"",
            |text| Self::from_text(text).map_err(|e| e.to_string()),
        )
    }
}

/// `backend.actions` (Backstage's keys).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
#[non_exhaustive]
pub struct ActionsConfig {
    /// Only actions of these plugins are exposed. Absent: every plugin linked in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plugin_sources: Option<Vec<String>>,
    /// Include and exclude rules on the linked actions.
    pub filter: FilterConfig,
}

/// `filter: { include: […], exclude: […] }`: rules `{ id: "<glob on plugin:name>",
/// attributes: { readOnly, destructive, idempotent } }`.
///
/// `id` and `attributes` combine with AND; when there are include rules an action must match
/// one of them; an exclude rule that matches always wins; attributes are compared after
/// defaults (`destructive` defaults to `!readOnly`). See [`mcp_actions::filter`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct FilterConfig {
    /// When non-empty, an action must match one of these rules (`{ id: 'catalog:*' }`,
    /// `{ attributes: { readOnly: true } }`).
    #[serde(serialize_with = "serialize_rules")]
    #[schemars(with = "Vec<serde_json::Value>")]
    pub include: Vec<FilterRule>,
    /// An action matching one of these rules is never exposed (`{ id: '*:delete_*' }`).
    #[serde(serialize_with = "serialize_rules")]
    #[schemars(with = "Vec<serde_json::Value>")]
    pub exclude: Vec<FilterRule>,
}

impl FilterConfig {
    /// Compiles the rules, with `plugin_sources` (`None`: every plugin).
    pub fn compile(
        &self,
        plugin_sources: Option<Vec<String>>,
    ) -> Result<ActionFilter, FilterError> {
        ActionFilter::new(plugin_sources, self.include.clone(), self.exclude.clone())
    }
}

fn serialize_rules<S: serde::Serializer>(rules: &[FilterRule], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::{SerializeMap, SerializeSeq};
    struct Rule<'a>(&'a FilterRule);
    impl Serialize for Rule<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut map = s.serialize_map(None)?;
            if let Some(id) = &self.0.id {
                map.serialize_entry("id", id)?;
            }
            if let Some(a) = &self.0.attributes {
                let attributes: BTreeMap<&str, bool> = [
                    ("readOnly", a.read_only),
                    ("destructive", a.destructive),
                    ("idempotent", a.idempotent),
                ]
                .into_iter()
                .filter_map(|(key, value)| value.map(|v| (key, v)))
                .collect();
                map.serialize_entry("attributes", &attributes)?;
            }
            map.end()
        }
    }
    let mut seq = s.serialize_seq(Some(rules.len()))?;
    for rule in rules {
        seq.serialize_element(&Rule(rule))?;
    }
    seq.end()
}

/// The `mcpActions` section.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
#[non_exhaustive]
pub struct McpActionsConfig {
    /// The server name clients show; without it, a binary whose `main` calls `run!()` is named
    /// after its package.
    pub name: String,
    /// What the server offers, for clients that show it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// How a model should use the server.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    /// `Host` header values accepted (the DNS-rebinding guard), `host` or `host:port`. Default:
    /// the listen host, `localhost`, `127.0.0.1`, `::1`, and the host of `backend.baseUrl`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_hosts: Option<Vec<String>>,
    /// OAuth authorization servers named in the protected-resource metadata, where MCP clients
    /// get tokens for this server. Default: the issuers of the `type: jwks` external access
    /// entries.
    pub authorization_servers: Vec<String>,
    /// The OAuth scopes JWT callers need: `requiredScopes` for every request, `actionScopes`
    /// per action.
    pub auth: McpAuthConfig,
    /// The admin listener: metrics and health checks.
    pub admin: AdminConfig,
    /// The audit trail.
    pub audit: AuditConfig,
    /// Limits on requests and calls.
    pub limits: LimitsConfig,
    /// Confirmations before actions run.
    pub confirm: ConfirmConfig,
    /// Questions for the user on 2026-07-28 (input-required results).
    pub elicitation: ElicitationConfig,
    /// Tools per `tools/list` page (`0`: every tool on one page). A client pages on with the
    /// `nextCursor` of each answer; cursors are the same on every replica of the same binary
    /// and config.
    #[serde(deserialize_with = "shapes::whole_number")]
    pub list_page_size: usize,
    /// Name tools `<plugin>__<name>` instead of `<name>`, with `-` in the plugin id replaced by
    /// `_`.
    #[serde(deserialize_with = "shapes::boolean")]
    pub namespaced_tool_names: bool,
    /// Named servers, each at `/api/mcp-actions/v1/<key>` (key: lowercase letters, digits and
    /// `-`; not `sse`) with its own `name` (required), `description`, `instructions` and a
    /// `filter` narrowing the default server's actions.
    pub servers: BTreeMap<String, NamedServerConfig>,
    /// The deprecated HTTP+SSE transport at `…/v1/sse`.
    pub sse: SseConfig,
    /// Who `serve --stdio` calls actions as.
    pub stdio: StdioConfig,
    /// This server as a Backstage plugin.
    pub backstage: BackstageConfig,
}

/// `mcpActions.backstage`: this server as a Backstage plugin.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
#[non_exhaustive]
pub struct BackstageConfig {
    /// The plugin id this server signs Backstage plugin tokens as (their `sub`), for actions
    /// calling Backstage plugins (`Backstage::plugin_request_token`); its public keys are at
    /// `/api/<pluginId>/.backstage/auth/v1/jwks.json`. Backstage's `discovery.endpoints` must
    /// point this id at this server. Not `mcp-actions` when Backstage runs its own MCP actions
    /// backend (that id is then Backstage's).
    pub plugin_id: String,
    /// How often the actions of remote plugin sources are listed again, in seconds. Remote
    /// sources are the plugins of `backend.actions.pluginSources` that are not linked into
    /// this binary and are listed in `discovery.endpoints` (e.g. Backstage's `catalog`).
    #[serde(deserialize_with = "shapes::whole_number")]
    pub refresh_seconds: u64,
    /// The key plugin tokens are signed with: a PKCS#8 PEM private key on the P-256 curve
    /// (`openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`), e.g.
    /// `${BACKSTAGE_SIGNING_KEY}`. Give every replica the same one: they then publish the same
    /// JWK (its `kid` is the key's thumbprint), so Backstage verifies a token whichever replica
    /// signed it and whichever served the JWKS. Without it each process generates its own.
    pub signing_key: Option<Secret>,
    /// Whether the linked plugins' actions are also served through Backstage's actions API
    /// (`/api/<plugin>/.backstage/actions/v1/actions` and `…/invoke`), so that a Backstage
    /// instance can use this server as a plugin source. `false` leaves MCP as the only way in.
    /// The same tokens and restrictions apply either way.
    pub actions_api: bool,
}

impl Default for BackstageConfig {
    fn default() -> Self {
        Self {
            plugin_id: "mcp-actions".to_owned(),
            refresh_seconds: 60,
            signing_key: None,
            actions_api: true,
        }
    }
}

/// The default server name.
pub(crate) const DEFAULT_NAME: &str = "mcp-actions";

impl Default for McpActionsConfig {
    fn default() -> Self {
        Self {
            name: DEFAULT_NAME.to_owned(),
            description: None,
            instructions: None,
            allowed_hosts: None,
            authorization_servers: Vec::new(),
            auth: McpAuthConfig::default(),
            admin: AdminConfig::default(),
            audit: AuditConfig::default(),
            limits: LimitsConfig::default(),
            confirm: ConfirmConfig::default(),
            elicitation: ElicitationConfig::default(),
            list_page_size: 0,
            namespaced_tool_names: false,
            servers: BTreeMap::new(),
            sse: SseConfig::default(),
            stdio: StdioConfig::default(),
            backstage: BackstageConfig::default(),
        }
    }
}

/// One entry of `mcpActions.servers`: a named MCP server at `/api/mcp-actions/v1/<key>`
/// serving a subset of the default server's actions.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct NamedServerConfig {
    /// The server name clients show (required).
    pub name: String,
    /// What the server offers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// How a model should use the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    /// Which of the default server's actions this server serves (all when empty).
    #[serde(default)]
    pub filter: FilterConfig,
    /// `false`: no confirmations on this server (one meant for unattended agents); typed
    /// questions are still asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirm: Option<bool>,
    /// This server's `mcpActions.confirm.withoutClientSupport`.
    #[serde(
        default,
        rename = "confirmWithoutClientSupport",
        skip_serializing_if = "Option::is_none"
    )]
    pub confirm_without_client_support: Option<WithoutClientSupport>,
}

/// Keys that cannot name a server because their path is taken: `sse` is the legacy
/// HTTP+SSE transport's endpoint (`/api/mcp-actions/v1/sse`).
pub(crate) const RESERVED_SERVER_KEYS: &[&str] = &["sse"];

/// `mcpActions.limits`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
#[non_exhaustive]
pub struct LimitsConfig {
    /// The largest request body accepted, in bytes; a larger one is refused with 413 before
    /// it is read.
    #[serde(deserialize_with = "shapes::whole_number")]
    pub max_request_body_bytes: usize,
    /// How long an action may run, in seconds (`0`: no limit); a call that takes longer ends
    /// with `ServiceUnavailableError`.
    #[serde(deserialize_with = "shapes::whole_number")]
    pub action_timeout_seconds: u64,
    /// MCP requests in progress at once, over every endpoint; one more is refused at once with
    /// 503 and `Retry-After: 1`, never queued.
    #[serde(deserialize_with = "shapes::whole_number")]
    pub max_concurrent_requests: usize,
    /// On SIGTERM or Ctrl-C the server stops accepting, lets requests in progress finish for
    /// this many seconds, then cancels them (`ServiceUnavailableError`) and exits 0 (`0`:
    /// cancel at once).
    #[serde(deserialize_with = "shapes::whole_number")]
    pub shutdown_grace_seconds: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_request_body_bytes: 4 * 1024 * 1024,
            action_timeout_seconds: 30,
            max_concurrent_requests: 256,
            shutdown_grace_seconds: 10,
        }
    }
}

impl LimitsConfig {
    /// `actionTimeoutSeconds` as a duration; `None` for no limit.
    pub fn action_timeout(&self) -> Option<Duration> {
        seconds(self.action_timeout_seconds)
    }

    /// `shutdownGraceSeconds` as a duration.
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_seconds)
    }
}

/// `0` is "none".
fn seconds(seconds: u64) -> Option<Duration> {
    (seconds > 0).then(|| Duration::from_secs(seconds))
}

/// `mcpActions.sse`: the deprecated HTTP+SSE transport.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
#[non_exhaustive]
pub struct SseConfig {
    /// Serve `…/v1/sse` (and `…/v1/<key>/sse` for each named server).
    #[serde(deserialize_with = "shapes::boolean")]
    pub enabled: bool,
    /// Open SSE sessions per server endpoint; one more gets 503 with `Retry-After`.
    #[serde(deserialize_with = "shapes::whole_number")]
    pub max_sessions: usize,
    /// Close a session after this many seconds with no POST, no message to the client and no
    /// call running (`0`: never).
    #[serde(deserialize_with = "shapes::whole_number")]
    pub idle_timeout_seconds: u64,
    /// Send an SSE comment this often, in seconds, so proxies keep the stream open (`0`:
    /// never); it does not count as activity.
    #[serde(deserialize_with = "shapes::whole_number")]
    pub keep_alive_seconds: u64,
}

impl Default for SseConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            max_sessions: 100,
            idle_timeout_seconds: 300,
            keep_alive_seconds: 15,
        }
    }
}

impl SseConfig {
    /// `idleTimeoutSeconds` as a duration; `None`: never.
    pub fn idle_timeout(&self) -> Option<Duration> {
        seconds(self.idle_timeout_seconds)
    }

    /// `keepAliveSeconds` as a duration; `None`: never.
    pub fn keep_alive(&self) -> Option<Duration> {
        seconds(self.keep_alive_seconds)
    }
}

/// `mcpActions.stdio`: who `serve --stdio` calls actions as; `subject` or `user`, not both.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct StdioConfig {
    /// Call actions as `Principal::Service { subject }`.
    #[schemars(extend("default" = "stdio"))]
    pub subject: Option<String>,
    /// … or as `Principal::User { user_entity_ref }`, e.g. `user:default/jane`.
    pub user: Option<String>,
}

/// Shown as the principal it gives: `{ user }`, or `{ subject }` (`stdio` by default).
impl Serialize for StdioConfig {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(1))?;
        match &self.user {
            Some(user) => map.serialize_entry("user", user)?,
            None => map.serialize_entry(
                "subject",
                self.subject.as_deref().unwrap_or(DEFAULT_STDIO_SUBJECT),
            )?,
        }
        map.end()
    }
}

/// The subject of `serve --stdio` when neither the command line nor `mcpActions.stdio` names a
/// principal.
pub(crate) const DEFAULT_STDIO_SUBJECT: &str = "stdio";

impl StdioConfig {
    /// The credentials `serve --stdio` calls actions with. The configuration was checked when
    /// it was loaded (a subject or a user, not both).
    pub fn credentials(&self) -> Credentials {
        credentials_from(self.subject.as_deref(), self.user.as_deref())
            .unwrap_or_else(|_| Credentials::service(DEFAULT_STDIO_SUBJECT))
    }
}

/// Why a subject or user given for a local caller (`--subject`/`--user`, `mcpActions.stdio`)
/// cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CallerError {
    /// Both were given.
    #[error("give a service subject or a user, not both (`subject: …` or `user: user:default/…`)")]
    Both,
    /// The subject or user is empty or has whitespace.
    #[error("the {what} must be non-empty, without spaces; got {value:?}")]
    Blank {
        /// `subject` or `user`.
        what: &'static str,
        /// What was given.
        value: String,
    },
    /// The user is not a user entity ref.
    #[error("the user must be a user entity ref like `user:default/jane`; got {0:?}")]
    NotAUser(String),
}

/// The credentials for `--subject` / `--user` (or `mcpActions.stdio.subject` / `.user`): at
/// most one may be given; neither means `Principal::Service { subject: "stdio" }`. A subject
/// must be non-empty, without whitespace; a user must be an entity ref starting with `user:`
/// (e.g. `user:default/jane`).
pub fn credentials_from(
    subject: Option<&str>,
    user: Option<&str>,
) -> Result<Credentials, CallerError> {
    let check = |what: &'static str, value: &str| {
        if value.is_empty() || value.chars().any(char::is_whitespace) {
            Err(CallerError::Blank {
                what,
                value: value.to_owned(),
            })
        } else {
            Ok(())
        }
    };
    match (subject, user) {
        (Some(_), Some(_)) => Err(CallerError::Both),
        (Some(subject), None) => {
            check("subject", subject)?;
            Ok(Credentials::service(subject))
        }
        (None, Some(user)) => {
            check("user", user)?;
            match user.split_once(':') {
                Some((kind, rest)) if kind.eq_ignore_ascii_case("user") && !rest.is_empty() => {
                    Ok(Credentials::user(user))
                }
                _ => Err(CallerError::NotAUser(user.to_owned())),
            }
        }
        (None, None) => Ok(Credentials::service(DEFAULT_STDIO_SUBJECT)),
    }
}
