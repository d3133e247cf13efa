//! Set commands, and the SSCAN/ZSCAN option parsing and RANDMEMBER count rules that the
//! sorted-set commands share.
//!
//! Replies follow Redis 7.0's types: SMEMBERS, SINTER, SUNION, SDIFF and SPOP with a count are
//! sets (`~` in RESP3), SRANDMEMBER with a count an array (it may repeat members), SISMEMBER
//! and SMISMEMBER integers (not RESP3 booleans).

use crate::commands::args::{self, is};
use crate::commands::{Command, Ctx, Flags, KeySpec, cmd};
use crate::engine::ops::{MAX_RANDOM_COUNT, SetAlgebra, SetOps};
use crate::engine::{Access, Error, Kind};

const W: Flags = Flags::WRITE;
const R: Flags = Flags::READONLY;
const F: Flags = Flags::FAST;
const M: Flags = Flags::DENYOOM;
const KEY: KeySpec = KeySpec::Range { first: 1, last: 1, step: 1 };
const ALL: KeySpec = KeySpec::Range { first: 1, last: -1, step: 1 };

pub(super) fn commands() -> Vec<Command> {
    let g = "set";
    vec![
        Command::new("sadd", -3, W | M | F, KEY, g, "Adds members to a set.", cmd!(sadd)),
        Command::new("srem", -3, W | F, KEY, g, "Removes members from a set.", cmd!(srem)),
        Command::new(
            "sismember",
            3,
            R | F,
            KEY,
            g,
            "Determines whether a member belongs to a set.",
            cmd!(sismember),
        ),
        Command::new(
            "smismember",
            -3,
            R | F,
            KEY,
            g,
            "Determines whether multiple members belong to a set.",
            cmd!(smismember),
        ),
        Command::new("smembers", 2, R, KEY, g, "Returns all members of a set.", cmd!(smembers)),
        Command::new(
            "scard",
            2,
            R | F,
            KEY,
            g,
            "Returns the number of members in a set.",
            cmd!(scard),
        ),
        Command::new(
            "spop",
            -2,
            W | F,
            KEY,
            g,
            "Returns one or more random members from a set after removing them.",
            cmd!(spop),
        ),
        Command::new(
            "srandmember",
            -2,
            R,
            KEY,
            g,
            "Get one or multiple random members from a set.",
            cmd!(srandmember),
        ),
        Command::new(
            "smove",
            4,
            W | F,
            KeySpec::Range { first: 1, last: 2, step: 1 },
            g,
            "Moves a member from one set to another.",
            cmd!(smove),
        ),
        Command::new(
            "sinter",
            -2,
            R,
            ALL,
            g,
            "Returns the intersect of multiple sets.",
            cmd!(sinter),
        ),
        Command::new("sunion", -2, R, ALL, g, "Returns the union of multiple sets.", cmd!(sunion)),
        Command::new(
            "sdiff",
            -2,
            R,
            ALL,
            g,
            "Returns the difference of multiple sets.",
            cmd!(sdiff),
        ),
        Command::new(
            "sinterstore",
            -3,
            W | M,
            ALL,
            g,
            "Stores the intersect of multiple sets in a key.",
            cmd!(sinterstore),
        ),
        Command::new(
            "sunionstore",
            -3,
            W | M,
            ALL,
            g,
            "Stores the union of multiple sets in a key.",
            cmd!(sunionstore),
        ),
        Command::new(
            "sdiffstore",
            -3,
            W | M,
            ALL,
            g,
            "Stores the difference of multiple sets in a key.",
            cmd!(sdiffstore),
        ),
        Command::new(
            "sintercard",
            -3,
            R | Flags::MOVABLE_KEYS,
            KeySpec::NumKeys { numkeys: 1, extra: 0 },
            g,
            "Returns the number of members of the intersect of multiple sets.",
            cmd!(sintercard),
        ),
        Command::new("sscan", -3, R, KEY, g, "Iterates over members of a set.", cmd!(sscan)),
    ]
}

/// Redis's reply to a RANDMEMBER count of `i64::MIN`, whose magnitude a `long` cannot hold.
const RANDOM_COUNT_RANGE: Error = Error::Other(
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
);

/// Parses SRANDMEMBER's and ZRANDMEMBER's count (`getRangeLongFromObjectOrReply` over
/// `-LONG_MAX..=LONG_MAX`).
pub(super) fn random_count(arg: &[u8]) -> Result<i64, Error> {
    match args::int(arg)? {
        i64::MIN => Err(RANDOM_COUNT_RANGE),
        count => Ok(count),
    }
}

