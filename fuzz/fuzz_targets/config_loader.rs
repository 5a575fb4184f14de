//! YAML bytes → `ConfigLoader::new().yaml(..).load()` (and, when it loads, building the server
//! and its router): must return `Ok` or `Err`, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_actions::Registry;
use mcp_actions_server::{ActionsServer, ConfigLoader};

fuzz_target!(|data: &[u8]| {
    // The first byte splits the input into two documents (merged in order).
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let split = (split as usize).min(rest.len());
    let (first, second) = rest.split_at(split);
    let (Ok(first), Ok(second)) = (std::str::from_utf8(first), std::str::from_utf8(second)) else {
        return;
    };
    let loaded = ConfigLoader::new()
        .yaml("first.yaml", first)
        .yaml("second.yaml", second)
        .env(|name| match name {
            "SET" | "PORT" => Some("8080".to_owned()),
            "TOKEN" | "MCP_TOKEN" => Some("env-token-123".to_owned()),
            "EMPTY" => Some(String::new()),
            _ => None,
        })
        .load();
    let config = match loaded {
        Ok(config) => config,
        Err(error) => {
            // Every error names something; formatting it must not panic either.
            let _ = error.to_string();
            let _ = error.key();
            return;
        }
    };
    let _ = config.effective();
    let _ = config.get::<serde_json::Value>("app.section");
    let _ = config.backend().listen.address();
    let built = ActionsServer::builder()
        .config(config)
        .registry(Registry::from_descriptors(std::iter::empty()).expect("an empty registry"))
        .build();
    if let Ok(server) = built {
        let base_url = server.base_url(None);
        let _ = server.allowed_hosts(&base_url);
        let _ = server.router(&base_url);
    }
});
