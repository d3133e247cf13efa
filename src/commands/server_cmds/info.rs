//! INFO [section ...]: Redis 7.0's sections, field names and order.
//!
//! Fields that describe machinery corekv does not have (replication backlog, forks, active
//! defragmentation, Lua) are left out rather than reported as made-up zeros; fields clients
//! parse (`redis_version`, `role`, `used_memory`, `connected_clients`, `db0:keys=...`) are
//! all there. Counters are the sum of every worker's [`WorkerStats`].

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use parking_lot::Mutex;

use crate::commands::Ctx;
use crate::commands::args::is;
use crate::engine::Access;
use crate::server::Shared;
use crate::server::stats::{Histogram, WorkerStats, total};

/// Every section, in the order INFO writes them.
const SECTIONS: [&str; 13] = [
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "commandstats",
    "errorstats",
    "latencystats",
    "cluster",
    "keyspace",
];

/// What `INFO` and `INFO default` show (Redis's default set).
const DEFAULT_SECTIONS: [&str; 11] = [
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "errorstats",
    "cluster",
    "keyspace",
];

pub(super) fn info<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let wanted = selected_sections(&args[1..]);
    let text = render(ctx.shared, &wanted);
    ctx.reply().verbatim(*b"txt", text.as_bytes());
}

/// The sections the arguments ask for (unknown names are ignored, as Redis does).
fn selected_sections(names: &[&[u8]]) -> [bool; SECTIONS.len()] {
    let mut wanted = [false; SECTIONS.len()];
    let mut select = |list: &[&str]| {
        for (flag, section) in wanted.iter_mut().zip(SECTIONS) {
            *flag |= list.contains(&section);
        }
    };
    if names.is_empty() {
        select(&DEFAULT_SECTIONS);
    }
    for name in names {
        if is(name, "all") || is(name, "everything") {
            select(&SECTIONS);
        } else if is(name, "default") {
            select(&DEFAULT_SECTIONS);
        } else if let Some(section) = SECTIONS.iter().find(|section| is(name, section)) {
            select(&[section]);
        }
    }
    wanted
}

/// The INFO text: sections separated by an empty line, every line ending in CRLF.
pub(super) fn render(shared: &Shared, wanted: &[bool; SECTIONS.len()]) -> String {
    let mut out = String::new();
    for (section, _) in SECTIONS.iter().zip(wanted).filter(|(_, wanted)| **wanted) {
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        let mut lines = Lines(&mut out);
        match *section {
            "server" => server(shared, &mut lines),
            "clients" => clients(shared, &mut lines),
            "memory" => memory(shared, &mut lines),
            "persistence" => persistence(shared, &mut lines),
            "stats" => stats(shared, &mut lines),
            "replication" => replication(&mut lines),
            "cpu" => cpu(&mut lines),
            "modules" => lines.header("Modules"),
            "commandstats" => commandstats(shared, &mut lines),
            "errorstats" => errorstats(shared, &mut lines),
            "latencystats" => latencystats(shared, &mut lines),
            "cluster" => {
                lines.header("Cluster");
                lines.field("cluster_enabled", 0);
            }
            _ => keyspace(shared, &mut lines),
        }
    }
    out
}

/// Appends `name:value\r\n` lines.
struct Lines<'a>(&'a mut String);

impl Lines<'_> {
    fn header(&mut self, title: &str) {
        let _ = write!(self.0, "# {title}\r\n");
    }

    fn field(&mut self, name: &str, value: impl std::fmt::Display) {
        let _ = write!(self.0, "{name}:{value}\r\n");
    }
}

fn config_value(shared: &Shared, name: &str) -> String {
    shared.config.read().get(name.as_bytes()).into_iter().next().map(|(_, v)| v).unwrap_or_default()
}

