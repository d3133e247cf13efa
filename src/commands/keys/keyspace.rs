//! Whole-database commands: KEYS, SCAN, RANDOMKEY, DBSIZE, FLUSHDB, FLUSHALL, SWAPDB; and the
//! server clock: TIME, LASTSAVE.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::commands::args::{self, is};
use crate::commands::{Command, Ctx, Flags, KeySpec, cmd};
use crate::engine::{Access, Error, Kind, num};

/// SCAN's COUNT when none is given (Redis's default).
const SCAN_DEFAULT_COUNT: usize = 10;

pub(super) fn commands() -> Vec<Command> {
    let g = "generic";
    let s = "server";
    let ks = Flags::KEYSPACE;
    let (w, r, f) = (Flags::WRITE, Flags::READONLY, Flags::FAST);
    let none = KeySpec::None;
    let clock = Flags::LOADING | Flags::STALE | Flags::FAST;
    vec![
        Command::new(
            "keys",
            2,
            r | ks,
            none,
            g,
            "Returns all key names that match a pattern.",
            cmd!(keys),
        ),
        Command::new(
            "scan",
            -2,
            r | ks,
            none,
            g,
            "Iterates over the key names in the database.",
            cmd!(scan),
        ),
        Command::new(
            "randomkey",
            1,
            r | ks,
            none,
            g,
            "Returns a random key name from the database.",
            cmd!(randomkey),
        ),
        Command::new(
            "dbsize",
            1,
            r | f | ks,
            none,
            s,
            "Returns the number of keys in the database.",
            cmd!(dbsize),
        ),
        Command::new(
            "flushdb",
            -1,
            w | ks,
            none,
            s,
            "Remove all keys from the current database.",
            cmd!(flushdb),
        ),
        Command::new(
            "flushall",
            -1,
            w | ks,
            none,
            s,
            "Removes all keys from all databases.",
            cmd!(flushall),
        ),
        Command::new("swapdb", 3, w | f | ks, none, s, "Swaps two Redis databases.", cmd!(swapdb)),
        Command::new("time", 1, clock, none, s, "Returns the server time.", cmd!(time)),
        Command::new(
            "lastsave",
            1,
            clock,
            none,
            s,
            "Returns the Unix timestamp of the last successful save to disk.",
            cmd!(lastsave),
        ),
    ]
}

fn keys<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let keys = ctx.db().keys(args[1]);
    let mut reply = ctx.reply();
    reply.array(keys.len());
    for key in &keys {
        reply.bulk(key);
    }
}

/// A SCAN cursor as Redis's `parseScanCursorOrReply` reads it with `strtoul`: an optional sign
/// (a negative number wraps around), decimal digits, nothing after them, no overflow; an empty
/// string is cursor 0.
fn parse_cursor(arg: &[u8]) -> Option<u64> {
    let (negative, digits) = match arg.split_first() {
        None => return Some(0),
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        Some(_) => (false, arg),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let value = digits.iter().try_fold(0u64, |value, digit| {
        value.checked_mul(10)?.checked_add(u64::from(digit - b'0'))
    })?;
    Some(if negative { value.wrapping_neg() } else { value })
}

/// SCAN's options, parsed as `scanGenericCommand` does.
struct ScanOptions<'a> {
    pattern: &'a [u8],
    count: usize,
    /// `Some(None)`: a TYPE no key can have (unknown, or a type corekv lacks such as stream).
    kind: Option<Option<Kind>>,
}

fn parse_scan_options<'a>(options: &[&'a [u8]]) -> Result<ScanOptions<'a>, Error> {
    let mut parsed = ScanOptions { pattern: b"*", count: SCAN_DEFAULT_COUNT, kind: None };
    let mut i = 0;
    while i < options.len() {
        let value = options.get(i + 1).copied();
        match value {
            Some(value) if is(options[i], "count") => {
                let count = args::int(value)?;
                if count < 1 {
                    return Err(Error::Syntax);
                }
                parsed.count = usize::try_from(count).unwrap_or(usize::MAX);
            }
            Some(value) if is(options[i], "match") => parsed.pattern = value,
            Some(value) if is(options[i], "type") => parsed.kind = Some(Kind::parse(value)),
            _ => return Err(Error::Syntax),
        }
        i += 2;
    }
    Ok(parsed)
}

