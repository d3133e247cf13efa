//! List commands, blocking ones included.
//!
//! Redis checks a command's arguments and its key in an order that shows in the replies: LINDEX
//! and LSET look the key up before parsing the index (a missing key wins over a bad index),
//! LRANGE, LREM and LTRIM parse first. Where the engine takes the parsed value, a failed parse
//! asks the key's length first ([`key_first`]): a list is never stored empty, so a length of 0
//! means the key is missing.
//!
//! # Blocking
//!
//! BLPOP, BRPOP, BLMOVE, BRPOPLPUSH and BLMPOP first try their non-blocking form. When nothing
//! is there, the handler sets `ctx.client.block` and writes nothing; the worker parks the client
//! and runs the command again whenever one of its keys is written, and replies the timeout's
//! null itself. Inside EXEC (`client.in_exec`) nothing may wait, so the handler replies that
//! null at once, as Redis does for a client that cannot block.
//!
//! A retry (the client is still marked blocked while it runs) differs in one way: Redis 7.0
//! serves a waiting client only from a key that now holds a list, so a key overwritten with
//! another type keeps the client waiting instead of failing it with WRONGTYPE.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::commands::args::{self, is};
use crate::commands::{Command, Ctx, Flags, KeySpec, cmd};
use crate::engine::ops::lists::{End, KeyElements, ListOps};
use crate::engine::{Access, Error};
use crate::server::client::BlockRequest;

const W: Flags = Flags::WRITE;
const R: Flags = Flags::READONLY;
const F: Flags = Flags::FAST;
const M: Flags = Flags::DENYOOM;
const B: Flags = Flags::BLOCKING;
const NOSCRIPT: Flags = Flags::NOSCRIPT;
const MOVABLE: Flags = Flags::MOVABLE_KEYS;
const KEY: KeySpec = KeySpec::Range { first: 1, last: 1, step: 1 };
const TWO_KEYS: KeySpec = KeySpec::Range { first: 1, last: 2, step: 1 };

const RANK_ZERO: &str = "ERR RANK can't be zero: use 1 to start from the first match, 2 from \
                         the second ... or use negative to start from the end of the list";

