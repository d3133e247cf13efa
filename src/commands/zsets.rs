//! Sorted-set commands.
//!
//! # Layout
//!
//! - this file: the command table, the reply helpers every family member shares (scores and
//!   WITHSCORES lists), and the point commands: ZADD, ZINCRBY, ZREM, ZSCORE, ZMSCORE, ZCARD,
//!   ZCOUNT, ZLEXCOUNT, ZRANK, ZREVRANK, ZRANDMEMBER, ZSCAN.
//! - `ranges`: ZRANGE and its older forms, ZRANGESTORE, ZREMRANGEBY*.
//! - `pops`: ZPOPMIN/ZPOPMAX, ZMPOP and the blocking BZPOPMIN/BZPOPMAX/BZMPOP.
//! - `algebra`: ZUNION, ZINTER, ZDIFF, their STORE forms, ZINTERCARD.
//!
//! # Reply shapes (Redis 7.0)
//!
//! A score is a double: `,1.5` in RESP3, a bulk string in RESP2, printed with `%.17g`. A
//! WITHSCORES list is flat `[member, score, ...]` in RESP2 and nested `[[member, score], ...]`
//! in RESP3; ZPOPMIN without a count and BZPOPMIN stay flat in both, ZMPOP is nested in both.
//! ZSCAN's scores are bulk strings in both protocols (Redis builds them as strings).

mod algebra;
mod pops;
mod ranges;

use crate::commands::args::{self, is};
use crate::commands::sets::{
    clamp_random_count, random_count, scan_option_error, scan_options, write_scan_header,
};
use crate::commands::{Command, Ctx, Flags, KeySpec, cmd};
use crate::engine::num::write_f64;
use crate::engine::ops::{MemberScore, ZAddReply, ZSetOps};
use crate::engine::types::zset::{LexRange, ScoreRange, ZAddFlags};
use crate::engine::{Access, Error, Kind};
use crate::protocol::{Encoder, Protocol};

const W: Flags = Flags::WRITE;
const R: Flags = Flags::READONLY;
const F: Flags = Flags::FAST;
const M: Flags = Flags::DENYOOM;
const KEY: KeySpec = KeySpec::Range { first: 1, last: 1, step: 1 };
const GROUP: &str = "sorted_set";

/// A command of this family.
fn command(
    name: &'static str,
    arity: i32,
    flags: Flags,
    keys: KeySpec,
    summary: &'static str,
    run: crate::commands::Handlers,
) -> Command {
    Command::new(name, arity, flags, keys, GROUP, summary, run)
}

pub(super) fn commands() -> Vec<Command> {
    let mut all = vec![
        command("zadd", -4, W | M | F, KEY, "Adds members to a sorted set.", cmd!(zadd)),
        command(
            "zincrby",
            4,
            W | M | F,
            KEY,
            "Increments the score of a member in a sorted set.",
            cmd!(zincrby),
        ),
        command("zrem", -3, W | F, KEY, "Removes members from a sorted set.", cmd!(zrem)),
        command("zscore", 3, R | F, KEY, "Returns the score of a member.", cmd!(zscore)),
        command("zmscore", -3, R | F, KEY, "Returns the score of members.", cmd!(zmscore)),
        command("zcard", 2, R | F, KEY, "Returns the number of members.", cmd!(zcard)),
        command("zcount", 4, R | F, KEY, "Counts members within a range of scores.", cmd!(zcount)),
        command(
            "zlexcount",
            4,
            R | F,
            KEY,
            "Counts members within a lexicographical range.",
            cmd!(zlexcount),
        ),
        command("zrank", 3, R | F, KEY, "Returns the index of a member.", cmd!(zrank)),
        command(
            "zrevrank",
            3,
            R | F,
            KEY,
            "Returns the index of a member, ordered by descending scores.",
            cmd!(zrevrank),
        ),
        command(
            "zrandmember",
            -2,
            R,
            KEY,
            "Returns one or more random members from a sorted set.",
            cmd!(zrandmember),
        ),
        command("zscan", -3, R, KEY, "Iterates over members and scores.", cmd!(zscan)),
    ];
    all.extend(ranges::commands());
    all.extend(pops::commands());
    all.extend(algebra::commands());
    all
}

/// Writes a score as Redis's `addReplyDouble` does.
fn write_score(reply: &mut Encoder<'_>, text: &mut Vec<u8>, score: f64) {
    text.clear();
    write_f64(text, score);
    reply.double(text);
}

/// Writes one score (for single-score replies).
fn write_one_score(reply: &mut Encoder<'_>, score: f64) {
    write_score(reply, &mut Vec::with_capacity(24), score);
}

/// Writes members, with their scores when `withscores`: flat in RESP2, pairs in RESP3.
fn write_members(reply: &mut Encoder<'_>, members: &[MemberScore], withscores: bool) {
    if !withscores {
        reply.array(members.len());
        for (member, _) in members {
            reply.bulk(member);
        }
    } else if reply.protocol() == Protocol::Resp3 {
        write_pairs(reply, members);
    } else {
        write_flat(reply, members);
    }
}

/// `[member, score, member, score, ...]` in both protocols.
fn write_flat(reply: &mut Encoder<'_>, members: &[MemberScore]) {
    let mut text = Vec::with_capacity(24);
    reply.array(members.len().saturating_mul(2));
    for (member, score) in members {
        reply.bulk(member);
        write_score(reply, &mut text, *score);
    }
}

