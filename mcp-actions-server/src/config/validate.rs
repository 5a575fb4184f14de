//! The rules a configuration must follow beyond its shape: every problem found is reported
//! (not only the first), each at its full key path.

use mcp_actions::filter::ActionFilter;

use super::error::ConfigProblem;
use super::model::{
    FilterConfig, ListenConfig, ListenTextError, RESERVED_SERVER_KEYS, Root, credentials_from,
};

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
        match entry.get("type").and_then(serde_json::Value::as_str) {
            // Only when nothing else is wrong with the entry's keys (an `optionz` is named as
            // an unknown key when the model is read).
            Some("static")
                if entry.as_object().is_some_and(|keys| {
                    keys.keys()
                        .all(|k| k == "type" || k == "accessRestrictions")
                }) =>
            {
                problems.push(ConfigProblem::new(
                    format!("{key}.options"),
                    "is missing; a static entry needs `options: { token: …, subject: … }`",
                ))
            }
            Some(kind) if kind != "static" => problems.push(ConfigProblem::new(
                format!("{key}.type"),
                format!("type `{kind}` is not supported yet; supported: `static`"),
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
        let key = format!("backend.auth.externalAccess[{i}]");
        let options = &entry.options;
        if let Err(error) = check_token_shape(options.token.expose()) {
            problem(format!("{key}.options.token"), error.to_string());
        }
        if options.subject.trim().is_empty() || options.subject.chars().any(char::is_whitespace) {
            problem(
                format!("{key}.options.subject"),
                "the subject must be non-empty and contain no spaces".into(),
            );
        }
        if let Some(first) = entries[..i]
            .iter()
            .position(|e| e.options.token == options.token)
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
