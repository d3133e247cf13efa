//! Connection, transaction and publish/subscribe commands: PING, ECHO, HELLO, AUTH, SELECT,
//! QUIT, RESET, CLIENT, WAIT, MULTI/EXEC/DISCARD/WATCH/UNWATCH, (P)SUBSCRIBE, PUBLISH, PUBSUB.

use std::sync::atomic::Ordering;

use crate::commands::args::{self, is};
use crate::commands::{Command, Ctx, Flags, KeySpec, cmd};
use crate::engine::{Access, Error};
use crate::protocol::{Encoder, Protocol};
use crate::server::client::{ReplyMode, Watched};
use crate::server::dispatch::Runner;
use crate::server::pubsub::Subscriber;

const NONE: KeySpec = KeySpec::None;

pub(super) fn commands() -> Vec<Command> {
    let c = "connection";
    let t = "transactions";
    let p = "pubsub";
    let fast = Flags::FAST;
    let ctl = Flags::TXN_CONTROL;
    let sub = Flags::SUBSCRIBE_OK;
    let ks = Flags::KEYSPACE;
    let pubsub = Flags::PUBSUB | Flags::LOADING | Flags::STALE | sub | ks;
    vec![
        Command::new(
            "ping",
            -1,
            fast | sub,
            NONE,
            c,
            "Returns the server's liveliness response.",
            cmd!(ping),
        ),
        Command::new(
            "echo",
            2,
            fast | Flags::LOADING | Flags::STALE,
            NONE,
            c,
            "Returns the given string.",
            cmd!(echo),
        ),
        Command::new(
            "hello",
            -1,
            fast | Flags::NO_AUTH | Flags::SKIP_SLOWLOG | ks,
            NONE,
            c,
            "Handshakes with the server.",
            cmd!(hello),
        ),
        Command::new(
            "auth",
            -2,
            fast | Flags::NO_AUTH | Flags::SKIP_SLOWLOG | Flags::NOSCRIPT | ks,
            NONE,
            c,
            "Authenticates the connection.",
            cmd!(auth),
        ),
        Command::new(
            "select",
            2,
            fast | ks,
            NONE,
            c,
            "Changes the selected database.",
            cmd!(select),
        ),
        Command::new(
            "quit",
            -1,
            fast | Flags::NO_AUTH | ctl | sub | ks,
            NONE,
            c,
            "Closes the connection.",
            cmd!(quit),
        ),
        Command::new(
            "reset",
            1,
            fast | Flags::NO_AUTH | ctl | sub | ks,
            NONE,
            c,
            "Resets the connection.",
            cmd!(reset),
        ),
        Command::new(
            "client",
            -2,
            Flags::ADMIN | ks,
            NONE,
            c,
            "A container for client connection commands.",
            cmd!(client),
        )
        .with_subcommands(super::server_cmds::CLIENT_SUBCOMMANDS),
        Command::new(
            "wait",
            3,
            Flags::NOSCRIPT | ks,
            NONE,
            "generic",
            "Blocks until writes are acknowledged by replicas.",
            cmd!(wait),
        ),
        Command::new(
            "multi",
            1,
            fast | ctl | Flags::NOSCRIPT | ks,
            NONE,
            t,
            "Starts a transaction.",
            cmd!(multi),
        ),
        Command::new(
            "exec",
            1,
            ctl | Flags::NOSCRIPT | ks,
            NONE,
            t,
            "Executes all commands in a transaction.",
            cmd!(exec),
        ),
        Command::new(
            "discard",
            1,
            fast | ctl | Flags::NOSCRIPT | ks,
            NONE,
            t,
            "Discards a transaction.",
            cmd!(discard),
        ),
        Command::new(
            "watch",
            -2,
            fast | ctl | Flags::NOSCRIPT | ks,
            KeySpec::Range { first: 1, last: -1, step: 1 },
            t,
            "Monitors changes to keys to determine the execution of a transaction.",
            cmd!(watch),
        ),
        Command::new(
            "unwatch",
            1,
            fast | Flags::NOSCRIPT | ks,
            NONE,
            t,
            "Forgets about watched keys of a transaction.",
            cmd!(unwatch),
        ),
        Command::new(
            "subscribe",
            -2,
            pubsub | Flags::NOSCRIPT,
            NONE,
            p,
            "Listens for messages published to channels.",
            cmd!(subscribe),
        ),
        Command::new(
            "unsubscribe",
            -1,
            pubsub | Flags::NOSCRIPT,
            NONE,
            p,
            "Stops listening to messages posted to channels.",
            cmd!(unsubscribe),
        ),
        Command::new(
            "psubscribe",
            -2,
            pubsub | Flags::NOSCRIPT,
            NONE,
            p,
            "Listens for messages published to channels that match one or more patterns.",
            cmd!(psubscribe),
        ),
        Command::new(
            "punsubscribe",
            -1,
            pubsub | Flags::NOSCRIPT,
            NONE,
            p,
            "Stops listening to messages published to channels that match one or more patterns.",
            cmd!(punsubscribe),
        ),
        Command::new(
            "publish",
            3,
            Flags::PUBSUB | Flags::LOADING | Flags::STALE | fast | ks,
            NONE,
            p,
            "Posts a message to a channel.",
            cmd!(publish),
        ),
        Command::new(
            "pubsub",
            -2,
            ks,
            NONE,
            p,
            "A container for Pub/Sub commands.",
            cmd!(pubsub_command),
        )
        .with_subcommands(&[("channels", -2), ("numsub", -2), ("numpat", 2), ("help", 2)]),
    ]
}

