use std::path::{Path, PathBuf};

use super::super::{AppendFsync, ConfigError, ConfigOrigin, LogLevel, MaxmemoryPolicy};
use super::{Config, TempDir, from_flags, from_text, get_one, reason};

#[test]
fn defaults_match_redis_except_bind_and_save() {
    let config = Config::default();
    // redis 7.0.15 `CONFIG GET` with no config file, except bind ("* -::*") and save
    // ("3600 1 300 100 60 10000"), which corekv narrows on purpose.
    let expected = [
        ("port", "6379"),
        ("bind", "127.0.0.1"),
        ("protected-mode", "yes"),
        ("tcp-backlog", "511"),
        ("tcp-keepalive", "300"),
        ("timeout", "0"),
        ("maxclients", "10000"),
        ("requirepass", ""),
        ("proto-max-bulk-len", "536870912"),
        ("client-query-buffer-limit", "1073741824"),
        (
            "client-output-buffer-limit",
            "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
        ),
        ("databases", "16"),
        ("hz", "10"),
        ("maxmemory", "0"),
        ("maxmemory-policy", "noeviction"),
        ("maxmemory-samples", "5"),
        ("lfu-log-factor", "10"),
        ("lfu-decay-time", "1"),
        ("appendonly", "no"),
        ("appendfsync", "everysec"),
        ("appendfilename", "appendonly.aof"),
        ("appenddirname", "appendonlydir"),
        ("dbfilename", "dump.rdb"),
        ("save", ""),
        ("aof-load-truncated", "yes"),
        ("auto-aof-rewrite-percentage", "100"),
        ("auto-aof-rewrite-min-size", "67108864"),
        ("rdbcompression", "yes"),
        ("rdbchecksum", "yes"),
        ("stop-writes-on-bgsave-error", "yes"),
        ("loglevel", "notice"),
        ("logfile", ""),
        ("slowlog-log-slower-than", "10000"),
        ("slowlog-max-len", "128"),
        ("latency-monitor-threshold", "0"),
        ("latency-tracking", "yes"),
        ("latency-tracking-info-percentiles", "50 99 99.9"),
        ("daemonize", "no"),
        ("pidfile", ""),
        ("supervised", "no"),
        ("always-show-logo", "no"),
        ("set-proc-title", "yes"),
        ("lazyfree-lazy-eviction", "no"),
        ("io-threads", "1"),
        ("io-threads-do-reads", "no"),
        ("shards", "0"),
        ("workers", "0"),
    ];
    for (name, value) in expected {
        assert_eq!(get_one(&config, name), value, "{name}");
    }
    let cwd = std::env::current_dir().expect("cwd");
    assert_eq!(get_one(&config, "dir"), cwd.to_string_lossy());
    assert_eq!(config.source_path(), None);
}

