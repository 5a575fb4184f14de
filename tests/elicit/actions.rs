//! The actions that ask the user, in plugin `ask`. Each records what it did under the name it
//! was called with, so a test can tell whether the action ran.

use std::sync::Mutex;

use mcp_actions::prelude::*;

static RAN: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Whether an action recorded `what` (e.g. `delete:alpha`).
pub fn ran(what: &str) -> bool {
    RAN.lock().unwrap().iter().any(|r| r == what)
}

fn record(what: String) {
    RAN.lock().unwrap().push(what);
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct Named {
    /// What to work on
    pub name: String,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct Done {
    /// What was done
    pub done: String,
}

/// Delete a thing, after the user confirms.
#[action(
    plugin = "ask",
    title = "Delete Thing",
    destructive,
    confirm = "Delete {name}?"
)]
async fn ask_delete(input: Named) -> Result<Done, ActionError> {
    record(format!("delete:{}", input.name));
    Ok(Done {
        done: format!("deleted {}", input.name),
    })
}

/// Purge a thing (destructive; confirmed only where the server confirms every destructive
/// action).
#[action(plugin = "ask", title = "Purge Thing", destructive)]
async fn ask_purge(input: Named) -> Result<Done, ActionError> {
    record(format!("purge:{}", input.name));
    Ok(Done {
        done: format!("purged {}", input.name),
    })
}

/// Where to deploy.
#[derive(Debug, Deserialize, JsonSchema, Elicit)]
pub struct Target {
    /// The environment
    pub environment: Environment,
    /// Why (for the record)
    pub reason: Option<String>,
    /// How many replicas
    pub replicas: u8,
}

/// An environment.
#[derive(Debug, Deserialize, JsonSchema, Elicit)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Staging,
    Production,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct Deployed {
    /// The service
    pub service: String,
    /// Where it went
    pub environment: String,
    /// Why
    pub reason: Option<String>,
    /// How many replicas
    pub replicas: u8,
}

/// Deploy a service where the user says, after they confirm.
#[action(
    plugin = "ask",
    title = "Deploy Service",
    idempotent,
    destructive = false
)]
async fn ask_deploy(input: Named, ctx: &ActionContext) -> Result<Deployed, ActionError> {
    let target: Target = ctx
        .elicit(format!("Where should {} go?", input.name))
        .await?;
    let environment = format!("{:?}", target.environment).to_lowercase();
    ctx.confirm(format!(
        "Deploy {} to {environment} with {} replicas?",
        input.name, target.replicas
    ))
    .await?;
    record(format!("deploy:{}", input.name));
    Ok(Deployed {
        service: input.name,
        environment,
        reason: target.reason,
        replicas: target.replicas,
    })
}

/// Report progress, then ask to go on (progress and a question on one stream).
#[action(plugin = "ask", title = "Migrate Thing", destructive = false)]
async fn ask_migrate(input: Named, ctx: &ActionContext) -> Result<Done, ActionError> {
    ctx.progress(1.0, Some(2.0), Some("copied")).await;
    ctx.confirm(format!("Switch {} over?", input.name)).await?;
    record(format!("migrate:{}", input.name));
    Ok(Done {
        done: format!("migrated {}", input.name),
    })
}
