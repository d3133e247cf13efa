//! Choosing victims: sampling a shard's keys and ranking them for the eviction pool.

use rand::Rng;

use crate::engine::bytes::SmallBytes;
use crate::engine::clock::{cached_lru_clock, now_ms};
use crate::engine::db::Db;
use crate::engine::entry::{Entry, Stored};
use crate::engine::shard::Shard;
use crate::sync::Ordering;

use super::lfu::{self, LfuParams};
use super::{MemoryLimit, MemoryState};

/// How one policy ranks a sampled entry: higher is a better victim.
pub(super) struct Scorer {
    lfu: Option<LfuParams>,
    lru_clock: u32,
    minutes: u32,
}

impl Scorer {
    pub(super) fn new(limit: &MemoryLimit, state: &MemoryState) -> Scorer {
        Scorer {
            lfu: limit.policy.uses_lfu().then(|| state.lfu_params()),
            lru_clock: cached_lru_clock(),
            minutes: lfu::now_minutes(),
        }
    }

    pub(super) fn score(&self, entry: &Entry) -> u64 {
        let bits = entry.access_clock();
        match self.lfu {
            Some(params) => 255 - u64::from(lfu::decayed_counter(bits, params, self.minutes)),
            None => u64::from(idle_clock_ticks(bits, self.lru_clock)),
        }
    }
}

/// Seconds between an access clock and `now`, both in the 24-bit LRU clock (which wraps).
fn idle_clock_ticks(access: u32, now: u32) -> u32 {
    const MASK: u32 = (1 << crate::engine::clock::LRU_CLOCK_BITS) - 1;
    now.wrapping_sub(access) & MASK
}

/// What one sampling found.
#[derive(Debug, Default)]
pub(super) struct Sampled {
    pub(super) sampled: usize,
    /// Expired keys met were deleted: memory was freed without an eviction.
    pub(super) reclaimed: bool,
}

/// Passes up to `count` live entries of `shard` to `sink`: all keys near a random table slot,
/// or (`volatile`) keys of random records of the shard's expiry index. Expired keys met on
/// the way are reclaimed.
pub(super) fn sample(
    db: &Db,
    shard: &Shard,
    volatile: bool,
    count: usize,
    sink: &mut impl FnMut(&SmallBytes, &Entry),
) -> Sampled {
    let mut found = Sampled::default();
    // Most databases are usually empty: skip them before pinning or reading the clock.
    // Relaxed: a statistic; a key added meanwhile is sampled next time.
    let empty = match volatile {
        true => shard.volatile_keys.load(Ordering::Relaxed) <= 0,
        false => shard.map.is_empty(),
    };
    if empty {
        return found;
    }
    let guard = db.guard();
    let now = now_ms();
    let mut visit = |key: &SmallBytes, entry: &Entry, found: &mut Sampled| {
        if matches!(entry.value, Stored::Locked(_)) {
            return;
        }
        if entry.is_expired(now) {
            found.reclaimed |= db.expire_entry(shard, key, entry, &guard);
            return;
        }
        found.sampled += 1;
        sink(key, entry);
    };
    if volatile {
        for attempt in 0..2 {
            for (deadline, key) in shard.sample_volatile(count) {
                if let Some(entry) = shard.map.get(&key, &guard)
                    && entry.deadline_ms == deadline
                {
                    visit(&key, entry, &mut found);
                }
            }
            // Every record sampled was stale (deleted or evicted keys leave theirs in the
            // index): drop the stale ones, once, and sample again.
            if found.sampled > 0 || found.reclaimed || attempt > 0 {
                break;
            }
            shard.compact_expiry_now(&guard);
        }
        return found;
    }
    let start = rand::rng().random::<u64>() as usize;
    // From a random slot to the end of the table, then from its start: a short table end
    // must not starve the sample.
    let mut seen = 0;
    for (key, entry) in shard.map.iter_from(start, &guard).chain(shard.map.iter(&guard)) {
        visit(key, entry, &mut found);
        seen += 1;
        if found.sampled >= count || seen >= count * 4 {
            break;
        }
    }
    found
}
