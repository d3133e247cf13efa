//! The append-only file in the server: loading it at startup, and what a write records.
//!
//! Records are replayed through the same dispatch path clients use (a loading client with no
//! log, so nothing is recorded twice), each at the instant it first ran
//! ([`with_frozen_time`]): replay is deterministic, TTLs and expiry included.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use crate::commands::{Command, Flags};
use crate::engine::clock::with_frozen_time;
use crate::persist::aof::{self, AofDir};
use crate::persist::snapshot::{self, Saved};
use crate::persist::{Aof, Fsync};
use crate::protocol::{ParserLimits, RequestParser};
use crate::server::Shared;
use crate::server::client::{Client, ClientInfo};
use crate::server::config::AppendFsync;
use crate::server::dispatch::Runner;
use crate::server::stats::WorkerStats;

/// The policy as the writer knows it.
pub fn fsync_of(policy: AppendFsync) -> Fsync {
    match policy {
        AppendFsync::Always => Fsync::Always,
        AppendFsync::Everysec => Fsync::Everysec,
        AppendFsync::No => Fsync::No,
    }
}

/// Opens (or creates) the AOF named by the configuration, replays it into the engine, and
/// returns the shared log state and the file to append to. `Err` is a message for the
/// operator: the server must not start.
pub fn load(shared: &Shared, workers: usize) -> Result<(Arc<Aof>, std::fs::File), String> {
    let (dirname, filename, allow_truncated, fsync) = {
        let config = shared.config.read();
        (
            config.appenddirname.clone(),
            config.appendfilename.clone(),
            config.aof_load_truncated,
            config.appendfsync,
        )
    };
    // Absolute, so every message names the file wherever the operator reads it.
    let dirname =
        std::env::current_dir().map_or_else(|_| dirname.clone().into(), |cwd| cwd.join(&dirname));
    let dir = AofDir::open_or_create(&dirname, &filename)?;
    let started = Instant::now();
    let mut replayer = Replayer::new(shared);
    let (mut records, mut bytes, mut last_seq) = (0, 0, 0);
    // The base (a rewrite's snapshot) holds every record below its sequence number.
    let mut from_seq = 0;
    if let Some(base) = dir.base() {
        let loaded = snapshot::read(&base)?;
        replayer
            .replay(loaded.ms, 0, &loaded.commands)
            .map_err(|e| format!("{}: {e}", base.display()))?;
        bytes += loaded.bytes;
        from_seq = loaded.seq;
        last_seq = loaded.seq.saturating_sub(1);
    }
    let files: Vec<_> = dir.files().collect();
    for (index, path) in files.iter().enumerate() {
        let last_file = index + 1 == files.len();
        let loaded = aof::load_file(path, allow_truncated && last_file, |header, payload| {
            if header.seq < from_seq {
                return Ok(());
            }
            replayer.replay(header.ms, header.db, payload)
        })?;
        records += loaded.records;
        bytes += loaded.bytes;
        last_seq = last_seq.max(loaded.last_seq.unwrap_or(0));
    }
    let keys: usize = (0..shared.engine.databases()).map(|db| shared.engine.db(db).len()).sum();
    tracing::info!(
        records,
        bytes,
        keys,
        seconds = format!("{:.3}", started.elapsed().as_secs_f64()),
        "DB loaded from append only file"
    );
    let current = dir.current();
    let (file, size) = aof::open_for_append(&current)?;
    shared.order.set_next(last_seq + 1);
    let aof = Aof::new(workers, shared.order.clone(), current, size, fsync_of(fsync));
    *aof.dir.lock() = Some(dir);
    Ok((Arc::new(aof), file))
}

/// Runs recorded commands through the normal command path, as a client with no log.
struct Replayer<'a> {
    shared: &'a Shared,
    stats: WorkerStats,
    client: Client,
    parser: RequestParser,
    out: Vec<u8>,
    warned: bool,
}

