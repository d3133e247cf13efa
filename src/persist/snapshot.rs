//! Point-in-time snapshots without `fork()`.
//!
//! # Consistency
//!
//! A snapshot records the keyspace as it was at one instant `T`, while writers keep running:
//!
//! 1. **Start.** `active` is set, then the snapshot waits until every worker has finished the
//!    write it was running (each worker flags `in_write` around a write and then reads
//!    `active`: SeqCst on both sides, so a write either sees the snapshot or the snapshot waits
//!    for it). Then, holding every stripe for a moment, it reads the AOF sequence number and
//!    the time: that is `T`. From here on every write runs under its keys' stripes.
//! 2. **Preserve.** A write to a key whose shard the snapshot has not captured yet first
//!    copies the key's value (or its absence) into that shard's `preserved` map, unless an
//!    earlier write already did. The copy is made under the key's stripe, before the write.
//! 3. **Capture.** Shard by shard, the snapshot lists the shard's keys; for each, under the
//!    stripe, it takes the preserved version if there is one, else the current value (which
//!    no write has touched since `T`). Then, still under the stripe, it marks the shard
//!    captured and takes the preserved versions of keys that were deleted since `T`.
//!
//! Commands that change whole databases (FLUSHALL, FLUSHDB, SWAPDB) or move keys between
//! databases (MOVE, COPY ... DB) cannot name the keys they will touch, so they wait for a
//! running snapshot to finish before they start.
//!
//! Memory: a key written during a snapshot is copied once (as `fork()`'s copy-on-write copies
//! a page), so the extra memory is bounded by what is written while the snapshot runs, not by
//! the dataset.
//!
//! # File
//!
//! ```text
//! #corekv-snapshot 2 <seq> <unix ms> <crc>\r\n  header: format version, AOF position,
//!                                           instant T, CRC-32 of the line before <crc>
//! <zstd frame, with its content checksum>   RESP commands that rebuild the keyspace:
//!                                           SELECT, SET / RPUSH / HSET / SADD / ZADD (large
//!                                           collections in chunks), PEXPIREAT; then the
//!                                           inline trailer line `#end <keys>`
//! ```
//!
//! The header's CRC (eight lowercase hex digits, CRC-32 IEEE of `#corekv-snapshot 2 <seq>
//! <unix ms> `, the trailing space included) guards `seq`: a flipped digit there would replay
//! the AOF from the wrong record, which the zstd checksum cannot see. Format 1 (no CRC) is
//! still read.
//!
//! Written to a temporary file, fsynced, renamed over the old snapshot, directory fsynced.
//! Loading replays the commands at the frozen instant `T` through the normal command path.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use parking_lot::Mutex;

use crate::engine::{Collection, Engine, OwnedData, OwnedValue, StrValue};
use crate::persist::order::Order;

/// The header's prefix; the format version follows.
const MAGIC: &[u8] = b"#corekv-snapshot ";
/// The format this build writes; it also reads [`OLDEST_VERSION`] and later.
pub const FORMAT_VERSION: u32 = 2;
/// The oldest format this build reads (format 1: the header has no CRC).
pub const OLDEST_VERSION: u32 = 1;
/// Elements per command when a collection is written in chunks.
const CHUNK: usize = 128;
/// zstd level: fast, still a good ratio on RESP text.
const ZSTD_LEVEL: i32 = 3;

/// One shard's keys the snapshot must not read from the live keyspace, by `(database, key)`.
type Preserved = HashMap<(usize, Vec<u8>), Version>;

/// What the snapshot knows of a key of a shard it is capturing.
#[derive(Debug)]
enum Version {
    /// A write saved the key's value at `T` (`None`: the key did not exist then).
    Preserved(Option<OwnedValue>),
    /// The snapshot has written the key already: later writes need not preserve it (and must
    /// not: the value they would save is not the value at `T`).
    Captured,
}

