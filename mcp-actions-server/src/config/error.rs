//! What can go wrong while loading a configuration: every error names the file, and where it
//! is about one key, the full key path and the line it is written on.

use std::path::PathBuf;

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
    #[error("invalid configuration at `{key}`: {message}{}", at(location))]
    Invalid {
        /// The key path, e.g. `backend.listen.port`.
        key: String,
        /// What is wrong.
        message: String,
        /// `file:line` where the key is written, when it is written in a file.
        location: Option<String>,
    },
    /// Several values are wrong (e.g. static tokens); every problem is listed.
    #[error("invalid configuration:{}", list(problems))]
    Problems {
        /// What is wrong, one per key.
        problems: Vec<ConfigProblem>,
    },
}

fn at(location: &Option<String>) -> String {
    location
        .as_ref()
        .map(|l| format!(" ({l})"))
        .unwrap_or_default()
}

fn list(problems: &[ConfigProblem]) -> String {
    problems.iter().map(|p| format!("\n  - {p}")).collect()
}

/// One problem with one key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{key}`: {message}{}", at(location))]
#[non_exhaustive]
pub struct ConfigProblem {
    /// The key path.
    pub key: String,
    /// What is wrong.
    pub message: String,
    /// `file:line` where the key is written, when it is written in a file.
    pub location: Option<String>,
}

impl ConfigProblem {
    pub(crate) fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            message: message.into(),
            location: None,
        }
    }
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
    pub(crate) fn from_problems(mut problems: Vec<ConfigProblem>) -> Self {
        if problems.len() == 1 {
            let ConfigProblem {
                key,
                message,
                location,
            } = problems.remove(0);
            ConfigError::Invalid {
                key,
                message,
                location,
            }
        } else {
            ConfigError::Problems { problems }
        }
    }

    pub(crate) fn invalid(key: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError::Invalid {
            key: key.into(),
            message: message.into(),
            location: None,
        }
    }
}
