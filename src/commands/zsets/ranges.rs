//! ZRANGE (with BYSCORE, BYLEX, REV, LIMIT, WITHSCORES), its older forms ZREVRANGE,
//! ZRANGEBYSCORE, ZREVRANGEBYSCORE, ZRANGEBYLEX, ZREVRANGEBYLEX, ZRANGESTORE, and
//! ZREMRANGEBYRANK/BYSCORE/BYLEX.
//!
//! Every form goes through one parser, as in Redis's `zrangeGenericCommand`: the older
//! commands fix the range type or the direction, which then may not be given as an option.

use super::{KEY, R, W, command, write_members};
use crate::commands::args::{self, is};
use crate::commands::{Command, Ctx, Flags, KeySpec, cmd};
use crate::engine::ops::{ZRange, ZRangeBy, ZSetOps};
use crate::engine::types::zset::{LexRange, ScoreRange};
use crate::engine::{Access, Error};

pub(super) fn commands() -> Vec<Command> {
    vec![
        command("zrange", -4, R, KEY, "Returns members in a range of indexes.", cmd!(zrange)),
        command(
            "zrangebyscore",
            -4,
            R,
            KEY,
            "Returns members in a range of scores.",
            cmd!(zrangebyscore),
        ),
        command(
            "zrevrangebyscore",
            -4,
            R,
            KEY,
            "Returns members in a range of scores in reverse order.",
            cmd!(zrevrangebyscore),
        ),
        command(
            "zrangebylex",
            -4,
            R,
            KEY,
            "Returns members in a lexicographical range.",
            cmd!(zrangebylex),
        ),
        command(
            "zrevrangebylex",
            -4,
            R,
            KEY,
            "Returns members in a lexicographical range in reverse order.",
            cmd!(zrevrangebylex),
        ),
        command(
            "zrevrange",
            -4,
            R,
            KEY,
            "Returns members in a range of indexes in reverse order.",
            cmd!(zrevrange),
        ),
        command(
            "zrangestore",
            -5,
            W | Flags::DENYOOM,
            KeySpec::Range { first: 1, last: 2, step: 1 },
            "Stores a range of members from sorted set in a key.",
            cmd!(zrangestore),
        ),
        command(
            "zremrangebyrank",
            4,
            W,
            KEY,
            "Removes members in a range of indexes.",
            cmd!(zremrangebyrank),
        ),
        command(
            "zremrangebyscore",
            4,
            W,
            KEY,
            "Removes members in a range of scores.",
            cmd!(zremrangebyscore),
        ),
        command(
            "zremrangebylex",
            4,
            W,
            KEY,
            "Removes members in a lexicographical range.",
            cmd!(zremrangebylex),
        ),
    ]
}

/// What the range selects by; `Auto` until an option or the command decides (rank).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum By {
    Auto,
    Rank,
    Score,
    Lex,
}

/// The direction; `Auto` until REV or the command decides (forward).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Auto,
    Forward,
    Reverse,
}

/// A parsed range request.
struct Parsed {
    range: ZRange,
    withscores: bool,
}

/// Parses `<min> <max> [BYSCORE|BYLEX] [REV] [WITHSCORES] [LIMIT offset count]` where `min`
/// is at `first + 1` (`first` is the source key), with Redis's checks in Redis's order.
/// `store` (ZRANGESTORE) refuses WITHSCORES.
fn parse(
    args: &[&[u8]],
    first: usize,
    store: bool,
    mut by: By,
    mut direction: Direction,
) -> Result<Parsed, Error> {
    let mut withscores = false;
    let (mut offset, mut count) = (0, -1);
    let mut index = first + 3;
    while index < args.len() {
        let option = args[index];
        let left = args.len() - index - 1;
        if !store && is(option, "withscores") {
            withscores = true;
        } else if is(option, "limit") && left >= 2 {
            offset = args::int(args[index + 1])?;
            count = args::int(args[index + 2])?;
            index += 2;
        } else if direction == Direction::Auto && is(option, "rev") {
            direction = Direction::Reverse;
        } else if by == By::Auto && is(option, "bylex") {
            by = By::Lex;
        } else if by == By::Auto && is(option, "byscore") {
            by = By::Score;
        } else {
            return Err(Error::Syntax);
        }
        index += 1;
    }
    if by == By::Auto {
        by = By::Rank;
    }
    // Redis tests the count, not whether LIMIT was given: `LIMIT 0 -1` passes with ranks.
    if count != -1 && by == By::Rank {
        return Err(Error::Other(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if withscores && by == By::Lex {
        return Err(Error::Other(
            "ERR syntax error, WITHSCORES not supported in combination with BYLEX",
        ));
    }
    let reverse = direction == Direction::Reverse;
    // Score and lex ranges are given as `max min` when reversed.
    let (min, max) = if reverse && by != By::Rank {
        (args[first + 2], args[first + 1])
    } else {
        (args[first + 1], args[first + 2])
    };
    let by = match by {
        By::Score => ZRangeBy::Score(ScoreRange::parse(min, max)?),
        By::Lex => ZRangeBy::Lex(LexRange::parse(min, max)?),
        By::Auto | By::Rank => ZRangeBy::Rank(args::int(min)?, args::int(max)?),
    };
    Ok(Parsed { range: ZRange { by, reverse, offset, count }, withscores })
}

fn range<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]], by: By, direction: Direction) {
    let result = parse(args, 1, false, by, direction)
        .and_then(|parsed| Ok((ctx.access.zrange(args[1], parsed.range)?, parsed.withscores)));
    ctx.result(result, |reply, (members, withscores)| write_members(reply, &members, withscores));
}

fn zrange<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    range(ctx, args, By::Auto, Direction::Auto);
}

fn zrangebyscore<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    range(ctx, args, By::Score, Direction::Forward);
}

fn zrevrangebyscore<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    range(ctx, args, By::Score, Direction::Reverse);
}

fn zrangebylex<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    range(ctx, args, By::Lex, Direction::Forward);
}

fn zrevrangebylex<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    range(ctx, args, By::Lex, Direction::Reverse);
}

fn zrevrange<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    range(ctx, args, By::Rank, Direction::Reverse);
}

fn zrangestore<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = parse(args, 2, true, By::Auto, Direction::Auto)
        .and_then(|parsed| ctx.access.zrangestore(args[1], args[2], parsed.range));
    ctx.result(result, |reply, len| reply.integer(len as i64));
}

fn zremrangebyrank<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = args::int(args[2])
        .and_then(|start| Ok((start, args::int(args[3])?)))
        .and_then(|(start, stop)| ctx.access.zremrangebyrank(args[1], start, stop));
    ctx.result(result, |reply, removed| reply.integer(removed as i64));
}

fn zremrangebyscore<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = ScoreRange::parse(args[2], args[3])
        .and_then(|range| ctx.access.zremrangebyscore(args[1], &range));
    ctx.result(result, |reply, removed| reply.integer(removed as i64));
}

fn zremrangebylex<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = LexRange::parse(args[2], args[3])
        .and_then(|range| ctx.access.zremrangebylex(args[1], &range));
    ctx.result(result, |reply, removed| reply.integer(removed as i64));
}
