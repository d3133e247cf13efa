//! Counters for INFO, commandstats, LATENCY HISTOGRAM and SLOWLOG.
//!
//! Each worker owns a [`WorkerStats`] and is its only writer, so a counter is bumped with a
//! relaxed load and store (no read-modify-write, no cache line shared with another writer);
//! INFO sums the workers' values with relaxed loads: a recent total is all it promises.

use std::collections::VecDeque;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// Sub-buckets per power of two in a latency histogram (12.5% resolution).
const SUB_BUCKETS: usize = 8;
/// Buckets: 64 powers of two of nanoseconds.
const BUCKETS: usize = 64 * SUB_BUCKETS;

/// Bumps a counter only its owner writes.
#[inline]
pub fn bump(counter: &AtomicU64, by: u64) {
    // Relaxed: single writer (the owning worker); readers want an approximate recent value.
    counter.store(counter.load(Ordering::Relaxed).wrapping_add(by), Ordering::Relaxed);
}

/// A latency histogram in nanoseconds: log-linear buckets, owner-written.
#[derive(Debug)]
pub struct Histogram {
    counts: Box<[AtomicU64]>,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram { counts: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect() }
    }
}

impl Histogram {
    fn index(nanos: u64) -> usize {
        let nanos = nanos.max(1);
        let exponent = 63 - nanos.leading_zeros() as usize;
        let sub = if exponent >= 3 {
            ((nanos >> (exponent - 3)) & (SUB_BUCKETS as u64 - 1)) as usize
        } else {
            0
        };
        exponent * SUB_BUCKETS + sub
    }

    /// The upper bound of bucket `index`, in ns.
    fn upper(index: usize) -> u64 {
        let exponent = index / SUB_BUCKETS;
        let sub = (index % SUB_BUCKETS) as u64;
        if exponent < 3 {
            return (2u64 << exponent) - 1;
        }
        let base = 1u64 << exponent;
        base + (sub + 1) * (base / SUB_BUCKETS as u64) - 1
    }

    /// Records one sample (owner only).
    pub fn record(&self, nanos: u64) {
        bump(&self.counts[Self::index(nanos)], 1);
    }

    /// Empties the histogram (CONFIG RESETSTAT).
    pub fn reset(&self) {
        for count in self.counts.iter() {
            // Relaxed: see `WorkerStats::reset`.
            count.store(0, Ordering::Relaxed);
        }
    }

    /// Adds this histogram's counts into `totals`.
    pub fn add_to(&self, totals: &mut [u64]) {
        for (total, count) in totals.iter_mut().zip(self.counts.iter()) {
            // Relaxed: see the module docs.
            *total += count.load(Ordering::Relaxed);
        }
    }

    /// An empty totals array for [`add_to`](Self::add_to).
    pub fn totals() -> Vec<u64> {
        vec![0; BUCKETS]
    }

    /// The value at `percentile` (0-100) of summed counts, in ns (the bucket's upper bound).
    pub fn percentile(totals: &[u64], percentile: f64) -> u64 {
        let count: u64 = totals.iter().sum();
        if count == 0 {
            return 0;
        }
        let rank = ((percentile / 100.0) * count as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (index, &n) in totals.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return Self::upper(index);
            }
        }
        Self::upper(BUCKETS - 1)
    }

    /// Cumulative counts at power-of-two microsecond bounds (LATENCY HISTOGRAM's
    /// `histogram_usec`): `(bound_us, calls at or below it)`, from the first non-empty bucket.
    pub fn power_of_two_usec(totals: &[u64]) -> Vec<(u64, u64)> {
        let mut out = Vec::new();
        let total: u64 = totals.iter().sum();
        if total == 0 {
            return out;
        }
        let mut cumulative = 0u64;
        let mut index = 0;
        let mut bound_us = 1u64;
        loop {
            while index < BUCKETS && Self::upper(index) < bound_us * 1000 {
                cumulative += totals[index];
                index += 1;
            }
            if cumulative > 0 || index >= BUCKETS {
                out.push((bound_us, cumulative));
            }
            if cumulative >= total || bound_us >= 1 << 40 {
                break;
            }
            bound_us *= 2;
        }
        out
    }
}

