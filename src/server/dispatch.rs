//! Running one request: Redis's `processCommand` checks, in its order, then the handler.
//!
//! 1. unknown command, 2. arity, 3. authentication, 4. ACL permissions (`server::acl`);
//! 5. `maxmemory` (see `out_of_memory`);
//! 6. RESP2 subscribe-mode restrictions;
//! 7. writes refused while the AOF cannot be written (`-MISCONF`);
//! 8. MULTI queueing;
//! 9. execution with timing (commandstats, latency histogram, SLOWLOG);
//! 10. with the AOF on, the write's record, under its stripes (see `persist::order`);
//! 11. waking clients blocked on the keys a write touched.

use std::sync::atomic::Ordering;
use std::time::Instant;

use crate::commands::args::{unknown_command, wrong_arity};
use crate::commands::{Command, Ctx, Flags};
use crate::engine::clock::{system_ms, with_frozen_time};
use crate::engine::{Access, Db};
use crate::persist::{Fsync, WorkerLog};
use crate::protocol::Protocol;
use crate::server::Shared;
use crate::server::client::{Client, Multi, ReplyMode};
use crate::server::stats::{WorkerStats, bump};

/// The worker-side context of a request.
#[derive(Debug, Clone, Copy)]
pub struct Runner<'a> {
    /// Server-wide state.
    pub shared: &'a Shared,
    /// The worker's counters.
    pub stats: &'a WorkerStats,
    /// `slowlog-log-slower-than` in µs (negative: off), cached by the worker so no command
    /// touches the configuration's lock unless it is slow.
    pub slowlog_us: i64,
    /// The worker's AOF log, when the AOF is on.
    pub log: Option<&'a WorkerLog>,
}

impl<'a> Runner<'a> {
    /// Runs one request and appends its reply (if any) to `out`.
    pub fn execute(&self, client: &mut Client, out: &mut Vec<u8>, args: &[&[u8]]) {
        let start_len = out.len();
        let mode = client.reply_mode;
        self.dispatch(client, out, args);
        match mode {
            ReplyMode::On => {
                if client.reply_mode == ReplyMode::Skip {
                    client.reply_mode = ReplyMode::SkipThis;
                }
            }
            ReplyMode::Off => {
                if client.reply_mode == ReplyMode::Off {
                    out.truncate(start_len);
                }
            }
            ReplyMode::SkipThis => {
                out.truncate(start_len);
                if client.reply_mode == ReplyMode::SkipThis {
                    client.reply_mode = ReplyMode::On;
                }
            }
            ReplyMode::Skip => client.reply_mode = ReplyMode::SkipThis,
        }
    }

    fn reject(
        &self,
        client: &mut Client,
        out: &mut Vec<u8>,
        command: Option<&Command>,
        text: &[u8],
    ) {
        if let Some(multi) = client.multi.as_mut() {
            multi.dirty = true;
        }
        if let Some(command) = command {
            bump(&self.stats.commands[command.id].rejected_calls, 1);
        }
        bump(&self.stats.error_replies, 1);
        if command.is_some_and(|c| c.name == "exec") {
            // Redis's execCommandAbort: a refused EXEC discards the transaction and says why.
            client.multi = None;
            client.watched.clear();
            client.info.multi.store(0, Ordering::Relaxed);
            let mut line = b"EXECABORT Transaction discarded because of: ".to_vec();
            line.extend_from_slice(text);
            crate::protocol::Encoder::new(out, client.protocol).error(&line);
            return;
        }
        crate::protocol::Encoder::new(out, client.protocol).error(text);
    }

