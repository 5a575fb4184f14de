//! Every malformed configuration is a start-up error naming the exact key (or the file, for
//! syntax), never a panic, and never prints a token.

use mcp_actions_server::config::ConfigLoader;
use mcp_actions_server::{ActionsServer, BuildError, ConfigError};

fn load(yaml: &str) -> Result<mcp_actions_server::Config, ConfigError> {
    ConfigLoader::new()
        .yaml("bad.yaml", yaml)
        .env(|name| (name == "SET").then(|| "set-value-1".to_owned()))
        .load()
}

fn static_token(token: &str, subject: &str) -> String {
    format!("      - type: static\n        options: {{ token: \"{token}\", subject: {subject} }}\n")
}

fn external_access(entries: &[String]) -> String {
    format!(
        "backend:\n  auth:\n    externalAccess:\n{}",
        entries.concat()
    )
}

/// `(yaml, the key the error must name, text the message must contain)`.
fn keyed_cases() -> Vec<(String, &'static str, &'static str)> {
    vec![
        // Missing and malformed variables.
        (
            "backend:\n  baseUrl: ${NOT_SET}\n".into(),
            "backend.baseUrl",
            "`NOT_SET`",
        ),
        (
            external_access(&[static_token("${MISSING_TOKEN}", "a")]),
            "backend.auth.externalAccess[0].options.token",
            "`MISSING_TOKEN`",
        ),
        (
            "mcpActions:\n  name: \"${UNCLOSED\"\n".into(),
            "mcpActions.name",
            "no closing",
        ),
        (
            "mcpActions:\n  name: \"${not-a-name}\"\n".into(),
            "mcpActions.name",
            "not a variable name",
        ),
        ("mcpActions:\n  name: \"${}\"\n".into(), "mcpActions.name", "not a variable name"),
        // Tokens.
        (
            external_access(&[static_token("short", "a")]),
            "backend.auth.externalAccess[0].options.token",
            "at least 8",
        ),
        (
            external_access(&[static_token("", "a")]),
            "backend.auth.externalAccess[0].options.token",
            "too short",
        ),
        (
            external_access(&[static_token("has a space", "a")]),
            "backend.auth.externalAccess[0].options.token",
            "whitespace",
        ),
        (
            external_access(&[static_token("dup-token-123", "a"), static_token("dup-token-123", "b")]),
            "backend.auth.externalAccess[1].options.token",
            "backend.auth.externalAccess[0]",
        ),
        (
            external_access(&[static_token("valid-token-1", "has space")]),
            "backend.auth.externalAccess[0].options.subject",
            "no spaces",
        ),
        (
            "backend:\n  auth:\n    externalAccess:\n      - type: static\n".into(),
            "backend.auth.externalAccess[0].options",
            "is missing",
        ),
        (
            "backend:\n  auth:\n    externalAccess:\n      - type: legacy\n        options: { secret: abc }\n".into(),
            "backend.auth.externalAccess[0].type",
            "not supported",
        ),
        (
            "backend:\n  auth:\n    externalAccess:\n      - options: { token: valid-token-1, subject: a }\n".into(),
            "backend.auth.externalAccess[0]",
            "missing field `type`",
        ),
        (
            "backend:\n  auth:\n    externalAccess:\n      - type: static\n        options: { token: valid-token-1 }\n".into(),
            "backend.auth.externalAccess[0].options.subject",
            "is missing; a static entry needs `options: { token: …, subject: … }`",
        ),
        (
            "backend:\n  auth:\n    externalAccess:\n      - type: jwks\n".into(),
            "backend.auth.externalAccess[0].options",
            "a jwks entry needs at least `options: { issuer: … }`",
        ),
        (
            "backend:\n  auth:\n    externalAccess:\n      - type: jwks\n        options: { url: https://idp.example.com/jwks }\n".into(),
            "backend.auth.externalAccess[0].options.issuer",
            "is missing; a jwks entry needs the `iss`",
        ),
        (
            "backend:\n  auth:\n    externalAccess:\n      - type: jwks\n        options: { issuer: https://idp.example.com, url: 'file:///etc/jwks' }\n".into(),
            "backend.auth.externalAccess[0].options.url",
            "is not an absolute http(s) URL",
        ),
        (
            "backend:\n  auth:\n    externalAccess:\n      - type: jwks\n        options: { issuer: https://idp.example.com, algorithm: [RS256, HS256] }\n".into(),
            "backend.auth.externalAccess[0].options.algorithm",
            "`HS256` is not accepted; use one or more of RS256",
        ),
        (
            "backend:\n  auth:\n    externalAccess:\n      - type: jwks\n        options: { issuer: https://idp.example.com, token: valid-token-1 }\n".into(),
            "backend.auth.externalAccess[0].options.token",
            "`token` is an option of `type: static` entries, not of this one",
        ),
        (
            "backend:\n  auth:\n    externalAccess:\n      - type: jwks\n        options: { issuer: https://idp.example.com, issuerr: x }\n".into(),
            "backend.auth.externalAccess[0].options.issuerr",
            "unknown field `issuerr`",
        ),
        (
            "mcpActions:\n  auth:\n    actionScopes: [ { id: 'cat[alog', scopes: [a] } ]\n".into(),
            "mcpActions.auth.actionScopes[0].id",
            "is not a valid glob",
        ),
        (
            "mcpActions:\n  auth:\n    actionScopes: [ { id: 'catalog:*', scopes: [] } ]\n".into(),
            "mcpActions.auth.actionScopes[0].scopes",
            "must name at least one scope",
        ),
        (
            "mcpActions:\n  auth:\n    requiredScopes: ['has space']\n".into(),
            "mcpActions.auth.requiredScopes",
            "a scope must be non-empty, without spaces",
        ),
        (
            "backend:\n  auth:\n    externalAccess:\n      - type: static\n        options: { token: 12345678901, subject: a }\n".into(),
            "backend.auth.externalAccess[0].options.token",
            "string",
        ),
        // Unknown keys in the sections the server owns.
        (
            "backend:\n  auth:\n    externalAccess:\n      - type: static\n        options: { token: valid-token-1, subject: a, subjct: b }\n".into(),
            "backend.auth.externalAccess[0].options.subjct",
            "unknown field `subjct`",
        ),
        (
            "backend:\n  auth:\n    externalAccess:\n      - type: static\n        optionz: { token: valid-token-1, subject: a }\n".into(),
            "backend.auth.externalAccess[0].optionz",
            "unknown field `optionz`",
        ),
        (
            "backend:\n  auth:\n    externalAccess:\n      - type: static\n        options: { token: valid-token-1, subject: a }\n        accessRestrictions: [ { plugn: x } ]\n".into(),
            "backend.auth.externalAccess[0].accessRestrictions[0].plugn",
            "unknown field `plugn`",
        ),
        (
            "backend:\n  auth:\n    externalAccess:\n      - type: static\n        options: { token: valid-token-1, subject: a }\n        accessRestrictions: [ { plugin: x, permissionAttribute: { action: reed } } ]\n".into(),
            "backend.auth.externalAccess[0].accessRestrictions[0].permissionAttribute.action",
            "reed",
        ),
        ("mcpActions:\n  nmae: x\n".into(), "mcpActions.nmae", "unknown field `nmae`"),
        (
            "mcpActions:\n  limits:\n    maxBodyBytes: 1\n".into(),
            "mcpActions.limits.maxBodyBytes",
            "unknown field `maxBodyBytes`",
        ),
        ("backend:\n  listen:\n    hostt: x\n".into(), "backend.listen.hostt", "unknown field `hostt`"),
        // Wrong values.
        ("backend:\n  listen:\n    port: 70000\n".into(), "backend.listen.port", "70000"),
        ("backend:\n  listen:\n    port: -1\n".into(), "backend.listen.port", "-1"),
        ("backend:\n  listen:\n    port: seven\n".into(), "backend.listen.port", "seven"),
        ("backend:\n  listen: ':http'\n".into(), "backend.listen.port", "http"),
        ("backend:\n  listen: 7007\n".into(), "backend.listen", "a number"),
        ("backend:\n  listen:\n    host: ''\n".into(), "backend.listen.host", "empty"),
        ("backend:\n  baseUrl: not a url\n".into(), "backend.baseUrl", "not a URL"),
        ("backend:\n  baseUrl: /relative\n".into(), "backend.baseUrl", "absolute"),
        ("mcpActions:\n  name: ''\n".into(), "mcpActions.name", "empty"),
        ("mcpActions:\n  name: [a]\n".into(), "mcpActions.name", "string"),
        ("mcpActions:\n  allowedHosts: localhost\n".into(), "mcpActions.allowedHosts", "sequence"),
        (
            "mcpActions:\n  limits:\n    maxRequestBodyBytes: 0\n".into(),
            "mcpActions.limits.maxRequestBodyBytes",
            "greater than 0",
        ),
        (
            "mcpActions:\n  limits:\n    maxRequestBodyBytes: -5\n".into(),
            "mcpActions.limits.maxRequestBodyBytes",
            "-5",
        ),
        (
            "mcpActions:\n  limits:\n    maxRequestBodyBytes: 4MiB\n".into(),
            "mcpActions.limits.maxRequestBodyBytes",
            "4MiB",
        ),
        (
            "mcpActions:\n  limits:\n    actionTimeoutSeconds: 1.5\n".into(),
            "mcpActions.limits.actionTimeoutSeconds",
            "1.5",
        ),
        (
            "mcpActions:\n  limits:\n    actionTimeoutSeconds: -3\n".into(),
            "mcpActions.limits.actionTimeoutSeconds",
            "whole number",
        ),
    ]
}