fn ping<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    if args.len() > 2 {
        return ctx.error_text(args::wrong_arity("ping"));
    }
    let in_subscribe = ctx.client.in_subscribe_mode();
    let mut reply = ctx.reply();
    if in_subscribe {
        reply.array(2);
        reply.bulk(b"pong");
        reply.bulk(args.get(1).copied().unwrap_or_default());
    } else if let Some(message) = args.get(1) {
        reply.bulk(message);
    } else {
        reply.raw(crate::protocol::PONG);
    }
}

fn echo<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    ctx.reply().bulk(args[1]);
}

/// Checks `user`/`pass` against the ACL (SHA-256 digests compared in constant time; a `nopass`
/// user takes any password); Redis's error text on failure, which also goes to the ACL LOG.
fn authenticate<A: Access>(
    ctx: &mut Ctx<'_, A>,
    user: &[u8],
    pass: &[u8],
) -> Result<(), &'static str> {
    match ctx.shared.acl.user(user) {
        Some(found) if found.authenticates(pass) => {
            ctx.client.set_user(found, true);
            Ok(())
        }
        _ => {
            // The name is logged, never the password.
            tracing::info!(client = ctx.client.id, "authentication failed");
            let info = crate::commands::client_info_line(ctx.shared, &ctx.client.info, "auth");
            ctx.shared.acl.log_auth_failure(user, info);
            Err("WRONGPASS invalid username-password pair or user is disabled.")
        }
    }
}

fn auth<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let (user, pass) = match args.len() {
        2 => (&b"default"[..], args[1]),
        3 => (args[1], args[2]),
        _ => return ctx.error(Error::Syntax),
    };
    if args.len() == 2 && ctx.shared.acl.default_user().needs_no_password() {
        return ctx.error_text(
            "ERR AUTH <password> called without any password configured for the default user. \
             Are you sure your configuration is correct?",
        );
    }
    match authenticate(ctx, user, pass) {
        Ok(()) => ctx.reply().ok(),
        Err(text) => ctx.error_text(text),
    }
}

