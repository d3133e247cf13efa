//! The server's configuration: a redis.conf-syntax file plus `--name value` flags, and the
//! runtime side of CONFIG GET / SET / REWRITE. Behaviour and error texts follow Redis 7.0's
//! `config.c` (checked against `redis-server` 7.0.15 where noted in the tests).
//!
//! # Model
//!
//! [`Config`] is a plain struct of typed fields, the one source of truth the server reads.
//! A static option table (`table.rs`) maps each Redis option name to its field, its value
//! kind and whether CONFIG SET may change it, so parsing, rendering and rewriting are written
//! once per kind, as Redis 7's `standardConfig` table does.
//!
//! # Loading order
//!
//! Defaults, then the file (its `include`s in place), then the flags, one line at a time:
//! later lines override earlier ones, except `save` and `rename-command`, which accumulate
//! (`save ""` clears the save points). Flags are turned into lines and read exactly like the
//! file, as in Redis, so `--save 60 1` adds to the file's save points.
//!
//! # Files
//!
//! - `syntax.rs`: line splitting and quoting, memory values, number formats.
//! - `types.rs`: the enumerated values and output buffer limits.
//! - `table.rs`: the option table and the generic kinds.
//! - `special.rs`: options with their own syntax (`save`, `bind`, ...).
//! - `load.rs`: files, `include`, flags, [`ConfigError`].
//! - `rewrite.rs`: CONFIG REWRITE.

mod load;
mod rewrite;
mod special;
mod syntax;
mod table;
mod types;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

pub use load::{ConfigError, ConfigOrigin, MAX_CONFIG_FILE_BYTES, MAX_INCLUDE_DEPTH};
pub use types::{
    AppendFsync, LogLevel, MaxmemoryPolicy, OutputBufferLimit, OutputBufferLimits, Supervised,
};

use crate::engine::glob;
use load::{Loader, flags_to_lines};
use table::{Access, Mode, OPTIONS, lookup};

/// Most databases (`databases`). Redis allows up to `INT_MAX`; corekv allocates every
/// database's shards at start-up, so the bound keeps a typo from allocating gigabytes.
pub const MAX_DATABASES: usize = 1024;

/// Most worker threads (`workers`).
pub const MAX_WORKERS: usize = 1024;

/// The usage text the binary prints for `--help`.
pub const USAGE: &str = "\
Usage: corekv-server [/path/to/corekv.conf] [options]
       corekv-server -v or --version
       corekv-server -h or --help

Options are the configuration directives of corekv.conf (redis.conf syntax) with two
leading dashes; they are read after the file and override it. Common ones:

  --port <port>                  TCP port (default 6379)
  --bind <address> [...]         addresses to listen on (default 127.0.0.1)
  --requirepass <password>       require AUTH
  --user <name> <rule> [...]     an ACL user, as ACL SETUSER takes it (repeatable)
  --tls-port <port>              also serve TLS on this port (default 0 = off), with
  --tls-cert-file <path>         the server certificate chain (PEM) and
  --tls-key-file <path>          its private key (PEM)
  --maxmemory <bytes>            memory limit, with units: 100mb, 1gb (default 0 = none)
  --maxmemory-policy <policy>    noeviction, allkeys-lru, volatile-lru, allkeys-lfu, ...
  --databases <n>                number of databases (default 16)
  --workers <n>                  worker threads (default 0 = one per core)
  --pin-workers <yes|no>         pin each worker to a core (default yes)
  --shards <n>                   shards per database (default 0 = automatic)
  --appendonly yes|no            append-only file persistence (default no)
  --appendfsync <when>           everysec, always or no (default everysec)
  --save <seconds> <changes>     snapshot after <changes> writes in <seconds>; repeatable;
                                 --save \"\" disables snapshots (the default)
  --dir <directory>              where the AOF and snapshots live (default: working dir)
  --loglevel <level>             debug, verbose, notice or warning (default notice)
  --logfile <path>               log file (default: standard output)

Examples:
  corekv-server                                  (run with the defaults)
  corekv-server /etc/corekv/corekv.conf
  corekv-server --port 7000 --maxmemory 1gb --appendonly yes
  corekv-server /etc/corekv/corekv.conf --loglevel verbose
";

