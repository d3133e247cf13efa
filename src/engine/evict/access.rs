//! What an access records for eviction, per database: Redis's LRU clock or LFU counter in the
//! entry's access bits, and under `allkeys-tinylfu` the request in the group's sketch.

use std::sync::atomic::AtomicU8;

use crate::engine::clock::cached_lru_clock;
use crate::engine::db::Db;
use crate::engine::entry::Entry;

use super::Policy;
use super::lfu;

/// What an access records, per database (read on every access, so it lives in the `Db`
/// itself, beside the fields every operation already loads).
#[derive(Debug, Default)]
pub(crate) struct AccessMode(AtomicU8);

/// The entry's LRU clock.
const ACCESS_LRU: u8 = 0;
/// The entry's LFU counter (`lfu`).
const ACCESS_LFU: u8 = 1;
/// The LFU counter, and the request in the group's sketch (hits and misses).
const ACCESS_LFU_SKETCH: u8 = 2;

impl AccessMode {
    pub(super) fn for_policy(policy: Policy) -> u8 {
        if policy.uses_sketch() {
            ACCESS_LFU_SKETCH
        } else if policy.uses_lfu() {
            ACCESS_LFU
        } else {
            ACCESS_LRU
        }
    }

    #[inline]
    fn get(&self) -> u8 {
        // Relaxed: a configuration value; an access recorded in the other format just after
        // a policy change is what Redis documents too ("LRU and LFU data will take some time
        // to adjust").
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub(super) fn set(&self, mode: u8) {
        // Relaxed: see `get`.
        self.0.store(mode, std::sync::atomic::Ordering::Relaxed);
    }
}

impl Db {
    /// Records an access to `key`'s `entry` for eviction: the LRU clock, an LFU increment, and
    /// (TinyLFU) a request in the sketch.
    #[inline]
    pub(crate) fn touch(&self, key: &[u8], entry: &Entry) {
        match self.access_mode.get() {
            ACCESS_LRU => entry.touch(cached_lru_clock()),
            mode => {
                let bits = lfu::on_access(entry.access_clock(), self.memory.lfu_params());
                entry.set_access_bits(bits);
                if mode == ACCESS_LFU_SKETCH {
                    self.record_miss(key);
                }
            }
        }
    }

    /// Counts a request for a missing key under TinyLFU (its sketch remembers keys that are
    /// not in memory, which is what lets it admit a returning popular key); nothing otherwise.
    #[inline]
    pub(crate) fn record_miss(&self, key: &[u8]) {
        if self.access_mode.get() == ACCESS_LFU_SKETCH {
            let (hash, group) = self.hash_and_shard(key);
            self.memory.sketch(group).record(hash);
        }
    }

    /// The access bits of an entry a write publishes, given the bits of the entry it replaces:
    /// a write is an access (Redis's `lookupKeyWrite`), and under LFU the counter carries
    /// over (Redis's `dbOverwrite`).
    #[inline]
    pub(crate) fn access_bits_for_write(&self, previous: Option<u32>) -> u32 {
        if self.access_mode.get() != ACCESS_LRU {
            match previous {
                Some(bits) => lfu::on_access(bits, self.memory.lfu_params()),
                None => lfu::initial(),
            }
        } else {
            cached_lru_clock()
        }
    }
}
