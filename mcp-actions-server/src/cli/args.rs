//! The command line every server binary gets (clap).

use std::path::PathBuf;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

pub use super::clients::Client;
use crate::config::{Config, ConfigError, ConfigLoader};

const EXIT_CODES: &str = "Exit status:\n  0  success\n  1  an action returned an error, or the server could not start or stopped with an error\n  2  the command line or the configuration is invalid (also: an unknown action name)";

/// The command line of a server binary.
#[derive(Debug, Clone, Default, Parser)]
#[command(
    version,
    about = "Serve the actions linked into this binary to AI clients as MCP tools.",
    long_about = "Serve the actions linked into this binary to AI clients as MCP tools, over \
                  Streamable HTTP at http://HOST:PORT/api/mcp-actions/v1; or inspect, call and \
                  configure them.\n\nWithout a command it serves. Without --config it listens on \
                  127.0.0.1:7007 and accepts the token in MCP_TOKEN, or a generated one that it \
                  prints. Log detail is set with RUST_LOG (default when serving: info, rmcp at warn; \
                  otherwise: warn).",
    after_long_help = EXIT_CODES
)]
pub struct Cli {
    /// A YAML config file in Backstage's format (`backend.listen`, `backend.auth.externalAccess`,
    /// `backend.actions`, `mcpActions`, …). Repeat to merge several files; later files win.
    #[arg(long = "config", short = 'c', value_name = "FILE", global = true)]
    pub config: Vec<PathBuf>,

    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// A command.
#[derive(Debug, Clone, Subcommand)]
#[non_exhaustive]
pub enum Command {
    /// Serve the actions over MCP until Ctrl-C or SIGTERM (the default).
    #[command(
        long_about = "Serve the actions over MCP until Ctrl-C or SIGTERM: Streamable HTTP at \
                      /api/mcp-actions/v1 and each named server (mcpActions.servers.<key>) at \
                      /api/mcp-actions/v1/<key>, on backend.listen (default 127.0.0.1:7007). \
                      With --stdio, MCP on stdin/stdout instead, for a client that starts this \
                      binary itself.",
        after_long_help = EXIT_CODES
    )]
    Serve(ServeArgs),
    /// List every action: tool name, title, attributes, permission, and whether each server
    /// exposes it, and why.
    #[command(after_long_help = EXIT_CODES)]
    List(ListArgs),
    /// Print an action's input and output JSON schemas.
    #[command(
        long_about = "Print an action's input and output JSON schemas, as pretty JSON: \
                      {\"id\", \"tool\", \"inputSchema\", \"outputSchema\"}.",
        after_long_help = EXIT_CODES
    )]
    Schema(SchemaArgs),
    /// Call an action locally, as the server would, and print its output as JSON.
    #[command(
        long_about = "Call an action locally, without HTTP, through the same pipeline as the \
                      server: the services and permission policy the binary sets up, access \
                      restrictions, input validation, the timeout. The output is printed as \
                      JSON on stdout; an action error is printed as `<ErrorName>: message` on \
                      stderr and the exit status is 1.",
        after_long_help = EXIT_CODES
    )]
    Call(CallArgs),
    /// Print a new random access token, or check one against the configuration.
    #[command(
        long_about = "Without a subcommand, print a new random access token (24 bytes, base64) \
                      for `backend.auth.externalAccess` or MCP_TOKEN. `token verify` checks a \
                      token exactly as the server would.",
        after_long_help = EXIT_CODES
    )]
    Token(TokenArgs),
    /// Work with the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
}

