//! Range reads, counts, pops, range removal, ZRANDMEMBER and ZSCAN on [`ZSetValue`].
//!
//! Ranges locate their first element and its rank in one O(log n) descent, then walk level
//! 0; counts need only two descents. LIMIT offsets are applied by rank, not by walking.

use rand::Rng;

use super::skiplist::NIL;
use super::{LexRange, ScoreRange, ZSetValue};
use crate::engine::SmallBytes;

/// ZSCAN visits at most this many arena slots per requested element, so a sparse arena
/// (after many removals) cannot make one call unbounded; the cursor carries on from there.
const SCAN_SLOTS_PER_ELEMENT: usize = 10;

/// Members with their scores, as range commands return them.
pub type ScoredMembers = Vec<(SmallBytes, f64)>;

/// ZRANGE's index rules: negative indexes count from the end, `start` is clamped to 0 and
/// `stop` to the last index; `None` when the range is empty. Returns 0-based inclusive
/// indexes.
pub fn normalize_rank_range(start: i64, stop: i64, len: u64) -> Option<(u64, u64)> {
    let len = i64::try_from(len).unwrap_or(i64::MAX);
    let start = if start < 0 { len.saturating_add(start) } else { start }.max(0);
    let stop = if stop < 0 { len.saturating_add(stop) } else { stop };
    if start > stop || start >= len {
        return None;
    }
    Some((start as u64, stop.min(len - 1) as u64))
}

/// Which predicate family a range uses: scores or member bytes.
trait Bounds {
    fn above_min(&self, score: f64, member: &[u8]) -> bool;
    fn below_max(&self, score: f64, member: &[u8]) -> bool;
    fn is_empty(&self) -> bool;
}

impl Bounds for ScoreRange {
    fn above_min(&self, score: f64, _: &[u8]) -> bool {
        ScoreRange::above_min(self, score)
    }
    fn below_max(&self, score: f64, _: &[u8]) -> bool {
        ScoreRange::below_max(self, score)
    }
    fn is_empty(&self) -> bool {
        ScoreRange::is_empty(self)
    }
}

impl Bounds for LexRange {
    fn above_min(&self, _: f64, member: &[u8]) -> bool {
        LexRange::above_min(self, member)
    }
    fn below_max(&self, _: f64, member: &[u8]) -> bool {
        LexRange::below_max(self, member)
    }
    fn is_empty(&self) -> bool {
        LexRange::is_empty(self)
    }
}

impl ZSetValue {
    fn entry(&self, slot: u32) -> (SmallBytes, f64) {
        (self.list.member(slot).clone(), self.list.score(slot))
    }

    /// First element inside `range` and its 1-based rank (`zslFirstInRange`).
    fn first_in<B: Bounds>(&self, range: &B) -> Option<(u32, u64)> {
        if range.is_empty() {
            return None;
        }
        let (slot, rank) = self.list.first_not(|score, member| !range.above_min(score, member));
        let inside = slot != NIL
            && range.below_max(self.list.score(slot), self.list.member(slot).as_slice());
        inside.then_some((slot, rank))
    }

    /// Last element inside `range` and its 1-based rank (`zslLastInRange`).
    fn last_in<B: Bounds>(&self, range: &B) -> Option<(u32, u64)> {
        if range.is_empty() {
            return None;
        }
        let (slot, rank) = self.list.last_where(|score, member| range.below_max(score, member));
        let inside = slot != NIL
            && range.above_min(self.list.score(slot), self.list.member(slot).as_slice());
        inside.then_some((slot, rank))
    }

    fn count_in<B: Bounds>(&self, range: &B) -> u64 {
        match (self.first_in(range), self.last_in(range)) {
            (Some((_, first)), Some((_, last))) if last >= first => last - first + 1,
            _ => 0,
        }
    }

    /// ZCOUNT: members with a score inside `range`, in O(log n).
    pub fn count_in_score_range(&self, range: &ScoreRange) -> u64 {
        self.count_in(range)
    }

