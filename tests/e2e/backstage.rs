//! Backstage's actions API (`/api/<plugin>/.backstage/actions/v{1,2}/...`) over real HTTP:
//! the list, invoke v1 and v2 through the dispatcher, Backstage's error bodies and statuses,
//! static tokens with their access restrictions, and Backstage plugin tokens verified with the
//! calling plugin's keys found through `discovery.endpoints` — a fake calling plugin here, so
//! that forged tokens can be made; the real Backstage backend is in `tests/backstage.rs`.

use axum::Router;
use axum::routing::get;
use jsonwebtoken::{Algorithm, Header};
use mcp_actions_server::ActionsServer;
use mcp_actions_tests::idp::{SigningKey, forge, now, sign_with_header, split};
use mcp_actions_tests::prelude::*;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

const TOKEN: &str = "backstage-api-token";
const OTHER_ONLY: &str = "other-plugin-only-token";

/// A Backstage plugin (`mcp-actions`) that publishes its keys where Backstage does, and
/// Backstage's `auth` plugin publishing the keys of user tokens.
struct CallingPlugin {
    key: SigningKey,
    user_key: SigningKey,
    server: TestServer,
}

impl CallingPlugin {
    async fn start() -> Self {
        let key = SigningKey::generate("plugin-key-1");
        let user_key = SigningKey::generate("user-key-1");
        let jwks = json!({ "keys": [key.jwk()] });
        let user_jwks = json!({ "keys": [user_key.jwk()] });
        let router = Router::new()
            .route(
                "/api/mcp-actions/.backstage/auth/v1/jwks.json",
                get(move || std::future::ready(axum::Json(jwks.clone()))),
            )
            .route(
                "/api/auth/.well-known/jwks.json",
                get(move || std::future::ready(axum::Json(user_jwks.clone()))),
            );
        let server = TestServer::serve_router(router, CancellationToken::new()).await;
        Self {
            key,
            user_key,
            server,
        }
    }

    /// A limited user token for `user`, as Backstage puts in `obo`, signed by `key`.
    fn limited_user_token(&self, key: &SigningKey, user: &str) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(key.kid.clone());
        header.typ = Some("vnd.backstage.limited-user".to_owned());
        let claims = json!({ "sub": user, "iat": now(), "exp": now() + 600 });
        sign_with_header(key, &header, &claims)
    }

    fn claims(&self, aud: &str) -> Value {
        json!({ "sub": "mcp-actions", "aud": aud, "iat": now(), "exp": now() + 3600 })
    }

    fn token(&self, claims: &Value) -> String {
        sign_with_header(&self.key, &plugin_header(&self.key.kid), claims)
    }
}

fn plugin_header(kid: &str) -> Header {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(kid.to_owned());
    header.typ = Some("vnd.backstage.plugin".to_owned());
    header
}

async fn server(caller: Option<&CallingPlugin>) -> TestServer {
    server_and(caller, "").await
}

/// [`server`] with `more` YAML at the top level.
async fn server_and(caller: Option<&CallingPlugin>, more: &str) -> TestServer {
    let discovery = caller
        .map(|c| {
            format!(
                "discovery:\n  endpoints:\n    - target: {}/api/{{{{pluginId}}}}\n      plugins: [mcp-actions, auth]\n",
                c.server.base_url
            )
        })
        .unwrap_or_default();
    let yaml = format!(
        r#"
backend:
  auth:
    externalAccess:
      - type: static
        options: {{ token: {TOKEN}, subject: ci }}
      - type: static
        options: {{ token: {OTHER_ONLY}, subject: other }}
        accessRestrictions: [{{ plugin: e2e-other }}]
{discovery}{more}"#
    );
    TestServer::start(
        ActionsServer::builder()
            .config(config(&yaml))
            .registry(registry(&["e2e", "e2e-other"])),
    )
    .await
}

fn actions_url(server: &TestServer, plugin: &str) -> String {
    server.url(&format!("/api/{plugin}/.backstage/actions/v1/actions"))
}

fn invoke_url(server: &TestServer, version: u8, id: &str) -> String {
    let plugin = id.split(':').next().unwrap();
    let encoded = id.replace(':', "%3A");
    server.url(&format!(
        "/api/{plugin}/.backstage/actions/v{version}/actions/{encoded}/invoke"
    ))
}

