//! Validation of hand-built descriptors: duplicates name both definitions, names and plugin ids
//! are checked at run time too, and every problem is listed.

use mcp_actions::schema::{JsonObject, SchemaError, SchemaSide, schema_for};
use mcp_actions::{
    ActionAttributes, ActionContext, ActionDescriptor, ActionError, BoxFuture, Registry,
    RegistryProblem, SourceLocation,
};
use serde_json::Value;

fn object_schema() -> Result<JsonObject, SchemaError> {
    Ok(serde_json::json!({"type": "object"})
        .as_object()
        .unwrap()
        .clone())
}

fn echo(_ctx: ActionContext, input: Value) -> BoxFuture<'static, Result<Value, ActionError>> {
    Box::pin(async move { Ok(input) })
}

const FILE: &str = "hand/built.rs";

macro_rules! descriptor {
    ($plugin:expr, $name:expr, $line:expr) => {
        descriptor!($plugin, $name, $line, "Title", object_schema)
    };
    ($plugin:expr, $name:expr, $line:expr, $title:expr, $input_schema:expr) => {
        ActionDescriptor {
            plugin: $plugin,
            name: $name,
            title: $title,
            description: "Hand-built.",
            attributes: ActionAttributes::new(false, None, false, false),
            confirm: mcp_actions::elicit::Confirm::No,
            permission: None,
            services: &[],
            location: SourceLocation {
                file: FILE,
                line: $line,
            },
            input_schema: $input_schema,
            output_schema: object_schema,
            invoke: echo,
        }
    };
}

static ALPHA_SHARED: ActionDescriptor = descriptor!("alpha", "shared", 10);
static ALPHA_SHARED_AGAIN: ActionDescriptor = descriptor!("alpha", "shared", 20);
static BETA_GET_ITEM: ActionDescriptor = descriptor!("beta", "get_item", 30);
static BAD_NAME: ActionDescriptor = descriptor!("alpha", "Get-Item", 40);
static LONG_NAME: ActionDescriptor = descriptor!(
    "alpha",
    "a_name_that_is_much_too_long_for_some_clients_to_accept_as_a_tool_name",
    41
);
static BAD_PLUGIN: ActionDescriptor = descriptor!("My Plugin", "fine_name", 50);
static NO_TITLE: ActionDescriptor = descriptor!("alpha", "untitled", 60, " ", object_schema);
static STRING_INPUT: ActionDescriptor = descriptor!("alpha", "string_input", 70, "Title", || {
    schema_for::<String>(SchemaSide::Input)
});

fn problems(descriptors: &[&'static ActionDescriptor]) -> Vec<RegistryProblem> {
    Registry::from_descriptors(descriptors.iter().copied())
        .expect_err("the descriptors are invalid")
        .problems
}

#[test]
fn duplicate_id_names_both_locations() {
    let problems = problems(&[&ALPHA_SHARED_AGAIN, &ALPHA_SHARED]);
    assert_eq!(
        problems,
        [RegistryProblem::DuplicateId {
            id: "alpha:shared".into(),
            first: "hand/built.rs:10".into(),
            second: "hand/built.rs:20".into(),
        }]
    );
    assert_eq!(
        problems[0].to_string(),
        "action id `alpha:shared` is defined twice: at hand/built.rs:10 and at hand/built.rs:20; rename one of them"
    );
}

#[test]
fn duplicate_tool_name_across_crates_names_both_definitions() {
    let linked = Registry::from_inventory().unwrap();
    let get_item = linked.get("get_item").unwrap().descriptor();
    let error = Registry::from_descriptors([get_item, &BETA_GET_ITEM]).unwrap_err();
    let location = format!("{}:{}", get_item.location.file, plugin_a::GET_ITEM_LINE);
    assert_eq!(
        error.problems,
        [RegistryProblem::DuplicateName {
            name: "get_item".into(),
            first: "`beta:get_item` at hand/built.rs:30".into(),
            second: format!("`plugin-a:get_item` at {location}"),
        }]
    );
    assert_eq!(
        error.to_string(),
        format!(
            "invalid actions: tool name `get_item` is used by two actions: `beta:get_item` at hand/built.rs:30 and `plugin-a:get_item` at {location}; give one of them another `name`"
        )
    );
}

#[test]
fn a_linked_action_registered_twice_is_a_duplicate_id() {
    let linked = Registry::from_inventory().unwrap();
    let ping = linked.get("ping").unwrap().descriptor();
    let problems = problems(&[ping, ping]);
    assert!(
        matches!(&problems[..], [RegistryProblem::DuplicateId { id, first, second }]
            if id == "plugin-a:ping" && first == second && first.contains("plugin-a/src/lib.rs:")),
        "{problems:?}"
    );
}

#[test]
fn names_and_plugin_ids_are_checked_at_run_time() {
    let problems = problems(&[&BAD_NAME, &LONG_NAME, &BAD_PLUGIN]);
    assert_eq!(
        problems,
        [
            RegistryProblem::InvalidPlugin {
                plugin: "My Plugin".into(),
                location: "hand/built.rs:50".into(),
            },
            RegistryProblem::InvalidName {
                name: "Get-Item".into(),
                location: "hand/built.rs:40".into(),
            },
            RegistryProblem::InvalidName {
                name: "a_name_that_is_much_too_long_for_some_clients_to_accept_as_a_tool_name"
                    .into(),
                location: "hand/built.rs:41".into(),
            },
        ]
    );
    assert_eq!(
        problems[1].to_string(),
        "action name `Get-Item` at hand/built.rs:40 is not client-safe; use lowercase letters, digits and `_`, starting with a letter, at most 64 characters"
    );
}

#[test]
fn empty_title_and_non_object_input_are_rejected() {
    let problems = problems(&[&NO_TITLE, &STRING_INPUT]);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(matches!(&problems[0],
        RegistryProblem::InvalidSchema { id, side: "input", location, .. }
            if id == "alpha:string_input" && location == "hand/built.rs:70"));
    assert_eq!(
        problems[1],
        RegistryProblem::MissingText {
            id: "alpha:untitled".into(),
            field: "title",
            location: "hand/built.rs:60".into(),
        }
    );
}

#[test]
fn every_problem_is_listed_and_valid_descriptors_build() {
    let error =
        Registry::from_descriptors([&BAD_NAME, &ALPHA_SHARED, &ALPHA_SHARED_AGAIN, &BAD_PLUGIN])
            .unwrap_err();
    assert_eq!(error.problems.len(), 3);
    assert!(
        error
            .to_string()
            .starts_with("invalid actions (3 problems):\n  - "),
        "{error}"
    );

    let registry = Registry::from_descriptors([&ALPHA_SHARED, &BETA_GET_ITEM]).unwrap();
    assert_eq!(registry.len(), 2);
    assert_eq!(
        registry.get_by_id("beta:get_item").unwrap().name(),
        "get_item"
    );
}
