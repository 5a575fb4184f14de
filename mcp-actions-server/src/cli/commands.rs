//! What each command does once the server is built.

use std::io::Read;
use std::sync::Arc;

use mcp_actions::{CallOptions, Credentials, ErrorKind};
use serde_json::{Value, json};

use super::args::*;
use super::clients::{Target, snippets};
use super::prompt::{TerminalPrompt, TtyPrompt};
use super::{RunError, shutdown_signal};
use crate::config::credentials_from;
use crate::server::{ActionExposure, ActionsServer, ServeError};
use crate::transport::stdio;

pub(super) async fn serve(server: ActionsServer, args: ServeArgs) -> Result<(), RunError> {
    if args.stdio {
        return serve_stdio(&server, args).await;
    }
    let listener = server.bind().await?;
    let base_url = server.base_url(Some(listener.local_addr().map_err(ServeError::Io)?));
    if let Some(notice) = server.generated_token_notice(&base_url) {
        eprintln!("{notice}");
    }
    if let Some(client) = args.client {
        let url = ActionsServer::endpoint_url(&base_url);
        let target = Target {
            name: server.endpoints()[0].name(),
            url: &url,
            token: server.generated_token().unwrap_or("<your token>"),
        };
        eprintln!("\n{}", snippets(client, &target));
    }
    server
        .serve_with_shutdown(listener, shutdown_signal())
        .await?;
    tracing::info!("stopped");
    Ok(())
}

async fn serve_stdio(server: &ActionsServer, args: ServeArgs) -> Result<(), RunError> {
    let handler = match &args.server {
        None => server.handler(),
        Some(key) => server
            .endpoint(key)
            .ok_or_else(|| {
                let keys: Vec<_> = server.endpoints().iter().filter_map(|e| e.key()).collect();
                RunError::Usage(format!(
                    "there is no server `{key}` in `mcpActions.servers` (configured: {})",
                    if keys.is_empty() {
                        "none".to_owned()
                    } else {
                        keys.join(", ")
                    }
                ))
            })?
            .handler(),
    };
    let credentials = match (&args.subject, &args.user) {
        (None, None) => server.config().mcp_actions().stdio.credentials(),
        (subject, user) => credentials_from(subject.as_deref(), user.as_deref())
            .map_err(|error| RunError::Usage(format!("--subject/--user: {error}")))?,
    };
    // A client that cannot ask the user (no elicitation): ask on the terminal, if any.
    let fallback: Arc<dyn mcp_actions::UserPrompt> = Arc::new(TtyPrompt);
    stdio::serve_asking(
        handler.clone(),
        credentials,
        Some(fallback),
        shutdown_signal(),
    )
    .await
    .map_err(|e| RunError::Stdio(Box::new(e)))?;
    tracing::info!("stopped");
    Ok(())
}

/// The action called `name` (tool name, action name or id).
fn find<'a>(server: &'a ActionsServer, name: &str) -> Result<&'a ActionExposure, RunError> {
    let exposure = server.exposure();
    exposure
        .iter()
        .find(|e| e.tool_name == name)
        .or_else(|| exposure.iter().find(|e| e.action.name() == name))
        .or_else(|| exposure.iter().find(|e| e.action.id() == name))
        .ok_or_else(|| {
            RunError::Usage(format!(
                "there is no action `{name}` in this binary; `list` shows every action with its tool name and id"
            ))
        })
}

fn attributes(exposure: &ActionExposure) -> Vec<&'static str> {
    let a = exposure.action.descriptor().attributes;
    [
        ("readOnly", a.read_only),
        ("destructive", a.destructive),
        ("idempotent", a.idempotent),
        ("openWorld", a.open_world),
    ]
    .into_iter()
    .filter_map(|(name, set)| set.then_some(name))
    .collect()
}

fn permission(exposure: &ActionExposure) -> Option<String> {
    exposure
        .action
        .descriptor()
        .permission
        .map(|p| format!("{} ({})", p.name(), p.action()))
}

/// Left-aligned columns, two spaces apart; the last column is not padded.
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let last = cells.len() - 1;
        let mut out = String::new();
        for (i, cell) in cells.into_iter().enumerate() {
            out.push_str(cell);
            if i < last {
                let pad = widths[i] - cell.chars().count() + 2;
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.truncate(out.trim_end().len());
        out.push('\n');
        out
    };
    let mut out = line(header.to_vec());
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

fn served(decision: &mcp_actions::filter::FilterDecision) -> &'static str {
    if decision.is_exposed() { "yes" } else { "no" }
}

