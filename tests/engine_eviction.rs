//! Memory limits and eviction through the embedded API: each policy fills past `maxmemory`,
//! and the tests check which keys survive and that `used_memory` ends within the limit.
//!
//! Writes go through [`Engine::make_room`] first, as the server does for `denyoom` commands.

use std::time::Duration;

use corekv::engine::evict::WRITE_OVERHEAD_BYTES;
use corekv::engine::ops::Expiry;
use corekv::{Db, Engine, Error, MemoryLimit, Policy, prelude::*};

const VALUE: [u8; 64] = [b'v'; 64];

fn engine() -> Engine {
    Engine::builder().shards(4).maintenance_threads(0).seed(7).build()
}

/// What one key of these tests costs, measured: `used_memory` of `count` keys / `count`.
fn bytes_per_key(engine: &Engine) -> u64 {
    let db = engine.db(15);
    for index in 0..1000 {
        db.set(format!("probe:{index:06}").as_bytes(), &VALUE).unwrap();
    }
    let per_key = engine.used_memory_bytes() / 1000;
    db.flush();
    assert_eq!(engine.used_memory_bytes(), 0);
    per_key
}

fn limit(engine: &Engine, policy: Policy, keys: u64) -> u64 {
    let maxmemory = bytes_per_key(engine) * keys;
    engine.set_memory_limit(MemoryLimit {
        maxmemory_bytes: maxmemory,
        policy,
        ..Default::default()
    });
    maxmemory
}

fn estimate(key: &[u8]) -> u64 {
    (key.len() + VALUE.len()) as u64 + WRITE_OVERHEAD_BYTES
}

/// SET as the server runs it: make room, then write.
fn put(engine: &Engine, db: &Db, key: &str) -> Result<(), Error> {
    engine.make_room(&[key.as_bytes()], estimate(key.as_bytes()))?;
    db.set(key.as_bytes(), &VALUE)
}

/// SET key value EX `seconds`, as the server runs it.
fn put_volatile(engine: &Engine, db: &Db, key: &str, seconds: i64) -> Result<(), Error> {
    engine.make_room(&[key.as_bytes()], estimate(key.as_bytes()))?;
    db.set_expiring(key.as_bytes(), &VALUE, Expiry::Seconds(seconds), "setex")
}

fn present(db: &Db, keys: &[String]) -> usize {
    keys.iter().filter(|key| db.get(key.as_bytes()).unwrap().is_some()).count()
}

/// Lets the 1-second LRU clock move on (it is refreshed by maintenance cycles, run here by
/// hand because these engines have no maintenance threads).
fn next_lru_second(engine: &Engine) {
    std::thread::sleep(Duration::from_millis(1100));
    engine.run_expiry_cycle(0);
}

fn names(prefix: &str, count: usize) -> Vec<String> {
    (0..count).map(|index| format!("{prefix}:{index:06}")).collect()
}

#[test]
fn allkeys_lru_keeps_recently_read_keys() {
    let engine = engine();
    let db = engine.db(0);
    let maxmemory = limit(&engine, Policy::AllKeysLru, 1100);
    let old = names("old", 900);
    let hot = names("hot", 100);
    for key in old.iter().chain(&hot) {
        put(&engine, db, key).unwrap();
    }
    assert_eq!(engine.evicted_keys(), 0, "1000 keys fit in the room of 1100");
    next_lru_second(&engine);
    next_lru_second(&engine);
    assert_eq!(present(db, &hot), 100, "reading the hot keys records an access");
    for key in names("new", 500) {
        put(&engine, db, &key).unwrap();
    }
    assert!(
        engine.used_memory_bytes() <= maxmemory,
        "{} > {maxmemory}",
        engine.used_memory_bytes()
    );
    assert!(engine.evicted_keys() >= 300, "{}", engine.evicted_keys());
    let hot_left = present(db, &hot);
    let old_left = present(db, &old);
    assert!(hot_left >= 95, "hot keys evicted: {hot_left}/100 left, old {old_left}/900");
    assert!(old_left <= 650, "old keys should go first: {old_left}/900 left");
}

#[test]
fn allkeys_lfu_keeps_frequently_read_keys() {
    let engine = engine();
    let db = engine.db(0);
    let maxmemory = limit(&engine, Policy::AllKeysLfu, 1100);
    let cold = names("cold", 900);
    let hot = names("hot", 100);
    for key in cold.iter().chain(&hot) {
        put(&engine, db, key).unwrap();
    }
    for _ in 0..20 {
        assert_eq!(present(db, &hot), 100);
    }
    for key in names("new", 500) {
        put(&engine, db, &key).unwrap();
    }
    assert!(engine.used_memory_bytes() <= maxmemory);
    let hot_left = present(db, &hot);
    assert!(hot_left >= 95, "frequently read keys evicted: {hot_left}/100 left");
    // Ties among counters at the initial value are broken by sampling; the cold keys and the
    // new ones share the evictions.
    assert!(present(db, &cold) < 900);
}

