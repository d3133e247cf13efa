//! The sorted set's skiplist with spans against the ordered maps a Rust program would reach for
//! instead, in the same run.
//!
//! A sorted set is two indexes: member -> score, and (score, member) in order. corekv's
//! [`ZSetValue`] keeps the order in an arena skiplist with spans (Redis's `zskiplist`), so a
//! rank (ZRANK) or a position (ZRANGE by index) costs O(log n). The peers keep the same two
//! indexes with a `HashMap<member, score>` beside:
//!
//! - `btreemap`: `std::collections::BTreeMap<(score, member), ()>`;
//! - `crossbeam-skiplist`: `crossbeam_skiplist::SkipMap<(score, member), ()>` (the owner named
//!   it; the engine does not use it: 0.1.3 returns `None` from `get` while another thread
//!   re-inserts the key, and it keeps no spans).
//!
//! Neither ordered map counts the elements below a key, so their rank and position queries
//! walk the elements before it: O(n). That, not the inserts, is why the engine carries its
//! own skiplist.
//!
//! Rows (criterion medians; 10 samples, 1 s warm-up, 3 s measurement each):
//!
//! - `zadd/10k`: build a set of 10,000 members with random scores from empty (one iteration
//!   is the whole build; throughput in members).
//! - `zscore-update/100k`: on a set of 100,000 members, change the score of 1,000 random
//!   members (remove from the order, insert at the new place).
//! - `zrank/100k`: the rank of 20 random members of a set of 100,000.
//! - `zrange-index/100k`: ZRANGE i i+9 (ten elements from position i) at 20 random positions.
//!
//! Run: `cargo bench --bench skiplist`.

use std::collections::{BTreeMap, HashMap};
use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput};
use crossbeam_skiplist::SkipMap;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use corekv::engine::types::zset::{ZAddFlags, ZSetValue};

#[path = "support/mod.rs"]
mod support;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Members in the `zadd` row.
const BUILD: usize = 10_000;
/// Members of the set the query rows run on.
const LARGE: usize = 100_000;
/// Score changes per `zscore-update` iteration.
const UPDATES: usize = 1_000;
/// Queries per `zrank` and `zrange-index` iteration.
const QUERIES: usize = 20;
/// Elements per ZRANGE query.
const RANGE: usize = 10;

/// A score with a total order (no NaN is ever generated), for the std and crossbeam keys.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Score(f64);

impl Eq for Score {}

impl PartialOrd for Score {
    fn partial_cmp(&self, other: &Score) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Score {
    fn cmp(&self, other: &Score) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

type Key = (Score, Vec<u8>);

/// The operations every contestant implements, as a sorted set uses them.
trait SortedSet {
    fn name(&self) -> &'static str;
    fn add(&mut self, member: &[u8], score: f64);
    /// 0-based rank of a present member.
    fn rank(&self, member: &[u8]) -> usize;
    /// Sums the scores of `count` elements from position `start`, so nothing is optimised out.
    fn range(&self, start: usize, count: usize) -> f64;
}

impl SortedSet for ZSetValue {
    fn name(&self) -> &'static str {
        "corekv"
    }
    fn add(&mut self, member: &[u8], score: f64) {
        ZSetValue::add(self, member, score, ZAddFlags::default()).expect("scores are not NaN");
    }
    fn rank(&self, member: &[u8]) -> usize {
        ZSetValue::rank(self, member, false).expect("the member is present") as usize
    }
    fn range(&self, start: usize, count: usize) -> f64 {
        let stop = (start + count - 1) as i64;
        self.range_by_rank(start as i64, stop, false).iter().map(|(_, score)| score).sum()
    }
}

/// The `(score, member)` order of a peer: `BTreeMap` or crossbeam's `SkipMap`.
trait Order: Default {
    const NAME: &'static str;
    fn put(&mut self, key: Key);
    fn take(&mut self, key: &Key);
    /// Elements before `key`: a walk, as neither map counts them.
    fn below(&self, key: &Key) -> usize;
    /// The sum of the scores of `count` elements from position `start`: a walk.
    fn scores_from(&self, start: usize, count: usize) -> f64;
}

impl Order for BTreeMap<Key, ()> {
    const NAME: &'static str = "btreemap";
    fn put(&mut self, key: Key) {
        self.insert(key, ());
    }
    fn take(&mut self, key: &Key) {
        self.remove(key);
    }
    fn below(&self, key: &Key) -> usize {
        self.range(..key.clone()).count()
    }
    fn scores_from(&self, start: usize, count: usize) -> f64 {
        self.keys().skip(start).take(count).map(|(score, _)| score.0).sum()
    }
}

impl Order for SkipMap<Key, ()> {
    const NAME: &'static str = "crossbeam-skiplist";
    fn put(&mut self, key: Key) {
        self.insert(key, ());
    }
    fn take(&mut self, key: &Key) {
        self.remove(key);
    }
    fn below(&self, key: &Key) -> usize {
        self.range(..key.clone()).count()
    }
    fn scores_from(&self, start: usize, count: usize) -> f64 {
        self.iter().skip(start).take(count).map(|entry| entry.key().0.0).sum()
    }
}

/// A peer's sorted set: member -> score beside the `(score, member)` order.
#[derive(Default)]
struct Indexed<O> {
    scores: HashMap<Vec<u8>, f64>,
    order: O,
}

impl<O: Order> SortedSet for Indexed<O> {
    fn name(&self) -> &'static str {
        O::NAME
    }
    fn add(&mut self, member: &[u8], score: f64) {
        if let Some(old) = self.scores.insert(member.to_vec(), score) {
            self.order.take(&(Score(old), member.to_vec()));
        }
        self.order.put((Score(score), member.to_vec()));
    }
    fn rank(&self, member: &[u8]) -> usize {
        self.order.below(&(Score(self.scores[member]), member.to_vec()))
    }
    fn range(&self, start: usize, count: usize) -> f64 {
        self.order.scores_from(start, count)
    }
}

