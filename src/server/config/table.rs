//! The option table: every option's name, mutability and value kind, in CONFIG GET order.
//!
//! Each entry reads and writes one typed field of [`Config`] through plain function pointers,
//! so parsing, validation, rendering and rewriting are written once per value kind (as in
//! Redis 7's `standardConfig` table) and the typed struct stays the single source of truth.

use super::syntax::{format_memory, is_base_name, parse_memory, parse_yes_no, repr, yes_no};
use super::types::{AppendFsync, LogLevel, MaxmemoryPolicy, Supervised};
use super::{Config, MAX_DATABASES, MAX_WORKERS};
use crate::engine::MAX_SHARDS;
use crate::engine::num::parse_i64;

/// Who may change an option after start-up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Access {
    /// CONFIG SET may change it.
    Mutable,
    /// Only the file and the command line set it (`can't set immutable config`).
    Immutable,
    /// Redis 7's protected configs (`dir`, `dbfilename`): CONFIG SET refuses them, as Redis
    /// does under its default `enable-protected-configs no`, because a client that can
    /// point the snapshot at any path can write files anywhere the server can.
    Protected,
}

/// The value kinds, each with Redis's parsing and rendering rules.
pub(super) enum Kind {
    /// `yes`/`no`.
    Bool { get: fn(&Config) -> bool, set: fn(&mut Config, bool) },
    /// An integer (`string2ll`) or, with `memory`, a memory value (`memtoull`), in
    /// `min..=max`. `i128` holds every C integer type Redis uses here.
    Int { min: i128, max: i128, memory: bool, get: fn(&Config) -> i128, set: fn(&mut Config, i128) },
    /// One of `names`, any letter case; `set` receives the canonical name.
    Enum {
        names: &'static [&'static str],
        get: fn(&Config) -> &'static str,
        set: fn(&mut Config, &[u8]),
    },
    /// A UTF-8 string with an optional check returning Redis's error text.
    Text {
        check: fn(&str) -> Result<(), &'static str>,
        /// Redis's `EMPTY_STRING_IS_NULL`: an empty value means "unset" and CONFIG REWRITE
        /// leaves the option out of the file.
        empty_is_unset: bool,
        get: fn(&Config) -> &str,
        set: fn(&mut Config, String),
    },
    /// Options with their own syntax (implemented in `special.rs`).
    Special(Special),
}

/// The options that do not fit a generic kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Special {
    Bind,
    Requirepass,
    ClientOutputBufferLimit,
    Dir,
    Save,
    LatencyTrackingInfoPercentiles,
    Daemonize,
}

/// One configuration option.
pub(super) struct OptionSpec {
    /// The canonical (lowercase) name.
    pub(super) name: &'static str,
    pub(super) access: Access,
    pub(super) kind: Kind,
}

impl OptionSpec {
    /// Redis's `MULTI_ARG_CONFIG`: the option takes any number of arguments in a file and
    /// splits its CONFIG SET value on spaces.
    pub(super) fn multi_arg(&self) -> bool {
        matches!(
            self.kind,
            Kind::Special(
                Special::Bind
                    | Special::Save
                    | Special::ClientOutputBufferLimit
                    | Special::LatencyTrackingInfoPercentiles
            )
        )
    }
}

/// The option named `name` (any letter case).
pub(super) fn lookup(name: &[u8]) -> Option<&'static OptionSpec> {
    OPTIONS.iter().find(|spec| spec.name.as_bytes().eq_ignore_ascii_case(name))
}

/// Redis's error text for a value out of range.
pub(super) fn range_error(min: i128, max: i128) -> String {
    format!("argument must be between {min} and {max} inclusive")
}

/// Where a value comes from; only `save` behaves differently (see `special.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Mode {
    /// A configuration file or the command line.
    Loading,
    /// CONFIG SET.
    ConfigSet,
}

/// What CONFIG REWRITE does with one option.
pub(super) enum Rewrite {
    /// Write these lines, each with whether it must be written even when the file does not
    /// mention the option yet (Redis's `force`: the value differs from the default).
    Lines(Vec<(String, bool)>),
    /// Remove the option's lines: its value is "unset" (Redis's `MarkAsProcessed` alone).
    Remove,
}

