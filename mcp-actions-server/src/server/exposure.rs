//! Which linked actions each endpoint serves, and why: decided once, at build time.
//!
//! 1. every action linked into the binary (or the registry given to the builder);
//! 2. only the plugins of [`ActionsServerBuilder::plugin_sources`](super::ActionsServerBuilder::plugin_sources),
//!    when the code sets them;
//! 3. `backend.actions.pluginSources` and `backend.actions.filter` from the config — the
//!    result is the **default server**;
//! 4. each named server (`mcpActions.servers.<key>`) serves the default server's actions that
//!    pass its own `filter`.

use mcp_actions::filter::{ActionFilter, FilterDecision};
use mcp_actions::{RegisteredAction, Registry};

use super::error::BuildError;
use crate::config::{Config, ConfigError, FilterConfig};
use crate::mcp::ToolNames;

/// The `tracing` target of start-up warnings (a plugin source or filter rule that matches no
/// action, a server that serves nothing).
pub const WARNINGS_TARGET: &str = "mcp_actions_server::startup";

/// Whether and why one linked action is served, by the default server and by each named one.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ActionExposure {
    /// The action.
    pub action: RegisteredAction,
    /// Its tool name (also when it is not served).
    pub tool_name: String,
    /// The default server's decision.
    pub decision: FilterDecision,
    /// Each named server's decision, in the order of
    /// [`ActionsServer::endpoints`](super::ActionsServer::endpoints) after the default one.
    pub servers: Vec<FilterDecision>,
}

/// What each endpoint serves.
pub(crate) struct Plan {
    /// The default server's actions.
    pub(crate) served: Registry,
    /// The default server's decision for each linked action, in registry order.
    pub(crate) decisions: Vec<FilterDecision>,
    /// Each named server, by key: its actions and its decision for each linked action.
    pub(crate) servers: Vec<(String, Registry, Vec<FilterDecision>)>,
}

impl Plan {
    /// Decides, and adds a warning for each plugin source or rule that matches nothing.
    pub(crate) fn new(
        linked: &Registry,
        in_code: Option<&[String]>,
        config: &Config,
        warnings: &mut Vec<String>,
    ) -> Result<Self, BuildError> {
        let actions = &config.backend().actions;
        let config_filter = compile_filter(
            "backend.actions.filter",
            &actions.filter,
            actions.plugin_sources.clone(),
        )?;
        for plugin in in_code.unwrap_or_default() {
            if !linked.iter().any(|a| a.plugin() == plugin) {
                warnings.push(format!(
                    "plugin source `{plugin}` (set in code with `plugin_sources`) has no actions in this binary"
                ));
            }
        }
        let in_code_allows = |action: &RegisteredAction| {
            in_code.is_none_or(|plugins| plugins.iter().any(|p| p == action.plugin()))
        };
        // Without plugin sources set in code, every linked action is a candidate (no copy).
        let candidates = match in_code {
            None => std::borrow::Cow::Borrowed(linked),
            Some(_) => std::borrow::Cow::Owned(linked.clone().retain(in_code_allows)),
        };
        // A plugin source listed in `discovery.endpoints` without linked actions is a remote
        // source (see `backstage::RemoteSources`, feature `jwt`), not a typo.
        let remote = |part: &str| {
            cfg!(feature = "jwt")
                && config.discovery().endpoints.iter().any(|endpoint| {
                    endpoint
                        .plugins
                        .iter()
                        .any(|p| part.starts_with(&format!("pluginSources entry `{p}`")))
                })
        };
        for part in config_filter.unused_parts(&candidates) {
            if remote(&part) {
                continue;
            }
            let prefix = if part.starts_with("pluginSources") {
                "backend.actions."
            } else {
                "backend.actions.filter."
            };
            warnings.push(format!("{prefix}{part}"));
        }
        let decisions: Vec<FilterDecision> = linked
            .iter()
            .map(|action| {
                if in_code_allows(action) {
                    config_filter.decide(action.descriptor())
                } else {
                    FilterDecision::Filtered {
                        reason: format!(
                            "plugin `{}` is not in the plugin sources set in code",
                            action.plugin()
                        ),
                    }
                }
            })
            .collect();
        let served = subset(linked, &decisions);
        if linked.is_empty() {
            warnings.push(
                "no action is linked into this binary: add `use my_actions as _;` to main.rs for each crate whose actions to serve (the linker leaves out a crate nothing refers to, and its actions with it)"
                    .to_owned(),
            );
        } else if served.is_empty() {
            warnings.push(
                "no action is exposed: check `backend.actions.pluginSources` and `backend.actions.filter`"
                    .to_owned(),
            );
        }

        let mut servers = Vec::new();
        for (key, server) in &config.mcp_actions().servers {
            let key_path = format!("mcpActions.servers.{key}");
            let filter = compile_filter(&format!("{key_path}.filter"), &server.filter, None)?;
            for part in filter.unused_parts(&served) {
                warnings.push(format!("{key_path}.filter.{part} of the default server"));
            }
            let own: Vec<FilterDecision> = linked
                .iter()
                .zip(&decisions)
                .map(|(action, default)| {
                    if default.is_exposed() {
                        filter.decide(action.descriptor())
                    } else {
                        FilterDecision::Filtered {
                            reason: "not exposed by the default server".to_owned(),
                        }
                    }
                })
                .collect();
            let actions = subset(linked, &own);
            if actions.is_empty() && !served.is_empty() {
                warnings.push(format!("{key_path} serves no action"));
            }
            servers.push((key.clone(), actions, own));
        }
        Ok(Self {
            served,
            decisions,
            servers,
        })
    }

    /// Every linked action with its tool name and each endpoint's decision.
    pub(crate) fn exposure(self, linked: &Registry, names: &ToolNames) -> Vec<ActionExposure> {
        let Plan {
            decisions, servers, ..
        } = self;
        linked
            .iter()
            .zip(decisions)
            .enumerate()
            .map(|(i, (action, decision))| ActionExposure {
                action: action.clone(),
                tool_name: names.of(action).to_owned(),
                decision,
                servers: servers.iter().map(|(_, _, d)| d[i].clone()).collect(),
            })
            .collect()
    }
}

/// The actions of `linked` whose decision exposes them (a copy of `linked`, its maps as they
/// are, when that is every action: the usual case).
fn subset(linked: &Registry, decisions: &[FilterDecision]) -> Registry {
    if decisions.len() == linked.len() && decisions.iter().all(FilterDecision::is_exposed) {
        return linked.clone();
    }
    let mut exposed = decisions.iter().map(FilterDecision::is_exposed);
    linked.clone().retain(|_| exposed.next().unwrap_or(false))
}

/// Compiles a filter from the config. The globs were checked when the config was loaded, so
/// this fails only for a `Config` assembled some other way.
fn compile_filter(
    prefix: &str,
    filter: &FilterConfig,
    plugin_sources: Option<Vec<String>>,
) -> Result<ActionFilter, BuildError> {
    filter.compile(plugin_sources).map_err(|e| {
        BuildError::Config(ConfigError::invalid(
            format!("{prefix}.{}[{}].id", e.list, e.index),
            format!("`{}` is not a valid glob: {}", e.glob, e.reason),
        ))
    })
}
