//! [`Db`]: one logical database (Redis's `SELECT n`), a power-of-two number of shards, and the
//! lock-free single-key drivers of the slot protocol (see `engine::entry` for the protocol).

use std::hash::BuildHasher;
use std::ptr;

use crossbeam_utils::CachePadded;
use papaya::{Compute, Operation};
use seize::{Collector, LocalGuard};

use crate::engine::access::{Access, KeyView, ValueRef, Write};
use crate::engine::bytes::SmallBytes;
use crate::engine::clock::{LazyNow, now_ms};
use crate::engine::entry::{Cell, CellState, Collection, Entry, Kind, NO_DEADLINE, Stored};
use crate::engine::error::{Error, Result};
use crate::engine::evict::{AccessMode, MemoryState};
use crate::engine::lock_wait::LockWaiters;
use crate::engine::shard::{HashState, Shard, entry_bytes};
use crate::engine::txn::Txn;
use crate::sync::{Arc, AtomicU64, spin_wait};

/// Bit offset of the shard index within a key's hash. papaya uses the low bits (table index)
/// and the top 7 bits (tag byte) of the same hash; bits 40..57 are free unless a shard's table
/// passes 2^40 slots, so the shard choice skews neither.
const SHARD_HASH_SHIFT: u32 = 40;

// The widest shard index must stay below papaya's tag bits.
const _: () = assert!(super::MAX_SHARDS.trailing_zeros() + SHARD_HASH_SHIFT <= 57);

/// What every database of an engine shares for transactions' key locks.
pub(crate) struct TxnLocks {
    pub(crate) ids: std::sync::Arc<AtomicU64>,
    pub(crate) waiters: std::sync::Arc<LockWaiters>,
}

/// One logical database.
pub struct Db {
    pub(crate) shards: Box<[CachePadded<Shard>]>,
    shard_mask: usize,
    hasher: HashState,
    pub(crate) collector: std::sync::Arc<Collector>,
    /// Engine-wide source of transaction ids (a key lock names its holder).
    pub(crate) txn_ids: std::sync::Arc<AtomicU64>,
    /// Engine-wide: where operations that meet a locked key wait for its publication.
    pub(crate) lock_waiters: std::sync::Arc<LockWaiters>,
    /// Whether accesses update an LFU counter or the LRU clock: read on every access, so it
    /// sits here, beside fields every operation loads anyway.
    pub(crate) access_mode: AccessMode,
    /// The engine's memory limit and groups (`engine::evict`).
    pub(crate) memory: std::sync::Arc<MemoryState>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("shards", &self.shards.len()).finish_non_exhaustive()
    }
}

impl Db {
    pub(crate) fn new(
        shard_count: usize,
        hasher: HashState,
        collector: std::sync::Arc<Collector>,
        locks: TxnLocks,
        memory: std::sync::Arc<MemoryState>,
    ) -> Db {
        assert!(shard_count.is_power_of_two(), "shard count must be a power of two");
        let shards = (0..shard_count).map(|index| {
            CachePadded::new(Shard::new(hasher.clone(), &collector, memory.group(index)))
        });
        Db {
            shards: shards.collect(),
            shard_mask: shard_count - 1,
            hasher,
            collector,
            txn_ids: locks.ids,
            lock_waiters: locks.waiters,
            access_mode: AccessMode::default(),
            memory,
        }
    }

    /// The index of the shard that owns `key`.
    #[inline]
    pub(crate) fn shard_index(&self, key: &[u8]) -> usize {
        self.hash_and_shard(key).1
    }

    /// `key`'s hash and the index of the shard that owns it.
    #[inline]
    pub(crate) fn hash_and_shard(&self, key: &[u8]) -> (u64, usize) {
        let hash = self.hasher.hash_one(key);
        (hash, (hash >> SHARD_HASH_SHIFT) as usize & self.shard_mask)
    }

    #[inline]
    pub(crate) fn shard_of(&self, key: &[u8]) -> &Shard {
        &self.shards[self.shard_index(key)]
    }

