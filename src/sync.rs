//! The one place that chooses between `std` and `loom` synchronisation primitives.
//!
//! Every atomic, mutex and `Arc` that takes part in a concurrent protocol of corekv's own (the
//! slot protocol in `engine::slot`, transaction key locks, per-shard counters, the slab pool's
//! remote-free stacks) is imported from
//! here, never from `std` directly. Under `--cfg corekv_loom` (set only by `scripts/loom.sh`,
//! never by a cargo feature, so `cargo test --workspace` can never pull loom into ordinary
//! builds) they are loom's model-checked versions.

#[cfg(not(corekv_loom))]
pub(crate) use std::sync::Arc;
#[cfg(not(corekv_loom))]
pub(crate) use std::sync::atomic::{AtomicI64, AtomicPtr, AtomicU64, Ordering};

#[cfg(corekv_loom)]
pub(crate) use loom::sync::Arc;
#[cfg(corekv_loom)]
pub(crate) use loom::sync::atomic::{AtomicI64, AtomicPtr, AtomicU64, Ordering};

/// A mutual-exclusion lock for one collection value (never wider than one key).
///
/// parking_lot's is one byte and uncontended lock/unlock is a single CAS each way; loom's is
/// used under the model checker.
#[cfg(not(corekv_loom))]
pub(crate) type Mutex<T> = parking_lot::Mutex<T>;

#[cfg(corekv_loom)]
pub(crate) use loom_mutex::Mutex;

#[cfg(corekv_loom)]
mod loom_mutex {
    /// loom's mutex behind parking_lot's panic-free `lock()` signature.
    #[derive(Debug)]
    pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

    impl<T> Mutex<T> {
        pub(crate) fn new(value: T) -> Self {
            Self(loom::sync::Mutex::new(value))
        }
        pub(crate) fn lock(&self) -> loom::sync::MutexGuard<'_, T> {
            // A poisoned lock means a model thread panicked; the model has failed already.
            self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
        }
    }
}

/// Gives the CPU (or, under loom, the model scheduler) to another thread while waiting for a
/// short-lived key lock to be released.
pub(crate) fn spin_wait(attempt: u32) {
    #[cfg(corekv_loom)]
    {
        let _ = attempt;
        loom::thread::yield_now();
    }
    #[cfg(not(corekv_loom))]
    {
        // Spin less under test: spinning hides races (seize does the same).
        let spins = if cfg!(test) { 1 } else { 6 };
        if attempt < spins {
            for _ in 0..(1 << attempt) {
                std::hint::spin_loop();
            }
        } else {
            std::thread::yield_now();
        }
    }
}
