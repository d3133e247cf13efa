//! `maxmemory` over real TCP: the OOM error and what survives a write flood, eviction wired
//! to CONFIG SET, INFO memory / stats, MEMORY and OBJECT FREQ, compared byte for byte with
//! redis-server 7.0 where the replies do not depend on the two servers' memory layouts.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::{Conn, assert_same, start_corekv, start_redis};
use corekv::protocol::Frame;

const OOM: &str = "-OOM command not allowed when used memory > 'maxmemory'.\r\n";

/// INFO's `name:value` fields.
fn info(conn: &mut Conn, section: &str) -> HashMap<String, String> {
    conn.send(&[b"INFO", section.as_bytes()]);
    let text = match conn.read_frame() {
        Frame::Bulk(bytes) => String::from_utf8(bytes).unwrap(),
        Frame::Verbatim { text, .. } => String::from_utf8(text).unwrap(),
        other => panic!("{other:?}"),
    };
    text.split("\r\n")
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect()
}

fn info_u64(conn: &mut Conn, section: &str, field: &str) -> u64 {
    info(conn, section)[field].parse().unwrap()
}

/// Sends `commands` pipelined, 1000 at a time (so neither side's buffers fill while the other
/// is not reading), and returns each reply's bytes.
fn pipeline(conn: &mut Conn, commands: &[Vec<String>]) -> Vec<String> {
    let mut replies = Vec::with_capacity(commands.len());
    for batch in commands.chunks(1000) {
        let mut out = Vec::new();
        for command in batch {
            let args: Vec<&[u8]> = command.iter().map(|arg| arg.as_bytes()).collect();
            corekv::protocol::write_command(&mut out, &args);
        }
        conn.send_raw(&out);
        for _ in batch {
            replies.push(String::from_utf8_lossy(&conn.read_raw_reply()).into_owned());
        }
    }
    replies
}

fn set_commands(prefix: &str, range: std::ops::Range<usize>, extra: &[&str]) -> Vec<Vec<String>> {
    range
        .map(|index| {
            let mut command =
                vec!["SET".to_string(), format!("{prefix}:{index:07}"), format!("{index:0>100}")];
            command.extend(extra.iter().map(|arg| arg.to_string()));
            command
        })
        .collect()
}

#[test]
fn oom_error_and_memory_replies_match_redis() {
    let Some(reference) = start_redis() else {
        eprintln!("redis-server not installed: skipping the comparison");
        return;
    };
    let server = start_corekv(&[]);
    let (mut redis, mut corekv) = (Conn::new(&reference), Conn::new(&server));
    assert_same(
        &mut redis,
        &mut corekv,
        &[
            &["SET", "kept", "value"],
            &["MEMORY", "USAGE", "missing"],
            &["MEMORY", "USAGE", "kept", "SAMPLES"],
            &["MEMORY", "USAGE", "kept", "SAMPLES", "x"],
            &["MEMORY", "USAGE", "kept", "SAMPLES", "-1"],
            &["MEMORY", "USAGE", "kept", "FOO", "1"],
            &["MEMORY", "USAGE"],
            &["MEMORY", "NOSUCH"],
            &["OBJECT", "FREQ", "kept"],
            &["OBJECT", "FREQ", "missing"],
            // Any limit below what the server holds: every write that adds memory is refused,
            // reads and deletes are not.
            &["CONFIG", "SET", "maxmemory", "1"],
            &["SET", "new", "value"],
            &["APPEND", "kept", "more"],
            &["LPUSH", "list", "a"],
            &["GET", "kept"],
            &["EXISTS", "kept"],
            &["MULTI"],
            &["SET", "new", "value"],
            &["EXEC"],
            &["DEL", "kept"],
            &["CONFIG", "SET", "maxmemory", "0"],
            &["SET", "new", "value"],
            // LFU's counter: 5 for a new key, 6 after its first read, as Redis counts.
            &["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"],
            &["SET", "counted", "value"],
            &["OBJECT", "FREQ", "counted"],
            &["GET", "counted"],
            &["OBJECT", "FREQ", "counted"],
            &["OBJECT", "IDLETIME", "counted"],
            &["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"],
        ],
    );
    let usage = corekv.call_str(&["MEMORY", "USAGE", "new"]);
    let bytes: u64 = usage.trim_start_matches(':').trim().parse().unwrap();
    assert!(bytes >= 8, "{usage}");
    assert_eq!(corekv.call_str(&["MEMORY", "USAGE", "new", "SAMPLES", "0"]), usage);
}