/// The remote plugin sources (Backstage plugins named in `backend.actions.pluginSources` and
/// found through `discovery.endpoints`): plugin id and base URL. Their actions are listed by
/// the running server (with its own signing key, which Backstage verifies at its JWKS URL), so
/// `list` names the sources only.
pub(super) fn remote_sources(server: &ActionsServer) -> Vec<(String, String)> {
    #[cfg(feature = "jwt")]
    if let Some(remote) = server.handler().remote() {
        return remote.sources().to_vec();
    }
    let _ = server;
    Vec::new()
}

pub(super) fn list(
    server: &ActionsServer,
    args: &ListArgs,
    remote: &[(String, String)],
) -> Result<(), RunError> {
    let exposure = server.exposure();
    let endpoints = server.endpoints();
    if args.format == ListFormat::Json {
        let actions: Vec<Value> = exposure
            .iter()
            .map(|e| {
                let d = e.action.descriptor();
                let mut servers = serde_json::Map::new();
                let decisions = std::iter::once(&e.decision).chain(&e.servers);
                for (endpoint, decision) in endpoints.iter().zip(decisions) {
                    servers.insert(
                        endpoint.key().unwrap_or("default").to_owned(),
                        json!({ "exposed": decision.is_exposed(), "reason": decision.reason() }),
                    );
                }
                json!({
                    "id": e.action.id(),
                    "plugin": e.action.plugin(),
                    "name": e.action.name(),
                    "tool": e.tool_name,
                    "title": d.title,
                    "attributes": {
                        "readOnly": d.attributes.read_only,
                        "destructive": d.attributes.destructive,
                        "idempotent": d.attributes.idempotent,
                        "openWorld": d.attributes.open_world,
                    },
                    "permission": d.permission.map(|p| json!({ "name": p.name(), "action": p.action().to_string() })),
                    "servers": servers,
                })
            })
            .collect();
        let servers: Vec<Value> = endpoints
            .iter()
            .map(|e| {
                json!({
                    "key": e.key().unwrap_or("default"),
                    "name": e.name(),
                    "path": e.path(),
                    "actions": e.handler().dispatcher().registry().len(),
                })
            })
            .collect();
        let remote: Vec<Value> = remote
            .iter()
            .map(|(plugin, base)| json!({ "plugin": plugin, "baseUrl": base }))
            .collect();
        let document = json!({ "servers": servers, "actions": actions, "remote": remote });
        return print_json(&document);
    }

    let default = &endpoints[0];
    let mut out = format!(
        "Default server \"{}\" at {}: {} of {} actions\n",
        default.name(),
        default.path(),
        default.handler().dispatcher().registry().len(),
        exposure.len()
    );
    let rows: Vec<Vec<String>> = exposure
        .iter()
        .map(|e| {
            let attributes = attributes(e);
            vec![
                e.action.id().to_owned(),
                e.tool_name.clone(),
                e.action.descriptor().title.to_owned(),
                if attributes.is_empty() {
                    "-".to_owned()
                } else {
                    attributes.join(",")
                },
                permission(e).unwrap_or_else(|| "-".to_owned()),
                served(&e.decision).to_owned(),
                e.decision.reason().to_owned(),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "ID",
            "TOOL",
            "TITLE",
            "ATTRIBUTES",
            "PERMISSION",
            "SERVED",
            "WHY",
        ],
        &rows,
    ));
    for (i, endpoint) in endpoints.iter().enumerate().skip(1) {
        let rows: Vec<Vec<String>> = exposure
            .iter()
            .filter(|e| e.decision.is_exposed())
            .map(|e| {
                let decision = &e.servers[i - 1];
                vec![
                    e.action.id().to_owned(),
                    e.tool_name.clone(),
                    served(decision).to_owned(),
                    decision.reason().to_owned(),
                ]
            })
            .collect();
        out.push_str(&format!(
            "\nNamed server `{}` (\"{}\") at {}: {} of {} actions\n",
            endpoint.key().unwrap_or_default(),
            endpoint.name(),
            endpoint.path(),
            endpoint.handler().dispatcher().registry().len(),
            rows.len()
        ));
        out.push_str(&table(&["ID", "TOOL", "SERVED", "WHY"], &rows));
    }
    for (plugin, base) in remote {
        out.push_str(&format!(
            "\nRemote plugin source `{plugin}` at {base}: its actions are listed by the running server (mcpActions.backstage.refreshSeconds) and served by the default server\n"
        ));
    }
    print(&out)
}

