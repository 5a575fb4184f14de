//! `GET /healthz` and `GET /readyz`, on the MCP listener and on the admin listener, for load
//! balancers and orchestrators. Anyone may call them: they answer a status and nothing else.
//!
//! - `/healthz`: 200 `{"status":"ok"}` while the process serves.
//! - `/readyz`: 200 `{"status":"ready"}`, and 503 `{"status":"draining"}` from the moment
//!   shutdown begins, so that a load balancer stops sending new requests while the ones in
//!   progress finish.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::StatusCode;

/// Whether the server takes new requests: false once shutdown begins.
#[derive(Clone, Debug)]
pub(crate) struct Readiness(Arc<AtomicBool>);

impl Readiness {
    pub(crate) fn new() -> Self {
        Self(Arc::new(AtomicBool::new(true)))
    }

    /// Shutdown has begun: `/readyz` answers 503 from now on.
    pub(crate) fn draining(&self) {
        self.0.store(false, Ordering::SeqCst);
    }

    fn is_ready(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// The two routes.
pub(crate) fn router(readiness: Readiness) -> Router {
    Router::new()
        .route("/healthz", get(|| async { status(StatusCode::OK, "ok") }))
        .route(
            "/readyz",
            get(move || {
                let ready = readiness.is_ready();
                async move {
                    if ready {
                        status(StatusCode::OK, "ready")
                    } else {
                        status(StatusCode::SERVICE_UNAVAILABLE, "draining")
                    }
                }
            }),
        )
}

fn status(code: StatusCode, status: &'static str) -> Response {
    let mut response = (code, axum::Json(serde_json::json!({ "status": status }))).into_response();
    response.headers_mut().insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    response
}
