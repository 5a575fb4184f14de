//! The DNS-rebinding guard: which `Host` a request may name (`mcpActions.allowedHosts`). One
//! decision ([`AllowedHosts::permits`]) for every transport; each answers a refusal in its own
//! format ([`AllowedHosts::check`] as rmcp's Streamable HTTP service would, the SSE transport
//! with its JSON error body).

use axum::body::Body;
use axum::response::Response;
use http::{HeaderMap, StatusCode, Uri, header};

/// `host[:port]` → lowercase host without brackets, port.
fn parse_authority(text: &str) -> Option<(String, Option<u16>)> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let (host, port) = match http::uri::Authority::try_from(text) {
        Ok(authority) => (
            without_brackets(authority.host()).to_ascii_lowercase(),
            authority.port_u16(),
        ),
        Err(_) => (without_brackets(text).to_ascii_lowercase(), None),
    };
    Some((host, port))
}

fn without_brackets(host: &str) -> &str {
    host.trim_start_matches('[').trim_end_matches(']')
}

/// The `Host` values an endpoint accepts, parsed once: `host` (any port) or `host:port`,
/// case-insensitive, IPv6 with or without brackets. Empty: any host.
#[derive(Debug, Clone)]
pub(crate) struct AllowedHosts {
    hosts: Vec<(String, Option<u16>)>,
}

/// Why a request's host is not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HostRefusal {
    /// No `Host` header and no authority in the URI.
    Missing,
    /// A `Host` header that is not text.
    Encoding,
    /// A `Host` header that is not an authority.
    Malformed,
    /// A host not in the list.
    NotAllowed,
}

impl AllowedHosts {
    pub(crate) fn new(hosts: &[String]) -> Self {
        Self {
            hosts: hosts.iter().filter_map(|h| parse_authority(h)).collect(),
        }
    }

    /// Whether a request for `host` (brackets optional) on `port` is accepted: the one
    /// decision.
    pub(crate) fn permits(&self, host: &str, port: Option<u16>) -> bool {
        let host = without_brackets(host);
        self.hosts.is_empty()
            || self.hosts.iter().any(|(allowed, allowed_port)| {
                allowed.eq_ignore_ascii_case(host) && allowed_port.is_none_or(|p| Some(p) == port)
            })
    }

    /// The request's host — its first `Host` header, else the URI's authority (HTTP/2) — and
    /// whether it is accepted.
    pub(crate) fn decide(&self, uri: &Uri, headers: &HeaderMap) -> Result<(), HostRefusal> {
        let permits = |authority: &http::uri::Authority| {
            if self.permits(authority.host(), authority.port_u16()) {
                Ok(())
            } else {
                Err(HostRefusal::NotAllowed)
            }
        };
        match headers.get(header::HOST) {
            Some(value) => {
                let text = value.to_str().map_err(|_| HostRefusal::Encoding)?;
                permits(&http::uri::Authority::try_from(text).map_err(|_| HostRefusal::Malformed)?)
            }
            None => permits(uri.authority().ok_or(HostRefusal::Missing)?),
        }
    }

    /// [`AllowedHosts::decide`], answered as rmcp's Streamable HTTP service answers it (its
    /// own check is turned off, so that there is one decision): 400 for a missing or malformed
    /// host, 403 for one not allowed, plain text.
    #[allow(clippy::result_large_err)] // the refusal is the response to send, built once
    pub(crate) fn check(&self, uri: &Uri, headers: &HeaderMap) -> Result<(), Response> {
        let (status, text) = match self.decide(uri, headers) {
            Ok(()) => return Ok(()),
            Err(HostRefusal::Missing) => {
                (StatusCode::BAD_REQUEST, "Bad Request: missing Host header")
            }
            Err(HostRefusal::Encoding) => (
                StatusCode::BAD_REQUEST,
                "Bad Request: Invalid Host header encoding",
            ),
            Err(HostRefusal::Malformed) => {
                (StatusCode::BAD_REQUEST, "Bad Request: Invalid Host header")
            }
            Err(HostRefusal::NotAllowed) => {
                tracing::warn!(
                    host = ?headers.get(header::HOST),
                    "refused a request: the Host header is not allowed (mcpActions.allowedHosts; possible DNS rebinding)"
                );
                (
                    StatusCode::FORBIDDEN,
                    "Forbidden: Host header is not allowed",
                )
            }
        };
        let mut response = Response::new(Body::from(text));
        *response.status_mut() = status;
        Err(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorities() {
        assert_eq!(
            parse_authority("LocalHost:8080"),
            Some(("localhost".into(), Some(8080)))
        );
        assert_eq!(
            parse_authority("[::1]:7007"),
            Some(("::1".into(), Some(7007)))
        );
        assert_eq!(parse_authority("::1"), Some(("::1".into(), None)));
        assert_eq!(parse_authority(" "), None);
    }

    #[test]
    fn one_decision_for_every_form() {
        let hosts = AllowedHosts::new(&["localhost".into(), "127.0.0.1:7007".into(), "::1".into()]);
        let head = |host: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::HOST, host.parse().unwrap());
            hosts.decide(&Uri::from_static("/"), &headers)
        };
        assert_eq!(head("LOCALHOST:1234"), Ok(()));
        assert_eq!(head("127.0.0.1:7007"), Ok(()));
        assert_eq!(head("[::1]:9"), Ok(()));
        assert_eq!(head("127.0.0.1:9999"), Err(HostRefusal::NotAllowed));
        assert_eq!(head("evil.example"), Err(HostRefusal::NotAllowed));
        assert_eq!(head("a b"), Err(HostRefusal::Malformed));
        assert_eq!(
            hosts.decide(&Uri::from_static("/"), &HeaderMap::new()),
            Err(HostRefusal::Missing)
        );
        assert_eq!(
            hosts.decide(&Uri::from_static("http://localhost/x"), &HeaderMap::new()),
            Ok(())
        );
        assert!(AllowedHosts::new(&[]).permits("anything", None));
    }
}