pub(super) fn commands() -> Vec<Command> {
    let l = "list";
    let before_timeout = KeySpec::Range { first: 1, last: -2, step: 1 };
    let c = Command::new;
    vec![
        c("lpush", -3, W | M | F, KEY, l, "Prepends one or more elements to a list.", cmd!(lpush)),
        c("rpush", -3, W | M | F, KEY, l, "Appends one or more elements to a list.", cmd!(rpush)),
        c("lpushx", -3, W | M | F, KEY, l, "Prepends elements to an existing list.", cmd!(lpushx)),
        c("rpushx", -3, W | M | F, KEY, l, "Appends elements to an existing list.", cmd!(rpushx)),
        c(
            "lpop",
            -2,
            W | F,
            KEY,
            l,
            "Returns and removes the first elements of a list.",
            cmd!(lpop),
        ),
        c(
            "rpop",
            -2,
            W | F,
            KEY,
            l,
            "Returns and removes the last elements of a list.",
            cmd!(rpop),
        ),
        c("llen", 2, R | F, KEY, l, "Returns the length of a list.", cmd!(llen)),
        c("lindex", 3, R, KEY, l, "Returns an element from a list by its index.", cmd!(lindex)),
        c("lrange", 4, R, KEY, l, "Returns a range of elements from a list.", cmd!(lrange)),
        c(
            "lset",
            4,
            W | M,
            KEY,
            l,
            "Sets the value of an element in a list by its index.",
            cmd!(lset),
        ),
        c(
            "linsert",
            5,
            W | M,
            KEY,
            l,
            "Inserts an element before or after another element in a list.",
            cmd!(linsert),
        ),
        c("lrem", 4, W, KEY, l, "Removes elements from a list.", cmd!(lrem)),
        c("ltrim", 4, W, KEY, l, "Removes elements from both ends of a list.", cmd!(ltrim)),
        c("lpos", -3, R, KEY, l, "Returns the index of matching elements in a list.", cmd!(lpos)),
        c(
            "lmove",
            5,
            W | M,
            TWO_KEYS,
            l,
            "Returns an element after popping it from one list and pushing it to another.",
            cmd!(lmove),
        ),
        c(
            "rpoplpush",
            3,
            W | M,
            TWO_KEYS,
            l,
            "Returns the last element of a list after removing and pushing it to another list.",
            cmd!(rpoplpush),
        ),
        c(
            "lmpop",
            -4,
            W | MOVABLE,
            KeySpec::NumKeys { numkeys: 1, extra: 0 },
            l,
            "Returns multiple elements from a list after removing them.",
            cmd!(lmpop),
        ),
        c(
            "blpop",
            -3,
            W | NOSCRIPT | B,
            before_timeout,
            l,
            "Removes and returns the first element in a list. Blocks until an element is \
             available otherwise.",
            cmd!(blpop),
        ),
        c(
            "brpop",
            -3,
            W | NOSCRIPT | B,
            before_timeout,
            l,
            "Removes and returns the last element in a list. Blocks until an element is \
             available otherwise.",
            cmd!(brpop),
        ),
        c(
            "blmove",
            6,
            W | M | NOSCRIPT | B,
            TWO_KEYS,
            l,
            "Pops an element from a list, pushes it to another list and returns it. Blocks \
             until an element is available otherwise.",
            cmd!(blmove),
        ),
        c(
            "brpoplpush",
            4,
            W | M | NOSCRIPT | B,
            TWO_KEYS,
            l,
            "Pops an element from a list, pushes it to another list and returns it. Blocks \
             until an element is available otherwise.",
            cmd!(brpoplpush),
        ),
        c(
            "blmpop",
            -5,
            W | B | MOVABLE,
            KeySpec::NumKeys { numkeys: 2, extra: 0 },
            l,
            "Pops the first element from one of multiple lists. Blocks until an element is \
             available otherwise.",
            cmd!(blmpop),
        ),
    ]
}

/// `LEFT` or `RIGHT` (`getListPositionFromObjectOrReply`).
fn end_of(arg: &[u8]) -> Result<End, Error> {
    if is(arg, "left") {
        Ok(End::Left)
    } else if is(arg, "right") {
        Ok(End::Right)
    } else {
        Err(Error::Syntax)
    }
}

/// An integer in `min..=i64::MAX` with one error text for every failure, as Redis's
/// `getRangeLongFromObjectOrReply` with a message.
fn at_least(arg: &[u8], min: i64, error: &'static str) -> Result<i64, Error> {
    args::int(arg).ok().filter(|&value| value >= min).ok_or(Error::Other(error))
}

/// For commands that look the key up before parsing an argument: the key's error (WRONGTYPE)
/// first, then `Ok(())` when it is missing (the caller replies what a missing key gets), else
/// `parse_error`.
fn key_first<A: Access>(ctx: &Ctx<'_, A>, key: &[u8], parse_error: Error) -> Result<(), Error> {
    match ctx.access.llen(key)? {
        0 => Ok(()),
        _ => Err(parse_error),
    }
}

fn push<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]], end: End, create: bool) {
    let result = ctx.access.push(args[1], end, &args[2..], create);
    ctx.result(result, |reply, len| reply.integer(len as i64));
}

fn lpush<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    push(ctx, args, End::Left, true);
}

fn rpush<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    push(ctx, args, End::Right, true);
}

fn lpushx<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    push(ctx, args, End::Left, false);
}

fn rpushx<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    push(ctx, args, End::Right, false);
}

