//! The loader and the model, end to end: YAML in, typed sections, errors and the effective
//! view out.

use std::time::Duration;

use mcp_actions::{AccessRestriction, Credentials, PermissionAction};
use serde::Deserialize;

use super::*;

fn load(yaml: &str) -> Result<Config, ConfigError> {
    ConfigLoader::new()
        .yaml("test.yaml", yaml)
        .env(|name| (name == "SET").then(|| "value-123".to_owned()))
        .load()
}

#[test]
fn defaults_without_sources() {
    let config = ConfigLoader::new().env(|_| None).load().unwrap();
    assert_eq!(config.backend().listen, ListenConfig::default());
    assert_eq!(config.mcp_actions().name, "mcp-actions");
    assert_eq!(config.mcp_actions().limits, LimitsConfig::default());
    assert!(config.backend().auth.external_access.is_empty());
}

#[test]
fn merges_in_order_and_deep() {
    let config = ConfigLoader::new()
        .yaml(
            "a",
            "backend:\n  listen: { host: 0.0.0.0, port: 1 }\n  baseUrl: http://a\nother: [1, 2]\n",
        )
        .yaml("b", "backend:\n  listen: { port: 2 }\nother: [3]\n")
        .env(|_| None)
        .load()
        .unwrap();
    assert_eq!(config.backend().listen.host, "0.0.0.0");
    assert_eq!(config.backend().listen.port, 2);
    assert_eq!(config.backend().base_url.as_deref(), Some("http://a"));
    assert_eq!(config.tree()["other"], serde_json::json!([3]));
}

#[test]
fn substitutes_and_escapes() {
    let config = load("x: \"a-${SET}-$${SET}-$5\"\n").unwrap();
    assert_eq!(config.tree()["x"], "a-value-123-${SET}-$5");
}

#[test]
fn missing_variable_names_it_and_the_key() {
    let err = load("backend:\n  auth:\n    externalAccess:\n      - type: static\n        options: { token: \"${NOPE}\", subject: s }\n").unwrap_err();
    let text = err.to_string();
    assert!(text.contains("`NOPE`"), "{text}");
    assert!(
        text.contains("backend.auth.externalAccess[0].options.token"),
        "{text}"
    );
    assert!(text.contains("test.yaml"), "{text}");
}

#[test]
fn port_may_come_from_a_variable() {
    let config = ConfigLoader::new()
        .yaml("t", "backend:\n  listen:\n    port: ${PORT}\n")
        .env(|_| Some("8081".into()))
        .load()
        .unwrap();
    assert_eq!(config.backend().listen.port, 8081);
    let err = load("backend:\n  listen:\n    port: 70000\n").unwrap_err();
    assert_eq!(err.key(), Some("backend.listen.port"), "{err}");
}

#[test]
fn listen_string_form() {
    let config = load("backend:\n  listen: ':9000'\n").unwrap();
    assert_eq!(
        config.backend().listen,
        ListenConfig {
            host: "127.0.0.1".into(),
            port: 9000
        }
    );
}

#[test]
fn unknown_keys_in_owned_sections_are_errors() {
    let err = load("mcpActions:\n  nmae: x\n").unwrap_err();
    assert!(err.to_string().contains("nmae"), "{err}");
    assert!(err.to_string().contains("mcpActions"), "{err}");
    let err = load("backend:\n  listen:\n    prot: 1\n").unwrap_err();
    assert!(err.to_string().contains("prot"), "{err}");
    assert!(err.to_string().contains("backend.listen"), "{err}");
    let err = load("mcpActions:\n  limits:\n    actionTimeoutSecs: 1\n").unwrap_err();
    assert!(err.to_string().contains("mcpActions.limits"), "{err}");
    // Other Backstage sections and backend keys are ignored.
    load("backend:\n  database: { client: pg }\n  auth: { keys: [] }\ncatalog: { x: 1 }\n")
        .unwrap();
}

#[test]
fn static_tokens_are_validated() {
    let err = load("backend:\n  auth:\n    externalAccess:\n      - type: static\n        options: { token: short, subject: s }\n      - type: static\n        options: { token: has space in it, subject: s }\n").unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("backend.auth.externalAccess[0].options.token"),
        "{text}"
    );
    assert!(text.contains("at least 8"), "{text}");
    assert!(
        text.contains("backend.auth.externalAccess[1].options.token"),
        "{text}"
    );
    assert!(!text.contains("short,"), "tokens are never printed: {text}");
    let err = load("backend:\n  auth:\n    externalAccess:\n      - type: static\n        options: { token: abcdefgh1, subject: a }\n      - type: static\n        options: { token: abcdefgh1, subject: b }\n").unwrap_err();
    assert!(err.to_string().contains("unique"), "{err}");
    assert!(!err.to_string().contains("abcdefgh1"), "{err}");
    let err = load("backend:\n  auth:\n    externalAccess:\n      - type: static\n        options: { token: abcdefgh1, subjct: a }\n").unwrap_err();
    assert!(
        err.to_string()
            .contains("backend.auth.externalAccess[0].options"),
        "{err}"
    );
    assert!(err.to_string().contains("subjct"), "{err}");
}

