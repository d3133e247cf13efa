//! What a key maps to: [`Entry`], and the value representations it can hold.
//!
//! # The slot protocol
//!
//! Each key's slot in its shard's map holds one `Entry`. Entries are immutable once published,
//! except for three things that change in place:
//!
//! - the access clock in `meta`, written with `Relaxed` stores (it is a hint; a lost update
//!   only makes eviction slightly less exact);
//! - the contents of a collection ([`Stored::Collection`]), which live in a [`Cell`] behind a
//!   mutex that covers exactly one key;
//! - nothing else: a string write, a TTL change or a delete publishes a new entry (or removes
//!   it) with a compare-and-swap of the slot, so readers never lock.
//!
//! A collection cell is *detached* when its slot stops pointing at it (delete, overwrite, lazy
//! expiry, a transaction taking the key). Whoever detaches it does so while holding the cell's
//! mutex and sets `dead` before releasing it, so an operation that loaded the cell earlier and
//! then takes its mutex sees `dead` and starts again from the slot. That makes every
//! collection operation linearizable at the moment it holds a live cell's mutex.
//!
//! [`Stored::Locked`] marks a key held by a multi-key transaction (see `engine::txn`): every
//! other operation on that key waits until the transaction publishes the key's final entry.

use crate::engine::bytes::SmallBytes;
use crate::engine::types::{hash::HashValue, list::ListValue, set::SetValue, zset::ZSetValue};
use crate::sync::{Arc, AtomicU64, Mutex, Ordering};

/// One key's record in a shard map.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) value: Stored,
    /// Absolute expiry deadline in Unix milliseconds; [`NO_DEADLINE`] for a persistent key.
    pub(crate) deadline_ms: u64,
    /// Two fields in one word, to keep the entry at 40 bytes (the map's entry, key and value
    /// together, then fits mimalloc's 64-byte class):
    /// - bits 24..64, the version: taken from the shard's write sequence whenever the entry is
    ///   published, so any write changes it; WATCH compares it (with a collection cell's own
    ///   version). 40 bits wrap after 10^12 writes to one shard.
    /// - bits 0..24, the last access in the LRU clock (seconds mod 2^24, as Redis keeps it), for
    ///   eviction and OBJECT IDLETIME; under an LFU policy, Redis's LFU counter and its minute
    ///   clock instead (`engine::evict::lfu`). Only these bits ever change after publication.
    meta: AtomicU64,
}

const ACCESS_BITS: u32 = 24;
const ACCESS_MASK: u64 = (1 << ACCESS_BITS) - 1;

/// The deadline of a key without a TTL.
pub(crate) const NO_DEADLINE: u64 = 0;

impl Entry {
    pub(crate) fn new(value: Stored, deadline_ms: u64, version: u64, access: u32) -> Entry {
        let meta = (version << ACCESS_BITS) | (u64::from(access) & ACCESS_MASK);
        Entry { value, deadline_ms, meta: AtomicU64::new(meta) }
    }

    /// This entry's version (see `meta`).
    #[inline]
    pub(crate) fn version(&self) -> u64 {
        // Relaxed: the version bits are written before publication, which the map's
        // compare-and-swap orders; later stores rewrite the same bits.
        self.meta.load(Ordering::Relaxed) >> ACCESS_BITS
    }

    /// True when the entry's deadline has passed at `now_ms`.
    #[inline]
    pub(crate) fn is_expired(&self, now_ms: u64) -> bool {
        self.deadline_ms != NO_DEADLINE && self.deadline_ms <= now_ms
    }

    /// `is_expired`, reading the clock only for an entry that has a deadline.
    #[inline]
    pub(crate) fn is_expired_lazy(&self, now: &crate::engine::clock::LazyNow) -> bool {
        self.deadline_ms != NO_DEADLINE && self.deadline_ms <= now.get()
    }

