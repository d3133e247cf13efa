//! Memory limits and eviction: `maxmemory` and Redis's eight `maxmemory-policy` values, run
//! on the shard that needs room, with bounded work per write and no global lock.
//!
//! # Budgets per shard index
//!
//! Shard `i` of every database counts its bytes in one [`MemoryGroup`], and each group's
//! budget is `maxmemory / S` (`S` shards per database). Keys spread evenly over shard indexes
//! (the shard is a hash of the key), so when every group is within its budget the keyspace is
//! within `maxmemory`, and a write needs to look at one counter, its own group's, which it
//! writes anyway: no global counter is read or written per write. Before a write that adds
//! memory ([`Engine::make_room`], called by the server for `denyoom` commands), the group of
//! each key it names is checked: if `used + incoming > budget`, keys of that group are
//! evicted, under that group's own lock, until the write fits, at most
//! [`MAX_EVICTIONS_PER_WRITE`] of them. A group that cannot make room (nothing evictable:
//! `noeviction`, or a `volatile-*` policy without volatile keys there) may still *borrow*
//! unused budget from other groups: the write is allowed when the whole keyspace plus the write
//! fits in `maxmemory` (the one place that sums all groups, and only on this slow path).
//! Otherwise the write is refused with Redis's `-OOM` error.
//!
//! # Choosing victims
//!
//! - LRU and LFU policies sample `maxmemory-samples` keys from each database's shard `i`
//!   (all keys: near a random table slot, as Redis's `dictGetSomeKeys`; volatile keys: random
//!   records of the shard's expiry index, the counterpart of Redis's `expires` dict) into a
//!   per-group pool of the 16 best candidates (Redis's eviction pool), then evict the best one
//!   that still exists. Scores: idle seconds from the entry's LRU clock, or `255 - counter`
//!   for LFU (see `lfu`).
//! - The random policies evict one sampled key.
//! - `volatile-ttl` evicts the key with the nearest deadline in the group: the shard's expiry
//!   index is a min-heap by deadline, so this is exact where Redis samples.
//!
//! # Bounds
//!
//! A write evicts at most [`MAX_EVICTIONS_PER_WRITE`] keys; each eviction samples
//! `maxmemory-samples` keys per non-empty database and repopulates its pool at most
//! [`MAX_POOL_REFILLS`] times. A write that still does not fit after that proceeds (as Redis
//! does when its eviction time limit runs out) and the owning core's maintenance cycle finishes
//! the job, at most [`MAX_EVICTIONS_PER_CYCLE`] keys per group per cycle. The same cycle
//! enforces a `maxmemory` lowered at run time.
//!
//! # Files
//!
//! - `policy.rs`: [`Policy`] and [`MemoryLimit`], the settings.
//! - this file: the groups and their shares, making room, borrowing, evicting.
//! - `sample.rs`: sampling a shard and scoring candidates; `pool.rs`: the eviction pool.
//! - `access.rs`: what a read or write records (LRU clock, LFU counter, sketch request).
//! - `lfu.rs`: Redis's LFU counter; `sketch.rs`: TinyLFU's frequency sketch.

mod access;
mod lfu;
mod policy;
mod pool;
mod sample;
mod sketch;

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, AtomicU32};

use crossbeam_utils::CachePadded;
use rand::Rng;

use crate::engine::Engine;
use crate::engine::bytes::SmallBytes;
use crate::engine::entry::{Entry, NO_DEADLINE, Stored};
use crate::engine::error::{Error, Result};
use crate::engine::shard::{ENTRY_OVERHEAD_BYTES, EXPIRY_ITEM_BYTES};
use crate::sync::{AtomicI64, AtomicU64, Ordering};

pub(crate) use access::AccessMode;
pub use lfu::LFU_INIT_VAL;
pub(crate) use lfu::LfuParams;
pub use policy::{MemoryLimit, Policy};
use pool::{Candidate, Pool};
use sample::{Scorer, sample};
use sketch::Sketch;

/// Most keys one write evicts before it proceeds (Redis bounds the same loop by time).
pub const MAX_EVICTIONS_PER_WRITE: usize = 64;

