//! OBJECT ENCODING | FREQ | IDLETIME | REFCOUNT | HELP.
//!
//! corekv stores values its own way; ENCODING reports the encoding Redis 7.0 would use for the
//! value as it is now, by Redis's default thresholds, so clients and tests that look at
//! encodings behave alike. Redis converts one way only (a hash that grew past 128 fields stays
//! `hashtable` after shrinking) and marks strings changed in place (APPEND, SETRANGE) `raw`;
//! corekv, not tracking history, reports the encoding of the current contents.

use crate::commands::args::{self, is};
use crate::commands::{Command, Ctx, Flags, KeySpec, cmd};
use crate::engine::clock::{LRU_CLOCK_BITS, lru_clock, now_ms};
use crate::engine::{Access, Collection, StrValue, ValueRef, num};

/// `hash-max-listpack-entries` and `zset-max-listpack-entries` (Redis 7.0 defaults).
const MAX_LISTPACK_ENTRIES: usize = 128;
/// `hash-max-listpack-value` and `zset-max-listpack-value`: the longest element a listpack
/// keeps.
const MAX_LISTPACK_VALUE_BYTES: usize = 64;
/// `set-max-intset-entries`.
const MAX_INTSET_ENTRIES: usize = 512;
/// `OBJ_ENCODING_EMBSTR_SIZE_LIMIT`: strings up to this length are embedded in their object.
const MAX_EMBSTR_BYTES: usize = 44;
/// `OBJ_SHARED_INTEGERS`: Redis shares one object for each integer below this.
const SHARED_INTEGERS: i64 = 10_000;
/// The longest integer `string2l` accepts (`-9223372036854775808`).
const MAX_INTEGER_BYTES: usize = 20;
/// How often ENCODING retries when the key changes type between its two reads.
const MAX_ATTEMPTS: usize = 4;

const SUBCOMMANDS: [(&str, usize); 5] =
    [("encoding", 3), ("freq", 3), ("idletime", 3), ("refcount", 3), ("help", 2)];

pub(super) fn commands() -> Vec<Command> {
    vec![
        // Runs outside EXEC's key-locked segments (KEYSPACE): its key is at position 2 of the
        // subcommands only, as Redis lists it, and the handler reads the database directly so
        // it can skip recording an access.
        Command::new(
            "object",
            -2,
            Flags::KEYSPACE,
            KeySpec::None,
            "generic",
            "A container for object introspection commands.",
            cmd!(object),
        )
        .with_subcommands(&[
            ("encoding", 3),
            ("freq", 3),
            ("help", 2),
            ("idletime", 3),
            ("refcount", 3),
        ]),
    ]
}

const HELP: &[&str] = &[
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
];

const LFU_NOT_SELECTED: &str = "ERR An LFU maxmemory policy is not selected, access frequency \
     not tracked. Please note that when switching between policies at runtime LRU and LFU data \
     will take some time to adjust.";

const LFU_SELECTED: &str = "ERR An LFU maxmemory policy is selected, idle time not tracked. \
     Please note that when switching between policies at runtime LRU and LFU data will take some \
     time to adjust.";

/// Whether `maxmemory-policy` is one of the LFU ones (Redis then tracks no idle time).
fn lfu_selected<A: Access>(ctx: &Ctx<'_, A>) -> bool {
    // The engine's copy of the policy: the one that decides what the access bits hold.
    ctx.shared.engine.memory_limit().policy.uses_lfu()
}

