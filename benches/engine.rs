//! Engine vs. concurrent maps: 1M preloaded keys (16-byte keys, 32-byte values), 90% GET /
//! 10% SET, keys chosen uniformly or Zipf(0.99), at 1 and 2 threads.
//!
//! Contestants, in the same run: corekv's `Db` (default shard count, `maintenance_threads(0)`),
//! `dashmap::DashMap`, `papaya::HashMap` and `scc::HashMap`, each `<Vec<u8>, Vec<u8>>` and each
//! hashed with foldhash as the engine is, so the rows compare the structures and not the hash
//! functions. GET copies the value out into a reused buffer (as `Db::get_into` does); SET
//! inserts or overwrites an owned `Vec` (the peers) or calls `Db::set`.
//!
//! Two passes, in one `cargo bench --bench engine`:
//!
//! 1. criterion throughput: one group per contestant, one benchmark per row
//!    (`uniform/1t`, `uniform/2t`, `zipf/1t`, `zipf/2t`). An iteration is [`BATCH`] operations
//!    on every thread; threads are started outside the timed region, released together by a
//!    barrier, and the time is from the earliest start to the latest finish (`iter_custom`).
//!    Criterion's throughput is operations per second summed over threads. Small sample counts
//!    (10 samples, 1 s warm-up, 2 s measurement) keep the whole bench, latency pass included,
//!    to about 2.5 minutes on a 2-core machine (3 under load from other processes).
//! 2. latency: for every contestant and row, each thread times every single operation with a
//!    pair of `Instant::now()` into an HDR histogram; p50/p99 are written to
//!    `$CARGO_TARGET_DIR/criterion/engine-latency.json` (the timer pair's own cost is
//!    measured and written there too: it is included in each figure). Skipped unless criterion
//!    runs in bench mode (`--bench`), so `cargo test --benches` stays quick.
//!
//! Operation streams (key index and GET/SET) are generated before anything is timed, so the
//! Zipf sampler's cost is never measured. `scripts/bench-engine.sh` runs this and writes
//! `results/engine-bench.{json,md}`.

use std::hint::black_box;
use std::io::Write as _;
#[path = "support/mod.rs"]
mod support;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use hdrhistogram::Histogram;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use corekv::prelude::*;

/// The allocator the server runs with; every contestant allocates through it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Preloaded keys.
const KEYS: usize = 1_000_000;
const KEY_LEN: usize = 16;
const VALUE_LEN: usize = 32;
/// Percentage of SETs.
const SET_PERCENT: u32 = 10;
const ZIPF_S: f64 = 0.99;
/// Precomputed operations per thread (cycled through).
const STREAM_LEN: usize = 1 << 21;
/// Operations per thread per criterion iteration.
const BATCH: usize = 1_000;
/// Operations per thread timed individually in the latency pass.
const LATENCY_OPS: usize = 1 << 20;
const THREADS: [usize; 2] = [1, 2];

/// Set in an encoded operation for a SET; the low bits are the key index.
const SET_FLAG: u32 = 1 << 31;

type Hasher = foldhash::fast::RandomState;

/// What every contestant offers the workload.
trait Store: Sync {
    /// Copies `key`'s value into `out` (cleared first); false when missing.
    fn get_into(&self, key: &[u8], out: &mut Vec<u8>) -> bool;
    fn set(&self, key: &[u8], value: &[u8]);
}

impl Store for corekv::Db {
    #[inline]
    fn get_into(&self, key: &[u8], out: &mut Vec<u8>) -> bool {
        out.clear();
        StringOps::get_into(self, key, out).expect("GET")
    }
    #[inline]
    fn set(&self, key: &[u8], value: &[u8]) {
        StringOps::set(self, key, value).expect("SET");
    }
}

impl Store for dashmap::DashMap<Vec<u8>, Vec<u8>, Hasher> {
    #[inline]
    fn get_into(&self, key: &[u8], out: &mut Vec<u8>) -> bool {
        out.clear();
        match self.get(key) {
            Some(value) => {
                out.extend_from_slice(&value);
                true
            }
            None => false,
        }
    }
    #[inline]
    fn set(&self, key: &[u8], value: &[u8]) {
        self.insert(key.to_vec(), value.to_vec());
    }
}

impl Store for papaya::HashMap<Vec<u8>, Vec<u8>, Hasher> {
    #[inline]
    fn get_into(&self, key: &[u8], out: &mut Vec<u8>) -> bool {
        out.clear();
        match self.pin().get(key) {
            Some(value) => {
                out.extend_from_slice(value);
                true
            }
            None => false,
        }
    }
    #[inline]
    fn set(&self, key: &[u8], value: &[u8]) {
        self.pin().insert(key.to_vec(), value.to_vec());
    }
}