fn server(shared: &Shared, lines: &mut Lines<'_>) {
    let uptime_seconds = shared.started.elapsed().as_secs();
    let hz = config_value(shared, "hz");
    let hz = if hz.is_empty() { "10".to_string() } else { hz };
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let config_file = shared
        .config
        .read()
        .source_path()
        .map(|p| p.display().to_string())
        .or_else(|| shared.config_file.as_ref().map(|p| p.display().to_string()))
        .unwrap_or_default();
    lines.header("Server");
    lines.field("redis_version", crate::server::REDIS_COMPAT_VERSION);
    lines.field("corekv_version", env!("CARGO_PKG_VERSION"));
    lines.field("redis_git_sha1", "00000000");
    lines.field("redis_git_dirty", 0);
    lines.field("redis_build_id", 0);
    lines.field("redis_mode", "standalone");
    lines.field("os", os_name());
    lines.field("arch_bits", usize::BITS);
    lines.field("monotonic_clock", "POSIX clock_gettime");
    lines.field("multiplexing_api", "epoll");
    lines.field("atomicvar_api", "c11-builtin");
    // Redis prints 0.0.0 when it was not built by GCC.
    lines.field("gcc_version", "0.0.0");
    lines.field("process_id", std::process::id());
    lines.field("process_supervised", "no");
    lines.field("run_id", &shared.run_id);
    lines.field("tcp_port", shared.port);
    lines.field("server_time_usec", now.as_micros());
    lines.field("uptime_in_seconds", uptime_seconds);
    lines.field("uptime_in_days", uptime_seconds / 86_400);
    lines.field("hz", &hz);
    lines.field("configured_hz", &hz);
    // Redis's LRU clock: seconds, 24 bits.
    lines.field("lru_clock", now.as_secs() & ((1 << 24) - 1));
    let executable = std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default();
    lines.field("executable", executable);
    lines.field("config_file", config_file);
    lines.field("io_threads_active", 0);
}

/// `uname -s -r -m`, as Redis's `os` field.
fn os_name() -> String {
    // SAFETY: `utsname` is plain old data; all-zero bytes are a valid value.
    let mut name: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: `name` is a valid, writable utsname.
    if unsafe { libc::uname(&mut name) } != 0 {
        return std::env::consts::OS.to_string();
    }
    let field = |chars: &[libc::c_char]| {
        let bytes: Vec<u8> = chars.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    format!("{} {} {}", field(&name.sysname), field(&name.release), field(&name.machine))
}

fn clients(shared: &Shared, lines: &mut Lines<'_>) {
    let (mut max_input, mut max_output) = (0, 0);
    for client in shared.clients.lock().values() {
        // Relaxed: informational figures.
        max_input = max_input.max(client.qbuf.load(Ordering::Relaxed));
        max_output = max_output.max(client.obuf.load(Ordering::Relaxed));
    }
    lines.header("Clients");
    lines.field("connected_clients", total(&shared.stats, |s| &s.connected_clients));
    lines.field("cluster_connections", 0);
    lines.field("maxclients", config_value(shared, "maxclients"));
    lines.field("client_recent_max_input_buffer", max_input);
    lines.field("client_recent_max_output_buffer", max_output);
    lines.field("blocked_clients", total(&shared.stats, |s| &s.blocked_clients));
    lines.field("tracking_clients", 0);
}

/// The highest `used_memory` INFO has seen (Redis samples it in its cron; corekv samples it
/// whenever INFO memory is computed, so a short spike between two INFO calls is missed).
static USED_MEMORY_PEAK: AtomicU64 = AtomicU64::new(0);

/// Records `used` in the peak and returns the peak (INFO memory, MEMORY STATS).
pub(super) fn used_memory_peak(used: u64) -> u64 {
    // Relaxed: a monotonic maximum, read only here.
    USED_MEMORY_PEAK.fetch_max(used, Ordering::Relaxed).max(used)
}

/// Redis's `bytesToHuman`.
pub(super) fn human(bytes: u64) -> String {
    const UNITS: [(u64, &str); 5] =
        [(1 << 50, "P"), (1 << 40, "T"), (1 << 30, "G"), (1 << 20, "M"), (1 << 10, "K")];
    for (size, unit) in UNITS {
        if bytes >= size {
            return format!("{:.2}{unit}", bytes as f64 / size as f64);
        }
    }
    format!("{bytes}B")
}

fn page_size() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if size > 0 { size as u64 } else { 4096 }
}

