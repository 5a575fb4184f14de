//! Which actions are exposed: Backstage's `backend.actions.pluginSources` and
//! `backend.actions.filter.{include,exclude}`, with an explanation for every decision.
//!
//! Rules: a rule is `{ id: "<glob on plugin:name>", attributes: { readOnly, destructive,
//! idempotent } }`; `id` and `attributes` combine with AND (a rule with neither matches
//! everything). When any include rule exists an action must match at least one; an exclude
//! rule that matches always wins. Attributes are compared after defaults are applied
//! (`destructive` defaults to `!readOnly`). Globs: `*` matches any run of characters, `?` one,
//! `[abc]` a class, `{a,b}` alternatives — `catalog:*`, `*:delete_*`.
//!
//! ```
//! use mcp_actions::filter::{ActionFilter, FilterRule};
//!
//! let filter = ActionFilter::new(
//!     None,
//!     vec![FilterRule::id("catalog:*")],
//!     vec![FilterRule::id("*:delete_*")],
//! ).unwrap();
//! # let _ = filter;
//! ```

use std::fmt;

use globset::{Glob, GlobMatcher};
use serde::Deserialize;

use crate::descriptor::{ActionAttributes, ActionDescriptor};
use crate::registry::{RegisteredAction, Registry};

/// Attribute conditions of a rule; every one that is set must match.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AttributeMatch {
    /// `readOnly`.
    pub read_only: Option<bool>,
    /// `destructive` (after defaults: `!readOnly` unless set).
    pub destructive: Option<bool>,
    /// `idempotent`.
    pub idempotent: Option<bool>,
}

impl AttributeMatch {
    fn matches(&self, a: &ActionAttributes) -> bool {
        self.read_only.is_none_or(|v| v == a.read_only)
            && self.destructive.is_none_or(|v| v == a.destructive)
            && self.idempotent.is_none_or(|v| v == a.idempotent)
    }

    fn is_empty(&self) -> bool {
        self.read_only.is_none() && self.destructive.is_none() && self.idempotent.is_none()
    }
}

impl fmt::Display for AttributeMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = [
            ("readOnly", self.read_only),
            ("destructive", self.destructive),
            ("idempotent", self.idempotent),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| format!("{k}: {v}")))
        .collect();
        write!(f, "{{ {} }}", parts.join(", "))
    }
}

/// One include or exclude rule, as written in configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterRule {
    /// Glob on the action id `plugin:name`.
    pub id: Option<String>,
    /// Attribute conditions.
    pub attributes: Option<AttributeMatch>,
}

impl FilterRule {
    /// A rule on the id only.
    pub fn id(glob: impl Into<String>) -> Self {
        Self {
            id: Some(glob.into()),
            attributes: None,
        }
    }

    /// A rule on attributes only.
    pub fn attributes(attributes: AttributeMatch) -> Self {
        Self {
            id: None,
            attributes: Some(attributes),
        }
    }
}

impl fmt::Display for FilterRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.id, self.attributes.filter(|a| !a.is_empty())) {
            (Some(id), Some(a)) => write!(f, "id `{id}` and attributes {a}"),
            (Some(id), None) => write!(f, "id `{id}`"),
            (None, Some(a)) => write!(f, "attributes {a}"),
            (None, None) => f.write_str("any action"),
        }
    }
}

/// A rule's glob is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{list}[{index}].id: invalid glob `{glob}`: {reason}")]
pub struct FilterError {
    /// `include` or `exclude`.
    pub list: &'static str,
    /// The rule's index in its list.
    pub index: usize,
    /// The glob as written.
    pub glob: String,
    /// Why it is invalid.
    pub reason: String,
}

#[derive(Debug, Clone)]
struct CompiledRule {
    rule: FilterRule,
    glob: Option<GlobMatcher>,
}