async fn get_with(url: &str, token: Option<&str>) -> Reply {
    let mut request = reqwest::Client::new().get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    reply(bounded("an answer", request.send()).await.unwrap()).await
}

async fn invoke(url: &str, token: Option<&str>, body: &Value) -> Reply {
    let mut headers = vec![("content-type", "application/json".to_owned())];
    if let Some(token) = token {
        headers.push(("authorization", format!("Bearer {token}")));
    }
    send(url, &headers, body.to_string()).await
}

/// Asserts a Backstage error body with this status and name; its message.
fn backstage_error(reply: &Reply, status: u16, name: &str) -> String {
    assert_eq!(reply.status, status, "{reply:?}");
    let body = reply.json();
    assert_eq!(body["error"]["name"], name, "{reply:?}");
    assert_eq!(body["response"]["statusCode"], status, "{reply:?}");
    assert!(body["request"]["method"].is_string(), "{reply:?}");
    body["error"]["message"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_list_has_each_plugins_actions_as_backstage_lists_them() {
    let server = server(None).await;
    let reply = get_with(&actions_url(&server, "e2e"), Some(TOKEN)).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let actions = reply.json()["actions"].as_array().unwrap().clone();
    assert!(
        actions.iter().all(|a| a["pluginId"] == "e2e"),
        "{actions:?}"
    );
    let echo = actions.iter().find(|a| a["id"] == "e2e:e2e_echo").unwrap();
    assert_eq!(echo["name"], "e2e_echo");
    assert_eq!(echo["title"], "Echo");
    assert_eq!(echo["description"], "Echo a message.");
    assert_eq!(
        echo["attributes"],
        json!({ "destructive": false, "idempotent": true, "readOnly": true })
    );
    assert_eq!(echo["schema"]["input"]["type"], "object");
    assert_eq!(echo["schema"]["output"]["type"], "object");
    let explode = actions
        .iter()
        .find(|a| a["id"] == "e2e:e2e_explode")
        .unwrap();
    assert_eq!(explode["attributes"]["destructive"], true, "the default");

    let other = get_with(&actions_url(&server, "e2e-other"), Some(TOKEN)).await;
    assert_eq!(
        other.json()["actions"][0]["id"],
        "e2e-other:e2e_other_plugin"
    );
    let unserved = get_with(&actions_url(&server, "catalog"), Some(TOKEN)).await;
    assert_eq!(unserved.status, 404, "{unserved:?}");
}

#[tokio::test]
async fn invoke_v1_and_v2_go_through_the_dispatcher() {
    let server = server(None).await;
    let input = json!({ "message": "hi", "options": { "loud": true } });
    let v1 = invoke(&invoke_url(&server, 1, "e2e:e2e_echo"), Some(TOKEN), &input).await;
    assert_eq!(v1.status, 200, "{v1:?}");
    assert_eq!(v1.json(), json!({ "output": { "echo": "HI" } }));
    let v2 = invoke(
        &invoke_url(&server, 2, "e2e:e2e_echo"),
        Some(TOKEN),
        &json!({ "input": input }),
    )
    .await;
    assert_eq!(v2.json(), json!({ "output": { "echo": "HI" } }));
    let whoami = invoke(
        &invoke_url(&server, 1, "e2e:e2e_whoami"),
        Some(TOKEN),
        &json!({}),
    )
    .await;
    assert_eq!(whoami.json()["output"]["subject"], "ci", "{whoami:?}");

    let secrets = invoke(
        &invoke_url(&server, 2, "e2e:e2e_echo"),
        Some(TOKEN),
        &json!({ "input": input, "secrets": { "x": "y" } }),
    )
    .await;
    backstage_error(&secrets, 400, "InputError");
    let bad = invoke(
        &invoke_url(&server, 1, "e2e:e2e_echo"),
        Some(TOKEN),
        &json!({ "message": "hi", "options": { "loud": "very" } }),
    )
    .await;
    let message = backstage_error(&bad, 400, "InputError");
    assert!(message.contains("options.loud"), "{message}");
}

#[tokio::test]
async fn errors_have_backstages_body_and_status_and_no_internal_details() {
    let server = server(None).await;
    let url = invoke_url(&server, 1, "e2e:e2e_fail");
    for (name, status) in [
        ("InputError", 400),
        ("AuthenticationError", 401),
        ("NotAllowedError", 403),
        ("NotFoundError", 404),
        ("ConflictError", 409),
        ("NotImplementedError", 501),
        ("ServiceUnavailableError", 503),
    ] {
        let reply = invoke(&url, Some(TOKEN), &json!({ "error": name })).await;
        backstage_error(&reply, status, name);
    }
    let modified = invoke(&url, Some(TOKEN), &json!({ "error": "NotModifiedError" })).await;
    assert_eq!(modified.status, 304, "{modified:?}");
    let internal = invoke(&url, Some(TOKEN), &json!({ "error": "Unexpected" })).await;
    let message = backstage_error(&internal, 500, "InternalError");
    assert!(!internal.body.contains("hunter2"), "{internal:?}");
    assert!(message.contains("ref "), "{message}");
    let panic = invoke(
        &invoke_url(&server, 1, "e2e:e2e_explode"),
        Some(TOKEN),
        &json!({}),
    )
    .await;
    backstage_error(&panic, 500, "InternalError");
    assert!(!panic.body.contains("4242"), "{panic:?}");

    let unknown = invoke(&invoke_url(&server, 1, "e2e:nope"), Some(TOKEN), &json!({})).await;
    let message = backstage_error(&unknown, 404, "NotFoundError");
    assert_eq!(message, "Action \"e2e:nope\" not found");
    // An action of another plugin is not reachable under this one.
    let elsewhere = invoke(
        &server.url("/api/e2e/.backstage/actions/v1/actions/e2e-other%3Ae2e_other_plugin/invoke"),
        Some(TOKEN),
        &json!({}),
    )
    .await;
    backstage_error(&elsewhere, 404, "NotFoundError");
    let not_json = send(
        &invoke_url(&server, 1, "e2e:e2e_echo"),
        &[("authorization", format!("Bearer {TOKEN}"))],
        "{not json",
    )
    .await;
    backstage_error(&not_json, 400, "InputError");
}

/// Requests through the actions API are counted and audited as MCP ones are: one event per
/// list and per invoke (with its outcome), one per refused caller, none with the token.
#[tokio::test]
async fn actions_api_requests_are_audited_like_mcp_ones() {
    let file = super::operations::audit_file("backstage-api.jsonl");
    let admin = super::operations::free_port();
    let server = server_and(
        None,
        &format!(
            "mcpActions:\n  audit:\n    file: {}\n  admin:\n    listen: {{ host: 127.0.0.1, port: {admin} }}\n",
            file.display()
        ),
    )
    .await;
    let listed = get_with(&actions_url(&server, "e2e"), Some(TOKEN)).await;
    assert_eq!(listed.status, 200, "{listed:?}");
    let echo = invoke_url(&server, 1, "e2e:e2e_echo");
    let input = json!({ "message": "hi", "options": { "loud": false } });
    let ok = invoke(&echo, Some(TOKEN), &input).await;
    assert_eq!(ok.status, 200, "{ok:?}");
    let bad = invoke(&echo, Some(TOKEN), &json!({ "message": 7 })).await;
    backstage_error(&bad, 400, "InputError");
    let internal = invoke(
        &invoke_url(&server, 1, "e2e:e2e_fail"),
        Some(TOKEN),
        &json!({ "error": "Unexpected" }),
    )
    .await;
    let message = backstage_error(&internal, 500, "InternalError");
    let unknown = invoke(&invoke_url(&server, 1, "e2e:nope"), Some(TOKEN), &json!({})).await;
    backstage_error(&unknown, 404, "NotFoundError");
    let anonymous = invoke(&echo, None, &input).await;
    backstage_error(&anonymous, 401, "AuthenticationError");
    let metrics = bounded(
        "the metrics",
        reqwest::get(format!("http://127.0.0.1:{admin}/metrics")),
    )
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    server.stop().await.unwrap();

    let events = super::operations::audit_events(&file);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains(TOKEN), "{text}");
    let summary: Vec<(&str, &str, &str, &str)> = events
        .iter()
        .map(|e| {
            assert_eq!(e["target"]["api"], "backstage-actions", "{e}");
            assert_eq!(e["target"]["server"], "default", "{e}");
            (
                e["event"].as_str().unwrap(),
                e["target"]["actionId"].as_str().unwrap_or("-"),
                e["outcome"].as_str().unwrap(),
                e["error"].as_str().unwrap_or("-"),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("mcp-actions.tool-discovery", "-", "succeeded", "-"),
            (
                "mcp-actions.tool-execution",
                "e2e:e2e_echo",
                "succeeded",
                "-"
            ),
            (
                "mcp-actions.tool-execution",
                "e2e:e2e_echo",
                "failed",
                "InputError"
            ),
            (
                "mcp-actions.tool-execution",
                "e2e:e2e_fail",
                "failed",
                "InternalError"
            ),
            (
                "mcp-actions.tool-execution",
                "e2e:nope",
                "failed",
                "NotFoundError"
            ),
            (
                "mcp-actions.connection",
                "-",
                "failed",
                "AuthenticationError"
            ),
        ],
        "{text}"
    );
    let reference = events[3]["referenceId"].as_str().unwrap();
    assert!(message.contains(reference), "{message} / {text}");
    assert_eq!(events[1]["actor"]["principal"], "service:ci", "{text}");
    assert!(
        metrics.contains("mcp_actions_auth_failures_total{reason=\"missing_token\"} 1"),
        "{metrics}"
    );
}

/// `mcpActions.backstage.actionsApi: false`: the actions API is not served (404, as any
/// unknown path), MCP and the plugin-token keys still are.
#[tokio::test]
async fn the_actions_api_can_be_turned_off() {
    let server = server_and(None, "mcpActions:\n  backstage:\n    actionsApi: false\n").await;
    let listed = get_with(&actions_url(&server, "e2e"), Some(TOKEN)).await;
    assert_eq!(listed.status, 404, "{listed:?}");
    let input = json!({ "message": "hi", "options": { "loud": false } });
    let invoked = invoke(&invoke_url(&server, 1, "e2e:e2e_echo"), Some(TOKEN), &input).await;
    assert_eq!(invoked.status, 404, "{invoked:?}");
    let keys = get_with(
        &server.url("/api/mcp-actions/.backstage/auth/v1/jwks.json"),
        None,
    )
    .await;
    assert_eq!(keys.status, 200, "{keys:?}");
    assert_eq!(keys.json()["keys"][0]["alg"], "ES256", "{keys:?}");
    let call = post(
        &server.endpoint,
        Some(TOKEN),
        &call_request(1, "e2e_echo", input),
    )
    .await;
    assert_eq!(
        call.json()["result"]["structuredContent"]["echo"],
        "hi",
        "{call:?}"
    );
}

#[tokio::test]
async fn static_tokens_keep_their_access_restrictions() {
    let server = server(None).await;
    let none = get_with(&actions_url(&server, "e2e"), None).await;
    backstage_error(&none, 401, "AuthenticationError");
    let wrong = get_with(&actions_url(&server, "e2e"), Some("not-a-token-at-all")).await;
    backstage_error(&wrong, 401, "AuthenticationError");
    let restricted = get_with(&actions_url(&server, "e2e"), Some(OTHER_ONLY)).await;
    backstage_error(&restricted, 403, "NotAllowedError");
    let restricted = invoke(
        &invoke_url(&server, 1, "e2e:e2e_whoami"),
        Some(OTHER_ONLY),
        &json!({}),
    )
    .await;
    backstage_error(&restricted, 403, "NotAllowedError");
    let allowed = get_with(&actions_url(&server, "e2e-other"), Some(OTHER_ONLY)).await;
    assert_eq!(allowed.status, 200, "{allowed:?}");
}

#[tokio::test]
async fn a_backstage_plugin_token_makes_the_caller_that_plugin() {
    let caller = CallingPlugin::start().await;
    let server = server(Some(&caller)).await;
    let token = caller.token(&caller.claims("e2e"));
    let list = get_with(&actions_url(&server, "e2e"), Some(&token)).await;
    assert_eq!(list.status, 200, "{list:?}");
    let whoami = invoke(
        &invoke_url(&server, 1, "e2e:e2e_whoami"),
        Some(&token),
        &json!({}),
    )
    .await;
    assert_eq!(whoami.status, 200, "{whoami:?}");
    assert_eq!(whoami.json()["output"]["subject"], "plugin:mcp-actions");
    // Again, from the cache.
    let again = invoke(
        &invoke_url(&server, 1, "e2e:e2e_whoami"),
        Some(&token),
        &json!({}),
    )
    .await;
    assert_eq!(again.json()["output"]["subject"], "plugin:mcp-actions");
}

#[tokio::test]
async fn forged_plugin_tokens_are_refused() {
    let caller = CallingPlugin::start().await;
    let server = server(Some(&caller)).await;
    let url = invoke_url(&server, 1, "e2e:e2e_whoami");
    let valid = caller.claims("e2e");
    let mut forgeries: Vec<(&str, String)> = Vec::new();

    forgeries.push(("wrong aud", caller.token(&caller.claims("e2e-other"))));
    let unknown_kid = SigningKey::generate("unknown-kid");
    forgeries.push((
        "unknown kid",
        sign_with_header(&unknown_kid, &plugin_header("unknown-kid"), &valid),
    ));
    let impostor = SigningKey::generate("plugin-key-1");
    forgeries.push((
        "key not in the caller's JWKS",
        sign_with_header(&impostor, &plugin_header("plugin-key-1"), &valid),
    ));
    let mut expired = valid.clone();
    expired["iat"] = json!(now() - 7200);
    expired["exp"] = json!(now() - 3600);
    forgeries.push(("expired", caller.token(&expired)));
    let mut no_typ = plugin_header(&caller.key.kid);
    no_typ.typ = None;
    forgeries.push((
        "typ missing",
        sign_with_header(&caller.key, &no_typ, &valid),
    ));
    let signed = caller.token(&valid);
    let (_, signature) = split(&signed);
    let signature =
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, signature)
            .unwrap();
    for alg in ["ES384", "RS256", "HS256", "none"] {
        let header = json!({ "typ": "vnd.backstage.plugin", "alg": alg, "kid": caller.key.kid });
        forgeries.push(("alg other than ES256", forge(&header, &valid, &signature)));
    }
    let mut stranger = valid.clone();
    stranger["sub"] = json!("scaffolder");
    forgeries.push((
        "a plugin not in discovery.endpoints",
        caller.token(&stranger),
    ));
    let mut no_exp = valid.clone();
    no_exp.as_object_mut().unwrap().remove("exp");
    forgeries.push(("exp missing", caller.token(&no_exp)));

    for (what, token) in forgeries {
        let reply = invoke(&url, Some(&token), &json!({})).await;
        let message = backstage_error(&reply, 401, "AuthenticationError");
        assert!(!message.contains(&token), "{what}: the token is echoed");
        assert!(
            !reply.body.contains("plugin:mcp-actions"),
            "{what}: {reply:?}"
        );
    }
}

#[tokio::test]
async fn a_plugin_token_on_behalf_of_a_user_makes_the_caller_that_user() {
    let caller = CallingPlugin::start().await;
    let server = server(Some(&caller)).await;
    let url = invoke_url(&server, 1, "e2e:e2e_whoami");
    let mut claims = caller.claims("e2e");
    claims["obo"] = json!(caller.limited_user_token(&caller.user_key, "user:default/jane"));
    let reply = invoke(&url, Some(&caller.token(&claims)), &json!({})).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.json()["output"]["principal"], "user:default/jane");

    // A user token not signed by the `auth` plugin's keys is refused, not ignored.
    let impostor = SigningKey::generate("user-key-1");
    claims["obo"] = json!(caller.limited_user_token(&impostor, "user:default/admin"));
    let reply = invoke(&url, Some(&caller.token(&claims)), &json!({})).await;
    backstage_error(&reply, 401, "AuthenticationError");
    claims["obo"] = json!(42);
    let reply = invoke(&url, Some(&caller.token(&claims)), &json!({})).await;
    backstage_error(&reply, 401, "AuthenticationError");
}

#[tokio::test]
async fn a_calling_plugin_whose_keys_cannot_be_fetched_is_refused_at_once() {
    let caller = CallingPlugin::start().await;
    let server = server(Some(&caller)).await;
    let token = caller.token(&caller.claims("e2e"));
    let url = invoke_url(&server, 1, "e2e:e2e_whoami");
    caller.server.stop().await.unwrap();
    for _ in 0..3 {
        let reply = invoke(&url, Some(&token), &json!({})).await;
        let message = backstage_error(&reply, 401, "AuthenticationError");
        assert!(message.contains("not available"), "{message}");
    }
}