    /// ZLEXCOUNT: members inside the lex `range`, in O(log n).
    pub fn count_in_lex_range(&self, range: &LexRange) -> u64 {
        self.count_in(range)
    }

    /// ZRANGE by index (`start`/`stop` inclusive, negative from the end). With `reverse`
    /// (ZREVRANGE) index 0 is the highest score and elements come highest first.
    pub fn range_by_rank(&self, start: i64, stop: i64, reverse: bool) -> ScoredMembers {
        let Some((start, stop)) = normalize_rank_range(start, stop, self.len()) else {
            return Vec::new();
        };
        let count = (stop - start + 1) as usize;
        let mut out = Vec::with_capacity(count);
        let mut slot = if reverse {
            self.list.at_rank(self.len() - start)
        } else {
            self.list.at_rank(start + 1)
        };
        while out.len() < count && slot != NIL {
            out.push(self.entry(slot));
            slot = if reverse { self.list.prev(slot) } else { self.list.next(slot) };
        }
        out
    }

    fn range_in<B: Bounds>(
        &self,
        range: &B,
        reverse: bool,
        offset: i64,
        count: i64,
    ) -> ScoredMembers {
        // Redis's `while (ln && offset--)` never ends for a negative offset: nothing is
        // returned. A negative count means no limit.
        let (Ok(offset), false) = (u64::try_from(offset), count == 0) else {
            return Vec::new();
        };
        let limit = usize::try_from(count).unwrap_or(usize::MAX);
        let start = if reverse { self.last_in(range) } else { self.first_in(range) };
        let Some((_, rank)) = start else { return Vec::new() };
        let slot = if reverse {
            rank.checked_sub(offset).map_or(NIL, |rank| self.list.at_rank(rank))
        } else {
            rank.checked_add(offset).map_or(NIL, |rank| self.list.at_rank(rank))
        };
        let mut out = Vec::new();
        let mut slot = slot;
        while slot != NIL && out.len() < limit {
            let (score, member) = (self.list.score(slot), self.list.member(slot).as_slice());
            let inside = if reverse {
                range.above_min(score, member)
            } else {
                range.below_max(score, member)
            };
            if !inside {
                break;
            }
            out.push(self.entry(slot));
            slot = if reverse { self.list.prev(slot) } else { self.list.next(slot) };
        }
        out
    }

    /// ZRANGEBYSCORE / ZREVRANGEBYSCORE with `LIMIT offset count`: members with a score in
    /// `range`, lowest first (highest first with `reverse`), skipping `offset` (a negative
    /// offset returns nothing, as in Redis) and returning at most `count` (negative = all).
    /// Pass `0, -1` for no LIMIT.
    pub fn range_by_score(
        &self,
        range: &ScoreRange,
        reverse: bool,
        offset: i64,
        count: i64,
    ) -> ScoredMembers {
        self.range_in(range, reverse, offset, count)
    }

    /// ZRANGEBYLEX / ZREVRANGEBYLEX with LIMIT, as [`ZSetValue::range_by_score`].
    pub fn range_by_lex(
        &self,
        range: &LexRange,
        reverse: bool,
        offset: i64,
        count: i64,
    ) -> ScoredMembers {
        self.range_in(range, reverse, offset, count)
    }

    /// ZPOPMIN: removes and returns up to `count` lowest-scored members, lowest first.
    pub fn pop_min(&mut self, count: usize) -> ScoredMembers {
        let mut out = Vec::with_capacity(count.min(self.len() as usize));
        while out.len() < count && !self.is_empty() {
            out.push(self.remove_slot(self.list.first()));
        }
        self.debug_check();
        out
    }

    /// ZPOPMAX: removes and returns up to `count` highest-scored members, highest first.
    pub fn pop_max(&mut self, count: usize) -> ScoredMembers {
        let mut out = Vec::with_capacity(count.min(self.len() as usize));
        while out.len() < count && !self.is_empty() {
            out.push(self.remove_slot(self.list.last()));
        }
        self.debug_check();
        out
    }