/// Snapshot state shared by the workers and the snapshot thread.
#[derive(Debug)]
pub struct Snapshots {
    active: AtomicBool,
    captured: Box<[AtomicBool]>,
    preserved: Box<[Mutex<Preserved>]>,
    /// A snapshot (SAVE or BGSAVE) is running: there is at most one.
    running: AtomicBool,
    last_ok: AtomicBool,
    saves: AtomicU64,
    /// Milliseconds the last snapshot took (u64::MAX: none yet).
    last_duration_ms: AtomicU64,
    started: Mutex<Option<Instant>>,
    /// Write commands counted when the last successful snapshot started.
    changes_at_last_save: AtomicU64,
    /// Unix ms when the last snapshot finished (or failed).
    last_attempt_ms: AtomicU64,
}

/// What a finished snapshot wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Saved {
    /// Keys written.
    pub keys: u64,
    /// File size in bytes.
    pub bytes: u64,
    /// The AOF sequence number it is consistent with (records below it are in it).
    pub seq: u64,
}

impl Snapshots {
    /// State for a keyspace of `shards` shards.
    pub fn new(shards: usize) -> Snapshots {
        Snapshots {
            active: AtomicBool::new(false),
            captured: (0..shards).map(|_| AtomicBool::new(true)).collect(),
            preserved: (0..shards).map(|_| Mutex::new(HashMap::new())).collect(),
            running: AtomicBool::new(false),
            last_ok: AtomicBool::new(true),
            saves: AtomicU64::new(0),
            last_duration_ms: AtomicU64::new(u64::MAX),
            started: Mutex::new(None),
            changes_at_last_save: AtomicU64::new(0),
            last_attempt_ms: AtomicU64::new(0),
        }
    }

    /// Whether a snapshot is capturing: writes must take their stripes and preserve.
    pub fn active(&self) -> bool {
        // SeqCst: the other half of the `in_write` handshake (see the module docs).
        self.active.load(Ordering::SeqCst)
    }

    /// Whether a snapshot is running (`rdb_bgsave_in_progress`).
    pub fn running(&self) -> bool {
        // Relaxed: a status reading.
        self.running.load(Ordering::Relaxed)
    }

    /// Whether the last snapshot succeeded (`rdb_last_bgsave_status`).
    pub fn last_ok(&self) -> bool {
        // Relaxed: a status reading.
        self.last_ok.load(Ordering::Relaxed)
    }

    /// Snapshots written since start (`rdb_saves`).
    pub fn saves(&self) -> u64 {
        // Relaxed: a counter.
        self.saves.load(Ordering::Relaxed)
    }

    /// Seconds the last snapshot took, -1 if none ran.
    pub fn last_duration_s(&self) -> i64 {
        // Relaxed: a status reading.
        match self.last_duration_ms.load(Ordering::Relaxed) {
            u64::MAX => -1,
            ms => (ms / 1000) as i64,
        }
    }

    /// Seconds the running snapshot has taken, -1 if none runs.
    pub fn current_duration_s(&self) -> i64 {
        self.started.lock().map_or(-1, |at| at.elapsed().as_secs() as i64)
    }

    /// The write count when the last successful snapshot started (`changes_since_last_save`
    /// is the current count minus this).
    pub fn changes_at_last_save(&self) -> u64 {
        // Relaxed: a counter.
        self.changes_at_last_save.load(Ordering::Relaxed)
    }

    /// Seconds since the last snapshot started or finished (for the retry delay).
    pub fn seconds_since_attempt(&self) -> u64 {
        // Relaxed: a timestamp.
        crate::engine::clock::system_ms()
            .saturating_sub(self.last_attempt_ms.load(Ordering::Relaxed))
            / 1000
    }

    /// Gives the slot back without saving (the snapshot could not start).
    pub fn release(&self) {
        // Release: see `save`.
        self.running.store(false, Ordering::Release);
    }