/// The server's configuration. Field docs name the option; defaults are Redis 7.0's unless
/// said otherwise.
///
/// Build one with [`Config::from_args`] or [`Config::from_file`]; [`Default`] gives the
/// defaults (with `dir` the current working directory).
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    // Network.
    /// `port`: TCP port (default 6379). 0 with a `tls-port`: TLS only, as in Redis; 0 alone:
    /// a free port the kernel picks (Redis would listen on no TCP port at all).
    pub port: u16,
    /// `tls-port`: a TLS port beside the plain one, 0 for none (default 0).
    pub tls_port: u16,
    /// `tls-cert-file`: the server's certificate chain (PEM), needed with `tls-port`.
    pub tls_cert_file: String,
    /// `tls-key-file`: the certificate's private key (PEM).
    pub tls_key_file: String,
    /// `tls-auth-clients`: only `no` (client certificates are not verified yet).
    pub tls_auth_clients: String,
    /// `bind`: addresses to listen on (corekv default `127.0.0.1`; Redis's is `* -::*`),
    /// at most 16; empty means none.
    pub bind: Vec<String>,
    /// `protected-mode`: refuse non-loopback clients while no password is set (default yes).
    pub protected_mode: bool,
    /// `tcp-backlog`: the listen(2) backlog (default 511).
    pub tcp_backlog: u32,
    /// `tcp-keepalive`: TCP keepalive interval, 0 to disable (default 300).
    pub tcp_keepalive_seconds: u64,
    /// `timeout`: close a client idle this long, 0 never (default 0).
    pub timeout_seconds: u64,
    /// `maxclients`: most connected clients (default 10000).
    pub maxclients: u64,

    // Security.
    /// `requirepass`: the default user's password; `None` needs none (CONFIG GET shows "").
    pub requirepass: Option<Vec<u8>>,

    // Limits.
    /// `proto-max-bulk-len`: longest bulk string a client may send (default 512mb).
    pub proto_max_bulk_len_bytes: u64,
    /// `client-query-buffer-limit`: largest unparsed input per client (default 1gb).
    pub client_query_buffer_limit_bytes: u64,
    /// `client-output-buffer-limit`: pending-output limits per client class.
    pub client_output_buffer_limit: OutputBufferLimits,

    // Keyspace and threads.
    /// `databases`: number of databases, `1..=MAX_DATABASES` (default 16).
    pub databases: usize,
    /// `shards` (corekv): shards per database, rounded up to a power of two; 0 chooses from
    /// the core count (default 0).
    pub shards: usize,
    /// `workers` (corekv): worker threads, each owning its connections; 0 means one per core
    /// (default 0).
    pub workers: usize,
    /// `pin-workers` (corekv, default yes): pin each worker to its core. `no` lets the
    /// scheduler move workers, which can help when clients share the server's few cores.
    pub pin_workers: bool,
    /// `hz`: background task frequency; values are clamped into 1..=500 as Redis does
    /// (default 10).
    pub hz: u32,

    // Memory.
    /// `maxmemory`: memory limit, 0 for none (default 0).
    pub maxmemory_bytes: u64,
    /// `maxmemory-policy`: what to evict at the limit (default noeviction).
    pub maxmemory_policy: MaxmemoryPolicy,
    /// `maxmemory-samples`: keys sampled per eviction (default 5).
    pub maxmemory_samples: u32,
    /// `lfu-log-factor`: LFU counter logarithm factor (default 10).
    pub lfu_log_factor: u32,
    /// `lfu-decay-time`: minutes per LFU counter decay step (default 1).
    pub lfu_decay_time_minutes: u32,

    // Persistence.
    /// `appendonly`: log writes to the append-only file (default no).
    pub appendonly: bool,
    /// `appendfsync`: when the AOF is fsynced (default everysec).
    pub appendfsync: AppendFsync,
    /// `appendfilename`: base name of the AOF files (default "appendonly.aof").
    pub appendfilename: String,
    /// `appenddirname`: directory of the AOF files, inside `dir` (default "appendonlydir").
    pub appenddirname: String,
    /// `dir`: working directory for persistence files, always absolute (default: the
    /// current directory). Relative values are resolved against the previous `dir`.
    pub dir: PathBuf,
    /// `dbfilename`: snapshot file name inside `dir` (default "dump.rdb").
    pub dbfilename: String,
    /// `save`: `(seconds, changes)` snapshot points. corekv is memory-only by default, so the
    /// default is none (Redis's is 3600 1 300 100 60 10000).
    pub save: Vec<(u64, u64)>,
    /// `aof-load-truncated`: load an AOF whose tail is torn, dropping the tail (default yes).
    pub aof_load_truncated: bool,
    /// `auto-aof-rewrite-percentage`: AOF growth that triggers a rewrite, 0 never (100).
    pub auto_aof_rewrite_percentage: u32,
    /// `auto-aof-rewrite-min-size`: smallest AOF that is rewritten automatically (64mb).
    pub auto_aof_rewrite_min_size_bytes: u64,
    /// `rdbcompression`: compress snapshot strings (default yes).
    pub rdbcompression: bool,
    /// `rdbchecksum`: checksum snapshots (default yes).
    pub rdbchecksum: bool,
    /// `stop-writes-on-bgsave-error`: refuse writes after a failed snapshot (default yes).
    pub stop_writes_on_bgsave_error: bool,

    // Observability.
    /// `loglevel` (default notice).
    pub loglevel: LogLevel,
    /// `logfile`: log file path, "" for standard output (default "").
    pub logfile: String,
    /// `slowlog-log-slower-than`: slow log threshold, -1 disables, 0 logs all (10000 µs).
    pub slowlog_log_slower_than_us: i64,
    /// `slowlog-max-len`: slow log entries kept (default 128).
    pub slowlog_max_len: u64,
    /// `latency-monitor-threshold`: latency monitor threshold, 0 off (default 0).
    pub latency_monitor_threshold_ms: u64,
    /// `latency-tracking`: per-command latency histograms (default yes).
    pub latency_tracking: bool,
    /// `latency-tracking-info-percentiles`: percentiles INFO reports (default 50 99 99.9).
    pub latency_tracking_info_percentiles: Vec<f64>,

    // Process.
    /// `daemonize`: always `false`; `yes` is refused (corekv runs under a supervisor).
    pub daemonize: bool,
    /// `pidfile`: where to write the process id, "" for nowhere (default "").
    pub pidfile: String,
    /// `rename-command NAME NEWNAME` lines, in file order (file and flags only; not a CONFIG
    /// GET option). An empty NEWNAME disables the command. The server checks the names.
    pub rename_command: Vec<(String, String)>,
    /// `user NAME RULE...` lines, in file order: ACL users created at start (file and flags
    /// only). The rules are checked when the file is read.
    pub users: Vec<Vec<Vec<u8>>>,

    // Accepted so common redis.conf files start; not acted on yet.
    /// `supervised` (default no).
    pub supervised: Supervised,
    /// `always-show-logo` (default no).
    pub always_show_logo: bool,
    /// `set-proc-title` (default yes).
    pub set_proc_title: bool,
    /// `lazyfree-lazy-eviction` (default no).
    pub lazyfree_lazy_eviction: bool,
    /// `lazyfree-lazy-expire` (default no).
    pub lazyfree_lazy_expire: bool,
    /// `lazyfree-lazy-server-del` (default no).
    pub lazyfree_lazy_server_del: bool,
    /// `lazyfree-lazy-user-del` (default no).
    pub lazyfree_lazy_user_del: bool,
    /// `lazyfree-lazy-user-flush` (default no).
    pub lazyfree_lazy_user_flush: bool,
    /// `io-threads`, 1..=128 (default 1).
    pub io_threads: u32,
    /// `io-threads-do-reads` (default no).
    pub io_threads_do_reads: bool,

    /// The configuration file, absolute, for CONFIG REWRITE.
    source_path: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        const MB: u64 = 1024 * 1024;
        Config {
            port: 6379,
            tls_port: 0,
            tls_cert_file: String::new(),
            tls_key_file: String::new(),
            tls_auth_clients: "no".to_owned(),
            bind: vec!["127.0.0.1".to_owned()],
            protected_mode: true,
            tcp_backlog: 511,
            tcp_keepalive_seconds: 300,
            timeout_seconds: 0,
            maxclients: 10_000,
            requirepass: None,
            proto_max_bulk_len_bytes: 512 * MB,
            client_query_buffer_limit_bytes: 1024 * MB,
            client_output_buffer_limit: OutputBufferLimits::default(),
            databases: crate::engine::DEFAULT_DATABASES,
            shards: 0,
            workers: 0,
            pin_workers: true,
            hz: 10,
            maxmemory_bytes: 0,
            maxmemory_policy: MaxmemoryPolicy::default(),
            maxmemory_samples: 5,
            lfu_log_factor: 10,
            lfu_decay_time_minutes: 1,
            appendonly: false,
            appendfsync: AppendFsync::default(),
            appendfilename: "appendonly.aof".to_owned(),
            appenddirname: "appendonlydir".to_owned(),
            dir: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
            dbfilename: "dump.rdb".to_owned(),
            save: Vec::new(),
            aof_load_truncated: true,
            auto_aof_rewrite_percentage: 100,
            auto_aof_rewrite_min_size_bytes: 64 * MB,
            rdbcompression: true,
            rdbchecksum: true,
            stop_writes_on_bgsave_error: true,
            loglevel: LogLevel::default(),
            logfile: String::new(),
            slowlog_log_slower_than_us: 10_000,
            slowlog_max_len: 128,
            latency_monitor_threshold_ms: 0,
            latency_tracking: true,
            latency_tracking_info_percentiles: vec![50.0, 99.0, 99.9],
            daemonize: false,
            pidfile: String::new(),
            rename_command: Vec::new(),
            users: Vec::new(),
            supervised: Supervised::default(),
            always_show_logo: false,
            set_proc_title: true,
            lazyfree_lazy_eviction: false,
            lazyfree_lazy_expire: false,
            lazyfree_lazy_server_del: false,
            lazyfree_lazy_user_del: false,
            lazyfree_lazy_user_flush: false,
            io_threads: 1,
            io_threads_do_reads: false,
            source_path: None,
        }
    }
}

