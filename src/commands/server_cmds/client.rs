//! CLIENT ID / SETNAME / GETNAME / LIST / INFO / KILL / NO-EVICT / REPLY / HELP.
//!
//! Other connections are seen through their [`ClientInfo`] in `shared.clients`; CLIENT KILL
//! flags the victim and sends its worker [`Message::Kill`], so the owner closes it.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::commands::Ctx;
use crate::commands::args::{self, is};
use crate::commands::connection::check_client_name;
use crate::engine::{Access, Error, num};
use crate::server::client::{ClientInfo, ReplyMode};
use crate::server::{Message, Shared};

use super::{Subcommands, help, subcommand};

/// CLIENT's subcommands and their arities (the table entry in `connection.rs` lists them too).
pub(in crate::commands) const CLIENT_SUBCOMMANDS: Subcommands = &[
    ("id", 2),
    ("setname", 3),
    ("getname", 2),
    ("list", -2),
    ("kill", -3),
    ("info", 2),
    ("no-evict", 3),
    ("reply", 3),
    ("help", 2),
];

const CLIENT_HELP: &[&str] = &[
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
];

/// CLIENT's handler (registered by the connection family).
pub(in crate::commands) fn client_command<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let Some(sub) = subcommand(ctx, "client", CLIENT_SUBCOMMANDS, args) else { return };
    match sub {
        "id" => {
            let id = ctx.client.id;
            ctx.reply().integer(id as i64);
        }
        "setname" => {
            if let Err(text) = check_client_name(args[2]) {
                return ctx.error_text(text);
            }
            *ctx.client.info.name.lock() = (!args[2].is_empty()).then(|| args[2].to_vec());
            ctx.reply().ok();
        }
        "getname" => {
            let name = ctx.client.info.name.lock().clone();
            ctx.reply().bulk_or_null(name.as_deref());
        }
        "list" => list(ctx, args),
        "info" => {
            let mut line = String::new();
            describe_client(ctx.shared, &ctx.client.info, Some("client|info"), &mut line);
            ctx.reply().verbatim(*b"txt", line.as_bytes());
        }
        "kill" => kill(ctx, args),
        "no-evict" => match on_off(args[2]) {
            Some(on) => {
                // Relaxed: informational (CLIENT LIST's `e` flag).
                ctx.client.info.no_evict.store(on, Ordering::Relaxed);
                ctx.reply().ok();
            }
            None => ctx.error(Error::Syntax),
        },
        "reply" => {
            // OFF and SKIP reply nothing: dispatch drops this command's reply in those modes.
            if is(args[2], "on") {
                ctx.client.reply_mode = ReplyMode::On;
                ctx.reply().ok();
            } else if is(args[2], "off") {
                ctx.client.reply_mode = ReplyMode::Off;
            } else if is(args[2], "skip") {
                if ctx.client.reply_mode != ReplyMode::Off {
                    ctx.client.reply_mode = ReplyMode::Skip;
                }
            } else {
                ctx.error(Error::Syntax);
            }
        }
        _ => help(ctx, "CLIENT", CLIENT_HELP),
    }
}

fn on_off(arg: &[u8]) -> Option<bool> {
    if is(arg, "on") {
        Some(true)
    } else if is(arg, "off") {
        Some(false)
    } else {
        None
    }
}

/// Client types for LIST TYPE and KILL TYPE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClientType {
    Normal,
    Replica,
    PubSub,
    Master,
}

fn client_type(name: &[u8]) -> Option<ClientType> {
    if is(name, "normal") {
        Some(ClientType::Normal)
    } else if is(name, "slave") || is(name, "replica") {
        Some(ClientType::Replica)
    } else if is(name, "pubsub") {
        Some(ClientType::PubSub)
    } else if is(name, "master") {
        Some(ClientType::Master)
    } else {
        None
    }
}

fn unknown_type(name: &[u8]) -> Vec<u8> {
    let mut text = b"ERR Unknown client type '".to_vec();
    text.extend_from_slice(name);
    text.push(b'\'');
    args::one_line(text)
}

