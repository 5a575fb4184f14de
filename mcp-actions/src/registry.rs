//! The validated, indexed set of actions linked into a binary.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use crate::descriptor::{ActionDescriptor, SchemaFn, is_valid_action_name, is_valid_plugin_id};
use crate::schema::{JsonObject, SchemaError};
use crate::services::Services;

/// One action in the [`Registry`], with its schemas computed once.
#[derive(Debug, Clone)]
pub struct RegisteredAction {
    descriptor: &'static ActionDescriptor,
    id: Arc<str>,
    input_schema: Arc<JsonObject>,
    output_schema: Arc<JsonObject>,
}

impl RegisteredAction {
    /// The static descriptor.
    pub fn descriptor(&self) -> &'static ActionDescriptor {
        self.descriptor
    }

    /// `plugin:name`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The plugin id.
    pub fn plugin(&self) -> &'static str {
        self.descriptor.plugin
    }

    /// The action (and tool) name.
    pub fn name(&self) -> &'static str {
        self.descriptor.name
    }

    /// The input schema (object-rooted, self-contained).
    pub fn input_schema(&self) -> &Arc<JsonObject> {
        &self.input_schema
    }

    /// The output schema (object-rooted, self-contained).
    pub fn output_schema(&self) -> &Arc<JsonObject> {
        &self.output_schema
    }
}

/// A problem found while building a [`Registry`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryProblem {
    /// Two actions share an id (`plugin:name`).
    DuplicateId {
        /// The id.
        id: String,
        /// The first definition's `file:line`.
        first: String,
        /// The second definition's `file:line`.
        second: String,
    },
    /// Two actions of different plugins share a tool name.
    DuplicateName {
        /// The name.
        name: String,
        /// The first definition: id and `file:line`.
        first: String,
        /// The second definition: id and `file:line`.
        second: String,
    },
    /// An action name that clients may reject.
    InvalidName {
        /// The offending name.
        name: String,
        /// The definition's `file:line`.
        location: String,
    },
    /// A plugin id that is not valid.
    InvalidPlugin {
        /// The offending plugin id.
        plugin: String,
        /// The definition's `file:line`.
        location: String,
    },
    /// A title or description that is empty.
    MissingText {
        /// The action id.
        id: String,
        /// `title` or `description`.
        field: &'static str,
        /// The definition's `file:line`.
        location: String,
    },
    /// An input or output type whose schema cannot be a tool schema.
    InvalidSchema {
        /// The action id.
        id: String,
        /// `input` or `output`.
        side: &'static str,
        /// Why.
        reason: String,
        /// The definition's `file:line`.
        location: String,
    },
}

impl fmt::Display for RegistryProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegistryProblem::DuplicateId { id, first, second } => write!(
                f,
                "action id `{id}` is defined twice: at {first} and at {second}; rename one of them"
            ),
            RegistryProblem::DuplicateName {
                name,
                first,
                second,
            } => write!(
                f,
                "tool name `{name}` is used by two actions: {first} and {second}; give one of them another `name`"
            ),
            RegistryProblem::InvalidName { name, location } => write!(
                f,
                "action name `{name}` at {location} is not client-safe; use lowercase letters, digits and `_`, starting with a letter, at most 64 characters"
            ),
            RegistryProblem::InvalidPlugin { plugin, location } => write!(
                f,
                "plugin id `{plugin}` at {location} is not valid; use lowercase letters, digits, `-` and `_`, at most 64 characters"
            ),
            RegistryProblem::MissingText {
                id,
                field,
                location,
            } => {
                write!(f, "action `{id}` at {location} has an empty {field}")
            }
            RegistryProblem::InvalidSchema {
                id,
                side,
                reason,
                location,
            } => write!(
                f,
                "the {side} type of action `{id}` at {location} cannot be used: {reason}"
            ),
        }
    }
}

/// Building a [`Registry`] failed; every problem found is listed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct RegistryError {
    /// What is wrong, in the order found.
    pub problems: Vec<RegistryProblem>,
}

impl fmt::Display for RegistryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.problems.as_slice() {
            [one] => write!(f, "invalid actions: {one}"),
            many => {
                write!(f, "invalid actions ({} problems):", many.len())?;
                for p in many {
                    write!(f, "\n  - {p}")?;
                }
                Ok(())
            }
        }
    }
}

