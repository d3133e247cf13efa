//! Waiting for a key that a transaction holds locked (`engine::txn`).
//!
//! A wait starts with a few rounds of spinning and yielding, which is all a short
//! transaction (RENAME, a MULTI of a few commands) needs. A long one (an MSET of 1,000 keys
//! holds its keys for about a millisecond, and two concurrent ones nearly always share a key)
//! would keep a waiter yielding a thousand times: on a loaded machine every `sched_yield` can
//! hand the core to another process for a whole time slice, and the waiter then resumes long
//! after the key was published (measured: two threads' MSETs ran at a third of one thread's
//! rate, a quarter of their time in `sched_yield`). So after those rounds the waiter sleeps on
//! an engine-wide condition variable until some transaction publishes, then checks its key
//! again.
//!
//! # No lost wake-up
//!
//! A sleeper counts itself in `sleepers`, then (fence) checks that its key is still locked
//! and sleeps, all under `mutex`. A publisher publishes its keys, then (fence) reads
//! `sleepers`, and only if it is not zero takes `mutex` and wakes everyone. The two SeqCst
//! fences order "count myself, then check the key" against "publish, then read the count":
//! either the publisher sees the sleeper (and its notify, under the mutex, comes after the
//! sleeper released the mutex by sleeping, or before it checked, when the check sees the
//! publication), or the sleeper's check sees the publication and it does not sleep. Sleeps
//! are also bounded by [`SLEEP_LIMIT`], so even a bug here would cost latency, not liveness.
//! A sleeper keeps its epoch guard (it is inside one command), which only delays reclamation
//! of what others retire meanwhile, as a yielding waiter did.

#[cfg(not(corekv_loom))]
use std::time::Duration;

use crate::sync::spin_wait;

/// Rounds of `spin_wait` (spinning, then yielding) before a waiter sleeps.
const SPIN_ROUNDS: u32 = 8;

/// Longest single sleep; the waiter checks its key again after it.
#[cfg(not(corekv_loom))]
const SLEEP_LIMIT: Duration = Duration::from_millis(1);

/// The engine's waiters for locked keys. One per engine: waits are rare (they need two
/// transactions, or a transaction and a single-key operation, on the same key at once), and a
/// publisher that finds no sleeper pays one fence and one load.
#[derive(Debug, Default)]
pub(crate) struct LockWaiters {
    #[cfg(not(corekv_loom))]
    sleepers: crossbeam_utils::CachePadded<std::sync::atomic::AtomicUsize>,
    #[cfg(not(corekv_loom))]
    mutex: parking_lot::Mutex<()>,
    #[cfg(not(corekv_loom))]
    published: parking_lot::Condvar,
}

impl LockWaiters {
    /// One round of waiting for a locked key; `attempt` counts the rounds so far and
    /// `still_locked` checks the key again. Returns when the key may have been published (the
    /// caller checks again either way).
    #[inline]
    pub(crate) fn wait(&self, attempt: u32, still_locked: impl FnOnce() -> bool) {
        if attempt < SPIN_ROUNDS || cfg!(corekv_loom) {
            // Under loom, `spin_wait` yields to the model scheduler, which explores the
            // interleavings a sleep would allow.
            return spin_wait(attempt);
        }
        #[cfg(not(corekv_loom))]
        self.sleep(still_locked);
        #[cfg(corekv_loom)]
        let _ = still_locked;
    }

    #[cfg(not(corekv_loom))]
    #[cold]
    fn sleep(&self, still_locked: impl FnOnce() -> bool) {
        use std::sync::atomic::{Ordering, fence};
        let mut guard = self.mutex.lock();
        // Relaxed, then the SeqCst fence: orders this count before the check below, against
        // the publisher's publication-then-fence-then-read (see the module docs).
        self.sleepers.fetch_add(1, Ordering::Relaxed);
        fence(Ordering::SeqCst);
        if still_locked() {
            self.published.wait_for(&mut guard, SLEEP_LIMIT);
        }
        // Relaxed: a publisher that still counts us only wakes us needlessly.
        self.sleepers.fetch_sub(1, Ordering::Relaxed);
    }

    /// Wakes every sleeper; a transaction calls this after publishing keys.
    #[inline]
    pub(crate) fn notify(&self) {
        #[cfg(not(corekv_loom))]
        {
            use std::sync::atomic::{Ordering, fence};
            // SeqCst fence, then Relaxed: pairs with the fence in `sleep` (module docs).
            fence(Ordering::SeqCst);
            if self.sleepers.load(Ordering::Relaxed) != 0 {
                let _guard = self.mutex.lock();
                self.published.notify_all();
            }
        }
    }
}
