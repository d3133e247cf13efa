#!/usr/bin/env bash
# corekv vs redis-server 7.0 vs valkey-server 9.1: the same redis-benchmark runs, one run.
#
# Every server runs memory-only (--save '' --appendonly no) on its own free 127.0.0.1 port,
# in its own temp dir, and is filled first with every key of the key space. Then, for each
# round, pipeline (1, 16) and test (SET, GET), each server in turn gets one
#   redis-benchmark -c 50 -P <P> -t <test> -r 100000 -d 32 -n <requests> --csv
# (the server order rotates each round, so drift and noise hit all servers alike). Around
# each run the server's CPU seconds are read from /proc/<pid>/stat, giving ops per
# server-CPU-second. Reported: medians over rounds of throughput, p50, p99 and ops/CPU-s,
# and ratios corekv/redis, corekv/valkey and corekv/faster-peer.
#
# Nothing is pinned: redis-benchmark shares the machine's cores with the server under test.
#
# Usage: scripts/compare-peers.sh [options]
#   --quick             small counts, 1 round (under a minute; for CI); writes
#                       target/compare-peers-quick.{json,md} instead of results/ and checks
#                       that the JSON is well formed (every server and test has a positive
#                       throughput and latencies), not how fast anything was
#   --rounds N          rounds (default 5; env ROUNDS)
#   --requests-p1 N     requests per pipeline-1 run (default 200000, ~3-5 s here;
#                       env REQUESTS_P1)
#   --requests-p16 N    requests per pipeline-16 run (default 1200000; env REQUESTS_P16)
#   --no-redis          leave redis-server out
#   --no-valkey         leave valkey-server out
#   --valkey-optional   use valkey-server only if it is already at hand (VALKEY_SERVER or an
#                       earlier install in target/peers); never install it, and leave it out
#                       with a note when absent (CI)
#   --skip-build        do not run cargo build; use target/release/corekv-server (and
#                       corekv-bench, for the chart) as they are
#   -h, --help          this text
# Environment:
#   COREKV_BIN=/path    server to measure as "corekv" instead of target/release/corekv-server
#                       (e.g. /usr/bin/redis-server as a stand-in); implies no build
#   COREKV_ARGS="..."   extra flags for corekv, word-split (e.g. "--workers 2");
#                       CORE_KV_ARGS is accepted too
#   REDIS_SERVER, VALKEY_SERVER   peer binaries (see scripts/lib/peers.sh)
#   BENCH_TIMEOUT_S     bound on one redis-benchmark run (default 120)
#
# Output: results/compare-peers.json (machine, command, every round, medians, ratios),
# results/compare-peers.md (the table) and results/compare-peers.svg (the chart, drawn by
# `corekv-bench chart`). Exits non-zero if a run reports an error, a server dies, a server
# cannot be had, or the chart cannot be drawn.
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/peers.sh
source scripts/lib/peers.sh
HELPER=scripts/lib/compare_peers.py
# The exact command, with the settings taken from the environment, for the report.
COMMAND="$0$(printf ' %q' "$@")"
for var in BENCH_TIMEOUT_S REQUESTS_P16 REQUESTS_P1 ROUNDS VALKEY_SERVER REDIS_SERVER \
    CORE_KV_ARGS COREKV_ARGS COREKV_BIN; do
    if [[ -n "${!var:-}" ]]; then COMMAND="$var=$(printf '%q' "${!var}") $COMMAND"; fi
done

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

QUICK=0
SKIP_BUILD=0
WITH_REDIS=1
WITH_VALKEY=1
VALKEY_OPTIONAL=0
ROUNDS="${ROUNDS:-}"
REQUESTS_P1="${REQUESTS_P1:-}"
REQUESTS_P16="${REQUESTS_P16:-}"
while (($#)); do
    case "$1" in
    --quick) QUICK=1 ;;
    --rounds) ROUNDS="${2:?--rounds needs a value}" && shift ;;
    --requests-p1) REQUESTS_P1="${2:?--requests-p1 needs a value}" && shift ;;
    --requests-p16) REQUESTS_P16="${2:?--requests-p16 needs a value}" && shift ;;
    --no-redis) WITH_REDIS=0 ;;
    --no-valkey) WITH_VALKEY=0 ;;
    --valkey-optional) VALKEY_OPTIONAL=1 ;;
    --skip-build) SKIP_BUILD=1 ;;
    -h | --help) usage && exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2 && exit 2 ;;
    esac
    shift