/// Most keys a maintenance cycle evicts per group.
pub const MAX_EVICTIONS_PER_CYCLE: usize = 4096;

/// The smallest key (entry, key, value) the sketches are sized for: a sketch row has one
/// counter per this many bytes of its group's share.
pub const SKETCH_BYTES_PER_KEY: u64 = 64;

/// Other groups a write short of budget asks for spare budget before it evicts.
pub const BORROW_PROBES: usize = 2;

/// How often one eviction re-samples when every pooled candidate was gone already.
pub const MAX_POOL_REFILLS: usize = 4;

/// Bytes a write is assumed to add per key it names, beyond its arguments' bytes: the map
/// entry, key and value headers (see `shard::ENTRY_OVERHEAD_BYTES`), and an expiry record in
/// case the write sets a TTL. An estimate that falls short (a collection's per-element
/// overhead) only lets a group pass its budget until the next write or maintenance cycle.
pub const WRITE_OVERHEAD_BYTES: u64 = (ENTRY_OVERHEAD_BYTES + EXPIRY_ITEM_BYTES) as u64;

/// The bytes of one shard index across every database, its share of `maxmemory`, and its
/// evictions. One cache line, which every write to the group writes anyway.
#[derive(Debug, Default)]
pub(crate) struct MemoryGroup {
    /// Written by every write to a shard of this index, read by the maxmemory check.
    used_bytes: AtomicI64,
    /// Source of entry versions for this shard index (see `Entry::version`): on the line
    /// every write writes anyway.
    write_seq: AtomicU64,
    /// This group's share of `maxmemory`. The shares sum to `maxmemory`: they are set by
    /// [`Engine::set_memory_limit`] and afterwards only moved between groups (`borrow`).
    budget_bytes: AtomicI64,
    evicted_keys: AtomicU64,
    /// Keys removed because their deadline passed (lazily or by the expiry cycle).
    expired_keys: AtomicU64,
}