    /// Claims the single snapshot slot; false if a snapshot is already running.
    pub fn try_claim(&self) -> bool {
        // Acquire/Relaxed: the slot guards no data of its own; the snapshot's state is set up
        // by its claimant afterwards.
        self.running.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed).is_ok()
    }

    /// Before a write under its stripes: saves the key's value as of `T` if its shard is not
    /// captured yet and no earlier write saved it. The caller holds the key's stripe.
    pub fn preserve(&self, engine: &Engine, db: usize, key: &[u8]) {
        let shard = engine.shard_index(key);
        // Relaxed: `captured` is written under this shard's stripe, which the caller holds.
        if self.captured[shard].load(Ordering::Relaxed) {
            return;
        }
        self.preserved[shard]
            .lock()
            .entry((db, key.to_vec()))
            .or_insert_with(|| Version::Preserved(engine.db(db).copy_value(key)));
    }

    /// Writes a snapshot of `engine` to `path`. `in_write` are the workers' write flags, `order`
    /// the stripes, `changes` the current write count (for `changes_since_last_save`; `None`:
    /// not a save the counter restarts from, such as an AOF rewrite's base). `at_start` runs at
    /// the instant `T` with the sequence number, every stripe held. The caller has claimed the
    /// slot (`try_claim`); it is released here.
    pub fn save(
        &self,
        engine: &Engine,
        order: &Order,
        in_write: &[&AtomicBool],
        changes: Option<u64>,
        path: &Path,
        at_start: impl FnOnce(u64),
    ) -> Result<Saved, String> {
        let started = Instant::now();
        *self.started.lock() = Some(started);
        let result = self.save_claimed(engine, order, in_write, path, at_start);
        *self.started.lock() = None;
        // Relaxed: status for INFO.
        self.last_duration_ms.store(started.elapsed().as_millis() as u64, Ordering::Relaxed);
        self.last_ok.store(result.is_ok(), Ordering::Relaxed);
        self.last_attempt_ms.store(crate::engine::clock::system_ms(), Ordering::Relaxed);
        if let (Ok(_), Some(changes)) = (&result, changes) {
            self.saves.fetch_add(1, Ordering::Relaxed);
            self.changes_at_last_save.store(changes, Ordering::Relaxed);
        }
        // Release: the next claimant sees this snapshot's state cleaned up.
        self.running.store(false, Ordering::Release);
        result
    }

    fn save_claimed(
        &self,
        engine: &Engine,
        order: &Order,
        in_write: &[&AtomicBool],
        path: &Path,
        at_start: impl FnOnce(u64),
    ) -> Result<Saved, String> {
        // 1. Start: flag, wait for writes that did not see the flag, then read T and seq.
        for captured in self.captured.iter() {
            // Relaxed: published by the SeqCst store of `active` below.
            captured.store(false, Ordering::Relaxed);
        }
        self.active.store(true, Ordering::SeqCst);
        for flag in in_write {
            while flag.load(Ordering::SeqCst) {
                std::hint::spin_loop();
                std::thread::yield_now();
            }
        }
        let (seq, ms) = {
            let _all = order.lock_all();
            let seq = order.peek();
            at_start(seq);
            (seq, crate::engine::clock::system_ms())
        };
        let result = self.capture_to_file(engine, order, path, seq, ms);
        // Every shard is captured (or the snapshot failed): writes stop preserving.
        self.active.store(false, Ordering::SeqCst);
        for (captured, preserved) in self.captured.iter().zip(self.preserved.iter()) {
            captured.store(true, Ordering::Relaxed);
            preserved.lock().clear();
        }
        result
    }

    fn capture_to_file(
        &self,
        engine: &Engine,
        order: &Order,
        path: &Path,
        seq: u64,
        ms: u64,
    ) -> Result<Saved, String> {
        let temp = path.with_extension(format!("tmp-{}", std::process::id()));
        let written = (|| -> std::io::Result<u64> {
            let file = std::fs::File::create(&temp)?;
            let out = std::io::BufWriter::with_capacity(1 << 20, file);
            let (out, keys) =
                write_file(out, seq, ms, |encoder| self.capture(engine, order, encoder))?;
            let file = out.into_inner().map_err(|e| e.into_error())?;
            file.sync_all()?;
            Ok(keys)
        })();
        let keys = match written {
            Ok(keys) => keys,
            Err(error) => {
                let _ = std::fs::remove_file(&temp);
                return Err(format!("writing {}: {error}", temp.display()));
            }
        };
        if let Err(error) = std::fs::rename(&temp, path) {
            let _ = std::fs::remove_file(&temp);
            return Err(format!("renaming {} to {}: {error}", temp.display(), path.display()));
        }
        super::aof::sync_dir(path.parent().unwrap_or(Path::new(".")))?;
        let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        Ok(Saved { keys, bytes, seq })
    }

    /// Walks every shard, writing each key's version as of `T`; returns the key count.
    fn capture(
        &self,
        engine: &Engine,
        order: &Order,
        out: &mut impl Write,
    ) -> std::io::Result<u64> {
        let mut keys = 0;
        let mut selected = None;
        let mut buf = Vec::new();
        for shard in 0..self.captured.len() {
            for db in 0..engine.databases() {
                for key in engine.db(db).shard_keys(shard) {
                    let value = {
                        let _stripe = order.lock_one(shard);
                        let mut preserved = self.preserved[shard].lock();
                        let slot = preserved.entry((db, key.clone())).or_insert(Version::Captured);
                        match std::mem::replace(slot, Version::Captured) {
                            Version::Preserved(value) => value,
                            // Not written since T (or already written out): the live value.
                            Version::Captured => engine.db(db).copy_value(&key),
                        }
                    };
                    if let Some(value) = value {
                        write_key(&mut buf, &mut selected, db, &key, &value);
                        keys += 1;
                    }
                    if buf.len() >= 1 << 16 {
                        out.write_all(&buf)?;
                        buf.clear();
                    }
                }
            }
            // Keys deleted since T: their preserved versions. Marking the shard captured under
            // its stripe ends preservation for it.
            let remaining = {
                let _stripe = order.lock_one(shard);
                // Relaxed: readers check it under the same stripe.
                self.captured[shard].store(true, Ordering::Relaxed);
                std::mem::take(&mut *self.preserved[shard].lock())
            };
            let mut remaining: Vec<_> = remaining.into_iter().collect();
            remaining.sort_by(|a, b| a.0.cmp(&b.0));
            for ((db, key), version) in remaining {
                if let Version::Preserved(Some(value)) = version {
                    write_key(&mut buf, &mut selected, db, &key, &value);
                    keys += 1;
                }
            }
        }
        out.write_all(&buf)?;
        Ok(keys)
    }
}

