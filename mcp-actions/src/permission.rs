//! Permissions, declared once as constants. What a caller may do with them is decided in
//! [`policy`](crate::policy); this module knows nothing about callers, so
//! [`credentials`](crate::credentials) (which restricts tokens to permissions) and the policy
//! can both build on it.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

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
