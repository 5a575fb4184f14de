//! Deciding on permissions: the pluggable [`PermissionPolicy`] and [`check_permission`], the one
//! check every part of mcp-actions runs (the token's access restrictions, then the policy).
//!
//! It builds on [`permission`](crate::permission) (what is asked for) and
//! [`credentials`](crate::credentials) (who asks); neither of those refers back to it.

use crate::credentials::Credentials;
use crate::permission::{BoxFuture, Permission};

/// What a [`PermissionPolicy`] decides on.
#[derive(Debug, Clone, Copy)]
pub struct AuthorizeRequest<'a> {
    /// Who is asking.
    pub credentials: &'a Credentials,
    /// What they want to do.
    pub permission: &'a Permission,
    /// The resource, for resource-level checks (e.g. `"component:default/website"`).
    pub resource: Option<&'a str>,
    /// The action being listed or called, as `plugin:name`.
    pub action_id: &'a str,
}

/// A policy decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    /// Allowed.
    Allow,
    /// Denied.
    Deny,
}

impl Decision {
    /// `Allow` when `allowed` is true.
    pub fn from_bool(allowed: bool) -> Self {
        if allowed { Self::Allow } else { Self::Deny }
    }

    /// Whether this is `Allow`.
    pub fn is_allow(self) -> bool {
        self == Self::Allow
    }
}

/// The permission hook: decides whether credentials may use a permission, optionally on a
/// resource. The server consults it to hide and refuse actions whose declared permission is
/// denied, and [`ActionContext::authorize`](crate::ActionContext::authorize) consults the same
/// instance inside actions.
///
/// Implement it for an async policy; [`policy_fn`] wraps a synchronous closure.
pub trait PermissionPolicy: Send + Sync + 'static {
    /// Decides one request.
    fn authorize<'a>(&'a self, request: AuthorizeRequest<'a>) -> BoxFuture<'a, Decision>;
}

/// The default policy: allows everything (access restrictions of tokens still apply).
#[derive(Debug, Clone, Copy, Default)]
pub struct AllowAll;

impl PermissionPolicy for AllowAll {
    fn authorize<'a>(&'a self, _request: AuthorizeRequest<'a>) -> BoxFuture<'a, Decision> {
        Box::pin(std::future::ready(Decision::Allow))
    }
}

/// A policy that denies everything; handy in tests.
#[derive(Debug, Clone, Copy, Default)]
pub struct DenyAll;

impl PermissionPolicy for DenyAll {
    fn authorize<'a>(&'a self, _request: AuthorizeRequest<'a>) -> BoxFuture<'a, Decision> {
        Box::pin(std::future::ready(Decision::Deny))
    }
}

/// A policy from a synchronous closure.
///
/// ```
/// use mcp_actions::{policy_fn, Decision, PermissionAction, Principal};
///
/// // Services may read; only users may change things.
/// let policy = policy_fn(|req| {
///     Decision::from_bool(
///         req.permission.action() == PermissionAction::Read
///             || matches!(req.credentials.principal(), Principal::User { .. }),
///     )
/// });
/// # let _ = policy;
/// ```
pub fn policy_fn<F>(f: F) -> FnPolicy<F>
where
    F: Fn(&AuthorizeRequest<'_>) -> Decision + Send + Sync + 'static,
{
    FnPolicy(f)
}

/// See [`policy_fn`].
#[derive(Debug, Clone, Copy)]
pub struct FnPolicy<F>(F);

impl<F> PermissionPolicy for FnPolicy<F>
where
    F: Fn(&AuthorizeRequest<'_>) -> Decision + Send + Sync + 'static,
{
    fn authorize<'a>(&'a self, request: AuthorizeRequest<'a>) -> BoxFuture<'a, Decision> {
        Box::pin(std::future::ready((self.0)(&request)))
    }
}

/// Checks a permission the way every part of mcp-actions does: first the access restrictions
/// carried by the caller's token (for the action's plugin), then the policy.
pub async fn check_permission(
    policy: &dyn PermissionPolicy,
    credentials: &Credentials,
    plugin: &str,
    action_id: &str,
    permission: &Permission,
    resource: Option<&str>,
) -> Decision {
    if !credentials.allows_permission(plugin, permission) {
        return Decision::Deny;
    }
    policy
        .authorize(AuthorizeRequest {
            credentials,
            permission,
            resource,
            action_id,
        })
        .await
}
