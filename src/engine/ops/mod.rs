//! Redis's commands as methods of extension traits over [`Access`](crate::engine::Access).
//!
//! Each trait is implemented for every `Access` (a [`Db`](crate::engine::Db) or a
//! [`Txn`](crate::engine::Txn)), so a command is written once and runs the same on its own or
//! inside a transaction. `use corekv::prelude::*` brings them all into scope.

pub mod expiry;
pub mod hashes;
pub mod keys;
pub mod lists;
pub mod sets;
pub mod strings;
pub mod zsets;

pub use expiry::{ExpireCondition, Expiry, TimeUnit};
pub use hashes::{FieldValue, HashOps, MAX_RANDOM_COUNT};
pub use keys::KeyOps;
pub use lists::{End, ListOps};
pub use sets::{SetAlgebra, SetOps};
pub use strings::{GetExOption, SetCondition, SetOptions, SetOutcome, StringOps};
pub use zsets::{MemberScore, ZAddReply, ZRange, ZRangeBy, ZSetAlgebra, ZSetOps};
