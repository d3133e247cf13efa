#!/usr/bin/env bash
# The harness issue's workloads on the embedded engine and a loopback corekv-server in each
# persistence mode (`cargo bench --bench harness`), kept as results: every run's corekv-bench JSON report in
# results/harness/, the printed table with the machine and command in results/harness.md, and
# the chart results/harness.svg (`corekv-bench chart`).
#
# Usage: scripts/bench-harness.sh [measured seconds per run, default 2]
# Environment: passed on to the bench (HARNESS_TARGETS, HARNESS_MODES, COREKV_BIN, COREKV_ARGS; see
# benches/harness.rs); OUT_DIR (default results).
set -euo pipefail

cd "$(dirname "$0")/.."
SECONDS_PER_RUN="${1:-2}"
OUT_DIR="${OUT_DIR:-results}"
COMMAND="$0"; if (($#)); then COMMAND+="$(printf " %q" "$@")"; fi
TARGET_DIR="${CARGO_TARGET_DIR:-target}"

rm -rf "$OUT_DIR/harness"
mkdir -p "$OUT_DIR/harness"
HARNESS_SECONDS="$SECONDS_PER_RUN" HARNESS_JSON_DIR="$OUT_DIR/harness" \
    cargo bench --bench harness | tee "$OUT_DIR/harness/table.txt"
cargo build --release --bin corekv-bench

# The presets in the bench's order, each on the memory-only server first: it is the baseline
# of the chart's ratios (corekv-server / embedded, corekv-server / corekv-server+aof-always).
inputs=()
for preset in set mset-1000 set-pipeline-1000 get multi-10; do
    for target in corekv-server corekv-server+aof-no corekv-server+aof-everysec \
        corekv-server+aof-always embedded; do
        file="$OUT_DIR/harness/$target-$preset.json"
        if [[ -f "$file" ]]; then inputs+=("$file"); fi
    done
done
"$TARGET_DIR/release/corekv-bench" chart --baseline corekv-server \
    --title "corekv-server memory-only and persistent, and the embedded engine (cargo bench --bench harness)" \
    -o "$OUT_DIR/harness.svg" "${inputs[@]}"

{
    echo "# corekv-server vs the embedded engine (\`cargo bench --bench harness\`)"
    echo
    echo "Closed loop, 100,000 keys of 16 bytes, 32-byte values; the embedded target runs one"
    echo "stream per core in-process, each server (memory-only, and AOF with appendfsync"
    echo "everysec and always: \`corekv-server+aof-always\`) gets 4 connections from one client"
    echo "thread on the same machine. An MSET of 1,000 keys and a MULTI of 10 SETs are one"
    echo "operation each; keys/s counts the keys they write. Latency is from each operation's send."
    echo
    echo '```'
    grep -v '^\s*\(Compiling\|Finished\|Running\)' "$OUT_DIR/harness/table.txt"
    echo '```'
    echo
    echo "![chart](harness.svg)"
    echo
    echo "Machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)," \
        "Linux $(uname -r); load average at the end $(cut -d' ' -f1-3 /proc/loadavg)."
    echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC'). Commit: $(git rev-parse --short=12 HEAD)$(
        git diff --quiet HEAD -- . ':!results' || echo ' (dirty)')."
    echo
    echo "Command: \`$COMMAND\`"
} >"$OUT_DIR/harness.md"
rm "$OUT_DIR/harness/table.txt"
echo "== wrote $OUT_DIR/harness.md, $OUT_DIR/harness.svg and $OUT_DIR/harness/*.json" >&2
