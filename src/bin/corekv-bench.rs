//! `corekv-bench`: a load generator for any RESP server or the embedded engine, with the same
//! workload description for both; `corekv-bench chart` draws SVG charts of its JSON reports and
//! of `scripts/compare-peers.sh`'s. Parses arguments and calls [`corekv::bench`].
//!
//! Exit status: 0 on success, 1 when `--fail-on-error` is given and a command failed, 2 when
//! the run could not measure (bad options, dead server, lost connection, no completions) or a
//! chart could not be drawn.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use corekv::bench::chart::input::{Input, chart_of};
use corekv::bench::{
    self, BenchError, KeyDistribution, Load, Mix, Mode, Preset, Report, Stop, Target,
};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Drive a RESP server (corekv, redis-server, valkey) or the in-process engine with one
/// workload and report throughput and HDR latency percentiles.
#[derive(Debug, Parser)]
#[command(name = "corekv-bench", version, after_help = EXAMPLES, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: Args,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Draw an SVG chart of result files: throughput bars per workload and target with the
    /// first target's ratios, and latency-percentile curves (log scales) per workload.
    Chart(ChartArgs),
}

#[derive(Debug, clap::Args)]
#[command(after_help = CHART_EXAMPLES)]
struct ChartArgs {
    /// `corekv-bench` JSON reports (`PATH` or `LABEL=PATH`; the label names the series, else
    /// the report's `--label`, else its target) or `scripts/compare-peers.sh` JSON reports.
    #[arg(required = true, value_name = "[LABEL=]PATH")]
    inputs: Vec<String>,
    /// The SVG file to write.
    #[arg(short = 'o', long, value_name = "PATH")]
    out: PathBuf,
    /// The chart's heading (default: named after the inputs).
    #[arg(long)]
    title: Option<String>,
    /// The series the ratios are taken from (default: the first series met).
    #[arg(long, value_name = "SERIES")]
    baseline: Option<String>,
}

#[derive(Debug, clap::Args)]
struct Args {
    /// `resp://HOST:PORT` for a RESP server, or `embedded` for the engine in-process.
    #[arg(long, default_value = "resp://127.0.0.1:6379")]
    target: String,

    /// Command mix with relative weights over GET, SET, INCR, LPUSH, LPOP, ZADD, HSET, MSET,
    /// MULTI (MULTI/EXEC of --multi-sets SETs).
    #[arg(long, default_value = "get=90,set=10")]
    mix: String,
    /// A named workload instead of --mix: set, mset-1000 (MSET of 1,000 keys),
    /// set-pipeline-1000 (SETs 1,000 deep per connection), get (after a preload), multi-10
    /// (MULTI, 10 SETs, EXEC). The same presets as `cargo bench --bench harness`.
    #[arg(
        long,
        value_name = "NAME",
        conflicts_with_all = ["mix", "pipeline", "mset_keys", "multi_sets"]
    )]
    preset: Option<String>,
    /// Keys per data type.
    #[arg(long, default_value_t = 100_000)]
    keys: u64,
    /// Key length in bytes (type tag, ':' and zero-padded index).
    #[arg(long, default_value_t = 16)]
    key_size: usize,
    /// Value length in bytes.
    #[arg(long, default_value_t = 64)]
    value_size: usize,
    /// Zipf-distributed keys with this exponent (default: uniform).
    #[arg(long, value_name = "EXPONENT", conflicts_with = "uniform")]
    zipf: Option<f64>,
    /// Uniformly distributed keys (the default).
    #[arg(long)]
    uniform: bool,
    /// Keys per MSET.
    #[arg(long, default_value_t = 10)]
    mset_keys: usize,
    /// SETs per MULTI/EXEC.
    #[arg(long, default_value_t = 10)]
    multi_sets: usize,
    /// SET every string key once before the run, so GETs hit.
    #[arg(long)]
    preload: bool,
    /// Seed of every random choice.
    #[arg(long, default_value_t = 1)]
    seed: u64,

    /// TCP connections (ignored by the embedded target, which runs one stream per thread).
    #[arg(short = 'c', long, default_value_t = 4)]
    connections: usize,
    /// Generator threads, each pinned to a core; connections are dealt out among them.
    #[arg(short = 't', long, default_value_t = 1)]
    threads: usize,
    /// Operations outstanding per connection.
    #[arg(short = 'P', long, default_value_t = 1)]
    pipeline: usize,
    /// Open loop: this many operations per second in total, latency from each operation's
    /// intended send time (coordinated omission corrected). Without it: closed loop.
    #[arg(long, value_name = "OPS_PER_S")]
    rate: Option<f64>,
    /// Measured duration ("10", "10s", "500ms", "2m").
    #[arg(short = 'd', long, value_parser = parse_duration, conflicts_with = "requests")]
    duration: Option<Duration>,
    /// Measured operations in total, instead of a duration.
    #[arg(short = 'n', long)]
    requests: Option<u64>,
    /// Unmeasured warm-up before the measured window.
    #[arg(long, value_parser = parse_duration, default_value = "0")]
    warmup: Duration,
    /// Do not pin generator threads to cores.
    #[arg(long)]
    no_pin: bool,
    /// How long to wait for outstanding replies once sending stops before failing.
    #[arg(long, value_parser = parse_duration, default_value = "10s")]
    drain_timeout: Duration,

    /// Write the JSON report here.
    #[arg(long, value_name = "PATH")]
    json: Option<String>,
    /// The run's name in the JSON report, used as its series by `corekv-bench chart`.
    #[arg(long)]
    label: Option<String>,
    /// Write `<PREFIX>-all.hgrm` and `<PREFIX>-<command>.hgrm` (microseconds).
    #[arg(long, value_name = "PREFIX")]
    hgrm_prefix: Option<String>,
    /// Exit with status 1 if any command was answered with an error.
    #[arg(long)]
    fail_on_error: bool,
    /// No progress line on stderr.
    #[arg(short = 'q', long)]
    quiet: bool,
}

