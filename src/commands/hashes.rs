//! Hash commands.
//!
//! HRANDFIELD and HSCAN look the key up before some of their checks (Redis's order shows in
//! the replies): where an argument fails after the key would have been looked up, the handler
//! asks the key's length first (a hash is never stored empty, so 0 means missing).

use crate::commands::args::{self, is};
use crate::commands::{Command, Ctx, Flags, KeySpec, cmd};
use crate::engine::ops::hashes::{FieldValue, HashOps, MAX_RANDOM_COUNT};
use crate::engine::{Access, Error};
use crate::protocol::{Encoder, Protocol};

const W: Flags = Flags::WRITE;
const R: Flags = Flags::READONLY;
const F: Flags = Flags::FAST;
const M: Flags = Flags::DENYOOM;
const KEY: KeySpec = KeySpec::Range { first: 1, last: 1, step: 1 };

/// HSCAN's COUNT when none is given (Redis's default).
const SCAN_DEFAULT_COUNT: usize = 10;

pub(super) fn commands() -> Vec<Command> {
    let h = "hash";
    let c = Command::new;
    vec![
        c(
            "hset",
            -4,
            W | M | F,
            KEY,
            h,
            "Creates or modifies the value of a field in a hash.",
            cmd!(hset),
        ),
        c("hmset", -4, W | M | F, KEY, h, "Sets the values of multiple fields.", cmd!(hmset)),
        c(
            "hsetnx",
            4,
            W | M | F,
            KEY,
            h,
            "Sets the value of a field in a hash only when the field doesn't exist.",
            cmd!(hsetnx),
        ),
        c("hget", 3, R | F, KEY, h, "Returns the value of a field in a hash.", cmd!(hget)),
        c("hmget", -3, R | F, KEY, h, "Returns the values of all fields in a hash.", cmd!(hmget)),
        c(
            "hdel",
            -3,
            W | F,
            KEY,
            h,
            "Deletes one or more fields and their values from a hash.",
            cmd!(hdel),
        ),
        c("hlen", 2, R | F, KEY, h, "Returns the number of fields in a hash.", cmd!(hlen)),
        c(
            "hexists",
            3,
            R | F,
            KEY,
            h,
            "Determines whether a field exists in a hash.",
            cmd!(hexists),
        ),
        c("hkeys", 2, R, KEY, h, "Returns all fields in a hash.", cmd!(hkeys)),
        c("hvals", 2, R, KEY, h, "Returns all values in a hash.", cmd!(hvals)),
        c("hgetall", 2, R, KEY, h, "Returns all fields and values in a hash.", cmd!(hgetall)),
        c(
            "hstrlen",
            3,
            R | F,
            KEY,
            h,
            "Returns the length of the value of a field.",
            cmd!(hstrlen),
        ),
        c(
            "hincrby",
            4,
            W | M | F,
            KEY,
            h,
            "Increments the integer value of a field in a hash by a number.",
            cmd!(hincrby),
        ),
        c(
            "hincrbyfloat",
            4,
            W | M | F,
            KEY,
            h,
            "Increments the floating point value of a field by a number.",
            cmd!(hincrbyfloat),
        ),
        c(
            "hrandfield",
            -2,
            R,
            KEY,
            h,
            "Returns one or more random fields from a hash.",
            cmd!(hrandfield),
        ),
        c("hscan", -3, R, KEY, h, "Iterates over fields and values of a hash.", cmd!(hscan)),
    ]
}

/// HSET / HMSET's field-value pairs (`None` when one is incomplete: a wrong arity).
fn pairs<'a>(args: &[&'a [u8]]) -> Option<Vec<(&'a [u8], &'a [u8])>> {
    let rest = &args[2..];
    rest.len()
        .is_multiple_of(2)
        .then(|| rest.chunks_exact(2).map(|pair| (pair[0], pair[1])).collect())
}

fn hset<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let Some(pairs) = pairs(args) else {
        return ctx.error_text(args::wrong_arity("hset"));
    };
    let result = ctx.access.hset(args[1], &pairs);
    ctx.result(result, |reply, added| reply.integer(added as i64));
}

