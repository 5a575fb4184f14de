//! Why a JWT is refused: one reason per token, written for the operator (`token verify`, the
//! log) and sent to the client in the 401's body. Never contains the token; values taken from
//! the token (issuer, audience, key id, type) are shortened and stripped of control characters.

use std::fmt;
use std::time::Duration;

/// Why a JWT access token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenRejection {
    /// Not three base64url segments, or a part that does not decode.
    #[error("the token is not a well-formed JWT: {0}")]
    Malformed(String),
    /// Longer than the server accepts.
    #[error("the token is {0} bytes long; at most {max} are accepted", max = super::MAX_TOKEN_BYTES)]
    TooLong(usize),
    /// The header's `typ` is not one of an access token.
    #[error("the token's type `{0}` is not an access token (accepted: JWT, at+jwt)")]
    WrongType(String),
    /// The header has a `crit` list: no extension is understood here.
    #[error("the token's header lists critical extensions this server does not understand: {0}")]
    UnknownCritical(String),
    /// Signed with an algorithm the issuer's entry does not allow.
    #[error("signed with {found}, allowed: {allowed}")]
    DisallowedAlgorithm {
        /// The header's `alg`.
        found: String,
        /// The entry's algorithms.
        allowed: String,
    },
    /// No `iss` claim.
    #[error("the token has no `iss` claim")]
    MissingIssuer,
    /// An `iss` no `type: jwks` entry accepts.
    #[error("issuer {found} is not accepted (accepted: {accepted})")]
    UnknownIssuer {
        /// The token's `iss`.
        found: String,
        /// The configured issuers.
        accepted: String,
    },
    /// No key id, and the key set has more than one key for the algorithm.
    #[error("the token has no `kid` header and the issuer publishes several keys")]
    MissingKeyId,
    /// No published key has the token's `kid` (the key set was refetched if allowed).
    #[error("no key with kid `{0}` is published by the issuer")]
    UnknownKey(String),
    /// The key with the token's `kid` is not usable with its algorithm.
    #[error("the key with kid `{kid}` cannot verify {alg} signatures")]
    KeyMismatch {
        /// The key id.
        kid: String,
        /// The header's `alg`.
        alg: String,
    },
    /// The issuer's keys could not be fetched, and none is cached.
    #[error("the issuer's signing keys are not available: {0}")]
    KeysUnavailable(String),
    /// The signature does not verify with the published key.
    #[error("the signature does not verify")]
    BadSignature,
    /// `exp` is past (beyond the leeway).
    #[error("the token expired {} ago", Ago(*.0))]
    Expired(Duration),
    /// `nbf` is in the future (beyond the leeway).
    #[error("the token is not valid for another {}", Ago(*.0))]
    NotYetValid(Duration),
    /// `iat` is in the future (beyond the leeway).
    #[error("the token was issued in the future (iat is {} ahead)", Ago(*.0))]
    IssuedInFuture(Duration),
    /// A claim that must be present is not.
    #[error("the token has no `{0}` claim")]
    MissingClaim(&'static str),
    /// `aud` names none of the accepted audiences.
    #[error("audience {found} is not this server's (accepted: {accepted})")]
    WrongAudience {
        /// The token's `aud`.
        found: String,
        /// The accepted audiences.
        accepted: String,
    },
    /// A claim has the wrong JSON type.
    #[error("the token's claims are not valid: {0}")]
    BadClaims(String),
    /// A Backstage plugin token from a plugin that `discovery.endpoints` does not list: where
    /// its keys are is unknown, so it is not trusted.
    #[error("plugin `{0}` is not listed in `discovery.endpoints`, so its signing keys are unknown")]
    UnknownCaller(String),
    /// Not the kind of Backstage token expected here (a Backstage plugin token, or in its
    /// `obo` claim a user token).
    #[error("the token's type is {found}, not {expected}")]
    NotBackstageToken {
        /// The token's `typ` (shortened), or `(none)`.
        found: String,
        /// The accepted types.
        expected: String,
    },
}

/// A duration as an operator reads it: `42 s`, `3 min`, `2 h 5 min`, `3 days`.
struct Ago(Duration);

impl fmt::Display for Ago {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0.as_secs();
        match s {
            0..60 => write!(f, "{s} s"),
            60..3600 => write!(f, "{} min", s / 60),
            3600..86400 => match (s / 3600, (s % 3600) / 60) {
                (h, 0) => write!(f, "{h} h"),
                (h, m) => write!(f, "{h} h {m} min"),
            },
            _ => write!(f, "{} days", s / 86400),
        }
    }
}

/// A value from the token, safe to show: at most 100 characters, no control characters.
pub(crate) fn shown(value: &str) -> String {
    let mut out: String = value
        .chars()
        .filter(|c| !c.is_control())
        .take(100)
        .collect();
    if value.chars().count() > 100 {
        out.push('…');
    }
    out
}

/// A list of values, comma-separated.
pub(crate) fn listed<S: AsRef<str>>(values: &[S]) -> String {
    values
        .iter()
        .map(|v| shown(v.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        let expired = |s| TokenRejection::Expired(Duration::from_secs(s)).to_string();
        assert_eq!(expired(42), "the token expired 42 s ago");
        assert_eq!(expired(185), "the token expired 3 min ago");
        assert_eq!(expired(7500), "the token expired 2 h 5 min ago");
        assert_eq!(expired(3 * 86400 + 5), "the token expired 3 days ago");
    }

    #[test]
    fn token_values_are_shortened_and_cleaned() {
        assert_eq!(shown("a\nb\u{7}c"), "abc");
        let long = "x".repeat(300);
        assert_eq!(shown(&long).chars().count(), 101);
    }
}
