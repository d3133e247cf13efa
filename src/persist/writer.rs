//! The AOF writer: workers hand it records, one thread writes and syncs them.
//!
//! # Path of a record
//!
//! 1. A worker runs a write under its stripes (`order`), takes a sequence number and encodes
//!    the record into its own [`WorkerLog`] batch: no shared state but the sequence counter.
//! 2. At the end of each event-loop turn the worker pushes its batch onto its bounded
//!    lock-free queue (one per worker, so workers never contend on a queue) and unparks the
//!    writer.
//! 3. The writer pops every queue, merges the batches by sequence number (each queue is
//!    already in order; a number missing means a worker has not pushed its turn yet, so the
//!    merge waits for it) and writes everything it has in one write.
//! 4. `appendfsync always`: the write and its `fdatasync` go out linked in one submission;
//!    when it completes, `durable` moves past the group and the workers holding replies for
//!    those records are woken. Records that arrive while one group syncs form the next group.
//!    `everysec`: an `fdatasync` at most once a second; `no`: never (the kernel decides).
//!
//! A worker whose client wrote under `always` holds that client's replies until `durable`
//! passes the client's last record; it keeps serving every other connection meanwhile.
//!
//! # Errors
//!
//! A failed write or `fdatasync` keeps every byte written since the last good sync and retries
//! once a second, writing them again at the same offsets before syncing: after a failed fsync
//! Linux may have dropped the dirty pages, and a later fsync would "succeed" without them on
//! disk. A torn record is therefore completed in place, never duplicated. Until a retry
//! succeeds, `write_ok` is false and the server refuses writes with `-MISCONF`.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fs::File;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use crossbeam_queue::ArrayQueue;
use crossbeam_utils::CachePadded;
use parking_lot::Mutex;

use super::io::Io;
use super::order::Order;
use super::record;

/// Batches a worker may have queued before it waits for the writer (backpressure when the
/// disk is slower than the writes).
const QUEUE_BATCHES: usize = 1024;
/// How often a failed write or fsync is retried.
const RETRY_EVERY: Duration = Duration::from_secs(1);
/// How often a busy writer looks for batches (not under `always`, whose batches wake it).
const POLL_EVERY: Duration = Duration::from_millis(1);
/// How long after the last batch the writer keeps polling before it sleeps until woken.
const BUSY_FOR: Duration = Duration::from_millis(100);
/// How long a stopping writer keeps retrying a failing disk.
const STOP_TRIES: Duration = Duration::from_secs(3);

/// `appendfsync`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Fsync {
    /// Sync before replying.
    Always = 0,
    /// Sync once a second.
    Everysec = 1,
    /// Never sync; the kernel writes back when it likes.
    No = 2,
}

impl Fsync {
    /// The `appendfsync` value.
    pub fn name(self) -> &'static str {
        match self {
            Fsync::Always => "always",
            Fsync::Everysec => "everysec",
            Fsync::No => "no",
        }
    }

    fn from_u8(value: u8) -> Fsync {
        match value {
            0 => Fsync::Always,
            1 => Fsync::Everysec,
            _ => Fsync::No,
        }
    }
}

/// Records a worker has encoded but not yet handed to the writer.
#[derive(Debug, Default)]
pub struct Batch {
    bytes: Vec<u8>,
    /// Each record's sequence number and end offset in `bytes`.
    ends: Vec<(u64, usize)>,
}