type StdSet = Indexed<BTreeMap<Key, ()>>;
type CrossbeamSet = Indexed<SkipMap<Key, ()>>;

fn member(index: usize) -> Vec<u8> {
    format!("member:{index:08}").into_bytes()
}

fn random_scores(seed: u64, count: usize) -> Vec<f64> {
    let mut rng = SmallRng::seed_from_u64(seed);
    (0..count).map(|_| rng.random_range(0.0..1e9)).collect()
}

fn filled<S: SortedSet>(mut set: S, members: &[Vec<u8>], scores: &[f64]) -> S {
    for (member, &score) in members.iter().zip(scores) {
        set.add(member, score);
    }
    set
}

fn contestants(members: &[Vec<u8>], scores: &[f64]) -> Vec<Box<dyn SortedSet>> {
    vec![
        Box::new(filled(ZSetValue::new(), members, scores)),
        Box::new(filled(StdSet::default(), members, scores)),
        Box::new(filled(CrossbeamSet::default(), members, scores)),
    ]
}

fn zadd(criterion: &mut Criterion) {
    let members: Vec<Vec<u8>> = (0..BUILD).map(member).collect();
    let scores = random_scores(1, BUILD);
    let mut group = criterion.benchmark_group("zadd");
    group.throughput(Throughput::Elements(BUILD as u64));
    let id = |name| BenchmarkId::new(name, "10k");
    group.bench_function(id("corekv"), |b| {
        b.iter(|| black_box(filled(ZSetValue::new(), &members, &scores)).len())
    });
    group.bench_function(id("btreemap"), |b| {
        b.iter(|| black_box(filled(StdSet::default(), &members, &scores)).scores.len())
    });
    group.bench_function(id("crossbeam-skiplist"), |b| {
        b.iter(|| black_box(filled(CrossbeamSet::default(), &members, &scores)).scores.len())
    });
    group.finish();
}

fn queries(criterion: &mut Criterion) {
    let members: Vec<Vec<u8>> = (0..LARGE).map(member).collect();
    let scores = random_scores(2, LARGE);
    let mut sets = contestants(&members, &scores);
    let mut rng = SmallRng::seed_from_u64(3);
    let picks: Vec<usize> = (0..UPDATES).map(|_| rng.random_range(0..LARGE)).collect();
    let new_scores = random_scores(4, UPDATES);
    let positions: Vec<usize> = (0..QUERIES).map(|_| rng.random_range(0..LARGE - RANGE)).collect();

    let mut group = criterion.benchmark_group("zscore-update");
    group.throughput(Throughput::Elements(UPDATES as u64));
    for set in &mut sets {
        let name = set.name();
        group.bench_function(BenchmarkId::new(name, "100k"), |b| {
            b.iter(|| {
                for (&pick, &score) in picks.iter().zip(&new_scores) {
                    set.add(&members[pick], black_box(score));
                }
            })
        });
    }
    group.finish();

    let mut group = criterion.benchmark_group("zrank");
    group.throughput(Throughput::Elements(QUERIES as u64));
    for set in &sets {
        group.bench_function(BenchmarkId::new(set.name(), "100k"), |b| {
            b.iter(|| picks[..QUERIES].iter().map(|&pick| set.rank(&members[pick])).sum::<usize>())
        });
    }
    group.finish();

    let mut group = criterion.benchmark_group("zrange-index");
    group.throughput(Throughput::Elements(QUERIES as u64));
    for set in &sets {
        group.bench_function(BenchmarkId::new(set.name(), "100k"), |b| {
            b.iter(|| positions.iter().map(|&start| set.range(start, RANGE)).sum::<f64>())
        });
    }
    group.finish();

    // The contestants agree (the same ranks and ranges), or the rows compare different work.
    for &pick in &picks[..QUERIES] {
        let ranks: Vec<usize> = sets.iter().map(|set| set.rank(&members[pick])).collect();
        assert!(ranks.windows(2).all(|pair| pair[0] == pair[1]), "ranks differ: {ranks:?}");
    }
    for &start in &positions {
        let sums: Vec<f64> = sets.iter().map(|set| set.range(start, RANGE)).collect();
        assert!(sums.windows(2).all(|pair| pair[0] == pair[1]), "ranges differ: {sums:?}");
    }
}

fn main() {
    let mut criterion = support::criterion(Duration::from_secs(3));
    zadd(&mut criterion);
    queries(&mut criterion);
    criterion.final_summary();
}
