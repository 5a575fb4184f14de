//! Against a real Backstage backend (`tests/backstage`: `@backstage/backend-defaults`, the
//! catalog and the MCP actions backend, installed by `.ci/run`): Backstage's own MCP endpoint,
//! with this server as one of its plugin sources through `discovery.endpoints`, lists and calls
//! our actions for the official MCP TypeScript SDK client; an action's `InputError` arrives as
//! `isError: true`; and the caller our action sees is Backstage's `plugin:mcp-actions`, whose
//! plugin token we verified with Backstage's own published keys.
//!
//! Without `tests/backstage/node_modules` the test is skipped, except under CI (`CI` set), where
//! it fails; `MCP_ACTIONS_SKIP_BACKSTAGE=1` skips it anyway.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use mcp_actions::Registry;
use mcp_actions::prelude::*;
use mcp_actions_server::{ActionsServer, Backstage};
use mcp_actions_tests::interop::on_ci;
use mcp_actions_tests::prelude::*;
use serde_json::{Value, json};
use tokio::process::{Child, Command};

// The greet-user example's action (plugin `greet-user`).
use greet_user as _;

/// The static token MCP clients call Backstage with.
const BACKSTAGE_TOKEN: &str = "backstage-mcp-clients-token";
/// The static token of this server (Backstage does not use it: it sends plugin tokens).
const OUR_TOKEN: &str = "our-own-static-token";
/// How long Backstage may take to be ready (5-7 s on an idle machine).
const READY_WITHIN: Duration = Duration::from_secs(120);
/// How long the SDK client may take.
const CLIENT_WITHIN: Duration = Duration::from_secs(60);

/// Who is calling, as the action sees it.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
struct Caller {
    /// The principal, e.g. `service:plugin:mcp-actions`
    principal: String,
    /// The service subject, when the caller is a service
    subject: Option<String>,
}

/// Say who is calling.
#[action(plugin = "interop", title = "Who Am I", read_only)]
async fn whoami(ctx: &ActionContext) -> Result<Caller, ActionError> {
    let subject = match ctx.principal() {
        Principal::Service { subject } => Some(subject.clone()),
        _ => None,
    };
    Ok(Caller {
        principal: ctx.principal().to_string(),
        subject,
    })
}

/// What the catalog answered for an entity.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
struct CatalogAnswer {
    /// The HTTP status of `GET /api/catalog/entities/by-name/…`
    status: u16,
    /// The entity's `metadata.name`, when found
    name: Option<String>,
}

/// Which component to read.
#[derive(Debug, Deserialize, JsonSchema)]
struct ComponentName {
    /// The component's name (namespace `default`)
    name: String,
}

/// Read a component from Backstage's catalog, through its REST API, with a plugin token for
/// the catalog on behalf of the caller (Backstage's first rule for actions).
#[action(plugin = "interop", title = "Read Catalog Component", read_only)]
async fn read_component(
    input: ComponentName,
    ctx: &ActionContext,
    backstage: Service<Backstage>,
) -> Result<CatalogAnswer, ActionError> {
    let base = backstage.base_url("catalog").ok_or_else(|| {
        ActionError::service_unavailable("`catalog` is not in discovery.endpoints")
    })?;
    let token = backstage.plugin_request_token(ctx, "catalog")?;
    let response = reqwest::Client::new()
        .get(format!(
            "{base}/entities/by-name/component/default/{}",
            input.name
        ))
        .bearer_auth(token)
        .send()
        .await
        .map_err(|e| ActionError::service_unavailable(format!("the catalog: {e}")))?;
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    Ok(CatalogAnswer {
        status,
        name: body["metadata"]["name"].as_str().map(str::to_owned),
    })
}

fn app_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("backstage")
}

/// Whether to run: the app is installed, or (under CI) it must be.
fn should_run() -> bool {
    if std::env::var_os("MCP_ACTIONS_SKIP_BACKSTAGE").is_some() {
        eprintln!("backstage: skipped (MCP_ACTIONS_SKIP_BACKSTAGE is set)");
        return false;
    }
    let installed = app_dir()
        .join("node_modules/@backstage/backend-defaults/package.json")
        .is_file();
    if !installed && on_ci() {
        panic!(
            "tests/backstage is not installed; .ci/run installs it (npm ci with npm_config_build_from_source=true)"
        );
    }
    if !installed {
        eprintln!(
            "backstage: skipped: tests/backstage/node_modules is missing (install it as .ci/run does)"
        );
    }
    installed
}

/// A free loopback port for Backstage (bound and released: Backstage binds it itself).
fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// A running Backstage backend, killed when dropped.
struct BackstageApp {
    child: Child,
    base_url: String,
    log: PathBuf,
}