/// A service an action needs that is not registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("action `{action_id}` ({location}) needs service `{service}`, which is not registered")]
pub struct MissingService {
    /// The action's id.
    pub action_id: String,
    /// The service's type name.
    pub service: &'static str,
    /// The action's `file:line`.
    pub location: String,
}

/// The actions linked into a binary, validated and indexed: O(1) lookup by name and by id.
///
/// Built once at start-up by [`Registry::from_inventory`].
#[derive(Debug, Clone, Default)]
pub struct Registry {
    actions: Vec<RegisteredAction>,
    by_name: HashMap<&'static str, usize>,
    by_id: HashMap<Arc<str>, usize>,
}

impl Registry {
    /// Every action submitted by `#[action]` anywhere in the binary.
    pub fn from_inventory() -> Result<Self, RegistryError> {
        Self::from_descriptors(inventory::iter::<ActionDescriptor>)
    }

    /// A registry from the given descriptors, validated like [`Registry::from_inventory`]:
    /// names, plugin ids, schemas, and duplicate ids or tool names (naming both definitions).
    pub fn from_descriptors<I>(descriptors: I) -> Result<Self, RegistryError>
    where
        I: IntoIterator<Item = &'static ActionDescriptor>,
    {
        let mut descriptors: Vec<&'static ActionDescriptor> = descriptors.into_iter().collect();
        // inventory's order depends on link order; sort so that everything downstream
        // (tools/list, error messages) is deterministic.
        descriptors.sort_by(|a, b| {
            (a.plugin, a.name, a.location.file, a.location.line).cmp(&(
                b.plugin,
                b.name,
                b.location.file,
                b.location.line,
            ))
        });
        // The schemas are most of the work (thousands of actions: tens of ms), and independent:
        // generated on every core, then checked in order so that the problems are deterministic.
        let schemas = generate_schemas(&descriptors);
        let mut problems = Vec::new();
        let mut registry = Registry {
            actions: Vec::with_capacity(descriptors.len()),
            by_name: HashMap::with_capacity(descriptors.len()),
            by_id: HashMap::with_capacity(descriptors.len()),
        };
        for (d, (input_schema, output_schema)) in descriptors.into_iter().zip(schemas) {
            let location = d.location;
            let id: Arc<str> = d.id().into();
            let mut valid = true;
            if !is_valid_action_name(d.name) {
                problems.push(RegistryProblem::InvalidName {
                    name: d.name.into(),
                    location: location.to_string(),
                });
                valid = false;
            }
            if !is_valid_plugin_id(d.plugin) {
                problems.push(RegistryProblem::InvalidPlugin {
                    plugin: d.plugin.into(),
                    location: location.to_string(),
                });
                valid = false;
            }
            for (field, text) in [("title", d.title), ("description", d.description)] {
                if text.trim().is_empty() {
                    problems.push(RegistryProblem::MissingText {
                        id: id.to_string(),
                        field,
                        location: location.to_string(),
                    });
                    valid = false;
                }
            }
            if let Some(&i) = registry.by_id.get(&id) {
                problems.push(RegistryProblem::DuplicateId {
                    id: id.to_string(),
                    first: registry.actions[i].descriptor.location.to_string(),
                    second: location.to_string(),
                });
                continue;
            }
            if let Some(&i) = registry.by_name.get(d.name) {
                let first = &registry.actions[i];
                problems.push(RegistryProblem::DuplicateName {
                    name: d.name.into(),
                    first: format!("`{}` at {}", first.id, first.descriptor.location),
                    second: format!("`{id}` at {location}"),
                });
                continue;
            }
            let mut schema = |side: &'static str, generated: GeneratedSchema| match generated {
                Ok(schema) => Some(schema),
                Err(e) => {
                    problems.push(RegistryProblem::InvalidSchema {
                        id: id.to_string(),
                        side,
                        reason: e.to_string(),
                        location: location.to_string(),
                    });
                    None
                }
            };
            let input_schema = schema("input", input_schema);
            let output_schema = schema("output", output_schema);
            let (Some(input_schema), Some(output_schema), true) =
                (input_schema, output_schema, valid)
            else {
                continue;
            };
            let index = registry.actions.len();
            registry.by_name.insert(d.name, index);
            registry.by_id.insert(Arc::clone(&id), index);
            registry.actions.push(RegisteredAction {
                descriptor: d,
                id,
                input_schema,
                output_schema,
            });
        }
        if problems.is_empty() {
            Ok(registry)
        } else {
            Err(RegistryError { problems })
        }
    }

    /// The action with this tool name.
    pub fn get(&self, name: &str) -> Option<&RegisteredAction> {
        self.by_name.get(name).map(|&i| &self.actions[i])
    }

    /// The action with this id (`plugin:name`).
    pub fn get_by_id(&self, id: &str) -> Option<&RegisteredAction> {
        self.by_id.get(id).map(|&i| &self.actions[i])
    }

    /// Every action, sorted by id.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &RegisteredAction> + '_ {
        self.actions.iter()
    }

    /// The number of actions.
    pub fn len(&self) -> usize {
        self.actions.len()
    }

    /// Whether there are no actions.
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    /// The plugin ids that have actions, sorted, without duplicates.
    pub fn plugins(&self) -> Vec<&'static str> {
        let mut plugins: Vec<_> = self.actions.iter().map(|a| a.plugin()).collect();
        plugins.dedup();
        plugins
    }

    /// Keeps only the actions for which `keep` is true.
    pub fn retain(self, mut keep: impl FnMut(&RegisteredAction) -> bool) -> Self {
        let mut out = Registry::default();
        for action in self.actions.into_iter().filter(|a| keep(a)) {
            let index = out.actions.len();
            out.by_name.insert(action.name(), index);
            out.by_id.insert(Arc::clone(&action.id), index);
            out.actions.push(action);
        }
        out
    }

    /// Keeps only the actions of these plugins (Backstage's `backend.actions.pluginSources`).
    pub fn with_plugin_sources<S: AsRef<str>>(self, plugins: &[S]) -> Self {
        self.retain(|a| plugins.iter().any(|p| p.as_ref() == a.plugin()))
    }

    /// The services actions need (through `Service<T>` arguments) that `services` lacks.
    pub fn missing_services(&self, services: &Services) -> Vec<MissingService> {
        self.actions
            .iter()
            .flat_map(|a| {
                a.descriptor
                    .services
                    .iter()
                    .filter(|key| !services.contains(key))
                    .map(|key| MissingService {
                        action_id: a.id.to_string(),
                        service: (key.type_name)(),
                        location: a.descriptor.location.to_string(),
                    })
            })
            .collect()
    }
}

