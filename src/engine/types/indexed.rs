//! Random picks and cursor scans shared by the hash and the set, which both keep their
//! elements in an `indexmap` collection: a dense `0..len` index over the elements makes a
//! uniform random pick O(1) and gives SCAN a cursor that is simply a position.
//!
//! # Scan cursors
//!
//! Both collections delete with `swap_remove`, which moves the *last* element into the removed
//! slot, and insert by appending at the end. A scan therefore walks from the end toward the
//! start: the cursor is the number of positions not yet visited, so the unvisited elements are
//! exactly those at positions `0..cursor`. Cursor 0 starts a scan (at `len`) and a returned
//! cursor of 0 ends it, as Redis's SCAN requires.
//!
//! Invariant: every element present since the scan began and not yet returned sits below the
//! cursor. A removal at `i` moves the last element to `i`: if that element was above the
//! cursor it was already visited (or added during the scan) and at worst is returned twice;
//! if it was below the cursor it stays below it. The cursor is clamped to `len`, which keeps
//! every surviving unvisited position. Appends land at `len`, never below the cursor. So each
//! element present for the whole scan is returned at least once (Redis's guarantee), possibly
//! more than once when elements are removed meanwhile, which Redis also allows.

use std::ops::Range;

use rand::Rng;

/// The positions to pick for HRANDFIELD / SRANDMEMBER with a count, from a collection of `len`
/// elements.
///
/// A non-negative `count` gives distinct positions, `min(count, len)` of them (the whole
/// collection, in order, when `count >= len`). A negative `count` gives exactly `|count|`
/// positions that may repeat (none when `len` is 0). The result holds `|count|` positions, so
/// the command layer must bound `count` before calling (Redis refuses `i64::MIN`).
pub(crate) fn random_positions(len: usize, count: i64) -> Vec<usize> {
    let mut rng = rand::rng();
    if count >= 0 {
        let wanted = usize::try_from(count).unwrap_or(usize::MAX).min(len);
        if wanted == len {
            // Redis replies with the whole collection when asked for at least all of it.
            return (0..len).collect();
        }
        // Floyd's or a partial shuffle, whichever is cheaper: distinct and uniform either way.
        rand::seq::index::sample(&mut rng, len, wanted).into_vec()
    } else {
        if len == 0 {
            return Vec::new();
        }
        let wanted = usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX);
        (0..wanted).map(|_| rng.random_range(0..len)).collect()
    }
}

/// One uniformly random position in `0..len`, or `None` when the collection is empty.
pub(crate) fn random_position(len: usize) -> Option<usize> {
    (len > 0).then(|| rand::rng().random_range(0..len))
}

/// The positions one SCAN call visits and the cursor it returns (see the module docs).
///
/// `count` is Redis's COUNT hint: how many positions to visit, at least one so the scan always
/// progresses.
pub(crate) fn scan_window(cursor: u64, count: usize, len: usize) -> (u64, Range<usize>) {
    let end =
        if cursor == 0 { len } else { usize::try_from(cursor).unwrap_or(usize::MAX).min(len) };
    let start = end.saturating_sub(count.max(1));
    (start as u64, start..end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positive_count_is_distinct_and_bounded() {
        for (len, count) in [(0, 0), (0, 5), (5, 0), (5, 3), (5, 5), (5, 50), (100, 99)] {
            let positions = random_positions(len, count);
            assert_eq!(positions.len(), (count as usize).min(len));
            let mut sorted = positions.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), positions.len(), "positions repeat");
            assert!(positions.iter().all(|&position| position < len));
        }
        assert_eq!(random_positions(3, i64::MAX), vec![0, 1, 2]);
    }

    #[test]
    fn negative_count_repeats_exactly_count_times() {
        assert!(random_positions(0, -5).is_empty());
        let positions = random_positions(2, -50);
        assert_eq!(positions.len(), 50);
        assert!(positions.iter().all(|&position| position < 2));
        assert!(positions.contains(&0) && positions.contains(&1), "50 draws of 2 hit both");
    }

    #[test]
    fn single_random_position() {
        assert_eq!(random_position(0), None);
        assert_eq!(random_position(1), Some(0));
    }

    #[test]
    fn scan_window_walks_down_to_zero() {
        assert_eq!(scan_window(0, 10, 0), (0, 0..0));
        assert_eq!(scan_window(0, 4, 10), (6, 6..10));
        assert_eq!(scan_window(6, 4, 10), (2, 2..6));
        assert_eq!(scan_window(2, 4, 10), (0, 0..2));
        // A cursor beyond the (shrunk) collection is clamped; COUNT 0 still progresses.
        assert_eq!(scan_window(50, 4, 3), (0, 0..3));
        assert_eq!(scan_window(0, 0, 3), (2, 2..3));
        assert_eq!(scan_window(u64::MAX, 1, 3), (2, 2..3));
    }
}
