//! Generic key and keyspace commands over real TCP, compared byte for byte with redis-server
//! 7.0 where replies are deterministic, and checked by their properties where they are not
//! (SCAN, RANDOMKEY, OBJECT IDLETIME, TIME).

mod common;

use std::collections::BTreeSet;

use common::{Conn, assert_same, start_corekv, start_redis};

/// Runs `commands` on a fresh corekv and a fresh redis-server, in RESP2 and then (on new
/// servers) in RESP3, comparing every reply byte for byte. Skips when redis-server is absent.
fn compare_with_redis(commands: &[&[&str]]) {
    for resp3 in [false, true] {
        let Some(redis) = start_redis() else {
            eprintln!("redis-server not installed: skipping the comparison");
            return;
        };
        let server = start_corekv(&[]);
        let (mut reference, mut test) = (Conn::new(&redis), Conn::new(&server));
        if resp3 {
            reference.call(&["HELLO", "3"]);
            test.call(&["HELLO", "3"]);
        }
        assert_same(&mut reference, &mut test, commands);
    }
}

#[test]
fn del_exists_type_touch_match_redis() {
    compare_with_redis(&[
        &["SET", "a", "1"],
        &["SET", "b", "2"],
        &["EXISTS", "a", "a", "b", "missing"],
        &["TOUCH", "a", "b", "b", "missing"],
        &["TYPE", "a"],
        &["TYPE", "missing"],
        &["DEL", "a", "missing", "a"],
        &["UNLINK", "b", "c"],
        &["EXISTS", "a", "b"],
        &["DEL"],
        &["EXISTS"],
        &["TYPE"],
        &["TYPE", "a", "b"],
    ]);
}

#[test]
fn rename_and_copy_match_redis() {
    compare_with_redis(&[
        &["RENAME", "missing", "x"],
        &["RENAMENX", "missing", "x"],
        &["RENAME", "missing", "missing"],
        &["SET", "a", "1"],
        &["EXPIREAT", "a", "4000000000"],
        &["RENAME", "a", "a"],
        &["RENAMENX", "a", "a"],
        &["RENAME", "a", "b"],
        &["EXPIRETIME", "b"],
        &["EXISTS", "a"],
        &["SET", "c", "3"],
        &["RENAMENX", "b", "c"],
        &["RENAMENX", "b", "d"],
        &["GET", "d"],
        &["RENAME", "d", "c"],
        &["EXPIRETIME", "c"],
        &["COPY", "c", "c"],
        &["COPY", "c", "e"],
        &["COPY", "c", "e"],
        &["SET", "c", "new"],
        &["COPY", "c", "e", "REPLACE"],
        &["GET", "e"],
        &["EXPIRETIME", "e"],
        &["COPY", "missing", "e", "replace"],
        &["COPY", "c", "f", "foo"],
        &["COPY", "c", "f", "DB"],
        &["COPY", "c", "f", "DB", "x"],
        &["COPY", "c", "f", "DB", "4294967296"],
        &["COPY", "c", "f", "DB", "-2147483649"],
        &["COPY", "c", "f", "DB", "2147483647"],
        &["COPY", "c", "f", "DB", "99", "foo"],
        &["COPY", "c", "f", "DB", "-1"],
        &["COPY", "c", "c", "DB", "0"],
        &["COPY", "c", "c", "DB", "1"],
        &["COPY", "c", "c", "DB", "1"],
        &["COPY", "c", "c", "DB", "1", "REPLACE"],
        &["SELECT", "1"],
        &["GET", "c"],
        &["COPY", "c", "c"],
        &["SELECT", "0"],
        &["COPY", "c"],
        &["RENAME", "c"],
    ]);
}

