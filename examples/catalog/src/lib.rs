//! A catalog plugin in the spirit of Backstage's: entities (components, systems, groups…) in a
//! [`CatalogStore`] service shared by four actions, named `<verb>_catalog_<resource>`:
//!
//! | action | permission | errors |
//! |---|---|---|
//! | `list_catalog_entities` | [`ENTITY_READ`] (per entity too) | `InputError` |
//! | `get_catalog_entity` | [`ENTITY_READ`] (and on the entity) | `InputError`, `NotFoundError`, `NotAllowedError` |
//! | `create_catalog_entity` | [`ENTITY_CREATE`] | `InputError`, `ConflictError` |
//! | `delete_catalog_entity` | [`ENTITY_DELETE`] (and on the entity) | `InputError`, `NotFoundError`, `NotAllowedError` |
//!
//! The permission policy ([`CatalogPolicy`]) comes from the `catalog.policy` config section;
//! [`setup`] registers the store and the policy on a server builder:
//!
//! ```no_run
//! #[tokio::main]
//! async fn main() -> anyhow::Result<()> {
//!     mcp_actions_server::run_with(catalog::setup).await
//! }
//! ```
//!
//! Run it with `cargo run -p catalog -- --config examples/catalog/app-config.yaml` (see that
//! file for the tokens it expects).

pub mod policy;
pub mod store;

use mcp_actions::prelude::*;
use mcp_actions_server::{ActionsServerBuilder, ConfigError};

pub use policy::{CatalogPolicy, Rule};
pub use store::{CatalogStore, Entity, EntityRef};

/// Reading entities.
pub const ENTITY_READ: Permission =
    Permission::read("catalog.entity.read").with_resource_type("catalog-entity");
/// Creating entities.
pub const ENTITY_CREATE: Permission = Permission::create("catalog.entity.create");
/// Deleting entities.
pub const ENTITY_DELETE: Permission =
    Permission::delete("catalog.entity.delete").with_resource_type("catalog-entity");

/// Registers the catalog's store (seeded with a few entities) and, when the config has a
/// `catalog.policy` section, its permission policy.
pub fn setup(builder: ActionsServerBuilder) -> Result<ActionsServerBuilder, ConfigError> {
    let policy = CatalogPolicy::from_config(builder.app_config())?;
    let builder = builder.service(CatalogStore::seeded());
    Ok(match policy {
        Some(policy) => {
            tracing::info!(
                rules = policy.rules.len(),
                "using the catalog permission policy"
            );
            builder.permission_policy(policy)
        }
        None => {
            tracing::warn!(
                "no `catalog.policy` in the config: every authenticated caller may use every catalog action"
            );
            builder
        }
    })
}

/// Which entities to list.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListEntitiesInput {
    /// Only entities of this kind, e.g. `component`
    #[serde(default)]
    pub kind: Option<String>,
    /// Only entities in this namespace, e.g. `default`
    #[serde(default)]
    pub namespace: Option<String>,
}

/// Entities.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct EntityList {
    /// The entities the caller may read, sorted by reference
    pub entities: Vec<Entity>,
}

/// List the catalog's entities, optionally of one kind or namespace. Only entities the caller
/// may read are returned.
#[action(title = "List Catalog Entities", read_only, idempotent, permission = ENTITY_READ)]
pub async fn list_catalog_entities(
    input: ListEntitiesInput,
    ctx: &ActionContext,
    store: Service<CatalogStore>,
) -> Result<EntityList, ActionError> {
    let wanted = |filter: &Option<String>, value: &str| {
        filter
            .as_deref()
            .is_none_or(|f| f.eq_ignore_ascii_case(value))
    };
    let mut entities = Vec::new();
    for entity in store.list() {
        if wanted(&input.kind, &entity.kind)
            && wanted(&input.namespace, &entity.namespace)
            && ctx.is_allowed(&ENTITY_READ, Some(&entity.entity_ref)).await
        {
            entities.push(entity);
        }
    }
    Ok(EntityList { entities })
}

/// Which entity.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EntityRefInput {
    /// The entity reference, `kind:namespace/name`, e.g. `component:default/website`
    pub entity_ref: String,
}

/// Get one catalog entity by reference, e.g. `component:default/website`.
#[action(title = "Get Catalog Entity", read_only, idempotent, permission = ENTITY_READ)]
pub async fn get_catalog_entity(
    input: EntityRefInput,
    ctx: &ActionContext,
    store: Service<CatalogStore>,
) -> Result<Entity, ActionError> {
    let entity_ref = EntityRef::parse(&input.entity_ref)?;
    ctx.authorize(&ENTITY_READ, Some(&entity_ref.to_string()))
        .await?;
    store
        .get(&entity_ref)
        .ok_or_else(|| ActionError::not_found(format!("entity {entity_ref} does not exist")))
}

/// A new entity.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEntityInput {
    /// The kind, e.g. `component`
    pub kind: String,
    /// The namespace (default `default`)
    #[serde(default)]
    pub namespace: Option<String>,
    /// The name: letters, digits, `-`, `_`, `.`
    pub name: String,
    /// A human-readable title
    #[serde(default)]
    pub title: Option<String>,
    /// What the entity is
    #[serde(default)]
    pub description: Option<String>,
    /// The owning group or user, as an entity reference, e.g. `group:default/platform-team`
    #[serde(default)]
    pub owner: Option<String>,
}

/// Register a new entity in the catalog. Fails with `ConflictError` if it already exists.
#[action(title = "Create Catalog Entity", destructive = false, permission = ENTITY_CREATE)]
pub async fn create_catalog_entity(
    input: CreateEntityInput,
    ctx: &ActionContext,
    store: Service<CatalogStore>,
) -> Result<Entity, ActionError> {
    let namespace = input.namespace.as_deref().unwrap_or("default");
    let entity_ref = EntityRef::parse(&format!("{}:{namespace}/{}", input.kind, input.name))?;
    if let Some(owner) = &input.owner {
        EntityRef::parse(owner)?;
    }
    let entity = store::entity(
        &entity_ref,
        input.title.as_deref(),
        input.description.as_deref(),
        input.owner.as_deref(),
    );
    store.insert(entity.clone())?;
    tracing::info!(principal = %ctx.principal(), entity = %entity_ref, "created a catalog entity");
    Ok(entity)
}

/// What was deleted.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct DeletedEntity {
    /// The deleted entity
    pub deleted: Entity,
}

/// Remove an entity from the catalog. The caller needs the delete permission on that entity.
#[action(
    title = "Delete Catalog Entity",
    destructive,
    confirm = "Delete {entity_ref} from the catalog?",
    permission = ENTITY_DELETE
)]
pub async fn delete_catalog_entity(
    input: EntityRefInput,
    ctx: &ActionContext,
    store: Service<CatalogStore>,
) -> Result<DeletedEntity, ActionError> {
    let entity_ref = EntityRef::parse(&input.entity_ref)?;
    // The declared permission was checked before the call; this checks this entity.
    ctx.authorize(&ENTITY_DELETE, Some(&entity_ref.to_string()))
        .await?;
    let deleted = store
        .remove(&entity_ref)
        .ok_or_else(|| ActionError::not_found(format!("entity {entity_ref} does not exist")))?;
    tracing::info!(principal = %ctx.principal(), entity = %entity_ref, "deleted a catalog entity");
    Ok(DeletedEntity { deleted })
}