impl OptionSpec {
    /// Validates `args` and stores them; on error `config` may be partly changed, so callers
    /// apply to a copy (CONFIG SET) or give up on the whole load.
    pub(super) fn apply(
        &self,
        config: &mut Config,
        args: &[Vec<u8>],
        mode: Mode,
    ) -> Result<(), String> {
        if let Kind::Special(special) = self.kind {
            return special.apply(config, args, mode);
        }
        let [value] = args else {
            return Err("wrong number of arguments".to_owned());
        };
        match &self.kind {
            Kind::Bool { set, .. } => {
                let value = parse_yes_no(value).ok_or("argument must be 'yes' or 'no'")?;
                set(config, value);
            }
            Kind::Int { min, max, memory, set, .. } => {
                let parsed = if *memory {
                    i128::from(parse_memory(value).ok_or("argument must be a memory value")?)
                } else {
                    i128::from(
                        parse_i64(value).ok_or("argument couldn't be parsed into an integer")?,
                    )
                };
                if parsed < *min || parsed > *max {
                    return Err(range_error(*min, *max));
                }
                set(config, parsed);
            }
            Kind::Enum { names, set, .. } => {
                let name = names
                    .iter()
                    .find(|name| name.as_bytes().eq_ignore_ascii_case(value))
                    .ok_or_else(|| {
                        format!("argument(s) must be one of the following: {}", names.join(", "))
                    })?;
                set(config, name.as_bytes());
            }
            Kind::Text { check, set, .. } => {
                let value = utf8(value)?;
                check(&value)?;
                set(config, value);
            }
            Kind::Special(_) => {}
        }
        Ok(())
    }

    /// The value as CONFIG GET shows it.
    pub(super) fn render(&self, config: &Config) -> String {
        match &self.kind {
            Kind::Bool { get, .. } => yes_no(get(config)).to_owned(),
            Kind::Int { get, .. } => get(config).to_string(),
            Kind::Enum { get, .. } => get(config).to_owned(),
            Kind::Text { get, .. } => get(config).to_owned(),
            Kind::Special(special) => special.render(config),
        }
    }

    /// The lines CONFIG REWRITE writes for this option, `default` being the value a start
    /// without this line would have.
    pub(super) fn rewrite(&self, config: &Config, default: &Config) -> Rewrite {
        let name = self.name;
        let force = self.render(config) != self.render(default);
        let line = match &self.kind {
            Kind::Bool { get, .. } => format!("{name} {}", yes_no(get(config))),
            Kind::Int { get, memory: true, .. } => {
                format!("{name} {}", format_memory(u64::try_from(get(config)).unwrap_or(0)))
            }
            Kind::Int { get, .. } => format!("{name} {}", get(config)),
            Kind::Enum { get, .. } => format!("{name} {}", get(config)),
            Kind::Text { get, empty_is_unset, .. } => {
                let value = get(config);
                if *empty_is_unset && value.is_empty() {
                    return Rewrite::Remove;
                }
                format!("{name} {}", repr(value.as_bytes()))
            }
            Kind::Special(special) => return special.rewrite(name, config, default),
        };
        Rewrite::Lines(vec![(line, force)])
    }
}

/// Strings are kept as UTF-8 in corekv (Redis keeps raw bytes); `\xHH` escapes can produce
/// other bytes, which are refused with this text.
pub(super) fn utf8(value: &[u8]) -> Result<String, String> {
    String::from_utf8(value.to_vec()).map_err(|_| "argument must be valid UTF-8".to_owned())
}

fn no_check(_: &str) -> Result<(), &'static str> {
    Ok(())
}

/// corekv's TLS does not verify client certificates yet, so only `no` is accepted (Redis's
/// default is `yes`); a configuration asking for them fails to start rather than run open.
fn tls_auth_clients_check(value: &str) -> Result<(), &'static str> {
    match value {
        "no" => Ok(()),
        "yes" | "optional" => Err("client certificates are not supported by corekv yet: use 'no'"),
        _ => Err("argument must be 'no', 'yes' or 'optional'"),
    }
}

const INT_MAX: i128 = i32::MAX as i128;
const UINT_MAX: i128 = u32::MAX as i128;
const LLONG_MAX: i128 = i64::MAX as i128;
const ULLONG_MAX: i128 = u64::MAX as i128;
const MB: i128 = 1024 * 1024;

/// Redis clamps `hz` into this range instead of refusing (`CONFIG_MIN_HZ`/`CONFIG_MAX_HZ`).
const HZ_MIN: i128 = 1;
const HZ_MAX: i128 = 500;

