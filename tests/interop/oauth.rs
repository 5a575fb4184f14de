//! OAuth against a real authorization server: `oidc-provider` (a certified OpenID provider, from
//! npm) started on loopback by `oidc-provider.mjs`, issuing JWT access tokens for the server's
//! MCP URL (RFC 8707 resource indicators), driven by the official clients:
//!
//! * client credentials → the TypeScript SDK and Python SDK clients list and call tools;
//! * authorization code + PKCE with dynamic client registration, by the TypeScript SDK's own
//!   OAuth client (401 → metadata discovery → registration → login → token) → the action sees
//!   `Principal::User`;
//! * step-up: a token without an action's scope gets 403 `insufficient_scope`, and the SDK
//!   asks for a new token with it and succeeds;
//! * key rotation at the provider, and tokens the provider never issued as they are.

use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use mcp_actions::prelude::*;
use mcp_actions::{ActionContext, Principal};
use mcp_actions_server::{ActionsServer, JwtAuthenticator, JwtIssuer};
use mcp_actions_tests::config::loader;
use mcp_actions_tests::prelude::{TestServer, call_request, post};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::net::TcpListener;
use tokio::process::{Child, ChildStdin, Command};

use super::{Tooling, interop_dir, python, report, run_script, stop, tooling};

/// A resource the provider also issues tokens for, which is not this server.
const OTHER_RESOURCE: &str = "https://other.example.com/api/mcp-actions/v1";
const SCOPES: &str = "mcp interop.write";
const STARTUP: Duration = Duration::from_secs(30);

#[derive(Serialize, JsonSchema)]
struct Caller {
    /// Who the action sees.
    principal: String,
    /// Whether it is a user.
    user: bool,
}

/// Who is calling.
#[action(plugin = "interop", title = "Who Am I", read_only)]
async fn interop_whoami(ctx: &ActionContext) -> Result<Caller, ActionError> {
    Ok(Caller {
        principal: ctx.principal().to_string(),
        user: matches!(ctx.principal(), Principal::User { .. }),
    })
}

#[derive(Serialize, JsonSchema)]
struct Written {
    /// Always true.
    written: bool,
}

/// A write (needs the scope `interop.write`).
#[action(plugin = "interop", title = "Write Something")]
async fn interop_write() -> Result<Written, ActionError> {
    Ok(Written { written: true })
}

/// The provider process; killed when dropped (and it exits by itself when its stdin closes).
struct Provider {
    _child: Child,
    _stdin: ChildStdin,
    info: Value,
    http: reqwest::Client,
}