/// The state workers and the writer share.
#[derive(Debug)]
pub struct Aof {
    /// Stripe locks and sequence numbers (shared with snapshots).
    pub order: Arc<Order>,
    queues: Box<[ArrayQueue<Batch>]>,
    fsync: AtomicU8,
    /// Every record with a smaller sequence number is on disk (fsynced).
    durable: CachePadded<AtomicU64>,
    /// Every record with a smaller sequence number is written to the file.
    written: AtomicU64,
    /// Workers holding replies until `durable` moves.
    waiting: Box<[AtomicBool]>,
    /// Serializes `append_detached`, so its queue stays in sequence order.
    detached: Mutex<()>,
    write_ok: AtomicBool,
    last_error: Mutex<Option<String>>,
    size: AtomicU64,
    stop: AtomicBool,
    /// The writer is (about to be) parked with a long timeout: a batch must unpark it.
    sleeping: AtomicBool,
    writer: OnceLock<std::thread::Thread>,
    backend: OnceLock<&'static str>,
    fsyncs: AtomicU64,
    delayed_fsync: AtomicU64,
    /// The file records are appended to.
    path: Mutex<PathBuf>,
    /// A switch to a new file the writer is to make (AOF rewrite).
    switch: Mutex<Option<Switch>>,
    /// The sequence number the last switch happened at.
    switched_at: AtomicU64,
    /// The AOF directory and its manifest (when the server runs one).
    pub dir: Mutex<Option<super::aof::AofDir>>,
    /// AOF rewrite bookkeeping, for INFO and the automatic rewrite.
    pub rewrites: RewriteStats,
}

/// A switch to a new incremental file at a sequence number: records from `seq` on go there.
#[derive(Debug)]
pub struct Switch {
    /// The first record of the new file.
    pub seq: u64,
    /// The new file, opened for writing, `size` bytes long (its header).
    pub file: File,
    /// Its path.
    pub path: PathBuf,
    /// Its length.
    pub size: u64,
}

/// What INFO reports about AOF rewrites.
#[derive(Debug, Default)]
pub struct RewriteStats {
    /// A rewrite is running.
    pub in_progress: AtomicBool,
    /// Rewrites completed.
    pub done: AtomicU64,
    /// The last rewrite failed.
    pub last_failed: AtomicBool,
    /// Seconds the last rewrite took (u64::MAX: none yet).
    pub last_seconds: AtomicU64,
    /// The base file's size after the last rewrite, or the AOF's size at start.
    pub base_size: AtomicU64,
}

/// Wakes worker `i` (through its inbox) so it releases replies whose records are durable.
pub type WakeWorker = Box<dyn Fn(usize) + Send>;

impl Aof {
    /// Shared state for `workers` workers, appending to `path` (already `size` bytes long),
    /// numbering records from `order`'s next sequence number.
    pub fn new(workers: usize, order: Arc<Order>, path: PathBuf, size: u64, fsync: Fsync) -> Aof {
        let next_seq = order.peek();
        Aof {
            order,
            // One queue per worker, and one for records from other threads (`append_detached`).
            queues: (0..=workers).map(|_| ArrayQueue::new(QUEUE_BATCHES)).collect(),
            detached: Mutex::new(()),
            fsync: AtomicU8::new(fsync as u8),
            durable: CachePadded::new(AtomicU64::new(next_seq)),
            written: AtomicU64::new(next_seq),
            waiting: (0..workers).map(|_| AtomicBool::new(false)).collect(),
            write_ok: AtomicBool::new(true),
            last_error: Mutex::new(None),
            size: AtomicU64::new(size),
            stop: AtomicBool::new(false),
            sleeping: AtomicBool::new(false),
            writer: OnceLock::new(),
            backend: OnceLock::new(),
            fsyncs: AtomicU64::new(0),
            delayed_fsync: AtomicU64::new(0),
            path: Mutex::new(path),
            switch: Mutex::new(None),
            switched_at: AtomicU64::new(0),
            dir: Mutex::new(None),
            rewrites: RewriteStats {
                last_seconds: AtomicU64::new(u64::MAX),
                base_size: AtomicU64::new(size),
                ..RewriteStats::default()
            },
        }
    }

    /// Starts the writer thread on `file` (opened for appending, positioned at `size`).
    pub fn start(
        self: &Arc<Aof>,
        file: File,
        wake: WakeWorker,
    ) -> std::io::Result<std::thread::JoinHandle<()>> {
        let aof = self.clone();
        let (io, fallback) = Io::probe();
        if let Some(reason) = fallback {
            tracing::warn!(%reason, "io_uring is unavailable; the AOF writer uses blocking I/O");
        }
        let _ = self.backend.set(io.name());
        // Read before any record can be appended: the writer starts from here.
        let offset = self.size();
        let next_seq = self.order.peek();
        let handle =
            std::thread::Builder::new().name("corekv-aof".to_owned()).spawn(move || {
                let workers = aof.queues.len();
                Writer {
                    aof,
                    file,
                    io,
                    pending: (0..workers).map(|_| VecDeque::new()).collect(),
                    next_seq,
                    out: Vec::new(),
                    offset,
                    unsynced: Vec::new(),
                    unsynced_from: offset,
                    last_fsync: Instant::now(),
                    retry_at: None,
                    last_data: Instant::now(),
                    stopping_since: None,
                    wake,
                }
                .run()
            })?;
        let _ = self.writer.set(handle.thread().clone());
        Ok(handle)
    }

