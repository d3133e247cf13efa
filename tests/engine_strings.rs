//! String commands through the embedded API, with Redis 7.0's semantics and error texts.

use corekv::engine::ops::{Expiry, GetExOption, SetCondition, SetOptions};
use corekv::{Engine, Error, prelude::*};

fn engine() -> Engine {
    Engine::builder().shards(4).maintenance_threads(0).seed(1).build()
}

#[test]
fn get_set_round_trip_binary_safe() {
    let engine = engine();
    let db = engine.db(0);
    let value: Vec<u8> = (0..=255).collect();
    db.set(b"\x00key\xff", &value).unwrap();
    assert_eq!(db.get(b"\x00key\xff").unwrap(), Some(value));
    assert_eq!(db.get(b"missing").unwrap(), None);
    db.set(b"empty", b"").unwrap();
    assert_eq!(db.get(b"empty").unwrap(), Some(Vec::new()));
}

#[test]
fn set_conditions_and_get_option() {
    let engine = engine();
    let db = engine.db(0);
    let nx = SetOptions { condition: SetCondition::Nx, ..Default::default() };
    let xx = SetOptions { condition: SetCondition::Xx, ..Default::default() };
    assert!(!db.set_with(b"k", b"1", xx).unwrap().written);
    assert_eq!(db.get(b"k").unwrap(), None);
    assert!(db.set_with(b"k", b"1", nx).unwrap().written);
    assert!(!db.set_with(b"k", b"2", nx).unwrap().written);
    assert!(db.set_with(b"k", b"3", xx).unwrap().written);
    let get = SetOptions { get: true, ..Default::default() };
    let outcome = db.set_with(b"k", b"4", get).unwrap();
    assert_eq!(outcome.previous, Some(b"3".to_vec()));
    // NX with GET returns the old value and does not write (Redis 7.0 allows NX+GET).
    let nx_get = SetOptions { condition: SetCondition::Nx, get: true, ..Default::default() };
    let outcome = db.set_with(b"k", b"5", nx_get).unwrap();
    assert_eq!((outcome.written, outcome.previous), (false, Some(b"4".to_vec())));
    assert_eq!(db.get(b"k").unwrap(), Some(b"4".to_vec()));
}

#[test]
fn set_get_on_wrong_type_fails_without_writing() {
    let engine = engine();
    let db = engine.db(0);
    db.set(b"s", b"v").unwrap();
    assert_eq!(db.getset(b"s", b"w").unwrap(), Some(b"v".to_vec()));
    assert_eq!(db.getdel(b"s").unwrap(), Some(b"w".to_vec()));
    assert_eq!(db.getdel(b"s").unwrap(), None);
}

#[test]
fn ttl_options_of_set() {
    let engine = engine();
    let db = engine.db(0);
    let ex = SetOptions { expiry: Some(Expiry::Seconds(100)), ..Default::default() };
    db.set_with(b"k", b"v", ex).unwrap();
    assert_eq!(db.ttl(b"k").unwrap(), 100);
    // A plain SET clears the TTL; KEEPTTL keeps it.
    db.set_with(b"k", b"v", ex).unwrap();
    let keep = SetOptions { keep_ttl: true, ..Default::default() };
    db.set_with(b"k", b"w", keep).unwrap();
    assert_eq!(db.ttl(b"k").unwrap(), 100);
    db.set(b"k", b"x").unwrap();
    assert_eq!(db.ttl(b"k").unwrap(), -1);
    for bad in [Expiry::Seconds(0), Expiry::Milliseconds(-5), Expiry::Seconds(i64::MAX)] {
        let options = SetOptions { expiry: Some(bad), ..Default::default() };
        let error = db.set_with(b"k", b"v", options).unwrap_err();
        assert_eq!(error.to_string(), "ERR invalid expire time in 'set' command");
    }
    assert_eq!(db.get(b"k").unwrap(), Some(b"x".to_vec()));
    // An absolute deadline in the past stores a key that is already gone.
    let past = SetOptions { expiry: Some(Expiry::AtMilliseconds(1)), ..Default::default() };
    db.set_with(b"k", b"v", past).unwrap();
    assert_eq!(db.get(b"k").unwrap(), None);
}

#[test]
fn expired_keys_are_invisible_at_once() {
    let engine = engine();
    let db = engine.db(0);
    db.set_expiring(b"k", b"v", Expiry::Milliseconds(30), "psetex").unwrap();
    assert_eq!(db.get(b"k").unwrap(), Some(b"v".to_vec()));
    std::thread::sleep(std::time::Duration::from_millis(60));
    assert_eq!(db.get(b"k").unwrap(), None);
    assert_eq!(db.exists(&[b"k"]).unwrap(), 0);
    assert_eq!(db.ttl(b"k").unwrap(), -2);
    // Writing an expired key starts from nothing.
    db.set_expiring(b"n", b"5", Expiry::Milliseconds(20), "psetex").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(40));
    assert_eq!(db.incr(b"n").unwrap(), 1);
    assert_eq!(db.ttl(b"n").unwrap(), -1);
}

#[test]
fn getex_changes_ttl() {
    let engine = engine();
    let db = engine.db(0);
    db.set(b"k", b"v").unwrap();
    let option = GetExOption::Expire(Expiry::Seconds(50));
    assert_eq!(db.getex(b"k", Some(option)).unwrap(), Some(b"v".to_vec()));
    assert_eq!(db.ttl(b"k").unwrap(), 50);
    assert_eq!(db.getex(b"k", Some(GetExOption::Persist)).unwrap(), Some(b"v".to_vec()));
    assert_eq!(db.ttl(b"k").unwrap(), -1);
    assert_eq!(db.getex(b"k", None).unwrap(), Some(b"v".to_vec()));
    assert_eq!(db.getex(b"missing", Some(option)).unwrap(), None);
    let bad = GetExOption::Expire(Expiry::Seconds(-1));
    assert_eq!(db.getex(b"k", Some(bad)), Err(Error::InvalidExpireTime("getex")));
}

