//! [`ConfigLoader`]: sources (files and inline documents) → one tree → a checked [`Config`].
//!
//! 1. Each source is parsed once (`yaml.rs`: the tree and the line of every key).
//! 2. `${VAR}` references in its strings are replaced (a missing variable is an error naming
//!    it, the key and the file; `$${X}` stands for a literal `${X}`).
//! 3. The sources are deep-merged in order: later sources win, maps merge key by key, anything
//!    else (lists included) is replaced; each key remembers the file and line it came from.
//! 4. The tree is read into the model (`model.rs`) with [`serde_path_to_error`], so an error
//!    names the key path, and checked (`validate.rs`); errors then also name `file:line`.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::error::ConfigError;
use super::model::Root;
use super::{Config, EnvSource, UnsetVariable, validate, yaml};

/// Key path → `file:line` of the source that set it last.
pub(crate) type Locations = HashMap<String, String>;

enum Source {
    File(PathBuf),
    Text { name: String, text: String },
}

impl Source {
    fn name(&self) -> String {
        match self {
            Source::File(path) => path.display().to_string(),
            Source::Text { name, .. } => name.clone(),
        }
    }
}

/// Builds a [`Config`] from files and inline YAML documents.
pub struct ConfigLoader {
    sources: Vec<Source>,
    env: EnvSource,
    /// Where an unset `${VAR}` is a placeholder rather than an error (commands that serve
    /// nothing): nowhere, everywhere, or under these key prefixes.
    lenient: Lenient,
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

impl ConfigLoader {
    /// No sources; environment variables from the process.
    pub fn new() -> Self {
        Self {
            sources: Vec::new(),
            env: Arc::new(|name| std::env::var(name).ok()),
            lenient: Lenient::Nowhere,
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

    /// Lets a `${VAR}` whose variable is not set stand for a placeholder (`unset-VAR`) instead
    /// of failing, and lists it in [`Config::unset_variables`]: for commands that read the
    /// configuration but serve nothing (`list`, `schema`, `config check`), which should not need
    /// the secrets that serving needs. `only_under`: only in keys that start with one of these
    /// prefixes (`call` runs an action, which may need the application's own secrets, so only
    /// the serving tokens may be missing); empty: everywhere.
    #[cfg_attr(not(feature = "cli"), allow(dead_code))] // read by the CLI's commands
    pub(crate) fn allow_unset_variables(mut self, only_under: &[&'static str]) -> Self {
        self.lenient = if only_under.is_empty() {
            Lenient::Everywhere
        } else {
            Lenient::Under(only_under.to_vec())
        };
        self
    }

    /// Reads, substitutes, merges and validates every source.
    pub fn load(self) -> Result<Config, ConfigError> {
        let mut tree = Value::Object(Map::new());
        let mut locations = Locations::new();
        let mut names = Vec::with_capacity(self.sources.len());
        let mut unset = Vec::new();
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
            let (mut document, lines) = yaml::parse(&name, &text)?;
            let mut env = Env {
                source_name: &name,
                lookup: self.env.as_ref(),
                lenient: &self.lenient,
                unset: &mut unset,
            };
            substitute_env(&mut document, &mut String::new(), &mut env)?;
            merge(&mut tree, document, &mut String::new(), &mut locations);
            locations.extend(
                lines
                    .into_iter()
                    .map(|(key, line)| (key, format!("{name}:{line}"))),
            );
            names.push(name);
        }
        let mut problems = validate::before_reading(&tree);
        let root = if problems.is_empty() {
            let root: Root = deserialize_at("", tree.clone()).map_err(|e| locate(e, &locations))?;
            problems = validate::check(&root);
            Some(root)
        } else {
            None
        };
        if !problems.is_empty() {
            let problems = problems
                .into_iter()
                .map(|mut p| {
                    p.location = location_of(&p.key, &locations);
                    p
                })
                .collect();
            return Err(ConfigError::from_problems(problems));
        }
        let mut root = root.expect("read when there were no problems before");
        if let Some(url) = &mut root.backend.base_url {
            url.truncate(url.trim_end_matches('/').len());
        }
        Ok(Config {
            tree,
            sources: names,
            root,
            env: self.env,
            unset,
        })
    }
}

/// Where the key (or the nearest key above it) is written.
fn location_of(key: &str, locations: &Locations) -> Option<String> {
    let mut key = key;
    loop {
        if let Some(location) = locations.get(key) {
            return Some(location.clone());
        }
        let cut = key.rfind(['.', '['])?;
        key = &key[..cut];
    }
}

/// Adds the `file:line` of its key to an error from reading the model.
fn locate(error: ConfigError, locations: &Locations) -> ConfigError {
    match error {
        ConfigError::Invalid { key, message, .. } => ConfigError::Invalid {
            location: location_of(&key, locations),
            key,
            message,
        },
        other => other,
    }
}

/// Deserializes `value`, found at the key path `prefix`, as `T`; an error names the full key
/// path of what is wrong.
pub(crate) fn deserialize_at<T: DeserializeOwned>(
    prefix: &str,
    value: Value,
) -> Result<T, ConfigError> {
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

fn push_key(path: &mut String, key: &str) -> usize {
    let len = path.len();
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(key);
    len
}

/// Where `${VAR}`s are looked up, for one source.
struct Env<'a> {
    source_name: &'a str,
    lookup: &'a (dyn Fn(&str) -> Option<String> + Send + Sync),
    lenient: &'a Lenient,
    /// The unset variables met so far (where they may be).
    unset: &'a mut Vec<UnsetVariable>,
}

/// Where an unset `${VAR}` may stand for a placeholder.
#[derive(Debug, Clone)]
#[cfg_attr(not(feature = "cli"), allow(dead_code))] // read by the CLI's commands
enum Lenient {
    Nowhere,
    Everywhere,
    Under(Vec<&'static str>),
}

impl Lenient {
    fn allows(&self, key: &str) -> bool {
        match self {
            Lenient::Nowhere => false,
            Lenient::Everywhere => true,
            Lenient::Under(prefixes) => prefixes.iter().any(|p| key.starts_with(p)),
        }
    }
}

fn substitute_env(
    value: &mut Value,
    path: &mut String,
    env: &mut Env<'_>,
) -> Result<(), ConfigError> {
    match value {
        Value::String(s) if s.contains('$') => {
            *s = substitute_str(s, path, env)?;
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                substitute_env(item, path, env)?;
                path.truncate(len);
            }
        }
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                let len = push_key(path, key);
                substitute_env(item, path, env)?;
                path.truncate(len);
            }
        }
        _ => {}
    }
    Ok(())
}

/// Replaces `${VAR}` with the variable's value; `$${…}` is a literal `${…}`.
fn substitute_str(s: &str, key: &str, env: &mut Env<'_>) -> Result<String, ConfigError> {
    let source_name = env.source_name;
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
            match (env.lookup)(variable) {
                Some(value) => out.push_str(&value),
                None if env.lenient.allows(key) => {
                    out.push_str(&format!("unset-{variable}"));
                    env.unset.push(UnsetVariable {
                        variable: variable.to_owned(),
                        key: key.to_owned(),
                        source_name: source_name.to_owned(),
                    });
                }
                None => {
                    return Err(ConfigError::MissingEnv {
                        variable: variable.to_owned(),
                        key: key.to_owned(),
                        source_name: source_name.to_owned(),
                    });
                }
            }
            rest = &after[end + 1..];
        } else {
            out.push('$');
            rest = &rest[1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Deep-merges `overlay` into `base`: maps key by key, anything else replaced. A replaced
/// value's keys are forgotten in `locations` (the overlay's own are added by the caller).
fn merge(base: &mut Value, overlay: Value, path: &mut String, locations: &mut Locations) {
    match (base, overlay) {
        (Value::Object(base), Value::Object(overlay)) => {
            for (key, value) in overlay {
                let len = push_key(path, &key);
                match base.get_mut(&key) {
                    Some(existing) => merge(existing, value, path, locations),
                    None => {
                        base.insert(key, value);
                    }
                }
                path.truncate(len);
            }
        }
        (base, overlay) => {
            if base.is_array() || base.is_object() {
                let (dot, bracket) = (format!("{path}."), format!("{path}["));
                locations.retain(|key, _| !key.starts_with(&dot) && !key.starts_with(&bracket));
            }
            *base = overlay;
        }
    }
}