/// Resident set size from `/proc/self/statm` (its second field, in pages).
pub(super) fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|text| text.split_whitespace().nth(1).and_then(|pages| pages.parse().ok()))
        .map_or(0, |pages: u64| pages * page_size())
}

fn total_system_memory() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let pages = unsafe { libc::sysconf(libc::_SC_PHYS_PAGES) };
    if pages > 0 { pages as u64 * page_size() } else { 0 }
}

fn memory(shared: &Shared, lines: &mut Lines<'_>) {
    // The engine's own accounting of keys, values and their per-key overhead. mimalloc keeps
    // no count of allocated bytes in release builds (only committed pages, which track RSS),
    // so the engine's exact figure stands for `used_memory` as well as the dataset.
    let used = shared.engine.used_memory_bytes();
    let peak = used_memory_peak(used);
    let rss = rss_bytes();
    let system = total_system_memory();
    let maxmemory: u64 = config_value(shared, "maxmemory").parse().unwrap_or(0);
    let policy = config_value(shared, "maxmemory-policy");
    lines.header("Memory");
    lines.field("used_memory", used);
    lines.field("used_memory_human", human(used));
    lines.field("used_memory_rss", rss);
    lines.field("used_memory_rss_human", human(rss));
    lines.field("used_memory_peak", peak);
    lines.field("used_memory_peak_human", human(peak));
    let peak_percent = if peak > 0 { used as f64 * 100.0 / peak as f64 } else { 100.0 };
    lines.field("used_memory_peak_perc", format!("{peak_percent:.2}%"));
    lines.field("used_memory_dataset", used);
    lines.field("total_system_memory", system);
    lines.field("total_system_memory_human", human(system));
    lines.field("maxmemory", maxmemory);
    lines.field("maxmemory_human", human(maxmemory));
    lines.field("maxmemory_policy", if policy.is_empty() { "noeviction" } else { &policy });
    let ratio = if used > 0 { rss as f64 / used as f64 } else { 0.0 };
    lines.field("mem_fragmentation_ratio", format!("{ratio:.2}"));
    lines.field("mem_fragmentation_bytes", rss as i64 - used as i64);
    lines.field("mem_allocator", "mimalloc");
}

