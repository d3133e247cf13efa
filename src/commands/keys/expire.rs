//! EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT, TTL, PTTL, EXPIRETIME, PEXPIRETIME, PERSIST.

use crate::commands::args::{self, is};
use crate::commands::{Command, Ctx, Flags, KeySpec, cmd};
use crate::engine::Access;
use crate::engine::ops::expiry::{ExpireCondition, TimeUnit};
use crate::engine::ops::keys::KeyOps;

const KEY: KeySpec = KeySpec::Range { first: 1, last: 1, step: 1 };

pub(super) fn commands() -> Vec<Command> {
    let g = "generic";
    let w = Flags::WRITE | Flags::FAST;
    let r = Flags::READONLY | Flags::FAST;
    vec![
        Command::new(
            "expire",
            -3,
            w,
            KEY,
            g,
            "Sets the expiration time of a key in seconds.",
            cmd!(expire),
        ),
        Command::new(
            "pexpire",
            -3,
            w,
            KEY,
            g,
            "Sets the expiration time of a key in milliseconds.",
            cmd!(pexpire),
        ),
        Command::new(
            "expireat",
            -3,
            w,
            KEY,
            g,
            "Sets the expiration time of a key to a Unix timestamp.",
            cmd!(expireat),
        ),
        Command::new(
            "pexpireat",
            -3,
            w,
            KEY,
            g,
            "Sets the expiration time of a key to a Unix milliseconds timestamp.",
            cmd!(pexpireat),
        ),
        Command::new(
            "ttl",
            2,
            r,
            KEY,
            g,
            "Returns the expiration time in seconds of a key.",
            cmd!(ttl),
        ),
        Command::new(
            "pttl",
            2,
            r,
            KEY,
            g,
            "Returns the expiration time in milliseconds of a key.",
            cmd!(pttl),
        ),
        Command::new(
            "expiretime",
            2,
            r,
            KEY,
            g,
            "Returns the expiration time of a key as a Unix timestamp.",
            cmd!(expiretime),
        ),
        Command::new(
            "pexpiretime",
            2,
            r,
            KEY,
            g,
            "Returns the expiration time of a key as a Unix milliseconds timestamp.",
            cmd!(pexpiretime),
        ),
        Command::new(
            "persist",
            2,
            w,
            KEY,
            g,
            "Removes the expiration time of a key.",
            cmd!(persist),
        ),
    ]
}

/// The NX / XX / GT / LT options (`parseExtendedExpireArgumentsOrReply`): every word is checked
/// first, then the combinations. Repeating an option is allowed; XX combines with GT or LT.
fn parse_condition(options: &[&[u8]]) -> Result<ExpireCondition, Vec<u8>> {
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for option in options {
        if is(option, "nx") {
            nx = true;
        } else if is(option, "xx") {
            xx = true;
        } else if is(option, "gt") {
            gt = true;
        } else if is(option, "lt") {
            lt = true;
        } else {
            // `%s` of a C string ends at a NUL byte; `addReplyErrorFormat` then trims newlines
            // off the end and turns the others into spaces.
            let mut printed = option.split(|&byte| byte == 0).next().unwrap_or_default();
            while let [rest @ .., b'\r' | b'\n'] = printed {
                printed = rest;
            }
            let mut text = b"ERR Unsupported option ".to_vec();
            text.extend_from_slice(printed);
            return Err(args::one_line(text));
        }
    }
    if nx && (xx || gt || lt) {
        return Err(b"ERR NX and XX, GT or LT options at the same time are not compatible".to_vec());
    }
    if gt && lt {
        return Err(b"ERR GT and LT options at the same time are not compatible".to_vec());
    }
    Ok(match (nx, xx, gt, lt) {
        (true, ..) => ExpireCondition::Nx,
        // GT already needs a TTL (no TTL counts as infinite), so XX adds nothing to it.
        (_, _, true, _) => ExpireCondition::Gt,
        (_, true, _, true) => ExpireCondition::XxLt,
        (_, _, _, true) => ExpireCondition::Lt,
        (_, true, ..) => ExpireCondition::Xx,
        _ => ExpireCondition::Always,
    })
}

fn expire_generic<A: Access>(
    ctx: &mut Ctx<'_, A>,
    args: &[&[u8]],
    unit: TimeUnit,
    relative: bool,
    command: &'static str,
) {
    let condition = match parse_condition(&args[3..]) {
        Ok(condition) => condition,
        Err(text) => return ctx.error_text(text),
    };
    let result = args::int(args[2])
        .and_then(|amount| ctx.access.expire(args[1], amount, unit, relative, condition, command));
    ctx.result(result, |reply, set| reply.integer(set as i64));
}

fn expire<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    expire_generic(ctx, args, TimeUnit::Seconds, true, "expire");
}

fn pexpire<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    expire_generic(ctx, args, TimeUnit::Milliseconds, true, "pexpire");
}

fn expireat<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    expire_generic(ctx, args, TimeUnit::Seconds, false, "expireat");
}

fn pexpireat<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    expire_generic(ctx, args, TimeUnit::Milliseconds, false, "pexpireat");
}

fn ttl<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = ctx.access.ttl(args[1]);
    ctx.result(result, |reply, value| reply.integer(value));
}

fn pttl<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = ctx.access.pttl(args[1]);
    ctx.result(result, |reply, value| reply.integer(value));
}

fn expiretime<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = ctx.access.expiretime(args[1]);
    ctx.result(result, |reply, value| reply.integer(value));
}

fn pexpiretime<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = ctx.access.pexpiretime(args[1]);
    ctx.result(result, |reply, value| reply.integer(value));
}

fn persist<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = ctx.access.persist(args[1]);
    ctx.result(result, |reply, removed| reply.integer(removed as i64));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_combine_as_in_redis() {
        let parse = |words: &[&str]| {
            let words: Vec<&[u8]> = words.iter().map(|w| w.as_bytes()).collect();
            parse_condition(&words)
        };
        assert_eq!(parse(&[]), Ok(ExpireCondition::Always));
        assert_eq!(parse(&["nx", "NX"]), Ok(ExpireCondition::Nx));
        assert_eq!(parse(&["xx", "gt"]), Ok(ExpireCondition::Gt));
        assert_eq!(parse(&["LT", "xx"]), Ok(ExpireCondition::XxLt));
        assert_eq!(parse(&["lt"]), Ok(ExpireCondition::Lt));
        assert!(parse(&["nx", "gt"]).is_err());
        assert_eq!(
            parse(&["gt", "lt", "foo"]),
            Err(b"ERR Unsupported option foo".to_vec()),
            "words are checked before combinations"
        );
        assert_eq!(parse(&["a\r\nb\n"]), Err(b"ERR Unsupported option a  b".to_vec()));
        assert_eq!(parse(&["a\0b"]), Err(b"ERR Unsupported option a".to_vec()));
        assert_eq!(
            parse(&["gt", "lt"]),
            Err(b"ERR GT and LT options at the same time are not compatible".to_vec())
        );
    }
}
