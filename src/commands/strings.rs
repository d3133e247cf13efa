//! String commands.

use crate::commands::args::{self, is};
use crate::commands::{Command, Ctx, Flags, KeySpec, cmd};
use crate::engine::access::ValueRef;
use crate::engine::ops::expiry::Expiry;
use crate::engine::ops::keys::KeyOps;
use crate::engine::ops::strings::{GetExOption, SetCondition, SetOptions, StringOps};
use crate::engine::{Access, Error};

const W: Flags = Flags::WRITE;
const R: Flags = Flags::READONLY;
const F: Flags = Flags::FAST;
const M: Flags = Flags::DENYOOM;
const KEY: KeySpec = KeySpec::Range { first: 1, last: 1, step: 1 };

pub(super) fn commands() -> Vec<Command> {
    let all = KeySpec::Range { first: 1, last: -1, step: 1 };
    let pairs = KeySpec::Range { first: 1, last: -1, step: 2 };
    let s = "string";
    vec![
        Command::new("get", 2, R | F, KEY, s, "Returns the string value of a key.", cmd!(get)),
        Command::new("set", -3, W | M, KEY, s, "Sets the string value of a key.", cmd!(set)),
        Command::new(
            "setnx",
            3,
            W | M | F,
            KEY,
            s,
            "Set the value of a key only when the key doesn't exist.",
            cmd!(setnx),
        ),
        Command::new(
            "setex",
            4,
            W | M,
            KEY,
            s,
            "Sets the value and expiration time of a key (seconds).",
            cmd!(setex),
        ),
        Command::new(
            "psetex",
            4,
            W | M,
            KEY,
            s,
            "Sets the value and expiration time of a key (milliseconds).",
            cmd!(psetex),
        ),
        Command::new(
            "getset",
            3,
            W | M | F,
            KEY,
            s,
            "Returns the previous value of a key after setting it.",
            cmd!(getset),
        ),
        Command::new(
            "getdel",
            2,
            W | F,
            KEY,
            s,
            "Returns the string value of a key after deleting it.",
            cmd!(getdel),
        ),
        Command::new(
            "getex",
            -2,
            W | F,
            KEY,
            s,
            "Returns the value of a key after setting its expiration time.",
            cmd!(getex),
        ),
        Command::new(
            "strlen",
            2,
            R | F,
            KEY,
            s,
            "Returns the length of a string value.",
            cmd!(strlen),
        ),
        Command::new(
            "append",
            3,
            W | M | F,
            KEY,
            s,
            "Appends a string to the value of a key.",
            cmd!(append),
        ),
        Command::new(
            "getrange",
            4,
            R,
            KEY,
            s,
            "Returns a substring of the string stored at a key.",
            cmd!(getrange),
        ),
        Command::new(
            "substr",
            4,
            R,
            KEY,
            s,
            "Returns a substring from a string value.",
            cmd!(getrange),
        ),
        Command::new(
            "setrange",
            4,
            W | M,
            KEY,
            s,
            "Overwrites a part of a string value with another by an offset.",
            cmd!(setrange),
        ),
        Command::new(
            "incr",
            2,
            W | M | F,
            KEY,
            s,
            "Increments the integer value of a key by one.",
            cmd!(incr),
        ),
        Command::new(
            "decr",
            2,
            W | M | F,
            KEY,
            s,
            "Decrements the integer value of a key by one.",
            cmd!(decr),
        ),
        Command::new(
            "incrby",
            3,
            W | M | F,
            KEY,
            s,
            "Increments the integer value of a key by a number.",
            cmd!(incrby),
        ),
        Command::new(
            "decrby",
            3,
            W | M | F,
            KEY,
            s,
            "Decrements a number from the integer value of a key.",
            cmd!(decrby),
        ),
        Command::new(
            "incrbyfloat",
            3,
            W | M | F,
            KEY,
            s,
            "Increment the floating point value of a key by a number.",
            cmd!(incrbyfloat),
        ),
        Command::new(
            "mget",
            -2,
            R | F,
            all,
            s,
            "Atomically returns the string values of one or more keys.",
            cmd!(mget),
        ),
        Command::new(
            "mset",
            -3,
            W | M,
            pairs,
            s,
            "Atomically creates or modifies the string values of one or more keys.",
            cmd!(mset),
        ),
        Command::new(
            "msetnx",
            -3,
            W | M,
            pairs,
            s,
            "Atomically sets the values of keys only when none of them exist.",
            cmd!(msetnx),
        ),
    ]
}

