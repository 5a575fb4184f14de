//! The command line of a server binary, and [`run`], the whole of a typical `main`.
//!
//! Every team's binary has the same commands:
//!
//! | command | what it does |
//! |---|---|
//! | `serve` (the default) | serves the actions over MCP until Ctrl-C or SIGTERM; `serve --stdio` speaks MCP on stdin/stdout instead |
//! | `list` | every linked action: tool name, title, attributes, permission, and whether each server exposes it and why |
//! | `schema <name>` | the input and output JSON schemas of one action |
//! | `call <name> --input '<json>'` | calls one action locally, through the same pipeline as the server (services, permission policy, errors), without HTTP |
//! | `token` | prints a new random access token |
//! | `config check` | loads and validates the config, prints the effective config with secrets masked, and the warnings |
//!
//! `--config FILE` (repeatable; later files win) is accepted by every command.
//!
//! Exit status: **0** success; **1** an action returned an error (`call`), or the server could
//! not start or stopped with an error (a taken port, invalid actions, a failed setup);
//! **2** the command line or the configuration is invalid (including an unknown action name).

use std::error::Error as StdError;
use std::io::{IsTerminal, Read};
use std::path::PathBuf;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use mcp_actions::BoxFuture;
use mcp_actions::{ActionError, CallOptions, Credentials};
use serde_json::{Value, json};
use tracing_subscriber::EnvFilter;

use crate::config::{Config, ConfigError, ConfigLoader};
use crate::server::{
    ActionExposure, ActionsServer, ActionsServerBuilder, BuildError, ServeError, WARNINGS_TARGET,
};
use crate::transport::stdio::{self, StdioError};

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
    /// Print a new random access token (24 bytes, base64) for `backend.auth.externalAccess` or
    /// MCP_TOKEN.
    #[command(after_long_help = EXIT_CODES)]
    Token,
    /// Work with the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
}

/// The options of `serve`.
#[derive(Debug, Clone, Default, Args)]
#[non_exhaustive]
pub struct ServeArgs {
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
}

/// The subject `call` uses when neither `--subject` nor `--user` is given.
pub const DEFAULT_CALL_SUBJECT: &str = "cli";

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

