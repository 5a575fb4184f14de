//! MCP over stdin/stdout, for local clients that start the server as a child process (Claude
//! Desktop, IDEs): `my-server serve --stdio`.
//!
//! There is no HTTP request and no token: the process runs as whoever started it, and every
//! action is called with the credentials given when the transport starts — from the command
//! line (`--subject`, `--user`), else `mcpActions.stdio`, else `Principal::Service { subject:
//! "stdio" }` (see [`StdioConfig`](crate::config::StdioConfig)). Access restrictions do not apply; the
//! permission policy does, as for any caller.
//!
//! The handler finds credentials in the `http::request::Parts` that the HTTP transports put in
//! each message's extensions; here each incoming message gets synthetic `Parts` (`POST /`, no
//! headers) carrying the configured [`Credentials`], so the handler is the same for every
//! transport.
//!
//! stdout carries the protocol and nothing else: log to stderr (as
//! the CLI does).

use std::future::Future;
use std::sync::Arc;

use http::request::Parts;
use mcp_actions::Credentials;
use rmcp::ServiceExt;
use rmcp::service::{RoleServer, RxJsonRpcMessage, ServerInitializeError, TxJsonRpcMessage};
use rmcp::transport::{IntoTransport, Transport};
use tokio_util::sync::CancellationToken;

use crate::mcp::ActionsHandler;

/// The stdio session ended with an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StdioError {
    /// The client did not complete the MCP handshake (it sent something else first, or the
    /// transport failed). A client that closes stdin before initializing is not an error.
    #[error("the MCP client on stdin did not initialize: {0}")]
    Initialize(#[source] Box<ServerInitializeError>),
    /// The session task failed (a panic in the transport or the service loop).
    #[error("the MCP stdio session failed: {0}")]
    Session(#[source] tokio::task::JoinError),
}

/// A server transport that hands every incoming message to the handler as if it came from an
/// HTTP request authenticated as `credentials` (synthetic `http::request::Parts` in the
/// message's extensions). Wraps stdio, or any other transport (e.g. `tokio::io::duplex` in
/// tests).
pub struct WithCredentials<T> {
    inner: T,
    parts: Parts,
}

impl<T> std::fmt::Debug for WithCredentials<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WithCredentials")
            .field("credentials", &self.parts.extensions.get::<Credentials>())
            .finish_non_exhaustive()
    }
}

/// Wraps `transport` (anything rmcp accepts as a server transport: `(AsyncRead, AsyncWrite)`,
/// a `(Sink, Stream)` pair, a [`Transport`]) so its messages carry `credentials`.
pub fn with_credentials<T, E, A>(
    transport: T,
    credentials: Credentials,
) -> WithCredentials<impl Transport<RoleServer, Error = E>>
where
    T: IntoTransport<RoleServer, E, A>,
    E: std::error::Error + Send + Sync + 'static,
{
    let (mut parts, ()) = http::Request::post("/")
        .body(())
        .expect("a static request is valid")
        .into_parts();
    parts.extensions.insert(credentials);
    WithCredentials {
        inner: transport.into_transport(),
        parts,
    }
}

impl<T> WithCredentials<T> {
    /// Asks the user with `prompt` when the client cannot be asked (it did not declare the
    /// elicitation capability), before the configured refuse/proceed applies.
    pub(crate) fn asking_with(mut self, prompt: Arc<dyn mcp_actions::UserPrompt>) -> Self {
        self.parts
            .extensions
            .insert(crate::mcp::FallbackPrompt(prompt));
        self
    }
}

impl<T: Transport<RoleServer>> Transport<RoleServer> for WithCredentials<T> {
    type Error = T::Error;

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleServer>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        self.inner.send(item)
    }

    async fn receive(&mut self) -> Option<RxJsonRpcMessage<RoleServer>> {
        let mut message = self.inner.receive().await?;
        message.insert_extension(self.parts.clone());
        Some(message)
    }

    fn close(&mut self) -> impl Future<Output = Result<(), Self::Error>> + Send {
        self.inner.close()
    }
}

/// Serves `handler` on `transport` as `credentials` until the client closes the transport or
/// `shutdown` is cancelled. A client that disconnects before initializing ends the session
/// normally.
pub async fn serve_transport<T, E, A: 'static>(
    handler: ActionsHandler,
    credentials: Credentials,
    transport: T,
    shutdown: CancellationToken,
) -> Result<(), StdioError>
where
    T: IntoTransport<RoleServer, E, A>,
    E: std::error::Error + Send + Sync + 'static,
{
    serve_wrapped(handler, with_credentials(transport, credentials), shutdown).await
}

/// [`serve_transport`] of a transport already wrapped.
async fn serve_wrapped<T>(
    handler: ActionsHandler,
    transport: WithCredentials<T>,
    shutdown: CancellationToken,
) -> Result<(), StdioError>
where
    T: Transport<RoleServer> + Send + 'static,
{
    let running = match handler.serve_with_ct(transport, shutdown).await {
        Ok(running) => running,
        Err(ServerInitializeError::ConnectionClosed(_) | ServerInitializeError::Cancelled) => {
            return Ok(());
        }
        Err(error) => return Err(StdioError::Initialize(Box::new(error))),
    };
    let reason = running.waiting().await.map_err(StdioError::Session)?;
    tracing::debug!(?reason, "the MCP stdio session ended");
    Ok(())
}

/// Serves `handler` on this process's stdin and stdout as `credentials`, until the client
/// closes stdin or `shutdown` completes (e.g. Ctrl-C).
///
/// ```no_run
/// # async fn example(server: mcp_actions_server::ActionsServer) -> anyhow::Result<()> {
/// use mcp_actions::Credentials;
/// use mcp_actions_server::transport::stdio;
///
/// let credentials = Credentials::service("stdio");
/// stdio::serve(server.handler().clone(), credentials, std::future::pending()).await?;
/// # Ok(()) }
/// ```
pub async fn serve(
    handler: ActionsHandler,
    credentials: Credentials,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StdioError> {
    serve_asking(handler, credentials, None, shutdown).await
}

/// [`serve`], asking the user with `fallback` (if any) when the client cannot be asked.
pub(crate) async fn serve_asking(
    handler: ActionsHandler,
    credentials: Credentials,
    fallback: Option<Arc<dyn mcp_actions::UserPrompt>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StdioError> {
    tracing::info!(
        principal = %credentials.principal(),
        actions = handler.dispatcher().registry().len(),
        "serving MCP actions on stdin/stdout"
    );
    let ct = CancellationToken::new();
    let on_signal = ct.clone();
    let signal = tokio::spawn(async move {
        shutdown.await;
        on_signal.cancel();
    });
    let mut transport = with_credentials(rmcp::transport::stdio_pipes(), credentials);
    if let Some(prompt) = fallback {
        transport = transport.asking_with(prompt);
    }
    let result = serve_wrapped(handler, transport, ct).await;
    signal.abort();
    result
}