fn hello<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let mut protocol = ctx.client.protocol;
    if let Some(version) = args.get(1) {
        match crate::engine::num::parse_i64(version) {
            None => {
                return ctx.error_text("ERR Protocol version is not an integer or out of range");
            }
            Some(2) => protocol = Protocol::Resp2,
            Some(3) => protocol = Protocol::Resp3,
            Some(_) => return ctx.error_text("NOPROTO unsupported protocol version"),
        }
    }
    let mut name = None;
    let mut index = 2;
    while index < args.len() {
        let more = args.len() - index - 1;
        if is(args[index], "auth") && more >= 2 {
            if let Err(text) = authenticate(ctx, args[index + 1], args[index + 2]) {
                return ctx.error_text(text);
            }
            index += 3;
        } else if is(args[index], "setname") && more >= 1 {
            if let Err(text) = check_client_name(args[index + 1]) {
                return ctx.error_text(text);
            }
            name = Some(args[index + 1]);
            index += 2;
        } else {
            let mut text = b"ERR Syntax error in HELLO option '".to_vec();
            text.extend_from_slice(args[index]);
            text.push(b'\'');
            return ctx.error_text(text);
        }
    }
    if !ctx.client.authenticated {
        return ctx.error_text(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the \
             HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and \
             select the RESP protocol version at the same time",
        );
    }
    if let Some(name) = name {
        *ctx.client.info.name.lock() = (!name.is_empty()).then(|| name.to_vec());
    }
    ctx.client.protocol = protocol;
    // Relaxed: informational (CLIENT LIST).
    ctx.client.info.resp.store(if protocol == Protocol::Resp3 { 3 } else { 2 }, Ordering::Relaxed);
    let id = ctx.client.id;
    let mut reply = ctx.reply();
    reply.map(7);
    reply.bulk(b"server");
    reply.bulk(b"redis");
    reply.bulk(b"version");
    reply.bulk(crate::server::REDIS_COMPAT_VERSION.as_bytes());
    reply.bulk(b"proto");
    reply.integer(if protocol == Protocol::Resp3 { 3 } else { 2 });
    reply.bulk(b"id");
    reply.integer(id as i64);
    reply.bulk(b"mode");
    reply.bulk(b"standalone");
    reply.bulk(b"role");
    reply.bulk(b"master");
    reply.bulk(b"modules");
    reply.array(0);
}

fn select<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let index = match args::int(args[1]) {
        Ok(index) if index >= i32::MIN as i64 && index <= i32::MAX as i64 => index,
        Ok(_) => {
            return ctx.error_text(
                "ERR value is out of range, value must between -2147483648 and 2147483647",
            );
        }
        Err(error) => return ctx.error(error),
    };
    if index < 0 || index as usize >= ctx.shared.engine.databases() {
        return ctx.error(Error::DbIndexOutOfRange);
    }
    ctx.client.db = index as usize;
    // Relaxed: informational.
    ctx.client.info.db.store(index as usize, Ordering::Relaxed);
    ctx.reply().ok();
}

fn quit<A: Access>(ctx: &mut Ctx<'_, A>, _args: &[&[u8]]) {
    ctx.client.close_after_reply = true;
    ctx.reply().ok();
}

fn unsubscribe_all<A: Access>(ctx: &mut Ctx<'_, A>) {
    let id = ctx.client.id;
    for channel in ctx.client.channels.drain() {
        ctx.shared.pubsub.unsubscribe(&channel, id);
    }
    for pattern in ctx.client.patterns.drain() {
        ctx.shared.pubsub.punsubscribe(&pattern, id);
    }
    ctx.client.info.sub.store(0, Ordering::Relaxed);
    ctx.client.info.psub.store(0, Ordering::Relaxed);
}

fn reset<A: Access>(ctx: &mut Ctx<'_, A>, _args: &[&[u8]]) {
    ctx.client.multi = None;
    ctx.client.watched.clear();
    unsubscribe_all(ctx);
    ctx.client.db = 0;
    ctx.client.protocol = Protocol::Resp2;
    ctx.client.reply_mode = ReplyMode::On;
    let default = ctx.shared.acl.default_user();
    let authenticated = default.needs_no_password();
    ctx.client.set_user(default, authenticated);
    *ctx.client.info.name.lock() = None;
    ctx.client.info.no_evict.store(false, Ordering::Relaxed);
    ctx.client.info.db.store(0, Ordering::Relaxed);
    ctx.client.info.resp.store(2, Ordering::Relaxed);
    ctx.client.info.multi.store(0, Ordering::Relaxed);
    ctx.reply().simple(b"RESET");
}

