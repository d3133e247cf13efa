//! COMMAND, COMMAND COUNT / LIST / INFO / DOCS / GETKEYS / HELP: the command table as Redis
//! 7.0 describes it.
//!
//! ACL categories and key specifications are derived from what the table holds (flags, group,
//! [`KeySpec`]): the categories follow Redis's implicit rules (`write` gives `@write`, no
//! `fast` gives `@slow`, ...) plus the group's category; a key spec's flags are `RO access`
//! for readers and `RW update` for writers (Redis refines the latter per command: `RM
//! delete` for DEL, `OW update` for a destination). Command tips are not tracked.

use crate::commands::args::is;
use crate::commands::{Command, Ctx, Flags, KeySpec};
use crate::engine::Access;
use crate::engine::glob;
use crate::protocol::Encoder;
use crate::server::Shared;

use super::{COMMAND_SUBCOMMANDS, help, subcommand, subcommand_flags};

const COMMAND_HELP: &[&str] = &[
    "(no subcommand)",
    "    Return details about all Redis commands.",
    "COUNT",
    "    Return the total number of commands in this Redis server.",
    "LIST",
    "    Return a list of all commands in this Redis server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>",
    "    Return the keys from a full Redis command.",
    "GETKEYSANDFLAGS <full-command>",
    "    Return the keys and the access flags from a full Redis command.",
];

pub(super) fn command<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    if args.len() == 1 {
        let shared = ctx.shared;
        let commands = visible(shared);
        let mut reply = ctx.reply();
        reply.array(commands.len());
        for (name, command) in commands {
            write_info(&mut reply, &name, command);
        }
        return;
    }
    let Some(sub) = subcommand(ctx, "command", COMMAND_SUBCOMMANDS, args) else { return };
    match sub {
        "count" => {
            let count = visible(ctx.shared).len();
            ctx.reply().integer(count as i64);
        }
        "list" => list(ctx, args),
        "info" => info(ctx, &args[2..]),
        "docs" => docs(ctx, &args[2..]),
        "getkeys" => getkeys(ctx, &args[2..], false),
        "getkeysandflags" => getkeys(ctx, &args[2..], true),
        _ => help(ctx, "COMMAND", COMMAND_HELP),
    }
}

/// Every reachable command with the name it is reachable by.
fn visible(shared: &Shared) -> Vec<(String, &Command)> {
    shared
        .commands
        .all()
        .iter()
        .filter_map(|command| {
            let name = shared.commands.visible_name(command)?;
            Some((String::from_utf8_lossy(name).into_owned(), command))
        })
        .collect()
}

/// A command or `container|subcommand` by name: (full name, command, subcommand arity).
fn find<'a>(shared: &'a Shared, name: &[u8]) -> Option<(String, &'a Command, Option<i32>)> {
    let mut parts = name.splitn(2, |&b| b == b'|');
    let container = parts.next()?;
    let command = shared.commands.lookup(container)?;
    let container = String::from_utf8_lossy(container).to_ascii_lowercase();
    match parts.next() {
        None => Some((container, command, None)),
        Some(sub) => {
            let &(sub, arity) = command.subcommands.iter().find(|(n, _)| is(sub, n))?;
            Some((format!("{container}|{sub}"), command, Some(arity)))
        }
    }
}

/// Redis's ACL categories, in its table order, for a command or subcommand (`config|get`):
/// what `COMMAND INFO` lists and what ACL rules (`+@read`, `-@dangerous`) select.
pub fn acl_categories(command: &Command, full_name: &str) -> Vec<&'static str> {
    let flags = if full_name.contains('|') {
        subcommand_flags(full_name).unwrap_or(command.flags)
    } else {
        command.flags
    };
    // A container (CONFIG, CLIENT, OBJECT, ...) has only `@slow` of its own in Redis; its
    // subcommands carry the real categories.
    if !full_name.contains('|') && !command.subcommands.is_empty() {
        return if full_name == "command" { vec!["@slow", "@connection"] } else { vec!["@slow"] };
    }
    categories(full_name, command.group, flags)
}

