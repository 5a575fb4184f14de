//! The greet-user example's actions (being written).
