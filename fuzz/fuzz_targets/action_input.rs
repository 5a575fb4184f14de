//! Bytes → JSON → an action's input: `deserialize_input` and `Dispatcher::call` agree, the
//! dispatcher never panics, and every refusal is an `InputError`.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use mcp_actions::__private::deserialize_input;
use mcp_actions::{CallOptions, Credentials, Dispatcher, ErrorKind, Registry};
use mcp_actions_fuzz::{StrictInput, TypedInput};

struct Harness {
    runtime: tokio::runtime::Runtime,
    dispatcher: Dispatcher,
}

static HARNESS: LazyLock<Harness> = LazyLock::new(|| {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let registry = Registry::from_inventory()
        .expect("the fuzz actions are valid")
        .retain(|a| a.plugin() == "fuzz");
    Harness {
        runtime,
        dispatcher: Dispatcher::new(registry),
    }
});

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let harness = &*HARNESS;
    let typed_ok = deserialize_input::<TypedInput>(value.clone())
        .map_err(|e| assert_eq!(e.kind(), ErrorKind::InputError, "{e}"))
        .is_ok();
    let strict = deserialize_input::<StrictInput>(value.clone())
        .map_err(|e| assert_eq!(e.kind(), ErrorKind::InputError, "{e}"));
    harness.runtime.block_on(async {
        let options = || CallOptions::new(Credentials::service("fuzzer"));
        let result = harness
            .dispatcher
            .call("fuzz_typed", Some(value.clone()), options())
            .await;
        match (&result, typed_ok) {
            (Ok(_), true) => {}
            // `null` arguments are read as `{}`.
            (Err(e), false) => assert_eq!(e.kind(), ErrorKind::InputError, "{e}"),
            (Err(e), true) => assert!(value.is_null(), "deserialize_input accepted, call refused: {e}"),
            (Ok(_), false) => assert!(value.is_null(), "deserialize_input refused, call accepted"),
        }
        let result = harness
            .dispatcher
            .call("fuzz_strict", Some(value.clone()), options())
            .await;
        if let Err(e) = result {
            assert_eq!(e.kind(), ErrorKind::InputError, "{e}");
        } else {
            assert!(strict.is_ok() || value.is_null());
        }
    });
});