impl Provider {
    async fn start(tools: &Tooling, resources: &[&str]) -> Result<Self> {
        // oidc-provider 9 supports Node 22 (it runs on 20 with a warning).
        let node = tools.node22.as_deref().unwrap_or(&tools.node);
        let mut command = Command::new(node);
        command.arg("oidc-provider.mjs").args(["--scopes", SCOPES]);
        for resource in resources {
            command.args(["--resource", resource]);
        }
        let mut child = command
            .current_dir(interop_dir())
            .env("NO_COLOR", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("spawning oidc-provider.mjs")?;
        let stdin = child.stdin.take().expect("piped stdin");
        let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut stderr = child.stderr.take().expect("piped stderr");
        let mut line = String::new();
        let ready = tokio::time::timeout(STARTUP, stdout.read_line(&mut line)).await;
        let info: Value = match ready {
            Ok(Ok(n)) if n > 0 => serde_json::from_str(&line)
                .with_context(|| format!("oidc-provider.mjs printed {line:?}"))?,
            other => {
                let mut err = String::new();
                let _ =
                    tokio::time::timeout(Duration::from_secs(2), stderr.read_to_string(&mut err))
                        .await;
                bail!("oidc-provider.mjs did not get ready ({other:?}):\n{err}");
            }
        };
        // Keep draining its output so that it never blocks on a full pipe.
        tokio::spawn(async move {
            let mut sink = Vec::new();
            let _ = stderr.read_to_end(&mut sink).await;
        });
        tokio::spawn(async move {
            let mut sink = String::new();
            let _ = stdout.read_to_string(&mut sink).await;
        });
        Ok(Self {
            _child: child,
            _stdin: stdin,
            info,
            http: reqwest::Client::new(),
        })
    }

    fn issuer(&self) -> &str {
        self.info["issuer"].as_str().expect("the issuer")
    }

    /// A client-credentials token of `client` for `resource`.
    async fn token(&self, client: &str, scope: &str, resource: &str) -> Result<String> {
        let secret = format!("{client}-secret");
        let body = format!(
            "grant_type=client_credentials&scope={}&resource={}",
            encode(scope),
            encode(resource)
        );
        let response = self
            .http
            .post(
                self.info["token_endpoint"]
                    .as_str()
                    .expect("token endpoint"),
            )
            .basic_auth(client, Some(secret))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await?;
        let status = response.status();
        let answer: Value = response.json().await?;
        match answer["access_token"].as_str() {
            Some(token) if status.is_success() => Ok(token.to_owned()),
            _ => bail!("the token request got {status}: {answer}"),
        }
    }

    /// POSTs to a control route (`rotate`, `retire`, `jwks`).
    async fn control(&self, route: &str, body: Value) -> Result<Value> {
        let url = format!(
            "{}/{route}",
            self.info["control"].as_str().expect("control")
        );
        Ok(self.http.post(url).json(&body).send().await?.json().await?)
    }
}

/// `application/x-www-form-urlencoded` of a value.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A provider for this server's URL (and [`OTHER_RESOURCE`]), and the server accepting its
/// tokens: the issuer's keys found through its discovery document, `mcp` required,
/// `interop.write` for the write action, users by `preferred_username`.
async fn oauth_server(tools: &Tooling) -> Result<(Provider, TestServer)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let endpoint = format!(
        "http://{}{}",
        listener.local_addr()?,
        mcp_actions_server::MCP_PATH
    );
    let provider = Provider::start(tools, &[&endpoint, OTHER_RESOURCE]).await?;
    let config = loader(&[&format!(
        r#"
backend:
  auth:
    externalAccess:
      - type: static
        options: {{ token: {token}, subject: interop-tests }}
      - type: jwks
        options: {{ issuer: "{issuer}", userClaim: preferred_username, subjectPrefix: interop }}
mcpActions:
  auth:
    requiredScopes: [mcp]
    actionScopes:
      - {{ id: 'interop:*', attributes: {{ readOnly: false }}, scopes: [interop.write] }}
"#,
        token = super::TOKEN,
        issuer = provider.issuer()
    )])
    .load()?;
    let registry =
        mcp_actions::Registry::from_inventory()?.with_plugin_sources(&["greet-user", "interop"]);
    let server = ActionsServer::builder()
        .config(config)
        .registry(registry)
        .build()?;
    Ok((provider, TestServer::serve_on(listener, server).await))
}

async fn whoami(server: &TestServer, token: &str) -> (u16, Value) {
    let reply = post(
        &server.endpoint,
        Some(token),
        &call_request(1, "interop_whoami", json!({})),
    )
    .await;
    let body = if reply.status == 200 {
        reply.json()["result"]["structuredContent"].clone()
    } else {
        reply.json()
    };
    (reply.status, body)
}

