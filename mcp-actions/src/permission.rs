//! Permissions: declared once as constants, checked through a pluggable [`PermissionPolicy`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use crate::credentials::Credentials;

/// A boxed, `Send` future, as the object-safe hooks return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The `action` attribute of a permission, as in Backstage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PermissionAction {
    /// Creates something.
    Create,
    /// Reads something.
    Read,
    /// Changes something.
    Update,
    /// Deletes something.
    Delete,
}

impl PermissionAction {
    /// The lowercase name used in configuration: `create`, `read`, `update` or `delete`.
    pub const fn as_str(self) -> &'static str {
        match self {
            PermissionAction::Create => "create",
            PermissionAction::Read => "read",
            PermissionAction::Update => "update",
            PermissionAction::Delete => "delete",
        }
    }
}

impl fmt::Display for PermissionAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for PermissionAction {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "create" => Ok(Self::Create),
            "read" => Ok(Self::Read),
            "update" => Ok(Self::Update),
            "delete" => Ok(Self::Delete),
            other => Err(format!(
                "unknown permission action `{other}`; expected one of `create`, `read`, `update`, `delete`"
            )),
        }
    }
}

/// A permission, declared as a constant and referenced by path from `#[action(permission = …)]`
/// and [`ActionContext::authorize`](crate::ActionContext::authorize), so a typo is a compile
/// error.
///
/// ```
/// use mcp_actions::{Permission, PermissionAction};
///
/// pub const ENTITY_DELETE: Permission = Permission::delete("catalog.entity.delete");
/// assert_eq!(ENTITY_DELETE.name(), "catalog.entity.delete");
/// assert_eq!(ENTITY_DELETE.action(), PermissionAction::Delete);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Permission {
    name: &'static str,
    action: PermissionAction,
    resource_type: Option<&'static str>,
}

impl Permission {
    /// A permission with a name (e.g. `"catalog.entity.read"`) and an action attribute.
    pub const fn new(name: &'static str, action: PermissionAction) -> Self {
        Self {
            name,
            action,
            resource_type: None,
        }
    }

    /// A `create` permission.
    pub const fn create(name: &'static str) -> Self {
        Self::new(name, PermissionAction::Create)
    }

    /// A `read` permission.
    pub const fn read(name: &'static str) -> Self {
        Self::new(name, PermissionAction::Read)
    }

    /// An `update` permission.
    pub const fn update(name: &'static str) -> Self {
        Self::new(name, PermissionAction::Update)
    }

    /// A `delete` permission.
    pub const fn delete(name: &'static str) -> Self {
        Self::new(name, PermissionAction::Delete)
    }

    /// Marks the permission as applying to resources of a type (e.g. `"catalog-entity"`).
    pub const fn with_resource_type(mut self, resource_type: &'static str) -> Self {
        self.resource_type = Some(resource_type);
        self
    }

    /// The permission's name.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The permission's action attribute.
    pub const fn action(&self) -> PermissionAction {
        self.action
    }

    /// The resource type the permission applies to, if any.
    pub const fn resource_type(&self) -> Option<&'static str> {
        self.resource_type
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name, self.action)
    }
}

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