/// A positive RANDMEMBER count beyond the engine's reply bound asks for the whole collection
/// when the collection is smaller: ask for exactly its size (`size` reads it), as Redis replies.
pub(super) fn clamp_random_count(
    count: i64,
    size: impl FnOnce() -> Result<u64, Error>,
) -> Result<i64, Error> {
    if count <= MAX_RANDOM_COUNT as i64 {
        return Ok(count);
    }
    let size = size()?;
    Ok(if size <= MAX_RANDOM_COUNT { size as i64 } else { count })
}

/// SSCAN's and ZSCAN's options after the cursor (`scanGenericCommand` on a key).
#[derive(Debug, Clone, Copy)]
pub(super) struct ScanOptions<'a> {
    /// MATCH, `None` for none or `*`.
    pub pattern: Option<&'a [u8]>,
    /// COUNT (10 by default).
    pub count: usize,
}

/// Parses `[MATCH pattern] [COUNT count]`, repeated in any order (the last wins).
pub(super) fn scan_options<'a>(options: &[&'a [u8]]) -> Result<ScanOptions<'a>, Error> {
    let mut parsed = ScanOptions { pattern: None, count: 10 };
    let mut index = 0;
    while index < options.len() {
        let value = options.get(index + 1).copied();
        match value {
            Some(value) if is(options[index], "count") => {
                let count = args::int(value)?;
                if count < 1 {
                    return Err(Error::Syntax);
                }
                parsed.count = usize::try_from(count).unwrap_or(usize::MAX);
            }
            Some(value) if is(options[index], "match") => {
                parsed.pattern = (value != b"*").then_some(value);
            }
            _ => return Err(Error::Syntax),
        }
        index += 2;
    }
    Ok(parsed)
}

/// What a SCAN-family command replies when its options are wrong: Redis looks the key up
/// first, so a missing key still gets the empty scan and a wrong type WRONGTYPE.
/// `Ok(())` means: reply the empty scan.
pub(super) fn scan_option_error<A: Access>(
    access: &A,
    key: &[u8],
    kind: Kind,
    error: Error,
) -> Result<(), Error> {
    match access.read_collection(key, kind, |_| ())? {
        None => Ok(()),
        Some(()) => Err(error),
    }
}

fn sadd<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = ctx.access.sadd(args[1], &args[2..]);
    ctx.result(result, |reply, added| reply.integer(added as i64));
}

fn srem<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = ctx.access.srem(args[1], &args[2..]);
    ctx.result(result, |reply, removed| reply.integer(removed as i64));
}

fn sismember<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = ctx.access.sismember(args[1], args[2]);
    ctx.result(result, |reply, found| reply.integer(i64::from(found)));
}

fn smismember<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = ctx.access.smismember(args[1], &args[2..]);
    ctx.result(result, |reply, found| {
        reply.array(found.len());
        for found in found {
            reply.integer(i64::from(found));
        }
    });
}

/// Writes members as a RESP3 set (an array in RESP2).
fn write_set(reply: &mut crate::protocol::Encoder<'_>, members: &[Vec<u8>]) {
    reply.set(members.len());
    for member in members {
        reply.bulk(member);
    }
}

fn smembers<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = ctx.access.smembers(args[1]);
    ctx.result(result, |reply, members| write_set(reply, &members));
}

fn scard<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = ctx.access.scard(args[1]);
    ctx.result(result, |reply, len| reply.integer(len as i64));
}

fn spop<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    match args.len() {
        2 => {
            let result = ctx.access.spop_one(args[1]);
            if let (Some(_), Ok(member)) = (ctx.log, &result) {
                propagate_srem(ctx.client, args[1], member.iter().map(|m| m.as_ref()));
            }
            ctx.result(result, |reply, member| reply.bulk_or_null(member.as_deref()));
        }
        3 => {
            // getPositiveLongFromObjectOrReply: a non-integer gets the same text.
            let count = args::int(args[2])
                .ok()
                .filter(|&count| count >= 0)
                .ok_or(Error::MustBePositive)
                .map(|count| usize::try_from(count).unwrap_or(usize::MAX));
            let result = count.and_then(|count| ctx.access.spop(args[1], count));
            if let (Some(_), Ok(members)) = (ctx.log, &result) {
                propagate_srem(ctx.client, args[1], members.iter().map(|m| m.as_ref()));
            }
            ctx.result(result, |reply, members| write_set(reply, &members));
        }
        _ => ctx.error(Error::Syntax),
    }
}

