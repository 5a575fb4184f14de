//! The README's action: input and context, description from a multi-line doc comment.
use mcp_actions::prelude::*;

#[derive(Deserialize, JsonSchema)]
struct GreetInput {
    /// The name of the person to greet
    name: String,
}

#[derive(Serialize, JsonSchema)]
struct GreetOutput {
    /// The generated greeting
    greeting: String,
}

/// Generate a personalized greeting.
///
///     Indented lines keep their extra indentation.
#[action(name = "greet_user", title = "Greet User", read_only, idempotent)]
async fn greet_user(input: GreetInput, ctx: &ActionContext) -> Result<GreetOutput, ActionError> {
    Ok(GreetOutput { greeting: format!("Hello {}! ({})", input.name, ctx.action_id()) })
}

fn main() {
    let registry = Registry::from_inventory().unwrap();
    let action = registry.get("greet_user").unwrap();
    let d = action.descriptor();
    // The plugin id defaults to the calling crate's package name.
    assert_eq!(d.plugin, env!("CARGO_PKG_NAME"));
    assert_eq!(action.id(), format!("{}:greet_user", env!("CARGO_PKG_NAME")));
    assert_eq!(d.title, "Greet User");
    assert_eq!(
        d.description,
        "Generate a personalized greeting.\n\n    Indented lines keep their extra indentation."
    );
    assert!(d.attributes.read_only && !d.attributes.destructive && d.attributes.idempotent);
    assert!(!d.attributes.open_world && d.permission.is_none() && d.services.is_empty());
    assert_eq!(d.location.line, 20);
    assert!(d.location.file.ends_with("greet_user.rs"), "{}", d.location.file);
    assert_eq!(action.input_schema()["required"][0], "name");
    assert_eq!(action.output_schema()["properties"]["greeting"]["type"], "string");

    // The function is still there, callable as written.
    let ctx = ActionContext::builder("test", "greet_user").build();
    let run = async { greet_user(GreetInput { name: "Ada".into() }, &ctx).await };
    let out = tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(run);
    assert_eq!(out.unwrap().greeting, "Hello Ada! (test:greet_user)");
}
