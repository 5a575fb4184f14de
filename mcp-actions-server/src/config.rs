//! Configuration: YAML files with Backstage's keys, merged in order, with `${VAR}` substitution.
//!
//! Loading has two stages, so that new keys can be added without reshaping anything:
//!
//! 1. **Documents → one tree.** Every source (a `--config` file or an inline YAML text) is
//!    parsed into a JSON value, `${VAR}` references in its strings are replaced (a missing
//!    variable is an error naming it, the key and the file; `$${X}` stands for a literal
//!    `${X}`), and the sources are deep-merged in order: later sources win, maps merge key by
//!    key, anything else (lists included) is replaced.
//! 2. **Tree → typed sections.** The sections this crate owns (`backend.listen`,
//!    `backend.baseUrl`, `backend.auth.externalAccess`, `mcpActions`) are deserialized with
//!    [`serde_path_to_error`], so an error names the key path; unknown keys inside them are an
//!    error, so typos do not pass silently. Other sections (the rest of a Backstage
//!    `app-config.yaml`) are kept in the tree for the application to read with
//!    [`Config::get`].
//!
//! ```
//! use mcp_actions_server::config::ConfigLoader;
//!
//! let config = ConfigLoader::new()
//!     .yaml("app-config.yaml", "backend:\n  listen: { port: 8080 }\nmcpActions:\n  name: acme\n")
//!     .yaml("app-config.local.yaml", "backend:\n  listen: { host: 0.0.0.0 }\n")
//!     .env(|_| None)
//!     .load()
//!     .unwrap();
//! assert_eq!(config.backend().listen.port, 8080);
//! assert_eq!(config.backend().listen.host, "0.0.0.0");
//! assert_eq!(config.mcp_actions().name, "acme");
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use mcp_actions::filter::{ActionFilter, FilterError, FilterRule};
use mcp_actions::{AccessRestriction, Credentials, PermissionAction, Principal};
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

pub use crate::transport::{SseConfig, StdioConfig};

/// Where environment variables come from: the process environment, or a closure in tests.
pub type EnvSource = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// The default listen host.
pub const DEFAULT_HOST: &str = "127.0.0.1";
/// The default listen port (Backstage's).
pub const DEFAULT_PORT: u16 = 7007;
/// The default server name.
pub const DEFAULT_NAME: &str = "mcp-actions";
/// The default limit on a request body: 4 MiB.
pub const DEFAULT_MAX_REQUEST_BODY_BYTES: usize = 4 * 1024 * 1024;
/// The default time an action may run: 30 s.
pub const DEFAULT_ACTION_TIMEOUT_SECONDS: u64 = 30;
/// The default of `mcpActions.limits.maxConcurrentRequests`.
pub const DEFAULT_MAX_CONCURRENT_REQUESTS: usize = 256;
/// The default of `mcpActions.limits.shutdownGraceSeconds`.
pub const DEFAULT_SHUTDOWN_GRACE_SECONDS: u64 = 10;
/// The environment variable holding the access token when `backend.auth.externalAccess` is not
/// configured.
pub const TOKEN_ENV_VAR: &str = "MCP_TOKEN";
/// The shortest static token accepted (Backstage's rule).
pub const MIN_TOKEN_LENGTH: usize = 8;

/// Loading the configuration failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A config file could not be read.
    #[error("cannot read config file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A source is not valid YAML, or its root is not a mapping.
    #[error("config file {source_name} is not valid: {message}")]
    Syntax {
        /// The file (or the name given to an inline document).
        source_name: String,
        /// What is wrong, with line and column where known.
        message: String,
    },
    /// A `${VAR}` reference names a variable that is not set.
    #[error(
        "environment variable `{variable}` is not set, but config file {source_name} uses it at `{key}`; set it, or write `$${{{variable}}}` for a literal `${{{variable}}}`"
    )]
    MissingEnv {
        /// The variable.
        variable: String,
        /// The key path whose value refers to it.
        key: String,
        /// The file (or the name given to an inline document).
        source_name: String,
    },
    /// A `${` without a closing `}`, or an empty or malformed variable name.
    #[error("config file {source_name} has a malformed `${{…}}` reference at `{key}`: {message}")]
    BadReference {
        /// The key path.
        key: String,
        /// The file (or the name given to an inline document).
        source_name: String,
        /// What is wrong.
        message: String,
    },
    /// A value has the wrong type or shape, or a key is unknown.
    #[error("invalid configuration at `{key}`: {message}")]
    Invalid {
        /// The key path, e.g. `backend.listen.port`.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// Several values are wrong (e.g. static tokens); every problem is listed.
    #[error("invalid configuration:{}", list(problems))]
    Problems {
        /// What is wrong, one per key.
        problems: Vec<ConfigProblem>,
    },
}

fn list(problems: &[ConfigProblem]) -> String {
    problems.iter().map(|p| format!("\n  - {p}")).collect()
}

/// One problem with one key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{key}`: {message}")]
pub struct ConfigProblem {
    /// The key path.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

impl ConfigError {
    /// The key path the error is about, when it is about one key.
    pub fn key(&self) -> Option<&str> {
        match self {
            ConfigError::MissingEnv { key, .. }
            | ConfigError::BadReference { key, .. }
            | ConfigError::Invalid { key, .. } => Some(key),
            ConfigError::Problems { problems } if problems.len() == 1 => Some(&problems[0].key),
            _ => None,
        }
    }

    /// One problem as [`ConfigError::Invalid`], several as [`ConfigError::Problems`].
    fn from_problems(mut problems: Vec<ConfigProblem>) -> Self {
        if problems.len() == 1 {
            let ConfigProblem { key, message } = problems.remove(0);
            ConfigError::Invalid { key, message }
        } else {
            ConfigError::Problems { problems }
        }
    }

    fn invalid(key: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError::Invalid {
            key: key.into(),
            message: message.into(),
        }
    }
}

/// A secret string (an access token): compared by the authenticator, never printed by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret itself. Do not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// The loaded, merged, validated configuration.
#[derive(Clone)]
pub struct Config {
    tree: Value,
    sources: Vec<String>,
    backend: BackendConfig,
    mcp_actions: McpActionsConfig,
    env: EnvSource,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("sources", &self.sources)
            .field("backend", &self.backend)
            .field("mcp_actions", &self.mcp_actions)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// The configuration with no sources (every default), with the process environment.
    pub fn empty() -> Self {
        Config {
            tree: Value::Object(Map::new()),
            sources: Vec::new(),
            backend: BackendConfig {
                listen: ListenConfig::default(),
                base_url: None,
                external_access: Vec::new(),
                actions: ActionsConfig::default(),
            },
            mcp_actions: McpActionsConfig::default(),
            env: Arc::new(|name| std::env::var(name).ok()),
        }
    }

    /// Loads and merges these files, in order, with the process environment.
    pub fn load<P: AsRef<Path>>(files: &[P]) -> Result<Self, ConfigError> {
        ConfigLoader::new()
            .files(files.iter().map(|p| p.as_ref().to_path_buf()))
            .load()
    }

    /// The names of the sources, in the order they were merged.
    pub fn sources(&self) -> &[String] {
        &self.sources
    }

    /// The `backend` keys this crate uses.
    pub fn backend(&self) -> &BackendConfig {
        &self.backend
    }

    /// The `mcpActions` section.
    pub fn mcp_actions(&self) -> &McpActionsConfig {
        &self.mcp_actions
    }

    /// The whole merged tree, after substitution, as JSON.
    pub fn tree(&self) -> &Value {
        &self.tree
    }