#[test]
fn value_errors_use_redis_texts() {
    // redis 7.0.15: `redis-server --<name> <value>` prints these reasons.
    let cases = [
        ("port abc", "argument couldn't be parsed into an integer"),
        ("port 07391", "argument couldn't be parsed into an integer"),
        ("port 99999", "argument must be between 0 and 65535 inclusive"),
        ("port -1", "argument must be between 0 and 65535 inclusive"),
        ("timeout -1", "argument must be between 0 and 2147483647 inclusive"),
        ("maxclients 0", "argument must be between 1 and 4294967295 inclusive"),
        ("maxmemory abc", "argument must be a memory value"),
        ("maxmemory -1", "argument must be a memory value"),
        ("maxmemory 1.5gb", "argument must be a memory value"),
        (
            "proto-max-bulk-len 1000",
            "argument must be between 1048576 and 9223372036854775807 inclusive",
        ),
        (
            "slowlog-log-slower-than -2",
            "argument must be between -1 and 9223372036854775807 inclusive",
        ),
        ("databases 0", "argument must be between 1 and 1024 inclusive"),
        ("appendonly maybe", "argument must be 'yes' or 'no'"),
        (
            "maxmemory-policy foo",
            "argument(s) must be one of the following: volatile-lru, volatile-lfu, \
             volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction, \
             allkeys-tinylfu",
        ),
        ("appendfsync foo", "argument(s) must be one of the following: everysec, always, no"),
        (
            "loglevel foo",
            "argument(s) must be one of the following: debug, verbose, notice, warning",
        ),
        ("port 1 2", "wrong number of arguments"),
        ("requirepass a b", "wrong number of arguments"),
        ("port", "wrong number of arguments"),
        ("foo bar", "Bad directive or wrong number of arguments"),
        ("rename-command get", "Bad directive or wrong number of arguments"),
        ("include", "Bad directive or wrong number of arguments"),
        ("port \"ab\"c", "Unbalanced quotes in configuration line"),
        ("port \"a", "Unbalanced quotes in configuration line"),
        ("save 1", "Invalid save parameters"),
        ("save 0 1", "Invalid save parameters"),
        ("save 1 -1", "Invalid save parameters"),
        (
            "client-output-buffer-limit master 1 1 1",
            "Invalid client class specified in buffer limit configuration.",
        ),
        (
            "client-output-buffer-limit normal 1 1",
            "Wrong number of arguments in buffer limit configuration.",
        ),
        ("appendfilename a/b", "appendfilename can't be a path, just a filename"),
        ("appendfilename \"\"", "appendfilename can't be empty"),
        ("appenddirname a/b", "appenddirname can't be a path, just a dirname"),
        ("dbfilename a/b", "dbfilename can't be a path, just a filename"),
        ("bind 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17", "Too many bind addresses specified."),
        ("daemonize yes", "daemonize yes is not supported, run under a supervisor"),
        ("daemonize maybe", "argument must be 'yes' or 'no'"),
        ("io-threads 0", "argument must be between 1 and 128 inclusive"),
        ("supervised foo", "argument(s) must be one of the following: upstart, systemd, auto, no"),
        ("dir /nonexistent-corekv-dir", "No such file or directory"),
        ("dir \"\"", "No such file or directory"),
        ("logfile \"\\xff\"", "argument must be valid UTF-8"),
    ];
    for (line, expected) in cases {
        assert_eq!(reason(from_text("value-errors", line)), expected, "{line}");
    }
    // `requirepass` keeps raw bytes, as Redis does; the UTF-8 check is for strings.
    let config = from_text("requirepass-bytes", "requirepass \"\\xff\\x00\"\n").expect("valid");
    assert_eq!(config.requirepass.as_deref(), Some(&[0xff, 0][..]));
}

#[test]
fn fatal_error_block_names_file_line_and_text() {
    let dir = TempDir::new("fatal-block");
    let path = dir.write("corekv.conf", "# comment\n\nport 99999\n");
    let error = Config::from_file(&path).expect_err("port out of range");
    assert_eq!(error.origin, ConfigOrigin::File(path.clone()));
    assert_eq!(error.line_number, Some(3));
    assert_eq!(
        error.to_string(),
        format!(
            "*** FATAL CONFIG FILE ERROR (corekv {}) ***\n\
             Reading the configuration file {}, at line 3\n\
             >>> 'port 99999'\n\
             argument must be between 0 and 65535 inclusive",
            env!("CARGO_PKG_VERSION"),
            path.display()
        )
    );
}

#[test]
fn flag_errors_show_the_line_they_became() {
    // redis 7.0.15: `redis-server --port abc` shows `>>> 'port "abc"'`.
    let error = from_flags(&["--maxmemory", "1gb", "--port", "abc"]).expect_err("bad port");
    assert_eq!(error.origin, ConfigOrigin::CommandLine);
    assert_eq!(error.line_number, Some(2));
    assert_eq!(error.line.as_deref(), Some("port \"abc\""));
    assert!(error.to_string().contains("Reading the command line, at option 2\n"));
    assert_eq!(reason(from_flags(&["--port", "1", "2"])), "wrong number of arguments");
    assert_eq!(reason(from_flags(&["--foo", "bar"])), "Bad directive or wrong number of arguments");
}

