//! Server administration over real TCP: INFO, CONFIG, COMMAND, CLIENT, SLOWLOG, LATENCY,
//! SHUTDOWN and DEBUG SLEEP, compared with redis-server 7.0 where the formats agree.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::{Conn, assert_same, start_corekv, start_redis};
use corekv::protocol::Frame;

/// The text of a bulk or verbatim reply.
fn text_of(frame: Frame) -> String {
    match frame {
        Frame::Bulk(bytes) => String::from_utf8(bytes).unwrap(),
        Frame::Verbatim { text, .. } => String::from_utf8(text).unwrap(),
        other => panic!("expected text, got {other:?}"),
    }
}

fn call_text(conn: &mut Conn, args: &[&str]) -> String {
    let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    conn.send(&args);
    text_of(conn.read_frame())
}

/// INFO's `name:value` fields.
fn info_fields(conn: &mut Conn, sections: &[&str]) -> HashMap<String, String> {
    let mut args = vec!["INFO"];
    args.extend_from_slice(sections);
    let text = call_text(conn, &args);
    assert!(text.ends_with("\r\n"), "{text:?}");
    text.split("\r\n")
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect()
}

#[test]
fn info_sections_hold_redis_fields() {
    let server = start_corekv(&[]);
    let mut conn = Conn::new(&server);
    let text = call_text(&mut conn, &["INFO"]);
    assert!(text.starts_with("# Server\r\nredis_version:7.0.15\r\n"), "{text}");
    for line in text.trim_end_matches("\r\n").split("\r\n") {
        assert!(!line.contains('\n') && !line.contains('\r'), "{line:?}");
    }
    for section in ["Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU"] {
        assert!(text.contains(&format!("# {section}\r\n")), "{section}");
    }
    assert!(text.contains("\r\n\r\n# Clients\r\n"), "sections are separated by a blank line");
    assert!(!text.contains("# Commandstats"), "not a default section");

    let fields = info_fields(&mut conn, &["everything"]);
    for name in [
        "corekv_version",
        "redis_mode",
        "os",
        "arch_bits",
        "multiplexing_api",
        "process_id",
        "run_id",
        "uptime_in_seconds",
        "uptime_in_days",
        "hz",
        "executable",
        "config_file",
        "connected_clients",
        "blocked_clients",
        "maxclients",
        "used_memory",
        "used_memory_rss",
        "used_memory_peak",
        "used_memory_dataset",
        "maxmemory",
        "maxmemory_policy",
        "mem_fragmentation_ratio",
        "loading",
        "rdb_changes_since_last_save",
        "rdb_bgsave_in_progress",
        "rdb_last_save_time",
        "aof_enabled",
        "aof_rewrite_in_progress",
        "aof_last_write_status",
        "total_connections_received",
        "total_commands_processed",
        "instantaneous_ops_per_sec",
        "total_net_input_bytes",
        "total_net_output_bytes",
        "rejected_connections",
        "expired_keys",
        "evicted_keys",
        "keyspace_hits",
        "keyspace_misses",
        "pubsub_channels",
        "pubsub_patterns",
        "total_error_replies",
        "used_cpu_sys",
        "used_cpu_user",
        "cluster_enabled",
    ] {
        assert!(fields.contains_key(name), "missing {name}");
    }
    assert_eq!(fields["tcp_port"], server.port.to_string());
    assert_eq!(fields["multiplexing_api"], "epoll");
    assert_eq!(fields["role"], "master");
    assert_eq!(fields["connected_slaves"], "0");
    assert_eq!(fields["connected_clients"], "1");
    assert_eq!(fields["aof_enabled"], "0");
    assert!(fields["used_memory_rss"].parse::<u64>().unwrap() > 0);
    assert!(fields["used_cpu_sys"].parse::<f64>().is_ok());

    // Keyspace counts keys and keys with a TTL, and memory grows with the data.
    let before: u64 = info_fields(&mut conn, &["memory"])["used_memory"].parse().unwrap();
    assert_eq!(conn.call_str(&["SET", "a", "1"]), "+OK\r\n");
    assert_eq!(conn.call_str(&["SET", "b", &"x".repeat(10_000), "EX", "100"]), "+OK\r\n");
    let after: u64 = info_fields(&mut conn, &["memory"])["used_memory"].parse().unwrap();
    assert!(after >= before + 10_000, "{before} -> {after}");
    assert_eq!(
        conn.call_str(&["INFO", "keyspace"]),
        "$44\r\n# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl=0\r\n\r\n"
    );
    assert_eq!(conn.call_str(&["INFO", "nosuchsection"]), "$0\r\n\r\n");
    // Several sections, in Redis's order whatever the argument order.
    let text = call_text(&mut conn, &["INFO", "keyspace", "CPU"]);
    assert!(text.starts_with("# CPU\r\n") && text.contains("\r\n\r\n# Keyspace\r\n"), "{text}");

    // RESP3: a verbatim string.
    conn.call(&["HELLO", "3"]);
    let reply = conn.call_str(&["INFO", "keyspace"]);
    assert_eq!(reply, "=48\r\ntxt:# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl=0\r\n\r\n");
}