#[test]
fn access_restrictions_accept_one_or_many() {
    let config = load("backend:\n  auth:\n    externalAccess:\n      - type: static\n        options: { token: abcdefgh1, subject: a }\n        accessRestrictions:\n          - plugin: catalog\n          - plugin: x\n            permission: x.view\n            permissionAttribute: { action: [read, create] }\n").unwrap();
    let t = &config.backend().auth.external_access[0];
    let rs = t.access_restrictions.as_ref().unwrap();
    assert_eq!(rs[0].restriction(), AccessRestriction::plugin("catalog"));
    assert_eq!(
        rs[1].restriction(),
        AccessRestriction::plugin("x")
            .with_permissions(["x.view"])
            .with_actions([PermissionAction::Read, PermissionAction::Create])
    );
    let err = load("backend:\n  auth:\n    externalAccess:\n      - type: static\n        options: { token: abcdefgh1, subject: a }\n        accessRestrictions:\n          - plugin: x\n            permissionAttribute: { action: reed }\n").unwrap_err();
    assert!(err.to_string().contains("reed"), "{err}");
}

#[test]
fn bad_yaml_names_the_file_and_line() {
    let err = load("backend:\n  listen: [\n").unwrap_err();
    assert!(matches!(err, ConfigError::Syntax { .. }), "{err}");
    assert!(err.to_string().contains("test.yaml"), "{err}");
    let err = load("- a\n- b\n").unwrap_err();
    assert!(err.to_string().contains("mapping"), "{err}");
    let err = load("backend:\n  listen: { port: 1 }\nbackend:\n  baseUrl: http://x\n").unwrap_err();
    assert_eq!(err.key(), Some("backend"), "{err}");
    assert!(
        err.to_string()
            .contains("written twice in config file test.yaml"),
        "{err}"
    );
    let err = load("backend:\n  listen: { port: 1, port: 2 }\n").unwrap_err();
    assert_eq!(err.key(), Some("backend.listen.port"), "{err}");
    let err = load("a:\n  - x: 1\n    x: 2\n").unwrap_err();
    assert!(err.key().unwrap().ends_with(".x"), "{err}");
}

#[test]
fn actions_filter_and_plugin_sources() {
    let config = load("backend:\n  actions:\n    pluginSources: [catalog, my-custom-plugin]\n    filter:\n      include:\n        - id: 'catalog:*'\n          attributes: { readOnly: true }\n      exclude:\n        - id: '*:delete_*'\n").unwrap();
    let actions = &config.backend().actions;
    assert_eq!(
        actions.plugin_sources.as_deref(),
        Some(&["catalog".to_owned(), "my-custom-plugin".to_owned()][..])
    );
    assert_eq!(actions.filter.include[0].id.as_deref(), Some("catalog:*"));
    assert_eq!(
        actions.filter.include[0].attributes.unwrap().read_only,
        Some(true)
    );
    assert_eq!(actions.filter.exclude[0].id.as_deref(), Some("*:delete_*"));
    actions
        .filter
        .compile(actions.plugin_sources.clone())
        .unwrap();
    assert_eq!(
        load("x: 1\n").unwrap().backend().actions,
        ActionsConfig::default()
    );
}

#[test]
fn unknown_rule_keys_and_bad_globs_name_the_key_path() {
    let err =
        load("backend:\n  actions:\n    filter:\n      include:\n        - idd: 'catalog:*'\n")
            .unwrap_err();
    assert_eq!(
        err.key(),
        Some("backend.actions.filter.include[0].idd"),
        "{err}"
    );
    assert!(
        err.to_string().contains("expected `id` or `attributes`"),
        "{err}"
    );
    let err = load("backend:\n  actions:\n    filter:\n      exclude:\n        - attributes: { readonly: true }\n").unwrap_err();
    assert_eq!(
        err.key(),
        Some("backend.actions.filter.exclude[0].attributes.readonly"),
        "{err}"
    );
    let err = load("backend:\n  actions:\n    pluginSource: [x]\n").unwrap_err();
    assert_eq!(err.key(), Some("backend.actions.pluginSource"), "{err}");
    let err =
        load("backend:\n  actions:\n    filter:\n      exclude:\n        - id: 'catalog:['\n")
            .unwrap_err();
    assert_eq!(
        err.key(),
        Some("backend.actions.filter.exclude[0].id"),
        "{err}"
    );
    assert!(
        err.to_string().contains("`catalog:[` is not a valid glob"),
        "{err}"
    );
}