impl CompiledRule {
    fn compile(list: &'static str, index: usize, rule: FilterRule) -> Result<Self, FilterError> {
        let glob = match &rule.id {
            None => None,
            Some(pattern) => Some(
                Glob::new(pattern)
                    .map_err(|e| FilterError {
                        list,
                        index,
                        glob: pattern.clone(),
                        reason: e.kind().to_string(),
                    })?
                    .compile_matcher(),
            ),
        };
        Ok(Self { rule, glob })
    }

    fn matches(&self, id: &str, attributes: &ActionAttributes) -> bool {
        self.glob.as_ref().is_none_or(|g| g.is_match(id))
            && self.rule.attributes.is_none_or(|a| a.matches(attributes))
    }
}

/// Whether an action is exposed, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterDecision {
    /// Exposed.
    Exposed {
        /// Why: no rules, or which include rule matched.
        reason: String,
    },
    /// Not exposed.
    Filtered {
        /// Why: not in `pluginSources`, no include rule matched, or which exclude rule matched.
        reason: String,
    },
}

impl FilterDecision {
    /// Whether the action is exposed.
    pub fn is_exposed(&self) -> bool {
        matches!(self, FilterDecision::Exposed { .. })
    }

    /// The explanation.
    pub fn reason(&self) -> &str {
        match self {
            FilterDecision::Exposed { reason } | FilterDecision::Filtered { reason } => reason,
        }
    }
}

/// The compiled `pluginSources` + include/exclude filter.
#[derive(Debug, Clone, Default)]
pub struct ActionFilter {
    plugin_sources: Option<Vec<String>>,
    include: Vec<CompiledRule>,
    exclude: Vec<CompiledRule>,
}

impl ActionFilter {
    /// A filter from `pluginSources` (`None`: all plugins) and include/exclude rules.
    pub fn new(
        plugin_sources: Option<Vec<String>>,
        include: Vec<FilterRule>,
        exclude: Vec<FilterRule>,
    ) -> Result<Self, FilterError> {
        let compile = |list, rules: Vec<FilterRule>| {
            rules
                .into_iter()
                .enumerate()
                .map(|(i, r)| CompiledRule::compile(list, i, r))
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(Self {
            plugin_sources,
            include: compile("include", include)?,
            exclude: compile("exclude", exclude)?,
        })
    }

    /// A filter that exposes everything.
    pub fn allow_all() -> Self {
        Self::default()
    }

    /// Decides for one action.
    pub fn decide(&self, action: &ActionDescriptor) -> FilterDecision {
        self.decide_for(action.plugin, &action.id(), &action.attributes)
    }

    /// Decides for an action known by its plugin, id (`plugin:name`) and attributes (after
    /// defaults), e.g. one a remote Backstage plugin lists.
    pub fn decide_for(
        &self,
        plugin: &str,
        id: &str,
        attributes: &ActionAttributes,
    ) -> FilterDecision {
        if let Some(sources) = &self.plugin_sources
            && !sources.iter().any(|s| s == plugin)
        {
            return FilterDecision::Filtered {
                reason: format!("plugin `{plugin}` is not in pluginSources"),
            };
        }
        if let Some((i, rule)) = self
            .exclude
            .iter()
            .enumerate()
            .find(|(_, r)| r.matches(id, attributes))
        {
            return FilterDecision::Filtered {
                reason: format!("excluded by exclude[{i}] ({})", rule.rule),
            };
        }
        if self.include.is_empty() {
            let reason = if self.exclude.is_empty() && self.plugin_sources.is_none() {
                "no filter configured"
            } else {
                "not excluded (no include rules)"
            };
            return FilterDecision::Exposed {
                reason: reason.into(),
            };
        }
        match self
            .include
            .iter()
            .enumerate()
            .find(|(_, r)| r.matches(id, attributes))
        {
            Some((i, rule)) => FilterDecision::Exposed {
                reason: format!("included by include[{i}] ({})", rule.rule),
            },
            None => FilterDecision::Filtered {
                reason: "matches no include rule".into(),
            },
        }
    }

    /// Whether `action` is exposed.
    pub fn allows(&self, action: &ActionDescriptor) -> bool {
        self.decide(action).is_exposed()
    }

    /// Applies the filter to a registry.
    pub fn apply(&self, registry: Registry) -> Registry {
        registry.retain(|a: &RegisteredAction| self.allows(a.descriptor()))
    }

    /// What in this filter has no effect on `registry` — a plugin source with no actions, a rule
    /// that matches no action — each as a sentence for a start-up warning (a typo should not
    /// silently expose nothing).
    pub fn unused_parts(&self, registry: &Registry) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(sources) = &self.plugin_sources {
            for source in sources {
                if !registry.iter().any(|a| a.plugin() == source) {
                    out.push(format!(
                        "pluginSources entry `{source}` has no actions in this binary"
                    ));
                }
            }
        }
        for (list, rules) in [("include", &self.include), ("exclude", &self.exclude)] {
            for (i, rule) in rules.iter().enumerate() {
                let hit = registry.iter().any(|a| {
                    let d = a.descriptor();
                    rule.matches(a.id(), &d.attributes)
                });
                if !hit {
                    out.push(format!("{list}[{i}] ({}) matches no action", rule.rule));
                }
            }
        }
        out
    }
}

