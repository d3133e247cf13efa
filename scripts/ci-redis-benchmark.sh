#!/usr/bin/env bash
# CI smoke test: redis-benchmark's standard tests against corekv must run without one error.
#
# Starts corekv-server (memory-only, a free 127.0.0.1 port, its own temp dir), runs
#   redis-benchmark -q -t ping,set,get,incr,lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,
#                   zpopmin,lrange,mset -n 20000
# and fails if redis-benchmark exits non-zero, prints an error ("Error from server: ERR ...",
# "Error: ..."), leaves out any test's requests-per-second line, or the server dies. This is
# a protocol and command-coverage check, not a measurement: the numbers are not kept.
#
# Usage: scripts/ci-redis-benchmark.sh [--skip-build]
#   --skip-build   do not run cargo build; use target/release/corekv-server as it is
# Environment:
#   COREKV_BIN=/path   server to test instead (e.g. /usr/bin/redis-server as a stand-in)
#   COREKV_ARGS="..."  extra server flags, word-split (CORE_KV_ARGS is accepted too)
#   REQUESTS           requests per test (default 20000)
#   BENCH_TIMEOUT_S    bound on the whole redis-benchmark run (default 300)
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/peers.sh
source scripts/lib/peers.sh

SKIP_BUILD=0
while (($#)); do
    case "$1" in
    --skip-build) SKIP_BUILD=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' && exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2 && exit 2 ;;
    esac
    shift
done
TESTS=ping,set,get,incr,lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,zpopmin,lrange,mset
# The lines redis-benchmark 7.0 prints for those tests, each "<name>: <n> requests per
# second"; ping runs inline and multi-bulk, lrange reads 100 to 600 elements.
EXPECTED_LINES=(
    "PING_INLINE" "PING_MBULK" "SET" "GET" "INCR" "LPUSH" "RPUSH" "LPOP" "RPOP" "SADD"
    "HSET" "SPOP" "ZADD" "ZPOPMIN" "LPUSH (needed to benchmark LRANGE)"
    "LRANGE_100 (first 100 elements)" "LRANGE_300 (first 300 elements)"
    "LRANGE_500 (first 500 elements)" "LRANGE_600 (first 600 elements)" "MSET (10 keys)"
)
REQUESTS="${REQUESTS:-20000}"
BENCH_TIMEOUT_S="${BENCH_TIMEOUT_S:-300}"
COREKV_ARGS="${COREKV_ARGS:-${CORE_KV_ARGS:-}}"

trap peers_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

peers_install_redis
command -v redis-benchmark >/dev/null || peers_die "redis-benchmark not found (redis-tools)"
COREKV="$(peers_corekv_bin "$SKIP_BUILD")"
# shellcheck disable=SC2086 # COREKV_ARGS is a flag list, split on purpose
peers_server_start corekv "$COREKV" $COREKV_ARGS
OUTPUT="$(mktemp "${TMPDIR:-/tmp}/ci-redis-benchmark.XXXXXX")"
PEERS_DIRS+=("$OUTPUT")

peers_log "redis-benchmark -q -t $TESTS -n $REQUESTS against 127.0.0.1:$SERVER_PORT"
status=0
# redis-benchmark spins forever if it cannot connect: bound it. -q progress lines end in \r.
timeout "$BENCH_TIMEOUT_S" redis-benchmark -h 127.0.0.1 -p "$SERVER_PORT" -q -t "$TESTS" \
    -n "$REQUESTS" >"$OUTPUT" 2>&1 || status=$?
tr '\r' '\n' <"$OUTPUT" | grep -v -e 'rps=' -e '^[[:space:]]*$' | tee "$OUTPUT.lines"
PEERS_DIRS+=("$OUTPUT.lines")

failures=()
((status == 0)) || failures+=("redis-benchmark exited with status $status")
while IFS= read -r line; do
    failures+=("error reported: $line")
done < <(grep -E -i '^[[:space:]]*(Error|ERR\b|WRONGTYPE|Could not connect)' "$OUTPUT.lines" || true)
for name in "${EXPECTED_LINES[@]}"; do
    # Whole-name prefix match: "SET: " must not be satisfied by "HSET: ".
    if ! awk -v prefix="$name: " '{ sub(/^[[:space:]]+/, "") }
        index($0, prefix) == 1 && /requests per second/ { found = 1 }
        END { exit !found }' "$OUTPUT.lines"; then
        failures+=("no requests-per-second line for $name")
    fi
done
peers_alive "$SERVER_PID" || failures+=("the server (pid $SERVER_PID) died")

if ((${#failures[@]})); then
    printf 'FAIL: %s\n' "${failures[@]}" >&2
    exit 1
fi
peers_log "ok: ${#EXPECTED_LINES[@]} redis-benchmark tests without an error"
