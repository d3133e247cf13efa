//! Per-core slab pool vs. mimalloc for the engine's fixed-size allocations (DESIGN.md, "Threads
//! and shards": keep the slab pool only where it measurably beats mimalloc).
//!
//! Contestants, in the same run, each writing all `N` bytes of every block it hands out:
//! `mimalloc` is `Box<[u8; N]>` through mimalloc, the global allocator here as in the engine's
//! binaries; `slab` is the pool in `src/engine/slab/` with one `LocalPool` held by each
//! thread's own code (no thread-local lookup: the most favourable setting for the pool);
//! `slab-tls` is the same pool reached through a `thread_local!` (`RefCell<LocalPool>` over one
//! process-wide arena), which is what the engine would need, since `Db::set` runs on any
//! thread and `SmallBytes` has no pool handle to thread through.
//!
//! Rows (criterion medians; 10 samples, 1 s warm-up, 2 s measurement each):
//!
//! - `pair/N`: one thread allocates and frees a block, `N` = 32 (a string value longer than
//!   22 bytes) and 64 (papaya's node). One iteration is one alloc+free pair.
//! - `churn/N`: 1M live blocks, each iteration replaces a random one (alloc new, free old), as a
//!   SET-heavy keyspace does. Indices are drawn before timing.
//! - `churn-deferred/N`: the same, but each replaced block waits in a FIFO of
//!   [`DEFERRED_FREES`] before it is freed, as the engine's old values wait for seize's epoch
//!   reclamation: the block just freed is then not the one the next allocation reuses, which
//!   takes away the LIFO cache-hot reuse that `churn/N` rewards.
//! - `handoff/N`: 2 threads, each replacing blocks in a 64-block ring; every other evicted block
//!   is freed by the *other* thread (passed through a bounded `ArrayQueue`), so half the frees
//!   are cross-thread, as when one core overwrites a key another core wrote. One iteration is
//!   one replacement on each thread; the time is the slower thread's.
//!
//! Memory: with `--bench`, after criterion, the bench runs itself twice as a child process
//! (`COREKV_SLAB_MEMORY_CHILD=mimalloc|slab`) that allocates 1M 32-byte blocks, churns 2M
//! random replacements and reports VmRSS before, after filling and after churning (and, for the
//! pool, its own slab bytes). Results go to `$CARGO_TARGET_DIR/criterion/slab-memory.json`.
//! `scripts/bench-slab.sh` runs it all and writes `results/slab-vs-mimalloc.{json,md}`.

use std::cell::RefCell;
use std::hint::black_box;
use std::io::Write as _;
#[path = "support/mod.rs"]
mod support;
use std::sync::{Barrier, LazyLock};
use std::time::{Duration, Instant};

use criterion::Criterion;
use crossbeam_queue::ArrayQueue;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use corekv::engine::slab::{Arena, Block, LocalPool, SLAB_BYTES};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Live blocks in the churn rows and the memory pass.
const LIVE_BLOCKS: usize = 1 << 20;
/// Pre-drawn random indices for the churn rows (cycled).
const CHURN_INDICES: usize = 1 << 20;
/// Replaced blocks held back before being freed in the `churn-deferred` rows (seize retires
/// in batches of this order).
const DEFERRED_FREES: usize = 128;
/// Blocks each thread keeps live in the handoff rows.
const RING_BLOCKS: usize = 64;
/// Capacity of each handoff queue; a full queue means the block is freed locally instead.
const HANDOFF_QUEUE: usize = 1024;
/// Random replacements in the memory pass.
const MEMORY_CHURN_OPS: usize = 2 * LIVE_BLOCKS;

const _: () = assert!(CHURN_INDICES.is_power_of_two());
const _: () = assert!(RING_BLOCKS.is_power_of_two());

/// One thread's allocator front: mimalloc through `Box`, or a slab `LocalPool`.
trait Front<const N: usize> {
    type Handle: Send;
    fn alloc(&mut self, fill: u8) -> Self::Handle;
    fn free(&mut self, handle: Self::Handle);
}

#[derive(Debug)]
struct Mimalloc;

impl<const N: usize> Front<N> for Mimalloc {
    type Handle = Box<[u8; N]>;
    #[inline]
    fn alloc(&mut self, fill: u8) -> Box<[u8; N]> {
        Box::new([fill; N])
    }
    #[inline]
    fn free(&mut self, handle: Box<[u8; N]>) {
        drop(handle);
    }
}

