//! README.md's marked code blocks, run in order by `readme/run.py` (see its docstring): the
//! shell blocks against this checkout, the quick start crate in a temporary folder next to it,
//! and the start-up transcript against the program's real output. A block that breaks fails
//! this test with the block's text and output.
//!
//! The blocks reuse this build's target directory (`CARGO_TARGET_DIR`, found from this test's
//! own path), so they build only what `cargo test` has not. `MCP_ACTIONS_SKIP_README=1` skips
//! the test (an error under `CI`).

use std::path::{Path, PathBuf};
use std::process::Command;

use mcp_actions_tests::interop::on_ci;

/// `<target>/debug/deps/readme-<hash>` → `<target>`.
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    exe.ancestors()
        .nth(3)
        .expect("the test binary is in <target>/<profile>/deps")
        .to_path_buf()
}

#[test]
fn readme_blocks_run_in_order() {
    if std::env::var_os("MCP_ACTIONS_SKIP_README").is_some_and(|v| v == "1") {
        assert!(!on_ci(), "MCP_ACTIONS_SKIP_README=1 under CI");
        eprintln!("SKIPPED: the README test (MCP_ACTIONS_SKIP_README=1)");
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let output = Command::new("python3")
        .arg(root.join("tests/readme/run.py"))
        .current_dir(root)
        .env("CARGO_TARGET_DIR", target_dir())
        .output()
        .expect("python3 runs tests/readme/run.py");
    let report = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.success() {
        println!("{report}"); // each block and its time, with --nocapture
    }
    assert!(
        output.status.success(),
        "a README.md block failed:\n{report}{stderr}\n(`python3 tests/readme/run.py` runs them again)"
    );
}