/// A schema as generated: shared by every action with the same schema function.
type GeneratedSchema = Result<Arc<JsonObject>, SchemaError>;

/// The input and output schema of an action, as generated.
type Generated = (GeneratedSchema, GeneratedSchema);

/// Every descriptor's input and output schema, in order.
///
/// A schema function takes nothing and depends on its type alone (it is
/// `__private::input_schema::<T>` or `output_schema::<T>`), so each distinct function runs once
/// and the actions that share it — the same input or output type, within a crate — share its
/// schema: less work at start-up and one copy in memory. Two functions the compiler merged
/// because their code is identical give identical schemas, so keying by address is safe; a
/// type whose function exists twice (once per crate) is generated twice, which is only slower.
fn generate_schemas(descriptors: &[&'static ActionDescriptor]) -> Vec<Generated> {
    let mut slots: HashMap<usize, usize> = HashMap::new();
    let mut distinct: Vec<SchemaFn> = Vec::new();
    let mut slot = |f: SchemaFn| {
        *slots.entry(f as usize).or_insert_with(|| {
            distinct.push(f);
            distinct.len() - 1
        })
    };
    let per_action: Vec<(usize, usize)> = descriptors
        .iter()
        .map(|d| (slot(d.input_schema), slot(d.output_schema)))
        .collect();
    let schemas = run_schema_functions(&distinct);
    per_action
        .into_iter()
        .map(|(input, output)| (schemas[input].clone(), schemas[output].clone()))
        .collect()
}

/// Runs `functions`, in order, spread over the machine's cores when there are enough of them
/// to be worth a thread (a few hundred).
fn run_schema_functions(functions: &[SchemaFn]) -> Vec<GeneratedSchema> {
    const AT_LEAST_PER_THREAD: usize = 256;
    let generate = |f: &SchemaFn| f().map(Arc::new);
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(functions.len() / AT_LEAST_PER_THREAD)
        .max(1);
    if threads == 1 {
        return functions.iter().map(generate).collect();
    }
    let mut chunks = functions.chunks(functions.len().div_ceil(threads));
    let here = chunks.next().unwrap_or_default();
    std::thread::scope(|scope| {
        let others: Vec<_> = chunks
            .map(|chunk| scope.spawn(move || chunk.iter().map(generate).collect::<Vec<_>>()))
            .collect();
        let mut all = Vec::with_capacity(functions.len());
        all.extend(here.iter().map(generate));
        for other in others {
            // A schema function that panics panics here, as it would have on one thread.
            all.extend(
                other
                    .join()
                    .unwrap_or_else(|p| std::panic::resume_unwind(p)),
            );
        }
        all
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::descriptor;

    fn not_an_object() -> Result<JsonObject, SchemaError> {
        crate::schema::normalize(serde_json::json!(true), "NotAnObject")
    }

    /// Many actions: every action kept, in id order, and the problems in id order.
    #[test]
    fn many_actions_keep_their_order_and_their_problems() {
        let names: Vec<&'static str> = (0..1500)
            .rev()
            .map(|i| &*Box::leak(format!("action_{i:04}").into_boxed_str()))
            .collect();
        let descriptors = names.iter().map(|&name| {
            let d = descriptor("bulk", name);
            match name {
                "action_0007" => d.input_schema(not_an_object).build(),
                "action_1400" => d.output_schema(not_an_object).build(),
                _ => d.build(),
            }
        });
        let error = Registry::from_descriptors(descriptors).unwrap_err();
        let found: Vec<String> = error
            .problems
            .iter()
            .map(|p| match p {
                RegistryProblem::InvalidSchema { id, side, .. } => format!("{id} {side}"),
                other => panic!("unexpected problem: {other}"),
            })
            .collect();
        assert_eq!(found, ["bulk:action_0007 input", "bulk:action_1400 output"]);

        let fine = names.iter().map(|&name| descriptor("bulk", name).build());
        let registry = Registry::from_descriptors(fine).unwrap();
        assert_eq!(registry.len(), 1500);
        let ids: Vec<&str> = registry.iter().map(|a| a.id()).collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        assert_eq!(ids, sorted);
        assert_eq!(
            registry.get("action_1499").unwrap().id(),
            "bulk:action_1499"
        );
    }

    static COUNTED_CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

    fn counted() -> Result<JsonObject, SchemaError> {
        COUNTED_CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        crate::schema::normalize(
            serde_json::json!({"type": "object", "title": "counted"}),
            "C",
        )
    }

    /// Actions with the same schema function share one schema, generated once; a problem in it
    /// is reported for each of them.
    #[test]
    fn a_schema_function_runs_once_for_every_action_that_has_it() {
        let names: Vec<&'static str> = (0..600)
            .map(|i| &*Box::leak(format!("shared_{i:03}").into_boxed_str()))
            .collect();
        let registry = Registry::from_descriptors(
            names
                .iter()
                .map(|&name| descriptor("share", name).input_schema(counted).build()),
        )
        .unwrap();
        assert_eq!(COUNTED_CALLS.load(std::sync::atomic::Ordering::Relaxed), 1);
        let first = registry.iter().next().unwrap();
        assert_eq!(first.input_schema()["title"], "counted");
        assert!(
            registry
                .iter()
                .all(|a| Arc::ptr_eq(a.input_schema(), first.input_schema())
                    && Arc::ptr_eq(a.output_schema(), first.output_schema()))
        );

        let error = Registry::from_descriptors(["bad_a", "bad_b"].map(|name| {
            descriptor("share", name)
                .output_schema(not_an_object)
                .build()
        }))
        .unwrap_err();
        assert_eq!(error.problems.len(), 2);
    }

    fn schema_a() -> Result<JsonObject, SchemaError> {
        crate::schema::normalize(serde_json::json!({"type": "object", "title": "a"}), "A")
    }

    fn schema_b() -> Result<JsonObject, SchemaError> {
        crate::schema::normalize(serde_json::json!({"type": "object", "title": "b"}), "B")
    }

    /// Enough schema functions for several threads: the results come back in order.
    #[test]
    fn schema_functions_run_on_several_threads_keep_their_order() {
        let functions: Vec<SchemaFn> = (0..1500)
            .map(|i| match i % 3 {
                0 => schema_a as SchemaFn,
                1 => schema_b,
                _ => not_an_object,
            })
            .collect();
        let results = run_schema_functions(&functions);
        assert_eq!(results.len(), 1500);
        for (i, result) in results.iter().enumerate() {
            match (i % 3, result) {
                (0, Ok(schema)) => assert_eq!(schema["title"], "a"),
                (1, Ok(schema)) => assert_eq!(schema["title"], "b"),
                (2, Err(_)) => {}
                (_, other) => panic!("{i}: {other:?}"),
            }
        }
    }
}