fn hmset<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let Some(pairs) = pairs(args) else {
        return ctx.error_text(args::wrong_arity("hmset"));
    };
    let result = ctx.access.hset(args[1], &pairs);
    ctx.result(result, |reply, _| reply.ok());
}

fn hsetnx<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = ctx.access.hsetnx(args[1], args[2], args[3]);
    ctx.result(result, |reply, set| reply.integer(set as i64));
}

fn hget<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = ctx.access.hget(args[1], args[2]);
    ctx.result(result, |reply, value| reply.bulk_or_null(value.as_deref()));
}

fn hmget<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = ctx.access.hmget(args[1], &args[2..]);
    ctx.result(result, |reply, values| {
        reply.array(values.len());
        for value in &values {
            reply.bulk_or_null(value.as_deref());
        }
    });
}

fn hdel<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = ctx.access.hdel(args[1], &args[2..]);
    ctx.result(result, |reply, removed| reply.integer(removed as i64));
}

fn hlen<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = ctx.access.hlen(args[1]);
    ctx.result(result, |reply, len| reply.integer(len as i64));
}

fn hexists<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = ctx.access.hexists(args[1], args[2]);
    ctx.result(result, |reply, found| reply.integer(found as i64));
}

fn write_bulks(reply: &mut Encoder<'_>, items: &[Vec<u8>]) {
    reply.array(items.len());
    for item in items {
        reply.bulk(item);
    }
}

fn hkeys<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = ctx.access.hkeys(args[1]);
    ctx.result(result, |reply, fields| write_bulks(reply, &fields));
}

fn hvals<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = ctx.access.hvals(args[1]);
    ctx.result(result, |reply, values| write_bulks(reply, &values));
}

fn hgetall<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = ctx.access.hgetall(args[1]);
    ctx.result(result, |reply, entries| {
        reply.map(entries.len());
        for (field, value) in &entries {
            reply.bulk(field);
            reply.bulk(value);
        }
    });
}

fn hstrlen<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = ctx.access.hstrlen(args[1], args[2]);
    ctx.result(result, |reply, len| reply.integer(len as i64));
}

fn hincrby<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = args::int(args[3]).and_then(|delta| ctx.access.hincrby(args[1], args[2], delta));
    ctx.result(result, |reply, value| reply.integer(value));
}

/// Whether `arg` spells infinity as C's `strtold` reads it (`inf`, `-Infinity`, ...): Redis
/// refuses such an increment before looking at the hash. A finite spelling that overflows is
/// not a float at all, which the engine reports.
fn spells_infinity(arg: &[u8]) -> bool {
    let unsigned = match arg.first() {
        Some(b'+' | b'-') => &arg[1..],
        _ => arg,
    };
    is(unsigned, "inf") || is(unsigned, "infinity")
}

fn hincrbyfloat<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    if spells_infinity(args[3]) {
        return ctx.error_text("ERR value is NaN or Infinity");
    }
    let result = ctx.access.hincrbyfloat(args[1], args[2], args[3]);
    ctx.result(result, |reply, value| reply.bulk(&value));
}

/// HRANDFIELD's count and WITHVALUES, checked before the key as Redis does.
fn random_count(args: &[&[u8]]) -> Result<(i64, bool), Error> {
    let count = args::int(args[2])?;
    if count == i64::MIN {
        return Err(Error::Other(
            "ERR value is out of range, value must between -9223372036854775807 and \
             9223372036854775807",
        ));
    }
    let with_values = match args.get(3) {
        None => false,
        Some(word) if args.len() == 4 && is(word, "withvalues") => true,
        Some(_) => return Err(Error::Syntax),
    };
    // Redis refuses counts whose doubled reply length would overflow.
    if with_values && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
        return Err(Error::OutOfRange);
    }
    Ok((count, with_values))
}