impl MemoryGroup {
    /// A fresh entry version, unique within the group (so within each of its shards).
    #[inline]
    pub(crate) fn next_version(&self) -> u64 {
        // Relaxed: versions need uniqueness, not ordering; publication of the entry that
        // carries one is ordered by the map's own compare-and-swap.
        self.write_seq.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// The first of `count` fresh versions (`count` >= 1): one read-modify-write for a
    /// transaction's run of keys in this group instead of one per key.
    #[inline]
    pub(crate) fn next_versions(&self, count: u64) -> u64 {
        debug_assert!(count >= 1);
        // Relaxed: as in `next_version`.
        self.write_seq.fetch_add(count, Ordering::Relaxed) + 1
    }

    /// Counts one key removed at its deadline.
    pub(crate) fn count_expired(&self) {
        // Relaxed: a statistic.
        self.expired_keys.fetch_add(1, Ordering::Relaxed);
    }

    #[inline]
    pub(crate) fn account(&self, delta: i64) {
        // Relaxed: a statistic and a budget check that tolerates a momentarily stale sum; no
        // other memory is published through it.
        self.used_bytes.fetch_add(delta, Ordering::Relaxed);
    }

    #[inline]
    pub(crate) fn used_bytes(&self) -> i64 {
        // Relaxed: see `account`.
        self.used_bytes.load(Ordering::Relaxed)
    }

    #[inline]
    fn budget_bytes(&self) -> i64 {
        // Relaxed: a bound checked against a relaxed counter; a transfer seen late lets one
        // write pass on the old share, which the next check corrects.
        self.budget_bytes.load(Ordering::Relaxed)
    }

    /// Bytes of budget this group does not use (negative: over budget).
    #[inline]
    fn slack_bytes(&self) -> i64 {
        self.budget_bytes().saturating_sub(self.used_bytes())
    }

    /// Moves up to `wanted` bytes of this group's unused budget to `to`; returns how many.
    fn give_slack(&self, to: &MemoryGroup, wanted: i64) -> i64 {
        let given = self.slack_bytes().min(wanted);
        if given <= 0 {
            return 0;
        }
        // Relaxed: see `budget_bytes`. The sum of shares is preserved by the pair of adds
        // whatever the interleaving; only the moment each side sees it varies.
        self.budget_bytes.fetch_sub(given, Ordering::Relaxed);
        to.budget_bytes.fetch_add(given, Ordering::Relaxed);
        given
    }
}

/// The settings, as plain atomics: written by [`Engine::set_memory_limit`] only, read by
/// every write while a limit is set (a torn read across fields merely mixes two consecutive
/// configurations for one decision).
#[derive(Debug)]
struct Settings {
    maxmemory_bytes: std::sync::atomic::AtomicU64,
    policy: AtomicU8,
    samples: AtomicU32,
    lfu_log_factor: AtomicU32,
    lfu_decay_minutes: AtomicU32,
}

/// The engine's memory state: the settings, the groups, and each group's eviction pool.
#[derive(Debug)]
pub(crate) struct MemoryState {
    settings: CachePadded<Settings>,
    groups: Box<[std::sync::Arc<CachePadded<MemoryGroup>>]>,
    /// One lock per group: whoever evicts in a group holds it, so two writers never pick the
    /// same victim; it is never held across more than one group.
    pools: Box<[CachePadded<parking_lot::Mutex<Pool>>]>,
    /// Each group's TinyLFU sketch, built when `allkeys-tinylfu` is first set (sized then for
    /// the group's share of `maxmemory`) and kept: lock-free to read on every request.
    sketches: Box<[OnceLock<Sketch>]>,
}

impl MemoryState {
    pub(crate) fn new(shard_count: usize) -> MemoryState {
        let defaults = MemoryLimit::default();
        MemoryState {
            settings: CachePadded::new(Settings {
                maxmemory_bytes: std::sync::atomic::AtomicU64::new(defaults.maxmemory_bytes),
                policy: AtomicU8::new(defaults.policy.code()),
                samples: AtomicU32::new(defaults.samples),
                lfu_log_factor: AtomicU32::new(defaults.lfu_log_factor),
                lfu_decay_minutes: AtomicU32::new(defaults.lfu_decay_minutes),
            }),
            groups: (0..shard_count).map(|_| Default::default()).collect(),
            pools: (0..shard_count).map(|_| Default::default()).collect(),
            sketches: (0..shard_count).map(|_| OnceLock::new()).collect(),
        }
    }

    /// Group `group`'s sketch, built on first use for an estimated key count of the group's
    /// share of `maxmemory` at [`SKETCH_BYTES_PER_KEY`].
    #[inline]
    pub(crate) fn sketch(&self, group: usize) -> &Sketch {
        self.sketches[group].get_or_init(|| {
            let share = self.maxmemory_bytes() / self.groups.len() as u64;
            Sketch::new(share / SKETCH_BYTES_PER_KEY)
        })
    }

    /// Group `index`, for shard `index` of a new database.
    pub(crate) fn group(&self, index: usize) -> std::sync::Arc<CachePadded<MemoryGroup>> {
        self.groups[index].clone()
    }

    /// `lfu-log-factor` and `lfu-decay-time`.
    #[inline]
    pub(crate) fn lfu_params(&self) -> LfuParams {
        // Relaxed: configuration values read on their own.
        LfuParams {
            log_factor: self.settings.lfu_log_factor.load(std::sync::atomic::Ordering::Relaxed),
            decay_minutes: self
                .settings
                .lfu_decay_minutes
                .load(std::sync::atomic::Ordering::Relaxed),
        }
    }

