//! Set commands over real TCP, byte for byte against redis-server 7.0 where it is installed:
//! replies in RESP2 and RESP3, every argument error in Redis's order, MULTI/EXEC, and the
//! random commands' contracts.

mod common;

use common::{Conn, Server, start_corekv, start_redis};
use corekv::protocol::Frame;

/// corekv, and redis-server when installed (comparisons are skipped otherwise).
fn servers() -> (Server, Option<Server>) {
    let reference = start_redis();
    if reference.is_none() {
        eprintln!("redis-server not installed: skipping the comparisons");
    }
    (start_corekv(&[]), reference)
}

/// A reply with the elements of every set (and of a top-level array when `unordered`) sorted
/// by their bytes, for replies whose order Redis leaves unspecified.
fn canonical(frame: Frame, unordered: bool) -> Vec<u8> {
    let sort = |items: Vec<Frame>| {
        let mut items: Vec<Vec<u8>> = items.into_iter().map(|f| canonical(f, false)).collect();
        items.sort();
        items
    };
    match frame {
        Frame::Set(items) => {
            let items = sort(items);
            let mut out = format!("~{}\r\n", items.len()).into_bytes();
            items.iter().for_each(|item| out.extend_from_slice(item));
            out
        }
        Frame::Array(items) if unordered => {
            let items = sort(items);
            let mut out = format!("*{}\r\n", items.len()).into_bytes();
            items.iter().for_each(|item| out.extend_from_slice(item));
            out
        }
        Frame::Array(items) => {
            let mut out = format!("*{}\r\n", items.len()).into_bytes();
            for item in items {
                out.extend_from_slice(&canonical(item, false));
            }
            out
        }
        other => other.to_bytes(),
    }
}

fn call_canonical(conn: &mut Conn, command: &[&str]) -> String {
    let args: Vec<&[u8]> = command.iter().map(|a| a.as_bytes()).collect();
    conn.send(&args);
    let unordered = ["smembers", "sinter", "sunion", "sdiff", "spop", "srandmember"]
        .iter()
        .any(|name| command[0].eq_ignore_ascii_case(name));
    String::from_utf8_lossy(&canonical(conn.read_frame(), unordered)).into_owned()
}

/// Runs `commands` on both servers (after HELLO 3 with `resp3`) and compares every reply,
/// order-insensitively where Redis's order is unspecified.
fn compare(reference: Option<&Server>, test: &Server, resp3: bool, commands: &[&[&str]]) {
    let mut test = Conn::new(test);
    let mut reference = reference.map(Conn::new);
    for conn in std::iter::once(&mut test).chain(reference.as_mut()) {
        if resp3 {
            conn.call(&["HELLO", "3"]);
        }
        // Each protocol's run starts from its own empty database.
        assert_eq!(conn.call_str(&["SELECT", if resp3 { "1" } else { "0" }]), "+OK\r\n");
    }
    for command in commands {
        let got = call_canonical(&mut test, command);
        if let Some(reference) = reference.as_mut() {
            assert_eq!(got, call_canonical(reference, command), "command {command:?}");
        }
    }
}