impl Cli {
    /// Parses the process's arguments (printing help or an error and exiting as clap does:
    /// status 0 for `--help`, 2 for a usage error), naming the program after the binary.
    pub fn from_env() -> Self {
        let name = std::env::args_os()
            .next()
            .and_then(|arg0| {
                std::path::Path::new(&arg0)
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
            })
            .unwrap_or_else(|| "mcp-actions-server".to_owned());
        let matches = Self::command().bin_name(name).get_matches();
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

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The application's setup function failed.
    #[error("setting up the application failed: {0}")]
    Setup(Box<dyn StdError + Send + Sync>),
    /// The server could not be built.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// Serving failed.
    #[error(transparent)]
    Serve(#[from] ServeError),
    /// The command line is wrong in a way clap cannot tell (an unknown action, input that is
    /// not JSON…).
    #[error("{0}")]
    Usage(String),
    /// The action called by `call` returned an error.
    #[error("{0}")]
    Action(ActionError),
    /// Writing the output failed.
    #[error("cannot write the output: {0}")]
    Output(#[from] std::io::Error),
    /// The stdio session failed.
    #[error(transparent)]
    Stdio(Box<StdioError>),
}

impl RunError {
    /// The exit status for this error: 2 when the command line or the configuration is wrong
    /// (a setup error that is a [`ConfigError`] counts), else 1.
    pub fn exit_code(&self) -> u8 {
        match self {
            RunError::Config(_) | RunError::Usage(_) | RunError::Build(BuildError::Config(_)) => 2,
            RunError::Setup(error) if error.downcast_ref::<ConfigError>().is_some() => 2,
            _ => 1,
        }
    }
}

/// Sends `tracing` output to stderr, at the level in `RUST_LOG` (default `info`, with rmcp's
/// own per-request lines at `warn`). Does nothing if a subscriber is already installed.
pub fn init_logging() {
    init_logging_with(SERVE_LOG_DEFAULT, true);
}

/// The log filter of a serving binary without `RUST_LOG`. rmcp logs three `info` lines for
/// every stateless request (session start, input stream end, serve end), which say nothing
/// to an operator and cost a third of the server's throughput; its warnings and errors stay.
const SERVE_LOG_DEFAULT: &str = "info,rmcp=warn";

/// `timestamps`: a server's log wants them; the few lines of a one-shot command do not.
fn init_logging_with(default: &str, timestamps: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let subscriber = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        // No colour codes in log files (e.g. a stdio client's log of the server's stderr).
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(filter);
    let _ = if timestamps {
        subscriber.try_init()
    } else {
        subscriber.without_time().try_init()
    };
}

/// Serves every action linked into the binary, or runs another command, as the command line
/// says: the whole of a typical `main`.
///
/// ```no_run
/// use greet_user as _; // link the crate whose actions to serve
///
/// #[tokio::main]
/// async fn main() -> anyhow::Result<()> { mcp_actions_server::run().await }
/// # mod greet_user {}
/// ```
///
/// It parses the command line ([`Cli`]), logs to stderr, loads and merges the config, builds
/// the server and runs the command; `serve` (the default) binds `backend.listen`, prints a
/// generated token's client configuration if there is one, and serves until Ctrl-C or
/// SIGTERM.
///
/// An error (bad config, invalid actions, missing services, a taken port, a failed `call`) is
/// printed to stderr as one readable message — every problem listed, no backtrace — and the
/// process exits with [`RunError::exit_code`]. Use [`run_cli`] to get the typed error instead.
pub async fn run() -> anyhow::Result<()> {
    run_with(Ok::<_, std::convert::Infallible>).await
}

/// Like [`run`], with an application `setup` step that registers services, a permission
/// policy or an authenticator on the builder; it can read the loaded config with
/// [`ActionsServerBuilder::app_config`]. Every command that builds the server (`serve`,
/// `list`, `schema`, `call`, `config check`) runs it.
///
/// ```no_run
/// # use mcp_actions_server::ActionsServerBuilder;
/// # #[derive(Default)] struct Store;
/// fn setup(builder: ActionsServerBuilder) -> Result<ActionsServerBuilder, std::io::Error> {
///     Ok(builder.service(Store::default()))
/// }
///
/// #[tokio::main]
/// async fn main() -> anyhow::Result<()> { mcp_actions_server::run_with(setup).await }
/// ```
pub async fn run_with<F, E>(setup: F) -> anyhow::Result<()>
where
    F: FnOnce(ActionsServerBuilder) -> Result<ActionsServerBuilder, E>,
    E: StdError + Send + Sync + 'static,
{
    let cli = Cli::from_env();
    init_logging_for(&cli);
    exit_on_error(run_cli(cli, setup).await);
    Ok(())
}

/// Logging for `cli`'s command: timestamped `info` for `serve`, only warnings otherwise.
fn init_logging_for(cli: &Cli) {
    match &cli.command {
        None | Some(Command::Serve(_)) => init_logging_with(SERVE_LOG_DEFAULT, true),
        // `config check` prints the start-up warnings itself.
        Some(Command::Config(_)) => {
            init_logging_with(&format!("warn,{WARNINGS_TARGET}=off"), false)
        }
        Some(_) => init_logging_with("warn", false),
    }
}

/// Prints `result`'s error to stderr and exits with its [`RunError::exit_code`].
fn exit_on_error(result: Result<(), RunError>) {
    if let Err(error) = result {
        // The message already says everything (causes included); returning it to `main` would
        // add `Debug` output and, with RUST_BACKTRACE set, a backtrace of our own code.
        match &error {
            RunError::Action(error) => eprintln!("{error}"),
            other => eprintln!("error: {other}"),
        }
        std::process::exit(error.exit_code().into());
    }
}

/// What [`run_with`] does after parsing the command line and setting up logging, with typed
/// errors. Output goes to this process's stdout and stderr.
pub async fn run_cli<F, E>(cli: Cli, setup: F) -> Result<(), RunError>
where
    F: FnOnce(ActionsServerBuilder) -> Result<ActionsServerBuilder, E>,
    E: StdError + Send + Sync + 'static,
{
    // Only this thin layer is generic; the work is in `prepare` and `execute`, compiled once
    // in this crate rather than again in every binary (see `ActionsServer::serve_boxed`).
    let setup = move |builder| setup(builder).map_err(|e| RunError::Setup(Box::new(e)));
    match prepare(cli, Box::new(setup))? {
        Some((server, command)) => execute(server, command).await,
        None => Ok(()),
    }
}

/// The application's setup step, its error already a [`RunError`].
type Setup<'a> =
    Box<dyn FnOnce(ActionsServerBuilder) -> Result<ActionsServerBuilder, RunError> + 'a>;

/// Runs the commands that need no server (`token`), or loads the config and builds the server
/// for the others.
fn prepare(cli: Cli, setup: Setup<'_>) -> Result<Option<(ActionsServer, Command)>, RunError> {
    let command = cli
        .command
        .clone()
        .unwrap_or(Command::Serve(ServeArgs::default()));
    if let Command::Token = command {
        println!("{}", crate::config::generate_token().expose());
        if std::io::stderr().is_terminal() {
            eprintln!(
                "Use it as `options.token` of a `backend.auth.externalAccess` entry, or set MCP_TOKEN to it."
            );
        }
        return Ok(None);
    }
    let config = cli.load_config()?;
    if !config.sources().is_empty() {
        tracing::info!(files = ?config.sources(), "loaded configuration");
    }
    let server = setup(ActionsServer::builder().config(config))?.build()?;
    Ok(Some((server, command)))
}

fn execute(server: ActionsServer, command: Command) -> BoxFuture<'static, Result<(), RunError>> {
    Box::pin(async move {
        match command {
            Command::Serve(args) => serve(server, args).await,
            Command::List(args) => list(&server, &args),
            Command::Schema(args) => schema(&server, &args),
            Command::Call(args) => call(&server, args).await,
            Command::Config(ConfigCommand::Check(args)) => check(&server, &args),
            Command::Token => unreachable!("handled before loading the config"),
        }
    })
}

async fn serve(server: ActionsServer, args: ServeArgs) -> Result<(), RunError> {
    if args.stdio {
        return serve_stdio(&server, args).await;
    }
    let listener = server.bind().await?;
    let base_url = server.base_url(Some(listener.local_addr().map_err(ServeError::Io)?));
    if let Some(notice) = server.generated_token_notice(&base_url) {
        eprintln!("{notice}");
    }
    server
        .serve_with_shutdown(listener, shutdown_signal())
        .await?;
    tracing::info!("stopped");
    Ok(())
}

async fn serve_stdio(server: &ActionsServer, args: ServeArgs) -> Result<(), RunError> {
    let handler = match &args.server {
        None => server.handler(),
        Some(key) => server
            .endpoint(key)
            .ok_or_else(|| {
                let keys: Vec<_> = server.endpoints().iter().filter_map(|e| e.key()).collect();
                RunError::Usage(format!(
                    "there is no server `{key}` in `mcpActions.servers` (configured: {})",
                    if keys.is_empty() {
                        "none".to_owned()
                    } else {
                        keys.join(", ")
                    }
                ))
            })?
            .handler(),
    };
    let credentials = match (&args.subject, &args.user) {
        (None, None) => server.config().mcp_actions().stdio.credentials.clone(),
        (subject, user) => stdio::credentials_from(subject.as_deref(), user.as_deref())
            .map_err(|message| RunError::Usage(format!("--subject/--user: {message}")))?,
    };
    stdio::serve(handler.clone(), credentials, shutdown_signal())
        .await
        .map_err(|e| RunError::Stdio(Box::new(e)))?;
    tracing::info!("stopped");
    Ok(())
}

/// The action called `name` (tool name, action name or id).
fn find<'a>(server: &'a ActionsServer, name: &str) -> Result<&'a ActionExposure, RunError> {
    let exposure = server.exposure();
    exposure
        .iter()
        .find(|e| e.tool_name == name)
        .or_else(|| exposure.iter().find(|e| e.action.name() == name))
        .or_else(|| exposure.iter().find(|e| e.action.id() == name))
        .ok_or_else(|| {
            RunError::Usage(format!(
                "there is no action `{name}` in this binary; `list` shows every action with its tool name and id"
            ))
        })
}

