//! Shared helpers for the test suites in this folder.
