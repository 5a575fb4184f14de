//! Who is calling: the principal and the access restrictions their token carries.

use std::fmt;
use std::sync::Arc;

use crate::permission::{Permission, PermissionAction};

/// The authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Principal {
    /// A person, by Backstage entity ref (e.g. `user:default/jane`).
    User {
        /// The user's entity ref.
        user_entity_ref: String,
    },
    /// A service or other non-person caller, e.g. the `subject` of a static token.
    Service {
        /// The service's subject.
        subject: String,
    },
    /// Nobody: an unauthenticated caller (only seen where authentication is turned off).
    None,
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Principal::User { user_entity_ref } => f.write_str(user_entity_ref),
            Principal::Service { subject } => write!(f, "service:{subject}"),
            Principal::None => f.write_str("none"),
        }
    }
}

/// One entry of a token's `accessRestrictions`, as in Backstage's `externalAccess` config.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AccessRestriction {
    /// The plugin the token may reach.
    pub plugin: String,
    /// If set, only these permissions (by name) may be used on that plugin.
    pub permission_names: Option<Vec<String>>,
    /// If set, only permissions with these action attributes may be used on that plugin.
    pub permission_actions: Option<Vec<PermissionAction>>,
}

impl AccessRestriction {
    /// Access to every action of `plugin`.
    pub fn plugin(plugin: impl Into<String>) -> Self {
        Self {
            plugin: plugin.into(),
            permission_names: None,
            permission_actions: None,
        }
    }

    /// Only these permission names.
    pub fn with_permissions<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.permission_names = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// Only permissions with these actions.
    pub fn with_actions(mut self, actions: impl IntoIterator<Item = PermissionAction>) -> Self {
        self.permission_actions = Some(actions.into_iter().collect());
        self
    }

    fn allows(&self, permission: &Permission) -> bool {
        let name_ok = self
            .permission_names
            .as_ref()
            .is_none_or(|names| names.iter().any(|n| n == permission.name()));
        let action_ok = self
            .permission_actions
            .as_ref()
            .is_none_or(|actions| actions.contains(&permission.action()));
        name_ok && action_ok
    }
}

/// The caller's credentials, passed to every action through its
/// [`ActionContext`](crate::ActionContext).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    principal: Principal,
    restrictions: Option<Arc<[AccessRestriction]>>,
    scopes: Option<Arc<[String]>>,
    delegation: Option<DelegationToken>,
}

/// A user's Backstage token a server may forward to call other plugins on the user's behalf
/// (Backstage's `obo`); never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
struct DelegationToken(Arc<str>);

impl fmt::Debug for DelegationToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DelegationToken(…)")
    }
}

impl Credentials {
    /// Credentials for a principal, without access restrictions.
    pub fn new(principal: Principal) -> Self {
        Self {
            principal,
            restrictions: None,
            scopes: None,
            delegation: None,
        }
    }

    /// A user, by entity ref.
    pub fn user(user_entity_ref: impl Into<String>) -> Self {
        Self::new(Principal::User {
            user_entity_ref: user_entity_ref.into(),
        })
    }

    /// A service, by subject.
    pub fn service(subject: impl Into<String>) -> Self {
        Self::new(Principal::Service {
            subject: subject.into(),
        })
    }

    /// No principal.
    pub fn none() -> Self {
        Self::new(Principal::None)
    }

    /// Limits these credentials to the given plugins and permissions (Backstage's
    /// `accessRestrictions`). An empty list allows nothing.
    pub fn with_restrictions(
        mut self,
        restrictions: impl IntoIterator<Item = AccessRestriction>,
    ) -> Self {
        self.restrictions = Some(restrictions.into_iter().collect());
        self
    }

