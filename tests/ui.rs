//! Compile-fail and compile-pass cases of `#[action]`.
//!
//! Each `ui/fail/*.rs` is one misuse, named after what it checks, with the exact compiler output
//! in the `.stderr` next to it (user-facing text: read it when it changes). Regenerate with
//! `TRYBUILD=overwrite cargo test -p mcp-actions-tests --test ui`.
//!
//! Each `ui/pass/*.rs` is an accepted shape; its `main` builds the registry and checks what the
//! macro emitted.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/fail/*.rs");
    t.pass("ui/pass/*.rs");
}