/// Redis's ACL categories, in its table order, for a command or subcommand.
fn categories(name: &str, group: &str, flags: Flags) -> Vec<&'static str> {
    let container = name.split('|').next().unwrap_or(name);
    let group_is = |g: &str| group == g;
    // Commands Redis declares in a category their flags and group do not imply.
    let keyspace_too = matches!(name, "dbsize" | "flushall" | "flushdb" | "swapdb");
    let dangerous_too =
        matches!(name, "flushall" | "flushdb" | "info" | "keys" | "lastsave" | "swapdb");
    let connection_too = name == "wait" || (container == "command" && name != container);
    let rules: [(&'static str, bool); 16] = [
        ("@keyspace", (group_is("generic") && name != "wait") || keyspace_too),
        ("@read", flags.contains(Flags::READONLY)),
        ("@write", flags.contains(Flags::WRITE)),
        ("@set", group_is("set")),
        ("@sortedset", group_is("sorted-set") || group_is("sorted_set")),
        ("@list", group_is("list")),
        ("@hash", group_is("hash")),
        ("@string", group_is("string")),
        ("@pubsub", flags.contains(Flags::PUBSUB) || group_is("pubsub")),
        ("@admin", flags.contains(Flags::ADMIN) || name == "lastsave"),
        ("@fast", flags.contains(Flags::FAST)),
        ("@slow", !flags.contains(Flags::FAST)),
        ("@blocking", flags.contains(Flags::BLOCKING)),
        ("@dangerous", flags.contains(Flags::ADMIN) || dangerous_too),
        ("@connection", group_is("connection") || connection_too),
        ("@transaction", group_is("transactions")),
    ];
    rules.into_iter().filter(|(_, on)| *on).map(|(category, _)| category).collect()
}

fn write_names(reply: &mut Encoder<'_>, names: &[&str]) {
    reply.set(names.len());
    for name in names {
        reply.simple(name.as_bytes());
    }
}

/// Writes one key specification: flags, begin_search, find_keys.
fn write_key_spec(
    reply: &mut Encoder<'_>,
    flags: &[&str],
    index: i64,
    find: &str,
    spec: [(&str, i64); 3],
    spec_len: usize,
) {
    reply.map(3);
    reply.bulk(b"flags");
    write_names(reply, flags);
    reply.bulk(b"begin_search");
    reply.map(2);
    reply.bulk(b"type");
    reply.bulk(b"index");
    reply.bulk(b"spec");
    reply.map(1);
    reply.bulk(b"index");
    reply.integer(index);
    reply.bulk(b"find_keys");
    reply.map(2);
    reply.bulk(b"type");
    reply.bulk(find.as_bytes());
    reply.bulk(b"spec");
    reply.map(spec_len);
    for (name, value) in spec.iter().take(spec_len) {
        reply.bulk(name.as_bytes());
        reply.integer(*value);
    }
}

/// The flags of a command's key spec: `RO access` for readers, `RW update` for writers.
fn key_flags(command: &Command) -> &'static [&'static str] {
    if command.flags.contains(Flags::WRITE) { &["RW", "update"] } else { &["RO", "access"] }
}

fn write_key_specs(reply: &mut Encoder<'_>, command: &Command) {
    let access = key_flags(command);
    match command.keys {
        KeySpec::None => reply.set(0),
        KeySpec::Range { first, last, step } => {
            reply.set(1);
            let lastkey = if last < 0 { last as i64 } else { (last - first) as i64 };
            let spec = [("lastkey", lastkey), ("keystep", step as i64), ("limit", 0)];
            write_key_spec(reply, access, first as i64, "range", spec, 3);
        }
        KeySpec::NumKeys { numkeys, extra } => {
            reply.set(usize::from(extra > 0) + 1);
            let mut sources = access;
            if extra > 0 {
                let spec = [("lastkey", extra as i64 - 1), ("keystep", 1), ("limit", 0)];
                write_key_spec(reply, &["OW", "update"], 1, "range", spec, 3);
                sources = &["RO", "access"];
            }
            let spec = [("keynumidx", 0), ("firstkey", 1), ("keystep", 1)];
            write_key_spec(reply, sources, numkeys as i64, "keynum", spec, 3);
        }
    }
}

/// One COMMAND INFO entry: [name, arity, flags, first, last, step, categories, tips,
/// key specs, subcommands]; Redis 7.0 sends every list but the entry itself as a set.
fn write_info(reply: &mut Encoder<'_>, name: &str, command: &Command) {
    let flags: Vec<&str> = command.flags.names().collect();
    let (first, last, step) = command.key_range();
    reply.array(10);
    reply.bulk(name.as_bytes());
    reply.integer(command.arity as i64);
    write_names(reply, &flags);
    reply.integer(first as i64);
    reply.integer(last as i64);
    reply.integer(step as i64);
    write_names(reply, &acl_categories(command, name));
    reply.set(0);
    write_key_specs(reply, command);
    reply.set(command.subcommands.len());
    for &(sub, arity) in command.subcommands {
        write_subcommand_info(reply, &format!("{name}|{sub}"), arity, command);
    }
}

fn write_subcommand_info(reply: &mut Encoder<'_>, full_name: &str, arity: i32, parent: &Command) {
    let flags = subcommand_flags(full_name).unwrap_or(parent.flags);
    let names: Vec<&str> = flags.names().collect();
    reply.array(10);
    reply.bulk(full_name.as_bytes());
    reply.integer(arity as i64);
    write_names(reply, &names);
    reply.integer(0);
    reply.integer(0);
    reply.integer(0);
    write_names(reply, &acl_categories(parent, full_name));
    reply.set(0);
    reply.set(0);
    reply.set(0);
}