/// The options of `serve`.
#[derive(Debug, Clone, Default, Args)]
#[non_exhaustive]
pub struct ServeArgs {
    /// Listen on this port instead of `backend.listen.port` (0 picks a free one).
    #[arg(long, env = "PORT", value_name = "PORT", conflicts_with = "stdio")]
    pub port: Option<u16>,
    /// Listen on this address instead of `backend.listen.host`, e.g. 0.0.0.0 for every
    /// interface.
    #[arg(long, value_name = "HOST", conflicts_with = "stdio")]
    pub host: Option<String>,
    /// Print the configuration to paste into this MCP client (or `all`), with this server's
    /// URL and token, when the server starts (on stderr).
    #[arg(long, value_enum, value_name = "CLIENT", conflicts_with = "stdio")]
    pub client: Option<Client>,
    /// Speak MCP on stdin/stdout instead of HTTP, for a local client that starts this binary
    /// (Claude Desktop, an IDE). No token is needed: actions are called as `--subject` or
    /// `--user`, else `mcpActions.stdio`, else the service `stdio`.
    #[arg(long)]
    pub stdio: bool,
    /// With --stdio: call actions as this service subject.
    #[arg(
        long,
        value_name = "SUBJECT",
        requires = "stdio",
        conflicts_with = "user"
    )]
    pub subject: Option<String>,
    /// With --stdio: call actions as this user, an entity ref like `user:default/jane`.
    #[arg(long, value_name = "USER_REF", requires = "stdio")]
    pub user: Option<String>,
    /// With --stdio: serve this named server (`mcpActions.servers.<key>`) instead of the
    /// default one.
    #[arg(long, value_name = "KEY", requires = "stdio")]
    pub server: Option<String>,
}

/// The output formats of `list`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// A table for people.
    #[default]
    Table,
    /// JSON for scripts.
    Json,
}

/// The options of `list`.
#[derive(Debug, Clone, Default, Args)]
#[non_exhaustive]
pub struct ListArgs {
    /// The output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

/// The options of `schema`.
#[derive(Debug, Clone, Args)]
#[non_exhaustive]
pub struct SchemaArgs {
    /// The action: its tool name, its name, or its id (`plugin:name`).
    pub name: String,
}

/// The options of `call`.
#[derive(Debug, Clone, Args)]
#[non_exhaustive]
pub struct CallArgs {
    /// The action: its tool name, its name, or its id (`plugin:name`).
    pub name: String,
    /// The input, a JSON object; `-` reads it from stdin.
    #[arg(long, short = 'i', value_name = "JSON", default_value = "{}")]
    pub input: String,
    /// Call as this service subject (default: `cli`). When a static token in
    /// `backend.auth.externalAccess` has this subject, its access restrictions apply too.
    #[arg(long, value_name = "SUBJECT", conflicts_with = "user")]
    pub subject: Option<String>,
    /// Call as this user, an entity ref like `user:default/jane`.
    #[arg(long, value_name = "USER_REF")]
    pub user: Option<String>,
    /// Confirm without asking: an action that asks the user to confirm (`confirm`) runs as
    /// if they did. Without it, `call` asks on the terminal, and fails without one.
    #[arg(long, short = 'y')]
    pub yes: bool,
}

/// The subject `call` uses when neither `--subject` nor `--user` is given.
pub const DEFAULT_CALL_SUBJECT: &str = "cli";

/// The options of `token`.
#[derive(Debug, Clone, Default, Args)]
#[non_exhaustive]
pub struct TokenArgs {
    /// What to do; without one, print a new random token.
    #[command(subcommand)]
    pub command: Option<TokenCommand>,
}

/// `token` commands.
#[derive(Debug, Clone, Subcommand)]
#[non_exhaustive]
pub enum TokenCommand {
    /// Print a new random access token (the default).
    New,
    /// Check an access token (static or JWT) against the configuration, as the server would.
    #[command(
        long_about = "Check an access token against the configuration exactly as the server \
                      would: a static token of backend.auth.externalAccess, or a JWT of a \
                      `type: jwks` entry (its signature with the issuer's published keys, \
                      issuer, audience, expiry, algorithm). Prints who the caller is, its \
                      scopes, when it expires and the tools it may call on each server; or the \
                      one reason it is refused (exit status 1). Pass `-` to read the token \
                      from stdin, which keeps it out of the shell history and the process list.",
        after_long_help = EXIT_CODES
    )]
    Verify(VerifyArgs),
}

/// The options of `token verify`.
#[derive(Debug, Clone, Args)]
#[non_exhaustive]
pub struct VerifyArgs {
    /// The token, without `Bearer `; `-` reads it from stdin.
    #[arg(value_name = "TOKEN")]
    pub token: String,
}

/// `config` commands.
#[derive(Debug, Clone, Subcommand)]
#[non_exhaustive]
pub enum ConfigCommand {
    /// Load and validate the config; print the effective config with secrets masked, and the
    /// warnings.
    #[command(
        long_about = "Load and validate the config (every --config file, merged, with ${VAR} \
                      substitution), set up the application and build the server without \
                      listening. Print the effective config on stdout, defaults filled in and \
                      every token and secret-looking value masked as ***, and the warnings (a \
                      plugin source or filter rule that matches no action…) on stderr.",
        after_long_help = EXIT_CODES
    )]
    Check(CheckArgs),
}