/// `[[member, score], ...]` in both protocols.
fn write_pairs(reply: &mut Encoder<'_>, members: &[MemberScore]) {
    let mut text = Vec::with_capacity(24);
    reply.array(members.len());
    for (member, score) in members {
        reply.array(2);
        reply.bulk(member);
        write_score(reply, &mut text, *score);
    }
}

/// ZADD's score-member pairs, scores parsed.
type ScoredPairs<'a> = Vec<(f64, &'a [u8])>;

/// ZADD's option words, then score-member pairs, checked in `zaddGenericCommand`'s order.
/// ZINCRBY goes through here too (with INCR set), so `ZINCRBY key nx m` is a syntax error as
/// in Redis.
fn parse_zadd<'a>(
    args: &[&'a [u8]],
    mut flags: ZAddFlags,
) -> Result<(ScoredPairs<'a>, ZAddFlags), Error> {
    let mut first = 2;
    while let Some(option) = args.get(first) {
        let flag = if is(option, "nx") {
            &mut flags.nx
        } else if is(option, "xx") {
            &mut flags.xx
        } else if is(option, "ch") {
            &mut flags.ch
        } else if is(option, "incr") {
            &mut flags.incr
        } else if is(option, "gt") {
            &mut flags.gt
        } else if is(option, "lt") {
            &mut flags.lt
        } else {
            break;
        };
        *flag = true;
        first += 1;
    }
    let rest = &args[first..];
    if rest.is_empty() || !rest.len().is_multiple_of(2) {
        return Err(Error::Syntax);
    }
    flags.validate(rest.len() / 2)?;
    let pairs = rest
        .chunks_exact(2)
        .map(|pair| Ok((args::float(pair[0])?, pair[1])))
        .collect::<Result<Vec<_>, Error>>()?;
    Ok((pairs, flags))
}

fn zadd_generic<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]], flags: ZAddFlags) {
    let result =
        parse_zadd(args, flags).and_then(|(pairs, flags)| ctx.access.zadd(args[1], &pairs, flags));
    ctx.result(result, |reply, outcome| match outcome {
        ZAddReply::Count(count) => reply.integer(count as i64),
        ZAddReply::Score(Some(score)) => write_one_score(reply, score),
        ZAddReply::Score(None) => reply.null(),
    });
}

fn zadd<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    zadd_generic(ctx, args, ZAddFlags::default());
}

fn zincrby<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    zadd_generic(ctx, args, ZAddFlags { incr: true, ..ZAddFlags::default() });
}

fn zrem<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = ctx.access.zrem(args[1], &args[2..]);
    ctx.result(result, |reply, removed| reply.integer(removed as i64));
}

fn zscore<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = ctx.access.zscore(args[1], args[2]);
    ctx.result(result, |reply, score| match score {
        Some(score) => write_one_score(reply, score),
        None => reply.null(),
    });
}

fn zmscore<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = ctx.access.zmscore(args[1], &args[2..]);
    ctx.result(result, |reply, scores| {
        let mut text = Vec::with_capacity(24);
        reply.array(scores.len());
        for score in scores {
            match score {
                Some(score) => write_score(reply, &mut text, score),
                None => reply.null(),
            }
        }
    });
}

fn zcard<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = ctx.access.zcard(args[1]);
    ctx.result(result, |reply, len| reply.integer(len as i64));
}

fn zcount<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result =
        ScoreRange::parse(args[2], args[3]).and_then(|range| ctx.access.zcount(args[1], &range));
    ctx.result(result, |reply, count| reply.integer(count as i64));
}

fn zlexcount<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result =
        LexRange::parse(args[2], args[3]).and_then(|range| ctx.access.zlexcount(args[1], &range));
    ctx.result(result, |reply, count| reply.integer(count as i64));
}

fn rank<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]], reverse: bool) {
    let result = ctx.access.zrank(args[1], args[2], reverse);
    ctx.result(result, |reply, rank| match rank {
        Some((rank, _)) => reply.integer(rank as i64),
        None => reply.null(),
    });
}

fn zrank<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    rank(ctx, args, false);
}

fn zrevrank<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    rank(ctx, args, true);
}

fn zrandmember<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    if args.len() == 2 {
        let result = ctx.access.zrandmember_one(args[1]);
        ctx.result(result, |reply, member| reply.bulk_or_null(member.as_ref().map(|m| &m.0[..])));
        return;
    }
    let access = ctx.access;
    let withscores = args.len() == 4;
    let result = random_count(args[2])
        .and_then(|count| {
            if args.len() > 4 || (withscores && !is(args[3], "withscores")) {
                return Err(Error::Syntax);
            }
            clamp_random_count(count, || access.zcard(args[1]))
        })
        .and_then(|count| access.zrandmember(args[1], count));
    ctx.result(result, |reply, members| write_members(reply, &members, withscores));
}

fn zscan<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = args::scan_cursor(args[2]).and_then(|cursor| match scan_options(&args[3..]) {
        Ok(options) => ctx.access.zscan(args[1], cursor, options.pattern, options.count),
        Err(error) => {
            scan_option_error(ctx.access, args[1], Kind::ZSet, error).map(|()| (0, Vec::new()))
        }
    });
    ctx.result(result, |reply, (cursor, members)| {
        // Scores are bulk strings here in RESP3 too: Redis collects them as strings.
        let mut text = Vec::with_capacity(24);
        write_scan_header(reply, cursor, members.len().saturating_mul(2));
        for (member, score) in &members {
            reply.bulk(member);
            text.clear();
            write_f64(&mut text, *score);
            reply.bulk(&text);
        }
    });
}
