//! A small, real permission policy read from the `catalog.policy` config section: which
//! callers may use which permissions, optionally only on some entities.
//!
//! ```yaml
//! catalog:
//!   policy:
//!     rules:
//!       - principals: [service:catalog-reader]   # as `Principal` displays: service:<subject>,
//!         permissions: [catalog.entity.read]     # user:<ns>/<name>, or "*" for anyone
//!       - principals: [service:catalog-admin]
//!         permissions: ["catalog.entity.*"]      # a trailing `*` matches any suffix
//!       - principals: [service:catalog-reader]
//!         permissions: [catalog.entity.delete]
//!         resources: ["component:sandbox/*"]     # only these entities
//! ```
//!
//! A request is allowed when a rule matches the caller, the permission and — for resource-level
//! checks (`ctx.authorize(&PERM, Some(entity_ref))`) — the resource. A rule with `resources`
//! also matches the action-level check (no resource), so the action stays visible and each
//! entity is then checked on its own. Everything else is denied.

use mcp_actions::{AuthorizeRequest, BoxFuture, Decision, PermissionPolicy};
use mcp_actions_server::{Config, ConfigError};
use serde::Deserialize;

/// The config key of the policy.
pub const POLICY_KEY: &str = "catalog.policy";

/// The policy: a list of allow rules; anything not allowed is denied.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogPolicy {
    /// The allow rules.
    pub rules: Vec<Rule>,
}

/// One allow rule.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Who: `service:<subject>`, `user:<namespace>/<name>`, or `*`.
    pub principals: Vec<String>,
    /// Which permission names; a trailing `*` matches any suffix.
    pub permissions: Vec<String>,
    /// Only these resources (entity references; a trailing `*` matches any suffix). Absent:
    /// every resource.
    #[serde(default)]
    pub resources: Option<Vec<String>>,
}

fn matches(pattern: &str, value: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => value.starts_with(prefix),
        None => pattern == value,
    }
}

impl Rule {
    fn allows(&self, principal: &str, permission: &str, resource: Option<&str>) -> bool {
        self.principals.iter().any(|p| matches(p, principal))
            && self.permissions.iter().any(|p| matches(p, permission))
            && match (resource, &self.resources) {
                (None, _) | (_, None) => true,
                (Some(resource), Some(patterns)) => patterns.iter().any(|p| matches(p, resource)),
            }
    }
}

impl CatalogPolicy {
    /// The policy in `catalog.policy`, if the section is there.
    pub fn from_config(config: &Config) -> Result<Option<Self>, ConfigError> {
        config.get::<Self>(POLICY_KEY)
    }

    /// Whether the policy allows this.
    pub fn decide(&self, principal: &str, permission: &str, resource: Option<&str>) -> Decision {
        Decision::from_bool(
            self.rules
                .iter()
                .any(|rule| rule.allows(principal, permission, resource)),
        )
    }
}

impl PermissionPolicy for CatalogPolicy {
    fn authorize<'a>(&'a self, request: AuthorizeRequest<'a>) -> BoxFuture<'a, Decision> {
        let principal = request.credentials.principal().to_string();
        let decision = self.decide(&principal, request.permission.name(), request.resource);
        tracing::debug!(
            principal = %principal,
            permission = request.permission.name(),
            resource = request.resource.unwrap_or("-"),
            decision = ?decision,
            "catalog policy"
        );
        Box::pin(std::future::ready(decision))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        let policy = CatalogPolicy {
            rules: vec![
                Rule {
                    principals: vec!["service:reader".into()],
                    permissions: vec!["catalog.entity.read".into()],
                    resources: None,
                },
                Rule {
                    principals: vec!["service:reader".into()],
                    permissions: vec!["catalog.entity.delete".into()],
                    resources: Some(vec!["component:sandbox/*".into()]),
                },
                Rule {
                    principals: vec!["*".into()],
                    permissions: vec!["catalog.entity.*".into()],
                    resources: Some(vec!["component:default/nothing".into()]),
                },
            ],
        };
        let read = "catalog.entity.read";
        let delete = "catalog.entity.delete";
        assert!(policy.decide("service:reader", read, None).is_allow());
        assert!(policy.decide("service:reader", delete, None).is_allow());
        assert!(
            policy
                .decide("service:reader", delete, Some("component:sandbox/x"))
                .is_allow()
        );
        assert!(
            !policy
                .decide("service:reader", delete, Some("component:default/x"))
                .is_allow()
        );
        assert!(
            !policy
                .decide("service:other", read, Some("component:default/x"))
                .is_allow()
        );
        assert!(
            policy
                .decide(
                    "user:default/jane",
                    delete,
                    Some("component:default/nothing")
                )
                .is_allow()
        );
    }
}