fn wait<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    // No replicas: nothing to wait for. The arguments are still checked as Redis does.
    if let Err(error) = args::int(args[1]) {
        return ctx.error(error);
    }
    match args::int(args[2]) {
        Ok(timeout) if timeout < 0 => ctx.error_text("ERR timeout is negative"),
        Ok(_) => ctx.reply().integer(0),
        Err(_) => ctx.error_text("ERR timeout is not an integer or out of range"),
    }
}

fn runner<'a, A: Access>(ctx: &Ctx<'a, A>) -> Runner<'a> {
    let slowlog_us = ctx.shared.config.read().slowlog_log_slower_than_us;
    Runner { shared: ctx.shared, stats: ctx.stats, slowlog_us, log: ctx.log }
}

fn multi<A: Access>(ctx: &mut Ctx<'_, A>, _args: &[&[u8]]) {
    if ctx.client.multi.is_some() {
        // Redis refuses the nested MULTI without aborting the transaction.
        return ctx.error_text("ERR MULTI calls can not be nested");
    }
    runner(ctx).multi(ctx.client, ctx.out);
}

fn exec<A: Access>(ctx: &mut Ctx<'_, A>, _args: &[&[u8]]) {
    if ctx.client.multi.is_none() {
        return ctx.error_text("ERR EXEC without MULTI");
    }
    runner(ctx).exec(ctx.client, ctx.out);
}

fn discard<A: Access>(ctx: &mut Ctx<'_, A>, _args: &[&[u8]]) {
    if ctx.client.multi.take().is_none() {
        return ctx.error_text("ERR DISCARD without MULTI");
    }
    ctx.client.watched.clear();
    ctx.client.info.multi.store(0, Ordering::Relaxed);
    ctx.reply().ok();
}

fn watch<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    if ctx.client.multi.is_some() {
        return ctx.error_text("ERR WATCH inside MULTI is not allowed");
    }
    let db_index = ctx.client.db;
    for key in &args[1..] {
        if ctx.client.watched.iter().any(|w| w.db == db_index && w.key == *key) {
            continue;
        }
        let version = ctx.db().watch_version(key);
        ctx.client.watched.push(Watched { db: db_index, key: key.to_vec(), version });
    }
    ctx.reply().ok();
}

fn unwatch<A: Access>(ctx: &mut Ctx<'_, A>, _args: &[&[u8]]) {
    ctx.client.watched.clear();
    ctx.reply().ok();
}

/// Writes a (un)subscribe confirmation: `[kind, name, count]`, a push in RESP3.
fn confirm(reply: &mut Encoder<'_>, kind: &[u8], name: Option<&[u8]>, count: usize) {
    match reply.protocol() {
        Protocol::Resp2 => reply.array(3),
        Protocol::Resp3 => reply.push(3),
    }
    reply.bulk(kind);
    reply.bulk_or_null(name);
    reply.integer(count as i64);
}

fn subscribe_generic<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]], pattern: bool) {
    let subscriber = Subscriber { client: ctx.client.id, worker: ctx.client.info.worker };
    for name in &args[1..] {
        let set = if pattern { &mut ctx.client.patterns } else { &mut ctx.client.channels };
        if set.insert(name.to_vec()) {
            if pattern {
                ctx.shared.pubsub.psubscribe(name, subscriber);
            } else {
                ctx.shared.pubsub.subscribe(name, subscriber);
            }
        }
        let count = ctx.client.subscriptions();
        let kind: &[u8] = if pattern { b"psubscribe" } else { b"subscribe" };
        confirm(&mut ctx.reply(), kind, Some(name), count);
    }
    update_subscription_counts(ctx);
}

