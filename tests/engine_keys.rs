//! Key commands through the embedded API.

use corekv::engine::Kind;
use corekv::engine::ops::{ExpireCondition, TimeUnit};
use corekv::{Engine, Error, prelude::*};

fn engine() -> Engine {
    Engine::builder().shards(4).maintenance_threads(0).seed(2).build()
}

fn expire(db: &corekv::Db, key: &[u8], seconds: i64, condition: ExpireCondition) -> bool {
    db.expire(key, seconds, TimeUnit::Seconds, true, condition, "expire").unwrap()
}

#[test]
fn del_exists_type() {
    let engine = engine();
    let db = engine.db(0);
    db.set(b"a", b"1").unwrap();
    db.set(b"b", b"2").unwrap();
    assert_eq!(db.exists(&[b"a", b"a", b"b", b"c"]).unwrap(), 3);
    assert_eq!(db.key_type(b"a").unwrap(), Some(Kind::String));
    assert_eq!(db.key_type(b"c").unwrap(), None);
    assert_eq!(db.del(&[b"a", b"b", b"c"]).unwrap(), 2);
    assert_eq!(db.exists(&[b"a", b"b"]).unwrap(), 0);
    assert!(db.is_empty());
}

#[test]
fn rename_moves_value_and_ttl() {
    let engine = engine();
    let db = engine.db(0);
    assert_eq!(db.rename(b"x", b"y"), Err(Error::NoSuchKey));
    db.set(b"x", b"1").unwrap();
    expire(db, b"x", 100, ExpireCondition::Always);
    db.set(b"y", b"old").unwrap();
    db.rename(b"x", b"y").unwrap();
    assert_eq!(db.get(b"x").unwrap(), None);
    assert_eq!(db.get(b"y").unwrap(), Some(b"1".to_vec()));
    assert_eq!(db.ttl(b"y").unwrap(), 100);
    db.rename(b"y", b"y").unwrap();
    assert_eq!(db.get(b"y").unwrap(), Some(b"1".to_vec()));
    db.set(b"z", b"2").unwrap();
    assert!(!db.renamenx(b"y", b"z").unwrap());
    assert!(db.renamenx(b"y", b"w").unwrap());
    assert!(!db.renamenx(b"w", b"w").unwrap());
    assert_eq!(db.renamenx(b"nope", b"q"), Err(Error::NoSuchKey));
}

#[test]
fn copy_keeps_source() {
    let engine = engine();
    let db = engine.db(0);
    db.set(b"s", b"v").unwrap();
    assert!(db.copy(b"s", b"d", false).unwrap());
    assert!(!db.copy(b"s", b"d", false).unwrap());
    db.set(b"s", b"w").unwrap();
    assert!(db.copy(b"s", b"d", true).unwrap());
    assert_eq!(db.get(b"d").unwrap(), Some(b"w".to_vec()));
    assert_eq!(db.get(b"s").unwrap(), Some(b"w".to_vec()));
    assert!(!db.copy(b"missing", b"d", true).unwrap());
    assert!(db.copy(b"s", b"s", true).is_err());
}

#[test]
fn expire_conditions() {
    let engine = engine();
    let db = engine.db(0);
    db.set(b"k", b"v").unwrap();
    assert!(!expire(db, b"k", 100, ExpireCondition::Xx));
    assert!(!expire(db, b"k", 100, ExpireCondition::Gt)); // no TTL counts as infinite
    assert!(expire(db, b"k", 100, ExpireCondition::Lt));
    assert!(!expire(db, b"k", 200, ExpireCondition::Nx));
    assert!(expire(db, b"k", 200, ExpireCondition::Gt));
    assert!(!expire(db, b"k", 150, ExpireCondition::Gt));
    assert!(expire(db, b"k", 150, ExpireCondition::Xx));
    assert_eq!(db.ttl(b"k").unwrap(), 150);
    assert!(db.pttl(b"k").unwrap() > 149_000);
    assert!(db.expiretime(b"k").unwrap() > 1_700_000_000);
    assert!(db.persist(b"k").unwrap());
    assert!(!db.persist(b"k").unwrap());
    assert_eq!(db.ttl(b"k").unwrap(), -1);
    assert_eq!(db.expiretime(b"k").unwrap(), -1);
    assert_eq!(db.pexpiretime(b"missing").unwrap(), -2);
    assert!(!expire(db, b"missing", 10, ExpireCondition::Always));
}

