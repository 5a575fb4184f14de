//! An issuer's signing keys: fetched from its JWKS (found through OpenID Connect discovery or
//! RFC 8414 metadata when no URL is configured), cached, refreshed.
//!
//! - A fetch is bounded: 3 s to connect, 5 s in all, at most 3 redirects, at most
//!   [`MAX_BODY_BYTES`] of body (a larger one is cut off, never buffered), http(s) only.
//! - Keys are fresh for the answer's `Cache-Control: max-age`, kept within 1 min … 1 day
//!   (5 min without one); a stale set is refreshed in the background while it keeps serving.
//! - A token with an unknown `kid` triggers a refetch, at most once per `min_refetch` interval
//!   (10 s by default) and single-flight: a burst of forged key ids causes one fetch, and the
//!   requests of an outage get their 401 at once instead of each waiting on the provider.
//! - A failed fetch keeps the keys already known; it is logged once per attempt, so at most once
//!   per interval, never per request.
//! - Only asymmetric signing keys are kept: an `oct` (HMAC) key, a key with `use: enc`, or one
//!   that does not parse is skipped.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey};
use serde::Deserialize;
use tokio::sync::Mutex;

use super::rejection::{TokenRejection, shown};

/// The largest JWKS or metadata document read.
pub(crate) const MAX_BODY_BYTES: usize = 1024 * 1024;
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
pub(crate) const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
const MIN_MAX_AGE: Duration = Duration::from_secs(60);
const MAX_MAX_AGE: Duration = Duration::from_secs(86_400);
const DEFAULT_MAX_AGE: Duration = Duration::from_secs(300);

/// One usable key.
pub(crate) struct Key {
    pub(crate) kid: Option<String>,
    /// The JWK's `alg`, when it names one.
    alg: Option<Algorithm>,
    family: AlgorithmFamily,
    pub(crate) key: DecodingKey,
}

impl Key {
    fn verifies(&self, alg: Algorithm) -> bool {
        self.family == alg.family() && self.alg.is_none_or(|a| a == alg)
    }
}

/// The keys of one fetch.
#[derive(Default)]
struct KeySet {
    keys: Vec<Arc<Key>>,
    /// When they were fetched; `None`: never.
    fetched: Option<Instant>,
    max_age: Duration,
}

impl KeySet {
    fn is_stale(&self) -> bool {
        self.fetched.is_none_or(|at| at.elapsed() >= self.max_age)
    }

    fn find(&self, kid: Option<&str>, alg: Algorithm) -> Lookup {
        match kid {
            Some(kid) => match self.keys.iter().find(|k| k.kid.as_deref() == Some(kid)) {
                Some(key) if key.verifies(alg) => Lookup::Found(Arc::clone(key)),
                Some(_) => Lookup::Mismatch,
                None => Lookup::Unknown,
            },
            None => {
                let mut usable = self.keys.iter().filter(|k| k.verifies(alg));
                match (usable.next(), usable.next()) {
                    (Some(key), None) => Lookup::Found(Arc::clone(key)),
                    (Some(_), Some(_)) => Lookup::Ambiguous,
                    (None, _) => Lookup::Unknown,
                }
            }
        }
    }

    fn kids(&self) -> Vec<Option<String>> {
        self.keys.iter().map(|k| k.kid.clone()).collect()
    }
}

enum Lookup {
    Found(Arc<Key>),
    Unknown,
    Mismatch,
    Ambiguous,
}

/// Where the keys come from.
#[derive(Debug, Clone)]
pub(crate) enum KeySource {
    /// A configured JWKS URL.
    Url(String),
    /// The `jwks_uri` of this issuer's metadata.
    Discovery(String),
}

struct FetchState {
    last_attempt: Option<Instant>,
    /// The `jwks_uri` found through discovery.
    discovered: Option<String>,
}