#[test]
fn counters() {
    let engine = engine();
    let db = engine.db(0);
    assert_eq!(db.incr(b"c").unwrap(), 1);
    assert_eq!(db.incr_by(b"c", 41).unwrap(), 42);
    assert_eq!(db.decr(b"c").unwrap(), 41);
    assert_eq!(db.decr_by(b"c", 40).unwrap(), 1);
    assert_eq!(db.get(b"c").unwrap(), Some(b"1".to_vec()));
    assert_eq!(db.strlen(b"c").unwrap(), 1);
    db.set(b"c", b"9223372036854775807").unwrap();
    assert_eq!(db.incr(b"c").unwrap_err().to_string(), "ERR increment or decrement would overflow");
    assert_eq!(db.get(b"c").unwrap(), Some(b"9223372036854775807".to_vec()));
    assert_eq!(db.decr_by(b"c", i64::MIN).unwrap_err().to_string(), "ERR decrement would overflow");
    for not_integer in [&b"abc"[..], b" 1", b"1 ", b"01", b"+1", b"-0", b"1.0", b""] {
        db.set(b"n", not_integer).unwrap();
        let error = db.incr(b"n").unwrap_err();
        assert_eq!(error.to_string(), "ERR value is not an integer or out of range");
    }
    db.set(b"neg", b"-10").unwrap();
    assert_eq!(db.incr_by(b"neg", -5).unwrap(), -15);
    assert_eq!(db.get(b"neg").unwrap(), Some(b"-15".to_vec()));
}

#[test]
fn counters_keep_ttl() {
    let engine = engine();
    let db = engine.db(0);
    db.set_expiring(b"c", b"1", Expiry::Seconds(100), "setex").unwrap();
    db.incr(b"c").unwrap();
    assert_eq!(db.ttl(b"c").unwrap(), 100);
    db.append(b"c", b"0").unwrap();
    assert_eq!(db.ttl(b"c").unwrap(), 100);
    assert_eq!(db.get(b"c").unwrap(), Some(b"20".to_vec()));
}

#[test]
fn append_and_ranges() {
    let engine = engine();
    let db = engine.db(0);
    assert_eq!(db.append(b"s", b"Hello").unwrap(), 5);
    assert_eq!(db.append(b"s", b" World").unwrap(), 11);
    assert_eq!(db.getrange(b"s", 0, 4).unwrap(), b"Hello");
    assert_eq!(db.getrange(b"s", -5, -1).unwrap(), b"World");
    assert_eq!(db.getrange(b"missing", 0, -1).unwrap(), b"");
    assert_eq!(db.setrange(b"s", 6, b"Redis").unwrap(), 11);
    assert_eq!(db.get(b"s").unwrap(), Some(b"Hello Redis".to_vec()));
    assert_eq!(db.setrange(b"pad", 3, b"x").unwrap(), 4);
    assert_eq!(db.get(b"pad").unwrap(), Some(b"\0\0\0x".to_vec()));
    assert_eq!(db.setrange(b"none", 5, b"").unwrap(), 0);
    assert_eq!(db.get(b"none").unwrap(), None);
    assert_eq!(db.setrange(b"s", -1, b"x").unwrap_err().to_string(), "ERR offset is out of range");
    let error = db.setrange(b"s", 512 * 1024 * 1024, b"x").unwrap_err();
    assert_eq!(error.to_string(), "ERR string exceeds maximum allowed size (proto-max-bulk-len)");
    db.set(b"i", b"12").unwrap();
    db.incr(b"i").unwrap();
    assert_eq!(db.getrange(b"i", 0, 0).unwrap(), b"1");
    assert_eq!(db.strlen(b"i").unwrap(), 2);
}

#[test]
fn mget_mset_msetnx() {
    let engine = engine();
    let db = engine.db(0);
    db.mset(&[(b"a", b"1"), (b"b", b"2")]).unwrap();
    assert_eq!(
        db.mget(&[b"a", b"b", b"c"]).unwrap(),
        vec![Some(b"1".to_vec()), Some(b"2".to_vec()), None]
    );
    assert!(!db.msetnx(&[(b"c", b"3"), (b"a", b"x")]).unwrap());
    assert_eq!(db.get(b"c").unwrap(), None);
    assert!(db.msetnx(&[(b"c", b"3"), (b"d", b"4")]).unwrap());
    assert_eq!(db.mget(&[b"c", b"d"]).unwrap(), vec![Some(b"3".to_vec()), Some(b"4".to_vec())]);
    // A key named twice: the last value wins, as in Redis.
    db.mset(&[(b"e", b"1"), (b"e", b"2")]).unwrap();
    assert_eq!(db.get(b"e").unwrap(), Some(b"2".to_vec()));
}

#[test]
fn long_keys_and_values() {
    let engine = engine();
    let db = engine.db(0);
    let key = vec![b'k'; 1000];
    let value = vec![b'v'; 100_000];
    db.set(&key, &value).unwrap();
    assert_eq!(db.get(&key).unwrap(), Some(value));
    assert_eq!(db.strlen(&key).unwrap(), 100_000);
}