    /// The limit in bytes (0: none).
    #[inline]
    fn maxmemory_bytes(&self) -> u64 {
        // Relaxed: a configuration value read on its own.
        self.settings.maxmemory_bytes.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn limit(&self) -> MemoryLimit {
        use std::sync::atomic::Ordering::Relaxed;
        // Relaxed: configuration values; see `Settings`.
        let settings = &self.settings;
        MemoryLimit {
            maxmemory_bytes: settings.maxmemory_bytes.load(Relaxed),
            policy: Policy::from_code(settings.policy.load(Relaxed)),
            samples: settings.samples.load(Relaxed),
            lfu_log_factor: settings.lfu_log_factor.load(Relaxed),
            lfu_decay_minutes: settings.lfu_decay_minutes.load(Relaxed),
        }
    }

    fn used_bytes(&self) -> u64 {
        self.groups.iter().map(|group| group.used_bytes()).sum::<i64>().max(0) as u64
    }
}

/// How a group fared in making room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Room {
    /// The write fits in the group's budget.
    Fits,
    /// Keys were evicted up to the bound and more could be: let the write proceed.
    Evicting,
    /// Nothing (more) can be evicted in this group.
    Stuck,
}

impl Engine {
    /// Sets the memory limit and policy; takes effect for the next write. Lowering the limit
    /// below what is held makes the maintenance cycles evict down to it.
    pub fn set_memory_limit(&self, limit: MemoryLimit) {
        use std::sync::atomic::Ordering::Relaxed;
        let state = &self.inner.memory;
        let previous = state.limit();
        // Relaxed: configuration values; see `Settings`.
        state.settings.samples.store(limit.samples.max(1), Relaxed);
        state.settings.lfu_log_factor.store(limit.lfu_log_factor, Relaxed);
        state.settings.lfu_decay_minutes.store(limit.lfu_decay_minutes, Relaxed);
        state.settings.policy.store(limit.policy.code(), Relaxed);
        state.settings.maxmemory_bytes.store(limit.maxmemory_bytes, Relaxed);
        if previous.policy != limit.policy {
            for pool in state.pools.iter() {
                pool.lock().clear();
            }
        }
        // New shares: every group keeps what it holds plus an equal part of what is left
        // (or gives up an equal part of the excess, which the maintenance cycles evict).
        let groups = &state.groups;
        let free = limit.maxmemory_bytes.min(i64::MAX as u64) as i64 - state.used_bytes() as i64;
        let share = free / groups.len() as i64;
        for group in groups.iter() {
            // Relaxed: see `MemoryGroup::budget_bytes`.
            group.budget_bytes.store(group.used_bytes().saturating_add(share), Ordering::Relaxed);
        }
        let mode = AccessMode::for_policy(limit.policy);
        for db in self.inner.dbs.iter() {
            db.access_mode.set(mode);
        }
        if limit.policy.uses_sketch() {
            for group in 0..groups.len() {
                state.sketch(group);
            }
        }
    }

    /// Bytes the TinyLFU sketches hold (not part of `used_memory`, which counts the keyspace;
    /// about 2 bytes per [`SKETCH_BYTES_PER_KEY`] of `maxmemory`, once built).
    pub fn sketch_memory_bytes(&self) -> usize {
        let sketches = self.inner.memory.sketches.iter();
        sketches.filter_map(OnceLock::get).map(Sketch::memory_bytes).sum()
    }

    /// Whether a memory limit is set (one relaxed load: what a write pays without one).
    #[inline]
    pub fn memory_limited(&self) -> bool {
        self.inner.memory.maxmemory_bytes() != 0
    }

    /// The current memory limit and policy.
    pub fn memory_limit(&self) -> MemoryLimit {
        self.inner.memory.limit()
    }

    /// Keys removed at their deadline since the engine started (INFO `expired_keys`).
    pub fn expired_keys(&self) -> u64 {
        // Relaxed: statistics.
        self.inner.memory.groups.iter().map(|g| g.expired_keys.load(Ordering::Relaxed)).sum()
    }

    /// Keys evicted since the engine started (INFO `evicted_keys`).
    pub fn evicted_keys(&self) -> u64 {
        // Relaxed: statistics.
        self.inner.memory.groups.iter().map(|g| g.evicted_keys.load(Ordering::Relaxed)).sum()
    }

    /// Bytes the keyspace holds: keys, values, per-key overhead and the expiry index, summed
    /// over every shard of every database.
    pub fn used_memory_bytes(&self) -> u64 {
        self.inner.memory.used_bytes()
    }