const fn flag(
    name: &'static str,
    access: Access,
    get: fn(&Config) -> bool,
    set: fn(&mut Config, bool),
) -> OptionSpec {
    OptionSpec { name, access, kind: Kind::Bool { get, set } }
}

const fn int(
    name: &'static str,
    access: Access,
    (min, max): (i128, i128),
    get: fn(&Config) -> i128,
    set: fn(&mut Config, i128),
) -> OptionSpec {
    OptionSpec { name, access, kind: Kind::Int { min, max, memory: false, get, set } }
}

const fn memory(
    name: &'static str,
    (min, max): (i128, i128),
    get: fn(&Config) -> i128,
    set: fn(&mut Config, i128),
) -> OptionSpec {
    OptionSpec {
        name,
        access: Access::Mutable,
        kind: Kind::Int { min, max, memory: true, get, set },
    }
}

/// An immutable text option (a path, a word).
const fn text(
    name: &'static str,
    check: fn(&str) -> Result<(), &'static str>,
    empty_is_unset: bool,
    get: fn(&Config) -> &str,
    set: fn(&mut Config, String),
) -> OptionSpec {
    OptionSpec {
        name,
        access: Access::Immutable,
        kind: Kind::Text { check, empty_is_unset, get, set },
    }
}

const fn special(name: &'static str, access: Access, special: Special) -> OptionSpec {
    OptionSpec { name, access, kind: Kind::Special(special) }
}

use Access::{Immutable, Mutable, Protected};

// corekv's own bounds stay within the C types Redis uses for the same options.
const _: () = assert!(MAX_DATABASES as i128 <= INT_MAX && MAX_WORKERS as i128 <= INT_MAX);
const _: () = assert!(HZ_MIN <= HZ_MAX && HZ_MAX <= INT_MAX);

