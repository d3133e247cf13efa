#!/usr/bin/env python3
"""Report for scripts/compare-modes.sh: medians per (server, mode, mix, pipeline) from the
corekv-bench JSON files, ratios to the same server's memory-only figure, corekv/redis per mode.
"""

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from compare_peers import machine_facts  # noqa: E402

MODES = ["memory", "aof-no", "aof-everysec", "aof-always", "snapshot"]


def ratio(a, b):
    return round(a / b, 3) if a and b else None


def main():
    parser = argparse.ArgumentParser()
    for flag in ("--runs", "--servers", "--json", "--md", "--command", "--duration",
                 "--loadavg-at-start", "--bench"):
        parser.add_argument(flag, required=True)
    for flag in ("--rounds", "--keys", "--connections", "--value-bytes"):
        parser.add_argument(flag, type=int, required=True)
    parser.add_argument("--chart-inputs", help="write LABEL=PATH of each median run here")
    parser.add_argument("--chart", help="the chart's file name, linked from the md")
    args = parser.parse_args()

    servers = {}
    for line in open(args.servers):
        if line.strip():
            name, mode, version, flags = line.rstrip("\n").split("\t")
            servers.setdefault(name, {"version": version, "modes": {}})["modes"][mode] = flags

    samples = {}
    for line in open(args.runs):
        if not line.strip():
            continue
        name, mode, mix, pipeline, path = line.rstrip("\n").split("\t")
        report = json.load(open(path))
        overall = report["results"]["overall"]
        if overall["errors"]:
            sys.exit(f"error: {name}/{mode} {mix} P{pipeline}: {overall['first_error']}")
        if not overall["ops"]:
            sys.exit(f"error: {name}/{mode} {mix} P{pipeline}: no operation completed")
        samples.setdefault((name, mode, mix, int(pipeline)), []).append({
            "ops_per_s": overall["ops_per_s"],
            "p50_us": overall["latency_us"]["p50"],
            "p99_us": overall["latency_us"]["p99"],
            "p99_9_us": overall["latency_us"]["p99_9"],
            "path": path,
        })

    rows = []
    for (name, mode, mix, pipeline), runs in sorted(
            samples.items(), key=lambda kv: (kv[0][2], kv[0][3], kv[0][0], MODES.index(kv[0][1]))):
        median = {k: statistics.median(r[k] for r in runs) for k in runs[0] if k != "path"}
        # The run nearest the median throughput stands for the row in the chart.
        chart_run = min(runs, key=lambda r: abs(r["ops_per_s"] - median["ops_per_s"]))["path"]
        for run in runs:
            del run["path"]
        rows.append({"server": name, "mode": mode, "mix": mix, "pipeline": pipeline,
                     "runs": runs, "median": median, "chart_run": chart_run})
    by_key = {(r["server"], r["mode"], r["mix"], r["pipeline"]): r for r in rows}
    for row in rows:
        memory = by_key.get((row["server"], "memory", row["mix"], row["pipeline"]))
        row["vs_memory_only"] = ratio(row["median"]["ops_per_s"],
                                      memory and memory["median"]["ops_per_s"])
        redis = by_key.get(("redis", row["mode"], row["mix"], row["pipeline"]))
        if row["server"] == "corekv" and redis:
            row["corekv_vs_redis"] = ratio(row["median"]["ops_per_s"],
                                           redis["median"]["ops_per_s"])

    machine, source = machine_facts(args.loadavg_at_start)
    report = {
        "schema": "corekv-compare-modes/1",
        "command": args.command,
        "machine": machine,
        "source": source,
        "load": {"generator": args.bench, "connections": args.connections, "threads": 1,
                 "loop": "closed", "duration": args.duration, "rounds": args.rounds,
                 "keys": args.keys, "value_bytes": args.value_bytes, "preload": True},
        "servers": servers,
        "rows": rows,
    }
    chart_runs = [(f"{row['server']}-{row['mode']}", row.pop("chart_run")) for row in rows]
    Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    if args.chart_inputs:
        Path(args.chart_inputs).write_text(
            "".join(f"{label}={path}\n" for label, path in chart_runs))

    out = [
        f"# Memory-only vs persistent modes ({args.rounds} rounds, medians)",
        "",
        f"Command: `{args.command}`  ",
        f"Machine: {machine['cpu']}, {machine['cores']} cores, Linux {machine['kernel']}, "
        f"load average at start {' '.join(machine['loadavg_at_start'])}  ",
        f"Commit: {source['git_commit'][:12]}{' (dirty)' if source['git_dirty'] else ''}  ",
        f"Load: corekv-bench, {args.connections} connections, 1 thread, closed loop, "
        f"{args.duration} per run, {args.keys} keys of {args.value_bytes} B preloaded; "
        "client and servers share the machine's cores.",
        "",
        "| mix | P | server | mode | ops/s | vs memory-only | corekv/redis | p50 us | p99 us | p99.9 us |",
        "|---|---:|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        m = row["median"]
        fmt_ratio = lambda v: f"{v:.2f}x" if v is not None else "-"  # noqa: E731
        out.append(
            f"| {row['mix']} | {row['pipeline']} | {row['server']} | {row['mode']} | "
            f"{m['ops_per_s']:,.0f} | {fmt_ratio(row['vs_memory_only'])} | "
            f"{fmt_ratio(row.get('corekv_vs_redis'))} | {m['p50_us']:.0f} | {m['p99_us']:.0f} | "
            f"{m['p99_9_us']:.0f} |")
    if args.chart:
        out += ["", f"![chart]({args.chart})", "",
                "The chart shows each row's run nearest the median throughput; the ratios under "
                "each group are corekv memory-only's over each series. Redis's aof-no and snapshot "
                "rows are in the table only (a chart holds 8 series)."]
    out += ["", "Servers:", ""]
    for name, server in servers.items():
        out.append(f"- {name}: {server['version']}")
    Path(args.md).write_text("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
