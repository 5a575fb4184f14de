//! Configuration: YAML files with Backstage's keys, merged in order, with `${VAR}` substitution.
//!
//! | file | what it owns |
//! |---|---|
//! | `loader.rs` | [`ConfigLoader`]: sources → one parse each → `${VAR}` → merge → model → checks |
//! | `yaml.rs` | one YAML document → a JSON tree, the line of every key, duplicate keys |
//! | `model.rs` | the typed sections: each key, its default and its description, written once |
//! | `shapes.rs` | numbers and booleans also as strings, one-or-many, ports |
//! | `validate.rs` | the rules beyond shape (token shape, globs, server keys), every problem |
//! | `effective.rs` | the effective view with secrets masked ([`Config::effective`]) |
//! | `reference.rs` | the configuration reference, generated from the model |
//! | `error.rs`, `secret.rs` | [`ConfigError`], [`Secret`] |
//!
//! The sections this crate owns (`backend.listen`, `backend.baseUrl`,
//! `backend.auth.externalAccess`, `backend.actions`, `mcpActions`) are read into the model
//! with the full key path and `file:line` in every error; unknown keys inside them are errors,
//! so typos do not pass silently. Other sections (the rest of a Backstage `app-config.yaml`)
//! are kept in the tree for the application to read with [`Config::get`].
//!
//! ```
//! use mcp_actions_server::ConfigLoader;
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
//!
//! The keys, their defaults and what they do are listed in the crate's
//! [configuration reference](crate#configuration-reference).

mod access;
mod confirm;
mod discovery;
mod effective;
mod error;
mod loader;
mod model;
mod operations;
#[cfg(test)]
mod reference;
mod secret;
mod shapes;
mod validate;
mod yaml;

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

pub use access::{
    AccessRestrictionConfig, ActionScopeRule, AttributeConditions, AuthConfig,
    ExternalAccessConfig, ExternalAccessOptions, ExternalAccessType, McpAuthConfig,
    PermissionAttributeConfig,
};
pub use confirm::{ConfirmConfig, ElicitationConfig, WithoutClientSupport};
pub use discovery::{DiscoveryConfig, DiscoveryEndpoint, DiscoveryTarget};
pub use error::{ConfigError, ConfigProblem};
pub use loader::ConfigLoader;
pub use model::{
    ActionsConfig, BackendConfig, BackstageConfig, CallerError, FilterConfig, LimitsConfig,
    ListenConfig, McpActionsConfig, NamedServerConfig, SseConfig, StdioConfig, credentials_from,
};
pub use operations::{AdminConfig, AuditConfig};
pub use secret::Secret;
pub use shapes::OneOrMany;
pub use validate::TokenShapeError;
pub(crate) use validate::check_token_shape;

/// Where environment variables come from: the process environment, or a closure in tests.
type EnvSource = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// The loaded, merged, validated configuration.
#[derive(Clone)]
pub struct Config {
    tree: Value,
    sources: Vec<String>,
    root: model::Root,
    env: EnvSource,
    #[cfg_attr(not(feature = "cli"), allow(dead_code))] // read by the CLI's commands
    unset: Vec<UnsetVariable>,
}

/// A `${VAR}` whose variable was not set, in a configuration loaded by a command that serves
/// nothing (its value is a placeholder).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UnsetVariable {
    /// The variable.
    pub(crate) variable: String,
    /// The key whose value refers to it.
    pub(crate) key: String,
    /// The file.
    pub(crate) source_name: String,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("sources", &self.sources)
            .field("backend", &self.root.backend)
            .field("mcp_actions", &self.root.mcp_actions)
            .finish_non_exhaustive()
    }
}

impl Default for Config {
    /// Every default, no sources, the process environment.
    fn default() -> Self {
        Config {
            tree: Value::Object(Map::new()),
            sources: Vec::new(),
            root: model::Root::default(),
            env: Arc::new(|name| std::env::var(name).ok()),
            unset: Vec::new(),
        }
    }
}

impl Config {
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

    /// The `backend` keys this crate reads.
    pub fn backend(&self) -> &BackendConfig {
        &self.root.backend
    }

    /// The `mcpActions` section.
    pub fn mcp_actions(&self) -> &McpActionsConfig {
        &self.root.mcp_actions
    }

    /// The `discovery` section (Backstage's): where Backstage plugins are served.
    pub fn discovery(&self) -> &DiscoveryConfig {
        &self.root.discovery
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
    /// use mcp_actions_server::ConfigLoader;
    ///
    /// let yaml = "backend:\n  auth:\n    externalAccess:\n      - type: static\n        options: { token: very-secret-1, subject: ci }\n";
    /// let config = ConfigLoader::new().yaml("app.yaml", yaml).env(|_| None).load().unwrap();
    /// let effective = config.effective();
    /// assert_eq!(effective["backend"]["auth"]["externalAccess"][0]["options"]["token"], "***");
    /// assert_eq!(effective["backend"]["listen"]["port"], 7007);
    /// assert_eq!(effective["mcpActions"]["namespacedToolNames"], false);
    /// ```
    pub fn effective(&self) -> Value {
        effective::effective(&self.tree, &self.root)
    }

    /// The `${VAR}`s left unset (only by commands that serve nothing).
    #[cfg_attr(not(feature = "cli"), allow(dead_code))] // read by the CLI's commands
    pub(crate) fn unset_variables(&self) -> &[UnsetVariable] {
        &self.unset
    }

    /// Looks up an environment variable through the source the configuration was loaded with.
    pub fn env_var(&self, name: &str) -> Option<String> {
        (self.env)(name)
    }

    /// Reads the application's own section at a dotted key path (e.g. `"catalog.policy"`) as
    /// `T`; `Ok(None)` when the key is absent. Errors name the full key path.
    ///
    /// ```
    /// use mcp_actions_server::ConfigLoader;
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
        loader::deserialize_at(path, node.clone()).map(Some)
    }
}

#[cfg(test)]
mod tests;
