//! Sorted-set commands: ZADD and friends, ranges by rank/score/lex, pops, removals by range,
//! ZRANDMEMBER, ZSCAN, and ZUNION/ZINTER/ZDIFF with their STORE forms.

use crate::engine::access::{Access, OwnedData, OwnedValue};
use crate::engine::entry::{Collection, Kind, NO_DEADLINE};
use crate::engine::error::Result;
use crate::engine::glob;
use crate::engine::ops::hashes::check_random_count;
use crate::engine::types::zset::{
    Aggregate, LexRange, ScoreRange, ScoredMembers, ZAddFlags, ZSetSource, ZSetValue,
};

/// A member and its score, owned.
pub type MemberScore = (Vec<u8>, f64);

/// What ZRANGE selects by.
#[derive(Debug, Clone, PartialEq)]
pub enum ZRangeBy {
    /// Index range (inclusive, negatives from the end).
    Rank(i64, i64),
    /// BYSCORE.
    Score(ScoreRange),
    /// BYLEX.
    Lex(LexRange),
}

/// A ZRANGE request: what to select, REV, and LIMIT (`offset 0, count -1` for none; LIMIT
/// applies to BYSCORE and BYLEX only).
#[derive(Debug, Clone, PartialEq)]
pub struct ZRange {
    /// What to select.
    pub by: ZRangeBy,
    /// REV: highest first.
    pub reverse: bool,
    /// LIMIT offset.
    pub offset: i64,
    /// LIMIT count (negative: all).
    pub count: i64,
}

impl ZRange {
    /// A plain index range, lowest first.
    pub fn rank(start: i64, stop: i64) -> ZRange {
        ZRange { by: ZRangeBy::Rank(start, stop), reverse: false, offset: 0, count: -1 }
    }
}

/// What ZADD did: the number it replies with (added, or changed with CH), or with INCR the new
/// score (`None` when NX/XX/GT/LT skipped it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ZAddReply {
    /// Members added (or changed, with CH).
    Count(u64),
    /// INCR's new score, or `None` when the condition refused it.
    Score(Option<f64>),
}

/// ZUNION / ZINTER / ZDIFF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZSetAlgebra {
    /// ZUNION.
    Union,
    /// ZINTER.
    Intersection,
    /// ZDIFF.
    Difference,
}

fn zset(collection: &Collection) -> &ZSetValue {
    match collection {
        Collection::ZSet(zset) => zset,
        _ => unreachable!("the keyspace checked the type"),
    }
}

fn zset_mut(collection: &mut Collection) -> &mut ZSetValue {
    match collection {
        Collection::ZSet(zset) => zset,
        _ => unreachable!("the keyspace checked the type"),
    }
}

fn owned(members: ScoredMembers) -> Vec<MemberScore> {
    members.into_iter().map(|(member, score)| (member.to_vec(), score)).collect()
}

fn select(zset: &ZSetValue, range: &ZRange) -> ScoredMembers {
    match &range.by {
        ZRangeBy::Rank(start, stop) => zset.range_by_rank(*start, *stop, range.reverse),
        ZRangeBy::Score(scores) => {
            zset.range_by_score(scores, range.reverse, range.offset, range.count)
        }
        ZRangeBy::Lex(lex) => zset.range_by_lex(lex, range.reverse, range.offset, range.count),
    }
}

fn source(collection: &Collection) -> &dyn ZSetSource {
    match collection {
        Collection::ZSet(zset) => zset,
        Collection::Set(set) => set,
        _ => unreachable!("read_collections checked the types"),
    }
}

fn combine(
    operation: ZSetAlgebra,
    found: &[Option<&Collection>],
    weights: &[f64],
    aggregate: Aggregate,
) -> ZSetValue {
    let sources: Vec<Option<&dyn ZSetSource>> =
        found.iter().map(|collection| collection.map(source)).collect();
    let weighted: Vec<_> = sources
        .iter()
        .enumerate()
        .map(|(index, source)| (*source, weights.get(index).copied().unwrap_or(1.0)))
        .collect();
    match operation {
        ZSetAlgebra::Union => crate::engine::types::zset::union(&weighted, aggregate),
        ZSetAlgebra::Intersection => crate::engine::types::zset::intersection(&weighted, aggregate),
        ZSetAlgebra::Difference => crate::engine::types::zset::difference(&sources),
    }
}

