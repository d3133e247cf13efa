//! The command table: metadata of every command and the name lookup.

use std::collections::HashMap;

use crate::commands::Ctx;
use crate::engine::{Db, Txn};

/// A command's properties, as `COMMAND INFO` lists them (Redis 7's flag names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Flags(pub u32);

impl Flags {
    /// Changes data.
    pub const WRITE: Flags = Flags(1);
    /// Only reads data.
    pub const READONLY: Flags = Flags(1 << 1);
    /// May add memory: refused when over `maxmemory` under `noeviction`.
    pub const DENYOOM: Flags = Flags(1 << 2);
    /// Administrative.
    pub const ADMIN: Flags = Flags(1 << 3);
    /// Publish/subscribe.
    pub const PUBSUB: Flags = Flags(1 << 4);
    /// Not allowed in scripts.
    pub const NOSCRIPT: Flags = Flags(1 << 5);
    /// May block the client.
    pub const BLOCKING: Flags = Flags(1 << 6);
    /// Allowed while loading.
    pub const LOADING: Flags = Flags(1 << 7);
    /// Allowed on a stale replica.
    pub const STALE: Flags = Flags(1 << 8);
    /// O(1) or O(log n).
    pub const FAST: Flags = Flags(1 << 9);
    /// Allowed before AUTH.
    pub const NO_AUTH: Flags = Flags(1 << 10);
    /// Not allowed inside MULTI.
    pub const NO_MULTI: Flags = Flags(1 << 11);
    /// The key positions depend on the arguments (`numkeys`).
    pub const MOVABLE_KEYS: Flags = Flags(1 << 12);
    /// Acts on the whole keyspace or the connection, not on named keys: inside EXEC it runs
    /// between the transaction's key-locked segments.
    pub const KEYSPACE: Flags = Flags(1 << 13);
    /// Allowed in RESP2 subscribe mode.
    pub const SUBSCRIBE_OK: Flags = Flags(1 << 14);
    /// Not logged in SLOWLOG (AUTH and HELLO carry secrets).
    pub const SKIP_SLOWLOG: Flags = Flags(1 << 15);
    /// MULTI, EXEC, DISCARD, WATCH, QUIT, RESET: run immediately inside MULTI.
    pub const TXN_CONTROL: Flags = Flags(1 << 16);

    const NAMES: [(Flags, &'static str); 13] = [
        (Flags::WRITE, "write"),
        (Flags::READONLY, "readonly"),
        (Flags::DENYOOM, "denyoom"),
        (Flags::ADMIN, "admin"),
        (Flags::PUBSUB, "pubsub"),
        (Flags::NOSCRIPT, "noscript"),
        (Flags::BLOCKING, "blocking"),
        (Flags::LOADING, "loading"),
        (Flags::STALE, "stale"),
        (Flags::FAST, "fast"),
        (Flags::NO_AUTH, "no_auth"),
        (Flags::NO_MULTI, "no_multi"),
        (Flags::MOVABLE_KEYS, "movablekeys"),
    ];

    /// Whether every flag of `other` is set.
    pub const fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    /// The union.
    pub const fn with(self, other: Flags) -> Flags {
        Flags(self.0 | other.0)
    }

    /// The Redis names of the flags `COMMAND INFO` reports.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        Self::NAMES.into_iter().filter(move |(flag, _)| self.contains(*flag)).map(|(_, n)| n)
    }
}

impl std::ops::BitOr for Flags {
    type Output = Flags;
    fn bitor(self, other: Flags) -> Flags {
        self.with(other)
    }
}

/// Where a command's keys are among its arguments (argument 0 is the command name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySpec {
    /// No keys.
    None,
    /// Keys from `first` to `last` (negative: from the end, -1 is the last argument) every
    /// `step` arguments: Redis's legacy key range.
    Range {
        /// First key position.
        first: i32,
        /// Last key position (negative counts from the end).
        last: i32,
        /// Distance between keys.
        step: i32,
    },
    /// `dest numkeys key...` (ZUNIONSTORE) or `numkeys key...` (LMPOP, SINTERCARD): the
    /// argument at `numkeys` counts the keys that follow it; `extra` fixed keys sit before it
    /// (1 for a destination, 0 otherwise).
    NumKeys {
        /// Position of the `numkeys` argument.
        numkeys: usize,
        /// Keys before `numkeys` (a destination at position 1).
        extra: usize,
    },
}

/// The two instantiations of a handler.
#[derive(Clone, Copy)]
pub struct Handlers {
    /// Runs on the selected database.
    pub db: for<'a, 'b> fn(&mut Ctx<'a, Db>, &[&'b [u8]]),
    /// Runs inside EXEC's transaction.
    pub txn: for<'a, 't, 'b> fn(&mut Ctx<'a, Txn<'t>>, &[&'b [u8]]),
}

impl std::fmt::Debug for Handlers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Handlers")
    }
}