    /// The effective configuration, safe to print: the merged tree, with every key this crate
    /// reads replaced by the value it uses (defaults filled in), and every secret masked as
    /// `***` — the static tokens, and in other sections every value under a key that looks
    /// secret (`token`, `secret`, `password`, `apiKey`, `privateKey`, `credentials`…). This is
    /// what `config check` prints.
    ///
    /// ```
    /// use mcp_actions_server::config::ConfigLoader;
    ///
    /// let yaml = "backend:\n  auth:\n    externalAccess:\n      - type: static\n        options: { token: very-secret-1, subject: ci }\n";
    /// let config = ConfigLoader::new().yaml("app.yaml", yaml).env(|_| None).load().unwrap();
    /// let effective = config.effective();
    /// assert_eq!(effective["backend"]["auth"]["externalAccess"][0]["options"]["token"], "***");
    /// assert_eq!(effective["backend"]["listen"]["port"], 7007);
    /// assert_eq!(effective["mcpActions"]["namespacedToolNames"], false);
    /// ```
    pub fn effective(&self) -> Value {
        let mut tree = self.tree.clone();
        mask_secrets(&mut tree);
        let root = object(&mut tree);
        let backend = object(
            root.entry("backend")
                .or_insert_with(|| Value::Object(Map::new())),
        );
        let b = &self.backend;
        backend.insert(
            "listen".into(),
            serde_json::json!({ "host": b.listen.host, "port": b.listen.port }),
        );
        match &b.base_url {
            Some(url) => backend.insert("baseUrl".into(), url.clone().into()),
            None => backend.remove("baseUrl"),
        };
        let auth = object(
            backend
                .entry("auth")
                .or_insert_with(|| Value::Object(Map::new())),
        );
        auth.insert(
            "externalAccess".into(),
            b.external_access.iter().map(static_token_value).collect(),
        );
        let mut actions = Map::new();
        if let Some(sources) = &b.actions.plugin_sources {
            actions.insert("pluginSources".into(), sources.clone().into());
        }
        actions.insert("filter".into(), filter_value(&b.actions.filter));
        backend.insert("actions".into(), Value::Object(actions));

        let m = &self.mcp_actions;
        let mut mcp = Map::new();
        mcp.insert("name".into(), m.name.clone().into());
        if let Some(description) = &m.description {
            mcp.insert("description".into(), description.clone().into());
        }
        if let Some(instructions) = &m.instructions {
            mcp.insert("instructions".into(), instructions.clone().into());
        }
        if let Some(hosts) = &m.allowed_hosts {
            mcp.insert("allowedHosts".into(), hosts.clone().into());
        }
        mcp.insert(
            "authorizationServers".into(),
            m.authorization_servers.clone().into(),
        );
        mcp.insert(
            "limits".into(),
            serde_json::json!({
                "maxRequestBodyBytes": m.limits.max_request_body_bytes,
                "actionTimeoutSeconds": m.limits.action_timeout.map_or(0, |t| t.as_secs()),
                "maxConcurrentRequests": m.limits.max_concurrent_requests,
                "shutdownGraceSeconds": m.limits.shutdown_grace.as_secs(),
            }),
        );
        mcp.insert("namespacedToolNames".into(), m.namespaced_tool_names.into());
        let servers: Map<String, Value> = m
            .servers
            .iter()
            .map(|server| {
                let mut value = Map::new();
                value.insert("name".into(), server.name.clone().into());
                if let Some(description) = &server.description {
                    value.insert("description".into(), description.clone().into());
                }
                if let Some(instructions) = &server.instructions {
                    value.insert("instructions".into(), instructions.clone().into());
                }
                value.insert("filter".into(), filter_value(&server.filter));
                (server.key.clone(), Value::Object(value))
            })
            .collect();
        mcp.insert("servers".into(), Value::Object(servers));
        let seconds = |d: Option<Duration>| d.map_or(0, |d| d.as_secs());
        mcp.insert(
            "sse".into(),
            serde_json::json!({
                "enabled": m.sse.enabled,
                "maxSessions": m.sse.max_sessions,
                "idleTimeoutSeconds": seconds(m.sse.idle_timeout),
                "keepAliveSeconds": seconds(m.sse.keep_alive),
            }),
        );
        mcp.insert("stdio".into(), stdio_value(&m.stdio.credentials));
        root.insert("mcpActions".into(), Value::Object(mcp));
        tree
    }

    /// Looks up an environment variable through the source the configuration was loaded with.
    pub fn env_var(&self, name: &str) -> Option<String> {
        (self.env)(name)
    }

    /// Reads the application's own section at a dotted key path (e.g. `"catalog.policy"`) as
    /// `T`; `Ok(None)` when the key is absent. Errors name the full key path.
    ///
    /// ```
    /// use mcp_actions_server::config::ConfigLoader;
    /// #[derive(Debug, serde::Deserialize)]
    /// #[serde(deny_unknown_fields)]
    /// struct Seed { entities: Vec<String> }
    ///
    /// let config = ConfigLoader::new().yaml("app.yaml", "catalog:\n  seed:\n    entitys: []\n").env(|_| None).load().unwrap();
    /// let err = config.get::<Seed>("catalog.seed").unwrap_err();
    /// assert!(err.to_string().contains("`catalog.seed.entitys`"), "{err}");
    /// assert!(err.to_string().contains("expected `entities`"), "{err}");
    /// ```
    pub fn get<T: DeserializeOwned>(&self, path: &str) -> Result<Option<T>, ConfigError> {
        let mut node = &self.tree;
        for segment in path.split('.').filter(|s| !s.is_empty()) {
            match node.get(segment) {
                Some(next) => node = next,
                None => return Ok(None),
            }
        }
        if node.is_null() {
            return Ok(None);
        }
        deserialize_at(path, node.clone()).map(Some)
    }
}

/// The map inside `value`, which is made a map first if it is not one.
fn object(value: &mut Value) -> &mut Map<String, Value> {
    if !value.is_object() {
        *value = Value::Object(Map::new());
    }
    match value {
        Value::Object(map) => map,
        _ => unreachable!("made an object above"),
    }
}

/// The mask shown instead of a secret.
pub const MASK: &str = "***";

/// Whether a key's value is probably a secret (compared without case, `-` and `_`).
fn is_secret_key(key: &str) -> bool {
    let key: String = key
        .chars()
        .filter(|c| *c != '-' && *c != '_')
        .flat_map(char::to_lowercase)
        .collect();
    [
        "token",
        "secret",
        "password",
        "passwd",
        "apikey",
        "privatekey",
        "credential",
        "clientkey",
    ]
    .iter()
    .any(|word| key.contains(word))
}

/// Replaces every scalar under a secret-looking key with [`MASK`].
fn mask_secrets(value: &mut Value) {
    fn mask_all(value: &mut Value) {
        match value {
            Value::Array(items) => items.iter_mut().for_each(mask_all),
            Value::Object(map) => map.values_mut().for_each(mask_all),
            Value::Null => {}
            other => *other = Value::from(MASK),
        }
    }
    match value {
        Value::Array(items) => items.iter_mut().for_each(mask_secrets),
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                if is_secret_key(key) {
                    mask_all(item);
                } else {
                    mask_secrets(item);
                }
            }
        }
        _ => {}
    }
}

fn static_token_value(entry: &StaticTokenConfig) -> Value {
    let mut value = serde_json::json!({
        "type": "static",
        "options": { "token": MASK, "subject": entry.subject },
    });
    if let Some(restrictions) = &entry.access_restrictions {
        let restrictions: Vec<Value> = restrictions
            .iter()
            .map(|r| {
                let mut restriction = Map::new();
                restriction.insert("plugin".into(), r.plugin.clone().into());
                if let Some(names) = &r.permission_names {
                    restriction.insert("permission".into(), names.clone().into());
                }
                if let Some(actions) = &r.permission_actions {
                    let actions: Vec<Value> =
                        actions.iter().map(|a| a.to_string().into()).collect();
                    restriction.insert(
                        "permissionAttribute".into(),
                        serde_json::json!({ "action": actions }),
                    );
                }
                Value::Object(restriction)
            })
            .collect();
        value["accessRestrictions"] = restrictions.into();
    }
    value
}

fn stdio_value(credentials: &Credentials) -> Value {
    match credentials.principal() {
        Principal::User { user_entity_ref } => serde_json::json!({ "user": user_entity_ref }),
        Principal::Service { subject } => serde_json::json!({ "subject": subject }),
        Principal::None => serde_json::json!({}),
    }
}