fn persistence(shared: &Shared, lines: &mut Lines<'_>) {
    let snapshots = &shared.snapshots;
    let changes = crate::server::persistence::write_count(shared)
        .saturating_sub(snapshots.changes_at_last_save());
    lines.header("Persistence");
    lines.field("loading", 0);
    lines.field("async_loading", 0);
    lines.field("rdb_changes_since_last_save", changes);
    lines.field("rdb_bgsave_in_progress", u8::from(snapshots.running()));
    // Relaxed: a timestamp read on its own.
    lines.field("rdb_last_save_time", shared.last_save.load(Ordering::Relaxed));
    lines.field("rdb_last_bgsave_status", if snapshots.last_ok() { "ok" } else { "err" });
    lines.field("rdb_last_bgsave_time_sec", snapshots.last_duration_s());
    lines.field("rdb_current_bgsave_time_sec", snapshots.current_duration_s());
    lines.field("rdb_saves", snapshots.saves());
    let aof = shared.aof.get();
    lines.field("aof_enabled", u8::from(aof.is_some()));
    let rewrites = aof.map(|aof| &aof.rewrites);
    // Relaxed: INFO's readings of independent counters.
    let rewriting = rewrites.is_some_and(|r| r.in_progress.load(Ordering::Relaxed));
    lines.field("aof_rewrite_in_progress", u8::from(rewriting));
    lines.field("aof_rewrite_scheduled", 0);
    let last = rewrites.map_or(u64::MAX, |r| r.last_seconds.load(Ordering::Relaxed));
    lines.field("aof_last_rewrite_time_sec", if last == u64::MAX { -1 } else { last as i64 });
    let current = if rewriting { snapshots.current_duration_s() } else { -1 };
    lines.field("aof_current_rewrite_time_sec", current);
    let failed = rewrites.is_some_and(|r| r.last_failed.load(Ordering::Relaxed));
    lines.field("aof_last_bgrewrite_status", if failed { "err" } else { "ok" });
    lines.field("aof_rewrites", rewrites.map_or(0, |r| r.done.load(Ordering::Relaxed)));
    lines.field("aof_rewrites_consecutive_failures", u8::from(failed));
    let ok = aof.is_none_or(|aof| aof.write_ok());
    lines.field("aof_last_write_status", if ok { "ok" } else { "err" });
    if let Some(aof) = aof {
        lines.field("aof_current_size", aof.size());
        lines.field("aof_base_size", aof.rewrites.base_size.load(Ordering::Relaxed));
        lines.field("aof_pending_rewrite", 0);
        lines.field("aof_buffer_length", 0);
        lines.field("aof_pending_bio_fsync", u8::from(aof.pending_fsync()));
        lines.field("aof_delayed_fsync", aof.delayed_fsync());
        // corekv's own: how the writer reaches the disk, its fsyncs, and the last error.
        lines.field("corekv_aof_io", aof.backend());
        lines.field("corekv_aof_fsyncs", aof.fsyncs());
        if let Some(error) = aof.last_error().filter(|_| !ok) {
            lines.field("corekv_aof_last_error", error);
        }
    }
}

fn stats(shared: &Shared, lines: &mut Lines<'_>) {
    let rates = rates(shared);
    let sum = |counter: fn(&WorkerStats) -> &AtomicU64| total(&shared.stats, counter);
    lines.header("Stats");
    lines.field("total_connections_received", sum(|s| &s.connections_received));
    lines.field("total_commands_processed", sum(|s| &s.commands_processed));
    // Relaxed: the sampler's latest averages.
    lines.field("instantaneous_ops_per_sec", rates.ops_per_sec.load(Ordering::Relaxed));
    lines.field("total_net_input_bytes", sum(|s| &s.net_input_bytes));
    lines.field("total_net_output_bytes", sum(|s| &s.net_output_bytes));
    let kbps = |bytes_per_sec: &AtomicU64| {
        format!("{:.2}", bytes_per_sec.load(Ordering::Relaxed) as f64 / 1024.0)
    };
    lines.field("instantaneous_input_kbps", kbps(&rates.input_bytes_per_sec));
    lines.field("instantaneous_output_kbps", kbps(&rates.output_bytes_per_sec));
    lines.field("rejected_connections", sum(|s| &s.rejected_connections));
    // Keys a write replaced after their deadline are not counted (Redis counts them).
    lines.field("expired_keys", shared.engine.expired_keys());
    lines.field("evicted_keys", shared.engine.evicted_keys());
    lines.field("keyspace_hits", sum(|s| &s.keyspace_hits));
    lines.field("keyspace_misses", sum(|s| &s.keyspace_misses));
    lines.field("pubsub_channels", shared.pubsub.channels(None).len());
    lines.field("pubsub_patterns", shared.pubsub.numpat());
    lines.field("total_error_replies", sum(|s| &s.error_replies));
    lines.field(
        "client_query_buffer_limit_disconnections",
        sum(|s| &s.client_query_buffer_limit_disconnections),
    );
    lines.field(
        "client_output_buffer_limit_disconnections",
        sum(|s| &s.client_output_buffer_limit_disconnections),
    );
}

fn replication(lines: &mut Lines<'_>) {
    lines.header("Replication");
    lines.field("role", "master");
    lines.field("connected_slaves", 0);
    lines.field("master_failover_state", "no-failover");
    lines.field("master_repl_offset", 0);
    lines.field("repl_backlog_active", 0);
}

