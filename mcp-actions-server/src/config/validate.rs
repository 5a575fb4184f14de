//! The rules a configuration must follow beyond its shape: every problem found is reported
//! (not only the first), each at its full key path.

use mcp_actions::filter::ActionFilter;

use super::access::{ExternalAccessConfig, ExternalAccessType, JWT_ALGORITHMS};
use super::confirm::MIN_STATE_KEY_LENGTH;
use super::error::ConfigProblem;
use super::model::{
    FilterConfig, ListenConfig, ListenTextError, RESERVED_SERVER_KEYS, Root, credentials_from,
};
use super::shapes::OneOrMany;

/// The shortest static token accepted (Backstage's rule).
pub(crate) const MIN_TOKEN_LENGTH: usize = 8;

/// Why a string cannot be a static token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenShapeError {
    /// It contains whitespace.
    #[error("the token must not contain spaces or other whitespace")]
    Whitespace,
    /// It is too short.
    #[error(
        "the token is too short ({0} characters); static tokens need at least {MIN_TOKEN_LENGTH}"
    )]
    TooShort(usize),
}

/// Whether a token has the shape Backstage requires: at least 8 characters, no whitespace.
pub(crate) fn check_token_shape(token: &str) -> Result<(), TokenShapeError> {
    if token.chars().any(char::is_whitespace) {
        return Err(TokenShapeError::Whitespace);
    }
    let len = token.chars().count();
    if len < MIN_TOKEN_LENGTH {
        return Err(TokenShapeError::TooShort(len));
    }
    Ok(())
}