fn scan<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let Some(cursor) = parse_cursor(args[1]) else {
        return ctx.error_text("ERR invalid cursor");
    };
    let options = match parse_scan_options(&args[2..]) {
        Ok(options) => options,
        Err(error) => return ctx.error(error),
    };
    let kind = options.kind.flatten();
    let mut page = ctx.db().scan(cursor, options.pattern, options.count, kind);
    if options.kind == Some(None) {
        page.keys.clear();
    }
    let mut reply = ctx.reply();
    reply.array(2);
    reply.bulk(page.cursor.to_string().as_bytes());
    reply.array(page.keys.len());
    for key in &page.keys {
        reply.bulk(key);
    }
}

fn randomkey<A: Access>(ctx: &mut Ctx<'_, A>, _args: &[&[u8]]) {
    let key = ctx.db().random_key();
    ctx.reply().bulk_or_null(key.as_deref());
}

fn dbsize<A: Access>(ctx: &mut Ctx<'_, A>, _args: &[&[u8]]) {
    let len = ctx.db().len();
    ctx.reply().integer(len as i64);
}

/// FLUSHDB / FLUSHALL take nothing, SYNC or ASYNC (`getFlushCommandFlags`). Both flush
/// synchronously: a flush here unlinks entries whose memory the collector frees later anyway.
fn flush_mode_ok(args: &[&[u8]]) -> bool {
    match args {
        [_] => true,
        [_, mode] => is(mode, "sync") || is(mode, "async"),
        _ => false,
    }
}

fn flushdb<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    if !flush_mode_ok(args) {
        return ctx.error(Error::Syntax);
    }
    ctx.db().flush();
    ctx.reply().ok();
}

fn flushall<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    if !flush_mode_ok(args) {
        return ctx.error(Error::Syntax);
    }
    ctx.shared.engine.flush_all();
    ctx.reply().ok();
}

fn swapdb<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    // `getIntFromObjectOrReply` with a custom message: not an integer, or not a C int.
    let index = |arg: &[u8], error: &'static str| {
        num::parse_i64(arg).and_then(|n| i32::try_from(n).ok()).ok_or(Error::Other(error))
    };
    let indexes = index(args[1], "ERR invalid first DB index")
        .and_then(|first| Ok((first, index(args[2], "ERR invalid second DB index")?)));
    let result = indexes.and_then(|(first, second)| {
        let first = usize::try_from(first).map_err(|_| Error::DbIndexOutOfRange)?;
        let second = usize::try_from(second).map_err(|_| Error::DbIndexOutOfRange)?;
        ctx.shared.engine.swap_db(first, second)
    });
    if result.is_ok() {
        // A client blocked on a key of either database may now find it.
        ctx.shared.blocking.signal_all(&ctx.shared.inboxes);
    }
    ctx.result(result, |reply, ()| reply.ok());
}

fn time<A: Access>(ctx: &mut Ctx<'_, A>, _args: &[&[u8]]) {
    // A clock before 1970 is a broken machine: report the epoch rather than fail.
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let mut reply = ctx.reply();
    reply.array(2);
    reply.bulk_integer(now.as_secs() as i64);
    reply.bulk_integer(i64::from(now.subsec_micros()));
}

fn lastsave<A: Access>(ctx: &mut Ctx<'_, A>, _args: &[&[u8]]) {
    // Relaxed: a timestamp read on its own.
    let at = ctx.shared.last_save.load(std::sync::atomic::Ordering::Relaxed);
    ctx.reply().integer(at as i64);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_parse_as_strtoul() {
        assert_eq!(parse_cursor(b"0"), Some(0));
        assert_eq!(parse_cursor(b""), Some(0));
        assert_eq!(parse_cursor(b"+7"), Some(7));
        assert_eq!(parse_cursor(b"-1"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"18446744073709551615"), Some(u64::MAX));
        for bad in [&b"18446744073709551616"[..], b"+", b"-", b" 1", b"1 ", b"x", b"1x"] {
            assert_eq!(parse_cursor(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }
}