#[test]
fn noeviction_write_flood_loses_nothing() {
    let server = start_corekv(&["--maxmemory", "2mb"]);
    let mut conn = Conn::new(&server);
    assert_eq!(info(&mut conn, "memory")["maxmemory_policy"], "noeviction");
    let mut acknowledged = Vec::new();
    let mut refused = 0;
    for batch in 0..40 {
        let commands = set_commands("flood", batch * 1000..(batch + 1) * 1000, &[]);
        for (command, reply) in commands.iter().zip(pipeline(&mut conn, &commands)) {
            match reply.as_str() {
                "+OK\r\n" => acknowledged.push(command[1].clone()),
                OOM => refused += 1,
                other => panic!("unexpected reply {other:?}"),
            }
        }
    }
    assert!(refused > 10_000, "{refused}");
    let maxmemory = 2 * 1024 * 1024;
    let used = info_u64(&mut conn, "memory", "used_memory");
    assert!(used <= maxmemory, "{used}");
    assert!(used > maxmemory * 9 / 10, "the limit is used before writes are refused: {used}");
    assert_eq!(info_u64(&mut conn, "stats", "evicted_keys"), 0);
    // Every acknowledged write is there, with its value.
    let gets: Vec<Vec<String>> =
        acknowledged.iter().map(|key| vec!["GET".to_string(), key.clone()]).collect();
    for (key, reply) in acknowledged.iter().zip(pipeline(&mut conn, &gets)) {
        let index: usize = key.rsplit(':').next().unwrap().parse().unwrap();
        assert_eq!(reply, format!("$100\r\n{index:0>100}\r\n"), "{key}");
    }
    assert_eq!(conn.call_str(&["DBSIZE"]), format!(":{}\r\n", acknowledged.len()));
    // Deleting makes room again.
    // The flood's last refusal left less room than one more write of its size needs.
    let value = "v".repeat(100);
    assert_eq!(conn.call_str(&["SET", "flood:9999999", &value]), OOM);
    let deletes: Vec<Vec<String>> =
        acknowledged[..500].iter().map(|key| vec!["DEL".to_string(), key.clone()]).collect();
    assert!(pipeline(&mut conn, &deletes).iter().all(|reply| reply == ":1\r\n"));
    assert_eq!(conn.call_str(&["SET", "flood:9999999", &value]), "+OK\r\n");
}

