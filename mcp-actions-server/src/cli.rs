//! The command line of a server binary, and [`run`], the whole of a typical `main`.

use std::error::Error as StdError;
use std::path::PathBuf;

use clap::{CommandFactory, FromArgMatches, Parser};
use tracing_subscriber::EnvFilter;

use crate::config::{Config, ConfigError, ConfigLoader};
use crate::server::{ActionsServer, ActionsServerBuilder, BuildError, ServeError};

/// The options of a server binary.
#[derive(Debug, Clone, Default, Parser)]
#[command(
    version,
    about = "Serve the actions linked into this binary to AI clients as MCP tools.",
    long_about = "Serve the actions linked into this binary to AI clients as MCP tools, over \
                  Streamable HTTP at http://HOST:PORT/api/mcp-actions/v1.\n\nWithout --config it \
                  listens on 127.0.0.1:7007 and accepts the token in MCP_TOKEN, or a generated \
                  one that it prints. Log detail is set with RUST_LOG (default: info)."
)]
pub struct ServeArgs {
    /// A YAML config file in Backstage's format (`backend.listen`, `backend.auth.externalAccess`,
    /// `mcpActions`, …). Repeat to merge several files; later files win.
    #[arg(long = "config", short = 'c', value_name = "FILE")]
    pub config: Vec<PathBuf>,
}

impl ServeArgs {
    /// Parses the process's arguments (printing help or an error and exiting as clap does),
    /// naming the program after the binary.
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

/// Why [`run`] stopped.
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
}

/// Sends `tracing` output to stderr, at the level in `RUST_LOG` (default `info`). Does nothing
/// if a subscriber is already installed.
pub fn init_logging() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        .try_init();
}

/// Serves every action linked into the binary, as the command line and config say: the whole
/// of a typical `main`.
///
/// ```no_run
/// use greet_user as _; // link the crate whose actions to serve
///
/// #[tokio::main]
/// async fn main() -> anyhow::Result<()> { mcp_actions_server::run().await }
/// # mod greet_user {}
/// ```
///
/// It parses `--config FILE` (repeatable), logs to stderr, loads and merges the config, builds
/// the server, binds `backend.listen`, prints a generated token's client configuration if there
/// is one, and serves until Ctrl-C or SIGTERM.
///
/// A start-up error (bad config, invalid actions, missing services, a taken port) is printed
/// to stderr as one readable message — every problem listed, no backtrace — and the process
/// exits with status 1. Use [`serve_args`] to get the typed error instead.
pub async fn run() -> anyhow::Result<()> {
    run_with(Ok::<_, std::convert::Infallible>).await
}

/// Like [`run`], with an application `setup` step that registers services, a permission
/// policy or an authenticator on the builder; it can read the loaded config with
/// [`ActionsServerBuilder::app_config`].
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
    let args = ServeArgs::from_env();
    init_logging();
    if let Err(error) = serve_args(args, setup).await {
        // The message already says everything (causes included); returning it to `main` would
        // add `Debug` output and, with RUST_BACKTRACE set, a backtrace of our own code.
        eprintln!("error: {error}");
        std::process::exit(1);
    }
    Ok(())
}

/// What [`run_with`] does after parsing the command line, with typed errors.
pub async fn serve_args<F, E>(args: ServeArgs, setup: F) -> Result<(), RunError>
where
    F: FnOnce(ActionsServerBuilder) -> Result<ActionsServerBuilder, E>,
    E: StdError + Send + Sync + 'static,
{
    let config = args.load_config()?;
    if !config.sources().is_empty() {
        tracing::info!(files = ?config.sources(), "loaded configuration");
    }
    let builder = ActionsServer::builder().config(config);
    let server = setup(builder)
        .map_err(|e| RunError::Setup(Box::new(e)))?
        .build()?;
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