/// The output formats of `config check`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum ConfigFormat {
    /// YAML.
    #[default]
    Yaml,
    /// JSON.
    Json,
}

/// The options of `config check`.
#[derive(Debug, Clone, Default, Args)]
#[non_exhaustive]
pub struct CheckArgs {
    /// The output format.
    #[arg(long, value_enum, default_value_t = ConfigFormat::Yaml)]
    pub format: ConfigFormat,
}

/// The binary's own package name and version, for `--version` and `serverInfo`: what
/// [`run!`](crate::run!) passes (`env!("CARGO_PKG_NAME")`, `env!("CARGO_PKG_VERSION")` of the
/// crate that calls it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binary {
    /// The package name.
    pub name: &'static str,
    /// The package version.
    pub version: &'static str,
}

impl ServeArgs {
    /// The options of a `serve` given without any (the default command): those that clap
    /// reads from the environment (`PORT`) included.
    pub(super) fn from_env() -> Self {
        let command = Self::augment_args(clap::Command::new("serve"));
        command
            .try_get_matches_from(["serve"])
            .ok()
            .and_then(|matches| Self::from_arg_matches(&matches).ok())
            .unwrap_or_default()
    }

    /// `--host`/`--port` as a config document merged after the `--config` files.
    pub(super) fn listen_override(&self) -> Option<String> {
        if self.host.is_none() && self.port.is_none() {
            return None;
        }
        let mut listen = serde_json::Map::new();
        if let Some(host) = &self.host {
            listen.insert("host".into(), host.clone().into());
        }
        if let Some(port) = self.port {
            listen.insert("port".into(), port.into());
        }
        // JSON is YAML.
        Some(serde_json::json!({ "backend": { "listen": listen } }).to_string())
    }
}

impl Cli {
    /// Parses the process's arguments (printing help or an error and exiting as clap does:
    /// status 0 for `--help`, 2 for a usage error), naming the program after the binary.
    pub fn from_env() -> Self {
        Self::from_env_of(None)
    }

    /// [`Cli::from_env`], with `--version` printing `binary`'s name and version.
    pub(super) fn from_env_of(binary: Option<Binary>) -> Self {
        let name = std::env::args_os()
            .next()
            .and_then(|arg0| {
                std::path::Path::new(&arg0)
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
            })
            .unwrap_or_else(|| "mcp-actions-server".to_owned());
        let mut command = Self::command().bin_name(name);
        if let Some(binary) = binary {
            command = command.name(binary.name).version(binary.version);
        }
        let matches = command.get_matches();
        Self::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
    }

    /// A loader for the `--config` files, in order.
    pub fn config_loader(&self) -> ConfigLoader {
        ConfigLoader::new().files(self.config.iter().cloned())
    }

    /// Loads the `--config` files.
    pub fn load_config(&self) -> Result<Config, ConfigError> {
        self.config_loader().load()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("bin").chain(args.iter().copied()))
    }

    #[test]
    fn serve_is_the_default_and_config_is_global() {
        let cli = parse(&["--config", "a.yaml", "-c", "b.yaml"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(
            cli.config,
            [PathBuf::from("a.yaml"), PathBuf::from("b.yaml")]
        );
        let cli = parse(&["list", "--config", "a.yaml"]).unwrap();
        assert!(matches!(cli.command, Some(Command::List(_))));
        assert_eq!(cli.config, [PathBuf::from("a.yaml")]);
        let cli = parse(&["config", "check", "--format", "json"]).unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Config(ConfigCommand::Check(CheckArgs {
                format: ConfigFormat::Json
            })))
        ));
    }

    #[test]
    fn call_takes_one_principal() {
        let cli = parse(&["call", "greet_user", "--input", "{}", "--subject", "ci"]).unwrap();
        let Some(Command::Call(args)) = cli.command else {
            panic!()
        };
        assert_eq!(args.subject.as_deref(), Some("ci"));
        let error =
            parse(&["call", "x", "--subject", "a", "--user", "user:default/b"]).unwrap_err();
        assert_eq!(error.exit_code(), 2);
        assert_eq!(parse(&["frobnicate"]).unwrap_err().exit_code(), 2);
    }
}
