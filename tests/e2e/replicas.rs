//! Three replicas of the greet-user binary behind a real nginx (Debian's, installed by
//! `.ci/run`), driven by rmcp's client through it: Streamable HTTP here is stateless, so the
//! replicas share nothing. One replica is restarted with SIGTERM under load: no call fails.
//! Another is killed with SIGKILL: only calls in flight on it may fail (the number is printed).
//!
//! nginx retries a POST on the next replica when its connection failed
//! (`proxy_next_upstream error timeout non_idempotent`): when a replica stops listening, the
//! connections the kernel had queued but the server never accepted are reset, and the requests
//! on them were never handled. (After a SIGKILL the calls in flight are retried too, so an
//! action may then run twice; see the README's "Deploying".)

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use mcp_actions_tests::idp::TestIdp;
use mcp_actions_tests::prelude::*;
use rmcp::model::CallToolRequestParams;
use serde_json::{Value, json};
use tokio::process::{Child, Command};

use mcp_actions_tests::real::{NginxRouting, nginx_config};

use super::operations::{free_port, real_part};

const TOKEN: &str = "replicas-token-1234";
/// The audience of the JWTs every replica accepts (the public URL behind the load balancer).
const JWT_AUDIENCE: &str = "https://mcp.example.com/api/mcp-actions/v1";
/// Concurrent clients driving load through nginx.
const CLIENTS: usize = 4;
/// Calls each client makes at most (a bound on the loop, not a target).
const MAX_CALLS: usize = 3_000;

/// The greet-user binary `cargo test --workspace` builds next to this test binary.
pub(crate) fn greet_user_binary() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let path = exe.parent()?.parent()?.join("greet-user");
    if path.is_file() {
        return Some(path);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{} is missing: `cargo test --workspace` builds it",
        path.display()
    );
    eprintln!("SKIPPED: build the example first: cargo build -p greet-user");
    None
}

struct Replica {
    port: u16,
    child: Child,
    audit: PathBuf,
}

async fn start_replica(
    binary: &Path,
    dir: &Path,
    index: usize,
    port: u16,
    idp: &TestIdp,
) -> Replica {
    let audit = dir.join(format!("audit-{index}.jsonl"));
    let config = dir.join(format!("replica-{index}.yaml"));
    std::fs::write(
        &config,
        format!(
            "backend:\n  listen: {{ host: 127.0.0.1, port: {port} }}\n  auth:\n    externalAccess:\n      \
             - type: static\n        options: {{ token: {TOKEN}, subject: through-nginx }}\n      \
             - type: jwks\n        options: {{ url: \"{}\", issuer: \"{}\", audience: {JWT_AUDIENCE} }}\n\
             mcpActions:\n  audit:\n    file: {}\n  limits:\n    shutdownGraceSeconds: 5\n",
            idp.jwks_url,
            idp.issuer,
            audit.display()
        ),
    )
    .unwrap();
    let child = Command::new(binary)
        .args(["--config", config.to_str().unwrap(), "serve"])
        .env_clear()
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start a replica");
    eventually("the replica to be ready", || async move {
        let response = reqwest::get(format!("http://127.0.0.1:{port}/readyz"))
            .await
            .ok()?;
        response.status().is_success().then_some(())
    })
    .await;
    Replica { port, child, audit }
}

/// Calls made and failed by the load clients.
#[derive(Default)]
struct Load {
    ok: AtomicUsize,
    failed: AtomicUsize,
    stop: AtomicBool,
}

async fn connect(url: &str) -> Option<rmcp::service::RunningService<rmcp::RoleClient, ()>> {
    use rmcp::ServiceExt;
    use rmcp::transport::StreamableHttpClientTransport;
    use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
    let transport = StreamableHttpClientTransport::from_config(
        StreamableHttpClientTransportConfig::with_uri(url.to_owned()).auth_header(TOKEN),
    );
    ().serve(transport).await.ok()
}

async fn drive(url: String, load: Arc<Load>) {
    let mut client = None;
    for _ in 0..MAX_CALLS {
        if load.stop.load(Ordering::SeqCst) {
            return;
        }
        if client.is_none() {
            client = connect(&url).await;
            if client.is_none() {
                load.failed.fetch_add(1, Ordering::SeqCst);
                continue;
            }
        }
        let params = CallToolRequestParams::new("greet_user")
            .with_arguments(json!({ "name": "nginx" }).as_object().unwrap().clone());
        match client.as_ref().unwrap().call_tool(params).await {
            Ok(result) if result.is_error != Some(true) => {
                load.ok.fetch_add(1, Ordering::SeqCst);
            }
            _ => {
                load.failed.fetch_add(1, Ordering::SeqCst);
                client = None;
            }
        }
    }
}

