//! Multi-threaded stress tests of the engine's invariants. Bounded in operations (a few
//! seconds each on 2 cores); they check outcomes that any lost update, torn read or
//! non-atomic multi-key write would break.

use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

use corekv::engine::ops::Expiry;
use corekv::{Engine, prelude::*};

const THREADS: usize = 4;

fn engine() -> Engine {
    Engine::builder().shards(16).maintenance_threads(0).build()
}

#[test]
fn concurrent_incr_sums_exactly() {
    const PER_THREAD: i64 = 20_000;
    let engine = engine();
    let db = engine.db(0);
    let barrier = Barrier::new(THREADS);
    thread::scope(|scope| {
        for thread_index in 0..THREADS {
            let (db, barrier) = (db, &barrier);
            scope.spawn(move || {
                barrier.wait();
                for step in 0..PER_THREAD {
                    let key = format!("counter:{}", step % 4);
                    db.incr(key.as_bytes()).unwrap();
                    if step % 7 == 0 {
                        db.incr_by(b"shared", thread_index as i64 + 1).unwrap();
                    }
                }
            });
        }
    });
    let total: i64 = (0..4)
        .map(|index| {
            let value = db.get(format!("counter:{index}").as_bytes()).unwrap().unwrap();
            String::from_utf8(value).unwrap().parse::<i64>().unwrap()
        })
        .sum();
    assert_eq!(total, THREADS as i64 * PER_THREAD);
    let increments_per_thread = (0..PER_THREAD).filter(|step| step % 7 == 0).count() as i64;
    let shared = db.get(b"shared").unwrap().unwrap();
    let expected: i64 = (1..=THREADS as i64).map(|weight| weight * increments_per_thread).sum();
    assert_eq!(String::from_utf8(shared).unwrap().parse::<i64>().unwrap(), expected);
}

#[test]
fn concurrent_set_get_never_sees_missing_or_torn_values() {
    const KEYS: usize = 64;
    const WRITES: usize = 20_000;
    let engine = engine();
    let db = engine.db(0);
    for key in 0..KEYS {
        db.set(format!("k{key}").as_bytes(), &[b'a'; 40]).unwrap();
    }
    let done = AtomicBool::new(false);
    thread::scope(|scope| {
        for writer in 0..2u8 {
            let (db, done) = (db, &done);
            scope.spawn(move || {
                for step in 0..WRITES {
                    let key = format!("k{}", step % KEYS);
                    // Values alternate between an inline and a heap length, all bytes equal.
                    let len = if step % 2 == 0 { 10 } else { 40 };
                    db.set(key.as_bytes(), &vec![b'b' + writer; len]).unwrap();
                }
                done.store(true, Ordering::Release);
            });
        }
        for _ in 0..2 {
            let (db, done) = (db, &done);
            scope.spawn(move || {
                let mut reads = 0;
                while !done.load(Ordering::Acquire) || reads < 1000 {
                    let key = format!("k{}", reads % KEYS);
                    let value = db.get(key.as_bytes()).unwrap().expect("a key vanished");
                    assert!(value.len() == 10 || value.len() == 40, "torn length");
                    assert!(value.iter().all(|byte| *byte == value[0]), "torn value");
                    reads += 1;
                }
            });
        }
    });
}

#[test]
fn mset_is_seen_all_or_nothing() {
    const ROUNDS: u64 = 5_000;
    let engine = engine();
    let db = engine.db(0);
    let keys: [&[u8]; 3] = [b"alpha", b"beta", b"gamma"];
    db.mset(&[(keys[0], b"0"), (keys[1], b"0"), (keys[2], b"0")]).unwrap();
    let done = AtomicBool::new(false);
    let parse = |value: Option<Vec<u8>>| -> u64 {
        String::from_utf8(value.expect("MSET keys never vanish")).unwrap().parse().unwrap()
    };
    thread::scope(|scope| {
        let (db, done) = (db, &done);
        scope.spawn(move || {
            for round in 1..=ROUNDS {
                let value = round.to_string();
                let pairs: Vec<(&[u8], &[u8])> =
                    keys.iter().map(|key| (*key, value.as_bytes())).collect();
                db.mset(&pairs).unwrap();
            }
            done.store(true, Ordering::Release);
        });
        // MGET sees one MSET whole.
        scope.spawn(move || {
            while !done.load(Ordering::Acquire) {
                let values: Vec<u64> = db.mget(&keys).unwrap().into_iter().map(parse).collect();
                assert!(values.windows(2).all(|pair| pair[0] == pair[1]), "torn MGET {values:?}");
            }
        });
        // Single-key reads in sequence are linearizable: once alpha shows round r, a later
        // read of gamma cannot show an older round.
        scope.spawn(move || {
            while !done.load(Ordering::Acquire) {
                let first = parse(db.get(keys[0]).unwrap());
                let last = parse(db.get(keys[2]).unwrap());
                assert!(last >= first, "read gamma={last} after alpha={first}");
            }
        });
    });
}