    /// The current `appendfsync`.
    pub fn fsync(&self) -> Fsync {
        // Relaxed: CONFIG SET's new policy applies from the next command on; nothing else
        // depends on when a thread sees it.
        Fsync::from_u8(self.fsync.load(Ordering::Relaxed))
    }

    /// CONFIG SET appendfsync.
    pub fn set_fsync(&self, fsync: Fsync) {
        // Relaxed: see `fsync`.
        self.fsync.store(fsync as u8, Ordering::Relaxed);
        self.unpark_writer();
    }

    /// Records with a smaller sequence number are on disk.
    pub fn durable(&self) -> u64 {
        // SeqCst: pairs with the writer's store and its reading of `waiting` (see
        // `wait_for_durable`), so a worker that starts waiting is never missed.
        self.durable.load(Ordering::SeqCst)
    }

    /// Worker `worker` holds replies until `durable` moves: the writer will wake it. Returns
    /// the durable mark read *after* registering, so a caller that finds its record durable
    /// now needs no wake.
    pub fn wait_for_durable(&self, worker: usize) -> u64 {
        // SeqCst (Dekker): either the writer's later read of `waiting` sees this store, or
        // this thread's load below sees the writer's new `durable`.
        self.waiting[worker].store(true, Ordering::SeqCst);
        self.durable.load(Ordering::SeqCst)
    }

    /// Worker `worker` holds nothing any more.
    pub fn stop_waiting(&self, worker: usize) {
        // Relaxed: a spurious wake costs one inbox message; a missed one cannot happen since
        // `wait_for_durable` sets the flag again before each wait.
        self.waiting[worker].store(false, Ordering::Relaxed);
    }

    /// False after a failed write or fsync, until a retry succeeds: writes get `-MISCONF`.
    pub fn write_ok(&self) -> bool {
        // Relaxed: a status flag; a command racing the change may see either state.
        self.write_ok.load(Ordering::Relaxed)
    }

    /// The last write or fsync error, as `strerror` text.
    pub fn last_error(&self) -> Option<String> {
        self.last_error.lock().clone()
    }

    /// The file's size in bytes.
    pub fn size(&self) -> u64 {
        // Relaxed: INFO's reading.
        self.size.load(Ordering::Relaxed)
    }

