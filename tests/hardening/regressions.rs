//! Inputs for the fuzz targets in `fuzz/` (see `fuzz/README.md`), replayed through the same
//! paths with the same oracles, so CI checks them on every change. No fuzz run so far has
//! found a crash; a crash found later is added here as a named test, next to the fix.

use std::path::PathBuf;

use mcp_actions_server::ConfigLoader;
use mcp_actions_tests::prelude::*;

use crate::actions::Probe;
use crate::setup::*;

/// The committed seed inputs of a fuzz target (`fuzz/corpus/<target>/seed-*`).
fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut seeds: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("seed-"))
        })
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    seeds.sort();
    assert!(!seeds.is_empty(), "no seeds in {}", dir.display());
    seeds
}

#[tokio::test]
async fn http_request_seeds_never_get_a_5xx() {
    // The `http_request` target's encoding: the first byte picks the head, the rest is the
    // body; here over real HTTP rather than through the router in process.
    let server = TestServer::start(builder("", &Probe::shared())).await;
    for (name, data) in seeds("http_request") {
        let (&selector, body) = data.split_first().expect("a selector byte");
        let mut headers = vec![];
        match selector & 0b11 {
            0 | 1 => headers.push(("authorization", format!("Bearer {FULL_TOKEN}"))),
            2 => headers.push(("authorization", format!("Bearer {RESTRICTED_TOKEN}"))),
            _ => {}
        }
        if let Some(version) = [None, Some(V2025), Some(V2026), Some("1999-01-01")]
            [usize::from((selector >> 2) & 0b11)]
        {
            headers.push(("mcp-protocol-version", version.to_owned()));
        }
        if selector & 0b1_0000 == 0 {
            headers.push(("accept", "application/json, text/event-stream".to_owned()));
        } else {
            headers.push(("accept", "text/plain".to_owned()));
        }
        if selector & 0b10_0000 == 0 {
            headers.push(("content-type", "application/json".to_owned()));
        }
        let reply = send(&server.endpoint, &headers, body.to_vec()).await;
        assert!(reply.status < 500, "{name}: {reply:?}");
    }
    server.assert_serving().await;
}

#[test]
fn config_loader_seeds_load_or_fail_without_panicking() {
    for (name, data) in seeds("config_loader") {
        let (&split, rest) = data.split_first().expect("a split byte");
        let (first, second) = rest.split_at(usize::from(split).min(rest.len()));
        let (Ok(first), Ok(second)) = (std::str::from_utf8(first), std::str::from_utf8(second))
        else {
            continue;
        };
        let loaded = ConfigLoader::new()
            .yaml("first.yaml", first)
            .yaml("second.yaml", second)
            .env(|name| match name {
                "SET" | "PORT" => Some("8080".to_owned()),
                "TOKEN" | "MCP_TOKEN" => Some("env-token-123".to_owned()),
                _ => None,
            })
            .load();
        if let Err(error) = loaded {
            assert!(!error.to_string().is_empty(), "{name}");
        }
    }
}
