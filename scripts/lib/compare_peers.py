#!/usr/bin/env python3
"""Helper for scripts/compare-peers.sh: one benchmark run, and the report.

Subcommands:
  fill    print RESP SETs for every key redis-benchmark's -r KEYSPACE can name, so GETs hit
  run     run redis-benchmark once (--csv) against one server, with that server's CPU seconds
          from /proc/<pid>/stat before and after; append one JSON line to --append.
          Exits non-zero if redis-benchmark fails, prints an error, or the server died.
  report  aggregate the JSON lines into medians and ratios; write the .json and .md reports.
  check   check that a report is well formed: every test row has every named server with a
          positive throughput and ordered, positive latencies (CI; says nothing about speed).

Why a helper: medians, ratios and /proc parsing are fragile in bash arithmetic.
"""

import argparse
import csv
import datetime
import io
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import time

CLOCK_TICKS_PER_S = os.sysconf("SC_CLK_TCK")
# Lines redis-benchmark prints for server error replies, lost connections and failed
# connects ("Error from server: ERR ...", "Error: Connection reset by peer", ...).
ERROR_LINE = re.compile(r"^\s*(Error|ERR\b|WRONGTYPE|Could not connect)", re.IGNORECASE)
CSV_COLUMNS = ("test", "rps", "avg_latency_ms", "min_latency_ms", "p50_latency_ms",
               "p95_latency_ms", "p99_latency_ms", "max_latency_ms")
# Ratios are corekv over these peers.
PEERS = ("redis", "valkey")


