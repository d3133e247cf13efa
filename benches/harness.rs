//! The harness issue's workloads through `corekv-bench`'s HDR harness, on several targets in
//! one run: the embedded engine in this process, and a `corekv-server` on a loopback port in
//! each persistence mode (memory-only, and AOF with `appendfsync everysec` and `always`). The
//! rows of a workload locate a loss: the server against the engine is what the protocol, the
//! sockets and the client sharing the machine add; a persistent mode against memory-only is
//! what durability adds.
//!
//! Workloads ([`Preset`], the same as `corekv-bench --preset NAME` against any server):
//! single-key writes (`set`), batched writes (`mset-1000`: one MSET of 1,000 keys;
//! `set-pipeline-1000`: SETs 1,000 deep per connection, server only, as a pipeline is a
//! property of a connection), random point reads (`get`, uniform over preloaded keys), and
//! transactions (`multi-10`: MULTI, 10 SETs, EXEC). 100,000 keys of 16 bytes, 32-byte values.
//! Closed loop: the embedded target runs one stream per core; the server gets
//! [`CONNECTIONS`] connections from one client thread, so the server's workers keep the other
//! core. Latency is per operation (an MSET of 1,000 keys is one operation), from its send.
//!
//! Run: `cargo bench --bench harness` (about 50 s: 19 runs of 0.5 s warm-up and 2 s measured).
//! Without `--bench` (as `cargo test` runs it: `test = true` in Cargo.toml) each run is 0.2 s,
//! a smoke test that fails on any error reply, a dead server or a run that measured nothing.
//!
//! Environment:
//! - `HARNESS_SECONDS`: measured seconds per run (default 2).
//! - `HARNESS_TARGETS`: `embedded`, `server` or both, comma-separated (default both).
//! - `HARNESS_MODES`: the server's modes, comma-separated, from `memory`, `aof-no`,
//!   `aof-everysec`, `aof-always` (default `memory,aof-everysec,aof-always`). One server per
//!   mode, each in its own directory; AOF modes add `--appendonly yes --appendfsync X`.
//! - `HARNESS_JSON_DIR`: also write each run's `corekv-bench` JSON report there
//!   (`<target>-<preset>.json`, labelled `embedded`, `corekv-server` (memory-only) and
//!   `corekv-server+aof-always` and so on), for `corekv-bench chart`.
//! - `COREKV_BIN`: the server binary (default: the `corekv-server` cargo built beside this
//!   bench); `COREKV_ARGS`: extra server flags, split on spaces (`--workers 1`).
//!
//! Each server binds 127.0.0.1 on a free port, runs in a private temp dir (its stderr goes to
//! `server.log` there, shown if it fails; its AOF is written there), and is killed (by its
//! `Child` handle) when the bench ends, fails or panics.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use corekv::bench::{self, Load, Preset, Report, Stop, Target, Workload};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Connections to the server.
const CONNECTIONS: usize = 4;
/// Measured seconds per run under `cargo bench`, and in smoke mode.
const BENCH_SECONDS: f64 = 2.0;
const SMOKE_SECONDS: f64 = 0.2;
/// The longest `HARNESS_SECONDS` accepted (a bound on the bench's run time).
const MAX_SECONDS: f64 = 600.0;
/// How long the server may take to answer PING after it starts.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// Lines of the server's log shown when it fails.
const LOG_TAIL_LINES: usize = 20;

/// A `corekv-server` child process, killed when dropped, and its private directory.
struct Server {
    child: Child,
    port: u16,
    directory: PathBuf,
}

impl Server {
    fn start(binary: &Path, mode: Mode, extra: &[String]) -> Result<Server, String> {
        let directory = std::env::temp_dir().join(format!(
            "corekv-harness-{}-{}",
            std::process::id(),
            mode.name()
        ));
        std::fs::create_dir_all(&directory)
            .map_err(|error| format!("cannot create {}: {error}", directory.display()))?;
        // Bound then released: another process could take the port in between, which shows
        // as a start-up failure naming the port, not as a wrong measurement.
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map_err(|error| format!("no free loopback port: {error}"))?
            .port();
        let log_path = directory.join("server.log");
        let log = std::fs::File::create(&log_path)
            .map_err(|error| format!("cannot create {}: {error}", log_path.display()))?;
        let child = Command::new(binary)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", ""])
            .args(mode.flags())
            .args(extra)
            .current_dir(&directory)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|error| format!("cannot start {}: {error}", binary.display()))?;
        let mut server = Server { child, port, directory };
        match server.wait_ready() {
            Ok(()) => Ok(server),
            Err(error) => Err(format!("{error}\n{}", server.log_tail())),
        }
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("the server exited during start-up: {status}"));
            }
            if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                let mut reply = [0u8; 7];
                if stream.write_all(b"PING\r\n").is_ok()
                    && stream.read_exact(&mut reply).is_ok()
                    && &reply == b"+PONG\r\n"
                {
                    return Ok(());
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(format!("the server did not answer PING on 127.0.0.1:{} in time", self.port))
    }

    /// The end of the server's log (its stderr), for a failure message.
    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.directory.join("server.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        let tail = lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n");
        format!("server log (last {LOG_TAIL_LINES} lines):\n{tail}")
    }

    /// Fails if the server has exited (a crash under load must not pass as a slow run).
    fn check_alive(&mut self) -> Result<(), String> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => {
                Err(format!("the server died during the run: {status}\n{}", self.log_tail()))
            }
            Err(error) => Err(format!("cannot check the server: {error}")),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.directory);
    }
}