const EXAMPLES: &str = "Examples:
  corekv-bench --target resp://127.0.0.1:6379 --mix get=90,set=10 -c 8 -P 16 -d 10s
  corekv-bench --target embedded --threads 2 --zipf 0.99 --preload --mix get=80,set=20
  corekv-bench --target resp://127.0.0.1:7000 --rate 20000 -c 4 --warmup 2s -d 30s \\
      --json results/run.json --hgrm-prefix results/run
  corekv-bench --target resp://127.0.0.1:7000 --mix mset=1 --mset-keys 1000 -n 10000
  corekv-bench --target resp://127.0.0.1:6379 --preset multi-10 -d 5s --label redis \\
      --json results/redis-multi.json
  corekv-bench chart -o results/compare-peers.svg results/compare-peers.json";

const CHART_EXAMPLES: &str = "Examples:
  corekv-bench chart -o results/compare-peers.svg results/compare-peers.json
  corekv-bench chart -o out.svg --title 'SET, 4 connections' corekv=a.json redis=b.json";

/// `10`, `1.5`, `10s`, `500ms`, `2m`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let (number, unit_s) = if let Some(number) = text.strip_suffix("ms") {
        (number, 0.001)
    } else if let Some(number) = text.strip_suffix('s') {
        (number, 1.0)
    } else if let Some(number) = text.strip_suffix('m') {
        (number, 60.0)
    } else {
        (text, 1.0)
    };
    let value: f64 = number.trim().parse().map_err(|_| format!("bad duration {text:?}"))?;
    Duration::try_from_secs_f64(value * unit_s).map_err(|_| format!("bad duration {text:?}"))
}

fn configure(args: &Args) -> Result<(Target, bench::Workload, Load), BenchError> {
    let target: Target = args.target.parse()?;
    let mix: Mix = args.mix.parse()?;
    let distribution = match args.zipf {
        Some(exponent) => KeyDistribution::Zipf { exponent },
        None => KeyDistribution::Uniform,
    };
    let mut workload = bench::Workload {
        mix,
        keys: args.keys,
        key_size: args.key_size,
        value_size: args.value_size,
        distribution,
        mset_keys: args.mset_keys,
        multi_sets: args.multi_sets,
        preload: args.preload,
        seed: args.seed,
    };
    let stop = match (args.requests, args.duration) {
        (Some(requests), _) => Stop::Requests(requests),
        (None, Some(duration)) => Stop::Duration(duration),
        (None, None) => Stop::Duration(Duration::from_secs(10)),
    };
    let mut load = Load {
        connections: args.connections,
        threads: args.threads,
        pipeline: args.pipeline,
        mode: args.rate.map_or(Mode::Closed, |rate_per_s| Mode::Open { rate_per_s }),
        stop,
        warmup: args.warmup,
        pin_threads: !args.no_pin,
        drain_timeout: args.drain_timeout,
        progress: !args.quiet,
        ..Load::default()
    };
    if let Some(name) = &args.preset {
        name.parse::<Preset>()?.apply(&mut workload, &mut load);
    }
    workload.validate()?;
    load.validate()?;
    Ok((target, workload, load))
}

fn fail(error: BenchError) -> ExitCode {
    eprintln!("corekv-bench: {error}");
    ExitCode::from(2)
}

fn chart(args: &ChartArgs) -> Result<(), BenchError> {
    let inputs: Vec<Input> = args.inputs.iter().map(|text| Input::parse(text)).collect();
    let mut chart = chart_of(&inputs, args.title.as_deref())?;
    if let Some(baseline) = &args.baseline {
        chart.set_baseline(baseline)?;
    }
    if let Some(parent) = args.out.parent().filter(|parent| !parent.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|source| BenchError::Output { path: args.out.clone(), source })?;
    }
    std::fs::write(&args.out, chart.to_svg())
        .map_err(|source| BenchError::Output { path: args.out.clone(), source })?;
    println!(
        "corekv-bench chart: wrote {} ({} groups x {} series)",
        args.out.display(),
        chart.groups.len(),
        chart.series.len()
    );
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Chart(args)) = &cli.command {
        return chart(args).map_or_else(fail, |()| ExitCode::SUCCESS);
    }
    let args = cli.run;
    let (target, workload, load) = match configure(&args) {
        Ok(config) => config,
        Err(error) => return fail(error),
    };
    let result = match bench::run(&target, &workload, &load) {
        Ok(result) => result,
        Err(error) => return fail(error),
    };
    let mut report = Report::new(&target, &workload, &load, &result, std::env::args().collect());
    report.label = args.label.clone();
    print!("{}", report.table());
    if let Some(path) = &args.json
        && let Err(error) = report.write_json(path.as_ref())
    {
        return fail(error);
    }
    if let Some(prefix) = &args.hgrm_prefix
        && let Err(error) = report.write_hgrm(prefix)
    {
        return fail(error);
    }
    if args.fail_on_error && report.errors() > 0 {
        eprintln!("corekv-bench: {} commands failed (--fail-on-error)", report.errors());
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
