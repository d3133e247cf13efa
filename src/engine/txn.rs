//! Multi-key transactions: ordered key locks held in the slots themselves.
//!
//! # Scheme
//!
//! A transaction declares its keys up front (MSET's keys, RENAME's two, EXEC's queued
//! commands' keys). It sorts them by (shard index, hash, key bytes) and, in that order, swaps each
//! key's slot for a [`Stored::Locked`] marker with one compare-and-swap, taking the previous
//! entry's value into a private staging area (a collection is moved out of its cell, which is
//! then marked dead as the slot protocol requires). With every key locked it runs its
//! operations on the staged values, then publishes each key's final entry (or removes it).
//!
//! - **Atomic and isolated.** Any other operation that meets a locked slot waits until that
//!   key is published, so nothing can observe a transaction's keys between its first lock and
//!   its last publication except through the transaction itself: it linearizes at any instant
//!   in which it holds all its keys.
//! - **Deadlock-free.** Every transaction locks in the same global order, and a single-key
//!   operation never waits for a key while holding anything (it holds at most one cell mutex,
//!   and only across non-blocking work).
//! - **Single-key operations stay lock-free.** They pay one branch on the slot's variant; the
//!   cost of isolation falls on the transactions, and only on their own keys.
//!
//! If the transaction's closure panics, `Drop` still publishes the staged values, so no key
//! stays locked.

use std::cell::RefCell;

use papaya::{Compute, Operation};
use seize::LocalGuard;

use crate::engine::access::{Access, KeyView, OwnedData, OwnedValue, ValueRef, Write};
use crate::engine::bytes::SmallBytes;
use crate::engine::clock::now_ms;
use crate::engine::db::Db;
use crate::engine::entry::{Cell, Collection, Entry, Kind, NO_DEADLINE, Stored};
use crate::engine::error::{Error, Result};
use crate::engine::shard::{Shard, entry_bytes};
use crate::sync::{Arc, Ordering};

/// A running multi-key transaction; see the module docs. Created by [`Db::transaction`].
pub struct Txn<'db> {
    db: &'db Db,
    guard: LocalGuard<'db>,
    id: u64,
    now_ms: u64,
    slots: RefCell<Vec<TxnSlot>>,
}

impl std::fmt::Debug for Txn<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Txn").field("id", &self.id).finish_non_exhaustive()
    }
}

#[derive(Debug)]
struct TxnSlot {
    shard: usize,
    /// The key's hash: with `shard` and `key`, the slot's place in the lock order.
    hash: u64,
    key: SmallBytes,
    staged: Option<Staged>,
    /// The versions republished when the transaction did not change the key (the entry's, and
    /// a collection cell's), so a read-only transaction never trips another client's WATCH.
    prev_version: u64,
    prev_cell_version: u64,
    changed: bool,
}

#[derive(Debug)]
struct Staged {
    data: OwnedData,
    deadline_ms: u64,
    access_clock: u32,
}

const UNDECLARED: Error = Error::Other("ERR key was not declared by the transaction");