/// GET, encoding the value straight from the entry into the output buffer.
fn get<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let protocol = ctx.client.protocol;
    let out = &mut *ctx.out;
    let found = ctx.access.view(args[1], |view| match view.map(|view| view.value) {
        None => {
            crate::protocol::Encoder::new(out, protocol).null();
            Ok(false)
        }
        Some(ValueRef::Str(value)) => {
            out.push(b'$');
            crate::engine::num::write_i64(out, value.len() as i64);
            out.extend_from_slice(b"\r\n");
            value.write_to(out);
            out.extend_from_slice(b"\r\n");
            Ok(true)
        }
        Some(ValueRef::Collection(_)) => Err(Error::WrongType),
    });
    match found.and_then(|found| found) {
        Ok(true) => crate::server::stats::bump(&ctx.stats.keyspace_hits, 1),
        Ok(false) => crate::server::stats::bump(&ctx.stats.keyspace_misses, 1),
        Err(error) => ctx.error(error),
    }
}

/// Which command is parsing `SET`-style options (they differ in what they accept).
#[derive(PartialEq, Eq, Clone, Copy)]
enum OptionsOf {
    Set,
    GetEx,
}

/// The parsed options of SET and GETEX (`parseExtendedStringArgumentsOrReply`).
#[derive(Default)]
struct Extended<'a> {
    condition: SetCondition,
    get: bool,
    keep_ttl: bool,
    persist: bool,
    /// EX/PX/EXAT/PXAT and its unparsed amount.
    expire: Option<(&'static str, &'a [u8])>,
}

fn parse_extended<'a>(args: &[&'a [u8]], of: OptionsOf) -> Result<Extended<'a>, Error> {
    let mut parsed = Extended::default();
    let mut j = if of == OptionsOf::Set { 3 } else { 2 };
    while j < args.len() {
        let option = args[j];
        let next = args.get(j + 1).copied();
        let unit = parsed.expire.map(|(unit, _)| unit);
        let other_expire = |this: &str| unit.is_some_and(|u| u != this);
        if is(option, "nx") && parsed.condition != SetCondition::Xx && of == OptionsOf::Set {
            parsed.condition = SetCondition::Nx;
        } else if is(option, "xx") && parsed.condition != SetCondition::Nx && of == OptionsOf::Set {
            parsed.condition = SetCondition::Xx;
        } else if is(option, "get") && of == OptionsOf::Set {
            parsed.get = true;
        } else if is(option, "keepttl") && !parsed.persist && unit.is_none() && of == OptionsOf::Set
        {
            parsed.keep_ttl = true;
        } else if is(option, "persist")
            && of == OptionsOf::GetEx
            && unit.is_none()
            && !parsed.keep_ttl
        {
            parsed.persist = true;
        } else if let Some(name) = ["ex", "px", "exat", "pxat"].into_iter().find(|n| is(option, n))
            && !parsed.keep_ttl
            && !parsed.persist
            && !other_expire(name)
            && let Some(amount) = next
        {
            parsed.expire = Some((name, amount));
            j += 1;
        } else {
            return Err(Error::Syntax);
        }
        j += 1;
    }
    Ok(parsed)
}

fn expiry_of(expire: Option<(&'static str, &[u8])>) -> Result<Option<Expiry>, Error> {
    let Some((unit, amount)) = expire else { return Ok(None) };
    let amount = args::int(amount)?;
    Ok(Some(match unit {
        "ex" => Expiry::Seconds(amount),
        "px" => Expiry::Milliseconds(amount),
        "exat" => Expiry::AtSeconds(amount),
        _ => Expiry::AtMilliseconds(amount),
    }))
}

fn set<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let options = parse_extended(args, OptionsOf::Set).and_then(|parsed| {
        Ok(SetOptions {
            condition: parsed.condition,
            expiry: expiry_of(parsed.expire)?,
            keep_ttl: parsed.keep_ttl,
            get: parsed.get,
        })
    });
    let result = options.and_then(|options| {
        ctx.access.set_with(args[1], args[2], options).map(|outcome| (options.get, outcome))
    });
    ctx.result(result, |reply, (get, outcome)| {
        if get {
            reply.bulk_or_null(outcome.previous.as_deref());
        } else if outcome.written {
            reply.ok();
        } else {
            reply.null();
        }
    });
}