/// One issuer's keys.
pub(crate) struct IssuerKeys {
    source: KeySource,
    client: reqwest::Client,
    min_refetch: Duration,
    current: RwLock<Arc<KeySet>>,
    fetch: Mutex<FetchState>,
    /// Why the last fetch failed, if it did.
    last_error: std::sync::Mutex<Option<String>>,
    /// When a background refresh of stale keys was last started, in milliseconds after
    /// `created` plus one (0: never): read without a lock by every cached-token request, so
    /// that stale keys during an outage start one refresh per `min_refetch`, not one per
    /// request.
    refresh_started_ms: std::sync::atomic::AtomicU64,
    created: Instant,
    /// Where fetches are counted, once the server has set it.
    metrics: Arc<std::sync::OnceLock<Arc<crate::telemetry::Metrics>>>,
}

/// What a refetch changed.
pub(crate) struct Refetched {
    /// A key that was published before is not any more.
    pub(crate) removed_keys: bool,
}

impl IssuerKeys {
    pub(crate) fn new(
        source: KeySource,
        client: reqwest::Client,
        min_refetch: Duration,
        metrics: Arc<std::sync::OnceLock<Arc<crate::telemetry::Metrics>>>,
    ) -> Self {
        Self {
            source,
            client,
            min_refetch,
            current: RwLock::new(Arc::new(KeySet::default())),
            fetch: Mutex::new(FetchState {
                last_attempt: None,
                discovered: None,
            }),
            last_error: std::sync::Mutex::new(None),
            refresh_started_ms: std::sync::atomic::AtomicU64::new(0),
            created: Instant::now(),
            metrics,
        }
    }