/// Sorted-set commands, for every [`Access`].
pub trait ZSetOps: Access {
    /// ZADD with NX/XX/GT/LT/CH/INCR (checked by `flags.validate`).
    ///
    /// ```
    /// use corekv::{Engine, prelude::*};
    /// use corekv::engine::ops::{ZAddReply, ZRange};
    /// let engine = Engine::builder().shards(2).build();
    /// let db = engine.db(0);
    /// let added = db.zadd(b"z", &[(1.0, b"a"), (2.0, b"b")], Default::default()).unwrap();
    /// assert_eq!(added, ZAddReply::Count(2));
    /// assert_eq!(db.zrange(b"z", ZRange::rank(0, -1)).unwrap()[1], (b"b".to_vec(), 2.0));
    /// ```
    fn zadd(&self, key: &[u8], pairs: &[(f64, &[u8])], flags: ZAddFlags) -> Result<ZAddReply> {
        flags.validate(pairs.len())?;
        let outcome = self.write_collection(key, Kind::ZSet, !flags.xx, |collection| {
            let zset = zset_mut(collection);
            if flags.incr {
                let (score, member) = pairs[0];
                let outcome = zset.add(member, score, flags)?;
                return Ok(ZAddReply::Score(outcome.score()));
            }
            let mut count = 0;
            for (score, member) in pairs {
                count += zset.add(member, *score, flags)?.reply_count(flags.ch);
            }
            Ok(ZAddReply::Count(count))
        })?;
        Ok(outcome.unwrap_or(if flags.incr { ZAddReply::Score(None) } else { ZAddReply::Count(0) }))
    }

    /// ZINCRBY: the new score.
    fn zincrby(&self, key: &[u8], delta: f64, member: &[u8]) -> Result<f64> {
        let score = self.write_collection(key, Kind::ZSet, true, |collection| {
            zset_mut(collection).incr_by(member, delta)
        })?;
        Ok(score.expect("created when missing"))
    }

    /// ZREM: how many were removed.
    fn zrem(&self, key: &[u8], members: &[&[u8]]) -> Result<u64> {
        let removed = self.write_collection(key, Kind::ZSet, false, |collection| {
            Ok(zset_mut(collection).remove(members.iter().copied()))
        })?;
        Ok(removed.unwrap_or(0))
    }

    /// ZSCORE.
    fn zscore(&self, key: &[u8], member: &[u8]) -> Result<Option<f64>> {
        let score =
            self.read_collection(key, Kind::ZSet, |collection| zset(collection).score(member))?;
        Ok(score.flatten())
    }

    /// ZMSCORE.
    fn zmscore(&self, key: &[u8], members: &[&[u8]]) -> Result<Vec<Option<f64>>> {
        let scores = self.read_collection(key, Kind::ZSet, |collection| {
            members.iter().map(|member| zset(collection).score(member)).collect()
        })?;
        Ok(scores.unwrap_or_else(|| vec![None; members.len()]))
    }

    /// ZCARD.
    fn zcard(&self, key: &[u8]) -> Result<u64> {
        Ok(self.read_collection(key, Kind::ZSet, |collection| zset(collection).len())?.unwrap_or(0))
    }

    /// ZCOUNT.
    fn zcount(&self, key: &[u8], range: &ScoreRange) -> Result<u64> {
        let count = self.read_collection(key, Kind::ZSet, |collection| {
            zset(collection).count_in_score_range(range)
        })?;
        Ok(count.unwrap_or(0))
    }

    /// ZLEXCOUNT.
    fn zlexcount(&self, key: &[u8], range: &LexRange) -> Result<u64> {
        let count = self.read_collection(key, Kind::ZSet, |collection| {
            zset(collection).count_in_lex_range(range)
        })?;
        Ok(count.unwrap_or(0))
    }

    /// ZRANK / ZREVRANK (with the member's score, for Redis 7.2's WITHSCORE).
    fn zrank(&self, key: &[u8], member: &[u8], reverse: bool) -> Result<Option<(u64, f64)>> {
        let rank = self.read_collection(key, Kind::ZSet, |collection| {
            let zset = zset(collection);
            Some((zset.rank(member, reverse)?, zset.score(member)?))
        })?;
        Ok(rank.flatten())
    }

    /// ZRANGE (and ZRANGEBYSCORE, ZREVRANGEBYSCORE, ZRANGEBYLEX, ZREVRANGEBYLEX).
    fn zrange(&self, key: &[u8], range: ZRange) -> Result<Vec<MemberScore>> {
        let members = self.read_collection(key, Kind::ZSet, |collection| {
            owned(select(zset(collection), &range))
        })?;
        Ok(members.unwrap_or_default())
    }

    /// ZRANGESTORE: stores the selection at `destination` (deleting it when empty); returns
    /// its size.
    fn zrangestore(&self, destination: &[u8], source: &[u8], range: ZRange) -> Result<u64> {
        self.atomically(&[destination, source], |txn| {
            let selected = txn.read_collections(&[source], &[Kind::ZSet], |found| {
                found[0].map(|collection| select(zset(collection), &range)).unwrap_or_default()
            })?;
            let result: ZSetValue =
                selected.iter().map(|(member, score)| (member.as_slice(), *score)).collect();
            let len = result.len();
            let data = OwnedData::Collection(Collection::ZSet(result));
            txn.put(destination, OwnedValue { data, deadline_ms: NO_DEADLINE })?;
            Ok(len)
        })
    }