#[test]
fn info_keyspace_matches_redis() {
    let Some(redis) = start_redis() else {
        eprintln!("redis-server not installed: skipping the comparison");
        return;
    };
    let server = start_corekv(&[]);
    let mut test = Conn::new(&server);
    let mut reference = Conn::new(&redis);
    assert_same(
        &mut reference,
        &mut test,
        &[
            &["INFO", "keyspace"],
            &["SET", "a", "1"],
            &["SET", "b", "1", "PX", "100000"],
            &["SELECT", "3"],
            &["SET", "c", "1"],
            &["INFO", "keyspace"],
            &["INFO", "nosuch"],
        ],
    );
    // HELLO's reply holds the connection id, which differs.
    reference.call(&["HELLO", "3"]);
    test.call(&["HELLO", "3"]);
    assert_same(&mut reference, &mut test, &[&["INFO", "keyspace"], &["INFO", "nosuch"]]);
}

#[test]
fn commandstats_and_latencystats_count_calls() {
    let server = start_corekv(&[]);
    let mut conn = Conn::new(&server);
    conn.call(&["SET", "n", "x"]);
    for _ in 0..3 {
        conn.call(&["GET", "n"]);
    }
    conn.call(&["INCR", "n"]);
    conn.call(&["GET"]);
    let fields = info_fields(&mut conn, &["commandstats", "latencystats"]);
    let get = &fields["cmdstat_get"];
    assert!(get.starts_with("calls=3,usec="), "{get}");
    assert!(get.ends_with(",rejected_calls=1,failed_calls=0"), "{get}");
    assert!(fields["cmdstat_incr"].ends_with(",rejected_calls=0,failed_calls=1"));
    let latency = &fields["latency_percentiles_usec_get"];
    let parts: Vec<&str> = latency.split(',').collect();
    assert_eq!(parts.len(), 3, "{latency}");
    for (part, label) in parts.iter().zip(["p50=", "p99=", "p99.9="]) {
        let value = part.strip_prefix(label).unwrap();
        assert_eq!(value.split('.').nth(1).map(str::len), Some(3), "{latency}");
    }
    let stats = info_fields(&mut conn, &["stats"]);
    assert_eq!(stats["total_error_replies"], "2");
    assert!(stats["total_commands_processed"].parse::<u64>().unwrap() >= 5);
    assert!(stats["keyspace_hits"].parse::<u64>().unwrap() >= 3);

    // CONFIG RESETSTAT clears the counters and histograms.
    assert_eq!(conn.call_str(&["CONFIG", "RESETSTAT"]), "+OK\r\n");
    let fields = info_fields(&mut conn, &["commandstats", "latencystats"]);
    assert!(!fields.contains_key("cmdstat_get"), "{fields:?}");
    assert!(!fields.contains_key("latency_percentiles_usec_get"), "{fields:?}");
    assert_eq!(info_fields(&mut conn, &["stats"])["total_error_replies"], "0");
}