fn info<A: Access>(ctx: &mut Ctx<'_, A>, names: &[&[u8]]) {
    let shared = ctx.shared;
    if names.is_empty() {
        return command(ctx, &[b"command"]);
    }
    let mut reply = ctx.reply();
    reply.array(names.len());
    for name in names {
        match find(shared, name) {
            Some((full, command, None)) => write_info(&mut reply, &full, command),
            Some((full, command, Some(arity))) => {
                write_subcommand_info(&mut reply, &full, arity, command)
            }
            None => reply.null(),
        }
    }
}

fn write_docs(reply: &mut Encoder<'_>, command: &Command) {
    reply.map(2);
    reply.bulk(b"summary");
    reply.bulk(command.summary.trim_end_matches('.').as_bytes());
    reply.bulk(b"group");
    reply.bulk(command.group.as_bytes());
}

/// A map of name to {summary, group} (a flat array in RESP2); unknown names are skipped.
fn docs<A: Access>(ctx: &mut Ctx<'_, A>, names: &[&[u8]]) {
    let shared = ctx.shared;
    let found: Vec<(String, &Command)> = if names.is_empty() {
        visible(shared)
    } else {
        names
            .iter()
            .filter_map(|name| find(shared, name))
            .filter(|(_, _, sub)| sub.is_none())
            .map(|(name, command, _)| (name, command))
            .collect()
    };
    let mut reply = ctx.reply();
    reply.map(found.len());
    for (name, command) in found {
        reply.bulk(name.as_bytes());
        write_docs(&mut reply, command);
    }
}

/// COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern].
fn list<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    enum Filter {
        All,
        Module,
        Category(String),
        Pattern(Vec<u8>),
    }
    let filter = match args.len() {
        2 => Filter::All,
        5 if is(args[2], "filterby") => {
            if is(args[3], "module") {
                Filter::Module
            } else if is(args[3], "aclcat") {
                let category = String::from_utf8_lossy(args[4]).to_ascii_lowercase();
                Filter::Category(format!("@{category}"))
            } else if is(args[3], "pattern") {
                Filter::Pattern(args[4].to_ascii_lowercase())
            } else {
                return ctx.error(crate::engine::Error::Syntax);
            }
        }
        _ => return ctx.error(crate::engine::Error::Syntax),
    };
    let mut names: Vec<String> = Vec::new();
    for (name, command) in visible(ctx.shared) {
        let mut candidates = vec![name.clone()];
        candidates.extend(command.subcommands.iter().map(|(sub, _)| format!("{name}|{sub}")));
        for full in candidates {
            let keep = match &filter {
                Filter::All => true,
                Filter::Module => false,
                Filter::Category(category) => {
                    acl_categories(command, &full).contains(&category.as_str())
                }
                Filter::Pattern(pattern) => glob::matches(pattern, full.as_bytes()),
            };
            if keep {
                names.push(full);
            }
        }
    }
    let mut reply = ctx.reply();
    reply.array(names.len());
    for name in &names {
        reply.bulk(name.as_bytes());
    }
}

/// COMMAND GETKEYS / GETKEYSANDFLAGS command arg...: the keys the command would act on
/// (with their key-spec flags), checked in Redis's order.
fn getkeys<A: Access>(ctx: &mut Ctx<'_, A>, request: &[&[u8]], with_flags: bool) {
    let Some(command) = ctx.shared.commands.lookup(request[0]) else {
        return ctx.error_text("ERR Invalid command specified");
    };
    if command.keys == KeySpec::None {
        return ctx.error_text("ERR The command has no key arguments");
    }
    if !command.arity_ok(request.len()) {
        return ctx.error_text("ERR Invalid number of arguments specified for command");
    }
    let mut keys = Vec::new();
    command.keys_of(request, &mut keys);
    if keys.is_empty() {
        return ctx.error_text("ERR Invalid arguments specified for command");
    }
    let access = key_flags(command);
    let has_destination = matches!(command.keys, KeySpec::NumKeys { extra, .. } if extra > 0);
    let mut reply = ctx.reply();
    reply.array(keys.len());
    for (index, key) in keys.into_iter().enumerate() {
        if !with_flags {
            reply.bulk(key);
            continue;
        }
        reply.array(2);
        reply.bulk(key);
        let flags: &[&str] = match (has_destination, index) {
            (true, 0) => &["OW", "update"],
            (true, _) => &["RO", "access"],
            _ => access,
        };
        write_names(&mut reply, flags);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_follow_redis_rules() {
        assert_eq!(
            categories("get", "string", Flags::READONLY | Flags::FAST),
            ["@read", "@string", "@fast"]
        );
        assert_eq!(categories("config", "server", Flags::KEYSPACE), ["@slow"]);
        let admin = Flags::ADMIN | Flags::NOSCRIPT;
        assert_eq!(categories("config|get", "server", admin), ["@admin", "@slow", "@dangerous"]);
        assert_eq!(categories("command|info", "server", Flags::LOADING), ["@slow", "@connection"]);
    }
}