fn attributes(exposure: &ActionExposure) -> Vec<&'static str> {
    let a = exposure.action.descriptor().attributes;
    [
        ("readOnly", a.read_only),
        ("destructive", a.destructive),
        ("idempotent", a.idempotent),
        ("openWorld", a.open_world),
    ]
    .into_iter()
    .filter_map(|(name, set)| set.then_some(name))
    .collect()
}

fn permission(exposure: &ActionExposure) -> Option<String> {
    exposure
        .action
        .descriptor()
        .permission
        .map(|p| format!("{} ({})", p.name(), p.action()))
}

/// Left-aligned columns, two spaces apart; the last column is not padded.
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let last = cells.len() - 1;
        let mut out = String::new();
        for (i, cell) in cells.into_iter().enumerate() {
            out.push_str(cell);
            if i < last {
                let pad = widths[i] - cell.chars().count() + 2;
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.truncate(out.trim_end().len());
        out.push('\n');
        out
    };
    let mut out = line(header.to_vec());
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

fn served(decision: &mcp_actions::filter::FilterDecision) -> &'static str {
    if decision.is_exposed() { "yes" } else { "no" }
}

fn list(server: &ActionsServer, args: &ListArgs) -> Result<(), RunError> {
    let exposure = server.exposure();
    let endpoints = server.endpoints();
    if args.format == ListFormat::Json {
        let actions: Vec<Value> = exposure
            .iter()
            .map(|e| {
                let d = e.action.descriptor();
                let mut servers = serde_json::Map::new();
                let decisions = std::iter::once(&e.decision).chain(&e.servers);
                for (endpoint, decision) in endpoints.iter().zip(decisions) {
                    servers.insert(
                        endpoint.key().unwrap_or("default").to_owned(),
                        json!({ "exposed": decision.is_exposed(), "reason": decision.reason() }),
                    );
                }
                json!({
                    "id": e.action.id(),
                    "plugin": e.action.plugin(),
                    "name": e.action.name(),
                    "tool": e.tool_name,
                    "title": d.title,
                    "attributes": {
                        "readOnly": d.attributes.read_only,
                        "destructive": d.attributes.destructive,
                        "idempotent": d.attributes.idempotent,
                        "openWorld": d.attributes.open_world,
                    },
                    "permission": d.permission.map(|p| json!({ "name": p.name(), "action": p.action().to_string() })),
                    "servers": servers,
                })
            })
            .collect();
        let servers: Vec<Value> = endpoints
            .iter()
            .map(|e| {
                json!({
                    "key": e.key().unwrap_or("default"),
                    "name": e.name(),
                    "path": e.path(),
                    "actions": e.handler().dispatcher().registry().len(),
                })
            })
            .collect();
        let document = json!({ "servers": servers, "actions": actions });
        println!(
            "{}",
            serde_json::to_string_pretty(&document).expect("JSON values serialize")
        );
        return Ok(());
    }

    let default = &endpoints[0];
    let mut out = format!(
        "Default server \"{}\" at {}: {} of {} actions\n",
        default.name(),
        default.path(),
        default.handler().dispatcher().registry().len(),
        exposure.len()
    );
    let rows: Vec<Vec<String>> = exposure
        .iter()
        .map(|e| {
            let attributes = attributes(e);
            vec![
                e.action.id().to_owned(),
                e.tool_name.clone(),
                e.action.descriptor().title.to_owned(),
                if attributes.is_empty() {
                    "-".to_owned()
                } else {
                    attributes.join(",")
                },
                permission(e).unwrap_or_else(|| "-".to_owned()),
                served(&e.decision).to_owned(),
                e.decision.reason().to_owned(),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "ID",
            "TOOL",
            "TITLE",
            "ATTRIBUTES",
            "PERMISSION",
            "SERVED",
            "WHY",
        ],
        &rows,
    ));
    for (i, endpoint) in endpoints.iter().enumerate().skip(1) {
        let rows: Vec<Vec<String>> = exposure
            .iter()
            .filter(|e| e.decision.is_exposed())
            .map(|e| {
                let decision = &e.servers[i - 1];
                vec![
                    e.action.id().to_owned(),
                    e.tool_name.clone(),
                    served(decision).to_owned(),
                    decision.reason().to_owned(),
                ]
            })
            .collect();
        out.push_str(&format!(
            "\nNamed server `{}` (\"{}\") at {}: {} of {} actions\n",
            endpoint.key().unwrap_or_default(),
            endpoint.name(),
            endpoint.path(),
            endpoint.handler().dispatcher().registry().len(),
            rows.len()
        ));
        out.push_str(&table(&["ID", "TOOL", "SERVED", "WHY"], &rows));
    }
    print!("{out}");
    Ok(())
}