/// Per-command counters.
#[derive(Debug, Default)]
pub struct CommandStats {
    /// Successful or failed executions.
    pub calls: AtomicU64,
    /// Total execution time, µs.
    pub usec: AtomicU64,
    /// Refused before running (arity, auth, OOM, ...).
    pub rejected_calls: AtomicU64,
    /// Ran and replied with an error.
    pub failed_calls: AtomicU64,
    /// Execution-time histogram, allocated on first use.
    pub latency: OnceLock<Histogram>,
}

/// One worker's counters.
#[derive(Debug)]
pub struct WorkerStats {
    /// Per command, by table id.
    pub commands: Box<[CommandStats]>,
    /// Commands processed.
    pub commands_processed: AtomicU64,
    /// Connections accepted.
    pub connections_received: AtomicU64,
    /// Connections refused (maxclients).
    pub rejected_connections: AtomicU64,
    /// Bytes read from clients.
    pub net_input_bytes: AtomicU64,
    /// Bytes written to clients.
    pub net_output_bytes: AtomicU64,
    /// Errors replied.
    pub error_replies: AtomicU64,
    /// Lookups that found the key.
    pub keyspace_hits: AtomicU64,
    /// Lookups that did not.
    pub keyspace_misses: AtomicU64,
    /// Connected clients on this worker.
    pub connected_clients: AtomicU64,
    /// Blocked clients on this worker.
    pub blocked_clients: AtomicU64,
    /// Clients closed for breaking the output buffer limit.
    pub client_output_buffer_limit_disconnections: AtomicU64,
    /// Clients closed for breaking the query buffer limit.
    pub client_query_buffer_limit_disconnections: AtomicU64,
    /// Error replies by prefix (`ERR`, `WRONGTYPE`, ...).
    pub errors: parking_lot::Mutex<std::collections::BTreeMap<String, u64>>,
    /// The worker is running a write command (a starting snapshot waits for the writes that
    /// began before it; see `persist::snapshot`).
    pub in_write: std::sync::atomic::AtomicBool,
}

impl WorkerStats {
    /// Counters for a table of `commands` commands.
    pub fn new(commands: usize) -> WorkerStats {
        WorkerStats {
            commands: (0..commands).map(|_| CommandStats::default()).collect(),
            in_write: std::sync::atomic::AtomicBool::new(false),
            commands_processed: AtomicU64::new(0),
            connections_received: AtomicU64::new(0),
            rejected_connections: AtomicU64::new(0),
            net_input_bytes: AtomicU64::new(0),
            net_output_bytes: AtomicU64::new(0),
            error_replies: AtomicU64::new(0),
            keyspace_hits: AtomicU64::new(0),
            keyspace_misses: AtomicU64::new(0),
            connected_clients: AtomicU64::new(0),
            blocked_clients: AtomicU64::new(0),
            client_output_buffer_limit_disconnections: AtomicU64::new(0),
            client_query_buffer_limit_disconnections: AtomicU64::new(0),
            errors: parking_lot::Mutex::new(Default::default()),
        }
    }

    /// CONFIG RESETSTAT.
    pub fn reset(&self) {
        // Relaxed: a reset racing a bump may lose that one bump, which RESETSTAT tolerates.
        for command in self.commands.iter() {
            command.calls.store(0, Ordering::Relaxed);
            command.usec.store(0, Ordering::Relaxed);
            command.rejected_calls.store(0, Ordering::Relaxed);
            command.failed_calls.store(0, Ordering::Relaxed);
            if let Some(latency) = command.latency.get() {
                latency.reset();
            }
        }
        for counter in [
            &self.commands_processed,
            &self.connections_received,
            &self.rejected_connections,
            &self.net_input_bytes,
            &self.net_output_bytes,
            &self.error_replies,
            &self.keyspace_hits,
            &self.keyspace_misses,
            &self.client_output_buffer_limit_disconnections,
            &self.client_query_buffer_limit_disconnections,
        ] {
            counter.store(0, Ordering::Relaxed);
        }
        self.errors.lock().clear();
    }
}