#[test]
fn move_matches_redis() {
    compare_with_redis(&[
        &["MOVE", "missing", "1"],
        &["SET", "a", "1"],
        &["PEXPIREAT", "a", "4000000000123"],
        &["MOVE", "a", "x"],
        &["MOVE", "a", "16"],
        &["MOVE", "a", "2147483648"],
        &["MOVE", "a", "99999999999999999999"],
        &["MOVE", "a", "-1"],
        &["MOVE", "a", "0"],
        &["MOVE", "a", "1"],
        &["EXISTS", "a"],
        &["SELECT", "1"],
        &["PEXPIRETIME", "a"],
        &["SET", "b", "in-1"],
        &["SELECT", "0"],
        &["SET", "b", "in-0"],
        &["MOVE", "b", "1"],
        &["GET", "b"],
        &["MOVE", "b"],
    ]);
}

#[test]
fn expire_family_matches_redis() {
    compare_with_redis(&[
        &["EXPIRE", "missing", "100"],
        &["SET", "k", "v"],
        &["TTL", "k"],
        &["PTTL", "k"],
        &["EXPIRETIME", "k"],
        &["PEXPIRETIME", "k"],
        &["TTL", "missing"],
        &["PTTL", "missing"],
        &["EXPIRETIME", "missing"],
        &["PEXPIRETIME", "missing"],
        &["EXPIRE", "k", "100", "XX"],
        &["EXPIRE", "k", "100", "GT"],
        &["EXPIRE", "k", "100", "XX", "LT"],
        &["EXPIREAT", "k", "4000000000", "LT"],
        &["EXPIRETIME", "k"],
        &["EXPIREAT", "k", "4000000001", "nx"],
        &["EXPIREAT", "k", "4000000001", "xx", "gt"],
        &["EXPIREAT", "k", "4000000000", "XX", "GT"],
        &["EXPIREAT", "k", "3999999999", "xx", "lt"],
        &["PEXPIRETIME", "k"],
        &["PEXPIREAT", "k", "3999999999500", "GT"],
        &["PEXPIREAT", "k", "3999999999500", "LT", "LT"],
        &["PEXPIRETIME", "k"],
        &["EXPIRETIME", "k"],
        &["PERSIST", "k"],
        &["PERSIST", "k"],
        &["PERSIST", "missing"],
        &["TTL", "k"],
        &["EXPIRE", "k", "100", "NX", "XX"],
        &["EXPIRE", "k", "100", "nx", "gt"],
        &["EXPIRE", "k", "100", "LT", "nx"],
        &["EXPIRE", "k", "100", "GT", "LT"],
        &["EXPIRE", "k", "100", "GT", "LT", "NX"],
        &["EXPIRE", "k", "100", "FOO"],
        &["EXPIRE", "k", "abc", "FOO"],
        &["EXPIRE", "k", "abc"],
        &["EXPIRE", "k", "9223372036854775"],
        &["EXPIRE", "k", "-9223372036854775808"],
        &["PEXPIRE", "k", "9223372036854775807"],
        &["EXPIREAT", "k", "99999999999999999"],
        &["PEXPIREAT", "missing", "9223372036854775807"],
        &["EXPIRE", "k"],
        &["TTL"],
        &["EXPIRE", "k", "100"],
        &["TTL", "k"],
        &["EXPIRE", "k", "-1"],
        &["EXISTS", "k"],
        &["SET", "k", "v"],
        &["PEXPIREAT", "k", "1"],
        &["GET", "k"],
        &["SET", "k", "v"],
        &["EXPIRE", "k", "0", "NX"],
        &["EXISTS", "k"],
    ]);
}

#[test]
fn expire_options_with_newlines_and_nul_are_printed_as_redis_prints_them() {
    let Some(redis) = start_redis() else { return };
    let server = start_corekv(&[]);
    let (mut reference, mut test) = (Conn::new(&redis), Conn::new(&server));
    for option in [&b"\r\n"[..], b"a\r\nb", b"a\0b", b"\nx\n"] {
        let command: [&[u8]; 4] = [b"EXPIRE", b"k", b"10", option];
        reference.send(&command);
        test.send(&command);
        assert_eq!(test.read_raw_reply(), reference.read_raw_reply(), "option {option:?}");
    }
}