#[test]
fn instantaneous_ops_per_sec_is_sampled() {
    let server = start_corekv(&[]);
    let mut conn = Conn::new(&server);
    info_fields(&mut conn, &["stats"]);
    let deadline = Instant::now() + Duration::from_millis(700);
    let mut batch = Vec::new();
    for _ in 0..200 {
        corekv::protocol::write_command(&mut batch, &[&b"PING"[..]]);
    }
    while Instant::now() < deadline {
        conn.send_raw(&batch);
        for _ in 0..200 {
            conn.read_frame();
        }
    }
    let ops: u64 = info_fields(&mut conn, &["stats"])["instantaneous_ops_per_sec"].parse().unwrap();
    assert!(ops > 0, "ops/sec {ops}");
}

#[test]
fn config_get_set_round_trip_and_effect() {
    let server = start_corekv(&[]);
    let mut conn = Conn::new(&server);
    let get = |conn: &mut Conn, name: &str| conn.call_str(&["CONFIG", "GET", name]);
    assert_eq!(get(&mut conn, "maxclients"), "*2\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n");
    assert_eq!(conn.call_str(&["CONFIG", "SET", "maxclients", "50"]), "+OK\r\n");
    assert_eq!(get(&mut conn, "maxclients"), "*2\r\n$10\r\nmaxclients\r\n$2\r\n50\r\n");
    assert_eq!(info_fields(&mut conn, &["clients"])["maxclients"], "50");
    // Several pairs at once, all or nothing.
    assert_eq!(
        conn.call_str(&["CONFIG", "SET", "maxclients", "60", "nosuch", "1"]),
        "-ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'\r\n"
    );
    assert_eq!(get(&mut conn, "maxclients"), "*2\r\n$10\r\nmaxclients\r\n$2\r\n50\r\n");
    assert_eq!(conn.call_str(&["CONFIG", "SET", "maxclients", "70", "timeout", "0"]), "+OK\r\n");
    assert_eq!(get(&mut conn, "maxclients"), "*2\r\n$10\r\nmaxclients\r\n$2\r\n70\r\n");
    assert_eq!(get(&mut conn, "nosuch"), "*0\r\n");

    // Patterns are deduplicated; RESP3 gets a map.
    conn.call(&["HELLO", "3"]);
    assert_eq!(
        conn.call_str(&["CONFIG", "GET", "maxclients", "maxclient*"]),
        "%1\r\n$10\r\nmaxclients\r\n$2\r\n70\r\n"
    );
    conn.call(&["HELLO", "2"]);

    // slowlog-log-slower-than takes effect: 0 logs everything.
    assert_eq!(conn.call_str(&["SLOWLOG", "RESET"]), "+OK\r\n");
    assert_eq!(conn.call_str(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]), "+OK\r\n");
    assert_eq!(conn.call_str(&["CLIENT", "SETNAME", "slowpoke"]), "+OK\r\n");
    conn.call(&["ECHO", "traced"]);
    let Frame::Array(entries) = ({
        conn.send(&[b"SLOWLOG", b"GET", b"1"]);
        conn.read_frame()
    }) else {
        panic!("SLOWLOG GET is an array")
    };
    assert_eq!(entries.len(), 1);
    let Frame::Array(entry) = &entries[0] else { panic!("entry is an array") };
    assert_eq!(entry.len(), 6);
    assert!(matches!(entry[0], Frame::Integer(_)));
    assert!(matches!(entry[1], Frame::Integer(t) if t > 1_600_000_000));
    assert!(matches!(entry[2], Frame::Integer(d) if d >= 0));
    assert_eq!(entry[3], Frame::Array(vec![Frame::bulk("ECHO"), Frame::bulk("traced")]));
    assert!(matches!(&entry[4], Frame::Bulk(addr) if addr.starts_with(b"127.0.0.1:")));
    assert_eq!(entry[5], Frame::bulk("slowpoke"));
    let len = conn.call_str(&["SLOWLOG", "LEN"]);
    assert!(len.starts_with(':') && len != ":0\r\n", "{len}");
    // Back to 10 ms: a fast command is not logged, DEBUG SLEEP 0.02 is.
    conn.call(&["CONFIG", "SET", "slowlog-log-slower-than", "10000"]);
    conn.call(&["SLOWLOG", "RESET"]);
    conn.call(&["PING"]);
    assert_eq!(conn.call_str(&["SLOWLOG", "LEN"]), ":0\r\n");
    assert_eq!(conn.call_str(&["DEBUG", "SLEEP", "0.02"]), "+OK\r\n");
    assert_eq!(conn.call_str(&["SLOWLOG", "LEN"]), ":1\r\n");
    let Frame::Array(entries) = ({
        conn.send(&[b"SLOWLOG", b"GET"]);
        conn.read_frame()
    }) else {
        panic!("SLOWLOG GET is an array")
    };
    let Frame::Array(entry) = &entries[0] else { panic!("entry is an array") };
    assert!(matches!(entry[2], Frame::Integer(d) if d >= 20_000), "{entry:?}");
    // A negative threshold logs nothing.
    conn.call(&["CONFIG", "SET", "slowlog-log-slower-than", "-1"]);
    conn.call(&["SLOWLOG", "RESET"]);
    conn.call(&["DEBUG", "SLEEP", "0.02"]);
    assert_eq!(conn.call_str(&["SLOWLOG", "LEN"]), ":0\r\n");
}