    /// "io_uring" or "blocking".
    pub fn backend(&self) -> &'static str {
        self.backend.get().copied().unwrap_or("blocking")
    }

    /// fdatasyncs completed.
    pub fn fsyncs(&self) -> u64 {
        // Relaxed: a counter for INFO.
        self.fsyncs.load(Ordering::Relaxed)
    }

    /// Records written to the file but not yet fsynced (`aof_pending_bio_fsync`-like).
    pub fn pending_fsync(&self) -> bool {
        // Relaxed: INFO's reading.
        self.written.load(Ordering::Relaxed) > self.durable.load(Ordering::Relaxed)
    }

    /// Everysec syncs that had to wait for a previous one (`aof_delayed_fsync`).
    pub fn delayed_fsync(&self) -> u64 {
        // Relaxed: a counter for INFO.
        self.delayed_fsync.load(Ordering::Relaxed)
    }

    /// Appends one record from a thread that is not a worker (an eviction by the maintenance
    /// thread, say) and hands it to the writer at once; returns its sequence number. Call it
    /// while holding the record's stripes, like a worker's `WorkerLog::append`.
    pub fn append_detached(&self, ms: u64, db: usize, payload: &[u8]) -> u64 {
        let _one_at_a_time = self.detached.lock();
        let seq = self.order.next_seq();
        let mut batch = Batch::default();
        record::encode(&mut batch.bytes, seq, ms, db, payload);
        batch.ends.push((seq, batch.bytes.len()));
        let queue = &self.queues[self.queues.len() - 1];
        while let Err(back) = queue.push(batch) {
            batch = back;
            self.unpark_writer();
            std::thread::sleep(Duration::from_micros(100));
        }
        self.unpark_writer();
        seq
    }

    /// The file records are appended to now.
    pub fn path(&self) -> PathBuf {
        self.path.lock().clone()
    }

    /// Asks the writer to send records from `switch.seq` on to `switch.file`, once every
    /// earlier record is written and synced to the current file. Call it while holding every
    /// stripe, with `switch.seq` the next sequence number, so no record is on either side.
    pub fn switch_at(&self, switch: Switch) {
        *self.switch.lock() = Some(switch);
        self.unpark_writer();
    }

    /// Waits until the writer made the switch at `seq` (false after `timeout`).
    pub fn wait_switched(&self, seq: u64, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        // Acquire: pairs with the writer's Release store after the switch.
        while self.switched_at.load(Ordering::Acquire) < seq {
            if Instant::now() > deadline {
                return false;
            }
            self.unpark_writer();
            std::thread::sleep(Duration::from_millis(1));
        }
        true
    }

    /// Asks the writer to write and sync everything queued, then stop.
    pub fn stop(&self) {
        // Release: the writer's Acquire load sees every batch pushed before this.
        self.stop.store(true, Ordering::Release);
        self.unpark_writer();
    }

    fn unpark_writer(&self) {
        if let Some(thread) = self.writer.get() {
            thread.unpark();
        }
    }
}

/// A worker's side of the log: its batch under construction.
#[derive(Debug)]
pub struct WorkerLog {
    aof: Arc<Aof>,
    worker: usize,
    batch: RefCell<Batch>,
    /// A reusable buffer for a record's payload.
    pub payload: RefCell<Vec<u8>>,
}

impl WorkerLog {
    /// Worker `worker`'s log.
    pub fn new(aof: Arc<Aof>, worker: usize) -> WorkerLog {
        WorkerLog {
            aof,
            worker,
            batch: RefCell::new(Batch::default()),
            payload: RefCell::new(Vec::new()),
        }
    }

    /// The shared state.
    pub fn aof(&self) -> &Aof {
        &self.aof
    }

    /// The worker this log belongs to.
    pub fn worker(&self) -> usize {
        self.worker
    }

    /// Appends a record of `payload` (RESP commands) run at `ms` in `db`; returns its sequence
    /// number. Call it while holding the write's stripes.
    pub fn append(&self, ms: u64, db: usize, payload: &[u8]) -> u64 {
        let seq = self.aof.order.next_seq();
        let mut batch = self.batch.borrow_mut();
        record::encode(&mut batch.bytes, seq, ms, db, payload);
        let end = batch.bytes.len();
        batch.ends.push((seq, end));
        seq
    }

    /// Hands the batch to the writer. Called at the end of every event-loop turn: the writer
    /// cannot write past a record that is still in a worker's batch.
    pub fn flush(&self) {
        let mut batch = self.batch.borrow_mut();
        if batch.ends.is_empty() {
            return;
        }
        let mut full = std::mem::take(&mut *batch);
        let queue = &self.aof.queues[self.worker];
        loop {
            match queue.push(full) {
                Ok(()) => break,
                // The writer is behind by QUEUE_BATCHES turns: the disk is the bottleneck, so
                // this worker waits for it rather than grow memory without bound.
                Err(back) => {
                    full = back;
                    self.aof.unpark_writer();
                    std::thread::sleep(Duration::from_micros(100));
                }
            }
        }
        // SeqCst fence (Dekker, with the writer's sleep): the push above is visible to a
        // writer that decides to sleep after this, or this load sees it sleeping.
        std::sync::atomic::fence(Ordering::SeqCst);
        if self.aof.fsync() == Fsync::Always || self.aof.sleeping.load(Ordering::SeqCst) {
            self.aof.unpark_writer();
        }
    }
}