impl Config {
    /// The engine's memory limit from `maxmemory`, `maxmemory-policy`, `maxmemory-samples`,
    /// `lfu-log-factor` and `lfu-decay-time`.
    pub fn memory_limit(&self) -> crate::engine::MemoryLimit {
        crate::engine::MemoryLimit {
            maxmemory_bytes: self.maxmemory_bytes,
            policy: self.maxmemory_policy.engine_policy(),
            samples: self.maxmemory_samples,
            lfu_log_factor: self.lfu_log_factor,
            lfu_decay_minutes: self.lfu_decay_time_minutes,
        }
    }

    /// Builds the configuration from the server's arguments, *without* the program name
    /// (`std::env::args().skip(1)`), as `redis-server` reads them: an optional first argument
    /// not starting with `-` is the configuration file; then `--name value [value ...]`
    /// flags, applied after the file. `--help` and `--version` are the binary's business.
    pub fn from_args(args: impl IntoIterator<Item = String>) -> Result<Config, ConfigError> {
        let args: Vec<String> = args.into_iter().collect();
        let (file, flags) = match args.split_first() {
            Some((first, rest)) if !first.starts_with('-') => (Some(first), rest),
            _ => (None, args.as_slice()),
        };
        let mut config = Config::default();
        let mut loader = Loader::new(&mut config);
        if let Some(file) = file {
            loader.load_file(Path::new(file))?;
        }
        let lines = flags_to_lines(flags);
        loader.load_lines(lines.iter().map(Vec::as_slice), &ConfigOrigin::CommandLine)?;
        config.source_path = file.map(|file| absolute(Path::new(file)));
        Ok(config)
    }

