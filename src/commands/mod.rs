//! Commands: where a request's arguments meet the engine.
//!
//! Each family has its file (`strings.rs`, `keys.rs`, `lists.rs`, ...) holding the handlers and
//! a `commands()` list of [`Command`] entries: name, Redis's arity, flags and key positions (as
//! `COMMAND INFO` reports them). [`CommandTable`] gathers every family once at start-up, applies
//! `rename-command`, and resolves a request's name with one hash lookup.
//!
//! A handler is written once, generic over [`Access`], and runs both on the selected
//! [`Db`] (an ordinary command) and on a [`Txn`] (a command queued by MULTI, executed by EXEC
//! with all its keys locked): the `cmd!` macro instantiates it for both.
//!
//! Handlers parse their arguments with the helpers in `args.rs`, which produce Redis's exact
//! error texts, call the engine, and encode the reply with the connection's protocol.

use crate::engine::{Access, Db, Error};
use crate::protocol::{Encoder, Protocol};
use crate::server::Shared;
use crate::server::client::Client;

pub mod args;
mod connection;
mod hashes;
mod keys;
mod lists;
mod server_cmds;
mod sets;
mod strings;
mod table;
mod zsets;

pub use server_cmds::acl_categories;
pub(crate) use server_cmds::client_info_line;
pub use table::{Command, CommandTable, Flags, Handlers, KeySpec};

/// Everything a command handler sees.
pub struct Ctx<'a, A> {
    /// Server-wide state: the engine, configuration, registries.
    pub shared: &'a Shared,
    /// The calling connection.
    pub client: &'a mut Client,
    /// The worker's counters (EXEC runs commands through them).
    pub stats: &'a crate::server::stats::WorkerStats,
    /// Where key commands run: the selected [`Db`], or the EXEC transaction.
    pub access: &'a A,
    /// The connection's output buffer.
    pub out: &'a mut Vec<u8>,
    /// The worker's AOF log, when the AOF is on (EXEC records through it).
    pub log: Option<&'a crate::persist::WorkerLog>,
}

impl<A> std::fmt::Debug for Ctx<'_, A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx").field("client", &self.client.id).finish_non_exhaustive()
    }
}

impl<A: Access> Ctx<'_, A> {
    /// An encoder for the reply, in the connection's protocol.
    pub fn reply(&mut self) -> Encoder<'_> {
        Encoder::new(self.out, self.client.protocol)
    }

    /// The connection's protocol.
    pub fn protocol(&self) -> Protocol {
        self.client.protocol
    }

    /// The selected database (for commands that act on the whole keyspace).
    pub fn db(&self) -> &Db {
        self.shared.engine.db(self.client.db)
    }

    /// Writes an engine error as Redis's error line.
    pub fn error(&mut self, error: Error) {
        let text = error.to_string();
        self.client.command_failed = true;
        self.reply().error(text.as_bytes());
    }

    /// Writes an error line given as text (without the leading `-`).
    pub fn error_text(&mut self, text: impl AsRef<[u8]>) {
        self.client.command_failed = true;
        self.reply().error(text.as_ref());
    }

    /// Writes `Ok(value)` with `write`, or the error.
    pub fn result<T>(&mut self, result: crate::Result<T>, write: impl FnOnce(&mut Encoder<'_>, T)) {
        match result {
            Ok(value) => write(&mut self.reply(), value),
            Err(error) => self.error(error),
        }
    }
}

/// Instantiates a generic handler for both places a command runs.
macro_rules! cmd {
    ($handler:path) => {
        $crate::commands::Handlers {
            db: |ctx: &mut $crate::commands::Ctx<'_, $crate::engine::Db>, args: &[&[u8]]| {
                $handler(ctx, args)
            },
            txn: |ctx: &mut $crate::commands::Ctx<'_, $crate::engine::Txn<'_>>, args: &[&[u8]]| {
                $handler(ctx, args)
            },
        }
    };
}
pub(crate) use cmd;

/// Every family's commands, in the order `COMMAND` lists them.
pub(crate) fn all_commands() -> Vec<Command> {
    let mut all = Vec::new();
    all.extend(strings::commands());
    all.extend(keys::commands());
    all.extend(lists::commands());
    all.extend(hashes::commands());
    all.extend(sets::commands());
    all.extend(zsets::commands());
    all.extend(connection::commands());
    all.extend(server_cmds::commands());
    all
}