    fn snapshot(&self) -> Arc<KeySet> {
        Arc::clone(&self.current.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Whether any key was ever fetched.
    pub(crate) fn has_keys(&self) -> bool {
        self.snapshot().fetched.is_some()
    }

    /// Whether the keys are due for a refresh (never fetched, or older than their max-age).
    pub(crate) fn is_stale(&self) -> bool {
        self.snapshot().is_stale()
    }

    /// Whether the caller should start a background refresh now: the keys are stale and no
    /// refresh was started in the last `min_refetch` (a refetch would not fetch before then
    /// anyway). `true` for one caller at a time.
    pub(crate) fn claim_stale_refresh(&self) -> bool {
        use std::sync::atomic::Ordering::Relaxed;
        if !self.is_stale() {
            return false;
        }
        let now = u64::try_from(self.created.elapsed().as_millis())
            .unwrap_or(u64::MAX - 1)
            .saturating_add(1);
        let started = self.refresh_started_ms.load(Relaxed);
        let interval = u64::try_from(self.min_refetch.as_millis()).unwrap_or(u64::MAX);
        if started != 0 && now.saturating_sub(started) < interval {
            return false;
        }
        self.refresh_started_ms
            .compare_exchange(started, now, Relaxed, Relaxed)
            .is_ok()
    }

    /// The key for a token's `kid` and `alg`; an unknown `kid` refetches the set when allowed.
    /// `on_refetch` learns what a refetch changed.
    pub(crate) async fn key_for(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
        on_refetch: impl FnOnce(&Refetched),
    ) -> Result<Arc<Key>, TokenRejection> {
        let mut on_refetch = Some(on_refetch);
        for attempt in 0..2 {
            let keys = self.snapshot();
            let unknown = match keys.find(kid, alg) {
                Lookup::Found(key) => return Ok(key),
                Lookup::Mismatch => {
                    return Err(TokenRejection::KeyMismatch {
                        kid: shown(kid.unwrap_or_default()),
                        alg: format!("{alg:?}"),
                    });
                }
                Lookup::Ambiguous => return Err(TokenRejection::MissingKeyId),
                Lookup::Unknown => match kid {
                    Some(kid) => TokenRejection::UnknownKey(shown(kid)),
                    None => TokenRejection::MissingKeyId,
                },
            };
            if attempt == 1 {
                if keys.fetched.is_none() {
                    let error = self
                        .last_error
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .clone();
                    return Err(TokenRejection::KeysUnavailable(
                        error.unwrap_or_else(|| "they have not been fetched yet".to_owned()),
                    ));
                }
                return Err(unknown);
            }
            if let Ok(Some(changed)) = self.refetch(false).await
                && let Some(f) = on_refetch.take()
            {
                f(&changed)
            }
        }
        unreachable!("the loop returns on its second pass")
    }

    /// Fetches the key set, unless a fetch was attempted within the minimum interval (then
    /// `Ok(None)` once the attempt in progress, if any, is done). `background` skips the fetch
    /// when another is already in progress instead of waiting for it.
    pub(crate) async fn refetch(&self, background: bool) -> Result<Option<Refetched>, String> {
        let mut state = if background {
            match self.fetch.try_lock() {
                Ok(state) => state,
                Err(_) => return Ok(None),
            }
        } else {
            self.fetch.lock().await
        };
        if state
            .last_attempt
            .is_some_and(|at| at.elapsed() < self.min_refetch)
        {
            return Ok(None);
        }
        state.last_attempt = Some(Instant::now());
        let result = self.fetch_keys(&mut state).await;
        if let Some(metrics) = self.metrics.get() {
            metrics.jwks_fetch(result.is_ok());
        }
        match result {
            Ok(fresh) => {
                let before = self.snapshot().kids();
                let after = fresh.kids();
                let removed_keys = before.iter().any(|kid| !after.contains(kid));
                tracing::debug!(
                    target: "mcp_actions_server::jwks",
                    source = ?self.source,
                    keys = fresh.keys.len(),
                    max_age_s = fresh.max_age.as_secs(),
                    "fetched the issuer's signing keys"
                );
                *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(fresh);
                *self.last_error.lock().unwrap_or_else(|e| e.into_inner()) = None;
                Ok(Some(Refetched { removed_keys }))
            }
            Err(error) => {
                tracing::warn!(
                    target: "mcp_actions_server::jwks",
                    source = ?self.source,
                    error = %error,
                    retry_after_s = self.min_refetch.as_secs(),
                    "could not fetch the issuer's signing keys; keeping the keys already known"
                );
                *self.last_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(error.clone());
                Err(error)
            }
        }
    }

    async fn fetch_keys(&self, state: &mut FetchState) -> Result<KeySet, String> {
        let url = match (&self.source, &state.discovered) {
            (KeySource::Url(url), _) => url.clone(),
            (KeySource::Discovery(_), Some(url)) => url.clone(),
            (KeySource::Discovery(issuer), None) => {
                let url = self.discover(issuer).await?;
                state.discovered = Some(url.clone());
                url
            }
        };
        let (body, max_age) = fetch(&self.client, &url).await?;
        let keys = parse_jwks(&body).map_err(|e| format!("{url}: {e}"))?;
        Ok(KeySet {
            keys,
            fetched: Some(Instant::now()),
            max_age,
        })
    }

    /// The `jwks_uri` of `issuer`'s OpenID Connect discovery document, or of its RFC 8414
    /// metadata; the document's `issuer` must be `issuer` exactly.
    async fn discover(&self, issuer: &str) -> Result<String, String> {
        #[derive(Deserialize)]
        struct Metadata {
            issuer: Option<String>,
            jwks_uri: Option<String>,
        }
        let mut errors = Vec::new();
        for url in metadata_urls(issuer) {
            let body = match fetch(&self.client, &url).await {
                Ok((body, _)) => body,
                Err(error) => {
                    errors.push(error);
                    continue;
                }
            };
            let metadata: Metadata = match serde_json::from_slice(&body) {
                Ok(metadata) => metadata,
                Err(e) => {
                    errors.push(format!("{url}: not a metadata document: {e}"));
                    continue;
                }
            };
            if metadata.issuer.as_deref() != Some(issuer) {
                errors.push(format!(
                    "{url}: its issuer is {:?}, not {issuer}",
                    metadata.issuer.as_deref().map(shown).unwrap_or_default()
                ));
                continue;
            }
            match metadata.jwks_uri {
                Some(jwks) if jwks.starts_with("https://") || jwks.starts_with("http://") => {
                    return Ok(jwks);
                }
                _ => errors.push(format!("{url}: no http(s) `jwks_uri`")),
            }
        }
        Err(format!(
            "no JWKS URL configured and none found through discovery ({})",
            errors.join("; ")
        ))
    }
}

/// Where `issuer`'s metadata may be: OpenID Connect discovery, then RFC 8414.
fn metadata_urls(issuer: &str) -> Vec<String> {
    let trimmed = issuer.trim_end_matches('/');
    let mut urls = vec![format!("{trimmed}/.well-known/openid-configuration")];
    if let Ok(uri) = issuer.parse::<http::Uri>()
        && let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority())
    {
        let path = uri.path().trim_end_matches('/');
        urls.push(format!(
            "{scheme}://{authority}/.well-known/oauth-authorization-server{path}"
        ));
    }
    urls
}

/// GETs `url`: its body (at most [`MAX_BODY_BYTES`]) and how long it may be cached.
async fn fetch(client: &reqwest::Client, url: &str) -> Result<(Vec<u8>, Duration), String> {
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(format!("{url}: only http and https URLs are fetched"));
    }
    let mut response = client
        .get(url)
        .header(http::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| format!("{url}: {}", without_url(&e)))?;
    if !response.status().is_success() {
        return Err(format!("{url}: answered {}", response.status()));
    }
    if response
        .content_length()
        .is_some_and(|n| n > MAX_BODY_BYTES as u64)
    {
        return Err(format!(
            "{url}: the body is larger than {MAX_BODY_BYTES} bytes"
        ));
    }
    let max_age = max_age(response.headers());
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| format!("{url}: {}", without_url(&e)))?
    {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(format!(
                "{url}: the body is larger than {MAX_BODY_BYTES} bytes"
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, max_age))
}