/// LPOP / RPOP: one element as a bulk, or with a count an array; a missing key is a null bulk
/// without a count and a null array with one.
fn pop<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]], end: End, name: &str) {
    if args.len() > 3 {
        return ctx.error_text(args::wrong_arity(name));
    }
    let count = match args.get(2) {
        None => None,
        Some(arg) => match args::int(arg) {
            Ok(count) if count >= 0 => Some(count as usize),
            _ => return ctx.error(Error::MustBePositive),
        },
    };
    let result = ctx.access.pop(args[1], end, count);
    ctx.result(result, |reply, popped| match (count, popped) {
        (None, None) => reply.null(),
        (None, Some(popped)) => reply.bulk_or_null(popped.first().map(Vec::as_slice)),
        (Some(_), None) => reply.null_array(),
        (Some(_), Some(popped)) => {
            reply.array(popped.len());
            for element in &popped {
                reply.bulk(element);
            }
        }
    });
}

fn lpop<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    pop(ctx, args, End::Left, "lpop");
}

fn rpop<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    pop(ctx, args, End::Right, "rpop");
}

fn llen<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = ctx.access.llen(args[1]);
    ctx.result(result, |reply, len| reply.integer(len as i64));
}

fn lindex<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = match args::int(args[2]) {
        Ok(index) => ctx.access.lindex(args[1], index),
        Err(error) => key_first(ctx, args[1], error).map(|()| None),
    };
    ctx.result(result, |reply, element| reply.bulk_or_null(element.as_deref()));
}

fn write_elements(reply: &mut crate::protocol::Encoder<'_>, elements: &[Vec<u8>]) {
    reply.array(elements.len());
    for element in elements {
        reply.bulk(element);
    }
}

fn lrange<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = args::int(args[2])
        .and_then(|start| Ok((start, args::int(args[3])?)))
        .and_then(|(start, stop)| ctx.access.lrange(args[1], start, stop));
    ctx.result(result, |reply, elements| write_elements(reply, &elements));
}

fn lset<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = match args::int(args[2]) {
        Ok(index) => ctx.access.lset(args[1], index, args[3]),
        Err(error) => key_first(ctx, args[1], error).and(Err(Error::NoSuchKey)),
    };
    ctx.result(result, |reply, ()| reply.ok());
}

fn linsert<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let before = if is(args[2], "before") {
        true
    } else if is(args[2], "after") {
        false
    } else {
        return ctx.error(Error::Syntax);
    };
    let result = ctx.access.linsert(args[1], before, args[3], args[4]);
    ctx.result(result, |reply, len| reply.integer(len));
}

fn lrem<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = args::int(args[2]).and_then(|count| ctx.access.lrem(args[1], count, args[3]));
    ctx.result(result, |reply, removed| reply.integer(removed as i64));
}

fn ltrim<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = args::int(args[2])
        .and_then(|start| Ok((start, args::int(args[3])?)))
        .and_then(|(start, stop)| ctx.access.ltrim(args[1], start, stop));
    ctx.result(result, |reply, ()| reply.ok());
}

/// LPOS's options: RANK (1 by default), COUNT (None when not given), MAXLEN (0: no limit).
fn lpos_options(args: &[&[u8]]) -> Result<(i64, Option<usize>, usize), Error> {
    let (mut rank, mut count, mut maxlen) = (1, None, 0);
    let mut j = 3;
    while j < args.len() {
        let (option, value) = (args[j], args.get(j + 1).copied());
        match value {
            Some(value) if is(option, "rank") => {
                rank = args::int(value)?;
                if rank == 0 {
                    return Err(Error::Other(RANK_ZERO));
                }
            }
            Some(value) if is(option, "count") => {
                count = Some(at_least(value, 0, "ERR COUNT can't be negative")? as usize);
            }
            Some(value) if is(option, "maxlen") => {
                maxlen = at_least(value, 0, "ERR MAXLEN can't be negative")? as usize;
            }
            _ => return Err(Error::Syntax),
        }
        j += 2;
    }
    // Redis 7.0 negates RANK -2^63 into itself and then counts every match as reached: the
    // same as RANK -1.
    if rank == i64::MIN {
        rank = -1;
    }
    Ok((rank, count, maxlen))
}