#[test]
fn volatile_lru_never_evicts_keys_without_ttl() {
    let engine = engine();
    let db = engine.db(0);
    let maxmemory = limit(&engine, Policy::VolatileLru, 1000);
    let persistent = names("persistent", 500);
    for key in &persistent {
        put(&engine, db, key).unwrap();
    }
    for key in names("volatile", 1500) {
        put_volatile(&engine, db, &key, 3600).unwrap();
    }
    assert_eq!(present(db, &persistent), 500);
    assert!(engine.used_memory_bytes() <= maxmemory);
    assert!(engine.evicted_keys() > 0);
    // With no volatile key left to evict, writes that need memory are refused.
    let mut refused = 0;
    for key in names("more", 3000) {
        match put(&engine, db, &key) {
            Ok(()) => {}
            Err(Error::OutOfMemory) => refused += 1,
            Err(other) => panic!("{other:?}"),
        }
    }
    assert!(refused > 0, "the keyspace fills with persistent keys, then refuses");
    assert_eq!(present(db, &persistent), 500);
    assert_eq!(db.volatile_len(), 0, "every volatile key was evicted first");
    assert!(engine.used_memory_bytes() <= maxmemory);
}

#[test]
fn volatile_lfu_and_random_never_evict_keys_without_ttl() {
    for policy in [Policy::VolatileLfu, Policy::VolatileRandom, Policy::VolatileTtl] {
        let engine = engine();
        let db = engine.db(0);
        let maxmemory = limit(&engine, policy, 800);
        let persistent = names("persistent", 400);
        for key in &persistent {
            put(&engine, db, key).unwrap();
        }
        for key in names("volatile", 1200) {
            put_volatile(&engine, db, &key, 3600).unwrap();
        }
        assert_eq!(present(db, &persistent), 400, "{policy:?}");
        assert!(engine.evicted_keys() >= 400, "{policy:?}");
        assert!(engine.used_memory_bytes() <= maxmemory, "{policy:?}");
    }
}

#[test]
fn volatile_ttl_evicts_nearest_deadlines_first() {
    let engine = engine();
    let db = engine.db(0);
    let maxmemory = limit(&engine, Policy::VolatileTtl, 500);
    // TTLs 1000..2000 s, written in a scrambled order.
    let count = 1000;
    let order: Vec<usize> = (0..count).map(|index| (index * 389) % count).collect();
    for &index in &order {
        put_volatile(&engine, db, &format!("session:{index:06}"), 1000 + index as i64).unwrap();
    }
    assert!(engine.used_memory_bytes() <= maxmemory);
    let alive: Vec<bool> = (0..count)
        .map(|i| db.get(format!("session:{i:06}").as_bytes()).unwrap().is_some())
        .collect();
    let nearest_alive = alive[..count / 4].iter().filter(|alive| **alive).count();
    let farthest_alive = alive[3 * count / 4..].iter().filter(|alive| **alive).count();
    // Per-shard budgets make the order exact within each shard and close to it overall.
    assert!(nearest_alive <= 10, "nearest deadlines should go first: {nearest_alive} left");
    assert_eq!(farthest_alive, count / 4, "farthest deadlines stay");
}

#[test]
fn allkeys_random_stays_within_the_limit() {
    let engine = engine();
    let db = engine.db(0);
    let maxmemory = limit(&engine, Policy::AllKeysRandom, 500);
    let keys = names("key", 2000);
    for key in &keys {
        put(&engine, db, key).unwrap();
    }
    assert!(engine.used_memory_bytes() <= maxmemory);
    let left = present(db, &keys);
    assert!((400..=500).contains(&left), "{left}");
    assert_eq!(engine.evicted_keys() as usize, 2000 - left);
}

#[test]
fn noeviction_refuses_writes_and_loses_nothing() {
    let engine = engine();
    let db = engine.db(0);
    let maxmemory = limit(&engine, Policy::NoEviction, 300);
    let mut written = Vec::new();
    let mut refused = 0;
    for key in names("key", 1000) {
        match put(&engine, db, &key) {
            Ok(()) => written.push(key),
            Err(Error::OutOfMemory) => refused += 1,
            Err(other) => panic!("{other:?}"),
        }
    }
    assert!(refused >= 600, "{refused}");
    assert!(written.len() >= 250, "the limit is used before refusing: {}", written.len());
    assert_eq!(present(db, &written), written.len(), "no acknowledged write is lost");
    assert!(engine.used_memory_bytes() <= maxmemory);
    assert_eq!(engine.evicted_keys(), 0);
    // Deleting frees room for new writes.
    let freed: Vec<&[u8]> = written[..50].iter().map(|key| key.as_bytes()).collect();
    assert_eq!(db.del(&freed).unwrap(), 50);
    put(&engine, db, "after-delete").unwrap();
}

