//! Wall-clock time for TTLs and the coarse clock used for LRU.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch. TTL deadlines are absolute in this unit, as Redis
/// stores them, so they survive a restart from a snapshot.
///
/// Inside [`with_frozen_time`] this is the frozen instant instead, on that thread only.
#[inline]
pub fn now_ms() -> u64 {
    match FROZEN_MS.get() {
        0 => system_ms(),
        frozen => frozen,
    }
}

/// The system clock in Unix milliseconds.
#[inline]
pub fn system_ms() -> u64 {
    // A clock before 1970 is a broken machine; treat it as the epoch rather than panic.
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_millis() as u64)
}

thread_local! {
    /// The instant `now_ms` reports on this thread while frozen; 0 when it is not.
    static FROZEN_MS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Runs `f` with this thread's clock stopped at `at_ms` (Unix milliseconds, non-zero).
///
/// The append-only file records each write with the instant it ran at, and replays it at that
/// same instant: a relative TTL becomes the same deadline, and a key that had expired (or not)
/// when the write ran has expired (or not) when it is replayed. Time is the one input of a
/// command that is not in its arguments; freezing it makes replay deterministic.
pub fn with_frozen_time<R>(at_ms: u64, f: impl FnOnce() -> R) -> R {
    let _frozen = freeze(at_ms);
    f()
}

/// Stops this thread's clock at `at_ms` until the guard drops (see [`with_frozen_time`]).
pub fn freeze(at_ms: u64) -> Frozen {
    Frozen(FROZEN_MS.replace(at_ms.max(1)))
}

/// Restores the thread's clock when dropped.
#[derive(Debug)]
#[must_use = "the clock is frozen only while the guard lives"]
pub struct Frozen(u64);

impl Drop for Frozen {
    fn drop(&mut self) {
        FROZEN_MS.set(self.0);
    }
}

/// Bits of the LRU clock, as in Redis (`LRU_BITS`).
pub const LRU_CLOCK_BITS: u32 = 24;

/// The LRU clock: seconds, wrapping at 2^24 (194 days), as Redis keeps it per object.
#[inline]
pub fn lru_clock(now_ms: u64) -> u32 {
    ((now_ms / 1000) & ((1 << LRU_CLOCK_BITS) - 1)) as u32
}

/// The LRU clock as last refreshed (by maintenance cycles, every 100 ms), so the read path can
/// record an access without a clock call, as Redis's `server.lruclock` does. A process-wide
/// cache of the time, not part of any protocol, hence a plain std atomic. Padded: every
/// operation on every core reads it, so it must not share a cache line with anything written.
static CACHED_LRU_CLOCK: crossbeam_utils::CachePadded<std::sync::atomic::AtomicU32> =
    crossbeam_utils::CachePadded::new(std::sync::atomic::AtomicU32::new(0));

/// The cached LRU clock (refreshed on first use if nothing refreshed it yet).
#[inline]
pub fn cached_lru_clock() -> u32 {
    // Relaxed: a cached time value; no other memory depends on it.
    match CACHED_LRU_CLOCK.load(std::sync::atomic::Ordering::Relaxed) {
        0 => refresh_lru_clock(),
        clock => clock,
    }
}

/// Unix seconds as last refreshed, beside the LRU clock: the LFU counters' minute clock
/// (`LFUGetTimeInMinutes`) reads it on every access under an LFU policy.
static CACHED_UNIX_SECONDS: crossbeam_utils::CachePadded<std::sync::atomic::AtomicU64> =
    crossbeam_utils::CachePadded::new(std::sync::atomic::AtomicU64::new(0));

/// Re-reads the time into the cached LRU clock and returns it.
pub fn refresh_lru_clock() -> u32 {
    let now = system_ms();
    // 0 means "never set"; a clock that is truly 0 reads as 1 second later, harmlessly.
    let clock = lru_clock(now).max(1);
    // Relaxed: see `cached_lru_clock`.
    CACHED_LRU_CLOCK.store(clock, std::sync::atomic::Ordering::Relaxed);
    // Relaxed: see `cached_unix_seconds`.
    CACHED_UNIX_SECONDS.store((now / 1000).max(1), std::sync::atomic::Ordering::Relaxed);
    clock
}

/// Unix seconds as last refreshed (every 100 ms by maintenance; refreshed on first use).
#[inline]
pub fn cached_unix_seconds() -> u64 {
    // Relaxed: a cached time value; no other memory depends on it.
    match CACHED_UNIX_SECONDS.load(std::sync::atomic::Ordering::Relaxed) {
        0 => {
            refresh_lru_clock();
            CACHED_UNIX_SECONDS.load(std::sync::atomic::Ordering::Relaxed)
        }
        seconds => seconds,
    }
}

/// The current time, read from the system clock only if someone asks: most keys have no TTL,
/// and their operations then never pay for a clock call.
#[derive(Debug, Default)]
pub(crate) struct LazyNow(std::cell::Cell<u64>);

impl LazyNow {
    pub(crate) fn new() -> LazyNow {
        LazyNow::default()
    }

    #[inline]
    pub(crate) fn get(&self) -> u64 {
        match self.0.get() {
            0 => {
                let now = now_ms();
                self.0.set(now);
                now
            }
            now => now,
        }
    }
}
