//! The order of writes in the append-only file.
//!
//! Workers run writes concurrently on the lock-free keyspace, so the order in which they
//! *finish* is not an order a log can replay: two clients' `SET k a` and `SET k b` may commit
//! in one order and reach the log in the other. With the AOF on, a write therefore runs under
//! its keys' stripe locks (one stripe per engine shard, taken in index order, so two writers
//! never deadlock) and takes its sequence number before releasing them: for every key, the
//! sequence order is the commit order. Writes to different stripes never wait for each other.
//! Memory-only servers take no stripe lock at all.
//!
//! Commands that act on the whole keyspace (FLUSHALL, FLUSHDB, SWAPDB) take every stripe.

use std::sync::atomic::{AtomicU64, Ordering};

use crossbeam_utils::CachePadded;
use parking_lot::{Mutex, MutexGuard};

/// Stripe locks and the sequence counter.
#[derive(Debug)]
pub struct Order {
    stripes: Box<[CachePadded<Mutex<()>>]>,
    /// The next sequence number.
    next: CachePadded<AtomicU64>,
}

/// Stripes held by one write; released on drop.
#[derive(Debug)]
pub enum Held<'a> {
    /// The common case, without an allocation.
    One(#[allow(dead_code)] MutexGuard<'a, ()>),
    /// Several stripes, in index order.
    Many(#[allow(dead_code)] Vec<MutexGuard<'a, ()>>),
}

impl Order {
    /// `stripes` stripe locks (the engine's shard count); sequence numbers start at `next`.
    pub fn new(stripes: usize, next: u64) -> Order {
        Order {
            stripes: (0..stripes.max(1)).map(|_| CachePadded::new(Mutex::new(()))).collect(),
            next: CachePadded::new(AtomicU64::new(next)),
        }
    }

    /// Locks the stripes of `shards` (the keys' shard indexes; any order, duplicates fine).
    pub fn lock(&self, shards: &mut Vec<usize>) -> Held<'_> {
        let count = self.stripes.len();
        match shards.len() {
            0 => Held::Many(Vec::new()),
            1 => Held::One(self.stripes[shards[0] % count].lock()),
            _ => {
                for shard in shards.iter_mut() {
                    *shard %= count;
                }
                shards.sort_unstable();
                shards.dedup();
                Held::Many(shards.iter().map(|&i| self.stripes[i].lock()).collect())
            }
        }
    }

    /// Locks every stripe.
    pub fn lock_all(&self) -> Held<'_> {
        Held::Many(self.stripes.iter().map(|stripe| stripe.lock()).collect())
    }

    /// Takes the next sequence number. Call it while holding the write's stripes: a later
    /// writer of the same key locks after this one unlocked, so it gets a larger number.
    pub fn next_seq(&self) -> u64 {
        // Relaxed: every read-modify-write of one atomic is totally ordered, and the stripe
        // mutex orders two writers of a key (unlock happens-before the next lock), so the
        // later writer's increment comes later in that order. Nothing else is published here.
        self.next.fetch_add(1, Ordering::Relaxed)
    }

    /// Sets the next sequence number (after loading the AOF, before any write runs).
    pub fn set_next(&self, next: u64) {
        // Relaxed: called before the workers start; thread start publishes it.
        self.next.store(next, Ordering::Relaxed);
    }

    /// Locks stripe `index` alone (a snapshot reading one key of that shard).
    pub fn lock_one(&self, index: usize) -> MutexGuard<'_, ()> {
        self.stripes[index % self.stripes.len()].lock()
    }

    /// The sequence number the next write will get.
    pub fn peek(&self) -> u64 {
        // Relaxed: a reading for INFO and tests.
        self.next.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_key_order_is_commit_order() {
        // Two threads increment one shared "key" under its stripe and log (seq, value): sorted
        // by seq, the values must come out 1, 2, 3, ... (the order they were committed in).
        let order = std::sync::Arc::new(Order::new(8, 1));
        let value = std::sync::Arc::new(Mutex::new(0u64));
        let logs: Vec<Vec<(u64, u64)>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..2)
                .map(|_| {
                    let (order, value) = (order.clone(), value.clone());
                    scope.spawn(move || {
                        let mut log = Vec::new();
                        for _ in 0..20_000 {
                            let _held = order.lock(&mut vec![3, 11]);
                            let committed = {
                                let mut v = value.lock();
                                *v += 1;
                                *v
                            };
                            log.push((order.next_seq(), committed));
                        }
                        log
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let mut all: Vec<(u64, u64)> = logs.into_iter().flatten().collect();
        all.sort_unstable();
        for (i, &(seq, committed)) in all.iter().enumerate() {
            assert_eq!((seq, committed), (i as u64 + 1, i as u64 + 1));
        }
    }
}