    fn dispatch(&self, client: &mut Client, out: &mut Vec<u8>, args: &[&[u8]]) {
        let shared = self.shared;
        let Some(command) = shared.commands.lookup(args[0]) else {
            self.reject(client, out, None, &unknown_command(args));
            return;
        };
        if !command.arity_ok(args.len()) {
            self.reject(client, out, Some(command), &wrong_arity(command.name));
            return;
        }
        if !client.authenticated && !command.flags.contains(Flags::NO_AUTH) {
            self.reject(client, out, Some(command), b"NOAUTH Authentication required.");
            return;
        }
        // AUTH, HELLO, QUIT and RESET (NO_AUTH) are open to every user, as in Redis.
        if let Some(user) = &client.user
            && !command.flags.contains(Flags::NO_AUTH)
            && let Err(denied) = shared.acl.check(user, command, args)
        {
            let info = crate::commands::client_info_line(shared, &client.info, command.name);
            shared.acl.log_denial(&denied, &user.name, client.multi.is_some(), info);
            self.reject(client, out, Some(command), denied.error_text().as_bytes());
            return;
        }
        if self.out_of_memory(command, args) {
            let text = crate::engine::Error::OutOfMemory.to_string();
            self.reject(client, out, Some(command), text.as_bytes());
            return;
        }
        if client.in_subscribe_mode() && !command.flags.contains(Flags::SUBSCRIBE_OK) {
            let text = format!(
                "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / \
                 RESET are allowed in this context",
                command.name
            );
            self.reject(client, out, Some(command), text.as_bytes());
            return;
        }
        if let Some(log) = self.log
            && !log.aof().write_ok()
            && (command.flags.contains(Flags::WRITE)
                || command.name == "ping"
                || (command.name == "exec" && client.multi.as_ref().is_some_and(|m| m.writes)))
        {
            let error = log.aof().last_error().unwrap_or_default();
            let text = format!("MISCONF Errors writing to the AOF file: {error}");
            self.reject(client, out, Some(command), text.as_bytes());
            return;
        }
        if client.multi.is_some() && !command.flags.contains(Flags::TXN_CONTROL) {
            if command.flags.contains(Flags::NO_MULTI) {
                self.reject(
                    client,
                    out,
                    Some(command),
                    b"ERR Command not allowed inside a transaction",
                );
                return;
            }
            let multi = client.multi.as_mut().expect("checked above");
            multi.writes |= command.flags.contains(Flags::WRITE);
            multi.queued.push((command.id, args.iter().map(|a| a.to_vec()).collect()));
            // Relaxed: CLIENT LIST shows an approximate count.
            client.info.multi.store(multi.queued.len() + 1, std::sync::atomic::Ordering::Relaxed);
            out.extend_from_slice(crate::protocol::QUEUED);
            return;
        }
        let db = shared.engine.db(client.db);
        if command.flags.contains(Flags::WRITE) {
            let passage = self.enter_write(needs_quiet(command, args));
            if passage.persisted {
                self.run_persisted(command, client, db, out, args, passage.snapshot);
            } else {
                self.run(command, client, db, out, args);
            }
        } else {
            self.run(command, client, db, out, args);
        }
        // A blocking command that parks its client wrote nothing: signalling its keys would
        // wake the client itself, whose retry would signal again, forever.
        if command.flags.contains(Flags::WRITE)
            && client.block.is_none()
            && shared.blocking.active()
        {
            let mut keys = Vec::new();
            command.keys_of(args, &mut keys);
            shared.blocking.signal(&shared.inboxes, client.db, &keys);
        }
    }

    /// Redis's maxmemory check (`performEvictions` in `processCommand`): a command that may
    /// add memory (`denyoom`) first makes room for about its arguments' bytes on its keys'
    /// shards, evicting by the policy; true when it cannot (the caller replies `-OOM`). One
    /// flag test, then one relaxed load when no limit is set.
    fn out_of_memory(&self, command: &Command, args: &[&[u8]]) -> bool {
        let engine = &self.shared.engine;
        if !command.flags.contains(Flags::DENYOOM) || !engine.memory_limited() {
            return false;
        }
        let mut keys = Vec::new();
        command.keys_of(args, &mut keys);
        let argument_bytes: u64 = args[1..].iter().map(|arg| arg.len() as u64).sum();
        let overhead = crate::engine::evict::WRITE_OVERHEAD_BYTES * keys.len().max(1) as u64;
        engine.make_room(&keys, argument_bytes + overhead).is_err()
    }