#[test]
fn named_servers() {
    let config = load("mcpActions:\n  namespacedToolNames: true\n  servers:\n    read-only:\n      name: Read only\n      filter:\n        include: [ { attributes: { readOnly: true } } ]\n    admin:\n      name: Admin\n      description: Everything\n").unwrap();
    let m = config.mcp_actions();
    assert!(m.namespaced_tool_names);
    let keys: Vec<_> = m.servers.keys().map(String::as_str).collect();
    assert_eq!(keys, ["admin", "read-only"]);
    assert_eq!(m.servers["read-only"].name, "Read only");
    assert_eq!(m.servers["read-only"].filter.include.len(), 1);
    assert_eq!(
        m.servers["admin"].description.as_deref(),
        Some("Everything")
    );

    for bad in ["Admin", "-x", "a_b", "a.b"] {
        let err = load(&format!(
            "mcpActions:\n  servers:\n    '{bad}':\n      name: x\n"
        ))
        .unwrap_err();
        assert_eq!(
            err.key(),
            Some(format!("mcpActions.servers.{bad}").as_str()),
            "{err}"
        );
        assert!(err.to_string().contains("not a valid server key"), "{err}");
    }
    let err = load("mcpActions:\n  servers:\n    sse:\n      name: x\n").unwrap_err();
    assert!(err.to_string().contains("legacy HTTP+SSE"), "{err}");
    let err = load("mcpActions:\n  servers:\n    ops:\n      description: no name\n").unwrap_err();
    assert_eq!(err.key(), Some("mcpActions.servers.ops"), "{err}");
    assert!(err.to_string().contains("missing field `name`"), "{err}");
    let err = load("mcpActions:\n  servers:\n    ops:\n      name: x\n      filter:\n        include: [ { id: '{a' } ]\n        exclude: [ { id: 'b[' } ]\n").unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("`mcpActions.servers.ops.filter.include[0].id`"),
        "{text}"
    );
    assert!(
        text.contains("`mcpActions.servers.ops.filter.exclude[0].id`"),
        "{text}"
    );
}