#[test]
fn keyspace_commands_match_redis() {
    compare_with_redis(&[
        &["DBSIZE"],
        &["RANDOMKEY"],
        &["KEYS", "*"],
        &["MSET", "one", "1", "two", "2", "three", "3"],
        &["DBSIZE"],
        &["KEYS", "t[wx]*"],
        &["KEYS", "?hre?"],
        &["KEYS", "nothing*"],
        &["SELECT", "1"],
        &["SET", "other", "x"],
        &["SWAPDB", "0", "1"],
        &["DBSIZE"],
        &["GET", "one"],
        &["SWAPDB", "1", "1"],
        &["SWAPDB", "a", "b"],
        &["SWAPDB", "0", "b"],
        &["SWAPDB", "0", "16"],
        &["SWAPDB", "-1", "0"],
        &["SWAPDB", "0", "-1"],
        &["SWAPDB", "9999999999", "0"],
        &["SWAPDB", "0", "9999999999"],
        &["SWAPDB", "0"],
        &["FLUSHDB", "foo"],
        &["FLUSHDB", "ASYNC", "SYNC"],
        &["FLUSHDB", "async"],
        &["DBSIZE"],
        &["SELECT", "0"],
        &["DBSIZE"],
        &["FLUSHALL", "nope"],
        &["FLUSHALL", "SYNC"],
        &["DBSIZE"],
        &["SET", "x", "1"],
        &["FLUSHALL"],
        &["DBSIZE"],
        &["KEYS"],
        &["DBSIZE", "x"],
        &["RANDOMKEY", "x"],
        &["SCAN", "x"],
        &["SCAN", "+"],
        &["SCAN", " 1"],
        &["SCAN", "18446744073709551616"],
        &["SCAN", "0", "COUNT", "0"],
        &["SCAN", "0", "COUNT", "x"],
        &["SCAN", "0", "MATCH"],
        &["SCAN", "0", "foo", "bar"],
        &["SCAN", "x", "COUNT", "0"],
        &["SCAN", "0"],
        &["SCAN", "-1"],
        &["SCAN", ""],
        &["LASTSAVE", "x"],
        &["TIME", "x"],
    ]);
}

#[test]
fn keys_lists_every_matching_key() {
    let server = start_corekv(&[]);
    let mut conn = Conn::new(&server);
    conn.call(&["MSET", "one", "1", "two", "2", "three", "3", "a*b", "4"]);
    let keys = |conn: &mut Conn, pattern: &str| -> BTreeSet<String> {
        let reply = conn.call_str(&["KEYS", pattern]);
        reply
            .split("\r\n")
            .skip(1)
            .collect::<Vec<_>>()
            .chunks(2)
            .filter(|pair| pair.len() == 2)
            .map(|pair| pair[1].to_string())
            .collect()
    };
    let set = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(keys(&mut conn, "*"), set(&["one", "two", "three", "a*b"]));
    assert_eq!(keys(&mut conn, "t[wh]*"), set(&["two", "three"]));
    assert_eq!(keys(&mut conn, "a\\*b"), set(&["a*b"]));
    assert_eq!(keys(&mut conn, "[^t]*"), set(&["one", "a*b"]));
}

/// Every key a full SCAN (from cursor 0 until it returns 0) reports.
fn full_scan(conn: &mut Conn, options: &[&str]) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    let mut cursor = "0".to_string();
    for _ in 0..10_000 {
        let mut command = vec!["SCAN", &cursor];
        command.extend_from_slice(options);
        let reply = conn.call_str(&command);
        let lines: Vec<&str> = reply.split("\r\n").collect();
        assert_eq!(lines[0], "*2", "{reply}");
        cursor = lines[2].to_string();
        // Lines: *2, $len, cursor, *n, then ($len, key) pairs.
        keys.extend(lines[4..].chunks(2).filter(|pair| pair.len() == 2).map(|p| p[1].to_string()));
        if cursor == "0" {
            return keys;
        }
    }
    panic!("SCAN did not finish");
}