fn setnx<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = ctx.access.setnx(args[1], args[2]);
    ctx.result(result, |reply, set| reply.integer(set as i64));
}

fn set_expiring<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]], command: &'static str) {
    let result = args::int(args[2]).and_then(|amount| {
        let expiry =
            if command == "setex" { Expiry::Seconds(amount) } else { Expiry::Milliseconds(amount) };
        ctx.access.set_expiring(args[1], args[3], expiry, command)
    });
    ctx.result(result, |reply, ()| reply.ok());
}

fn setex<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    set_expiring(ctx, args, "setex");
}

fn psetex<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    set_expiring(ctx, args, "psetex");
}

fn getset<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = ctx.access.getset(args[1], args[2]);
    ctx.result(result, |reply, previous| reply.bulk_or_null(previous.as_deref()));
}

fn getdel<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = ctx.access.getdel(args[1]);
    ctx.result(result, |reply, value| reply.bulk_or_null(value.as_deref()));
}

fn getex<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let option = parse_extended(args, OptionsOf::GetEx).and_then(|parsed| {
        if parsed.persist {
            return Ok(Some(GetExOption::Persist));
        }
        Ok(expiry_of(parsed.expire)?.map(GetExOption::Expire))
    });
    let result = option.and_then(|option| ctx.access.getex(args[1], option));
    // Redis parses the amount after looking the key up: a missing key is nil and another type
    // WRONGTYPE even when the amount is bad.
    let result = result.or_else(|error| match error {
        Error::Syntax | Error::WrongType => Err(error),
        _ => match ctx.access.key_type(args[1]) {
            Ok(None) => Ok(None),
            Ok(Some(kind)) if kind != crate::engine::Kind::String => Err(Error::WrongType),
            _ => Err(error),
        },
    });
    ctx.result(result, |reply, value| reply.bulk_or_null(value.as_deref()));
}

fn strlen<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = ctx.access.strlen(args[1]);
    ctx.result(result, |reply, len| reply.integer(len as i64));
}

fn append<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = ctx.access.append(args[1], args[2]);
    ctx.result(result, |reply, len| reply.integer(len as i64));
}

fn getrange<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = args::int(args[2])
        .and_then(|start| Ok((start, args::int(args[3])?)))
        .and_then(|(start, end)| ctx.access.getrange(args[1], start, end));
    ctx.result(result, |reply, value| reply.bulk(&value));
}

fn setrange<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = args::int(args[2]).and_then(|offset| {
        if offset < 0 {
            return Err(Error::Other("ERR offset is out of range"));
        }
        ctx.access.setrange(args[1], offset, args[3])
    });
    ctx.result(result, |reply, len| reply.integer(len as i64));
}

fn incr<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = ctx.access.incr(args[1]);
    ctx.result(result, |reply, value| reply.integer(value));
}

fn decr<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = ctx.access.decr(args[1]);
    ctx.result(result, |reply, value| reply.integer(value));
}

fn incrby<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = args::int(args[2]).and_then(|delta| ctx.access.incr_by(args[1], delta));
    ctx.result(result, |reply, value| reply.integer(value));
}

fn decrby<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = args::int(args[2]).and_then(|delta| ctx.access.decr_by(args[1], delta));
    ctx.result(result, |reply, value| reply.integer(value));
}

fn incrbyfloat<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = ctx.access.incr_by_float(args[1], args[2]);
    ctx.result(result, |reply, value| reply.bulk(&value));
}

fn mget<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = ctx.access.mget(&args[1..]);
    ctx.result(result, |reply, values| {
        reply.array(values.len());
        for value in &values {
            reply.bulk_or_null(value.as_deref());
        }
    });
}

fn pairs<'a>(args: &[&'a [u8]]) -> Option<Vec<(&'a [u8], &'a [u8])>> {
    let rest = &args[1..];
    rest.len()
        .is_multiple_of(2)
        .then(|| rest.chunks_exact(2).map(|pair| (pair[0], pair[1])).collect())
}

fn mset<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let Some(pairs) = pairs(args) else {
        return ctx.error_text(args::wrong_arity("mset"));
    };
    let result = ctx.access.mset(&pairs);
    ctx.result(result, |reply, ()| reply.ok());
}

fn msetnx<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let Some(pairs) = pairs(args) else {
        return ctx.error_text(args::wrong_arity("msetnx"));
    };
    let result = ctx.access.msetnx(&pairs);
    ctx.result(result, |reply, set| reply.integer(set as i64));
}
