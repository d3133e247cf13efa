//! The sorted set (ZSET) value: Redis 7.0's semantics over a skiplist and a member index.
//!
//! # Layout
//!
//! - `skiplist`: the arena skiplist ordered by `(score, member)`, with spans for O(log n)
//!   ranks. It owns the members.
//! - this file: [`ZSetValue`], which pairs the skiplist with a hash index from member to
//!   skiplist slot (a `hashbrown::HashTable<u32>`, so each member is stored once), and the
//!   point operations (ZADD, ZREM, ZSCORE, ZINCRBY, ZRANK).
//! - `query`: ranges, counts, pops, range removal, ZRANDMEMBER, ZSCAN.
//! - `range`: score and lex bounds and their parsers.
//! - `setops`: ZUNION, ZINTER, ZDIFF (and their STORE forms), ZINTERCARD.
//!
//! # Invariants
//!
//! The index and the skiplist hold the same members; no score is NaN; `-0.0` is stored as
//! `0.0`. (Redis's listpack encoding, used for every small sorted set, turns `-0` into `0`,
//! and its skiplist compares `-0 == 0` anyway; one rule keeps replies consistent.) In debug
//! builds every mutation ends with [`ZSetValue::check_invariants`] when the set is small.

mod query;
mod range;
mod setops;
mod skiplist;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

use std::fmt;
use std::hash::BuildHasher;

use hashbrown::HashTable;

use crate::engine::{Error, Result, SmallBytes};
pub use query::{ScoredMembers, normalize_rank_range};
pub use range::{LEX_RANGE_ERROR, LexBound, LexRange, SCORE_RANGE_ERROR, ScoreBound, ScoreRange};
pub use setops::{
    Aggregate, WeightedInput, ZSetSource, difference, intersection, intersection_cardinality, union,
};
use skiplist::{NIL, SkipList};

/// ZADD's options. Their combinations are checked by [`ZAddFlags::validate`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ZAddFlags {
    /// NX: only add new members.
    pub nx: bool,
    /// XX: only update existing members.
    pub xx: bool,
    /// GT: only update when the new score is greater.
    pub gt: bool,
    /// LT: only update when the new score is less.
    pub lt: bool,
    /// CH: count changed members, not only added ones, in the reply.
    pub ch: bool,
    /// INCR: add the score to the current one, reply with the new score.
    pub incr: bool,
}

impl ZAddFlags {
    /// Checks option combinations as `zaddGenericCommand` does, given the number of
    /// score-member pairs, with Redis's error texts.
    pub fn validate(&self, pairs: usize) -> Result<()> {
        if self.nx && self.xx {
            return Err(Error::Other("ERR XX and NX options at the same time are not compatible"));
        }
        if (self.nx && (self.gt || self.lt)) || (self.gt && self.lt) {
            return Err(Error::Other(
                "ERR GT, LT, and/or NX options at the same time are not compatible",
            ));
        }
        if self.incr && pairs > 1 {
            return Err(Error::Other("ERR INCR option supports a single increment-element pair"));
        }
        Ok(())
    }
}

/// What one ZADD pair did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AddOutcome {
    /// A new member was added with this score.
    Added(f64),
    /// An existing member's score changed to this.
    Updated(f64),
    /// The member exists and keeps this score (same score, or an INCR by 0).
    Unchanged(f64),
    /// NX, XX, GT or LT refused the pair; nothing changed. ZADD INCR replies nil.
    Skipped,
}

impl AddOutcome {
    /// The member's score after the call, `None` when skipped (ZADD INCR's reply).
    pub fn score(&self) -> Option<f64> {
        match *self {
            AddOutcome::Added(score)
            | AddOutcome::Updated(score)
            | AddOutcome::Unchanged(score) => Some(score),
            AddOutcome::Skipped => None,
        }
    }

    /// This pair's contribution to ZADD's integer reply: added members, plus updated ones
    /// with CH.
    pub fn reply_count(&self, ch: bool) -> u64 {
        match self {
            AddOutcome::Added(_) => 1,
            AddOutcome::Updated(_) => u64::from(ch),
            AddOutcome::Unchanged(_) | AddOutcome::Skipped => 0,
        }
    }
}