#[test]
fn scan_visits_every_key_with_match_type_and_count() {
    let server = start_corekv(&[]);
    let mut conn = Conn::new(&server);
    let mut expected = BTreeSet::new();
    for i in 0..300 {
        let key = format!("key:{i}");
        conn.call(&["SET", &key, "v"]);
        expected.insert(key);
    }
    assert_eq!(full_scan(&mut conn, &[]), expected);
    assert_eq!(full_scan(&mut conn, &["COUNT", "7"]), expected);
    assert_eq!(full_scan(&mut conn, &["count", "1000"]), expected);
    assert_eq!(full_scan(&mut conn, &["TYPE", "STRING"]), expected);
    assert!(full_scan(&mut conn, &["TYPE", "list"]).is_empty());
    assert!(full_scan(&mut conn, &["TYPE", "stream"]).is_empty());
    assert!(full_scan(&mut conn, &["TYPE", "nonsense"]).is_empty());
    let ones: BTreeSet<String> =
        expected.iter().filter(|k| k.starts_with("key:1")).cloned().collect();
    assert_eq!(full_scan(&mut conn, &["MATCH", "key:1*", "COUNT", "5"]), ones);
    assert_eq!(full_scan(&mut conn, &["MATCH", "nope", "MATCH", "key:1*"]), ones);
    // A cursor past the end (here: -1 wraps to 2^64-1) ends the scan.
    assert_eq!(conn.call_str(&["SCAN", "-1"]), "*2\r\n$1\r\n0\r\n*0\r\n");
    // RESP3: the same shape.
    conn.call(&["HELLO", "3"]);
    conn.call(&["FLUSHDB"]);
    conn.call(&["SET", "only", "1"]);
    assert_eq!(
        conn.call_str(&["SCAN", "0", "COUNT", "100000"]),
        "*2\r\n$1\r\n0\r\n*1\r\n$4\r\nonly\r\n"
    );
}

#[test]
fn randomkey_returns_a_live_key() {
    let server = start_corekv(&[]);
    let mut conn = Conn::new(&server);
    assert_eq!(conn.call_str(&["RANDOMKEY"]), "$-1\r\n");
    conn.call(&["MSET", "a", "1", "b", "2", "c", "3"]);
    conn.call(&["SET", "gone", "x", "PX", "1"]);
    std::thread::sleep(std::time::Duration::from_millis(5));
    let mut seen = BTreeSet::new();
    for _ in 0..200 {
        let reply = conn.call_str(&["RANDOMKEY"]);
        let key = reply.split("\r\n").nth(1).unwrap().to_string();
        assert!(["a", "b", "c"].contains(&key.as_str()), "{reply:?}");
        seen.insert(key);
    }
    assert_eq!(seen.len(), 3, "every key comes up sometimes");
    conn.call(&["HELLO", "3"]);
    conn.call(&["FLUSHALL"]);
    assert_eq!(conn.call_str(&["RANDOMKEY"]), "_\r\n");
}

