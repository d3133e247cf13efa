//! Wall-clock time for TTLs and the coarse clock used for LRU.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch. TTL deadlines are absolute in this unit, as Redis
/// stores them, so they survive a restart from a snapshot.
#[inline]
pub fn now_ms() -> u64 {
    // A clock before 1970 is a broken machine; treat it as the epoch rather than panic.
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_millis() as u64)
}

/// Bits of the LRU clock, as in Redis (`LRU_BITS`).
pub const LRU_CLOCK_BITS: u32 = 24;

/// The LRU clock: seconds, wrapping at 2^24 (194 days), as Redis keeps it per object.
#[inline]
pub fn lru_clock(now_ms: u64) -> u32 {
    ((now_ms / 1000) & ((1 << LRU_CLOCK_BITS) - 1)) as u32
}