impl Db {
    /// Runs `f` with `keys` locked: everything `f` does to them through the [`Txn`] is atomic
    /// and isolated from every other operation. Keep `f` short; other operations on these keys
    /// wait for it.
    ///
    /// ```
    /// use corekv::{Engine, prelude::*};
    /// let engine = Engine::builder().shards(4).build();
    /// let db = engine.db(0);
    /// db.set(b"a", b"1").unwrap();
    /// let moved = db.transaction(&[b"a", b"b"], |txn| {
    ///     let value = txn.get(b"a")?.unwrap_or_default();
    ///     txn.del(&[b"a"])?;
    ///     txn.set(b"b", &value)?;
    ///     Ok(value)
    /// });
    /// assert_eq!(moved.unwrap(), b"1");
    /// assert_eq!(db.get(b"b").unwrap().unwrap(), b"1");
    /// ```
    pub fn transaction<K: AsRef<[u8]>, R>(
        &self,
        keys: &[K],
        f: impl FnOnce(&Txn<'_>) -> Result<R>,
    ) -> Result<R> {
        let keys: Vec<&[u8]> = keys.iter().map(AsRef::as_ref).collect();
        Txn::run(self, &keys, f)
    }
}

impl<'db> Txn<'db> {
    pub(crate) fn run<R>(
        db: &'db Db,
        keys: &[&[u8]],
        f: impl FnOnce(&Txn<'_>) -> Result<R>,
    ) -> Result<R> {
        let txn = Txn::lock(db, keys);
        f(&txn)
        // `txn` is dropped here and publishes every key.
    }

    fn lock(db: &'db Db, keys: &[&[u8]]) -> Txn<'db> {
        // Relaxed: ids need uniqueness only.
        let id = db.txn_ids.fetch_add(1, Ordering::Relaxed);
        let now = now_ms();
        let guard = db.guard();
        let order = lock_order(db, keys.len(), |index| keys[index]);
        let mut slots = Vec::with_capacity(order.len());
        for LockOrder { shard: shard_index, hash, index } in order {
            let key = SmallBytes::new(keys[index]);
            let shard = &db.shards[shard_index];
            let previous = lock_slot(db, shard, &key, id, &guard);
            let (staged, prev_version, prev_cell_version) = match previous {
                None => (None, 0, 0),
                Some(entry) => {
                    let (staged, cell_version) = detach(shard, &key, entry, now);
                    (staged, entry.version(), cell_version)
                }
            };
            slots.push(TxnSlot {
                shard: shard_index,
                hash,
                key,
                staged,
                prev_version,
                prev_cell_version,
                changed: false,
            });
        }
        Txn { db, guard, id, now_ms: now, slots: RefCell::new(slots) }
    }

    fn slot_index(&self, key: &[u8]) -> Result<usize> {
        let (hash, shard) = self.db.hash_and_shard(key);
        self.slots
            .borrow()
            .binary_search_by(|slot| {
                (slot.shard, slot.hash, slot.key.as_slice()).cmp(&(shard, hash, key))
            })
            .map_err(|_| UNDECLARED)
    }

    /// Moves the key's value out of the keyspace (the key is deleted when the transaction
    /// publishes). `Ok(None)` when the key is missing.
    pub fn take(&self, key: &[u8]) -> Result<Option<OwnedValue>> {
        let index = self.slot_index(key)?;
        let mut slots = self.slots.borrow_mut();
        let slot = &mut slots[index];
        let Some(staged) = slot.staged.take() else { return Ok(None) };
        slot.changed = true;
        Ok(Some(OwnedValue { data: staged.data, deadline_ms: staged.deadline_ms }))
    }

    /// A copy of the key's value. `Ok(None)` when the key is missing.
    pub fn copy_value(&self, key: &[u8]) -> Result<Option<OwnedValue>> {
        let index = self.slot_index(key)?;
        let slots = self.slots.borrow();
        Ok(slots[index].staged.as_ref().map(|staged| OwnedValue {
            data: staged.data.clone(),
            deadline_ms: staged.deadline_ms,
        }))
    }

    /// Calls `f` with the collections at `keys` (`None` for a missing key), all at once, for
    /// multi-key reads such as SINTER or ZUNIONSTORE. `Err(WrongType)` when a key holds a type
    /// not in `kinds`.
    pub fn read_collections<R>(
        &self,
        keys: &[&[u8]],
        kinds: &[Kind],
        f: impl FnOnce(&[Option<&Collection>]) -> R,
    ) -> Result<R> {
        let indexes = keys.iter().map(|key| self.slot_index(key)).collect::<Result<Vec<_>>>()?;
        let slots = self.slots.borrow();
        let mut collections = Vec::with_capacity(keys.len());
        for index in indexes {
            match slots[index].staged.as_ref().map(|staged| &staged.data) {
                None => collections.push(None),
                Some(OwnedData::Collection(data)) if kinds.contains(&data.kind()) => {
                    collections.push(Some(data))
                }
                Some(_) => return Err(Error::WrongType),
            }
        }
        Ok(f(&collections))
    }

    /// The database the transaction runs on.
    pub fn db(&self) -> &'db Db {
        self.db
    }

    /// The [`Db::watch_version`] the key had when the transaction locked it (`None`: missing or
    /// expired), which nothing else can have changed since: EXEC compares WATCH's versions with
    /// these before running anything. Only meaningful before the transaction changes the key.
    pub fn locked_version(&self, key: &[u8]) -> Result<Option<(u64, u64)>> {
        let index = self.slot_index(key)?;
        let slots = self.slots.borrow();
        let slot = &slots[index];
        Ok(slot.staged.is_some().then_some((slot.prev_version, slot.prev_cell_version)))
    }

    /// Stores `value` at `key`, replacing whatever it held. An empty collection deletes it.
    pub fn put(&self, key: &[u8], value: OwnedValue) -> Result<()> {
        let index = self.slot_index(key)?;
        let mut slots = self.slots.borrow_mut();
        let slot = &mut slots[index];
        let empty = matches!(&value.data, OwnedData::Collection(data) if data.is_empty());
        let previous = slot.staged.as_ref().map(|staged| staged.access_clock);
        let access_clock = self.db.access_bits_for_write(previous);
        slot.staged = (!empty).then(|| Staged {
            data: value.data,
            deadline_ms: value.deadline_ms,
            access_clock,
        });
        slot.changed = true;
        Ok(())
    }

    fn publish(&mut self) {
        let slots = std::mem::take(self.slots.get_mut());
        for slot in slots {
            let shard = &self.db.shards[slot.shard];
            let new = slot.staged.map(|staged| {
                let version = if slot.changed { shard.next_version() } else { slot.prev_version };
                let value = match staged.data {
                    OwnedData::Str(value) => Stored::Str(value),
                    OwnedData::Collection(data) => {
                        let cell_version = slot.prev_cell_version + u64::from(slot.changed);
                        let cell = Cell::new(data, cell_version);
                        shard.account(cell.state.lock().accounted_bytes as i64);
                        Stored::Collection(Arc::new(cell))
                    }
                };
                Entry::new(value, staged.deadline_ms, version, staged.access_clock)
            });
            if let Some(entry) = &new {
                shard.account(entry_bytes(&slot.key, entry));
                shard.track_deadline_change(&slot.key, NO_DEADLINE, entry.deadline_ms);
            }
            unlock_slot(shard, slot.key, self.id, new, &self.guard);
        }
        self.db.lock_waiters.notify();
    }
}

impl Drop for Txn<'_> {
    fn drop(&mut self) {
        self.publish();
    }
}

/// One key's place in the global lock order: by shard, then hash, then key bytes (compared
/// only when two hashes are equal). Every transaction locks in this order, which is what
/// makes the scheme deadlock-free; comparing hashes first keeps the sort off the key bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LockOrder {
    pub(crate) shard: usize,
    pub(crate) hash: u64,
    /// The key's position in the caller's list.
    pub(crate) index: usize,
}

