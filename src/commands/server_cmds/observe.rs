//! SLOWLOG, LATENCY, SHUTDOWN and DEBUG SLEEP.
//!
//! LATENCY has no event monitor behind it (corekv records no latency events), so LATEST and
//! HISTORY are empty and DOCTOR says monitoring is off, as Redis does with
//! `latency-monitor-threshold 0`; HISTOGRAM reads the per-command histograms.

use std::time::Duration;

use crate::commands::args::is;
use crate::commands::{Ctx, args};
use crate::engine::{Access, Error, num};
use crate::server::stats::Histogram;

use super::info::command_latency;
use super::{LATENCY_SUBCOMMANDS, SLOWLOG_SUBCOMMANDS, help, subcommand};

const SLOWLOG_HELP: &[&str] = &[
    "GET [<count>]",
    "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
    "    Entries are made of:",
    "    id, timestamp, time in microseconds, arguments array, client IP and port,",
    "    client name",
    "LEN",
    "    Return the length of the slowlog.",
    "RESET",
    "    Reset the slowlog.",
];

const LATENCY_HELP: &[&str] = &[
    "DOCTOR",
    "    Return a human readable latency analysis report.",
    "GRAPH <event>",
    "    Return an ASCII latency graph for the <event> class.",
    "HISTORY <event>",
    "    Return time-latency samples for the <event> class.",
    "LATEST",
    "    Return the latest latency samples for all events.",
    "RESET [<event> ...]",
    "    Reset latency data of one or more <event> classes.",
    "    (default: reset all data for all event classes)",
    "HISTOGRAM [COMMAND ...]",
    "    Return a cumulative distribution of latencies in the format of a histogram for the \
     specified command names.",
    "    If no commands are specified then all histograms are replied.",
];

const LATENCY_DOCTOR: &str = "I'm sorry, Dave, I can't do that. Latency monitoring is \
disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold \
<milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to \
take a look at https://redis.io/topics/latency-monitor.\n";

const DEBUG_HELP: &[&str] =
    &["SLEEP <seconds>", "    Stop the server for <seconds>. Decimals allowed."];

/// Redis's SLOWLOG GET default count.
const SLOWLOG_DEFAULT_COUNT: usize = 10;

pub(super) fn slowlog<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let Some(sub) = subcommand(ctx, "slowlog", SLOWLOG_SUBCOMMANDS, args) else { return };
    match sub {
        "get" => slowlog_get(ctx, args),
        "len" => {
            let len = ctx.shared.slowlog.lock().entries.len();
            ctx.reply().integer(len as i64);
        }
        "reset" => {
            ctx.shared.slowlog.lock().entries.clear();
            ctx.reply().ok();
        }
        _ => help(ctx, "SLOWLOG", SLOWLOG_HELP),
    }
}

fn slowlog_get<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    if args.len() > 3 {
        return ctx.error_text(subcommand_syntax_error("slowlog", args[1]));
    }
    let count = match args.get(2) {
        None => SLOWLOG_DEFAULT_COUNT,
        Some(arg) => match num::parse_i64(arg) {
            Some(-1) => usize::MAX,
            Some(count) if count >= 0 => usize::try_from(count).unwrap_or(usize::MAX),
            _ => return ctx.error_text("ERR count should be greater than or equal to -1"),
        },
    };
    // Copy the entries out so the lock is not held while encoding.
    let entries: Vec<_> = ctx.shared.slowlog.lock().entries.iter().take(count).cloned().collect();
    let mut reply = ctx.reply();
    reply.array(entries.len());
    for entry in &entries {
        reply.array(6);
        reply.integer(entry.id as i64);
        reply.integer(entry.time as i64);
        reply.integer(entry.duration_us as i64);
        reply.array(entry.args.len());
        for arg in &entry.args {
            reply.bulk(arg);
        }
        reply.bulk(entry.addr.as_bytes());
        reply.bulk(&entry.name);
    }
}

/// Redis's `addReplySubcommandSyntaxError`.
fn subcommand_syntax_error(command: &str, sub: &[u8]) -> Vec<u8> {
    let mut text = b"ERR unknown subcommand or wrong number of arguments for '".to_vec();
    text.extend_from_slice(&sub[..sub.len().min(128)]);
    text.extend_from_slice(format!("'. Try {} HELP.", command.to_ascii_uppercase()).as_bytes());
    args::one_line(text)
}

