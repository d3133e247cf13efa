//! The live progress line on stderr: rewritten in place four times a second on a terminal,
//! a plain line a second otherwise (CI logs, pipes), nothing when disabled.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// Progress display state, driven by the runner's supervising thread.
#[derive(Debug)]
pub struct Progress {
    enabled: bool,
    terminal: bool,
    interval: Duration,
    measure_start: Instant,
    last_at: Instant,
    last_completed: u64,
    printed: bool,
}

impl Progress {
    /// A display for a run whose measured window opens at `measure_start`.
    pub fn new(enabled: bool, measure_start: Instant) -> Progress {
        let terminal = std::io::stderr().is_terminal();
        let interval = if terminal { Duration::from_millis(250) } else { Duration::from_secs(1) };
        Progress {
            enabled,
            terminal,
            interval,
            measure_start,
            last_at: Instant::now(),
            last_completed: 0,
            printed: false,
        }
    }

    /// Shows the rate since the last line, if an interval has passed.
    pub fn tick(&mut self, now: Instant, completed: u64, errors: u64) {
        let since = now.saturating_duration_since(self.last_at);
        if !self.enabled || since < self.interval {
            return;
        }
        let rate = (completed - self.last_completed) as f64 / since.as_secs_f64();
        let line = if now < self.measure_start {
            let left = self.measure_start.saturating_duration_since(now).as_secs_f64();
            format!("warming up, {left:.1} s left")
        } else {
            let elapsed = now.saturating_duration_since(self.measure_start).as_secs_f64();
            format!("{elapsed:6.1} s  {rate:>12.0} ops/s  {completed:>12} ops  {errors} errors")
        };
        let mut stderr = std::io::stderr().lock();
        let _ = if self.terminal {
            write!(stderr, "\r\x1b[2K{line}")
        } else {
            writeln!(stderr, "{line}")
        };
        let _ = stderr.flush();
        self.printed = true;
        self.last_at = now;
        self.last_completed = completed;
    }

    /// Ends the in-place line so the report starts on a fresh one.
    pub fn finish(&mut self) {
        if self.enabled && self.terminal && self.printed {
            let _ = writeln!(std::io::stderr());
        }
    }
}