fn object<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let sub = args[1];
    let Some(&(name, arity)) = SUBCOMMANDS.iter().find(|(name, _)| is(sub, name)) else {
        return ctx.error_text(args::unknown_subcommand("object", sub));
    };
    if args.len() != arity {
        return ctx.error_text(args::wrong_arity(&format!("object|{name}")));
    }
    if name == "help" {
        return super::super::server_cmds::help(ctx, "OBJECT", HELP);
    }
    let key = args[2];
    match name {
        "encoding" => match encoding(ctx, key) {
            Some(encoding) => ctx.reply().bulk(encoding.as_bytes()),
            None => ctx.reply().null(),
        },
        "refcount" => match ctx.db().peek(key, |view| view.map(|view| refcount(view.value))) {
            Some(count) => ctx.reply().integer(count),
            None => ctx.reply().null(),
        },
        "idletime" => match ctx.db().peek(key, |view| view.map(|view| view.access_clock)) {
            Some(_) if lfu_selected(ctx) => ctx.error_text(LFU_SELECTED),
            Some(access_clock) => ctx.reply().integer(idle_seconds(access_clock, now_ms())),
            None => ctx.reply().null(),
        },
        // FREQ: under an LFU policy the access bits hold Redis's counter, reported decayed
        // to now (`LFUDecrAndReturn`); otherwise they hold the LRU clock and, as in Redis,
        // an existing key gets the error.
        _ => match ctx.db().peek(key, |view| view.map(|view| view.access_clock)) {
            Some(bits) if lfu_selected(ctx) => {
                let frequency = ctx.shared.engine.lfu_frequency(bits);
                ctx.reply().integer(i64::from(frequency))
            }
            Some(_) => ctx.error_text(LFU_NOT_SELECTED),
            None => ctx.reply().null(),
        },
    }
}