fn rule_value(rule: &FilterRule) -> Value {
    let mut value = Map::new();
    if let Some(id) = &rule.id {
        value.insert("id".into(), id.clone().into());
    }
    if let Some(attributes) = &rule.attributes {
        let mut a = Map::new();
        for (key, v) in [
            ("readOnly", attributes.read_only),
            ("destructive", attributes.destructive),
            ("idempotent", attributes.idempotent),
        ] {
            if let Some(v) = v {
                a.insert(key.into(), v.into());
            }
        }
        value.insert("attributes".into(), Value::Object(a));
    }
    Value::Object(value)
}

fn filter_value(filter: &FilterConfig) -> Value {
    serde_json::json!({
        "include": filter.include.iter().map(rule_value).collect::<Vec<_>>(),
        "exclude": filter.exclude.iter().map(rule_value).collect::<Vec<_>>(),
    })
}

fn deserialize_at<T: DeserializeOwned>(prefix: &str, value: Value) -> Result<T, ConfigError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let inner = e.path().to_string();
        let key = match (prefix.is_empty(), inner.as_str()) {
            (true, _) => inner.clone(),
            (false, ".") => prefix.to_owned(),
            (false, _) if inner.starts_with('[') => format!("{prefix}{inner}"),
            (false, _) => format!("{prefix}.{inner}"),
        };
        ConfigError::invalid(key, e.into_inner().to_string())
    })
}

enum Source {
    File(PathBuf),
    Text { name: String, text: String },
}

/// Builds a [`Config`] from files and inline YAML documents.
pub struct ConfigLoader {
    sources: Vec<Source>,
    env: EnvSource,
}

impl Default for ConfigLoader {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for ConfigLoader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigLoader")
            .field(
                "sources",
                &self.sources.iter().map(Source::name).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl Source {
    fn name(&self) -> String {
        match self {
            Source::File(path) => path.display().to_string(),
            Source::Text { name, .. } => name.clone(),
        }
    }
}

impl ConfigLoader {
    /// No sources; environment variables from the process.
    pub fn new() -> Self {
        Self {
            sources: Vec::new(),
            env: Arc::new(|name| std::env::var(name).ok()),
        }
    }

    /// Adds a YAML file (merged after the sources added before it).
    pub fn file(mut self, path: impl Into<PathBuf>) -> Self {
        self.sources.push(Source::File(path.into()));
        self
    }

    /// Adds several YAML files, in order.
    pub fn files(mut self, paths: impl IntoIterator<Item = impl Into<PathBuf>>) -> Self {
        self.sources
            .extend(paths.into_iter().map(|p| Source::File(p.into())));
        self
    }

    /// Adds an inline YAML document; `name` is used in error messages.
    pub fn yaml(mut self, name: impl Into<String>, text: impl Into<String>) -> Self {
        self.sources.push(Source::Text {
            name: name.into(),
            text: text.into(),
        });
        self
    }

    /// Takes environment variables (for `${VAR}` and `MCP_TOKEN`) from `env` instead of the
    /// process environment.
    pub fn env(mut self, env: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> Self {
        self.env = Arc::new(env);
        self
    }

    /// Reads, substitutes, merges and validates every source.
    pub fn load(self) -> Result<Config, ConfigError> {
        let mut tree = Value::Object(Map::new());
        let mut names = Vec::with_capacity(self.sources.len());
        for source in &self.sources {
            let name = source.name();
            let text = match source {
                Source::File(path) => {
                    std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                        path: path.clone(),
                        source,
                    })?
                }
                Source::Text { text, .. } => text.clone(),
            };
            let mut document = parse_yaml(&name, &text)?;
            substitute_env(&mut document, &mut String::new(), &name, self.env.as_ref())?;
            merge(&mut tree, document);
            names.push(name);
        }
        let (backend, mcp_actions) = typed_sections(&tree)?;
        Ok(Config {
            tree,
            sources: names,
            backend,
            mcp_actions,
            env: self.env,
        })
    }
}

fn parse_yaml(name: &str, text: &str) -> Result<Value, ConfigError> {
    let syntax = |message: String| ConfigError::Syntax {
        source_name: name.to_owned(),
        message,
    };
    // A key written twice in one document would silently keep only the last value (a whole
    // second `backend:` section replacing the first); YAML forbids it, and serde_yaml_ng's own
    // `Value` says so, naming the key.
    serde_yaml_ng::from_str::<serde_yaml_ng::Value>(text)
        .map_err(|e| duplicate_key(name, &e).unwrap_or_else(|| syntax(e.to_string())))?;
    let value: Value = serde_yaml_ng::from_str(text).map_err(|e| syntax(e.to_string()))?;
    match value {
        Value::Null => Ok(Value::Object(Map::new())),
        Value::Object(_) => Ok(value),
        other => Err(syntax(format!(
            "the top level must be a mapping of keys (like `backend:`), not {}",
            kind_of(&other)
        ))),
    }
}

/// serde_yaml_ng's duplicate-key error (`mcpActions: duplicate entry with key "name" at line 2
/// column 3`) as an error at the full key path, `mcpActions.name`.
fn duplicate_key(source_name: &str, error: &serde_yaml_ng::Error) -> Option<ConfigError> {
    const MARK: &str = "duplicate entry with key \"";
    let text = error.to_string();
    let at = text.find(MARK)?;
    let parent = text[..at].strip_suffix(": ").unwrap_or("");
    let key = text[at + MARK.len()..].split('"').next()?;
    let path = if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    };
    let line = error
        .location()
        .map(|l| format!(" (the mapping at line {})", l.line()))
        .unwrap_or_default();
    Some(ConfigError::Invalid {
        key: path,
        message: format!(
            "the key is written twice in config file {source_name}{line}; a key may appear once per mapping, so merge the two"
        ),
    })
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

fn push_key(path: &mut String, key: &str) -> usize {
    let len = path.len();
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(key);
    len
}

fn substitute_env(
    value: &mut Value,
    path: &mut String,
    source_name: &str,
    env: &(dyn Fn(&str) -> Option<String> + Send + Sync),
) -> Result<(), ConfigError> {
    match value {
        Value::String(s) if s.contains('$') => {
            *s = substitute_str(s, path, source_name, env)?;
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                substitute_env(item, path, source_name, env)?;
                path.truncate(len);
            }
        }
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                let len = push_key(path, key);
                substitute_env(item, path, source_name, env)?;
                path.truncate(len);
            }
        }
        _ => {}
    }
    Ok(())
}

