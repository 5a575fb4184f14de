//! Where the third-party clients live (`tests/interop`), and whether a missing one may be
//! skipped.

use std::path::{Path, PathBuf};

/// `tests/interop`: the Node and Python clients, and their installed packages.
pub fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("interop")
}

/// Whether this runs under CI (`CI` set, and not `false` or `0`): then a missing client is a
/// failure, not a skip.
pub fn on_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false" && v != "0")
}