fn type_of(info: &ClientInfo) -> ClientType {
    // Relaxed: informational.
    if info.sub.load(Ordering::Relaxed) + info.psub.load(Ordering::Relaxed) > 0 {
        ClientType::PubSub
    } else {
        ClientType::Normal
    }
}

pub(crate) fn all_clients(shared: &Shared) -> Vec<Arc<ClientInfo>> {
    shared.clients.lock().values().cloned().collect()
}

/// CLIENT LIST [TYPE type | ID id ...]: one line per client, each ending in a newline.
fn list<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let mut kind = None;
    let mut ids: Option<Vec<u64>> = None;
    if args.len() == 4 && is(args[2], "type") {
        match client_type(args[3]) {
            Some(found) => kind = Some(found),
            None => return ctx.error_text(unknown_type(args[3])),
        }
    } else if args.len() >= 3 && is(args[2], "id") {
        let mut wanted = Vec::new();
        for arg in &args[3..] {
            match num::parse_i64(arg) {
                // Redis takes any integer; ids below 1 match no client.
                Some(id) => wanted.push(u64::try_from(id).unwrap_or(0)),
                None => return ctx.error_text("ERR Invalid client ID"),
            }
        }
        ids = Some(wanted);
    } else if args.len() != 2 {
        return ctx.error(Error::Syntax);
    }
    let own_id = ctx.client.id;
    let mut text = String::new();
    for info in all_clients(ctx.shared) {
        if kind.is_some_and(|kind| type_of(&info) != kind) {
            continue;
        }
        if ids.as_ref().is_some_and(|ids| !ids.contains(&info.id)) {
            continue;
        }
        let running = (info.id == own_id).then_some("client|list");
        describe_client(ctx.shared, &info, running, &mut text);
    }
    ctx.reply().verbatim(*b"txt", text.as_bytes());
}

/// The CLIENT LIST line of `info` as one string without its newline (ACL LOG's client-info).
pub(crate) fn client_info_line(shared: &Shared, info: &ClientInfo, running: &str) -> String {
    let mut line = String::new();
    describe_client(shared, info, Some(running), &mut line);
    line.truncate(line.trim_end().len());
    line
}

/// Appends one CLIENT LIST line (Redis 7.0's fields and order). `running` names the command
/// the client is executing (the caller's own CLIENT LIST / INFO), else its last command.
fn describe_client(shared: &Shared, info: &ClientInfo, running: Option<&str>, out: &mut String) {
    // Relaxed throughout: informational figures.
    let load = |value: &std::sync::atomic::AtomicUsize| value.load(Ordering::Relaxed);
    let (sub, psub) = (load(&info.sub), load(&info.psub));
    let mut flags = String::new();
    if sub + psub > 0 {
        flags.push('P');
    }
    let multi = load(&info.multi);
    if multi > 0 {
        flags.push('x');
    }
    if info.blocked.load(Ordering::Relaxed) {
        flags.push('b');
    }
    if info.no_evict.load(Ordering::Relaxed) {
        flags.push('e');
    }
    if flags.is_empty() {
        flags.push('N');
    }
    let name = info.name.lock().clone().unwrap_or_default();
    let name = String::from_utf8_lossy(&name);
    let command = match running {
        Some(running) => running.to_string(),
        None => {
            let id = load(&info.last_command);
            shared
                .commands
                .all()
                .get(id)
                .and_then(|command| shared.commands.visible_name(command))
                .map_or_else(|| "NULL".to_string(), |n| String::from_utf8_lossy(n).into_owned())
        }
    };
    let (qbuf, obuf) = (load(&info.qbuf), load(&info.obuf));
    let multi = if multi == 0 { -1 } else { multi as i64 - 1 };
    let events = if obuf > 0 { "rw" } else { "r" };
    let _ = writeln!(
        out,
        "id={} addr={} laddr={} fd={} name={name} age={} idle={} flags={flags} db={} sub={sub} \
         psub={psub} ssub=0 multi={multi} qbuf={qbuf} qbuf-free=0 argv-mem=0 multi-mem=0 \
         rbs=0 rbp=0 obl={obuf} oll=0 omem={obuf} tot-mem={} events={events} cmd={command} \
         user={} redir=-1 resp={}",
        info.id,
        info.addr,
        info.laddr,
        info.fd,
        info.created.elapsed().as_secs(),
        info.idle_seconds(),
        load(&info.db),
        qbuf + obuf,
        info.user.lock(),
        info.resp.load(Ordering::Relaxed),
    );
}