async fn calls_reach(load: &Load, target: usize) {
    eventually("the load to make progress", || async {
        (load.ok.load(Ordering::SeqCst) >= target).then_some(())
    })
    .await;
}

async fn signal(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .await
        .expect("kill");
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_behind_nginx_survive_a_restart_and_lose_only_in_flight_calls_to_a_kill() {
    let Some(nginx) = real_part("nginx") else {
        return;
    };
    let Some(binary) = greet_user_binary() else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("mcp-actions-replicas-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let idp = TestIdp::start().await;
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let mut replicas = Vec::new();
    for (i, port) in ports.iter().enumerate() {
        replicas.push(start_replica(&binary, &dir, i, *port, &idp).await);
    }
    let listen = free_port();
    std::fs::write(dir.join("nginx.conf"), nginx_config(
            &dir,
            listen,
            &ports,
            NginxRouting {
                server_options: "max_fails=1 fail_timeout=2s",
                location: "proxy_next_upstream error timeout non_idempotent;\n      proxy_next_upstream_tries 3;",
                ..NginxRouting::default()
            },
        )).unwrap();
    let _nginx = Command::new(nginx)
        .args([
            "-p",
            dir.to_str().unwrap(),
            "-c",
            dir.join("nginx.conf").to_str().unwrap(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start nginx");
    let url = format!("http://127.0.0.1:{listen}/api/mcp-actions/v1");
    eventually("nginx to proxy", || async {
        let response = reqwest::get(format!("http://127.0.0.1:{listen}/healthz"))
            .await
            .ok()?;
        response.status().is_success().then_some(())
    })
    .await;

    // One JWT, verified by whichever replica gets each call: no replica shares state.
    let jwt = idp.token(&idp.claims(JWT_AUDIENCE, "mcp"));
    for i in 0..9 {
        let reply = post(
            &url,
            Some(&jwt),
            &call_request(i, "greet_user", json!({ "name": "jwt" })),
        )
        .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert!(
            !reply.json()["result"]["isError"].as_bool().unwrap_or(true),
            "{}",
            reply.body
        );
    }
    let load = Arc::new(Load::default());
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| tokio::spawn(drive(url.clone(), Arc::clone(&load))))
        .collect();
    calls_reach(&load, 60).await;

    // SIGTERM and restart replica 0 under load: nothing fails.
    let pid = replicas[0].child.id().expect("a pid");
    signal(pid, "-TERM").await;
    bounded("replica 0 to exit", replicas[0].child.wait())
        .await
        .unwrap();
    let restarted = start_replica(&binary, &dir, 3, replicas[0].port, &idp).await;
    replicas[0] = restarted;
    let seen = load.ok.load(Ordering::SeqCst);
    calls_reach(&load, seen + 60).await;
    assert_eq!(
        load.failed.load(Ordering::SeqCst),
        0,
        "calls failed while a replica restarted gracefully"
    );

    // SIGKILL replica 1: only the calls in flight on it may fail.
    replicas[1].child.start_kill().unwrap();
    bounded("replica 1 to die", replicas[1].child.wait())
        .await
        .unwrap();
    let seen = load.ok.load(Ordering::SeqCst);
    calls_reach(&load, seen + 60).await;
    load.stop.store(true, Ordering::SeqCst);
    for client in clients {
        bounded("a load client to stop", client).await.unwrap();
    }
    let failed = load.failed.load(Ordering::SeqCst);
    eprintln!(
        "replicas behind nginx: {} calls succeeded; {failed} failed after a SIGKILL of one replica (at most {CLIENTS} were in flight)",
        load.ok.load(Ordering::SeqCst)
    );
    assert!(failed <= CLIENTS, "{failed} calls failed after a SIGKILL");

    // The replicas that stopped gracefully audited the calls they served (the killed one may
    // have lost its unwritten lines; the restarted one may have had none yet: nginx leaves a
    // failed upstream alone for fail_timeout).
    for replica in &mut replicas {
        if replica.child.id().is_some() {
            signal(replica.child.id().unwrap(), "-TERM").await;
            bounded("a replica to stop", replica.child.wait())
                .await
                .unwrap();
        }
    }
    let audited: Vec<usize> = [&dir.join("audit-0.jsonl"), &replicas[2].audit]
        .iter()
        .map(|file| {
            std::fs::read_to_string(file)
                .unwrap_or_default()
                .lines()
                .filter(|line| {
                    serde_json::from_str::<Value>(line)
                        .is_ok_and(|e| e["event"] == "mcp-actions.tool-execution")
                })
                .count()
        })
        .collect();
    assert!(
        audited.iter().all(|n| *n > 0),
        "audit events per replica: {audited:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