fn hrandfield<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    if args.len() == 2 {
        let result = ctx.access.hrandfield_one(args[1]);
        return ctx
            .result(result, |reply, pair| reply.bulk_or_null(pair.map(|(f, _)| f).as_deref()));
    }
    let result = random_count(args).and_then(|(count, with_values)| {
        // More distinct fields than any hash holds are all of them; the engine bounds how
        // many repeats it builds (MAX_RANDOM_COUNT), checked after the key as Redis would.
        let count = count.min(MAX_RANDOM_COUNT as i64);
        let pairs = match ctx.access.hrandfield(args[1], count) {
            Err(Error::OutOfRange) if ctx.access.hlen(args[1])? == 0 => Vec::new(),
            other => other?,
        };
        Ok((pairs, with_values))
    });
    let protocol = ctx.protocol();
    ctx.result(result, |reply, (pairs, with_values)| {
        write_random_fields(reply, protocol, &pairs, with_values)
    });
}

/// WITHVALUES pairs are flat in RESP2 and nested two-element arrays in RESP3.
fn write_random_fields(
    reply: &mut Encoder<'_>,
    protocol: Protocol,
    pairs: &[FieldValue],
    with_values: bool,
) {
    if !with_values {
        reply.array(pairs.len());
        for (field, _) in pairs {
            reply.bulk(field);
        }
        return;
    }
    let nested = protocol == Protocol::Resp3;
    reply.array(if nested { pairs.len() } else { pairs.len() * 2 });
    for (field, value) in pairs {
        if nested {
            reply.array(2);
        }
        reply.bulk(field);
        reply.bulk(value);
    }
}

/// A SCAN cursor as Redis reads it (`parseScanCursorOrReply`: C's `strtoul`, whole argument,
/// no leading space): an optional sign (a negative cursor wraps around), decimal digits; the
/// empty string is cursor 0.
fn scan_cursor(arg: &[u8]) -> Result<u64, Error> {
    const INVALID: Error = Error::Other("ERR invalid cursor");
    if arg.is_empty() {
        return Ok(0);
    }
    let (negative, digits) = match arg[0] {
        b'-' => (true, &arg[1..]),
        b'+' => (false, &arg[1..]),
        _ => (false, arg),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(INVALID);
    }
    let magnitude = digits
        .iter()
        .try_fold(0u64, |value, digit| value.checked_mul(10)?.checked_add(u64::from(digit - b'0')));
    let magnitude = magnitude.ok_or(INVALID)?;
    Ok(if negative { magnitude.wrapping_neg() } else { magnitude })
}

/// HSCAN's MATCH (None for `*`, which matches everything) and COUNT.
fn scan_options<'a>(args: &[&'a [u8]]) -> Result<(Option<&'a [u8]>, usize), Error> {
    let (mut pattern, mut count) = (None, SCAN_DEFAULT_COUNT);
    let mut j = 3;
    while j < args.len() {
        match args.get(j + 1) {
            Some(value) if is(args[j], "count") => {
                let value = args::int(value)?;
                if value < 1 {
                    return Err(Error::Syntax);
                }
                count = usize::try_from(value).unwrap_or(usize::MAX);
            }
            Some(value) if is(args[j], "match") => {
                pattern = (*value != b"*").then_some(*value);
            }
            _ => return Err(Error::Syntax),
        }
        j += 2;
    }
    Ok((pattern, count))
}

fn hscan<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = scan_cursor(args[2]).and_then(|cursor| {
        // The key is looked up before the options are parsed.
        let options = match scan_options(args) {
            Ok(options) => options,
            Err(error) => match ctx.access.hlen(args[1])? {
                0 => return Ok((0, Vec::new())),
                _ => return Err(error),
            },
        };
        let (pattern, count) = options;
        ctx.access.hscan(args[1], cursor, pattern, count)
    });
    ctx.result(result, |reply, (cursor, pairs)| {
        reply.array(2);
        reply.bulk(cursor.to_string().as_bytes());
        reply.array(pairs.len() * 2);
        for (field, value) in &pairs {
            reply.bulk(field);
            reply.bulk(value);
        }
    });
}
