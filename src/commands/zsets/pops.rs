//! ZPOPMIN, ZPOPMAX, ZMPOP, and the blocking BZPOPMIN, BZPOPMAX, BZMPOP.
//!
//! A blocking command first tries like its plain form. When every key is missing it asks the
//! worker to park the client (`Client::block`, replying nothing); the worker runs the command
//! again when one of the keys is written, and replies the null array on timeout. Inside EXEC
//! a client cannot block, so the null array is the reply at once (Redis's
//! `CLIENT_DENY_BLOCKING`).

use std::time::{Duration, Instant};

use super::{F, KEY, W, command, write_flat, write_pairs};
use crate::commands::args::{self, is};
use crate::commands::{Command, Ctx, Flags, KeySpec, cmd};
use crate::engine::ops::{MemberScore, ZSetOps};
use crate::engine::{Access, Error};
use crate::protocol::{Encoder, Protocol};
use crate::server::client::BlockRequest;

pub(super) fn commands() -> Vec<Command> {
    let blocking = KeySpec::Range { first: 1, last: -2, step: 1 };
    let b = Flags::BLOCKING;
    vec![
        command(
            "zpopmin",
            -2,
            W | F,
            KEY,
            "Returns the lowest-scoring members after removing them.",
            cmd!(zpopmin),
        ),
        command(
            "zpopmax",
            -2,
            W | F,
            KEY,
            "Returns the highest-scoring members after removing them.",
            cmd!(zpopmax),
        ),
        command(
            "zmpop",
            -4,
            W | Flags::MOVABLE_KEYS,
            KeySpec::NumKeys { numkeys: 1, extra: 0 },
            "Returns the highest- or lowest-scoring members from one or more sorted sets.",
            cmd!(zmpop),
        ),
        command(
            "bzpopmin",
            -3,
            W | Flags::NOSCRIPT | b | F,
            blocking,
            "Removes and returns the member with the lowest score, or blocks until one is available.",
            cmd!(bzpopmin),
        ),
        command(
            "bzpopmax",
            -3,
            W | Flags::NOSCRIPT | b | F,
            blocking,
            "Removes and returns the member with the highest score, or blocks until one is available.",
            cmd!(bzpopmax),
        ),
        command(
            "bzmpop",
            -5,
            W | b | Flags::MOVABLE_KEYS,
            KeySpec::NumKeys { numkeys: 2, extra: 0 },
            "Removes and returns members from one or more sorted sets, or blocks until one is available.",
            cmd!(bzmpop),
        ),
    ]
}

/// Pops up to `count` members from the first of `keys` that exists, atomically over all of
/// them; a wrong type met first is an error (`genericZpopCommand`'s scan). Returns the key's
/// index and the members, or `None` when every key is missing.
fn pop_first<A: Access>(
    access: &A,
    keys: &[&[u8]],
    max: bool,
    count: usize,
) -> Result<Option<(usize, Vec<MemberScore>)>, Error> {
    access.atomically(keys, |txn| {
        for (index, key) in keys.iter().enumerate() {
            // An existing sorted set is never empty, and `count` is at least 1 here.
            let popped = txn.zpop(key, max, count)?;
            if !popped.is_empty() {
                return Ok(Some((index, popped)));
            }
        }
        Ok(None)
    })
}

fn zpop<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]], max: bool) {
    if args.len() > 3 {
        return ctx.error(Error::Syntax);
    }
    // getPositiveLongFromObjectOrReply: a non-integer gets the same text as a negative.
    let count = args.get(2).map(|count| {
        args::int(count)
            .ok()
            .filter(|&count| count >= 0)
            .ok_or(Error::MustBePositive)
            .map(|count| usize::try_from(count).unwrap_or(usize::MAX))
    });
    let nested = count.is_some();
    let result =
        count.transpose().and_then(|count| ctx.access.zpop(args[1], max, count.unwrap_or(1)));
    ctx.result(result, |reply, members| {
        if nested && reply.protocol() == Protocol::Resp3 {
            write_pairs(reply, &members);
        } else {
            write_flat(reply, &members);
        }
    });
}

fn zpopmin<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    zpop(ctx, args, false);
}

fn zpopmax<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    zpop(ctx, args, true);
}

/// A parsed `numkeys key [key ...] MIN|MAX [COUNT count]`.
struct MultiPop<'a> {
    keys: &'a [&'a [u8]],
    max: bool,
    count: usize,
}