fn lpos<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = lpos_options(args).and_then(|(rank, count, maxlen)| {
        let positions = ctx.access.lpos(args[1], args[2], rank, count.unwrap_or(1), maxlen)?;
        Ok((count.is_some(), positions))
    });
    ctx.result(result, |reply, (with_count, positions)| {
        if with_count {
            reply.array(positions.len());
            for position in positions {
                reply.integer(position as i64);
            }
        } else {
            match positions.first() {
                Some(&position) => reply.integer(position as i64),
                None => reply.null(),
            }
        }
    });
}

/// LMOVE's outcome with Redis's order of checks: a missing source is a null reply even when
/// the destination holds another type (the engine checks the destination first).
fn move_element<A: Access>(
    ctx: &Ctx<'_, A>,
    source: &[u8],
    destination: &[u8],
    from: End,
    to: End,
) -> Result<Option<Vec<u8>>, Error> {
    match ctx.access.lmove(source, destination, from, to) {
        Err(Error::WrongType) => key_first(ctx, source, Error::WrongType).map(|()| None),
        other => other,
    }
}

fn lmove<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = end_of(args[3])
        .and_then(|from| Ok((from, end_of(args[4])?)))
        .and_then(|(from, to)| move_element(ctx, args[1], args[2], from, to));
    ctx.result(result, |reply, element| reply.bulk_or_null(element.as_deref()));
}

fn rpoplpush<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = move_element(ctx, args[1], args[2], End::Right, End::Left);
    ctx.result(result, |reply, element| reply.bulk_or_null(element.as_deref()));
}

/// LMPOP / BLMPOP's arguments after the command name (and BLMPOP's timeout): the keys, the
/// end and the count (`lmpopGenericCommand`).
fn mpop_arguments<'s, 'a>(
    args: &'s [&'a [u8]],
    numkeys_at: usize,
) -> Result<(&'s [&'a [u8]], End, usize), Error> {
    let numkeys = at_least(args[numkeys_at], 1, "ERR numkeys should be greater than 0")?;
    let end_at = usize::try_from(numkeys)
        .ok()
        .and_then(|numkeys| numkeys.checked_add(numkeys_at + 1))
        .filter(|&at| at < args.len())
        .ok_or(Error::Syntax)?;
    let end = end_of(args[end_at])?;
    let mut count = None;
    let mut j = end_at + 1;
    while j < args.len() {
        match args.get(j + 1) {
            Some(value) if count.is_none() && is(args[j], "count") => {
                count = Some(at_least(value, 1, "ERR count should be greater than 0")? as usize);
            }
            _ => return Err(Error::Syntax),
        }
        j += 2;
    }
    Ok((&args[numkeys_at + 1..end_at], end, count.unwrap_or(1)))
}

fn write_key_elements(reply: &mut crate::protocol::Encoder<'_>, popped: Option<KeyElements>) {
    match popped {
        None => reply.null_array(),
        Some((key, elements)) => {
            reply.array(2);
            reply.bulk(&key);
            write_elements(reply, &elements);
        }
    }
}

fn lmpop<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result =
        mpop_arguments(args, 1).and_then(|(keys, end, count)| ctx.access.lmpop(keys, end, count));
    ctx.result(result, write_key_elements);
}

/// Whether this run is the worker retrying a parked client (it stays marked blocked until
/// served or timed out).
fn retrying<A: Access>(ctx: &Ctx<'_, A>) -> bool {
    // Relaxed: the flag is only written by this client's own worker, which runs this.
    ctx.client.info.blocked.load(Ordering::Relaxed)
}