/// Sets no larger than this are fully checked after each mutation in debug builds; the check
/// is O(n), so big sets in debug tests would otherwise go quadratic.
#[cfg(debug_assertions)]
const DEBUG_CHECK_MAX_LEN: u64 = 512;

/// A sorted set: unique members ordered by score, then by member bytes.
#[derive(Clone, Default)]
pub struct ZSetValue {
    list: SkipList,
    /// Member -> skiplist slot. Hashes are of the member bytes; equality reads the member from
    /// the slot, so members are not duplicated.
    index: HashTable<u32>,
    hasher: foldhash::fast::RandomState,
}

/// `-0.0` becomes `0.0`; every other score is unchanged.
fn normalize_zero(score: f64) -> f64 {
    score + 0.0
}

impl ZSetValue {
    /// An empty sorted set.
    pub fn new() -> ZSetValue {
        ZSetValue::default()
    }

    /// Number of members (ZCARD).
    pub fn len(&self) -> u64 {
        self.list.len()
    }

    /// No members (the key should then be deleted).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The skiplist slot holding `member`.
    fn slot_of(&self, member: &[u8]) -> Option<u32> {
        let hash = self.hasher.hash_one(member);
        self.index.find(hash, |&slot| self.list.member(slot).as_slice() == member).copied()
    }

    /// `member`'s score (ZSCORE, ZMSCORE).
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        self.slot_of(member).map(|slot| self.list.score(slot))
    }

    /// `member` is in the set.
    pub fn contains(&self, member: &[u8]) -> bool {
        self.slot_of(member).is_some()
    }

    /// Inserts a member known to be absent.
    fn insert_new(&mut self, member: &[u8], score: f64) {
        let hash = self.hasher.hash_one(member);
        let slot = self.list.insert(SmallBytes::new(member), score);
        let Self { list, index, hasher } = self;
        index.insert_unique(hash, slot, |&slot| hasher.hash_one(list.member(slot).as_slice()));
    }

    /// Applies one ZADD score-member pair with `flags` (Redis's `zsetAdd`). With `incr`,
    /// `score` is added to the current score (a new member starts from 0). GT and LT only
    /// restrict updates: a new member is always added unless XX. A NaN result (`+inf` plus
    /// `-inf`) is [`Error::ScoreNan`] and changes nothing.
    pub fn add(&mut self, member: &[u8], score: f64, flags: ZAddFlags) -> Result<AddOutcome> {
        if score.is_nan() {
            return Err(Error::ScoreNan);
        }
        let outcome = match self.slot_of(member) {
            Some(_) if flags.nx => AddOutcome::Skipped,
            Some(slot) => {
                let current = self.list.score(slot);
                let new_score = if flags.incr { current + score } else { score };
                if new_score.is_nan() {
                    return Err(Error::ScoreNan);
                }
                if (flags.lt && new_score >= current) || (flags.gt && new_score <= current) {
                    AddOutcome::Skipped
                } else if new_score != current {
                    let new_score = normalize_zero(new_score);
                    self.list.update_score(slot, new_score);
                    AddOutcome::Updated(new_score)
                } else {
                    AddOutcome::Unchanged(current)
                }
            }
            None if flags.xx => AddOutcome::Skipped,
            None => {
                let score = normalize_zero(score);
                self.insert_new(member, score);
                AddOutcome::Added(score)
            }
        };
        self.debug_check();
        Ok(outcome)
    }

    /// ZINCRBY: adds `delta` to `member`'s score (from 0 when absent) and returns the new
    /// score; [`Error::ScoreNan`] when the sum is NaN.
    pub fn incr_by(&mut self, member: &[u8], delta: f64) -> Result<f64> {
        let flags = ZAddFlags { incr: true, ..ZAddFlags::default() };
        let outcome = self.add(member, delta, flags)?;
        Ok(outcome.score().expect("a plain INCR is never skipped"))
    }

    /// Removes `member`; returns whether it was present.
    pub fn remove_one(&mut self, member: &[u8]) -> bool {
        let hash = self.hasher.hash_one(member);
        let Self { list, index, .. } = self;
        let Ok(entry) = index.find_entry(hash, |&slot| list.member(slot).as_slice() == member)
        else {
            return false;
        };
        let (slot, _) = entry.remove();
        list.remove(slot);
        self.debug_check();
        true
    }

    /// ZREM: removes each member present; returns how many were removed (a member named
    /// twice counts once).
    pub fn remove<'a>(&mut self, members: impl IntoIterator<Item = &'a [u8]>) -> u64 {
        members.into_iter().map(|member| u64::from(self.remove_one(member))).sum()
    }

    /// Removes the element in `slot` from both structures and returns it.
    fn remove_slot(&mut self, slot: u32) -> (SmallBytes, f64) {
        let hash = self.hasher.hash_one(self.list.member(slot).as_slice());
        let Ok(entry) = self.index.find_entry(hash, |&candidate| candidate == slot) else {
            unreachable!("skiplist slot {slot} missing from the index")
        };
        entry.remove();
        self.list.remove(slot)
    }

    /// ZRANK (`reverse = false`) or ZREVRANK: `member`'s 0-based position, in O(log n).
    pub fn rank(&self, member: &[u8], reverse: bool) -> Option<u64> {
        let rank = self.list.rank_of(self.slot_of(member)?);
        Some(if reverse { self.len() - rank } else { rank - 1 })
    }

    /// The members and scores in order (or reverse order with `.rev()`).
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            list: &self.list,
            front: self.list.first(),
            back: self.list.last(),
            remaining: self.len(),
        }
    }

    /// Heap bytes held, for maxmemory accounting, in O(1): the node arena's capacity, each
    /// node's extra levels, members longer than the inline size, and the index's table.
    /// Freed node slots stay allocated for reuse until the set is dropped.
    pub fn memory_bytes(&self) -> usize {
        self.list.heap_bytes() + self.index.allocation_size()
    }

    /// Checks that the skiplist is well formed and that the index and skiplist agree;
    /// panics otherwise. O(n); for tests and debug builds.
    #[cfg(any(test, debug_assertions))]
    pub fn check_invariants(&self) {
        self.list.check_invariants();
        assert_eq!(self.index.len() as u64, self.len(), "index and skiplist sizes differ");
        for (member, score) in self.iter() {
            assert!(!score.is_nan());
            assert!(!(score == 0.0 && score.is_sign_negative()), "-0 stored");
            let slot = self.slot_of(member).expect("skiplist member missing from the index");
            assert_eq!(self.list.member(slot).as_slice(), member);
        }
    }

    #[inline]
    fn debug_check(&self) {
        #[cfg(debug_assertions)]
        if self.len() <= DEBUG_CHECK_MAX_LEN {
            self.check_invariants();
        }
    }
}