fn update_subscription_counts<A: Access>(ctx: &mut Ctx<'_, A>) {
    // Relaxed: informational (CLIENT LIST, INFO).
    ctx.client.info.sub.store(ctx.client.channels.len(), Ordering::Relaxed);
    ctx.client.info.psub.store(ctx.client.patterns.len(), Ordering::Relaxed);
}

fn unsubscribe_generic<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]], pattern: bool) {
    let id = ctx.client.id;
    let kind: &[u8] = if pattern { b"punsubscribe" } else { b"unsubscribe" };
    let names: Vec<Vec<u8>> = if args.len() > 1 {
        args[1..].iter().map(|a| a.to_vec()).collect()
    } else if pattern {
        ctx.client.patterns.iter().cloned().collect()
    } else {
        ctx.client.channels.iter().cloned().collect()
    };
    if names.is_empty() {
        let count = ctx.client.subscriptions();
        confirm(&mut ctx.reply(), kind, None, count);
        return;
    }
    for name in names {
        let set = if pattern { &mut ctx.client.patterns } else { &mut ctx.client.channels };
        if set.remove(&name) {
            if pattern {
                ctx.shared.pubsub.punsubscribe(&name, id);
            } else {
                ctx.shared.pubsub.unsubscribe(&name, id);
            }
        }
        let count = ctx.client.subscriptions();
        confirm(&mut ctx.reply(), kind, Some(&name), count);
    }
    update_subscription_counts(ctx);
}

fn subscribe<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    subscribe_generic(ctx, args, false);
}

fn psubscribe<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    subscribe_generic(ctx, args, true);
}

fn unsubscribe<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    unsubscribe_generic(ctx, args, false);
}

fn punsubscribe<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    unsubscribe_generic(ctx, args, true);
}

fn publish<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let receivers = ctx.shared.pubsub.publish(&ctx.shared.inboxes, args[1], args[2]);
    ctx.reply().integer(receivers as i64);
}

fn pubsub_command<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let sub = args[1];
    if is(sub, "channels") && args.len() <= 3 {
        let channels = ctx.shared.pubsub.channels(args.get(2).copied());
        let mut reply = ctx.reply();
        reply.array(channels.len());
        for channel in &channels {
            reply.bulk(channel);
        }
    } else if is(sub, "numsub") {
        let counts: Vec<usize> = args[2..].iter().map(|c| ctx.shared.pubsub.numsub(c)).collect();
        let mut reply = ctx.reply();
        reply.map(counts.len());
        for (channel, count) in args[2..].iter().zip(counts) {
            reply.bulk(channel);
            reply.integer(count as i64);
        }
    } else if is(sub, "numpat") && args.len() == 2 {
        let count = ctx.shared.pubsub.numpat();
        ctx.reply().integer(count as i64);
    } else if is(sub, "help") && args.len() == 2 {
        super::server_cmds::help(ctx, "PUBSUB", PUBSUB_HELP);
    } else if ["channels", "numpat", "help"].iter().any(|name| is(sub, name)) {
        let name = format!("pubsub|{}", String::from_utf8_lossy(sub).to_ascii_lowercase());
        ctx.error_text(args::wrong_arity(&name));
    } else {
        ctx.error_text(args::unknown_subcommand("pubsub", sub));
    }
}

const PUBSUB_HELP: &[&str] = &[
    "CHANNELS [<pattern>]",
    "    Return the currently active channels matching a <pattern> (default: '*').",
    "NUMPAT",
    "    Return number of subscriptions to patterns.",
    "NUMSUB [<channel> ...]",
    "    Return the number of subscribers for the specified channels, excluding",
    "    pattern subscriptions(default: no channels).",
];

/// `CLIENT SETNAME`'s rule: no spaces, newlines or other special characters.
pub(super) fn check_client_name(name: &[u8]) -> Result<(), &'static str> {
    if name.iter().any(|&b| !(b'!'..=b'~').contains(&b)) {
        Err("ERR Client names cannot contain spaces, newlines or special characters.")
    } else {
        Ok(())
    }
}

fn client<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    crate::commands::server_cmds::client_command(ctx, args);
}
