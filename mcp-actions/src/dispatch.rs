//! The one call pipeline every entry point uses: the MCP server, the CLI's local `call`, and
//! [`crate::testing`].
//!
//! look up → access restrictions → declared permission → deserialize input → invoke (with
//! cancellation, timeout and panic isolation) → serialize output. A refusal at the first two
//! steps ([`CallError::Hidden`]) is kept apart from every later failure
//! ([`CallError::Failed`]): servers answer the first like an unknown action.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::context::{ActionContext, NoProgress, ProgressReporter};
use crate::credentials::Credentials;
use crate::elicit::{Confirm, ConfirmPolicy, NoPrompt, UserPrompt, default_confirmation};
use crate::error::ActionError;
use crate::filter::ScopeRules;
use crate::permission::BoxFuture;
use crate::policy::{AllowAll, Decision, PermissionPolicy, check_permission};
use crate::registry::{RegisteredAction, Registry};
use crate::services::Services;

/// The `tracing` target of the `action` span every call runs in (fields `action.id` and
/// `principal`). Exported as a child of the request's span when traces are exported; the
/// CLI's log leaves it out unless `RUST_LOG` names this target (the span costs a few µs per
/// call, and the audit trail already says who called what).
pub const ACTION_SPAN_TARGET: &str = "mcp_actions::action";

/// Per-call inputs besides the action and its arguments.
pub struct CallOptions {
    /// Who is calling.
    pub credentials: Credentials,
    /// Cancelled when the client cancels or goes away.
    pub cancellation: CancellationToken,
    /// Where progress goes.
    pub progress: Arc<dyn ProgressReporter>,
    /// Where questions for the user go.
    pub prompt: Arc<dyn UserPrompt>,
}

impl CallOptions {
    /// A call by `credentials`, with a fresh cancellation token and no progress reporting.
    pub fn new(credentials: Credentials) -> Self {
        Self {
            credentials,
            cancellation: CancellationToken::new(),
            progress: Arc::new(NoProgress),
            prompt: Arc::new(NoPrompt),
        }
    }

    /// Uses this cancellation token.
    pub fn with_cancellation(mut self, token: CancellationToken) -> Self {
        self.cancellation = token;
        self
    }

    /// Sends progress here.
    pub fn with_progress(mut self, progress: Arc<dyn ProgressReporter>) -> Self {
        self.progress = progress;
        self
    }

    /// Asks the user through `prompt`.
    pub fn with_prompt(mut self, prompt: Arc<dyn UserPrompt>) -> Self {
        self.prompt = prompt;
        self
    }
}

/// Why [`Dispatcher::call_visible`] returned no output.
///
/// The two cases are kept apart because servers answer them differently: an action the caller
/// may not see is answered exactly like an unknown one (MCP: JSON-RPC -32602), so a caller
/// cannot probe for actions it may not see, while every failure of a visible action (its own
/// `NotAllowedError` included) is the action's answer (MCP: an `isError` tool result).
#[derive(Debug)]
#[non_exhaustive]
pub enum CallError {
    /// The caller may not see the action: its plugin is outside the token's access
    /// restrictions, or its declared permission is denied. The `NotAllowedError` says which,
    /// for logs; nothing ran.
    Hidden(ActionError),
    /// The action is visible and the call failed: its input did not deserialize, it returned
    /// an error, it panicked, timed out or was cancelled, or its output failed the check.
    Failed(ActionError),
}

impl CallError {
    /// The error either way (a hidden action's is its `NotAllowedError`).
    pub fn into_action_error(self) -> ActionError {
        match self {
            CallError::Hidden(error) | CallError::Failed(error) => error,
        }
    }

    /// Whether the caller may not see the action.
    pub fn is_hidden(&self) -> bool {
        matches!(self, CallError::Hidden(_))
    }
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Hidden(error) | CallError::Failed(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for CallError {}

/// Checks an action's output before it is returned, e.g. against the action's declared
/// output schema (the server does that, see `mcp-actions-server`).
pub trait OutputCheck: Send + Sync + 'static {
    /// `Err(reason)` when `output` must not be returned: the call then fails with an internal
    /// error, whose details (the reason) are logged and never sent.
    fn check(&self, action: &RegisteredAction, output: &Value) -> Result<(), String>;
}

/// Runs actions of a [`Registry`] for callers, with services and a permission policy.
#[derive(Clone)]
pub struct Dispatcher {
    registry: Arc<Registry>,
    services: Arc<Services>,
    policy: Arc<dyn PermissionPolicy>,
    timeout: Option<Duration>,
    output_check: Option<Arc<dyn OutputCheck>>,
    confirm: ConfirmPolicy,
    /// Action id → the OAuth scopes calling it needs (only actions that need some).
    action_scopes: Arc<HashMap<String, Vec<String>>>,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher")
            .field("actions", &self.registry.len())
            .field("services", &self.services)
            .field("timeout", &self.timeout)
            .field("output_check", &self.output_check.is_some())
            .finish_non_exhaustive()
    }
}