/// In-order iterator over `(member, score)`, double-ended.
#[derive(Debug, Clone)]
pub struct Iter<'a> {
    list: &'a SkipList,
    front: u32,
    back: u32,
    remaining: u64,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        let slot = self.front;
        debug_assert_ne!(slot, NIL);
        self.front = self.list.next(slot);
        self.remaining -= 1;
        Some((self.list.member(slot).as_slice(), self.list.score(slot)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let remaining = usize::try_from(self.remaining).unwrap_or(usize::MAX);
        (remaining, Some(remaining))
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        let slot = self.back;
        debug_assert_ne!(slot, NIL);
        self.back = self.list.prev(slot);
        self.remaining -= 1;
        Some((self.list.member(slot).as_slice(), self.list.score(slot)))
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl fmt::Debug for ZSetValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.iter().map(|(member, score)| (member.escape_ascii().to_string(), score)))
            .finish()
    }
}

/// Equal when the same members have the same scores (for tests and DEBUG DIGEST-like checks).
impl PartialEq for ZSetValue {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl<'a> FromIterator<(&'a [u8], f64)> for ZSetValue {
    /// Builds a set as repeated plain ZADDs (a later score for a member wins). Panics on NaN.
    fn from_iter<I: IntoIterator<Item = (&'a [u8], f64)>>(pairs: I) -> Self {
        let mut set = ZSetValue::new();
        for (member, score) in pairs {
            set.add(member, score, ZAddFlags::default()).expect("score is not NaN");
        }
        set
    }
}
