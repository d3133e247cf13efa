//! One shard of a database: a lock-free hash map of entries plus the shard's counters and its
//! expiry index.
//!
//! # Why papaya
//!
//! Each shard's map is a `papaya::HashMap`: lock-free reads and writes, a compare-and-swap per
//! update (which is exactly the slot protocol `engine::entry` needs: a `compute` whose closure
//! sees the current entry and publishes a new one or aborts), memory reclaimed by epochs
//! (`seize`).
//!
//! Shards use papaya's *blocking* resize. With its default incremental mode, a shard left
//! mid-resize after a load (the copy only advances on writes) sends every later read through
//! both tables: measured on 1M keys, GET took 3.5x and SET 5x longer than with blocking mode
//! (`results/engine-bench.md`). A blocking resize copies one shard's table at once, which is
//! 1/S of the keyspace, while the other shards keep serving. flurry, the map the owner first named, now points its users to papaya, and is
//! slower in papaya's published benchmarks. dashmap and scc were measured against papaya in
//! `benches/engine.rs` (results in `results/`): see `docs/ARCHITECTURE.md` for the decision and
//! the figures.
//!
//! All shards of all databases share one `seize::Collector`, so one guard pinned per command
//! protects entries in every shard that command touches.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crossbeam_queue::SegQueue;
use crossbeam_utils::CachePadded;

use crate::engine::bytes::SmallBytes;
use crate::engine::entry::{Entry, NO_DEADLINE, Stored};
use crate::engine::evict::MemoryGroup;
use crate::sync::{AtomicI64, Mutex, Ordering};

/// The hasher of every shard map: foldhash, seeded per engine so an attacker cannot predict
/// collisions across processes.
pub(crate) type HashState = foldhash::fast::FixedState;

/// Bytes a key costs beyond its key and value heap bytes: the map's entry allocation (key and
/// `Entry` side by side), and the table slot (an 8-byte pointer and a 1-byte tag, at papaya's
/// load factor of at most one half: 18 bytes).
pub(crate) const ENTRY_OVERHEAD_BYTES: usize =
    std::mem::size_of::<SmallBytes>() + std::mem::size_of::<Entry>() + 18;

/// Bytes an entry of the expiry index costs beyond the key's heap bytes.
pub(crate) const EXPIRY_ITEM_BYTES: usize = std::mem::size_of::<(u64, SmallBytes)>();

/// Most expiry records moved from the lock-free queue into the heap in one tick.
pub(crate) const EXPIRY_DRAIN_PER_TICK: usize = 4096;

#[cfg(not(corekv_loom))]
pub(crate) type ShardMap = papaya::HashMap<SmallBytes, Entry, HashState>;
#[cfg(corekv_loom)]
pub(crate) type ShardMap = crate::engine::loom_map::HashMap<SmallBytes, Entry>;

#[cfg(not(corekv_loom))]
fn new_shard_map(hasher: HashState, collector: &std::sync::Arc<seize::Collector>) -> ShardMap {
    papaya::HashMap::builder()
        .hasher(hasher)
        .shared_collector(collector.clone())
        .resize_mode(papaya::ResizeMode::Blocking)
        .build()
}

#[cfg(corekv_loom)]
fn new_shard_map(_hasher: HashState, _collector: &std::sync::Arc<seize::Collector>) -> ShardMap {
    ShardMap::new()
}

#[derive(Debug)]
pub(crate) struct Shard {
    pub(crate) map: ShardMap,
    /// The counters every write updates (bytes held, the version sequence), shared by this
    /// shard index in every database (`engine::evict::MemoryGroup`): on their own cache line,
    /// as next to the map's header (which every read loads) they would make each write
    /// invalidate readers' cached copy of it; per shard index, so no write touches a global
    /// atomic, and the unit `maxmemory` is enforced on.
    memory: std::sync::Arc<CachePadded<MemoryGroup>>,
    /// Keys given a deadline, handed from any writer to the shard's owning core without a
    /// lock (the queue) and kept in deadline order by the owner (the heap).
    expiry_queue: SegQueue<(u64, SmallBytes)>,
    expiry_heap: Mutex<BinaryHeap<Reverse<(u64, SmallBytes)>>>,
    /// Records in the queue and heap, for the compaction bound in `compact_expiry`.
    expiry_records: AtomicI64,
    /// Keys in this shard with a deadline (maintained approximately; INFO keyspace `expires`).
    pub(crate) volatile_keys: AtomicI64,
}