/// Whether `key` may name a server under `mcpActions.servers`: `^[a-z0-9][a-z0-9-]*$` (as in
/// Backstage) and not reserved.
pub(crate) fn is_valid_server_key(key: &str) -> bool {
    let bytes = key.as_bytes();
    !bytes.is_empty()
        && (bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && !RESERVED_SERVER_KEYS.contains(&key)
}

/// What must be checked on the tree, before the model is read, to be reported at the right key:
/// the string form of `backend.listen` (a bad port is `backend.listen.port`), and
/// `externalAccess` entries of a type that is not supported (they have other options, which
/// the model, knowing only `static`, would call unknown keys) or without `options`.
pub(crate) fn before_reading(tree: &serde_json::Value) -> Vec<ConfigProblem> {
    let mut problems = Vec::new();
    if let Some(serde_json::Value::String(text)) = tree.pointer("/backend/listen")
        && let Err(error @ ListenTextError::Port(_)) = ListenConfig::from_text(text)
    {
        problems.push(ConfigProblem::new("backend.listen.port", error.to_string()));
    }
    problems.extend(external_access_types(tree));
    problems
}

fn external_access_types(tree: &serde_json::Value) -> Vec<ConfigProblem> {
    let entries = tree
        .pointer("/backend/auth/externalAccess")
        .and_then(serde_json::Value::as_array);
    let mut problems = Vec::new();
    for (i, entry) in entries.into_iter().flatten().enumerate() {
        let key = format!("backend.auth.externalAccess[{i}]");
        // Only when nothing else is wrong with the entry's keys (an `optionz` is named as an
        // unknown key when the model is read).
        let lacks_options = entry.as_object().is_some_and(|keys| {
            keys.keys()
                .all(|k| k == "type" || k == "accessRestrictions")
        });
        match entry.get("type").and_then(serde_json::Value::as_str) {
            Some("static") if lacks_options => problems.push(ConfigProblem::new(
                format!("{key}.options"),
                "is missing; a static entry needs `options: { token: …, subject: … }`",
            )),
            Some("jwks") if lacks_options => problems.push(ConfigProblem::new(
                format!("{key}.options"),
                "is missing; a jwks entry needs at least `options: { issuer: … }` (and `url` when the issuer publishes no discovery document)",
            )),
            Some(kind) if kind != "static" && kind != "jwks" => problems.push(ConfigProblem::new(
                format!("{key}.type"),
                format!("type `{kind}` is not supported; supported: `static`, `jwks`"),
            )),
            _ => {}
        }
    }
    problems
}

/// Every problem of `root`.
pub(crate) fn check(root: &Root) -> Vec<ConfigProblem> {
    let mut problems = Vec::new();
    let mut problem =
        |key: String, message: String| problems.push(ConfigProblem::new(key, message));
    let backend = &root.backend;
    if backend.listen.host.trim().is_empty() {
        problem("backend.listen.host".into(), "must not be empty".into());
    }
    if let Some(url) = &backend.base_url {
        match url.parse::<http::Uri>() {
            Err(e) => problem(
                "backend.baseUrl".into(),
                format!("`{url}` is not a URL: {e}"),
            ),
            Ok(uri) if uri.scheme().is_none() || uri.host().is_none() => problem(
                "backend.baseUrl".into(),
                format!("`{url}` must be an absolute URL like `https://mcp.example.com`"),
            ),
            Ok(_) => {}
        }
    }
    static_tokens(root, &mut problem);
    jwks_entries(root, &mut problem);
    discovery_endpoints(root, &mut problem);
    let plugin_id = &root.mcp_actions.backstage.plugin_id;
    if !mcp_actions::descriptor::is_valid_plugin_id(plugin_id) {
        problem(
            "mcpActions.backstage.pluginId".into(),
            format!("`{plugin_id}` is not a plugin id (lowercase letters, digits, `-`, `_`)"),
        );
    }
    globs(
        "backend.actions.filter",
        &backend.actions.filter,
        &mut problem,
    );

    let mcp = &root.mcp_actions;
    if mcp.name.trim().is_empty() {
        problem("mcpActions.name".into(), "must not be empty".into());
    }
    let limits = &mcp.limits;
    for (key, value) in [
        ("maxRequestBodyBytes", limits.max_request_body_bytes),
        ("maxConcurrentRequests", limits.max_concurrent_requests),
    ] {
        if value == 0 {
            problem(
                format!("mcpActions.limits.{key}"),
                "must be greater than 0".into(),
            );
        }
    }
    for (key, server) in &mcp.servers {
        let path = format!("mcpActions.servers.{key}");
        if RESERVED_SERVER_KEYS.contains(&key.as_str()) {
            problem(
                path,
                format!(
                    "`{key}` cannot name a server: /api/mcp-actions/v1/{key} is the legacy HTTP+SSE endpoint; choose another key"
                ),
            );
            continue;
        }
        if !is_valid_server_key(key) {
            problem(
                path,
                format!(
                    "`{key}` is not a valid server key: use lowercase letters, digits and `-`, starting with a letter or digit (it becomes the path /api/mcp-actions/v1/<key>)"
                ),
            );
            continue;
        }
        if server.name.trim().is_empty() {
            problem(format!("{path}.name"), "must not be empty".into());
        }
        globs(&format!("{path}.filter"), &server.filter, &mut problem);
    }
    #[cfg(feature = "jwt")]
    if let Some(key) = &mcp.backstage.signing_key
        && let Err(error) = crate::backstage::check_signing_key(key.expose())
    {
        problem("mcpActions.backstage.signingKey".into(), error);
    }
    if let Some(key) = &mcp.elicitation.state_key
        && key.expose().len() < MIN_STATE_KEY_LENGTH
    {
        problem(
            "mcpActions.elicitation.stateKey".into(),
            format!(
                "is too short ({} bytes); it needs at least {MIN_STATE_KEY_LENGTH} (e.g. `openssl rand -base64 48`)",
                key.expose().len()
            ),
        );
    }
    if mcp.elicitation.answer_within_seconds == 0 {
        problem(
            "mcpActions.elicitation.answerWithinSeconds".into(),
            "must be greater than 0".into(),
        );
    }
    if mcp.sse.max_sessions == 0 {
        problem(
            "mcpActions.sse.maxSessions".into(),
            "must be at least 1; to turn the SSE transport off, set `mcpActions.sse.enabled: false`"
                .into(),
        );
    }
    if let Err(error) = credentials_from(mcp.stdio.subject.as_deref(), mcp.stdio.user.as_deref()) {
        problem("mcpActions.stdio".into(), error.to_string());
    }
    problems
}

fn static_tokens(root: &Root, problem: &mut impl FnMut(String, String)) {
    let entries = &root.backend.auth.external_access;
    for (i, entry) in entries.iter().enumerate() {
        if entry.kind != ExternalAccessType::Static {
            continue;
        }
        let key = format!("backend.auth.externalAccess[{i}]");
        let options = &entry.options;
        misplaced_options(&key, entry, problem);
        match &options.token {
            None => problem(
                format!("{key}.options.token"),
                "is missing; a static entry needs `options: { token: …, subject: … }`".into(),
            ),
            Some(token) => {
                if let Err(error) = check_token_shape(token.expose()) {
                    problem(format!("{key}.options.token"), error.to_string());
                }
                if let Some(first) = entries[..i]
                    .iter()
                    .position(|e| e.options.token.as_ref() == Some(token))
                {
                    problem(
                        format!("{key}.options.token"),
                        format!(
                            "the same token is already configured at `backend.auth.externalAccess[{first}]`; every static token must be unique"
                        ),
                    );
                }
            }
        }
        match &options.subject {
            None => problem(
                format!("{key}.options.subject"),
                "is missing; a static entry needs `options: { token: …, subject: … }`".into(),
            ),
            Some(subject)
                if subject.trim().is_empty() || subject.chars().any(char::is_whitespace) =>
            {
                problem(
                    format!("{key}.options.subject"),
                    "the subject must be non-empty and contain no spaces".into(),
                )
            }
            Some(_) => {}
        }
    }
}

/// The `type: jwks` entries: an issuer, URLs that are http(s) URLs, known asymmetric
/// algorithms, and `mcpActions.auth`'s scope rules.
fn jwks_entries(root: &Root, problem: &mut impl FnMut(String, String)) {
    for (i, entry) in root.backend.auth.external_access.iter().enumerate() {
        if entry.kind != ExternalAccessType::Jwks {
            continue;
        }
        let key = format!("backend.auth.externalAccess[{i}].options");
        let options = &entry.options;
        misplaced_options(&format!("backend.auth.externalAccess[{i}]"), entry, problem);
        match &options.issuer {
            None => problem(
                format!("{key}.issuer"),
                "is missing; a jwks entry needs the `iss` of the tokens it accepts, e.g. `https://idp.example.com/realms/acme`".into(),
            ),
            Some(OneOrMany(issuers)) if issuers.is_empty() => {
                problem(format!("{key}.issuer"), "must name at least one issuer".into())
            }
            Some(OneOrMany(issuers)) => {
                for issuer in issuers {
                    if let Err(message) = check_http_url(issuer) {
                        problem(format!("{key}.issuer"), message);
                    }
                }
            }
        }
        if let Some(url) = &options.url
            && let Err(message) = check_http_url(url)
        {
            problem(format!("{key}.url"), message);
        }
        if let Some(OneOrMany(audiences)) = &options.audience
            && (audiences.is_empty() || audiences.iter().any(|a| a.trim().is_empty()))
        {
            problem(
                format!("{key}.audience"),
                "must name at least one audience, none of them empty (leave `audience` out to accept tokens for this server's URL)".into(),
            );
        }
        if let Some(OneOrMany(algorithms)) = &options.algorithm {
            if algorithms.is_empty() {
                problem(
                    format!("{key}.algorithm"),
                    "must name at least one algorithm".into(),
                );
            }
            for algorithm in algorithms {
                if !JWT_ALGORITHMS.contains(&algorithm.as_str()) {
                    problem(
                        format!("{key}.algorithm"),
                        format!(
                            "`{algorithm}` is not accepted; use one or more of {} (HMAC algorithms and `none` are never accepted with a JWKS)",
                            JWT_ALGORITHMS.join(", ")
                        ),
                    );
                }
            }
        }
        for (name, value) in [
            ("subjectPrefix", &options.subject_prefix),
            ("userClaim", &options.user_claim),
        ] {
            if value
                .as_ref()
                .is_some_and(|v| v.trim().is_empty() || v.contains(char::is_whitespace))
            {
                problem(
                    format!("{key}.{name}"),
                    "must be non-empty and contain no spaces".into(),
                );
            }
        }
    }
    let auth = &root.mcp_actions.auth;
    for (i, rule) in auth.action_scopes.iter().enumerate() {
        if rule.scopes.0.is_empty() {
            problem(
                format!("mcpActions.auth.actionScopes[{i}].scopes"),
                "must name at least one scope".into(),
            );
        }
    }
    if let Err(error) = auth.compile() {
        problem(
            format!("mcpActions.auth.actionScopes[{}].id", error.index),
            format!(
                "`{}` is not a valid glob: {}; globs match the action id `plugin:name`, e.g. `catalog:*`",
                error.glob, error.reason
            ),
        );
    }
    for (list, scopes) in [("requiredScopes", &auth.required_scopes)]
        .into_iter()
        .chain(
            auth.action_scopes
                .iter()
                .map(|rule| ("actionScopes", &rule.scopes.0)),
        )
    {
        if scopes.iter().any(|s| {
            s.is_empty() || s.contains(char::is_whitespace) || s.contains('"') || s.contains('\\')
        }) {
            problem(
                format!("mcpActions.auth.{list}"),
                "a scope must be non-empty, without spaces, quotes or backslashes (RFC 6749 scope tokens)".into(),
            );
        }
    }
}

/// Options of one type of entry used in an entry of the other.
fn misplaced_options(
    key: &str,
    entry: &ExternalAccessConfig,
    problem: &mut impl FnMut(String, String),
) {
    let o = &entry.options;
    let (present, kind): (Vec<&str>, &str) = match entry.kind {
        ExternalAccessType::Static => (
            [
                ("url", o.url.is_some()),
                ("issuer", o.issuer.is_some()),
                ("audience", o.audience.is_some()),
                ("algorithm", o.algorithm.is_some()),
                ("subjectPrefix", o.subject_prefix.is_some()),
                ("userClaim", o.user_claim.is_some()),
                ("leewaySeconds", o.leeway_seconds.is_some()),
            ]
            .into_iter()
            .filter_map(|(name, set)| set.then_some(name))
            .collect(),
            "jwks",
        ),
        _ => (
            [
                ("token", o.token.is_some()),
                ("subject", o.subject.is_some()),
            ]
            .into_iter()
            .filter_map(|(name, set)| set.then_some(name))
            .collect(),
            "static",
        ),
    };
    for name in present {
        problem(
            format!("{key}.options.{name}"),
            format!("`{name}` is an option of `type: {kind}` entries, not of this one"),
        );
    }
}

/// `discovery.endpoints`: each target an http(s) URL once `{{pluginId}}` is filled in, each
/// plugin id valid.
fn discovery_endpoints(root: &Root, problem: &mut impl FnMut(String, String)) {
    use super::DiscoveryTarget;
    for (i, endpoint) in root.discovery.endpoints.iter().enumerate() {
        let key = format!("discovery.endpoints[{i}]");
        let targets = match &endpoint.target {
            DiscoveryTarget::Url(url) => vec![("target", url.as_str())],
            DiscoveryTarget::Split { internal, external } => {
                let mut targets = vec![("target.internal", internal.as_str())];
                targets.extend(external.as_deref().map(|e| ("target.external", e)));
                targets
            }
        };
        for (name, template) in targets {
            let url = template.replace("{{pluginId}}", "plugin");
            if let Err(message) = check_http_url(&url) {
                problem(format!("{key}.{name}"), message);
            }
        }
        if endpoint.plugins.is_empty() {
            problem(
                format!("{key}.plugins"),
                "must name at least one plugin id".into(),
            );
        }
        for (j, plugin) in endpoint.plugins.iter().enumerate() {
            if !mcp_actions::descriptor::is_valid_plugin_id(plugin) {
                problem(
                    format!("{key}.plugins[{j}]"),
                    format!("`{plugin}` is not a plugin id (lowercase letters, digits, `-`, `_`)"),
                );
            }
        }
    }
}

/// An absolute `http://` or `https://` URL with a host.
fn check_http_url(url: &str) -> Result<(), String> {
    match url.parse::<http::Uri>() {
        Ok(uri) if matches!(uri.scheme_str(), Some("http" | "https")) && uri.host().is_some() => {
            Ok(())
        }
        _ => Err(format!(
            "`{url}` is not an absolute http(s) URL like `https://idp.example.com/realms/acme`"
        )),
    }
}

/// Every rule's glob compiles; a bad one is a problem at `<prefix>.<list>[i].id`.
fn globs(prefix: &str, filter: &FilterConfig, problem: &mut impl FnMut(String, String)) {
    // ActionFilter::new stops at the first bad glob; check each rule alone to report all.
    for (list, rules) in [("include", &filter.include), ("exclude", &filter.exclude)] {
        for (index, rule) in rules.iter().enumerate() {
            let (include, exclude) = match list {
                "include" => (vec![rule.clone()], vec![]),
                _ => (vec![], vec![rule.clone()]),
            };
            if let Err(error) = ActionFilter::new(None, include, exclude) {
                problem(
                    format!("{prefix}.{list}[{index}].id"),
                    format!(
                        "`{}` is not a valid glob: {}; globs match the action id `plugin:name`, e.g. `catalog:*` or `*:delete_*`",
                        error.glob, error.reason
                    ),
                );
            }
        }
    }
}
