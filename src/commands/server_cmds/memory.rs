//! MEMORY USAGE | STATS | DOCTOR | HELP, in Redis 7.0's formats.
//!
//! The figures are the engine's own accounting (`used_memory`, see `engine::evict` and
//! docs/ARCHITECTURE.md "Memory accounting"), so MEMORY USAGE of every key sums to
//! `used_memory` apart from the expiry index. MALLOC-STATS and PURGE (jemalloc's) are not
//! offered: corekv runs on mimalloc.

use crate::commands::Ctx;
use crate::commands::args::{self, is};
use crate::engine::Access;
use crate::engine::num::format_f64;

use super::info::{human, rss_bytes, used_memory_peak};
use super::{MEMORY_SUBCOMMANDS, help, subcommand};

const HELP: &[&str] = &[
    "DOCTOR",
    "    Return memory problems reports.",
    "STATS",
    "    Return information about the memory usage of the server.",
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value. Nested values are",
    "    sampled up to <count> times (default: 5, 0 means sample all).",
];

/// Below this much data, DOCTOR declines to judge (Redis's 5 MB).
const DOCTOR_MIN_BYTES: u64 = 5 * 1024 * 1024;
/// DOCTOR reports a peak this many times above current use (Redis's 1.5).
const DOCTOR_PEAK_RATIO: f64 = 1.5;
/// DOCTOR reports RSS this many times above current use (Redis's 1.4).
const DOCTOR_FRAGMENTATION_RATIO: f64 = 1.4;

pub(super) fn memory<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let Some(name) = subcommand(ctx, "memory", MEMORY_SUBCOMMANDS, args) else { return };
    match name {
        "usage" => usage(ctx, args),
        "stats" => stats(ctx),
        "doctor" => {
            let text = doctor(ctx);
            ctx.reply().verbatim(*b"txt", text.as_bytes());
        }
        _ => help(ctx, "MEMORY", HELP),
    }
}

/// `MEMORY USAGE key [SAMPLES count]`: the key's bytes, or null when it is missing. The
/// engine keeps exact per-collection figures, so SAMPLES is checked as Redis checks it and
/// then has nothing to change.
fn usage<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let mut index = 3;
    while index < args.len() {
        if !(is(args[index], "samples") && index + 1 < args.len()) {
            return ctx.error(crate::engine::Error::Syntax);
        }
        match args::int(args[index + 1]) {
            Err(error) => return ctx.error(error),
            Ok(samples) if samples < 0 => return ctx.error(crate::engine::Error::Syntax),
            Ok(_) => index += 2,
        }
    }
    match ctx.db().memory_usage(args[2]) {
        Some(bytes) => ctx.reply().integer(bytes as i64),
        None => ctx.reply().null(),
    }
}

/// MEMORY STATS: the subset of Redis's fields corekv measures, same names and order.
fn stats<A: Access>(ctx: &mut Ctx<'_, A>) {
    let engine = &ctx.shared.engine;
    let used = engine.used_memory_bytes();
    let peak = used_memory_peak(used);
    let keys: usize = (0..engine.databases()).map(|index| engine.db(index).len()).sum();
    let rss = rss_bytes();
    let percent =
        |part: u64, whole: u64| if whole == 0 { 0.0 } else { part as f64 * 100.0 / whole as f64 };
    let integers: [(&str, i64); 4] = [
        ("peak.allocated", peak as i64),
        ("total.allocated", used as i64),
        ("keys.count", keys as i64),
        ("keys.bytes-per-key", if keys == 0 { 0 } else { (used / keys as u64) as i64 }),
    ];
    let fragmentation = if used == 0 { 0.0 } else { rss as f64 / used as f64 };
    let mut reply = ctx.reply();
    reply.map(integers.len() + 4);
    for (name, value) in integers {
        reply.bulk(name.as_bytes());
        reply.integer(value);
    }
    reply.bulk(b"dataset.bytes");
    reply.integer(used as i64);
    reply.bulk(b"peak.percentage");
    reply.double(format_f64(percent(used, peak)).as_bytes());
    reply.bulk(b"fragmentation");
    reply.double(format_f64(fragmentation).as_bytes());
    reply.bulk(b"fragmentation.bytes");
    reply.integer(rss as i64 - used as i64);
}

/// MEMORY DOCTOR: Redis's verdicts on peak and fragmentation, in its words.
fn doctor<A: Access>(ctx: &Ctx<'_, A>) -> String {
    let used = ctx.shared.engine.used_memory_bytes();
    let peak = used_memory_peak(used);
    if used < DOCTOR_MIN_BYTES {
        return "Hi Sam, this instance is empty or is using very little memory, my issues \
                detector can't be used in these conditions. Please, leave for your mission on \
                Earth and fill it with some data. The new Sam and I will be back to our \
                programming as soon as I finished rebooting."
            .to_string();
    }
    let rss = rss_bytes();
    let mut issues = Vec::new();
    if peak as f64 / used as f64 > DOCTOR_PEAK_RATIO {
        issues.push(format!(
            " * Peak memory: In the past this instance used more than 150% the memory that is \
             currently using. The allocator is normally not able to release memory after a \
             peak, so you can expect to see a big fragmentation ratio, however this is \
             actually harmless and is only due to the memory peak, and if the Redis instance \
             Resident Set Size (RSS) is currently bigger than expected, the memory will be \
             used as soon as you fill the Redis instance with more data. If the memory peak \
             was only occasional and you want to try to reclaim memory, please try the MEMORY \
             PURGE command, otherwise the only other option is to shutdown and restart the \
             instance.\n\n (peak {}, now {})\n",
            human(peak),
            human(used)
        ));
    }
    if rss as f64 / used as f64 > DOCTOR_FRAGMENTATION_RATIO {
        issues.push(format!(
            " * High total RSS: This instance has a memory fragmentation and RSS overhead \
             greater than 1.4 (this means that the Resident Set Size of the Redis process is \
             much larger than the sum of the logical allocations Redis performed). This \
             problem is usually due either to a large peak memory (check if there is a peak \
             memory entry above in the report) or may result from a workload that causes the \
             allocator to fragment memory a lot.\n\n (rss {}, used {})\n",
            human(rss),
            human(used)
        ));
    }
    if issues.is_empty() {
        return "Hi Sam, I can't find any memory issue in your instance. I can only account \
                for what occurs on this base."
            .to_string();
    }
    format!(
        "Sam, I detected a few issues in this Redis instance memory implants:\n\n{}\nI'm here \
         to keep you safe, Sam. I want to help you.\n",
        issues.join("\n")
    )
}