    /// Pins the current thread for the duration of one operation.
    #[inline]
    pub(crate) fn guard(&self) -> LocalGuard<'_> {
        self.collector.enter()
    }

    /// Loads a key's entry, waiting while a transaction holds it.
    #[inline]
    pub(crate) fn load<'g>(
        &self,
        shard: &'g Shard,
        key: &[u8],
        guard: &'g LocalGuard<'_>,
    ) -> Option<&'g Entry> {
        let mut attempt = 0;
        loop {
            match shard.map.get(key, guard) {
                Some(entry) if matches!(entry.value, Stored::Locked(_)) => {
                    self.wait_for_unlock(shard, key, attempt, guard);
                    attempt += 1;
                }
                found => return found,
            }
        }
    }

    /// One round of waiting (`attempt` counts them) for a transaction to publish `key`.
    #[inline]
    pub(crate) fn wait_for_unlock(
        &self,
        shard: &Shard,
        key: &[u8],
        attempt: u32,
        guard: &LocalGuard<'_>,
    ) {
        let locked = |entry: &Entry| matches!(entry.value, Stored::Locked(_));
        self.lock_waiters.wait(attempt, || shard.map.get(key, guard).is_some_and(locked));
    }

    /// Replaces the slot's `expected` occupant (`None`: the key is absent) by `new` (`None`:
    /// remove), if the slot still holds exactly `expected`. Detaches a collection cell under
    /// its mutex as the slot protocol requires, and keeps `used_memory` and the expiry index
    /// in step. Returns false when the slot changed meanwhile (the caller starts again).
    pub(crate) fn replace_slot(
        &self,
        shard: &Shard,
        key: &[u8],
        expected: Option<&Entry>,
        new: Option<Entry>,
        guard: &LocalGuard<'_>,
    ) -> bool {
        let old_bytes = expected.map_or(0, |entry| entry_bytes(key, entry));
        let new_bytes = new.as_ref().map_or(0, |entry| entry_bytes(key, entry));
        let old_deadline = expected.map_or(NO_DEADLINE, |entry| entry.deadline_ms);
        let new_deadline = new.as_ref().map_or(NO_DEADLINE, |entry| entry.deadline_ms);
        let detached_cell = match (expected.map(|entry| &entry.value), new.as_ref()) {
            (
                Some(Stored::Collection(old)),
                Some(Entry { value: Stored::Collection(kept), .. }),
            ) if Arc::ptr_eq(old, kept) => None,
            (Some(Stored::Collection(old)), _) => Some(old),
            _ => None,
        };
        match detached_cell {
            Some(cell) => {
                let mut state = cell.state.lock();
                if state.dead || !compare_and_swap(shard, key, expected, new, guard) {
                    return false;
                }
                state.dead = true;
                shard.account(-(state.accounted_bytes as i64));
            }
            None => {
                if !compare_and_swap(shard, key, expected, new, guard) {
                    return false;
                }
            }
        }
        shard.account(new_bytes - old_bytes);
        shard.track_deadline_change(key, old_deadline, new_deadline);
        true
    }

    /// Removes an expired entry (best effort: losing a race means someone else changed it).
    pub(crate) fn expire_entry(
        &self,
        shard: &Shard,
        key: &[u8],
        entry: &Entry,
        guard: &LocalGuard<'_>,
    ) -> bool {
        let removed = self.replace_slot(shard, key, Some(entry), None, guard);
        if removed {
            shard.count_expired();
        }
        removed
    }

    pub(crate) fn view_of<'g>(entry: &'g Entry) -> KeyView<'g> {
        let value = match &entry.value {
            Stored::Str(value) => ValueRef::Str(value),
            Stored::Collection(cell) => ValueRef::Collection(cell.kind),
            Stored::Locked(_) => unreachable!("`load` never returns a locked entry"),
        };
        KeyView { value, deadline_ms: entry.deadline_ms, access_clock: entry.access_clock() }
    }

    /// Builds the entry an `update` publishes, or `None` for a delete.
    fn entry_for_write(
        &self,
        shard: &Shard,
        current: Option<&Entry>,
        write: Write,
    ) -> Option<Entry> {
        let clock = self.access_bits_for_write(current.map(Entry::access_clock));
        match write {
            Write::Keep => unreachable!("handled by the caller"),
            Write::Put { value, deadline_ms } => {
                Some(Entry::new(Stored::Str(value), deadline_ms, shard.next_version(), clock))
            }
            Write::SetDeadline(deadline_ms) => {
                let current = current.expect("SetDeadline needs a live key");
                let value = match &current.value {
                    Stored::Str(value) => Stored::Str(value.clone()),
                    Stored::Collection(cell) => Stored::Collection(cell.clone()),
                    Stored::Locked(_) => unreachable!("`load` never returns a locked entry"),
                };
                Some(Entry::new(value, deadline_ms, shard.next_version(), clock))
            }
            Write::Delete => None,
        }
    }

    /// The version WATCH records and EXEC compares: the entry's version and, for a collection,
    /// its cell's (bumped by every in-place change). `None` for a missing or expired key. Any
    /// write to the key changes it.
    pub fn watch_version(&self, key: &[u8]) -> Option<(u64, u64)> {
        let shard = self.shard_of(key);
        let guard = self.guard();
        let entry = self.load(shard, key, &guard)?;
        if entry.is_expired(now_ms()) {
            return None;
        }
        let cell_version = match &entry.value {
            Stored::Collection(cell) => cell.state.lock().version,
            _ => 0,
        };
        Some((entry.version(), cell_version))
    }
}