fn cpu(lines: &mut Lines<'_>) {
    let usage = |who| {
        // SAFETY: `rusage` is plain old data; all-zero bytes are a valid value.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `usage` is a valid, writable rusage.
        unsafe { libc::getrusage(who, &mut usage) };
        let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
        (seconds(usage.ru_stime), seconds(usage.ru_utime))
    };
    let (sys, user) = usage(libc::RUSAGE_SELF);
    let (sys_children, user_children) = usage(libc::RUSAGE_CHILDREN);
    lines.header("CPU");
    lines.field("used_cpu_sys", format!("{sys:.6}"));
    lines.field("used_cpu_user", format!("{user:.6}"));
    lines.field("used_cpu_sys_children", format!("{sys_children:.6}"));
    lines.field("used_cpu_user_children", format!("{user_children:.6}"));
}

/// A command's name as clients know it (after rename-command), or None when disabled.
fn visible_name(shared: &Shared, command: &crate::commands::Command) -> Option<String> {
    shared.commands.visible_name(command).map(|name| String::from_utf8_lossy(name).into_owned())
}

fn commandstats(shared: &Shared, lines: &mut Lines<'_>) {
    lines.header("Commandstats");
    for command in shared.commands.all() {
        let sum = |counter: fn(&crate::server::stats::CommandStats) -> &AtomicU64| -> u64 {
            // Relaxed: see stats' module docs.
            shared
                .stats
                .iter()
                .map(|s| counter(&s.commands[command.id]).load(Ordering::Relaxed))
                .sum()
        };
        let (calls, usec) = (sum(|c| &c.calls), sum(|c| &c.usec));
        let (rejected, failed) = (sum(|c| &c.rejected_calls), sum(|c| &c.failed_calls));
        if calls == 0 && rejected == 0 && failed == 0 {
            continue;
        }
        let Some(name) = visible_name(shared, command) else { continue };
        let per_call = if calls > 0 { usec as f64 / calls as f64 } else { 0.0 };
        lines.field(
            &format!("cmdstat_{name}"),
            format!(
                "calls={calls},usec={usec},usec_per_call={per_call:.2},\
                 rejected_calls={rejected},failed_calls={failed}"
            ),
        );
    }
}

fn errorstats(shared: &Shared, lines: &mut Lines<'_>) {
    let mut counts: std::collections::BTreeMap<String, u64> = Default::default();
    for stats in &shared.stats {
        for (prefix, count) in stats.errors.lock().iter() {
            *counts.entry(prefix.clone()).or_default() += count;
        }
    }
    lines.header("Errorstats");
    for (prefix, count) in counts {
        lines.field(&format!("errorstat_{prefix}"), format!("count={count}"));
    }
}

/// A command's latency histogram summed over the workers, or None when it never ran.
pub(super) fn command_latency(shared: &Shared, id: usize) -> Option<Vec<u64>> {
    let mut totals = Histogram::totals();
    let mut any = false;
    for stats in &shared.stats {
        if let Some(histogram) = stats.commands[id].latency.get() {
            histogram.add_to(&mut totals);
            any = true;
        }
    }
    (any && totals.iter().any(|&n| n > 0)).then_some(totals)
}

fn latencystats(shared: &Shared, lines: &mut Lines<'_>) {
    lines.header("Latencystats");
    for command in shared.commands.all() {
        let Some(totals) = command_latency(shared, command.id) else { continue };
        let Some(name) = visible_name(shared, command) else { continue };
        let usec = |percentile| Histogram::percentile(&totals, percentile) as f64 / 1000.0;
        lines.field(
            &format!("latency_percentiles_usec_{name}"),
            format!("p50={:.3},p99={:.3},p99.9={:.3}", usec(50.0), usec(99.0), usec(99.9)),
        );
    }
}

fn keyspace(shared: &Shared, lines: &mut Lines<'_>) {
    lines.header("Keyspace");
    for index in 0..shared.engine.databases() {
        let db = shared.engine.db(index);
        let keys = db.len();
        if keys > 0 {
            let expires = db.volatile_len();
            lines.field(&format!("db{index}"), format!("keys={keys},expires={expires},avg_ttl=0"));
        }
    }
}

