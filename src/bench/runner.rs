//! Runs a workload: connects (so a dead server fails before any timing starts), preloads,
//! starts the generator threads, shows progress, and merges their recorders.
//!
//! A RESP thread multiplexes its connections with `mio`: each turn it lets every connection
//! send what its [`Pacer`] allows up to the pipeline depth, flushes, and polls for replies
//! until the next operation is due. `epoll` waits in whole milliseconds, so the last
//! millisecond before a due send is spent polling without blocking: an open-loop send is then
//! late by microseconds, not by a timer tick that would be charged to the server.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use mio::{Events, Interest, Poll, Token};

use super::client::{Connection, connect_blocking, round_trip};
use super::error::BenchError;
use super::ops::OpGen;
use super::pacer::{Pace, Pacer};
use super::recorder::Recorder;
use super::{Load, Mode, Stop, Target, Workload};
use crate::{Db, Engine};

/// SETs per preload round trip.
const PRELOAD_BATCH: u64 = 1_000;
/// The longest a RESP thread blocks in `poll` before it looks at the clock and the abort flag.
const POLL_MAX: Duration = Duration::from_millis(10);
/// Below this much time to the next due send, poll without blocking (see the module doc).
const SPIN_BELOW: Duration = Duration::from_millis(2);

/// What a run measured.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// Every thread's measurements, merged.
    pub recorder: Recorder,
    /// From the start of the measured window to the last measured completion.
    pub elapsed: Duration,
}

/// Counters the progress line reads while threads run.
#[derive(Debug, Default)]
struct Shared {
    completed: AtomicU64,
    errors: AtomicU64,
    /// Set when a thread fails, so the others stop instead of running out the clock.
    abort: AtomicBool,
}

/// The stream schedules' common frame.
#[derive(Debug, Clone, Copy)]
struct Window {
    origin: Instant,
    measure_start: Instant,
    end: Option<Instant>,
}

impl Window {
    fn pacer(&self, load: &Load, stream: usize, streams: usize) -> Pacer {
        let rate = match load.mode {
            Mode::Closed => None,
            Mode::Open { rate_per_s } => Some(rate_per_s / streams as f64),
        };
        let quota = match load.stop {
            Stop::Requests(total) => {
                let streams = streams as u64;
                Some(total / streams + u64::from((stream as u64) < total % streams))
            }
            Stop::Duration(_) => None,
        };
        let phase = stream as f64 / streams as f64;
        Pacer::new(rate, phase, self.origin, self.measure_start, self.end, quota)
    }
}

/// Runs `workload` against `target` with `load`. Fails when the target cannot be reached,
/// breaks the protocol, stops answering, or completes nothing in the measured window.
pub fn run(target: &Target, workload: &Workload, load: &Load) -> Result<RunResult, BenchError> {
    workload.validate()?;
    load.validate()?;
    let shared = Arc::new(Shared::default());
    let (recorders, window) = match target {
        Target::Resp { address, url } => {
            let connections = (0..load.connections)
                .map(|_| Connection::connect(*address, url, load.connect_timeout))
                .collect::<Result<Vec<_>, _>>()?;
            if workload.preload {
                preload_resp(*address, url, workload, load.connect_timeout)?;
            }
            let window = start_window(load);
            let parts = deal(connections, load.threads);
            let recorders = run_threads(load, &shared, window, parts, |part, shared| {
                resp_thread(part, url, workload, load, window, shared)
            })?;
            (recorders, window)
        }
        Target::Embedded => {
            let engine = Engine::builder().build();
            let db = engine.db(0);
            if workload.preload {
                OpGen::new(workload, u64::MAX)
                    .preload(db)
                    .map_err(|error| BenchError::config(format!("preload failed: {error}")))?;
            }
            let window = start_window(load);
            let streams: Vec<usize> = (0..load.threads).collect();
            let recorders = run_threads(load, &shared, window, streams, |stream, shared| {
                Ok(embedded_thread(stream, db, workload, load, window, shared))
            })?;
            (recorders, window)
        }
    };
    let mut recorder = Recorder::default();
    for part in &recorders {
        recorder.merge(part);
    }
    let ops: u64 = recorder.commands.iter().map(|stats| stats.ops()).sum();
    let Some(last) = recorder.last_completion else { return Err(BenchError::NoCompletions) };
    if ops == 0 {
        return Err(BenchError::NoCompletions);
    }
    let elapsed = last.saturating_duration_since(window.measure_start);
    Ok(RunResult { recorder, elapsed })
}

