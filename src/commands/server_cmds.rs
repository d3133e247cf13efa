//! Server administration commands: INFO, CONFIG, COMMAND, CLIENT, ACL, SLOWLOG, LATENCY,
//! SHUTDOWN and DEBUG, in Redis 7.0's formats.
//!
//! One file per command under `server_cmds/`; this one registers them and holds what they
//! share: the container-command plumbing (subcommand lookup and arity, HELP replies).
//!
//! None of these commands names a key: all carry [`Flags::KEYSPACE`], so inside EXEC they run
//! between the transaction's key-locked segments.

use crate::commands::args;
use crate::commands::{Command, Ctx, Flags, KeySpec, cmd};
use crate::engine::Access;

mod acl;
mod client;
mod command;
mod config;
mod info;
mod memory;
mod observe;
mod persistence;

pub(super) use client::{CLIENT_SUBCOMMANDS, client_command};
pub(crate) use client::{all_clients, client_info_line, close_client};
pub use command::acl_categories;

/// A container's subcommands with Redis's arities (the name of the container included).
pub(super) type Subcommands = &'static [(&'static str, i32)];

const CONFIG_SUBCOMMANDS: Subcommands =
    &[("get", -3), ("set", -4), ("resetstat", 2), ("rewrite", 2), ("help", 2)];
const COMMAND_SUBCOMMANDS: Subcommands = &[
    ("count", 2),
    ("list", -2),
    ("info", -2),
    ("docs", -2),
    ("getkeys", -4),
    ("getkeysandflags", -4),
    ("help", 2),
];
const MEMORY_SUBCOMMANDS: Subcommands = &[("doctor", 2), ("stats", 2), ("usage", -3), ("help", 2)];
const SLOWLOG_SUBCOMMANDS: Subcommands = &[("get", -2), ("len", 2), ("reset", 2), ("help", 2)];
const LATENCY_SUBCOMMANDS: Subcommands = &[
    ("latest", 2),
    ("history", 3),
    ("graph", 3),
    ("reset", -2),
    ("doctor", 2),
    ("histogram", -2),
    ("help", 2),
];

pub(super) fn commands() -> Vec<Command> {
    let s = "server";
    let ks = Flags::KEYSPACE;
    let admin = Flags::ADMIN | Flags::NOSCRIPT | Flags::LOADING | Flags::STALE | ks;
    vec![
        Command::new(
            "info",
            -1,
            Flags::LOADING | Flags::STALE | ks,
            KeySpec::None,
            s,
            "Returns information and statistics about the server.",
            cmd!(info::info),
        ),
        Command::new(
            "config",
            -2,
            ks,
            KeySpec::None,
            s,
            "A container for server configuration commands.",
            cmd!(config::config),
        )
        .with_subcommands(CONFIG_SUBCOMMANDS),
        Command::new(
            "command",
            -1,
            Flags::LOADING | Flags::STALE | ks,
            KeySpec::None,
            s,
            "Returns detailed information about all commands.",
            cmd!(command::command),
        )
        .with_subcommands(COMMAND_SUBCOMMANDS),
        // KEYSPACE like OBJECT: USAGE names a key, but only as a subcommand's argument.
        Command::new(
            "memory",
            -2,
            ks,
            KeySpec::None,
            s,
            "A container for memory diagnostics commands.",
            cmd!(memory::memory),
        )
        .with_subcommands(MEMORY_SUBCOMMANDS),
        Command::new(
            "slowlog",
            -2,
            ks,
            KeySpec::None,
            s,
            "A container for slow log commands.",
            cmd!(observe::slowlog),
        )
        .with_subcommands(SLOWLOG_SUBCOMMANDS),
        Command::new(
            "latency",
            -2,
            ks,
            KeySpec::None,
            s,
            "A container for latency diagnostics commands.",
            cmd!(observe::latency),
        )
        .with_subcommands(LATENCY_SUBCOMMANDS),
        Command::new(
            "acl",
            -2,
            ks,
            KeySpec::None,
            s,
            "A container for Access List Control commands.",
            cmd!(acl::acl),
        )
        .with_subcommands(acl::ACL_SUBCOMMANDS),
        Command::new(
            "save",
            1,
            admin | Flags::NO_MULTI,
            KeySpec::None,
            s,
            "Synchronously saves the database(s) to disk.",
            cmd!(persistence::save),
        ),
        Command::new(
            "bgsave",
            -1,
            admin,
            KeySpec::None,
            s,
            "Asynchronously saves the database(s) to disk.",
            cmd!(persistence::bgsave),
        ),
        Command::new(
            "bgrewriteaof",
            1,
            admin,
            KeySpec::None,
            s,
            "Asynchronously rewrites the append-only file to disk.",
            cmd!(persistence::bgrewriteaof),
        ),
        Command::new(
            "shutdown",
            -1,
            admin | Flags::NO_MULTI,
            KeySpec::None,
            s,
            "Synchronously saves the database(s) to disk and shuts down the Redis server.",
            cmd!(observe::shutdown),
        ),
        Command::new(
            "debug",
            -2,
            admin,
            KeySpec::None,
            s,
            "A container for debugging commands.",
            cmd!(observe::debug),
        ),
    ]
}