/// Replaces `${VAR}` with the variable's value; `$${…}` is a literal `${…}`.
fn substitute_str(
    s: &str,
    key: &str,
    source_name: &str,
    env: &(dyn Fn(&str) -> Option<String> + Send + Sync),
) -> Result<String, ConfigError> {
    let bad = |message: &str| ConfigError::BadReference {
        key: key.to_owned(),
        source_name: source_name.to_owned(),
        message: message.to_owned(),
    };
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        rest = &rest[pos..];
        if let Some(after) = rest.strip_prefix("$${") {
            out.push_str("${");
            rest = after;
        } else if let Some(after) = rest.strip_prefix("${") {
            let end = after
                .find('}')
                .ok_or_else(|| bad("`${` has no closing `}`"))?;
            let variable = after[..end].trim();
            let valid = !variable.is_empty()
                && variable
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                return Err(bad(&format!(
                    "`${{{}}}` is not a variable name; use letters, digits and `_`",
                    &after[..end]
                )));
            }
            let value = env(variable).ok_or_else(|| ConfigError::MissingEnv {
                variable: variable.to_owned(),
                key: key.to_owned(),
                source_name: source_name.to_owned(),
            })?;
            out.push_str(&value);
            rest = &after[end + 1..];
        } else {
            out.push('$');
            rest = &rest[1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Deep-merges `overlay` into `base`: maps key by key, anything else replaced.
fn merge(base: &mut Value, overlay: Value) {
    match (base, overlay) {
        (Value::Object(base), Value::Object(overlay)) => {
            for (key, value) in overlay {
                match base.get_mut(&key) {
                    Some(existing) => merge(existing, value),
                    None => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (base, overlay) => *base = overlay,
    }
}

// ---------------------------------------------------------------------------------------------
// Typed sections
// ---------------------------------------------------------------------------------------------

/// The `backend` keys this crate reads. Other `backend` keys (database, cors, …) are ignored.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct BackendConfig {
    /// `backend.listen`: where to listen (default `127.0.0.1:7007`).
    pub listen: ListenConfig,
    /// `backend.baseUrl`: the external URL of the server, used in the `WWW-Authenticate`
    /// challenge, the protected-resource metadata and the allowed hosts. Default:
    /// `http://<listen address>` (with `localhost` for an unspecified address).
    pub base_url: Option<String>,
    /// `backend.auth.externalAccess`: static tokens. When there is none, the server accepts
    /// the token in the `MCP_TOKEN` environment variable, or generates one.
    pub external_access: Vec<StaticTokenConfig>,
    /// `backend.actions`: which of the linked actions are exposed.
    pub actions: ActionsConfig,
}

/// `backend.actions` (Backstage's keys): which of the actions linked into the binary the
/// server exposes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ActionsConfig {
    /// `backend.actions.pluginSources`: only actions of these plugins are exposed. `None`
    /// (absent): every plugin linked in.
    pub plugin_sources: Option<Vec<String>>,
    /// `backend.actions.filter`: include and exclude rules.
    pub filter: FilterConfig,
}

impl ActionsConfig {
    /// The compiled filter: `pluginSources` and the rules. The globs were checked when the
    /// configuration was loaded.
    pub fn action_filter(&self) -> Result<ActionFilter, FilterError> {
        self.filter.compile(self.plugin_sources.clone())
    }
}

/// `filter: { include: […], exclude: […] }`: rules `{ id: "<glob on plugin:name>",
/// attributes: { readOnly, destructive, idempotent } }`.
///
/// `id` and `attributes` combine with AND; when there are include rules an action must match
/// one of them; an exclude rule that matches always wins; attributes are compared after
/// defaults (`destructive` defaults to `!readOnly`). See [`mcp_actions::filter`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FilterConfig {
    /// `include`: when non-empty, an action must match one of these.
    pub include: Vec<FilterRule>,
    /// `exclude`: an action matching one of these is never exposed.
    pub exclude: Vec<FilterRule>,
}

impl FilterConfig {
    /// Whether there are no rules.
    pub fn is_empty(&self) -> bool {
        self.include.is_empty() && self.exclude.is_empty()
    }

    /// Compiles the rules, with `plugin_sources` (`None`: every plugin).
    pub fn compile(
        &self,
        plugin_sources: Option<Vec<String>>,
    ) -> Result<ActionFilter, FilterError> {
        ActionFilter::new(plugin_sources, self.include.clone(), self.exclude.clone())
    }
}

/// `backend.listen`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListenConfig {
    /// `backend.listen.host` (default `127.0.0.1`).
    pub host: String,
    /// `backend.listen.port` (default `7007`; `0` picks a free port).
    pub port: u16,
}

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
}

/// One `type: static` entry of `backend.auth.externalAccess`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StaticTokenConfig {
    /// The token clients send as `Authorization: Bearer <token>`.
    pub token: Secret,
    /// The subject the caller is known by (`Principal::Service { subject }`).
    pub subject: String,
    /// `accessRestrictions`, if any.
    pub access_restrictions: Option<Vec<AccessRestriction>>,
    /// The entry's key path, for messages.
    pub key: String,
}

/// The `mcpActions` section.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct McpActionsConfig {
    /// `mcpActions.name`: the server name clients show (default `mcp-actions`).
    pub name: String,
    /// `mcpActions.description`.
    pub description: Option<String>,
    /// `mcpActions.instructions`: how a model should use the server.
    pub instructions: Option<String>,
    /// `mcpActions.allowedHosts`: `Host` header values accepted (DNS-rebinding guard). When
    /// unset: the listen host, `localhost`, `127.0.0.1`, `::1`, and the host of
    /// `backend.baseUrl`.
    pub allowed_hosts: Option<Vec<String>>,
    /// `mcpActions.authorizationServers`: OAuth authorization servers announced in the
    /// protected-resource metadata (default: none).
    pub authorization_servers: Vec<String>,
    /// `mcpActions.limits`.
    pub limits: LimitsConfig,
    /// `mcpActions.namespacedToolNames` (default `false`): name tools `<plugin>__<name>`
    /// instead of `<name>`, with `-` in the plugin id replaced by `_`.
    pub namespaced_tool_names: bool,
    /// `mcpActions.servers`: named servers, each at `/api/mcp-actions/v1/<key>`, sorted by key.
    pub servers: Vec<NamedServerConfig>,
    /// `mcpActions.sse`: the deprecated HTTP+SSE transport.
    pub sse: SseConfig,
    /// `mcpActions.stdio`: who `serve --stdio` calls actions as.
    pub stdio: StdioConfig,
}

impl Default for McpActionsConfig {
    fn default() -> Self {
        Self {
            name: DEFAULT_NAME.to_owned(),
            description: None,
            instructions: None,
            allowed_hosts: None,
            authorization_servers: Vec::new(),
            limits: LimitsConfig::default(),
            namespaced_tool_names: false,
            servers: Vec::new(),
            sse: SseConfig::default(),
            stdio: StdioConfig::default(),
        }
    }
}

/// One entry of `mcpActions.servers`: a named MCP server at `/api/mcp-actions/v1/<key>`
/// serving a subset of the default server's actions.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NamedServerConfig {
    /// The key under `mcpActions.servers` (`^[a-z0-9][a-z0-9-]*$`), the last segment of the
    /// server's path.
    pub key: String,
    /// `name` (required): the server name clients show.
    pub name: String,
    /// `description`.
    pub description: Option<String>,
    /// `instructions`.
    pub instructions: Option<String>,
    /// `filter`: which of the default server's actions this server serves (all when empty).
    pub filter: FilterConfig,
}

/// Keys that cannot name a server because their path is taken: `sse` is the legacy
/// HTTP+SSE transport's endpoint (`/api/mcp-actions/v1/sse`).
pub const RESERVED_SERVER_KEYS: &[&str] = &["sse"];

/// Whether `key` may name a server under `mcpActions.servers`: `^[a-z0-9][a-z0-9-]*$` (as in
/// Backstage) and not reserved.
pub fn is_valid_server_key(key: &str) -> bool {
    let bytes = key.as_bytes();
    !bytes.is_empty()
        && (bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && !RESERVED_SERVER_KEYS.contains(&key)
}

/// `mcpActions.limits`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LimitsConfig {
    /// `mcpActions.limits.maxRequestBodyBytes` (default 4 MiB).
    pub max_request_body_bytes: usize,
    /// `mcpActions.limits.actionTimeoutSeconds` (default 30; `0` means no limit).
    pub action_timeout: Option<Duration>,
    /// `mcpActions.limits.maxConcurrentRequests` (default 256): MCP requests in progress at
    /// once, over every endpoint; one more is refused at once with 503 and `Retry-After`.
    pub max_concurrent_requests: usize,
    /// `mcpActions.limits.shutdownGraceSeconds` (default 10): on shutdown, how long calls in
    /// progress may run to their end before they are cancelled (`0`: cancelled at once).
    pub shutdown_grace: Duration,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_request_body_bytes: DEFAULT_MAX_REQUEST_BODY_BYTES,
            action_timeout: Some(Duration::from_secs(DEFAULT_ACTION_TIMEOUT_SECONDS)),
            max_concurrent_requests: DEFAULT_MAX_CONCURRENT_REQUESTS,
            shutdown_grace: Duration::from_secs(DEFAULT_SHUTDOWN_GRACE_SECONDS),
        }
    }
}

