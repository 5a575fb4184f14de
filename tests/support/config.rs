//! What a test server is built from: configs loaded from YAML alone (no environment variables,
//! so the machine running the tests changes nothing) and registries of linked plugins.

use mcp_actions::Registry;
use mcp_actions_server::{Config, ConfigLoader};

/// A loader of these YAML documents, merged in order, with no environment variables (add
/// `.env(…)` for a test that wants some).
pub fn loader(docs: &[&str]) -> ConfigLoader {
    docs.iter()
        .enumerate()
        .fold(ConfigLoader::new(), |loader, (i, doc)| {
            loader.yaml(format!("test-{i}.yaml"), *doc)
        })
        .env(|_| None)
}

/// Loads YAML as the only config source.
pub fn config(yaml: &str) -> Config {
    configs(&[yaml])
}

/// Loads several YAML documents, merged in order.
pub fn configs(docs: &[&str]) -> Config {
    loader(docs).load().expect("the test config is valid")
}

/// The actions of these plugins, out of everything linked into the test binary.
pub fn registry(plugins: &[&str]) -> Registry {
    Registry::from_inventory()
        .expect("the linked actions are valid")
        .retain(|a| plugins.contains(&a.plugin()))
}