impl BackstageApp {
    /// Starts it on `port` with `mcp_actions_url` as the discovery target of our plugins, and
    /// waits until it is ready.
    async fn start(port: u16, mcp_actions_url: &str) -> Result<Self> {
        let log = std::env::temp_dir().join(format!("mcp-actions-backstage-{port}.log"));
        let out = std::fs::File::create(&log).context("creating the Backstage log")?;
        let child = Command::new("node")
            .arg("index.js")
            .current_dir(app_dir())
            .env("BACKSTAGE_PORT", port.to_string())
            .env("MCP_ACTIONS_URL", mcp_actions_url)
            .env("BACKSTAGE_TOKEN", BACKSTAGE_TOKEN)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .kill_on_drop(true)
            .spawn()
            .context("spawning node index.js")?;
        let mut backstage = Self {
            child,
            base_url: format!("http://127.0.0.1:{port}"),
            log,
        };
        let started = Instant::now();
        backstage.wait_ready().await?;
        eprintln!(
            "backstage: ready after {:.1} s",
            started.elapsed().as_secs_f64()
        );
        Ok(backstage)
    }

    async fn wait_ready(&mut self) -> Result<()> {
        let url = format!("{}/.backstage/health/v1/readiness", self.base_url);
        let client = reqwest::Client::new();
        let deadline = Instant::now() + READY_WITHIN;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "Backstage exited ({status}) before it was ready:\n{}",
                    self.log_tail()
                );
            }
            let ready = client
                .get(&url)
                .timeout(Duration::from_secs(2))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!(
            "Backstage was not ready within {READY_WITHIN:?}:\n{}",
            self.log_tail()
        )
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
    }
}

/// The Python of `tests/interop/.venv`, with the MCP Python SDK (installed by `.ci/run` and by
/// the interop suite); `None` when it is not installed (under CI: a failure).
fn python() -> Option<PathBuf> {
    let interop = mcp_actions_tests::interop::interop_dir();
    let wanted = std::fs::read(interop.join("requirements.txt")).ok();
    let have = std::fs::read(interop.join(".venv/installed-requirements.txt")).ok();
    let python = interop.join(".venv/bin/python");
    if wanted.is_some() && wanted == have && python.is_file() {
        return Some(python);
    }
    assert!(
        !on_ci(),
        "tests/interop/.venv is not installed; .ci/run installs it"
    );
    eprintln!("backstage: the Python SDK part is skipped: tests/interop/.venv is not installed");
    None
}

/// Runs `py-client.py` (the MCP Python SDK) against `endpoint` with `token`: its summary.
async fn python_client(python: &Path, endpoint: &str, token: &str, calls: &Value) -> Result<Value> {
    run_client(python.as_os_str(), "py-client.py", endpoint, token, calls).await
}

/// Runs `node mcp-client.js` against `endpoint` with `token`: its JSON summary.
async fn sdk_client(endpoint: &str, token: &str, calls: &Value) -> Result<Value> {
    run_client("node".as_ref(), "mcp-client.js", endpoint, token, calls).await
}