    /// Removes `count` consecutive elements starting at `slot`; returns how many.
    fn remove_run(&mut self, mut slot: u32, count: u64) -> u64 {
        for _ in 0..count {
            let next = self.list.next(slot);
            self.remove_slot(slot);
            slot = next;
        }
        self.debug_check();
        count
    }

    /// ZREMRANGEBYRANK: removes the elements between two ZRANGE indexes; returns how many.
    pub fn remove_range_by_rank(&mut self, start: i64, stop: i64) -> u64 {
        let Some((start, stop)) = normalize_rank_range(start, stop, self.len()) else {
            return 0;
        };
        self.remove_run(self.list.at_rank(start + 1), stop - start + 1)
    }

    fn remove_in<B: Bounds>(&mut self, range: &B) -> u64 {
        let Some((slot, first)) = self.first_in(range) else { return 0 };
        let Some((_, last)) = self.last_in(range) else { return 0 };
        self.remove_run(slot, last - first + 1)
    }

    /// ZREMRANGEBYSCORE: removes members with a score in `range`; returns how many.
    pub fn remove_range_by_score(&mut self, range: &ScoreRange) -> u64 {
        self.remove_in(range)
    }

    /// ZREMRANGEBYLEX: removes members in the lex `range`; returns how many.
    pub fn remove_range_by_lex(&mut self, range: &LexRange) -> u64 {
        self.remove_in(range)
    }

    /// ZRANDMEMBER with a count. A positive `count` returns `min(count, len)` distinct members
    /// (the whole set, in order, when `count >= len`); a negative one returns exactly
    /// `|count|` members that may repeat. The caller bounds `|count|` (Redis replies with
    /// every one of them, so it is a reply-size limit, not a set-size one).
    pub fn random_members<R: Rng + ?Sized>(&self, count: i64, rng: &mut R) -> ScoredMembers {
        let len = self.len();
        if len == 0 || count == 0 {
            return Vec::new();
        }
        if count < 0 {
            let picks = count.unsigned_abs();
            return (0..picks)
                .map(|_| self.entry(self.list.at_rank(rng.random_range(1..=len))))
                .collect();
        }
        if count as u64 >= len {
            return self.range_by_rank(0, -1, false);
        }
        // Distinct ranks without replacement, each fetched by rank in O(log n).
        rand::seq::index::sample(rng, len as usize, count as usize)
            .into_iter()
            .map(|index| self.entry(self.list.at_rank(index as u64 + 1)))
            .collect()
    }

    /// One random member (ZRANDMEMBER without a count), `None` when empty.
    pub fn random_member<R: Rng + ?Sized>(&self, rng: &mut R) -> Option<(SmallBytes, f64)> {
        self.random_members(1, rng).pop()
    }

    /// ZSCAN: returns up to about `count` members from `cursor` on and the cursor to pass
    /// next (0 when done; start with 0). The cursor is a node slot, and a member keeps its
    /// slot for its whole life, so every member present for the whole scan is returned at
    /// least once (and at most once, unless removed and re-added). `count` is a hint.
    pub fn scan(&self, cursor: u64, count: usize) -> (u64, ScoredMembers) {
        let count = count.max(1);
        let slots = self.list.slot_count();
        let mut slot = usize::try_from(cursor).unwrap_or(usize::MAX);
        let budget_end = slot.saturating_add(count.saturating_mul(SCAN_SLOTS_PER_ELEMENT));
        let mut out = Vec::new();
        while slot < slots && slot < budget_end && out.len() < count {
            if let Some((member, score)) = self.list.live_slot(slot) {
                out.push((member.clone(), score));
            }
            slot += 1;
        }
        let next = if slot >= slots { 0 } else { slot as u64 };
        (next, out)
    }
}
