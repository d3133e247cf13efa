//! Generic key and keyspace commands.
//!
//! This file registers the family and holds the commands on named keys (DEL, EXISTS, TYPE,
//! RENAME, COPY, MOVE, TOUCH); the rest live beside it:
//!
//! - `keys/expire.rs`: EXPIRE and its variants, TTL and its variants, PERSIST;
//! - `keys/keyspace.rs`: whole-database commands (KEYS, SCAN, RANDOMKEY, DBSIZE, FLUSHDB,
//!   FLUSHALL, SWAPDB) and the clock ones (TIME, LASTSAVE);
//! - `keys/object.rs`: OBJECT, with Redis 7.0's encoding names.
//!
//! # Commands across databases
//!
//! COPY ... DB and MOVE touch a key in two databases, while an engine transaction locks keys
//! of one. They lock one key in each database with two nested transactions, always taking the
//! database with the lower address first: a total order that SWAPDB (which only remaps logical
//! indexes) never changes, so two commands going opposite ways cannot deadlock. Both are marked
//! [`Flags::KEYSPACE`], so inside EXEC they run between the transaction's key-locked segments
//! and never wait for a lock while holding EXEC's.

mod expire;
mod keyspace;
mod object;

use crate::commands::args::{self, is};
use crate::commands::{Command, Ctx, Flags, KeySpec, cmd};
use crate::engine::ops::keys::KeyOps;
use crate::engine::{Access, Db, Error, Txn};

const W: Flags = Flags::WRITE;
const R: Flags = Flags::READONLY;
const F: Flags = Flags::FAST;
const M: Flags = Flags::DENYOOM;
const KS: Flags = Flags::KEYSPACE;
const KEY: KeySpec = KeySpec::Range { first: 1, last: 1, step: 1 };
const ALL: KeySpec = KeySpec::Range { first: 1, last: -1, step: 1 };
const TWO: KeySpec = KeySpec::Range { first: 1, last: 2, step: 1 };

pub(super) fn commands() -> Vec<Command> {
    let g = "generic";
    let mut all = vec![
        Command::new("del", -2, W, ALL, g, "Deletes one or more keys.", cmd!(del)),
        Command::new(
            "unlink",
            -2,
            W | F,
            ALL,
            g,
            "Asynchronously deletes one or more keys.",
            cmd!(del),
        ),
        Command::new(
            "exists",
            -2,
            R | F,
            ALL,
            g,
            "Determines whether one or more keys exist.",
            cmd!(exists),
        ),
        Command::new(
            "type",
            2,
            R | F,
            KEY,
            g,
            "Determines the type of value stored at a key.",
            cmd!(key_type),
        ),
        Command::new(
            "rename",
            3,
            W,
            TWO,
            g,
            "Renames a key and overwrites the destination.",
            cmd!(rename),
        ),
        Command::new(
            "renamenx",
            3,
            W | F,
            TWO,
            g,
            "Renames a key only when the target key name doesn't exist.",
            cmd!(renamenx),
        ),
        Command::new(
            "copy",
            -3,
            W | M | KS,
            TWO,
            g,
            "Copies the value of a key to a new key.",
            cmd!(copy),
        ),
        Command::new(
            "move",
            3,
            W | F | KS,
            KEY,
            g,
            "Moves a key to another database.",
            cmd!(move_key),
        ),
        Command::new(
            "touch",
            -2,
            R | F,
            ALL,
            g,
            "Returns the number of existing keys out of those specified after updating the time \
             they were last accessed.",
            cmd!(exists),
        ),
    ];
    all.extend(expire::commands());
    all.extend(keyspace::commands());
    all.extend(object::commands());
    all
}

fn del<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = ctx.access.del(&args[1..]);
    ctx.result(result, |reply, count| reply.integer(count as i64));
}

/// EXISTS and TOUCH: both count the keys that exist (a key named twice counts twice); the
/// lookup records an access, which is all TOUCH is for.
fn exists<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = ctx.access.exists(&args[1..]);
    ctx.result(result, |reply, count| reply.integer(count as i64));
}

fn key_type<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = ctx.access.key_type(args[1]);
    ctx.result(result, |reply, kind| {
        reply.simple(kind.map_or("none", |kind| kind.name()).as_bytes())
    });
}

fn rename<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    // Renaming a key to itself changes nothing (Redis does not even bump the key for WATCH);
    // only a missing source is an error.
    let result = if args[1] == args[2] {
        ctx.access
            .view(args[1], |view| view.is_some())
            .and_then(|exists| if exists { Ok(()) } else { Err(Error::NoSuchKey) })
    } else {
        ctx.access.rename(args[1], args[2])
    };
    ctx.result(result, |reply, ()| reply.ok());
}

