//! `tools/list`: the order, pages and cursors (`mcpActions.listPageSize`), and 2026-07-28's
//! caching hints.

use mcp_actions_server::ActionsServer;
use mcp_actions_tests::prelude::*;
use rmcp::model::{CacheScope, ErrorCode, PaginatedRequestParams};
use rmcp::service::ServiceError;
use serde_json::{Value, json};

use crate::setup::*;

/// The tool names of one `tools/list` answer, in the order given.
fn names(result: &Value) -> Vec<String> {
    result["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("no tools: {result}"))
        .iter()
        .map(|tool| tool["name"].as_str().unwrap().to_owned())
        .collect()
}

/// One raw 2025-11-25 `tools/list`, with `cursor` if any.
async fn list_page(endpoint: &str, token: &str, cursor: Option<&str>) -> Reply {
    let params = cursor.map(|cursor| json!({"cursor": cursor}));
    post(endpoint, Some(token), &rpc(1, "tools/list", params)).await
}

/// Every page, following `nextCursor`: the names of each.
async fn all_pages(endpoint: &str, token: &str) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let reply = list_page(endpoint, token, cursor.as_deref()).await;
        let result = reply.json()["result"].clone();
        pages.push(names(&result));
        match result.get("nextCursor") {
            Some(Value::String(next)) => cursor = Some(next.clone()),
            None => return pages,
            Some(other) => panic!("nextCursor {other}"),
        }
        assert!(pages.len() < 100, "the cursors never end");
    }
}

fn paged(size: usize) -> mcp_actions_server::ActionsServerBuilder {
    e2e_builder().config(config(&format!("{TEST_CONFIG}  listPageSize: {size}\n")))
}

#[tokio::test]
async fn tools_are_listed_in_action_id_order_every_time() {
    let server = TestServer::start(e2e_builder()).await;
    let first = names(&list_page(&server.endpoint, FULL_TOKEN, None).await.json()["result"]);
    // The registry's order: sorted by action id (plugin `e2e` before `e2e-other`).
    let registry = registry(&["e2e", "e2e-other"]);
    let by_id: Vec<String> = registry.iter().map(|a| a.name().to_owned()).collect();
    assert_eq!(first, by_id);
    assert!(first.len() > 3, "{first:?}");
    for _ in 0..3 {
        let again = names(&list_page(&server.endpoint, FULL_TOKEN, None).await.json()["result"]);
        assert_eq!(again, first);
    }
}

#[tokio::test]
async fn the_2026_list_carries_private_caching_hints_and_the_2025_list_none() {
    let server = TestServer::start(e2e_builder()).await;
    for lifecycle in LIFECYCLES {
        let client = server.client(FULL_TOKEN, lifecycle).await;
        let result = client.list_tools(None).await.expect("tools/list");
        match lifecycle {
            Lifecycle::Discover => {
                assert_eq!(result.ttl_ms, Some(60_000));
                assert_eq!(result.cache_scope, Some(CacheScope::Private));
            }
            Lifecycle::Initialize => {
                assert_eq!((result.ttl_ms, result.cache_scope), (None, None));
            }
        }
        client.cancel().await.unwrap();
    }
    // On the wire, without rmcp's client in between.
    let reply = send(
        &server.endpoint,
        &headers_2026(FULL_TOKEN, "tools/list", None),
        rpc(
            1,
            "tools/list",
            Some(json!({"_meta": {
                "io.modelcontextprotocol/protocolVersion": V2026,
                "io.modelcontextprotocol/clientInfo": {"name": "e2e", "version": "1"},
                "io.modelcontextprotocol/clientCapabilities": {}
            }})),
        )
        .to_string(),
    )
    .await;
    let result = &reply.json()["result"];
    assert_eq!(result["ttlMs"], 60_000, "{reply:?}");
    assert_eq!(result["cacheScope"], "private", "{reply:?}");
    assert_eq!(result["resultType"], "complete", "{reply:?}");
    let legacy = list_page(&server.endpoint, FULL_TOKEN, None).await.json();
    for key in ["ttlMs", "cacheScope", "resultType", "nextCursor"] {
        assert!(legacy["result"].get(key).is_none(), "{key}: {legacy}");
    }
}