#[test]
fn expire_in_the_past_deletes() {
    let engine = engine();
    let db = engine.db(0);
    db.set(b"k", b"v").unwrap();
    assert!(expire(db, b"k", -1, ExpireCondition::Always));
    assert_eq!(db.get(b"k").unwrap(), None);
    db.set(b"k", b"v").unwrap();
    assert!(
        db.expire(b"k", 1, TimeUnit::Milliseconds, false, ExpireCondition::Always, "pexpireat")
            .unwrap()
    );
    assert_eq!(db.exists(&[b"k"]).unwrap(), 0);
    let error =
        db.expire(b"k", i64::MAX, TimeUnit::Seconds, true, ExpireCondition::Always, "expire");
    assert_eq!(error.unwrap_err().to_string(), "ERR invalid expire time in 'expire' command");
}

#[test]
fn keys_scan_random_flush() {
    let engine = engine();
    let db = engine.db(0);
    for index in 0..100 {
        db.set(format!("user:{index}").as_bytes(), b"x").unwrap();
    }
    db.set(b"other", b"y").unwrap();
    let mut users = db.keys(b"user:*");
    users.sort();
    assert_eq!(users.len(), 100);
    assert_eq!(db.keys(b"user:1?").len(), 10);
    let mut cursor = 0;
    let mut seen = Vec::new();
    loop {
        let page = db.scan(cursor, b"*", 10, None);
        seen.extend(page.keys);
        cursor = page.cursor;
        if cursor == 0 {
            break;
        }
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 101);
    assert_eq!(db.scan(0, b"*", 1000, Some(Kind::Hash)).keys.len(), 0);
    assert!(db.random_key().is_some());
    assert_eq!(db.len(), 101);
    db.flush();
    assert_eq!(db.len(), 0);
    assert_eq!(db.random_key(), None);
}

#[test]
fn databases_are_separate_and_swap() {
    let engine = engine();
    engine.db(0).set(b"k", b"zero").unwrap();
    engine.db(1).set(b"k", b"one").unwrap();
    engine.swap_db(0, 1).unwrap();
    assert_eq!(engine.db(0).get(b"k").unwrap(), Some(b"one".to_vec()));
    assert_eq!(engine.db(1).get(b"k").unwrap(), Some(b"zero".to_vec()));
    assert!(engine.try_db(16).is_err());
    assert!(engine.swap_db(0, 16).is_err());
    engine.flush_all();
    assert!(engine.db(0).is_empty() && engine.db(1).is_empty());
}

#[test]
fn used_memory_returns_to_zero() {
    let engine = engine();
    let db = engine.db(0);
    assert_eq!(engine.used_memory_bytes(), 0);
    for index in 0..1000 {
        let key = format!("key:{index}:{}", "x".repeat(index % 40));
        db.set(key.as_bytes(), &vec![b'v'; index % 100]).unwrap();
    }
    let full = engine.used_memory_bytes();
    assert!(full > 1000 * 48, "{full}");
    db.flush();
    assert_eq!(engine.used_memory_bytes(), 0);
}

#[test]
fn active_expiry_reclaims_keys_and_memory() {
    let engine = Engine::builder().shards(8).maintenance_threads(0).build();
    let db = engine.db(3);
    for index in 0..500 {
        let key = format!("session:{index}");
        db.set_expiring(
            key.as_bytes(),
            b"data",
            corekv::engine::ops::Expiry::Milliseconds(20),
            "psetex",
        )
        .unwrap();
    }
    assert_eq!(db.volatile_len(), 500);
    std::thread::sleep(std::time::Duration::from_millis(40));
    let deleted: usize = (0..engine.owners()).map(|owner| engine.run_expiry_cycle(owner)).sum();
    assert_eq!(deleted, 500);
    assert_eq!(db.len(), 0);
    assert_eq!(db.volatile_len(), 0);
    assert_eq!(engine.used_memory_bytes(), 0);
    assert_eq!(engine.expired_keys(), 500, "INFO expired_keys counts the cycle's removals");
    // A read that finds a key past its deadline removes it, and counts it too.
    db.set_expiring(b"lazy", b"v", corekv::engine::ops::Expiry::Milliseconds(1), "psetex").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(5));
    assert_eq!(db.get(b"lazy").unwrap(), None);
    assert_eq!(engine.expired_keys(), 501);
}