impl Shard {
    pub(crate) fn new(
        hasher: HashState,
        collector: &std::sync::Arc<seize::Collector>,
        memory: std::sync::Arc<CachePadded<MemoryGroup>>,
    ) -> Shard {
        Shard {
            map: new_shard_map(hasher, collector),
            memory,
            expiry_queue: SegQueue::new(),
            expiry_heap: Mutex::new(BinaryHeap::new()),
            expiry_records: AtomicI64::new(0),
            volatile_keys: AtomicI64::new(0),
        }
    }

    /// A fresh entry version, unique within this shard (the sequence is its group's).
    #[inline]
    pub(crate) fn next_version(&self) -> u64 {
        self.memory.next_version()
    }

    /// The first of `count` fresh versions, unique within this shard (see `next_version`).
    #[inline]
    pub(crate) fn next_versions(&self, count: u64) -> u64 {
        self.memory.next_versions(count)
    }

    /// Adds `delta` bytes to this shard's `used_memory` (its group's, see `memory`).
    #[inline]
    pub(crate) fn account(&self, delta: i64) {
        if delta != 0 {
            self.memory.account(delta);
        }
    }

    /// Counts one key removed at its deadline (INFO `expired_keys`).
    pub(crate) fn count_expired(&self) {
        self.memory.count_expired();
    }

