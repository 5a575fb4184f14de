//! What an action receives besides its input.

use std::fmt;
use std::sync::{Arc, OnceLock};

use tokio_util::sync::CancellationToken;

use crate::credentials::{Credentials, Principal};
use crate::elicit::{
    Answer, AskError, ConfirmPolicy, Elicit, NoPrompt, Question, UserPrompt, WithoutPrompt,
    confirmation_schema, elicitation_schema,
};
use crate::error::ActionError;
use crate::permission::{BoxFuture, Permission};
use crate::policy::{AllowAll, Decision, PermissionPolicy, check_permission};
use crate::services::Services;

/// One progress update.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// Work done so far.
    pub progress: f64,
    /// Total work, if known.
    pub total: Option<f64>,
    /// A short human-readable message.
    pub message: Option<String>,
}

/// Where progress updates go. The server sends them as MCP progress notifications when the
/// client asked for them; elsewhere they are dropped.
pub trait ProgressReporter: Send + Sync + 'static {
    /// Reports one update.
    fn report(&self, progress: Progress) -> BoxFuture<'_, ()>;
}

/// Drops progress updates.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl ProgressReporter for NoProgress {
    fn report(&self, _progress: Progress) -> BoxFuture<'_, ()> {
        Box::pin(std::future::ready(()))
    }
}

/// The context of one action call: who is calling, services, cancellation, progress, tracing
/// and permission checks. Cheap to clone.
#[derive(Clone)]
pub struct ActionContext {
    inner: Arc<Inner>,
}

struct Inner {
    plugin: &'static str,
    name: &'static str,
    /// `plugin:name`, made when first asked for.
    action_id: OnceLock<String>,
    credentials: Credentials,
    services: Arc<Services>,
    policy: Arc<dyn PermissionPolicy>,
    cancellation: CancellationToken,
    progress: Arc<dyn ProgressReporter>,
    prompt: Arc<dyn UserPrompt>,
    confirm: ConfirmPolicy,
    span: tracing::Span,
}

/// Builds an [`ActionContext`]; used by the server and by [`crate::testing`].
///
/// What is not set is made by [`ActionContextBuilder::build`], so that the server, which sets
/// everything, makes nothing twice.
pub struct ActionContextBuilder {
    plugin: &'static str,
    name: &'static str,
    credentials: Credentials,
    services: Option<Arc<Services>>,
    policy: Option<Arc<dyn PermissionPolicy>>,
    cancellation: Option<CancellationToken>,
    progress: Option<Arc<dyn ProgressReporter>>,
    prompt: Option<Arc<dyn UserPrompt>>,
    confirm: ConfirmPolicy,
    span: tracing::Span,
}

impl ActionContextBuilder {
    /// The caller's credentials (default: [`Credentials::none`]).
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = credentials;
        self
    }

    /// The shared services (default: none).
    pub fn services(mut self, services: Arc<Services>) -> Self {
        self.services = Some(services);
        self
    }

    /// The permission policy (default: [`AllowAll`]).
    pub fn policy(mut self, policy: Arc<dyn PermissionPolicy>) -> Self {
        self.policy = Some(policy);
        self
    }

    /// The cancellation token (default: a fresh one).
    pub fn cancellation(mut self, token: CancellationToken) -> Self {
        self.cancellation = Some(token);
        self
    }

    /// Where progress goes (default: nowhere).
    pub fn progress(mut self, progress: Arc<dyn ProgressReporter>) -> Self {
        self.progress = Some(progress);
        self
    }

    /// Where questions for the user go (default: [`NoPrompt`], nobody to ask).
    pub fn prompt(mut self, prompt: Arc<dyn UserPrompt>) -> Self {
        self.prompt = Some(prompt);
        self
    }

    /// When confirmations are asked for (default: [`ConfirmPolicy::default`]).
    pub fn confirm_policy(mut self, policy: ConfirmPolicy) -> Self {
        self.confirm = policy;
        self
    }

    /// The tracing span of the call (default: disabled).
    pub fn span(mut self, span: tracing::Span) -> Self {
        self.span = span;
        self
    }

    /// Builds the context.
    pub fn build(self) -> ActionContext {
        ActionContext {
            inner: Arc::new(Inner {
                plugin: self.plugin,
                name: self.name,
                action_id: OnceLock::new(),
                credentials: self.credentials,
                services: self.services.unwrap_or_else(|| Arc::new(Services::new())),
                policy: self.policy.unwrap_or_else(|| Arc::new(AllowAll)),
                cancellation: self.cancellation.unwrap_or_default(),
                progress: self.progress.unwrap_or_else(|| Arc::new(NoProgress)),
                prompt: self.prompt.unwrap_or_else(|| Arc::new(NoPrompt)),
                confirm: self.confirm,
                span: self.span,
            }),
        }
    }
}

