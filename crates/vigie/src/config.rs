//! `vigie.toml` lives with the node (crates/node); the tools read it too.

pub use vigie_node::config::*;