#[test]
fn missing_file_is_an_error_without_a_line() {
    let error = Config::from_file(std::path::Path::new("/nonexistent/corekv.conf"))
        .expect_err("missing file");
    assert_eq!(error.line_number, None);
    assert_eq!(
        error.reason,
        "can't open config file '/nonexistent/corekv.conf': No such file or directory"
    );
    assert!(!error.to_string().contains("at line"));
}

#[test]
fn file_syntax_comments_case_and_quotes() {
    let config = from_text(
        "file-syntax",
        "# a comment\n\n   \t\nPORT 7000\r\n  MaxMemory 1GB  \nrequirepass \"p a\\\"ss\"\n\
         logfile 'it\\'s.log'\nmaxmemory-policy ALLKEYS-LRU\nappendfsync Always\nloglevel WARNING\n\
         list-max-ziplist-entries 512\n",
    )
    .expect("valid file");
    assert_eq!(config.port, 7000);
    assert_eq!(config.maxmemory_bytes, 1 << 30);
    assert_eq!(config.requirepass.as_deref(), Some(&b"p a\"ss"[..]));
    assert_eq!(config.logfile, "it's.log");
    assert_eq!(config.maxmemory_policy, MaxmemoryPolicy::AllkeysLru);
    assert_eq!(config.appendfsync, AppendFsync::Always);
    assert_eq!(config.loglevel, LogLevel::Warning);
    assert_eq!(get_one(&config, "maxmemory-policy"), "allkeys-lru");
}

#[test]
fn later_lines_override_earlier_ones() {
    let config =
        from_text("override", "port 1\nport 2\nbind 10.0.0.1\nbind 10.0.0.2 ::1\n").expect("valid");
    assert_eq!(config.port, 2);
    assert_eq!(config.bind, ["10.0.0.2", "::1"]);
}

#[test]
fn save_lines_accumulate_and_empty_resets() {
    let config =
        from_text("save-accumulate", "save 3600 1\nsave 300 100 60 10000\n").expect("valid");
    assert_eq!(config.save, [(3600, 1), (300, 100), (60, 10000)]);
    assert_eq!(get_one(&config, "save"), "3600 1 300 100 60 10000");
    let config = from_text("save-reset", "save 3600 1\nsave \"\"\nsave 60 5\n").expect("valid");
    assert_eq!(config.save, [(60, 5)]);
    // A single argument of a multi-argument option is split: `save "1 2"`.
    let config = from_text("save-quoted", "save \"900 1 300 10\"\n").expect("valid");
    assert_eq!(config.save, [(900, 1), (300, 10)]);
}

#[test]
fn rename_command_accumulates() {
    let config = from_text(
        "rename",
        "rename-command FLUSHALL \"\"\nrename-command config cfg-7f3a\nrename-command keys \"\"\n",
    )
    .expect("valid");
    assert_eq!(
        config.rename_command,
        [
            ("FLUSHALL".to_owned(), String::new()),
            ("config".to_owned(), "cfg-7f3a".to_owned()),
            ("keys".to_owned(), String::new())
        ]
    );
    assert!(config.get(b"rename-command").is_empty(), "not a CONFIG GET option in Redis");
}

#[test]
fn hz_is_clamped_like_redis() {
    // redis 7.0.15: `--hz 1000` and CONFIG SET hz 0 give CONFIG GET hz 500 and 1.
    assert_eq!(from_text("hz-high", "hz 1000\n").expect("valid").hz, 500);
    assert_eq!(from_text("hz-low", "hz 0\n").expect("valid").hz, 1);
}