impl ActionContext {
    /// Starts a context for the action `plugin:name`.
    pub fn builder(plugin: &'static str, name: &'static str) -> ActionContextBuilder {
        ActionContextBuilder {
            plugin,
            name,
            credentials: Credentials::none(),
            services: None,
            policy: None,
            cancellation: None,
            progress: None,
            prompt: None,
            confirm: ConfirmPolicy::default(),
            span: tracing::Span::none(),
        }
    }

    /// The caller's credentials.
    pub fn credentials(&self) -> &Credentials {
        &self.inner.credentials
    }

    /// The caller.
    pub fn principal(&self) -> &Principal {
        self.inner.credentials.principal()
    }

    /// The plugin the running action belongs to.
    pub fn plugin(&self) -> &'static str {
        self.inner.plugin
    }

    /// The running action's name (its tool name).
    pub fn action_name(&self) -> &'static str {
        self.inner.name
    }

    /// The running action's id, `plugin:name`.
    pub fn action_id(&self) -> &str {
        self.inner
            .action_id
            .get_or_init(|| format!("{}:{}", self.inner.plugin, self.inner.name))
    }

    /// The tracing span of this call; events logged inside the action are already in it.
    pub fn span(&self) -> &tracing::Span {
        &self.inner.span
    }

    /// Fires when the client cancels the call or disconnects.
    pub fn cancellation_token(&self) -> &CancellationToken {
        &self.inner.cancellation
    }

    /// Whether the call was cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.inner.cancellation.is_cancelled()
    }

    /// Reports progress to the client, if it asked for progress; otherwise does nothing.
    pub async fn progress(&self, progress: f64, total: Option<f64>, message: Option<&str>) {
        self.inner
            .progress
            .report(Progress {
                progress,
                total,
                message: message.map(str::to_owned),
            })
            .await;
    }

    /// Asks the user to confirm `message` through the client; `Ok(())` once they do.
    ///
    /// Declined or dismissed, it is `NotAllowedError: declined by the user`, ready for `?`.
    /// A client that cannot ask the user gets what the server is configured to do
    /// (`mcpActions.confirm.withoutClientSupport`: refuse, the default, or proceed), and a server
    /// with confirmations turned off (`mcpActions.servers.<key>.confirm: false`) proceeds
    /// without asking.
    ///
    /// On the stateless 2026-07-28 revision the call ends here with an input-required result,
    /// and runs again *from the start* once the client answers: keep the code before the
    /// first question free of side effects.
    pub async fn confirm(&self, message: impl Into<String>) -> Result<(), ActionError> {
        if !self.inner.confirm.enabled {
            return Ok(());
        }
        let question = Question {
            message: message.into(),
            schema: confirmation_schema(),
        };
        match self.inner.prompt.ask(question).await {
            Ok(Answer::Accept(_)) => Ok(()),
            Ok(Answer::Decline | Answer::Cancel) => Err(declined()),
            Err(AskError::Unsupported) => match self.inner.confirm.without_prompt {
                WithoutPrompt::Proceed => Ok(()),
                WithoutPrompt::Refuse => Err(ActionError::not_allowed(
                    "this action needs the user's confirmation, and this client cannot ask the user for it (it did not declare the elicitation capability)",
                )),
            },
            Err(AskError::Failed(error)) => Err(error),
        }
    }

    /// Asks the user to fill in a `T` through the client (an MCP elicitation form) and returns
    /// it. `T` derives [`Elicit`]: a flat struct of strings, numbers, booleans
    /// and unit-only enums, which is what MCP clients can show as a form.
    ///
    /// Declined or dismissed, it is `NotAllowedError: declined by the user`; a client that
    /// cannot ask the user is a `NotAllowedError` saying so. See [`ActionContext::confirm`]
    /// for what happens on 2026-07-28.
    pub async fn elicit<T: Elicit>(&self, message: impl Into<String>) -> Result<T, ActionError> {
        let question = Question {
            message: message.into(),
            schema: elicitation_schema::<T>()?,
        };
        let answer = self.inner.prompt.ask(question.clone()).await;
        match answer {
            Ok(Answer::Accept(content)) => {
                serde_path_to_error::deserialize(serde_json::Value::Object(content)).map_err(|e| {
                    ActionError::input(crate::error::cap_message(&format!(
                        "the user's answer to “{}” does not fit its form at `{}`: {}",
                        question.message,
                        e.path(),
                        e.inner()
                    )))
                })
            }
            Ok(Answer::Decline | Answer::Cancel) => Err(declined()),
            Err(AskError::Unsupported) => Err(ActionError::not_allowed(
                "this action needs an answer from the user, and this client cannot ask the user (it did not declare the elicitation capability)",
            )),
            Err(AskError::Failed(error)) => Err(error),
        }
    }

    /// A shared service registered on the server.
    ///
    /// Prefer a [`Service<T>`](crate::Service) argument: the registry then knows the action
    /// needs `T` and reports a missing service at start-up.
    pub fn service<T: Send + Sync + 'static>(&self) -> Result<Arc<T>, ActionError> {
        self.inner.services.get::<T>().ok_or_else(|| {
            ActionError::internal(format!(
                "service `{}` is not registered; register it on the server builder",
                std::any::type_name::<T>()
            ))
        })
    }

    /// All registered services.
    pub fn services(&self) -> &Services {
        &self.inner.services
    }

    /// Whether the caller may use `permission` (on `resource`, for resource-level checks),
    /// through the token's access restrictions and the server's permission policy.
    pub async fn is_allowed(&self, permission: &Permission, resource: Option<&str>) -> bool {
        check_permission(
            self.inner.policy.as_ref(),
            &self.inner.credentials,
            self.inner.plugin,
            self.action_id(),
            permission,
            resource,
        )
        .await
            == Decision::Allow
    }

    /// Like [`ActionContext::is_allowed`], but a denial is a `NotAllowedError` naming the
    /// permission, ready for `?`.
    pub async fn authorize(
        &self,
        permission: &Permission,
        resource: Option<&str>,
    ) -> Result<(), ActionError> {
        if self.is_allowed(permission, resource).await {
            return Ok(());
        }
        Err(ActionError::not_allowed(match resource {
            Some(resource) => format!(
                "permission `{}` ({}) is required for {resource}",
                permission.name(),
                permission.action()
            ),
            None => format!(
                "permission `{}` ({}) is required",
                permission.name(),
                permission.action()
            ),
        }))
    }
}

fn declined() -> ActionError {
    ActionError::not_allowed("declined by the user")
}

impl fmt::Debug for ActionContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActionContext")
            .field("action_id", &self.action_id())
            .field("credentials", &self.inner.credentials)
            .field("services", &self.inner.services)
            .field("cancelled", &self.is_cancelled())
            .finish_non_exhaustive()
    }
}
