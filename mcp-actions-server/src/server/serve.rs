//! Binding, serving until a signal, and graceful shutdown.

use std::future::Future;

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use mcp_actions::BoxFuture;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::router::not_found;
use super::{ActionsServer, ServeError};
use crate::http::health;

/// At shutdown, how long the calls cancelled at the end of the grace period have to send their
/// (in-band) answers before every connection is cut.
const CANCELLED_CALLS_ANSWER_WITHIN: std::time::Duration = std::time::Duration::from_secs(2);

impl ActionsServer {
    /// Binds `backend.listen` (default `127.0.0.1:7007`).
    pub async fn bind(&self) -> Result<TcpListener, ServeError> {
        let address = self.config.backend().listen.address();
        TcpListener::bind(&address)
            .await
            .map_err(|source| ServeError::Bind { address, source })
    }

    /// Serves on `listener` until the process ends.
    pub async fn serve(self, listener: TcpListener) -> Result<(), ServeError> {
        self.serve_with_shutdown(listener, std::future::pending())
            .await
    }

    /// Serves on `listener` until `signal` completes, then shuts down gracefully:
    ///
    /// 1. stops accepting connections (new ones are refused) and closes idle ones;
    /// 2. lets requests in progress finish, for up to `mcpActions.limits.shutdownGraceSeconds`
    ///    (default 10): their answers are sent as usual;
    /// 3. then cancels what still runs (calls end with `ServiceUnavailableError`, SSE sessions
    ///    close) and returns `Ok` once every connection is done.
    ///
    /// SSE sessions stay open during the grace period (a call in progress answers on its
    /// stream), so with an SSE client connected, shutdown takes the whole grace period.
    pub async fn serve_with_shutdown(
        self,
        listener: TcpListener,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        self.serve_boxed(listener, Box::pin(signal)).await
    }

    /// The body of [`ActionsServer::serve_with_shutdown`], not generic and boxed: the whole
    /// server's state machine is then compiled once, in this crate, rather than again in every
    /// binary that awaits it (a release build of a two-line `main` took 30 s more without it).
    fn serve_boxed(
        self,
        listener: TcpListener,
        signal: BoxFuture<'static, ()>,
    ) -> BoxFuture<'static, Result<(), ServeError>> {
        Box::pin(self.serve_until(listener, signal))
    }

    async fn serve_until(
        self,
        listener: TcpListener,
        signal: BoxFuture<'static, ()>,
    ) -> Result<(), ServeError> {
        let local_addr = listener.local_addr()?;
        let base_url = self.base_url(Some(local_addr));
        let router = self.router(&base_url).fallback(not_found(
            self.endpoints.iter().map(|e| e.path.clone()).collect(),
        ));
        for endpoint in &self.endpoints {
            tracing::info!(
                url = %endpoint.url(&base_url),
                actions = endpoint.handler.dispatcher().registry().len(),
                name = %endpoint.name(),
                "serving MCP actions"
            );
        }
        tracing::info!(allowed_hosts = ?self.allowed_hosts(&base_url), "accepting these Host headers");
        let (calls, sse_shutdown, shutdown) = (
            self.calls.clone(),
            self.sse_shutdown.clone(),
            self.shutdown.clone(),
        );
        let listener = crate::http::PeerListener(listener);
        let admin = self.serve_admin(shutdown.clone()).await?;
        let audit = self.telemetry.audit.clone();
        let readiness = self.readiness.clone();
        let grace = self.config.mcp_actions().limits.shutdown_grace();
        let stopping = CancellationToken::new();
        let service = router.into_make_service_with_connect_info::<crate::http::Peer>();
        let serving = axum::serve(listener, service).with_graceful_shutdown({
            let stopping = stopping.clone();
            async move {
                signal.await;
                readiness.draining();
                tracing::info!(
                    grace_seconds = grace.as_secs(),
                    "shutting down: no new connections; requests in progress may finish"
                );
                stopping.cancel();
            }
        });
        let serving = std::future::IntoFuture::into_future(serving);
        tokio::pin!(serving);
        let grace_over = async {
            stopping.cancelled().await;
            tokio::time::sleep(grace).await;
        };
        tokio::select! {
            result = &mut serving => result?,
            () = grace_over => {
                tracing::warn!(
                    grace_seconds = grace.as_secs(),
                    "shutdown grace period over: cancelling the calls still running"
                );
                // Cancelled calls answer in-band (`ServiceUnavailableError`); whatever has not
                // answered shortly after is cut.
                calls.cancel();
                sse_shutdown.cancel();
                tokio::select! {
                    result = &mut serving => result?,
                    () = tokio::time::sleep(CANCELLED_CALLS_ANSWER_WITHIN) => {
                        shutdown.cancel();
                        serving.await?;
                    }
                }
            }
        }
        calls.cancel();
        sse_shutdown.cancel();
        shutdown.cancel();
        if let Some(admin) = admin {
            let _ = admin.await;
        }
        if let Some(audit) = audit {
            audit.flush();
        }
        Ok(())
    }

    /// The admin listener's routes: `/metrics` (Prometheus text), `/healthz`, `/readyz`.
    /// Anyone who can reach it may call them: keep it on an internal interface
    /// (`mcpActions.admin.listen`).
    pub fn admin_router(&self) -> Router {
        let metrics = Arc::clone(&self.telemetry.metrics);
        health::router(self.readiness.clone()).route(
            "/metrics",
            get(move || {
                let text = metrics.encode();
                async move {
                    (
                        [(
                            http::header::CONTENT_TYPE,
                            "application/openmetrics-text; version=1.0.0; charset=utf-8",
                        )],
                        text,
                    )
                }
            }),
        )
    }

    /// Serves the admin listener, when `mcpActions.admin.listen` is set, until `until`.
    async fn serve_admin(
        &self,
        until: CancellationToken,
    ) -> Result<Option<tokio::task::JoinHandle<()>>, ServeError> {
        let Some(listen) = &self.config.mcp_actions().admin.listen else {
            return Ok(None);
        };
        let address = listen.address();
        let listener = TcpListener::bind(&address)
            .await
            .map_err(|source| ServeError::Bind { address, source })?;
        tracing::info!(
            address = %listener.local_addr()?,
            "serving /metrics, /healthz and /readyz on the admin listener"
        );
        let router = self.admin_router();
        Ok(Some(tokio::spawn(async move {
            let serving = axum::serve(listener, router)
                .with_graceful_shutdown(async move { until.cancelled().await });
            if let Err(error) = serving.await {
                tracing::warn!(%error, "the admin listener failed");
            }
        })))
    }
}