impl<'a, const N: usize> Front<N> for LocalPool<'a> {
    type Handle = Block<'a>;
    #[inline]
    fn alloc(&mut self, fill: u8) -> Block<'a> {
        let mut block = LocalPool::alloc(self, N).expect("N fits a class");
        block.write(&[fill; N]);
        block
    }
    #[inline]
    fn free(&mut self, handle: Block<'a>) {
        LocalPool::free(self, handle);
    }
}

/// The arena behind `slab-tls`: one per process, as the engine would have.
static TLS_ARENA: LazyLock<Arena> = LazyLock::new(Arena::new);

thread_local! {
    static TLS_POOL: RefCell<LocalPool<'static>> = RefCell::new(TLS_ARENA.local());
}

/// The pool reached through a thread-local, as the engine would reach it.
#[derive(Debug)]
struct SlabTls;

impl<const N: usize> Front<N> for SlabTls {
    type Handle = Block<'static>;
    #[inline]
    fn alloc(&mut self, fill: u8) -> Block<'static> {
        TLS_POOL.with_borrow_mut(|pool| Front::<N>::alloc(pool, fill))
    }
    #[inline]
    fn free(&mut self, handle: Block<'static>) {
        TLS_POOL.with_borrow_mut(|pool| pool.free(handle));
    }
}

fn pair<const N: usize, F: Front<N>>(front: &mut F, iters: u64) -> Duration {
    let start = Instant::now();
    for i in 0..iters {
        let handle = front.alloc(i as u8);
        front.free(black_box(handle));
    }
    start.elapsed()
}

struct Churn<H> {
    live: Vec<H>,
    /// Replaced blocks not yet freed (`churn-deferred` rows only).
    deferred: std::collections::VecDeque<H>,
    indices: Vec<u32>,
    next: usize,
}

impl<H> Churn<H> {
    fn new<const N: usize, F: Front<N, Handle = H>>(front: &mut F) -> Self {
        let live = (0..LIVE_BLOCKS).map(|i| front.alloc(i as u8)).collect();
        let mut rng = SmallRng::seed_from_u64(7);
        let indices = (0..CHURN_INDICES).map(|_| rng.random_range(0..LIVE_BLOCKS as u32)).collect();
        Self { live, indices, next: 0, deferred: std::collections::VecDeque::new() }
    }

    fn run<const N: usize, F: Front<N, Handle = H>>(
        &mut self,
        front: &mut F,
        iters: u64,
    ) -> Duration {
        let start = Instant::now();
        for _ in 0..iters {
            let index = self.indices[self.next & (CHURN_INDICES - 1)] as usize;
            self.next = self.next.wrapping_add(1);
            let fresh = front.alloc(index as u8);
            let old = std::mem::replace(&mut self.live[index], fresh);
            front.free(old);
        }
        start.elapsed()
    }

    fn run_deferred<const N: usize, F: Front<N, Handle = H>>(
        &mut self,
        front: &mut F,
        iters: u64,
    ) -> Duration {
        let start = Instant::now();
        for _ in 0..iters {
            let index = self.indices[self.next & (CHURN_INDICES - 1)] as usize;
            self.next = self.next.wrapping_add(1);
            let fresh = front.alloc(index as u8);
            let old = std::mem::replace(&mut self.live[index], fresh);
            self.deferred.push_back(old);
            if self.deferred.len() > DEFERRED_FREES {
                front.free(self.deferred.pop_front().expect("non-empty"));
            }
        }
        start.elapsed()
    }

    fn timed<const N: usize, F: Front<N, Handle = H>>(
        &mut self,
        front: &mut F,
        iters: u64,
        deferred: bool,
    ) -> Duration {
        if deferred { self.run_deferred(front, iters) } else { self.run(front, iters) }
    }

    fn free_all<const N: usize, F: Front<N, Handle = H>>(self, front: &mut F) {
        for handle in self.live.into_iter().chain(self.deferred) {
            front.free(handle);
        }
    }
}

