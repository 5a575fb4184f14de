//! [`JwtIssuer`]: one identity provider whose tokens are accepted (a `type: jwks` entry), and
//! what a verified token's claims make of its caller.

use std::time::Duration;

use jsonwebtoken::Algorithm;
use mcp_actions::{AccessRestriction, Credentials};
use serde_json::{Map, Value};

use super::{ASYMMETRIC_ALGORITHMS, DEFAULT_LEEWAY, DEFAULT_MIN_REFETCH, TokenRejection};

/// One identity provider whose JWT access tokens are accepted (one `type: jwks` entry).
#[derive(Debug, Clone)]
pub struct JwtIssuer {
    pub(super) issuers: Vec<String>,
    pub(super) jwks_url: Option<String>,
    pub(super) audiences: Vec<String>,
    pub(super) algorithms: Vec<Algorithm>,
    pub(super) subject_prefix: Option<String>,
    pub(super) user_claim: Option<String>,
    pub(super) leeway: Duration,
    pub(super) min_refetch: Duration,
    pub(super) restrictions: Option<Vec<AccessRestriction>>,
}

impl JwtIssuer {
    /// Tokens whose `iss` is `issuer`, exactly. Set the [`audiences`](Self::audiences) too:
    /// [`JwtAuthenticator::new`](super::JwtAuthenticator::new) refuses an issuer without any.
    pub fn new(issuer: impl Into<String>) -> Self {
        Self {
            issuers: vec![issuer.into()],
            jwks_url: None,
            audiences: Vec::new(),
            algorithms: ASYMMETRIC_ALGORITHMS.to_vec(),
            subject_prefix: None,
            user_claim: None,
            leeway: DEFAULT_LEEWAY,
            min_refetch: DEFAULT_MIN_REFETCH,
            restrictions: None,
        }
    }

    /// Accepts tokens of this issuer too (the same keys sign them).
    pub fn also_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuers.push(issuer.into());
        self
    }

    /// The JWKS URL; without one, the `jwks_uri` of the issuer's OpenID Connect discovery or
    /// RFC 8414 metadata.
    pub fn jwks_url(mut self, url: impl Into<String>) -> Self {
        self.jwks_url = Some(url.into());
        self
    }

    /// The accepted `aud` values: a token must name one of them (this server's resource URL,
    /// as RFC 8707 resource indicators make the provider put it).
    pub fn audiences<I, S>(mut self, audiences: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.audiences = audiences.into_iter().map(Into::into).collect();
        self
    }

    /// The accepted signing algorithms (default: [`ASYMMETRIC_ALGORITHMS`]); HMAC algorithms
    /// are dropped from the list, since a JWKS never holds a shared secret for them.
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms = algorithms
            .into_iter()
            .filter(|a| ASYMMETRIC_ALGORITHMS.contains(a))
            .collect();
        self
    }

    /// A caller without the user claim is the service `external:<prefix>:<sub>`.
    pub fn subject_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.subject_prefix = Some(prefix.into());
        self
    }

    /// When the token has this claim, the caller is a user: `user:default/<value>`, or the
    /// value itself when it is already a user entity ref (`user:default/jane`).
    pub fn user_claim(mut self, claim: impl Into<String>) -> Self {
        self.user_claim = Some(claim.into());
        self
    }

    /// The clock-skew leeway for `exp`, `nbf` and `iat` (default 60 s).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// The shortest interval between two fetches of the keys when tokens name an unknown key
    /// id (default 10 s).
    pub fn min_refetch_interval(mut self, interval: Duration) -> Self {
        self.min_refetch = interval;
        self
    }

    /// What callers with these tokens may reach (Backstage's `accessRestrictions`).
    pub fn access_restrictions(
        mut self,
        restrictions: impl IntoIterator<Item = AccessRestriction>,
    ) -> Self {
        self.restrictions = Some(restrictions.into_iter().collect());
        self
    }

    /// The issuer of a `type: jwks` entry (its audiences may be empty: this server's URLs).
    pub(crate) fn from_config(entry: &crate::config::ExternalAccessConfig) -> Self {
        let o = &entry.options;
        let issuers = o.issuer.as_ref().map(|i| i.0.clone()).unwrap_or_default();
        let mut issuer = Self::new(String::new());
        issuer.issuers = issuers;
        issuer.jwks_url = o.url.clone();
        issuer.audiences = o.audience.as_ref().map(|a| a.0.clone()).unwrap_or_default();
        if let Some(names) = &o.algorithm {
            // Validated by `config check`: every name is one of ASYMMETRIC_ALGORITHMS.
            issuer.algorithms = names
                .0
                .iter()
                .filter_map(|name| name.parse::<Algorithm>().ok())
                .filter(|a| ASYMMETRIC_ALGORITHMS.contains(a))
                .collect();
        }
        issuer.subject_prefix = o.subject_prefix.clone();
        issuer.user_claim = o.user_claim.clone();
        if let Some(seconds) = o.leeway_seconds {
            issuer.leeway = Duration::from_secs(seconds);
        }
        issuer.restrictions = entry.access_restrictions.as_ref().map(|rs| {
            rs.iter()
                .map(crate::config::AccessRestrictionConfig::restriction)
                .collect()
        });
        issuer
    }

    /// The issuers accepted.
    pub fn issuers(&self) -> &[String] {
        &self.issuers
    }

    /// The credentials of a verified token's claims.
    pub(super) fn credentials(
        &self,
        claims: &Map<String, Value>,
    ) -> Result<Credentials, TokenRejection> {
        let user = self
            .user_claim
            .as_deref()
            .and_then(|claim| claims.get(claim))
            .and_then(Value::as_str)
            .filter(|value| !value.is_empty());
        let credentials = match user {
            Some(value) if value.starts_with("user:") && value.contains('/') => {
                Credentials::user(value)
            }
            Some(value) => Credentials::user(format!("user:default/{value}")),
            None => {
                let sub = claims
                    .get("sub")
                    .and_then(Value::as_str)
                    .filter(|sub| !sub.is_empty())
                    .ok_or(TokenRejection::MissingClaim("sub"))?;
                match &self.subject_prefix {
                    Some(prefix) => Credentials::service(format!("external:{prefix}:{sub}")),
                    None => Credentials::service(format!("external:{sub}")),
                }
            }
        };
        let credentials = credentials.with_scopes(scopes(claims));
        Ok(match &self.restrictions {
            Some(restrictions) => credentials.with_restrictions(restrictions.iter().cloned()),
            None => credentials,
        })
    }
}

/// The scopes of a token: `scope` (space-separated) and `scp` (an array, or a space-separated
/// string as Entra ID sends it).
pub(super) fn scopes(claims: &Map<String, Value>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |scope: &str| {
        if !scope.is_empty() && !out.iter().any(|s| s == scope) {
            out.push(scope.to_owned());
        }
    };
    for claim in ["scope", "scp"] {
        match claims.get(claim) {
            Some(Value::String(text)) => text.split(' ').for_each(&mut add),
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).for_each(&mut add),
            _ => {}
        }
    }
    out
}
