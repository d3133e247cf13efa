//! Snapshots: SAVE / BGSAVE / `save` rules / shutdown save, what a restart loads, and the
//! point-in-time promise while writers run.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::{Conn, TempDir, corekv_start_failure, start_corekv_in};

fn int(reply: &str) -> i64 {
    match reply.strip_prefix('$') {
        Some(bulk) => bulk.lines().nth(1).and_then(|v| v.parse().ok()).unwrap_or(0),
        None => reply.trim_start_matches(':').trim_end().parse().unwrap_or(0),
    }
}

#[test]
fn save_and_restart_restore_every_type() {
    let dir = TempDir::new("snap-types");
    let server = start_corekv_in(&dir.0, &[]);
    let mut conn = Conn::new(&server);
    let setup: &[&[&str]] = &[
        &["SET", "s", "bytes\r\nwith\0binary"],
        &["INCRBY", "n", "-42"],
        &["SET", "ttl", "v", "EX", "1000"],
        &["RPUSH", "l", "a", "b", "c"],
        &["HSET", "h", "f1", "1", "f2", "2"],
        &["SADD", "set", "x", "y"],
        &["ZADD", "z", "-inf", "low", "0.1", "mid", "1e300", "high"],
        &["SELECT", "9"],
        &["SET", "in9", "nine"],
        &["SELECT", "0"],
    ];
    for command in setup {
        conn.call(command);
    }
    let big: Vec<String> = (0..1000).map(|i| i.to_string()).collect();
    let mut rpush = vec!["RPUSH", "big"];
    rpush.extend(big.iter().map(String::as_str));
    conn.call(&rpush);
    let queries: &[&[&str]] = &[
        &["GET", "s"],
        &["GET", "n"],
        &["PEXPIRETIME", "ttl"],
        &["LRANGE", "l", "0", "-1"],
        &["HGETALL", "h"],
        &["SMEMBERS", "set"],
        &["ZRANGE", "z", "0", "-1", "WITHSCORES"],
        &["LRANGE", "big", "0", "-1"],
        &["OBJECT", "ENCODING", "n"],
    ];
    let before: Vec<String> = queries.iter().map(|q| conn.call_str(q)).collect();
    assert_eq!(conn.call_str(&["SAVE"]), "+OK\r\n");
    let lastsave = int(&conn.call_str(&["LASTSAVE"]));
    assert!(lastsave > 1_700_000_000);
    let info = conn.call_str(&["INFO", "persistence"]);
    assert!(info.contains("rdb_changes_since_last_save:0"), "{info}");
    assert!(info.contains("rdb_saves:1"), "{info}");
    server.crash();

    let server = start_corekv_in(&dir.0, &[]);
    let mut conn = Conn::new(&server);
    let after: Vec<String> = queries.iter().map(|q| conn.call_str(q)).collect();
    // SMEMBERS and HGETALL order may differ after a reload: compare sorted.
    let normalize = |replies: &[String]| -> Vec<String> {
        replies
            .iter()
            .map(|r| {
                let mut lines: Vec<&str> = r.split("\r\n").collect();
                lines.sort_unstable();
                lines.join("|")
            })
            .collect()
    };
    assert_eq!(normalize(&after), normalize(&before));
    conn.call(&["SELECT", "9"]);
    assert_eq!(conn.call_str(&["GET", "in9"]), "$4\r\nnine\r\n");
}

