//! The AOF's hot paths against the simplest thing that does the same job, in the same run.
//!
//! - `record-encode`: 1,000 SET records of 16-byte keys and 32-byte values.
//!   - `corekv`: `persist::record::encode`, the record a worker appends: RESP payload plus the
//!     header line (sequence number, time, db, length, CRC-32 of it all);
//!   - `resp-only`: the payload alone, as `write_command` writes it: what Redis appends to
//!     its AOF (no header, no checksum), so the difference is what the checksummed header
//!     costs;
//!   - `redis-crate`: the `redis` crate's `Cmd::write_packed_command` for the same command.
//! - `writer-batch/no` and `writer-batch/always`: 10,000 records (no) or 1,000 (always) in
//!   turns of 100, as a worker's event loop hands them over, until the last byte is written
//!   (`no`) or synced (`always`).
//!   - `corekv`: the writer thread (`persist::writer`: per-worker lock-free queues, merged by
//!     sequence number, written through io_uring or blocking I/O as probed at start; under
//!     `always`, turns that arrive while a sync runs share the next one: group commit);
//!   - `blocking`: the bench thread itself writes each turn with `write_all` (and under
//!     `always` a `sync_data` after each turn, as Redis does per event-loop turn): no thread
//!     hand-off, no merge.
//!
//!   Both write to a fresh file in a temp directory for every sample (the directory is under
//!   `$TMPDIR`, so the disk is whatever backs it; the md report states it). Time per
//!   iteration, throughput in records.
//!
//! Run: `cargo bench --bench aof`.

use std::fs::File;
use std::hint::black_box;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput};

use corekv::persist::aof::open_for_append;
use corekv::persist::order::Order;
use corekv::persist::record;
use corekv::persist::{Aof, Fsync, WorkerLog};
use corekv::protocol::write_command;

#[path = "support/mod.rs"]
mod support;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Records per `record-encode` iteration.
const ENCODE_RECORDS: usize = 1_000;
/// Records a worker hands over per event-loop turn.
const TURN: usize = 100;
/// The record's time field (any fixed instant).
const MS: u64 = 1_764_000_000_000;

fn key(index: usize) -> Vec<u8> {
    format!("key:{index:012}").into_bytes()
}

fn set_args(index: usize) -> [Vec<u8>; 3] {
    [b"SET".to_vec(), key(index), format!("value:{index:026}").into_bytes()]
}

fn record_encode(criterion: &mut Criterion) {
    let commands: Vec<[Vec<u8>; 3]> = (0..ENCODE_RECORDS).map(set_args).collect();
    let mut out = Vec::with_capacity(128 * ENCODE_RECORDS);
    let mut payload = Vec::with_capacity(128);
    let mut group = criterion.benchmark_group("record-encode");
    group.throughput(Throughput::Elements(ENCODE_RECORDS as u64));
    let id = |name| BenchmarkId::new(name, "set-16-32");
    group.bench_function(id("corekv"), |b| {
        b.iter(|| {
            out.clear();
            for (seq, args) in commands.iter().enumerate() {
                payload.clear();
                write_command(&mut payload, args);
                record::encode(&mut out, seq as u64, MS, 0, &payload);
            }
            black_box(out.len())
        })
    });
    group.bench_function(id("resp-only"), |b| {
        b.iter(|| {
            out.clear();
            for args in &commands {
                write_command(&mut out, args);
            }
            black_box(out.len())
        })
    });
    let packed: Vec<redis::Cmd> = commands
        .iter()
        .map(|[name, key, value]| {
            let mut cmd = redis::cmd(std::str::from_utf8(name).expect("ASCII"));
            cmd.arg(key.as_slice()).arg(value.as_slice());
            cmd
        })
        .collect();
    group.bench_function(id("redis-crate"), |b| {
        b.iter(|| {
            out.clear();
            for cmd in &packed {
                cmd.write_packed_command(&mut out);
            }
            black_box(out.len())
        })
    });
    group.finish();
}

/// The payloads of `count` SET records, encoded once (the rows time the writing).
fn payloads(count: usize) -> Vec<Vec<u8>> {
    (0..count)
        .map(|index| {
            let mut payload = Vec::new();
            write_command(&mut payload, &set_args(index));
            payload
        })
        .collect()
}

/// A fresh, empty file in `dir` for one sample.
fn fresh_file(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    let _ = std::fs::remove_file(&path);
    path
}