impl Store for scc::HashMap<Vec<u8>, Vec<u8>, Hasher> {
    #[inline]
    fn get_into(&self, key: &[u8], out: &mut Vec<u8>) -> bool {
        out.clear();
        self.read_sync(key, |_, value| out.extend_from_slice(value)).is_some()
    }
    #[inline]
    fn set(&self, key: &[u8], value: &[u8]) {
        self.upsert_sync(key.to_vec(), value.to_vec());
    }
}

/// A contestant with its preloaded store.
enum Contestant {
    Engine(corekv::Engine),
    DashMap(dashmap::DashMap<Vec<u8>, Vec<u8>, Hasher>),
    Papaya(papaya::HashMap<Vec<u8>, Vec<u8>, Hasher>),
    Scc(scc::HashMap<Vec<u8>, Vec<u8>, Hasher>),
}

const CONTESTANTS: [&str; 4] = ["corekv", "dashmap", "papaya", "scc"];

/// The contestants to run: all, or those named in `$COREKV_BENCH_ONLY` (comma-separated), so
/// a profile of one contestant does not also load the others.
fn contestants() -> Vec<&'static str> {
    let only = std::env::var("COREKV_BENCH_ONLY").unwrap_or_default();
    CONTESTANTS
        .into_iter()
        .filter(|name| only.is_empty() || only.split(',').any(|wanted| wanted == *name))
        .collect()
}

impl Contestant {
    fn build(name: &str, keys: &[[u8; KEY_LEN]]) -> Contestant {
        let contestant = match name {
            "corekv" => {
                let mut builder = corekv::Engine::builder().maintenance_threads(0).databases(1);
                // `$COREKV_BENCH_SHARDS` overrides the default (16 per core), for experiments.
                if let Ok(shards) = std::env::var("COREKV_BENCH_SHARDS") {
                    builder = builder.shards(shards.parse().expect("COREKV_BENCH_SHARDS"));
                }
                Contestant::Engine(builder.build())
            }
            "dashmap" => Contestant::DashMap(dashmap::DashMap::with_hasher(Hasher::default())),
            "papaya" => Contestant::Papaya(papaya::HashMap::with_hasher(Hasher::default())),
            "scc" => Contestant::Scc(scc::HashMap::with_hasher(Hasher::default())),
            other => unreachable!("unknown contestant {other}"),
        };
        let store = contestant.store();
        for (index, key) in keys.iter().enumerate() {
            store.set(key, &value_for(index as u32, 0));
        }
        contestant
    }

    fn store(&self) -> &dyn Store {
        match self {
            Contestant::Engine(engine) => engine.db(0),
            Contestant::DashMap(map) => map,
            Contestant::Papaya(map) => map,
            Contestant::Scc(map) => map,
        }
    }

    /// Runs `f` with the concrete store, so the hot loop is monomorphised (no virtual calls).
    fn with_store<R>(&self, f: impl StoreFn<R>) -> R {
        match self {
            Contestant::Engine(engine) => f.call(engine.db(0)),
            Contestant::DashMap(map) => f.call(map),
            Contestant::Papaya(map) => f.call(map),
            Contestant::Scc(map) => f.call(map),
        }
    }
}

/// A closure generic over the store type.
trait StoreFn<R> {
    fn call<S: Store>(self, store: &S) -> R;
}

fn key_for(index: usize) -> [u8; KEY_LEN] {
    let mut key = [0; KEY_LEN];
    key.copy_from_slice(format!("key:{index:012}").as_bytes());
    key
}

/// A 32-byte value; `round` varies it so SETs really change the stored bytes.
fn value_for(index: u32, round: u8) -> [u8; VALUE_LEN] {
    let mut value = [b'v'; VALUE_LEN];
    value[..4].copy_from_slice(&index.to_le_bytes());
    value[4] = round;
    value
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dist {
    Uniform,
    Zipf,
}

impl Dist {
    fn name(self) -> &'static str {
        match self {
            Dist::Uniform => "uniform",
            Dist::Zipf => "zipf",
        }
    }
}

/// Zipf(s) over ranks `0..n` by inversion of the exact CDF (binary search). Rank `r` maps to
/// key `r * P mod n` (P coprime with n), so the hottest keys are not neighbours in insertion
/// order (and so in memory).
struct Zipf {
    cdf: Vec<f64>,
}

impl Zipf {
    fn new(n: usize, s: f64) -> Zipf {
        let mut total = 0.0;
        let cdf = (1..=n)
            .map(|rank| {
                total += 1.0 / (rank as f64).powf(s);
                total
            })
            .collect();
        Zipf { cdf }
    }