/// A reqwest error in a few words and its root cause, without the URL it repeats.
fn without_url(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else if error.is_redirect() {
        "too many redirects"
    } else if error.is_body() || error.is_decode() {
        "the body could not be read"
    } else {
        "the request failed"
    };
    let mut root = None;
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        root = Some(cause.to_string());
        source = cause.source();
    }
    match root {
        Some(cause) => format!("{kind} ({cause})"),
        None => kind.to_owned(),
    }
}

/// `Cache-Control: max-age` within bounds; the default without one.
fn max_age(headers: &http::HeaderMap) -> Duration {
    let seconds = headers
        .get_all(http::header::CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|directive| {
            let (name, value) = directive.trim().split_once('=')?;
            name.eq_ignore_ascii_case("max-age")
                .then(|| value.trim().parse::<u64>().ok())
                .flatten()
        });
    seconds.map_or(DEFAULT_MAX_AGE, |s| {
        Duration::from_secs(s).clamp(MIN_MAX_AGE, MAX_MAX_AGE)
    })
}

/// The usable signing keys of a JWKS document.
fn parse_jwks(body: &[u8]) -> Result<Vec<Arc<Key>>, String> {
    #[derive(Deserialize)]
    struct Document {
        keys: Vec<serde_json::Value>,
    }
    let document: Document =
        serde_json::from_slice(body).map_err(|e| format!("not a JSON Web Key Set ({e})"))?;
    let mut keys = Vec::new();
    for value in document.keys {
        let Ok(jwk) = serde_json::from_value::<Jwk>(value) else {
            continue;
        };
        if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
            continue;
        }
        let family = match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => AlgorithmFamily::Rsa,
            AlgorithmParameters::EllipticCurve(_) => AlgorithmFamily::Ec,
            AlgorithmParameters::OctetKeyPair(_) => AlgorithmFamily::Ed,
            // Symmetric keys are never used to verify: a token "signed" with HMAC and a
            // public key as its secret is the classic algorithm-confusion forgery.
            _ => continue,
        };
        let alg = jwk
            .common
            .key_algorithm
            .and_then(|a| a.to_string().parse::<Algorithm>().ok());
        let Ok(key) = DecodingKey::from_jwk(&jwk) else {
            continue;
        };
        keys.push(Arc::new(Key {
            kid: jwk.common.key_id.clone(),
            alg,
            family,
            key,
        }));
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_age_is_bounded() {
        let headers = |value: &'static str| {
            let mut h = http::HeaderMap::new();
            h.insert(
                http::header::CACHE_CONTROL,
                http::HeaderValue::from_static(value),
            );
            h
        };
        assert_eq!(max_age(&http::HeaderMap::new()), DEFAULT_MAX_AGE);
        assert_eq!(
            max_age(&headers("public, max-age=600")),
            Duration::from_secs(600)
        );
        assert_eq!(max_age(&headers("max-age=1")), MIN_MAX_AGE);
        assert_eq!(max_age(&headers("max-age=99999999")), MAX_MAX_AGE);
        assert_eq!(max_age(&headers("no-cache")), DEFAULT_MAX_AGE);
    }

    #[test]
    fn stale_keys_start_one_background_refresh_per_interval() {
        let keys = IssuerKeys::new(
            KeySource::Url("http://127.0.0.1:9/jwks.json".into()),
            reqwest::Client::new(),
            Duration::from_secs(3600),
            Arc::default(),
        );
        // Never fetched: stale. The first caller (at the first millisecond too) may start a
        // refresh; every other caller within the interval may not.
        assert!(keys.is_stale());
        assert!(keys.claim_stale_refresh());
        for _ in 0..1000 {
            assert!(!keys.claim_stale_refresh());
        }
        let quick = IssuerKeys::new(
            KeySource::Url("http://127.0.0.1:9/jwks.json".into()),
            reqwest::Client::new(),
            Duration::ZERO,
            Arc::default(),
        );
        assert!(quick.claim_stale_refresh());
        assert!(
            quick.claim_stale_refresh(),
            "no interval: every call may refresh"
        );
    }

    #[test]
    fn metadata_urls_follow_both_specs() {
        assert_eq!(
            metadata_urls("https://idp.example.com/realms/acme"),
            [
                "https://idp.example.com/realms/acme/.well-known/openid-configuration",
                "https://idp.example.com/.well-known/oauth-authorization-server/realms/acme",
            ]
        );
        assert_eq!(
            metadata_urls("http://127.0.0.1:4000/"),
            [
                "http://127.0.0.1:4000/.well-known/openid-configuration",
                "http://127.0.0.1:4000/.well-known/oauth-authorization-server",
            ]
        );
    }

    #[test]
    fn only_asymmetric_signing_keys_are_kept() {
        let jwks = serde_json::json!({ "keys": [
            { "kty": "oct", "kid": "hmac", "k": "c2VjcmV0" },
            { "kty": "EC", "kid": "ec", "crv": "P-256", "alg": "ES256",
              "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
              "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0" },
            { "kty": "EC", "kid": "enc", "use": "enc", "crv": "P-256",
              "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
              "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0" },
            { "kty": "nonsense" }
        ]});
        let keys = parse_jwks(jwks.to_string().as_bytes()).unwrap();
        let kids: Vec<_> = keys.iter().map(|k| k.kid.clone().unwrap()).collect();
        assert_eq!(kids, ["ec"]);
        assert!(keys[0].verifies(Algorithm::ES256));
        assert!(!keys[0].verifies(Algorithm::ES384));
        assert!(!keys[0].verifies(Algorithm::RS256));
        assert!(parse_jwks(b"<html>").is_err());
    }
}
