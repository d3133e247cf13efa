//! Collection commands through the embedded API: type checks, empty collections deleting their
//! key, multi-key commands, and TTLs on collections.

use corekv::engine::Kind;
use corekv::engine::ops::{
    End, ExpireCondition, SetAlgebra, TimeUnit, ZAddReply, ZRange, ZRangeBy, ZSetAlgebra,
};
use corekv::engine::types::zset::{Aggregate, LexRange, ScoreRange, ZAddFlags};
use corekv::{Engine, Error, prelude::*};

fn engine() -> Engine {
    Engine::builder().shards(4).maintenance_threads(0).seed(3).build()
}

fn bytes(items: &[&str]) -> Vec<Vec<u8>> {
    items.iter().map(|item| item.as_bytes().to_vec()).collect()
}

#[test]
fn wrong_type_everywhere() {
    let engine = engine();
    let db = engine.db(0);
    db.set(b"s", b"v").unwrap();
    db.push(b"l", End::Left, &[b"x"], true).unwrap();
    assert_eq!(db.push(b"s", End::Left, &[b"x"], true), Err(Error::WrongType));
    assert_eq!(db.hset(b"l", &[(b"f", b"v")]), Err(Error::WrongType));
    assert_eq!(db.sadd(b"l", &[b"m"]), Err(Error::WrongType));
    assert_eq!(db.zcard(b"l"), Err(Error::WrongType));
    assert_eq!(db.get(b"l"), Err(Error::WrongType));
    assert_eq!(db.incr(b"l"), Err(Error::WrongType));
    assert_eq!(db.append(b"l", b"x"), Err(Error::WrongType));
    assert_eq!(
        db.get(b"l").unwrap_err().to_string(),
        "WRONGTYPE Operation against a key holding the wrong kind of value"
    );
    // MGET reads a non-string as nil; SET overwrites any type.
    assert_eq!(db.mget(&[b"l", b"s"]).unwrap(), vec![None, Some(b"v".to_vec())]);
    db.set(b"l", b"now a string").unwrap();
    assert_eq!(db.key_type(b"l").unwrap(), Some(Kind::String));
}

#[test]
fn lists() {
    let engine = engine();
    let db = engine.db(0);
    assert_eq!(db.push(b"l", End::Right, &[b"a", b"b", b"c"], true).unwrap(), 3);
    assert_eq!(db.push(b"missing", End::Left, &[b"x"], false).unwrap(), 0);
    assert_eq!(db.key_type(b"missing").unwrap(), None);
    assert_eq!(db.lrange(b"l", 0, -1).unwrap(), bytes(&["a", "b", "c"]));
    assert_eq!(db.lindex(b"l", -1).unwrap(), Some(b"c".to_vec()));
    assert_eq!(db.llen(b"l").unwrap(), 3);
    db.lset(b"l", 1, b"B").unwrap();
    assert_eq!(db.lset(b"l", 5, b"x"), Err(Error::IndexOutOfRange));
    assert_eq!(db.lset(b"nolist", 0, b"x"), Err(Error::NoSuchKey));
    assert_eq!(db.linsert(b"l", true, b"c", b"b2").unwrap(), 4);
    assert_eq!(db.linsert(b"l", true, b"zz", b"x").unwrap(), -1);
    assert_eq!(db.linsert(b"nolist", true, b"c", b"x").unwrap(), 0);
    assert_eq!(db.lpos(b"l", b"c", 1, 1, 0).unwrap(), vec![3]);
    assert!(db.lpos(b"l", b"c", 0, 1, 0).is_err());
    assert_eq!(db.pop(b"l", End::Left, None).unwrap(), Some(bytes(&["a"])));
    assert_eq!(db.pop(b"l", End::Right, Some(2)).unwrap(), Some(bytes(&["c", "b2"])));
    assert_eq!(db.pop(b"l", End::Left, Some(0)).unwrap(), Some(Vec::new()));
    assert_eq!(db.pop(b"nolist", End::Left, Some(0)).unwrap(), None);
    // Popping the last element deletes the key.
    assert_eq!(db.pop(b"l", End::Left, Some(10)).unwrap(), Some(bytes(&["B"])));
    assert_eq!(db.exists(&[b"l"]).unwrap(), 0);
    assert_eq!(db.pop(b"l", End::Left, None).unwrap(), None);
    db.push(b"t", End::Right, &[b"1", b"2", b"3", b"2"], true).unwrap();
    assert_eq!(db.lrem(b"t", 0, b"2").unwrap(), 2);
    db.ltrim(b"t", 5, 10).unwrap();
    assert_eq!(db.exists(&[b"t"]).unwrap(), 0, "LTRIM to nothing deletes the key");
}