/// Instantaneous rates, averaged over the last [`RATE_SAMPLES`] samples taken every
/// [`RATE_PERIOD`] (Redis's `trackInstantaneousMetric`: 16 samples, 100 ms apart).
#[derive(Debug, Default)]
struct Rates {
    ops_per_sec: AtomicU64,
    input_bytes_per_sec: AtomicU64,
    output_bytes_per_sec: AtomicU64,
}

const RATE_SAMPLES: usize = 16;
const RATE_PERIOD: Duration = Duration::from_millis(100);

/// One sampler per server (keyed by run id), started by its first INFO.
static SAMPLERS: Mutex<Vec<(String, Arc<Rates>)>> = Mutex::new(Vec::new());

fn rates(shared: &Shared) -> Arc<Rates> {
    let mut samplers = SAMPLERS.lock();
    if let Some((_, rates)) = samplers.iter().find(|(run_id, _)| *run_id == shared.run_id) {
        return rates.clone();
    }
    let rates = Arc::new(Rates::default());
    let stats: Vec<Weak<WorkerStats>> = shared.stats.iter().map(Arc::downgrade).collect();
    let run_id = shared.run_id.clone();
    let spawned = std::thread::Builder::new().name("corekv-info-rates".into()).spawn({
        let rates = rates.clone();
        let run_id = run_id.clone();
        move || sample_rates(&stats, &rates, &run_id)
    });
    if spawned.is_ok() {
        samplers.push((run_id, rates.clone()));
    }
    rates
}

/// Samples the counters until the server's stats are dropped.
fn sample_rates(stats: &[Weak<WorkerStats>], rates: &Rates, run_id: &str) {
    let mut history = [[0u64; 3]; RATE_SAMPLES];
    let mut next = 0;
    let mut last: Option<([u64; 3], std::time::Instant)> = None;
    loop {
        let live: Option<Vec<Arc<WorkerStats>>> = stats.iter().map(Weak::upgrade).collect();
        let Some(live) = live else { break };
        let now = [
            total(&live, |s| &s.commands_processed),
            total(&live, |s| &s.net_input_bytes),
            total(&live, |s| &s.net_output_bytes),
        ];
        drop(live);
        let at = std::time::Instant::now();
        if let Some((before, then)) = last {
            let millis = at.duration_since(then).as_millis().max(1) as u64;
            for metric in 0..3 {
                history[next][metric] = now[metric].saturating_sub(before[metric]) * 1000 / millis;
            }
            next = (next + 1) % RATE_SAMPLES;
            let average = |metric: usize| {
                history.iter().map(|s| s[metric]).sum::<u64>() / RATE_SAMPLES as u64
            };
            // Relaxed: independent figures for INFO.
            rates.ops_per_sec.store(average(0), Ordering::Relaxed);
            rates.input_bytes_per_sec.store(average(1), Ordering::Relaxed);
            rates.output_bytes_per_sec.store(average(2), Ordering::Relaxed);
        }
        last = Some((now, at));
        std::thread::sleep(RATE_PERIOD);
    }
    SAMPLERS.lock().retain(|(id, _)| id != run_id);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_sizes_match_redis() {
        assert_eq!(human(0), "0B");
        assert_eq!(human(1023), "1023B");
        assert_eq!(human(965_768), "943.13K");
        assert_eq!(human(12_533_760), "11.95M");
        assert_eq!(human(25_276_510_208), "23.54G");
    }

    #[test]
    fn section_selection() {
        let default = selected_sections(&[]);
        assert!(default[0] && !default[8], "default has server, not commandstats");
        let all = selected_sections(&[b"ALL"]);
        assert!(all.iter().all(|&w| w));
        let some = selected_sections(&[b"Keyspace", b"nope"]);
        assert_eq!(some.iter().filter(|&&w| w).count(), 1);
        assert!(some[12]);
    }
}
