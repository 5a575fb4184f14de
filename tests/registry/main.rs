//! The registry suite: actions collected from two crates, duplicates, name checks, filters,
//! attribute defaults, schema snapshots, and calling actions with `mcp_actions::testing`.

// inventory only sees crates that are linked, and a crate is linked only if it is used.
use plugin_a as _;
use plugin_b as _;

mod collection;
mod duplicates;
mod schemas;
mod tester;
