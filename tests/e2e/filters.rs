//! Choosing what is exposed through config: `backend.actions.pluginSources` and
//! `backend.actions.filter` (id globs, attributes after defaults, include/exclude precedence),
//! combined with the builder's `plugin_sources`, and the start-up warnings.

use mcp_actions_server::{ActionsServer, ActionsServerBuilder};
use mcp_actions_tests::prelude::*;
use serde_json::json;

use crate::setup::*;

/// The `e2e` actions and their attributes as written (destructive is never set explicitly):
///
/// | action | readOnly | idempotent | destructive (after defaults) |
/// |---|---|---|---|
/// | e2e_echo | yes | yes | no |
/// | e2e_explode | no | no | yes |
/// | e2e_fail, e2e_progress, e2e_read_secret, e2e_sleep, e2e_whoami | yes | no | no |
/// | e2e_write_secret | no | no | yes |
/// | e2e-other: e2e_other_plugin | yes | no | no |
const ALL: [&str; 9] = [
    "e2e_echo",
    "e2e_explode",
    "e2e_fail",
    "e2e_other_plugin",
    "e2e_progress",
    "e2e_read_secret",
    "e2e_sleep",
    "e2e_whoami",
    "e2e_write_secret",
];

fn with_actions(yaml: &str) -> ActionsServerBuilder {
    ActionsServer::builder()
        .config(configs(&[TEST_CONFIG, yaml]))
        .registry(registry(&["e2e", "e2e-other"]))
}

/// The tools a full-access client lists, over both lifecycles (which must agree).
async fn served(server: &TestServer) -> Vec<String> {
    let mut seen = Vec::new();
    for lifecycle in LIFECYCLES {
        let client = server.client(FULL_TOKEN, lifecycle).await;
        seen.push(tool_names(&client).await);
        client.cancel().await.unwrap();
    }
    assert_eq!(seen[0], seen[1], "both lifecycles list the same tools");
    seen.remove(0)
}

#[tokio::test]
async fn without_rules_everything_linked_is_served() {
    let server = TestServer::start(with_actions("backend:\n  actions: {}\n")).await;
    assert_eq!(served(&server).await, ALL);
}

#[tokio::test]
async fn plugin_sources_from_config_serve_only_those_plugins() {
    let server = TestServer::start(with_actions(
        "backend:\n  actions:\n    pluginSources: [e2e-other]\n",
    ))
    .await;
    assert_eq!(served(&server).await, ["e2e_other_plugin"]);
    // A filtered action does not exist for clients.
    let client = server.client(FULL_TOKEN, Lifecycle::Discover).await;
    assert_unknown_tool(
        &client,
        "e2e_echo",
        json!({"message": "hi", "options": {"loud": false}}),
    )
    .await;
}

#[tokio::test]
async fn builder_and_config_plugin_sources_combine_as_an_intersection() {
    let builder = with_actions("backend:\n  actions:\n    pluginSources: [e2e, e2e-other]\n")
        .plugin_sources(["e2e-other"]);
    let server = builder.build().unwrap();
    let exposure = server.exposure();
    let echo = exposure
        .iter()
        .find(|e| e.action.name() == "e2e_echo")
        .unwrap();
    assert_eq!(
        echo.decision.reason(),
        "plugin `e2e` is not in the plugin sources set in code"
    );
    let server = TestServer::serve(server).await;
    assert_eq!(served(&server).await, ["e2e_other_plugin"]);

    // The config narrows what the code allows; it never widens it.
    let server = TestServer::start(
        with_actions("backend:\n  actions:\n    pluginSources: [e2e]\n")
            .plugin_sources(["e2e-other"]),
    )
    .await;
    assert!(served(&server).await.is_empty());
}

#[tokio::test]
async fn include_rules_match_id_globs() {
    let server = TestServer::start(with_actions(
        "backend:\n  actions:\n    filter:\n      include:\n        - id: 'e2e:e2e_echo'\n        - id: '*:e2e_other_*'\n        - id: 'e2e:e2e_{who,fa}*'\n",
    ))
    .await;
    assert_eq!(
        served(&server).await,
        ["e2e_echo", "e2e_fail", "e2e_other_plugin", "e2e_whoami"]
    );
}

#[tokio::test]
async fn exclude_wins_over_include() {
    let yaml = "backend:\n  actions:\n    filter:\n      include: [ { id: 'e2e:*' } ]\n      exclude: [ { id: '*:*_secret' }, { id: 'e2e:e2e_s*' } ]\n";
    let server = with_actions(yaml).build().unwrap();
    let reason = |name: &str| {
        server
            .exposure()
            .iter()
            .find(|e| e.action.name() == name)
            .unwrap()
            .decision
            .reason()
            .to_owned()
    };
    assert_eq!(
        reason("e2e_read_secret"),
        "excluded by exclude[0] (id `*:*_secret`)"
    );
    assert_eq!(reason("e2e_other_plugin"), "matches no include rule");
    assert_eq!(reason("e2e_echo"), "included by include[0] (id `e2e:*`)");
    let server = TestServer::serve(server).await;
    assert_eq!(
        served(&server).await,
        [
            "e2e_echo",
            "e2e_explode",
            "e2e_fail",
            "e2e_progress",
            "e2e_whoami"
        ]
    );
    let client = server.client(FULL_TOKEN, Lifecycle::Initialize).await;
    assert_unknown_tool(&client, "e2e_write_secret", json!({})).await;
}