#[test]
fn config_and_slowlog_errors_match_redis() {
    let Some(redis) = start_redis() else {
        eprintln!("redis-server not installed: skipping the comparison");
        return;
    };
    let server = start_corekv(&[]);
    let mut test = Conn::new(&server);
    let mut reference = Conn::new(&redis);
    assert_same(
        &mut reference,
        &mut test,
        &[
            &["CONFIG"],
            &["CONFIG", "GET"],
            &["CONFIG", "GET", "nosuch"],
            &["CONFIG", "GET", "slowlog-max-len"],
            &["CONFIG", "SET", "maxclients"],
            &["CONFIG", "SET", "maxclients", "1", "timeout"],
            &["CONFIG", "SET", "nosuch", "1"],
            &["CONFIG", "SET", "maxclients", "abc"],
            &["CONFIG", "SET", "slowlog-max-len", "7"],
            &["CONFIG", "GET", "slowlog-max-len"],
            &["CONFIG", "REWRITE"],
            &["CONFIG", "RESETSTAT", "x"],
            &["CONFIG", "FOO"],
            &["CONFIG", "HELP"],
            &["SLOWLOG"],
            &["SLOWLOG", "GET", "x"],
            &["SLOWLOG", "GET", "-2"],
            &["SLOWLOG", "GET", "1", "2"],
            &["SLOWLOG", "LEN", "x"],
            &["SLOWLOG", "RESET"],
            &["SLOWLOG", "FOO"],
            &["SLOWLOG", "HELP"],
            &["LATENCY", "LATEST"],
            &["LATENCY", "HISTORY", "x"],
            &["LATENCY", "GRAPH", "x"],
            &["LATENCY", "RESET"],
            &["LATENCY", "RESET", "a", "b"],
            &["LATENCY", "DOCTOR"],
            &["LATENCY", "HISTOGRAM", "nosuch"],
            &["LATENCY", "FOO"],
            &["LATENCY", "HELP"],
            &["SHUTDOWN", "ABORT"],
            &["SHUTDOWN", "FOO"],
            &["SHUTDOWN", "SAVE", "NOSAVE"],
            &["SHUTDOWN", "NOW", "ABORT"],
        ],
    );
    reference.call(&["HELLO", "3"]);
    test.call(&["HELLO", "3"]);
    assert_same(
        &mut reference,
        &mut test,
        &[
            &["CONFIG", "GET", "slowlog-max-len"],
            &["LATENCY", "DOCTOR"],
            &["LATENCY", "HISTOGRAM", "nosuch"],
            &["SLOWLOG", "GET", "0"],
        ],
    );
}

