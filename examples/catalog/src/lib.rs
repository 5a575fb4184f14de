//! The catalog example's actions (being written).
