//! Transports besides Streamable HTTP: the deprecated HTTP+SSE transport of MCP 2024-11-05
//! ([`sse`]) for clients that speak nothing newer, and stdio ([`stdio`]) for local clients that
//! start the server as a child process (Claude Desktop, IDEs).
//!
//! Both serve the same [`ActionsHandler`](crate::ActionsHandler) as Streamable HTTP, so a tool
//! behaves the same whichever way the client connects; only how the caller's
//! [`Credentials`] are found differs:
//!
//! | transport | credentials |
//! |---|---|
//! | Streamable HTTP, `…/v1` | the bearer token of every POST |
//! | HTTP+SSE, `…/v1/sse` | the bearer token of the `GET` that opens the session, checked again on every POST (the identity must stay the same) |
//! | stdio | the command line (`--subject`, `--user`) or `mcpActions.stdio`; default `service:stdio` |
//!
//! ## Configuration keys
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `mcpActions.sse.enabled` | `true` | serve `…/v1/sse` (and `…/v1/<key>/sse` for each named server) |
//! | `mcpActions.sse.maxSessions` | `100` | open SSE sessions per server endpoint; one more gets `503` with `Retry-After` |
//! | `mcpActions.sse.idleTimeoutSeconds` | `300` | close a session after this long with no POST, no message to the client and no call running (`0`: never) |
//! | `mcpActions.sse.keepAliveSeconds` | `15` | send an SSE comment this often so proxies keep the stream open (`0`: never); does not count as activity |
//! | `mcpActions.stdio.subject` | `stdio` | `serve --stdio` calls actions as `Principal::Service { subject }` |
//! | `mcpActions.stdio.user` | none | … or as `Principal::User { user_entity_ref }`, e.g. `user:default/jane` (not both) |
//!
//! The body of an SSE POST is limited by `mcpActions.limits.maxRequestBodyBytes`, like a
//! Streamable HTTP POST.

use std::time::Duration;

use mcp_actions::Credentials;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::config::ConfigError;

pub mod sse;
pub mod stdio;

pub use sse::{SseEndpoint, SseOptions};

/// `mcpActions.sse`: the deprecated HTTP+SSE transport.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SseConfig {
    /// `mcpActions.sse.enabled` (default `true`).
    pub enabled: bool,
    /// `mcpActions.sse.maxSessions` (default 100): open sessions per server endpoint.
    pub max_sessions: usize,
    /// `mcpActions.sse.idleTimeoutSeconds` (default 300; `0`, i.e. `None`: never).
    pub idle_timeout: Option<Duration>,
    /// `mcpActions.sse.keepAliveSeconds` (default 15; `0`, i.e. `None`: never).
    pub keep_alive: Option<Duration>,
}

/// The default of `mcpActions.sse.maxSessions`.
pub const DEFAULT_SSE_MAX_SESSIONS: usize = 100;
/// The default of `mcpActions.sse.idleTimeoutSeconds`.
pub const DEFAULT_SSE_IDLE_TIMEOUT_SECONDS: u64 = 300;
/// The default of `mcpActions.sse.keepAliveSeconds`.
pub const DEFAULT_SSE_KEEP_ALIVE_SECONDS: u64 = 15;
/// The subject of `serve --stdio` when neither the command line nor `mcpActions.stdio` names a
/// principal.
pub const DEFAULT_STDIO_SUBJECT: &str = "stdio";

impl Default for SseConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            max_sessions: DEFAULT_SSE_MAX_SESSIONS,
            idle_timeout: Some(Duration::from_secs(DEFAULT_SSE_IDLE_TIMEOUT_SECONDS)),
            keep_alive: Some(Duration::from_secs(DEFAULT_SSE_KEEP_ALIVE_SECONDS)),
        }
    }
}