fn renamenx<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let result = ctx.access.renamenx(args[1], args[2]);
    ctx.result(result, |reply, renamed| reply.integer(renamed as i64));
}

/// A database index as COPY and MOVE take it (`getIntFromObjectOrReply`, then `selectDb`).
fn db_index<A: Access>(ctx: &Ctx<'_, A>, arg: &[u8]) -> Result<usize, Error> {
    let index = args::int(arg)?;
    if i32::try_from(index).is_err() {
        return Err(Error::Other(
            "ERR value is out of range, value must between -2147483648 and 2147483647",
        ));
    }
    usize::try_from(index)
        .ok()
        .filter(|&index| index < ctx.shared.engine.databases())
        .ok_or(Error::DbIndexOutOfRange)
}

/// COPY source destination [DB index] [REPLACE].
fn copy<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let mut replace = false;
    let mut target = ctx.client.db;
    let mut j = 3;
    while j < args.len() {
        if is(args[j], "replace") {
            replace = true;
        } else if is(args[j], "db") && j + 1 < args.len() {
            match db_index(ctx, args[j + 1]) {
                Ok(index) => target = index,
                Err(error) => return ctx.error(error),
            }
            j += 1;
        } else {
            return ctx.error(Error::Syntax);
        }
        j += 1;
    }
    let (source, destination) = (args[1], args[2]);
    let result = if target == ctx.client.db {
        ctx.access.copy(source, destination, replace)
    } else {
        let (source_db, target_db) = (ctx.db(), ctx.shared.engine.db(target));
        with_keys_in_two_dbs(source_db, source, target_db, destination, |from, to| {
            let Some(value) = from.copy_value(source)? else { return Ok(false) };
            if !replace && to.view(destination, |view| view.is_some())? {
                return Ok(false);
            }
            to.put(destination, value)?;
            Ok(true)
        })
    };
    if result == Ok(true) && target != ctx.client.db {
        signal_key(ctx, target, destination);
    }
    ctx.result(result, |reply, copied| reply.integer(copied as i64));
}

/// MOVE key db: moves the key, with its TTL, to another database unless it exists there.
///
/// Both keys are locked for the whole move, so no other command sees the key half-moved and
/// the outcome is exactly one copy. The two databases' transactions publish one after the
/// other, though, so for that instant a reader of both databases may see the key in both (or
/// in neither); never afterwards.
fn move_key<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let key = args[1];
    let target = match db_index(ctx, args[2]) {
        Ok(target) => target,
        Err(error) => return ctx.error(error),
    };
    if target == ctx.client.db {
        return ctx.error(Error::Other("ERR source and destination objects are the same"));
    }
    let (source_db, target_db) = (ctx.db(), ctx.shared.engine.db(target));
    let result = with_keys_in_two_dbs(source_db, key, target_db, key, |from, to| {
        if from.view(key, |view| view.is_none())? || to.view(key, |view| view.is_some())? {
            return Ok(false);
        }
        let value = from.take(key)?.ok_or(Error::NoSuchKey)?;
        to.put(key, value)?;
        Ok(true)
    });
    if result == Ok(true) {
        signal_key(ctx, target, key);
    }
    ctx.result(result, |reply, moved| reply.integer(moved as i64));
}

/// Runs `f` with `first_key` locked in `first_db` and `second_key` in `second_db` (two
/// different databases), taking them in address order (see the module docs).
fn with_keys_in_two_dbs<R>(
    first_db: &Db,
    first_key: &[u8],
    second_db: &Db,
    second_key: &[u8],
    f: impl FnOnce(&Txn<'_>, &Txn<'_>) -> crate::Result<R>,
) -> crate::Result<R> {
    debug_assert!(!std::ptr::eq(first_db, second_db), "one database needs one transaction");
    if (first_db as *const Db) < (second_db as *const Db) {
        first_db.transaction(&[first_key], |first| {
            second_db.transaction(&[second_key], |second| f(first, second))
        })
    } else {
        second_db.transaction(&[second_key], |second| {
            first_db.transaction(&[first_key], |first| f(first, second))
        })
    }
}

/// Wakes clients blocked on `key` in database `db` (dispatch signals only the command's own
/// database).
fn signal_key<A: Access>(ctx: &Ctx<'_, A>, db: usize, key: &[u8]) {
    if ctx.shared.blocking.active() {
        ctx.shared.blocking.signal(&ctx.shared.inboxes, db, &[key]);
    }
}