    fn sample(&self, rng: &mut SmallRng) -> usize {
        let total = *self.cdf.last().expect("non-empty");
        let target = rng.random::<f64>() * total;
        let rank = self.cdf.partition_point(|&c| c < target).min(self.cdf.len() - 1);
        const SCATTER: u64 = 2_654_435_761; // prime, coprime with 10^6
        ((rank as u64 * SCATTER) % self.cdf.len() as u64) as usize
    }
}

/// Encoded operations for one thread.
fn stream(dist: Dist, zipf: &Zipf, seed: u64, len: usize) -> Vec<u32> {
    let mut rng = SmallRng::seed_from_u64(seed);
    (0..len)
        .map(|_| {
            let key = match dist {
                Dist::Uniform => rng.random_range(0..KEYS),
                Dist::Zipf => zipf.sample(&mut rng),
            } as u32;
            if rng.random_range(0..100) < SET_PERCENT { key | SET_FLAG } else { key }
        })
        .collect()
}

struct Workload {
    keys: Vec<[u8; KEY_LEN]>,
    /// `streams[dist][thread]`.
    uniform: Vec<Vec<u32>>,
    zipf: Vec<Vec<u32>>,
}

impl Workload {
    fn new() -> Workload {
        let keys = (0..KEYS).map(key_for).collect();
        let zipf = Zipf::new(KEYS, ZIPF_S);
        let max_threads = *THREADS.iter().max().expect("threads");
        let streams = |dist: Dist| {
            (0..max_threads)
                .map(|thread| stream(dist, &zipf, 0x5eed + thread as u64 * 7919, STREAM_LEN))
                .collect()
        };
        Workload { uniform: streams(Dist::Uniform), zipf: streams(Dist::Zipf), keys }
    }

    fn streams(&self, dist: Dist) -> &[Vec<u32>] {
        match dist {
            Dist::Uniform => &self.uniform,
            Dist::Zipf => &self.zipf,
        }
    }
}

/// Runs `ops` operations of `stream` from `start` (wrapping) on `store`.
#[inline]
fn run_ops<S: Store>(
    store: &S,
    keys: &[[u8; KEY_LEN]],
    stream: &[u32],
    start: usize,
    ops: usize,
    buf: &mut Vec<u8>,
) {
    let mut at = start % stream.len();
    for round in 0..ops {
        let op = stream[at];
        at += 1;
        if at == stream.len() {
            at = 0;
        }
        let index = op & !SET_FLAG;
        let key = &keys[index as usize];
        if op & SET_FLAG != 0 {
            store.set(key, &value_for(index, round as u8));
        } else {
            black_box(store.get_into(key, buf));
        }
    }
}

/// Throughput: `iters * BATCH` operations on each of `threads` threads; returns the time from
/// the first thread's start to the last one's end.
struct TimedRun<'a> {
    workload: &'a Workload,
    dist: Dist,
    threads: usize,
    iters: u64,
    /// Where in the stream to start (advanced between calls so runs do not replay one prefix).
    offset: usize,
}

impl StoreFn<Duration> for TimedRun<'_> {
    fn call<S: Store>(self, store: &S) -> Duration {
        let ops = self.iters as usize * BATCH;
        let barrier = Barrier::new(self.threads);
        let streams = self.workload.streams(self.dist);
        let keys = &self.workload.keys;
        let spans: Vec<(Instant, Instant)> = std::thread::scope(|scope| {
            let handles: Vec<_> = streams[..self.threads]
                .iter()
                .map(|stream| {
                    let barrier = &barrier;
                    scope.spawn(move || {
                        let mut buf = Vec::with_capacity(64);
                        barrier.wait();
                        let start = Instant::now();
                        run_ops(store, keys, stream, self.offset, ops, &mut buf);
                        (start, Instant::now())
                    })
                })
                .collect();
            handles.into_iter().map(|handle| handle.join().expect("bench thread")).collect()
        });
        let first = spans.iter().map(|span| span.0).min().expect("threads");
        let last = spans.iter().map(|span| span.1).max().expect("threads");
        last - first
    }
}

/// Latency: every operation timed on its own; returns the merged histogram (ns).
struct LatencyRun<'a> {
    workload: &'a Workload,
    dist: Dist,
    threads: usize,
}