#[test]
fn object_matches_redis_for_strings_and_errors() {
    compare_with_redis(&[
        &["SET", "small", "100"],
        &["SET", "big", "10000"],
        &["SET", "neg", "-5"],
        &["SET", "zero-led", "0123"],
        &["SET", "text", "hello"],
        &["SET", "empty", ""],
        &["SET", "long", "0123456789012345678901234567890123456789abcd"],
        &["SET", "longer", "0123456789012345678901234567890123456789abcde"],
        &["INCR", "counter"],
        &["INCRBY", "large", "12345678"],
        &["OBJECT", "ENCODING", "small"],
        &["OBJECT", "ENCODING", "big"],
        &["OBJECT", "ENCODING", "neg"],
        &["OBJECT", "ENCODING", "zero-led"],
        &["OBJECT", "ENCODING", "text"],
        &["OBJECT", "ENCODING", "empty"],
        &["OBJECT", "ENCODING", "long"],
        &["OBJECT", "ENCODING", "longer"],
        &["OBJECT", "ENCODING", "counter"],
        &["OBJECT", "encoding", "large"],
        &["OBJECT", "ENCODING", "missing"],
        &["OBJECT", "REFCOUNT", "small"],
        &["OBJECT", "REFCOUNT", "big"],
        &["OBJECT", "REFCOUNT", "neg"],
        &["OBJECT", "REFCOUNT", "text"],
        &["OBJECT", "REFCOUNT", "counter"],
        &["OBJECT", "REFCOUNT", "missing"],
        &["OBJECT", "FREQ", "text"],
        &["OBJECT", "FREQ", "missing"],
        &["OBJECT", "IDLETIME", "missing"],
        &["OBJECT", "HELP"],
        &["OBJECT", "help", "x"],
        &["OBJECT", "ENCODING"],
        &["OBJECT", "ENCODING", "a", "b"],
        &["OBJECT", "IDLETIME"],
        &["OBJECT", "FOO"],
        &["OBJECT", "foo", "bar"],
        &["OBJECT"],
    ]);
}

#[test]
fn object_idletime_counts_from_the_last_access_and_is_not_reset_by_object() {
    let server = start_corekv(&[]);
    let mut conn = Conn::new(&server);
    conn.call(&["SET", "k", "v"]);
    assert_eq!(conn.call_str(&["OBJECT", "IDLETIME", "k"]), ":0\r\n");
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let idle = conn.call_str(&["OBJECT", "IDLETIME", "k"]);
    assert!(idle == ":2\r\n" || idle == ":3\r\n", "{idle}");
    // OBJECT itself records no access, so asking again still counts from the SET.
    conn.call(&["OBJECT", "ENCODING", "k"]);
    let again = conn.call_str(&["OBJECT", "IDLETIME", "k"]);
    assert!(again == ":2\r\n" || again == ":3\r\n", "{again}");
    conn.call(&["GET", "k"]);
    assert_eq!(conn.call_str(&["OBJECT", "IDLETIME", "k"]), ":0\r\n");
}

#[test]
fn time_and_lastsave_have_redis_shapes() {
    let server = start_corekv(&[]);
    let mut conn = Conn::new(&server);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    let reply = conn.call_str(&["TIME"]);
    let lines: Vec<&str> = reply.split("\r\n").collect();
    assert_eq!(lines[0], "*2", "{reply}");
    let seconds: u64 = lines[2].parse().unwrap();
    let micros: u64 = lines[4].parse().unwrap();
    assert!(seconds.abs_diff(now.as_secs()) <= 2, "{reply}");
    assert!(micros < 1_000_000, "{reply}");
    let lastsave = conn.call_str(&["LASTSAVE"]);
    let at: u64 = lastsave.trim_start_matches(':').trim_end().parse().unwrap();
    assert!(at <= now.as_secs() + 1 && at + 3600 > now.as_secs(), "{lastsave}");
}

#[test]
fn every_command_works_inside_multi_exec_like_redis() {
    compare_with_redis(&[
        &["MULTI"],
        &["SET", "a", "1"],
        &["EXISTS", "a", "b"],
        &["TOUCH", "a"],
        &["TYPE", "a"],
        &["COPY", "a", "b"],
        &["COPY", "a", "b", "DB", "2", "REPLACE"],
        &["RENAME", "b", "c"],
        &["RENAMENX", "c", "d"],
        &["MOVE", "d", "1"],
        &["EXPIRE", "a", "100"],
        &["TTL", "a"],
        &["PEXPIREAT", "a", "4000000000000", "GT"],
        &["EXPIRETIME", "a"],
        &["PEXPIRETIME", "a"],
        &["PERSIST", "a"],
        &["EXPIREAT", "a", "4000000000", "NX"],
        &["KEYS", "a*"],
        &["DBSIZE"],
        &["OBJECT", "ENCODING", "a"],
        &["OBJECT", "REFCOUNT", "a"],
        &["OBJECT", "FREQ", "a"],
        &["SWAPDB", "0", "1"],
        &["GET", "d"],
        &["DEL", "d"],
        &["SWAPDB", "0", "1"],
        &["UNLINK", "a"],
        &["FLUSHDB"],
        &["SET", "z", "1"],
        &["FLUSHALL", "ASYNC"],
        &["DBSIZE"],
        &["RANDOMKEY"],
        &["SCAN", "0"],
        &["EXEC"],
        &["SELECT", "2"],
        &["DBSIZE"],
    ]);
}