    /// Tracks the change in volatile keys when `old` is replaced by `new`.
    pub(crate) fn track_deadline_change(&self, key: &[u8], old: u64, new: u64) {
        let delta = i64::from(new != NO_DEADLINE) - i64::from(old != NO_DEADLINE);
        if delta != 0 {
            // Relaxed: a statistic.
            self.volatile_keys.fetch_add(delta, Ordering::Relaxed);
        }
        if new != NO_DEADLINE && new != old {
            let key = SmallBytes::new(key);
            self.account((EXPIRY_ITEM_BYTES + key.heap_bytes()) as i64);
            self.expiry_queue.push((new, key));
            // Relaxed: a statistic and a compaction trigger.
            self.expiry_records.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Pops up to `budget` expiry records whose deadline is at or before `now_ms`, for the
    /// owner to check against the map. Only the shard's owning core calls this.
    pub(crate) fn due_expiries(&self, now_ms: u64, budget: usize) -> Vec<(u64, SmallBytes)> {
        let mut heap = self.expiry_heap.lock();
        self.drain_expiry_queue(&mut heap);
        let mut due = Vec::new();
        while due.len() < budget {
            match heap.peek() {
                Some(Reverse((deadline, _))) if *deadline <= now_ms => {
                    let Some(Reverse(record)) = heap.pop() else { break };
                    self.forget_expiry_record(&record.1);
                    due.push(record);
                }
                _ => break,
            }
        }
        due
    }

    fn forget_expiry_record(&self, key: &SmallBytes) {
        // Relaxed: statistics.
        self.expiry_records.fetch_sub(1, Ordering::Relaxed);
        self.account(-((EXPIRY_ITEM_BYTES + key.heap_bytes()) as i64));
    }

    /// Drops expiry records that no longer match their key's deadline once they outnumber
    /// volatile keys by more than 2x (a key whose TTL is reset often leaves one stale record
    /// per reset). Amortised O(1) per record; owner only.
    pub(crate) fn compact_expiry(&self, guard: &impl seize::Guard) {
        // Relaxed: statistics; a stale read only delays compaction by a tick.
        let records = self.expiry_records.load(Ordering::Relaxed);
        let volatile = self.volatile_keys.load(Ordering::Relaxed).max(0);
        if records <= 2 * volatile + 1024 {
            return;
        }
        self.compact_expiry_now(guard);
    }

    /// Drops every stale expiry record now: eviction's sample of volatile keys found only
    /// stale ones. O(records), paid for by the deletes that made them stale.
    pub(crate) fn compact_expiry_now(&self, guard: &impl seize::Guard) {
        let mut heap = self.expiry_heap.lock();
        while let Some(record) = self.expiry_queue.pop() {
            heap.push(Reverse(record));
        }
        let records = std::mem::take(&mut *heap).into_vec();
        let mut kept = Vec::with_capacity(records.len() / 2);
        for Reverse((deadline, key)) in records {
            let live =
                matches!(self.map.get(&key, guard), Some(entry) if entry.deadline_ms == deadline);
            if live {
                kept.push(Reverse((deadline, key)));
            } else {
                self.forget_expiry_record(&key);
            }
        }
        *heap = BinaryHeap::from(kept);
    }

    /// Up to `count` records of the expiry index from a random position (eviction's sample of
    /// the volatile keys). Records may be stale: the caller checks each against the map.
    pub(crate) fn sample_volatile(&self, count: usize) -> Vec<(u64, SmallBytes)> {
        let mut heap = self.expiry_heap.lock();
        self.drain_expiry_queue(&mut heap);
        let records = heap.as_slice();
        if records.is_empty() {
            return Vec::new();
        }
        let mut rng = rand::rng();
        (0..count.min(records.len()))
            .map(|_| {
                let Reverse(record) = &records[rand::Rng::random_range(&mut rng, 0..records.len())];
                record.clone()
            })
            .collect()
    }

    /// The live key with the nearest deadline (`volatile-ttl`'s victim), dropping stale
    /// records from the top of the index on the way (at most [`EXPIRY_DRAIN_PER_TICK`]).
    pub(crate) fn nearest_deadline(&self, guard: &impl seize::Guard) -> Option<(u64, SmallBytes)> {
        let mut heap = self.expiry_heap.lock();
        self.drain_expiry_queue(&mut heap);
        for _ in 0..EXPIRY_DRAIN_PER_TICK {
            let Reverse((deadline, key)) = heap.peek()?;
            let live = matches!(
                self.map.get(key, guard),
                Some(entry) if entry.deadline_ms == *deadline
            );
            if live {
                return Some((*deadline, key.clone()));
            }
            let Some(Reverse((_, stale))) = heap.pop() else { break };
            self.forget_expiry_record(&stale);
        }
        None
    }

    /// Moves up to [`EXPIRY_DRAIN_PER_TICK`] records from the lock-free queue into the heap.
    fn drain_expiry_queue(&self, heap: &mut BinaryHeap<Reverse<(u64, SmallBytes)>>) {
        for _ in 0..EXPIRY_DRAIN_PER_TICK {
            match self.expiry_queue.pop() {
                Some((deadline, key)) => heap.push(Reverse((deadline, key))),
                None => break,
            }
        }
    }

    /// Forgets every expiry record (FLUSHDB).
    pub(crate) fn clear_expiry(&self) {
        let mut heap = self.expiry_heap.lock();
        while let Some(record) = self.expiry_queue.pop() {
            heap.push(Reverse(record));
        }
        for Reverse((_, key)) in std::mem::take(&mut *heap) {
            self.forget_expiry_record(&key);
        }
    }
}

/// Bytes a key with this entry accounts for, except a collection's own cell (accounted by the
/// cell, see `CellState::accounted_bytes`).
#[inline]
pub(crate) fn entry_bytes(key: &[u8], entry: &Entry) -> i64 {
    let key_heap = if key.len() > crate::engine::bytes::INLINE_CAPACITY { key.len() } else { 0 };
    let value_heap = match &entry.value {
        Stored::Str(value) => value.heap_bytes(),
        Stored::Collection(_) | Stored::Locked(_) => 0,
    };
    (ENTRY_OVERHEAD_BYTES + key_heap + value_heap) as i64
}