done

CLIENTS=50
KEYSPACE=100000
VALUE_BYTES=32
PIPELINES=(1 16)
TESTS=(set get)
BENCH_TIMEOUT_S="${BENCH_TIMEOUT_S:-120}"
COREKV_ARGS="${COREKV_ARGS:-${CORE_KV_ARGS:-}}"
if ((QUICK)); then
    ROUNDS="${ROUNDS:-1}" REQUESTS_P1="${REQUESTS_P1:-50000}"
    REQUESTS_P16="${REQUESTS_P16:-300000}"
    OUT_DIR=target MODE=quick NAME=compare-peers-quick
else
    ROUNDS="${ROUNDS:-5}" REQUESTS_P1="${REQUESTS_P1:-200000}"
    REQUESTS_P16="${REQUESTS_P16:-1200000}"
    OUT_DIR=results MODE=full NAME=compare-peers
fi
for number in "$ROUNDS" "$REQUESTS_P1" "$REQUESTS_P16"; do
    [[ "$number" =~ ^[1-9][0-9]*$ ]] || peers_die "not a positive count: $number"
done
declare -A REQUESTS=([1]="$REQUESTS_P1" [16]="$REQUESTS_P16")

WORK="$(mktemp -d "${TMPDIR:-/tmp}/compare-peers.XXXXXX")"
PEERS_DIRS+=("$WORK")
trap peers_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
STARTED_S=$SECONDS
LOADAVG_AT_START="$(cut -d' ' -f1-3 /proc/loadavg)"

# --- binaries -------------------------------------------------------------------------------
peers_install_redis
command -v redis-benchmark >/dev/null || peers_die "redis-benchmark not found (redis-tools)"
command -v redis-cli >/dev/null || peers_die "redis-cli not found (redis-tools)"
COREKV="$(peers_corekv_bin "$SKIP_BUILD")"
NAMES=(corekv)
declare -A BINARY=([corekv]="$COREKV") VERSION ARGS=([corekv]="$COREKV_ARGS")
if [[ -n "${COREKV_BIN:-}" ]]; then
    VERSION[corekv]="COREKV_BIN override, not built from this tree"
else
    VERSION[corekv]="corekv-server built from commit $(git rev-parse --short HEAD)"
fi
if ((WITH_REDIS)); then
    REDIS_SERVER="${REDIS_SERVER:-/usr/bin/redis-server}"
    [[ -x "$REDIS_SERVER" ]] || peers_die "redis-server not found at $REDIS_SERVER (--no-redis to skip)"
    NAMES+=(redis) BINARY[redis]="$REDIS_SERVER"
fi
if ((WITH_VALKEY)); then
    if ((VALKEY_OPTIONAL)); then
        VALKEY="$(peers_find_valkey 0)"
    else
        VALKEY="$(peers_find_valkey)"
    fi
    if [[ -n "$VALKEY" && -x "$VALKEY" ]]; then
        NAMES+=(valkey) BINARY[valkey]="$VALKEY"
    elif ((VALKEY_OPTIONAL)); then
        peers_log "valkey-server not at hand (--valkey-optional): comparing without it"
    else
        peers_die "valkey-server not found (--no-valkey to skip)"
    fi
fi
for name in "${NAMES[@]}"; do
    if [[ "$name" != corekv ]]; then
        VERSION[$name]="$("${BINARY[$name]}" --version | head -1)"
        ARGS[$name]=""
    fi
done

