//! [`TestIdp`]: a small identity provider on loopback for JWT tests that need control a real
//! provider does not give — signing with keys it never published, forging headers, a JWKS
//! endpoint that is down, slow, garbage or enormous, and a count of its fetches. The tests
//! against a real provider (`oidc-provider`) are in the interop suite.
//!
//! It serves `/.well-known/openid-configuration` (issuer = its base URL) and `/jwks`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::server::TestServer;

/// How the JWKS endpoint answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwksMode {
    /// The published keys.
    Normal,
    /// 503.
    Down,
    /// After 30 s (longer than any fetch timeout).
    Slow,
    /// `<html>` with status 200.
    Garbage,
    /// A 5 MB JSON body.
    Huge,
}

/// A signing key.
#[derive(Clone)]
pub struct SigningKey {
    /// Its `kid`.
    pub kid: String,
    encoding: EncodingKey,
    jwk: Value,
}

impl SigningKey {
    /// A new ES256 key.
    pub fn generate(kid: &str) -> Self {
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .expect("generate a P-256 key");
        let encoding = EncodingKey::from_ec_der(pkcs8.as_ref());
        let mut jwk = serde_json::to_value(
            Jwk::from_encoding_key(&encoding, Algorithm::ES256).expect("the public JWK"),
        )
        .expect("JWK as JSON");
        jwk["kid"] = json!(kid);
        jwk["use"] = json!("sig");
        Self {
            kid: kid.to_owned(),
            encoding,
            jwk,
        }
    }

    /// The public key as a JWK.
    pub fn jwk(&self) -> &Value {
        &self.jwk
    }
}

struct IdpState {
    published: Mutex<Vec<SigningKey>>,
    mode: Mutex<JwksMode>,
    fetches: AtomicUsize,
    issuer: Mutex<String>,
}

/// The provider. Stops when dropped.
pub struct TestIdp {
    /// Its issuer: `http://127.0.0.1:<port>`.
    pub issuer: String,
    /// `<issuer>/jwks`.
    pub jwks_url: String,
    state: Arc<IdpState>,
    _server: TestServer,
}

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

impl TestIdp {
    /// Starts a provider publishing one ES256 key, `key-1`.
    pub async fn start() -> Self {
        let state = Arc::new(IdpState {
            published: Mutex::new(vec![SigningKey::generate("key-1")]),
            mode: Mutex::new(JwksMode::Normal),
            fetches: AtomicUsize::new(0),
            issuer: Mutex::new(String::new()),
        });
        let router = Router::new()
            .route("/jwks", get(jwks))
            .route("/.well-known/openid-configuration", get(discovery))
            .with_state(Arc::clone(&state));
        let server = TestServer::serve_router(router, CancellationToken::new()).await;
        let issuer = server.base_url.clone();
        *state.issuer.lock().unwrap() = issuer.clone();
        Self {
            jwks_url: format!("{issuer}/jwks"),
            issuer,
            state,
            _server: server,
        }
    }

    /// The key new tokens are signed with (the last published).
    pub fn current_key(&self) -> SigningKey {
        self.state
            .published
            .lock()
            .unwrap()
            .last()
            .cloned()
            .unwrap()
    }

    /// Publishes a new key and signs with it from now on; the old ones stay published.
    pub fn rotate(&self, kid: &str) -> SigningKey {
        let key = SigningKey::generate(kid);
        self.state.published.lock().unwrap().push(key.clone());
        key
    }

    /// Publishes only the current key.
    pub fn retire_old_keys(&self) {
        let mut published = self.state.published.lock().unwrap();
        let last = published.pop().unwrap();
        *published = vec![last];
    }

    /// How the JWKS endpoint answers from now on.
    pub fn set_mode(&self, mode: JwksMode) {
        *self.state.mode.lock().unwrap() = mode;
    }

    /// How many times the JWKS was requested.
    pub fn fetches(&self) -> usize {
        self.state.fetches.load(Ordering::SeqCst)
    }

    /// Claims of a valid token for `audience`, with `scope`, for the service `sub`, valid 5 min.
    pub fn claims(&self, audience: &str, scope: &str) -> Value {
        json!({
            "iss": self.issuer,
            "sub": "svc-client",
            "aud": audience,
            "scope": scope,
            "iat": now(),
            "exp": now() + 300,
        })
    }

    /// `claims` signed with the current key (ES256, its `kid`, `typ: at+jwt`).
    pub fn token(&self, claims: &Value) -> String {
        sign(&self.current_key(), claims)
    }
}

/// `claims` signed with `key` (ES256, its `kid`, `typ: at+jwt`).
pub fn sign(key: &SigningKey, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(key.kid.clone());
    header.typ = Some("at+jwt".to_owned());
    sign_with_header(key, &header, claims)
}

/// `claims` signed with `key` under `header` as given.
pub fn sign_with_header(key: &SigningKey, header: &Header, claims: &Value) -> String {
    jsonwebtoken::encode(header, claims, &key.encoding).expect("sign a token")
}

/// A token built by hand: `header` and `claims` as JSON, then `signature` (base64url) — for
/// forgeries no library would produce (`alg: none`, HMAC with the public key…).
pub fn forge(header: &Value, claims: &Value, signature: &[u8]) -> String {
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    format!(
        "{}.{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes()),
        b64(signature)
    )
}

/// The signing input of `token` (header.payload) and its signature, to tamper with.
pub fn split(token: &str) -> (&str, &str) {
    token.rsplit_once('.').expect("a JWT")
}

async fn jwks(State(state): State<Arc<IdpState>>) -> Response {
    state.fetches.fetch_add(1, Ordering::SeqCst);
    let mode = *state.mode.lock().unwrap();
    match mode {
        JwksMode::Normal => {
            let keys: Vec<Value> = state
                .published
                .lock()
                .unwrap()
                .iter()
                .map(|k| k.jwk.clone())
                .collect();
            axum::Json(json!({ "keys": keys })).into_response()
        }
        JwksMode::Down => axum::http::StatusCode::SERVICE_UNAVAILABLE.into_response(),
        JwksMode::Slow => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            axum::Json(json!({ "keys": [] })).into_response()
        }
        JwksMode::Garbage => "<html>maintenance</html>".into_response(),
        JwksMode::Huge => {
            let filler = "x".repeat(5 * 1024 * 1024);
            let body = format!("{{\"keys\":[],\"filler\":\"{filler}\"}}");
            Response::builder()
                .header("content-type", "application/json")
                .body(Body::from(body))
                .unwrap()
        }
    }
}

async fn discovery(State(state): State<Arc<IdpState>>) -> Response {
    let issuer = state.issuer.lock().unwrap().clone();
    axum::Json(json!({ "issuer": issuer, "jwks_uri": format!("{issuer}/jwks") })).into_response()
}
