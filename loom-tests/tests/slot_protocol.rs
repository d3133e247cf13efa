//! Loom models of the engine's slot protocol and transaction key locks (see
//! `src/engine/entry.rs` and `src/engine/txn.rs`). Built only under `--cfg corekv_loom`, where
//! the engine's atomics and mutexes are loom's and each shard map is a linearizable stand-in
//! (`src/engine/loom_map.rs`), so loom explores every interleaving of corekv's own protocol.
//! Run with `scripts/loom.sh`.
#![cfg(corekv_loom)]

use corekv::{Engine, prelude::*};
use loom::thread;

fn engine() -> Engine {
    // Two shards so multi-key models cross shards; no maintenance threads inside a model.
    Engine::builder().shards(2).databases(1).maintenance_threads(0).seed(7).build()
}

#[test]
fn concurrent_incr_loses_no_update() {
    loom::model(|| {
        let engine = engine();
        let other = engine.clone();
        let handle = thread::spawn(move || other.db(0).incr(b"k").unwrap());
        let mine = engine.db(0).incr(b"k").unwrap();
        let theirs = handle.join().unwrap();
        assert_eq!(mine + theirs, 3, "each INCR returns a distinct value");
        assert_eq!(engine.db(0).get(b"k").unwrap(), Some(b"2".to_vec()));
    });
}

#[test]
fn mset_is_all_or_nothing_to_mget() {
    loom::model(|| {
        let engine = engine();
        let other = engine.clone();
        let handle = thread::spawn(move || {
            other.db(0).mset(&[(b"a", b"1"), (b"b", b"1")]).unwrap();
        });
        let seen = engine.db(0).mget(&[b"a", b"b"]).unwrap();
        assert_eq!(seen[0], seen[1], "MGET saw half an MSET");
        handle.join().unwrap();
    });
}

#[test]
fn rename_and_incr_linearize() {
    loom::model(|| {
        let engine = engine();
        engine.db(0).set(b"a", b"1").unwrap();
        let other = engine.clone();
        let handle = thread::spawn(move || other.db(0).rename(b"a", b"b").unwrap());
        engine.db(0).incr(b"a").unwrap();
        handle.join().unwrap();
        let db = engine.db(0);
        let state = (db.get(b"a").unwrap(), db.get(b"b").unwrap());
        let incr_first = (None, Some(b"2".to_vec()));
        let rename_first = (Some(b"1".to_vec()), Some(b"1".to_vec()));
        assert!(state == incr_first || state == rename_first, "{state:?}");
        assert!(engine.used_memory_bytes() > 0);
    });
}

#[test]
fn delete_and_set_keep_memory_accounting_exact() {
    loom::model(|| {
        let engine = engine();
        engine.db(0).set(b"k", b"v").unwrap();
        let other = engine.clone();
        let handle = thread::spawn(move || {
            other.db(0).del(&[b"k"]).unwrap();
        });
        engine.db(0).set(b"k", b"w").unwrap();
        handle.join().unwrap();
        engine.db(0).del(&[b"k"]).unwrap();
        assert_eq!(engine.used_memory_bytes(), 0);
    });
}

#[test]
fn pop_to_empty_races_push_without_losing_it() {
    use corekv::engine::ops::End;
    loom::model(|| {
        let engine = engine();
        engine.db(0).push(b"l", End::Left, &[b"x"], true).unwrap();
        let other = engine.clone();
        // Popping the last element detaches the list and deletes the key; the push must land
        // in a live list: before the pop (RPOP still takes the tail `x`) or in a new one after.
        let handle = thread::spawn(move || other.db(0).pop(b"l", End::Right, None).unwrap());
        engine.db(0).push(b"l", End::Left, &[b"y"], true).unwrap();
        let popped = handle.join().unwrap();
        assert_eq!(popped, Some(vec![b"x".to_vec()]));
        assert_eq!(engine.db(0).lrange(b"l", 0, -1).unwrap(), vec![b"y".to_vec()]);
    });
}

#[test]
fn push_races_rename_of_its_list() {
    use corekv::engine::ops::End;
    loom::model(|| {
        let engine = engine();
        engine.db(0).push(b"a", End::Left, &[b"x"], true).unwrap();
        let other = engine.clone();
        let handle = thread::spawn(move || other.db(0).rename(b"a", b"b").unwrap());
        let pushed = engine.db(0).push(b"a", End::Left, &[b"y"], false).unwrap();
        handle.join().unwrap();
        let db = engine.db(0);
        let (a, b) = (db.llen(b"a").unwrap(), db.llen(b"b").unwrap());
        // PUSHX before the rename lands in the moved list; after it, finds no list.
        match pushed {
            2 => assert_eq!((a, b), (0, 2)),
            0 => assert_eq!((a, b), (0, 1)),
            other => panic!("PUSHX returned {other}"),
        }
    });
}

#[test]
fn msets_given_opposite_orders_neither_deadlock_nor_interleave() {
    loom::model(|| {
        let engine = engine();
        let other = engine.clone();
        // The lock order is the engine's, not the caller's: given in opposite orders, the two
        // MSETs still lock in the same one.
        let handle = thread::spawn(move || {
            other.db(0).mset(&[(b"a", b"1"), (b"b", b"1")]).unwrap();
        });
        engine.db(0).mset(&[(b"b", b"2"), (b"a", b"2")]).unwrap();
        handle.join().unwrap();
        let seen = engine.db(0).mget(&[b"a", b"b"]).unwrap();
        assert_eq!(seen[0], seen[1], "the MSETs interleaved");
    });
}

#[test]
fn push_races_mset_over_its_list() {
    use corekv::engine::ops::End;
    loom::model(|| {
        let engine = engine();
        engine.db(0).push(b"l", End::Left, &[b"x"], true).unwrap();
        let other = engine.clone();
        // MSET detaches the list's cell (without staging its contents): a push either lands
        // before it, in the list MSET then replaces, or after it, on a string. One that landed
        // in the detached cell would go unseen but for its bytes, hence an element longer
        // than an inline one, which changes the list's measure.
        let element = [b'y'; 32];
        let handle = thread::spawn(move || other.db(0).push(b"l", End::Left, &[&element], true));
        engine.db(0).mset(&[(b"l", b"v"), (b"k", b"v")]).unwrap();
        let pushed = handle.join().unwrap();
        assert!(matches!(pushed, Ok(2) | Err(corekv::Error::WrongType)), "PUSH gave {pushed:?}");
        let db = engine.db(0);
        assert_eq!(db.get(b"l").unwrap(), Some(b"v".to_vec()));
        db.del(&[b"l", b"k"]).unwrap();
        assert_eq!(engine.used_memory_bytes(), 0);
    });
}
