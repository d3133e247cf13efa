//! The append-only file in the server: loading it at startup, and what a write records.
//!
//! Records are replayed through the same dispatch path clients use (a loading client with no
//! log, so nothing is recorded twice), each at the instant it first ran
//! ([`with_frozen_time`]): replay is deterministic, TTLs and expiry included.

use std::sync::Arc;
use std::time::Instant;

use crate::commands::{Command, Flags};
use crate::engine::clock::with_frozen_time;
use crate::persist::aof::{self, AofDir};
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
    let stats = WorkerStats::new(shared.commands.len());
    let runner = Runner { shared, stats: &stats, slowlog_us: -1, log: None };
    let info =
        Arc::new(ClientInfo::new(0, 0, ([127, 0, 0, 1], 0).into(), ([127, 0, 0, 1], 0).into(), -1));
    let mut client = Client::new(info, true);
    let mut parser = RequestParser::new(ParserLimits {
        proto_max_bulk_len: u64::MAX,
        max_multibulk_len: u64::MAX,
        ..ParserLimits::default()
    });
    let mut out = Vec::new();
    let (mut records, mut bytes, mut last_seq, mut warned) = (0, 0, 0, false);
    let files: Vec<_> = dir.files().collect();
    for (index, path) in files.iter().enumerate() {
        let last_file = index + 1 == files.len();
        let loaded = aof::load_file(path, allow_truncated && last_file, |header, payload| {
            let db = usize::try_from(header.db)
                .ok()
                .filter(|&db| db < shared.engine.databases())
                .ok_or_else(|| format!("database {} out of range", header.db))?;
            client.db = db;
            with_frozen_time(header.ms, || {
                let mut rest = payload;
                while !rest.is_empty() {
                    let (request, used) = match parser.parse(rest) {
                        Ok(Some(parsed)) => parsed,
                        Ok(None) => return Err("a command is cut short".to_owned()),
                        Err(error) => return Err(format!("malformed command: {error:?}")),
                    };
                    let args: Vec<&[u8]> = request.args().collect();
                    out.clear();
                    runner.execute(&mut client, &mut out, &args);
                    client.block = None;
                    if out.starts_with(b"-ERR unknown command") {
                        return Err(String::from_utf8_lossy(&out).trim_end().to_owned());
                    }
                    if out.starts_with(b"-") && !warned {
                        warned = true;
                        tracing::warn!(
                            reply = %String::from_utf8_lossy(&out).trim_end(),
                            "a replayed AOF command failed (it succeeded when it was logged)"
                        );
                    }
                    rest = &rest[used..];
                }
                Ok(())
            })
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
    let aof =
        Aof::new(workers, shared.engine.shards(), current, size, last_seq + 1, fsync_of(fsync));
    Ok((Arc::new(aof), file))
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
