use super::super::MaxmemoryPolicy;
use super::{Config, TempDir, get_one};

/// CONFIG SET arguments as `set_many` takes them.
type Pairs<'a> = &'a [(&'a [u8], &'a [u8])];

fn set_error(config: &mut Config, name: &str, value: &str) -> String {
    let before = config.clone();
    let error = config.set(name.as_bytes(), value.as_bytes()).expect_err("should be refused");
    assert_eq!(*config, before, "a refused CONFIG SET changes nothing");
    error
}

fn failed(name: &str, reason: &str) -> String {
    format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {reason}")
}

#[test]
fn get_renders_values_like_redis() {
    let mut config = Config::default();
    config.set(b"save", b"3600 1 300 100").expect("valid");
    config.set(b"maxmemory", b"1KB").expect("valid");
    config.set(b"client-output-buffer-limit", b"slave 1mb 1kb 10 Normal 5 5 5").expect("valid");
    config.set(b"latency-tracking-info-percentiles", b"0.0001 1e2 99.99999999").expect("valid");
    config.set(b"requirepass", b"secret").expect("valid");
    // redis 7.0.15 CONFIG GET after the same CONFIG SETs.
    assert_eq!(get_one(&config, "save"), "3600 1 300 100");
    assert_eq!(get_one(&config, "maxmemory"), "1024");
    assert_eq!(
        get_one(&config, "client-output-buffer-limit"),
        "normal 5 5 5 slave 1048576 1024 10 pubsub 33554432 8388608 60"
    );
    assert_eq!(get_one(&config, "latency-tracking-info-percentiles"), "0.0001 100 100");
    assert_eq!(get_one(&config, "requirepass"), "secret");
    config.set(b"requirepass", b"").expect("valid");
    assert_eq!(get_one(&config, "requirepass"), "");
    assert_eq!(config.requirepass, None);
}

#[test]
fn get_globs_case_insensitively_in_table_order() {
    let config = Config::default();
    let names: Vec<String> = config.get(b"lazyfree-*").into_iter().map(|(name, _)| name).collect();
    assert_eq!(
        names,
        [
            "lazyfree-lazy-eviction",
            "lazyfree-lazy-expire",
            "lazyfree-lazy-server-del",
            "lazyfree-lazy-user-del",
            "lazyfree-lazy-user-flush"
        ]
    );
    assert_eq!(config.get(b"P*RT"), [("port".to_owned(), "6379".to_owned())]);
    assert_eq!(config.get(b"maxmemory-?olicy").len(), 1);
    assert_eq!(config.get(b"*").len(), super::super::table::OPTIONS.len());
    assert!(config.get(b"nonexistent").is_empty());
    assert!(config.get(b"nonexistent*").is_empty());
    // redis 7.0.15: an exact name replies with the name as given.
    assert_eq!(config.get(b"PORT"), [("PORT".to_owned(), "6379".to_owned())]);
}

#[test]
fn get_many_lists_each_option_once() {
    let config = Config::default();
    let pairs = config.get_many(&[b"port", b"p*", b"timeout"]);
    let names: Vec<&str> = pairs.iter().map(|(name, _)| name.as_str()).collect();
    let expected =
        ["port", "protected-mode", "proto-max-bulk-len", "pin-workers", "pidfile", "timeout"];
    assert_eq!(names, expected);
}

#[test]
fn set_changes_typed_fields() {
    let mut config = Config::default();
    config.set(b"PORT", b"7000").expect("valid");
    config.set(b"maxmemory-policy", b"ALLKEYS-LRU").expect("valid");
    config.set(b"appendonly", b"YES").expect("valid");
    config.set(b"maxmemory", b"99999999999999999999999").expect("valid");
    config.set(b"bind", b"127.0.0.1 ::1").expect("valid");
    config.set(b"hz", b"1000").expect("valid");
    assert_eq!(config.port, 7000);
    assert_eq!(config.maxmemory_policy, MaxmemoryPolicy::AllkeysLru);
    assert_eq!(get_one(&config, "maxmemory-policy"), "allkeys-lru");
    assert!(config.appendonly);
    assert_eq!(config.maxmemory_bytes, u64::MAX);
    assert_eq!(config.bind, ["127.0.0.1", "::1"]);
    assert_eq!(config.hz, 500);
    config.set(b"bind", b"").expect("valid");
    assert!(config.bind.is_empty());
}

#[test]
fn set_save_replaces_the_list() {
    let mut config = Config::default();
    config.set(b"save", b"3600 1 300 100").expect("valid");
    config.set(b"save", b"60 5").expect("valid");
    assert_eq!(config.save, [(60, 5)]);
    // redis 7.0.15 accepts "+1 2" (strtoll) and refuses a double space (empty argument).
    config.set(b"save", b"+1 2").expect("valid");
    assert_eq!(config.save, [(1, 2)]);
    config.set(b"save", b"").expect("valid");
    assert!(config.save.is_empty());
}