/// A batch being merged: the next record's index and its start offset.
struct Draining {
    batch: Batch,
    index: usize,
    start: usize,
}

struct Writer {
    aof: Arc<Aof>,
    file: File,
    io: Io,
    pending: Vec<VecDeque<Draining>>,
    /// The next sequence number to write.
    next_seq: u64,
    /// Merged records not yet written.
    out: Vec<u8>,
    /// File offset `out` goes to.
    offset: u64,
    /// Bytes written since the last successful fsync (rewritten if an fsync fails).
    unsynced: Vec<u8>,
    unsynced_from: u64,
    last_fsync: Instant,
    /// After an error: when to try again.
    retry_at: Option<Instant>,
    /// When a batch last arrived (the writer polls while busy, sleeps when idle).
    last_data: Instant,
    /// When the writer was first asked to stop while the disk was failing.
    stopping_since: Option<Instant>,
    wake: WakeWorker,
}

impl Writer {
    fn run(mut self) {
        loop {
            // Acquire: pairs with `stop`'s Release, so batches pushed before it are popped now.
            let stopping = self.aof.stop.load(Ordering::Acquire);
            self.gather();
            self.merge();
            let now = Instant::now();
            let may_try = self.retry_at.is_none_or(|at| now >= at) || stopping;
            let fsync = self.aof.fsync();
            if may_try && (!self.out.is_empty() || self.retry_at.is_some()) {
                let sync = fsync == Fsync::Always || stopping;
                self.write_out(sync);
            }
            if may_try
                && self.retry_at.is_none()
                && !self.unsynced.is_empty()
                && (stopping
                    || fsync == Fsync::Always
                    || (fsync == Fsync::Everysec && self.last_fsync.elapsed() >= RETRY_EVERY))
            {
                self.sync();
            }
            if self.maybe_switch() {
                // Records for the new file may be waiting already.
                self.merge();
            }
            if stopping && self.idle() {
                if self.retry_at.is_some() {
                    tracing::error!(
                        path = %self.aof.path().display(),
                        "stopping with AOF data that could not be written"
                    );
                }
                return;
            }
            if stopping && self.retry_at.is_some() {
                // Shutting down on a failing disk: give it a few more tries, not forever.
                let since = *self.stopping_since.get_or_insert_with(Instant::now);
                if since.elapsed() >= STOP_TRIES {
                    tracing::error!(
                        path = %self.aof.path().display(),
                        "giving up on the AOF at shutdown after repeated errors; the records \
                         not written were never acknowledged under appendfsync always"
                    );
                    return;
                }
                std::thread::sleep(RETRY_EVERY);
                continue;
            }
            if self.out.is_empty() && self.queues_empty() {
                if fsync != Fsync::Always
                    && self.retry_at.is_none()
                    && self.last_data.elapsed() < BUSY_FOR
                {
                    // Busy and not `always`: poll instead of being woken by every batch, so a
                    // busy worker's turn costs no futex wake (the record still reaches the
                    // file within a millisecond).
                    std::thread::park_timeout(POLL_EVERY);
                    continue;
                }
                let timeout = match (self.retry_at, fsync, self.unsynced.is_empty()) {
                    (Some(at), _, _) => at.saturating_duration_since(Instant::now()),
                    (None, Fsync::Everysec, false) => {
                        RETRY_EVERY.saturating_sub(self.last_fsync.elapsed())
                    }
                    _ => Duration::from_millis(500),
                };
                // SeqCst (Dekker, with `WorkerLog::flush`): either a worker's push before its
                // fence is seen by the check below, or the worker sees `sleeping` and unparks.
                self.aof.sleeping.store(true, Ordering::SeqCst);
                std::sync::atomic::fence(Ordering::SeqCst);
                if self.queues_empty() {
                    std::thread::park_timeout(timeout.max(Duration::from_micros(50)));
                }
                self.aof.sleeping.store(false, Ordering::Relaxed);
            }
        }
    }

    fn queues_empty(&self) -> bool {
        self.aof.queues.iter().all(ArrayQueue::is_empty)
    }