impl<'a> Replayer<'a> {
    fn new(shared: &'a Shared) -> Replayer<'a> {
        let loopback = ([127, 0, 0, 1], 0).into();
        let info = Arc::new(ClientInfo::new(0, 0, loopback, loopback, -1));
        Replayer {
            shared,
            stats: WorkerStats::new(shared.commands.len()),
            // No user: the log replays what was already allowed, whatever the ACL says now.
            client: Client::new(info, None, true),
            parser: RequestParser::new(ParserLimits {
                proto_max_bulk_len: u64::MAX,
                max_multibulk_len: u64::MAX,
                ..ParserLimits::default()
            }),
            out: Vec::new(),
            warned: false,
        }
    }

    /// Runs the RESP commands in `payload` in database `db` at the frozen instant `ms`.
    fn replay(&mut self, ms: u64, db: u64, payload: &[u8]) -> Result<(), String> {
        let shared = self.shared;
        let db = usize::try_from(db)
            .ok()
            .filter(|&db| db < shared.engine.databases())
            .ok_or_else(|| format!("database {db} out of range"))?;
        self.client.db = db;
        let runner = Runner { shared, stats: &self.stats, slowlog_us: -1, log: None };
        with_frozen_time(ms, || {
            let mut rest = payload;
            while !rest.is_empty() {
                let (request, used) = match self.parser.parse(rest) {
                    Ok(Some(parsed)) => parsed,
                    Ok(None) => return Err("a command is cut short".to_owned()),
                    Err(error) => return Err(format!("malformed command: {error:?}")),
                };
                let args: Vec<&[u8]> = request.args().collect();
                self.out.clear();
                runner.execute(&mut self.client, &mut self.out, &args);
                self.client.block = None;
                if self.out.starts_with(b"-ERR unknown command") {
                    return Err(String::from_utf8_lossy(&self.out).trim_end().to_owned());
                }
                if self.out.starts_with(b"-") && !self.warned {
                    self.warned = true;
                    tracing::warn!(
                        reply = %String::from_utf8_lossy(&self.out).trim_end(),
                        "a replayed command failed (it succeeded when it was recorded)"
                    );
                }
                rest = &rest[used..];
            }
            Ok(())
        })
    }
}

/// Write commands run since start that did not fail (`rdb_changes_since_last_save` counts
/// from this; Redis counts changed keys, corekv counts write commands).
pub fn write_count(shared: &Shared) -> u64 {
    let mut changes = 0;
    for command in shared.commands.all().iter().filter(|c| c.flags.contains(Flags::WRITE)) {
        for stats in &shared.stats {
            let counters = &stats.commands[command.id];
            // Relaxed: see stats' module docs.
            changes += counters
                .calls
                .load(Ordering::Relaxed)
                .saturating_sub(counters.failed_calls.load(Ordering::Relaxed));
        }
    }
    changes
}

/// The snapshot file: `dbfilename` in `dir` (the server's working directory).
pub fn snapshot_path(shared: &Shared) -> PathBuf {
    let name = shared.config.read().dbfilename.clone();
    std::env::current_dir().map_or_else(|_| PathBuf::from(&name), |cwd| cwd.join(&name))
}

/// SAVE: writes a snapshot now, on the calling thread. `Err` when one is already running
/// (`None`) or when writing failed (`Some(reason)`, also logged).
pub fn save(shared: &Shared) -> Result<Saved, Option<String>> {
    if !shared.snapshots.try_claim() {
        return Err(None);
    }
    save_claimed(shared).map_err(Some)
}

fn save_claimed(shared: &Shared) -> Result<Saved, String> {
    let path = snapshot_path(shared);
    let flags: Vec<&std::sync::atomic::AtomicBool> =
        shared.stats.iter().map(|stats| &stats.in_write).collect();
    let started = Instant::now();
    let changes = write_count(shared);
    match shared.snapshots.save(&shared.engine, &shared.order, &flags, Some(changes), &path, |_| {})
    {
        Ok(saved) => {
            // Relaxed: LASTSAVE's timestamp, read on its own.
            shared.last_save.store(Shared::unix_seconds(), Ordering::Relaxed);
            tracing::info!(
                path = %path.display(),
                keys = saved.keys,
                bytes = saved.bytes,
                seconds = format!("{:.3}", started.elapsed().as_secs_f64()),
                "DB saved on disk"
            );
            Ok(saved)
        }
        Err(reason) => {
            tracing::warn!(path = %path.display(), %reason, "snapshot failed");
            Err(reason)
        }
    }
}

/// BGSAVE: starts a snapshot on its own thread; false if one is already running.
pub fn bgsave(shared: &Arc<Shared>) -> bool {
    if !shared.snapshots.try_claim() {
        return false;
    }
    let saver = shared.clone();
    let spawned = std::thread::Builder::new().name("corekv-snapshot".to_owned()).spawn(move || {
        tracing::info!("background saving started");
        let _ = save_claimed(&saver);
    });
    if let Err(error) = spawned {
        tracing::warn!(%error, "cannot start the snapshot thread");
        shared.snapshots.release();
        return false;
    }
    true
}

/// Once a second (worker 0): starts a BGSAVE when a `save <seconds> <changes>` rule is met,
/// or an AOF rewrite when the AOF grew past `auto-aof-rewrite-percentage` of its base (and is
/// at least `auto-aof-rewrite-min-size`).
pub fn cron(shared: &Arc<Shared>) {
    if shared.snapshots.running() {
        return;
    }
    if let Some(aof) = shared.aof.get() {
        let (percentage, min_size) = {
            let config = shared.config.read();
            (config.auto_aof_rewrite_percentage, config.auto_aof_rewrite_min_size_bytes)
        };
        let size = aof.size();
        // Relaxed: bookkeeping read on its own.
        let base = aof.rewrites.base_size.load(Ordering::Relaxed).max(1);
        let failed = aof.rewrites.last_failed.load(Ordering::Relaxed);
        if percentage > 0
            && size >= min_size
            && (size.saturating_sub(base)) * 100 / base >= u64::from(percentage)
            && (!failed || shared.snapshots.seconds_since_attempt() >= 5)
        {
            tracing::info!(size, base, "starting automatic rewriting of the AOF");
            let _ = bgrewriteaof(shared);
            return;
        }
    }
    let rules = shared.config.read().save.clone();
    if rules.is_empty() {
        return;
    }
    let changes = write_count(shared).saturating_sub(shared.snapshots.changes_at_last_save());
    // Relaxed: LASTSAVE's timestamp.
    let since = Shared::unix_seconds().saturating_sub(shared.last_save.load(Ordering::Relaxed));
    // After a failed snapshot, Redis waits 5 s before trying again (CONFIG_BGSAVE_RETRY_DELAY).
    let retry_ok = shared.snapshots.last_ok() || shared.snapshots.seconds_since_attempt() >= 5;
    if retry_ok
        && let Some((seconds, needed)) =
            rules.iter().find(|&&(seconds, needed)| changes >= needed && since >= seconds)
    {
        tracing::info!("{needed} changes in {seconds} seconds. Saving...");
        bgsave(shared);
    }
}

/// BGREWRITEAOF: compacts the AOF into a base snapshot plus a fresh incremental file, on its
/// own thread, without stopping writers. `Err` says why it cannot start.
///
/// Crash-safe at every step: (1) a new incremental file is created and added to the manifest
/// (old base + old files + new file: still one valid history); (2) at the snapshot's instant,
/// under every stripe, the writer is told to send records from that sequence number on to the
/// new file; (3) the snapshot is written as the new base; (4) the manifest is replaced by
/// (new base, new file) and only then are the old files deleted.
pub fn bgrewriteaof(shared: &Arc<Shared>) -> Result<(), &'static str> {
    let Some(aof) = shared.aof.get() else {
        return Err("ERR Background append only file rewriting needs appendonly yes");
    };
    if !shared.snapshots.try_claim() {
        return Err("ERR Background append only file rewriting already in progress");
    }
    aof.rewrites.in_progress.store(true, Ordering::Relaxed);
    let worker_shared = shared.clone();
    let spawned =
        std::thread::Builder::new().name("corekv-aof-rewrite".to_owned()).spawn(move || {
            let shared = worker_shared;
            let Some(aof) = shared.aof.get() else { return };
            let started = Instant::now();
            let result = rewrite_claimed(&shared, aof);
            // Relaxed: INFO's readings.
            aof.rewrites.in_progress.store(false, Ordering::Relaxed);
            aof.rewrites.last_failed.store(result.is_err(), Ordering::Relaxed);
            aof.rewrites.last_seconds.store(started.elapsed().as_secs(), Ordering::Relaxed);
            match result {
                Ok(saved) => {
                    aof.rewrites.done.fetch_add(1, Ordering::Relaxed);
                    aof.rewrites.base_size.store(saved.bytes, Ordering::Relaxed);
                    tracing::info!(
                        keys = saved.keys,
                        base_bytes = saved.bytes,
                        seconds = format!("{:.3}", started.elapsed().as_secs_f64()),
                        "background AOF rewrite finished successfully"
                    );
                }
                Err(reason) => tracing::warn!(%reason, "background AOF rewrite failed"),
            }
        });
    if spawned.is_err() {
        aof.rewrites.in_progress.store(false, Ordering::Relaxed);
        shared.snapshots.release();
        return Err("ERR Can't start the AOF rewrite thread");
    }
    Ok(())
}