    /// An LFU counter as OBJECT FREQ reports it (decayed to now) from a key's access bits
    /// ([`KeyView::access_clock`](crate::engine::KeyView) under an LFU policy).
    pub fn lfu_frequency(&self, access_bits: u32) -> u8 {
        lfu::decayed_counter(access_bits, self.inner.memory.lfu_params(), lfu::now_minutes())
    }

    /// Makes room for a write of about `bytes` bytes to `keys` (any database: all share the
    /// shard layout), evicting by the policy from each key's group as the module docs
    /// describe. Returns [`Error::OutOfMemory`] when the write does not fit and nothing can
    /// be evicted. Costs one relaxed load when no limit is set.
    pub fn make_room(&self, keys: &[&[u8]], bytes: u64) -> Result<()> {
        let state = &self.inner.memory;
        let maxmemory = state.maxmemory_bytes();
        if maxmemory == 0 {
            return Ok(());
        }
        let limit = state.limit();
        if keys.is_empty() {
            // A write that names no key: only the total can be checked.
            return match state.used_bytes().saturating_add(bytes) > maxmemory {
                true => Err(Error::OutOfMemory),
                false => Ok(()),
            };
        }
        let per_key = bytes / keys.len() as u64;
        let db = &self.inner.dbs[0];
        for key in keys {
            let (hash, group) = db.hash_and_shard(key);
            let room = self.make_room_in(group, per_key, &limit, MAX_EVICTIONS_PER_WRITE);
            if room == Room::Stuck {
                return Err(Error::OutOfMemory);
            }
            if limit.policy.uses_sketch() {
                self.admit(group, hash, key, per_key);
            }
        }
        Ok(())
    }

    /// TinyLFU admission: when the key's group is full (less than another write of this size
    /// left), compares the sketch's frequency of the key with that of the group's next
    /// victim (the pool's best). If the key was requested less often, it is offered to the
    /// pool as the very next victim: it is written, then evicted by the group's next
    /// eviction instead of a key that earns its place, which is TinyLFU's "admit only if not
    /// less frequent than the victim" without holding the write back. Ties admit, so a
    /// write-only workload behaves as `allkeys-lfu`. Writes are not counted as requests: in a
    /// read-through cache each miss is followed by a SET, and counting both would double the
    /// weight of exactly the keys that keep missing.
    fn admit(&self, group: usize, hash: u64, key: &[u8], bytes: u64) {
        let state = &self.inner.memory;
        let full = state.groups[group].slack_bytes() < 2 * bytes.min(i64::MAX as u64 / 2) as i64;
        if !full {
            return;
        }
        let sketch = state.sketch(group);
        let mut pool = state.pools[group].lock();
        let Some(victim) = pool.peek_best() else { return };
        let victim_hash = self.inner.dbs[0].hash_and_shard(&victim.key).0;
        if sketch.frequency(hash) < sketch.frequency(victim_hash) {
            // The write names a key of the selected database; candidates carry physical
            // indexes, and the pool's eviction looks the key up in every database (below).
            let key = SmallBytes::new(key);
            pool.offer(Candidate { score: u64::MAX, db: NEWCOMER_DB, key });
        }
    }

    /// One maintenance step for `owner`'s groups: evicts keys of groups over their budget (a
    /// lowered `maxmemory`, or writes that went ahead before eviction caught up). Returns the
    /// number of keys evicted.
    pub fn run_eviction_cycle(&self, owner: usize) -> usize {
        let state = &self.inner.memory;
        if state.maxmemory_bytes() == 0 {
            return 0;
        }
        let limit = state.limit();
        if limit.policy == Policy::NoEviction {
            return 0;
        }
        let before = self.evicted_keys();
        let owners = self.inner.owners.max(1);
        for group in (owner..state.groups.len()).step_by(owners) {
            self.make_room_in(group, 0, &limit, MAX_EVICTIONS_PER_CYCLE);
        }
        self.evicted_keys().saturating_sub(before) as usize
    }