    /// Records an access for eviction. Skips the store when the clock has not moved, so a hot
    /// key read by many cores does not bounce its cache line on every read.
    #[inline]
    pub(crate) fn touch(&self, clock: u32) {
        // Relaxed: the access clock is an eviction hint and orders nothing else. A plain store
        // (not a read-modify-write) is enough: the version bits it rewrites never change, so
        // two racing touches can only lose an access time, never a version.
        let meta = self.meta.load(Ordering::Relaxed);
        let clock = u64::from(clock) & ACCESS_MASK;
        if meta & ACCESS_MASK != clock {
            self.meta.store((meta & !ACCESS_MASK) | clock, Ordering::Relaxed);
        }
    }

    /// Replaces the access bits (an LFU counter and its minute clock, see `engine::evict`).
    /// Like `touch`, skips the store when nothing changes.
    #[inline]
    pub(crate) fn set_access_bits(&self, bits: u32) {
        // Relaxed and a plain store: see `touch`.
        let meta = self.meta.load(Ordering::Relaxed);
        let bits = u64::from(bits) & ACCESS_MASK;
        if meta & ACCESS_MASK != bits {
            self.meta.store((meta & !ACCESS_MASK) | bits, Ordering::Relaxed);
        }
    }

    /// The access bits: the LRU clock, or under an LFU policy the LFU counter and its clock.
    pub(crate) fn access_clock(&self) -> u32 {
        // Relaxed: see `touch`.
        (self.meta.load(Ordering::Relaxed) & ACCESS_MASK) as u32
    }
}

/// A value as it is stored in a slot.
#[derive(Debug)]
pub(crate) enum Stored {
    /// An immutable string; replaced as a whole on every write.
    Str(StrValue),
    /// A collection, mutated in place under its cell's mutex.
    Collection(Arc<Cell>),
    /// Held by the multi-key transaction with this id.
    Locked(u64),
}

/// A string value: raw bytes, or an integer kept in binary after INCR-family commands so
/// counters neither parse nor allocate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StrValue {
    /// A 64-bit integer, printed in decimal when read.
    Int(i64),
    /// Arbitrary bytes.
    Raw(SmallBytes),
}

impl StrValue {
    /// The string's length in bytes as Redis reports it (STRLEN).
    pub fn len(&self) -> usize {
        match self {
            StrValue::Int(value) => decimal_len(*value),
            StrValue::Raw(bytes) => bytes.len(),
        }
    }

    /// True for the empty string.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends the string's bytes to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        match self {
            StrValue::Int(value) => crate::engine::num::write_i64(out, *value),
            StrValue::Raw(bytes) => out.extend_from_slice(bytes),
        }
    }

    /// The string's bytes, owned.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len());
        self.write_to(&mut out);
        out
    }

    /// Heap bytes held beyond the value itself.
    pub(crate) fn heap_bytes(&self) -> usize {
        match self {
            StrValue::Int(_) => 0,
            StrValue::Raw(bytes) => bytes.heap_bytes(),
        }
    }

    /// The value as an integer, with Redis's strict parsing for raw bytes.
    pub(crate) fn as_i64(&self) -> Option<i64> {
        match self {
            StrValue::Int(value) => Some(*value),
            StrValue::Raw(bytes) => crate::engine::num::parse_i64(bytes),
        }
    }
}

fn decimal_len(value: i64) -> usize {
    let digits = value.unsigned_abs().checked_ilog10().map_or(1, |log| log as usize + 1);
    digits + usize::from(value < 0)
}

/// A collection value and the lock that covers it.
#[derive(Debug)]
pub(crate) struct Cell {
    /// The collection's type, outside the mutex so type checks never lock; it never changes.
    pub(crate) kind: Kind,
    pub(crate) state: Mutex<CellState>,
}

/// Bytes a cell costs beyond its collection's own heap bytes: the `Arc` allocation (two
/// counters and the cell).
pub(crate) const CELL_OVERHEAD_BYTES: usize = std::mem::size_of::<Cell>() + 16;

impl Cell {
    pub(crate) fn new(data: Collection, version: u64) -> Cell {
        let accounted_bytes = CELL_OVERHEAD_BYTES + data.memory_bytes();
        let kind = data.kind();
        Cell { kind, state: Mutex::new(CellState { dead: false, version, accounted_bytes, data }) }
    }
}

