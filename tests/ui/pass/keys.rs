//! Every key, flags in both forms, explicit description over the doc comment, a raw
//! identifier, a `Result` alias and a custom error type.
use mcp_actions::prelude::*;

#[derive(Deserialize, JsonSchema)]
struct In {}

#[derive(Serialize, JsonSchema)]
struct Out {}

mod permissions {
    use mcp_actions::Permission;
    pub const WRITE: Permission = Permission::update("keys.thing.update");
}
static ADMIN: Permission = Permission::delete("keys.thing.delete");

type Result<T> = std::result::Result<T, ActionError>;

struct MyError;
impl From<MyError> for ActionError {
    fn from(_: MyError) -> Self {
        ActionError::conflict("mine")
    }
}

/// This doc comment is not used.
#[action(
    name = "all_keys",
    title = "All Keys",
    description = "Explicit description.",
    plugin = "custom-plugin",
    read_only = false,
    destructive = false,
    idempotent = true,
    open_world = true,
    permission = permissions::WRITE,
    crate = "::mcp_actions"
)]
async fn everything(_input: In) -> Result<Out> {
    Ok(Out {})
}

/// Defaults: not read-only, so destructive.
#[action(title = "Defaults", permission = ADMIN)]
async fn r#type(_input: In) -> std::result::Result<Out, MyError> {
    Err(MyError)
}

/// Read-only, so not destructive.
#[action(title = "Read Only", read_only = true)]
async fn read_only(_input: In) -> std::result::Result<Out, ActionError> {
    Ok(Out {})
}

fn main() {
    let registry = Registry::from_inventory().unwrap();
    let d = registry.get_by_id("custom-plugin:all_keys").unwrap().descriptor();
    assert_eq!(d.description, "Explicit description.");
    assert_eq!(d.permission.unwrap().name(), "keys.thing.update");
    let a = d.attributes;
    assert!(!a.read_only && !a.destructive && a.idempotent && a.open_world);

    let d = registry.get("type").unwrap().descriptor();
    assert_eq!(d.description, "Defaults: not read-only, so destructive.");
    assert_eq!(d.permission.unwrap().name(), "keys.thing.delete");
    let a = d.attributes;
    assert!(!a.read_only && a.destructive && !a.idempotent && !a.open_world);

    let a = registry.get("read_only").unwrap().descriptor().attributes;
    assert!(a.read_only && !a.destructive);
}