/// The `count` keys `key_at(0..count)` in lock order, each once. Of keys given more than once
/// the last occurrence is kept, so a blind write (MSET) stores its last value for the key.
pub(crate) fn lock_order<'k>(
    db: &Db,
    count: usize,
    key_at: impl Fn(usize) -> &'k [u8],
) -> Vec<LockOrder> {
    let mut order: Vec<LockOrder> = (0..count)
        .map(|index| {
            let (hash, shard) = db.hash_and_shard(key_at(index));
            LockOrder { shard, hash, index }
        })
        .collect();
    let same_place = |a: &LockOrder, b: &LockOrder| (a.shard, a.hash) == (b.shard, b.hash);
    // Later occurrences of a key first, so `dedup_by` (which keeps the first) keeps the last.
    order.sort_unstable_by(|a, b| {
        (a.shard, a.hash)
            .cmp(&(b.shard, b.hash))
            .then_with(|| key_at(a.index).cmp(key_at(b.index)))
            .then(b.index.cmp(&a.index))
    });
    order.dedup_by(|later, earlier| {
        same_place(later, earlier) && key_at(later.index) == key_at(earlier.index)
    });
    order
}

/// Swaps the slot for a lock marker, waiting while another transaction holds it. Returns the
/// entry that was there.
pub(crate) fn lock_slot<'g>(
    db: &Db,
    shard: &'g Shard,
    key: &SmallBytes,
    id: u64,
    guard: &'g LocalGuard<'_>,
) -> Option<&'g Entry> {
    let mut attempt = 0;
    loop {
        let outcome = shard.map.compute(
            key.clone(),
            |current| match current {
                Some((_, entry)) if matches!(entry.value, Stored::Locked(_)) => {
                    Operation::Abort(())
                }
                _ => Operation::Insert(Entry::new(Stored::Locked(id), NO_DEADLINE, 0, 0)),
            },
            guard,
        );
        match outcome {
            Compute::Inserted(..) => return None,
            Compute::Updated { old: (_, entry), .. } => return Some(entry),
            Compute::Aborted(()) => {
                db.wait_for_unlock(shard, key, attempt, guard);
                attempt += 1;
            }
            Compute::Removed(..) => unreachable!("lock_slot never removes"),
        }
    }
}