    /// Runs a command's handler on `access` with timing and statistics.
    fn run_on<A: Access>(
        &self,
        command: &Command,
        client: &mut Client,
        access: &A,
        out: &mut Vec<u8>,
        args: &[&[u8]],
        handler: impl FnOnce(&mut Ctx<'_, A>, &[&[u8]]),
    ) {
        client.command_failed = false;
        let started = Instant::now();
        {
            let mut ctx =
                Ctx { shared: self.shared, client, stats: self.stats, access, out, log: self.log };
            handler(&mut ctx, args);
        }
        let nanos = started.elapsed().as_nanos() as u64;
        let stats = &self.stats.commands[command.id];
        bump(&stats.calls, 1);
        bump(&stats.usec, nanos / 1000);
        stats.latency.get_or_init(Default::default).record(nanos);
        bump(&self.stats.commands_processed, 1);
        if client.command_failed {
            bump(&stats.failed_calls, 1);
            bump(&self.stats.error_replies, 1);
        }
        // Relaxed: CLIENT LIST's last command is informational.
        client.info.last_command.store(command.id, std::sync::atomic::Ordering::Relaxed);
        self.slowlog(command, client, args, nanos / 1000);
    }

    fn run(
        &self,
        command: &Command,
        client: &mut Client,
        db: &Db,
        out: &mut Vec<u8>,
        args: &[&[u8]],
    ) {
        let handler = command.run.db;
        self.run_on(command, client, db, out, args, handler);
    }

    /// Flags this worker as running a write, so a snapshot starting now waits for it, and
    /// says whether the write must take the persisted path. A write that cannot name the keys
    /// it changes in every database (`needs_quiet`) first waits for a running snapshot.
    fn enter_write(&self, needs_quiet: bool) -> Passage<'a> {
        let snapshots = &self.shared.snapshots;
        loop {
            if needs_quiet {
                while snapshots.active() {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
            }
            // SeqCst: the handshake with a starting snapshot (see `persist::snapshot`): it sets
            // `active` then reads this flag; this thread sets the flag then reads `active`.
            self.stats.in_write.store(true, Ordering::SeqCst);
            let snapshot = snapshots.active();
            if snapshot && needs_quiet {
                self.stats.in_write.store(false, Ordering::Release);
                continue;
            }
            return Passage {
                flag: &self.stats.in_write,
                persisted: snapshot || self.log.is_some(),
                snapshot,
            };
        }
    }

    /// Runs a write with the AOF on or a snapshot running: under its keys' stripes; with a
    /// snapshot, after preserving the keys' current values; with the AOF, at a frozen instant,
    /// then recorded.
    fn run_persisted(
        &self,
        command: &Command,
        client: &mut Client,
        db: &Db,
        out: &mut Vec<u8>,
        args: &[&[u8]],
        snapshot: bool,
    ) {
        let shared = self.shared;
        let mut keys = Vec::new();
        let all = crate::server::persistence::locks_everything(command, args, &mut keys);
        let mut shards: Vec<usize> = keys.iter().map(|k| shared.engine.shard_index(k)).collect();
        let _held = if all { shared.order.lock_all() } else { shared.order.lock(&mut shards) };
        if snapshot {
            for key in &keys {
                shared.snapshots.preserve(&shared.engine, client.db, key);
            }
        }
        let Some(log) = self.log else {
            self.run(command, client, db, out, args);
            return;
        };
        let ms = system_ms();
        let start_db = client.db;
        client.propagate = None;
        with_frozen_time(ms, || self.run(command, client, db, out, args));
        let mut payload = log.payload.borrow_mut();
        payload.clear();
        record_command(&mut payload, command, client, args);
        if !payload.is_empty() {
            append_record(log, client, ms, start_db, &payload);
        }
    }

    fn slowlog(&self, command: &Command, client: &Client, args: &[&[u8]], micros: u64) {
        if command.flags.contains(Flags::SKIP_SLOWLOG) {
            return;
        }
        let threshold = self.slowlog_us;
        if threshold < 0 || micros < threshold as u64 {
            return;
        }
        let max_len = self.shared.config.read().slowlog_max_len;
        let name = client.info.name.lock().clone().unwrap_or_default();
        self.shared.slowlog.lock().push(
            args,
            micros,
            client.info.addr.to_string(),
            name,
            max_len as usize,
        );
    }

    /// EXEC: runs the queued commands atomically, each key command inside one transaction
    /// holding all their keys (see `Flags::KEYSPACE` for the commands that run between
    /// transaction segments).
    pub fn exec(&self, client: &mut Client, out: &mut Vec<u8>) {
        let Some(multi) = client.multi.take() else {
            self.reject(client, out, None, b"ERR EXEC without MULTI");
            return;
        };
        // Relaxed: informational.
        client.info.multi.store(0, std::sync::atomic::Ordering::Relaxed);
        let watched = std::mem::take(&mut client.watched);
        if multi.dirty {
            crate::protocol::Encoder::new(out, client.protocol)
                .error(b"EXECABORT Transaction discarded because of previous errors.");
            bump(&self.stats.error_replies, 1);
            return;
        }
        let commands = &self.shared.commands;
        let queued: Vec<(&Command, Vec<&[u8]>)> = multi
            .queued
            .iter()
            .map(|(id, args)| (&commands.all()[*id], args.iter().map(Vec::as_slice).collect()))
            .collect();
        // Watched keys of other databases cannot be locked with this database's keys: they are
        // compared just before (a write racing this comparison is ordered before EXEC).
        for watch in watched.iter().filter(|w| w.db != client.db) {
            if self.shared.engine.db(watch.db).watch_version(&watch.key) != watch.version {
                write_null_array(out, client.protocol);
                return;
            }
        }
        let same_db: Vec<&crate::server::client::Watched> =
            watched.iter().filter(|w| w.db == client.db).collect();
        // With the AOF on or a snapshot running, a transaction that writes runs under its keys'
        // stripes (after preserving them for the snapshot); with the AOF, at one frozen
        // instant, recorded as one record and replayed whole.
        let start_db = client.db;
        let passage = queued.iter().any(|(c, _)| c.flags.contains(Flags::WRITE)).then(|| {
            self.enter_write(
                queued.iter().any(|(c, args)| needs_quiet(c, args) || c.name == "select"),
            )
        });
        let persisted = passage.as_ref().is_some_and(|p| p.persisted);
        let snapshot = passage.as_ref().is_some_and(|p| p.snapshot);
        let log = self.log.filter(|_| persisted);
        let mut payload = log.map(|_| Vec::new());
        let mut writes = false;
        let _held = persisted.then(|| {
            let (mut keys, mut all) = (Vec::new(), false);
            let mut transaction_keys: Vec<&[u8]> = Vec::new();
            for (command, args) in &queued {
                let whole = crate::server::persistence::locks_everything(command, args, &mut keys);
                all |= whole && command.flags.contains(Flags::WRITE);
                transaction_keys.append(&mut keys);
            }
            let order = &self.shared.order;
            let held = if all {
                order.lock_all()
            } else {
                let mut shards: Vec<usize> =
                    transaction_keys.iter().map(|k| self.shared.engine.shard_index(k)).collect();
                order.lock(&mut shards)
            };
            // Preserving needs the keys' stripes held (see `Snapshots::preserve`).
            if snapshot {
                for key in &transaction_keys {
                    self.shared.snapshots.preserve(&self.shared.engine, client.db, key);
                }
            }
            held
        });
        let ms = system_ms();
        let _frozen = log.map(|_| crate::engine::clock::freeze(ms));
        let mut written: Vec<(usize, Vec<u8>)> = Vec::new();
        let mut index = 0;
        let mut first = true;
        client.in_exec = true;
        while first || index < queued.len() {
            // The next segment: key commands up to the next whole-keyspace command.
            let end = queued[index..]
                .iter()
                .position(|(c, _)| c.flags.contains(Flags::KEYSPACE))
                .map_or(queued.len(), |p| index + p);
            let mut keys: Vec<&[u8]> = Vec::new();
            for (command, args) in &queued[index..end] {
                command.keys_of(args, &mut keys);
            }
            if first {
                keys.extend(same_db.iter().map(|w| w.key.as_slice()));
            }
            let db = self.shared.engine.db(client.db);
            let aborted = db
                .transaction(&keys, |txn| {
                    if first {
                        for watch in &same_db {
                            if txn.locked_version(&watch.key)? != watch.version {
                                return Ok(true);
                            }
                        }
                        crate::protocol::Encoder::new(out, client.protocol).array(queued.len());
                    }
                    for (command, args) in &queued[index..end] {
                        let handler = command.run.txn;
                        client.propagate = None;
                        self.run_on(command, client, txn, out, args, |ctx, args| {
                            handler(ctx, args)
                        });
                        if let Some(payload) = payload.as_mut() {
                            writes |= record_command(payload, command, client, args);
                        }
                        if command.flags.contains(Flags::WRITE) {
                            let mut keys = Vec::new();
                            command.keys_of(args, &mut keys);
                            written.extend(keys.into_iter().map(|k| (client.db, k.to_vec())));
                        }
                    }
                    Ok(false)
                })
                .unwrap_or(false);
            if aborted {
                write_null_array(out, client.protocol);
                client.in_exec = false;
                return;
            }
            first = false;
            index = end;
            if let Some((command, args)) = queued.get(index) {
                client.propagate = None;
                self.run(command, client, self.shared.engine.db(client.db), out, args);
                if let Some(payload) = payload.as_mut() {
                    writes |= record_command(payload, command, client, args);
                }
                if command.flags.contains(Flags::WRITE) {
                    self.shared.blocking.signal_all(&self.shared.inboxes);
                }
                index += 1;
            }
        }
        client.in_exec = false;
        if let (Some(log), Some(payload)) = (log, payload)
            && writes
        {
            append_record(log, client, ms, start_db, &payload);
        }
        if self.shared.blocking.active() {
            for (db, key) in &written {
                self.shared.blocking.signal(&self.shared.inboxes, *db, &[key]);
            }
        }
    }

    /// MULTI.
    pub fn multi(&self, client: &mut Client, out: &mut Vec<u8>) {
        if client.multi.is_some() {
            self.reject(client, out, None, b"ERR MULTI calls can not be nested");
            return;
        }
        client.multi = Some(Multi::default());
        // Relaxed: informational.
        client.info.multi.store(1, std::sync::atomic::Ordering::Relaxed);
        out.extend_from_slice(crate::protocol::OK);
    }
}

/// A write in progress on this worker (see [`Runner::enter_write`]); clears the flag when
/// dropped.
struct Passage<'a> {
    flag: &'a std::sync::atomic::AtomicBool,
    /// Take the stripes (AOF on or snapshot running).
    persisted: bool,
    /// A snapshot is running: preserve the keys first.
    snapshot: bool,
}