/// One handoff thread: replaces ring blocks; every other evicted block goes to `outbound`
/// (freed by the other thread), and whatever arrives on `inbound` is freed here.
fn handoff_thread<const N: usize, F: Front<N>>(
    front: &mut F,
    iters: u64,
    barrier: &Barrier,
    outbound: &ArrayQueue<F::Handle>,
    inbound: &ArrayQueue<F::Handle>,
) -> Duration {
    let mut ring: Vec<F::Handle> = (0..RING_BLOCKS).map(|i| front.alloc(i as u8)).collect();
    barrier.wait();
    let start = Instant::now();
    for i in 0..iters as usize {
        let fresh = front.alloc(i as u8);
        let old = std::mem::replace(&mut ring[i & (RING_BLOCKS - 1)], fresh);
        if i & 1 == 1 {
            if let Err(old) = outbound.push(old) {
                front.free(old);
            }
        } else {
            front.free(old);
        }
        if let Some(theirs) = inbound.pop() {
            front.free(theirs);
        }
    }
    let elapsed = start.elapsed();
    // Both threads have stopped pushing before either drains (outside the timed region).
    barrier.wait();
    while let Some(theirs) = inbound.pop() {
        front.free(theirs);
    }
    for handle in ring {
        front.free(handle);
    }
    elapsed
}

fn handoff<const N: usize, F: Front<N>>(make: impl Fn() -> F + Sync, iters: u64) -> Duration
where
    F::Handle: Send,
{
    let queues = [ArrayQueue::new(HANDOFF_QUEUE), ArrayQueue::new(HANDOFF_QUEUE)];
    let barrier = Barrier::new(2);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..2)
            .map(|t| {
                let (make, barrier, queues) = (&make, &barrier, &queues);
                scope.spawn(move || {
                    let mut front = make();
                    handoff_thread::<N, F>(&mut front, iters, barrier, &queues[t], &queues[1 - t])
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("handoff thread")).max().expect("2 threads")
    })
}

fn rows<const N: usize>(criterion: &mut Criterion) {
    let arena = Arena::new();
    let mut group = criterion.benchmark_group(format!("pair/{N}"));
    group.bench_function("mimalloc", |b| b.iter_custom(|iters| pair::<N, _>(&mut Mimalloc, iters)));
    let mut local = arena.local();
    group.bench_function("slab", |b| b.iter_custom(|iters| pair::<N, _>(&mut local, iters)));
    group.bench_function("slab-tls", |b| b.iter_custom(|iters| pair::<N, _>(&mut SlabTls, iters)));
    group.finish();

    for deferred in [false, true] {
        let name = if deferred { "churn-deferred" } else { "churn" };
        let mut group = criterion.benchmark_group(format!("{name}/{N}"));
        let mut churn = Churn::new::<N, _>(&mut Mimalloc);
        group.bench_function("mimalloc", |b| {
            b.iter_custom(|iters| churn.timed::<N, _>(&mut Mimalloc, iters, deferred))
        });
        churn.free_all::<N, _>(&mut Mimalloc);
        let mut churn = Churn::new::<N, _>(&mut local);
        group.bench_function("slab", |b| {
            b.iter_custom(|iters| churn.timed::<N, _>(&mut local, iters, deferred))
        });
        churn.free_all::<N, _>(&mut local);
        let mut churn = Churn::new::<N, _>(&mut SlabTls);
        group.bench_function("slab-tls", |b| {
            b.iter_custom(|iters| churn.timed::<N, _>(&mut SlabTls, iters, deferred))
        });
        churn.free_all::<N, _>(&mut SlabTls);
        group.finish();
    }

    let mut group = criterion.benchmark_group(format!("handoff/{N}"));
    group
        .bench_function("mimalloc", |b| b.iter_custom(|iters| handoff::<N, _>(|| Mimalloc, iters)));
    let handoff_arena = Arena::new();
    group.bench_function("slab", |b| {
        b.iter_custom(|iters| handoff::<N, _>(|| handoff_arena.local(), iters))
    });
    group.bench_function("slab-tls", |b| b.iter_custom(|iters| handoff::<N, _>(|| SlabTls, iters)));
    group.finish();
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).expect("VmRSS line");
    line.split_whitespace().nth(1).and_then(|v| v.parse().ok()).expect("VmRSS value")
}

