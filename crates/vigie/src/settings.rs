//! The analysis settings live with the node's config (crates/node); the tools read them too.

pub use vigie_node::settings::*;
