//! ZUNION, ZINTER, ZDIFF (and their STORE forms) and ZINTERCARD, as Redis 7.0's
//! `zunionInterDiffGenericCommand` computes them.
//!
//! Inputs are anything that can list and look up scored members ([`ZSetSource`]): sorted sets,
//! and plain sets, whose members all score 1. A missing key is `None`, an empty input.
//!
//! Floating-point details copied from Redis, because they decide reply bytes:
//! - union and intersection process inputs from the smallest to the largest (a stable sort by
//!   size), which fixes the order SUM adds in;
//! - a weighted score that is NaN (`inf * 0`) counts as 0 when it starts an element's
//!   aggregate (every union input, the first intersection input), but later intersection
//!   inputs' NaN products go to the aggregate as they are;
//! - a SUM that becomes NaN (`inf + -inf`) becomes 0; MIN and MAX ignore a NaN operand.

use std::collections::HashMap;

use super::{ZAddFlags, ZSetValue};

/// A readable scored collection: a sorted set, or a plain set whose members score 1.
pub trait ZSetSource {
    /// Number of members.
    fn member_count(&self) -> u64;
    /// `member`'s score, if present.
    fn score_of(&self, member: &[u8]) -> Option<f64>;
    /// Calls `visit` with every member and its score, in any order.
    fn for_each_member(&self, visit: &mut dyn FnMut(&[u8], f64));
}

impl ZSetSource for ZSetValue {
    fn member_count(&self) -> u64 {
        self.len()
    }
    fn score_of(&self, member: &[u8]) -> Option<f64> {
        self.score(member)
    }
    fn for_each_member(&self, visit: &mut dyn FnMut(&[u8], f64)) {
        for (member, score) in self.iter() {
            visit(member, score);
        }
    }
}

/// AGGREGATE: how scores of the same member in several inputs combine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Aggregate {
    /// The weighted scores' sum (the default).
    #[default]
    Sum,
    /// The smallest weighted score.
    Min,
    /// The largest weighted score.
    Max,
}

impl Aggregate {
    /// Folds `value` into `target` (Redis's `zunionInterAggregate`).
    fn fold(self, target: &mut f64, value: f64) {
        match self {
            Aggregate::Sum => {
                *target += value;
                if target.is_nan() {
                    *target = 0.0;
                }
            }
            Aggregate::Min => {
                if value < *target {
                    *target = value;
                }
            }
            Aggregate::Max => {
                if value > *target {
                    *target = value;
                }
            }
        }
    }
}

/// An input with its WEIGHTS factor; `None` is a missing key.
pub type WeightedInput<'a> = (Option<&'a dyn ZSetSource>, f64);

fn input_len(input: &WeightedInput<'_>) -> u64 {
    input.0.map_or(0, |source| source.member_count())
}

/// Inputs ordered from the smallest, as Redis's `qsort` by cardinality (glibc's is a stable
/// merge sort for these sizes).
fn by_size<'a, 'b>(inputs: &'b [WeightedInput<'a>]) -> Vec<&'b WeightedInput<'a>> {
    let mut sorted: Vec<_> = inputs.iter().collect();
    sorted.sort_by_key(|input| input_len(input));
    sorted
}

/// `weight * score`, with NaN (`0 * inf`) as 0.
fn weighted_start(weight: f64, score: f64) -> f64 {
    let product = weight * score;
    if product.is_nan() { 0.0 } else { product }
}

/// ZUNION / ZUNIONSTORE.
pub fn union(inputs: &[WeightedInput<'_>], aggregate: Aggregate) -> ZSetValue {
    let mut scores: HashMap<Vec<u8>, f64, foldhash::fast::RandomState> = HashMap::default();
    for (source, weight) in by_size(inputs) {
        let Some(source) = source else { continue };
        source.for_each_member(&mut |member, score| {
            let score = weighted_start(*weight, score);
            match scores.get_mut(member) {
                Some(total) => aggregate.fold(total, score),
                None => {
                    scores.insert(member.to_vec(), score);
                }
            }
        });
    }
    scores.iter().map(|(member, &score)| (member.as_slice(), score)).collect()
}

/// Calls `found(member, aggregated score)` for each member of every input (Redis's
/// intersection loop over the smallest input).
fn for_each_common(
    inputs: &[WeightedInput<'_>],
    aggregate: Aggregate,
    found: &mut dyn FnMut(&[u8], f64) -> bool,
) {
    let sorted = by_size(inputs);
    let Some(((Some(smallest), first_weight), rest)) = sorted.split_first().map(|(f, r)| (**f, r))
    else {
        return;
    };
    let mut stopped = false;
    smallest.for_each_member(&mut |member, score| {
        if stopped {
            return;
        }
        let mut total = weighted_start(first_weight, score);
        for (source, weight) in rest {
            match source.and_then(|source| source.score_of(member)) {
                Some(score) => aggregate.fold(&mut total, score * weight),
                None => return,
            }
        }
        stopped = !found(member, total);
    });
}

/// ZINTER / ZINTERSTORE.
pub fn intersection(inputs: &[WeightedInput<'_>], aggregate: Aggregate) -> ZSetValue {
    let mut result = ZSetValue::new();
    for_each_common(inputs, aggregate, &mut |member, score| {
        result.add(member, score, ZAddFlags::default()).expect("aggregates are never NaN");
        true
    });
    result
}

/// ZINTERCARD: the intersection's size, counting stops at `limit` (0 = no limit).
pub fn intersection_cardinality(inputs: &[Option<&dyn ZSetSource>], limit: u64) -> u64 {
    let weighted: Vec<WeightedInput<'_>> = inputs.iter().map(|&source| (source, 1.0)).collect();
    let mut count = 0u64;
    for_each_common(&weighted, Aggregate::Sum, &mut |_, _| {
        count += 1;
        limit == 0 || count < limit
    });
    count
}

/// ZDIFF / ZDIFFSTORE: the first input's members found in no other input, with the first
/// input's scores (no weights or aggregate, as in Redis).
pub fn difference(inputs: &[Option<&dyn ZSetSource>]) -> ZSetValue {
    let mut result = ZSetValue::new();
    let Some((Some(first), rest)) = inputs.split_first() else {
        return result;
    };
    first.for_each_member(&mut |member, score| {
        let elsewhere = rest.iter().flatten().any(|source| source.score_of(member).is_some());
        if !elsewhere {
            result.add(member, score, ZAddFlags::default()).expect("input scores are not NaN");
        }
    });
    result
}

/// A plain set is a sorted-set input whose members all score 1 (ZUNIONSTORE accepts sets).
impl ZSetSource for crate::engine::types::set::SetValue {
    fn member_count(&self) -> u64 {
        self.len() as u64
    }
    fn score_of(&self, member: &[u8]) -> Option<f64> {
        self.contains(member).then_some(1.0)
    }
    fn for_each_member(&self, visit: &mut dyn FnMut(&[u8], f64)) {
        for member in self.members() {
            visit(member, 1.0);
        }
    }
}
