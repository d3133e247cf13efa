//! Reads result files into a [`Chart`]: `corekv-bench` reports (schema `corekv-bench/1`, one
//! run each) and `scripts/compare-peers.sh` reports (every server and test of one comparison).
//!
//! A `corekv-bench` report becomes one measurement: its series is the label given on the
//! chart's command line (`LABEL=PATH`), else the report's `label`, else its target; its group
//! is named from the workload and load (see [`group_name`]), so runs of the same workload
//! against different targets share a group. Its latency points are the overall
//! coordinated-omission-corrected p50 to p99.99. A compare-peers report gives one group per
//! test and pipeline (`SET P1`) and one series per server, with redis-benchmark's median
//! throughput, p50 and p99.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{Chart, Percentile};
use crate::bench::error::BenchError;
use crate::bench::report::SCHEMA;

/// One file to chart, with the series name to give its results (`corekv-bench` reports only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// The file.
    pub path: PathBuf,
    /// The series name, instead of the report's own.
    pub label: Option<String>,
}

impl Input {
    /// `PATH` or `LABEL=PATH` (a `PATH` containing `=` that names an existing file is a path).
    pub fn parse(text: &str) -> Input {
        match text.split_once('=') {
            Some((label, path)) if !label.is_empty() && !Path::new(text).exists() => {
                Input { path: PathBuf::from(path), label: Some(label.to_owned()) }
            }
            _ => Input { path: PathBuf::from(text), label: None },
        }
    }
}

/// The chart of `inputs`, in order: series and groups appear in the order first met. The
/// title is `title`, else the first file's kind of report names it.
pub fn chart_of(inputs: &[Input], title: Option<&str>) -> Result<Chart, BenchError> {
    let mut chart = Chart::new(title.unwrap_or(""));
    // The corekv-bench reports' dates, RFC 3339 (so they sort as text): one note for all.
    let mut dates: Vec<String> = Vec::new();
    for input in inputs {
        let text = std::fs::read_to_string(&input.path).map_err(|source| BenchError::Input {
            path: input.path.clone(),
            detail: source.to_string(),
        })?;
        let value: Value = serde_json::from_str(&text).map_err(|error| BenchError::Input {
            path: input.path.clone(),
            detail: format!("not JSON: {error}"),
        })?;
        let fail = |detail: String| BenchError::Input { path: input.path.clone(), detail };
        if value["schema"] == SCHEMA {
            add_bench_report(&mut chart, &value, input.label.as_deref()).map_err(fail)?;
            dates.extend(value["machine"]["date_utc"].as_str().map(str::to_owned));
        } else if value["results"].as_array().is_some_and(|rows| rows.iter().all(is_peers_row)) {
            if input.label.is_some() {
                return Err(fail(
                    "a compare-peers report names its own series; drop LABEL=".into(),
                ));
            }
            add_peers_report(&mut chart, &value).map_err(fail)?;
        } else {
            return Err(fail(format!(
                "neither a corekv-bench report (schema {SCHEMA}) nor a compare-peers report"
            )));
        }
    }
    if chart.groups.is_empty() {
        return Err(BenchError::config("nothing to chart: give at least one result file"));
    }
    dates.sort();
    match (dates.first(), dates.last()) {
        (Some(first), Some(last)) if first != last => {
            note(&mut chart, format!("runs from {first} to {last}"))
        }
        (Some(first), _) => note(&mut chart, format!("run at {first}")),
        _ => {}
    }
    Ok(chart)
}

fn is_peers_row(row: &Value) -> bool {
    row["test"].is_string() && row["pipeline"].is_u64() && row["servers"].is_object()
}

/// The group a `corekv-bench` report's run belongs to: the mix (one command by its name, with
/// its batch size for MSET and MULTI), then ` P<n>` when pipelined, the key distribution when
/// Zipf, and the rate in open loop: `SET`, `MSET x1000`, `SET P1000`, `get=90,set=10 zipf 0.99`.
pub fn group_name(report: &Value) -> Result<String, String> {
    let workload = &report["workload"];
    let load = &report["load"];
    let entries = workload["mix"]["entries"].as_array().ok_or("no workload.mix.entries")?;
    let mut name = match entries.as_slice() {
        [single] => {
            let command = single["command"].as_str().ok_or("a mix entry without a command")?;
            match command {
                "MSET" => format!("MSET x{}", workload["mset_keys"]),
                "MULTI" => format!("MULTI x{}", workload["multi_sets"]),
                other => other.to_owned(),
            }
        }
        several => {
            let parts: Result<Vec<String>, String> = several
                .iter()
                .map(|entry| {
                    let command =
                        entry["command"].as_str().ok_or("a mix entry without a command")?;
                    Ok(format!("{}={}", command.to_lowercase(), entry["weight"]))
                })
                .collect();
            parts?.join(",")
        }
    };
    match load["pipeline"].as_u64() {
        Some(1) | None => {}
        Some(depth) => name += &format!(" P{depth}"),
    }
    if workload["distribution"]["kind"] == "zipf" {
        name += &format!(" zipf {}", workload["distribution"]["exponent"]);
    }
    if load["mode"]["kind"] == "open" {
        name += &format!(" @{} ops/s", load["mode"]["rate_per_s"]);
    }
    Ok(name)
}

