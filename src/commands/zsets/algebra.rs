//! ZUNION, ZINTER, ZDIFF, ZUNIONSTORE, ZINTERSTORE, ZDIFFSTORE and ZINTERCARD, parsed as
//! Redis's `zunionInterDiffGenericCommand` does.
//!
//! Redis checks `numkeys`, then the type of every input key, then the options; so an option
//! error is replied only after the inputs' types were checked (WRONGTYPE wins).

use super::{R, W, command, write_members};
use crate::commands::args::{self, is};
use crate::commands::{Command, Ctx, Flags, KeySpec, cmd};
use crate::engine::ops::{ZSetAlgebra, ZSetOps};
use crate::engine::types::zset::Aggregate;
use crate::engine::{Access, Error, Kind};

pub(super) fn commands() -> Vec<Command> {
    let m = Flags::MOVABLE_KEYS;
    let sources = KeySpec::NumKeys { numkeys: 1, extra: 0 };
    let store = KeySpec::NumKeys { numkeys: 2, extra: 1 };
    vec![
        command(
            "zunion",
            -3,
            R | m,
            sources,
            "Returns the union of multiple sorted sets.",
            cmd!(zunion),
        ),
        command(
            "zinter",
            -3,
            R | m,
            sources,
            "Returns the intersect of multiple sorted sets.",
            cmd!(zinter),
        ),
        command(
            "zdiff",
            -3,
            R | m,
            sources,
            "Returns the difference between multiple sorted sets.",
            cmd!(zdiff),
        ),
        command(
            "zunionstore",
            -4,
            W | Flags::DENYOOM | m,
            store,
            "Stores the union of multiple sorted sets in a key.",
            cmd!(zunionstore),
        ),
        command(
            "zinterstore",
            -4,
            W | Flags::DENYOOM | m,
            store,
            "Stores the intersect of multiple sorted sets in a key.",
            cmd!(zinterstore),
        ),
        command(
            "zdiffstore",
            -4,
            W | Flags::DENYOOM | m,
            store,
            "Stores the difference of multiple sorted sets in a key.",
            cmd!(zdiffstore),
        ),
        command(
            "zintercard",
            -3,
            R | m,
            sources,
            "Returns the number of members of the intersect of multiple sorted sets.",
            cmd!(zintercard),
        ),
    ]
}

/// Redis's error for `numkeys` 0, which names the command.
macro_rules! no_keys {
    ($name:literal) => {
        concat!("ERR at least 1 input key is needed for '", $name, "' command")
    };
}

/// What the command does with the result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    /// ZUNION, ZINTER, ZDIFF: reply with it (WITHSCORES allowed).
    Reply,
    /// The STORE forms: store it at argument 1.
    Store,
    /// ZINTERCARD: count it (LIMIT allowed).
    Card,
}

/// The options after the keys.
struct Options {
    weights: Vec<f64>,
    aggregate: Aggregate,
    withscores: bool,
    limit: u64,
}

/// The input keys, after `numkeys` at `numkeys_at`.
fn parse_keys<'a>(
    args: &'a [&'a [u8]],
    numkeys_at: usize,
    no_keys: &'static str,
) -> Result<&'a [&'a [u8]], Error> {
    let numkeys = args::int(args[numkeys_at])?;
    if numkeys < 1 {
        return Err(Error::Other(no_keys));
    }
    let available = args.len() - (numkeys_at + 1);
    if numkeys as u64 > available as u64 {
        return Err(Error::Syntax);
    }
    Ok(&args[numkeys_at + 1..numkeys_at + 1 + numkeys as usize])
}

