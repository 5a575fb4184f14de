//! `serve --client NAME`: the configuration snippet of each MCP client, with this server's URL
//! and token filled in. Each client spells it differently.

use clap::ValueEnum;
use serde_json::json;

/// An MCP client whose configuration `serve --client` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[non_exhaustive]
pub enum Client {
    /// Claude Code: `claude mcp add --transport http …`.
    ClaudeCode,
    /// Cursor: `~/.cursor/mcp.json` (or `.cursor/mcp.json` in a project).
    Cursor,
    /// VS Code: `.vscode/mcp.json`.
    Vscode,
    /// Claude Desktop over stdio: `claude_desktop_config.json`.
    ClaudeDesktop,
    /// Every one of them.
    All,
}

/// What the snippets are about.
pub(super) struct Target<'a> {
    /// The server name clients show (`mcpActions.name`).
    pub(super) name: &'a str,
    /// The MCP endpoint's URL.
    pub(super) url: &'a str,
    /// The token, or a placeholder when the configured tokens are not known here.
    pub(super) token: &'a str,
}

/// The snippet(s) for `client`, each under a heading naming the client and the file.
pub(super) fn snippets(client: Client, target: &Target<'_>) -> String {
    let all = [
        Client::ClaudeCode,
        Client::Cursor,
        Client::Vscode,
        Client::ClaudeDesktop,
    ];
    let chosen: Vec<Client> = match client {
        Client::All => all.to_vec(),
        one => vec![one],
    };
    chosen
        .into_iter()
        .map(|client| snippet(client, target))
        .collect::<Vec<_>>()
        .join("\n")
}

fn snippet(client: Client, t: &Target<'_>) -> String {
    let bearer = format!("Bearer {}", t.token);
    let pretty = |value: serde_json::Value| {
        serde_json::to_string_pretty(&value).expect("JSON values serialize")
    };
    match client {
        Client::ClaudeCode => format!(
            "Claude Code (run in a shell):\n  claude mcp add --transport http {} {} --header \"Authorization: {bearer}\"\n",
            shell_word(t.name),
            t.url
        ),
        Client::Cursor => format!(
            "Cursor (~/.cursor/mcp.json):\n{}\n",
            pretty(
                json!({ "mcpServers": { t.name: { "url": t.url, "headers": { "Authorization": bearer } } } })
            )
        ),
        Client::Vscode => format!(
            "VS Code (.vscode/mcp.json):\n{}\n",
            pretty(
                json!({ "servers": { t.name: { "type": "http", "url": t.url, "headers": { "Authorization": bearer } } } })
            )
        ),
        Client::ClaudeDesktop => {
            let binary = std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| "/path/to/this/binary".to_owned());
            format!(
                "Claude Desktop (claude_desktop_config.json; it starts this binary itself, no token):\n{}\n",
                pretty(
                    json!({ "mcpServers": { t.name: { "command": binary, "args": ["serve", "--stdio"] } } })
                )
            )
        }
        Client::All => unreachable!("expanded by `snippets`"),
    }
}

/// `word`, quoted for a POSIX shell when it needs to be.
fn shell_word(word: &str) -> String {
    if word
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.:/".contains(c))
    {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_client_gets_its_own_spelling() {
        let target = Target {
            name: "my server",
            url: "http://127.0.0.1:7007/api/mcp-actions/v1",
            token: "tok-123456",
        };
        let claude = snippets(Client::ClaudeCode, &target);
        assert!(
            claude.contains("claude mcp add --transport http 'my server' http://127.0.0.1:7007/api/mcp-actions/v1 --header \"Authorization: Bearer tok-123456\""),
            "{claude}"
        );
        let vscode = snippets(Client::Vscode, &target);
        let json: serde_json::Value =
            serde_json::from_str(&vscode[vscode.find('{').unwrap()..]).unwrap();
        assert_eq!(json["servers"]["my server"]["type"], "http");
        let cursor = snippets(Client::Cursor, &target);
        let json: serde_json::Value =
            serde_json::from_str(&cursor[cursor.find('{').unwrap()..]).unwrap();
        assert_eq!(
            json["mcpServers"]["my server"]["headers"]["Authorization"],
            "Bearer tok-123456"
        );
        let desktop = snippets(Client::ClaudeDesktop, &target);
        assert!(desktop.contains("\"--stdio\""), "{desktop}");
        assert_eq!(snippets(Client::All, &target).matches(":\n").count(), 4);
    }
}