#[test]
fn overlapping_msets_stay_whole_and_keep_memory_exact() {
    // Writers MSET the same keys (each from its own starting key, with a repeated pair) with
    // values that name the writer and round; a reader's MGET must always see one MSET whole.
    // MSETs this wide hold their keys long enough that waiters reach the sleeping wait. Keys
    // start as lists and as strings with TTLs, so the first MSET detaches cells and deadlines.
    use corekv::engine::ops::End;
    const KEYS: usize = 200;
    const ROUNDS: usize = 200;
    let engine = engine();
    let db = engine.db(0);
    let keys: Vec<Vec<u8>> = (0..KEYS).map(|index| format!("wide:{index}").into_bytes()).collect();
    for (index, key) in keys.iter().enumerate() {
        match index % 3 {
            0 => drop(db.push(key, End::Left, &[b"element"], true).unwrap()),
            1 => db.set_expiring(key, b"old", Expiry::Milliseconds(50), "psetex").unwrap(),
            _ => db.set(key, b"old").unwrap(),
        }
    }
    let (started, done) = (AtomicBool::new(false), AtomicBool::new(false));
    let key_refs: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
    thread::scope(|scope| {
        let writers: Vec<_> = (0..2)
            .map(|writer| {
                let (key_refs, started) = (&key_refs, &started);
                scope.spawn(move || {
                    for round in 0..ROUNDS {
                        // Longer than a string kept inline, so values live on the heap.
                        let value = format!("writer {writer} round {round:>6} ..............");
                        let start = (writer * 61 + round * 7) % KEYS;
                        let mut pairs: Vec<(&[u8], &[u8])> = (0..KEYS)
                            .map(|offset| (key_refs[(start + offset) % KEYS], value.as_bytes()))
                            .collect();
                        pairs.push(pairs[0]);
                        db.mset(&pairs).unwrap();
                        // Until one MSET finished, the keys hold their mixed first values.
                        started.store(true, Ordering::Release);
                    }
                })
            })
            .collect();
        let (started, done_flag, key_refs) = (&started, &done, &key_refs);
        scope.spawn(move || {
            while !started.load(Ordering::Acquire) {
                thread::yield_now();
            }
            while !done_flag.load(Ordering::Acquire) {
                let values = db.mget(key_refs).unwrap();
                let first = &values[0];
                assert!(values.iter().all(|value| value == first), "torn MGET");
            }
        });
        for writer in writers {
            writer.join().unwrap();
        }
        done.store(true, Ordering::Release);
    });
    let values = db.mget(&key_refs).unwrap();
    assert!(values.iter().all(|value| value == &values[0] && value.is_some()));
    assert_eq!(db.len(), KEYS);
    assert_eq!(db.del(&key_refs).unwrap(), KEYS);
    // Past the first deadlines, so the expiry cycle drops their records, now stale.
    thread::sleep(std::time::Duration::from_millis(60));
    for owner in 0..engine.owners() {
        engine.run_expiry_cycle(owner);
    }
    // The replaced lists, strings and deadlines were all accounted out.
    assert_eq!(engine.used_memory_bytes(), 0);
}

#[test]
fn transactions_on_overlapping_keys_do_not_deadlock_or_lose_values() {
    const ROUNDS: usize = 3_000;
    let engine = engine();
    let db = engine.db(0);
    let keys: Vec<Vec<u8>> = (0..6).map(|index| format!("token:{index}").into_bytes()).collect();
    // Three tokens move between six keys by RENAME; none may be lost or duplicated.
    for key in &keys[..3] {
        db.set(key, key).unwrap();
    }
    thread::scope(|scope| {
        for thread_index in 0..THREADS {
            let (db, keys) = (db, &keys);
            scope.spawn(move || {
                for round in 0..ROUNDS {
                    let source = &keys[(round * 7 + thread_index) % keys.len()];
                    let destination = &keys[(round * 5 + thread_index * 3 + 1) % keys.len()];
                    // RENAMENX only moves into an empty key, so tokens are conserved.
                    let _ = db.renamenx(source, destination);
                }
            });
        }
    });
    let mut tokens: Vec<Vec<u8>> = keys.iter().filter_map(|key| db.get(key).unwrap()).collect();
    tokens.sort();
    assert_eq!(tokens, keys[..3].to_vec());
}