#[test]
fn latency_histogram_has_redis_shape() {
    let server = start_corekv(&[]);
    let mut conn = Conn::new(&server);
    conn.call(&["HELLO", "3"]);
    conn.call(&["SET", "k", "v"]);
    conn.call(&["SET", "k", "v"]);
    let reply = conn.call_str(&["LATENCY", "HISTOGRAM", "set", "nosuch"]);
    assert!(
        reply.starts_with(
            "%1\r\n$3\r\nset\r\n%2\r\n$5\r\ncalls\r\n:2\r\n$14\r\nhistogram_usec\r\n%"
        ),
        "{reply}"
    );
    conn.send(&[b"LATENCY", b"HISTOGRAM"]);
    let Frame::Map(commands) = conn.read_frame() else { panic!("a map") };
    let (_, set) = commands.iter().find(|(name, _)| *name == Frame::bulk("set")).unwrap();
    let Frame::Map(fields) = set else { panic!("a map") };
    let Frame::Map(buckets) = &fields[1].1 else { panic!("a map") };
    let mut previous = (0, 0);
    for (bound, calls) in buckets {
        let (Frame::Integer(bound), Frame::Integer(calls)) = (bound, calls) else { panic!() };
        assert!(*bound > previous.0 && bound.count_ones() == 1, "power-of-two bounds");
        assert!(*calls >= previous.1, "cumulative");
        previous = (*bound, *calls);
    }
    assert_eq!(previous.1, 2, "the last bucket holds every call");
}

#[test]
fn client_subcommands() {
    let server = start_corekv(&[]);
    let mut conn = Conn::new(&server);
    let id = conn.call_str(&["CLIENT", "ID"]);
    let id: u64 = id.trim_start_matches(':').trim_end().parse().unwrap();
    assert_eq!(conn.call_str(&["CLIENT", "GETNAME"]), "$-1\r\n");
    assert_eq!(conn.call_str(&["CLIENT", "SETNAME", "admin-test"]), "+OK\r\n");
    assert_eq!(conn.call_str(&["CLIENT", "GETNAME"]), "$10\r\nadmin-test\r\n");
    assert_eq!(
        conn.call_str(&["CLIENT", "SETNAME", "a b"]),
        "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"
    );
    assert_eq!(conn.call_str(&["CLIENT", "NO-EVICT", "on"]), "+OK\r\n");

    let mut other = Conn::new(&server);
    other.call(&["SUBSCRIBE", "news"]);
    let list = call_text(&mut conn, &["CLIENT", "LIST"]);
    assert_eq!(list.lines().count(), 2, "{list}");
    assert!(list.ends_with('\n'));
    let own = list.lines().find(|l| l.starts_with(&format!("id={id} "))).unwrap();
    let fields: Vec<&str> = own.split(' ').map(|f| f.split('=').next().unwrap()).collect();
    assert_eq!(
        fields,
        [
            "id",
            "addr",
            "laddr",
            "fd",
            "name",
            "age",
            "idle",
            "flags",
            "db",
            "sub",
            "psub",
            "ssub",
            "multi",
            "qbuf",
            "qbuf-free",
            "argv-mem",
            "multi-mem",
            "rbs",
            "rbp",
            "obl",
            "oll",
            "omem",
            "tot-mem",
            "events",
            "cmd",
            "user",
            "redir",
            "resp"
        ]
    );
    assert!(own.contains(" name=admin-test "), "{own}");
    assert!(own.contains(" flags=e "), "{own}");
    assert!(own.contains(" cmd=client|list "), "{own}");
    assert!(own.contains(&format!(" laddr=127.0.0.1:{} ", server.port)), "{own}");
    let pubsub = call_text(&mut conn, &["CLIENT", "LIST", "TYPE", "pubsub"]);
    assert_eq!(pubsub.lines().count(), 1, "{pubsub}");
    assert!(pubsub.contains(" flags=P ") && pubsub.contains(" sub=1 "), "{pubsub}");
    let normal = call_text(&mut conn, &["CLIENT", "LIST", "TYPE", "normal"]);
    assert_eq!(normal.lines().count(), 1, "{normal}");
    let by_id = call_text(&mut conn, &["CLIENT", "LIST", "ID", &id.to_string(), "99999"]);
    assert_eq!(by_id.lines().count(), 1);
    let info = call_text(&mut conn, &["CLIENT", "INFO"]);
    assert!(info.starts_with(&format!("id={id} ")) && info.contains(" cmd=client|info "));

    // Kill the other connection by id: it is closed.
    let other_line = list.lines().find(|l| !l.starts_with(&format!("id={id} "))).unwrap();
    let other_id = other_line.split(' ').next().unwrap().trim_start_matches("id=");
    assert_eq!(conn.call_str(&["CLIENT", "KILL", "ID", other_id]), ":1\r\n");
    assert!(other.is_closed());
    assert_eq!(conn.call_str(&["CLIENT", "KILL", "ID", other_id]), ":0\r\n");

    // The old form, by address.
    let mut third = Conn::new(&server);
    let third_addr = call_text(&mut third, &["CLIENT", "INFO"]);
    let third_addr = third_addr.split(' ').nth(1).unwrap().trim_start_matches("addr=").to_string();
    assert_eq!(conn.call_str(&["CLIENT", "KILL", &third_addr]), "+OK\r\n");
    assert!(third.is_closed());
    assert_eq!(conn.call_str(&["CLIENT", "KILL", &third_addr]), "-ERR No such client\r\n");

    // SKIPME yes (the default) spares the caller; SKIPME no kills it after the reply.
    assert_eq!(conn.call_str(&["CLIENT", "KILL", "TYPE", "normal"]), ":0\r\n");
    assert_eq!(conn.call_str(&["CLIENT", "KILL", "ID", &id.to_string(), "SKIPME", "no"]), ":1\r\n");
    assert!(conn.is_closed());
}

