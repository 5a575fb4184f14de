//! What `serve` prints when it generated the token: the client configuration to paste.

use serde::Serialize;

use super::ActionsServer;
use crate::auth::TOKEN_ENV_VAR;

/// `{"mcpServers": {"<name>": {"url": …, "headers": {"Authorization": …}}}}`, with `url`
/// first (a struct keeps its fields' order).
#[derive(Serialize)]
struct ClientConfig<'a> {
    #[serde(rename = "mcpServers")]
    mcp_servers: std::collections::BTreeMap<&'a str, ClientEntry>,
}

#[derive(Serialize)]
struct ClientEntry {
    url: String,
    headers: Headers,
}

#[derive(Serialize)]
struct Headers {
    #[serde(rename = "Authorization")]
    authorization: String,
}

impl ActionsServer {
    /// What to paste into an MCP client's configuration to reach this server with `token`:
    /// `{"mcpServers":{"<name>":{"url":…,"headers":{"Authorization":"Bearer …"}}}}`, pretty
    /// printed with `url` first.
    pub fn client_config_json(&self, base_url: &str, token: &str) -> String {
        let entry = ClientEntry {
            url: Self::endpoint_url(base_url),
            headers: Headers {
                authorization: format!("Bearer {token}"),
            },
        };
        let config = ClientConfig {
            mcp_servers: [(self.endpoints[0].name(), entry)].into(),
        };
        serde_json::to_string_pretty(&config).expect("strings serialize")
    }

    /// The message `run()` prints to stderr when the token was generated: the client JSON,
    /// and how to keep the token across restarts. `None` when no token was generated.
    pub fn generated_token_notice(&self, base_url: &str) -> Option<String> {
        let token = self.generated_token()?;
        let mut json = self.client_config_json(base_url, token);
        let named: Vec<String> = self.endpoints[1..]
            .iter()
            .map(|e| {
                format!(
                    "  {} ({}): {}",
                    e.key().unwrap_or_default(),
                    e.name(),
                    e.url(base_url)
                )
            })
            .collect();
        if !named.is_empty() {
            json.push_str(&format!(
                "\n\nThe named servers take the same token; use their URLs instead:\n{}",
                named.join("\n")
            ));
        }
        Some(format!(
            "\nNo access token is configured (`backend.auth.externalAccess` in a --config file) and \
             {TOKEN_ENV_VAR} is not set,\nso this run accepts a generated token. To connect an MCP \
             client, add this to its configuration:\n\n{json}\n\nThe token changes on every start; \
             set {TOKEN_ENV_VAR} (8 or more characters, no spaces) to keep one.\n"
        ))
    }
}