pub(super) fn schema(server: &ActionsServer, args: &SchemaArgs) -> Result<(), RunError> {
    let exposure = find(server, &args.name)?;
    let document = json!({
        "id": exposure.action.id(),
        "tool": exposure.tool_name,
        "inputSchema": exposure.action.input_schema().as_ref(),
        "outputSchema": exposure.action.output_schema().as_ref(),
    });
    print_json(&document)
}

/// The caller of `call`: `--user`, or `--subject` (with the access restrictions of a static
/// token with that subject), or the service `cli`.
fn call_credentials(server: &ActionsServer, args: &CallArgs) -> Result<Credentials, RunError> {
    if let Some(user) = &args.user {
        let valid = user.starts_with("user:")
            && user.len() > "user:".len()
            && !user.chars().any(char::is_whitespace);
        if !valid {
            return Err(RunError::Usage(format!(
                "--user must be a user entity ref like `user:default/jane`, not `{user}`"
            )));
        }
        return Ok(Credentials::user(user.clone()));
    }
    let subject = args.subject.as_deref().unwrap_or(DEFAULT_CALL_SUBJECT);
    if subject.is_empty() || subject.chars().any(char::is_whitespace) {
        return Err(RunError::Usage(format!(
            "--subject must be non-empty and without spaces, not {subject:?}"
        )));
    }
    // A subject of a static token gets that token's access restrictions.
    let entry = server
        .config()
        .backend()
        .auth
        .static_entries()
        .find(|t| t.options.subject.as_deref() == Some(subject));
    Ok(entry.map_or_else(|| Credentials::service(subject), |e| e.credentials()))
}

pub(super) async fn call(server: &ActionsServer, args: CallArgs) -> Result<(), RunError> {
    let exposure = find(server, &args.name)?;
    if !exposure.decision.is_exposed() {
        return Err(RunError::Usage(format!(
            "action `{}` is not exposed by this server ({}), so it cannot be called",
            exposure.action.id(),
            exposure.decision.reason()
        )));
    }
    let text = if args.input == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        text
    } else {
        args.input.clone()
    };
    let input: Value = serde_json::from_str(&text)
        .map_err(|e| RunError::Usage(format!("--input is not valid JSON: {e}")))?;
    if !input.is_object() {
        return Err(RunError::Usage(
            "--input must be a JSON object, e.g. '{\"name\": \"World\"}'".to_owned(),
        ));
    }
    let credentials = call_credentials(server, &args)?;
    let default_caller = args.subject.is_none() && args.user.is_none();
    let caller = credentials.principal().to_string();
    let handler = server.handler();
    let action = handler
        .action(&exposure.tool_name)
        .expect("an exposed action is served by the default server");
    let output = handler
        .dispatcher()
        .call_action(
            action,
            Some(input),
            CallOptions::new(credentials).with_prompt(Arc::new(TerminalPrompt { yes: args.yes })),
        )
        .await
        .map_err(|error| {
            // Who was refused, when the caller was the CLI's default one.
            if error.kind() == ErrorKind::NotAllowedError && default_caller {
                RunError::Denied {
                    error,
                    hint: format!(
                        "the caller was `{caller}`, the default of `call`; call as another with --subject SUBJECT (e.g. the subject of a static token) or --user user:default/NAME"
                    ),
                }
            } else {
                RunError::Action(error)
            }
        })?;
    print_json(&output)
}

