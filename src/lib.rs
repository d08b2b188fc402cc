//! The root package's library: what the one-command demo hall (`src/main.rs`) runs beyond the
//! hub, kept here so the whole-system tests can drive it.

pub mod simulate;