/// Pops from the first list among `keys` that has elements. A retry skips keys that hold
/// another type (see the module docs); a first attempt fails on them, in key order.
fn pop_first<A: Access>(
    ctx: &Ctx<'_, A>,
    keys: &[&[u8]],
    end: End,
    count: usize,
) -> Result<Option<KeyElements>, Error> {
    if !retrying(ctx) {
        return ctx.access.lmpop(keys, end, count);
    }
    for key in keys {
        match ctx.access.pop(key, end, Some(count)) {
            Ok(Some(popped)) if !popped.is_empty() => return Ok(Some((key.to_vec(), popped))),
            Ok(_) | Err(Error::WrongType) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(None)
}

/// Nothing to serve: park the client on `keys` (the worker replies the null on timeout), or,
/// inside EXEC where nothing may wait, reply a null now: a null array for the pops, a null
/// bulk for the moves (`exec_null_array`), as Redis does.
fn block<A: Access>(ctx: &mut Ctx<'_, A>, keys: &[&[u8]], timeout_ms: u64, exec_null_array: bool) {
    if ctx.client.in_exec {
        let mut reply = ctx.reply();
        if exec_null_array {
            reply.null_array()
        } else {
            reply.null()
        }
        return;
    }
    let deadline = match timeout_ms {
        0 => None,
        ms => Instant::now().checked_add(Duration::from_millis(ms)),
    };
    let keys = keys.iter().map(|key| key.to_vec()).collect();
    // The timeout's reply is a null array for every list command in Redis 7.0, BLMOVE too.
    ctx.client.block = Some(BlockRequest { keys, deadline, null_array: true });
}

fn blocking_pop<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]], end: End) {
    let last = args.len() - 1;
    let timeout_ms = match args::timeout_ms(args[last]) {
        Ok(ms) => ms,
        Err(error) => return ctx.error(error),
    };
    let keys = &args[1..last];
    match pop_first(ctx, keys, end, 1) {
        Ok(Some((key, elements))) => {
            let mut reply = ctx.reply();
            reply.array(2);
            reply.bulk(&key);
            reply.bulk_or_null(elements.first().map(Vec::as_slice));
        }
        Ok(None) => block(ctx, keys, timeout_ms, true),
        Err(error) => ctx.error(error),
    }
}

fn blpop<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    blocking_pop(ctx, args, End::Left);
}

fn brpop<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    blocking_pop(ctx, args, End::Right);
}

fn blocking_move<A: Access>(
    ctx: &mut Ctx<'_, A>,
    args: &[&[u8]],
    (from, to): (End, End),
    timeout: &[u8],
) {
    let timeout_ms = match args::timeout_ms(timeout) {
        Ok(ms) => ms,
        Err(error) => return ctx.error(error),
    };
    let (source, destination) = (args[1], args[2]);
    let moved = match ctx.access.lmove(source, destination, from, to) {
        // Redis waits on a missing source whatever the destination holds, and a retry keeps
        // waiting while the source holds another type; a bad destination fails the command.
        Err(Error::WrongType) => match ctx.access.llen(source) {
            Ok(0) => Ok(None),
            Err(Error::WrongType) if retrying(ctx) => Ok(None),
            Ok(_) => Err(Error::WrongType),
            Err(error) => Err(error),
        },
        other => other,
    };
    match moved {
        Ok(Some(element)) => ctx.reply().bulk(&element),
        Ok(None) => block(ctx, &[source], timeout_ms, false),
        Err(error) => ctx.error(error),
    }
}

fn blmove<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    match end_of(args[3]).and_then(|from| Ok((from, end_of(args[4])?))) {
        Ok(ends) => blocking_move(ctx, args, ends, args[5]),
        Err(error) => ctx.error(error),
    }
}

fn brpoplpush<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    blocking_move(ctx, args, (End::Right, End::Left), args[3]);
}

fn blmpop<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    // BLMPOP parses its timeout after the other arguments.
    let parsed = mpop_arguments(args, 2)
        .and_then(|(keys, end, count)| Ok((keys, end, count, args::timeout_ms(args[1])?)));
    let (keys, end, count, timeout_ms) = match parsed {
        Ok(parsed) => parsed,
        Err(error) => return ctx.error(error),
    };
    match pop_first(ctx, keys, end, count) {
        Ok(Some(popped)) => write_key_elements(&mut ctx.reply(), Some(popped)),
        Ok(None) => block(ctx, keys, timeout_ms, true),
        Err(error) => ctx.error(error),
    }
}