/// CLIENT KILL ip:port (OK or an error), or CLIENT KILL <filter> <value> ... (a count).
fn kill<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    if args.len() == 3 {
        let addr = args[2];
        let victim =
            all_clients(ctx.shared).into_iter().find(|c| c.addr.to_string().as_bytes() == addr);
        match victim {
            Some(victim) => {
                close_client(ctx, &victim);
                ctx.reply().ok();
            }
            None => ctx.error_text("ERR No such client"),
        }
        return;
    }
    let mut id = None;
    let mut kind = None;
    let mut addr: Option<&[u8]> = None;
    let mut laddr: Option<&[u8]> = None;
    let mut user: Option<&[u8]> = None;
    let mut skip_me = true;
    // Options are checked in order, so a bad value reports before a later dangling option.
    let mut index = 2;
    while index < args.len() {
        let option = args[index];
        let Some(&value) = args.get(index + 1) else {
            return ctx.error(Error::Syntax);
        };
        index += 2;
        if is(option, "id") {
            match num::parse_i64(value) {
                Some(parsed) if parsed > 0 => id = Some(parsed as u64),
                _ => return ctx.error_text("ERR client-id should be greater than 0"),
            }
        } else if is(option, "type") {
            match client_type(value) {
                Some(found) => kind = Some(found),
                None => return ctx.error_text(unknown_type(value)),
            }
        } else if is(option, "addr") {
            addr = Some(value);
        } else if is(option, "laddr") {
            laddr = Some(value);
        } else if is(option, "user") {
            if ctx.shared.acl.user(value).is_none() {
                let mut text = b"ERR No such user '".to_vec();
                text.extend_from_slice(value);
                text.push(b'\'');
                return ctx.error_text(args::one_line(text));
            }
            user = Some(value);
        } else if is(option, "skipme") {
            match value {
                v if is(v, "yes") => skip_me = true,
                v if is(v, "no") => skip_me = false,
                _ => return ctx.error(Error::Syntax),
            }
        } else {
            return ctx.error(Error::Syntax);
        }
    }
    let own_id = ctx.client.id;
    let mut killed = 0;
    for info in all_clients(ctx.shared) {
        let matches = id.is_none_or(|id| info.id == id)
            && kind.is_none_or(|kind| type_of(&info) == kind)
            && addr.is_none_or(|addr| info.addr.to_string().as_bytes() == addr)
            && laddr.is_none_or(|laddr| info.laddr.to_string().as_bytes() == laddr)
            && user.is_none_or(|user| info.user.lock().as_bytes() == user)
            && !(skip_me && info.id == own_id);
        if matches {
            close_client(ctx, &info);
            killed += 1;
        }
    }
    ctx.reply().integer(killed);
}

/// Closes a connection: the caller's own after this reply; another through its worker.
pub(crate) fn close_client<A: Access>(ctx: &mut Ctx<'_, A>, victim: &ClientInfo) {
    if victim.id == ctx.client.id {
        ctx.client.close_after_reply = true;
        return;
    }
    // Relaxed: the Kill message is what closes promptly; the flag is the worker's periodic
    // sweep's backstop should the message race the connection's adoption.
    victim.killed.store(true, Ordering::Relaxed);
    if let Some(inbox) = ctx.shared.inboxes.get(victim.worker) {
        inbox.send(Message::Kill(victim.id));
    }
}
