//! JWT access tokens (`type: jwks`) over real HTTP, with the test identity provider of
//! `support/idp.rs`: who the caller becomes, scopes (403 `insufficient_scope`, hidden tools,
//! step-up), the challenges and metadata, key rotation, the attack list, and JWKS outages.
//! The same against a real provider (`oidc-provider`) and the official SDKs' OAuth clients is
//! in the interop suite.

use std::time::Duration;

use jsonwebtoken::{Algorithm, Header};
use mcp_actions_server::ActionsServer;
use mcp_actions_tests::idp::{
    JwksMode, SigningKey, TestIdp, forge, now, sign, sign_with_header, split,
};
use mcp_actions_tests::prelude::*;
use serde_json::{Value, json};

/// A static token next to the JWTs.
const STATIC_TOKEN: &str = "static-token-for-ci";

fn jwt_config(idp: &TestIdp, extra_options: &str) -> String {
    format!(
        r#"
backend:
  auth:
    externalAccess:
      - type: static
        options: {{ token: {STATIC_TOKEN}, subject: ci }}
      - type: jwks
        options:
          url: {jwks}
          issuer: {issuer}
          subjectPrefix: acme
          userClaim: preferred_username
          {extra_options}
mcpActions:
  auth:
    requiredScopes: [mcp]
    actionScopes:
      - {{ id: 'e2e:*', attributes: {{ readOnly: false }}, scopes: [e2e.write] }}
"#,
        jwks = idp.jwks_url,
        issuer = idp.issuer,
    )
}

async fn jwt_server(idp: &TestIdp) -> TestServer {
    serve_config(&jwt_config(idp, "")).await
}

async fn serve_config(yaml: &str) -> TestServer {
    TestServer::start(
        ActionsServer::builder()
            .config(config(yaml))
            .registry(registry(&["e2e"])),
    )
    .await
}

async fn whoami(server: &TestServer, token: &str) -> Reply {
    post(
        &server.endpoint,
        Some(token),
        &call_request(1, "e2e_whoami", json!({})),
    )
    .await
}

fn principal(reply: &Reply) -> String {
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()["result"]["structuredContent"]["principal"]
        .as_str()
        .unwrap_or_else(|| panic!("no principal in {}", reply.body))
        .to_owned()
}

#[tokio::test]
async fn a_jwt_makes_the_caller_a_service_or_a_user_and_static_tokens_keep_working() {
    let idp = TestIdp::start().await;
    let server = jwt_server(&idp).await;
    let mut claims = idp.claims(&server.endpoint, "mcp");
    assert_eq!(
        principal(&whoami(&server, &idp.token(&claims)).await),
        "service:external:acme:svc-client"
    );
    claims["preferred_username"] = json!("jane");
    assert_eq!(
        principal(&whoami(&server, &idp.token(&claims)).await),
        "user:default/jane"
    );
    // Backstage's user tokens carry an entity ref: used as it is.
    claims["preferred_username"] = json!("user:development/guest");
    assert_eq!(
        principal(&whoami(&server, &idp.token(&claims)).await),
        "user:development/guest"
    );
    assert_eq!(
        principal(&whoami(&server, STATIC_TOKEN).await),
        "service:ci"
    );
}

#[tokio::test]
async fn challenges_and_metadata_name_the_provider_and_the_scopes() {
    let idp = TestIdp::start().await;
    let server = jwt_server(&idp).await;
    let metadata_url = format!(
        "{}/.well-known/oauth-protected-resource/api/mcp-actions/v1",
        server.base_url
    );
    let reply = post(&server.endpoint, None, &rpc(1, "tools/list", None)).await;
    assert_eq!(reply.status, 401);
    assert_eq!(
        reply.header("www-authenticate").unwrap(),
        format!("Bearer scope=\"mcp\", resource_metadata=\"{metadata_url}\"")
    );
    let metadata: Value = reqwest::get(&metadata_url)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        metadata,
        json!({
            "resource": server.endpoint,
            "authorization_servers": [idp.issuer],
            "scopes_supported": ["mcp", "e2e.write"],
            "bearer_methods_supported": ["header"],
            "resource_name": "mcp-actions",
        })
    );
    // A valid token without `mcp`: 403, naming every scope needed.
    let token = idp.token(&idp.claims(&server.endpoint, "e2e.write"));
    let reply = post(&server.endpoint, Some(&token), &rpc(1, "tools/list", None)).await;
    assert_eq!(reply.status, 403, "{}", reply.body);
    assert_eq!(
        reply.header("www-authenticate").unwrap(),
        format!(
            "Bearer error=\"insufficient_scope\", scope=\"mcp\", resource_metadata=\"{metadata_url}\""
        )
    );
    assert_eq!(reply.json()["error"]["name"], "NotAllowedError");
}