/// The key's encoding name, `None` when it is missing.
fn encoding<A: Access>(ctx: &Ctx<'_, A>, key: &[u8]) -> Option<&'static str> {
    let db = ctx.db();
    for _ in 0..MAX_ATTEMPTS {
        let looked = db.peek(key, |view| view.map(|v| (v.value.kind(), string_encoding(v.value))));
        let kind = match looked {
            None => return None,
            Some((_, Some(encoding))) => return Some(encoding),
            Some((kind, None)) => kind,
        };
        // A collection's contents need its lock. (This read records an access, unlike the
        // peek; Redis's OBJECT does not.)
        match db.read_collection(key, kind, collection_encoding) {
            Ok(found) => return found,
            // Replaced by a value of another type in between: look again.
            Err(_) => continue,
        }
    }
    None
}

/// A string's encoding by `tryObjectEncoding`'s rules; `None` for a collection.
fn string_encoding(value: ValueRef<'_>) -> Option<&'static str> {
    let ValueRef::Str(value) = value else { return None };
    Some(match value {
        StrValue::Int(_) => "int",
        StrValue::Raw(bytes)
            if bytes.len() <= MAX_INTEGER_BYTES && num::parse_i64(bytes).is_some() =>
        {
            "int"
        }
        StrValue::Raw(bytes) if bytes.len() <= MAX_EMBSTR_BYTES => "embstr",
        StrValue::Raw(_) => "raw",
    })
}

/// A collection's encoding by Redis 7.0's default thresholds. Looks at no more elements than
/// the threshold, so it is O(1) for big collections.
fn collection_encoding(collection: &Collection) -> &'static str {
    let short = |bytes: &[u8]| bytes.len() <= MAX_LISTPACK_VALUE_BYTES;
    match collection {
        // Redis 7.0 keeps every list in a quicklist (listpack lists came with 7.2).
        Collection::List(_) => "quicklist",
        Collection::Hash(hash) => {
            let small = hash.len() <= MAX_LISTPACK_ENTRIES
                && hash.entries().all(|(field, value)| short(field) && short(value));
            if small { "listpack" } else { "hashtable" }
        }
        Collection::Set(set) => {
            let integers = set.len() <= MAX_INTSET_ENTRIES
                && set.members().all(|member| num::parse_i64(member).is_some());
            if integers { "intset" } else { "hashtable" }
        }
        Collection::ZSet(zset) => {
            let small = zset.len() <= MAX_LISTPACK_ENTRIES as u64
                && zset.iter().all(|(member, _)| short(member));
            if small { "listpack" } else { "skiplist" }
        }
    }
}

/// REFCOUNT: Redis shares the objects of the integers 0..9999 (reported as `INT_MAX`); every
/// other value has one reference.
fn refcount(value: ValueRef<'_>) -> i64 {
    let integer = match value {
        ValueRef::Str(StrValue::Int(value)) => Some(*value),
        ValueRef::Str(StrValue::Raw(bytes)) if bytes.len() <= MAX_INTEGER_BYTES => {
            num::parse_i64(bytes)
        }
        _ => None,
    };
    match integer {
        Some(value) if (0..SHARED_INTEGERS).contains(&value) => i64::from(i32::MAX),
        _ => 1,
    }
}

/// Seconds since the access recorded in the LRU clock (`estimateObjectIdleTime`: the clock
/// wraps every 2^24 seconds).
fn idle_seconds(access_clock: u32, now_ms: u64) -> i64 {
    let now = lru_clock(now_ms);
    let idle = if now >= access_clock {
        now - access_clock
    } else {
        now + ((1u32 << LRU_CLOCK_BITS) - 1 - access_clock)
    };
    i64::from(idle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Kind, SmallBytes};

    #[test]
    fn string_encodings_follow_redis_rules() {
        let raw = |text: &[u8]| StrValue::Raw(SmallBytes::new(text));
        let encode = |value: &StrValue| string_encoding(ValueRef::Str(value));
        assert_eq!(encode(&StrValue::Int(-5)), Some("int"));
        assert_eq!(encode(&raw(b"12345")), Some("int"));
        assert_eq!(encode(&raw(b"0123")), Some("embstr"));
        assert_eq!(encode(&raw(b"")), Some("embstr"));
        assert_eq!(encode(&raw(&[b'x'; 44])), Some("embstr"));
        assert_eq!(encode(&raw(&[b'x'; 45])), Some("raw"));
        assert_eq!(refcount(ValueRef::Str(&raw(b"9999"))), 2_147_483_647);
        assert_eq!(refcount(ValueRef::Str(&StrValue::Int(10_000))), 1);
        assert_eq!(refcount(ValueRef::Str(&StrValue::Int(-1))), 1);
        assert_eq!(refcount(ValueRef::Collection(Kind::List)), 1);
    }

    #[test]
    fn collection_encodings_follow_redis_7_0_thresholds() {
        use crate::engine::types::{hash::HashValue, set::SetValue, zset::ZSetValue};
        let bytes = |text: &[u8]| SmallBytes::new(text);
        let mut hash = HashValue::new();
        hash.set(bytes(b"f"), bytes(&[b'v'; 64]));
        assert_eq!(collection_encoding(&Collection::Hash(hash.clone())), "listpack");
        hash.set(bytes(b"g"), bytes(&[b'v'; 65]));
        assert_eq!(collection_encoding(&Collection::Hash(hash)), "hashtable");
        let mut hash = HashValue::new();
        for i in 0..=MAX_LISTPACK_ENTRIES {
            hash.set(bytes(i.to_string().as_bytes()), bytes(b"v"));
        }
        assert_eq!(collection_encoding(&Collection::Hash(hash)), "hashtable");

        let mut set = SetValue::new();
        set.add((0..MAX_INTSET_ENTRIES).map(|i| bytes(i.to_string().as_bytes())));
        assert_eq!(collection_encoding(&Collection::Set(set.clone())), "intset");
        set.add([bytes(b"-1")]);
        assert_eq!(collection_encoding(&Collection::Set(set)), "hashtable");
        let mut set = SetValue::new();
        set.add([bytes(b"1"), bytes(b"a")]);
        assert_eq!(collection_encoding(&Collection::Set(set)), "hashtable");

        let mut zset = ZSetValue::new();
        let flags = Default::default();
        zset.add(&[b'm'; 64], 1.0, flags).unwrap();
        assert_eq!(collection_encoding(&Collection::ZSet(zset.clone())), "listpack");
        zset.add(&[b'm'; 65], 1.0, flags).unwrap();
        assert_eq!(collection_encoding(&Collection::ZSet(zset)), "skiplist");
        let list = Collection::empty(Kind::List);
        assert_eq!(collection_encoding(&list), "quicklist");
    }

    #[test]
    fn idle_time_handles_the_clock_wrapping() {
        let now_ms = 5_000;
        assert_eq!(idle_seconds(lru_clock(now_ms), now_ms), 0);
        assert_eq!(idle_seconds(lru_clock(now_ms) - 3, now_ms), 3);
        let max = (1u32 << LRU_CLOCK_BITS) - 1;
        assert_eq!(idle_seconds(max - 1, now_ms), 5 + 1);
    }
}