#[test]
fn include_loads_in_place_relative_to_the_working_directory() {
    let dir = TempDir::new("include");
    let included = dir.write("sub/included.conf", "port 7001\nmaxmemory 1mb\n");
    // A path relative to the working directory (not to the including file), as in Redis.
    let cwd = std::env::current_dir().expect("cwd");
    let relative: PathBuf = cwd
        .components()
        .skip(1)
        .map(|_| std::path::Component::ParentDir)
        .collect::<PathBuf>()
        .join(included.strip_prefix("/").expect("absolute temp dir"));
    let main = dir.write(
        "sub/main.conf",
        &format!("port 7000\ninclude {}\nmaxmemory 2mb\n", relative.display()),
    );
    let config = Config::from_file(&main).expect("valid");
    assert_eq!(config.port, 7001, "the include overrides what came before it");
    assert_eq!(config.maxmemory_bytes, 2 << 20, "and is overridden by what follows it");
}

#[test]
fn include_globs_load_every_match_in_name_order() {
    let dir = TempDir::new("include-glob");
    dir.write("conf.d/20-b.conf", "port 7002\n");
    dir.write("conf.d/10-a.conf", "port 7001\ntimeout 9\n");
    dir.write("conf.d/.hidden.conf", "port 1\n");
    dir.write("conf.d/notes.txt", "bogus\n");
    let main = dir.write(
        "main.conf",
        &format!("include {0}/conf.d/*.conf\ninclude {0}/empty.d/*.conf\n", dir.path().display()),
    );
    let config = Config::from_file(&main).expect("valid");
    assert_eq!(config.port, 7002);
    assert_eq!(config.timeout_seconds, 9);
}

#[test]
fn include_errors_point_into_the_included_file() {
    let dir = TempDir::new("include-errors");
    let included = dir.write("inc.conf", "\nport abc\n");
    let main = dir.write("main.conf", &format!("include {}\n", included.display()));
    let error = Config::from_file(&main).expect_err("bad port");
    assert_eq!(error.origin, ConfigOrigin::File(included));
    assert_eq!(error.line_number, Some(2));

    let missing = dir.write("missing.conf", "port 1\ninclude /nonexistent/x.conf\n");
    let error = Config::from_file(&missing).expect_err("missing include");
    assert_eq!(error.origin, ConfigOrigin::File(missing));
    assert_eq!(error.line_number, Some(2));
    assert_eq!(
        error.reason,
        "can't open config file '/nonexistent/x.conf': No such file or directory"
    );
}

#[test]
fn include_cycles_stop_at_the_depth_limit() {
    let dir = TempDir::new("include-cycle");
    let path = dir.path().join("self.conf");
    dir.write("self.conf", &format!("include {}\n", path.display()));
    let error: ConfigError = Config::from_file(&path).expect_err("cycle");
    assert!(error.reason.starts_with("include nesting deeper than 16 levels"), "{error}");
}

#[test]
fn bind_addresses_that_cannot_be_rewritten_are_refused() {
    // Found by fuzz/fuzz_targets/config_parser.rs: empty addresses (and ones with blanks)
    // were accepted, and CONFIG REWRITE's unquoted `bind` line loaded back as other addresses.
    let crash: &[u8] =
        b"--port\x006380\x00--save\x0060 0\x00--maxmemory\x001gb\x00--appendonly\x00yes\
        \x00--bind\x0012\xab\xab\xab\xab\x00\x00\x00\x0f\xab7.0.0.1\x00::1";
    let args = crash.split(|&byte| byte == 0).map(|arg| String::from_utf8_lossy(arg).into());
    let refused = reason(Config::from_args(args.collect::<Vec<String>>()));
    assert!(refused.starts_with("Invalid bind address '12"), "{refused}");
    for line in ["bind 127.0.0.1 \"\" ::1", "bind \"10.0.0.1 ::1\" ::2", "bind \"a'b\" ::1"] {
        let refused = reason(from_text("bind-plain", line));
        assert!(refused.starts_with("Invalid bind address"), "{line}: {refused}");
    }
    let mut config = Config::default();
    assert!(config.set(b"bind", b"127.0.0.1  ::1").unwrap_err().contains("Invalid bind address"));
    // Plain addresses, and `bind ""` for none, still load and rewrite to the same list.
    for line in ["bind 10.0.0.1 -::1 *", "bind \"\""] {
        let config = from_text("bind-plain", line).expect("valid");
        let text = config.rewritten(line.as_bytes());
        let again = Config::from_text(&text, Path::new("corekv.conf")).expect("rewritten");
        assert_eq!(again.bind, config.bind, "{}", String::from_utf8_lossy(&text));
    }
}