#[test]
fn every_bad_value_names_its_exact_key() {
    for (yaml, key, text) in keyed_cases() {
        let error = load(&yaml).expect_err(&yaml);
        let message = error.to_string();
        assert_eq!(error.key(), Some(key), "{yaml}\n→ {message}");
        assert!(message.contains(&format!("`{key}`")), "{yaml}\n→ {message}");
        assert!(message.contains(text), "{yaml}\n→ {message}");
    }
}

#[test]
fn several_bad_tokens_are_all_listed_by_key() {
    let error = load(&external_access(&[
        static_token("short", "a"),
        static_token("valid-token-1", "b"),
        static_token("valid-token-1", "c"),
        static_token("also short", "d"),
    ]))
    .unwrap_err();
    let ConfigError::Problems { problems } = &error else {
        panic!("{error:?}")
    };
    let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "backend.auth.externalAccess[0].options.token",
            "backend.auth.externalAccess[2].options.token",
            "backend.auth.externalAccess[3].options.token",
        ]
    );
}

#[test]
fn token_values_are_never_printed() {
    let tokens = ["shrt-7x", "dup-secret-token-9", "has secret space"];
    let error = load(&external_access(&[
        static_token(tokens[0], "a"),
        static_token(tokens[1], "b"),
        static_token(tokens[1], "c"),
        static_token(tokens[2], "d"),
    ]))
    .unwrap_err();
    let shown = format!("{error} {error:?}");
    for token in tokens {
        assert!(!shown.contains(token), "{token}: {shown}");
    }
    // A loaded config's Debug output hides them too.
    let config = load(&external_access(&[static_token(
        "debug-secret-token-7",
        "a",
    )]))
    .unwrap();
    assert!(!format!("{config:?}").contains("debug-secret-token-7"));
    // And MCP_TOKEN's value is not in its error.
    let config = ConfigLoader::new()
        .env(|name| (name == "MCP_TOKEN").then(|| "env secret".to_owned()))
        .load()
        .unwrap();
    let error = ActionsServer::builder()
        .config(config)
        .registry(mcp_actions::Registry::from_descriptors(std::iter::empty()).unwrap())
        .build()
        .unwrap_err();
    assert!(matches!(error, BuildError::Config(_)), "{error:?}");
    let shown = format!("{error} {error:?}");
    assert!(
        shown.contains("MCP_TOKEN") && !shown.contains("env secret"),
        "{shown}"
    );
}