#[test]
fn client_errors_match_redis() {
    let Some(redis) = start_redis() else {
        eprintln!("redis-server not installed: skipping the comparison");
        return;
    };
    let server = start_corekv(&[]);
    let mut test = Conn::new(&server);
    let mut reference = Conn::new(&redis);
    assert_same(
        &mut reference,
        &mut test,
        &[
            &["CLIENT"],
            &["CLIENT", "FOO"],
            &["CLIENT", "ID", "x"],
            &["CLIENT", "GETNAME"],
            &["CLIENT", "SETNAME", "a b"],
            &["CLIENT", "SETNAME", "ok"],
            &["CLIENT", "GETNAME"],
            &["CLIENT", "SETNAME", ""],
            &["CLIENT", "GETNAME"],
            &["CLIENT", "KILL"],
            &["CLIENT", "KILL", "1.2.3.4:5"],
            &["CLIENT", "KILL", "ID"],
            &["CLIENT", "KILL", "ID", "abc"],
            &["CLIENT", "KILL", "ID", "0"],
            &["CLIENT", "KILL", "ID", "999999"],
            &["CLIENT", "KILL", "ID", "999999", "TYPE"],
            &["CLIENT", "KILL", "ID", "abc", "TYPE"],
            &["CLIENT", "KILL", "FOO", "bar"],
            &["CLIENT", "KILL", "SKIPME", "maybe"],
            &["CLIENT", "KILL", "TYPE", "foo"],
            &["CLIENT", "KILL", "TYPE", "master"],
            &["CLIENT", "KILL", "USER", "nobody"],
            &["CLIENT", "KILL", "ADDR", "1.2.3.4:5"],
            &["CLIENT", "KILL", "LADDR", "1.2.3.4:5"],
            &["CLIENT", "LIST", "TYPE", "foo"],
            &["CLIENT", "LIST", "TYPE", "replica"],
            &["CLIENT", "LIST", "ID", "x"],
            &["CLIENT", "LIST", "ID", "0"],
            &["CLIENT", "LIST", "foo"],
            &["CLIENT", "LIST", "TYPE", "normal", "x"],
            &["CLIENT", "REPLY", "foo"],
            &["CLIENT", "REPLY", "ON"],
            &["CLIENT", "NO-EVICT", "foo"],
            &["CLIENT", "NO-EVICT", "off"],
        ],
    );
}