#[test]
fn flags_follow_redis_server() {
    let config = from_flags(&["--port", "7000", "--maxmemory", "1gb", "--appendonly", "yes"])
        .expect("valid");
    assert_eq!((config.port, config.maxmemory_bytes, config.appendonly), (7000, 1 << 30, true));
    assert_eq!(config.source_path(), None);

    // Several words per flag, one flag carrying its value, values starting with "-".
    let config = from_flags(&[
        "--bind",
        "127.0.0.1",
        "::1",
        "--port 7001",
        "--slowlog-log-slower-than",
        "-1",
        "--requirepass",
        "--not-a-flag",
    ])
    .expect("valid");
    assert_eq!(config.bind, ["127.0.0.1", "::1"]);
    assert_eq!(config.port, 7001);
    assert_eq!(config.slowlog_log_slower_than_us, -1);
    assert_eq!(config.requirepass.as_deref(), Some(&b"--not-a-flag"[..]));

    // Values with spaces and quotes survive the trip through a configuration line.
    let config = from_flags(&["--logfile", "my \"log\" file"]).expect("valid");
    assert_eq!(config.logfile, "my \"log\" file");
}

#[test]
fn save_flag_without_value_means_empty() {
    let config = from_flags(&["--save", "--port", "7000"]).expect("valid");
    assert!(config.save.is_empty());
    assert_eq!(config.port, 7000);
    let config = from_flags(&["--save", "60", "1", "--save", "300", "10"]).expect("valid");
    assert_eq!(config.save, [(60, 1), (300, 10)]);
    let config = from_flags(&["--save", "60", "1", "--save"]).expect("valid");
    assert!(config.save.is_empty());
    let config = from_flags(&["--save", ""]).expect("valid");
    assert!(config.save.is_empty());
}

#[test]
fn flags_override_the_file_and_save_accumulates_across_both() {
    // redis 7.0.15: a file with `save 3600 1` and `--save 60 5` gives "3600 1 60 5".
    let dir = TempDir::new("flags-override");
    let path = dir.write("corekv.conf", "port 7000\nsave 3600 1\nloglevel debug\n");
    let args = [path.to_string_lossy().into_owned(), "--port".into(), "7001".into()];
    let config = Config::from_args(args.iter().cloned().chain(["--save".into(), "60 5".into()]))
        .expect("valid");
    assert_eq!(config.port, 7001);
    assert_eq!(config.loglevel, LogLevel::Debug);
    assert_eq!(config.save, [(3600, 1), (60, 5)]);
    assert_eq!(config.source_path(), Some(path.as_path()));
}

#[test]
fn dir_is_absolute_and_relative_to_the_previous_dir() {
    let dir = TempDir::new("dir");
    std::fs::create_dir_all(dir.path().join("a/b")).expect("mkdir");
    let config = from_text("dir-inner", &format!("dir {}\ndir a\ndir ./b\n", dir.path().display()))
        .expect("valid");
    let expected = std::fs::canonicalize(dir.path().join("a/b")).expect("canonical");
    assert_eq!(config.dir, expected);
    let file = dir.write("plain-file", "");
    assert_eq!(
        reason(from_text("dir-file", &format!("dir {}\n", file.display()))),
        "Not a directory"
    );
}

#[test]
fn from_args_with_relative_file_keeps_an_absolute_source_path() {
    let dir = TempDir::new("relative-source");
    let path = dir.write("corekv.conf", "port 7000\n");
    let config = Config::from_args([path.to_string_lossy().into_owned()]).expect("valid");
    assert!(config.source_path().is_some_and(|source| source.is_absolute()));
}