/// Client credentials: the TypeScript and Python SDK clients list and call tools with the
/// provider's token, and the caller is the service `external:interop:<client>`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_tokens_work_with_the_typescript_and_python_sdks() -> Result<()> {
    let Some(tools) = tooling() else {
        return Ok(());
    };
    let Some(python) = python() else {
        return Ok(());
    };
    let (provider, server) = oauth_server(tools).await?;
    let token = provider.token("svc-all", "mcp", &server.endpoint).await?;
    let (status, caller) = whoami(&server, &token).await;
    assert_eq!(status, 200, "{caller}");
    assert_eq!(caller["principal"], "service:external:interop:svc-all");
    let ts = run_script(
        &tools.node,
        "sdk-client.mjs",
        &["--url", &server.endpoint, "--token", &token],
    )
    .await?;
    let py = run_script(
        python,
        "py-client.py",
        &["--url", &server.endpoint, "--token", &token],
    )
    .await?;
    stop(server).await;
    for (what, run) in [("sdk-client.mjs (JWT)", &ts), ("py-client.py (JWT)", &py)] {
        eprintln!("{}", report(what, run, false));
        let ok = run.summary.as_ref().is_some_and(|s| s["ok"] == true);
        assert!(run.success && ok, "{}", report(what, run, true));
    }
    Ok(())
}

/// The whole MCP authorization flow by the TypeScript SDK's OAuth client: 401 → protected-
/// resource metadata → the provider's metadata → dynamic registration → authorization code with
/// PKCE and `resource` → login as jane → token → the action sees the user.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_signs_a_user_in_with_dynamic_registration_and_pkce() -> Result<()> {
    let Some(tools) = tooling() else {
        return Ok(());
    };
    let (provider, server) = oauth_server(tools).await?;
    let run = run_script(
        &tools.node,
        "oauth-client.mjs",
        &[
            "--url",
            &server.endpoint,
            "--login",
            "jane",
            "--call",
            "interop_whoami",
            "--args",
            "{}",
        ],
    )
    .await?;
    stop(server).await;
    eprintln!("{}", report("oauth-client.mjs", &run, false));
    let summary = run.summary.clone().unwrap_or(Value::Null);
    assert!(
        run.success && summary["ok"] == true,
        "{}",
        report("the OAuth flow failed", &run, true)
    );
    assert!(summary["registered_client_id"].is_string(), "{summary}");
    assert_eq!(summary["token_claims"]["iss"], provider.issuer());
    assert_eq!(summary["token_claims"]["aud"], summary["url"]);
    assert_eq!(
        summary["call"]["structuredContent"],
        json!({ "principal": "user:default/jane", "user": true }),
        "{summary}"
    );
    let tools_listed = summary["tools"].to_string();
    assert!(tools_listed.contains("interop_whoami"), "{tools_listed}");
    assert!(
        !tools_listed.contains("interop_write"),
        "a tool the token lacks the scope of is listed: {tools_listed}"
    );
    Ok(())
}

/// Step-up: the first token has `mcp` only; calling the write action gets 403
/// `insufficient_scope` naming `interop.write`, the SDK asks for a token with it, and the call
/// succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_action_scope_is_stepped_up_by_the_sdk() -> Result<()> {
    let Some(tools) = tooling() else {
        return Ok(());
    };
    let (provider, server) = oauth_server(tools).await?;
    // Straight from the provider: a token without the scope is refused with the scopes needed.
    let reader = provider.token("svc-all", "mcp", &server.endpoint).await?;
    let reply = post(
        &server.endpoint,
        Some(&reader),
        &call_request(1, "interop_write", json!({})),
    )
    .await;
    assert_eq!(reply.status, 403, "{}", reply.body);
    let challenge = reply
        .header("www-authenticate")
        .unwrap_or_default()
        .to_owned();
    assert!(
        challenge.starts_with("Bearer error=\"insufficient_scope\", scope=\"mcp interop.write\""),
        "{challenge}"
    );
    let run = run_script(
        &tools.node,
        "oauth-client.mjs",
        &[
            "--url",
            &server.endpoint,
            "--scope",
            "mcp",
            "--call",
            "interop_write",
            "--args",
            "{}",
        ],
    )
    .await?;
    stop(server).await;
    eprintln!("{}", report("oauth-client.mjs (step-up)", &run, false));
    let summary = run.summary.clone().unwrap_or(Value::Null);
    assert!(
        run.success && summary["ok"] == true,
        "{}",
        report("the step-up failed", &run, true)
    );
    let steps = summary["steps"].to_string();
    assert!(steps.contains("step-up"), "no step-up: {steps}");
    let scope = summary["token_claims"]["scope"]
        .as_str()
        .unwrap_or_default();
    assert!(scope.split(' ').any(|s| s == "interop.write"), "{scope}");
    assert_eq!(
        summary["call"]["structuredContent"],
        json!({ "written": true })
    );
    Ok(())
}