/// Publishes `new` (`None`: removes the key) in the slot that transaction `id` locked.
pub(crate) fn unlock_slot(
    shard: &Shard,
    key: SmallBytes,
    id: u64,
    new: Option<Entry>,
    guard: &LocalGuard<'_>,
) {
    let mut new = Some(new);
    let outcome = shard.map.compute(
        key,
        |current| match current {
            // papaya calls this again only when the slot changed, which a locked slot never
            // does, so taking `new` once is enough.
            Some((_, entry)) if matches!(entry.value, Stored::Locked(held) if held == id) => {
                match new.take() {
                    Some(Some(entry)) => Operation::Insert(entry),
                    Some(None) => Operation::Remove,
                    None => Operation::Abort(()),
                }
            }
            _ => Operation::Abort(()),
        },
        guard,
    );
    debug_assert!(!matches!(outcome, Compute::Aborted(())), "a locked slot changed");
}

/// Takes a just-locked slot's previous entry into staging, accounting it out of the shard.
/// Returns the staged value (`None`: missing or expired) and a collection cell's version.
fn detach(shard: &Shard, key: &[u8], entry: &Entry, now_ms: u64) -> (Option<Staged>, u64) {
    shard.account(-entry_bytes(key, entry));
    shard.track_deadline_change(key, entry.deadline_ms, NO_DEADLINE);
    let expired = entry.is_expired(now_ms);
    let mut cell_version = 0;
    let data = match &entry.value {
        Stored::Str(value) => OwnedData::Str(value.clone()),
        Stored::Collection(cell) => {
            let mut state = cell.state.lock();
            cell_version = state.version;
            // A slot never holds a dead cell: cells are marked dead only after their slot
            // stopped pointing at them.
            debug_assert!(!state.dead);
            state.dead = true;
            shard.account(-(state.accounted_bytes as i64));
            let data = std::mem::replace(&mut state.data, Collection::empty(cell.kind));
            if data.is_empty() {
                // An operation emptied it and lost the race to delete the key to us.
                return (None, cell_version);
            }
            OwnedData::Collection(data)
        }
        Stored::Locked(_) => unreachable!("lock_slot never returns a locked entry"),
    };
    let staged = (!expired).then(|| Staged {
        data,
        deadline_ms: entry.deadline_ms,
        access_clock: entry.access_clock(),
    });
    (staged, cell_version)
}

