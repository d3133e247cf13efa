//! ACL: users and their permissions (`server::acl` holds the model), in Redis 7.0's replies.

use rand::Rng;

use super::{Subcommands, help, subcommand};
use crate::commands::Ctx;
use crate::engine::{Access, num};
use crate::server::acl::{CATEGORIES, Denied, Slots};

pub(in crate::commands) const ACL_SUBCOMMANDS: Subcommands = &[
    ("cat", -2),
    ("deluser", -3),
    ("dryrun", -4),
    ("genpass", -2),
    ("getuser", 3),
    ("list", 2),
    ("load", 2),
    ("log", -2),
    ("save", 2),
    ("setuser", -3),
    ("users", 2),
    ("whoami", 2),
    ("help", 2),
];

const HELP: &[&str] = &[
    "CAT [<category>]",
    "    List all commands that belong to <category>, or all command categories",
    "    when no category is specified.",
    "DELUSER <username> [<username> ...]",
    "    Delete a list of users.",
    "DRYRUN <username> <command> [<arg> ...]",
    "    Returns whether the user can execute the given command without executing the command.",
    "GETUSER <username>",
    "    Get the user's details.",
    "GENPASS [<bits>]",
    "    Generate a secure 256-bit user password. The optional `bits` argument can",
    "    be used to specify a different size.",
    "LIST",
    "    Show users details in config file format.",
    "LOAD",
    "    Reload users from the ACL file.",
    "LOG [<count> | RESET]",
    "    Show the ACL log entries.",
    "SAVE",
    "    Save the current config to the ACL file.",
    "SETUSER <username> <attribute> [<attribute> ...]",
    "    Create or modify a user with the specified attributes.",
    "USERS",
    "    List all the registered usernames.",
    "WHOAMI",
    "    Return the current connection username.",
];

const NO_ACL_FILE: &str = "ERR This Redis instance is not configured to use an ACL file. You \
    may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE \
    (assuming you have a Redis configuration file set) in order to store users in the Redis \
    configuration.";

/// The most bits ACL GENPASS gives.
const GENPASS_MAX_BITS: i64 = 4096;

pub(super) fn acl<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let Some(name) = subcommand(ctx, "acl", ACL_SUBCOMMANDS, args) else { return };
    match name {
        "cat" => cat(ctx, args),
        "deluser" => deluser(ctx, args),
        "dryrun" => dryrun(ctx, args),
        "genpass" => genpass(ctx, args),
        "getuser" => getuser(ctx, args[2]),
        "list" => list(ctx),
        "load" | "save" => ctx.error_text(NO_ACL_FILE),
        "log" => log(ctx, args),
        "setuser" => setuser(ctx, args),
        "users" => {
            let users = ctx.shared.acl.users();
            let mut reply = ctx.reply();
            reply.array(users.len());
            for user in users {
                reply.bulk(user.name.as_bytes());
            }
        }
        "whoami" => {
            let name = ctx.client.user.as_ref().map_or("default", |user| user.name.as_str());
            let name = name.to_owned();
            ctx.reply().bulk(name.as_bytes());
        }
        _ => help(ctx, "ACL", HELP),
    }
}

fn cat<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let slots = ctx.shared.acl.slots();
    match args.get(2) {
        None => {
            let mut reply = ctx.reply();
            reply.array(CATEGORIES.len());
            for category in CATEGORIES {
                reply.bulk(category.as_bytes());
            }
        }
        Some(category) => {
            let category = String::from_utf8_lossy(category).to_ascii_lowercase();
            if !Slots::is_category(&category) {
                let text = format!("ERR Unknown category '{category}'");
                return ctx.error_text(crate::commands::args::one_line(text.into_bytes()));
            }
            let names: Vec<String> =
                slots.in_category(&category).map(|slot| slots.name(slot).to_owned()).collect();
            let mut reply = ctx.reply();
            reply.array(names.len());
            for name in names {
                reply.bulk(name.as_bytes());
            }
        }
    }
}

fn setuser<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let name = args[2];
    if name.iter().any(|&b| b == b' ' || b == 0) {
        return ctx.error_text("ERR Usernames can't contain spaces or null characters");
    }
    let Ok(name) = std::str::from_utf8(name) else {
        return ctx.error_text("ERR Usernames must be valid UTF-8 in corekv");
    };
    match ctx.shared.acl.set_user(name, &args[3..]) {
        Ok(()) => ctx.reply().ok(),
        Err(text) => ctx.error_text(text),
    }
}

fn deluser<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let removed = match ctx.shared.acl.delete_users(&args[2..]) {
        Ok(removed) => removed,
        Err(text) => return ctx.error_text(text),
    };
    // As Redis: connections authenticated as a deleted user are closed.
    for info in super::all_clients(ctx.shared) {
        let user = info.user.lock().clone();
        if removed.iter().any(|removed| *removed.name == *user) {
            super::close_client(ctx, &info);
        }
    }
    ctx.reply().integer(removed.len() as i64);
}

