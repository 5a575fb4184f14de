//! `token verify`: a token checked against the configuration exactly as the server checks it,
//! and what its caller may do.

use std::io::Read;
use std::time::SystemTime;

use http::{HeaderValue, header};
use mcp_actions::Credentials;

use super::RunError;
use super::args::VerifyArgs;
use super::commands::print;
use crate::server::ActionsServer;

pub(super) async fn verify(server: &ActionsServer, args: VerifyArgs) -> Result<(), RunError> {
    let token = match args.token.as_str() {
        "-" => {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text)?;
            text.trim().to_owned()
        }
        token => token.trim().to_owned(),
    };
    let token = token.strip_prefix("Bearer ").unwrap_or(&token).trim();
    if token.is_empty() {
        return Err(RunError::Usage("the token is empty".into()));
    }
    // The audience of `type: jwks` entries without one: this server's URLs.
    server.accept_tokens_for(&server.base_url(None));
    let value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
        RunError::TokenRefused("it contains characters an HTTP header cannot carry".into())
    })?;
    let (mut parts, ()) = http::Request::new(()).into_parts();
    parts.headers.insert(header::AUTHORIZATION, value);
    let credentials = server
        .authenticator()
        .authenticate(&parts)
        .await
        .map_err(|error| RunError::TokenRefused(refusal(&error.to_string())))?;
    let mut out = String::new();
    out.push_str(&format!("caller: {}\n", credentials.principal()));
    out.push_str(&kind_and_expiry(server, token).await);
    let required = &server.config().mcp_actions().auth.required_scopes;
    if let Some(scopes) = credentials.scopes() {
        out.push_str(&format!("scopes: {}\n", listed(scopes)));
        let missing = credentials.missing_scopes(required);
        if !missing.is_empty() {
            return Err(RunError::TokenRefused(format!(
                "it lacks the scope(s) {} that mcpActions.auth.requiredScopes requires (the server answers 403 insufficient_scope)",
                missing.join(" ")
            )));
        }
    }
    out.push_str(&restrictions(&credentials));
    for endpoint in server.endpoints() {
        let dispatcher = endpoint.handler().dispatcher();
        let visible = dispatcher.visible_actions(&credentials).await;
        out.push_str(&format!(
            "may call {} of {} tools at {}:",
            visible.len(),
            dispatcher.registry().len(),
            endpoint.path()
        ));
        if visible.is_empty() {
            out.push_str(" none\n");
            continue;
        }
        out.push('\n');
        let names = &endpoint.handler().all_tools();
        for action in visible {
            let tool = names
                .iter()
                .zip(dispatcher.registry().iter())
                .find(|(_, a)| a.id() == action.id())
                .map_or(action.name(), |(tool, _)| &tool.name);
            out.push_str(&format!("  {tool} ({})\n", action.id()));
        }
    }
    print(&out)
}

/// The error text of a refused token, without the prefix the client sees.
fn refusal(error: &str) -> String {
    error
        .strip_prefix("the access token is not valid: ")
        .unwrap_or(error)
        .to_owned()
}

/// `kind: …` and, for a JWT, when it expires.
async fn kind_and_expiry(server: &ActionsServer, token: &str) -> String {
    #[cfg(feature = "jwt")]
    if let Some(jwt) = server.jwt_authenticator()
        && let Ok(verified) = jwt.verify(token).await
    {
        let remaining = verified
            .expires_at
            .duration_since(SystemTime::now())
            .unwrap_or_default()
            .as_secs();
        return format!(
            "kind: JWT of {}\nexpires: in {} min {} s\n",
            verified.issuer,
            remaining / 60,
            remaining % 60
        );
    }
    let _ = (server, token, SystemTime::now());
    "kind: static token (backend.auth.externalAccess, or MCP_TOKEN)\n".to_owned()
}

fn listed(scopes: &[String]) -> String {
    if scopes.is_empty() {
        "none".to_owned()
    } else {
        scopes.join(" ")
    }
}

fn restrictions(credentials: &Credentials) -> String {
    match credentials.restrictions() {
        None => "access restrictions: none\n".to_owned(),
        Some(restrictions) => {
            let plugins: Vec<&str> = restrictions.iter().map(|r| r.plugin.as_str()).collect();
            format!("access restrictions: plugins {}\n", plugins.join(", "))
        }
    }
}