/// One command.
#[derive(Debug, Clone)]
pub struct Command {
    /// The lowercase name.
    pub name: &'static str,
    /// Redis's arity: `n` means exactly `n` arguments (name included), `-n` at least `n`.
    pub arity: i32,
    /// Properties.
    pub flags: Flags,
    /// Key positions.
    pub keys: KeySpec,
    /// The command's group (`string`, `list`, `server`, ...) for COMMAND DOCS.
    pub group: &'static str,
    /// One-line summary for COMMAND DOCS.
    pub summary: &'static str,
    /// Subcommands (`get`, `set` for CONFIG), for COMMAND INFO; empty for most.
    pub subcommands: &'static [(&'static str, i32)],
    /// The handler.
    pub run: Handlers,
    /// Index in the table (commandstats slot), set by [`CommandTable::new`].
    pub id: usize,
}

impl Command {
    /// A command with defaults for the rarely set fields.
    pub fn new(
        name: &'static str,
        arity: i32,
        flags: Flags,
        keys: KeySpec,
        group: &'static str,
        summary: &'static str,
        run: Handlers,
    ) -> Command {
        Command { name, arity, flags, keys, group, summary, subcommands: &[], run, id: 0 }
    }

    /// Adds subcommands.
    pub fn with_subcommands(mut self, subcommands: &'static [(&'static str, i32)]) -> Command {
        self.subcommands = subcommands;
        self
    }

    /// Whether `argc` arguments (name included) satisfy the arity.
    pub fn arity_ok(&self, argc: usize) -> bool {
        let arity = self.arity as i64;
        let argc = argc as i64;
        if arity >= 0 { argc == arity } else { argc >= -arity }
    }

    /// Redis's legacy (first, last, step) triple for COMMAND INFO.
    pub fn key_range(&self) -> (i32, i32, i32) {
        match self.keys {
            KeySpec::None => (0, 0, 0),
            KeySpec::Range { first, last, step } => (first, last, step),
            KeySpec::NumKeys { extra: 0, .. } => (0, 0, 0),
            KeySpec::NumKeys { .. } => (1, 1, 1),
        }
    }

    /// Appends the keys `args` names (args[0] is the command name). Malformed counts give no
    /// keys: the command itself will reply with the error.
    pub fn keys_of<'a>(&self, args: &[&'a [u8]], keys: &mut Vec<&'a [u8]>) {
        match self.keys {
            KeySpec::None => {}
            KeySpec::Range { first, last, step } => {
                let argc = args.len() as i64;
                let last = if last < 0 { argc + last as i64 } else { last as i64 };
                let mut position = first as i64;
                while position <= last && position < argc && position > 0 {
                    keys.push(args[position as usize]);
                    position += step.max(1) as i64;
                }
            }
            KeySpec::NumKeys { numkeys, extra } => {
                for position in 1..=extra {
                    if let Some(key) = args.get(position) {
                        keys.push(key);
                    }
                }
                let count = args
                    .get(numkeys)
                    .and_then(|n| crate::engine::num::parse_i64(n))
                    .filter(|&n| n > 0)
                    .unwrap_or(0) as usize;
                let available = args.len().saturating_sub(numkeys + 1);
                keys.extend(args.iter().skip(numkeys + 1).take(count.min(available)));
            }
        }
    }
}

/// Every command, by lowercase name.
#[derive(Debug)]
pub struct CommandTable {
    commands: Vec<Command>,
    by_name: HashMap<Vec<u8>, usize, foldhash::fast::RandomState>,
}

/// The longest command name looked up without allocating (longer names are unknown anyway).
const MAX_NAME: usize = 32;

impl CommandTable {
    /// The table of every command, with `renames` applied (`rename-command NAME NEW`; an
    /// empty `NEW` disables the command).
    pub fn new(renames: &[(String, String)]) -> CommandTable {
        let mut commands = crate::commands::all_commands();
        for (id, command) in commands.iter_mut().enumerate() {
            command.id = id;
        }
        let mut by_name: HashMap<Vec<u8>, usize, foldhash::fast::RandomState> =
            commands.iter().map(|c| (c.name.as_bytes().to_vec(), c.id)).collect();
        for (from, to) in renames {
            if let Some(id) = by_name.remove(from.to_ascii_lowercase().as_bytes())
                && !to.is_empty()
            {
                by_name.insert(to.to_ascii_lowercase().into_bytes(), id);
            }
        }
        CommandTable { commands, by_name }
    }

    /// Resolves a request's name, case-insensitively.
    pub fn lookup(&self, name: &[u8]) -> Option<&Command> {
        if name.len() > MAX_NAME {
            return None;
        }
        let mut lower = [0u8; MAX_NAME];
        let lower = &mut lower[..name.len()];
        for (out, byte) in lower.iter_mut().zip(name) {
            *out = byte.to_ascii_lowercase();
        }
        self.by_name.get(&lower[..]).map(|&id| &self.commands[id])
    }

    /// Every command (COMMAND, commandstats), in table order.
    pub fn all(&self) -> &[Command] {
        &self.commands
    }

    /// The name a command is reachable by after renames (None when disabled).
    pub fn visible_name(&self, command: &Command) -> Option<&[u8]> {
        self.by_name.iter().find(|&(_, &id)| id == command.id).map(|(name, _)| &name[..])
    }

    /// The number of commands.
    pub fn len(&self) -> usize {
        self.commands.len()
    }

    /// Never true (the table always holds the built-in commands).
    pub fn is_empty(&self) -> bool {
        self.commands.is_empty()
    }
}