#[test]
fn client_reply_off_and_skip() {
    let server = start_corekv(&[]);
    let mut conn = Conn::new(&server);
    // OFF: nothing is replied until ON (whose OK is).
    conn.send(&[b"CLIENT", b"REPLY", b"OFF"]);
    conn.send(&[b"SET", b"k", b"1"]);
    conn.send(&[b"GET", b"k"]);
    conn.send(&[b"CLIENT", b"REPLY", b"ON"]);
    assert_eq!(conn.read_raw_reply(), b"+OK\r\n");
    assert_eq!(conn.call_str(&["GET", "k"]), "$1\r\n1\r\n");
    // SKIP: the next command's reply only.
    conn.send(&[b"CLIENT", b"REPLY", b"SKIP"]);
    conn.send(&[b"INCR", b"k"]);
    conn.send(&[b"ECHO", b"after"]);
    assert_eq!(conn.read_raw_reply(), b"$5\r\nafter\r\n");
    assert_eq!(conn.call_str(&["GET", "k"]), "$1\r\n2\r\n");
}

#[test]
fn command_metadata() {
    let server = start_corekv(&[]);
    let mut conn = Conn::new(&server);
    let count = conn.call_str(&["COMMAND", "COUNT"]);
    let count: usize = count.trim_start_matches(':').trim_end().parse().unwrap();
    conn.send(&[b"COMMAND"]);
    let Frame::Array(all) = conn.read_frame() else { panic!("an array") };
    assert_eq!(all.len(), count);
    conn.send(&[b"COMMAND", b"LIST"]);
    let Frame::Array(names) = conn.read_frame() else { panic!("an array") };
    assert!(names.len() > count, "subcommands are listed too");
    assert!(names.contains(&Frame::bulk("config|get")));
    conn.send(&[b"COMMAND", b"LIST", b"FILTERBY", b"PATTERN", b"CONFIG*"]);
    let Frame::Array(config) = conn.read_frame() else { panic!("an array") };
    assert!(config.contains(&Frame::bulk("config")) && config.contains(&Frame::bulk("config|set")));
    conn.send(&[b"COMMAND", b"LIST", b"FILTERBY", b"ACLCAT", b"string"]);
    let Frame::Array(strings) = conn.read_frame() else { panic!("an array") };
    assert!(strings.contains(&Frame::bulk("get")) && !strings.contains(&Frame::bulk("config")));
    assert_eq!(
        conn.call_str(&["COMMAND", "DOCS", "get", "nosuch"]),
        "*2\r\n$3\r\nget\r\n*4\r\n$7\r\nsummary\r\n$33\r\nReturns the string value of a key\r\n\
         $5\r\ngroup\r\n$6\r\nstring\r\n"
    );
    // A container lists its subcommands with their own arity and flags.
    conn.send(&[b"COMMAND", b"INFO", b"config"]);
    let Frame::Array(info) = conn.read_frame() else { panic!("an array") };
    let Frame::Array(config) = &info[0] else { panic!("an array") };
    let Frame::Array(subcommands) = &config[9] else { panic!("an array") };
    let get = subcommands
        .iter()
        .find(|s| matches!(s, Frame::Array(f) if f[0] == Frame::bulk("config|get")))
        .unwrap();
    let Frame::Array(get) = get else { panic!() };
    assert_eq!(get[1], Frame::Integer(-3));
    assert!(matches!(&get[2], Frame::Array(flags) if flags.contains(&Frame::simple("admin"))));
}