/// The mutable part of a collection, guarded by [`Cell::state`].
#[derive(Debug)]
pub(crate) struct CellState {
    /// Set (under the mutex) by whoever detaches the cell from its slot; see the module docs.
    pub(crate) dead: bool,
    /// Bumped on every in-place change, so WATCH notices modifications that do not replace
    /// the entry.
    pub(crate) version: u64,
    /// What this cell currently contributes to its shard's `used_memory`; re-measured after
    /// every change and subtracted when the cell is detached.
    pub(crate) accounted_bytes: usize,
    pub(crate) data: Collection,
}

impl CellState {
    /// Re-measures the collection after a change; returns the delta for `used_memory`.
    pub(crate) fn remeasure(&mut self) -> i64 {
        let now = CELL_OVERHEAD_BYTES + self.data.memory_bytes();
        let delta = now as i64 - self.accounted_bytes as i64;
        self.accounted_bytes = now;
        delta
    }
}

/// Redis's collection types.
#[derive(Debug, Clone, PartialEq)]
pub enum Collection {
    /// A list (LPUSH, RPOP, ...).
    List(ListValue),
    /// A hash (HSET, HGET, ...).
    Hash(HashValue),
    /// A set (SADD, SMEMBERS, ...).
    Set(SetValue),
    /// A sorted set (ZADD, ZRANGE, ...).
    ZSet(ZSetValue),
}

impl Collection {
    /// An empty collection of `kind`.
    pub fn empty(kind: Kind) -> Collection {
        match kind {
            Kind::List => Collection::List(ListValue::default()),
            Kind::Hash => Collection::Hash(HashValue::default()),
            Kind::Set => Collection::Set(SetValue::default()),
            Kind::ZSet => Collection::ZSet(ZSetValue::default()),
            Kind::String => unreachable!("strings are not collections"),
        }
    }

    /// The collection's type.
    pub fn kind(&self) -> Kind {
        match self {
            Collection::List(_) => Kind::List,
            Collection::Hash(_) => Kind::Hash,
            Collection::Set(_) => Kind::Set,
            Collection::ZSet(_) => Kind::ZSet,
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            Collection::List(list) => list.len(),
            Collection::Hash(hash) => hash.len(),
            Collection::Set(set) => set.len(),
            Collection::ZSet(zset) => zset.len() as usize,
        }
    }

    /// True when the collection holds no element (its key is then deleted).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Heap bytes the collection holds (maintained incrementally by each type).
    pub fn memory_bytes(&self) -> usize {
        match self {
            Collection::List(list) => list.memory_bytes(),
            Collection::Hash(hash) => hash.memory_bytes(),
            Collection::Set(set) => set.memory_bytes(),
            Collection::ZSet(zset) => zset.memory_bytes(),
        }
    }
}

/// The type of a key's value, as TYPE reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `string`
    String,
    /// `list`
    List,
    /// `hash`
    Hash,
    /// `set`
    Set,
    /// `zset`
    ZSet,
}

impl Kind {
    /// The name TYPE replies with.
    pub fn name(self) -> &'static str {
        match self {
            Kind::String => "string",
            Kind::List => "list",
            Kind::Hash => "hash",
            Kind::Set => "set",
            Kind::ZSet => "zset",
        }
    }

    /// Parses a TYPE name as SCAN's TYPE filter takes it (case-insensitive).
    pub fn parse(name: &[u8]) -> Option<Kind> {
        [Kind::String, Kind::List, Kind::Hash, Kind::Set, Kind::ZSet]
            .into_iter()
            .find(|kind| kind.name().as_bytes().eq_ignore_ascii_case(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_len_matches_formatting() {
        for value in [0, 1, 9, 10, -1, -10, 99, 100, i64::MAX, i64::MIN, 1234567] {
            assert_eq!(decimal_len(value), value.to_string().len(), "{value}");
        }
    }

    #[test]
    fn entry_is_small() {
        // The per-key overhead is a product promise (bytes per key); fail loudly if it grows.
        assert!(std::mem::size_of::<Entry>() <= 40, "{}", std::mem::size_of::<Entry>());
        // papaya stores key and entry side by side in one allocation: 64 bytes, one class.
        assert!(std::mem::size_of::<(crate::SmallBytes, Entry)>() <= 64);
    }
}
