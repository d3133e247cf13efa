//! A run's report: per-command and overall throughput and latency percentiles, printed as a
//! table, written as JSON (schema `corekv-bench/1`, documented on [`Report`]) and as `.hgrm`
//! files.

use std::path::{Path, PathBuf};
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::{Serialize, Serializer};

use super::error::BenchError;
use super::hgrm::percentile_distribution;
use super::machine::Machine;
use super::recorder::{CommandStats, new_histogram};
use super::runner::RunResult;
use super::workload::CommandKind;
use super::{Load, Target, Workload};

/// The JSON schema's name and version; bumped when a field changes meaning or goes away.
pub const SCHEMA: &str = "corekv-bench/1";
/// Nanoseconds per microsecond: the histograms hold ns, the reports show µs.
const NS_PER_US: f64 = 1_000.0;

/// Serializes a duration as fractional seconds.
pub fn serialize_seconds<S: Serializer>(
    duration: &Duration,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(duration.as_secs_f64())
}

/// Latency percentiles of one histogram, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LatencySummary {
    /// Smallest.
    pub min: f64,
    /// Arithmetic mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p99_9: f64,
    /// 99.99th percentile.
    pub p99_99: f64,
    /// Largest.
    pub max: f64,
}

impl LatencySummary {
    /// The summary of a histogram of nanoseconds. Percentiles are HdrHistogram's: the highest
    /// value equivalent (within the precision) to the value at that quantile.
    pub fn of(histogram: &Histogram<u64>) -> LatencySummary {
        let at = |quantile| histogram.value_at_quantile(quantile) as f64 / NS_PER_US;
        LatencySummary {
            min: histogram.min() as f64 / NS_PER_US,
            mean: histogram.mean() / NS_PER_US,
            p50: at(0.5),
            p90: at(0.9),
            p99: at(0.99),
            p99_9: at(0.999),
            p99_99: at(0.9999),
            max: histogram.highest_equivalent(histogram.max()) as f64 / NS_PER_US,
        }
    }
}

/// One command's (or all commands') results.
#[derive(Debug, Clone, Serialize)]
pub struct CommandSummary {
    /// `GET`, `SET`, ... or `ALL`.
    pub command: String,
    /// Measured operations.
    pub ops: u64,
    /// Operations answered with an error.
    pub errors: u64,
    /// `ops` over the measured window.
    pub ops_per_s: f64,
    /// Latency from the intended send time (coordinated omission corrected).
    pub latency_us: LatencySummary,
    /// Latency from the actual send time (what a closed-loop tool reports).
    pub service_time_us: LatencySummary,
    /// The first error reply, if any.
    pub first_error: Option<String>,
}

/// The measurements.
#[derive(Debug, Clone, Serialize)]
pub struct Results {
    /// The measured window: from its start to the last measured completion.
    pub elapsed_s: f64,
    /// All commands together.
    pub overall: CommandSummary,
    /// Each command the mix issued, in [`CommandKind::ALL`] order.
    pub commands: Vec<CommandSummary>,
}

/// A run's report. Its JSON form:
///
/// ```json
/// {
///   "schema": "corekv-bench/1",
///   "label": "corekv",          (only with --label)
///   "machine": { "cpu_model": "...", "cores": 2, "kernel": "Linux 6.1.0",
///                "git_commit": "f3990a4...", "date_utc": "2025-01-01T00:00:00Z",
///                "corekv_version": "0.1.0" },
///   "command_line": ["corekv-bench", "--target", "embedded", "..."],
///   "target": "resp://127.0.0.1:6379" | "embedded",
///   "workload": { "mix": { "entries": [{ "command": "GET", "weight": 90 }, ...] },
///                 "keys": 100000, "key_size": 16, "value_size": 64,
///                 "distribution": { "kind": "uniform" } | { "kind": "zipf", "exponent": 0.99 },
///                 "mset_keys": 10, "multi_sets": 10, "preload": false, "seed": 1 },
///   "load": { "connections": 4, "threads": 1, "pipeline": 1,
///             "mode": { "kind": "closed" } | { "kind": "open", "rate_per_s": 10000.0 },
///             "stop": { "duration": 10.0 } | { "requests": 100000 },
///             "warmup": 0.0, "pin_threads": true },
///   "results": {
///     "elapsed_s": 10.0,
///     "overall": <summary>,
///     "commands": [<summary>, ...]
///   }
/// }
/// ```
///
/// where a `<summary>` is `{ "command", "ops", "errors", "ops_per_s", "first_error",
/// "latency_us": <percentiles>, "service_time_us": <percentiles> }` and `<percentiles>` is
/// `{ "min", "mean", "p50", "p90", "p99", "p99_9", "p99_99", "max" }` in microseconds.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// [`SCHEMA`].
    pub schema: &'static str,
    /// The run's name as a chart's series (`--label`); charts fall back to the target.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Where and when.
    pub machine: Machine,
    /// The exact command line.
    pub command_line: Vec<String>,
    /// The target's name.
    pub target: String,
    /// What was sent.
    pub workload: Workload,
    /// How it was driven.
    pub load: Load,
    /// What was measured.
    pub results: Results,
    /// Latency histograms (ns) by command name, `ALL` first, for `.hgrm` files.
    #[serde(skip)]
    pub histograms: Vec<(String, Histogram<u64>)>,
}

