#!/usr/bin/env bash
# Runs the criterion suites that carry their own peer (`cargo bench --bench parser`,
# `--bench skiplist`, `--bench aof`) RUNS times (default 3) and writes
# results/criterion-peers.json and results/criterion-peers.md: per row, each contestant's
# median over runs of criterion's median time per iteration (min..max over runs), and corekv's
# speed relative to each peer (peer time / corekv time per run, then the median: above 1 means
# corekv is faster). The benches' own doc comments describe the rows.
# results/criterion-peers.notes.md (hand-written reading), if present, is appended.
#
# Usage: scripts/bench-peers.sh [runs]
#        scripts/bench-peers.sh --render    (the md again from the JSON, e.g. after editing the
#                                           notes file)
# Environment: BENCHES (default "parser skiplist aof"), CRITERION_ARGS (passed after `--`,
# e.g. "--warm-up-time 0.5 --measurement-time 1" for a quick look).
set -euo pipefail

cd "$(dirname "$0")/.."
RUNS="${1:-${RUNS:-3}}"
BENCHES="${BENCHES:-parser skiplist aof}"
OUT_DIR="${OUT_DIR:-results}"
COMMAND="$0"; if (($#)); then COMMAND+="$(printf " %q" "$@")"; fi
mkdir -p "$OUT_DIR"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# Writes $OUT_DIR/criterion-peers.md from $OUT_DIR/criterion-peers.json, rows in the benches'
# order (parser, skiplist, aof), corekv first in each row.
render() {
    python3 - "$OUT_DIR" <<'PY'
import json, os, sys
out_dir = sys.argv[1]
report = json.load(open(os.path.join(out_dir, "criterion-peers.json")))
ORDER = ["parse/", "encode/", "zadd/", "zscore-update/", "zrank/", "zrange-index/",
         "record-encode/", "writer-batch/"]

def place(row):
    return next((i for i, prefix in enumerate(ORDER) if row.startswith(prefix)), len(ORDER)), row

def fmt_ns(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"

benches = report["benches"]
lines = [
    "# corekv's hot paths against their peers (criterion, same run)",
    "",
    f"Benches: {', '.join(f'`benches/{b}.rs`' for b in benches)} (each file's doc comment "
    "describes its rows and peers). Time per iteration: the median over runs of criterion's "
    "median, min..max over runs in parentheses. Speed-up: the peer's time over corekv's, per "
    "run, then the median (above 1: corekv is faster).",
    "",
    "| row | contestant | time per iteration | corekv speed-up vs it |",
    "|---|---|---:|---:|",
]
for row in sorted(report["rows"], key=place):
    entry = report["rows"][row]
    for name in sorted(entry["ns"], key=lambda n: (n != "corekv", n)):
        t = entry["ns"][name]
        time_text = f'{fmt_ns(t["median"])} ({fmt_ns(t["min"])}..{fmt_ns(t["max"])})'
        ratio = entry["corekv_speedup"].get(name)
        ratio_text = (f'{ratio["median"]:.2f}x ({ratio["min"]:.2f}..{ratio["max"]:.2f})'
                      if ratio else "")
        lines.append(f"| {row} | {name} | {time_text} | {ratio_text} |")
lines += [
    "",
    f"Machine: {report['machine']}. Date: {report['date']}. Commit: {report['commit']}.",
    f"Load average (1/5/15 min) before each run: {'; '.join(report['load_average_before_runs'])}.",
    "",
    f"Command: `{report['command']}`",
]
notes = os.path.join(out_dir, "criterion-peers.notes.md")
if os.path.exists(notes):
    lines += ["", open(notes).read().rstrip()]
open(os.path.join(out_dir, "criterion-peers.md"), "w").write("\n".join(lines) + "\n")
PY
}
if [[ "${1:-}" == --render ]]; then
    render
    echo "== wrote $OUT_DIR/criterion-peers.md from $OUT_DIR/criterion-peers.json" >&2
    exit 0
fi

bench_flags=()
for bench in $BENCHES; do bench_flags+=(--bench "$bench"); done
cargo bench "${bench_flags[@]}" --no-run >&2
# shellcheck disable=SC2086 # CRITERION_ARGS is a list of flags.
for run in $(seq "$RUNS"); do
    echo "== run $run of $RUNS (load average: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
    cut -d' ' -f1-3 /proc/loadavg > "$WORK/load-$run.txt"
    # A private criterion home per run: only this run's rows are read back, and the user's
    # own criterion history (target/criterion) is left alone.
    home="$WORK/criterion-$run"
    for bench in $BENCHES; do
        CRITERION_HOME="$home" cargo bench --bench "$bench" -- ${CRITERION_ARGS:-} 2>&1 \
            | tee -a "$WORK/log-$run.txt" | grep -E '^[a-z].*/|time:' >&2
    done
    python3 - "$home" > "$WORK/run-$run.json" <<'PY'
import glob, json, os, sys
rows = {}
for path in glob.glob(os.path.join(sys.argv[1], "**", "new", "benchmark.json"), recursive=True):
    meta = json.load(open(path))
    estimates = json.load(open(os.path.join(os.path.dirname(path), "estimates.json")))
    row = f'{meta["group_id"]}/{meta["value_str"]}'
    rows.setdefault(row, {})[meta["function_id"]] = {
        "ns": estimates["median"]["point_estimate"],
        "throughput": meta.get("throughput"),
    }
print(json.dumps(rows))
PY
done

python3 - "$WORK" "$RUNS" "$OUT_DIR" "$COMMAND" "$BENCHES" <<'PY'
import json, os, statistics, subprocess, sys, time
work, runs, out_dir, command, benches = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
per_run = [json.load(open(os.path.join(work, f"run-{i}.json"))) for i in range(1, runs + 1)]
loads = [open(os.path.join(work, f"load-{i}.txt")).read().strip() for i in range(1, runs + 1)]

def spread(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}

rows = {}
for row in per_run[0]:
    contestants = per_run[0][row]
    entry = {"ns": {}, "corekv_speedup": {}, "throughput": None}
    for name in contestants:
        times = [run[row][name]["ns"] for run in per_run if name in run.get(row, {})]
        entry["ns"][name] = spread(times)
        entry["throughput"] = contestants[name]["throughput"]
    if "corekv" in contestants:
        for name in contestants:
            if name == "corekv":
                continue
            ratios = [run[row][name]["ns"] / run[row]["corekv"]["ns"] for run in per_run
                      if name in run.get(row, {}) and "corekv" in run.get(row, {})]
            entry["corekv_speedup"][name] = spread(ratios)
    rows[row] = entry

cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
            if line.startswith("model name")), "unknown CPU")
commit = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], capture_output=True,
                        text=True).stdout.strip()
machine = f"{os.cpu_count()} CPUs, {cpu}, Linux {os.uname().release}"
date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
dirty = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", ".", ":!results"]).returncode != 0
json.dump({"command": command, "benches": benches.split(), "runs": runs, "machine": machine,
           "date": date, "commit": commit + (" (dirty)" if dirty else ""),
           "load_average_before_runs": loads, "rows": rows},
          open(os.path.join(out_dir, "criterion-peers.json"), "w"), indent=1)
PY
render
echo "== wrote $OUT_DIR/criterion-peers.json and $OUT_DIR/criterion-peers.md" >&2