    fn idle(&self) -> bool {
        self.out.is_empty()
            && self.unsynced.is_empty()
            && self.queues_empty()
            && self.pending.iter().all(VecDeque::is_empty)
    }

    /// Makes a pending switch once every record before it is written and synced.
    fn maybe_switch(&mut self) -> bool {
        let Some(at) = self.aof.switch.lock().as_ref().map(|s| s.seq) else { return false };
        if self.next_seq != at || !self.out.is_empty() || self.retry_at.is_some() {
            return false;
        }
        if !self.unsynced.is_empty() {
            self.sync();
            if self.retry_at.is_some() {
                return false;
            }
        }
        let Some(switch) = self.aof.switch.lock().take() else { return false };
        self.file = switch.file;
        self.offset = switch.size;
        self.unsynced_from = switch.size;
        *self.aof.path.lock() = switch.path;
        // Relaxed: INFO's reading.
        self.aof.size.store(switch.size, Ordering::Relaxed);
        // Release: `wait_switched` sees the switch done, with the old file synced.
        self.aof.switched_at.store(at, Ordering::Release);
        true
    }

    fn gather(&mut self) {
        for (queue, pending) in self.aof.queues.iter().zip(&mut self.pending) {
            while let Some(batch) = queue.pop() {
                self.last_data = Instant::now();
                pending.push_back(Draining { batch, index: 0, start: 0 });
            }
        }
    }

    /// Moves records to `out` in sequence order, as far as there is no gap (and not past a
    /// pending switch: those records go to the next file).
    fn merge(&mut self) {
        let limit = self.aof.switch.lock().as_ref().map_or(u64::MAX, |s| s.seq);
        loop {
            let mut progressed = false;
            for pending in &mut self.pending {
                while let Some(front) = pending.front_mut() {
                    let Some(&(seq, end)) = front.batch.ends.get(front.index) else {
                        pending.pop_front();
                        continue;
                    };
                    if seq != self.next_seq || seq >= limit {
                        break;
                    }
                    self.out.extend_from_slice(&front.batch.bytes[front.start..end]);
                    front.start = end;
                    front.index += 1;
                    self.next_seq += 1;
                    progressed = true;
                }
            }
            if !progressed {
                return;
            }
        }
    }

    fn write_out(&mut self, sync: bool) {
        let mut written = 0;
        let result = self.io.write_at(&self.file, &self.out, self.offset, sync, &mut written);
        self.unsynced.extend_from_slice(&self.out[..written]);
        self.offset += written as u64;
        self.out.drain(..written);
        self.aof.size.store(self.offset, Ordering::Relaxed);
        match result {
            Ok(()) => {
                // Relaxed: INFO's reading; durability is published through `durable`.
                self.aof.written.store(self.next_seq, Ordering::Relaxed);
                // Recovered first: a client released by `synced` may write next, and must
                // not still be refused with -MISCONF.
                self.recovered();
                if sync {
                    self.synced();
                }
            }
            Err(error) => {
                self.failed("write", &error);
                self.rewind();
            }
        }
    }

    /// After a failed write or fsync: everything since the last good fsync is written again
    /// (at the same offsets) before the next fsync.
    fn rewind(&mut self) {
        let mut again = std::mem::take(&mut self.unsynced);
        again.append(&mut self.out);
        self.out = again;
        self.offset = self.unsynced_from;
    }

    fn sync(&mut self) {
        if self.aof.fsync() == Fsync::Everysec && self.last_fsync.elapsed() > 2 * RETRY_EVERY {
            // Relaxed: a counter for INFO.
            self.aof.delayed_fsync.fetch_add(1, Ordering::Relaxed);
        }
        match self.io.sync(&self.file) {
            Ok(()) => {
                self.recovered();
                self.synced();
            }
            Err(error) => {
                // The kernel may have dropped the pages it failed to write: write them again
                // before the next fsync, or a "successful" later fsync would not cover them.
                self.failed("fsync", &error);
                self.rewind();
            }
        }
    }