/// Publishes `new` in `key`'s slot if the slot holds exactly `expected` (pointer identity of
/// the entry, which the epoch guard keeps from being reused while we look at it).
pub(crate) fn compare_and_swap(
    shard: &Shard,
    key: &[u8],
    expected: Option<&Entry>,
    new: Option<Entry>,
    guard: &LocalGuard<'_>,
) -> bool {
    if expected.is_none() && new.is_none() {
        return true;
    }
    let mut new = Some(new);
    let outcome = shard.map.compute(
        SmallBytes::new(key),
        |current| {
            let same = match (current, expected) {
                (Some((_, found)), Some(expected)) => ptr::eq(found, expected),
                (None, None) => true,
                _ => false,
            };
            // papaya re-runs this closure only when the slot's entry changed (it caches our
            // answer for the same entry), and then `same` is false, so taking `new` once is
            // enough.
            match (same, new.take()) {
                (true, Some(Some(entry))) => Operation::Insert(entry),
                (true, Some(None)) => Operation::Remove,
                _ => Operation::Abort(()),
            }
        },
        guard,
    );
    !matches!(outcome, Compute::Aborted(()))
}

impl Access for Db {
    fn now_ms(&self) -> u64 {
        now_ms()
    }

    fn view<R>(&self, key: &[u8], f: impl FnOnce(Option<KeyView<'_>>) -> R) -> Result<R> {
        let shard = self.shard_of(key);
        let guard = self.guard();
        let Some(entry) = self.load(shard, key, &guard) else {
            self.record_miss(key);
            return Ok(f(None));
        };
        if entry.is_expired_lazy(&LazyNow::new()) {
            self.expire_entry(shard, key, entry, &guard);
            self.record_miss(key);
            return Ok(f(None));
        }
        self.touch(key, entry);
        Ok(f(Some(Self::view_of(entry))))
    }

    fn update<R>(
        &self,
        key: &[u8],
        mut f: impl FnMut(Option<KeyView<'_>>) -> Result<(Write, R)>,
    ) -> Result<R> {
        let shard = self.shard_of(key);
        let guard = self.guard();
        let now = LazyNow::new();
        match self.update_in_place(shard, key, &mut f, &now, &guard) {
            Some(result) => result,
            None => self.update_detaching(shard, key, f, &now, &guard),
        }
    }

    fn read_collection<R>(
        &self,
        key: &[u8],
        kind: Kind,
        f: impl FnOnce(&Collection) -> R,
    ) -> Result<Option<R>> {
        let shard = self.shard_of(key);
        let guard = self.guard();
        let now = LazyNow::new();
        let mut attempt = 0;
        loop {
            let Some(entry) = self.load(shard, key, &guard) else { return Ok(None) };
            if entry.is_expired_lazy(&now) {
                self.expire_entry(shard, key, entry, &guard);
                return Ok(None);
            }
            let cell = match &entry.value {
                Stored::Collection(cell) if cell.kind == kind => cell,
                _ => return Err(Error::WrongType),
            };
            let state = cell.state.lock();
            if state.dead {
                drop(state);
                spin_wait(attempt);
                attempt += 1;
                continue;
            }
            self.touch(key, entry);
            return Ok(Some(f(&state.data)));
        }
    }

    fn write_collection<R>(
        &self,
        key: &[u8],
        kind: Kind,
        create: bool,
        mut f: impl FnMut(&mut Collection) -> Result<R>,
    ) -> Result<Option<R>> {
        let shard = self.shard_of(key);
        let guard = self.guard();
        let now = LazyNow::new();
        let mut attempt = 0;
        loop {
            let current = self.load(shard, key, &guard);
            let live = current.filter(|entry| !entry.is_expired_lazy(&now));
            let Some(entry) = live else {
                if !create {
                    if let Some(expired) = current {
                        self.expire_entry(shard, key, expired, &guard);
                    }
                    return Ok(None);
                }
                let mut data = Collection::empty(kind);
                let result = f(&mut data)?;
                if data.is_empty() {
                    return Ok(Some(result));
                }
                let cell = Arc::new(Cell::new(data, 0));
                let cell_bytes = cell.state.lock().accounted_bytes as i64;
                let version = shard.next_version();
                let access = self.access_bits_for_write(None);
                let entry = Entry::new(Stored::Collection(cell), NO_DEADLINE, version, access);
                if self.replace_slot(shard, key, current, Some(entry), &guard) {
                    shard.account(cell_bytes);
                    return Ok(Some(result));
                }
                continue;
            };
            let cell = match &entry.value {
                Stored::Collection(cell) if cell.kind == kind => cell,
                _ => return Err(Error::WrongType),
            };
            let mut state = cell.state.lock();
            if state.dead {
                drop(state);
                spin_wait(attempt);
                attempt += 1;
                continue;
            }
            let result = f(&mut state.data)?;
            state.version += 1;
            shard.account(state.remeasure());
            if state.data.is_empty() {
                self.remove_emptied(shard, key, cell, &mut state, &guard);
            }
            self.touch(key, entry);
            return Ok(Some(result));
        }
    }

    fn atomically<R>(&self, keys: &[&[u8]], f: impl FnOnce(&Txn<'_>) -> Result<R>) -> Result<R> {
        Txn::run(self, keys, f)
    }

    fn set_strings(&self, pairs: &[(&[u8], &[u8])]) -> Result<()> {
        crate::engine::blind_txn::set_strings(self, pairs);
        Ok(())
    }
}

impl Db {
    /// `update`'s fast path, for a missing key or a string: the closure decides inside the
    /// map's own compare-and-swap, so a write probes the table once. Returns `None` when the
    /// key holds a collection, whose replacement needs the detach protocol of
    /// `update_detaching`.
    fn update_in_place<R>(
        &self,
        shard: &Shard,
        key: &[u8],
        f: &mut impl FnMut(Option<KeyView<'_>>) -> Result<(Write, R)>,
        now: &LazyNow,
        guard: &LocalGuard<'_>,
    ) -> Option<Result<R>> {
        enum Stop<R> {
            Keep(R),
            Failed(Error),
            Locked,
            Collection,
        }
        let mut attempt = 0;
        loop {
            // papaya may call the closure several times and then publish an operation it kept
            // from an earlier call without calling it again: the insert computed for an absent
            // key, or the update computed for an entry it finds unchanged. So the reply is kept
            // per kind of input, and the outcome picks the one its operation came from (an
            // INCR racing a SET and a DEL once stored 1 and replied SET+1).
            let mut published_if_absent = None;
            let mut published_if_present = None;
            let mut expired = None;
            let outcome = shard.map.compute(
                SmallBytes::new(key),
                |current| {
                    let entry = current.map(|(_, entry)| entry);
                    let published = match entry {
                        None => &mut published_if_absent,
                        Some(_) => &mut published_if_present,
                    };
                    match entry.map(|entry| &entry.value) {
                        Some(Stored::Locked(_)) => return Operation::Abort(Stop::Locked),
                        Some(Stored::Collection(_)) => return Operation::Abort(Stop::Collection),
                        _ => {}
                    }
                    let live = entry.filter(|entry| !entry.is_expired_lazy(now));
                    expired = entry.filter(|_| live.is_none());
                    match f(live.map(Self::view_of)) {
                        Err(error) => Operation::Abort(Stop::Failed(error)),
                        Ok((Write::Keep, result)) => Operation::Abort(Stop::Keep(result)),
                        Ok((Write::Delete, result)) if entry.is_none() => {
                            Operation::Abort(Stop::Keep(result))
                        }
                        Ok((Write::Delete, result)) => {
                            *published = Some(result);
                            Operation::Remove
                        }
                        Ok((write, result)) => {
                            *published = Some(result);
                            let new = self.entry_for_write(shard, live, write);
                            Operation::Insert(new.expect("only Delete publishes no entry"))
                        }
                    }
                },
                guard,
            );
            let (old, new) = match outcome {
                Compute::Aborted(Stop::Keep(result)) => {
                    if let Some(expired) = expired {
                        self.expire_entry(shard, key, expired, guard);
                    }
                    return Some(Ok(result));
                }
                Compute::Aborted(Stop::Failed(error)) => return Some(Err(error)),
                Compute::Aborted(Stop::Collection) => return None,
                Compute::Aborted(Stop::Locked) => {
                    self.wait_for_unlock(shard, key, attempt, guard);
                    attempt += 1;
                    continue;
                }
                Compute::Inserted(_, new) => (None, Some(new)),
                Compute::Updated { old: (_, old), new: (_, new) } => (Some(old), Some(new)),
                Compute::Removed(_, old) => (Some(old), None),
            };
            let published = if old.is_none() { published_if_absent } else { published_if_present };
            let bytes = |entry: Option<&Entry>| entry.map_or(0, |entry| entry_bytes(key, entry));
            let deadline = |entry: Option<&Entry>| entry.map_or(NO_DEADLINE, |e| e.deadline_ms);
            shard.account(bytes(new) - bytes(old));
            shard.track_deadline_change(key, deadline(old), deadline(new));
            return Some(Ok(published.expect("set with every publishing operation")));
        }
    }

    /// `update`'s general path: decide on a loaded entry, then publish with `replace_slot`,
    /// which detaches a collection cell under its mutex.
    fn update_detaching<R>(
        &self,
        shard: &Shard,
        key: &[u8],
        mut f: impl FnMut(Option<KeyView<'_>>) -> Result<(Write, R)>,
        now: &LazyNow,
        guard: &LocalGuard<'_>,
    ) -> Result<R> {
        loop {
            let current = self.load(shard, key, guard);
            let live = current.filter(|entry| !entry.is_expired_lazy(now));
            let (write, result) = f(live.map(Self::view_of))?;
            if write == Write::Keep {
                if let Some(expired) = current.filter(|entry| entry.is_expired_lazy(now)) {
                    self.expire_entry(shard, key, expired, guard);
                }
                return Ok(result);
            }
            if write == Write::Delete && current.is_none() {
                return Ok(result);
            }
            let new = self.entry_for_write(shard, live, write);
            if self.replace_slot(shard, key, current, new, guard) {
                return Ok(result);
            }
        }
    }

    /// Deletes the key of a collection that an operation just emptied. Runs with the cell's
    /// mutex held (`dead` is its flag), so no one else can detach or fill the cell meanwhile.
    fn remove_emptied(
        &self,
        shard: &Shard,
        key: &[u8],
        cell: &Arc<Cell>,
        state: &mut CellState,
        guard: &LocalGuard<'_>,
    ) {
        loop {
            let Some(current) = shard.map.get(key, guard) else { return };
            match &current.value {
                // A TTL change may have republished the same cell in a new entry.
                Stored::Collection(found) if Arc::ptr_eq(found, cell) => {
                    if compare_and_swap(shard, key, Some(current), None, guard) {
                        state.dead = true;
                        let cell_bytes = state.accounted_bytes as i64;
                        shard.account(-cell_bytes - entry_bytes(key, current));
                        shard.track_deadline_change(key, current.deadline_ms, NO_DEADLINE);
                        return;
                    }
                }
                // A transaction took the key: it sees the empty collection and deletes the
                // key itself.
                _ => return,
            }
        }
    }
}
