//! corekv: a lock-free, thread-per-core, in-memory key-value engine with Redis's data model.
//!
//! It is two things: a server that speaks RESP2/RESP3 (`corekv-server`), and this library,
//! which a Rust program links as its fast-path store: the same keyspace, called in-process.
//!
//! ```
//! use corekv::{Engine, prelude::*};
//! use corekv::engine::ops::Expiry;
//!
//! let engine = Engine::builder().build();
//! let sessions = engine.db(0);
//! sessions.set_expiring(b"session:42", b"alice", Expiry::Seconds(1800), "setex").unwrap();
//! assert_eq!(sessions.get(b"session:42").unwrap().as_deref(), Some(&b"alice"[..]));
//! assert!(sessions.ttl(b"session:42").unwrap() > 1790);
//! ```
//!
//! # Layout
//!
//! - [`engine`]: the keyspace.
//!   - `engine::db` / `engine::shard`: a [`Db`](engine::Db) is a power-of-two number of
//!     shards, each a lock-free `papaya` hash map; the slot protocol that makes single-key
//!     operations lock-free and linearizable (`engine::entry` documents it).
//!   - `engine::txn`: multi-key atomicity with ordered key locks held in the slots.
//!   - [`engine::access`]: the primitive key operations every command is written against.
//!   - [`engine::ops`]: Redis's commands as traits over `Access` (strings, keys, ...).
//!   - [`engine::types`]: lists, hashes, sets and sorted sets as plain data structures.
//!   - `engine::expire`: active expiry, bounded per shard per cycle.
//!   - [`engine::evict`]: `maxmemory` budgets per shard index and the eviction policies.
//!   - `engine::slab`: a per-core slab pool for fixed-size blocks, measured against mimalloc
//!     (`results/slab-vs-mimalloc.md`) and not wired into the engine yet.
//!   - [`engine::num`], [`engine::glob`]: Redis's number and pattern rules.
//! - [`protocol`]: RESP2/RESP3 with no engine imports: the incremental request parser
//!   (multibulk and inline, Redis's limits and error texts), the reply encoder, and
//!   [`Frame`](protocol::Frame) for decoding replies in clients and tests.
//! - [`commands`]: the command table (arity, flags, key positions as `COMMAND INFO` shows them)
//!   and one file per family; each handler is generic over `Access`, so it runs on a `Db` and,
//!   inside MULTI/EXEC, on a `Txn`.
//! - [`server`]: `corekv-server`'s pinned workers and their epoll loops (`worker`), connection
//!   buffers (`conn`), Redis's dispatch order (`dispatch`), configuration in redis.conf syntax
//!   (`config`), pub/sub and blocked-client registries, and the counters INFO reads (`stats`).
//! - [`bench`]: `corekv-bench`'s load generator (RESP over TCP or the embedded engine; closed
//!   loop, or open loop with coordinated omission corrected; HDR histograms, JSON, `.hgrm`).
//! - `sync`: the one switch between `std` and `loom` primitives (`--cfg corekv_loom`).

#![deny(unsafe_op_in_unsafe_fn)]

pub mod bench;
pub mod commands;
pub mod engine;
pub mod persist;
pub mod protocol;
pub mod server;
pub(crate) mod sync;

pub use engine::bytes::SmallBytes;
pub use engine::error::{Error, Result};
pub use engine::{Db, Engine, EngineBuilder, MemoryLimit, Policy, Txn};

/// Brings every command trait into scope: `use corekv::prelude::*`.
pub mod prelude {
    pub use crate::engine::Access;
    pub use crate::engine::ops::{HashOps, KeyOps, ListOps, SetOps, StringOps, ZSetOps};
}
