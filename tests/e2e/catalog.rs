//! The catalog example served end to end: typed services, its config-driven policy with a
//! resource-level check, and its error kinds.

use mcp_actions_server::{ActionsServer, BuildError, ConfigLoader};
use mcp_actions_tests::prelude::*;
use serde_json::json;

use crate::setup::*;

const READER: &str = "reader-token-123";
const ADMIN: &str = "admin-token-123";

/// The example's own app-config.yaml, with its tokens from (fake) environment variables.
async fn catalog_server() -> TestServer {
    let config = ConfigLoader::new()
        .file(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/catalog/app-config.yaml"
        ))
        .env(|name| match name {
            "CATALOG_READER_TOKEN" => Some(READER.into()),
            "CATALOG_ADMIN_TOKEN" => Some(ADMIN.into()),
            _ => None,
        })
        .load()
        .expect("the example config loads");
    let builder = ActionsServer::builder()
        .config(config)
        .registry(registry(&["catalog"]));
    TestServer::start(catalog::setup(builder).expect("catalog setup")).await
}

#[tokio::test]
async fn the_catalog_policy_hides_create_from_readers_and_shows_everything_to_admins() {
    let server = catalog_server().await;
    for lifecycle in LIFECYCLES {
        let reader = server.client(READER, lifecycle).await;
        assert_eq!(
            tool_names(&reader).await,
            [
                "delete_catalog_entity",
                "get_catalog_entity",
                "list_catalog_entities"
            ]
        );
        assert_unknown_tool(
            &reader,
            "create_catalog_entity",
            json!({"kind": "component", "name": "x"}),
        )
        .await;
        let admin = server.client(ADMIN, lifecycle).await;
        assert_eq!(tool_names(&admin).await.len(), 4);
        reader.cancel().await.unwrap();
        admin.cancel().await.unwrap();
    }
}

#[tokio::test]
async fn the_example_read_only_server_serves_only_read_only_actions() {
    let server = catalog_server().await;
    for lifecycle in LIFECYCLES {
        let admin = server
            .client_at(&server.named("read-only"), ADMIN, lifecycle)
            .await;
        assert_eq!(
            tool_names(&admin).await,
            ["get_catalog_entity", "list_catalog_entities"]
        );
        let info = admin.peer_info().unwrap();
        assert_eq!(info.server_info.as_ref().unwrap().name, "catalog-read-only");
        assert_unknown_tool(
            &admin,
            "delete_catalog_entity",
            json!({"entity_ref": "component:sandbox/playground"}),
        )
        .await;
        // Readers, whose policy allows reading, see the same two tools.
        let reader = server
            .client_at(&server.named("read-only"), READER, lifecycle)
            .await;
        assert_eq!(
            tool_names(&reader).await,
            ["get_catalog_entity", "list_catalog_entities"]
        );
        admin.cancel().await.unwrap();
        reader.cancel().await.unwrap();
    }
}

#[tokio::test]
async fn resource_level_authorize_lets_readers_delete_only_sandbox_entities() {
    let server = catalog_server().await;
    // The delete action asks the user to confirm first (`confirm = "Delete {entity_ref}…"`).
    let accept = || answer(rmcp::model::ElicitationAction::Accept, json!({}));
    let user = User::answering([
        answer(rmcp::model::ElicitationAction::Decline, json!(null)),
        accept(),
        accept(),
    ]);
    let reader = user
        .connect(&server.endpoint, READER, Lifecycle::Discover)
        .await;
    let result = call(
        &reader,
        "delete_catalog_entity",
        json!({"entity_ref": "component:sandbox/playground"}),
    )
    .await;
    assert_eq!(error_text(&result), "NotAllowedError: declined by the user");
    let result = call(
        &reader,
        "delete_catalog_entity",
        json!({"entity_ref": "component:default/website"}),
    )
    .await;
    assert_eq!(
        error_text(&result),
        "NotAllowedError: permission `catalog.entity.delete` (delete) is required for component:default/website"
    );
    let result = call(
        &reader,
        "delete_catalog_entity",
        json!({"entity_ref": "component:sandbox/playground"}),
    )
    .await;
    assert_eq!(result.is_error, Some(false), "{result:?}");
    assert_eq!(
        result.structured_content.as_ref().unwrap()["deleted"]["ref"],
        "component:sandbox/playground"
    );
    let asked: Vec<String> = user
        .asked()
        .into_iter()
        .map(|(message, _)| message)
        .collect();
    assert_eq!(
        asked,
        [
            "Delete component:sandbox/playground from the catalog?",
            "Delete component:default/website from the catalog?",
            "Delete component:sandbox/playground from the catalog?",
        ]
    );
    // The entity is gone for everyone: the store is one shared service.
    let admin = server.client(ADMIN, Lifecycle::Initialize).await;
    let result = call(
        &admin,
        "get_catalog_entity",
        json!({"entity_ref": "component:sandbox/playground"}),
    )
    .await;
    assert_eq!(
        error_text(&result),
        "NotFoundError: entity component:sandbox/playground does not exist"
    );
}

#[tokio::test]
async fn catalog_actions_list_get_create_and_report_their_errors() {
    let server = catalog_server().await;
    let admin = server.client(ADMIN, Lifecycle::Initialize).await;

    let result = call(
        &admin,
        "list_catalog_entities",
        json!({"kind": "component"}),
    )
    .await;
    let refs: Vec<&str> = result.structured_content.as_ref().unwrap()["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["ref"].as_str().unwrap())
        .collect();
    assert!(refs.contains(&"component:default/website"), "{refs:?}");
    assert!(refs.iter().all(|r| r.starts_with("component:")), "{refs:?}");

    let result = call(
        &admin,
        "get_catalog_entity",
        json!({"entity_ref": "component:default/website"}),
    )
    .await;
    assert_eq!(
        result.structured_content.as_ref().unwrap()["title"],
        "Website"
    );

    let result = call(
        &admin,
        "get_catalog_entity",
        json!({"entity_ref": "website"}),
    )
    .await;
    assert!(error_text(&result).starts_with("InputError: `website` is not an entity reference"));

    let new =
        json!({"kind": "component", "name": "search", "owner": "group:default/platform-team"});
    let result = call(&admin, "create_catalog_entity", new.clone()).await;
    assert_eq!(
        result.structured_content.as_ref().unwrap()["ref"],
        "component:default/search"
    );
    let result = call(&admin, "create_catalog_entity", new).await;
    assert_eq!(
        error_text(&result),
        "ConflictError: entity component:default/search already exists"
    );

    let result = call(
        &admin,
        "create_catalog_entity",
        json!({"kind": "component"}),
    )
    .await;
    let text = error_text(&result);
    assert!(
        text.starts_with("InputError: ") && text.contains("name"),
        "{text}"
    );
}

#[test]
fn catalog_without_its_store_is_a_startup_error_naming_every_action() {
    let error = ActionsServer::builder()
        .config(config(TEST_CONFIG))
        .registry(registry(&["catalog"]))
        .build()
        .expect_err("the store is not registered");
    assert!(matches!(error, BuildError::Actions(_)), "{error}");
    let text = error.to_string();
    for action in [
        "catalog:list_catalog_entities",
        "catalog:get_catalog_entity",
        "catalog:create_catalog_entity",
        "catalog:delete_catalog_entity",
    ] {
        assert!(text.contains(action), "{text}");
    }
    assert!(text.contains("CatalogStore"), "{text}");
    assert!(text.contains("4 problems"), "{text}");
}