/// The memory child: 1M live 32-byte blocks, then 2M random replacements; prints one JSON line.
fn memory_child<const N: usize, F: Front<N>>(name: &str, front: &mut F, held: impl Fn() -> usize) {
    let mut live: Vec<Option<F::Handle>> = Vec::with_capacity(LIVE_BLOCKS);
    live.resize_with(LIVE_BLOCKS, || None);
    let mut rng = SmallRng::seed_from_u64(11);
    let indices: Vec<u32> =
        (0..MEMORY_CHURN_OPS).map(|_| rng.random_range(0..LIVE_BLOCKS as u32)).collect();
    let rss_before_kib = rss_kib();
    for (i, slot) in live.iter_mut().enumerate() {
        *slot = Some(front.alloc(i as u8));
    }
    let rss_filled_kib = rss_kib();
    let held_filled_bytes = held();
    for &index in &indices {
        let fresh = front.alloc(index as u8);
        if let Some(old) = live[index as usize].replace(fresh) {
            front.free(old);
        }
    }
    let rss_churned_kib = rss_kib();
    println!(
        "{{\"contestant\":\"{name}\",\"block_bytes\":{N},\"live_blocks\":{LIVE_BLOCKS},\
         \"churn_ops\":{MEMORY_CHURN_OPS},\"rss_before_kib\":{rss_before_kib},\
         \"rss_filled_kib\":{rss_filled_kib},\"rss_churned_kib\":{rss_churned_kib},\
         \"pool_held_filled_bytes\":{held_filled_bytes},\"pool_held_churned_bytes\":{}}}",
        held()
    );
    black_box(&live);
}

fn memory_pass() {
    let exe = std::env::current_exe().expect("current exe");
    let mut lines = Vec::new();
    for name in ["mimalloc", "slab"] {
        let out = std::process::Command::new(&exe)
            .env("COREKV_SLAB_MEMORY_CHILD", name)
            .output()
            .expect("memory child");
        assert!(out.status.success(), "memory child {name} failed");
        let line = String::from_utf8(out.stdout).expect("utf-8").trim().to_owned();
        println!("memory {line}");
        lines.push(line);
    }
    let dir = support::criterion_home();
    std::fs::create_dir_all(&dir).expect("criterion dir");
    let path = dir.join("slab-memory.json");
    std::fs::File::create(&path)
        .and_then(|mut file| file.write_all(format!("[{}]\n", lines.join(",")).as_bytes()))
        .expect("write memory json");
    println!("memory written to {}", path.display());
}

/// Checks the pool's one promise before timing it: across a cross-thread free and reuse, no
/// block is handed out twice and none is lost (every freed block comes back before a new slab).
fn self_check() {
    // Whole slabs (64-byte header), so the second round cannot come from a bump range.
    const BLOCKS: usize = 5 * ((SLAB_BYTES - 64) / 32);
    let arena = Arena::new();
    let mut owner = arena.local();
    let blocks: Vec<Block<'_>> = (0..BLOCKS).map(|_| owner.alloc(32).expect("class")).collect();
    let mut seen: std::collections::HashSet<*const u8> = blocks.iter().map(Block::as_ptr).collect();
    assert_eq!(seen.len(), BLOCKS, "a block was handed out twice");
    let held = arena.slab_bytes_held();
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let mut other = arena.local();
            for block in blocks {
                other.free(block);
            }
        });
    });
    let again: Vec<Block<'_>> = (0..BLOCKS).map(|_| owner.alloc(32).expect("class")).collect();
    assert_eq!(arena.slab_bytes_held(), held, "remote frees were not reused");
    let reused: std::collections::HashSet<*const u8> = again.iter().map(Block::as_ptr).collect();
    assert_eq!(reused.len(), BLOCKS, "a block was handed out twice after a remote free");
    seen.retain(|ptr| !reused.contains(ptr));
    assert!(seen.is_empty(), "{} blocks lost", seen.len());
}

fn main() {
    match std::env::var("COREKV_SLAB_MEMORY_CHILD").as_deref() {
        Ok("mimalloc") => return memory_child::<32, _>("mimalloc", &mut Mimalloc, || 0),
        Ok("slab") => {
            let arena = Arena::new();
            let mut local = arena.local();
            return memory_child::<32, _>("slab", &mut local, || arena.slab_bytes_held());
        }
        _ => {}
    }
    self_check();
    let bench_mode = std::env::args().any(|arg| arg == "--bench");
    let mut criterion = support::criterion(Duration::from_secs(2));
    rows::<32>(&mut criterion);
    rows::<64>(&mut criterion);
    criterion.final_summary();
    if bench_mode {
        memory_pass();
    }
}
