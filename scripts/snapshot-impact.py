#!/usr/bin/env python3
"""Snapshots and restarts with 1M keys: corekv against Debian's redis-server, one run.

For each server (memory-only, then filled with N keys of 16-byte names and 32-byte values):

1. Baseline latency: corekv-bench in open loop at a fixed rate (coordinated omission
   corrected), GET/SET 90/10, for D seconds after a 3 s warm-up (the first writes after the
   fill grow the tables): p50, p99, p99.9.
2. The same run with a BGSAVE started half a second into the measured window: the latency while the snapshot
   runs, the snapshot's duration, and the server's peak RSS (Redis: the parent plus its
   fork child) over the dataset's RSS before the snapshot.
3. Restart from that snapshot: seconds from exec until DBSIZE answers N.
4. Restart from an AOF: a second server with appendonly yes (appendfsync everysec) gets the
   same N keys, is killed with SIGKILL, and restarted: seconds until DBSIZE answers N.

Every server binds 127.0.0.1 on a free port in its own temp dir and is killed at the end.
Usage: scripts/snapshot-impact.py [--keys N] [--rate OPS] [--seconds D] [--quick]
Writes results/snapshot-restart.json and .md (target/... with --quick).
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts" / "lib"))
from compare_peers import machine_facts  # noqa: E402

TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
COREKV = TARGET / "release" / "corekv-server"
BENCH = TARGET / "release" / "corekv-bench"
REDIS = Path(os.environ.get("REDIS_SERVER", "/usr/bin/redis-server"))
SERVERS = []


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(port, *args, timeout=600):
    return subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True,
                          text=True, timeout=timeout).stdout.strip()


def start(binary, directory, port, *flags):
    log = open(directory / "server.log", "ab")
    proc = subprocess.Popen([str(binary), "--port", str(port), "--bind", "127.0.0.1",
                             "--dir", str(directory), *flags], stdout=log, stderr=log,
                            cwd=directory)
    SERVERS.append(proc)
    return proc


def wait_keys(port, keys, proc, limit_s=600):
    """Seconds until DBSIZE answers at least `keys` (polling every 5 ms)."""
    started = time.monotonic()
    while time.monotonic() - started < limit_s:
        if proc.poll() is not None:
            sys.exit(f"error: server on port {port} exited (see its server.log)")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"DBSIZE\r\n")
                reply = s.recv(64)
                if reply.startswith(b":") and int(reply[1:].strip()) >= keys:
                    return time.monotonic() - started
        except (OSError, ValueError):
            pass
        time.sleep(0.005)
    sys.exit(f"error: port {port} did not reach {keys} keys in {limit_s} s")


def fill(port, keys):
    gen = subprocess.Popen([sys.executable, str(ROOT / "scripts/lib/compare_peers.py"), "fill",
                            "--keyspace", str(keys), "--value-bytes", "32"],
                           stdout=subprocess.PIPE)
    out = subprocess.run(["redis-cli", "-p", str(port), "--pipe"], stdin=gen.stdout,
                         capture_output=True, text=True)
    gen.wait()
    if "errors: 0," not in out.stdout:
        sys.exit(f"error: filling port {port} failed: {out.stdout} {out.stderr}")


def rss_kb(pid):
    """RSS of pid and its children (Redis's fork child), in KiB."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def bench(port, rate, seconds, keys, json_path):
    return subprocess.Popen([str(BENCH), "--target", f"resp://127.0.0.1:{port}",
                             "--mix", "get=90,set=10", "--rate", str(rate), "-c", "8",
                             "-t", "1", "--no-pin", "-d", f"{seconds}s", "--keys", str(keys),
                             "--value-size", "32", "--warmup", "3s", "-q", "--fail-on-error", "--json",
                             str(json_path)], stdout=subprocess.DEVNULL)


def latency(json_path):
    overall = json.loads(Path(json_path).read_text())["results"]["overall"]
    lat = overall["latency_us"]
    return {"ops_per_s": overall["ops_per_s"], "p50_us": lat["p50"], "p99_us": lat["p99"],
            "p99_9_us": lat["p99_9"], "max_us": lat["max"]}


def measure(name, binary, args, work):
    directory = Path(tempfile.mkdtemp(prefix=f"snap-{name}-", dir=work))
    port = free_port()
    proc = start(binary, directory, port, "--save", "", "--appendonly", "no")
    wait_keys(port, 0, proc, 30)
    fill(port, args.keys)
    rss_before = rss_kb(proc.pid)
    result = {"rss_dataset_kib": rss_before}
    # 1. Baseline.
    run = bench(port, args.rate, args.seconds, args.keys, directory / "base.json")
    run.wait()
    if run.returncode:
        sys.exit(f"error: corekv-bench failed against {name}")
    result["baseline"] = latency(directory / "base.json")
    # 2. The same load with a BGSAVE.
    run = bench(port, args.rate, args.seconds, args.keys, directory / "snap.json")
    time.sleep(3.5)  # the warm-up, then half a second of measured load
    saves_before = cli(port, "INFO", "persistence")
    started = time.monotonic()
    reply = cli(port, "BGSAVE")
    if "started" not in reply:
        sys.exit(f"error: BGSAVE on {name}: {reply}")
    peak = rss_before
    while True:
        peak = max(peak, rss_kb(proc.pid))
        info = cli(port, "INFO", "persistence")
        if "rdb_bgsave_in_progress:0" in info and info != saves_before:
            break
        time.sleep(0.02)
    result["snapshot_seconds"] = round(time.monotonic() - started, 3)
    run.wait()
    if run.returncode:
        sys.exit(f"error: corekv-bench failed against {name} during BGSAVE")
    result["during_snapshot"] = latency(directory / "snap.json")
    result["rss_peak_kib"] = peak
    result["rss_peak_over_dataset"] = round(peak / max(rss_before, 1), 3)
    result["p99_during_over_baseline"] = round(
        result["during_snapshot"]["p99_us"] / max(result["baseline"]["p99_us"], 1e-9), 3)
    # 3. Restart from the snapshot.
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    port = free_port()
    proc = start(binary, directory, port, "--appendonly", "no")
    result["restart_from_snapshot_s"] = round(wait_keys(port, args.keys, proc), 3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    # 4. Restart from an AOF.
    aof_dir = Path(tempfile.mkdtemp(prefix=f"aof-{name}-", dir=work))
    port = free_port()
    proc = start(binary, aof_dir, port, "--save", "", "--appendonly", "yes",
                 "--appendfsync", "everysec")
    wait_keys(port, 0, proc, 30)
    fill(port, args.keys)
    time.sleep(1.5)  # everysec: let the last second reach the file
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    port = free_port()
    proc = start(binary, aof_dir, port, "--save", "", "--appendonly", "yes")
    result["restart_from_aof_s"] = round(wait_keys(port, args.keys, proc), 3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--rate", type=int, default=20_000)
    parser.add_argument("--seconds", type=int, default=6)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.keys, args.seconds = min(args.keys, 50_000), min(args.seconds, 2)
    for binary in (COREKV, BENCH, REDIS):
        if not binary.exists():
            sys.exit(f"error: {binary} not found (cargo build --release; apt-get install "
                     "redis-server)")
    work = Path(tempfile.mkdtemp(prefix="snapshot-impact-"))
    loadavg = open("/proc/loadavg").read().split()[:3]
    try:
        results = {name: measure(name, binary, args, work)
                   for name, binary in (("corekv", COREKV), ("redis", REDIS))}
    finally:
        for proc in SERVERS:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        shutil.rmtree(work, ignore_errors=True)
    machine, source = machine_facts(" ".join(loadavg))
    command = "scripts/snapshot-impact.py " + " ".join(sys.argv[1:])
    report = {"schema": "corekv-snapshot-impact/1", "command": command, "machine": machine,
              "source": source, "keys": args.keys, "value_bytes": 32, "rate": args.rate,
              "seconds": args.seconds, "servers": results}
    out_dir = ROOT / ("target" if args.quick else "results")
    out_dir.mkdir(exist_ok=True)
    (out_dir / "snapshot-restart.json").write_text(json.dumps(report, indent=2) + "\n")
    c, r = results["corekv"], results["redis"]
    rows = [
        ("p99 baseline (us)", c["baseline"]["p99_us"], r["baseline"]["p99_us"]),
        ("p99 during BGSAVE (us)", c["during_snapshot"]["p99_us"], r["during_snapshot"]["p99_us"]),
        ("p99 during / baseline", c["p99_during_over_baseline"], r["p99_during_over_baseline"]),
        ("p99.9 during BGSAVE (us)", c["during_snapshot"]["p99_9_us"],
         r["during_snapshot"]["p99_9_us"]),
        ("snapshot seconds", c["snapshot_seconds"], r["snapshot_seconds"]),
        ("peak RSS / dataset RSS", c["rss_peak_over_dataset"], r["rss_peak_over_dataset"]),
        ("dataset RSS (MiB)", round(c["rss_dataset_kib"] / 1024), round(r["rss_dataset_kib"] / 1024)),
        ("restart from snapshot (s)", c["restart_from_snapshot_s"], r["restart_from_snapshot_s"]),
        ("restart from AOF (s)", c["restart_from_aof_s"], r["restart_from_aof_s"]),
    ]
    lines = [
        f"# Snapshots and restarts, {args.keys:,} keys (32-byte values)",
        "",
        f"Command: `{command}`  ",
        f"Machine: {machine['cpu']}, {machine['cores']} cores, Linux {machine['kernel']}, load "
        f"average at start {' '.join(machine['loadavg_at_start'])}  ",
        f"Commit: {source['git_commit'][:12]}{' (dirty)' if source['git_dirty'] else ''}  ",
        f"Latency: corekv-bench open loop at {args.rate:,} ops/s (coordinated omission "
        f"corrected), GET/SET 90/10, 8 connections, {args.seconds} s per run; one run each "
        "(not a median: read it with the machine's noise in mind).",
        "",
        "| | corekv | redis 7.0 | corekv/redis |",
        "|---|---:|---:|---:|",
    ]
    for label, cv, rv in rows:
        ratio = f"{cv / rv:.2f}x" if isinstance(cv, (int, float)) and rv else "-"
        lines.append(f"| {label} | {cv} | {rv} | {ratio} |")
    (out_dir / "snapshot-restart.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