#[test]
fn effective_masks_every_secret() {
    let config = load("backend:\n  auth:\n    keys: [ { secret: key-material-1 } ]\n    externalAccess:\n      - type: static\n        options: { token: abcdefgh1, subject: a }\n        accessRestrictions: [ { plugin: x, permissionAttribute: { action: read } } ]\n  database:\n    connection: { password: hunter22, user: me }\nintegrations:\n  github: [ { host: github.com, token: ghp_x1 } ]\n").unwrap();
    let effective = config.effective();
    let text = effective.to_string();
    for secret in ["abcdefgh1", "key-material-1", "hunter22", "ghp_x1"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    assert_eq!(effective["backend"]["database"]["connection"]["user"], "me");
    assert_eq!(
        effective["backend"]["auth"]["externalAccess"][0]["accessRestrictions"],
        serde_json::json!([{ "plugin": "x", "permissionAttribute": { "action": ["read"] } }])
    );
    assert_eq!(
        effective["mcpActions"]["limits"]["actionTimeoutSeconds"],
        30
    );
    assert_eq!(effective["mcpActions"]["name"], "mcp-actions");
    assert_eq!(effective["mcpActions"]["sse"]["maxSessions"], 100);
    assert_eq!(
        effective["mcpActions"]["stdio"],
        serde_json::json!({ "subject": "stdio" })
    );
}

#[test]
fn transport_sections_are_read_with_their_key_paths() {
    let config =
        load("mcpActions:\n  sse: { enabled: false }\n  stdio: { user: 'user:default/jane' }\n")
            .unwrap();
    assert!(!config.mcp_actions().sse.enabled);
    assert_eq!(
        config.mcp_actions().stdio.credentials(),
        Credentials::user("user:default/jane")
    );
    let err = load("mcpActions:\n  sse: { maxSession: 1 }\n").unwrap_err();
    assert_eq!(err.key(), Some("mcpActions.sse.maxSession"), "{err}");
}

#[test]
fn concurrency_and_shutdown_limits_are_read_and_shown() {
    let defaults = Config::default();
    let limits = &defaults.mcp_actions().limits;
    assert_eq!(limits.max_concurrent_requests, 256);
    assert_eq!(limits.shutdown_grace(), Duration::from_secs(10));
    let config =
        load("mcpActions:\n  limits:\n    maxConcurrentRequests: 3\n    shutdownGraceSeconds: 0\n")
            .unwrap();
    let limits = &config.mcp_actions().limits;
    assert_eq!(limits.max_concurrent_requests, 3);
    assert_eq!(limits.shutdown_grace(), Duration::ZERO);
    let effective = config.effective();
    assert_eq!(
        effective["mcpActions"]["limits"]["maxConcurrentRequests"],
        3
    );
    assert_eq!(effective["mcpActions"]["limits"]["shutdownGraceSeconds"], 0);
    let err = load("mcpActions:\n  limits:\n    maxConcurrentRequests: 0\n").unwrap_err();
    assert_eq!(
        err.key(),
        Some("mcpActions.limits.maxConcurrentRequests"),
        "{err}"
    );
}

#[test]
fn app_sections_are_readable() {
    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    struct Mine {
        #[allow(dead_code)]
        n: u32,
    }
    let config = load("app:\n  mine:\n    n: nope\n").unwrap();
    let err = config.get::<Mine>("app.mine").unwrap_err();
    assert_eq!(err.key(), Some("app.mine.n"), "{err}");
    assert!(config.get::<Mine>("app.absent").unwrap().is_none());
}

#[test]
fn sse_section() {
    let sse = |yaml: &str| load(yaml).map(|c| c.mcp_actions().sse.clone());
    assert_eq!(sse("x: 1\n").unwrap(), SseConfig::default());
    let config = sse("mcpActions:\n  sse: { enabled: 'false', maxSessions: '7', idleTimeoutSeconds: 0, keepAliveSeconds: 2 }\n").unwrap();
    assert!(!config.enabled);
    assert_eq!(config.max_sessions, 7);
    assert_eq!(config.idle_timeout(), None);
    assert_eq!(config.keep_alive(), Some(Duration::from_secs(2)));

    let err = sse("mcpActions:\n  sse: { maxSessions: 0 }\n").unwrap_err();
    assert!(
        err.to_string()
            .contains("`mcpActions.sse.maxSessions`: must be at least 1"),
        "{err}"
    );
    let err = sse("mcpActions:\n  sse: { idleTimeout: 5 }\n").unwrap_err();
    assert!(
        err.to_string().contains("unknown field `idleTimeout`"),
        "{err}"
    );
    let err = sse("mcpActions:\n  sse: { maxSessions: -1 }\n").unwrap_err();
    assert!(
        err.to_string().contains("mcpActions.sse.maxSessions") && err.to_string().contains("≥ 0"),
        "{err}"
    );
}

#[test]
fn stdio_section() {
    let stdio = |yaml: &str| load(yaml).map(|c| c.mcp_actions().stdio.credentials());
    assert_eq!(stdio("x: 1\n").unwrap(), Credentials::service("stdio"));
    assert_eq!(
        stdio("mcpActions:\n  stdio: { user: 'user:default/jane' }\n").unwrap(),
        Credentials::user("user:default/jane")
    );
    let err = stdio("mcpActions:\n  stdio: { user: 'u:a/b', subject: s }\n").unwrap_err();
    assert!(err.to_string().contains("not both"), "{err}");
}

#[test]
fn local_callers() {
    assert_eq!(
        credentials_from(None, None),
        Ok(Credentials::service("stdio"))
    );
    assert_eq!(
        credentials_from(Some("ci-bot"), None),
        Ok(Credentials::service("ci-bot"))
    );
    assert_eq!(
        credentials_from(None, Some("user:default/jane")),
        Ok(Credentials::user("user:default/jane"))
    );
    assert!(credentials_from(Some("a"), Some("user:b")).is_err());
    assert!(credentials_from(Some("two words"), None).is_err());
    assert!(credentials_from(Some(""), None).is_err());
    let err = credentials_from(None, Some("jane")).unwrap_err();
    assert!(err.to_string().contains("user:default/jane"), "{err}");
}

#[test]
fn errors_name_the_file_and_line_of_the_key() {
    let err = load("backend:\n  listen:\n    port: 70000\n").unwrap_err();
    assert_eq!(err.key(), Some("backend.listen.port"), "{err}");
    assert!(err.to_string().contains("(test.yaml:3)"), "{err}");
    // A later file's value is the one blamed.
    let err = ConfigLoader::new()
        .yaml(
            "a.yaml",
            "mcpActions:\n  limits:\n    maxConcurrentRequests: 5\n",
        )
        .yaml(
            "b.yaml",
            "x: 1\nmcpActions:\n  limits:\n    maxConcurrentRequests: 0\n",
        )
        .env(|_| None)
        .load()
        .unwrap_err();
    assert!(err.to_string().contains("(b.yaml:4)"), "{err}");
    // A secret written as a number is not echoed.
    let err = load("backend:\n  auth:\n    externalAccess:\n      - type: static\n        options: { token: 123456789, subject: s }\n").unwrap_err();
    assert!(!err.to_string().contains("123456789"), "{err}");
}

#[test]
fn unset_variables_may_be_placeholders_where_allowed() {
    let yaml = "backend:\n  auth:\n    externalAccess:\n      - type: static\n        options: { token: \"${SERVE_TOKEN}\", subject: s }\napp:\n  password: \"${APP_SECRET}\"\n";
    let loader = || ConfigLoader::new().yaml("t.yaml", yaml).env(|_| None);
    // Serving needs every variable.
    let err = loader().load().unwrap_err();
    assert!(matches!(err, ConfigError::MissingEnv { .. }), "{err}");
    // `call`: only the serving tokens may be missing.
    let err = loader()
        .allow_unset_variables(&["backend.auth."])
        .load()
        .unwrap_err();
    assert!(err.to_string().contains("`APP_SECRET`"), "{err}");
    // `list`, `schema`, `config check`: anything may be missing, and each is named.
    let config = loader().allow_unset_variables(&[]).load().unwrap();
    let unset: Vec<_> = config
        .unset_variables()
        .iter()
        .map(|u| (u.variable.as_str(), u.key.as_str()))
        .collect();
    assert_eq!(
        unset,
        // In key order (the tree's maps are sorted).
        [
            ("APP_SECRET", "app.password"),
            (
                "SERVE_TOKEN",
                "backend.auth.externalAccess[0].options.token"
            ),
        ]
    );
}

#[test]
fn confirm_and_elicitation_sections() {
    let config = load(
        "mcpActions:\n  confirm: { destructive: 'true', withoutClientSupport: proceed }\n  elicitation: { stateKey: abcdefghijklmnopqrstuvwxyz0123456789, answerWithinSeconds: 30 }\n  servers:\n    agents: { name: agents, confirm: false, confirmWithoutClientSupport: refuse }\n",
    )
    .unwrap();
    let mcp = config.mcp_actions();
    let policy = mcp.confirm.policy(None, None);
    assert!(policy.enabled && policy.destructive);
    assert_eq!(policy.without_prompt, mcp_actions::WithoutPrompt::Proceed);
    let agents = &mcp.servers["agents"];
    let policy = mcp
        .confirm
        .policy(agents.confirm, agents.confirm_without_client_support);
    assert!(!policy.enabled);
    assert_eq!(policy.without_prompt, mcp_actions::WithoutPrompt::Refuse);
    assert_eq!(mcp.elicitation.answer_within(), Duration::from_secs(30));
    // The key is a secret: shown as set, never as itself.
    let effective = serde_json::to_string(&config.effective()).unwrap();
    assert!(!effective.contains("abcdefghijklmnop"), "{effective}");

    let err = load("mcpActions:\n  elicitation: { stateKey: short, answerWithinSeconds: 0 }\n")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(
            "`mcpActions.elicitation.stateKey`: is too short (5 bytes); it needs at least 32"
        ),
        "{err}"
    );
    assert!(!err.contains("short,"), "the key is not repeated: {err}");
    assert!(
        err.contains("`mcpActions.elicitation.answerWithinSeconds`: must be greater than 0"),
        "{err}"
    );
    let err = load("mcpActions:\n  confirm: { withoutClientSupport: ask }\n")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("mcpActions.confirm.withoutClientSupport"),
        "{err}"
    );
}

#[cfg(feature = "jwt")]
#[test]
fn a_backstage_signing_key_that_is_not_a_p256_pem_is_reported_at_its_key_without_quoting_it() {
    let err = load(
        "mcpActions:\n  backstage:\n    signingKey: \"-----BEGIN PRIVATE KEY-----\\nbm90LWEta2V5LWF0LWFsbA==\\n-----END PRIVATE KEY-----\"\n",
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains(
            "`mcpActions.backstage.signingKey`: is not a PKCS#8 PEM private key on the P-256 curve"
        ),
        "{err}"
    );
    assert!(
        !err.contains("bm90LWEta2V5"),
        "the key is not repeated: {err}"
    );
}