#[test]
fn list_moves() {
    let engine = engine();
    let db = engine.db(0);
    db.push(b"src", End::Right, &[b"a", b"b"], true).unwrap();
    assert_eq!(db.lmove(b"src", b"dst", End::Right, End::Left).unwrap(), Some(b"b".to_vec()));
    assert_eq!(db.lmove(b"src", b"dst", End::Left, End::Left).unwrap(), Some(b"a".to_vec()));
    assert_eq!(db.lrange(b"dst", 0, -1).unwrap(), bytes(&["a", "b"]));
    assert_eq!(db.exists(&[b"src"]).unwrap(), 0);
    assert_eq!(db.lmove(b"src", b"dst", End::Left, End::Left).unwrap(), None);
    // Rotation on one key.
    assert_eq!(db.lmove(b"dst", b"dst", End::Left, End::Right).unwrap(), Some(b"a".to_vec()));
    assert_eq!(db.lrange(b"dst", 0, -1).unwrap(), bytes(&["b", "a"]));
    // A destination of the wrong type refuses before anything is popped.
    db.set(b"str", b"x").unwrap();
    assert_eq!(db.lmove(b"dst", b"str", End::Left, End::Left), Err(Error::WrongType));
    assert_eq!(db.llen(b"dst").unwrap(), 2);
    let popped = db.lmpop(&[b"none", b"dst"], End::Left, 5).unwrap();
    assert_eq!(popped, Some((b"dst".to_vec(), bytes(&["b", "a"]))));
    assert_eq!(db.lmpop(&[b"none", b"dst"], End::Left, 1).unwrap(), None);
}

#[test]
fn hashes() {
    let engine = engine();
    let db = engine.db(0);
    assert_eq!(db.hset(b"h", &[(b"a", b"1"), (b"b", b"2")]).unwrap(), 2);
    assert_eq!(db.hset(b"h", &[(b"a", b"10"), (b"c", b"3")]).unwrap(), 1);
    assert!(!db.hsetnx(b"h", b"a", b"x").unwrap());
    assert_eq!(db.hget(b"h", b"a").unwrap(), Some(b"10".to_vec()));
    assert_eq!(db.hmget(b"h", &[b"a", b"z"]).unwrap(), vec![Some(b"10".to_vec()), None]);
    assert_eq!(db.hmget(b"nohash", &[b"a"]).unwrap(), vec![None]);
    assert_eq!(db.hlen(b"h").unwrap(), 3);
    assert!(db.hexists(b"h", b"c").unwrap());
    assert_eq!(db.hstrlen(b"h", b"a").unwrap(), 2);
    assert_eq!(db.hincrby(b"h", b"a", 5).unwrap(), 15);
    assert_eq!(db.hincrby(b"h", b"new", -1).unwrap(), -1);
    db.hset(b"h", &[(b"text", b"abc")]).unwrap();
    assert_eq!(
        db.hincrby(b"h", b"text", 1).unwrap_err().to_string(),
        "ERR hash value is not an integer"
    );
    assert_eq!(db.hincrbyfloat(b"h", b"f", b"1.5").unwrap(), b"1.5");
    assert_eq!(db.hincrbyfloat(b"h", b"f", b"0.1").unwrap(), b"1.6");
    assert_eq!(
        db.hincrbyfloat(b"h", b"f", b"abc").unwrap_err().to_string(),
        "ERR value is not a valid float"
    );
    assert_eq!(db.hrandfield(b"h", 100).unwrap().len(), 6);
    assert_eq!(db.hrandfield(b"h", -20).unwrap().len(), 20);
    assert!(db.hrandfield(b"h", i64::MIN).is_err());
    let mut all = db.hgetall(b"h").unwrap();
    all.sort();
    assert_eq!(all.len(), 6);
    assert_eq!(db.hdel(b"h", &[b"a", b"b", b"c", b"new", b"text", b"f"]).unwrap(), 6);
    assert_eq!(db.exists(&[b"h"]).unwrap(), 0);
    // HINCRBYFLOAT with a bad increment creates nothing.
    assert!(db.hincrbyfloat(b"h2", b"f", b"nan").is_err());
    assert_eq!(db.exists(&[b"h2"]).unwrap(), 0);
}