/// Writes a whole snapshot file to `out`: the header, then the commands `body` writes
/// (returning how many keys they rebuild) and the trailer, compressed in one checksummed zstd
/// frame. Returns `out` and the key count.
fn write_file<W: Write>(
    mut out: W,
    seq: u64,
    ms: u64,
    body: impl FnOnce(&mut zstd::Encoder<'static, W>) -> std::io::Result<u64>,
) -> std::io::Result<(W, u64)> {
    out.write_all(&header_line(seq, ms))?;
    let mut encoder = zstd::Encoder::new(out, ZSTD_LEVEL)?;
    encoder.include_checksum(true)?;
    let keys = body(&mut encoder)?;
    write!(encoder, "#end {keys}\r\n")?;
    Ok((encoder.finish()?, keys))
}

/// The header line of a snapshot of AOF position `seq` at instant `ms`, in [`FORMAT_VERSION`].
fn header_line(seq: u64, ms: u64) -> Vec<u8> {
    let prefix = format!("#corekv-snapshot {FORMAT_VERSION} {seq} {ms} ");
    format!("{prefix}{:08x}\r\n", crc32fast::hash(prefix.as_bytes())).into_bytes()
}

/// A snapshot file's bytes holding `commands` (whole RESP commands) that rebuild `keys` keys,
/// consistent with AOF position `seq` at instant `ms`: what a snapshot of a keyspace writes,
/// for tools and tests that build a file without an engine. [`decode`] reads it back.
pub fn encode(seq: u64, ms: u64, commands: &[u8], keys: u64) -> Vec<u8> {
    let written = write_file(Vec::new(), seq, ms, |encoder| {
        encoder.write_all(commands)?;
        Ok(keys)
    });
    // Writing to a Vec cannot fail, and zstd's encoder fails only on a bad parameter.
    let (bytes, _) = written.expect("encoding a snapshot in memory");
    bytes
}

/// Appends the commands that rebuild `key` in database `db`.
fn write_key(
    out: &mut Vec<u8>,
    selected: &mut Option<usize>,
    db: usize,
    key: &[u8],
    value: &OwnedValue,
) {
    use crate::protocol::write_command;
    if *selected != Some(db) {
        write_command(out, &[&b"SELECT"[..], db.to_string().as_bytes()]);
        *selected = Some(db);
    }
    match &value.data {
        OwnedData::Str(StrValue::Int(n)) => {
            write_command(out, &[&b"SET"[..], key, n.to_string().as_bytes()]);
        }
        OwnedData::Str(StrValue::Raw(bytes)) => write_command(out, &[&b"SET"[..], key, bytes]),
        OwnedData::Collection(Collection::List(list)) => {
            let items: Vec<&[u8]> = list.iter().map(|e| &e[..]).collect();
            chunks(out, b"RPUSH", key, &items, 1);
        }
        OwnedData::Collection(Collection::Hash(hash)) => {
            let items: Vec<&[u8]> = hash.entries().flat_map(|(f, v)| [&f[..], &v[..]]).collect();
            chunks(out, b"HSET", key, &items, 2);
        }
        OwnedData::Collection(Collection::Set(set)) => {
            let items: Vec<&[u8]> = set.members().map(|m| &m[..]).collect();
            chunks(out, b"SADD", key, &items, 1);
        }
        OwnedData::Collection(Collection::ZSet(zset)) => {
            let scores: Vec<String> = zset.iter().map(|(_, score)| score_text(score)).collect();
            let items: Vec<&[u8]> = zset
                .iter()
                .zip(&scores)
                .flat_map(|((member, _), score)| [score.as_bytes(), member])
                .collect();
            chunks(out, b"ZADD", key, &items, 2);
        }
    }
    if value.deadline_ms > 0 {
        let deadline = value.deadline_ms.to_string();
        write_command(out, &[&b"PEXPIREAT"[..], key, deadline.as_bytes()]);
    }
}

/// A score as ZADD reads it back exactly: Rust's shortest round-trip form, `inf`, `-inf`.
fn score_text(score: f64) -> String {
    if score.is_infinite() {
        if score > 0.0 { "inf".to_owned() } else { "-inf".to_owned() }
    } else {
        format!("{score:?}")
    }
}

/// `command key items...` in chunks of `CHUNK` groups of `group` items.
fn chunks(out: &mut Vec<u8>, command: &[u8], key: &[u8], items: &[&[u8]], group: usize) {
    for chunk in items.chunks(CHUNK * group) {
        let mut args: Vec<&[u8]> = Vec::with_capacity(chunk.len() + 2);
        args.push(command);
        args.push(key);
        args.extend_from_slice(chunk);
        crate::protocol::write_command(out, &args);
    }
}

/// A snapshot file, read and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    /// The AOF position it is consistent with.
    pub seq: u64,
    /// The instant `T` it records.
    pub ms: u64,
    /// RESP commands rebuilding the keyspace (the trailer removed).
    pub commands: Vec<u8>,
    /// Keys the trailer says it holds.
    pub keys: u64,
    /// The file's size.
    pub bytes: u64,
}