/// `iters` iterations through corekv's writer thread, each appending `payloads` in turns and
/// waiting until they are written (`Fsync::No`) or durable (`Fsync::Always`).
fn through_writer(dir: &Path, fsync: Fsync, payloads: &[Vec<u8>], iters: u64) -> Duration {
    let path = fresh_file(dir, "writer.aof");
    std::fs::write(&path, record::FILE_HEADER).expect("create the bench's AOF");
    let (file, size) = open_for_append(&path).expect("open the bench's AOF");
    let order = Arc::new(Order::new(1, 1));
    let aof = Arc::new(Aof::new(1, order, path.clone(), size, fsync));
    let handle = aof.start(file, Box::new(|_| {})).expect("start the writer thread");
    let log = WorkerLog::new(aof.clone(), 0);
    let start = Instant::now();
    // The file's size once every record so far is written: the writer publishes its progress
    // as the size (and, under `always`, as the durable mark).
    let mut expected = size;
    let mut last_seq = 0;
    for _ in 0..iters {
        for turn in payloads.chunks(TURN) {
            for payload in turn {
                last_seq = log.append(MS, 0, payload);
                expected += record_len(last_seq, payload.len());
            }
            log.flush();
        }
        match fsync {
            Fsync::Always => {
                while aof.durable() <= last_seq {
                    std::hint::spin_loop();
                }
            }
            _ => {
                while aof.size() < expected {
                    std::hint::spin_loop();
                }
            }
        }
    }
    let elapsed = start.elapsed();
    aof.stop();
    handle.join().expect("the writer thread ends");
    assert!(aof.write_ok(), "the writer failed: {:?}", aof.last_error());
    let _ = std::fs::remove_file(&path);
    elapsed
}

/// The length of a record of sequence number `seq` with a `len`-byte payload at [`MS`] in db 0:
/// `#seq ms db len crc\r\n` then the payload (`persist::record`'s format).
fn record_len(seq: u64, len: usize) -> u64 {
    fn digits(n: u64) -> u64 {
        n.checked_ilog10().map_or(1, |log| u64::from(log) + 1)
    }
    let header = 1 + digits(seq) + 1 + digits(MS) + 1 + 1 + 1 + digits(len as u64) + 1 + 8 + 2;
    header + len as u64
}

/// `iters` iterations of the same turns written by this thread with `write_all` (and
/// `sync_data` after each turn under `Fsync::Always`).
fn blocking(dir: &Path, fsync: Fsync, payloads: &[Vec<u8>], iters: u64) -> Duration {
    let path = fresh_file(dir, "blocking.aof");
    let mut file = File::create(&path).expect("create the bench's file");
    let mut out = Vec::with_capacity(128 * TURN);
    let mut seq = 1;
    let start = Instant::now();
    for _ in 0..iters {
        for turn in payloads.chunks(TURN) {
            out.clear();
            for payload in turn {
                record::encode(&mut out, seq, MS, 0, payload);
                seq += 1;
            }
            file.write_all(&out).expect("write the bench's file");
            if fsync == Fsync::Always {
                file.sync_data().expect("sync the bench's file");
            }
        }
    }
    let elapsed = start.elapsed();
    let _ = std::fs::remove_file(&path);
    elapsed
}

fn writer_batch(criterion: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("corekv-aof-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create the bench's temp directory");
    for (fsync, records) in [(Fsync::No, 10_000), (Fsync::Always, 1_000)] {
        let payloads = payloads(records);
        for seq in [1, 9, 10, 123_456_789] {
            let mut one = Vec::new();
            record::encode(&mut one, seq, MS, 0, &payloads[0]);
            assert_eq!(record_len(seq, payloads[0].len()), one.len() as u64, "record_len");
        }
        let mut group = criterion.benchmark_group(format!("writer-batch/{}", fsync.name()));
        group.throughput(Throughput::Elements(records as u64));
        let id = |name| BenchmarkId::new(name, records);
        group.bench_function(id("corekv"), |b| {
            b.iter_custom(|iters| through_writer(&dir, fsync, &payloads, iters))
        });
        group.bench_function(id("blocking"), |b| {
            b.iter_custom(|iters| blocking(&dir, fsync, &payloads, iters))
        });
        group.finish();
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn main() {
    let mut criterion = support::criterion(Duration::from_secs(3));
    record_encode(&mut criterion);
    writer_batch(&mut criterion);
    criterion.final_summary();
}