impl SseConfig {
    /// Reads `mcpActions.sse` (`None`: the key is absent; every default).
    pub fn from_value(value: Option<Value>) -> Result<Self, ConfigError> {
        let Some(value) = value.filter(|v| !v.is_null()) else {
            return Ok(Self::default());
        };
        let raw: RawSse = deserialize_at("mcpActions.sse", value)?;
        let mut config = Self::default();
        if let Some(enabled) = raw.enabled {
            config.enabled = enabled;
        }
        if let Some(max) = raw.max_sessions {
            if max == 0 {
                return Err(invalid(
                    "mcpActions.sse.maxSessions",
                    "must be at least 1; to turn the SSE transport off, set `mcpActions.sse.enabled: false`",
                ));
            }
            config.max_sessions = usize::try_from(max).unwrap_or(usize::MAX);
        }
        if let Some(seconds) = raw.idle_timeout_seconds {
            config.idle_timeout = (seconds > 0).then(|| Duration::from_secs(seconds));
        }
        if let Some(seconds) = raw.keep_alive_seconds {
            config.keep_alive = (seconds > 0).then(|| Duration::from_secs(seconds));
        }
        Ok(config)
    }
}

/// `mcpActions.stdio`: who `serve --stdio` calls actions as.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StdioConfig {
    /// The credentials: `mcpActions.stdio.subject` or `.user`; default
    /// `Principal::Service { subject: "stdio" }`.
    pub credentials: Credentials,
}

impl Default for StdioConfig {
    fn default() -> Self {
        Self {
            credentials: Credentials::service(DEFAULT_STDIO_SUBJECT),
        }
    }
}

impl StdioConfig {
    /// Reads `mcpActions.stdio` (`None`: the key is absent; every default).
    pub fn from_value(value: Option<Value>) -> Result<Self, ConfigError> {
        let Some(value) = value.filter(|v| !v.is_null()) else {
            return Ok(Self::default());
        };
        let raw: RawStdio = deserialize_at("mcpActions.stdio", value)?;
        let credentials = stdio::credentials_from(raw.subject.as_deref(), raw.user.as_deref())
            .map_err(|message| invalid("mcpActions.stdio", message))?;
        Ok(Self { credentials })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawSse {
    #[serde(default, deserialize_with = "bool_or_string")]
    enabled: Option<bool>,
    #[serde(default, deserialize_with = "number_or_string")]
    max_sessions: Option<u64>,
    #[serde(default, deserialize_with = "number_or_string")]
    idle_timeout_seconds: Option<u64>,
    #[serde(default, deserialize_with = "number_or_string")]
    keep_alive_seconds: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawStdio {
    #[serde(default)]
    subject: Option<String>,
    #[serde(default)]
    user: Option<String>,
}

fn invalid(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_owned(),
        message: message.into(),
    }
}

fn deserialize_at<T: serde::de::DeserializeOwned>(
    prefix: &str,
    value: Value,
) -> Result<T, ConfigError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let inner = e.path().to_string();
        let key = if inner == "." {
            prefix.to_owned()
        } else {
            format!("{prefix}.{inner}")
        };
        invalid(&key, e.into_inner().to_string())
    })
}

/// A whole number written as a number or (after `${VAR}` substitution) a string.
fn number_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    let expected = |got: &dyn std::fmt::Display| {
        D::Error::custom(format!("expected a whole number ≥ 0, got {got}"))
    };
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::Number(n) => n.as_u64().map(Some).ok_or_else(|| expected(&n)),
        Value::String(s) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| expected(&format!("\"{s}\""))),
        other => Err(expected(&other)),
    }
}

/// `true`/`false`, also as a string (after `${VAR}` substitution).
fn bool_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(b)),
        Value::String(s) if s.trim().eq_ignore_ascii_case("true") => Ok(Some(true)),
        Value::String(s) if s.trim().eq_ignore_ascii_case("false") => Ok(Some(false)),
        other => Err(D::Error::custom(format!(
            "expected true or false, got {other}"
        ))),
    }
}

/// `host[:port]` → lowercase host without brackets, port.
pub(crate) fn parse_authority(text: &str) -> Option<(String, Option<u16>)> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let (host, port) = match http::uri::Authority::try_from(text) {
        Ok(authority) => (
            without_brackets(authority.host()).to_ascii_lowercase(),
            authority.port_u16(),
        ),
        Err(_) => (without_brackets(text).to_ascii_lowercase(), None),
    };
    Some((host, port))
}