fn schema(server: &ActionsServer, args: &SchemaArgs) -> Result<(), RunError> {
    let exposure = find(server, &args.name)?;
    let document = json!({
        "id": exposure.action.id(),
        "tool": exposure.tool_name,
        "inputSchema": exposure.action.input_schema().as_ref(),
        "outputSchema": exposure.action.output_schema().as_ref(),
    });
    println!(
        "{}",
        serde_json::to_string_pretty(&document).expect("JSON values serialize")
    );
    Ok(())
}

/// The caller of `call`: `--user`, or `--subject` (with the access restrictions of a static
/// token with that subject), or the service `cli`.
fn call_credentials(server: &ActionsServer, args: &CallArgs) -> Result<Credentials, RunError> {
    if let Some(user) = &args.user {
        let valid = user.starts_with("user:")
            && user.len() > "user:".len()
            && !user.chars().any(char::is_whitespace);
        if !valid {
            return Err(RunError::Usage(format!(
                "--user must be a user entity ref like `user:default/jane`, not `{user}`"
            )));
        }
        return Ok(Credentials::user(user.clone()));
    }
    let subject = args.subject.as_deref().unwrap_or(DEFAULT_CALL_SUBJECT);
    if subject.is_empty() || subject.chars().any(char::is_whitespace) {
        return Err(RunError::Usage(format!(
            "--subject must be non-empty and without spaces, not {subject:?}"
        )));
    }
    let mut credentials = Credentials::service(subject);
    let entry = server
        .config()
        .backend()
        .external_access
        .iter()
        .find(|t| t.subject == subject);
    if let Some(restrictions) = entry.and_then(|t| t.access_restrictions.as_ref()) {
        credentials = credentials.with_restrictions(restrictions.iter().cloned());
    }
    Ok(credentials)
}