#[tokio::test]
async fn action_scopes_hide_tools_and_a_call_without_them_is_403_until_the_client_steps_up() {
    let idp = TestIdp::start().await;
    let server = jwt_server(&idp).await;
    let reader = idp.token(&idp.claims(&server.endpoint, "mcp"));
    let names = |reply: Reply| -> Vec<String> {
        reply.json()["result"]["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let listed = names(post(&server.endpoint, Some(&reader), &rpc(1, "tools/list", None)).await);
    assert!(listed.contains(&"e2e_whoami".to_owned()), "{listed:?}");
    assert!(!listed.contains(&"e2e_explode".to_owned()), "{listed:?}");
    let reply = post(
        &server.endpoint,
        Some(&reader),
        &call_request(2, "e2e_explode", json!({})),
    )
    .await;
    assert_eq!(reply.status, 403, "{}", reply.body);
    let challenge = reply.header("www-authenticate").unwrap();
    assert!(
        challenge.starts_with("Bearer error=\"insufficient_scope\", scope=\"mcp e2e.write\""),
        "{challenge}"
    );
    assert!(
        reply.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("e2e_explode")
    );
    // Step up: a token with the scope sees and calls it (the action itself then fails in-band).
    let writer = idp.token(&idp.claims(&server.endpoint, "mcp e2e.write"));
    let listed = names(post(&server.endpoint, Some(&writer), &rpc(1, "tools/list", None)).await);
    assert!(listed.contains(&"e2e_explode".to_owned()), "{listed:?}");
    let reply = post(
        &server.endpoint,
        Some(&writer),
        &call_request(2, "e2e_explode", json!({})),
    )
    .await;
    assert_eq!(reply.status, 200);
    assert!(
        reply.tool_error().starts_with("InternalError"),
        "{}",
        reply.body
    );
    // Static tokens are governed by access restrictions, not scopes.
    let listed = names(
        post(
            &server.endpoint,
            Some(STATIC_TOKEN),
            &rpc(1, "tools/list", None),
        )
        .await,
    );
    assert!(listed.contains(&"e2e_explode".to_owned()), "{listed:?}");
    // `scp` as an array (and Entra ID's space-separated string) counts too.
    let mut claims = idp.claims(&server.endpoint, "");
    claims.as_object_mut().unwrap().remove("scope");
    claims["scp"] = json!(["mcp", "e2e.write"]);
    let reply = post(
        &server.endpoint,
        Some(&idp.token(&claims)),
        &call_request(3, "e2e_whoami", json!({})),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    claims["scp"] = json!("mcp e2e.write");
    let reply = post(
        &server.endpoint,
        Some(&idp.token(&claims)),
        &call_request(3, "e2e_whoami", json!({})),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

/// Every forgery and mistake of the attack list is a 401 with `invalid_token`, the server
/// keeps serving, and no token reaches the log.
#[test]
fn the_attack_list_is_refused_and_nothing_of_the_tokens_is_logged() {
    if in_own_process("jwt::the_attack_list_is_refused_and_nothing_of_the_tokens_is_logged") {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(attack_list());
    }
}

async fn attack_list() {
    let logs = LogCapture::default();
    let _guard = logs.install();
    let idp = TestIdp::start().await;
    let server = serve_config(&jwt_config(&idp, "algorithm: [ES256]")).await;
    let good = idp.claims(&server.endpoint, "mcp");
    let key = idp.current_key();
    let valid = idp.token(&good);
    let (signing_input, signature) = split(&valid);
    let with = |change: &dyn Fn(&mut Value)| {
        let mut claims = good.clone();
        change(&mut claims);
        idp.token(&claims)
    };
    let header = |alg: &str, kid: &str| json!({ "alg": alg, "kid": kid, "typ": "JWT" });
    // A JWKS-like server of the attacker's, which must never be asked.
    let attacker = TestIdp::start().await;
    let impostor = SigningKey::generate("key-1");
    let mut jku = Header::new(Algorithm::ES256);
    jku.kid = Some("attacker-key".into());
    jku.jku = Some(attacker.jwks_url.clone());
    let mut crit = Header::new(Algorithm::ES256);
    crit.kid = Some(key.kid.clone());
    crit.crit = Some(vec!["exp-policy".into()]);
    let mut es384 = Header::new(Algorithm::ES256);
    es384.kid = Some(key.kid.clone());
    let public_key = key.jwk().to_string();
    let cases: Vec<(&str, String)> = vec![
        (
            "unsigned (alg none)",
            forge(&header("none", &key.kid), &good, b""),
        ),
        (
            "unsigned, empty signature part",
            format!("{}.", signing_input),
        ),
        (
            "HMAC signed with the public key",
            forge(
                &header("HS256", &key.kid),
                &good,
                &hmac_sha256(public_key.as_bytes(), signing_input.as_bytes()),
            ),
        ),
        (
            "unknown kid",
            sign(&SigningKey::generate("nobody-knows"), &good),
        ),
        ("tampered payload", {
            let mut tampered = good.clone();
            tampered["sub"] = json!("admin");
            let forged = idp.token(&tampered);
            format!("{}.{signature}", split(&forged).0)
        }),
        (
            "truncated signature",
            format!("{signing_input}.{}", &signature[..signature.len() / 2]),
        ),
        ("wrong key with a known kid", sign(&impostor, &good)),
        ("expired", with(&|c| c["exp"] = json!(now() - 3600))),
        (
            "not yet valid (nbf)",
            with(&|c| c["nbf"] = json!(now() + 3600)),
        ),
        (
            "issued in the future (iat)",
            with(&|c| c["iat"] = json!(now() + 3600)),
        ),
        (
            "no exp",
            with(&|c| {
                c.as_object_mut().unwrap().remove("exp");
            }),
        ),
        (
            "wrong iss",
            with(&|c| c["iss"] = json!("https://evil.example")),
        ),
        (
            "no iss",
            with(&|c| {
                c.as_object_mut().unwrap().remove("iss");
            }),
        ),
        (
            "wrong aud",
            with(&|c| c["aud"] = json!("https://other.example/api/mcp-actions/v1")),
        ),
        (
            "no aud",
            with(&|c| {
                c.as_object_mut().unwrap().remove("aud");
            }),
        ),
        (
            "a token for another resource",
            with(&|c| c["aud"] = json!(format!("{}/v1/other", server.endpoint))),
        ),
        (
            "a disallowed algorithm (ES384 when only ES256 is)",
            forge(&json!({"alg": "ES384", "kid": key.kid}), &good, b"sig"),
        ),
        (
            "an unknown crit header",
            sign_with_header(&key, &crit, &good),
        ),
        (
            "jku pointing elsewhere",
            sign_with_header(&impostor, &jku, &good),
        ),
        (
            "a typ that is not an access token",
            forge(
                &json!({"alg": "ES256", "kid": key.kid, "typ": "secevent+jwt"}),
                &good,
                b"sig",
            ),
        ),
        ("oversized", format!("{}.{}", valid, "A".repeat(20_000))),
        ("malformed", "eyJhbGciOi.not-base64!.x".to_owned()),
        ("two parts", signing_input.to_owned()),
    ];
    for (what, token) in &cases {
        let reply = whoami(&server, token).await;
        assert_eq!(reply.status, 401, "{what}: {}", reply.body);
        let challenge = reply.header("www-authenticate").unwrap_or_default();
        assert!(
            challenge.contains("error=\"invalid_token\""),
            "{what}: {challenge}"
        );
        assert_eq!(
            reply.json()["error"]["name"],
            "AuthenticationError",
            "{what}"
        );
        assert!(
            !reply.body.contains(token.as_str()),
            "{what}: the token is echoed"
        );
    }
    // Two tokens in one header, and two Authorization headers.
    let reply = send(
        &server.endpoint,
        &[
            ("authorization", format!("Bearer {valid} {valid}")),
            ("content-type", "application/json".into()),
            ("accept", "application/json, text/event-stream".into()),
        ],
        call_request(1, "e2e_whoami", json!({})).to_string(),
    )
    .await;
    assert_eq!(reply.status, 401, "{}", reply.body);
    assert_eq!(attacker.fetches(), 0, "the jku URL was fetched");
    // Still serving, and the valid token works.
    assert_eq!(
        principal(&whoami(&server, &valid).await),
        "service:external:acme:svc-client"
    );
    let log = logs.text();
    for (what, token) in &cases {
        let (_, signature) = token.rsplit_once('.').unwrap_or(("", token));
        if signature.len() > 8 {
            assert!(
                !log.contains(signature),
                "{what}: its signature is in the log"
            );
        }
    }
    assert!(
        !log.contains(split(&valid).1),
        "the valid token is in the log"
    );
    assert!(
        log.contains("signed with ES384, allowed: ES256"),
        "the reason is logged:\n{log}"
    );
}

/// HMAC-SHA256, for forging the classic algorithm-confusion token.
fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key);
    aws_lc_rs::hmac::sign(&key, message).as_ref().to_vec()
}

#[tokio::test]
async fn key_rotation_refetches_once_and_verified_tokens_are_cached() {
    let idp = TestIdp::start().await;
    let server = serve_config(&jwt_config(&idp, "")).await;
    let old = idp.token(&idp.claims(&server.endpoint, "mcp"));
    assert_eq!(whoami(&server, &old).await.status, 200);
    let fetches = idp.fetches();
    for _ in 0..3 {
        assert_eq!(whoami(&server, &old).await.status, 200);
    }
    assert_eq!(
        idp.fetches(),
        fetches,
        "verified tokens and keys are cached"
    );

    let (jwt, audience) = server_jwt(&idp, Duration::ZERO).await;
    let old = idp.token(&idp.claims(&audience, "mcp"));
    jwt.verify(&old).await.unwrap();
    let fetches = idp.fetches();
    idp.rotate("key-2");
    let new = idp.token(&idp.claims(&audience, "mcp"));
    // An unknown kid: one refetch, then it verifies; the old key still verifies too.
    jwt.verify(&new).await.unwrap();
    assert_eq!(idp.fetches(), fetches + 1);
    jwt.verify(&old).await.unwrap();
    assert_eq!(idp.fetches(), fetches + 1);
}

#[tokio::test]
async fn a_retired_key_stops_verifying_after_the_refetch_that_shows_it_gone() {
    let idp = TestIdp::start().await;
    // No pause between refetches, so that the test does not wait for the interval.
    let jwt = server_jwt(&idp, Duration::ZERO).await;
    let old = idp.token(&idp.claims(&jwt.1, "mcp"));
    assert!(jwt.0.verify(&old).await.is_ok());
    idp.rotate("key-2");
    idp.retire_old_keys();
    let new = idp.token(&idp.claims(&jwt.1, "mcp"));
    assert!(jwt.0.verify(&new).await.is_ok(), "the new key is fetched");
    let refused = jwt.0.verify(&old).await.unwrap_err();
    assert_eq!(
        refused.to_string(),
        "no key with kid `key-1` is published by the issuer"
    );
}

/// A JwtAuthenticator for `idp` with `interval` between refetches, and the audience it
/// accepts.
async fn server_jwt(
    idp: &TestIdp,
    interval: Duration,
) -> (mcp_actions_server::JwtAuthenticator, String) {
    let audience = "https://mcp.example.com/api/mcp-actions/v1".to_owned();
    let jwt = mcp_actions_server::JwtAuthenticator::new([mcp_actions_server::JwtIssuer::new(
        &idp.issuer,
    )
    .jwks_url(&idp.jwks_url)
    .audiences([audience.clone()])
    .min_refetch_interval(interval)])
    .unwrap();
    (jwt, audience)
}

#[tokio::test]
async fn a_burst_of_unknown_kids_causes_one_fetch_and_quick_401s() {
    let idp = TestIdp::start().await;
    let (jwt, audience) = server_jwt(&idp, Duration::from_secs(3600)).await;
    let jwt = std::sync::Arc::new(jwt);
    let good = idp.claims(&audience, "mcp");
    let mut tasks = Vec::new();
    for i in 0..40 {
        let token = sign(&SigningKey::generate(&format!("forged-{i}")), &good);
        let jwt = std::sync::Arc::clone(&jwt);
        tasks.push(tokio::spawn(async move { jwt.verify(&token).await }));
    }
    for task in tasks {
        let refused = task.await.unwrap().unwrap_err();
        assert!(
            refused.to_string().starts_with("no key with kid `forged-"),
            "{refused}"
        );
    }
    assert_eq!(
        idp.fetches(),
        1,
        "40 unknown kids, single-flight and rate-limited"
    );
    // The real key was fetched by that one fetch.
    jwt.verify(&idp.token(&good)).await.unwrap();
    assert_eq!(idp.fetches(), 1);
}

#[tokio::test]
async fn a_jwks_outage_never_becomes_a_500_and_cached_keys_keep_working() {
    let idp = TestIdp::start().await;
    idp.set_mode(JwksMode::Down);
    // The provider is down at start-up: the server starts, static tokens work, JWTs get 401.
    let server = jwt_server(&idp).await;
    assert_eq!(
        principal(&whoami(&server, STATIC_TOKEN).await),
        "service:ci"
    );
    let token = idp.token(&idp.claims(&server.endpoint, "mcp"));
    let reply = whoami(&server, &token).await;
    assert_eq!(reply.status, 401, "{}", reply.body);
    assert!(
        reply.body.contains("signing keys are not available"),
        "{}",
        reply.body
    );

    // Once keys are known, a refetch that fails keeps them.
    for (mode, error) in [
        (JwksMode::Garbage, "not a JSON Web Key Set"),
        (JwksMode::Huge, "larger than 1048576 bytes"),
        (JwksMode::Down, "503"),
    ] {
        let idp = TestIdp::start().await;
        let (jwt, audience) = server_jwt(&idp, Duration::ZERO).await;
        jwt.verify(&idp.token(&idp.claims(&audience, "mcp")))
            .await
            .unwrap();
        idp.set_mode(mode);
        let fetches = idp.fetches();
        let unknown = sign(
            &SigningKey::generate("rotated"),
            &idp.claims(&audience, "mcp"),
        );
        let refused = jwt.verify(&unknown).await.unwrap_err();
        assert_eq!(
            refused.to_string(),
            "no key with kid `rotated` is published by the issuer"
        );
        assert_eq!(
            idp.fetches(),
            fetches + 1,
            "{mode:?}: the refetch was tried"
        );
        assert!(
            jwt.fetch_keys().await.unwrap_err().contains(error),
            "{mode:?}"
        );
        let mut claims = idp.claims(&audience, "mcp");
        claims["jti"] = json!("fresh");
        jwt.verify(&idp.token(&claims)).await.unwrap();
    }
}

#[tokio::test]
async fn a_slow_jwks_is_given_up_on_and_answered_401() {
    let idp = TestIdp::start().await;
    idp.set_mode(JwksMode::Slow);
    let (jwt, audience) = server_jwt(&idp, Duration::ZERO).await;
    let token = idp.token(&idp.claims(&audience, "mcp"));
    let refused = bounded("a verification against a slow JWKS", jwt.verify(&token))
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("timed out"), "{refused}");
}

#[tokio::test]
async fn the_jwks_url_is_found_through_discovery() {
    let idp = TestIdp::start().await;
    let yaml = jwt_config(&idp, "").replace(&format!("url: {}", idp.jwks_url), "");
    let server = serve_config(&yaml).await;
    let token = idp.token(&idp.claims(&server.endpoint, "mcp"));
    assert_eq!(
        principal(&whoami(&server, &token).await),
        "service:external:acme:svc-client"
    );
}

#[tokio::test]
async fn the_sse_transport_requires_the_same_scopes() {
    let idp = TestIdp::start().await;
    let server = jwt_server(&idp).await;
    let sse = format!("{}/sse", server.endpoint);
    let without = idp.token(&idp.claims(&server.endpoint, "e2e.write"));
    let response = get_sse(&sse, Some(&without), None).await;
    assert_eq!(response.status(), 403);
    let challenge = response.headers()["www-authenticate"].to_str().unwrap();
    assert!(
        challenge
            .starts_with("Bearer error=\"insufficient_scope\", scope=\"mcp\", resource_metadata="),
        "{challenge}"
    );
    let response = get_sse(&sse, None, None).await;
    assert_eq!(response.status(), 401);
    let challenge = response.headers()["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.starts_with("Bearer scope=\"mcp\", resource_metadata="),
        "{challenge}"
    );
    let with = idp.token(&idp.claims(&server.endpoint, "mcp"));
    assert_eq!(get_sse(&sse, Some(&with), None).await.status(), 200);
}

#[tokio::test]
async fn a_jwt_authenticator_from_the_builder_works_next_to_the_configured_static_tokens() {
    let idp = TestIdp::start().await;
    let audience = "https://mcp.example.com/api/mcp-actions/v1";
    let jwt = mcp_actions_server::JwtAuthenticator::new([mcp_actions_server::JwtIssuer::new(
        &idp.issuer,
    )
    .jwks_url(&idp.jwks_url)
    .audiences([audience])
    .user_claim("preferred_username")])
    .unwrap();
    let yaml = format!(
        "backend:\n  auth:\n    externalAccess:\n      - type: static\n        options: {{ token: {STATIC_TOKEN}, subject: ci }}\n"
    );
    let server = TestServer::start(
        ActionsServer::builder()
            .config(config(&yaml))
            .registry(registry(&["e2e"]))
            .jwt_authenticator(jwt),
    )
    .await;
    let mut claims = idp.claims(audience, "");
    claims["preferred_username"] = json!("jane");
    assert_eq!(
        principal(&whoami(&server, &idp.token(&claims)).await),
        "user:default/jane"
    );
    assert_eq!(
        principal(&whoami(&server, STATIC_TOKEN).await),
        "service:ci"
    );
    let metadata: Value =
        reqwest::get(server.url("/.well-known/oauth-protected-resource/api/mcp-actions/v1"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(metadata["authorization_servers"], json!([idp.issuer]));
}

/// During a JWKS outage the failure is logged once per refetch interval, not per request.
#[test]
fn an_outage_is_logged_once_not_per_request() {
    if in_own_process("jwt::an_outage_is_logged_once_not_per_request") {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(outage_logged_once());
    }
}

async fn outage_logged_once() {
    let logs = LogCapture::default();
    let _guard = logs.install();
    let idp = TestIdp::start().await;
    idp.set_mode(JwksMode::Down);
    let server = jwt_server(&idp).await;
    for i in 0..20 {
        let mut claims = idp.claims(&server.endpoint, "mcp");
        claims["jti"] = json!(i);
        assert_eq!(whoami(&server, &idp.token(&claims)).await.status, 401);
    }
    let log = logs.text();
    let warnings = log
        .matches("could not fetch the issuer's signing keys")
        .count();
    assert_eq!(warnings, 1, "{log}");
    assert!(idp.fetches() <= 1, "{} fetches", idp.fetches());
}
