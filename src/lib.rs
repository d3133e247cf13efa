//! corekv: a lock-free, thread-per-core, in-memory key-value engine with Redis's data model.
//!
//! (crate docs are completed with the engine; see the Layout section.)
//!
//! # Layout
//!
//! - [`engine`]: the keyspace (databases of shards, each a lock-free hash map), value types,
//!   expiry and the typed operations API.
//! - `sync`: the one switch between `std` and `loom` primitives (`--cfg corekv_loom`).

#![deny(unsafe_op_in_unsafe_fn)]

pub mod engine;
pub(crate) mod sync;

pub use engine::bytes::SmallBytes;
pub use engine::error::{Error, Result};