fn start_window(load: &Load) -> Window {
    let origin = Instant::now();
    let measure_start = origin + load.warmup;
    let end = match load.stop {
        Stop::Duration(duration) => Some(measure_start + duration),
        Stop::Requests(_) => None,
    };
    Window { origin, measure_start, end }
}

/// Deals `items` round-robin into `parts` non-empty groups (fewer when items are fewer).
fn deal<T>(items: Vec<T>, parts: usize) -> Vec<Vec<(usize, T)>> {
    let parts = parts.min(items.len()).max(1);
    let mut groups: Vec<Vec<(usize, T)>> = (0..parts).map(|_| Vec::new()).collect();
    for (i, item) in items.into_iter().enumerate() {
        groups[i % parts].push((i, item));
    }
    groups
}

/// Runs `body` on one scoped thread per part, pinned if asked, printing progress meanwhile.
fn run_threads<P: Send>(
    load: &Load,
    shared: &Arc<Shared>,
    window: Window,
    parts: Vec<P>,
    body: impl Fn(P, &Shared) -> Result<Recorder, BenchError> + Sync,
) -> Result<Vec<Recorder>, BenchError> {
    let cores = if load.pin_threads { core_affinity::get_core_ids() } else { None };
    std::thread::scope(|scope| {
        let handles: Vec<_> = parts
            .into_iter()
            .enumerate()
            .map(|(i, part)| {
                let (body, cores) = (&body, &cores);
                scope.spawn(move || {
                    if let Some(cores) = cores.as_ref().filter(|cores| !cores.is_empty()) {
                        core_affinity::set_for_current(cores[i % cores.len()]);
                    }
                    let result = body(part, shared);
                    if result.is_err() {
                        // Relaxed: a flag polled each turn; nothing is published through it.
                        shared.abort.store(true, Ordering::Relaxed);
                    }
                    result
                })
            })
            .collect();
        let mut progress = super::progress::Progress::new(load.progress, window.measure_start);
        while !handles.iter().all(|handle| handle.is_finished()) {
            std::thread::sleep(Duration::from_millis(50));
            // Relaxed: approximate counters for display only.
            let completed = shared.completed.load(Ordering::Relaxed);
            let errors = shared.errors.load(Ordering::Relaxed);
            progress.tick(Instant::now(), completed, errors);
        }
        progress.finish();
        let mut recorders = Vec::new();
        let mut first_error = None;
        for handle in handles {
            match handle.join().expect("a generator thread panicked") {
                Ok(recorder) => recorders.push(recorder),
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        match first_error {
            Some(error) => Err(error),
            None => Ok(recorders),
        }
    })
}

fn count(shared: &Shared, error: bool) {
    // Relaxed: display counters.
    shared.completed.fetch_add(1, Ordering::Relaxed);
    if error {
        shared.errors.fetch_add(1, Ordering::Relaxed);
    }
}

/// Drives `part`'s connections until every one has sent its share and heard every reply.
fn resp_thread(
    mut part: Vec<(usize, Connection)>,
    url: &str,
    workload: &Workload,
    load: &Load,
    window: Window,
    shared: &Shared,
) -> Result<Recorder, BenchError> {
    let connect_error = |source| BenchError::Connect { target: url.to_owned(), source };
    let mut poll = Poll::new().map_err(connect_error)?;
    let mut streams = Vec::with_capacity(part.len());
    for (slot, (index, connection)) in part.iter_mut().enumerate() {
        poll.registry()
            .register(connection.source(), Token(slot), Interest::READABLE | Interest::WRITABLE)
            .map_err(connect_error)?;
        let pacer = window.pacer(load, *index, load.connections);
        streams.push((OpGen::new(workload, *index as u64), pacer));
    }
    let mut recorder = Recorder::default();
    let mut events = Events::with_capacity(part.len().max(16));
    let mut sending_done_at: Option<Instant> = None;
    loop {
        // Relaxed: see `Shared::abort`.
        if shared.abort.load(Ordering::Relaxed) {
            return Ok(recorder);
        }
        let now = Instant::now();
        let mut next_due: Option<Instant> = None;
        let (mut all_done, mut pending) = (true, 0u64);
        for ((_, connection), (generator, pacer)) in part.iter_mut().zip(&mut streams) {
            while connection.in_flight() < load.pipeline {
                match pacer.poll(now) {
                    Pace::Send(intended) => {
                        let command = generator.next_command();
                        connection.queue(generator, command, intended);
                    }
                    Pace::Wait(at) => {
                        next_due = Some(next_due.map_or(at, |due| due.min(at)));
                        break;
                    }
                    Pace::Done => break,
                }
            }
            connection.flush()?;
            all_done &= connection.in_flight() == 0 && pacer.is_done(now);
            pending += connection.in_flight() as u64;
        }
        if all_done {
            return Ok(recorder);
        }
        if streams.iter().all(|(_, pacer)| pacer.is_done(now)) {
            let since = *sending_done_at.get_or_insert(now);
            if now.saturating_duration_since(since) > load.drain_timeout {
                return Err(BenchError::Timeout { target: url.to_owned(), pending });
            }
        }
        let timeout = match next_due {
            Some(due) => {
                let wait = due.saturating_duration_since(now).min(POLL_MAX);
                if wait < SPIN_BELOW { Duration::ZERO } else { wait - Duration::from_millis(1) }
            }
            None => POLL_MAX,
        };
        match poll.poll(&mut events, Some(timeout)) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(source) => {
                return Err(BenchError::ConnectionLost { target: url.to_owned(), source });
            }
        }
        if events.is_empty() && timeout.is_zero() {
            // Spinning towards a due send: let a server thread sharing this core run.
            std::thread::yield_now();
        }
        for event in events.iter() {
            let (_, connection) = &mut part[event.token().0];
            if event.is_writable() {
                connection.flush()?;
            }
            if event.is_readable() || event.is_read_closed() || event.is_error() {
                connection.read(|done, completed| {
                    if done.intended >= window.measure_start {
                        let error = done.error.as_ref();
                        let describe = error.map(|text| move || text.clone());
                        let describe = describe.as_ref().map(|f| f as &dyn Fn() -> String);
                        recorder.record(
                            done.command,
                            done.intended,
                            done.sent,
                            completed,
                            describe,
                        );
                        count(shared, error.is_some());
                    }
                })?;
            }
        }
    }
}

/// Calls the engine in-process on one stream's schedule.
fn embedded_thread(
    stream: usize,
    db: &Db,
    workload: &Workload,
    load: &Load,
    window: Window,
    shared: &Shared,
) -> Recorder {
    let mut pacer = window.pacer(load, stream, load.threads);
    let mut generator = OpGen::new(workload, stream as u64);
    let mut recorder = Recorder::default();
    loop {
        let now = Instant::now();
        // Relaxed: see `Shared::abort`.
        if shared.abort.load(Ordering::Relaxed) {
            return recorder;
        }
        match pacer.poll(now) {
            Pace::Done => return recorder,
            Pace::Wait(at) => {
                let wait = at.saturating_duration_since(now);
                if wait >= SPIN_BELOW {
                    std::thread::sleep(wait - Duration::from_millis(1));
                } else {
                    std::hint::spin_loop();
                }
            }
            Pace::Send(intended) => {
                let command = generator.next_command();
                let sent = Instant::now();
                let result = generator.execute(command, db);
                let completed = Instant::now();
                if intended >= window.measure_start {
                    let describe = |error: &crate::Error| {
                        let text = error.to_string();
                        move || text.clone()
                    };
                    let describe = result.as_ref().err().map(describe);
                    let describe = describe.as_ref().map(|f| f as &dyn Fn() -> String);
                    recorder.record(command, intended, sent, completed, describe);
                    count(shared, result.is_err());
                }
            }
        }
    }
}

/// Sets every string key over one blocking connection, in batches.
fn preload_resp(
    address: std::net::SocketAddr,
    url: &str,
    workload: &Workload,
    timeout: Duration,
) -> Result<(), BenchError> {
    let mut stream = connect_blocking(address, url, timeout)?;
    let generator = OpGen::new(workload, u64::MAX);
    let mut request = Vec::new();
    let mut start = 0;
    while start < workload.keys {
        let end = (start + PRELOAD_BATCH).min(workload.keys);
        request.clear();
        let replies = generator.write_preload(start..end, &mut request);
        let errors = round_trip(&mut stream, url, &request, replies)?;
        if errors > 0 {
            return Err(BenchError::config(format!("preload: {url} refused {errors} SETs")));
        }
        start = end;
    }
    Ok(())
}