/// `mcpActions.auth.actionScopes`: which OAuth scopes calling an action needs. Each rule has the
/// shape of a filter rule (an id glob and/or attribute conditions) plus the scopes the actions it
/// matches need; an action needs the scopes of every rule it matches.
#[derive(Debug, Clone, Default)]
pub struct ScopeRules {
    rules: Vec<(CompiledRule, Vec<String>)>,
}

impl ScopeRules {
    /// Compiles `rules`; a bad glob is an error naming `actionScopes[i]`.
    pub fn new(
        rules: impl IntoIterator<Item = (FilterRule, Vec<String>)>,
    ) -> Result<Self, FilterError> {
        let rules = rules
            .into_iter()
            .enumerate()
            .map(|(i, (rule, scopes))| {
                Ok((CompiledRule::compile("actionScopes", i, rule)?, scopes))
            })
            .collect::<Result<Vec<_>, FilterError>>()?;
        Ok(Self { rules })
    }

    /// Whether there are no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The scopes calling `action` needs: those of every matching rule, each once, in rule order.
    pub fn scopes_for(&self, action: &ActionDescriptor) -> Vec<String> {
        if self.rules.is_empty() {
            return Vec::new();
        }
        self.scopes_for_id(&action.id(), &action.attributes)
    }

    /// The scopes calling the action `id` (`plugin:name`) with these attributes (after
    /// defaults) needs, e.g. one a remote Backstage plugin lists; as [`ScopeRules::scopes_for`].
    pub fn scopes_for_id(&self, id: &str, attributes: &ActionAttributes) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (rule, scopes) in &self.rules {
            if rule.matches(id, attributes) {
                for scope in scopes {
                    if !out.contains(scope) {
                        out.push(scope.clone());
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::descriptor;

    static GET: ActionDescriptor = descriptor("catalog", "get_catalog_entity")
        .attributes(ActionAttributes::new(true, None, true, false))
        .into_descriptor();
    static DELETE: ActionDescriptor = descriptor("catalog", "delete_catalog_entity")
        .attributes(ActionAttributes::new(false, None, true, false))
        .into_descriptor();
    static GREET: ActionDescriptor = descriptor("greet-user", "greet_user")
        .attributes(ActionAttributes::new(true, None, true, false))
        .into_descriptor();

    fn exposed(f: &ActionFilter) -> Vec<&'static str> {
        [&GET, &DELETE, &GREET]
            .into_iter()
            .filter(|d| f.allows(d))
            .map(|d| d.name)
            .collect()
    }

    fn attrs(read_only: Option<bool>, destructive: Option<bool>) -> AttributeMatch {
        AttributeMatch {
            read_only,
            destructive,
            idempotent: None,
        }
    }

    #[test]
    fn scope_rules_add_up() {
        let rules = ScopeRules::new([
            (FilterRule::id("catalog:*"), vec!["catalog.read".to_owned()]),
            (
                FilterRule {
                    id: Some("catalog:*".into()),
                    attributes: Some(attrs(Some(false), None)),
                },
                vec!["catalog.write".to_owned(), "catalog.read".to_owned()],
            ),
        ])
        .unwrap();
        assert_eq!(rules.scopes_for(&GET), ["catalog.read"]);
        assert_eq!(rules.scopes_for(&DELETE), ["catalog.read", "catalog.write"]);
        assert!(rules.scopes_for(&GREET).is_empty());
        let error = ScopeRules::new([(FilterRule::id("cat[alog"), vec![])]).unwrap_err();
        assert_eq!((error.list, error.index), ("actionScopes", 0));
    }

    #[test]
    fn no_rules_expose_everything() {
        let f = ActionFilter::allow_all();
        assert_eq!(exposed(&f).len(), 3);
        assert_eq!(f.decide(&GET).reason(), "no filter configured");
        let f = ActionFilter::new(None, vec![], vec![FilterRule::id("x:*")]).unwrap();
        assert_eq!(f.decide(&GET).reason(), "not excluded (no include rules)");
    }

    #[test]
    fn plugin_sources_limit_plugins() {
        let f = ActionFilter::new(Some(vec!["catalog".into()]), vec![], vec![]).unwrap();
        assert_eq!(exposed(&f), ["get_catalog_entity", "delete_catalog_entity"]);
        assert_eq!(
            f.decide(&GREET).reason(),
            "plugin `greet-user` is not in pluginSources"
        );
    }

    #[test]
    fn include_glob_and_exclude_precedence() {
        let f = ActionFilter::new(
            None,
            vec![FilterRule::id("catalog:*")],
            vec![FilterRule::id("*:delete_*")],
        )
        .unwrap();
        assert_eq!(exposed(&f), ["get_catalog_entity"]);
        assert_eq!(
            f.decide(&DELETE).reason(),
            "excluded by exclude[0] (id `*:delete_*`)"
        );
        assert_eq!(f.decide(&GREET).reason(), "matches no include rule");
        assert_eq!(
            f.decide(&GET).reason(),
            "included by include[0] (id `catalog:*`)"
        );
    }

    #[test]
    fn attributes_use_defaults_and_and_with_id() {
        // destructive was never set on DELETE: it defaults to !read_only = true.
        let f = ActionFilter::new(
            None,
            vec![],
            vec![FilterRule::attributes(attrs(None, Some(true)))],
        )
        .unwrap();
        assert_eq!(exposed(&f), ["get_catalog_entity", "greet_user"]);

        let f = ActionFilter::new(
            None,
            vec![FilterRule {
                id: Some("catalog:*".into()),
                attributes: Some(attrs(Some(true), None)),
            }],
            vec![],
        )
        .unwrap();
        assert_eq!(exposed(&f), ["get_catalog_entity"]);
    }

    #[test]
    fn bad_glob_names_the_rule() {
        let err = ActionFilter::new(None, vec![], vec![FilterRule::id("catalog:[")]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("exclude[0].id: invalid glob `catalog:[`"),
            "{err}"
        );
    }

    #[test]
    fn unused_parts_are_reported() {
        let registry = Registry::from_descriptors([&GET, &DELETE, &GREET]).unwrap();
        let f = ActionFilter::new(
            Some(vec!["catalog".into(), "catalgo".into()]),
            vec![FilterRule::id("scaffolder:*"), FilterRule::id("catalog:*")],
            vec![],
        )
        .unwrap();
        assert_eq!(
            f.unused_parts(&registry),
            [
                "pluginSources entry `catalgo` has no actions in this binary",
                "include[0] (id `scaffolder:*`) matches no action",
            ]
        );
        assert_eq!(f.apply(registry).len(), 2);
    }
}