#[test]
fn command_replies_match_redis() {
    let Some(redis) = start_redis() else {
        eprintln!("redis-server not installed: skipping the comparison");
        return;
    };
    let server = start_corekv(&[]);
    let mut test = Conn::new(&server);
    let mut reference = Conn::new(&redis);
    let both: &[&[&str]] = &[
        &["COMMAND", "INFO", "get", "nosuch"],
        &["COMMAND", "INFO", "GET"],
        &["COMMAND", "DOCS", "nosuch"],
        &["COMMAND", "COUNT", "x"],
        &["COMMAND", "FOO"],
        &["COMMAND", "HELP"],
        &["COMMAND", "GETKEYS"],
        &["COMMAND", "GETKEYS", "get"],
        &["COMMAND", "GETKEYS", "get", "a"],
        &["COMMAND", "GETKEYS", "set", "a", "b"],
        &["COMMAND", "GETKEYS", "set", "a"],
        &["COMMAND", "GETKEYS", "get", "a", "b"],
        &["COMMAND", "GETKEYS", "nosuch", "a"],
        &["COMMAND", "GETKEYS", "ping", "a"],
        &["COMMAND", "GETKEYSANDFLAGS", "get", "a"],
        &["COMMAND", "LIST", "FILTERBY"],
        &["COMMAND", "LIST", "FILTERBY", "foo", "x"],
        &["COMMAND", "LIST", "FILTERBY", "MODULE", "x"],
        &["COMMAND", "LIST", "FILTERBY", "PATTERN", "getd*"],
        &["COMMAND", "LIST", "FILTERBY", "PATTERN", "config|g*"],
    ];
    assert_same(&mut reference, &mut test, both);
    reference.call(&["HELLO", "3"]);
    test.call(&["HELLO", "3"]);
    assert_same(&mut reference, &mut test, both);
}

#[test]
fn admin_commands_inside_multi() {
    let server = start_corekv(&[]);
    let mut conn = Conn::new(&server);
    conn.call(&["SET", "k", "v"]);
    assert_eq!(conn.call_str(&["MULTI"]), "+OK\r\n");
    for command in [
        &["CONFIG", "GET", "maxclients"][..],
        &["INFO", "keyspace"],
        &["COMMAND", "COUNT"],
        &["SLOWLOG", "LEN"],
        &["LATENCY", "LATEST"],
        &["GET", "k"],
        &["CLIENT", "GETNAME"],
    ] {
        assert_eq!(conn.call_str(command), "+QUEUED\r\n", "{command:?}");
    }
    conn.send(&[b"EXEC"]);
    let Frame::Array(replies) = conn.read_frame() else { panic!("an array") };
    assert_eq!(replies.len(), 7);
    assert_eq!(replies[0], Frame::Array(vec![Frame::bulk("maxclients"), Frame::bulk("10000")]));
    assert_eq!(replies[1], Frame::bulk("# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n"));
    assert!(matches!(replies[2], Frame::Integer(n) if n > 0));
    assert_eq!(replies[5], Frame::bulk("v"));
    assert_eq!(replies[6], Frame::NullBulk);

    conn.call(&["MULTI"]);
    assert_eq!(conn.call_str(&["SHUTDOWN"]), "-ERR Command not allowed inside a transaction\r\n");
    assert_eq!(
        conn.call_str(&["EXEC"]),
        "-EXECABORT Transaction discarded because of previous errors.\r\n"
    );
}

#[test]
fn shutdown_stops_the_server() {
    let dir = common::TempDir::new("shutdown");
    let server = common::start_corekv_in(&dir.0, &[]);
    let mut conn = Conn::new(&server);
    assert_eq!(conn.call_str(&["SHUTDOWN", "ABORT"]), "-ERR No shutdown in progress.\r\n");
    // SHUTDOWN SAVE must save first; where it cannot (its directory is gone), it refuses to
    // stop, as Redis does.
    std::fs::remove_dir_all(&dir.0).unwrap();
    assert_eq!(
        conn.call_str(&["SHUTDOWN", "SAVE"]),
        "-ERR Errors trying to SHUTDOWN. Check logs.\r\n"
    );
    conn.send(&[b"SHUTDOWN", b"NOSAVE"]);
    assert!(conn.is_closed(), "no reply, the connection closes");
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::net::TcpStream::connect(("127.0.0.1", server.port)).is_ok() {
        assert!(Instant::now() < deadline, "the server still accepts connections");
        std::thread::sleep(Duration::from_millis(20));
    }
}
