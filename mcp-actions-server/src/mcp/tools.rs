//! Tool names and tool descriptions.
//!
//! Tool names are the action names (`get_catalog_entity`), or with
//! `mcpActions.namespacedToolNames` the plugin id and the name joined by `__`
//! (`catalog__get_catalog_entity`), see [`ToolNaming`]. They are computed once, for every
//! linked action, into [`ToolNames`]: the served actions are checked there (too long,
//! collisions), and every handler and `list` read them from it.

use std::collections::HashMap;
use std::sync::Arc;

use mcp_actions::{RegisteredAction, Registry};
use rmcp::model::{Tool, ToolAnnotations};

/// How tools are named.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ToolNaming {
    /// The action's name, e.g. `get_catalog_entity` (action names are unique in a binary).
    #[default]
    Plain,
    /// `<plugin>__<name>` with every `-` of the plugin id replaced by `_`, e.g.
    /// `my_plugin__get_thing` (`mcpActions.namespacedToolNames: true`).
    ///
    /// Backstage names namespaced tools `plugin.name`; some clients (Claude, Gemini, OpenAI)
    /// reject `.` and `-` in tool names, so this form keeps to `^[a-zA-Z0-9_]{1,64}$`. A name
    /// over 64 characters, or two actions with the same name after the replacement, is a
    /// start-up error ([`ToolNameProblem`]).
    Namespaced,
}

impl ToolNaming {
    /// `Namespaced` when `namespaced`, else `Plain`.
    pub fn from_config(namespaced: bool) -> Self {
        if namespaced {
            ToolNaming::Namespaced
        } else {
            ToolNaming::Plain
        }
    }

    /// The tool name of `action`.
    pub fn tool_name(self, action: &RegisteredAction) -> String {
        match self {
            ToolNaming::Plain => action.name().to_owned(),
            ToolNaming::Namespaced => {
                format!("{}__{}", action.plugin().replace('-', "_"), action.name())
            }
        }
    }
}

/// The longest tool name clients accept.
pub(crate) const MAX_TOOL_NAME_LENGTH: usize = 64;

/// Why the actions' tool names cannot be served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ToolNameProblem {
    /// A tool name longer than 64 characters.
    #[error(
        "tool name `{name}` of action `{id}` at {location} is {length} characters long; clients accept at most 64 (shorten the plugin id or the action name, or turn `mcpActions.namespacedToolNames` off)"
    )]
    TooLong {
        /// The tool name.
        name: String,
        /// The action's id.
        id: String,
        /// Its length.
        length: usize,
        /// The action's `file:line`.
        location: String,
    },
    /// Two actions with the same tool name.
    #[error(
        "tool name `{name}` is used by two actions: {first} and {second}; rename one of them (`-` in a plugin id becomes `_` in namespaced tool names)"
    )]
    Collision {
        /// The tool name.
        name: String,
        /// The first action: id and `file:line`.
        first: String,
        /// The second action: id and `file:line`.
        second: String,
    },
}

/// The tool name of every linked action (by action id), computed once.
#[derive(Debug, Clone, Default)]
pub(crate) struct ToolNames {
    naming: ToolNaming,
    /// Namespaced names by action id (empty for plain names: an action's name is its tool's).
    by_id: HashMap<String, String>,
}

impl ToolNames {
    /// The names of `registry`'s actions under `naming`.
    pub(crate) fn new(registry: &Registry, naming: ToolNaming) -> Self {
        let by_id = match naming {
            ToolNaming::Plain => HashMap::new(),
            ToolNaming::Namespaced => registry
                .iter()
                .map(|action| (action.id().to_owned(), naming.tool_name(action)))
                .collect(),
        };
        Self { naming, by_id }
    }

    /// The tool name of `action`.
    pub(crate) fn of(&self, action: &RegisteredAction) -> &str {
        match self.naming {
            ToolNaming::Plain => action.name(),
            ToolNaming::Namespaced => self
                .by_id
                .get(action.id())
                .map_or_else(|| action.name(), String::as_str),
        }
    }

    /// Every problem with the names of the actions of `served` (too long, collisions naming
    /// both actions).
    pub(crate) fn check(&self, served: &Registry) -> Result<(), Vec<ToolNameProblem>> {
        check(served.iter().map(|action| (action, self.of(action))))
    }
}

fn check<'a>(
    named: impl Iterator<Item = (&'a RegisteredAction, &'a str)>,
) -> Result<(), Vec<ToolNameProblem>> {
    let mut problems = Vec::new();
    let mut seen: HashMap<&str, &RegisteredAction> = HashMap::new();
    for (action, name) in named {
        // Formatted only for a problem: with thousands of actions, start-up time.
        let location = || action.descriptor().location.to_string();
        if name.len() > MAX_TOOL_NAME_LENGTH {
            problems.push(ToolNameProblem::TooLong {
                length: name.len(),
                name: name.to_owned(),
                id: action.id().to_owned(),
                location: location(),
            });
        }
        if let Some(first) = seen.get(name) {
            problems.push(ToolNameProblem::Collision {
                name: name.to_owned(),
                first: format!("`{}` at {}", first.id(), first.descriptor().location),
                second: format!("`{}` at {}", action.id(), location()),
            });
        } else {
            seen.insert(name, action);
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// The MCP tool describing `action`, named `name`.
pub(crate) fn tool_named(action: &RegisteredAction, name: String) -> Tool {
    let d = action.descriptor();
    let annotations = ToolAnnotations::with_title(d.title)
        .read_only(d.attributes.read_only)
        .destructive(d.attributes.destructive)
        .idempotent(d.attributes.idempotent)
        .open_world(d.attributes.open_world);
    Tool::new(name, d.description, Arc::clone(action.input_schema()))
        .with_title(d.title)
        .with_raw_output_schema(Arc::clone(action.output_schema()))
        .with_annotations(annotations)
}