/// WEIGHTS, AGGREGATE, WITHSCORES, LIMIT, as far as `operation` and `form` allow them.
fn parse_options(
    options: &[&[u8]],
    inputs: usize,
    operation: ZSetAlgebra,
    form: Form,
) -> Result<Options, Error> {
    let mut parsed =
        Options { weights: Vec::new(), aggregate: Aggregate::Sum, withscores: false, limit: 0 };
    let weighted = operation != ZSetAlgebra::Difference && form != Form::Card;
    let mut index = 0;
    while index < options.len() {
        let option = options[index];
        let remaining = options.len() - index;
        if weighted && remaining > inputs && is(option, "weights") {
            parsed.weights = options[index + 1..=index + inputs]
                .iter()
                .map(|weight| {
                    args::float(weight).map_err(|_| Error::Other("ERR weight value is not a float"))
                })
                .collect::<Result<_, _>>()?;
            index += 1 + inputs;
        } else if weighted && remaining >= 2 && is(option, "aggregate") {
            let value = options[index + 1];
            parsed.aggregate = if is(value, "sum") {
                Aggregate::Sum
            } else if is(value, "min") {
                Aggregate::Min
            } else if is(value, "max") {
                Aggregate::Max
            } else {
                return Err(Error::Syntax);
            };
            index += 2;
        } else if form == Form::Reply && is(option, "withscores") {
            parsed.withscores = true;
            index += 1;
        } else if form == Form::Card && remaining >= 2 && is(option, "limit") {
            let limit = args::int(options[index + 1])
                .ok()
                .filter(|&limit| limit >= 0)
                .ok_or(Error::Other("ERR LIMIT can't be negative"))?;
            parsed.limit = limit as u64;
            index += 2;
        } else {
            return Err(Error::Syntax);
        }
    }
    Ok(parsed)
}

/// Runs one of the family: `numkeys_at` is 1, or 2 after a STORE destination. `no_keys` is
/// the error for `numkeys` 0, which Redis words with the command's name.
fn run<A: Access>(
    ctx: &mut Ctx<'_, A>,
    args: &[&[u8]],
    no_keys: &'static str,
    operation: ZSetAlgebra,
    form: Form,
) {
    let numkeys_at = if form == Form::Store { 2 } else { 1 };
    let keys = match parse_keys(args, numkeys_at, no_keys) {
        Ok(keys) => keys,
        Err(error) => return ctx.error(error),
    };
    let options =
        match parse_options(&args[numkeys_at + 1 + keys.len()..], keys.len(), operation, form) {
            Ok(options) => options,
            Err(error) => {
                let kinds = [Kind::ZSet, Kind::Set];
                let types =
                    ctx.access.atomically(keys, |txn| txn.read_collections(keys, &kinds, |_| ()));
                return ctx.error(types.err().unwrap_or(error));
            }
        };
    let access = ctx.access;
    let Options { weights, aggregate, withscores, limit } = options;
    match form {
        Form::Reply => {
            let result = access.zset_algebra(operation, keys, &weights, aggregate);
            ctx.result(result, |reply, members| write_members(reply, &members, withscores));
        }
        Form::Store => {
            let result = access.zset_algebra_store(operation, args[1], keys, &weights, aggregate);
            ctx.result(result, |reply, len| reply.integer(len as i64));
        }
        Form::Card => {
            let result = access.zintercard(keys, limit);
            ctx.result(result, |reply, count| reply.integer(count as i64));
        }
    }
}

fn zunion<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    run(ctx, args, no_keys!("zunion"), ZSetAlgebra::Union, Form::Reply);
}

fn zinter<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    run(ctx, args, no_keys!("zinter"), ZSetAlgebra::Intersection, Form::Reply);
}

fn zdiff<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    run(ctx, args, no_keys!("zdiff"), ZSetAlgebra::Difference, Form::Reply);
}

fn zunionstore<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    run(ctx, args, no_keys!("zunionstore"), ZSetAlgebra::Union, Form::Store);
}

fn zinterstore<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    run(ctx, args, no_keys!("zinterstore"), ZSetAlgebra::Intersection, Form::Store);
}

fn zdiffstore<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    run(ctx, args, no_keys!("zdiffstore"), ZSetAlgebra::Difference, Form::Store);
}

fn zintercard<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    run(ctx, args, no_keys!("zintercard"), ZSetAlgebra::Intersection, Form::Card);
}
