//! `corekv-bench`, as a library: one workload description driven against any RESP server or the
//! in-process engine, measured with HDR histograms.
//!
//! The binary (`src/bin/corekv-bench.rs`) only parses arguments; the `cargo bench` target and
//! the comparison scripts call [`run`] and [`Report`] directly.
//!
//! # Layout
//!
//! - [`workload`]: what is sent: the command mix, key count and sizes, uniform or Zipf keys.
//! - [`preset`]: the named workloads of the harness (`set`, `mset-1000`, ...).
//! - [`zipf`]: the rejection-inversion Zipf sampler.
//! - [`ops`]: a workload as RESP requests or as calls on a [`Db`](crate::Db).
//! - [`pacer`]: open-loop schedules (coordinated omission corrected) and closed loop.
//! - [`client`] and [`reply`]: a pipelining RESP client and its reply skipper.
//! - `runner`: threads, connections, the poll loop and the embedded loop.
//! - [`recorder`]: per-thread histograms; [`report`]: summaries, the table and JSON;
//!   [`hgrm`]: HdrHistogram's percentile-distribution text; [`progress`]: the live line.
//! - [`machine`]: the facts a result is published with (CPU, kernel, commit, command, date).
//! - [`chart`]: SVG charts of result files (`corekv-bench chart`): throughput bars with
//!   ratios, latency-percentile curves.
//!
//! # Measurement
//!
//! Latency is taken from each operation's *intended* send time: in open loop (`--rate`) that
//! is its slot in a fixed schedule, so a stall is charged to every request it held back, not
//! only to the one that met it; in closed loop it is the send time. The service time (from the
//! actual send) is kept beside it, so a report shows what a closed-loop tool would have said.

pub mod chart;
pub mod client;
pub mod error;
pub mod hgrm;
pub mod machine;
pub mod ops;
pub mod pacer;
pub mod preset;
pub mod progress;
pub mod recorder;
pub mod reply;
pub mod report;
mod runner;
pub mod workload;
pub mod zipf;

use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::str::FromStr;
use std::time::Duration;

use serde::Serialize;

pub use error::BenchError;
pub use preset::Preset;
pub use report::Report;
pub use runner::{RunResult, run};
pub use workload::{CommandKind, KeyDistribution, Mix, Workload};

/// The most connections a run may open.
pub const MAX_CONNECTIONS: usize = 10_000;
/// The most threads a run may start.
pub const MAX_THREADS: usize = 1_024;
/// The deepest pipeline per connection.
pub const MAX_PIPELINE: usize = 100_000;

/// What the workload runs against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A RESP server over TCP (`resp://host:port`).
    Resp {
        /// The resolved address.
        address: SocketAddr,
        /// The target as given, for messages and the report.
        url: String,
    },
    /// The engine in this process (`embedded`), called through `corekv::prelude`.
    Embedded,
}

impl Target {
    /// The target as the report names it.
    pub fn name(&self) -> &str {
        match self {
            Target::Resp { url, .. } => url,
            Target::Embedded => "embedded",
        }
    }
}

impl FromStr for Target {
    type Err = BenchError;

    /// `embedded`, or `resp://host:port` (a bare `host:port` is taken as RESP).
    fn from_str(text: &str) -> Result<Target, BenchError> {
        if text == "embedded" {
            return Ok(Target::Embedded);
        }
        let authority = text.strip_prefix("resp://").unwrap_or(text);
        let address = authority
            .to_socket_addrs()
            .ok()
            .and_then(|mut addresses| addresses.next())
            .ok_or_else(|| {
            BenchError::config(format!(
                "--target {text:?}: expected `embedded` or `resp://host:port`"
            ))
        })?;
        Ok(Target::Resp { address, url: format!("resp://{authority}") })
    }
}

/// How operations are paced.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Mode {
    /// As fast as the target answers, `pipeline` operations outstanding per connection.
    Closed,
    /// A fixed total rate, latency from each operation's intended send time.
    Open {
        /// Operations per second over all connections.
        rate_per_s: f64,
    },
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mode::Closed => f.write_str("closed loop"),
            Mode::Open { rate_per_s } => write!(f, "open loop at {rate_per_s} ops/s"),
        }
    }
}

/// When the measured part of a run ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stop {
    /// After this long (past the warm-up).
    Duration(#[serde(serialize_with = "report::serialize_seconds")] Duration),
    /// After this many measured operations, over all connections.
    Requests(u64),
}

/// How the workload is driven.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Load {
    /// TCP connections (the embedded target uses one stream per thread and ignores this).
    pub connections: usize,
    /// Generator threads; connections are dealt out round-robin.
    pub threads: usize,
    /// Operations outstanding per connection.
    pub pipeline: usize,
    /// Open or closed loop.
    pub mode: Mode,
    /// When to stop.
    pub stop: Stop,
    /// Unmeasured time before the measured window.
    #[serde(serialize_with = "report::serialize_seconds")]
    pub warmup: Duration,
    /// Pin generator threads to cores (`core_affinity`), thread `i` to core `i mod cores`.
    pub pin_threads: bool,
    /// How long a connection attempt may take.
    #[serde(skip)]
    pub connect_timeout: Duration,
    /// How long to wait for the last replies after sending stops before failing the run.
    #[serde(skip)]
    pub drain_timeout: Duration,
    /// Print a live progress line on stderr.
    #[serde(skip)]
    pub progress: bool,
}

impl Default for Load {
    fn default() -> Self {
        Load {
            connections: 4,
            threads: 1,
            pipeline: 1,
            mode: Mode::Closed,
            stop: Stop::Duration(Duration::from_secs(10)),
            warmup: Duration::ZERO,
            pin_threads: true,
            connect_timeout: Duration::from_secs(2),
            drain_timeout: Duration::from_secs(10),
            progress: false,
        }
    }
}

impl Load {
    /// Checks the numbers against each other and the limits.
    pub fn validate(&self) -> Result<(), BenchError> {
        if !(1..=MAX_CONNECTIONS).contains(&self.connections) {
            return Err(BenchError::config(format!(
                "--connections must be in 1..={MAX_CONNECTIONS}"
            )));
        }
        if !(1..=MAX_THREADS).contains(&self.threads) {
            return Err(BenchError::config(format!("--threads must be in 1..={MAX_THREADS}")));
        }
        if !(1..=MAX_PIPELINE).contains(&self.pipeline) {
            return Err(BenchError::config(format!("--pipeline must be in 1..={MAX_PIPELINE}")));
        }
        if let Mode::Open { rate_per_s } = self.mode
            && !(rate_per_s > 0.0 && rate_per_s.is_finite())
        {
            return Err(BenchError::config("--rate must be a positive number of ops/s"));
        }
        match self.stop {
            Stop::Duration(duration) if duration.is_zero() => {
                Err(BenchError::config("--duration must be > 0"))
            }
            Stop::Requests(0) => Err(BenchError::config("--requests must be > 0")),
            _ => Ok(()),
        }
    }
}