    /// ZPOPMIN (`max: false`) / ZPOPMAX (`max: true`).
    fn zpop(&self, key: &[u8], max: bool, count: usize) -> Result<Vec<MemberScore>> {
        let popped = self.write_collection(key, Kind::ZSet, false, |collection| {
            let zset = zset_mut(collection);
            Ok(owned(if max { zset.pop_max(count) } else { zset.pop_min(count) }))
        })?;
        Ok(popped.unwrap_or_default())
    }

    /// ZREMRANGEBYRANK.
    fn zremrangebyrank(&self, key: &[u8], start: i64, stop: i64) -> Result<u64> {
        let removed = self.write_collection(key, Kind::ZSet, false, |collection| {
            Ok(zset_mut(collection).remove_range_by_rank(start, stop))
        })?;
        Ok(removed.unwrap_or(0))
    }

    /// ZREMRANGEBYSCORE.
    fn zremrangebyscore(&self, key: &[u8], range: &ScoreRange) -> Result<u64> {
        let removed = self.write_collection(key, Kind::ZSet, false, |collection| {
            Ok(zset_mut(collection).remove_range_by_score(range))
        })?;
        Ok(removed.unwrap_or(0))
    }

    /// ZREMRANGEBYLEX.
    fn zremrangebylex(&self, key: &[u8], range: &LexRange) -> Result<u64> {
        let removed = self.write_collection(key, Kind::ZSet, false, |collection| {
            Ok(zset_mut(collection).remove_range_by_lex(range))
        })?;
        Ok(removed.unwrap_or(0))
    }

    /// ZRANDMEMBER with a count (positive: distinct; negative: exactly |count|, may repeat).
    fn zrandmember(&self, key: &[u8], count: i64) -> Result<Vec<MemberScore>> {
        check_random_count(count)?;
        let members = self.read_collection(key, Kind::ZSet, |collection| {
            owned(zset(collection).random_members(count, &mut rand::rng()))
        })?;
        Ok(members.unwrap_or_default())
    }

    /// ZRANDMEMBER without a count.
    fn zrandmember_one(&self, key: &[u8]) -> Result<Option<MemberScore>> {
        let member = self.read_collection(key, Kind::ZSet, |collection| {
            zset(collection).random_member(&mut rand::rng())
        })?;
        Ok(member.flatten().map(|(member, score)| (member.to_vec(), score)))
    }

    /// ZSCAN: the next cursor (0 when done) and this step's members with scores.
    fn zscan(
        &self,
        key: &[u8],
        cursor: u64,
        pattern: Option<&[u8]>,
        count: usize,
    ) -> Result<(u64, Vec<MemberScore>)> {
        let page = self.read_collection(key, Kind::ZSet, |collection| {
            let (next, mut found) = zset(collection).scan(cursor, count);
            if let Some(pattern) = pattern {
                found.retain(|(member, _)| glob::matches(pattern, member));
            }
            (next, owned(found))
        })?;
        Ok(page.unwrap_or((0, Vec::new())))
    }

    /// ZUNION / ZINTER / ZDIFF over sorted sets and plain sets (members of a set score 1),
    /// read atomically. `weights` may be empty (all 1); ZDIFF ignores weights and aggregate.
    fn zset_algebra(
        &self,
        operation: ZSetAlgebra,
        keys: &[&[u8]],
        weights: &[f64],
        aggregate: Aggregate,
    ) -> Result<Vec<MemberScore>> {
        self.atomically(keys, |txn| {
            txn.read_collections(keys, &[Kind::ZSet, Kind::Set], |found| {
                let result = combine(operation, found, weights, aggregate);
                result.iter().map(|(member, score)| (member.to_vec(), score)).collect()
            })
        })
    }

    /// ZUNIONSTORE / ZINTERSTORE / ZDIFFSTORE: stores the result at `destination` (deleting it
    /// when empty); returns its size.
    fn zset_algebra_store(
        &self,
        operation: ZSetAlgebra,
        destination: &[u8],
        keys: &[&[u8]],
        weights: &[f64],
        aggregate: Aggregate,
    ) -> Result<u64> {
        let mut all = vec![destination];
        all.extend_from_slice(keys);
        self.atomically(&all, |txn| {
            let result = txn.read_collections(keys, &[Kind::ZSet, Kind::Set], |found| {
                combine(operation, found, weights, aggregate)
            })?;
            let len = result.len();
            let data = OwnedData::Collection(Collection::ZSet(result));
            txn.put(destination, OwnedValue { data, deadline_ms: NO_DEADLINE })?;
            Ok(len)
        })
    }

    /// ZINTERCARD: the intersection's size, counting at most `limit` (0 = no limit).
    fn zintercard(&self, keys: &[&[u8]], limit: u64) -> Result<u64> {
        self.atomically(keys, |txn| {
            txn.read_collections(keys, &[Kind::ZSet, Kind::Set], |found| {
                let sources: Vec<Option<&dyn ZSetSource>> =
                    found.iter().map(|collection| collection.map(source)).collect();
                crate::engine::types::zset::intersection_cardinality(&sources, limit)
            })
        })
    }
}

impl<A: Access + ?Sized> ZSetOps for A {}
