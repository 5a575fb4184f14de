//! [`TestServer`]: a server running in-process on an ephemeral loopback port.

use std::future::Future;
use std::net::SocketAddr;

use mcp_actions_server::{ActionsServer, ActionsServerBuilder, MCP_PATH};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::wait::bounded;

/// The serving task: ends when the server has stopped, with what serving returned.
pub type Serving = JoinHandle<anyhow::Result<()>>;

/// A server on `127.0.0.1:<ephemeral port>`, bound before the constructor returns (so
/// requests can be sent at once); shut down gracefully with [`TestServer::shut_down`] or
/// [`TestServer::stop`], and signalled to stop when dropped.
pub struct TestServer {
    /// The bound address.
    pub addr: SocketAddr,
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    /// The URL of the default server's MCP endpoint.
    pub endpoint: String,
    shutdown: CancellationToken,
    task: Option<Serving>,
}

impl TestServer {
    /// Builds the server and serves it.
    pub async fn start(builder: ActionsServerBuilder) -> Self {
        Self::serve(builder.build().expect("the test server builds")).await
    }

    /// Serves an already built server, with `serve_with_shutdown`.
    pub async fn serve(server: ActionsServer) -> Self {
        Self::spawn(CancellationToken::new(), |listener, signal| async move {
            Ok(server.serve_with_shutdown(listener, signal).await?)
        })
        .await
    }

    /// Serves an already built server on `listener`, bound by the caller (when the port must be
    /// known before the server is built: a token audience, an identity provider's resource).
    pub async fn serve_on(listener: TcpListener, server: ActionsServer) -> Self {
        Self::spawn_on(
            listener,
            CancellationToken::new(),
            |listener, signal| async move { Ok(server.serve_with_shutdown(listener, signal).await?) },
        )
    }

    /// Serves a bare router (e.g. an `SseEndpoint`'s) with axum, shutting down gracefully
    /// when `shutdown` is cancelled — by [`TestServer::shut_down`], or by whoever else holds it
    /// (give it to what must end its streams on shutdown).
    pub async fn serve_router(router: axum::Router, shutdown: CancellationToken) -> Self {
        Self::spawn(shutdown, |listener, signal| async move {
            Ok(axum::serve(listener, router)
                .with_graceful_shutdown(signal)
                .await?)
        })
        .await
    }

    async fn spawn<F, Fut>(shutdown: CancellationToken, serve: F) -> Self
    where
        F: FnOnce(TcpListener, tokio_util::sync::WaitForCancellationFutureOwned) -> Fut,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        Self::spawn_on(listener, shutdown, serve)
    }

    fn spawn_on<F, Fut>(listener: TcpListener, shutdown: CancellationToken, serve: F) -> Self
    where
        F: FnOnce(TcpListener, tokio_util::sync::WaitForCancellationFutureOwned) -> Fut,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let addr = listener.local_addr().expect("the bound address");
        let task = tokio::spawn(serve(listener, shutdown.clone().cancelled_owned()));
        let base_url = format!("http://{addr}");
        Self {
            addr,
            endpoint: format!("{base_url}{MCP_PATH}"),
            base_url,
            shutdown,
            task: Some(task),
        }
    }

    /// The URL of the named server `key`: `<endpoint>/<key>`.
    pub fn named(&self, key: &str) -> String {
        format!("{}/{key}", self.endpoint)
    }

    /// `path` (starting with `/`) on this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Sends the shutdown signal; returns the serving task, which ends when the server is done.
    pub fn shut_down(&mut self) -> Serving {
        self.shutdown.cancel();
        self.task.take().expect("shut down once")
    }

    /// Shuts down and waits (bounded) for the server to stop; returns what serving returned.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        let serving = self.shut_down();
        bounded("the server to stop", serving)
            .await
            .expect("the serving task")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