impl Dispatcher {
    /// A dispatcher with no services, the [`AllowAll`] policy and no timeout.
    pub fn new(registry: impl Into<Arc<Registry>>) -> Self {
        Self {
            registry: registry.into(),
            services: Arc::new(Services::new()),
            policy: Arc::new(AllowAll),
            timeout: None,
            output_check: None,
            confirm: ConfirmPolicy::default(),
            action_scopes: Arc::default(),
        }
    }

    /// Uses these services.
    pub fn with_services(mut self, services: impl Into<Arc<Services>>) -> Self {
        self.services = services.into();
        self
    }

    /// Uses this permission policy.
    pub fn with_policy(mut self, policy: Arc<dyn PermissionPolicy>) -> Self {
        self.policy = policy;
        self
    }

    /// Fails a call that runs longer than `timeout` with `ServiceUnavailableError`.
    pub fn with_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// Checks every successful output with `check` before it is returned; a failed check is an
    /// internal error (its reason logged, not sent).
    pub fn with_output_check(mut self, check: Arc<dyn OutputCheck>) -> Self {
        self.output_check = Some(check);
        self
    }

    /// Asks for confirmations as `policy` says (`mcpActions.confirm`).
    pub fn with_confirm_policy(mut self, policy: ConfirmPolicy) -> Self {
        self.confirm = policy;
        self
    }

    /// When confirmations are asked for.
    pub fn confirm_policy(&self) -> ConfirmPolicy {
        self.confirm
    }

    /// Whether a call of `action` asks the user to confirm before it runs (by its `confirm`
    /// attribute, or being destructive on a server that confirms every destructive action).
    pub fn confirms(&self, action: &RegisteredAction) -> bool {
        let descriptor = action.descriptor();
        self.confirm.enabled
            && (!matches!(descriptor.confirm, Confirm::No)
                || (self.confirm.destructive && descriptor.attributes.destructive))
    }

    /// Requires the scopes of `rules` (`mcpActions.auth.actionScopes`) to see and call the
    /// registry's actions, from credentials that carry scopes (see
    /// [`Credentials::with_scopes`]); credentials without scopes are not affected.
    pub fn with_scope_rules(mut self, rules: &ScopeRules) -> Self {
        self.action_scopes = Arc::new(
            self.registry
                .iter()
                .filter_map(|action| {
                    let scopes = rules.scopes_for(action.descriptor());
                    (!scopes.is_empty()).then(|| (action.id().to_owned(), scopes))
                })
                .collect(),
        );
        self
    }

    /// The scopes calling `action` needs by the scope rules (empty when none).
    pub fn required_scopes(&self, action: &RegisteredAction) -> &[String] {
        self.action_scopes
            .get(action.id())
            .map_or(&[], Vec::as_slice)
    }

    /// The registry.
    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// The services.
    pub fn services(&self) -> &Arc<Services> {
        &self.services
    }

    /// The permission policy.
    pub fn policy(&self) -> &Arc<dyn PermissionPolicy> {
        &self.policy
    }

    /// Whether `credentials` may see (and so call) `action`: its plugin is within the token's
    /// access restrictions and its declared permission, if any, is allowed.
    pub async fn is_visible(&self, action: &RegisteredAction, credentials: &Credentials) -> bool {
        self.check_access(action, credentials).await.is_ok()
    }

    /// The actions `credentials` may see, in registry order.
    pub async fn visible_actions(&self, credentials: &Credentials) -> Vec<&RegisteredAction> {
        let mut out = Vec::with_capacity(self.registry.len());
        for action in self.registry.iter() {
            if self.is_visible(action, credentials).await {
                out.push(action);
            }
        }
        out
    }