/// SPOP's choice is random, so the AOF records the members it removed (as Redis does).
fn propagate_srem<'m>(
    client: &mut crate::server::client::Client,
    key: &[u8],
    members: impl Iterator<Item = &'m [u8]>,
) {
    let mut srem = vec![b"SREM".to_vec(), key.to_vec()];
    srem.extend(members.map(<[u8]>::to_vec));
    client.propagate = Some(if srem.len() > 2 { vec![srem] } else { Vec::new() });
}

fn srandmember<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    match args.len() {
        2 => {
            let result = ctx.access.srandmember_one(args[1]);
            ctx.result(result, |reply, member| reply.bulk_or_null(member.as_deref()));
        }
        3 => {
            let access = ctx.access;
            let result = random_count(args[2])
                .and_then(|count| {
                    clamp_random_count(count, || access.scard(args[1]).map(|len| len as u64))
                })
                .and_then(|count| access.srandmember(args[1], count));
            ctx.result(result, |reply, members| {
                reply.array(members.len());
                for member in &members {
                    reply.bulk(member);
                }
            });
        }
        _ => ctx.error(Error::Syntax),
    }
}

fn smove<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = ctx.access.smove(args[1], args[2], args[3]);
    ctx.result(result, |reply, moved| reply.integer(i64::from(moved)));
}

fn algebra<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]], operation: SetAlgebra) {
    let result = ctx.access.set_algebra(operation, &args[1..]);
    ctx.result(result, |reply, members| write_set(reply, &members));
}

fn sinter<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    algebra(ctx, args, SetAlgebra::Intersection);
}

fn sunion<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    algebra(ctx, args, SetAlgebra::Union);
}

fn sdiff<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    algebra(ctx, args, SetAlgebra::Difference);
}

fn algebra_store<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]], operation: SetAlgebra) {
    let result = ctx.access.set_algebra_store(operation, args[1], &args[2..]);
    ctx.result(result, |reply, len| reply.integer(len as i64));
}

fn sinterstore<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    algebra_store(ctx, args, SetAlgebra::Intersection);
}

fn sunionstore<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    algebra_store(ctx, args, SetAlgebra::Union);
}

fn sdiffstore<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    algebra_store(ctx, args, SetAlgebra::Difference);
}

/// SINTERCARD numkeys key [key ...] [LIMIT limit], with `sinterCardCommand`'s checks in order.
fn parse_sintercard<'a>(args: &'a [&'a [u8]]) -> Result<(&'a [&'a [u8]], usize), Error> {
    let numkeys = args::int(args[1])
        .ok()
        .filter(|&numkeys| numkeys >= 1)
        .ok_or(Error::Other("ERR numkeys should be greater than 0"))?;
    let available = args.len() - 2;
    if numkeys as u64 > available as u64 {
        return Err(Error::Other("ERR Number of keys can't be greater than number of args"));
    }
    let keys_end = 2 + numkeys as usize;
    let mut limit = 0;
    let mut index = keys_end;
    while index < args.len() {
        match args.get(index + 1) {
            Some(value) if is(args[index], "limit") => {
                let parsed = args::int(value)
                    .ok()
                    .filter(|&limit| limit >= 0)
                    .ok_or(Error::Other("ERR LIMIT can't be negative"))?;
                limit = usize::try_from(parsed).unwrap_or(usize::MAX);
            }
            _ => return Err(Error::Syntax),
        }
        index += 2;
    }
    Ok((&args[2..keys_end], limit))
}

fn sintercard<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result =
        parse_sintercard(args).and_then(|(keys, limit)| ctx.access.sintercard(keys, limit));
    ctx.result(result, |reply, count| reply.integer(count as i64));
}

/// Writes a SCAN-family reply: the next cursor as a bulk string, then the items.
pub(super) fn write_scan_header(
    reply: &mut crate::protocol::Encoder<'_>,
    cursor: u64,
    items: usize,
) {
    reply.array(2);
    reply.bulk(itoa::Buffer::new().format(cursor).as_bytes());
    reply.array(items);
}

fn sscan<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = args::scan_cursor(args[2]).and_then(|cursor| match scan_options(&args[3..]) {
        Ok(options) => ctx.access.sscan(args[1], cursor, options.pattern, options.count),
        Err(error) => {
            scan_option_error(ctx.access, args[1], Kind::Set, error).map(|()| (0, Vec::new()))
        }
    });
    ctx.result(result, |reply, (cursor, members)| {
        write_scan_header(reply, cursor, members.len());
        for member in &members {
            reply.bulk(member);
        }
    });
}