#[tokio::test]
async fn pages_of_list_page_size_cover_the_list_once_in_order() {
    let whole = TestServer::start(e2e_builder()).await;
    let all = names(&list_page(&whole.endpoint, FULL_TOKEN, None).await.json()["result"]);
    let server = TestServer::start(paged(2)).await;
    let pages = all_pages(&server.endpoint, FULL_TOKEN).await;
    assert!(pages.len() >= 3, "{pages:?}");
    assert!(pages.iter().all(|page| !page.is_empty() && page.len() <= 2));
    assert!(pages[..pages.len() - 1].iter().all(|page| page.len() == 2));
    assert_eq!(pages.concat(), all);

    // A restricted caller pages over the tools it may see.
    let restricted = TestServer::start(e2e_builder()).await;
    let visible = names(
        &list_page(&restricted.endpoint, RESTRICTED_TOKEN, None)
            .await
            .json()["result"],
    );
    assert!(visible.len() < all.len());
    assert_eq!(
        all_pages(&server.endpoint, RESTRICTED_TOKEN).await.concat(),
        visible
    );

    // rmcp's client follows the cursors on both lifecycles.
    for lifecycle in LIFECYCLES {
        let client = server.client(FULL_TOKEN, lifecycle).await;
        let first = client.list_tools(None).await.expect("the first page");
        assert_eq!(first.tools.len(), 2);
        assert!(first.next_cursor.is_some());
        let listed: Vec<String> = client
            .list_all_tools()
            .await
            .expect("every page")
            .into_iter()
            .map(|tool| tool.name.to_string())
            .collect();
        assert_eq!(listed, all, "{lifecycle:?}");
        client.cancel().await.unwrap();
    }
}

#[tokio::test]
async fn the_builder_sets_the_page_size_over_the_config() {
    let server = TestServer::start(paged(2).list_page_size(3)).await;
    let pages = all_pages(&server.endpoint, FULL_TOKEN).await;
    assert_eq!(pages[0].len(), 3, "{pages:?}");
    let unpaged = TestServer::start(paged(2).list_page_size(0)).await;
    assert_eq!(all_pages(&unpaged.endpoint, FULL_TOKEN).await.len(), 1);
}

#[tokio::test]
async fn a_cursor_means_the_same_on_another_replica_and_nothing_for_another_list() {
    let one = TestServer::start(paged(2)).await;
    let other = TestServer::start(paged(2)).await;
    let first = list_page(&one.endpoint, FULL_TOKEN, None).await.json();
    let cursor = first["result"]["nextCursor"].as_str().unwrap().to_owned();
    let here = list_page(&one.endpoint, FULL_TOKEN, Some(&cursor))
        .await
        .json();
    let there = list_page(&other.endpoint, FULL_TOKEN, Some(&cursor))
        .await
        .json();
    assert_eq!(here["result"], there["result"]);
    assert_eq!(names(&here["result"]).len(), 2);

    // Refused: a caller who sees other tools, a server with other tools, a server that does not
    // page, something made up. Each is -32602 with a message saying what to do.
    let other_tools = TestServer::start(
        ActionsServer::builder()
            .config(config(&format!("{TEST_CONFIG}  listPageSize: 2\n")))
            .registry(registry(&["e2e"])),
    )
    .await;
    let unpaged = TestServer::start(e2e_builder()).await;
    for (what, endpoint, token, cursor) in [
        (
            "another caller's list",
            &one.endpoint,
            RESTRICTED_TOKEN,
            cursor.as_str(),
        ),
        (
            "another tool set",
            &other_tools.endpoint,
            FULL_TOKEN,
            cursor.as_str(),
        ),
        (
            "a server that does not page",
            &unpaged.endpoint,
            FULL_TOKEN,
            cursor.as_str(),
        ),
        ("a made-up cursor", &one.endpoint, FULL_TOKEN, "page-2"),
        ("an empty cursor", &one.endpoint, FULL_TOKEN, ""),
    ] {
        let reply = list_page(endpoint, token, Some(cursor)).await;
        assert_eq!(reply.status, 200, "{what}: {reply:?}");
        assert_eq!(reply.rpc_error_code(), -32602, "{what}: {reply:?}");
        let message = reply.json()["error"]["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            message.contains("list again without a cursor"),
            "{what}: {message}"
        );
    }
    // Through rmcp, on 2026-07-28 as well.
    let client = one.client(FULL_TOKEN, Lifecycle::Discover).await;
    let answer = client
        .list_tools(Some(
            PaginatedRequestParams::default().with_cursor(Some("page-2".into())),
        ))
        .await;
    let Err(ServiceError::McpError(error)) = answer else {
        panic!("expected a JSON-RPC error, got {answer:?}");
    };
    assert_eq!(error.code, ErrorCode::INVALID_PARAMS);
    client.cancel().await.unwrap();
}
