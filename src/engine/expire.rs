//! Active expiry: each owner deletes its shards' keys whose deadline has passed, a bounded
//! number per shard per cycle so a cycle never stalls its core.

use crate::engine::db::Db;

/// Most expired keys deleted per shard per cycle.
pub(crate) const EXPIRE_KEYS_PER_SHARD_CYCLE: usize = 512;

/// One cycle over the shards `owner` owns (shard `i` belongs to owner `i % owners`).
pub(crate) fn run_cycle(db: &Db, owner: usize, owners: usize, now_ms: u64) -> usize {
    let guard = db.guard();
    let mut deleted = 0;
    for shard in db.shards.iter().skip(owner).step_by(owners.max(1)) {
        for (deadline, key) in shard.due_expiries(now_ms, EXPIRE_KEYS_PER_SHARD_CYCLE) {
            let Some(entry) = shard.map.get(&key, &guard) else { continue };
            // A newer write may have changed the deadline; its own record covers it.
            if entry.deadline_ms == deadline
                && entry.is_expired(now_ms)
                && db.expire_entry(shard, &key, entry, &guard)
            {
                deleted += 1;
            }
        }
        shard.compact_expiry(&guard);
    }
    deleted
}
