//! Calling actions through `mcp_actions::testing::ActionTester`: the same pipeline the server
//! runs (access restrictions, permission, input, services, error mapping), without a server.

use std::sync::Arc;

use mcp_actions::testing::ActionTester;
use mcp_actions::{
    AccessRestriction, Credentials, Decision, ErrorKind, PermissionAction, policy_fn,
};
use plugin_a::{Item, ItemList, Store};
use plugin_b::{Mailer, Sent};
use serde_json::json;

fn tester() -> ActionTester {
    ActionTester::new().service(Store::with_items([("a1", "Apple"), ("protected", "Crown")]))
}

#[tokio::test]
async fn calls_an_action_and_returns_its_output() {
    let item: Item = tester()
        .call_typed("get_item", json!({"id": "a1"}))
        .await
        .unwrap();
    assert_eq!((item.id.as_str(), item.label.as_str()), ("a1", "Apple"));

    let list: ItemList = tester().call_typed("list_items", json!({})).await.unwrap();
    assert_eq!(list.items.len(), 2);

    let pong = tester().call("ping", json!(null)).await.unwrap();
    assert_eq!(pong, json!({"pong": true}));
}

#[tokio::test]
async fn the_action_sees_the_caller() {
    let out = tester()
        .as_user("user:default/jane")
        .call("whoami", json!({}))
        .await
        .unwrap();
    let expected = Credentials::user("user:default/jane")
        .principal()
        .to_string();
    assert_eq!(
        out,
        json!({"principal": expected, "action_id": "plugin-a:whoami"})
    );
}

#[tokio::test]
async fn each_error_kind_reaches_the_caller_by_name() {
    let cases = [
        ("input", ErrorKind::InputError, "InputError: bad input"),
        (
            "not_found",
            ErrorKind::NotFoundError,
            "NotFoundError: nothing here",
        ),
        (
            "not_allowed",
            ErrorKind::NotAllowedError,
            "NotAllowedError: not for you",
        ),
        (
            "conflict",
            ErrorKind::ConflictError,
            "ConflictError: already exists",
        ),
        (
            "not_modified",
            ErrorKind::NotModifiedError,
            "NotModifiedError: unchanged",
        ),
        (
            "not_implemented",
            ErrorKind::NotImplementedError,
            "NotImplementedError: not yet",
        ),
        (
            "unavailable",
            ErrorKind::ServiceUnavailableError,
            "ServiceUnavailableError: try later",
        ),
        (
            "authentication",
            ErrorKind::AuthenticationError,
            "AuthenticationError: who are you?",
        ),
    ];
    let tester = tester();
    for (kind, expected_kind, expected_text) in cases {
        let err = tester
            .call("fail_with", json!({"kind": kind}))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), expected_kind, "{kind}");
        assert_eq!(err.to_string(), expected_text, "{kind}");
        assert!(err.reference().is_none(), "{kind}");
    }
    let err = tester
        .call("get_item", json!({"id": "nope"}))
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "NotFoundError: no item `nope`");
}

#[tokio::test]
async fn internal_errors_hide_their_details_behind_a_reference() {
    let err = tester()
        .call("fail_with", json!({"kind": "internal"}))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InternalError);
    let reference = err
        .reference()
        .expect("an internal error has a reference")
        .to_owned();
    let shown = err.to_string();
    assert_eq!(
        shown,
        format!("InternalError: the action failed unexpectedly (ref {reference})")
    );
    assert!(!shown.contains("hunter2"));
    // The details stay available for the log.
    assert!(
        err.details().contains("db://admin:hunter2@db"),
        "{}",
        err.details()
    );
}

#[tokio::test]
async fn a_panicking_action_is_an_internal_error() {
    let err = tester()
        .call("explode", json!({"kind": "x"}))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InternalError);
    assert!(err.reference().is_some());
    assert!(!err.to_string().contains("exploded"), "{err}");
    assert!(
        err.message().contains("panicked: the fixture exploded"),
        "{}",
        err.message()
    );
}

#[tokio::test]
async fn input_errors_name_the_json_path() {
    let tester = tester();
    let err = tester.call("get_item", json!({"id": 5})).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InputError);
    assert_eq!(
        err.to_string(),
        "InputError: invalid input at `id`: invalid type: integer `5`, expected a string"
    );

    let err = tester
        .call(
            "schema_nested",
            json!({"to": {"street": "Main St 1", "city": 7}}),
        )
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "InputError: invalid input at `to.city`: invalid type: integer `7`, expected a string"
    );

    let err = tester.call("get_item", json!({})).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "InputError: invalid input: missing field `id`"
    );

    // An action without input still wants an object.
    let err = tester.call("ping", json!([1])).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InputError, "{err}");
}

