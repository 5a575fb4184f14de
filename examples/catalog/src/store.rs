//! The catalog's data: an in-memory entity store, shared by every action as
//! `Service<CatalogStore>`.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::RwLock;

use mcp_actions::prelude::*;

/// An entity reference, `kind:namespace/name` (Backstage's format), normalized to lowercase.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EntityRef {
    /// E.g. `component`.
    pub kind: String,
    /// E.g. `default`.
    pub namespace: String,
    /// E.g. `website`.
    pub name: String,
}

impl EntityRef {
    /// Parses `kind:namespace/name` or `kind:name` (namespace `default`).
    pub fn parse(text: &str) -> Result<Self, ActionError> {
        let invalid = || {
            ActionError::input(format!(
                "`{text}` is not an entity reference; write it as `kind:namespace/name`, e.g. `component:default/website`"
            ))
        };
        let (kind, rest) = text.trim().split_once(':').ok_or_else(invalid)?;
        let (namespace, name) = rest.split_once('/').unwrap_or(("default", rest));
        let entity = Self {
            kind: kind.to_ascii_lowercase(),
            namespace: namespace.to_ascii_lowercase(),
            name: name.to_ascii_lowercase(),
        };
        for part in [&entity.kind, &entity.namespace, &entity.name] {
            if !is_valid_part(part) {
                return Err(invalid());
            }
        }
        Ok(entity)
    }
}

/// Letters, digits, `-`, `_` and `.`, 1–63 characters, starting with a letter or digit.
pub fn is_valid_part(part: &str) -> bool {
    (1..=63).contains(&part.len())
        && part.starts_with(|c: char| c.is_ascii_alphanumeric())
        && part
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

impl fmt::Display for EntityRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}/{}", self.kind, self.namespace, self.name)
    }
}

/// One catalog entity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Entity {
    /// The entity reference, `kind:namespace/name`
    #[serde(rename = "ref")]
    pub entity_ref: String,
    /// The kind, e.g. `component`, `system`, `group`
    pub kind: String,
    /// The namespace, e.g. `default`
    pub namespace: String,
    /// The name, unique within kind and namespace
    pub name: String,
    /// A human-readable title
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// What the entity is
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The owning group or user, as an entity reference
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

/// The catalog store: entities by reference.
#[derive(Debug, Default)]
pub struct CatalogStore {
    entities: RwLock<BTreeMap<EntityRef, Entity>>,
}

impl CatalogStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A store with a few entities of a small web shop.
    pub fn seeded() -> Self {
        let store = Self::new();
        let seed = [
            (
                "group:default/platform-team",
                "Platform Team",
                "Runs the developer platform",
                None,
            ),
            (
                "system:default/shop",
                "Web Shop",
                "Everything customers use to buy things",
                Some("group:default/platform-team"),
            ),
            (
                "component:default/website",
                "Website",
                "The public shop front",
                Some("group:default/platform-team"),
            ),
            (
                "component:default/payments-api",
                "Payments API",
                "Takes payments for orders",
                Some("group:default/platform-team"),
            ),
            (
                "component:sandbox/playground",
                "Playground",
                "A throwaway service to try things on",
                None,
            ),
        ];
        for (entity_ref, title, description, owner) in seed {
            let entity_ref = EntityRef::parse(entity_ref).expect("seed references are valid");
            store
                .insert(entity(&entity_ref, Some(title), Some(description), owner))
                .expect("seed entities are unique");
        }
        store
    }

    /// The entity with this reference.
    pub fn get(&self, entity_ref: &EntityRef) -> Option<Entity> {
        self.entities
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(entity_ref)
            .cloned()
    }

    /// Every entity, sorted by reference.
    pub fn list(&self) -> Vec<Entity> {
        self.entities
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect()
    }

    /// Adds an entity; `ConflictError` if one with the same reference exists.
    pub fn insert(&self, entity: Entity) -> Result<(), ActionError> {
        let key = EntityRef::parse(&entity.entity_ref)?;
        let mut entities = self.entities.write().unwrap_or_else(|e| e.into_inner());
        if entities.contains_key(&key) {
            return Err(ActionError::conflict(format!(
                "entity {key} already exists"
            )));
        }
        entities.insert(key, entity);
        Ok(())
    }

    /// Removes an entity, returning it.
    pub fn remove(&self, entity_ref: &EntityRef) -> Option<Entity> {
        self.entities
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(entity_ref)
    }
}

/// Builds an [`Entity`] for a reference.
pub fn entity(
    entity_ref: &EntityRef,
    title: Option<&str>,
    description: Option<&str>,
    owner: Option<&str>,
) -> Entity {
    Entity {
        entity_ref: entity_ref.to_string(),
        kind: entity_ref.kind.clone(),
        namespace: entity_ref.namespace.clone(),
        name: entity_ref.name.clone(),
        title: title.map(str::to_owned),
        description: description.map(str::to_owned),
        owner: owner.map(str::to_owned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_refs() {
        let r = EntityRef::parse("Component:Default/Website").unwrap();
        assert_eq!(r.to_string(), "component:default/website");
        assert_eq!(
            EntityRef::parse("group:platform").unwrap().namespace,
            "default"
        );
        let err = EntityRef::parse("website").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("InputError: `website` is not an entity reference")
        );
        assert!(EntityRef::parse("component:default/").is_err());
        assert!(EntityRef::parse("component:default/a b").is_err());
    }
}