fn rewrite_claimed(shared: &Shared, aof: &Aof) -> Result<Saved, String> {
    let filename = shared.config.read().appendfilename.clone();
    let mut guard = aof.dir.lock();
    let dir = guard.as_mut().ok_or("the AOF directory is unknown")?;
    let number = dir.manifest.next_number();
    let incr_name = format!("{filename}.{number}.incr.aof");
    let base_name = format!("{filename}.{number}.base.ckv");
    // (1) The new incremental file joins the history before anything is written to it.
    let prepared = dir.create_incr(&incr_name).and_then(|incr_path| {
        let mut manifest = dir.manifest.clone();
        manifest.incr.push((incr_name.clone(), 0));
        let opened = dir.install(manifest).and_then(|()| aof::open_for_append(&incr_path));
        if opened.is_err() && !dir.manifest.names().any(|n| n == incr_name) {
            let _ = std::fs::remove_file(&incr_path);
        }
        opened.map(|(file, size)| (incr_path, file, size))
    });
    let (incr_path, file, size) = match prepared {
        Ok(prepared) => prepared,
        Err(error) => {
            // `save` below releases the slot; nothing will run it now.
            shared.snapshots.release();
            return Err(error);
        }
    };
    let base_path = dir.dir.join(&base_name);
    let flags: Vec<&std::sync::atomic::AtomicBool> =
        shared.stats.iter().map(|stats| &stats.in_write).collect();
    let mut switch = Some(crate::persist::writer::Switch { seq: 0, file, path: incr_path, size });
    let mut switch_seq = 0;
    // (2) and (3): the switch at the snapshot's instant, then the base.
    let saved =
        shared.snapshots.save(&shared.engine, &shared.order, &flags, None, &base_path, |seq| {
            if let Some(mut switch) = switch.take() {
                switch.seq = seq;
                switch_seq = seq;
                aof.switch_at(switch);
            }
        })?;
    if !aof.wait_switched(switch_seq, std::time::Duration::from_secs(60)) {
        return Err("the AOF writer did not switch files (disk errors?); the old files stay".into());
    }
    // (4) The new history, then the old files go.
    let old: Vec<String> = dir.manifest.names().map(str::to_owned).collect();
    let manifest = aof::Manifest {
        base: Some((base_name.clone(), saved.seq)),
        incr: vec![(incr_name.clone(), saved.seq)],
    };
    dir.install(manifest)?;
    for name in old.iter().filter(|n| **n != incr_name && **n != base_name) {
        let _ = std::fs::remove_file(dir.dir.join(name));
    }
    Ok(saved)
}

