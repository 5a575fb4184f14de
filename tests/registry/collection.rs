//! Collection across crates, plugin filters, attribute defaults and descriptor contents.

use mcp_actions::{Registry, Services};

fn registry() -> Registry {
    Registry::from_inventory().expect("the linked actions are valid")
}

#[test]
fn collects_the_actions_of_both_fixture_crates() {
    let registry = registry();
    for id in [
        "plugin-a:get_item",
        "plugin-a:list_items",
        "plugin-a:delete_item",
        "plugin-a:whoami",
        "plugin-a:ping",
        "plugin-a:fail_with",
        "plugin-a:explode",
        "plugin-b:send_notification",
        "plugin-b:list_tags",
        "plugin-b-admin:purge_cache",
    ] {
        assert!(registry.get_by_id(id).is_some(), "`{id}` was not collected");
    }
    // Sorted by plugin, then name, whatever the link order.
    let keys: Vec<_> = registry.iter().map(|a| (a.plugin(), a.name())).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
}

#[test]
fn plugin_defaults_to_the_package_name_and_can_be_overridden() {
    let registry = registry();
    assert_eq!(registry.get("get_item").unwrap().plugin(), "plugin-a");
    // plugin-b depends on `mcp-actions` under another name (`crate = "actions"`).
    assert_eq!(registry.get("list_tags").unwrap().plugin(), "plugin-b");
    assert_eq!(
        registry.get("purge_cache").unwrap().plugin(),
        "plugin-b-admin"
    );
    let plugins = registry.plugins();
    for plugin in ["plugin-a", "plugin-b", "plugin-b-admin"] {
        assert!(plugins.contains(&plugin), "{plugins:?}");
    }
}

#[test]
fn name_defaults_to_the_function_name() {
    let registry = registry();
    // `#[action(name = "list_items")] async fn list(…)`
    assert!(registry.get("list_items").is_some());
    assert!(registry.get("list").is_none());
    assert_eq!(registry.get("ping").unwrap().name(), "ping");
}

#[test]
fn plugin_sources_filter_keeps_only_those_plugins() {
    let only_b = registry().with_plugin_sources(&["plugin-b"]);
    let ids: Vec<_> = only_b.iter().map(|a| a.id().to_owned()).collect();
    assert_eq!(ids, ["plugin-b:list_tags", "plugin-b:send_notification"]);
    assert!(only_b.get("get_item").is_none());

    let a_and_admin = registry().with_plugin_sources(&["plugin-a", "plugin-b-admin"]);
    assert!(a_and_admin.get("purge_cache").is_some());
    assert!(a_and_admin.get("get_item").is_some());
    assert!(a_and_admin.get("list_tags").is_none());

    assert!(registry().with_plugin_sources::<&str>(&[]).is_empty());
}

#[test]
fn attributes_follow_backstage_defaults() {
    let registry = registry();
    let attrs = |name: &str| registry.get(name).unwrap().descriptor().attributes;

    // `#[action(title = "Explode")]`: nothing set, so not read-only and therefore destructive.
    let a = attrs("explode");
    assert!(!a.read_only && a.destructive && !a.idempotent && !a.open_world);
    // `read_only, idempotent`: read-only implies not destructive.
    let a = attrs("get_item");
    assert!(a.read_only && !a.destructive && a.idempotent && !a.open_world);
    // `read_only = true` form.
    assert!(attrs("list_items").read_only);
    // `destructive, idempotent`.
    let a = attrs("delete_item");
    assert!(!a.read_only && a.destructive && a.idempotent);
    // `open_world` only: destructive by default.
    let a = attrs("send_notification");
    assert!(a.open_world && a.destructive && !a.read_only);
    // `destructive = false` without `read_only`.
    let a = attrs("purge_cache");
    assert!(!a.read_only && !a.destructive && a.idempotent);
}

#[test]
fn descriptor_carries_text_permission_services_and_location() {
    let registry = registry();
    let get_item = registry.get("get_item").unwrap().descriptor();
    assert_eq!(get_item.title, "Get Item");
    assert_eq!(
        get_item.description,
        "Get one item by id.\n\nFails with `NotFoundError` when there is no such item."
    );
    assert_eq!(get_item.location.line, plugin_a::GET_ITEM_LINE);
    assert!(
        get_item.location.file.ends_with("plugin-a/src/lib.rs"),
        "{}",
        get_item.location.file
    );
    assert!(get_item.permission.is_none());

    let delete = registry.get("delete_item").unwrap().descriptor();
    assert_eq!(delete.permission, Some(&plugin_a::ITEM_DELETE));
    let services: Vec<_> = delete.services.iter().map(|k| (k.type_name)()).collect();
    assert_eq!(services, ["plugin_a::Store"]);

    // An explicit `description` wins; without one the doc comment is used.
    let purge = registry.get("purge_cache").unwrap().descriptor();
    assert_eq!(
        purge.description,
        "Drop every cached notification template."
    );
    assert_eq!(
        registry.get("list_tags").unwrap().descriptor().description,
        "List the tags notifications may carry."
    );
}

#[test]
fn missing_services_are_reported_with_the_action_and_its_location() {
    let registry = registry();
    let services = Services::new().with(plugin_a::Store::default());
    let missing = registry.missing_services(&services);
    assert_eq!(missing.len(), 1, "{missing:?}");
    let missing = &missing[0];
    assert_eq!(missing.action_id, "plugin-b:send_notification");
    assert_eq!(missing.service, "plugin_b::Mailer");
    assert!(
        missing.location.contains("plugin-b/src/lib.rs:"),
        "{}",
        missing.location
    );
    assert_eq!(
        missing.to_string(),
        format!(
            "action `plugin-b:send_notification` ({}) needs service `plugin_b::Mailer`, which is not registered",
            missing.location
        )
    );

    let all = services.with(plugin_b::Mailer::default());
    assert!(registry.missing_services(&all).is_empty());
}