const SCRIPT: &[&[&str]] = &[
    &["SADD", "s", "a", "b", "c", "1", "2"],
    &["SADD", "s", "a", "z"],
    &["SREM", "s", "z", "nope"],
    &["SREM", "nokey", "a"],
    &["SISMEMBER", "s", "a"],
    &["SISMEMBER", "s", "nope"],
    &["SISMEMBER", "nokey", "a"],
    &["SMISMEMBER", "s", "a", "nope", "b"],
    &["SMISMEMBER", "nokey", "a"],
    &["SMEMBERS", "s"],
    &["SMEMBERS", "nokey"],
    &["SCARD", "s"],
    &["SCARD", "nokey"],
    &["SET", "str", "x"],
    &["SADD", "str", "a"],
    &["SREM", "str", "a"],
    &["SISMEMBER", "str", "a"],
    &["SMISMEMBER", "str", "a"],
    &["SMEMBERS", "str"],
    &["SCARD", "str"],
    // SPOP / SRANDMEMBER: arguments, missing keys, types (the members are random).
    &["SPOP", "nokey"],
    &["SPOP", "nokey", "3"],
    &["SPOP", "s", "0"],
    &["SPOP", "s", "abc"],
    &["SPOP", "s", "-1"],
    &["SPOP", "s", "1", "2"],
    &["SPOP", "str"],
    &["SPOP", "str", "0"],
    &["SPOP", "nokey", "abc"],
    &["SRANDMEMBER", "nokey"],
    &["SRANDMEMBER", "nokey", "5"],
    &["SRANDMEMBER", "nokey", "-5"],
    &["SRANDMEMBER", "s", "0"],
    &["SRANDMEMBER", "s", "100"],
    &["SRANDMEMBER", "s", "abc"],
    &["SRANDMEMBER", "s", "-9223372036854775808"],
    &["SRANDMEMBER", "s", "1", "2"],
    &["SRANDMEMBER", "str"],
    &["SRANDMEMBER", "str", "2"],
    &["SADD", "one", "only"],
    &["SPOP", "one", "5"],
    &["SCARD", "one"],
    &["SADD", "one", "only"],
    &["SPOP", "one"],
    &["SCARD", "one"],
    // SMOVE.
    &["SMOVE", "s", "t", "a"],
    &["SMOVE", "s", "t", "a"],
    &["SMOVE", "s", "s", "b"],
    &["SMOVE", "s", "s", "nope"],
    &["SMOVE", "nokey", "t", "a"],
    &["SMOVE", "nokey", "str", "a"],
    &["SMOVE", "s", "str", "b"],
    &["SMOVE", "str", "t", "a"],
    &["SMOVE", "t", "moved", "a"],
    &["SCARD", "t"],
    &["SMEMBERS", "moved"],
    // Algebra and its STORE forms.
    &["SADD", "t", "b", "x", "y"],
    &["SINTER", "s", "t"],
    &["SINTER", "s", "nokey"],
    &["SINTER", "nokey", "str"],
    &["SUNION", "s", "t", "nokey"],
    &["SUNION", "s", "str"],
    &["SDIFF", "s", "t"],
    &["SDIFF", "nokey", "s"],
    &["SDIFF", "s", "s"],
    &["SDIFF", "s", "str"],
    &["SINTERSTORE", "d", "s", "t"],
    &["SMEMBERS", "d"],
    &["SUNIONSTORE", "d", "s", "t"],
    &["SMEMBERS", "d"],
    &["SDIFFSTORE", "d", "s", "t"],
    &["SMEMBERS", "d"],
    &["SINTERSTORE", "d", "s", "nokey"],
    &["SCARD", "d"],
    &["SUNIONSTORE", "str2", "s"],
    &["SET", "str2", "x"],
    &["SDIFFSTORE", "str2", "s"],
    &["GET", "str2"],
    &["SINTERSTORE", "d", "s", "str"],
    &["SUNIONSTORE", "s", "s", "t"],
    &["SCARD", "s"],
    // SINTERCARD.
    &["SINTERCARD", "2", "s", "t"],
    &["SINTERCARD", "2", "s", "t", "LIMIT", "1"],
    &["SINTERCARD", "2", "s", "t", "limit", "0"],
    &["SINTERCARD", "2", "s", "t", "LIMIT", "1", "LIMIT", "0"],
    &["SINTERCARD", "1", "nokey"],
    &["SINTERCARD", "2", "s", "str"],
    &["SINTERCARD", "abc", "s"],
    &["SINTERCARD", "0", "s"],
    &["SINTERCARD", "-1", "s"],
    &["SINTERCARD", "3", "s", "t"],
    &["SINTERCARD", "1", "s", "LIMIT", "abc"],
    &["SINTERCARD", "1", "s", "LIMIT", "-1"],
    &["SINTERCARD", "1", "s", "LIMIT"],
    &["SINTERCARD", "1", "s", "foo"],
    &["SINTERCARD", "1", "str", "foo"],
    // SSCAN (a one-member set, so the single step's order is fixed).
    &["SSCAN", "one", "0"],
    &["SSCAN", "one", "0", "MATCH", "o*", "COUNT", "100"],
    &["SSCAN", "one", "0", "MATCH", "x*"],
    &["SSCAN", "one", "0", "match", "*"],
    &["SSCAN", "one", "abc"],
    &["SSCAN", "one", " 1"],
    &["SSCAN", "one", "18446744073709551616"],
    &["SSCAN", "one", "0", "COUNT", "0"],
    &["SSCAN", "one", "0", "COUNT", "abc"],
    &["SSCAN", "one", "0", "COUNT"],
    &["SSCAN", "one", "0", "TYPE", "set"],
    &["SSCAN", "nokey", "0", "COUNT", "abc"],
    &["SSCAN", "nokey", "abc"],
    &["SSCAN", "str", "0"],
    &["SSCAN", "str", "0", "COUNT", "abc"],
    // Arity.
    &["SADD", "s"],
    &["SISMEMBER", "s"],
    &["SMOVE", "a", "b"],
    &["SINTERCARD", "1"],
    &["SSCAN", "s"],
];