fn getuser<A: Access>(ctx: &mut Ctx<'_, A>, name: &[u8]) {
    let Some(user) = ctx.shared.acl.user(name) else {
        return ctx.reply().null();
    };
    let rules = user.rules();
    let commands = rules.describe_commands(ctx.shared.acl.slots());
    let mut reply = ctx.reply();
    reply.map(6);
    reply.bulk(b"flags");
    let flags = rules.flags();
    reply.array(flags.len());
    for flag in flags {
        reply.bulk(flag.as_bytes());
    }
    reply.bulk(b"passwords");
    reply.array(rules.passwords.len());
    for password in &rules.passwords {
        reply.bulk(crate::server::acl::hex(password).as_bytes());
    }
    reply.bulk(b"commands");
    reply.bulk(commands.as_bytes());
    reply.bulk(b"keys");
    reply.bulk(&rules.describe_keys());
    reply.bulk(b"channels");
    reply.bulk(&rules.describe_channels());
    reply.bulk(b"selectors");
    reply.array(0);
}

fn list<A: Access>(ctx: &mut Ctx<'_, A>) {
    let acl = &ctx.shared.acl;
    let lines: Vec<Vec<u8>> = acl
        .users()
        .iter()
        .map(|user| {
            let mut line = format!("user {} ", user.name).into_bytes();
            line.extend_from_slice(&user.rules().describe(acl.slots()));
            line
        })
        .collect();
    let mut reply = ctx.reply();
    reply.array(lines.len());
    for line in lines {
        reply.bulk(&line);
    }
}

fn dryrun<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let Some(user) = ctx.shared.acl.user(args[2]) else {
        let text = format!("ERR User '{}' not found", String::from_utf8_lossy(args[2]));
        return ctx.error_text(crate::commands::args::one_line(text.into_bytes()));
    };
    let request = &args[3..];
    let Some(command) = ctx.shared.commands.lookup(request[0]) else {
        let text = format!("ERR Command '{}' not found", String::from_utf8_lossy(request[0]));
        return ctx.error_text(crate::commands::args::one_line(text.into_bytes()));
    };
    if !command.arity_ok(request.len()) {
        return ctx.error_text(crate::commands::args::wrong_arity(command.name));
    }
    match ctx.shared.acl.dry_run(&user, command, request) {
        Ok(()) => ctx.reply().ok(),
        Err(denied) => ctx.reply().bulk(&Denied::dry_run_text(&denied)),
    }
}

fn genpass<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let bits = match args.get(2) {
        None => 256,
        Some(arg) => match num::parse_i64(arg) {
            Some(bits) if bits > 0 && bits <= GENPASS_MAX_BITS => bits,
            _ => {
                return ctx.error_text(
                    "ERR ACL GENPASS argument must be the number of bits for the output \
                     password, a positive number up to 4096",
                );
            }
        },
    };
    let chars = (bits as usize).div_ceil(4);
    // ThreadRng is a CSPRNG seeded from the operating system, fit for passwords.
    let mut rng = rand::rng();
    let password: String =
        (0..chars).map(|_| char::from(b"0123456789abcdef"[rng.random_range(0..16)])).collect();
    ctx.reply().bulk(password.as_bytes());
}

fn log<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let count = match args.get(2) {
        None => 10,
        Some(arg) if crate::commands::args::is(arg, "reset") => {
            ctx.shared.acl.reset_log();
            return ctx.reply().ok();
        }
        Some(arg) => match num::parse_i64(arg) {
            Some(count) if count >= 0 => count as usize,
            Some(_) => return ctx.error_text("ERR value is out of range, must be positive"),
            None => return ctx.error_text("ERR value is not an integer or out of range"),
        },
    };
    if args.len() > 3 {
        return ctx.error(crate::engine::Error::Syntax);
    }
    let entries = ctx.shared.acl.log(count);
    let mut reply = ctx.reply();
    reply.array(entries.len());
    for entry in entries {
        reply.map(7);
        reply.bulk(b"count");
        reply.integer(entry.count as i64);
        reply.bulk(b"reason");
        reply.bulk(entry.reason.as_bytes());
        reply.bulk(b"context");
        reply.bulk(entry.context.as_bytes());
        reply.bulk(b"object");
        reply.bulk(&entry.object);
        reply.bulk(b"username");
        reply.bulk(&entry.username);
        reply.bulk(b"age-seconds");
        reply.double(format!("{:.3}", entry.created.elapsed().as_secs_f64()).as_bytes());
        reply.bulk(b"client-info");
        reply.bulk(entry.client_info.as_bytes());
    }
}