#[test]
fn expiring_keys_vanish_and_their_memory_is_accounted_back() {
    let engine = engine();
    let db = engine.db(0);
    thread::scope(|scope| {
        for thread_index in 0..THREADS {
            scope.spawn(move || {
                for step in 0..2_000 {
                    let key = format!("temp:{thread_index}:{step}");
                    let ttl = Expiry::Milliseconds(5 + (step % 20) as i64);
                    db.set_expiring(key.as_bytes(), &[b'x'; 48], ttl, "psetex").unwrap();
                    if step % 3 == 0 {
                        // Resetting a TTL leaves a stale expiry record behind.
                        db.set_expiring(key.as_bytes(), b"y", ttl, "psetex").unwrap();
                    }
                }
            });
        }
    });
    thread::sleep(std::time::Duration::from_millis(40));
    for _ in 0..50 {
        for owner in 0..engine.owners() {
            engine.run_expiry_cycle(owner);
        }
        if db.is_empty() && engine.used_memory_bytes() == 0 {
            break;
        }
    }
    assert_eq!(db.len(), 0);
    assert_eq!(engine.used_memory_bytes(), 0);
}

#[test]
fn pushes_and_pops_on_one_list_are_conserved() {
    use corekv::engine::ops::End;
    const PER_THREAD: usize = 10_000;
    let engine = engine();
    let db = engine.db(0);
    let popped_total = std::sync::atomic::AtomicUsize::new(0);
    thread::scope(|scope| {
        for thread_index in 0..THREADS {
            let (db, popped_total) = (db, &popped_total);
            scope.spawn(move || {
                for step in 0..PER_THREAD {
                    if (step + thread_index) % 2 == 0 {
                        db.push(b"list", End::Left, &[b"x"], true).unwrap();
                    } else if let Some(popped) = db.pop(b"list", End::Right, None).unwrap() {
                        // The list is emptied and deleted often: pops race with pushes that
                        // must land in a live list, never in a detached one.
                        popped_total.fetch_add(popped.len(), Ordering::Relaxed);
                    }
                }
            });
        }
    });
    let pushed = THREADS * PER_THREAD / 2;
    let remaining = db.llen(b"list").unwrap();
    assert_eq!(remaining + popped_total.load(Ordering::Relaxed), pushed);
}

#[test]
fn pushes_survive_concurrent_renames() {
    use corekv::engine::ops::End;
    const PUSHES: usize = 10_000;
    let engine = engine();
    let db = engine.db(0);
    db.push(b"left", End::Left, &[b"seed"], true).unwrap();
    let done = AtomicBool::new(false);
    let landed = std::sync::atomic::AtomicUsize::new(0);
    thread::scope(|scope| {
        let (db, done, landed) = (db, &done, &landed);
        scope.spawn(move || {
            let mut flip = false;
            while !done.load(Ordering::Acquire) {
                let (from, to): (&[u8], &[u8]) =
                    if flip { (b"right", b"left") } else { (b"left", b"right") };
                let _ = db.rename(from, to);
                flip = !flip;
            }
        });
        for _ in 0..2 {
            scope.spawn(move || {
                for step in 0..PUSHES {
                    // PUSHX onto whichever name holds the list right now.
                    let key: &[u8] = if step % 2 == 0 { b"left" } else { b"right" };
                    if db.push(key, End::Right, &[b"x"], false).unwrap() > 0 {
                        landed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
        scope.spawn(move || {
            thread::sleep(std::time::Duration::from_millis(300));
            done.store(true, Ordering::Release);
        });
    });
    let total = db.llen(b"left").unwrap() + db.llen(b"right").unwrap();
    assert_eq!(total, 1 + landed.load(Ordering::Relaxed));
}

#[test]
fn smove_conserves_members() {
    const ROUNDS: usize = 5_000;
    let engine = engine();
    let db = engine.db(0);
    let members: Vec<Vec<u8>> = (0..20).map(|index| format!("m{index}").into_bytes()).collect();
    let member_refs: Vec<&[u8]> = members.iter().map(Vec::as_slice).collect();
    db.sadd(b"set:0", &member_refs).unwrap();
    thread::scope(|scope| {
        for thread_index in 0..THREADS {
            let members = &members;
            scope.spawn(move || {
                for round in 0..ROUNDS {
                    let from = format!("set:{}", (round + thread_index) % 3);
                    let to = format!("set:{}", (round * 7 + thread_index + 1) % 3);
                    let member = &members[(round * 3 + thread_index) % members.len()];
                    db.smove(from.as_bytes(), to.as_bytes(), member).unwrap();
                }
            });
        }
    });
    let mut all: Vec<Vec<u8>> =
        (0..3).flat_map(|index| db.smembers(format!("set:{index}").as_bytes()).unwrap()).collect();
    all.sort();
    let mut expected = members.clone();
    expected.sort();
    assert_eq!(all, expected);
}