#[test]
fn set_commands_match_redis_in_resp2_and_resp3() {
    let (test, reference) = servers();
    compare(reference.as_ref(), &test, false, SCRIPT);
    compare(reference.as_ref(), &test, true, SCRIPT);
}

#[test]
fn set_replies_have_redis_types() {
    let server = start_corekv(&[]);
    let mut conn = Conn::new(&server);
    assert_eq!(conn.call_str(&["SADD", "s", "a"]), ":1\r\n");
    assert_eq!(conn.call_str(&["SMEMBERS", "s"]), "*1\r\n$1\r\na\r\n");
    assert_eq!(conn.call_str(&["SISMEMBER", "s", "a"]), ":1\r\n");
    assert!(conn.call_str(&["HELLO", "3"]).starts_with('%'));
    assert_eq!(conn.call_str(&["SMEMBERS", "s"]), "~1\r\n$1\r\na\r\n");
    assert_eq!(conn.call_str(&["SMEMBERS", "nokey"]), "~0\r\n");
    assert_eq!(conn.call_str(&["SINTER", "s", "s"]), "~1\r\n$1\r\na\r\n");
    assert_eq!(conn.call_str(&["SPOP", "nokey", "2"]), "~0\r\n");
    assert_eq!(conn.call_str(&["SRANDMEMBER", "nokey", "2"]), "*0\r\n");
    assert_eq!(conn.call_str(&["SRANDMEMBER", "s", "-2"]), "*2\r\n$1\r\na\r\n$1\r\na\r\n");
    assert_eq!(conn.call_str(&["SISMEMBER", "s", "a"]), ":1\r\n");
    assert_eq!(conn.call_str(&["SMISMEMBER", "s", "a", "b"]), "*2\r\n:1\r\n:0\r\n");
    assert_eq!(conn.call_str(&["SPOP", "s"]), "$1\r\na\r\n");
    assert_eq!(conn.call_str(&["SPOP", "s"]), "_\r\n");
    assert_eq!(
        conn.call_str(&["SINTERCARD", "0", "s"]),
        "-ERR numkeys should be greater than 0\r\n"
    );
}