/// After the workers stopped: the final snapshot, unless SHUTDOWN NOSAVE; with no `save`
/// rules, only if SHUTDOWN SAVE asked for it (as Redis). Skipped when nothing changed since
/// the last snapshot (SHUTDOWN may have just saved to check it can).
pub fn shutdown_save(shared: &Shared) {
    // Relaxed: set by the SHUTDOWN command before the workers stopped (thread join orders it).
    let asked = shared.shutdown_save.load(Ordering::Relaxed);
    let rules = !shared.config.read().save.is_empty();
    if asked == SHUTDOWN_NOSAVE || (asked != SHUTDOWN_SAVE && !rules) {
        return;
    }
    let changes = write_count(shared).saturating_sub(shared.snapshots.changes_at_last_save());
    if changes == 0 && shared.snapshots.saves() > 0 {
        return;
    }
    while shared.snapshots.running() {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    tracing::info!("saving the final snapshot before exiting");
    if let Err(Some(reason)) = save(shared) {
        tracing::error!(%reason, "error trying to save the DB on shutdown");
    }
}

/// `Shared::shutdown_save`: SHUTDOWN NOSAVE.
pub const SHUTDOWN_NOSAVE: u8 = 1;
/// `Shared::shutdown_save`: SHUTDOWN SAVE.
pub const SHUTDOWN_SAVE: u8 = 2;

/// At start, without the AOF: loads the snapshot if there is one. `Err` stops the start.
pub fn load_snapshot(shared: &Shared) -> Result<(), String> {
    let path = snapshot_path(shared);
    if !path.exists() {
        return Ok(());
    }
    let started = Instant::now();
    let loaded = snapshot::read(&path)?;
    Replayer::new(shared)
        .replay(loaded.ms, 0, &loaded.commands)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let keys: usize = (0..shared.engine.databases()).map(|db| shared.engine.db(db).len()).sum();
    tracing::info!(
        path = %path.display(),
        keys_in_file = loaded.keys,
        keys,
        bytes = loaded.bytes,
        seconds = format!("{:.3}", started.elapsed().as_secs_f64()),
        "DB loaded from snapshot"
    );
    Ok(())
}

/// Orders, preserves and records evictions like DELs: an evicted key is deleted under its
/// stripe, after a running snapshot preserved it, and the AOF gets `DEL key` (as Redis
/// propagates evictions), so a restart does not bring evicted keys back. Installed on every
/// server's engine; evictions only happen when `maxmemory` is set.
#[derive(Debug)]
pub struct PersistEvictions(pub std::sync::Weak<Shared>);

impl crate::engine::EvictionHook for PersistEvictions {
    fn around_eviction(
        &self,
        key: &[u8],
        logical_db: &dyn Fn() -> Option<usize>,
        evict: &mut dyn FnMut() -> bool,
    ) -> bool {
        let Some(shared) = self.0.upgrade() else { return evict() };
        // No caller holds a stripe here: evictions run before a command takes its stripes
        // (the maxmemory check) or on the maintenance path.
        let _stripe = shared.order.lock_one(shared.engine.shard_index(key));
        // Under the stripe, SWAPDB (which takes every stripe) cannot move the key meanwhile.
        let Some(db) = logical_db() else { return evict() };
        if shared.snapshots.active() {
            shared.snapshots.preserve(&shared.engine, db, key);
        }
        let ms = crate::engine::clock::system_ms();
        let evicted = evict();
        if evicted && let Some(aof) = shared.aof.get() {
            let mut payload = Vec::new();
            crate::protocol::write_command(&mut payload, &[&b"DEL"[..], key]);
            aof.append_detached(ms, db, &payload);
        }
        evicted
    }
}

/// Whether `command` (with `args`) needs every stripe: it acts on whole databases, or names
/// no keys.
pub fn locks_everything<'a>(
    command: &Command,
    args: &[&'a [u8]],
    keys: &mut Vec<&'a [u8]>,
) -> bool {
    keys.clear();
    command.keys_of(args, keys);
    command.flags.contains(Flags::KEYSPACE) || keys.is_empty()
}