async fn call(server: &ActionsServer, args: CallArgs) -> Result<(), RunError> {
    let exposure = find(server, &args.name)?;
    if !exposure.decision.is_exposed() {
        return Err(RunError::Usage(format!(
            "action `{}` is not exposed by this server ({}), so it cannot be called",
            exposure.action.id(),
            exposure.decision.reason()
        )));
    }
    let text = if args.input == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        text
    } else {
        args.input.clone()
    };
    let input: Value = serde_json::from_str(&text)
        .map_err(|e| RunError::Usage(format!("--input is not valid JSON: {e}")))?;
    if !input.is_object() {
        return Err(RunError::Usage(
            "--input must be a JSON object, e.g. '{\"name\": \"World\"}'".to_owned(),
        ));
    }
    let credentials = call_credentials(server, &args)?;
    let handler = server.handler();
    let action = handler
        .action(&exposure.tool_name)
        .expect("an exposed action is served by the default server");
    let output = handler
        .dispatcher()
        .call_action(action, Some(input), CallOptions::new(credentials))
        .await
        .map_err(RunError::Action)?;
    println!(
        "{}",
        serde_json::to_string_pretty(&output).expect("JSON values serialize")
    );
    Ok(())
}

fn check(server: &ActionsServer, args: &CheckArgs) -> Result<(), RunError> {
    let config = server.config();
    let effective = config.effective();
    let text = match args.format {
        ConfigFormat::Yaml => serde_yaml_ng::to_string(&effective).map_err(|e| {
            RunError::Output(std::io::Error::other(format!(
                "cannot write the config as YAML: {e}"
            )))
        })?,
        ConfigFormat::Json => {
            serde_json::to_string_pretty(&effective).expect("JSON values serialize") + "\n"
        }
    };
    print!("{text}");
    for warning in server.warnings() {
        eprintln!("warning: {warning}");
    }
    if config.backend().external_access.is_empty() {
        let source = match crate::config::default_token(config)? {
            Some(_) => "accepts the token in MCP_TOKEN",
            None => {
                "generates a token on every start (set MCP_TOKEN, or configure `backend.auth.externalAccess`)"
            }
        };
        eprintln!("note: no `backend.auth.externalAccess` is configured: the server {source}");
    }
    let endpoints = server.endpoints();
    let mut summary = format!(
        "the configuration is valid: {} of {} actions exposed at {}",
        endpoints[0].handler().dispatcher().registry().len(),
        server.exposure().len(),
        endpoints[0].path()
    );
    for endpoint in &endpoints[1..] {
        summary.push_str(&format!(
            ", {} at {}",
            endpoint.handler().dispatcher().registry().len(),
            endpoint.path()
        ));
    }
    let warnings = server.warnings().len();
    if warnings > 0 {
        summary.push_str(&format!(
            "; {warnings} warning{}",
            if warnings == 1 { "" } else { "s" }
        ));
    }
    eprintln!("{summary}");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
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

    #[test]
    fn exit_codes() {
        let config = ConfigLoader::new()
            .yaml("t", "backend:\n  listen:\n    port: x\n")
            .load()
            .unwrap_err();
        assert_eq!(RunError::Config(config).exit_code(), 2);
        assert_eq!(RunError::Usage("x".into()).exit_code(), 2);
        assert_eq!(
            RunError::Action(ActionError::not_found("gone")).exit_code(),
            1
        );
        let setup = ConfigError::Invalid {
            key: "catalog.policy".into(),
            message: "bad".into(),
        };
        assert_eq!(RunError::Setup(Box::new(setup)).exit_code(), 2);
        assert_eq!(
            RunError::Setup(Box::new(std::io::Error::other("db down"))).exit_code(),
            1
        );
    }

    #[test]
    fn tables_align() {
        let text = table(
            &["A", "BB"],
            &[
                vec!["long cell".into(), "x".into()],
                vec!["s".into(), "".into()],
            ],
        );
        assert_eq!(text, "A          BB\nlong cell  x\ns\n");
    }
}
