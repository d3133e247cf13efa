#!/usr/bin/env bash
# corekv vs redis-server 7.0 (and valkey-server, if already at hand) on the harness's named
# workloads, driven by corekv-bench instead of redis-benchmark: single-key SETs, MSET of 1,000
# keys, SETs pipelined 1,000 deep, GETs of preloaded keys, MULTI/EXEC of 10 SETs (the same
# presets `cargo bench --bench harness` runs on the embedded engine and a loopback corekv).
#
# Each server runs memory-only on its own free 127.0.0.1 port in its own temp dir (see
# scripts/lib/peers.sh). For each round and preset, each server in turn gets one closed-loop
# run of
#   corekv-bench --preset <name> -c 4 -t 1 --warmup 0.5s -d <seconds> --no-pin
# (100,000 keys of 16 bytes, 64-byte values); the server order rotates each round. The table
# gives medians over rounds (each percentile's median on its own) and the chart the run with
# the median throughput. The client shares the machine's cores with the server, as in
# compare-peers.sh.
#
# Usage: scripts/compare-presets.sh [measured seconds per run, default 3] [rounds, default 3]
# Environment: COREKV_BIN, COREKV_ARGS, REDIS_SERVER, VALKEY_SERVER (see compare-peers.sh);
#   OUT_DIR (default results).
# Output: OUT_DIR/presets/<server>-<preset>-r<round>.json (corekv-bench reports), OUT_DIR/presets.md
# (the tables, machine, date, command) and OUT_DIR/presets.svg (corekv-bench chart).
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/peers.sh
source scripts/lib/peers.sh
SECONDS_PER_RUN="${1:-3}"
ROUNDS="${2:-3}"
OUT_DIR="${OUT_DIR:-results}"
COMMAND="$0"
if (($#)); then COMMAND+="$(printf ' %q' "$@")"; fi
[[ "$SECONDS_PER_RUN" =~ ^[0-9]+(\.[0-9]+)?$ ]] || peers_die "not a number of seconds: $1"
[[ "$ROUNDS" =~ ^[1-9][0-9]?$ ]] || peers_die "rounds must be 1..99: $ROUNDS"
PRESETS=(set mset-1000 set-pipeline-1000 get multi-10)

WORK="$(mktemp -d "${TMPDIR:-/tmp}/compare-presets.XXXXXX")"
PEERS_DIRS+=("$WORK")
trap peers_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

peers_install_redis
COREKV="$(peers_corekv_bin 0)"
peers_log "building corekv-bench (cargo build --release --bin corekv-bench)"
cargo build --release --bin corekv-bench >&2
BENCH="${CARGO_TARGET_DIR:-target}/release/corekv-bench"
REDIS_SERVER="${REDIS_SERVER:-/usr/bin/redis-server}"
[[ -x "$REDIS_SERVER" ]] || peers_die "redis-server not found at $REDIS_SERVER"
NAMES=(corekv redis)
declare -A BINARY=([corekv]="$COREKV" [redis]="$REDIS_SERVER") PORT PID
VALKEY="$(peers_find_valkey 0)"
if [[ -n "$VALKEY" && -x "$VALKEY" ]]; then
    NAMES+=(valkey) BINARY[valkey]="$VALKEY"
else
    peers_log "valkey-server not at hand: comparing corekv and redis only"
fi
for name in "${NAMES[@]}"; do
    extra=()
    # shellcheck disable=SC2206 # COREKV_ARGS is a flag list, split on purpose
    if [[ "$name" == corekv ]]; then extra=(${COREKV_ARGS:-}); fi
    peers_server_start "$name" "${BINARY[$name]}" "${extra[@]}"
    PORT[$name]="$SERVER_PORT" PID[$name]="$SERVER_PID"
done

rm -rf "$OUT_DIR/presets"
mkdir -p "$OUT_DIR/presets"
for ((round = 1; round <= ROUNDS; round++)); do
    for preset in "${PRESETS[@]}"; do
        for ((i = 0; i < ${#NAMES[@]}; i++)); do
            # Rotate the order by one each round so no server always goes first.
            name="${NAMES[$(((i + round - 1) % ${#NAMES[@]}))]}"
            peers_log "round $round: $preset on $name"
            "$BENCH" --target "resp://127.0.0.1:${PORT[$name]}" --preset "$preset" -c 4 -t 1 \
                --warmup 0.5s -d "${SECONDS_PER_RUN}s" --no-pin -q --fail-on-error \
                --label "$name" --json "$OUT_DIR/presets/$name-$preset-r$round.json" >&2
        done
    done
done
for name in "${NAMES[@]}"; do
    peers_alive "${PID[$name]}" || peers_die "$name (pid ${PID[$name]}) died"
done
# The table's rows (medians over rounds) on stdout; the median-throughput runs' files, one a
# line, to the file named first.
python3 - "$WORK/median-runs.txt" "$OUT_DIR/presets" "$ROUNDS" "${PRESETS[@]}" -- \
    "${NAMES[@]}" >"$WORK/table.md" <<'PY'
import json, statistics, sys
median_runs, directory, rounds = open(sys.argv[1], "w"), sys.argv[2], int(sys.argv[3])
split = sys.argv.index("--")
presets, names = sys.argv[4:split], sys.argv[split + 1:]
for preset in presets:
    baseline = None
    for name in names:
        runs = []
        for r in range(1, rounds + 1):
            path = f"{directory}/{name}-{preset}-r{r}.json"
            runs.append((json.load(open(path))["results"]["overall"], path))
        by_rate = sorted(runs, key=lambda run: run[0]["ops_per_s"])
        print(by_rate[(len(by_rate) - 1) // 2][1], file=median_runs)
        median = lambda field, key=None: statistics.median(
            run[field][key] if key else run[field] for run, _ in runs)
        rate = median("ops_per_s")
        spread = (by_rate[-1][0]["ops_per_s"] - by_rate[0][0]["ops_per_s"]) / rate * 100
        baseline = baseline or rate
        ratio = "" if name == names[0] else f"{baseline / rate:.2f}x"
        print(f"| {preset} | {name} | {rate:,.0f} | {spread:.0f}% | {ratio} "
              f"| {median('latency_us', 'p50'):.1f} | {median('latency_us', 'p99'):.1f} "
              f"| {median('latency_us', 'p99_9'):.1f} |")
PY
mapfile -t inputs <"$WORK/median-runs.txt"
"$BENCH" chart -o "$OUT_DIR/presets.svg" \
    --title "corekv vs peers on the harness workloads (corekv-bench, closed loop; median runs)" \
    "${inputs[@]}"

{
    echo "# corekv vs peers on the harness workloads (\`corekv-bench --preset\`)"
    echo
    echo "Closed loop, 4 connections from one client thread on the same 2-core machine,"
    echo "100,000 keys of 16 bytes, 64-byte values, 0.5 s warm-up, ${SECONDS_PER_RUN} s measured;"
    echo "$ROUNDS round(s), servers interleaved per preset with the order rotating each round."
    echo "Medians over rounds (each percentile's median on its own); spread is (max - min) / median"
    echo "of the throughput; the ratio is corekv's over that server's. An MSET of 1,000 keys and a"
    echo "MULTI/EXEC of 10 SETs are one operation each. Latency from each send, in µs. The chart"
    echo "shows each server's median-throughput run."
    echo
    echo "| preset | server | ops/s | spread | corekv/server | p50 µs | p99 µs | p99.9 µs |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|"
    cat "$WORK/table.md"
    echo
    echo "![chart](presets.svg)"
    echo
    echo "Servers:"
    echo
    for name in "${NAMES[@]}"; do
        echo "- $name: \`${BINARY[$name]}\` ($("${BINARY[$name]}" --version | head -1))"
    done
    echo
    echo "Machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)," \
        "Linux $(uname -r); load average at the end $(cut -d' ' -f1-3 /proc/loadavg)."
    echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC'). Commit: $(git rev-parse --short=12 HEAD)$(
        git diff --quiet HEAD -- . ':!results' || echo ' (dirty)')."
    echo
    echo "Command: \`$COMMAND\`"
} >"$OUT_DIR/presets.md"
peers_log "wrote $OUT_DIR/presets.md, $OUT_DIR/presets.svg and $OUT_DIR/presets/*.json"