# --- start and fill -------------------------------------------------------------------------
python3 "$HELPER" fill --keyspace "$KEYSPACE" --value-bytes "$VALUE_BYTES" >"$WORK/fill.resp"
declare -A PID PORT
: >"$WORK/servers.tsv"
for name in "${NAMES[@]}"; do
    # shellcheck disable=SC2086 # COREKV_ARGS is a flag list, split on purpose
    peers_server_start "$name" "${BINARY[$name]}" ${ARGS[$name]}
    PID[$name]="$SERVER_PID" PORT[$name]="$SERVER_PORT"
    fill_output="$(redis-cli -h 127.0.0.1 -p "${PORT[$name]}" --pipe <"$WORK/fill.resp" 2>&1)"
    dbsize="$(redis-cli -h 127.0.0.1 -p "${PORT[$name]}" DBSIZE)"
    if [[ "$fill_output" != *"errors: 0,"* || "$dbsize" != "$KEYSPACE" ]]; then
        echo "$fill_output" >&2
        peers_die "$name: filling $KEYSPACE keys failed (DBSIZE $dbsize)"
    fi
    printf '%s\t%s\t%s\t%s\n' "$name" "${BINARY[$name]}" "${VERSION[$name]}" "${ARGS[$name]}" \
        >>"$WORK/servers.tsv"
done

# --- runs -----------------------------------------------------------------------------------
runs=$((ROUNDS * ${#PIPELINES[@]} * ${#TESTS[@]} * ${#NAMES[@]}))
peers_log "$MODE mode: $runs runs (${ROUNDS} rounds x P{${PIPELINES[*]}} x {${TESTS[*]}}" \
    "x {${NAMES[*]}}); requests per run: P1 $REQUESTS_P1, P16 $REQUESTS_P16"
for ((round = 1; round <= ROUNDS; round++)); do
    for pipeline in "${PIPELINES[@]}"; do
        for test in "${TESTS[@]}"; do
            for ((i = 0; i < ${#NAMES[@]}; i++)); do
                # Rotate the order by one each round so no server always goes first.
                name="${NAMES[$(((i + round - 1) % ${#NAMES[@]}))]}"
                python3 "$HELPER" run --server "$name" --pid "${PID[$name]}" \
                    --port "${PORT[$name]}" --round "$round" --test "$test" \
                    --pipeline "$pipeline" --requests "${REQUESTS[$pipeline]}" \
                    --clients "$CLIENTS" --keyspace "$KEYSPACE" --value-bytes "$VALUE_BYTES" \
                    --timeout "$BENCH_TIMEOUT_S" --append "$WORK/runs.jsonl"
            done
        done
    done
done
for name in "${NAMES[@]}"; do
    peers_alive "${PID[$name]}" || peers_die "$name (pid ${PID[$name]}) died"
done

# --- report ---------------------------------------------------------------------------------
mkdir -p "$OUT_DIR"
python3 "$HELPER" report --runs "$WORK/runs.jsonl" --servers "$WORK/servers.tsv" \
    --json "$OUT_DIR/$NAME.json" --md "$OUT_DIR/$NAME.md" --command "$COMMAND" \
    --mode "$MODE" --rounds "$ROUNDS" --loadavg-at-start "$LOADAVG_AT_START" --clients "$CLIENTS" --keyspace "$KEYSPACE" \
    --value-bytes "$VALUE_BYTES"
if ((QUICK)); then
    python3 "$HELPER" check --json "$OUT_DIR/$NAME.json" --servers "${NAMES[@]}"
fi
BENCH="${CARGO_TARGET_DIR:-target}/release/corekv-bench"
if ((!SKIP_BUILD)); then
    cargo build --release --bin corekv-bench >&2 ||
        peers_die "cannot build corekv-bench for the chart (cargo build --release --bin corekv-bench)"
fi
[[ -x "$BENCH" ]] || peers_die "$BENCH not found for the chart; build it or drop --skip-build"
"$BENCH" chart -o "$OUT_DIR/$NAME.svg" "$OUT_DIR/$NAME.json" >&2
peers_log "wrote $OUT_DIR/$NAME.json, $OUT_DIR/$NAME.md and $OUT_DIR/$NAME.svg in" \
    "$((SECONDS - STARTED_S)) s"