/// Runs `program script endpoint token calls` in the Backstage app's folder, bounded by
/// [`CLIENT_WITHIN`]: the JSON summary the client script prints.
async fn run_client(
    program: &std::ffi::OsStr,
    script: &str,
    endpoint: &str,
    token: &str,
    calls: &Value,
) -> Result<Value> {
    let run = Command::new(program)
        .arg(script)
        .arg(endpoint)
        .arg(token)
        .arg(calls.to_string())
        .current_dir(app_dir())
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(CLIENT_WITHIN, run)
        .await
        .with_context(|| format!("{script} did not finish in time"))??;
    if !out.status.success() {
        bail!(
            "{script} failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    serde_json::from_slice(&out.stdout).with_context(|| format!("{script}'s summary"))
}

/// Our server: the greet-user example and `interop`, trusting Backstage's `mcp-actions`
/// plugin (its keys at `<backstage>/api/mcp-actions/.backstage/auth/v1/jwks.json`).
async fn our_server(backstage_port: u16) -> Result<TestServer> {
    let yaml = format!(
        r#"
backend:
  auth:
    externalAccess:
      - type: static
        options: {{ token: {OUR_TOKEN}, subject: ci }}
  actions:
    # greet-user and interop are linked in; catalog is Backstage's (a remote source).
    pluginSources: [greet-user, interop, catalog]
discovery:
  endpoints:
    - target: http://127.0.0.1:{backstage_port}/api/{{{{pluginId}}}}
      plugins: [mcp-actions, catalog]
mcpActions:
  backstage:
    pluginId: rust-actions
    refreshSeconds: 1
  servers:
    # A named server keeps, of the remote actions as of the linked ones, what its filter keeps.
    catalog-reader:
      name: catalog-reader
      filter:
        include: [ {{ id: 'catalog:get-catalog-entity' }} ]
"#
    );
    let registry = Registry::from_inventory()?.with_plugin_sources(&["greet-user", "interop"]);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let server = ActionsServer::builder()
        .config(config(&yaml))
        .registry(registry)
        .build()?;
    Ok(TestServer::serve_on(listener, server).await)
}

/// Our tools/list, until `check` accepts the tool names (bounded).
async fn eventually_tools(ours: &TestServer, check: impl Fn(&Vec<String>) -> bool) {
    eventually("our tools/list to change", || async {
        let reply = post(&ours.endpoint, Some(OUR_TOKEN), &rpc(1, "tools/list", None)).await;
        check(&listed_names(&reply)).then_some(())
    })
    .await;
}

/// The tool names of a `tools/list` answer (none when it is not one).
fn listed_names(reply: &Reply) -> Vec<String> {
    reply.json()["result"]["tools"]
        .as_array()
        .map(|tools| {
            tools
                .iter()
                .filter_map(|t| t["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Backstage's catalog actions through our MCP endpoint, for the TypeScript SDK client.
async fn remote_catalog_tools(ours: &TestServer) -> Result<Value> {
    eventually_tools(ours, |tools| {
        tools.contains(&"get_catalog_entity".to_owned())
    })
    .await;
    let calls = json!([
        { "name": "get_catalog_entity",
          "arguments": { "kind": "Component", "name": "mcp-actions-test-component" } },
        { "name": "query_catalog_entities", "arguments": { "query": { "kind": "Component" } } },
        { "name": "get_catalog_entity", "arguments": { "name": "no-such-component" } },
    ]);
    let typescript = sdk_client(&ours.endpoint, OUR_TOKEN, &calls).await?;
    if let Some(python) = python() {
        let summary = python_client(&python, &ours.endpoint, OUR_TOKEN, &calls).await?;
        let tools = summary["tools"].to_string();
        assert!(tools.contains("\"get_catalog_entity\""), "{summary}");
        assert!(tools.contains("\"query_catalog_entities\""), "{summary}");
        let calls = &summary["calls"];
        assert_eq!(
            calls[0]["structuredContent"]["metadata"]["name"], "mcp-actions-test-component",
            "{summary}"
        );
        assert_eq!(calls[2]["isError"], true, "{summary}");
        assert!(
            calls[2]["text"]
                .as_str()
                .is_some_and(|t| t.starts_with("InputError: No entity found")),
            "{summary}"
        );
        eprintln!("backstage: the Python SDK client got the catalog's answers too");
    }
    named_server_keeps_what_its_filter_keeps(ours).await;
    Ok(typescript)
}

/// The named server `catalog-reader` (`include: catalog:get-catalog-entity`) serves the
/// catalog's remote `get-catalog-entity`, and neither its `query-catalog-entities` nor our
/// linked actions.
async fn named_server_keeps_what_its_filter_keeps(ours: &TestServer) {
    let named = ours.named("catalog-reader");
    let listed = post(&named, Some(OUR_TOKEN), &rpc(1, "tools/list", None)).await;
    assert_eq!(listed_names(&listed), ["get_catalog_entity"], "{listed:?}");
    let entity = post(
        &named,
        Some(OUR_TOKEN),
        &call_request(
            2,
            "get_catalog_entity",
            json!({ "kind": "Component", "name": "mcp-actions-test-component" }),
        ),
    )
    .await;
    assert_eq!(
        entity.json()["result"]["structuredContent"]["metadata"]["name"],
        "mcp-actions-test-component",
        "{entity:?}"
    );
    let query = post(
        &named,
        Some(OUR_TOKEN),
        &call_request(3, "query_catalog_entities", json!({})),
    )
    .await;
    assert_eq!(query.json()["error"]["code"], -32602, "{query:?}");
}

/// Calls `read_component` on our server until the catalog has ingested the component: its
/// answer. A refused token (401) fails at once.
async fn read_component_until_found(ours: &TestServer) -> Result<Value> {
    let request = call_request(
        1,
        "read_component",
        json!({ "name": "mcp-actions-test-component" }),
    );
    let deadline = Instant::now() + READY_WITHIN;
    loop {
        let reply = post(&ours.endpoint, Some(OUR_TOKEN), &request).await;
        let answer = reply.json()["result"]["structuredContent"].clone();
        match answer["status"].as_u64() {
            Some(200) => return Ok(answer),
            Some(404) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            _ => bail!("the catalog did not answer as expected: {reply:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backstage_serves_our_actions_through_its_own_mcp_endpoint() -> Result<()> {
    if !should_run() {
        return Ok(());
    }
    let started = Instant::now();
    let backstage_port = free_port()?;
    let ours = our_server(backstage_port).await?;
    let backstage = BackstageApp::start(backstage_port, &ours.base_url).await?;
    let endpoint = format!("{}/api/mcp-actions/v1", backstage.base_url);
    let calls = json!([
        { "name": "greet-user.greet_user", "arguments": { "name": "Backstage" } },
        { "name": "greet-user.greet_user", "arguments": { "name": " " } },
        { "name": "interop.whoami", "arguments": {} },
    ]);
    let summary = sdk_client(&endpoint, BACKSTAGE_TOKEN, &calls).await;
    // The other way: our action reads the real catalog with our plugin token, which Backstage
    // verifies with the keys we publish (the catalog ingests its file location meanwhile).
    let catalog = read_component_until_found(&ours).await;
    // And Backstage's catalog actions as tools of ours, for the TypeScript SDK client.
    let remote = remote_catalog_tools(&ours).await;
    let log = backstage.log_tail();
    backstage.stop().await;
    let remote = remote.with_context(|| format!("Backstage's log:\n{log}"))?;
    let remote_tools: Vec<&str> = remote["tools"]
        .as_array()
        .context("tools")?
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    for expected in [
        "greet_user",
        "whoami",
        "get_catalog_entity",
        "query_catalog_entities",
    ] {
        assert!(
            remote_tools.contains(&expected),
            "{expected} missing: {remote_tools:?}"
        );
    }
    let entity = &remote["calls"][0]["structuredContent"];
    assert_eq!(
        entity["metadata"]["name"], "mcp-actions-test-component",
        "{remote}"
    );
    let query = &remote["calls"][1]["structuredContent"];
    assert!(
        query.to_string().contains("mcp-actions-test-component"),
        "{remote}"
    );
    assert_eq!(remote["calls"][2]["isError"], true, "{remote}");
    let missing = remote["calls"][2]["content"][0]["text"]
        .as_str()
        .unwrap_or_default();
    // The catalog's own answer (400 InputError), mapped back to our taxonomy.
    assert!(
        missing.starts_with("InputError: No entity found"),
        "{remote}"
    );

    // Backstage stopped: its tools are hidden, ours keep working; started again: back.
    eventually_tools(&ours, |tools| {
        !tools.contains(&"get_catalog_entity".to_owned())
    })
    .await;
    let greet = post(
        &ours.endpoint,
        Some(OUR_TOKEN),
        &call_request(2, "greet_user", json!({ "name": "Rust" })),
    )
    .await;
    assert_eq!(
        greet.json()["result"]["structuredContent"]["greeting"],
        "Hello Rust!",
        "{greet:?}"
    );
    let backstage = BackstageApp::start(backstage_port, &ours.base_url).await?;
    eventually_tools(&ours, |tools| {
        tools.contains(&"get_catalog_entity".to_owned())
    })
    .await;
    backstage.stop().await;
    let summary = summary.with_context(|| format!("Backstage's log:\n{log}"))?;

    let tools: Vec<&str> = summary["tools"]
        .as_array()
        .context("tools")?
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    for expected in [
        "greet-user.greet_user",
        "interop.whoami",
        "catalog.get-catalog-entity",
    ] {
        assert!(tools.contains(&expected), "{expected} missing: {tools:?}");
    }
    let greet = summary["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "greet-user.greet_user")
        .unwrap();
    assert_eq!(greet["inputSchema"]["required"], json!(["name"]), "{greet}");
    assert_eq!(greet["annotations"]["readOnlyHint"], true, "{greet}");

    let results = &summary["calls"];
    assert_eq!(
        results[0]["structuredContent"],
        json!({ "greeting": "Hello Backstage!" }),
        "{results}"
    );
    assert_eq!(results[1]["isError"], true, "{results}");
    let text = results[1]["content"][0]["text"]
        .as_str()
        .unwrap_or_default();
    assert_eq!(text, "InputError: name must not be empty", "{results}");
    assert_eq!(
        results[2]["structuredContent"]["subject"], "plugin:mcp-actions",
        "{results}"
    );
    let catalog = catalog.with_context(|| format!("Backstage's log:\n{log}"))?;
    assert_eq!(catalog["name"], "mcp-actions-test-component", "{catalog}");
    eprintln!(
        "backstage: the whole test took {:.1} s",
        started.elapsed().as_secs_f64()
    );
    ours.stop().await?;
    Ok(())
}
