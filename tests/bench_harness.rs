//! The benchmark harness's own correctness: against a fake RESP server with a known injected
//! stall, open loop reports the stall in its percentiles (no coordinated omission) while the
//! uncorrected service time and a closed-loop run do not; percentiles match a reference
//! computed from the sorted samples; Zipf frequencies follow the exponent; a dead server fails
//! the run; error replies are counted; the binary writes well-formed JSON and `.hgrm` files.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use corekv::bench::recorder::new_histogram;
use corekv::bench::report::LatencySummary;
use corekv::bench::zipf::ZipfSampler;
use corekv::bench::{self, BenchError, Load, Mode, Stop, Target, Workload};
use corekv::protocol::RequestParser;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// Every `STALL_EVERY`-th reply on a connection is held back `STALL`.
const STALL_EVERY: u64 = 100;
const STALL: Duration = Duration::from_millis(50);

/// A fake RESP server on an ephemeral loopback port: `+OK` to SET, `$-1` to GET, `-ERR fake`
/// to anything else, each connection on its own thread. Stops accepting when dropped.
struct FakeServer {
    address: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl FakeServer {
    fn start(stall_every: Option<u64>) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        std::thread::spawn(move || {
            while !stopping.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        std::thread::spawn(move || serve(stream, stall_every));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        FakeServer { address, stop }
    }

    fn target(&self) -> Target {
        format!("resp://{}", self.address).parse().unwrap()
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn serve(mut stream: TcpStream, stall_every: Option<u64>) {
    stream.set_nodelay(true).unwrap();
    let mut parser = RequestParser::default();
    let (mut buffer, mut chunk, mut replies) = (Vec::new(), [0u8; 4096], 0u64);
    loop {
        let n = match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        buffer.extend_from_slice(&chunk[..n]);
        let mut at = 0;
        let mut out = Vec::new();
        while let Some((request, used)) = parser.parse(&buffer[at..]).unwrap() {
            replies += 1;
            if stall_every.is_some_and(|every| replies % every == 0) {
                // Send what is ready, then stall before this reply.
                stream.write_all(&out).unwrap();
                out.clear();
                std::thread::sleep(STALL);
            }
            match request.name().to_ascii_uppercase().as_slice() {
                b"SET" => out.extend_from_slice(b"+OK\r\n"),
                b"GET" => out.extend_from_slice(b"$-1\r\n"),
                _ => out.extend_from_slice(b"-ERR fake\r\n"),
            }
            at += used;
        }
        buffer.drain(..at);
        if stream.write_all(&out).is_err() {
            return;
        }
    }
}

fn get_set_workload() -> Workload {
    Workload { mix: "get=50,set=50".parse().unwrap(), keys: 1000, ..Workload::default() }
}

fn one_connection(mode: Mode, stop: Stop) -> Load {
    Load {
        connections: 1,
        threads: 1,
        pipeline: 1,
        mode,
        stop,
        pin_threads: false,
        ..Load::default()
    }
}

const MS: f64 = 1_000.0;

/// Open loop at 1,000 ops/s: a 50 ms stall every 100 replies holds back the ~50 requests
/// scheduled behind it, so about half of all requests wait, and the mean and p90 are tens of
/// ms. The
/// service time (from the actual send, what a closed-loop tool measures) sees only the
/// stalled replies themselves: 1 % of requests, so its p90 stays near the round trip.
#[test]
fn open_loop_reports_stalls_that_closed_loop_hides() {
    let server = FakeServer::start(Some(STALL_EVERY));
    let open = one_connection(Mode::Open { rate_per_s: 1_000.0 }, Stop::Requests(1_000));
    let result = bench::run(&server.target(), &get_set_workload(), &open).unwrap();
    let report = bench::Report::new(&server.target(), &get_set_workload(), &open, &result, vec![]);
    let overall = &report.results.overall;
    assert_eq!(overall.ops, 1_000);
    let (latency, service) = (&overall.latency_us, &overall.service_time_us);
    // About half the requests queue behind a stall, waiting 1-50 ms: the mean is ~12 ms
    // (the median sits at the edge of the queued half, so it is not a stable check).
    assert!(latency.mean >= 5.0 * MS, "open-loop mean {} us should include queueing", latency.mean);
    assert!(latency.p90 >= 20.0 * MS, "open-loop p90 {} us should show the stalls", latency.p90);
    assert!(latency.p99 >= 40.0 * MS, "open-loop p99 {} us", latency.p99);
    assert!(latency.max >= 50.0 * MS, "open-loop max {} us", latency.max);
    assert!(service.p90 < 10.0 * MS, "service-time p90 {} us should hide the stalls", service.p90);
    assert!(service.max >= 50.0 * MS, "service-time max {} us is the stall itself", service.max);

    let closed = one_connection(Mode::Closed, Stop::Requests(1_000));
    let result = bench::run(&server.target(), &get_set_workload(), &closed).unwrap();
    let report =
        bench::Report::new(&server.target(), &get_set_workload(), &closed, &result, vec![]);
    let latency = &report.results.overall.latency_us;
    assert!(latency.p90 < 10.0 * MS, "closed-loop p90 {} us", latency.p90);
    assert!(latency.p99_9 >= 50.0 * MS, "closed-loop p99.9 {} us is a stall", latency.p99_9);
}

/// HdrHistogram percentiles against nearest-rank percentiles of the sorted samples, within the
/// histogram's precision (3 significant digits: 0.1 %, plus one for rounding up to the highest
/// equivalent value).
#[test]
fn percentiles_match_a_sorted_reference() {
    let mut rng = SmallRng::seed_from_u64(11);
    let mut samples: Vec<u64> = (0..200_000)
        .map(|i| {
            let base = rng.random_range(20_000..80_000u64); // 20-80 us
            if i % 1000 == 0 { base * 200 } else { base } // 0.1 % at 4-16 ms
        })
        .collect();
    let mut histogram = new_histogram();
    for &sample in &samples {
        histogram.record(sample).unwrap();
    }
    samples.sort_unstable();
    let reference = |quantile: f64| {
        let rank = ((quantile * samples.len() as f64).ceil() as usize).max(1);
        samples[rank - 1] as f64 / 1_000.0
    };
    let summary = LatencySummary::of(&histogram);
    for (got, quantile) in [
        (summary.p50, 0.5),
        (summary.p90, 0.9),
        (summary.p99, 0.99),
        (summary.p99_9, 0.999),
        (summary.p99_99, 0.9999),
        (summary.max, 1.0),
    ] {
        let want = reference(quantile);
        assert!((got - want).abs() <= want * 0.002, "q{quantile}: hdr {got} vs sorted {want}");
    }
    let mean = samples.iter().sum::<u64>() as f64 / samples.len() as f64 / 1_000.0;
    assert!((summary.mean - mean).abs() <= mean * 0.002);
}

/// Over a million draws, rank 1 is drawn about 10^s times as often as rank 10.
#[test]
fn zipf_frequencies_follow_the_exponent() {
    for exponent in [0.99, 1.2] {
        let sampler = ZipfSampler::new(10_000, exponent);
        let mut rng = SmallRng::seed_from_u64(5);
        let (mut rank1, mut rank10) = (0u64, 0u64);
        for _ in 0..1_000_000 {
            match sampler.sample(&mut rng) {
                1 => rank1 += 1,
                10 => rank10 += 1,
                _ => {}
            }
        }
        let ratio = rank1 as f64 / rank10 as f64;
        let expected = 10f64.powf(exponent);
        assert!(
            (ratio / expected - 1.0).abs() < 0.05,
            "s={exponent}: rank1/rank10 = {ratio:.3}, expected {expected:.3}"
        );
    }
}

#[test]
fn dead_server_fails_the_run() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let target: Target = format!("resp://127.0.0.1:{port}").parse().unwrap();
    let load = one_connection(Mode::Closed, Stop::Requests(10));
    let error = bench::run(&target, &get_set_workload(), &load).unwrap_err();
    assert!(matches!(error, BenchError::Connect { .. }), "{error}");
    assert!(error.to_string().contains("cannot connect"), "{error}");

    // The binary exits 2 with a message, and prints no table.
    let output = Command::new(env!("CARGO_BIN_EXE_corekv-bench"))
        .args(["--target", &format!("resp://127.0.0.1:{port}"), "-n", "10", "-q"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot connect"));
    assert!(output.stdout.is_empty());
}

/// A server that accepts and then closes is a lost connection, not a run of zeros.
#[test]
fn server_closing_mid_run_fails_the_run() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let _ = stream.read(&mut [0u8; 64]);
    });
    let target: Target = format!("resp://{address}").parse().unwrap();
    let load = one_connection(Mode::Closed, Stop::Duration(Duration::from_secs(5)));
    let started = Instant::now();
    let error = bench::run(&target, &get_set_workload(), &load).unwrap_err();
    assert!(matches!(error, BenchError::ConnectionLost { .. }), "{error}");
    assert!(started.elapsed() < Duration::from_secs(2), "failed fast, not at the end");
}

/// Error replies are counted per command with their text; `--fail-on-error` exits 1; the JSON
/// and `.hgrm` files are well formed.
#[test]
fn errors_are_counted_and_files_written() {
    let server = FakeServer::start(None);
    let directory = std::env::temp_dir().join(format!("corekv-bench-test-{}", std::process::id()));
    let json = directory.join("run.json");
    let prefix = directory.join("run");
    let output = Command::new(env!("CARGO_BIN_EXE_corekv-bench"))
        .args(["--target", &format!("resp://{}", server.address)])
        .args(["--mix", "get=2,set=1,incr=1", "-c", "2", "-P", "4", "-n", "2000", "-q"])
        .args(["--no-pin", "--fail-on-error", "--json", json.to_str().unwrap()])
        .args(["--hgrm-prefix", prefix.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("INCR: ") && stdout.contains("first: ERR fake"), "{stdout}");

    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["schema"], "corekv-bench/1");
    assert!(report["machine"]["cores"].as_u64().unwrap() >= 1);
    assert!(report["command_line"].as_array().unwrap().len() > 5);
    assert_eq!(report["load"]["stop"]["requests"], 2000);
    let results = &report["results"];
    assert_eq!(results["overall"]["ops"], 2000);
    let commands = results["commands"].as_array().unwrap();
    let incr = commands.iter().find(|command| command["command"] == "INCR").unwrap();
    assert_eq!(incr["errors"], incr["ops"]);
    assert_eq!(incr["first_error"], "ERR fake");
    let get = commands.iter().find(|command| command["command"] == "GET").unwrap();
    assert_eq!(get["errors"], 0);
    assert!(get["latency_us"]["p99_9"].as_f64().unwrap() > 0.0);

    let hgrm = std::fs::read_to_string(directory.join("run-all.hgrm")).unwrap();
    assert!(hgrm.starts_with("       Value     Percentile TotalCount 1/(1-Percentile)\n\n"));
    assert!(hgrm.contains("Total count    =         2000]"), "{hgrm}");
    assert!(directory.join("run-incr.hgrm").exists());
    let _ = std::fs::remove_dir_all(&directory);
}

/// The embedded target runs the same workload in-process.
#[test]
fn embedded_target_runs_every_command() {
    let workload = Workload {
        mix: "get=1,set=1,incr=1,lpush=1,lpop=1,zadd=1,hset=1,mset=1,multi=1".parse().unwrap(),
        keys: 100,
        preload: true,
        ..Workload::default()
    };
    let load =
        Load { threads: 2, stop: Stop::Requests(9_000), pin_threads: false, ..Load::default() };
    let result = bench::run(&Target::Embedded, &workload, &load).unwrap();
    let report = bench::Report::new(&Target::Embedded, &workload, &load, &result, vec![]);
    assert_eq!(report.results.overall.ops, 9_000);
    assert_eq!(report.errors(), 0);
    assert_eq!(report.results.commands.len(), 9);
}

/// `--preset` and `--label` reach the JSON report, and `corekv-bench chart` draws the reports:
/// one bar per (workload, label), the workload named by its shape; a bad input exits 2.
#[test]
fn presets_and_labels_are_charted_end_to_end() {
    let directory = std::env::temp_dir().join(format!("corekv-bench-chart-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    let bench = env!("CARGO_BIN_EXE_corekv-bench");
    let mut reports = Vec::new();
    for (preset, label, requests) in
        [("multi-10", "first", "300"), ("mset-1000", "first", "20"), ("multi-10", "second", "300")]
    {
        let json = directory.join(format!("{label}-{preset}.json"));
        let output = Command::new(bench)
            .args(["--target", "embedded", "--preset", preset, "--keys", "5000", "-n", requests])
            .args(["-q", "--no-pin", "--label", label, "--json", json.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let report: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        assert_eq!(report["label"], label);
        assert_eq!(report["results"]["overall"]["errors"], 0);
        let command = &report["workload"]["mix"]["entries"][0]["command"];
        match preset {
            "multi-10" => assert!(command == "MULTI" && report["workload"]["multi_sets"] == 10),
            _ => assert!(command == "MSET" && report["workload"]["mset_keys"] == 1000),
        }
        reports.push(json.to_str().unwrap().to_owned());
    }
    let svg_path = directory.join("chart.svg");
    let output = Command::new(bench)
        .args(["chart", "--baseline", "second", "-o", svg_path.to_str().unwrap()])
        .args(&reports)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let svg = std::fs::read_to_string(&svg_path).unwrap();
    assert!(svg.starts_with("<?xml") && svg.trim_end().ends_with("</svg>"));
    assert_eq!(svg.matches("class=\"bar\"").count(), 3, "{svg}");
    assert_eq!(svg.matches("data-group=\"MULTI x10\" data-value").count(), 2);
    assert_eq!(svg.matches("data-group=\"MSET x1000\" data-value").count(), 1);
    assert!(svg.contains(">second/first "), "the baseline's ratio to the other series");

    let output = Command::new(bench)
        .args(["chart", "-o", svg_path.to_str().unwrap(), "/nonexistent/run.json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot chart /nonexistent/run.json"));
    let _ = std::fs::remove_dir_all(&directory);
}