#[tokio::test]
async fn an_unknown_action_is_not_found() {
    let err = tester()
        .call("no_such_action", json!({}))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "NotFoundError: Action \"no_such_action\" not found"
    );
}

#[tokio::test]
async fn the_declared_permission_is_checked_before_the_call() {
    let tester = tester()
        .policy(policy_fn(|request| {
            Decision::from_bool(request.credentials.principal().to_string() != "user:default/guest")
        }))
        .as_user("user:default/guest");
    let err = tester
        .call("delete_item", json!({"id": "a1"}))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "NotAllowedError: permission `plugin-a.item.delete` (delete) is required to call `delete_item`"
    );
    // Denied actions are not listed either; actions without a permission are.
    let visible = tester.visible().await;
    assert!(!visible.contains(&"delete_item"), "{visible:?}");
    assert!(visible.contains(&"get_item"), "{visible:?}");
    // And nothing was deleted.
    assert!(tester.call("get_item", json!({"id": "a1"})).await.is_ok());
}

#[tokio::test]
async fn resource_level_checks_go_through_the_same_policy() {
    let store = Arc::new(Store::with_items([("a1", "Apple"), ("protected", "Crown")]));
    let tester = ActionTester::new()
        .service_arc(Arc::clone(&store))
        .policy(policy_fn(|request| {
            assert_eq!(request.permission.name(), "plugin-a.item.delete");
            assert_eq!(request.action_id, "plugin-a:delete_item");
            Decision::from_bool(request.resource != Some("item:protected"))
        }));
    let err = tester
        .call("delete_item", json!({"id": "protected"}))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "NotAllowedError: permission `plugin-a.item.delete` (delete) is required for item:protected"
    );
    assert!(store.items.lock().unwrap().contains_key("protected"));

    let out = tester
        .call("delete_item", json!({"id": "a1"}))
        .await
        .unwrap();
    assert_eq!(out, json!({"existed": true}));
    assert!(!store.items.lock().unwrap().contains_key("a1"));
}

#[tokio::test]
async fn access_restrictions_limit_plugins_and_permissions() {
    let only_b = tester().credentials(
        Credentials::service("ci").with_restrictions([AccessRestriction::plugin("plugin-b")]),
    );
    let err = only_b
        .call("get_item", json!({"id": "a1"}))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotAllowedError);
    assert_eq!(
        err.to_string(),
        "NotAllowedError: this token's access is restricted to other plugins; action `get_item` belongs to plugin `plugin-a`"
    );
    let mut visible = only_b.visible().await;
    visible.sort();
    assert_eq!(visible, ["list_tags", "send_notification"]);

    let read_only_a = tester().credentials(Credentials::service("ci").with_restrictions([
        AccessRestriction::plugin("plugin-a").with_actions([PermissionAction::Read]),
    ]));
    assert!(
        read_only_a
            .call("get_item", json!({"id": "a1"}))
            .await
            .is_ok()
    );
    let err = read_only_a
        .call("delete_item", json!({"id": "a1"}))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotAllowedError, "{err}");
}

#[tokio::test]
async fn services_are_injected_into_service_arguments() {
    let mailer = Arc::new(Mailer::default());
    let tester = ActionTester::new().service_arc(Arc::clone(&mailer));
    for expected in 1..=2 {
        let sent: Sent = tester
            .call_typed(
                "send_notification",
                json!({"to": "user:default/jane", "text": "hi"}),
            )
            .await
            .unwrap();
        assert_eq!(sent.total, expected);
    }
    assert_eq!(mailer.sent.lock().unwrap().len(), 2);
    assert_eq!(mailer.sent.lock().unwrap()[0], "user:default/jane: hi");
}

#[tokio::test]
async fn a_missing_service_is_an_internal_error_at_call_time() {
    // `Registry::missing_services` reports this at start-up (see `collection`); a call that
    // gets this far anyway fails without leaking the type name to the client.
    let err = ActionTester::new()
        .call("get_item", json!({"id": "a1"}))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InternalError);
    assert!(
        err.message()
            .contains("service `plugin_a::Store` is not registered"),
        "{}",
        err.message()
    );
    assert!(!err.to_string().contains("plugin_a::Store"), "{err}");
}
