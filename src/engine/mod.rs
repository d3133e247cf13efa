//! The engine: keyspace, value types, expiry.

pub mod bytes;
pub mod error;
pub mod num;
pub mod types;

pub use bytes::SmallBytes;
pub use error::{Error, Result};