    async fn check_access(
        &self,
        action: &RegisteredAction,
        credentials: &Credentials,
    ) -> Result<(), ActionError> {
        if !credentials.allows_plugin(action.plugin()) {
            return Err(ActionError::not_allowed(format!(
                "this token's access is restricted to other plugins; action `{}` belongs to plugin `{}`",
                action.name(),
                action.plugin()
            )));
        }
        let missing = credentials.missing_scopes(self.required_scopes(action));
        if !missing.is_empty() {
            return Err(ActionError::not_allowed(format!(
                "the access token lacks the scope(s) {} needed to call `{}`",
                missing.join(" "),
                action.name()
            )));
        }
        if let Some(permission) = action.descriptor().permission {
            let decision = check_permission(
                self.policy.as_ref(),
                credentials,
                action.plugin(),
                action.id(),
                permission,
                None,
            )
            .await;
            if decision == Decision::Deny {
                return Err(ActionError::not_allowed(format!(
                    "permission `{}` ({}) is required to call `{}`",
                    permission.name(),
                    permission.action(),
                    action.name()
                )));
            }
        }
        Ok(())
    }

    /// Calls the action named `name` (its tool name).
    pub async fn call(
        &self,
        name: &str,
        arguments: Option<Value>,
        options: CallOptions,
    ) -> Result<Value, ActionError> {
        let Some(action) = self.registry.get(name) else {
            return Err(ActionError::not_found(format!(
                "Action \"{name}\" not found"
            )));
        };
        self.call_action(action, arguments, options).await
    }

    /// Calls `action`, which must belong to this dispatcher's registry. An action the caller
    /// may not see fails with its `NotAllowedError`; [`Dispatcher::call_visible`] tells the two
    /// apart.
    pub async fn call_action(
        &self,
        action: &RegisteredAction,
        arguments: Option<Value>,
        options: CallOptions,
    ) -> Result<Value, ActionError> {
        self.call_visible(action, arguments, options)
            .await
            .map_err(CallError::into_action_error)
    }

    /// Calls `action`, which must belong to this dispatcher's registry, telling an action the
    /// caller may not see ([`CallError::Hidden`], checked first: nothing runs) from a failed
    /// call ([`CallError::Failed`]).
    pub async fn call_visible(
        &self,
        action: &RegisteredAction,
        arguments: Option<Value>,
        options: CallOptions,
    ) -> Result<Value, CallError> {
        let span = tracing::info_span!(
            target: ACTION_SPAN_TARGET,
            "action",
            action.id = %action.id(),
            principal = %options.credentials.principal(),
        );
        let options_principal = options.credentials.principal().clone();
        let result = async {
            self.check_access(action, &options.credentials)
                .await
                .map_err(CallError::Hidden)?;
            self.run(action, arguments, options, span.clone())
                .await
                .map_err(CallError::Failed)
        }
        .instrument(span.clone())
        .await;
        let _entered = span.enter();
        // The action and the caller are fields of these events too: the span may be off.
        let id = action.id();
        let principal = options_principal;
        match &result {
            Ok(_) => {
                tracing::debug!(action.id = id, %principal, outcome = "ok", "action call finished")
            }
            Err(CallError::Hidden(e)) => tracing::info!(
                action.id = id,
                %principal,
                outcome = "hidden",
                error = %e,
                "action call refused: the caller may not see this action"
            ),
            Err(CallError::Failed(e)) if e.is_internal() => tracing::error!(
                action.id = id,
                %principal,
                outcome = "internal_error",
                reference = e.reference().unwrap_or_default(),
                details = %e.details(),
                "action failed unexpectedly"
            ),
            Err(CallError::Failed(e)) => tracing::info!(
                action.id = id,
                %principal,
                outcome = e.name(),
                error = %e,
                "action call refused or failed"
            ),
        }
        result
    }

    async fn run(
        &self,
        action: &RegisteredAction,
        arguments: Option<Value>,
        options: CallOptions,
        span: tracing::Span,
    ) -> Result<Value, ActionError> {
        let arguments = match arguments {
            None | Some(Value::Null) => Value::Object(Default::default()),
            Some(value) => value,
        };
        let descriptor = action.descriptor();
        let confirmation = if self.confirms(action) {
            Some(match descriptor.confirm {
                Confirm::Message(render) => render(&arguments)?,
                Confirm::Default | Confirm::No => {
                    default_confirmation(descriptor.title, &arguments)
                }
            })
        } else {
            None
        };
        let cancellation = options.cancellation.clone();
        let ctx = ActionContext::builder(descriptor.plugin, descriptor.name)
            .credentials(options.credentials)
            .services(Arc::clone(&self.services))
            .policy(Arc::clone(&self.policy))
            .cancellation(options.cancellation)
            .progress(options.progress)
            .prompt(options.prompt)
            .confirm_policy(self.confirm)
            .span(span)
            .build();
        // The confirmation is part of the call: bounded by its timeout, ended by cancellation.
        let invocation: BoxFuture<'static, Result<Value, ActionError>> = match confirmation {
            None => (descriptor.invoke)(ctx, arguments),
            Some(message) => Box::pin(async move {
                ctx.confirm(message).await?;
                (descriptor.invoke)(ctx, arguments).await
            }),
        };
        let invocation = AssertUnwindSafe(invocation).catch_unwind().map(|outcome| {
            outcome.unwrap_or_else(|panic| {
                Err(ActionError::internal(format!(
                    "action `{}` panicked: {}",
                    action.id(),
                    panic_message(panic.as_ref())
                )))
            })
        });
        let result = run_bounded(invocation, &cancellation, self.timeout).await;
        match (result, &self.output_check) {
            (Ok(output), Some(check)) => match check.check(action, &output) {
                Ok(()) => Ok(output),
                Err(reason) => Err(ActionError::internal(format!(
                    "the output of action `{}` does not match its output schema: {reason}",
                    action.id()
                ))),
            },
            (result, _) => result,
        }
    }
}

