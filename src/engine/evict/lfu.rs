//! Redis's LFU counter (`evict.c`), kept in the same 24 access bits of an entry's `meta` that
//! the LRU clock uses under the other policies: the top 16 bits are the last decrement time in
//! minutes (mod 2^16), the low 8 bits a logarithmic access counter.
//!
//! A read increments the counter with probability `1 / ((counter - 5) * lfu-log-factor + 1)`,
//! so it saturates at 255 only after about a million hits at the default factor 10; the counter
//! loses one for every `lfu-decay-time` minutes since its last decrement, so keys that stopped
//! being read lose their rank. New keys start at [`LFU_INIT_VAL`], so they are not the first
//! victims just because they are new.

use std::cell::Cell;

/// The counter of a new key (`LFU_INIT_VAL`).
pub const LFU_INIT_VAL: u8 = 5;

/// `lfu-log-factor` and `lfu-decay-time`, read once per access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LfuParams {
    pub(crate) log_factor: u32,
    pub(crate) decay_minutes: u32,
}

/// The current time in minutes, mod 2^16 (`LFUGetTimeInMinutes`), from the cached clock.
#[inline]
pub(crate) fn now_minutes() -> u32 {
    (crate::engine::clock::cached_unix_seconds() / 60) as u32 & 0xffff
}

/// Minutes since `last` (`LFUTimeElapsed`; the minute clock wraps every 2^16 minutes).
#[inline]
fn minutes_since(last: u32, now: u32) -> u32 {
    if now >= last { now - last } else { 0xffff - last + now }
}

/// The counter after decay (`LFUDecrAndReturn`): what OBJECT FREQ reports and what eviction
/// ranks keys by.
#[inline]
pub(crate) fn decayed_counter(bits: u32, params: LfuParams, now: u32) -> u8 {
    let last = bits >> 8;
    let counter = (bits & 0xff) as u8;
    let periods = match params.decay_minutes {
        0 => 0,
        decay => minutes_since(last, now) / decay,
    };
    counter.saturating_sub(periods.min(255) as u8)
}

/// `LFULogIncr`.
#[inline]
fn log_increment(counter: u8, log_factor: u32) -> u8 {
    if counter == u8::MAX {
        return counter;
    }
    let base = f64::from(counter.saturating_sub(LFU_INIT_VAL));
    let probability = 1.0 / (base * f64::from(log_factor) + 1.0);
    if random_unit() < probability { counter + 1 } else { counter }
}

/// The access bits after one access (`updateLFU`).
#[inline]
pub(crate) fn on_access(bits: u32, params: LfuParams) -> u32 {
    let now = now_minutes();
    let counter = log_increment(decayed_counter(bits, params, now), params.log_factor);
    (now << 8) | u32::from(counter)
}

/// The access bits of a new key.
#[inline]
pub(crate) fn initial() -> u32 {
    (now_minutes() << 8) | u32::from(LFU_INIT_VAL)
}

thread_local! {
    /// xorshift64* state: the read path needs one cheap random number per LFU access, without
    /// a shared generator (a shared one would be a global read-modify-write per read).
    static RANDOM_STATE: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
    // Any non-zero value works; distinct per thread so threads do not move in lockstep.
    rand::random::<u64>() | 1
}

/// A uniform number in `[0, 1)`.
#[inline]
pub(crate) fn random_unit() -> f64 {
    let bits = RANDOM_STATE.with(|state| {
        let mut x = state.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        state.set(x);
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    });
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    const PARAMS: LfuParams = LfuParams { log_factor: 10, decay_minutes: 1 };

    #[test]
    fn counter_grows_logarithmically() {
        let mut bits = initial();
        for _ in 0..100 {
            bits = on_access(bits, PARAMS);
        }
        let after_100 = bits & 0xff;
        for _ in 0..10_000 {
            bits = on_access(bits, PARAMS);
        }
        let after_10k = bits & 0xff;
        // Redis's table (redis.conf): factor 10 gives about 10 after 100 hits, 18 after 1K,
        // 142 after 100K: far from linear, but ordered.
        assert!((6..=20).contains(&after_100), "{after_100}");
        assert!(after_10k > after_100 && after_10k < 100, "{after_10k}");
    }

    #[test]
    fn counter_decays_one_per_period_and_wraps() {
        let now = 100;
        let bits = ((now - 3) << 8) | 10;
        assert_eq!(decayed_counter(bits, PARAMS, now), 7);
        let slow = LfuParams { log_factor: 10, decay_minutes: 2 };
        assert_eq!(decayed_counter(bits, slow, now), 9);
        let never = LfuParams { log_factor: 10, decay_minutes: 0 };
        assert_eq!(decayed_counter(bits, never, now), 10);
        // Written at minute 65534, read at minute 1 after the wrap: 2 minutes.
        assert_eq!(decayed_counter((0xfffe << 8) | 10, PARAMS, 1), 8);
        assert_eq!(decayed_counter((50 << 8) | 3, PARAMS, 60_000), 0);
    }

    #[test]
    fn random_unit_is_in_range() {
        for _ in 0..1000 {
            let value = random_unit();
            assert!((0.0..1.0).contains(&value));
        }
    }
}