/// The server binary: `COREKV_BIN`, else the `corekv-server` cargo built with this bench
/// (cargo builds a package's binaries before its benches and tests, and names the path in
/// `CARGO_BIN_EXE_<name>`).
fn server_binary() -> Result<PathBuf, String> {
    let binary = match std::env::var_os("COREKV_BIN") {
        Some(path) => PathBuf::from(path),
        None => PathBuf::from(env!("CARGO_BIN_EXE_corekv-server")),
    };
    if binary.is_file() {
        Ok(binary)
    } else {
        Err(format!(
            "server binary {} not found: run through `cargo bench --bench harness` (which \
             builds it), build it with `cargo build --release --bin corekv-server`, or set \
             COREKV_BIN=/path/to/corekv-server",
            binary.display()
        ))
    }
}

/// A server's persistence mode.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Memory,
    Aof(&'static str),
}

impl Mode {
    const NAMES: [&'static str; 4] = ["memory", "aof-no", "aof-everysec", "aof-always"];

    fn parse(name: &str) -> Option<Mode> {
        match name {
            "memory" => Some(Mode::Memory),
            "aof-no" => Some(Mode::Aof("no")),
            "aof-everysec" => Some(Mode::Aof("everysec")),
            "aof-always" => Some(Mode::Aof("always")),
            _ => None,
        }
    }

    fn name(self) -> String {
        match self {
            Mode::Memory => "memory".to_owned(),
            Mode::Aof(fsync) => format!("aof-{fsync}"),
        }
    }

    fn flags(self) -> Vec<&'static str> {
        match self {
            Mode::Memory => vec!["--appendonly", "no"],
            Mode::Aof(fsync) => vec!["--appendonly", "yes", "--appendfsync", fsync],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Which {
    Embedded,
    Server,
}

/// One row's target: the embedded engine, or the server started in mode `.0`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Row {
    Embedded,
    Server(usize),
}

struct Settings {
    server_label: String,
    seconds: f64,
    warmup: Duration,
    targets: Vec<Which>,
    modes: Vec<Mode>,
    json_dir: Option<PathBuf>,
    server_args: Vec<String>,
}

impl Settings {
    /// The row's name in the table, the JSON reports and their file names: `embedded`, or the
    /// server binary's file name (`corekv-server`; `redis-server` under
    /// `COREKV_BIN=/usr/bin/redis-server`), with `+aof-always` and so on for a persistent
    /// mode.
    fn label(&self, row: Row) -> String {
        match row {
            Row::Embedded => "embedded".to_owned(),
            Row::Server(index) => match self.modes[index] {
                Mode::Memory => self.server_label.clone(),
                mode => format!("{}+{}", self.server_label, mode.name()),
            },
        }
    }
}

fn settings() -> Result<Settings, String> {
    let bench_mode = std::env::args().any(|arg| arg == "--bench");
    let seconds = match std::env::var("HARNESS_SECONDS") {
        Ok(text) => text
            .parse::<f64>()
            .ok()
            .filter(|seconds| *seconds > 0.0 && *seconds <= MAX_SECONDS)
            .ok_or(format!("HARNESS_SECONDS={text:?}: expected seconds in (0, {MAX_SECONDS}]"))?,
        Err(_) if bench_mode => BENCH_SECONDS,
        Err(_) => SMOKE_SECONDS,
    };
    let warmup = Duration::from_secs_f64((seconds / 4.0).min(2.0));
    let targets = match std::env::var("HARNESS_TARGETS") {
        Ok(text) => text
            .split(',')
            .map(|name| match name.trim() {
                "embedded" => Ok(Which::Embedded),
                "server" => Ok(Which::Server),
                other => Err(format!("HARNESS_TARGETS: unknown target {other:?}")),
            })
            .collect::<Result<Vec<_>, _>>()?,
        Err(_) => vec![Which::Embedded, Which::Server],
    };
    let modes = match std::env::var("HARNESS_MODES") {
        Ok(text) => text
            .split(',')
            .map(|name| {
                Mode::parse(name.trim()).ok_or(format!(
                    "HARNESS_MODES: unknown mode {name:?} (expected one of {})",
                    Mode::NAMES.join(", ")
                ))
            })
            .collect::<Result<Vec<_>, _>>()?,
        Err(_) => vec![Mode::Memory, Mode::Aof("everysec"), Mode::Aof("always")],
    };
    let json_dir = std::env::var_os("HARNESS_JSON_DIR").map(PathBuf::from);
    let server_args = std::env::var("COREKV_ARGS")
        .map(|text| text.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default();
    let server_label = std::env::var_os("COREKV_BIN")
        .and_then(|path| Some(Path::new(&path).file_name()?.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "corekv-server".to_owned());
    Ok(Settings { server_label, seconds, warmup, targets, modes, json_dir, server_args })
}

/// The workload and load of `preset` on `row` (see the module doc).
fn configure(preset: Preset, row: Row, settings: &Settings) -> (Workload, Load) {
    let mut workload =
        Workload { keys: 100_000, key_size: 16, value_size: 32, ..Workload::default() };
    let mut load = Load {
        connections: CONNECTIONS,
        threads: match row {
            Row::Embedded => std::thread::available_parallelism().map_or(1, usize::from),
            Row::Server(_) => 1,
        },
        stop: Stop::Duration(Duration::from_secs_f64(settings.seconds)),
        warmup: settings.warmup,
        ..Load::default()
    };
    preset.apply(&mut workload, &mut load);
    (workload, load)
}

/// Keys written or read per operation, for the keys/s column.
fn keys_per_op(preset: Preset) -> f64 {
    match preset {
        Preset::Mset1000 => bench::preset::MSET_KEYS as f64,
        Preset::Multi10 => bench::preset::MULTI_SETS as f64,
        Preset::Set | Preset::SetPipeline1000 | Preset::Get => 1.0,
    }
}

fn run() -> Result<(), String> {
    let settings = settings()?;
    let mut servers = Vec::new();
    let mut rows = Vec::new();
    if settings.targets.contains(&Which::Embedded) {
        rows.push(Row::Embedded);
    }
    if settings.targets.contains(&Which::Server) {
        let binary = server_binary()?;
        for (index, &mode) in settings.modes.iter().enumerate() {
            servers.push(Server::start(&binary, mode, &settings.server_args)?);
            rows.push(Row::Server(index));
        }
    }
    if let Some(directory) = &settings.json_dir {
        std::fs::create_dir_all(directory)
            .map_err(|error| format!("cannot create {}: {error}", directory.display()))?;
    }
    println!(
        "harness: {} s measured + {:.2} s warm-up per run, closed loop; servers: {} connections \
         from 1 thread, on 127.0.0.1",
        settings.seconds,
        settings.warmup.as_secs_f64(),
        CONNECTIONS,
    );
    let width = rows.iter().map(|&row| settings.label(row).len()).max().unwrap_or(0).max(14);
    println!(
        "{:<18} {:<width$} {:>12} {:>12} {:>10} {:>10} {:>10} {:>8}",
        "workload", "target", "ops/s", "keys/s", "p50 us", "p99 us", "p99.9 us", "errors"
    );
    let mut failures = 0u64;
    for preset in Preset::ALL {
        for &row in &rows {
            if row == Row::Embedded && !preset.embeddable() {
                continue;
            }
            let label = settings.label(row);
            let target = match row {
                Row::Embedded => Target::Embedded,
                Row::Server(index) => format!("resp://127.0.0.1:{}", servers[index].port)
                    .parse()
                    .map_err(|error| format!("{error}"))?,
            };
            let (workload, load) = configure(preset, row, &settings);
            let result = bench::run(&target, &workload, &load)
                .map_err(|error| format!("{preset} on {label}: {error}"))?;
            if let Row::Server(index) = row {
                servers[index].check_alive()?;
            }
            let command_line = vec![format!("cargo bench --bench harness ({preset})")];
            let mut report = Report::new(&target, &workload, &load, &result, command_line);
            report.label = Some(label.clone());
            let overall = &report.results.overall;
            let latency = &overall.latency_us;
            println!(
                "{:<18} {:<width$} {:>12.0} {:>12.0} {:>10.1} {:>10.1} {:>10.1} {:>8}",
                preset.name(),
                label,
                overall.ops_per_s,
                overall.ops_per_s * keys_per_op(preset),
                latency.p50,
                latency.p99,
                latency.p99_9,
                overall.errors
            );
            if let Some(first) = report.results.commands.iter().find_map(|c| c.first_error.clone())
            {
                println!("  first error: {first}");
            }
            failures += overall.errors;
            if let Some(directory) = &settings.json_dir {
                let name = format!("{label}-{}.json", preset.name());
                report.write_json(&directory.join(name)).map_err(|error| error.to_string())?;
            }
        }
    }
    if failures > 0 {
        return Err(format!("{failures} operations were answered with an error"));
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("harness: {error}");
            ExitCode::FAILURE
        }
    }
}