#[test]
fn set_errors_use_redis_texts() {
    let mut config = Config::default();
    // redis 7.0.15 CONFIG SET replies.
    let cases = [
        ("port", "abc", "argument couldn't be parsed into an integer"),
        ("port", "07391", "argument couldn't be parsed into an integer"),
        ("port", "99999", "argument must be between 0 and 65535 inclusive"),
        ("maxmemory", "abc", "argument must be a memory value"),
        ("maxmemory", "-1", "argument must be a memory value"),
        (
            "proto-max-bulk-len",
            "99999999999999999999",
            "argument must be between 1048576 and 9223372036854775807 inclusive",
        ),
        (
            "auto-aof-rewrite-min-size",
            "99999999999999999999",
            "argument must be between 0 and 9223372036854775807 inclusive",
        ),
        ("appendonly", "maybe", "argument must be 'yes' or 'no'"),
        ("appendfsync", "foo", "argument(s) must be one of the following: everysec, always, no"),
        ("save", "1  2", "Invalid save parameters"),
        ("save", " 1 2", "Invalid save parameters"),
        ("save", "1 2 3", "Invalid save parameters"),
        ("save", "abc 1", "Invalid save parameters"),
        (
            "client-output-buffer-limit",
            "foo 1 2 3",
            "Invalid client class specified in buffer limit configuration.",
        ),
        (
            "client-output-buffer-limit",
            "master 1 1 1",
            "Invalid client class specified in buffer limit configuration.",
        ),
        (
            "client-output-buffer-limit",
            "normal 1 2",
            "Wrong number of arguments in buffer limit configuration.",
        ),
        (
            "client-output-buffer-limit",
            "normal 1mb 2mb x",
            "Error in hard, soft or soft_seconds setting in buffer limit configuration.",
        ),
        (
            "client-output-buffer-limit",
            "normal 1 1 -1",
            "Error in hard, soft or soft_seconds setting in buffer limit configuration.",
        ),
        (
            "latency-tracking-info-percentiles",
            "50 101",
            "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]",
        ),
        (
            "latency-tracking-info-percentiles",
            "abc",
            "Invalid latency-tracking-info-percentiles parameters",
        ),
        ("maxmemory-samples", "0", "argument must be between 1 and 2147483647 inclusive"),
        ("tcp-keepalive", "-1", "argument must be between 0 and 2147483647 inclusive"),
        (
            "slowlog-log-slower-than",
            "-5",
            "argument must be between -1 and 9223372036854775807 inclusive",
        ),
    ];
    for (name, value, reason) in cases {
        assert_eq!(set_error(&mut config, name, value), failed(name, reason), "{name} {value}");
    }
    // The error names the option canonically when a value is wrong.
    assert_eq!(
        set_error(&mut config, "PORT", "abc"),
        failed("port", "argument couldn't be parsed into an integer")
    );
}

#[test]
fn unknown_immutable_and_protected_options() {
    let mut config = Config::default();
    // redis 7.0.15; `rename-command` is a directive, not a config, so it is unknown too.
    for name in ["foo", "rename-command", "include"] {
        assert_eq!(
            set_error(&mut config, name, "x"),
            format!("ERR Unknown option or number of arguments for CONFIG SET - '{name}'")
        );
    }
    for name in [
        "databases",
        "daemonize",
        "shards",
        "workers",
        "appendfilename",
        "appenddirname",
        "tcp-backlog",
        "logfile",
        "pidfile",
        "supervised",
        "io-threads",
        "io-threads-do-reads",
        "set-proc-title",
        "always-show-logo",
    ] {
        assert_eq!(set_error(&mut config, name, "1"), failed(name, "can't set immutable config"));
    }
    for name in ["dir", "dbfilename"] {
        assert_eq!(set_error(&mut config, name, "x"), failed(name, "can't set protected config"));
    }
}

#[test]
fn set_many_is_all_or_nothing() {
    let mut config = Config::default();
    let before = config.clone();
    // redis 7.0.15: `CONFIG SET port 7391 maxmemory abc` fails and leaves port unchanged.
    let error = config.set_many(&[(b"port", b"7000"), (b"maxmemory", b"abc")]);
    assert_eq!(error, Err(failed("maxmemory", "argument must be a memory value")));
    assert_eq!(config, before);

    // Names are all checked before any value is parsed, and the first problem wins.
    let cases: [(Pairs, String); 5] = [
        (&[(b"port", b"abc"), (b"port", b"1")], failed("port", "duplicate parameter")),
        (&[(b"port", b"1"), (b"PORT", b"2")], failed("PORT", "duplicate parameter")),
        (
            &[(b"port", b"1"), (b"foo", b"2")],
            "ERR Unknown option or number of arguments for CONFIG SET - 'foo'".to_owned(),
        ),
        (
            &[(b"databases", b"1"), (b"foo", b"2")],
            failed("databases", "can't set immutable config"),
        ),
        (
            &[(b"foo", b"1"), (b"databases", b"2")],
            "ERR Unknown option or number of arguments for CONFIG SET - 'foo'".to_owned(),
        ),
    ];
    for (pairs, expected) in cases {
        assert_eq!(config.set_many(pairs), Err(expected));
        assert_eq!(config, before);
    }

    config
        .set_many(&[
            (b"port", b"7000"),
            (b"maxmemory", b"1mb"),
            (b"maxmemory-policy", b"allkeys-lfu"),
        ])
        .expect("valid");
    assert_eq!(config.port, 7000);
    assert_eq!(config.maxmemory_bytes, 1 << 20);
    assert_eq!(config.maxmemory_policy, MaxmemoryPolicy::AllkeysLfu);
    assert_eq!(config.set_many(&[]), Ok(()));
}

