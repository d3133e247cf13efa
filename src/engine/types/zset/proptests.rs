//! Model test: random operation sequences against a `BTreeMap` + `HashMap` model, with the
//! skiplist invariants checked after every step.

use std::collections::{BTreeSet, HashMap};

use proptest::prelude::*;

use super::*;

/// A score with a total order; the model never holds NaN.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Score(f64);
impl Eq for Score {}
impl Ord for Score {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.partial_cmp(&other.0).expect("no NaN in the model")
    }
}
impl PartialOrd for Score {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

#[derive(Default)]
struct Model {
    order: BTreeSet<(Score, Vec<u8>)>,
    scores: HashMap<Vec<u8>, f64>,
}

impl Model {
    fn set(&mut self, member: &[u8], score: f64) {
        let score = score + 0.0;
        if let Some(old) = self.scores.insert(member.to_vec(), score) {
            self.order.remove(&(Score(old), member.to_vec()));
        }
        self.order.insert((Score(score), member.to_vec()));
    }

    fn remove(&mut self, member: &[u8]) -> bool {
        let Some(old) = self.scores.remove(member) else { return false };
        self.order.remove(&(Score(old), member.to_vec()));
        true
    }

    fn sorted(&self) -> Vec<(Vec<u8>, f64)> {
        self.order.iter().map(|(score, member)| (member.clone(), score.0)).collect()
    }