// The raw, serde-shaped form of the sections. `deny_unknown_fields` wherever we own every key.

#[derive(Deserialize, Default)]
struct RawRoot {
    #[serde(default)]
    backend: Option<RawBackend>,
    #[serde(default, rename = "mcpActions")]
    mcp_actions: Option<RawMcpActions>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawBackend {
    /// `{ host, port }`, or Backstage's string form `":7007"` / `"0.0.0.0:7007"`; parsed by
    /// `listen_config` so errors keep their full key path.
    #[serde(default)]
    listen: Option<Value>,
    #[serde(default)]
    base_url: Option<String>,
    #[serde(default)]
    auth: Option<RawAuth>,
    #[serde(default)]
    actions: Option<RawActions>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawActions {
    #[serde(default)]
    plugin_sources: Option<Vec<String>>,
    #[serde(default)]
    filter: Option<RawFilter>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFilter {
    #[serde(default)]
    include: Option<Vec<FilterRule>>,
    #[serde(default)]
    exclude: Option<Vec<FilterRule>>,
}

impl RawFilter {
    fn into_config(filter: Option<Self>) -> FilterConfig {
        let filter = filter.unwrap_or(RawFilter {
            include: None,
            exclude: None,
        });
        FilterConfig {
            include: filter.include.unwrap_or_default(),
            exclude: filter.exclude.unwrap_or_default(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    instructions: Option<String>,
    #[serde(default)]
    filter: Option<RawFilter>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawAuth {
    #[serde(default)]
    external_access: Option<Vec<RawExternalAccess>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawListenParts {
    #[serde(default)]
    host: Option<String>,
    #[serde(default, deserialize_with = "number_or_string")]
    port: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawExternalAccess {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    options: Option<Value>,
    #[serde(default)]
    access_restrictions: Option<Vec<RawAccessRestriction>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStaticOptions {
    token: String,
    subject: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawAccessRestriction {
    plugin: String,
    #[serde(default)]
    permission: Option<OneOrMany<String>>,
    #[serde(default)]
    permission_attribute: Option<RawPermissionAttribute>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPermissionAttribute {
    action: OneOrMany<PermissionAction>,
}

/// `x` or `[x, y]`.
struct OneOrMany<T>(Vec<T>);

impl<'de, T: DeserializeOwned> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Array(items) => items
                .into_iter()
                .map(|v| T::deserialize(v).map_err(D::Error::custom))
                .collect::<Result<_, _>>()
                .map(OneOrMany),
            one => T::deserialize(one)
                .map(|t| OneOrMany(vec![t]))
                .map_err(D::Error::custom),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawMcpActions {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    instructions: Option<String>,
    #[serde(default)]
    allowed_hosts: Option<Vec<String>>,
    #[serde(default)]
    authorization_servers: Option<Vec<String>>,
    #[serde(default)]
    limits: Option<RawLimits>,
    #[serde(default)]
    namespaced_tool_names: Option<bool>,
    #[serde(default)]
    servers: Option<BTreeMap<String, RawServer>>,
    /// Parsed by `SseConfig::from_value`.
    #[serde(default)]
    sse: Option<Value>,
    /// Parsed by `StdioConfig::from_value`.
    #[serde(default)]
    stdio: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawLimits {
    #[serde(default, deserialize_with = "number_or_string")]
    max_request_body_bytes: Option<u64>,
    #[serde(default, deserialize_with = "number_or_string")]
    action_timeout_seconds: Option<u64>,
    #[serde(default, deserialize_with = "number_or_string")]
    max_concurrent_requests: Option<u64>,
    #[serde(default, deserialize_with = "number_or_string")]
    shutdown_grace_seconds: Option<u64>,
}

/// A whole number written as a number or (after `${VAR}` substitution) a string.
fn number_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_u64()
            .map(Some)
            .ok_or_else(|| D::Error::custom(format!("expected a whole number ≥ 0, got {n}"))),
        Value::String(s) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| D::Error::custom(format!("expected a whole number ≥ 0, got \"{s}\""))),
        other => Err(D::Error::custom(format!(
            "expected a whole number ≥ 0, got {}",
            kind_of(&other)
        ))),
    }
}

fn typed_sections(tree: &Value) -> Result<(BackendConfig, McpActionsConfig), ConfigError> {
    let root: RawRoot = deserialize_at("", tree.clone())?;
    let backend = root.backend.unwrap_or_default();
    let listen = listen_config(backend.listen)?;
    if let Some(url) = &backend.base_url {
        let uri: http::Uri = url.parse().map_err(|e| {
            ConfigError::invalid("backend.baseUrl", format!("`{url}` is not a URL: {e}"))
        })?;
        if uri.scheme().is_none() || uri.host().is_none() {
            return Err(ConfigError::invalid(
                "backend.baseUrl",
                format!("`{url}` must be an absolute URL like `https://mcp.example.com`"),
            ));
        }
    }
    let entries = backend
        .auth
        .and_then(|a| a.external_access)
        .unwrap_or_default();
    let external_access = static_tokens(entries)?;
    let actions = match backend.actions {
        None => ActionsConfig::default(),
        Some(raw) => ActionsConfig {
            plugin_sources: raw.plugin_sources,
            filter: RawFilter::into_config(raw.filter),
        },
    };
    check_globs("backend.actions.filter", &actions.filter).map_err(ConfigError::from_problems)?;
    let mcp = root.mcp_actions;
    let mcp_actions = match mcp {
        None => McpActionsConfig::default(),
        Some(raw) => {
            let limits = raw
                .limits
                .map(limits_config)
                .transpose()?
                .unwrap_or_default();
            let name = raw.name.unwrap_or_else(|| DEFAULT_NAME.to_owned());
            if name.trim().is_empty() {
                return Err(ConfigError::invalid("mcpActions.name", "must not be empty"));
            }
            McpActionsConfig {
                name,
                description: raw.description,
                instructions: raw.instructions,
                allowed_hosts: raw.allowed_hosts,
                authorization_servers: raw.authorization_servers.unwrap_or_default(),
                limits,
                namespaced_tool_names: raw.namespaced_tool_names.unwrap_or(false),
                servers: named_servers(raw.servers.unwrap_or_default())?,
                sse: SseConfig::from_value(raw.sse)?,
                stdio: StdioConfig::from_value(raw.stdio)?,
            }
        }
    };
    Ok((
        BackendConfig {
            listen,
            base_url: backend.base_url.map(|u| u.trim_end_matches('/').to_owned()),
            external_access,
            actions,
        },
        mcp_actions,
    ))
}

/// Every rule's glob compiles; a bad one is a problem at `<prefix>.<list>[i].id`.
fn check_globs(prefix: &str, filter: &FilterConfig) -> Result<(), Vec<ConfigProblem>> {
    // ActionFilter::new stops at the first bad glob; check each rule alone to report all.
    let mut problems = Vec::new();
    for (list, rules) in [("include", &filter.include), ("exclude", &filter.exclude)] {
        for (index, rule) in rules.iter().enumerate() {
            let (include, exclude) = match list {
                "include" => (vec![rule.clone()], vec![]),
                _ => (vec![], vec![rule.clone()]),
            };
            if let Err(error) = ActionFilter::new(None, include, exclude) {
                problems.push(ConfigProblem {
                    key: format!("{prefix}.{list}[{index}].id"),
                    message: format!(
                        "`{}` is not a valid glob: {}; globs match the action id `plugin:name`, e.g. `catalog:*` or `*:delete_*`",
                        error.glob, error.reason
                    ),
                });
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

fn named_servers(raw: BTreeMap<String, RawServer>) -> Result<Vec<NamedServerConfig>, ConfigError> {
    let mut problems = Vec::new();
    let mut servers = Vec::with_capacity(raw.len());
    for (key, server) in raw {
        let path = format!("mcpActions.servers.{key}");
        if RESERVED_SERVER_KEYS.contains(&key.as_str()) {
            problems.push(ConfigProblem {
                key: path,
                message: format!(
                    "`{key}` cannot name a server: /api/mcp-actions/v1/{key} is the legacy HTTP+SSE endpoint; choose another key"
                ),
            });
            continue;
        }
        if !is_valid_server_key(&key) {
            problems.push(ConfigProblem {
                key: path,
                message: format!(
                    "`{key}` is not a valid server key: use lowercase letters, digits and `-`, starting with a letter or digit (it becomes the path /api/mcp-actions/v1/<key>)"
                ),
            });
            continue;
        }
        if server.name.trim().is_empty() {
            problems.push(ConfigProblem {
                key: format!("{path}.name"),
                message: "must not be empty".to_owned(),
            });
        }
        let filter = RawFilter::into_config(server.filter);
        if let Err(more) = check_globs(&format!("{path}.filter"), &filter) {
            problems.extend(more);
        }
        servers.push(NamedServerConfig {
            key,
            name: server.name,
            description: server.description,
            instructions: server.instructions,
            filter,
        });
    }
    if problems.is_empty() {
        Ok(servers)
    } else {
        Err(ConfigError::from_problems(problems))
    }
}

fn listen_config(raw: Option<Value>) -> Result<ListenConfig, ConfigError> {
    let port_error = |port: &str| {
        ConfigError::invalid(
            "backend.listen.port",
            format!("`{port}` is not a port number (0-65535)"),
        )
    };
    match raw {
        None | Some(Value::Null) => Ok(ListenConfig::default()),
        Some(value @ Value::Object(_)) => {
            let parts: RawListenParts = deserialize_at("backend.listen", value)?;
            let port = match parts.port {
                None => DEFAULT_PORT,
                Some(p) => u16::try_from(p).map_err(|_| port_error(&p.to_string()))?,
            };
            let host = parts.host.unwrap_or_else(|| DEFAULT_HOST.to_owned());
            if host.trim().is_empty() {
                return Err(ConfigError::invalid(
                    "backend.listen.host",
                    "must not be empty",
                ));
            }
            Ok(ListenConfig { host, port })
        }
        Some(Value::String(text)) => {
            let (host, port) = text.rsplit_once(':').ok_or_else(|| {
                ConfigError::invalid(
                    "backend.listen",
                    format!("`{text}` should look like `:7007` or `0.0.0.0:7007`"),
                )
            })?;
            let port = port.parse::<u16>().map_err(|_| port_error(port))?;
            let host = host.trim_start_matches('[').trim_end_matches(']');
            Ok(ListenConfig {
                host: if host.is_empty() { DEFAULT_HOST } else { host }.to_owned(),
                port,
            })
        }
        Some(other) => Err(ConfigError::invalid(
            "backend.listen",
            format!(
                "expected a mapping like `{{ host: 127.0.0.1, port: 7007 }}` or a string like \":7007\", got {}",
                kind_of(&other)
            ),
        )),
    }
}

fn limits_config(raw: RawLimits) -> Result<LimitsConfig, ConfigError> {
    let mut limits = LimitsConfig::default();
    if let Some(bytes) = raw.max_request_body_bytes {
        if bytes == 0 {
            return Err(ConfigError::invalid(
                "mcpActions.limits.maxRequestBodyBytes",
                "must be greater than 0",
            ));
        }
        limits.max_request_body_bytes = usize::try_from(bytes).unwrap_or(usize::MAX);
    }
    if let Some(seconds) = raw.action_timeout_seconds {
        limits.action_timeout = (seconds > 0).then(|| Duration::from_secs(seconds));
    }
    if let Some(requests) = raw.max_concurrent_requests {
        if requests == 0 {
            return Err(ConfigError::invalid(
                "mcpActions.limits.maxConcurrentRequests",
                "must be greater than 0",
            ));
        }
        limits.max_concurrent_requests = usize::try_from(requests).unwrap_or(usize::MAX);
    }
    if let Some(seconds) = raw.shutdown_grace_seconds {
        limits.shutdown_grace = Duration::from_secs(seconds);
    }
    Ok(limits)
}

/// Whether a token has the shape Backstage requires: at least 8 characters, no whitespace.
pub fn check_token_shape(token: &str) -> Result<(), String> {
    if token.chars().any(char::is_whitespace) {
        return Err("the token must not contain spaces or other whitespace".to_owned());
    }
    let len = token.chars().count();
    if len < MIN_TOKEN_LENGTH {
        return Err(format!(
            "the token is too short ({len} characters); static tokens need at least {MIN_TOKEN_LENGTH}"
        ));
    }
    Ok(())
}

fn static_tokens(entries: Vec<RawExternalAccess>) -> Result<Vec<StaticTokenConfig>, ConfigError> {
    let mut problems = Vec::new();
    let mut tokens: Vec<StaticTokenConfig> = Vec::new();
    for (i, entry) in entries.into_iter().enumerate() {
        let key = format!("backend.auth.externalAccess[{i}]");
        let mut problem = |suffix: &str, message: String| {
            problems.push(ConfigProblem {
                key: format!("{key}{suffix}"),
                message,
            })
        };
        if entry.kind != "static" {
            problem(
                ".type",
                format!(
                    "type `{}` is not supported yet; supported: `static`",
                    entry.kind
                ),
            );
            continue;
        }
        let Some(options) = entry.options else {
            problem(
                ".options",
                "is missing; a static entry needs `options: { token: …, subject: … }`".to_owned(),
            );
            continue;
        };
        let options: RawStaticOptions = match deserialize_at(&format!("{key}.options"), options) {
            Ok(options) => options,
            Err(e) => {
                problems.push(ConfigProblem {
                    key: e.key().unwrap_or_default().to_owned(),
                    message: match e {
                        ConfigError::Invalid { message, .. } => message,
                        other => other.to_string(),
                    },
                });
                continue;
            }
        };
        let mut ok = true;
        if let Err(message) = check_token_shape(&options.token) {
            problem(".options.token", message);
            ok = false;
        }
        if options.subject.trim().is_empty() || options.subject.chars().any(char::is_whitespace) {
            problem(
                ".options.subject",
                "the subject must be non-empty and contain no spaces".to_owned(),
            );
            ok = false;
        }
        if let Some(first) = tokens.iter().find(|t| t.token.expose() == options.token) {
            problem(
                ".options.token",
                format!(
                    "the same token is already configured at `{}`; every static token must be unique",
                    first.key
                ),
            );
            ok = false;
        }
        let restrictions = entry.access_restrictions.map(|rs| {
            rs.into_iter()
                .map(|r| {
                    let mut restriction = AccessRestriction::plugin(r.plugin);
                    if let Some(OneOrMany(names)) = r.permission {
                        restriction = restriction.with_permissions(names);
                    }
                    if let Some(attribute) = r.permission_attribute {
                        restriction = restriction.with_actions(attribute.action.0);
                    }
                    restriction
                })
                .collect::<Vec<_>>()
        });
        if ok {
            tokens.push(StaticTokenConfig {
                token: Secret::new(options.token),
                subject: options.subject,
                access_restrictions: restrictions,
                key,
            });
        }
    }
    if problems.is_empty() {
        Ok(tokens)
    } else {
        Err(ConfigError::Problems { problems })
    }
}

/// A new random access token: 24 bytes from the operating system's generator, base64
/// (URL-safe alphabet, no padding: 32 characters that paste into shells, YAML and JSON as is).
pub fn generate_token() -> Secret {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).expect("the operating system's random number generator failed");
    Secret::new(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// The token in `MCP_TOKEN`, for a configuration without static tokens; `Ok(None)` when the
/// variable is unset or empty, an error when it is set to something that is not a valid token.
pub fn default_token(config: &Config) -> Result<Option<Secret>, ConfigError> {
    if !config.backend.external_access.is_empty() {
        return Ok(None);
    }
    match config.env_var(TOKEN_ENV_VAR) {
        None => Ok(None),
        Some(token) if token.is_empty() => Ok(None),
        Some(token) => {
            check_token_shape(&token).map_err(|message| {
                ConfigError::invalid(
                    TOKEN_ENV_VAR,
                    format!("{message} (the environment variable {TOKEN_ENV_VAR})"),
                )
            })?;
            Ok(Some(Secret::new(token)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(yaml: &str) -> Result<Config, ConfigError> {
        ConfigLoader::new()
            .yaml("test.yaml", yaml)
            .env(|name| (name == "SET").then(|| "value-123".to_owned()))
            .load()
    }

    #[test]
    fn defaults_without_sources() {
        let config = ConfigLoader::new().env(|_| None).load().unwrap();
        assert_eq!(config.backend().listen, ListenConfig::default());
        assert_eq!(config.mcp_actions().name, "mcp-actions");
        assert_eq!(config.mcp_actions().limits, LimitsConfig::default());
        assert!(config.backend().external_access.is_empty());
    }

    #[test]
    fn merges_in_order_and_deep() {
        let config = ConfigLoader::new()
            .yaml("a", "backend:\n  listen: { host: 0.0.0.0, port: 1 }\n  baseUrl: http://a\nother: [1, 2]\n")
            .yaml("b", "backend:\n  listen: { port: 2 }\nother: [3]\n")
            .env(|_| None)
            .load()
            .unwrap();
        assert_eq!(config.backend().listen.host, "0.0.0.0");
        assert_eq!(config.backend().listen.port, 2);
        assert_eq!(config.backend().base_url.as_deref(), Some("http://a"));
        assert_eq!(config.tree()["other"], serde_json::json!([3]));
    }

    #[test]
    fn substitutes_and_escapes() {
        let config = load("x: \"a-${SET}-$${SET}-$5\"\n").unwrap();
        assert_eq!(config.tree()["x"], "a-value-123-${SET}-$5");
    }

    #[test]
    fn missing_variable_names_it_and_the_key() {
        let err = load("backend:\n  auth:\n    externalAccess:\n      - type: static\n        options: { token: \"${NOPE}\", subject: s }\n").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("`NOPE`"), "{text}");
        assert!(
            text.contains("backend.auth.externalAccess[0].options.token"),
            "{text}"
        );
        assert!(text.contains("test.yaml"), "{text}");
    }

    #[test]
    fn port_may_come_from_a_variable() {
        let config = ConfigLoader::new()
            .yaml("t", "backend:\n  listen:\n    port: ${PORT}\n")
            .env(|_| Some("8081".into()))
            .load()
            .unwrap();
        assert_eq!(config.backend().listen.port, 8081);
        let err = load("backend:\n  listen:\n    port: 70000\n").unwrap_err();
        assert_eq!(err.key(), Some("backend.listen.port"), "{err}");
    }

    #[test]
    fn listen_string_form() {
        let config = load("backend:\n  listen: ':9000'\n").unwrap();
        assert_eq!(
            config.backend().listen,
            ListenConfig {
                host: "127.0.0.1".into(),
                port: 9000
            }
        );
    }

    #[test]
    fn unknown_keys_in_owned_sections_are_errors() {
        let err = load("mcpActions:\n  nmae: x\n").unwrap_err();
        assert!(err.to_string().contains("nmae"), "{err}");
        assert!(err.to_string().contains("mcpActions"), "{err}");
        let err = load("backend:\n  listen:\n    prot: 1\n").unwrap_err();
        assert!(err.to_string().contains("prot"), "{err}");
        assert!(err.to_string().contains("backend.listen"), "{err}");
        let err = load("mcpActions:\n  limits:\n    actionTimeoutSecs: 1\n").unwrap_err();
        assert!(err.to_string().contains("mcpActions.limits"), "{err}");
        // Other Backstage sections and backend keys are ignored.
        load("backend:\n  database: { client: pg }\n  auth: { keys: [] }\ncatalog: { x: 1 }\n")
            .unwrap();
    }

    #[test]
    fn static_tokens_are_validated() {
        let err = load("backend:\n  auth:\n    externalAccess:\n      - type: static\n        options: { token: short, subject: s }\n      - type: static\n        options: { token: has space in it, subject: s }\n").unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("backend.auth.externalAccess[0].options.token"),
            "{text}"
        );
        assert!(text.contains("at least 8"), "{text}");
        assert!(
            text.contains("backend.auth.externalAccess[1].options.token"),
            "{text}"
        );
        assert!(!text.contains("short,"), "tokens are never printed: {text}");
        let err = load("backend:\n  auth:\n    externalAccess:\n      - type: static\n        options: { token: abcdefgh1, subject: a }\n      - type: static\n        options: { token: abcdefgh1, subject: b }\n").unwrap_err();
        assert!(err.to_string().contains("unique"), "{err}");
        assert!(!err.to_string().contains("abcdefgh1"), "{err}");
        let err = load("backend:\n  auth:\n    externalAccess:\n      - type: static\n        options: { token: abcdefgh1, subjct: a }\n").unwrap_err();
        assert!(
            err.to_string()
                .contains("backend.auth.externalAccess[0].options"),
            "{err}"
        );
        assert!(err.to_string().contains("subjct"), "{err}");
    }

    #[test]
    fn access_restrictions_accept_one_or_many() {
        let config = load("backend:\n  auth:\n    externalAccess:\n      - type: static\n        options: { token: abcdefgh1, subject: a }\n        accessRestrictions:\n          - plugin: catalog\n          - plugin: x\n            permission: x.view\n            permissionAttribute: { action: [read, create] }\n").unwrap();
        let t = &config.backend().external_access[0];
        let rs = t.access_restrictions.as_ref().unwrap();
        assert_eq!(rs[0], AccessRestriction::plugin("catalog"));
        assert_eq!(
            rs[1],
            AccessRestriction::plugin("x")
                .with_permissions(["x.view"])
                .with_actions([PermissionAction::Read, PermissionAction::Create])
        );
        let err = load("backend:\n  auth:\n    externalAccess:\n      - type: static\n        options: { token: abcdefgh1, subject: a }\n        accessRestrictions:\n          - plugin: x\n            permissionAttribute: { action: reed }\n").unwrap_err();
        assert!(err.to_string().contains("reed"), "{err}");
    }

    #[test]
    fn bad_yaml_names_the_file_and_line() {
        let err = load("backend:\n  listen: [\n").unwrap_err();
        assert!(matches!(err, ConfigError::Syntax { .. }), "{err}");
        assert!(err.to_string().contains("test.yaml"), "{err}");
        let err = load("- a\n- b\n").unwrap_err();
        assert!(err.to_string().contains("mapping"), "{err}");
        let err =
            load("backend:\n  listen: { port: 1 }\nbackend:\n  baseUrl: http://x\n").unwrap_err();
        assert_eq!(err.key(), Some("backend"), "{err}");
        assert!(
            err.to_string()
                .contains("written twice in config file test.yaml"),
            "{err}"
        );
        let err = load("backend:\n  listen: { port: 1, port: 2 }\n").unwrap_err();
        assert_eq!(err.key(), Some("backend.listen.port"), "{err}");
        let err = load("a:\n  - x: 1\n    x: 2\n").unwrap_err();
        assert!(err.key().unwrap().ends_with(".x"), "{err}");
    }

    #[test]
    fn default_token_from_env() {
        let config = ConfigLoader::new()
            .env(|n| (n == TOKEN_ENV_VAR).then(|| "from-env-123".into()))
            .load()
            .unwrap();
        assert_eq!(
            default_token(&config).unwrap().unwrap().expose(),
            "from-env-123"
        );
        let config = ConfigLoader::new()
            .env(|n| (n == TOKEN_ENV_VAR).then(|| "short".into()))
            .load()
            .unwrap();
        let err = default_token(&config).unwrap_err();
        assert!(err.to_string().contains("MCP_TOKEN"), "{err}");
    }

    #[test]
    fn actions_filter_and_plugin_sources() {
        let config = load("backend:\n  actions:\n    pluginSources: [catalog, my-custom-plugin]\n    filter:\n      include:\n        - id: 'catalog:*'\n          attributes: { readOnly: true }\n      exclude:\n        - id: '*:delete_*'\n").unwrap();
        let actions = &config.backend().actions;
        assert_eq!(
            actions.plugin_sources.as_deref(),
            Some(&["catalog".to_owned(), "my-custom-plugin".to_owned()][..])
        );
        assert_eq!(actions.filter.include[0].id.as_deref(), Some("catalog:*"));
        assert_eq!(
            actions.filter.include[0].attributes.unwrap().read_only,
            Some(true)
        );
        assert_eq!(actions.filter.exclude[0].id.as_deref(), Some("*:delete_*"));
        actions.action_filter().unwrap();
        assert_eq!(
            load("x: 1\n").unwrap().backend().actions,
            ActionsConfig::default()
        );
    }

    #[test]
    fn unknown_rule_keys_and_bad_globs_name_the_key_path() {
        let err =
            load("backend:\n  actions:\n    filter:\n      include:\n        - idd: 'catalog:*'\n")
                .unwrap_err();
        assert_eq!(
            err.key(),
            Some("backend.actions.filter.include[0].idd"),
            "{err}"
        );
        assert!(
            err.to_string().contains("expected `id` or `attributes`"),
            "{err}"
        );
        let err = load("backend:\n  actions:\n    filter:\n      exclude:\n        - attributes: { readonly: true }\n").unwrap_err();
        assert_eq!(
            err.key(),
            Some("backend.actions.filter.exclude[0].attributes.readonly"),
            "{err}"
        );
        let err = load("backend:\n  actions:\n    pluginSource: [x]\n").unwrap_err();
        assert_eq!(err.key(), Some("backend.actions.pluginSource"), "{err}");
        let err =
            load("backend:\n  actions:\n    filter:\n      exclude:\n        - id: 'catalog:['\n")
                .unwrap_err();
        assert_eq!(
            err.key(),
            Some("backend.actions.filter.exclude[0].id"),
            "{err}"
        );
        assert!(
            err.to_string().contains("`catalog:[` is not a valid glob"),
            "{err}"
        );
    }

    #[test]
    fn named_servers() {
        let config = load("mcpActions:\n  namespacedToolNames: true\n  servers:\n    read-only:\n      name: Read only\n      filter:\n        include: [ { attributes: { readOnly: true } } ]\n    admin:\n      name: Admin\n      description: Everything\n").unwrap();
        let m = config.mcp_actions();
        assert!(m.namespaced_tool_names);
        let keys: Vec<_> = m.servers.iter().map(|s| s.key.as_str()).collect();
        assert_eq!(keys, ["admin", "read-only"]);
        assert_eq!(m.servers[1].name, "Read only");
        assert_eq!(m.servers[1].filter.include.len(), 1);
        assert_eq!(m.servers[0].description.as_deref(), Some("Everything"));

        for bad in ["Admin", "-x", "a_b", "a.b"] {
            let err = load(&format!(
                "mcpActions:\n  servers:\n    '{bad}':\n      name: x\n"
            ))
            .unwrap_err();
            assert_eq!(
                err.key(),
                Some(format!("mcpActions.servers.{bad}").as_str()),
                "{err}"
            );
            assert!(err.to_string().contains("not a valid server key"), "{err}");
        }
        let err = load("mcpActions:\n  servers:\n    sse:\n      name: x\n").unwrap_err();
        assert!(err.to_string().contains("legacy HTTP+SSE"), "{err}");
        let err =
            load("mcpActions:\n  servers:\n    ops:\n      description: no name\n").unwrap_err();
        assert_eq!(err.key(), Some("mcpActions.servers.ops"), "{err}");
        assert!(err.to_string().contains("missing field `name`"), "{err}");
        let err = load("mcpActions:\n  servers:\n    ops:\n      name: x\n      filter:\n        include: [ { id: '{a' } ]\n        exclude: [ { id: 'b[' } ]\n").unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("`mcpActions.servers.ops.filter.include[0].id`"),
            "{text}"
        );
        assert!(
            text.contains("`mcpActions.servers.ops.filter.exclude[0].id`"),
            "{text}"
        );
    }

    #[test]
    fn effective_masks_every_secret() {
        let config = load("backend:\n  auth:\n    keys: [ { secret: key-material-1 } ]\n    externalAccess:\n      - type: static\n        options: { token: abcdefgh1, subject: a }\n        accessRestrictions: [ { plugin: x, permissionAttribute: { action: read } } ]\n  database:\n    connection: { password: hunter22, user: me }\nintegrations:\n  github: [ { host: github.com, token: ghp_x1 } ]\n").unwrap();
        let effective = config.effective();
        let text = effective.to_string();
        for secret in ["abcdefgh1", "key-material-1", "hunter22", "ghp_x1"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert_eq!(effective["backend"]["database"]["connection"]["user"], "me");
        assert_eq!(
            effective["backend"]["auth"]["externalAccess"][0]["accessRestrictions"],
            serde_json::json!([{ "plugin": "x", "permissionAttribute": { "action": ["read"] } }])
        );
        assert_eq!(
            effective["mcpActions"]["limits"]["actionTimeoutSeconds"],
            30
        );
        assert_eq!(effective["mcpActions"]["name"], "mcp-actions");
        assert_eq!(effective["mcpActions"]["sse"]["maxSessions"], 100);
        assert_eq!(
            effective["mcpActions"]["stdio"],
            serde_json::json!({ "subject": "stdio" })
        );
    }

    #[test]
    fn transport_sections_are_read_with_their_key_paths() {
        let config = load(
            "mcpActions:\n  sse: { enabled: false }\n  stdio: { user: 'user:default/jane' }\n",
        )
        .unwrap();
        assert!(!config.mcp_actions().sse.enabled);
        assert_eq!(
            config.mcp_actions().stdio.credentials,
            Credentials::user("user:default/jane")
        );
        let err = load("mcpActions:\n  sse: { maxSession: 1 }\n").unwrap_err();
        assert_eq!(err.key(), Some("mcpActions.sse.maxSession"), "{err}");
    }

    #[test]
    fn concurrency_and_shutdown_limits_are_read_and_shown() {
        let defaults = Config::empty();
        let limits = &defaults.mcp_actions().limits;
        assert_eq!(limits.max_concurrent_requests, 256);
        assert_eq!(limits.shutdown_grace, Duration::from_secs(10));
        let config = load(
            "mcpActions:\n  limits:\n    maxConcurrentRequests: 3\n    shutdownGraceSeconds: 0\n",
        )
        .unwrap();
        let limits = &config.mcp_actions().limits;
        assert_eq!(limits.max_concurrent_requests, 3);
        assert_eq!(limits.shutdown_grace, Duration::ZERO);
        let effective = config.effective();
        assert_eq!(
            effective["mcpActions"]["limits"]["maxConcurrentRequests"],
            3
        );
        assert_eq!(effective["mcpActions"]["limits"]["shutdownGraceSeconds"], 0);
        let err = load("mcpActions:\n  limits:\n    maxConcurrentRequests: 0\n").unwrap_err();
        assert_eq!(
            err.key(),
            Some("mcpActions.limits.maxConcurrentRequests"),
            "{err}"
        );
    }

    #[test]
    fn generated_tokens_are_24_random_bytes() {
        let a = generate_token();
        assert_eq!(a.expose().len(), 32);
        assert!(check_token_shape(a.expose()).is_ok());
        assert_ne!(a, generate_token());
    }

    #[test]
    fn app_sections_are_readable() {
        #[derive(Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        struct Mine {
            #[allow(dead_code)]
            n: u32,
        }
        let config = load("app:\n  mine:\n    n: nope\n").unwrap();
        let err = config.get::<Mine>("app.mine").unwrap_err();
        assert_eq!(err.key(), Some("app.mine.n"), "{err}");
        assert!(config.get::<Mine>("app.absent").unwrap().is_none());
    }
}