#[test]
fn sets_and_algebra() {
    let engine = engine();
    let db = engine.db(0);
    db.sadd(b"a", &[b"1", b"2", b"3"]).unwrap();
    db.sadd(b"b", &[b"2", b"3", b"4"]).unwrap();
    let mut inter = db.set_algebra(SetAlgebra::Intersection, &[b"a", b"b"]).unwrap();
    inter.sort();
    assert_eq!(inter, bytes(&["2", "3"]));
    assert_eq!(db.set_algebra(SetAlgebra::Union, &[b"a", b"b", b"none"]).unwrap().len(), 4);
    assert_eq!(db.set_algebra(SetAlgebra::Difference, &[b"a", b"b"]).unwrap(), bytes(&["1"]));
    assert!(db.set_algebra(SetAlgebra::Intersection, &[b"a", b"none"]).unwrap().is_empty());
    assert_eq!(db.sintercard(&[b"a", b"b"], 1).unwrap(), 1);
    assert_eq!(db.set_algebra_store(SetAlgebra::Union, b"dst", &[b"a", b"b"]).unwrap(), 4);
    assert_eq!(db.scard(b"dst").unwrap(), 4);
    // An empty result deletes the destination; the destination may be a source.
    assert_eq!(
        db.set_algebra_store(SetAlgebra::Intersection, b"dst", &[b"dst", b"none"]).unwrap(),
        0
    );
    assert_eq!(db.exists(&[b"dst"]).unwrap(), 0);
    db.set(b"str", b"x").unwrap();
    assert_eq!(db.set_algebra(SetAlgebra::Union, &[b"a", b"str"]), Err(Error::WrongType));
    assert!(db.smove(b"a", b"c", b"1").unwrap());
    assert!(!db.smove(b"a", b"c", b"1").unwrap());
    assert_eq!(db.smove(b"a", b"str", b"2"), Err(Error::WrongType));
    assert!(db.sismember(b"c", b"1").unwrap());
    assert_eq!(db.smismember(b"a", &[b"1", b"2"]).unwrap(), vec![false, true]);
    assert_eq!(db.srandmember(b"a", -5).unwrap().len(), 5);
    assert_eq!(db.spop(b"a", 10).unwrap().len(), 2);
    assert_eq!(db.exists(&[b"a"]).unwrap(), 0);
    assert_eq!(db.spop_one(b"a").unwrap(), None);
}

#[test]
fn sorted_sets() {
    let engine = engine();
    let db = engine.db(0);
    let pairs: [(f64, &[u8]); 3] = [(1.0, b"a"), (2.0, b"b"), (3.0, b"c")];
    assert_eq!(db.zadd(b"z", &pairs, ZAddFlags::default()).unwrap(), ZAddReply::Count(3));
    let xx = ZAddFlags { xx: true, ..Default::default() };
    assert_eq!(db.zadd(b"none", &pairs, xx).unwrap(), ZAddReply::Count(0));
    assert_eq!(db.exists(&[b"none"]).unwrap(), 0);
    let incr = ZAddFlags { incr: true, ..Default::default() };
    assert_eq!(db.zadd(b"z", &[(10.0, b"a")], incr).unwrap(), ZAddReply::Score(Some(11.0)));
    assert!(db.zadd(b"z", &pairs, incr).is_err(), "INCR takes one pair");
    assert_eq!(db.zincrby(b"z", 0.5, b"b").unwrap(), 2.5);
    assert_eq!(db.zscore(b"z", b"b").unwrap(), Some(2.5));
    assert_eq!(db.zrank(b"z", b"a", false).unwrap(), Some((2, 11.0)));
    assert_eq!(db.zrank(b"z", b"a", true).unwrap(), Some((0, 11.0)));
    let all = db.zrange(b"z", ZRange::rank(0, -1)).unwrap();
    assert_eq!(
        all.iter().map(|(member, _)| member.clone()).collect::<Vec<_>>(),
        bytes(&["b", "c", "a"])
    );
    let by_score = ZRange {
        by: ZRangeBy::Score(ScoreRange::parse(b"(2.5", b"+inf").unwrap()),
        reverse: false,
        offset: 0,
        count: -1,
    };
    assert_eq!(db.zrange(b"z", by_score.clone()).unwrap().len(), 2);
    assert_eq!(db.zcount(b"z", &ScoreRange::parse(b"-inf", b"3").unwrap()).unwrap(), 2);
    assert_eq!(db.zrangestore(b"copy", b"z", by_score).unwrap(), 2);
    assert_eq!(db.zcard(b"copy").unwrap(), 2);
    assert_eq!(db.zpop(b"z", false, 1).unwrap(), vec![(b"b".to_vec(), 2.5)]);
    assert_eq!(
        db.zremrangebyscore(b"z", &ScoreRange::parse(b"-inf", b"+inf").unwrap()).unwrap(),
        2
    );
    assert_eq!(db.exists(&[b"z"]).unwrap(), 0);
    db.zadd(b"lex", &[(0.0, b"a"), (0.0, b"b"), (0.0, b"c")], ZAddFlags::default()).unwrap();
    assert_eq!(db.zlexcount(b"lex", &LexRange::parse(b"[b", b"+").unwrap()).unwrap(), 2);
    // ZUNIONSTORE accepts plain sets (score 1) and weights.
    db.sadd(b"plain", &[b"a", b"z"]).unwrap();
    let stored = db
        .zset_algebra_store(
            ZSetAlgebra::Union,
            b"u",
            &[b"lex", b"plain"],
            &[1.0, 2.0],
            Aggregate::Sum,
        )
        .unwrap();
    assert_eq!(stored, 4);
    assert_eq!(db.zscore(b"u", b"a").unwrap(), Some(2.0));
    assert_eq!(db.zintercard(&[b"lex", b"plain"], 0).unwrap(), 1);
    assert!(db.zrandmember(b"u", i64::MIN).is_err());
}