    /// Everything written so far is on disk.
    fn synced(&mut self) {
        self.unsynced.clear();
        self.unsynced_from = self.offset;
        self.last_fsync = Instant::now();
        // Relaxed: a counter for INFO.
        self.aof.fsyncs.fetch_add(1, Ordering::Relaxed);
        // Relaxed: written only by this thread.
        let durable = self.aof.written.load(Ordering::Relaxed);
        // SeqCst: see `Aof::wait_for_durable`.
        self.aof.durable.store(durable, Ordering::SeqCst);
        for (worker, waiting) in self.aof.waiting.iter().enumerate() {
            if waiting.load(Ordering::SeqCst) {
                (self.wake)(worker);
            }
        }
    }

    fn failed(&mut self, what: &str, error: &std::io::Error) {
        let first = self.aof.write_ok.swap(false, Ordering::Relaxed);
        *self.aof.last_error.lock() = Some(strerror(error));
        if first {
            tracing::warn!(
                path = %self.aof.path().display(),
                %error,
                "error on AOF {what}; writes are refused until it succeeds (retrying every second)"
            );
        }
        self.retry_at = Some(Instant::now() + RETRY_EVERY);
    }

    fn recovered(&mut self) {
        if self.retry_at.take().is_some() || !self.aof.write_ok() {
            // Relaxed: a status flag (see `Aof::write_ok`).
            self.aof.write_ok.store(true, Ordering::Relaxed);
            tracing::warn!("AOF write error looks solved; writes are accepted again");
        }
    }
}

/// `strerror` text without Rust's " (os error N)" suffix, as Redis's messages show it.
pub fn strerror(error: &std::io::Error) -> String {
    let text = error.to_string();
    match text.find(" (os error") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wait_until(what: &str, condition: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !condition() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn records_from_two_workers_are_written_in_sequence_order() {
        let dir = std::env::temp_dir().join(format!("corekv-writer-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("merge.aof");
        std::fs::write(&path, record::FILE_HEADER).unwrap();
        let (file, size) = super::super::aof::open_for_append(&path).unwrap();
        let aof =
            Arc::new(Aof::new(2, Arc::new(Order::new(4, 1)), path.clone(), size, Fsync::Always));
        let writer = aof.start(file, Box::new(|_| {})).unwrap();
        let (first, second) = (WorkerLog::new(aof.clone(), 0), WorkerLog::new(aof.clone(), 1));
        // Interleaved sequence numbers; worker 1 hands its batch over first, so the writer
        // must wait for worker 0's record 1 before writing anything.
        assert_eq!(first.append(10, 0, b"*1\r\n$1\r\na\r\n"), 1);
        assert_eq!(second.append(11, 0, b"*1\r\n$1\r\nb\r\n"), 2);
        assert_eq!(first.append(12, 0, b"*1\r\n$1\r\nc\r\n"), 3);
        second.flush();
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(aof.durable(), 1, "nothing is durable while record 1 is missing");
        first.flush();
        wait_until("durable", || aof.durable() == 4);
        aof.stop();
        writer.join().unwrap();
        let mut seqs = Vec::new();
        super::super::aof::load_file(&path, false, |header, _| {
            seqs.push(header.seq);
            Ok(())
        })
        .unwrap();
        assert_eq!(seqs, [1, 2, 3]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_full_disk_is_reported_and_nothing_becomes_durable() {
        let Ok(file) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
            eprintln!("skipped: no /dev/full");
            return;
        };
        let order = Arc::new(Order::new(4, 1));
        let aof = Arc::new(Aof::new(1, order, "/dev/full".into(), 0, Fsync::Always));
        let writer = aof.start(file, Box::new(|_| {})).unwrap();
        let log = WorkerLog::new(aof.clone(), 0);
        log.append(1, 0, b"*1\r\n$4\r\nPING\r\n");
        log.flush();
        wait_until("the write error", || !aof.write_ok());
        assert_eq!(aof.last_error().as_deref(), Some("No space left on device"));
        assert_eq!(aof.durable(), 1, "a record that failed to write is not durable");
        aof.stop();
        writer.join().unwrap();
        assert_eq!(aof.durable(), 1);
    }
}
