//! MSET's transaction: blind writes under the key locks of `engine::txn`.
//!
//! MSET stores values that do not depend on what its keys held, so it needs less than a general
//! [`Txn`](crate::engine::Txn). It takes the same locks, in the same global order
//! (`txn::lock_order`), with the same lock markers, so it is atomic and isolated against every
//! other operation and cannot deadlock with another transaction: it linearizes at any instant
//! in which it holds all its keys, between its last lock and its first publication. What it
//! leaves out, each measured on MSETs of 1,000 keys (`results/mset.md`):
//!
//! - **No staging of the previous values.** Nothing reads them, so the lock phase only
//!   accounts a previous entry out (and marks a collection's cell dead, as the slot protocol
//!   requires of whoever detaches it); a general transaction copied every previous string
//!   into staging, an allocation and a copy per key, to throw it away.
//! - **Work done before the first lock.** The keys are sorted and the new values built before
//!   any key is locked, so each key is held only from its lock's compare-and-swap to its
//!   publication's; no binary search per key finds its staged slot.
//! - **Counters once per shard.** Keys are locked in shard order, so the bytes accounted and
//!   the versions taken are summed per shard and written once for each shard's run of keys:
//!   those counters share a cache line with every other writer of the shard.

use seize::LocalGuard;

use crate::engine::bytes::SmallBytes;
use crate::engine::clock::LazyNow;
use crate::engine::db::Db;
use crate::engine::entry::{Entry, NO_DEADLINE, Stored, StrValue};
use crate::engine::shard::entry_bytes;
use crate::engine::txn::{LockOrder, lock_order, lock_slot, unlock_slot};
use crate::sync::Ordering;

/// Stores every `(key, value)` pair as a string without a TTL, atomically and isolated from
/// every other operation (MSET). Of a key given more than once the last value is stored.
pub(crate) fn set_strings(db: &Db, pairs: &[(&[u8], &[u8])]) {
    // Everything that needs no lock first: the order, the keys and the values to publish.
    let order = lock_order(db, pairs.len(), |index| pairs[index].0);
    let slots = order
        .into_iter()
        .map(|LockOrder { shard, index, .. }| {
            let (key, value) = pairs[index];
            BlindSlot {
                shard,
                key: SmallBytes::new(key),
                value: Some(StrValue::Raw(SmallBytes::new(value))),
                previous_access: None,
                previous_bytes: 0,
            }
        })
        .collect();
    // Relaxed: ids need uniqueness only.
    let id = db.txn_ids.fetch_add(1, Ordering::Relaxed);
    let mut txn = BlindTxn { db, guard: db.guard(), id, slots, locked: 0 };
    txn.lock_all();
    // Dropping `txn` publishes every key.
}

#[derive(Debug)]
struct BlindSlot {
    shard: usize,
    key: SmallBytes,
    /// The value to publish (taken when it is).
    value: Option<StrValue>,
    /// The access bits of the live entry the lock replaced, carried over under an LFU policy
    /// as any write carries them (`Db::access_bits_for_write`).
    previous_access: Option<u32>,
    /// Bytes the replaced entry accounted for (with a collection's cell), to subtract from its
    /// shard at publication.
    previous_bytes: i64,
}

/// The locks a blind write holds; dropping it publishes every locked key, so no key stays
/// locked even if locking panics half-way.
struct BlindTxn<'db> {
    db: &'db Db,
    guard: LocalGuard<'db>,
    id: u64,
    /// In lock order.
    slots: Vec<BlindSlot>,
    /// `slots[..locked]` are locked.
    locked: usize,
}

impl BlindTxn<'_> {
    fn lock_all(&mut self) {
        let now = LazyNow::new();
        while self.locked < self.slots.len() {
            let slot = &mut self.slots[self.locked];
            let shard = &self.db.shards[slot.shard];
            if let Some(entry) = lock_slot(self.db, shard, &slot.key, self.id, &self.guard) {
                slot.previous_bytes = entry_bytes(&slot.key, entry);
                shard.track_deadline_change(&slot.key, entry.deadline_ms, NO_DEADLINE);
                if let Stored::Collection(cell) = &entry.value {
                    // The slot protocol: whoever detaches a cell marks it dead under its mutex,
                    // so an operation that loaded it before our lock starts again and then
                    // waits for our publication. Its contents go with the cell.
                    let mut state = cell.state.lock();
                    debug_assert!(!state.dead, "a slot never holds a dead cell");
                    state.dead = true;
                    slot.previous_bytes += state.accounted_bytes as i64;
                }
                if !entry.is_expired_lazy(&now) {
                    slot.previous_access = Some(entry.access_clock());
                }
            }
            self.locked += 1;
        }
    }

    /// Publishes `slots[..locked]`, one shard's run of keys at a time.
    fn publish(&mut self) {
        let mut slots = std::mem::take(&mut self.slots);
        slots.truncate(self.locked);
        let mut start = 0;
        while start < slots.len() {
            let shard_index = slots[start].shard;
            let run = slots[start..].iter().take_while(|slot| slot.shard == shard_index).count();
            let shard = &self.db.shards[shard_index];
            let versions = shard.next_versions(run as u64)..;
            let mut bytes = 0;
            for (version, slot) in versions.zip(&mut slots[start..start + run]) {
                let value = slot.value.take().expect("each slot is published once");
                let access = self.db.access_bits_for_write(slot.previous_access);
                let entry = Entry::new(Stored::Str(value), NO_DEADLINE, version, access);
                bytes += entry_bytes(&slot.key, &entry) - slot.previous_bytes;
                let key = std::mem::take(&mut slot.key);
                unlock_slot(shard, key, self.id, Some(entry), &self.guard);
            }
            shard.account(bytes);
            // Wake waiters for this run's keys now rather than after the last shard's.
            self.db.lock_waiters.notify();
            start += run;
        }
    }
}

impl Drop for BlindTxn<'_> {
    fn drop(&mut self) {
        self.publish();
    }
}
