//! Test-only actions, in plugins `e2e` and `e2e-other`.

use mcp_actions::prelude::*;

/// Reading the secret.
pub const SECRET_VIEW: Permission = Permission::read("e2e.secret.view");
/// Changing the secret.
pub const SECRET_WRITE: Permission = Permission::update("e2e.secret.write");

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct Caller {
    /// The principal as displayed, e.g. `service:mcp-clients`
    pub principal: String,
    /// The service subject, when the caller is a service
    pub subject: Option<String>,
}

/// Say who is calling.
#[action(plugin = "e2e", title = "Who Am I", read_only)]
async fn e2e_whoami(ctx: &ActionContext) -> Result<Caller, ActionError> {
    let subject = match ctx.principal() {
        Principal::Service { subject } => Some(subject.clone()),
        _ => None,
    };
    Ok(Caller {
        principal: ctx.principal().to_string(),
        subject,
    })
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct EchoInput {
    /// Text to echo
    pub message: String,
    /// Nested options
    pub options: EchoOptions,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct EchoOptions {
    /// Shout?
    pub loud: bool,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct EchoOutput {
    /// The echoed text
    pub echo: String,
}

/// Echo a message.
#[action(plugin = "e2e", title = "Echo", read_only, idempotent)]
async fn e2e_echo(input: EchoInput) -> Result<EchoOutput, ActionError> {
    let echo = if input.options.loud {
        input.message.to_uppercase()
    } else {
        input.message
    };
    Ok(EchoOutput { echo })
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct FailInput {
    /// The Backstage error name to fail with, or `Unexpected`
    pub error: String,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct Nothing {}

/// Fail with the error asked for.
#[action(plugin = "e2e", title = "Fail", read_only)]
async fn e2e_fail(input: FailInput) -> Result<Nothing, ActionError> {
    Err(match input.error.as_str() {
        "InputError" => ActionError::input("the input was wrong"),
        "AuthenticationError" => ActionError::authentication("who are you"),
        "NotAllowedError" => ActionError::not_allowed("not for you"),
        "NotFoundError" => ActionError::not_found("no such thing"),
        "ConflictError" => ActionError::conflict("it already exists"),
        "NotModifiedError" => ActionError::not_modified("nothing changed"),
        "NotImplementedError" => ActionError::not_implemented("not yet"),
        "ServiceUnavailableError" => ActionError::service_unavailable("try again later"),
        _ => ActionError::internal("db password hunter2 rejected by db-7.internal"),
    })
}

/// Panic.
#[action(plugin = "e2e", title = "Explode")]
async fn e2e_explode() -> Result<Nothing, ActionError> {
    panic!("secret panic details 4242")
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct Done {
    /// Always true
    pub done: bool,
}

/// Report progress twice, then finish.
#[action(plugin = "e2e", title = "Progress", read_only)]
async fn e2e_progress(ctx: &ActionContext) -> Result<Done, ActionError> {
    ctx.progress(1.0, Some(2.0), Some("halfway")).await;
    ctx.progress(2.0, Some(2.0), Some("finished")).await;
    Ok(Done { done: true })
}

/// Sleep longer than the test server's action timeout.
#[action(plugin = "e2e", title = "Sleep", read_only)]
async fn e2e_sleep() -> Result<Done, ActionError> {
    tokio::time::sleep(std::time::Duration::from_secs(30)).await;
    Ok(Done { done: true })
}

/// Read the secret (needs `e2e.secret.view`).
#[action(plugin = "e2e", title = "Read Secret", read_only, permission = SECRET_VIEW)]
async fn e2e_read_secret() -> Result<Done, ActionError> {
    Ok(Done { done: true })
}

/// Change the secret (needs `e2e.secret.write`).
#[action(plugin = "e2e", title = "Write Secret", permission = SECRET_WRITE)]
async fn e2e_write_secret() -> Result<Done, ActionError> {
    Ok(Done { done: true })
}

/// An action of another plugin, for access restrictions.
#[action(plugin = "e2e-other", title = "Other Plugin", read_only)]
async fn e2e_other_plugin() -> Result<Done, ActionError> {
    Ok(Done { done: true })
}