/// Every option, in the order CONFIG GET lists them and CONFIG REWRITE appends them.
/// Bounds are Redis 7.0's (`createIntConfig(..., lower, upper, ...)`) unless noted. Setters
/// narrow with `as`: `apply` has checked the value against the entry's bounds, and every
/// bound fits its field's type.
pub(super) static OPTIONS: &[OptionSpec] = &[
    // Network.
    int("port", Mutable, (0, 65535), |c| c.port.into(), |c, v| c.port = v as u16),
    special("bind", Mutable, Special::Bind),
    int("tls-port", Immutable, (0, 65535), |c| c.tls_port.into(), |c, v| c.tls_port = v as u16),
    text("tls-cert-file", no_check, true, |c| &c.tls_cert_file, |c, v| c.tls_cert_file = v),
    text("tls-key-file", no_check, true, |c| &c.tls_key_file, |c, v| c.tls_key_file = v),
    text(
        "tls-auth-clients",
        tls_auth_clients_check,
        false,
        |c| &c.tls_auth_clients,
        |c, v| c.tls_auth_clients = v,
    ),
    flag("protected-mode", Mutable, |c| c.protected_mode, |c, v| c.protected_mode = v),
    int(
        "tcp-backlog",
        Immutable,
        (0, INT_MAX),
        |c| c.tcp_backlog.into(),
        |c, v| c.tcp_backlog = v as u32,
    ),
    int(
        "tcp-keepalive",
        Mutable,
        (0, INT_MAX),
        |c| c.tcp_keepalive_seconds.into(),
        |c, v| c.tcp_keepalive_seconds = v as u64,
    ),
    int(
        "timeout",
        Mutable,
        (0, INT_MAX),
        |c| c.timeout_seconds.into(),
        |c, v| c.timeout_seconds = v as u64,
    ),
    int(
        "maxclients",
        Mutable,
        (1, UINT_MAX),
        |c| c.maxclients.into(),
        |c, v| c.maxclients = v as u64,
    ),
    // Security.
    special("requirepass", Mutable, Special::Requirepass),
    // Limits.
    memory(
        "proto-max-bulk-len",
        (MB, LLONG_MAX),
        |c| c.proto_max_bulk_len_bytes.into(),
        |c, v| c.proto_max_bulk_len_bytes = v as u64,
    ),
    memory(
        "client-query-buffer-limit",
        (MB, LLONG_MAX),
        |c| c.client_query_buffer_limit_bytes.into(),
        |c, v| c.client_query_buffer_limit_bytes = v as u64,
    ),
    special("client-output-buffer-limit", Mutable, Special::ClientOutputBufferLimit),
    // Keyspace and threads. `databases` is capped well below Redis's INT_MAX because every
    // database allocates its shards up front.
    int(
        "databases",
        Immutable,
        (1, MAX_DATABASES as i128),
        |c| c.databases as i128,
        |c, v| c.databases = v as usize,
    ),
    int(
        "shards",
        Immutable,
        (0, MAX_SHARDS as i128),
        |c| c.shards as i128,
        |c, v| c.shards = v as usize,
    ),
    int(
        "workers",
        Immutable,
        (0, MAX_WORKERS as i128),
        |c| c.workers as i128,
        |c, v| c.workers = v as usize,
    ),
    flag("pin-workers", Immutable, |c| c.pin_workers, |c, v| c.pin_workers = v),
    int("hz", Mutable, (0, INT_MAX), |c| c.hz.into(), |c, v| c.hz = v.clamp(HZ_MIN, HZ_MAX) as u32),
    // Memory.
    memory(
        "maxmemory",
        (0, ULLONG_MAX),
        |c| c.maxmemory_bytes.into(),
        |c, v| c.maxmemory_bytes = v as u64,
    ),
    OptionSpec {
        name: "maxmemory-policy",
        access: Mutable,
        kind: Kind::Enum {
            names: MaxmemoryPolicy::NAMES,
            get: |c| c.maxmemory_policy.as_str(),
            set: |c, v| c.maxmemory_policy = MaxmemoryPolicy::parse(v).unwrap_or_default(),
        },
    },
    int(
        "maxmemory-samples",
        Mutable,
        (1, INT_MAX),
        |c| c.maxmemory_samples.into(),
        |c, v| c.maxmemory_samples = v as u32,
    ),
    int(
        "lfu-log-factor",
        Mutable,
        (0, INT_MAX),
        |c| c.lfu_log_factor.into(),
        |c, v| c.lfu_log_factor = v as u32,
    ),
    int(
        "lfu-decay-time",
        Mutable,
        (0, INT_MAX),
        |c| c.lfu_decay_time_minutes.into(),
        |c, v| c.lfu_decay_time_minutes = v as u32,
    ),
    // Persistence.
    flag("appendonly", Mutable, |c| c.appendonly, |c, v| c.appendonly = v),
    OptionSpec {
        name: "appendfsync",
        access: Mutable,
        kind: Kind::Enum {
            names: AppendFsync::NAMES,
            get: |c| c.appendfsync.as_str(),
            set: |c, v| c.appendfsync = AppendFsync::parse(v).unwrap_or_default(),
        },
    },
    OptionSpec {
        name: "appendfilename",
        access: Immutable,
        kind: Kind::Text {
            check: |v| match v {
                "" => Err("appendfilename can't be empty"),
                _ if !is_base_name(v) => Err("appendfilename can't be a path, just a filename"),
                _ => Ok(()),
            },
            empty_is_unset: false,
            get: |c| &c.appendfilename,
            set: |c, v| c.appendfilename = v,
        },
    },
    OptionSpec {
        name: "appenddirname",
        access: Immutable,
        kind: Kind::Text {
            check: |v| match v {
                "" => Err("appenddirname can't be empty"),
                _ if !is_base_name(v) => Err("appenddirname can't be a path, just a dirname"),
                _ => Ok(()),
            },
            empty_is_unset: false,
            get: |c| &c.appenddirname,
            set: |c, v| c.appenddirname = v,
        },
    },
    special("dir", Protected, Special::Dir),
    OptionSpec {
        name: "dbfilename",
        access: Protected,
        kind: Kind::Text {
            check: |v| match is_base_name(v) {
                true => Ok(()),
                false => Err("dbfilename can't be a path, just a filename"),
            },
            empty_is_unset: false,
            get: |c| &c.dbfilename,
            set: |c, v| c.dbfilename = v,
        },
    },
    special("save", Mutable, Special::Save),
    flag("aof-load-truncated", Mutable, |c| c.aof_load_truncated, |c, v| c.aof_load_truncated = v),
    int(
        "auto-aof-rewrite-percentage",
        Mutable,
        (0, INT_MAX),
        |c| c.auto_aof_rewrite_percentage.into(),
        |c, v| c.auto_aof_rewrite_percentage = v as u32,
    ),
    memory(
        "auto-aof-rewrite-min-size",
        (0, LLONG_MAX),
        |c| c.auto_aof_rewrite_min_size_bytes.into(),
        |c, v| c.auto_aof_rewrite_min_size_bytes = v as u64,
    ),
    flag("rdbcompression", Mutable, |c| c.rdbcompression, |c, v| c.rdbcompression = v),
    flag("rdbchecksum", Mutable, |c| c.rdbchecksum, |c, v| c.rdbchecksum = v),
    flag(
        "stop-writes-on-bgsave-error",
        Mutable,
        |c| c.stop_writes_on_bgsave_error,
        |c, v| c.stop_writes_on_bgsave_error = v,
    ),
    // Observability.
    OptionSpec {
        name: "loglevel",
        access: Mutable,
        kind: Kind::Enum {
            names: LogLevel::NAMES,
            get: |c| c.loglevel.as_str(),
            set: |c, v| c.loglevel = LogLevel::parse(v).unwrap_or_default(),
        },
    },
    OptionSpec {
        name: "logfile",
        access: Immutable,
        kind: Kind::Text {
            check: no_check,
            empty_is_unset: false,
            get: |c| &c.logfile,
            set: |c, v| c.logfile = v,
        },
    },
    int(
        "slowlog-log-slower-than",
        Mutable,
        (-1, LLONG_MAX),
        |c| c.slowlog_log_slower_than_us.into(),
        |c, v| c.slowlog_log_slower_than_us = v as i64,
    ),
    int(
        "slowlog-max-len",
        Mutable,
        (0, LLONG_MAX),
        |c| c.slowlog_max_len.into(),
        |c, v| c.slowlog_max_len = v as u64,
    ),
    int(
        "latency-monitor-threshold",
        Mutable,
        (0, LLONG_MAX),
        |c| c.latency_monitor_threshold_ms.into(),
        |c, v| c.latency_monitor_threshold_ms = v as u64,
    ),
    flag("latency-tracking", Mutable, |c| c.latency_tracking, |c, v| c.latency_tracking = v),
    special("latency-tracking-info-percentiles", Mutable, Special::LatencyTrackingInfoPercentiles),
    // Process.
    special("daemonize", Immutable, Special::Daemonize),
    text("pidfile", no_check, true, |c| &c.pidfile, |c, v| c.pidfile = v),
    // Accepted for compatibility with common redis.conf files; not acted on yet.
    OptionSpec {
        name: "supervised",
        access: Immutable,
        kind: Kind::Enum {
            names: Supervised::NAMES,
            get: |c| c.supervised.as_str(),
            set: |c, v| c.supervised = Supervised::parse(v).unwrap_or_default(),
        },
    },
    flag("always-show-logo", Immutable, |c| c.always_show_logo, |c, v| c.always_show_logo = v),
    flag("set-proc-title", Immutable, |c| c.set_proc_title, |c, v| c.set_proc_title = v),
    flag(
        "lazyfree-lazy-eviction",
        Mutable,
        |c| c.lazyfree_lazy_eviction,
        |c, v| c.lazyfree_lazy_eviction = v,
    ),
    flag(
        "lazyfree-lazy-expire",
        Mutable,
        |c| c.lazyfree_lazy_expire,
        |c, v| c.lazyfree_lazy_expire = v,
    ),
    flag(
        "lazyfree-lazy-server-del",
        Mutable,
        |c| c.lazyfree_lazy_server_del,
        |c, v| c.lazyfree_lazy_server_del = v,
    ),
    flag(
        "lazyfree-lazy-user-del",
        Mutable,
        |c| c.lazyfree_lazy_user_del,
        |c, v| c.lazyfree_lazy_user_del = v,
    ),
    flag(
        "lazyfree-lazy-user-flush",
        Mutable,
        |c| c.lazyfree_lazy_user_flush,
        |c, v| c.lazyfree_lazy_user_flush = v,
    ),
    int("io-threads", Immutable, (1, 128), |c| c.io_threads.into(), |c, v| c.io_threads = v as u32),
    flag(
        "io-threads-do-reads",
        Immutable,
        |c| c.io_threads_do_reads,
        |c, v| c.io_threads_do_reads = v,
    ),
];