    /// The OAuth scopes the caller's access token was granted (a JWT's `scope` or `scp`). Only
    /// credentials with scopes are governed by scope rules (`mcpActions.auth`); a static token
    /// has none and is governed by its access restrictions instead.
    pub fn with_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = Some(scopes.into_iter().map(Into::into).collect());
        self
    }

    /// The user's Backstage token (a limited user token) these credentials came with, which a
    /// server forwards as the `obo` claim of the plugin tokens it issues on the user's behalf.
    /// Servers set it; actions do not need it (they call `Backstage::plugin_request_token`).
    #[doc(hidden)]
    pub fn with_delegation_token(mut self, token: impl Into<Arc<str>>) -> Self {
        self.delegation = Some(DelegationToken(token.into()));
        self
    }

    /// See [`Credentials::with_delegation_token`].
    #[doc(hidden)]
    pub fn delegation_token(&self) -> Option<&str> {
        self.delegation.as_ref().map(|t| &*t.0)
    }

    /// The granted scopes, or `None` when these credentials are not scope-governed.
    pub fn scopes(&self) -> Option<&[String]> {
        self.scopes.as_deref()
    }

    /// Which of `needed` these credentials lack: none when they are not scope-governed.
    /// Scopes match exactly (no prefix matching, no case folding).
    pub fn missing_scopes<'a>(&self, needed: &'a [String]) -> Vec<&'a str> {
        match self.scopes.as_deref() {
            None => Vec::new(),
            Some(granted) => needed
                .iter()
                .filter(|scope| !granted.contains(scope))
                .map(String::as_str)
                .collect(),
        }
    }

    /// The caller.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// The access restrictions, or `None` when the token is unrestricted.
    pub fn restrictions(&self) -> Option<&[AccessRestriction]> {
        self.restrictions.as_deref()
    }

    /// Whether the token may reach actions of `plugin` at all.
    pub fn allows_plugin(&self, plugin: &str) -> bool {
        self.restrictions
            .as_deref()
            .is_none_or(|rs| rs.iter().any(|r| r.plugin == plugin))
    }

    /// Whether the token's restrictions allow `permission` on `plugin`'s actions.
    pub fn allows_permission(&self, plugin: &str, permission: &Permission) -> bool {
        self.restrictions.as_deref().is_none_or(|rs| {
            rs.iter()
                .filter(|r| r.plugin == plugin)
                .any(|r| r.allows(permission))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VIEW: Permission = Permission::read("example.view");
    const DELETE: Permission = Permission::delete("example.delete");

    #[test]
    fn unrestricted_allows_everything() {
        let c = Credentials::service("mcp-clients");
        assert!(c.allows_plugin("anything"));
        assert!(c.allows_permission("anything", &DELETE));
    }

    #[test]
    fn scopes_match_exactly() {
        let needed = ["catalog.read".to_owned(), "catalog.write".to_owned()];
        assert!(Credentials::service("s").missing_scopes(&needed).is_empty());
        let c =
            Credentials::user("user:default/jane").with_scopes(["catalog.read", "Catalog.Write"]);
        assert_eq!(c.missing_scopes(&needed), ["catalog.write"]);
        assert_eq!(c.scopes().unwrap().len(), 2);
        let c = Credentials::service("s").with_scopes(["catalog"]);
        assert_eq!(c.missing_scopes(&needed), ["catalog.read", "catalog.write"]);
    }

    #[test]
    fn restrictions_limit_plugins_and_permissions() {
        let c = Credentials::service("mcp-clients").with_restrictions([
            AccessRestriction::plugin("catalog"),
            AccessRestriction::plugin("example").with_permissions(["example.view"]),
            AccessRestriction::plugin("ops").with_actions([PermissionAction::Read]),
        ]);
        assert!(c.allows_plugin("catalog"));
        assert!(!c.allows_plugin("scaffolder"));
        assert!(c.allows_permission("catalog", &DELETE));
        assert!(c.allows_permission("example", &VIEW));
        assert!(!c.allows_permission("example", &DELETE));
        assert!(c.allows_permission("ops", &VIEW));
        assert!(!c.allows_permission("ops", &DELETE));
        assert!(!c.allows_permission("scaffolder", &VIEW));
    }
}