#[test]
fn every_set_command_runs_inside_multi_exec() {
    let (test, reference) = servers();
    let mut script: Vec<&[&str]> = vec![&["SET", "str", "x"], &["MULTI"]];
    let body: &[&[&str]] = &[
        &["SADD", "s", "a", "b"],
        &["SADD", "t", "b"],
        &["SREM", "s", "zz"],
        &["SISMEMBER", "s", "a"],
        &["SMISMEMBER", "s", "a", "c"],
        &["SMEMBERS", "t"],
        &["SCARD", "s"],
        &["SPOP", "nokey"],
        &["SPOP", "nokey", "2"],
        &["SRANDMEMBER", "t"],
        &["SRANDMEMBER", "t", "-2"],
        &["SMOVE", "s", "u", "a"],
        &["SMOVE", "str", "u", "a"],
        &["SINTER", "s", "t"],
        &["SUNION", "u", "nokey"],
        &["SDIFF", "s", "t"],
        &["SINTERSTORE", "d", "s", "t"],
        &["SUNIONSTORE", "d", "s", "u"],
        &["SDIFFSTORE", "d", "s", "u"],
        &["SINTERCARD", "2", "s", "t", "LIMIT", "5"],
        &["SINTERCARD", "1", "str"],
        &["SSCAN", "t", "0"],
        &["SSCAN", "str", "0"],
        &["SPOP", "t", "5"],
    ];
    script.extend_from_slice(body);
    script.push(&["EXEC"]);
    script.push(&["MULTI"]);
    script.push(&["SINTERCARD", "0", "s"]);
    script.push(&["SPOP", "s", "-1"]);
    script.push(&["EXEC"]);
    compare(reference.as_ref(), &test, false, &script);
    compare(reference.as_ref(), &test, true, &script);
}

/// Decodes a reply's array (or set) of bulk strings.
fn members(conn: &mut Conn, command: &[&str]) -> Vec<Vec<u8>> {
    let args: Vec<&[u8]> = command.iter().map(|a| a.as_bytes()).collect();
    conn.send(&args);
    match conn.read_frame() {
        Frame::Array(items) | Frame::Set(items) => items
            .into_iter()
            .map(|item| match item {
                Frame::Bulk(bytes) => bytes,
                other => panic!("not a bulk: {other:?}"),
            })
            .collect(),
        other => panic!("not an array: {other:?}"),
    }
}

#[test]
fn random_members_and_scan_keep_their_contracts() {
    let server = start_corekv(&[]);
    let mut conn = Conn::new(&server);
    let all: Vec<String> = (0..200).map(|i| format!("m{i}")).collect();
    let mut sadd = vec!["SADD", "s"];
    sadd.extend(all.iter().map(String::as_str));
    assert_eq!(conn.call_str(&sadd), ":200\r\n");

    let distinct = members(&mut conn, &["SRANDMEMBER", "s", "50"]);
    let mut unique = distinct.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((distinct.len(), unique.len()), (50, 50));
    assert_eq!(members(&mut conn, &["SRANDMEMBER", "s", "-300"]).len(), 300);
    assert_eq!(members(&mut conn, &["SRANDMEMBER", "s", "1000"]).len(), 200);
    // Beyond the engine's reply bound, a positive count still means "the whole set".
    assert_eq!(members(&mut conn, &["SRANDMEMBER", "s", "9223372036854775807"]).len(), 200);

    // SSCAN visits every member.
    let mut seen = Vec::new();
    let mut cursor = "0".to_string();
    for _ in 0..1000 {
        conn.send(&[b"SSCAN", b"s", cursor.as_bytes(), b"COUNT", b"7"]);
        let Frame::Array(mut page) = conn.read_frame() else { panic!("not an array") };
        let Frame::Array(found) = page.pop().unwrap() else { panic!("no members") };
        let Frame::Bulk(next) = page.pop().unwrap() else { panic!("no cursor") };
        seen.extend(found.into_iter().map(|f| f.to_bytes()));
        cursor = String::from_utf8(next).unwrap();
        if cursor == "0" {
            break;
        }
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 200);

    let popped = members(&mut conn, &["SPOP", "s", "150"]);
    assert_eq!(popped.len(), 150);
    assert_eq!(conn.call_str(&["SCARD", "s"]), ":50\r\n");
    for member in &popped {
        let member = String::from_utf8(member.clone()).unwrap();
        assert_eq!(conn.call_str(&["SISMEMBER", "s", &member]), ":0\r\n");
    }
    assert_eq!(members(&mut conn, &["SPOP", "s", "100"]).len(), 50);
    assert_eq!(conn.call_str(&["SCARD", "s"]), ":0\r\n");
}