    /// Makes room for `bytes` more in `group`: evicts there (at most `most` keys), then, if
    /// the group has nothing left to evict, borrows unused budget from other groups.
    fn make_room_in(&self, group: usize, bytes: u64, limit: &MemoryLimit, most: usize) -> Room {
        let state = &self.inner.memory;
        let bytes = bytes.min(i64::MAX as u64) as i64;
        let counter = &state.groups[group];
        let shortfall = || bytes.saturating_sub(counter.slack_bytes());
        if shortfall() <= 0 {
            return Room::Fits;
        }
        // Before a group's first eviction, a couple of random groups may have budget to
        // spare (keys are spread evenly but not exactly, so while filling up some groups
        // fill first). Not after: in steady state the probes would move budget towards the
        // groups that write most, which under a read-through cache are the ones that miss
        // most, and away from the ones whose keys are hot (measured: 3 points of hit ratio
        // lost at a 1% cache).
        let groups = &state.groups;
        // Relaxed: a statistic used as a hint.
        let probes = match counter.evicted_keys.load(Ordering::Relaxed) {
            0 => BORROW_PROBES.min(groups.len() - 1),
            _ => 0,
        };
        for _ in 0..probes {
            let other = (group + rand::rng().random_range(1..groups.len())) % groups.len();
            groups[other].give_slack(counter, shortfall());
        }
        if shortfall() <= 0 {
            return Room::Fits;
        }
        if limit.policy != Policy::NoEviction {
            let mut pool = state.pools[group].lock();
            let mut evictable = true;
            for _ in 0..most {
                if shortfall() <= 0 {
                    return Room::Fits;
                }
                if !self.evict_one(group, &mut pool, limit) {
                    evictable = false;
                    break;
                }
            }
            if evictable {
                return if shortfall() <= 0 { Room::Fits } else { Room::Evicting };
            }
        }
        if self.borrow(group, shortfall(), limit, most) { Room::Fits } else { Room::Stuck }
    }

    /// Moves budget to `group` from the others: first what they leave unused, then (for an
    /// evicting policy) what evicting their keys frees, at most `most` evictions, skipping
    /// groups whose pool another thread holds (never waiting on a second pool lock, so two
    /// borrowers cannot deadlock). True when `wanted` bytes were found. The slow path: a
    /// write larger than its group's share, a volatile policy with no volatile key in the
    /// group, or `noeviction` near the limit.
    fn borrow(&self, group: usize, wanted: i64, limit: &MemoryLimit, most: usize) -> bool {
        let groups = &self.inner.memory.groups;
        let receiver = &groups[group];
        let mut wanted = wanted;
        let others = || (1..groups.len()).map(|offset| (group + offset) % groups.len());
        for other in others() {
            wanted -= groups[other].give_slack(receiver, wanted);
            if wanted <= 0 {
                return true;
            }
        }
        if limit.policy == Policy::NoEviction {
            return false;
        }
        let mut evictions = 0;
        for other in others() {
            let Some(mut pool) = self.inner.memory.pools[other].try_lock() else { continue };
            while evictions < most {
                wanted -= groups[other].give_slack(receiver, wanted);
                if wanted <= 0 {
                    return true;
                }
                if !self.evict_one(other, &mut pool, limit) {
                    break;
                }
                evictions += 1;
            }
            wanted -= groups[other].give_slack(receiver, wanted);
            if wanted <= 0 {
                return true;
            }
        }
        false
    }

    /// Evicts one key of `group` by the policy (or reclaims expired ones met while sampling).
    /// False when the group has nothing the policy may evict. The caller holds the group's
    /// pool lock.
    fn evict_one(&self, group: usize, pool: &mut Pool, limit: &MemoryLimit) -> bool {
        match limit.policy {
            Policy::NoEviction => false,
            Policy::VolatileTtl => self.evict_nearest_deadline(group),
            Policy::AllKeysRandom | Policy::VolatileRandom => {
                self.evict_random(group, limit.policy.volatile_only())
            }
            Policy::AllKeysLru
            | Policy::VolatileLru
            | Policy::AllKeysLfu
            | Policy::VolatileLfu
            | Policy::AllKeysTinyLfu => self.evict_from_pool(group, pool, limit),
        }
    }