#[test]
fn rewrite_preserves_comments_and_updates_in_place() {
    let dir = TempDir::new("rewrite");
    let included = dir.write("inc.conf", "maxmemory 1mb\n");
    let path = dir.write(
        "corekv.conf",
        &format!(
            "# top comment\nport 7391\ninclude {}\nrename-command flushall \"\"\n  save 100 1\n\
             save 200 2\nmaxmemory-policy allkeys-lru\nloglevel notice\n\n\n\n# end\n",
            included.display()
        ),
    );
    let mut config = Config::from_file(&path).expect("valid");
    for (name, value) in [
        ("maxmemory-policy", "noeviction"),
        ("save", "300 3"),
        ("timeout", "5"),
        ("maxmemory", "2mb"),
        ("loglevel", "warning"),
        ("requirepass", "pa ss"),
    ] {
        config.set(name.as_bytes(), value.as_bytes()).expect("valid");
    }
    config.rewrite(&path).expect("rewrite");
    // Redis 7.0.15 gives the same file for this sequence, except that it appends in hash
    // order and also writes `latency-tracking-info-percentiles` and `user` lines.
    let expected = format!(
        "# top comment\nport 7391\ninclude {}\nrename-command flushall \"\"\nsave 300 3\n\n\
         maxmemory-policy noeviction\nloglevel warning\n\n# end\n\n# Generated by CONFIG REWRITE\n\
         timeout 5\nrequirepass \"pa ss\"\nmaxmemory 2mb\ndir \"{}\"\n",
        included.display(),
        config.dir.display()
    );
    let written = std::fs::read_to_string(&path).expect("read");
    assert_eq!(written, expected);

    // Rewriting again changes nothing, and the file loads back to the same configuration.
    config.rewrite(&path).expect("rewrite");
    assert_eq!(std::fs::read_to_string(&path).expect("read"), expected);
    assert_eq!(Config::from_file(&path).expect("valid"), config);
    let leftovers = std::fs::read_dir(dir.path()).expect("list").count();
    assert_eq!(leftovers, 2, "no temporary file is left behind");
}

#[test]
fn rewrite_removes_unset_and_orphaned_lines() {
    let dir = TempDir::new("rewrite-remove");
    let path = dir.write(
        "corekv.conf",
        "requirepass old\nport 1\nport 2\nbind 10.0.0.1\nsave 1 1\nsave 2 2\nbogus-option 1\n",
    );
    // `bogus-option` would not load; start from defaults instead of the file.
    let mut config = Config::default();
    config.set(b"save", b"").expect("valid");
    config.set(b"port", b"7000").expect("valid");
    config.rewrite(&path).expect("rewrite");
    let expected = format!(
        "\nport 7000\n\nsave \"\"\n\n# ??? bogus-option 1\n\n# Generated by CONFIG REWRITE\ndir \"{}\"\n",
        config.dir.display()
    );
    assert_eq!(std::fs::read_to_string(&path).expect("read"), expected);
}

#[test]
fn rewrite_creates_a_missing_file_with_non_defaults_only() {
    let dir = TempDir::new("rewrite-new");
    let path = dir.path().join("new.conf");
    let mut config = Config::default();
    config.set(b"client-output-buffer-limit", b"pubsub 64mb 16mb 90").expect("valid");
    config.set(b"latency-tracking-info-percentiles", b"").expect("valid");
    config.set(b"bind", b"0.0.0.0").expect("valid");
    config.rewrite(&path).expect("rewrite");
    let expected = format!(
        "# Generated by CONFIG REWRITE\nbind 0.0.0.0\n\
         client-output-buffer-limit pubsub 64mb 16mb 90\ndir \"{}\"\n\
         latency-tracking-info-percentiles \"\"\n",
        config.dir.display()
    );
    assert_eq!(std::fs::read_to_string(&path).expect("read"), expected);
    let mut reloaded = Config::from_file(&path).expect("valid");
    assert_eq!(reloaded.client_output_buffer_limit, config.client_output_buffer_limit);
    assert!(reloaded.latency_tracking_info_percentiles.is_empty());
    reloaded.set(b"bind", b"127.0.0.1").expect("valid");
    reloaded.rewrite(&path).expect("rewrite");
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(!text.contains("bind"), "a default bind is dropped from the file, as in Redis");
}

#[test]
fn rewrite_source_needs_a_config_file() {
    let config = Config::default();
    assert_eq!(
        config.rewrite_source(),
        Err("ERR The server is running without a config file".to_owned())
    );
}