def process_state_and_cpu_s(pid):
    """(state, utime+stime seconds) of pid, all threads included; None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    # Field 2 (comm) may hold spaces and parentheses: split after the last ')'.
    fields = stat[stat.rindex(")") + 2:].split()
    state, utime_ticks, stime_ticks = fields[0], int(fields[11]), int(fields[12])
    return state, (utime_ticks + stime_ticks) / CLOCK_TICKS_PER_S


def server_cpu_s_or_die(name, pid):
    sample = process_state_and_cpu_s(pid)
    if sample is None or sample[0] in ("Z", "X"):
        sys.exit(f"error: {name} (pid {pid}) is not running")
    return sample[1]


def cmd_fill(args):
    out = sys.stdout.buffer
    value = b"v" * args.value_bytes
    chunk = []
    for i in range(args.keyspace):
        key = b"key:%012d" % i  # redis-benchmark's __rand_int__ key names
        chunk.append(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n"
                     % (len(key), key, len(value), value))
        if len(chunk) == 10000:
            out.write(b"".join(chunk))
            chunk = []
    out.write(b"".join(chunk))


def cmd_run(args):
    command = ["redis-benchmark", "-h", "127.0.0.1", "-p", str(args.port),
               "-c", str(args.clients), "-P", str(args.pipeline), "-t", args.test,
               "-r", str(args.keyspace), "-d", str(args.value_bytes),
               "-n", str(args.requests), "--csv"]
    server_cpu_s_before = server_cpu_s_or_die(args.server, args.pid)
    client_rusage_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    try:
        # A redis-benchmark that cannot connect spins forever: bound it.
        done = subprocess.run(command, capture_output=True, text=True, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        sys.exit(f"error: {args.server}: redis-benchmark took over {args.timeout}s: "
                 + " ".join(command))
    wall_s = time.monotonic() - started
    client_rusage_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_cpu_s_after = server_cpu_s_or_die(args.server, args.pid)

    problems = [line for line in (done.stdout + "\n" + done.stderr).splitlines()
                if ERROR_LINE.match(line)]
    if done.stderr.strip():
        # Warnings (e.g. "Could not fetch server CONFIG") are shown, not fatal.
        sys.stderr.write(done.stderr)
    rows = [row for row in csv.DictReader(io.StringIO(done.stdout))
            if row.get("test", "").upper() == args.test.upper()]
    if done.returncode != 0 or problems or len(rows) != 1:
        sys.exit(f"error: {args.server}: redis-benchmark failed (exit {done.returncode}, "
                 f"{len(rows)} result rows): " + " ".join(command) + "\n"
                 + "\n".join(problems[:10] or [done.stdout[-2000:], done.stderr[-2000:]]))
    row = rows[0]
    result = {
        "server": args.server, "round": args.round, "test": args.test.upper(),
        "pipeline": args.pipeline, "requests": args.requests,
        **{column: float(row[column]) for column in CSV_COLUMNS[1:]},
        "server_cpu_s": round(server_cpu_s_after - server_cpu_s_before, 3),
        "client_cpu_s": round(
            (client_rusage_after.ru_utime - client_rusage_before.ru_utime)
            + (client_rusage_after.ru_stime - client_rusage_before.ru_stime), 3),
        "wall_s": round(wall_s, 3),
        "command": " ".join(command),
    }
    with open(args.append, "a") as f:
        f.write(json.dumps(result) + "\n")
    print(f"   round {args.round} {args.server:7} {result['test']:4} P{args.pipeline:<3} "
          f"{result['rps']:>11,.0f} rps  p50 {result['p50_latency_ms']:.3f} ms  "
          f"p99 {result['p99_latency_ms']:.3f} ms  server CPU {result['server_cpu_s']:.2f} s  "
          f"client CPU {result['client_cpu_s']:.2f} s  wall {wall_s:.2f} s", file=sys.stderr)


def ratio(numerator, denominator):
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator, 3)


def summarize(runs):
    """Medians over rounds for one server, test and pipeline."""
    ops_per_cpu_s = [r["requests"] / r["server_cpu_s"] for r in runs if r["server_cpu_s"] > 0]
    rps = [r["rps"] for r in runs]
    median_rps = statistics.median(rps)
    return {
        "rounds": {
            "rps": rps,
            "p50_latency_ms": [r["p50_latency_ms"] for r in runs],
            "p99_latency_ms": [r["p99_latency_ms"] for r in runs],
            "server_cpu_s": [r["server_cpu_s"] for r in runs],
            "client_cpu_s": [r["client_cpu_s"] for r in runs],
            "wall_s": [r["wall_s"] for r in runs],
        },
        "requests": runs[0]["requests"],
        "median": {
            "rps": round(median_rps, 1),
            "p50_latency_ms": statistics.median(r["p50_latency_ms"] for r in runs),
            "p99_latency_ms": statistics.median(r["p99_latency_ms"] for r in runs),
            "server_cpu_s": statistics.median(r["server_cpu_s"] for r in runs),
            "client_cpu_s": statistics.median(r["client_cpu_s"] for r in runs),
            "ops_per_server_cpu_s": (round(statistics.median(ops_per_cpu_s), 1)
                                     if ops_per_cpu_s else None),
        },
        # (max - min) / median: how much the rounds disagreed, a noise gauge.
        "rps_spread_pct": round(100 * (max(rps) - min(rps)) / median_rps, 1),
    }


def machine_facts(loadavg_at_start):
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), "?")

    def git(*argv):
        try:
            return subprocess.run(["git", *argv], capture_output=True, text=True,
                                  check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return "?"

    return {
        "cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release(),
        "loadavg_at_start": loadavg_at_start.split(),
        "loadavg_at_end": open("/proc/loadavg").read().split()[:3],
        "clock_ticks_per_s": CLOCK_TICKS_PER_S,
    }, {
        "git_commit": git("rev-parse", "HEAD"),
        "git_dirty": git("status", "--porcelain", "--untracked-files=no") not in ("", "?"),
    }


def cmd_report(args):
    runs = [json.loads(line) for line in open(args.runs) if line.strip()]
    # One server a line: name, binary, version, extra args; tab-separated.
    servers = [dict(zip(("name", "binary", "version", "args"), line.rstrip("\n").split("\t")))
               for line in open(args.servers) if line.strip()]
    names = [s["name"] for s in servers]
    keys = sorted({(r["test"], r["pipeline"]) for r in runs},
                  key=lambda k: (k[1], ["SET", "GET"].index(k[0]) if k[0] in ("SET", "GET")
                                 else 9, k[0]))
    results = []
    for test, pipeline in keys:
        entry = {"test": test, "pipeline": pipeline, "servers": {}}
        for name in names:
            mine = sorted((r for r in runs if r["server"] == name and r["test"] == test
                           and r["pipeline"] == pipeline), key=lambda r: r["round"])
            if mine:
                entry["servers"][name] = summarize(mine)
        medians = {name: s["median"] for name, s in entry["servers"].items()}
        peers = [p for p in PEERS if p in medians]
        faster = max(peers, key=lambda p: medians[p]["rps"]) if peers else None
        entry["faster_peer"] = faster
        ratios = {}
        if "corekv" in medians:
            core = medians["corekv"]
            for label, peer in [(f"corekv/{p}", p) for p in peers] + (
                    [("corekv/faster-peer", faster)] if faster else []):
                ratios[label] = {
                    "rps": ratio(core["rps"], medians[peer]["rps"]),
                    "p99_latency_ms": ratio(core["p99_latency_ms"],
                                            medians[peer]["p99_latency_ms"]),
                    "ops_per_server_cpu_s": ratio(core["ops_per_server_cpu_s"],
                                                  medians[peer]["ops_per_server_cpu_s"]),
                }
        entry["ratios"] = ratios
        results.append(entry)

    machine, source = machine_facts(args.loadavg_at_start)
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    bench_version = subprocess.run(["redis-benchmark", "--version"], capture_output=True,
                                   text=True).stdout.strip()
    workload = {
        "tool": bench_version, "clients": args.clients, "keyspace": args.keyspace,
        "value_bytes": args.value_bytes, "rounds": args.rounds, "mode": args.mode,
        "requests_per_run": {f"P{p}": n for p, n in
                             sorted({(r["pipeline"], r["requests"]) for r in runs})},
        "order": "per round, for each pipeline and test, every server in turn; the server "
                 "order rotates by one each round",
        "prefill": f"every key of the key space SET with a {args.value_bytes}-byte value "
                   "before the first run, so GETs hit",
    }
    notes = [
        f"Client and servers share the machine's {machine['cores']} cores: nothing is "
        "pinned, and redis-benchmark (one thread) competes with the server for CPU, so "
        "throughput is partly a measure of the client. Ops per server-CPU-second "
        "(requests / the server's utime+stime over the run, all threads, from "
        f"/proc/<pid>/stat at {CLOCK_TICKS_PER_S} ticks/s) is the fairer efficiency figure.",
        "Each test is its own redis-benchmark run (-t set, then -t get) so CPU seconds "
        "belong to one test.",
        "Figures are medians over the rounds; every round's value is in the JSON.",
        "Latency percentiles are redis-benchmark's (closed loop, so not corrected for "
        "coordinated omission).",
    ]
    report = {
        "date": date, "command": args.command, "machine": machine, **source,
        "workload": workload, "servers": servers, "results": results, "notes": notes,
    }
    with open(args.json, "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")
    write_markdown(args.md, report, names)
    print(open(args.md).read())


def fmt(value, spec):
    return "–" if value is None else format(value, spec)


def write_markdown(path, report, names):
    peers = [p for p in PEERS if p in names]
    w = report["workload"]
    lines = [
        "# corekv vs peers (redis-benchmark)",
        "",
        f"{w['clients']} clients, `-r {w['keyspace']}` keys, `-d {w['value_bytes']}`-byte "
        f"values, {w['rounds']} round(s), medians; requests per run: "
        + ", ".join(f"{k} {v:,}" for k, v in w["requests_per_run"].items())
        + f". Mode: {w['mode']}.",
        "",
    ]
    header = ["test", "P"] + [f"{n} rps" for n in names]
    header += [f"corekv/{p}" for p in peers if "corekv" in names]
    header += [f"{n} p99 ms" for n in names]
    header += [f"{n} ops/CPU-s" for n in names]
    header += [f"CPU-eff. corekv/{p}" for p in peers if "corekv" in names]
    lines += ["| " + " | ".join(header) + " |",
              "|" + "|".join(["---"] * 2 + ["---:"] * (len(header) - 2)) + "|"]
    for entry in report["results"]:
        medians = {n: entry["servers"][n]["median"] for n in names if n in entry["servers"]}

        def cell(name, field, spec):
            return fmt(medians[name][field], spec) if name in medians else "–"

        def ratio_cell(peer, field):
            r = entry["ratios"].get(f"corekv/{peer}")
            return fmt(r[field], ".2f") + "x" if r and r[field] is not None else "–"

        row = [entry["test"], str(entry["pipeline"])]
        row += [cell(n, "rps", ",.0f") for n in names]
        row += [ratio_cell(p, "rps") for p in peers if "corekv" in names]
        row += [cell(n, "p99_latency_ms", ".3f") for n in names]
        row += [cell(n, "ops_per_server_cpu_s", ",.0f") for n in names]
        row += [ratio_cell(p, "ops_per_server_cpu_s") for p in peers if "corekv" in names]
        lines.append("| " + " | ".join(row) + " |")
    lines += ["", "Servers:", ""]
    for s in report["servers"]:
        extra = f" `{s['args']}`" if s.get("args") else ""
        lines.append(f"- {s['name']}: {s['version']} (`{s['binary']}`{extra})")
    lines += ["", "Notes:", ""] + [f"- {n}" for n in report["notes"]]
    m = report["machine"]
    lines += [
        "",
        f"Machine: {m['cores']} cores, {m['cpu']}, Linux {m['kernel']}; load average "
        f"{' '.join(m['loadavg_at_start'])} at the start, "
        f"{' '.join(m['loadavg_at_end'])} at the end. Date: {report['date']}. Commit: "
        f"{report['git_commit'][:12]}{' (dirty)' if report['git_dirty'] else ''}.",
        "",
        f"Command: `{report['command']}`",
    ]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def cmd_check(args):
    problems = []
    try:
        with open(args.json) as f:
            report = json.load(f)
    except (OSError, ValueError) as error:
        sys.exit(f"error: {args.json}: {error}")
    named = [server.get("name") for server in report.get("servers", [])]
    if named != args.servers:
        problems.append(f"servers {named}, expected {args.servers}")
    rows = report.get("results", [])
    tests = {(row.get("test"), row.get("pipeline")) for row in rows}
    if len(rows) == 0 or len(tests) != len(rows):
        problems.append(f"{len(rows)} result rows, {len(tests)} distinct (test, pipeline)")
    for row in rows:
        where = f"{row.get('test')} P{row.get('pipeline')}"
        for name in args.servers:
            median = row.get("servers", {}).get(name, {}).get("median", {})
            rps, p50, p99 = (median.get(key) for key in
                             ("rps", "p50_latency_ms", "p99_latency_ms"))
            numbers = all(isinstance(v, (int, float)) for v in (rps, p50, p99))
            if not numbers or not (rps > 0 and 0 < p50 <= p99):
                problems.append(f"{where} {name}: rps {rps}, p50 {p50} ms, p99 {p99} ms")
        for peer in (name for name in args.servers if name in PEERS):
            if not isinstance(row.get("ratios", {}).get(f"corekv/{peer}", {}).get("rps"), float):
                problems.append(f"{where}: no corekv/{peer} throughput ratio")
    if problems:
        sys.exit(f"error: {args.json} is not a well-formed report:\n  " + "\n  ".join(problems))
    print(f"== {args.json}: {len(rows)} rows x {len(args.servers)} servers, well formed",
          file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="subcommand", required=True)

    fill = sub.add_parser("fill")
    fill.add_argument("--keyspace", type=int, required=True)
    fill.add_argument("--value-bytes", type=int, required=True)
    fill.set_defaults(func=cmd_fill)

    run = sub.add_parser("run")
    run.add_argument("--server", required=True)
    run.add_argument("--pid", type=int, required=True)
    run.add_argument("--port", type=int, required=True)
    run.add_argument("--round", type=int, required=True)
    run.add_argument("--test", required=True)
    run.add_argument("--pipeline", type=int, required=True)
    run.add_argument("--requests", type=int, required=True)
    run.add_argument("--clients", type=int, required=True)
    run.add_argument("--keyspace", type=int, required=True)
    run.add_argument("--value-bytes", type=int, required=True)
    run.add_argument("--timeout", type=float, required=True)
    run.add_argument("--append", required=True)
    run.set_defaults(func=cmd_run)

    check = sub.add_parser("check")
    check.add_argument("--json", required=True)
    check.add_argument("--servers", nargs="+", required=True)
    check.set_defaults(func=cmd_check)

    report = sub.add_parser("report")
    report.add_argument("--runs", required=True)
    report.add_argument("--servers", required=True)
    report.add_argument("--json", required=True)
    report.add_argument("--md", required=True)
    report.add_argument("--command", required=True)
    report.add_argument("--mode", required=True)
    report.add_argument("--rounds", type=int, required=True)
    report.add_argument("--loadavg-at-start", required=True)
    report.add_argument("--clients", type=int, required=True)
    report.add_argument("--keyspace", type=int, required=True)
    report.add_argument("--value-bytes", type=int, required=True)
    report.set_defaults(func=cmd_report)

    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