impl Drop for Passage<'_> {
    fn drop(&mut self) {
        // Release: a snapshot that sees the flag clear also sees this write's effects.
        self.flag.store(false, Ordering::Release);
    }
}

/// Appends a write's record; under `appendfsync always` the client's replies then wait for it
/// to be on disk.
fn append_record(log: &WorkerLog, client: &mut Client, ms: u64, db: usize, payload: &[u8]) {
    let seq = log.append(ms, db, payload);
    if log.aof().fsync() == Fsync::Always {
        client.aof_wait = seq + 1;
    }
}

/// Writes that cannot name every key they change in every database: they wait for a running
/// snapshot (see `persist::snapshot`).
fn needs_quiet(command: &Command, args: &[&[u8]]) -> bool {
    match command.name {
        "flushall" | "flushdb" | "swapdb" | "move" => true,
        "copy" => args.iter().skip(3).any(|a| a.eq_ignore_ascii_case(b"db")),
        _ => command.flags.contains(Flags::KEYSPACE) && command.flags.contains(Flags::WRITE),
    }
}

/// Appends what `command` (just run by `client`) replays as: nothing if it failed or blocked,
/// the commands it asked to be recorded instead (SPOP records SREM: its choice is random), or
/// its own arguments. SELECT is recorded too (inside EXEC it changes the following commands'
/// database). Returns whether a write was recorded.
fn record_command(
    payload: &mut Vec<u8>,
    command: &Command,
    client: &mut Client,
    args: &[&[u8]],
) -> bool {
    let instead = client.propagate.take();
    if client.command_failed || client.block.is_some() {
        return false;
    }
    if let Some(commands) = instead {
        for command in &commands {
            crate::protocol::write_command(payload, command);
        }
        return !commands.is_empty();
    }
    let write = command.flags.contains(Flags::WRITE);
    if write || command.name == "select" {
        crate::protocol::write_command(payload, args);
    }
    write
}

/// EXEC's reply when a watched key changed.
fn write_null_array(out: &mut Vec<u8>, protocol: Protocol) {
    crate::protocol::Encoder::new(out, protocol).null_array();
}
