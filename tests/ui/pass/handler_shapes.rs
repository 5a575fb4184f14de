//! Every argument shape: input only, no input, context only, and services in any order.
use std::sync::atomic::{AtomicU32, Ordering};

use mcp_actions::prelude::*;
use mcp_actions::testing::ActionTester;
use serde_json::json;

#[derive(Deserialize, JsonSchema)]
struct In {
    n: u32,
}

#[derive(Serialize, Deserialize, JsonSchema)]
struct Out {
    n: u32,
}

struct Counter {
    next: AtomicU32,
}
struct Offset {
    by: u32,
}

/// Input only.
#[action(title = "Input Only")]
async fn input_only(input: In) -> Result<Out, ActionError> {
    Ok(Out { n: input.n })
}

/// Nothing at all.
#[action(title = "Nothing")]
async fn nothing() -> Result<Out, ActionError> {
    Ok(Out { n: 7 })
}

/// Context only.
#[action(title = "Context Only")]
async fn context_only(ctx: &ActionContext) -> Result<Out, ActionError> {
    Ok(Out { n: ctx.action_name().len() as u32 })
}

/// Services before and after the context.
#[action(title = "Services")]
async fn services(
    input: In,
    counter: Service<Counter>,
    ctx: &ActionContext,
    offset: Service<Offset>,
) -> Result<Out, ActionError> {
    let _ = ctx;
    Ok(Out { n: counter.next.fetch_add(1, Ordering::SeqCst) + input.n + offset.by })
}

/// Services without input or context.
#[action(title = "Only Services")]
async fn only_services(offset: Service<Offset>) -> Result<Out, ActionError> {
    Ok(Out { n: offset.by })
}

async fn run() {
    let tester = ActionTester::new()
        .service(Counter { next: AtomicU32::new(100) })
        .service(Offset { by: 10 });
    async fn n(tester: &ActionTester, name: &str, input: serde_json::Value) -> u32 {
        tester.call_typed::<Out>(name, input).await.unwrap().n
    }
    let call = |name, input| n(&tester, name, input);
    assert_eq!(call("input_only", json!({"n": 1})).await, 1);
    assert_eq!(call("nothing", json!({})).await, 7);
    assert_eq!(call("context_only", json!({})).await, "context_only".len() as u32);
    assert_eq!(call("services", json!({"n": 1})).await, 111);
    assert_eq!(call("services", json!({"n": 1})).await, 112);
    assert_eq!(call("only_services", json!({})).await, 10);

    let registry = tester.registry();
    let services = registry.get("services").unwrap().descriptor().services;
    let names: Vec<_> = services.iter().map(|k| (k.type_name)()).collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names[0].ends_with("::Counter") && names[1].ends_with("::Offset"), "{names:?}");
    // A no-input action publishes an empty object schema.
    let schema = registry.get("nothing").unwrap().input_schema();
    assert_eq!(schema["type"], "object");
    assert!(schema.get("required").is_none());
}

fn main() {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(run());
}