#[test]
fn malformed_yaml_names_the_file_and_never_panics() {
    let cases = [
        "backend:\n  listen: [\n",
        "backend:\n\tlisten: 1\n",
        "a: *undefined_alias\n",
        "- a\n- b\n",
        "just a string\n",
        "42\n",
        "key: \"unterminated\n",
        "? [complex, key]\n: value\n",
        "a: !custom_tag 1\n",
        "\u{feff}\u{0}a: 1\n",
        "%YAML 9.9\n---\na: 1\n",
        "a: 1\n---\nb: 2\n",
        "{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{",
    ];
    for yaml in cases {
        match load(yaml) {
            Ok(config) => panic!("{yaml:?} loaded: {config:?}"),
            Err(error) => {
                let message = error.to_string();
                assert!(message.contains("bad.yaml"), "{yaml:?} → {message}");
            }
        }
    }
    // Deep nesting within YAML's own limit does not overflow the stack either.
    let deep = format!("a: {}1{}\n", "[".repeat(10_000), "]".repeat(10_000));
    let error = load(&deep).unwrap_err();
    assert!(error.to_string().contains("bad.yaml"), "{error}");
}

#[test]
fn a_number_too_large_for_yaml_names_the_key() {
    // Past u64 the YAML parser itself fails; the message still names the key and the line.
    let error = load("mcpActions:\n  limits:\n    actionTimeoutSeconds: 99999999999999999999\n")
        .unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("bad.yaml") && message.contains("mcpActions.limits.actionTimeoutSeconds"),
        "{message}"
    );
}

#[test]
fn duplicate_keys_are_refused() {
    let error = load("mcpActions:\n  name: first\n  name: second\n").unwrap_err();
    assert!(error.to_string().contains("mcpActions.name"), "{error}");
}

#[test]
fn alias_bombs_are_refused() {
    // "Billion laughs": each level refers to the previous one nine times.
    let mut yaml = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x]\n");
    for level in 1..10 {
        let previous = format!("*a{}", level - 1);
        yaml.push_str(&format!(
            "a{level}: &a{level} [{}]\n",
            [previous.as_str(); 9].join(", ")
        ));
    }
    let error = load(&yaml).unwrap_err();
    assert!(error.to_string().contains("bad.yaml"), "{error}");
}

#[test]
fn a_missing_file_names_it() {
    let error = ConfigLoader::new()
        .file("/nonexistent/hardening/app-config.yaml")
        .load()
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("/nonexistent/hardening/app-config.yaml"),
        "{error}"
    );
}