#[test]
fn nondeterministic_commands_work_inside_multi_exec() {
    let server = start_corekv(&[]);
    let mut conn = Conn::new(&server);
    for command in [
        &["MULTI"][..],
        &["SET", "k", "v"],
        &["OBJECT", "IDLETIME", "k"],
        &["RANDOMKEY"],
        &["TIME"],
        &["LASTSAVE"],
    ] {
        conn.call(command);
    }
    let reply = conn.call_str(&["EXEC"]);
    assert!(reply.starts_with("*5\r\n+OK\r\n:0\r\n$1\r\nk\r\n*2\r\n$"), "{reply}");
    assert!(!reply.contains('-'), "{reply}");
}

/// MOVE and cross-database COPY lock one key in each database; commands going opposite ways
/// at once must neither deadlock nor lose or duplicate a key.
#[test]
fn concurrent_moves_in_opposite_directions_keep_every_key_exactly_once() {
    const KEYS: usize = 20;
    const ROUNDS: usize = 150;
    let server = start_corekv(&[]);
    let port = server.port;
    let mut setup = Conn::new(&server);
    for i in 0..KEYS {
        setup.call(&["SET", &format!("k{i}"), &i.to_string()]);
    }
    let workers: Vec<_> = (0..2)
        .map(|worker| {
            std::thread::spawn(move || {
                let mut conn = Conn::to_port(port);
                let (from, to) = if worker == 0 { ("0", "1") } else { ("1", "0") };
                conn.call(&["SELECT", from]);
                for round in 0..ROUNDS {
                    let key = format!("k{}", round % KEYS);
                    let reply = conn.call_str(&["MOVE", &key, to]);
                    assert!(reply == ":0\r\n" || reply == ":1\r\n", "{reply}");
                    let reply = conn.call_str(&["COPY", &key, "copy", "DB", to, "REPLACE"]);
                    assert!(reply == ":0\r\n" || reply == ":1\r\n", "{reply}");
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    for i in 0..KEYS {
        let key = format!("k{i}");
        setup.call(&["SELECT", "0"]);
        let in_0 = setup.call_str(&["GET", &key]);
        setup.call(&["SELECT", "1"]);
        let in_1 = setup.call_str(&["GET", &key]);
        let value = format!("${}\r\n{i}\r\n", i.to_string().len());
        let found = [&in_0, &in_1].iter().filter(|reply| ***reply == value).count();
        assert_eq!(found, 1, "{key}: db0 {in_0:?} db1 {in_1:?}");
        assert!(in_0 == "$-1\r\n" || in_1 == "$-1\r\n");
    }
}

#[test]
fn object_idletime_is_refused_under_an_lfu_policy() {
    let server = start_corekv(&["--maxmemory-policy", "allkeys-lfu"]);
    let mut conn = Conn::new(&server);
    conn.call(&["SET", "k", "v"]);
    assert_eq!(
        conn.call_str(&["OBJECT", "IDLETIME", "k"]),
        "-ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when \
         switching between policies at runtime LRU and LFU data will take some time to \
         adjust.\r\n"
    );
    assert_eq!(conn.call_str(&["OBJECT", "IDLETIME", "missing"]), "$-1\r\n");
}
