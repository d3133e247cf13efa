//! Whole-database operations on [`Db`]: DBSIZE, KEYS, SCAN, RANDOMKEY, FLUSHDB, memory.

use rand::Rng;

use crate::engine::access::KeyView;
use crate::engine::clock::now_ms;
use crate::engine::db::Db;
use crate::engine::entry::{Kind, Stored};
use crate::engine::glob;

/// One step of a SCAN: the cursor to pass next (0 when the scan is complete) and the keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanPage {
    /// The next cursor; 0 means the scan has visited every shard.
    pub cursor: u64,
    /// Keys found in this step.
    pub keys: Vec<Vec<u8>>,
}

impl Db {
    /// The number of keys (DBSIZE). Like Redis's, it may include keys that expired but were not
    /// reclaimed yet.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|shard| shard.map.len()).sum()
    }

    /// True when the database holds no key.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Keys with a deadline (INFO keyspace `expires`).
    pub fn volatile_len(&self) -> usize {
        self.shards
            .iter()
            // Relaxed: a statistic.
            .map(|shard| shard.volatile_keys.load(crate::sync::Ordering::Relaxed).max(0) as usize)
            .sum()
    }

    /// Every live key matching the glob `pattern` (KEYS). O(keys): meant for debugging, as in
    /// Redis.
    pub fn keys(&self, pattern: &[u8]) -> Vec<Vec<u8>> {
        let mut keys = Vec::new();
        for index in 0..self.shards.len() {
            self.collect_shard(index, pattern, None, &mut keys);
        }
        keys
    }

    /// The live keys of shard `index` (a snapshot walks the keyspace one shard at a time).
    pub fn shard_keys(&self, index: usize) -> Vec<Vec<u8>> {
        let mut keys = Vec::new();
        self.collect_shard(index, b"*", None, &mut keys);
        keys
    }

    /// A copy of the key's value and deadline, taken atomically (`None`: missing or expired).
    /// Collections are cloned whole, under the key's lock.
    pub fn copy_value(&self, key: &[u8]) -> Option<crate::engine::OwnedValue> {
        self.transaction(&[key], |txn| txn.copy_value(key)).ok().flatten()
    }

    fn collect_shard(
        &self,
        index: usize,
        pattern: &[u8],
        kind: Option<Kind>,
        out: &mut Vec<Vec<u8>>,
    ) {
        let match_all = pattern == b"*";
        let now = now_ms();
        let guard = self.guard();
        for (key, entry) in self.shards[index].map.iter(&guard) {
            let entry_kind = match &entry.value {
                Stored::Str(_) => Kind::String,
                Stored::Collection(cell) => cell.kind,
                // Held by a transaction mid-flight: its final state is not known yet, and it
                // may be a key being created; the next scan step or call sees it settled.
                Stored::Locked(_) => continue,
            };
            if entry.is_expired(now) || kind.is_some_and(|kind| kind != entry_kind) {
                continue;
            }
            if match_all || glob::matches(pattern, key) {
                out.push(key.to_vec());
            }
        }
    }

    /// One SCAN step. The cursor is a shard position, so a full scan (from cursor 0 until it
    /// returns 0) visits every shard once and returns every key that was present for the whole
    /// scan (each shard's table is walked whole; papaya finishes any resize first). A step
    /// returns whole shards until at least `count` keys were gathered, so COUNT is a hint, as in
    /// Redis.
    pub fn scan(&self, cursor: u64, pattern: &[u8], count: usize, kind: Option<Kind>) -> ScanPage {
        let mut keys = Vec::new();
        let mut position = cursor as usize;
        while position < self.shards.len() {
            self.collect_shard(position, pattern, kind, &mut keys);
            position += 1;
            if keys.len() >= count.max(1) {
                break;
            }
        }
        let cursor = if position >= self.shards.len() { 0 } else { position as u64 };
        ScanPage { cursor, keys }
    }

    /// Calls `f` with the key's view without recording an access (OBJECT reads a key's idle
    /// time and encoding, as Redis's `LOOKUP_NOTOUCH`, so asking does not reset the answer).
    /// `None` when missing or expired; an expired key is left for the other paths to reclaim.
    pub fn peek<R>(&self, key: &[u8], f: impl FnOnce(Option<KeyView<'_>>) -> R) -> R {
        let shard = self.shard_of(key);
        let guard = self.guard();
        match self.load(shard, key, &guard) {
            Some(entry) if !entry.is_expired(now_ms()) => f(Some(Self::view_of(entry))),
            _ => f(None),
        }
    }

    /// A random live key (RANDOMKEY), or `None` when the database is empty.
    pub fn random_key(&self) -> Option<Vec<u8>> {
        let mut rng = rand::rng();
        let now = now_ms();
        let guard = self.guard();
        // Start at a random shard and walk on, so an almost-empty database still finds its
        // keys; within a shard, skip a random number of entries.
        let start = rng.random_range(0..self.shards.len());
        for offset in 0..self.shards.len() {
            let shard = &self.shards[(start + offset) % self.shards.len()];
            let len = shard.map.len();
            if len == 0 {
                continue;
            }
            let skip = rng.random_range(0..len);
            let live = |(_, entry): &(&crate::SmallBytes, &crate::engine::entry::Entry)| {
                !entry.is_expired(now) && !matches!(entry.value, Stored::Locked(_))
            };
            let mut iter = shard.map.iter(&guard).filter(live);
            if let Some((key, _)) = iter.nth(skip).or_else(|| shard.map.iter(&guard).find(live)) {
                return Some(key.to_vec());
            }
        }
        None
    }

    /// Deletes every key (FLUSHDB). Keys written concurrently may survive, as they would if
    /// written just after.
    pub fn flush(&self) {
        let guard = self.guard();
        for shard in self.shards.iter() {
            for (key, _) in shard.map.iter(&guard) {
                loop {
                    let current = self.load(shard, key, &guard);
                    if current.is_none() || self.replace_slot(shard, key, current, None, &guard) {
                        break;
                    }
                }
            }
            shard.clear_expiry();
        }
    }

    /// Bytes `key` accounts for in `used_memory` (MEMORY USAGE): its map entry and table slot,
    /// key and value heap bytes, a collection's own estimate. `None` when missing or expired.
    pub fn memory_usage(&self, key: &[u8]) -> Option<u64> {
        let shard = self.shard_of(key);
        let guard = self.guard();
        let entry = self.load(shard, key, &guard).filter(|entry| !entry.is_expired(now_ms()))?;
        let cell_bytes = match &entry.value {
            Stored::Collection(cell) => cell.state.lock().accounted_bytes as i64,
            _ => 0,
        };
        Some((crate::engine::shard::entry_bytes(key, entry) + cell_bytes).max(0) as u64)
    }
}
