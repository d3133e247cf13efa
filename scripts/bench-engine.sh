#!/usr/bin/env bash
# Runs `cargo bench --bench engine` RUNS times (default 3) and writes
# results/engine-bench.json and results/engine-bench.md: per row and contestant, the median
# over runs of criterion's median throughput, and of the latency pass's p50/p99 (see the
# docs at the top of benches/engine.rs), with each figure's spread (min..max over runs).
# results/engine-bench.notes.md (hand-written analysis), if present, is appended to the md.
#
# Usage: scripts/bench-engine.sh [runs]
set -euo pipefail

cd "$(dirname "$0")/.."
RUNS="${1:-${RUNS:-3}}"
TARGET="${CARGO_TARGET_DIR:-$PWD/target}"
CRITERION="${CRITERION_HOME:-$TARGET/criterion}"
OUT_DIR=results
mkdir -p "$OUT_DIR"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

cargo bench --bench engine --no-run >&2
for run in $(seq "$RUNS"); do
    echo "== run $run of $RUNS (load average: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
    cut -d' ' -f1-3 /proc/loadavg > "$WORK/load-$run.txt"
    cargo bench --bench engine 2>&1 | tee "$WORK/log-$run.txt" | grep -E 'thrpt|^latency' >&2
    # Snapshot this run's figures: criterion's median time per iteration and throughput.
    python3 - "$CRITERION" "$run" "$(cut -d' ' -f1-3 /proc/loadavg)" > "$WORK/run-$run.json" <<'EOF'
import glob, json, os, sys
home, run, load = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rows = {}
for bench in glob.glob(os.path.join(home, "*", "*", "new", "benchmark.json")):
    meta = json.load(open(bench))
    est = json.load(open(os.path.join(os.path.dirname(bench), "estimates.json")))
    ops = meta["throughput"]["Elements"]
    ns = est["median"]["point_estimate"]
    rows.setdefault(meta["function_id"], {})[meta["group_id"]] = {"mops": ops / ns * 1e3}
lat = json.load(open(os.path.join(home, "engine-latency.json")))
for r in lat["rows"]:
    rows.setdefault(r["row"], {}).setdefault(r["contestant"], {}).update(
        p50_ns=r["p50_ns"], p99_ns=r["p99_ns"])
print(json.dumps({"run": run, "load_after": load,
                  "timer_overhead_p50_ns": lat["timer_overhead_p50_ns"], "rows": rows}))
EOF
done

python3 - "$WORK" "$RUNS" "$OUT_DIR" "$0 $*" <<'EOF'
import datetime, json, os, platform, statistics, sys
work, runs, out_dir, command = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
data = [json.load(open(os.path.join(work, f"run-{i}.json"))) for i in range(1, runs + 1)]
loads = [open(os.path.join(work, f"load-{i}.txt")).read().strip() for i in range(1, runs + 1)]
ROWS = ["uniform/1t", "uniform/2t", "zipf/1t", "zipf/2t"]
CONTESTANTS = ["corekv", "dashmap", "papaya", "scc"]
PEERS = CONTESTANTS[1:]

def stat(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "runs": values}

rows = {}
for row in ROWS:
    rows[row] = {}
    for c in CONTESTANTS:
        cells = [d["rows"].get(row, {}).get(c, {}) for d in data]
        rows[row][c] = {k: stat([cell.get(k) for cell in cells]) for k in ("mops", "p50_ns", "p99_ns")}

def med(row, c, k="mops"):
    s = rows[row][c][k]
    return s["median"] if s else None

summary = {}
for row in ROWS:
    peers = {p: med(row, p) for p in PEERS if med(row, p)}
    fastest = max(peers, key=peers.get) if peers else None
    eng = med(row, "corekv")
    ratio = eng / peers[fastest] if fastest and eng else None
    # Per-run ratio too, so the noise on the goal itself is visible.
    per_run = []
    for d in data:
        r = d["rows"].get(row, {})
        pe = [r[p]["mops"] for p in PEERS if p in r and "mops" in r[p]]
        if "corekv" in r and pe:
            per_run.append(r["corekv"]["mops"] / max(pe))
    summary[row] = {"fastest_peer": fastest, "engine_over_fastest_peer": ratio,
                    "engine_over_fastest_peer_per_run": per_run}
for dist in ("uniform", "zipf"):
    one, two = med(f"{dist}/1t", "corekv"), med(f"{dist}/2t", "corekv")
    summary[f"{dist}/2t"]["engine_2t_over_1t"] = two / one if one and two else None
    for c in PEERS:
        o, t = med(f"{dist}/1t", c), med(f"{dist}/2t", c)
        summary[f"{dist}/2t"][f"{c}_2t_over_1t"] = t / o if o and t else None

cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
machine = {"nproc": os.cpu_count(), "cpu": cpu, "kernel": platform.release()}
date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
timer = statistics.median(d["timer_overhead_p50_ns"] for d in data)
report = {"workload": "1M keys preloaded, 16-byte keys, 32-byte values, 90% GET / 10% SET",
          "unit": {"mops": "million operations per second, all threads", "latency": "ns per operation"},
          "runs": runs, "load_average_before_each_run": loads, "machine": machine, "date": date,
          "command": command, "timer_overhead_p50_ns": timer, "rows": rows, "summary": summary,
          "goals": {"engine_over_fastest_peer": ">= 0.8 on every row",
                    "engine_2t_over_1t": ">= 1.7 on the read-heavy rows"}}
json.dump(report, open(os.path.join(out_dir, "engine-bench.json"), "w"), indent=2)

def f(x, nd=2):
    return "-" if x is None else f"{x:.{nd}f}"
def spread(s, nd=2):
    return "-" if s is None else f"{s['median']:.{nd}f} ({s['min']:.{nd}f}..{s['max']:.{nd}f})"

L = ["# Engine vs. concurrent maps", "",
     "1M keys preloaded, 16-byte keys, 32-byte values, 90% GET / 10% SET, keys uniform or "
     "Zipf(0.99); `benches/engine.rs` documents the method. Every figure is the median over "
     f"{runs} runs of `cargo bench --bench engine` (criterion's median per run), "
     "with the min..max over runs in parentheses.", "",
     "## Throughput (Mops/s, all threads)", "",
     "| row | corekv | dashmap | papaya | scc | corekv / fastest peer | corekv 2T/1T |",
     "|---|---:|---:|---:|---:|---:|---:|"]
for row in ROWS:
    s = summary[row]
    ratio = s["engine_over_fastest_peer"]
    ratio_s = "-" if ratio is None else f"{ratio:.2f} vs {s['fastest_peer']}" + ("" if ratio >= 0.8 else " **miss**")
    scale = s.get("engine_2t_over_1t")
    scale_s = "" if scale is None else f"{scale:.2f}" + ("" if scale >= 1.7 else " **miss**")
    L.append(f"| {row} | " + " | ".join(spread(rows[row][c]["mops"]) for c in CONTESTANTS)
             + f" | {ratio_s} | {scale_s} |")
L += ["", "Peers' 2T/1T scaling, for comparison: " + ", ".join(
    f"{c} {dist} {f(summary[f'{dist}/2t'].get(f'{c}_2t_over_1t'))}" for dist in ("uniform", "zipf") for c in PEERS) + ".",
      "", "## Latency (ns per operation, p50 / p99)", "",
      "Every operation timed on its own with a pair of `Instant::now()`; the pair itself costs "
      f"about {timer:.0f} ns (median), which is included in every figure.", "",
      "| row | corekv | dashmap | papaya | scc |", "|---|---:|---:|---:|---:|"]
for row in ROWS:
    cells = []
    for c in CONTESTANTS:
        p50, p99 = rows[row][c]["p50_ns"], rows[row][c]["p99_ns"]
        cells.append("-" if p50 is None else f"{p50['median']:.0f} / {p99['median']:.0f}")
    L.append(f"| {row} | " + " | ".join(cells) + " |")
L += ["", "## Goals", "",
      "- corekv >= 0.8x the fastest peer on every row: per-run ratios " + "; ".join(
          f"{row} " + ", ".join(f"{x:.2f}" for x in summary[row]["engine_over_fastest_peer_per_run"]) for row in ROWS) + ".",
      "- corekv 2T >= 1.7x 1T on the read-heavy rows: " + ", ".join(
          f"{dist} {f(summary[f'{dist}/2t'].get('engine_2t_over_1t'))}" for dist in ("uniform", "zipf")) + ".",
      "", "## Conditions", "",
      f"Machine: {machine['nproc']} CPUs, {cpu}, Linux {machine['kernel']}. Date: {date}.",
      f"Load average (1/5/15 min) before each run: {'; '.join(loads)}. The 2 cores were shared "
      "with other builds during these runs, so treat the spreads above as the noise floor.",
      "", f"Command: `{command}` (runs `cargo bench --bench engine` {runs} times).", ""]
# Hand-written analysis (profiles, experiments) kept next to the generated tables.
notes = os.path.join(out_dir, "engine-bench.notes.md")
if os.path.exists(notes):
    L += [open(notes).read()]
open(os.path.join(out_dir, "engine-bench.md"), "w").write("\n".join(L))
print("\n".join(L))
EOF