#[tokio::test]
async fn attributes_are_compared_after_defaults() {
    // Nothing sets `destructive`; it defaults to `!readOnly`.
    let server = TestServer::start(with_actions(
        "backend:\n  actions:\n    filter:\n      exclude: [ { attributes: { destructive: true } } ]\n",
    ))
    .await;
    let expected: Vec<&str> = ALL
        .into_iter()
        .filter(|n| !["e2e_explode", "e2e_write_secret"].contains(n))
        .collect();
    assert_eq!(served(&server).await, expected);

    // Every attribute of a rule must match.
    let server = TestServer::start(with_actions(
        "backend:\n  actions:\n    filter:\n      include: [ { attributes: { readOnly: true, idempotent: true } } ]\n",
    ))
    .await;
    assert_eq!(served(&server).await, ["e2e_echo"]);

    // `destructive: false` matches read-only actions through the default too.
    let server = TestServer::start(with_actions(
        "backend:\n  actions:\n    filter:\n      include: [ { attributes: { destructive: false } } ]\n",
    ))
    .await;
    assert_eq!(served(&server).await, expected);
}

#[tokio::test]
async fn id_and_attributes_in_one_rule_combine_with_and() {
    let server = TestServer::start(with_actions(
        "backend:\n  actions:\n    filter:\n      include:\n        - id: 'e2e:*'\n          attributes: { readOnly: false }\n",
    ))
    .await;
    assert_eq!(served(&server).await, ["e2e_explode", "e2e_write_secret"]);
}

#[tokio::test]
async fn rules_and_sources_that_match_nothing_are_start_up_warnings() {
    let server = with_actions(
        "backend:\n  actions:\n    pluginSources: [e2e, scaffolder]\n    filter:\n      include: [ { id: 'e2e:*' }, { id: 'scaffolder:*' } ]\n      exclude: [ { id: '*:e2e_whoami', attributes: { readOnly: false } } ]\n",
    )
    .build()
    .unwrap();
    assert_eq!(
        server.warnings(),
        [
            "backend.actions.pluginSources entry `scaffolder` has no actions in this binary",
            "backend.actions.filter.include[1] (id `scaffolder:*`) matches no action",
            "backend.actions.filter.exclude[0] (id `*:e2e_whoami` and attributes { readOnly: false }) matches no action",
        ]
    );
    // A clean config warns about nothing.
    let server = with_actions("backend:\n  actions:\n    pluginSources: [e2e]\n")
        .build()
        .unwrap();
    assert!(server.warnings().is_empty(), "{:?}", server.warnings());
    // Nothing exposed at all is worth a warning too.
    let server = with_actions("backend:\n  actions:\n    pluginSources: []\n")
        .build()
        .unwrap();
    assert!(
        server
            .warnings()
            .iter()
            .any(|w| w.starts_with("no action is exposed")),
        "{:?}",
        server.warnings()
    );
}

#[test]
fn unknown_rule_keys_and_bad_globs_are_config_errors_naming_the_key_path() {
    let load = |yaml: &str| {
        mcp_actions_server::ConfigLoader::new()
            .yaml("app-config.yaml", yaml)
            .env(|_| None)
            .load()
            .unwrap_err()
    };
    let error = load(
        "backend:\n  actions:\n    filter:\n      include:\n        - id: 'e2e:*'\n        - ids: 'x'\n",
    );
    assert_eq!(
        error.key(),
        Some("backend.actions.filter.include[1].ids"),
        "{error}"
    );
    let error = load(
        "backend:\n  actions:\n    filter:\n      exclude:\n        - attributes: { readOnly: true, openWorld: true }\n",
    );
    assert_eq!(
        error.key(),
        Some("backend.actions.filter.exclude[0].attributes.openWorld"),
        "{error}"
    );
    assert!(
        error.to_string().contains("readOnly"),
        "lists the valid keys: {error}"
    );
    let error = load("backend:\n  actions:\n    filter:\n      includes: []\n");
    assert_eq!(
        error.key(),
        Some("backend.actions.filter.includes"),
        "{error}"
    );
    let error = load("backend:\n  actions:\n    filter:\n      include: [ { id: 'e2e:{echo' } ]\n");
    assert_eq!(
        error.key(),
        Some("backend.actions.filter.include[0].id"),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .contains("`e2e:{echo` is not a valid glob"),
        "{error}"
    );
}