fn view_of(staged: &Staged) -> KeyView<'_> {
    let value = match &staged.data {
        OwnedData::Str(value) => ValueRef::Str(value),
        OwnedData::Collection(data) => ValueRef::Collection(data.kind()),
    };
    KeyView { value, deadline_ms: staged.deadline_ms, access_clock: staged.access_clock }
}

impl Access for Txn<'_> {
    fn now_ms(&self) -> u64 {
        self.now_ms
    }

    fn view<R>(&self, key: &[u8], f: impl FnOnce(Option<KeyView<'_>>) -> R) -> Result<R> {
        let index = self.slot_index(key)?;
        let slots = self.slots.borrow();
        Ok(f(slots[index].staged.as_ref().map(view_of)))
    }

    fn update<R>(
        &self,
        key: &[u8],
        mut f: impl FnMut(Option<KeyView<'_>>) -> Result<(Write, R)>,
    ) -> Result<R> {
        let index = self.slot_index(key)?;
        let mut slots = self.slots.borrow_mut();
        let slot = &mut slots[index];
        let (write, result) = f(slot.staged.as_ref().map(view_of))?;
        let previous = slot.staged.as_ref().map(|staged| staged.access_clock);
        let clock = self.db.access_bits_for_write(previous);
        match write {
            Write::Keep => {}
            Write::Put { value, deadline_ms } => {
                let data = OwnedData::Str(value);
                slot.staged = Some(Staged { data, deadline_ms, access_clock: clock });
                slot.changed = true;
            }
            Write::SetDeadline(deadline_ms) => {
                let staged = slot.staged.as_mut().expect("SetDeadline needs a live key");
                staged.deadline_ms = deadline_ms;
                slot.changed = true;
            }
            Write::Delete => {
                slot.changed |= slot.staged.take().is_some();
            }
        }
        Ok(result)
    }

    fn read_collection<R>(
        &self,
        key: &[u8],
        kind: Kind,
        f: impl FnOnce(&Collection) -> R,
    ) -> Result<Option<R>> {
        let index = self.slot_index(key)?;
        let slots = self.slots.borrow();
        match slots[index].staged.as_ref().map(|staged| &staged.data) {
            None => Ok(None),
            Some(OwnedData::Collection(data)) if data.kind() == kind => Ok(Some(f(data))),
            Some(_) => Err(Error::WrongType),
        }
    }

    fn write_collection<R>(
        &self,
        key: &[u8],
        kind: Kind,
        create: bool,
        mut f: impl FnMut(&mut Collection) -> Result<R>,
    ) -> Result<Option<R>> {
        let index = self.slot_index(key)?;
        let mut slots = self.slots.borrow_mut();
        let slot = &mut slots[index];
        match slot.staged.as_mut().map(|staged| &mut staged.data) {
            Some(OwnedData::Collection(data)) if data.kind() == kind => {
                let result = f(data)?;
                slot.changed = true;
                if data.is_empty() {
                    slot.staged = None;
                }
                Ok(Some(result))
            }
            Some(_) => Err(Error::WrongType),
            None if !create => Ok(None),
            None => {
                let mut data = Collection::empty(kind);
                let result = f(&mut data)?;
                if !data.is_empty() {
                    let access_clock = self.db.access_bits_for_write(None);
                    let data = OwnedData::Collection(data);
                    slot.staged = Some(Staged { data, deadline_ms: NO_DEADLINE, access_clock });
                    slot.changed = true;
                }
                Ok(Some(result))
            }
        }
    }

    fn atomically<R>(&self, keys: &[&[u8]], f: impl FnOnce(&Txn<'_>) -> Result<R>) -> Result<R> {
        for key in keys {
            self.slot_index(key)?;
        }
        f(self)
    }
}