/// Runs `call` to its end unless `cancellation` fires first or it outlasts `timeout`: the bounds
/// every action call has, whether the action is linked in or forwarded to a remote one. Either
/// bound ends the call with a `ServiceUnavailableError` that says which.
pub async fn run_bounded<F>(
    call: F,
    cancellation: &CancellationToken,
    timeout: Option<Duration>,
) -> Result<Value, ActionError>
where
    F: std::future::Future<Output = Result<Value, ActionError>>,
{
    let guarded = async {
        tokio::select! {
            biased;
            result = call => result,
            () = cancellation.cancelled() => Err(ActionError::service_unavailable(
                "the call was cancelled before the action finished",
            )),
        }
    };
    match timeout {
        None => guarded.await,
        Some(limit) => tokio::time::timeout(limit, guarded)
            .await
            .unwrap_or_else(|_| {
                Err(ActionError::service_unavailable(format!(
                    "the action did not finish within {} s",
                    limit.as_secs_f64()
                )))
            }),
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a non-string panic payload".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::AccessRestriction;
    use crate::permission::{BoxFuture, Permission};
    use crate::policy::DenyAll;
    use crate::testing::descriptor;

    const EDIT: Permission = Permission::update("test.edit");

    fn refuses(
        _ctx: ActionContext,
        _input: Value,
    ) -> BoxFuture<'static, Result<Value, ActionError>> {
        Box::pin(async { Err(ActionError::not_allowed("only the owner may do that")) })
    }

    fn dispatcher() -> Dispatcher {
        let open = descriptor("test", "open").build();
        let guarded = descriptor("test", "guarded").permission(&EDIT).build();
        let own = descriptor("test", "own_refusal").invoke(refuses).build();
        let other = descriptor("other", "elsewhere").build();
        let registry = Registry::from_descriptors([open, guarded, own, other]).unwrap();
        Dispatcher::new(registry).with_policy(Arc::new(DenyAll))
    }

    async fn call(
        dispatcher: &Dispatcher,
        name: &str,
        credentials: &Credentials,
    ) -> Result<Value, CallError> {
        let action = dispatcher.registry().get(name).unwrap();
        let options = CallOptions::new(credentials.clone());
        dispatcher.call_visible(action, None, options).await
    }

    #[tokio::test]
    async fn a_refused_access_is_hidden_and_an_actions_own_refusal_is_not() {
        let dispatcher = dispatcher();
        let anyone = Credentials::service("tester");
        let restricted =
            Credentials::service("tester").with_restrictions([AccessRestriction::plugin("test")]);

        assert_eq!(
            call(&dispatcher, "open", &anyone).await.unwrap(),
            serde_json::json!({})
        );
        let denied = call(&dispatcher, "guarded", &anyone).await.unwrap_err();
        assert!(denied.is_hidden(), "{denied:?}");
        assert!(denied.into_action_error().to_string().contains("test.edit"));
        let elsewhere = call(&dispatcher, "elsewhere", &restricted)
            .await
            .unwrap_err();
        assert!(elsewhere.is_hidden(), "{elsewhere:?}");

        let own = call(&dispatcher, "own_refusal", &anyone).await.unwrap_err();
        assert!(!own.is_hidden(), "{own:?}");
        assert_eq!(
            own.into_action_error().to_string(),
            "NotAllowedError: only the owner may do that"
        );
    }

    #[tokio::test]
    async fn call_action_still_answers_a_hidden_action_with_its_not_allowed_error() {
        let dispatcher = dispatcher();
        let action = dispatcher.registry().get("guarded").unwrap();
        let options = CallOptions::new(Credentials::service("tester"));
        let error = dispatcher
            .call_action(action, None, options)
            .await
            .unwrap_err();
        assert_eq!(error.name(), "NotAllowedError");
    }
}
