//! TinyLFU's frequency sketch (Einziger, Friedman and Manes, "TinyLFU: A Highly Efficient
//! Cache Admission Policy", ACM ToS 2017; Caffeine's `FrequencySketch`): a count-min sketch of
//! 4-bit counters in four rows that estimates how often a key was *requested*, present or not,
//! over a recent window.
//!
//! Every [`SAMPLE_FACTOR`] x width recorded requests all counters are halved, so the estimate
//! follows a changing popularity. Counters are updated with relaxed loads and stores, not
//! read-modify-writes: two racing updates of one word may lose one of them, which for a
//! frequency estimate is noise, and keeps the read path free of contended atomics beyond the
//! one request counter.

use std::sync::atomic::{AtomicU64, Ordering};

use crossbeam_utils::CachePadded;

/// Counters per row per estimated key of the group (a sketch at least as wide as the number of
/// keys it ranks keeps count-min's overestimates rare).
const ROWS: usize = 4;
/// Counters per 64-bit word.
const COUNTERS_PER_WORD: u64 = 16;
/// The reset period, in recorded requests per counter of a row (Caffeine's 10).
pub(crate) const SAMPLE_FACTOR: u64 = 10;
/// The narrowest and widest rows.
pub(crate) const MIN_WIDTH: u64 = 1 << 8;
pub(crate) const MAX_WIDTH: u64 = 1 << 22;
/// The largest count (4 bits).
pub(crate) const MAX_COUNT: u8 = 15;
/// One odd multiplier per row, so each row indexes the key's hash differently.
const ROW_SEEDS: [u64; ROWS] =
    [0x9e37_79b9_7f4a_7c15, 0xc2b2_ae3d_27d4_eb4f, 0x1656_67b1_9e37_79f9, 0x27d4_eb2f_1656_67c5];

/// The sketch of one group.
#[derive(Debug)]
pub(crate) struct Sketch {
    /// `ROWS` rows of `width` counters, 16 to a word.
    words: Box<[AtomicU64]>,
    width: u64,
    /// Requests recorded since the last halving; the reset trigger.
    requests: CachePadded<AtomicU64>,
}

impl Sketch {
    /// A sketch for about `keys` keys (rounded up to a power of two within the bounds).
    pub(crate) fn new(keys: u64) -> Sketch {
        let width = keys.clamp(MIN_WIDTH, MAX_WIDTH).next_power_of_two();
        let words = (0..ROWS as u64 * width / COUNTERS_PER_WORD).map(|_| AtomicU64::new(0));
        Sketch { words: words.collect(), width, requests: CachePadded::new(AtomicU64::new(0)) }
    }

    /// Bytes the sketch holds.
    pub(crate) fn memory_bytes(&self) -> usize {
        self.words.len() * std::mem::size_of::<AtomicU64>()
    }

    /// (word index, bit shift) of the key's counter in `row`.
    #[inline]
    fn slot(&self, hash: u64, row: usize) -> (usize, u32) {
        let mixed = (hash ^ (hash >> 29)).wrapping_mul(ROW_SEEDS[row]);
        let index = (mixed >> 32) & (self.width - 1);
        let word = row as u64 * (self.width / COUNTERS_PER_WORD) + index / COUNTERS_PER_WORD;
        (word as usize, ((index % COUNTERS_PER_WORD) * 4) as u32)
    }

    #[inline]
    fn counter(&self, word: usize, shift: u32) -> u8 {
        // Relaxed: see the module docs; a counter is an estimate, publishing nothing.
        ((self.words[word].load(Ordering::Relaxed) >> shift) & 0xf) as u8
    }

    /// The estimated requests for the key with this hash (0..=15).
    #[inline]
    pub(crate) fn frequency(&self, hash: u64) -> u8 {
        (0..ROWS)
            .map(|row| self.slot(hash, row))
            .map(|(w, s)| self.counter(w, s))
            .min()
            .unwrap_or(0)
    }

    /// Records one request for the key with this hash (conservative update: only the
    /// counters at the current minimum grow).
    #[inline]
    pub(crate) fn record(&self, hash: u64) {
        let slots: [(usize, u32); ROWS] = std::array::from_fn(|row| self.slot(hash, row));
        let minimum = slots.iter().map(|&(w, s)| self.counter(w, s)).min().unwrap_or(0);
        if minimum < MAX_COUNT {
            for (word, shift) in slots {
                if self.counter(word, shift) == minimum {
                    // Relaxed load and store: see the module docs.
                    let value = self.words[word].load(Ordering::Relaxed);
                    self.words[word].store(value + (1 << shift), Ordering::Relaxed);
                }
            }
        }
        // Relaxed: a trigger; the halving it starts needs no ordering with the counters.
        let requests = self.requests.fetch_add(1, Ordering::Relaxed) + 1;
        if requests == SAMPLE_FACTOR * self.width {
            self.halve();
        }
    }

    /// Halves every counter (TinyLFU's reset), so old popularity fades.
    fn halve(&self) {
        const LOW_BITS_CLEARED: u64 = 0x7777_7777_7777_7777;
        for word in self.words.iter() {
            // Relaxed: see the module docs.
            let value = word.load(Ordering::Relaxed);
            word.store((value >> 1) & LOW_BITS_CLEARED, Ordering::Relaxed);
        }
        // Relaxed: see `record`.
        self.requests.store(SAMPLE_FACTOR * self.width / 2, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(key: u64) -> u64 {
        use std::hash::BuildHasher;
        foldhash::fast::FixedState::with_seed(1).hash_one(key)
    }

    #[test]
    fn estimates_are_ordered_and_capped() {
        let sketch = Sketch::new(1024);
        for key in 0..200u64 {
            for _ in 0..(key % 20) {
                sketch.record(hash(key));
            }
        }
        let mut overestimates = 0;
        for key in 0..200u64 {
            let estimate = sketch.frequency(hash(key));
            let truth = (key % 20).min(u64::from(MAX_COUNT)) as u8;
            assert!(estimate >= truth, "count-min never underestimates: {key}");
            overestimates += usize::from(estimate > truth);
        }
        assert!(overestimates < 20, "{overestimates}");
        assert_eq!(sketch.frequency(hash(1_000_000)), 0);
    }

    #[test]
    fn counts_halve_after_the_sample_period() {
        let sketch = Sketch::new(MIN_WIDTH);
        for _ in 0..12 {
            sketch.record(hash(7));
        }
        assert_eq!(sketch.frequency(hash(7)), 12);
        // Fill the rest of the period with other keys.
        for key in 0..(SAMPLE_FACTOR * MIN_WIDTH - 12) {
            sketch.record(hash(1000 + key));
        }
        assert!(sketch.frequency(hash(7)) <= 7, "{}", sketch.frequency(hash(7)));
        assert_eq!(sketch.memory_bytes(), (MIN_WIDTH as usize / 16) * ROWS * 8);
    }
}