fn add_bench_report(chart: &mut Chart, report: &Value, label: Option<&str>) -> Result<(), String> {
    let series = label
        .or_else(|| report["label"].as_str())
        .or_else(|| report["target"].as_str())
        .ok_or("no target")?;
    let overall = &report["results"]["overall"];
    let ops_per_s = overall["ops_per_s"].as_f64().ok_or("no results.overall.ops_per_s")?;
    let latency_us = &overall["latency_us"];
    let mut latency = Vec::new();
    for (percentile, field) in
        [(50.0, "p50"), (90.0, "p90"), (99.0, "p99"), (99.9, "p99_9"), (99.99, "p99_99")]
    {
        let value = latency_us[field].as_f64().ok_or(format!("no latency_us.{field}"))?;
        latency.push(Percentile { percentile, latency_us: value });
    }
    chart
        .add(&group_name(report)?, series, ops_per_s, latency)
        .map_err(|error| error.to_string())?;
    if chart.title.is_empty() {
        chart.title = "corekv-bench results".to_owned();
    }
    let machine = &report["machine"];
    let line = format!(
        "{}, {} cores, {}; commit {}",
        machine["cpu_model"].as_str().unwrap_or("unknown CPU"),
        machine["cores"],
        machine["kernel"].as_str().unwrap_or("unknown kernel"),
        machine["git_commit"].as_str().map_or("unknown", |commit| &commit[..commit.len().min(12)]),
    );
    note(chart, line);
    Ok(())
}

fn add_peers_report(chart: &mut Chart, report: &Value) -> Result<(), String> {
    let servers: Vec<&str> = report["servers"]
        .as_array()
        .ok_or("no servers")?
        .iter()
        .map(|server| server["name"].as_str().ok_or("a server without a name"))
        .collect::<Result<_, _>>()?;
    for row in report["results"].as_array().ok_or("no results")? {
        let group = format!("{} P{}", row["test"].as_str().unwrap_or("?"), row["pipeline"]);
        for &server in &servers {
            let median = &row["servers"][server]["median"];
            if median.is_null() {
                continue;
            }
            let field = |name: &str| {
                median[name].as_f64().ok_or(format!("{group}: no {server} median.{name}"))
            };
            let latency = vec![
                Percentile { percentile: 50.0, latency_us: field("p50_latency_ms")? * 1e3 },
                Percentile { percentile: 99.0, latency_us: field("p99_latency_ms")? * 1e3 },
            ];
            chart.add(&group, server, field("rps")?, latency).map_err(|error| error.to_string())?;
        }
    }
    if chart.title.is_empty() {
        chart.title = "corekv vs peers (redis-benchmark)".to_owned();
    }
    let workload = &report["workload"];
    note(
        chart,
        format!(
            "{}, {} clients, {} keys, {}-byte values, medians of {} round(s); closed loop \
             (latency not corrected for coordinated omission)",
            workload["tool"].as_str().unwrap_or("redis-benchmark"),
            workload["clients"],
            workload["keyspace"],
            workload["value_bytes"],
            workload["rounds"]
        ),
    );
    let machine = &report["machine"];
    note(
        chart,
        format!(
            "{}, {} cores, Linux {}; {}; commit {}",
            machine["cpu"].as_str().unwrap_or("unknown CPU"),
            machine["cores"],
            machine["kernel"].as_str().unwrap_or("?"),
            report["date"].as_str().unwrap_or("undated"),
            report["git_commit"]
                .as_str()
                .map_or("unknown", |commit| &commit[..commit.len().min(12)]),
        ),
    );
    if let Some(command) = report["command"].as_str() {
        note(chart, format!("command: {command}"));
    }
    Ok(())
}

/// The most note lines under a chart's title.
const MAX_NOTES: usize = 4;

fn note(chart: &mut Chart, line: String) {
    if !chart.notes.contains(&line) && chart.notes.len() < MAX_NOTES {
        chart.notes.push(line);
    }
}