impl StoreFn<Histogram<u64>> for LatencyRun<'_> {
    fn call<S: Store>(self, store: &S) -> Histogram<u64> {
        let barrier = Barrier::new(self.threads);
        let streams = self.workload.streams(self.dist);
        let keys = &self.workload.keys;
        std::thread::scope(|scope| {
            let handles: Vec<_> = streams[..self.threads]
                .iter()
                .map(|stream| {
                    let barrier = &barrier;
                    scope.spawn(move || {
                        let mut histogram = new_histogram();
                        let mut buf = Vec::with_capacity(64);
                        // Warm the caches and the allocator on a part of the stream first.
                        run_ops(store, keys, stream, 0, LATENCY_OPS / 4, &mut buf);
                        barrier.wait();
                        for (round, &op) in stream.iter().cycle().take(LATENCY_OPS).enumerate() {
                            let index = op & !SET_FLAG;
                            let key = &keys[index as usize];
                            let start = Instant::now();
                            if op & SET_FLAG != 0 {
                                store.set(key, &value_for(index, round as u8));
                            } else {
                                black_box(store.get_into(key, &mut buf));
                            }
                            let elapsed = start.elapsed().as_nanos() as u64;
                            histogram.saturating_record(elapsed.max(1));
                        }
                        histogram
                    })
                })
                .collect();
            let mut merged = new_histogram();
            for handle in handles {
                merged.add(handle.join().expect("latency thread")).expect("same bounds");
            }
            merged
        })
    }
}

fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("histogram bounds")
}

/// The cost of the timestamp pair itself (median and p99 ns over 1M empty pairs).
fn timer_overhead() -> (u64, u64) {
    let mut histogram = new_histogram();
    for _ in 0..1_000_000 {
        let start = Instant::now();
        let elapsed = black_box(start).elapsed().as_nanos() as u64;
        histogram.saturating_record(elapsed.max(1));
    }
    (histogram.value_at_quantile(0.5), histogram.value_at_quantile(0.99))
}

fn throughput(criterion: &mut Criterion, workload: &Workload) {
    for name in contestants() {
        let contestant = Contestant::build(name, &workload.keys);
        let mut group = criterion.benchmark_group(name);
        for dist in [Dist::Uniform, Dist::Zipf] {
            for threads in THREADS {
                group.throughput(Throughput::Elements((BATCH * threads) as u64));
                let id = format!("{}/{threads}t", dist.name());
                let mut offset = 0;
                group.bench_function(id, |bencher| {
                    bencher.iter_custom(|iters| {
                        let run = TimedRun { workload, dist, threads, iters, offset };
                        offset = offset.wrapping_add(iters as usize * BATCH);
                        contestant.with_store(run)
                    })
                });
            }
        }
        group.finish();
    }
}

fn latency(workload: &Workload) {
    let (timer_p50, timer_p99) = timer_overhead();
    let mut rows = Vec::new();
    for name in contestants() {
        let contestant = Contestant::build(name, &workload.keys);
        for dist in [Dist::Uniform, Dist::Zipf] {
            for threads in THREADS {
                let histogram = contestant.with_store(LatencyRun { workload, dist, threads });
                let (p50, p99) =
                    (histogram.value_at_quantile(0.5), histogram.value_at_quantile(0.99));
                println!(
                    "latency {name:8} {:7}/{threads}t  p50 {p50:6} ns  p99 {p99:6} ns  \
                     p99.9 {:6} ns",
                    dist.name(),
                    histogram.value_at_quantile(0.999)
                );
                rows.push(format!(
                    "{{\"contestant\":\"{name}\",\"row\":\"{}/{threads}t\",\"p50_ns\":{p50},\
                     \"p99_ns\":{p99},\"p999_ns\":{},\"ops\":{}}}",
                    dist.name(),
                    histogram.value_at_quantile(0.999),
                    histogram.len()
                ));
            }
        }
    }
    println!("latency timer overhead (Instant pair): p50 {timer_p50} ns, p99 {timer_p99} ns");
    let json = format!(
        "{{\"timer_overhead_p50_ns\":{timer_p50},\"timer_overhead_p99_ns\":{timer_p99},\
         \"rows\":[{}]}}\n",
        rows.join(",")
    );
    let dir = support::criterion_home();
    std::fs::create_dir_all(&dir).expect("criterion dir");
    let path = dir.join("engine-latency.json");
    std::fs::File::create(&path)
        .and_then(|mut file| file.write_all(json.as_bytes()))
        .expect("write latency json");
    println!("latency written to {}", path.display());
}

fn main() {
    let bench_mode = std::env::args().any(|arg| arg == "--bench");
    let mut criterion = support::criterion(Duration::from_secs(2));
    let workload = Workload::new();
    throughput(&mut criterion, &workload);
    criterion.final_summary();
    if bench_mode && std::env::var_os("COREKV_BENCH_NO_LATENCY").is_none() {
        latency(&workload);
    }
}
