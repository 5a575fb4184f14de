//! The command line of a server binary, and [`run()`](fn@run), the whole of a typical `main`.
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

//! | file | what it owns |
//! |---|---|
//! | `mod.rs` | [`run()`](fn@run), [`run_with`], [`run_cli`], [`RunError`] |
//! | `args.rs` | the command line ([`Cli`], [`Command`] and each command's options) |
//! | `commands.rs` | what each command does |
//! | `logging.rs` | logging to stderr |

mod args;
mod clients;
mod commands;
mod logging;
mod prompt;
mod token;

use std::error::Error as StdError;
use std::io::IsTerminal;

use mcp_actions::{ActionError, BoxFuture};

pub use args::{
    Binary, CallArgs, CheckArgs, Cli, Client, Command, ConfigCommand, ConfigFormat, ListArgs,
    ListFormat, SchemaArgs, ServeArgs, TokenArgs, TokenCommand, VerifyArgs,
};
pub use logging::init_logging;

use crate::config::ConfigError;
use crate::server::{ActionsServer, ActionsServerBuilder, BuildError, ServeError};
use crate::transport::stdio::StdioError;
use logging::init_logging_for;

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
    /// The action called by `call` refused the CLI's default caller.
    #[error("{error}\n({hint})")]
    Denied {
        /// The action's error.
        error: ActionError,
        /// Who the caller was, and how to name another.
        hint: String,
    },
    /// `token verify`: the token is refused, for this reason.
    #[error("the token is refused: {0}")]
    TokenRefused(String),
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

/// [`run()`](fn@run) with the calling binary's own package name and version in `--version` and in
/// `serverInfo` (unless `mcpActions.name` sets the name): `mcp_actions_server::run!().await`
/// in `main`, or `run!(setup)` for [`run_with`]'s setup step.
///
/// ```no_run
/// use greet_user as _; // link the crate whose actions to serve
///
/// #[tokio::main]
/// async fn main() -> anyhow::Result<()> { mcp_actions_server::run!().await }
/// # mod greet_user {}
/// ```
#[macro_export]
macro_rules! run {
    () => {
        $crate::run!(::core::result::Result::Ok::<_, ::core::convert::Infallible>)
    };
    ($setup:expr) => {
        $crate::cli::run_binary(
            $crate::cli::Binary {
                name: ::core::env!("CARGO_PKG_NAME"),
                version: ::core::env!("CARGO_PKG_VERSION"),
            },
            $setup,
        )
    };
}

/// What [`run!`](crate::run!) expands to.
#[doc(hidden)]
pub async fn run_binary<F, E>(binary: Binary, setup: F) -> anyhow::Result<()>
where
    F: FnOnce(ActionsServerBuilder) -> Result<ActionsServerBuilder, E>,
    E: StdError + Send + Sync + 'static,
{
    let cli = Cli::from_env_of(Some(binary));
    let logging = logging_or_exit(&cli);
    let setup = move |builder: ActionsServerBuilder| {
        setup(builder.version(binary.version).default_name(binary.name))
    };
    exit_on_error(run_cli(cli, setup).await, logging);
    Ok(())
}

/// Like [`run()`](fn@run), with an application `setup` step that registers services, a permission
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
    let logging = logging_or_exit(&cli);
    exit_on_error(run_cli(cli, setup).await, logging);
    Ok(())
}

/// Sets up logging (and trace export) for `cli`'s command, or exits with status 2 saying why
/// it cannot be done (an `OTEL_*` variable this server does not support).
fn logging_or_exit(cli: &Cli) -> logging::Logging {
    init_logging_for(cli).unwrap_or_else(|error| {
        eprintln!("error: {error}");
        std::process::exit(2);
    })
}

/// Prints `result`'s error to stderr and exits with its [`RunError::exit_code`], after the log
/// lines still queued are written (`logging`'s guard).
fn exit_on_error(result: Result<(), RunError>, logging: logging::Logging) {
    drop(logging);
    if let Err(error) = result {
        // The message already says everything (causes included); returning it to `main` would
        // add `Debug` output and, with RUST_BACKTRACE set, a backtrace of our own code.
        match &error {
            RunError::Action(_) | RunError::Denied { .. } => eprintln!("{error}"),
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
        .unwrap_or_else(|| Command::Serve(ServeArgs::from_env()));
    if let Command::Token(TokenArgs {
        command: None | Some(TokenCommand::New),
    }) = command
    {
        commands::print(&format!("{}\n", crate::auth::generate_token().expose()))?;
        if std::io::stderr().is_terminal() {
            eprintln!(
                "Use it as `options.token` of a `backend.auth.externalAccess` entry, or set MCP_TOKEN to it."
            );
        }
        return Ok(None);
    }
    let mut loader = cli.config_loader();
    match &command {
        Command::Serve(args) => {
            if let Some(listen) = args.listen_override() {
                loader = loader.yaml("the command line (--host/--port)", listen);
            }
        }
        // `call` runs an action, which may need the application's own secrets: only the
        // serving tokens may be missing.
        Command::Call(_) => loader = loader.allow_unset_variables(&["backend.auth."]),
        // Commands that serve and run nothing do not need the secrets serving needs.
        _ => loader = loader.allow_unset_variables(&[]),
    }
    let config = loader.load()?;
    if !config.sources().is_empty() {
        tracing::info!(files = ?config.sources(), "loaded configuration");
    }
    let server = setup(ActionsServer::builder().config(config))?.build()?;
    Ok(Some((server, command)))
}

fn execute(server: ActionsServer, command: Command) -> BoxFuture<'static, Result<(), RunError>> {
    Box::pin(async move {
        match command {
            Command::Serve(args) => commands::serve(server, args).await,
            Command::List(args) => {
                commands::list(&server, &args, &commands::remote_sources(&server))
            }
            Command::Schema(args) => commands::schema(&server, &args),
            Command::Call(args) => commands::call(&server, args).await,
            Command::Config(ConfigCommand::Check(args)) => commands::check(&server, &args).await,
            Command::Token(TokenArgs {
                command: Some(TokenCommand::Verify(args)),
            }) => token::verify(&server, args).await,
            Command::Token(_) => unreachable!("handled before loading the config"),
        }
    })
}

pub(super) async fn shutdown_signal() {
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
    use crate::ConfigLoader;

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
        let setup = ConfigError::invalid("catalog.policy", "bad");
        assert_eq!(RunError::Setup(Box::new(setup)).exit_code(), 2);
        assert_eq!(
            RunError::Setup(Box::new(std::io::Error::other("db down"))).exit_code(),
            1
        );
    }
}