/// Key rotation at the provider: a token signed by the new key verifies after one refetch; an
/// old-key token verifies while its key is published, and not once a refetch shows it gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_follow_a_key_rotation_at_the_provider() -> Result<()> {
    let Some(tools) = tooling() else {
        return Ok(());
    };
    let resource = "https://mcp.example.com/api/mcp-actions/v1";
    let provider = Provider::start(tools, &[resource]).await?;
    // No pause between refetches, so that the test need not wait out the interval.
    let jwt = Arc::new(JwtAuthenticator::new([JwtIssuer::new(provider.issuer())
        .audiences([resource])
        .min_refetch_interval(Duration::ZERO)])?);
    let old = provider.token("svc-all", "mcp", resource).await?;
    jwt.verify(&old).await?;
    let fetches = |state: &Value| state["fetches"].as_u64().unwrap_or_default();
    let before = fetches(&provider.control("fetches/reset", json!({})).await?);
    provider.control("rotate", json!({})).await?;
    let new = provider.token("svc-all", "mcp", resource).await?;
    jwt.verify(&new).await?;
    jwt.verify(&old).await?;
    let state = provider.control("retire", json!({})).await?;
    assert_eq!(
        fetches(&state),
        before + 1,
        "one refetch for the new key: {state}"
    );
    // A refetch (for a third key's token) shows the first key gone: its token is refused.
    provider.control("rotate", json!({})).await?;
    let third = provider.token("svc-all", "mcp", resource).await?;
    jwt.verify(&third).await?;
    let refused = jwt.verify(&old).await.unwrap_err();
    assert!(
        refused.to_string().starts_with("no key with kid"),
        "{refused}"
    );
    jwt.verify(&new).await?;
    Ok(())
}

/// Tokens of the real provider, changed or for elsewhere, and the provider's JWKS down.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_refuses_what_the_provider_did_not_issue_for_it() -> Result<()> {
    let Some(tools) = tooling() else {
        return Ok(());
    };
    let (provider, server) = oauth_server(tools).await?;
    let token = provider.token("svc-all", "mcp", &server.endpoint).await?;
    let (input, signature) = token.rsplit_once('.').expect("a JWT");
    let (header, payload) = input.split_once('.').expect("a JWT");
    let mut claims: Value = serde_json::from_slice(&base64_decode(payload)).expect("claims");
    claims["sub"] = json!("svc-admin");
    let tampered = format!(
        "{header}.{}.{signature}",
        base64_encode(claims.to_string().as_bytes())
    );
    let elsewhere = provider.token("svc-all", "mcp", OTHER_RESOURCE).await?;
    let no_mcp_scope = provider
        .token("svc-all", "interop.write", &server.endpoint)
        .await?;
    for (what, bad, status) in [
        ("tampered payload", tampered, 401),
        (
            "truncated signature",
            format!("{input}.{}", &signature[..signature.len() / 2]),
            401,
        ),
        ("a token for another resource", elsewhere, 401),
        ("no `mcp` scope", no_mcp_scope, 403),
    ] {
        let (got, body) = whoami(&server, &bad).await;
        assert_eq!(got, status, "{what}: {body}");
    }
    // The provider's JWKS goes down: tokens signed with the known key keep working.
    provider.control("jwks", json!({ "mode": "down" })).await?;
    let fresh = provider.token("svc-all", "mcp", &server.endpoint).await?;
    assert_eq!(whoami(&server, &fresh).await.0, 200);
    stop(server).await;
    Ok(())
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .expect("base64url")
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
