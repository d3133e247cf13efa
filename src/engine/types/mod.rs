//! Redis's collection value types as plain single-threaded data structures.
//!
//! Each type implements its commands' semantics on `&mut self`; the keyspace supplies the
//! concurrency (one value is only ever touched under its key's lock, see `engine::slot`).

pub mod hash;
mod indexed;
pub mod list;
pub mod set;
pub mod zset;