fn without_brackets(host: &str) -> &str {
    host.trim_start_matches('[').trim_end_matches(']')
}

/// The `Host` values an endpoint accepts (the DNS-rebinding guard, `mcpActions.allowedHosts`),
/// parsed once: `host` (any port) or `host:port`, case-insensitive, IPv6 with or without
/// brackets. Empty: any host.
#[derive(Debug, Clone)]
pub(crate) struct AllowedHosts {
    hosts: Vec<(String, Option<u16>)>,
}

impl AllowedHosts {
    pub(crate) fn new(hosts: &[String]) -> Self {
        Self {
            hosts: hosts.iter().filter_map(|h| parse_authority(h)).collect(),
        }
    }

    /// No list: every host is accepted.
    pub(crate) fn is_empty(&self) -> bool {
        self.hosts.is_empty()
    }

    /// Whether `text` (a `Host` header: `host[:port]`) is accepted.
    pub(crate) fn permits(&self, text: &str) -> bool {
        let text = text.trim();
        self.is_empty()
            || (!text.is_empty()
                && match http::uri::Authority::try_from(text) {
                    Ok(authority) => self.permits_parts(authority.host(), authority.port_u16()),
                    Err(_) => self.permits_parts(text, None),
                })
    }

    /// Whether a request for `host` (brackets optional) on `port` is accepted.
    pub(crate) fn permits_parts(&self, host: &str, port: Option<u16>) -> bool {
        let host = without_brackets(host);
        self.is_empty()
            || self.hosts.iter().any(|(allowed, allowed_port)| {
                allowed.eq_ignore_ascii_case(host) && allowed_port.is_none_or(|p| Some(p) == port)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn authorities() {
        assert_eq!(
            parse_authority("LocalHost:8080"),
            Some(("localhost".into(), Some(8080)))
        );
        assert_eq!(
            parse_authority("[::1]:7007"),
            Some(("::1".into(), Some(7007)))
        );
        assert_eq!(parse_authority("::1"), Some(("::1".into(), None)));
        assert_eq!(parse_authority(" "), None);
    }

    #[test]
    fn sse_config() {
        assert_eq!(SseConfig::from_value(None).unwrap(), SseConfig::default());
        let config = SseConfig::from_value(Some(json!({
            "enabled": "false", "maxSessions": "7", "idleTimeoutSeconds": 0, "keepAliveSeconds": 2
        })))
        .unwrap();
        assert!(!config.enabled);
        assert_eq!(config.max_sessions, 7);
        assert_eq!(config.idle_timeout, None);
        assert_eq!(config.keep_alive, Some(Duration::from_secs(2)));

        let err = SseConfig::from_value(Some(json!({"maxSessions": 0}))).unwrap_err();
        assert!(
            err.to_string()
                .contains("`mcpActions.sse.maxSessions`: must be at least 1"),
            "{err}"
        );
        let err = SseConfig::from_value(Some(json!({"idleTimeout": 5}))).unwrap_err();
        assert!(
            err.to_string().contains("unknown field `idleTimeout`"),
            "{err}"
        );
        let err = SseConfig::from_value(Some(json!({"maxSessions": -1}))).unwrap_err();
        assert!(
            err.to_string().contains("mcpActions.sse.maxSessions")
                && err.to_string().contains("≥ 0"),
            "{err}"
        );
    }

    #[test]
    fn stdio_config() {
        assert_eq!(
            StdioConfig::from_value(None).unwrap().credentials,
            Credentials::service("stdio")
        );
        let user = StdioConfig::from_value(Some(json!({"user": "user:default/jane"}))).unwrap();
        assert_eq!(user.credentials, Credentials::user("user:default/jane"));
        let err =
            StdioConfig::from_value(Some(json!({"user": "u:a/b", "subject": "s"}))).unwrap_err();
        assert!(err.to_string().contains("not both"), "{err}");
    }
}