pub(super) fn latency<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let Some(sub) = subcommand(ctx, "latency", LATENCY_SUBCOMMANDS, args) else { return };
    match sub {
        "latest" | "history" => ctx.reply().array(0),
        "graph" => {
            let mut text = b"ERR No samples available for event '".to_vec();
            text.extend_from_slice(args[2]);
            text.push(b'\'');
            ctx.error_text(args::one_line(text));
        }
        // No events are recorded, so none is reset.
        "reset" => ctx.reply().integer(0),
        "doctor" => ctx.reply().verbatim(*b"txt", LATENCY_DOCTOR.as_bytes()),
        "histogram" => histogram(ctx, &args[2..]),
        _ => help(ctx, "LATENCY", LATENCY_HELP),
    }
}

/// A map of command → {calls, histogram_usec: {bound: cumulative calls}}.
fn histogram<A: Access>(ctx: &mut Ctx<'_, A>, names: &[&[u8]]) {
    let shared = ctx.shared;
    let mut found: Vec<(String, Vec<u64>)> = Vec::new();
    let mut add = |command: &crate::commands::Command| {
        let Some(name) = shared.commands.visible_name(command) else { return };
        let name = String::from_utf8_lossy(name).into_owned();
        if found.iter().any(|(seen, _)| *seen == name) {
            return;
        }
        if let Some(totals) = command_latency(shared, command.id) {
            found.push((name, totals));
        }
    };
    if names.is_empty() {
        shared.commands.all().iter().for_each(&mut add);
    } else {
        names.iter().filter_map(|name| shared.commands.lookup(name)).for_each(&mut add);
    }
    let mut reply = ctx.reply();
    reply.map(found.len());
    for (name, totals) in &found {
        let buckets = Histogram::power_of_two_usec(totals);
        reply.bulk(name.as_bytes());
        reply.map(2);
        reply.bulk(b"calls");
        reply.integer(totals.iter().sum::<u64>() as i64);
        reply.bulk(b"histogram_usec");
        reply.map(buckets.len());
        for (bound_us, calls) in buckets {
            reply.integer(bound_us as i64);
            reply.integer(calls as i64);
        }
    }
}

/// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]. The final snapshot is written before the
/// reply-less stop (so there is never a pending shutdown to abort). On success nothing is replied: the worker
/// starts the shutdown and the connection closes with the server.
pub(super) fn shutdown<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let (mut save, mut no_save, mut force, mut abort, mut other) = (false, false, false, false, 0);
    for arg in &args[1..] {
        if is(arg, "save") {
            save = true;
        } else if is(arg, "nosave") {
            no_save = true;
        } else if is(arg, "force") {
            force = true;
        } else if is(arg, "abort") {
            abort = true;
        } else if is(arg, "now") {
            other += 1;
        } else {
            return ctx.error(Error::Syntax);
        }
    }
    if (save && no_save) || (abort && (save || no_save || force || other > 0)) {
        return ctx.error(Error::Syntax);
    }
    if abort {
        return ctx.error_text("ERR No shutdown in progress.");
    }
    use crate::server::persistence::{SHUTDOWN_NOSAVE, SHUTDOWN_SAVE};
    let rules = !ctx.shared.config.read().save.is_empty();
    if !no_save && (save || rules) {
        // Save now, so a failure can be reported and the server kept up (Redis refuses to stop
        // when its final save fails, unless FORCE); writes other workers make until they stop
        // are caught by the final save in `ServerHandle::join`.
        if let Err(Some(_)) = crate::server::persistence::save(ctx.shared)
            && !force
        {
            return ctx.error_text("ERR Errors trying to SHUTDOWN. Check logs.");
        }
    }
    let asked = if no_save {
        SHUTDOWN_NOSAVE
    } else if save {
        SHUTDOWN_SAVE
    } else {
        0
    };
    // Relaxed: read after the workers have stopped (the thread joins order it).
    ctx.shared.shutdown_save.store(asked, std::sync::atomic::Ordering::Relaxed);
    tracing::info!(client = ctx.client.id, "user requested shutdown");
    ctx.client.shutdown_requested = true;
}

/// DEBUG SLEEP seconds (decimals allowed) and DEBUG HELP.
pub(super) fn debug<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    if is(args[1], "help") && args.len() == 2 {
        return help(ctx, "DEBUG", DEBUG_HELP);
    }
    if !(is(args[1], "sleep") && args.len() == 3) {
        return ctx.error_text(subcommand_syntax_error("debug", args[1]));
    }
    // Redis reads the number with strtod and no validation: what does not parse sleeps 0.
    let seconds = num::parse_f64(args[2]).filter(|s| s.is_finite() && *s > 0.0).unwrap_or(0.0);
    // Blocks this worker, as Redis blocks its only thread: that is the command's purpose.
    std::thread::sleep(Duration::from_secs_f64(seconds.min(u32::MAX as f64)));
    ctx.reply().ok();
}