pub(super) async fn check(server: &ActionsServer, args: &CheckArgs) -> Result<(), RunError> {
    let config = server.config();
    let effective = config.effective();
    let text = match args.format {
        // serde_yaml_ng for printing: its output (quoting included) is what operators and
        // scripts of earlier versions read; yaml-rust2 only parses.
        ConfigFormat::Yaml => serde_yaml_ng::to_string(&effective).map_err(|e| {
            RunError::Output(std::io::Error::other(format!(
                "cannot write the config as YAML: {e}"
            )))
        })?,
        ConfigFormat::Json => {
            serde_json::to_string_pretty(&effective).expect("JSON values serialize") + "\n"
        }
    };
    print(&text)?;
    for warning in server.warnings() {
        eprintln!("warning: {warning}");
    }
    let jwks_warnings = jwks_warnings(server).await;
    for warning in &jwks_warnings {
        eprintln!("warning: {warning}");
    }
    for unset in config.unset_variables() {
        eprintln!(
            "note: environment variable `{}` is not set (used at `{}` in {}); `serve` needs it",
            unset.variable, unset.key, unset.source_name
        );
    }
    if config.backend().auth.external_access.is_empty() {
        let source = match crate::auth::default_token(config)? {
            Some(_) => "accepts the token in MCP_TOKEN",
            None => {
                "generates a token on every start (set MCP_TOKEN, or configure `backend.auth.externalAccess`)"
            }
        };
        eprintln!("note: no `backend.auth.externalAccess` is configured: the server {source}");
    }
    #[cfg(feature = "otel")]
    let otel_warning = match crate::telemetry::otel::describe(|name| std::env::var(name).ok()) {
        None => 0,
        Some(Ok(note)) => {
            eprintln!("note: {note}");
            0
        }
        Some(Err(error)) => {
            eprintln!("warning: {error}; `serve` will not start");
            1
        }
    };
    #[cfg(not(feature = "otel"))]
    let otel_warning = 0;
    let endpoints = server.endpoints();
    let mut summary = format!(
        "the configuration is valid: {} of {} actions exposed at {}",
        endpoints[0].handler().dispatcher().registry().len(),
        server.exposure().len(),
        endpoints[0].path()
    );
    for endpoint in &endpoints[1..] {
        summary.push_str(&format!(
            ", {} at {}",
            endpoint.handler().dispatcher().registry().len(),
            endpoint.path()
        ));
    }
    let warnings = server.warnings().len() + jwks_warnings.len() + otel_warning;
    if warnings > 0 {
        summary.push_str(&format!(
            "; {warnings} warning{}",
            if warnings == 1 { "" } else { "s" }
        ));
    }
    eprintln!("{summary}");
    Ok(())
}

/// What `config check` says of the `type: jwks` entries beyond their shape: keys that cannot
/// be fetched now (the server would start anyway, refusing their JWTs until they can), and
/// plain-HTTP URLs off the loopback interface.
async fn jwks_warnings(server: &ActionsServer) -> Vec<String> {
    let mut warnings = Vec::new();
    let auth = &server.config().backend().auth;
    for (i, entry) in auth.external_access.iter().enumerate() {
        let options = &entry.options;
        let urls = options
            .url
            .iter()
            .chain(options.issuer.iter().flat_map(|i| i.0.iter()));
        for url in urls {
            let loopback = ["http://127.0.0.1", "http://localhost", "http://[::1]"]
                .iter()
                .any(|prefix| url.starts_with(prefix));
            if url.starts_with("http://") && !loopback {
                warnings.push(format!(
                    "backend.auth.externalAccess[{i}]: `{url}` is plain HTTP; signing keys fetched without TLS can be replaced on the way, use https"
                ));
            }
        }
    }
    #[cfg(feature = "jwt")]
    if let Some(jwt) = server.jwt_authenticator()
        && let Err(error) = jwt.fetch_keys().await
    {
        warnings.push(format!(
            "the signing keys of a `type: jwks` entry cannot be fetched now: {error}; the server starts anyway and refuses that issuer's JWTs until they can be fetched (static tokens keep working)"
        ));
    }
    warnings
}

/// Writes `text` to stdout. A closed pipe (`… | head -n 3`) is not an error: the reader has
/// what it wanted, and the command ends quietly.
pub(super) fn print(text: &str) -> Result<(), RunError> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(RunError::Output(error))
        }
        _ => Ok(()),
    }
}

fn print_json(value: &Value) -> Result<(), RunError> {
    print(&(serde_json::to_string_pretty(value).expect("JSON values serialize") + "\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align() {
        let text = table(
            &["A", "BB"],
            &[
                vec!["long cell".into(), "x".into()],
                vec!["s".into(), "".into()],
            ],
        );
        assert_eq!(text, "A          BB\nlong cell  x\ns\n");
    }
}
