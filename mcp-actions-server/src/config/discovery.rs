//! `discovery`: Backstage's own key for where each plugin is served, read the way Backstage's
//! `HostDiscovery` reads it. The server uses it to find the keys of Backstage plugins that call
//! it (`<target>/.backstage/auth/v1/jwks.json`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `discovery` (Backstage's key).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct DiscoveryConfig {
    /// Where plugins are served: `[{ target: 'http://backstage:7007/api/{{pluginId}}',
    /// plugins: [catalog, mcp-actions] }]`. A Backstage plugin may call this server's
    /// Backstage actions API with its plugin token only when it is listed here: its signing
    /// keys are fetched from `<target>/.backstage/auth/v1/jwks.json`.
    pub endpoints: Vec<DiscoveryEndpoint>,
}

/// One entry of `discovery.endpoints`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct DiscoveryEndpoint {
    /// The plugins' base URL, `{{pluginId}}` standing for the plugin id; or `{ internal,
    /// external }` (this server uses `internal`).
    pub target: DiscoveryTarget,
    /// The plugin ids served there.
    pub plugins: Vec<String>,
}

/// `discovery.endpoints[].target`: one URL, or an internal and an external one.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
#[non_exhaustive]
pub enum DiscoveryTarget {
    /// The same URL inside and outside.
    Url(String),
    /// Different URLs.
    Split {
        /// The URL other backends use (this server does).
        internal: String,
        /// The URL browsers and clients use.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        external: Option<String>,
    },
}

impl DiscoveryTarget {
    /// The internal URL template.
    pub fn internal(&self) -> &str {
        match self {
            DiscoveryTarget::Url(url) => url,
            DiscoveryTarget::Split { internal, .. } => internal,
        }
    }
}

impl DiscoveryConfig {
    /// The internal base URL of `plugin` (e.g. `http://127.0.0.1:7007/api/catalog`), from the
    /// first endpoint that lists it; `None` when none does.
    pub fn base_url(&self, plugin: &str) -> Option<String> {
        self.endpoints
            .iter()
            .find(|e| e.plugins.iter().any(|p| p == plugin))
            .map(|e| substitute(e.target.internal(), plugin))
    }
}

/// `template` with every `{{pluginId}}` (spaces inside the braces allowed, as Backstage does)
/// replaced by `plugin`, without a trailing `/`.
fn substitute(template: &str, plugin: &str) -> String {
    let mut out = String::with_capacity(template.len() + plugin.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start..].find("}}") else {
            break;
        };
        let inner = rest[start + 2..start + len].trim();
        out.push_str(&rest[..start]);
        if inner == "pluginId" {
            out.push_str(plugin);
        } else {
            out.push_str(&rest[start..start + len + 2]);
        }
        rest = &rest[start + len + 2..];
    }
    out.push_str(rest);
    out.trim_end_matches('/').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_endpoint_listing_a_plugin_gives_its_internal_url() {
        let config: DiscoveryConfig = serde_json::from_value(serde_json::json!({
            "endpoints": [
                { "target": "http://a:7007/api/{{ pluginId }}/", "plugins": ["catalog"] },
                { "target": { "internal": "http://b/api/{{pluginId}}", "external": "https://x" },
                  "plugins": ["mcp-actions", "catalog"] }
            ]
        }))
        .unwrap();
        assert_eq!(
            config.base_url("catalog").as_deref(),
            Some("http://a:7007/api/catalog")
        );
        assert_eq!(
            config.base_url("mcp-actions").as_deref(),
            Some("http://b/api/mcp-actions")
        );
        assert_eq!(config.base_url("scaffolder"), None);
    }
}