#[test]
fn a_snapshot_is_one_instant_while_writers_run() {
    let dir = TempDir::new("snap-instant");
    let server = start_corekv_in(&dir.0, &[]);
    const WRITERS: usize = 3;
    const KEYS: usize = 24;
    let stop = Arc::new(AtomicBool::new(false));
    let port = server.port;
    // Each writer increments its keys in a fixed cycle, one at a time: at any instant its
    // values form a staircase (each key at most one above the next, the first at most one
    // above the last). A second kind moves one unit between two keys in MULTI/EXEC: the sum
    // is constant at every instant.
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut conn = Conn::to_port(port);
                let mut rounds = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    for k in 0..KEYS {
                        conn.call(&["INCR", &format!("w{w}:k{k}")]);
                    }
                    for command in [
                        &["MULTI"][..],
                        &["DECR", &format!("w{w}:from")],
                        &["INCR", &format!("w{w}:to")],
                        &["EXEC"],
                    ] {
                        conn.call(command);
                    }
                    rounds += 1;
                }
                rounds
            })
        })
        .collect();
    let mut conn = Conn::new(&server);
    let mut copies = Vec::new();
    for i in 0..3 {
        std::thread::sleep(Duration::from_millis(150));
        let started = int(&conn
            .call_str(&["INFO", "persistence"])
            .lines()
            .find(|l| l.starts_with("rdb_saves:"))
            .map(|l| format!(":{}", &l[10..]))
            .unwrap_or_default());
        if i % 2 == 0 {
            assert_eq!(conn.call_str(&["BGSAVE"]), "+Background saving started\r\n");
            let deadline = Instant::now() + Duration::from_secs(20);
            while !conn
                .call_str(&["INFO", "persistence"])
                .contains(&format!("rdb_saves:{}", started + 1))
            {
                assert!(Instant::now() < deadline, "BGSAVE did not finish");
                std::thread::sleep(Duration::from_millis(10));
            }
        } else {
            assert_eq!(conn.call_str(&["SAVE"]), "+OK\r\n");
        }
        let copy = dir.0.join(format!("copy{i}"));
        std::fs::create_dir_all(&copy).unwrap();
        std::fs::copy(dir.0.join("dump.rdb"), copy.join("dump.rdb")).unwrap();
        copies.push(copy);
    }
    stop.store(true, Ordering::Relaxed);
    let rounds: u64 = writers.into_iter().map(|w| w.join().unwrap()).sum();
    assert!(rounds > 0);
    drop(server);

    for copy in copies {
        let server = start_corekv_in(&copy, &[]);
        let mut conn = Conn::new(&server);
        for w in 0..WRITERS {
            let values: Vec<i64> =
                (0..KEYS).map(|k| int(&conn.call_str(&["GET", &format!("w{w}:k{k}")]))).collect();
            for k in 1..KEYS {
                assert!(
                    values[k - 1] == values[k] || values[k - 1] == values[k] + 1,
                    "writer {w}: not one instant: {values:?}"
                );
            }
            assert!(values[0] <= values[KEYS - 1] + 1, "writer {w}: {values:?}");
            let from = int(&conn.call_str(&["GET", &format!("w{w}:from")]));
            let to = int(&conn.call_str(&["GET", &format!("w{w}:to")]));
            assert_eq!(from + to, 0, "writer {w}: a transaction was cut in half");
        }
    }
}

#[test]
fn save_rules_and_shutdown_save() {
    let dir = TempDir::new("snap-rules");
    let server = start_corekv_in(&dir.0, &["--save", "1 1"]);
    let mut conn = Conn::new(&server);
    conn.call(&["SET", "k", "1"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !dir.0.join("dump.rdb").exists() {
        assert!(Instant::now() < deadline, "the save rule did not fire");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Written after the rule's snapshot, kept by the final snapshot at SIGTERM.
    conn.call(&["SET", "k", "2"]);
    server.terminate();
    let server = start_corekv_in(&dir.0, &[]);
    let mut conn = Conn::new(&server);
    assert_eq!(conn.call_str(&["GET", "k"]), "$1\r\n2\r\n");
    // SHUTDOWN NOSAVE skips it.
    conn.call(&["SET", "k", "3"]);
    conn.send(&[b"SHUTDOWN", b"NOSAVE"]);
    assert!(conn.is_closed());
    drop(server);
    let server = start_corekv_in(&dir.0, &[]);
    assert_eq!(Conn::new(&server).call_str(&["GET", "k"]), "$1\r\n2\r\n");
}

#[test]
fn a_damaged_snapshot_refuses_to_start() {
    let dir = TempDir::new("snap-damaged");
    let server = start_corekv_in(&dir.0, &[]);
    let mut conn = Conn::new(&server);
    for i in 0..100 {
        conn.call(&["SET", &format!("key{i}"), &"v".repeat(50)]);
    }
    assert_eq!(conn.call_str(&["SAVE"]), "+OK\r\n");
    drop(server);
    let path = dir.0.join("dump.rdb");
    let bytes = std::fs::read(&path).unwrap();
    let mut damaged = bytes.clone();
    let at = damaged.len() / 2;
    damaged[at] ^= 0x10;
    std::fs::write(&path, &damaged).unwrap();
    let refused = corekv_start_failure(&dir.0, &[]);
    assert!(refused.contains("damaged snapshot"), "{refused}");
    std::fs::write(&path, &bytes[..bytes.len() - 10]).unwrap();
    let refused = corekv_start_failure(&dir.0, &[]);
    assert!(refused.contains("damaged snapshot"), "{refused}");
    std::fs::write(&path, b"REDIS0011\xfa").unwrap();
    let refused = corekv_start_failure(&dir.0, &[]);
    assert!(refused.contains("not a corekv snapshot"), "{refused}");
}