#[test]
fn collections_take_ttls_and_rename() {
    let engine = engine();
    let db = engine.db(0);
    db.sadd(b"s", &[b"m"]).unwrap();
    assert!(
        db.expire(b"s", 100, TimeUnit::Seconds, true, ExpireCondition::Always, "expire").unwrap()
    );
    db.sadd(b"s", &[b"n"]).unwrap();
    assert_eq!(db.ttl(b"s").unwrap(), 100, "an in-place change keeps the TTL");
    db.rename(b"s", b"t").unwrap();
    assert_eq!(db.ttl(b"t").unwrap(), 100);
    assert_eq!(db.scard(b"t").unwrap(), 2);
    assert!(db.copy(b"t", b"u", false).unwrap());
    db.srem(b"t", &[b"m", b"n"]).unwrap();
    assert_eq!(db.scard(b"u").unwrap(), 2, "COPY is deep");
    db.expire(b"u", 1, TimeUnit::Milliseconds, true, ExpireCondition::Always, "pexpire").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(10));
    assert_eq!(db.scard(b"u").unwrap(), 0);
    assert_eq!(db.sadd(b"u", &[b"fresh"]).unwrap(), 1);
    assert_eq!(db.ttl(b"u").unwrap(), -1);
}

#[test]
fn transactions_see_their_own_writes_and_publish_together() {
    let engine = engine();
    let db = engine.db(0);
    db.push(b"queue", End::Right, &[b"job1", b"job2"], true).unwrap();
    let moved = db
        .transaction(&[&b"queue"[..], b"running", b"count"], |txn| {
            let job = txn.pop(b"queue", End::Left, None)?.unwrap().remove(0);
            txn.push(b"running", End::Right, &[&job], true)?;
            txn.incr(b"count")?;
            assert_eq!(txn.llen(b"running")?, 1);
            assert_eq!(
                txn.get(b"undeclared").unwrap_err().to_string(),
                "ERR key was not declared by the transaction"
            );
            Ok(job)
        })
        .unwrap();
    assert_eq!(moved, b"job1");
    assert_eq!(db.lrange(b"running", 0, -1).unwrap(), bytes(&["job1"]));
    assert_eq!(db.get(b"count").unwrap(), Some(b"1".to_vec()));
    let used = engine.used_memory_bytes();
    db.transaction(&[b"queue"], |txn| txn.llen(b"queue")).unwrap();
    assert_eq!(engine.used_memory_bytes(), used, "a read-only transaction changes no accounting");
    engine.flush_all();
    assert_eq!(engine.used_memory_bytes(), 0);
}

#[test]
fn watch_versions_change_on_writes_only() {
    let engine = engine();
    let db = engine.db(0);
    assert_eq!(db.watch_version(b"l"), None);
    db.push(b"l", End::Left, &[b"a"], true).unwrap();
    db.push(b"l", End::Left, &[b"a2"], true).unwrap();
    db.set(b"s", b"v").unwrap();
    let (list, string) = (db.watch_version(b"l"), db.watch_version(b"s"));
    // Reads, including read-only transactions over the keys, change nothing.
    db.lrange(b"l", 0, -1).unwrap();
    db.mget(&[b"s", b"l"]).unwrap();
    db.set_algebra(SetAlgebra::Union, &[b"none"]).unwrap();
    db.transaction(&[b"l", b"s"], |txn| txn.llen(b"l")).unwrap();
    assert_eq!((db.watch_version(b"l"), db.watch_version(b"s")), (list, string));
    // In-place changes, TTL changes and rewrites all do.
    db.push(b"l", End::Left, &[b"b"], true).unwrap();
    assert_ne!(db.watch_version(b"l"), list);
    let list = db.watch_version(b"l");
    db.expire(b"l", 100, TimeUnit::Seconds, true, ExpireCondition::Always, "expire").unwrap();
    assert_ne!(db.watch_version(b"l"), list);
    db.set(b"s", b"v").unwrap();
    assert_ne!(db.watch_version(b"s"), string);
}
