//! HTTP in front of the MCP handler.
//!
//! | file | what it owns |
//! |---|---|
//! | `guard.rs` | the one service in front of each Streamable HTTP endpoint: concurrency limit, authentication, body limit, Host check, the OAuth scopes of `tools/call`, then the direct path or rmcp |
//! | `elicit/` | asking the user on 2025-11-25: sealed session ids, `elicitation/create` on the call's SSE stream, the client's POSTed answer routed to the waiting call |
//! | `direct/` | the direct path: plain stateless `tools/call`, `tools/list` and `server/discover` answered without rmcp's per-request service, on 2025-11-25 and 2026-07-28 |
//! | `body.rs` | body limit, early answers that keep keep-alive connections usable, JSON-RPC errors for bodies that are not JSON-RPC |
//! | `hosts.rs` | the DNS-rebinding guard: one decision for every transport |
//! | `health.rs` | `/healthz` and `/readyz` (503 while draining) |

pub(crate) mod body;
mod direct;
mod elicit;
mod guard;
pub(crate) mod health;
pub(crate) mod hosts;

pub(crate) use direct::Direct;
pub(crate) use elicit::Asker;
#[cfg(feature = "sse")]
pub(crate) use guard::require_auth;
pub(crate) use guard::{ConcurrencyLimit, GuardedMcpService, Guards, ToolScopes};
pub(crate) use hosts::AllowedHosts;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use tokio::net::{TcpListener, TcpStream};

/// The client end of a connection, with its text made once per connection rather than on
/// every request's audit event. What `axum::extract::ConnectInfo<Peer>` holds.
#[derive(Clone, Debug)]
pub(crate) struct Peer {
    pub(crate) addr: SocketAddr,
    /// `addr` as text (`127.0.0.1:54321`).
    pub(crate) text: Arc<str>,
}

impl Peer {
    fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            text: addr.to_string().into(),
        }
    }
}

/// The MCP listener: TCP with `TCP_NODELAY` on every connection (without it a streamed (SSE)
/// response stalls ~40 ms per request: Nagle), each known by its [`Peer`].
pub(crate) struct PeerListener(pub(crate) TcpListener);

impl Listener for PeerListener {
    type Io = TcpStream;
    type Addr = Peer;

    async fn accept(&mut self) -> (TcpStream, Peer) {
        // axum's own accept loop: it retries (and logs) failed accepts.
        let (tcp, addr) = Listener::accept(&mut self.0).await;
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "could not set TCP_NODELAY");
        }
        (tcp, Peer::new(addr))
    }

    fn local_addr(&self) -> std::io::Result<Peer> {
        self.0.local_addr().map(Peer::new)
    }
}

impl Connected<IncomingStream<'_, PeerListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, PeerListener>) -> Self {
        stream.remote_addr().clone()
    }
}