/// Reads and checks the snapshot at `path` (see [`decode`]).
pub fn read(path: &Path) -> Result<Loaded, String> {
    let shown = path.display();
    let bytes = std::fs::read(path).map_err(|e| format!("can't read {shown}: {e}"))?;
    decode(&bytes).map_err(|e| format!("{shown}: {e}"))
}

/// Checks a snapshot file's bytes and decompresses its commands; `Err` says what is wrong
/// with the file (the caller names it). [`read`] is this on a file's content.
pub fn decode(bytes: &[u8]) -> Result<Loaded, String> {
    if !bytes.starts_with(MAGIC) {
        return Err("not a corekv snapshot (wrong magic)".to_owned());
    }
    let line_end = memchr::memchr(b'\n', &bytes[..bytes.len().min(128)])
        .ok_or_else(|| "truncated header".to_owned())?;
    let line = std::str::from_utf8(&bytes[..line_end])
        .map_err(|_| "malformed header".to_owned())?
        .strip_suffix('\r')
        .ok_or_else(|| "malformed header".to_owned())?;
    let fields: Vec<&str> = line[MAGIC.len()..].split(' ').collect();
    let version: u32 =
        fields.first().and_then(|v| v.parse().ok()).ok_or_else(|| "malformed header".to_owned())?;
    if !(OLDEST_VERSION..=FORMAT_VERSION).contains(&version) {
        return Err(format!(
            "snapshot format version {version}, but this corekv reads versions \
             {OLDEST_VERSION} to {FORMAT_VERSION} (written by a newer corekv?)"
        ));
    }
    let number = |field: Option<&&str>| {
        field
            .filter(|text| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))?
            .parse()
            .ok()
    };
    let (Some(seq), Some(ms)) = (number(fields.get(1)), number(fields.get(2))) else {
        return Err("malformed header".to_owned());
    };
    let expected_fields = if version >= 2 { 4 } else { 3 };
    if fields.len() != expected_fields {
        return Err("malformed header".to_owned());
    }
    if version >= 2 {
        let crc = fields[3];
        let computed = crc32fast::hash(&line.as_bytes()[..line.len() - crc.len()]);
        if crc.len() != 8 || u32::from_str_radix(crc, 16).ok() != Some(computed) {
            return Err("damaged snapshot header (checksum mismatch); it cannot be loaded, \
                        restore it from a backup"
                .to_owned());
        }
    }
    let mut commands = zstd::decode_all(&bytes[line_end + 1..]).map_err(|e| {
        format!("damaged snapshot ({e}); it cannot be loaded, restore it from a backup")
    })?;
    let trailer_at = commands
        .strip_suffix(b"\r\n")
        .and_then(|body| memchr::memrchr(b'\n', body))
        .map_or(0, |at| at + 1);
    let keys = std::str::from_utf8(&commands[trailer_at..])
        .ok()
        .and_then(|line| line.trim_end().strip_prefix("#end "))
        .and_then(|count| count.parse().ok())
        .ok_or_else(|| "the snapshot has no end marker (truncated?)".to_owned())?;
    commands.truncate(trailer_at);
    Ok(Loaded { seq, ms, commands, keys, bytes: bytes.len() as u64 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_round_trip_through_their_text() {
        for score in [0.0, -0.0, 1.5, 0.1, 1e300, -2.5e-308, f64::INFINITY, f64::NEG_INFINITY] {
            let text = score_text(score);
            let back: f64 = if text == "inf" {
                f64::INFINITY
            } else if text == "-inf" {
                f64::NEG_INFINITY
            } else {
                text.parse().unwrap()
            };
            assert_eq!(back.to_bits(), score.to_bits(), "{text}");
        }
    }

    #[test]
    fn encoded_bytes_decode_to_what_was_encoded() {
        let commands =
            b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n";
        let bytes = encode(9, 1_763_916_000_123, commands, 1);
        assert!(bytes.starts_with(b"#corekv-snapshot 2 9 1763916000123 "));
        let loaded = decode(&bytes).unwrap();
        assert_eq!((loaded.seq, loaded.ms, loaded.keys), (9, 1_763_916_000_123, 1));
        assert_eq!((&loaded.commands[..], loaded.bytes), (&commands[..], bytes.len() as u64));
        let header = bytes.iter().position(|&b| b == b'\n').unwrap() + 1;
        // Every flip in the header line is refused: the CRC covers the fields before it.
        for at in 0..header {
            for mask in [0x01, 0x02, 0x10, 0x80] {
                let mut flipped = bytes.clone();
                flipped[at] ^= mask;
                assert!(decode(&flipped).is_err(), "flip {mask:#x} at {at} of the header");
            }
        }
        // The zstd frame's checksum covers its content, not its own header: a flip there is
        // refused or (say, a larger window size) decodes to the very same commands.
        for at in header..bytes.len() {
            for mask in [0x01, 0x80] {
                let mut flipped = bytes.clone();
                flipped[at] ^= mask;
                if let Ok(flipped) = decode(&flipped) {
                    assert_eq!((flipped.commands, flipped.keys), (commands.to_vec(), 1), "{at}");
                }
            }
        }
        let cut = decode(&bytes[..bytes.len() - 1]).unwrap_err();
        assert!(cut.contains("damaged snapshot"), "{cut}");
    }

    #[test]
    fn format_1_is_still_read_and_future_formats_are_refused() {
        let commands = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n";
        let current = encode(5, 1_000, commands, 1);
        let frame = &current[current.iter().position(|&b| b == b'\n').unwrap() + 1..];
        let mut v1 = b"#corekv-snapshot 1 5 1000\r\n".to_vec();
        v1.extend_from_slice(frame);
        let loaded = decode(&v1).unwrap();
        assert_eq!((loaded.seq, loaded.ms, loaded.keys), (5, 1_000, 1));
        assert_eq!(loaded.commands, commands);
        let mut v3 = b"#corekv-snapshot 3 5 1000 00000000\r\n".to_vec();
        v3.extend_from_slice(frame);
        let refused = decode(&v3).unwrap_err();
        assert!(refused.contains("version 3") && refused.contains("newer corekv"), "{refused}");
        for header in [&b"#corekv-snapshot 1 5 1000 x\r\n"[..], b"#corekv-snapshot 2 5 1000\r\n"] {
            let mut bad = header.to_vec();
            bad.extend_from_slice(frame);
            assert_eq!(decode(&bad).unwrap_err(), "malformed header");
        }
    }

    #[test]
    fn a_snapshot_of_an_idle_engine_reads_back() {
        use crate::prelude::*;
        let engine = Engine::builder().shards(4).maintenance_threads(0).build();
        engine.db(0).set(b"s", b"v").unwrap();
        engine.db(0).incr(b"n").unwrap();
        engine.db(2).push(b"l", crate::engine::ops::End::Right, &[b"a", b"b"], true).unwrap();
        let order = Order::new(4, 7);
        let snapshots = Snapshots::new(4);
        assert!(snapshots.try_claim());
        let dir = std::env::temp_dir().join(format!("corekv-snap-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("dump.ckv");
        let saved = snapshots.save(&engine, &order, &[], Some(0), &path, |_| {}).unwrap();
        assert_eq!((saved.keys, saved.seq), (3, 7));
        let loaded = read(&path).unwrap();
        assert_eq!((loaded.keys, loaded.seq), (3, 7));
        let text = String::from_utf8(loaded.commands).unwrap();
        assert!(text.contains("RPUSH\r\n$1\r\nl\r\n$1\r\na\r\n$1\r\nb"), "{text}");
        // A damaged byte anywhere in the compressed part is caught.
        let mut bytes = std::fs::read(&path).unwrap();
        let at = bytes.len() - 6;
        bytes[at] ^= 0x40;
        std::fs::write(&path, &bytes).unwrap();
        assert!(read(&path).unwrap_err().contains("damaged"));
        std::fs::write(&path, b"REDIS0011").unwrap();
        assert!(read(&path).unwrap_err().contains("wrong magic"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
