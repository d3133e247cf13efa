#!/usr/bin/env bash
# Runs `cargo bench --bench slab` RUNS times (default 3) and writes results/slab-vs-mimalloc.json
# and results/slab-vs-mimalloc.md: per row, the median over runs of criterion's median ns per
# operation for mimalloc, the slab pool held by the thread (`slab`) and reached through a
# thread-local (`slab-tls`), their ratios to mimalloc, and the memory pass (bytes per live
# block). results/slab-vs-mimalloc.notes.md (the hand-written verdict) is appended to the md.
#
# Usage: scripts/bench-slab.sh [runs]
set -euo pipefail

cd "$(dirname "$0")/.."
RUNS="${1:-${RUNS:-3}}"
TARGET="${CARGO_TARGET_DIR:-$PWD/target}"
CRITERION="${CRITERION_HOME:-$TARGET/criterion}"
OUT_DIR=results
mkdir -p "$OUT_DIR"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

cargo bench --bench slab --no-run >&2
for run in $(seq "$RUNS"); do
    echo "== run $run of $RUNS (load average: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
    cut -d' ' -f1-3 /proc/loadavg > "$WORK/load-$run.txt"
    cargo bench --bench slab 2>&1 | tee "$WORK/log-$run.txt" | grep -E 'time:|^memory' >&2
    python3 - "$CRITERION" > "$WORK/run-$run.json" <<'PY'
import glob, json, os, sys
home = sys.argv[1]
rows = {}
for bench in glob.glob(os.path.join(home, "*", "*", "new", "benchmark.json")):
    meta = json.load(open(bench))
    if meta["group_id"].split("/")[0] not in ("pair", "churn", "churn-deferred", "handoff"):
        continue
    est = json.load(open(os.path.join(os.path.dirname(bench), "estimates.json")))
    rows.setdefault(meta["group_id"], {})[meta["function_id"]] = est["median"]["point_estimate"]
memory = json.load(open(os.path.join(home, "slab-memory.json")))
print(json.dumps({"rows": rows, "memory": memory}))
PY
done

python3 - "$WORK" "$RUNS" "$OUT_DIR" "$0 $*" <<'PY'
import datetime, json, os, platform, statistics, sys
work, runs, out_dir, command = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
data = [json.load(open(os.path.join(work, f"run-{i}.json"))) for i in range(1, runs + 1)]
loads = [open(os.path.join(work, f"load-{i}.txt")).read().strip() for i in range(1, runs + 1)]
ROWS = [f"{kind}/{n}" for n in (32, 64) for kind in ("pair", "churn", "churn-deferred", "handoff")]
CONTESTANTS = ["mimalloc", "slab", "slab-tls"]

def stat(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "runs": values}

rows = {}
for row in ROWS:
    cells = {c: stat([d["rows"].get(row, {}).get(c) for d in data]) for c in CONTESTANTS}
    for c in ("slab", "slab-tls"):
        per_run = [d["rows"][row][c] / d["rows"][row]["mimalloc"] for d in data
                   if c in d["rows"].get(row, {}) and "mimalloc" in d["rows"][row]]
        cells[f"{c}_over_mimalloc"] = stat(per_run)
    rows[row] = cells

memory = {}
for m in data[0]["memory"]:
    name = m["contestant"]
    per_run = [next(x for x in d["memory"] if x["contestant"] == name) for d in data]
    rss = [(x["rss_churned_kib"] - x["rss_before_kib"]) * 1024 / x["live_blocks"] for x in per_run]
    rss_filled = [(x["rss_filled_kib"] - x["rss_before_kib"]) * 1024 / x["live_blocks"] for x in per_run]
    held = [x["pool_held_churned_bytes"] / x["live_blocks"] for x in per_run]
    memory[name] = {"block_bytes": m["block_bytes"], "live_blocks": m["live_blocks"],
                    "churn_ops": m["churn_ops"],
                    "rss_bytes_per_live_block_after_fill": stat(rss_filled),
                    "rss_bytes_per_live_block_after_churn": stat(rss),
                    "pool_accounted_bytes_per_live_block": stat(held) if name != "mimalloc" else None,
                    "raw": per_run}

cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
machine = {"nproc": os.cpu_count(), "cpu": cpu, "kernel": platform.release()}
date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
report = {"unit": "ns per operation (criterion median; median over runs)", "runs": runs,
          "load_average_before_each_run": loads, "machine": machine, "date": date,
          "command": command, "rows": rows, "memory": memory}
notes = os.path.join(out_dir, "slab-vs-mimalloc.notes.md")
if os.path.exists(notes):
    report["verdict"] = open(notes).read().split("\n", 2)[2].replace("\n", " ").strip()
json.dump(report, open(os.path.join(out_dir, "slab-vs-mimalloc.json"), "w"), indent=2)

def spread(s, nd=1):
    return "-" if s is None else f"{s['median']:.{nd}f} ({s['min']:.{nd}f}..{s['max']:.{nd}f})"

L = ["# Slab pool vs. mimalloc", "",
     "`benches/slab.rs` documents the rows. ns per operation: the median over "
     f"{runs} runs of criterion's median, min..max over runs in parentheses. Ratios are "
     "slab / mimalloc per run (below 1 means the pool is faster).", "",
     "| row | mimalloc | slab | slab-tls | slab / mimalloc | slab-tls / mimalloc |",
     "|---|---:|---:|---:|---:|---:|"]
for row in ROWS:
    r = rows[row]
    L.append(f"| {row} | {spread(r['mimalloc'])} | {spread(r['slab'])} | {spread(r['slab-tls'])} | "
             f"{spread(r['slab_over_mimalloc'], 2)} | {spread(r['slab-tls_over_mimalloc'], 2)} |")
L += ["", "## Bytes per live block (1M live 32-byte blocks, then 2M random replacements)", "",
      "| allocator | RSS after fill | RSS after churn | pool's own accounting |",
      "|---|---:|---:|---:|"]
for name, m in memory.items():
    L.append(f"| {name} | {spread(m['rss_bytes_per_live_block_after_fill'])} | "
             f"{spread(m['rss_bytes_per_live_block_after_churn'])} | "
             f"{spread(m['pool_accounted_bytes_per_live_block'])} |")
L += ["", "RSS figures are the VmRSS delta of a fresh child process over the blocks alone (the "
      "handle vector is allocated and touched before the first reading).", "",
      "## Conditions", "",
      f"Machine: {machine['nproc']} CPUs, {cpu}, Linux {machine['kernel']}. Date: {date}.",
      f"Load average (1/5/15 min) before each run: {'; '.join(loads)}. The 2 cores were shared "
      "with other sessions' builds, so treat the spreads as the noise floor.", "",
      f"Command: `{command}` (runs `cargo bench --bench slab` {runs} times).", ""]
if os.path.exists(notes):
    L += [open(notes).read()]
open(os.path.join(out_dir, "slab-vs-mimalloc.md"), "w").write("\n".join(L))
print("\n".join(L))
PY