/// Parses ZMPOP's arguments from `numkeys_at` on (`zmpopGenericCommand`).
fn parse_multi_pop<'a>(args: &'a [&'a [u8]], numkeys_at: usize) -> Result<MultiPop<'a>, Error> {
    let numkeys = args::int(args[numkeys_at])
        .ok()
        .filter(|&numkeys| numkeys >= 1)
        .ok_or(Error::Other("ERR numkeys should be greater than 0"))?;
    let where_at = (numkeys_at as u64).saturating_add(numkeys as u64).saturating_add(1);
    let Some(&side) = usize::try_from(where_at).ok().and_then(|at| args.get(at)) else {
        return Err(Error::Syntax);
    };
    let where_at = where_at as usize;
    let max = if is(side, "min") {
        false
    } else if is(side, "max") {
        true
    } else {
        return Err(Error::Syntax);
    };
    let mut count = None;
    let mut index = where_at + 1;
    while index < args.len() {
        match args.get(index + 1) {
            Some(value) if count.is_none() && is(args[index], "count") => {
                let parsed = args::int(value)
                    .ok()
                    .filter(|&count| count >= 1)
                    .ok_or(Error::Other("ERR count should be greater than 0"))?;
                count = Some(usize::try_from(parsed).unwrap_or(usize::MAX));
            }
            _ => return Err(Error::Syntax),
        }
        index += 2;
    }
    Ok(MultiPop { keys: &args[numkeys_at + 1..where_at], max, count: count.unwrap_or(1) })
}

/// `[key, [[member, score], ...]]` in both protocols.
fn write_multi_pop(reply: &mut Encoder<'_>, key: &[u8], members: &[MemberScore]) {
    reply.array(2);
    reply.bulk(key);
    write_pairs(reply, members);
}

fn zmpop<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = parse_multi_pop(args, 1).and_then(|pop| {
        Ok(pop_first(ctx.access, pop.keys, pop.max, pop.count)?
            .map(|(index, members)| (pop.keys[index], members)))
    });
    ctx.result(result, |reply, popped| match popped {
        Some((key, members)) => write_multi_pop(reply, key, &members),
        None => reply.null_array(),
    });
}

/// Nothing to pop: park the client on `keys` until `timeout_ms` (0: forever), or reply the
/// null array inside EXEC.
fn block<A: Access>(ctx: &mut Ctx<'_, A>, keys: &[&[u8]], timeout_ms: u64) {
    if ctx.client.in_exec {
        ctx.reply().null_array();
        return;
    }
    // A deadline beyond what `Instant` can hold is as good as none.
    let deadline = (timeout_ms > 0)
        .then(|| Instant::now().checked_add(Duration::from_millis(timeout_ms)))
        .flatten();
    ctx.client.block = Some(BlockRequest {
        keys: keys.iter().map(|key| key.to_vec()).collect(),
        deadline,
        null_array: true,
    });
}

fn bzpop<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]], max: bool) {
    let last = args.len() - 1;
    let keys = &args[1..last];
    let popped = args::timeout_ms(args[last])
        .and_then(|timeout_ms| Ok((timeout_ms, pop_first(ctx.access, keys, max, 1)?)));
    match popped {
        Err(error) => ctx.error(error),
        Ok((timeout_ms, None)) => block(ctx, keys, timeout_ms),
        Ok((_, Some((index, members)))) => {
            // `[key, member, score]`, flat in both protocols.
            let mut reply = ctx.reply();
            reply.array(1 + members.len() * 2);
            reply.bulk(keys[index]);
            let mut text = Vec::with_capacity(24);
            for (member, score) in &members {
                reply.bulk(member);
                super::write_score(&mut reply, &mut text, *score);
            }
        }
    }
}

fn bzpopmin<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    bzpop(ctx, args, false);
}

fn bzpopmax<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    bzpop(ctx, args, true);
}

fn bzmpop<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    // The keys, MIN|MAX and COUNT are checked before the timeout (`zmpopGenericCommand`).
    let popped = parse_multi_pop(args, 2).and_then(|pop| {
        let timeout_ms = args::timeout_ms(args[1])?;
        Ok((pop.keys, timeout_ms, pop_first(ctx.access, pop.keys, pop.max, pop.count)?))
    });
    match popped {
        Err(error) => ctx.error(error),
        Ok((keys, timeout_ms, None)) => block(ctx, keys, timeout_ms),
        Ok((keys, _, Some((index, members)))) => {
            write_multi_pop(&mut ctx.reply(), keys[index], &members)
        }
    }
}