/// The flags Redis gives a subcommand (containers themselves have none), for COMMAND INFO.
/// Subcommands not listed report their container's flags.
pub(super) fn subcommand_flags(full_name: &str) -> Option<Flags> {
    let admin = Flags::ADMIN | Flags::NOSCRIPT | Flags::LOADING | Flags::STALE;
    let informational = Flags::LOADING | Flags::STALE;
    let flags = match full_name {
        "config|get" | "config|set" | "config|resetstat" | "config|rewrite" => admin,
        "slowlog|get" | "slowlog|len" | "slowlog|reset" => {
            Flags::ADMIN | Flags::LOADING | Flags::STALE
        }
        "latency|latest" | "latency|history" | "latency|graph" | "latency|reset"
        | "latency|doctor" | "latency|histogram" => admin,
        "client|kill" | "client|list" | "client|no-evict" => admin,
        "client|id" | "client|setname" | "client|getname" | "client|info" | "client|reply" => {
            Flags::NOSCRIPT | Flags::LOADING | Flags::STALE
        }
        "acl|cat" | "acl|genpass" | "acl|whoami" => Flags::NOSCRIPT | Flags::LOADING | Flags::STALE,
        "acl|deluser" | "acl|dryrun" | "acl|getuser" | "acl|list" | "acl|load" | "acl|log"
        | "acl|save" | "acl|setuser" | "acl|users" => admin,
        "object|encoding" | "object|freq" | "object|idletime" | "object|refcount"
        | "memory|usage" => Flags::READONLY,
        "config|help"
        | "acl|help"
        | "command|count"
        | "command|list"
        | "command|info"
        | "command|docs"
        | "command|getkeys"
        | "command|getkeysandflags"
        | "command|help"
        | "slowlog|help"
        | "latency|help"
        | "client|help" => informational,
        _ => return None,
    };
    Some(flags)
}

/// Resolves `args[1]` among `subcommands` and checks its arity. Writes Redis's error
/// (`unknown subcommand`, `wrong number of arguments for 'config|get'`) and returns `None`
/// when the request does not fit; otherwise the subcommand's lowercase name.
pub(super) fn subcommand<A: Access>(
    ctx: &mut Ctx<'_, A>,
    container: &str,
    subcommands: Subcommands,
    args: &[&[u8]],
) -> Option<&'static str> {
    let Some(&(name, arity)) = subcommands.iter().find(|(name, _)| args::is(args[1], name)) else {
        ctx.error_text(args::unknown_subcommand(container, args[1]));
        return None;
    };
    let argc = args.len() as i64;
    let arity = arity as i64;
    let fits = if arity >= 0 { argc == arity } else { argc >= -arity };
    if !fits {
        ctx.error_text(args::wrong_arity(&format!("{container}|{name}")));
        return None;
    }
    Some(name)
}

/// Writes a container command's HELP reply as Redis 7.0 does (`addReplyHelp`).
pub(super) fn help<A: Access>(ctx: &mut Ctx<'_, A>, command: &str, lines: &[&str]) {
    let mut reply = ctx.reply();
    reply.array(lines.len() + 3);
    reply.simple(
        format!("{command} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:").as_bytes(),
    );
    for line in lines {
        reply.simple(line.as_bytes());
    }
    reply.simple(b"HELP");
    reply.simple(b"    Prints this help.");
}
