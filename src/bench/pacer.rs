//! When each stream (connection or embedded thread) may send its next operation.
//!
//! # Open loop
//!
//! Operation `n` of a stream is *intended* at `origin + phase + n / rate`, a fixed schedule
//! that does not move when the server is slow. If the generator falls behind, the late
//! operations go out as soon as the pipeline has room, still carrying their intended times,
//! so their latency includes the time they waited to be sent: the coordinated-omission
//! correction of wrk2 and HdrHistogram, applied at the source instead of by back-filling.
//! Times are computed from `n`, not accumulated, so rounding does not drift the rate.
//!
//! # Closed loop
//!
//! An operation is intended the moment it is sent; the rate is whatever the server sustains
//! with `pipeline` operations outstanding per connection.
//!
//! # Stopping
//!
//! Operations intended before `measure_start` are warm-up: sent but not recorded. A stream
//! stops at `end` (duration) or after its share of measured operations (request count).

use std::time::{Duration, Instant};

/// What a stream should do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// Send an operation intended at this time.
    Send(Instant),
    /// Nothing is due before this time.
    Wait(Instant),
    /// The stream has sent everything it will.
    Done,
}

/// One stream's schedule.
#[derive(Debug, Clone)]
pub struct Pacer {
    /// `Some(seconds between operations)` in open loop.
    interval_s: Option<f64>,
    origin: Instant,
    phase_s: f64,
    sent: u64,
    measure_start: Instant,
    end: Option<Instant>,
    /// Measured operations left, under a request count.
    quota: Option<u64>,
}

impl Pacer {
    /// A schedule starting at `origin`; `rate_per_s` is this stream's share of an open-loop
    /// rate (`None` for closed loop), and `phase` a fraction of an interval in `[0, 1)` that
    /// staggers streams so they do not all send at once.
    pub fn new(
        rate_per_s: Option<f64>,
        phase: f64,
        origin: Instant,
        measure_start: Instant,
        end: Option<Instant>,
        quota: Option<u64>,
    ) -> Pacer {
        debug_assert!(rate_per_s.is_none_or(|rate| rate > 0.0 && rate.is_finite()));
        debug_assert!((0.0..1.0).contains(&phase));
        let interval_s = rate_per_s.map(|rate| 1.0 / rate);
        let phase_s = interval_s.map_or(0.0, |interval| phase * interval);
        Pacer { interval_s, origin, phase_s, sent: 0, measure_start, end, quota }
    }

    /// The next action at `now`. `Send` commits: the operation counts as sent.
    pub fn poll(&mut self, now: Instant) -> Pace {
        if self.quota == Some(0) {
            return Pace::Done;
        }
        let intended = match self.interval_s {
            None => now,
            Some(interval) => {
                let offset = self.phase_s + self.sent as f64 * interval;
                self.origin + Duration::from_secs_f64(offset)
            }
        };
        if self.end.is_some_and(|end| intended >= end) {
            return Pace::Done;
        }
        if intended > now {
            return Pace::Wait(intended);
        }
        self.sent += 1;
        if intended >= self.measure_start
            && let Some(quota) = &mut self.quota
        {
            *quota -= 1;
        }
        Pace::Send(intended)
    }

    /// Whether the stream is done sending (a later `poll` returns `Done`).
    pub fn is_done(&self, now: Instant) -> bool {
        self.clone().poll(now) == Pace::Done
    }
}

#[cfg(test)]
mod tests {
    use super::{Pace, Pacer};
    use std::time::{Duration, Instant};

    #[test]
    fn open_loop_keeps_its_schedule_when_late() {
        let origin = Instant::now();
        let mut pacer = Pacer::new(Some(1000.0), 0.5, origin, origin, None, Some(3));
        let first = origin + Duration::from_micros(500);
        assert_eq!(pacer.poll(origin), Pace::Wait(first));
        // 10 ms late: the due operations go out with their own intended times.
        let late = origin + Duration::from_millis(10);
        assert_eq!(pacer.poll(late), Pace::Send(first));
        assert_eq!(pacer.poll(late), Pace::Send(first + Duration::from_millis(1)));
        assert_eq!(pacer.poll(late), Pace::Send(first + Duration::from_millis(2)));
        assert_eq!(pacer.poll(late), Pace::Done);
    }

    #[test]
    fn warm_up_does_not_use_the_quota_and_end_stops() {
        let origin = Instant::now();
        let measure = origin + Duration::from_secs(1);
        let mut pacer = Pacer::new(None, 0.0, origin, measure, None, Some(1));
        assert_eq!(pacer.poll(origin), Pace::Send(origin));
        assert_eq!(pacer.poll(origin), Pace::Send(origin));
        assert_eq!(pacer.poll(measure), Pace::Send(measure));
        assert!(pacer.is_done(measure));
        let mut timed = Pacer::new(None, 0.0, origin, origin, Some(measure), None);
        assert_eq!(timed.poll(origin), Pace::Send(origin));
        assert_eq!(timed.poll(measure), Pace::Done);
    }
}
