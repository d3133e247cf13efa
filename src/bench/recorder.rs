//! Per-thread latency histograms and counts, merged when the run ends.
//!
//! Each operation is recorded twice: its **latency** from the intended send time (what a user
//! waits, coordinated omission corrected; in closed loop the intended time is the send time)
//! and its **service time** from the moment it was actually written. In open loop the two
//! differ exactly when the generator had to hold a request back behind a slow reply, and the
//! gap is what a closed-loop tool would hide.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use super::workload::CommandKind;

/// The largest latency a histogram holds, in nanoseconds (one minute); longer ones are
/// clamped to it (saturating record).
pub const MAX_LATENCY_NS: u64 = 60_000_000_000;
/// Significant decimal digits of every histogram: 0.1 % relative error.
pub const SIGNIFICANT_DIGITS: u8 = 3;

/// A new histogram with the harness's bounds.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_NS, SIGNIFICANT_DIGITS)
        .expect("the bounds are valid constants")
}

/// One command's measurements.
#[derive(Debug, Clone)]
pub struct CommandStats {
    /// Latency from the intended send time, in nanoseconds.
    pub latency_ns: Histogram<u64>,
    /// Latency from the actual send time, in nanoseconds.
    pub service_ns: Histogram<u64>,
    /// Error replies (or engine errors).
    pub errors: u64,
    /// The first error's text, to show what went wrong.
    pub first_error: Option<String>,
}

impl Default for CommandStats {
    fn default() -> Self {
        CommandStats {
            latency_ns: new_histogram(),
            service_ns: new_histogram(),
            errors: 0,
            first_error: None,
        }
    }
}

impl CommandStats {
    /// Operations recorded.
    pub fn ops(&self) -> u64 {
        self.latency_ns.len()
    }

    /// Adds `other`'s measurements.
    pub fn merge(&mut self, other: &CommandStats) {
        self.latency_ns.add(&other.latency_ns).expect("same bounds");
        self.service_ns.add(&other.service_ns).expect("same bounds");
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error.clone_from(&other.first_error);
        }
    }
}

/// A thread's measurements, per command.
#[derive(Debug, Clone)]
pub struct Recorder {
    /// Indexed by [`CommandKind::index`].
    pub commands: Vec<CommandStats>,
    /// When the last measured operation completed.
    pub last_completion: Option<Instant>,
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder {
            commands: CommandKind::ALL.iter().map(|_| CommandStats::default()).collect(),
            last_completion: None,
        }
    }
}

impl Recorder {
    /// Records one completed operation.
    pub fn record(
        &mut self,
        command: CommandKind,
        intended: Instant,
        sent: Instant,
        completed: Instant,
        error: Option<&dyn Fn() -> String>,
    ) {
        let stats = &mut self.commands[command.index()];
        stats.latency_ns.saturating_record(nanos(completed.saturating_duration_since(intended)));
        stats.service_ns.saturating_record(nanos(completed.saturating_duration_since(sent)));
        if let Some(describe) = error {
            stats.errors += 1;
            if stats.first_error.is_none() {
                stats.first_error = Some(describe());
            }
        }
        self.last_completion = self.last_completion.max(Some(completed));
    }

    /// Adds `other`'s measurements.
    pub fn merge(&mut self, other: &Recorder) {
        for (mine, theirs) in self.commands.iter_mut().zip(&other.commands) {
            mine.merge(theirs);
        }
        self.last_completion = self.last_completion.max(other.last_completion);
    }
}

/// A duration in whole nanoseconds, at least 1 (the histograms' lowest value).
fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX).max(1)
}
