//! [`Access`]: the few primitive key operations every command is written against.
//!
//! A command (GET, LPUSH, ZADD, ...) is written once, as a provided method of an extension
//! trait over `Access` (see `engine::ops`). Two types implement `Access`:
//!
//! - [`Db`](crate::engine::Db): single-key operations straight on the lock-free shard maps;
//! - [`Txn`](crate::engine::Txn): operations on keys a multi-key transaction holds locked,
//!   staged privately and published together.
//!
//! So `db.incr(key)` and `txn.incr(key)` (inside MULTI/EXEC or a multi-key command) run the
//! same code, and a behaviour is written once.

use crate::engine::entry::{Collection, Kind, StrValue};
use crate::engine::error::Result;
use crate::engine::txn::Txn;

/// A read-only view of a key's current, unexpired value.
#[derive(Debug, Clone, Copy)]
pub struct KeyView<'a> {
    /// The value, or the type of a collection (its contents need the key's lock).
    pub value: ValueRef<'a>,
    /// Absolute deadline in Unix ms; 0 when the key has no TTL.
    pub deadline_ms: u64,
    /// Last access in the LRU clock (seconds).
    pub access_clock: u32,
}

/// The value part of a [`KeyView`].
#[derive(Debug, Clone, Copy)]
pub enum ValueRef<'a> {
    /// A string value.
    Str(&'a StrValue),
    /// A collection of this type.
    Collection(Kind),
}

impl ValueRef<'_> {
    /// The value's type.
    pub fn kind(&self) -> Kind {
        match self {
            ValueRef::Str(_) => Kind::String,
            ValueRef::Collection(kind) => *kind,
        }
    }
}

/// What an [`Access::update`] closure decides to do with the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    /// Leave the key as it is.
    Keep,
    /// Store this string with this deadline (0 = none).
    Put {
        /// The new value.
        value: StrValue,
        /// The new absolute deadline in Unix ms, 0 for none.
        deadline_ms: u64,
    },
    /// Keep the value, change the deadline (0 removes the TTL).
    SetDeadline(u64),
    /// Delete the key.
    Delete,
}

/// A value moved out of a key (RENAME, MOVE, COPY).
#[derive(Debug, Clone, PartialEq)]
pub struct OwnedValue {
    /// The value.
    pub data: OwnedData,
    /// Absolute deadline in Unix ms, 0 for none.
    pub deadline_ms: u64,
}

/// The data of an [`OwnedValue`].
#[derive(Debug, Clone, PartialEq)]
pub enum OwnedData {
    /// A string.
    Str(StrValue),
    /// A collection.
    Collection(Collection),
}

/// The primitive operations on keys that every command is written against.
///
/// Every method is atomic with respect to the key it names. Closures may run more than once
/// when a concurrent writer wins a race, so they must compute from their arguments only.
pub trait Access {
    /// The time this operation runs at, in Unix ms (fixed for a whole transaction).
    fn now_ms(&self) -> u64;

    /// Calls `f` with the key's current view (`None` when missing or expired).
    fn view<R>(&self, key: &[u8], f: impl FnOnce(Option<KeyView<'_>>) -> R) -> Result<R>;

    /// Reads the key and, based on it, writes it, atomically.
    fn update<R>(
        &self,
        key: &[u8],
        f: impl FnMut(Option<KeyView<'_>>) -> Result<(Write, R)>,
    ) -> Result<R>;

    /// Runs `f` on the collection at `key` without changing it. `Ok(None)` when the key is
    /// missing; `Err(WrongType)` when it holds another type.
    fn read_collection<R>(
        &self,
        key: &[u8],
        kind: Kind,
        f: impl FnOnce(&Collection) -> R,
    ) -> Result<Option<R>>;

    /// Runs `f` on the collection at `key`, creating an empty one first when the key is missing
    /// and `create` is set. A collection left empty deletes its key; a new one left empty is
    /// never stored. `f` must change nothing when it returns an error. `Ok(None)` when the key
    /// is missing and `create` is off.
    fn write_collection<R>(
        &self,
        key: &[u8],
        kind: Kind,
        create: bool,
        f: impl FnMut(&mut Collection) -> Result<R>,
    ) -> Result<Option<R>>;

    /// Runs `f` with `keys` held by one transaction, so what it does to them is atomic and
    /// isolated. Within a transaction, the keys must be among those it declared.
    fn atomically<R>(&self, keys: &[&[u8]], f: impl FnOnce(&Txn<'_>) -> Result<R>) -> Result<R>;

    /// Stores every `(key, value)` pair as a string without a TTL, atomically and isolated
    /// (MSET); of a key given more than once, the last value. Within a transaction, the keys
    /// must be among those it declared. [`Db`](crate::engine::Db) overrides this with a
    /// transaction that skips what blind writes do not need (`engine::blind_txn`).
    fn set_strings(&self, pairs: &[(&[u8], &[u8])]) -> Result<()> {
        use crate::engine::ops::strings::StringOps;
        let keys: Vec<&[u8]> = pairs.iter().map(|(key, _)| *key).collect();
        self.atomically(&keys, |txn| {
            for (key, value) in pairs {
                txn.set(key, value)?;
            }
            Ok(())
        })
    }
}