/// Sums a counter over every worker.
pub fn total(
    stats: &[std::sync::Arc<WorkerStats>],
    counter: impl Fn(&WorkerStats) -> &AtomicU64,
) -> u64 {
    // Relaxed: see the module docs.
    stats.iter().map(|s| counter(s).load(Ordering::Relaxed)).sum()
}

/// One SLOWLOG entry.
#[derive(Debug, Clone)]
pub struct SlowEntry {
    /// Unique, increasing id.
    pub id: u64,
    /// Unix seconds when it ran.
    pub time: u64,
    /// Duration in µs.
    pub duration_us: u64,
    /// Arguments (at most 32, each at most 128 bytes, as Redis trims them).
    pub args: Vec<Vec<u8>>,
    /// Client address.
    pub addr: String,
    /// Client name.
    pub name: Vec<u8>,
}

/// SLOWLOG's entries, newest first.
#[derive(Debug, Default)]
pub struct SlowLog {
    /// Entries, newest at the front.
    pub entries: VecDeque<SlowEntry>,
    /// The next id.
    pub next_id: u64,
}

/// Redis's SLOWLOG_ENTRY_MAX_ARGC and SLOWLOG_ENTRY_MAX_STRING.
const SLOWLOG_MAX_ARGC: usize = 32;
const SLOWLOG_MAX_STRING: usize = 128;

impl SlowLog {
    /// Records a slow command, trimming its arguments as Redis does, keeping `max_len`.
    pub fn push(
        &mut self,
        args: &[&[u8]],
        duration_us: u64,
        addr: String,
        name: Vec<u8>,
        max_len: usize,
    ) {
        let mut kept: Vec<Vec<u8>> = Vec::new();
        let shown = args.len().min(SLOWLOG_MAX_ARGC);
        for (index, arg) in args.iter().take(shown).enumerate() {
            if index == SLOWLOG_MAX_ARGC - 1 && args.len() > SLOWLOG_MAX_ARGC {
                let more = args.len() - SLOWLOG_MAX_ARGC + 1;
                kept.push(format!("... ({more} more arguments)").into_bytes());
            } else if arg.len() > SLOWLOG_MAX_STRING {
                let mut text = arg[..SLOWLOG_MAX_STRING].to_vec();
                text.extend_from_slice(
                    format!("... ({} more bytes)", arg.len() - SLOWLOG_MAX_STRING).as_bytes(),
                );
                kept.push(text);
            } else {
                kept.push(arg.to_vec());
            }
        }
        let entry = SlowEntry {
            id: self.next_id,
            time: super::Shared::unix_seconds(),
            duration_us,
            args: kept,
            addr,
            name,
        };
        self.next_id += 1;
        self.entries.push_front(entry);
        self.entries.truncate(max_len);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_percentiles_are_within_a_bucket() {
        let histogram = Histogram::default();
        for nanos in 1..=10_000u64 {
            histogram.record(nanos * 100);
        }
        let mut totals = Histogram::totals();
        histogram.add_to(&mut totals);
        let p50 = Histogram::percentile(&totals, 50.0) as f64;
        assert!((p50 / 500_000.0 - 1.0).abs() < 0.13, "{p50}");
        let p99 = Histogram::percentile(&totals, 99.0) as f64;
        assert!((p99 / 990_000.0 - 1.0).abs() < 0.13, "{p99}");
    }

    #[test]
    fn bucket_bounds_contain_their_values() {
        for nanos in [1u64, 2, 3, 7, 8, 9, 15, 16, 17, 1000, 123_456, u64::MAX / 2] {
            let index = Histogram::index(nanos);
            assert!(Histogram::upper(index) >= nanos, "{nanos}");
            if index > 0 {
                assert!(Histogram::upper(index - 1) < nanos, "{nanos}");
            }
        }
    }

    #[test]
    fn slowlog_trims_like_redis() {
        let mut log = SlowLog::default();
        let long = [b'x'; 200];
        let args: Vec<&[u8]> = std::iter::repeat_n(&long[..], 40).collect();
        log.push(&args, 5, "127.0.0.1:1".into(), Vec::new(), 2);
        let entry = &log.entries[0];
        assert_eq!(entry.args.len(), 32);
        assert_eq!(entry.args[31], b"... (9 more arguments)");
        assert!(entry.args[0].ends_with(b"... (72 more bytes)"));
    }
}