    /// Builds the configuration from one file (defaults for everything it does not set).
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let mut config = Config::default();
        Loader::new(&mut config).load_file(path)?;
        config.source_path = Some(absolute(path));
        Ok(config)
    }

    /// Builds the configuration from a file's text, as [`Config::from_file`] does with the
    /// file at `path` (which names it in errors and becomes [`Config::source_path`]; nothing
    /// is read from it). `include` lines still read their files from disk.
    pub fn from_text(text: &[u8], path: &Path) -> Result<Config, ConfigError> {
        let mut config = Config::default();
        Loader::new(&mut config).load_text(text, &ConfigOrigin::File(path.to_path_buf()))?;
        config.source_path = Some(absolute(path));
        Ok(config)
    }

    /// The configuration file this was loaded from (absolute), if any.
    pub fn source_path(&self) -> Option<&Path> {
        self.source_path.as_deref()
    }

    /// CONFIG GET for one pattern: `(name, value)` pairs in table order, values rendered as
    /// Redis renders them. A pattern without `*`, `?` or `[` is a case-insensitive exact
    /// lookup and, as in Redis 7.0, the reply repeats the name as given; otherwise it is a
    /// case-insensitive glob over the names. Unknown names give nothing.
    pub fn get(&self, pattern: &[u8]) -> Vec<(String, String)> {
        if !pattern.iter().any(|byte| matches!(byte, b'*' | b'?' | b'[')) {
            let name = String::from_utf8_lossy(pattern).into_owned();
            return lookup(pattern).map(|spec| vec![(name, spec.render(self))]).unwrap_or_default();
        }
        // Option names are lowercase, so lowering the pattern makes the match nocase.
        let pattern = pattern.to_ascii_lowercase();
        OPTIONS
            .iter()
            .filter(|spec| glob::matches(&pattern, spec.name.as_bytes()))
            .map(|spec| (spec.name.to_owned(), spec.render(self)))
            .collect()
    }

    /// CONFIG GET with several patterns (Redis 7): each option at most once, in the order
    /// first matched.
    pub fn get_many(&self, patterns: &[&[u8]]) -> Vec<(String, String)> {
        let mut seen = Vec::new();
        let mut reply = Vec::new();
        for pattern in patterns {
            for (name, value) in self.get(pattern) {
                let canonical = lookup(name.as_bytes()).map_or("", |spec| spec.name);
                if !seen.contains(&canonical) {
                    seen.push(canonical);
                    reply.push((name, value));
                }
            }
        }
        reply
    }

    /// CONFIG SET of one option; see [`Config::set_many`].
    pub fn set(&mut self, name: &[u8], value: &[u8]) -> Result<(), String> {
        self.set_many(&[(name, value)])
    }

    /// CONFIG SET with Redis 7's all-or-nothing semantics: every name is looked up and
    /// checked (unknown, immutable, protected, duplicate) before any value is parsed, then
    /// the values are applied to a copy that replaces `self` only if all succeed.
    ///
    /// The error is Redis's full reply line without the leading `-`, e.g.
    /// `ERR CONFIG SET failed (possibly related to argument 'port') - argument couldn't be
    /// parsed into an integer`. Applying a change (rebinding a port, resizing a limit) is the
    /// server's part: it compares the old and new configurations.
    pub fn set_many(&mut self, pairs: &[(&[u8], &[u8])]) -> Result<(), String> {
        let failed = |name: &str, reason: &str| {
            format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {reason}")
        };
        let mut specs: Vec<&table::OptionSpec> = Vec::with_capacity(pairs.len());
        for &(name, _) in pairs {
            let given = String::from_utf8_lossy(name);
            let Some(spec) = lookup(name) else {
                return Err(format!(
                    "ERR Unknown option or number of arguments for CONFIG SET - '{given}'"
                ));
            };
            match spec.access {
                Access::Immutable => return Err(failed(&given, "can't set immutable config")),
                Access::Protected => return Err(failed(&given, "can't set protected config")),
                Access::Mutable => {}
            }
            if specs.iter().any(|seen| std::ptr::eq(*seen, spec)) {
                return Err(failed(&given, "duplicate parameter"));
            }
            specs.push(spec);
        }
        let mut candidate = self.clone();
        for (spec, &(_, value)) in specs.iter().zip(pairs) {
            let args = config_set_args(spec.multi_arg(), value);
            spec.apply(&mut candidate, &args, Mode::ConfigSet)
                .map_err(|reason| failed(spec.name, &reason))?;
        }
        *self = candidate;
        Ok(())
    }

    /// CONFIG REWRITE into `path`: comments and unrelated lines are preserved, changed
    /// options are updated in place, new ones appended; the file is replaced atomically
    /// (temporary file, fsync, rename, directory fsync).
    pub fn rewrite(&self, path: &Path) -> std::io::Result<()> {
        let old = rewrite::read_existing(path)?;
        crate::persist::aof::replace_atomically(path, &self.rewritten(&old))
    }

    /// The text CONFIG REWRITE writes over a file holding `old` (empty: no file yet).
    pub fn rewritten(&self, old: &[u8]) -> Vec<u8> {
        rewrite::rewrite_content(self, old)
    }

    /// CONFIG REWRITE of [`Config::source_path`], with Redis's error replies (without the
    /// leading `-`).
    pub fn rewrite_source(&self) -> Result<(), String> {
        let path = self
            .source_path()
            .ok_or_else(|| "ERR The server is running without a config file".to_owned())?;
        self.rewrite(path).map_err(|error| {
            format!("ERR Rewriting config file: {}", special::os_error_text(error))
        })
    }
}

/// CONFIG SET hands multi-argument options their value split on single spaces (Redis's
/// `sdssplitlen(value, " ")`, so `"a  b"` has an empty middle argument and `""` none).
fn config_set_args(multi_arg: bool, value: &[u8]) -> Vec<Vec<u8>> {
    match (multi_arg, value.is_empty()) {
        (false, _) => vec![value.to_vec()],
        (true, true) => Vec::new(),
        (true, false) => value.split(|&byte| byte == b' ').map(<[u8]>::to_vec).collect(),
    }
}

/// An absolute form of `path` without resolving symlinks (Redis's `getAbsolutePath`), so
/// CONFIG REWRITE finds the file after the server changes directory.
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}