#[test]
fn lowering_maxmemory_evicts_in_the_maintenance_cycle() {
    let engine = engine();
    let db = engine.db(2);
    let keys = names("key", 1000);
    for key in &keys {
        db.set(key.as_bytes(), &VALUE).unwrap();
    }
    let full = engine.used_memory_bytes();
    let maxmemory = full / 2;
    let policy = Policy::AllKeysLru;
    engine.set_memory_limit(MemoryLimit {
        maxmemory_bytes: maxmemory,
        policy,
        ..Default::default()
    });
    engine.run_expiry_cycle(0);
    assert!(engine.used_memory_bytes() <= maxmemory);
    let left = present(db, &keys);
    assert!((400..=500).contains(&left), "{left}");
    // Removing the limit stops eviction.
    engine.set_memory_limit(MemoryLimit::default());
    for key in &keys {
        put(&engine, db, key).unwrap();
    }
    assert_eq!(present(db, &keys), 1000);
    assert_eq!(engine.used_memory_bytes(), full);
}

#[test]
fn eviction_spans_databases_and_keeps_accounting_exact() {
    let engine = engine();
    let maxmemory = limit(&engine, Policy::AllKeysLru, 600);
    for round in 0..3 {
        for index in 0..400 {
            let db = engine.db((index + round) % 4);
            put(&engine, db, &format!("k:{round}:{index}")).unwrap();
        }
    }
    assert!(engine.used_memory_bytes() <= maxmemory);
    let keys: usize = (0..4).map(|index| engine.db(index).len()).sum();
    assert_eq!(keys as u64 + engine.evicted_keys(), 1200);
    for index in 0..4 {
        engine.db(index).flush();
    }
    assert_eq!(engine.used_memory_bytes(), 0, "evictions leave no accounting behind");
}

/// Hot keys (read 3 times each) left after a scan of 2000 keys that are never read, under
/// `policy`; also checks the limit holds.
fn hot_keys_left_after_a_scan(policy: Policy) -> usize {
    let engine = engine();
    let db = engine.db(0);
    let maxmemory = limit(&engine, policy, 1100);
    let hot = names("hot", 1000);
    for key in &hot {
        put(&engine, db, key).unwrap();
    }
    for _ in 0..3 {
        assert_eq!(present(db, &hot), 1000);
    }
    for key in names("scan", 2000) {
        put(&engine, db, &key).unwrap();
    }
    assert!(engine.used_memory_bytes() <= maxmemory);
    present(db, &hot)
}

#[test]
fn tinylfu_keeps_frequent_keys_through_a_scan_better_than_lfu() {
    let lfu = hot_keys_left_after_a_scan(Policy::AllKeysLfu);
    let tinylfu = hot_keys_left_after_a_scan(Policy::AllKeysTinyLfu);
    assert!(tinylfu >= 880, "tinylfu kept {tinylfu}/1000 hot keys (lfu {lfu})");
    assert!(tinylfu >= lfu + 50, "admission should reject the scan: tinylfu {tinylfu}, lfu {lfu}");
}

#[test]
fn tinylfu_admits_a_key_that_kept_missing() {
    let engine = engine();
    let db = engine.db(0);
    let maxmemory = limit(&engine, Policy::AllKeysTinyLfu, 500);
    assert!(engine.sketch_memory_bytes() > 0, "the sketches are built with the policy");
    for key in names("filler", 1000) {
        put(&engine, db, &key).unwrap();
    }
    // Requested often while missing: admitted, and kept through one-off writes.
    for _ in 0..5 {
        assert_eq!(db.get(b"returning").unwrap(), None);
    }
    put(&engine, db, "returning").unwrap();
    // The read-through's next request for it hits (and counts, as LFU does).
    assert!(db.get(b"returning").unwrap().is_some());
    for key in names("scan", 500) {
        put(&engine, db, &key).unwrap();
    }
    assert!(db.get(b"returning").unwrap().is_some(), "a popular newcomer was not admitted");
    assert!(engine.used_memory_bytes() <= maxmemory);
}

#[test]
fn tinylfu_admits_writes_when_nothing_is_read() {
    // With no reads every frequency is 0 and ties admit: new keys are kept, and victims are
    // chosen among equal LFU counters as allkeys-lfu does.
    let engine = engine();
    let db = engine.db(0);
    let maxmemory = limit(&engine, Policy::AllKeysTinyLfu, 500);
    let keys = names("key", 3000);
    for key in &keys {
        put(&engine, db, key).unwrap();
    }
    assert!(engine.used_memory_bytes() <= maxmemory);
    let latest = present(db, &keys[2990..]);
    assert!(latest >= 8, "the newest writes were rejected: {latest}/10");
}
