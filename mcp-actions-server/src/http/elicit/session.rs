//! Sessions without server state: the `Mcp-Session-Id` assigned at `initialize` is the
//! client's declared elicitation capability, sealed (HMAC-SHA256, rmcp's `RequestStateCodec`,
//! under `mcpActions.elicitation.stateKey`) and bound to the caller. Any replica with the same
//! key reads it from the header of a later request; nothing is stored.
//!
//! A session id that does not open (altered, sealed under another key, for another caller,
//! expired) is a client whose capabilities are unknown — exactly what a request without one
//! is — never an error: every ordinary request works the same with or without it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderValue};
use mcp_actions::Credentials;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::mcp::{RoundSeal, json_can_elicit};

/// The session header (lowercase, as `http` stores header names).
pub(crate) const SESSION_ID: http::HeaderName = http::HeaderName::from_static("mcp-session-id");

/// How long a session id says what the client can do. Long: the id grants nothing the caller's
/// own token does not (it is bound to the caller), and a client keeps its session for as long
/// as it runs; after it the client is one that cannot be asked, as without a session.
const SESSION_TTL: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// What a session id carries.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    /// The client declared form elicitation.
    #[serde(rename = "f")]
    form: bool,
    /// When the session was opened (seconds since the Unix epoch), for the record.
    #[serde(rename = "t")]
    issued: u64,
}

/// Issues and reads sealed session ids.
#[derive(Clone, Debug)]
pub(crate) struct Sessions {
    seal: RoundSeal,
}

impl Sessions {
    pub(crate) fn new(seal: RoundSeal) -> Self {
        Self { seal }
    }

    /// The session id for an `initialize` by `credentials` declaring `capabilities`: only a
    /// client that can be asked gets one (others see no difference at all).
    pub(crate) fn issue(
        &self,
        credentials: &Credentials,
        capabilities: Option<&Value>,
    ) -> Option<HeaderValue> {
        if !json_can_elicit(capabilities) {
            return None;
        }
        let issued = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let claims = Claims { form: true, issued };
        match self
            .seal
            .seal_bound(&claims, &binding(credentials), SESSION_TTL)
        {
            // Base64url and dots: visible ASCII, as the spec requires of a session id.
            Ok(sealed) => HeaderValue::from_str(&sealed).ok(),
            Err(error) => {
                tracing::warn!(%error, "could not seal a session id; the client cannot be asked");
                None
            }
        }
    }

    /// The request's session id, when it opens for `credentials` and says the client can be
    /// asked.
    pub(crate) fn can_ask<'a>(
        &self,
        credentials: &Credentials,
        headers: &'a HeaderMap,
    ) -> Option<&'a str> {
        let mut values = headers.get_all(SESSION_ID).iter();
        let (Some(value), None) = (values.next(), values.next()) else {
            return None;
        };
        let session = value.to_str().ok()?;
        match self
            .seal
            .open_bound::<Claims>(session, &binding(credentials))
        {
            Ok(claims) => claims.form.then_some(session),
            Err(error) => {
                // The id itself is not logged: it is the client's to keep.
                tracing::info!(%error, "an Mcp-Session-Id did not open; the client's capabilities are unknown");
                None
            }
        }
    }
}

/// What a session id is bound to: its purpose and the caller.
fn binding(credentials: &Credentials) -> Vec<u8> {
    format!("mcp-actions/session/v1\n{}", credentials.principal()).into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn new_sessions() -> Sessions {
        Sessions::new(RoundSeal::ephemeral(Duration::from_secs(60)))
    }

    fn headers(session: &HeaderValue) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(SESSION_ID, session.clone());
        headers
    }

    #[test]
    fn a_session_opens_for_its_caller_under_its_key_only() {
        let sessions = new_sessions();
        let alice = Credentials::service("alice");
        let form = json!({"elicitation": {"form": {}}});
        let session = sessions.issue(&alice, Some(&form)).unwrap();
        assert!(sessions.can_ask(&alice, &headers(&session)).is_some());
        assert!(
            sessions
                .can_ask(&Credentials::service("bob"), &headers(&session))
                .is_none()
        );
        assert!(new_sessions().can_ask(&alice, &headers(&session)).is_none());
        let mut forged = session.to_str().unwrap().to_owned();
        forged.push('A');
        let forged = HeaderValue::from_str(&forged).unwrap();
        assert!(sessions.can_ask(&alice, &headers(&forged)).is_none());
        let mut twice = headers(&session);
        twice.append(SESSION_ID, session.clone());
        assert!(sessions.can_ask(&alice, &twice).is_none());
    }

    #[test]
    fn only_a_client_that_can_be_asked_gets_a_session() {
        let sessions = new_sessions();
        let alice = Credentials::service("alice");
        assert!(sessions.issue(&alice, None).is_none());
        assert!(sessions.issue(&alice, Some(&json!({}))).is_none());
        let url_only = json!({"elicitation": {"url": {}}});
        assert!(sessions.issue(&alice, Some(&url_only)).is_none());
        let bare = json!({"elicitation": {}});
        assert!(sessions.issue(&alice, Some(&bare)).is_some());
    }
}