#[test]
fn allkeys_lru_evicts_and_keeps_used_memory_under_the_limit() {
    let server = start_corekv(&["--maxmemory", "2mb", "--maxmemory-policy", "allkeys-lru"]);
    let mut conn = Conn::new(&server);
    for batch in 0..40 {
        let commands = set_commands("lru", batch * 1000..(batch + 1) * 1000, &[]);
        assert!(pipeline(&mut conn, &commands).iter().all(|reply| reply == "+OK\r\n"));
    }
    let maxmemory = 2 * 1024 * 1024;
    let used = info_u64(&mut conn, "memory", "used_memory");
    assert!(used <= maxmemory, "{used}");
    let evicted = info_u64(&mut conn, "stats", "evicted_keys");
    let keys: u64 = conn.call_str(&["DBSIZE"]).trim_start_matches(':').trim().parse().unwrap();
    assert_eq!(keys + evicted, 40_000);
    assert!(evicted > 20_000, "{evicted}");
    // The newest writes are there.
    for index in 39_990..40_000 {
        let reply = conn.call_str(&["GET", &format!("lru:{index:07}")]);
        assert_eq!(reply, format!("$100\r\n{index:0>100}\r\n"));
    }
    let fields = info(&mut conn, "memory");
    assert_eq!(fields["maxmemory"], maxmemory.to_string());
    assert_eq!(fields["maxmemory_human"], "2.00M");
    assert_eq!(fields["maxmemory_policy"], "allkeys-lru");
    for field in
        ["used_memory_human", "used_memory_rss", "used_memory_peak", "mem_fragmentation_ratio"]
    {
        assert!(fields.contains_key(field), "{field}");
    }
    // Lowering the limit at run time: the maintenance cycles evict down to it.
    conn.call_str(&["CONFIG", "SET", "maxmemory", "1mb"]);
    let deadline = Instant::now() + Duration::from_secs(5);
    while info_u64(&mut conn, "memory", "used_memory") > 1024 * 1024 {
        assert!(Instant::now() < deadline, "used_memory never came down to the new limit");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn volatile_policies_never_evict_keys_without_ttl() {
    let server = start_corekv(&["--maxmemory", "2mb", "--maxmemory-policy", "volatile-lru"]);
    let mut conn = Conn::new(&server);
    let persistent = set_commands("persistent", 0..3000, &[]);
    assert!(pipeline(&mut conn, &persistent).iter().all(|reply| reply == "+OK\r\n"));
    for policy in ["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"] {
        conn.call_str(&["CONFIG", "SET", "maxmemory-policy", policy]);
        for batch in 0..15 {
            let commands = set_commands(policy, batch * 1000..(batch + 1) * 1000, &["EX", "3600"]);
            let replies = pipeline(&mut conn, &commands);
            assert!(replies.iter().all(|reply| reply == "+OK\r\n"), "{policy}: {:?}", replies[0]);
        }
        let gets: Vec<Vec<String>> =
            persistent.iter().map(|set| vec!["EXISTS".to_string(), set[1].clone()]).collect();
        let replies = pipeline(&mut conn, &gets);
        assert!(replies.iter().all(|reply| reply == ":1\r\n"), "{policy} evicted a persistent key");
        assert!(info_u64(&mut conn, "memory", "used_memory") <= 2 * 1024 * 1024, "{policy}");
    }
    // Nothing volatile left to evict: persistent writes fill the rest, then get -OOM.
    conn.call_str(&["CONFIG", "SET", "maxmemory-policy", "volatile-ttl"]);
    conn.call_str(&["FLUSHALL"]);
    let replies = pipeline(&mut conn, &set_commands("p", 0..30_000, &[]));
    assert!(replies.iter().any(|reply| reply == OOM));
    assert!(info_u64(&mut conn, "stats", "evicted_keys") > 0);
}

#[test]
fn used_memory_returns_to_its_start_after_flushall_and_expiry() {
    let server = start_corekv(&["--maxmemory", "4mb", "--maxmemory-policy", "allkeys-lfu"]);
    let mut conn = Conn::new(&server);
    let start = info_u64(&mut conn, "memory", "used_memory");
    let mut commands = set_commands("a", 0..5000, &[]);
    commands.extend((0..500).map(|index| {
        let key = format!("h:{index}");
        vec!["HSET".into(), key, "field".into(), "value".into(), "other".into(), index.to_string()]
    }));
    pipeline(&mut conn, &commands);
    assert!(info_u64(&mut conn, "memory", "used_memory") > start);
    conn.call_str(&["FLUSHALL"]);
    assert_eq!(info_u64(&mut conn, "memory", "used_memory"), start);

    pipeline(&mut conn, &set_commands("e", 0..5000, &["PX", "200"]));
    let deadline = Instant::now() + Duration::from_secs(10);
    while info_u64(&mut conn, "memory", "used_memory") != start {
        assert!(Instant::now() < deadline, "expired keys left memory accounted");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(conn.call_str(&["DBSIZE"]), ":0\r\n");
}

#[test]
fn memory_stats_and_doctor() {
    let server = start_corekv(&[]);
    let mut conn = Conn::new(&server);
    pipeline(&mut conn, &set_commands("k", 0..100, &[]));
    conn.send(&[b"MEMORY", b"STATS"]);
    let Frame::Array(items) = conn.read_frame() else { panic!("MEMORY STATS is a map") };
    let mut stats = HashMap::new();
    for pair in items.chunks(2) {
        let Frame::Bulk(name) = &pair[0] else { panic!("{pair:?}") };
        stats.insert(String::from_utf8(name.clone()).unwrap(), pair[1].clone());
    }
    assert_eq!(stats["keys.count"], Frame::Integer(100));
    let used = info_u64(&mut conn, "memory", "used_memory") as i64;
    assert_eq!(stats["total.allocated"], Frame::Integer(used));
    assert_eq!(stats["keys.bytes-per-key"], Frame::Integer(used / 100));
    conn.send(&[b"MEMORY", b"DOCTOR"]);
    let Frame::Bulk(text) = conn.read_frame() else { panic!("DOCTOR is text") };
    assert!(String::from_utf8(text).unwrap().starts_with("Hi Sam, this instance is empty"));
    conn.send(&[b"MEMORY", b"HELP"]);
    let Frame::Array(lines) = conn.read_frame() else { panic!("HELP is an array") };
    assert!(lines.len() > 5);
}

#[test]
fn allkeys_tinylfu_is_a_policy_name_and_counts_like_lfu() {
    let server = start_corekv(&["--maxmemory", "2mb", "--maxmemory-policy", "allkeys-tinylfu"]);
    let mut conn = Conn::new(&server);
    assert_eq!(info(&mut conn, "memory")["maxmemory_policy"], "allkeys-tinylfu");
    assert!(conn.call_str(&["CONFIG", "GET", "maxmemory-policy"]).contains("allkeys-tinylfu"));
    // Its victims are allkeys-lfu's, so OBJECT FREQ reports the LFU counter.
    conn.call_str(&["SET", "counted", "value"]);
    assert_eq!(conn.call_str(&["OBJECT", "FREQ", "counted"]), ":5\r\n");
    conn.call_str(&["GET", "counted"]);
    assert_eq!(conn.call_str(&["OBJECT", "FREQ", "counted"]), ":6\r\n");
    // Keys read often survive a flood of keys never read.
    let hot = set_commands("hot", 0..2000, &[]);
    assert!(pipeline(&mut conn, &hot).iter().all(|reply| reply == "+OK\r\n"));
    let gets: Vec<Vec<String>> =
        hot.iter().map(|set| vec!["GET".to_string(), set[1].clone()]).collect();
    for _ in 0..3 {
        pipeline(&mut conn, &gets);
    }
    for batch in 0..30 {
        let commands = set_commands("flood", batch * 1000..(batch + 1) * 1000, &[]);
        assert!(pipeline(&mut conn, &commands).iter().all(|reply| reply == "+OK\r\n"));
    }
    assert!(info_u64(&mut conn, "memory", "used_memory") <= 2 * 1024 * 1024);
    assert!(info_u64(&mut conn, "stats", "evicted_keys") > 20_000);
    let hits = pipeline(&mut conn, &gets).iter().filter(|reply| reply.starts_with('$')).count();
    assert!(hits >= 1900, "frequently read keys were pushed out: {hits}/2000 left");
}