    /// ZADD's rules, as documented by Redis.
    fn add(&mut self, member: &[u8], score: f64, flags: ZAddFlags) -> Result<AddOutcome> {
        match self.scores.get(member).copied() {
            Some(_) if flags.nx => Ok(AddOutcome::Skipped),
            Some(current) => {
                let new = if flags.incr { current + score } else { score };
                if new.is_nan() {
                    return Err(Error::ScoreNan);
                }
                if (flags.gt && new <= current) || (flags.lt && new >= current) {
                    Ok(AddOutcome::Skipped)
                } else if new == current {
                    Ok(AddOutcome::Unchanged(current))
                } else {
                    self.set(member, new);
                    Ok(AddOutcome::Updated(new + 0.0))
                }
            }
            None if flags.xx => Ok(AddOutcome::Skipped),
            None => {
                self.set(member, score);
                Ok(AddOutcome::Added(score + 0.0))
            }
        }
    }
}

#[derive(Debug, Clone)]
enum Op {
    Add(u8, f64, ZAddFlags),
    Incr(u8, f64),
    Remove(u8),
    PopMin(usize),
    PopMax(usize),
    RangeByRank(i64, i64, bool),
    RangeByScore(f64, bool, f64, bool, bool, i64, i64),
    RangeByLex(u8, bool, u8, bool, bool),
    RemoveByRank(i64, i64),
    RemoveByScore(f64, f64),
    Rank(u8, bool),
}

/// Some members are longer than the inline size, so heap accounting is exercised.
fn member(id: u8) -> Vec<u8> {
    if id.is_multiple_of(5) {
        format!("long-member-name-{id:03}-padding").into_bytes()
    } else {
        vec![b'a' + id]
    }
}

fn score() -> BoxedStrategy<f64> {
    prop_oneof![
        Just(f64::NEG_INFINITY),
        Just(f64::INFINITY),
        Just(-0.0),
        Just(0.0),
        (-4i32..4).prop_map(f64::from),
        (-8i32..8).prop_map(|half| f64::from(half) / 2.0),
    ]
    .boxed()
}

/// Every score 0 (INCR by 0 keeps it): the case where lex ranges are defined.
fn zero_score() -> BoxedStrategy<f64> {
    Just(0.0).boxed()
}

fn flags() -> impl Strategy<Value = ZAddFlags> {
    (any::<[bool; 6]>())
        .prop_map(|[nx, xx, gt, lt, ch, incr]| ZAddFlags { nx, xx, gt, lt, ch, incr })
        .prop_filter("valid ZADD flags", |flags| flags.validate(1).is_ok())
}

/// Operations drawing scores from `score`.
fn op_with(score: fn() -> BoxedStrategy<f64>) -> impl Strategy<Value = Op> {
    let id = 0u8..20;
    prop_oneof![
        6 => (id.clone(), score(), flags()).prop_map(|(m, s, f)| Op::Add(m, s, f)),
        2 => (id.clone(), score()).prop_map(|(m, s)| Op::Incr(m, s)),
        2 => id.clone().prop_map(Op::Remove),
        1 => (0usize..4).prop_map(Op::PopMin),
        1 => (0usize..4).prop_map(Op::PopMax),
        2 => (-25i64..25, -25i64..25, any::<bool>()).prop_map(|(a, b, r)| Op::RangeByRank(a, b, r)),
        2 => (score(), any::<bool>(), score(), any::<bool>(), any::<bool>(), -2i64..6, -2i64..6)
            .prop_map(|(a, ax, b, bx, r, o, c)| Op::RangeByScore(a, ax, b, bx, r, o, c)),
        1 => (id.clone(), any::<bool>(), id.clone(), any::<bool>(), any::<bool>())
            .prop_map(|(a, ax, b, bx, r)| Op::RangeByLex(a, ax, b, bx, r)),
        1 => (-25i64..25, -25i64..25).prop_map(|(a, b)| Op::RemoveByRank(a, b)),
        1 => (score(), score()).prop_map(|(a, b)| Op::RemoveByScore(a, b)),
        2 => (id, any::<bool>()).prop_map(|(m, r)| Op::Rank(m, r)),
    ]
}

fn to_vec(members: ScoredMembers) -> Vec<(Vec<u8>, f64)> {
    members.into_iter().map(|(member, score)| (member.to_vec(), score)).collect()
}

/// The model's view of a rank range.
fn model_rank_range(
    sorted: &[(Vec<u8>, f64)],
    start: i64,
    stop: i64,
    reverse: bool,
) -> Vec<(Vec<u8>, f64)> {
    let Some((start, stop)) = normalize_rank_range(start, stop, sorted.len() as u64) else {
        return Vec::new();
    };
    let mut ordered = sorted.to_vec();
    if reverse {
        ordered.reverse();
    }
    ordered[start as usize..=stop as usize].to_vec()
}

fn apply_limit<T: Clone>(items: Vec<T>, offset: i64, count: i64) -> Vec<T> {
    if offset < 0 {
        return Vec::new();
    }
    let limit = usize::try_from(count).unwrap_or(usize::MAX);
    items.into_iter().skip(offset as usize).take(limit).collect()
}

fn run(ops: Vec<Op>) {
    let mut set = ZSetValue::new();
    let mut model = Model::default();
    for op in ops {
        match op {
            Op::Add(id, score, flags) => {
                let m = member(id);
                assert_eq!(set.add(&m, score, flags), model.add(&m, score, flags), "{op:?}");
            }
            Op::Incr(id, delta) => {
                let m = member(id);
                let flags = ZAddFlags { incr: true, ..ZAddFlags::default() };
                let expected = model.add(&m, delta, flags).map(|outcome| outcome.score().unwrap());
                assert_eq!(set.incr_by(&m, delta), expected);
            }
            Op::Remove(id) => assert_eq!(set.remove_one(&member(id)), model.remove(&member(id))),
            Op::PopMin(count) | Op::PopMax(count) => {
                let mut expected = model.sorted();
                if matches!(op, Op::PopMax(_)) {
                    expected.reverse();
                }
                expected.truncate(count);
                for (m, _) in &expected {
                    model.remove(m);
                }
                let popped = if matches!(op, Op::PopMin(_)) {
                    set.pop_min(count)
                } else {
                    set.pop_max(count)
                };
                assert_eq!(to_vec(popped), expected);
            }
            Op::RangeByRank(start, stop, reverse) => {
                let expected = model_rank_range(&model.sorted(), start, stop, reverse);
                assert_eq!(to_vec(set.range_by_rank(start, stop, reverse)), expected);
            }
            Op::RangeByScore(min, min_ex, max, max_ex, reverse, offset, count) => {
                let range = ScoreRange {
                    min: ScoreBound { value: min, exclusive: min_ex },
                    max: ScoreBound { value: max, exclusive: max_ex },
                };
                let mut inside: Vec<_> = model
                    .sorted()
                    .into_iter()
                    .filter(|&(_, s)| range.above_min(s) && range.below_max(s))
                    .collect();
                assert_eq!(set.count_in_score_range(&range), inside.len() as u64);
                if reverse {
                    inside.reverse();
                }
                let expected = apply_limit(inside, offset, count);
                assert_eq!(to_vec(set.range_by_score(&range, reverse, offset, count)), expected);
            }
            Op::RangeByLex(min, min_ex, max, max_ex, reverse) => {
                let bound = |id, exclusive| {
                    let bytes = SmallBytes::new(&member(id));
                    if exclusive { LexBound::Exclusive(bytes) } else { LexBound::Inclusive(bytes) }
                };
                let range = LexRange { min: bound(min, min_ex), max: bound(max, max_ex) };
                // Lex ranges are defined when all scores are equal: check then.
                let sorted = model.sorted();
                if sorted.windows(2).all(|pair| pair[0].1 == pair[1].1) {
                    let mut inside: Vec<_> = sorted
                        .into_iter()
                        .filter(|(m, _)| range.above_min(m) && range.below_max(m))
                        .collect();
                    assert_eq!(set.count_in_lex_range(&range), inside.len() as u64);
                    if reverse {
                        inside.reverse();
                    }
                    assert_eq!(to_vec(set.range_by_lex(&range, reverse, 0, -1)), inside);
                }
            }
            Op::RemoveByRank(start, stop) => {
                let doomed = model_rank_range(&model.sorted(), start, stop, false);
                doomed.iter().for_each(|(m, _)| assert!(model.remove(m)));
                assert_eq!(set.remove_range_by_rank(start, stop), doomed.len() as u64);
            }
            Op::RemoveByScore(min, max) => {
                let range =
                    ScoreRange { min: ScoreBound::inclusive(min), max: ScoreBound::inclusive(max) };
                let doomed: Vec<_> =
                    model.sorted().into_iter().filter(|&(_, s)| s >= min && s <= max).collect();
                doomed.iter().for_each(|(m, _)| assert!(model.remove(m)));
                assert_eq!(set.remove_range_by_score(&range), doomed.len() as u64);
            }
            Op::Rank(id, reverse) => {
                let m = member(id);
                let sorted = model.sorted();
                let position = sorted.iter().position(|(candidate, _)| *candidate == m);
                let expected =
                    position.map(|p| if reverse { sorted.len() - 1 - p } else { p } as u64);
                assert_eq!(set.rank(&m, reverse), expected);
            }
        }
        set.check_invariants();
        let contents: Vec<_> = set.iter().map(|(m, s)| (m.to_vec(), s)).collect();
        assert_eq!(contents, model.sorted());
        for (m, s) in &model.scores {
            assert_eq!(set.score(m), Some(*s));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn zset_matches_model(ops in proptest::collection::vec(op_with(score), 1..120)) {
        run(ops);
    }

    #[test]
    fn zset_lex_matches_model(ops in proptest::collection::vec(op_with(zero_score), 1..120)) {
        run(ops);
    }
}