impl Report {
    /// The report of `result`.
    pub fn new(
        target: &Target,
        workload: &Workload,
        load: &Load,
        result: &RunResult,
        command_line: Vec<String>,
    ) -> Report {
        let seconds = result.elapsed.as_secs_f64().max(f64::MIN_POSITIVE);
        let mut all = CommandStats::default();
        let mut commands = Vec::new();
        let mut histograms = Vec::new();
        for kind in CommandKind::ALL {
            let stats = &result.recorder.commands[kind.index()];
            all.merge(stats);
            if stats.ops() > 0 || workload.mix.contains(kind) {
                commands.push(summarize(kind.name(), stats, seconds));
                histograms.push((kind.name().to_owned(), stats.latency_ns.clone()));
            }
        }
        histograms.insert(0, ("ALL".to_owned(), all.latency_ns.clone()));
        Report {
            schema: SCHEMA,
            label: None,
            machine: Machine::collect(),
            command_line,
            target: target.name().to_owned(),
            workload: workload.clone(),
            load: load.clone(),
            results: Results {
                elapsed_s: seconds,
                overall: summarize("ALL", &all, seconds),
                commands,
            },
            histograms,
        }
    }

    /// Errors over all commands.
    pub fn errors(&self) -> u64 {
        self.results.overall.errors
    }

    /// The table printed after a run.
    pub fn table(&self) -> String {
        let load = &self.load;
        let streams = if self.target == "embedded" {
            format!("{} threads in-process", load.threads)
        } else {
            format!(
                "{} connections x pipeline {} | {} threads",
                load.connections, load.pipeline, load.threads
            )
        };
        let mut out = format!(
            "corekv-bench: {} | {} | {streams} | {:.2} s\n",
            self.target, load.mode, self.results.elapsed_s
        );
        out += &format!(
            "workload: mix {} | {} keys ({}) | key {} B | value {} B\n",
            self.workload.mix,
            self.workload.keys,
            self.workload.distribution,
            self.workload.key_size,
            self.workload.value_size
        );
        out += &format!(
            "{:<8} {:>11} {:>8} {:>12} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}\n",
            "command",
            "ops",
            "errors",
            "ops/s",
            "p50 us",
            "p90 us",
            "p99 us",
            "p99.9 us",
            "p99.99 us",
            "max us"
        );
        let rows = self.results.commands.iter().chain(std::iter::once(&self.results.overall));
        for row in rows {
            let latency = &row.latency_us;
            out += &format!(
                "{:<8} {:>11} {:>8} {:>12.0} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>9.1}\n",
                row.command,
                row.ops,
                row.errors,
                row.ops_per_s,
                latency.p50,
                latency.p90,
                latency.p99,
                latency.p99_9,
                latency.p99_99,
                latency.max
            );
        }
        let service = &self.results.overall.service_time_us;
        if matches!(load.mode, super::Mode::Open { .. }) {
            out += &format!(
                "service time (from actual send, not CO-corrected): p50 {:.1} p99 {:.1} \
                 p99.9 {:.1} max {:.1} us\n",
                service.p50, service.p99, service.p99_9, service.max
            );
        }
        for row in &self.results.commands {
            if let Some(error) = &row.first_error {
                out += &format!("{}: {} errors, first: {error}\n", row.command, row.errors);
            }
        }
        out
    }

    /// Writes the JSON report to `path`.
    pub fn write_json(&self, path: &Path) -> Result<(), BenchError> {
        let text = serde_json::to_string_pretty(self).expect("a report serializes");
        write_file(path, text + "\n")
    }

    /// Writes `<prefix>-<command>.hgrm` (µs) for `ALL` and each command; returns the paths.
    pub fn write_hgrm(&self, prefix: &str) -> Result<Vec<PathBuf>, BenchError> {
        let mut paths = Vec::new();
        for (name, histogram) in &self.histograms {
            let path = PathBuf::from(format!("{prefix}-{}.hgrm", name.to_lowercase()));
            let histogram = if histogram.is_empty() { &new_histogram() } else { histogram };
            write_file(&path, percentile_distribution(histogram, NS_PER_US))?;
            paths.push(path);
        }
        Ok(paths)
    }
}

fn summarize(name: &str, stats: &CommandStats, seconds: f64) -> CommandSummary {
    CommandSummary {
        command: name.to_owned(),
        ops: stats.ops(),
        errors: stats.errors,
        ops_per_s: stats.ops() as f64 / seconds,
        latency_us: LatencySummary::of(&stats.latency_ns),
        service_time_us: LatencySummary::of(&stats.service_ns),
        first_error: stats.first_error.clone(),
    }
}

fn write_file(path: &Path, text: String) -> Result<(), BenchError> {
    if let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|source| BenchError::Output { path: path.to_owned(), source })?;
    }
    std::fs::write(path, text)
        .map_err(|source| BenchError::Output { path: path.to_owned(), source })
}