    fn evict_from_pool(&self, group: usize, pool: &mut Pool, limit: &MemoryLimit) -> bool {
        let volatile = limit.policy.volatile_only();
        let scorer = Scorer::new(limit, &self.inner.memory);
        for _ in 0..=MAX_POOL_REFILLS {
            let mut sampled = 0;
            let mut reclaimed = false;
            for (index, db) in self.inner.dbs.iter().enumerate() {
                let shard = &db.shards[group];
                let mut sink = |key: &SmallBytes, entry: &Entry| {
                    let score = scorer.score(entry);
                    pool.offer(Candidate { score, db: index, key: key.clone() });
                };
                let found = sample(db, shard, volatile, limit.samples as usize, &mut sink);
                sampled += found.sampled;
                reclaimed |= found.reclaimed;
            }
            while let Some(best) = pool.pop_best() {
                if best.db == NEWCOMER_DB {
                    // An admission candidate: its database is not known here; a key of this
                    // name in any database of this group had the same requests counted.
                    let evicted = (0..self.inner.dbs.len())
                        .any(|db| self.evict_key(db, group, &best.key, volatile));
                    if evicted {
                        return true;
                    }
                    continue;
                }
                if self.evict_key(best.db, group, &best.key, volatile) {
                    return true;
                }
            }
            if reclaimed {
                return true;
            }
            if sampled == 0 {
                return false;
            }
        }
        false
    }

    fn evict_random(&self, group: usize, volatile: bool) -> bool {
        let dbs = &self.inner.dbs;
        let start = rand::rng().random_range(0..dbs.len());
        for offset in 0..dbs.len() {
            let index = (start + offset) % dbs.len();
            let db = &dbs[index];
            let mut picked = None;
            let mut sink = |key: &SmallBytes, _: &Entry| {
                picked.get_or_insert_with(|| key.clone());
            };
            let found = sample(db, &db.shards[group], volatile, 1, &mut sink);
            if found.reclaimed {
                return true;
            }
            if let Some(key) = picked
                && self.evict_key(index, group, &key, volatile)
            {
                return true;
            }
        }
        false
    }

    fn evict_nearest_deadline(&self, group: usize) -> bool {
        let mut nearest: Option<(u64, usize, SmallBytes)> = None;
        for (index, db) in self.inner.dbs.iter().enumerate() {
            let guard = db.guard();
            let shard = &db.shards[group];
            if let Some((deadline, key)) = shard.nearest_deadline(&guard)
                && nearest.as_ref().is_none_or(|(best, _, _)| deadline < *best)
            {
                nearest = Some((deadline, index, key));
            }
        }
        match nearest {
            Some((_, index, key)) => {
                // Losing a race for it still made progress: someone else changed the key.
                self.evict_key(index, group, &key, true);
                true
            }
            None => false,
        }
    }

    /// Deletes `key` from shard `group` of physical database `db` if it is still there (and,
    /// for a volatile policy, still has a TTL). True when it was evicted.
    fn evict_key(&self, db: usize, group: usize, key: &[u8], volatile: bool) -> bool {
        match self.inner.eviction_hook.get() {
            Some(hook) => hook.around_eviction(key, &|| self.logical_db(db), &mut || {
                self.evict_key_now(db, group, key, volatile)
            }),
            None => self.evict_key_now(db, group, key, volatile),
        }
    }

    fn evict_key_now(&self, db: usize, group: usize, key: &[u8], volatile: bool) -> bool {
        let db = &self.inner.dbs[db];
        let shard = &db.shards[group];
        let guard = db.guard();
        let Some(entry) = shard.map.get(key, &guard) else { return false };
        if matches!(entry.value, Stored::Locked(_))
            || (volatile && entry.deadline_ms == NO_DEADLINE)
        {
            return false;
        }
        if !db.replace_slot(shard, key, Some(entry), None, &guard) {
            return false;
        }
        // Relaxed: a statistic.
        self.inner.memory.groups[group].evicted_keys.fetch_add(1, Ordering::Relaxed);
        true
    }
}

/// The `db` of a pool candidate offered for admission (`Engine::admit`).
const NEWCOMER_DB: usize = usize::MAX;
