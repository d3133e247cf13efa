#!/usr/bin/env bash
# Memory-only vs persistent modes, corekv and Debian's redis-server side by side, one run.
#
# Modes (the same for both servers, each in its own temp dir on a free 127.0.0.1 port):
#   memory        --appendonly no --save ''
#   aof-no        --appendonly yes --appendfsync no
#   aof-everysec  --appendonly yes --appendfsync everysec
#   aof-always    --appendonly yes --appendfsync always
#   snapshot      --appendonly no --save 1 1 (a fork-less snapshot for corekv, BGSAVE's fork
#                 for redis, every second in which a key changed: a save rule at its most
#                 frequent, so every run overlaps snapshots)
#
# Workload, from corekv-bench (the same binary drives both servers): 50 connections, one
# generator thread, closed loop, GET/SET mixes 90/10 and 50/50, pipeline 1 and 16, 100k keys
# of 32-byte values preloaded before each run. Rounds interleave every (server, mode), the
# order rotating each round. Reported: medians of ops/s, p50, p99, p99.9; each mode's ratio
# to the same server's memory-only figure; corekv/redis per mode.
#
# Usage: scripts/compare-modes.sh [options]
#   --quick           1 round of 1 s runs over 10k keys (for CI: checks the output is
#                     well-formed, not speed); writes target/compare-modes-quick.{json,md}
#   --rounds N        rounds (default 3; env ROUNDS)
#   --duration D      measured time per run (default 5s; env DURATION)
#   --no-redis        corekv only
#   --skip-build      use the built binaries as they are
#   -h, --help        this text
# Environment: REDIS_SERVER (default /usr/bin/redis-server), CARGO_TARGET_DIR.
#
# Output: results/modes-<date>.json, .md and .svg (a chart drawn by corekv-bench chart; and
# results/modes-latest.md, a copy of the md). Exits
# non-zero when a run answers an error, a server dies, or a binary cannot be had.
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/peers.sh
source scripts/lib/peers.sh
COMMAND="$0$(printf ' %q' "$@")"
for var in DURATION ROUNDS REDIS_SERVER; do
    if [[ -n "${!var:-}" ]]; then COMMAND="$var=$(printf '%q' "${!var}") $COMMAND"; fi
done
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

QUICK=0 SKIP_BUILD=0 WITH_REDIS=1
ROUNDS="${ROUNDS:-}" DURATION="${DURATION:-}"
while (($#)); do
    case "$1" in
    --quick) QUICK=1 ;;
    --rounds) ROUNDS="${2:?--rounds needs a value}" && shift ;;
    --duration) DURATION="${2:?--duration needs a value}" && shift ;;
    --no-redis) WITH_REDIS=0 ;;
    --skip-build) SKIP_BUILD=1 ;;
    -h | --help) usage && exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2 && exit 2 ;;
    esac
    shift
done
if ((QUICK)); then
    ROUNDS="${ROUNDS:-1}" DURATION="${DURATION:-1s}" KEYS=10000
    OUT_DIR=target NAME=compare-modes-quick
else
    ROUNDS="${ROUNDS:-3}" DURATION="${DURATION:-5s}" KEYS=100000
    OUT_DIR=results NAME="modes-$(date -u +%Y-%m-%d)"
fi
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || peers_die "not a positive count: $ROUNDS"
CONNECTIONS=50
VALUE_BYTES=32
MODES=(memory aof-no aof-everysec aof-always snapshot)
MIXES=("get=90,set=10" "get=50,set=50")
PIPELINES=(1 16)
declare -A MODE_ARGS=(
    [memory]="--appendonly no"
    [aof-no]="--appendonly yes --appendfsync no"
    [aof-everysec]="--appendonly yes --appendfsync everysec"
    [aof-always]="--appendonly yes --appendfsync always"
    [snapshot]="--appendonly no --save 1 1"
)

WORK="$(mktemp -d "${TMPDIR:-/tmp}/compare-modes.XXXXXX")"
PEERS_DIRS+=("$WORK")
trap peers_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
STARTED_S=$SECONDS
LOADAVG_AT_START="$(cut -d' ' -f1-3 /proc/loadavg)"

# --- binaries -------------------------------------------------------------------------------
peers_install_redis
COREKV="$(peers_corekv_bin "$SKIP_BUILD")"
BENCH="${CARGO_TARGET_DIR:-target}/release/corekv-bench"
if ((!SKIP_BUILD)); then
    cargo build --release --bin corekv-bench >&2 || peers_die "cannot build corekv-bench"
fi
[[ -x "$BENCH" ]] || peers_die "$BENCH not found; build it (cargo build --release --bin corekv-bench)"
NAMES=(corekv)
declare -A BINARY=([corekv]="$COREKV")
if ((WITH_REDIS)); then
    REDIS_SERVER="${REDIS_SERVER:-/usr/bin/redis-server}"
    [[ -x "$REDIS_SERVER" ]] || peers_die "redis-server not found at $REDIS_SERVER (--no-redis to skip)"
    NAMES+=(redis) BINARY[redis]="$REDIS_SERVER"
fi

# --- servers: one per (server, mode) ----------------------------------------------------------
declare -A PID PORT
: >"$WORK/servers.tsv"
for name in "${NAMES[@]}"; do
    version="$("${BINARY[$name]}" --version | head -1)"
    [[ "$name" == corekv ]] && version="$version (commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown))"
    for mode in "${MODES[@]}"; do
        # shellcheck disable=SC2086 # the mode's flags, split on purpose
        peers_server_start "$name-$mode" "${BINARY[$name]}" ${MODE_ARGS[$mode]}
        PID[$name/$mode]="$SERVER_PID" PORT[$name/$mode]="$SERVER_PORT"
        printf '%s\t%s\t%s\t%s\n' "$name" "$mode" "$version" "${MODE_ARGS[$mode]}" >>"$WORK/servers.tsv"
    done
done

# --- runs -----------------------------------------------------------------------------------
targets=()
for name in "${NAMES[@]}"; do
    for mode in "${MODES[@]}"; do targets+=("$name/$mode"); done
done
runs=$((ROUNDS * ${#MIXES[@]} * ${#PIPELINES[@]} * ${#targets[@]}))
peers_log "$runs runs of $DURATION (${ROUNDS} rounds x {${MIXES[*]}} x P{${PIPELINES[*]}} x ${#targets[@]} servers)"
: >"$WORK/runs.tsv"
for ((round = 1; round <= ROUNDS; round++)); do
    for mix in "${MIXES[@]}"; do
        for pipeline in "${PIPELINES[@]}"; do
            for ((i = 0; i < ${#targets[@]}; i++)); do
                target="${targets[$(((i + round - 1) % ${#targets[@]}))]}"
                json="$WORK/run-$round-${target/\//-}-${mix//[=,]/_}-P$pipeline.json"
                timeout 300 "$BENCH" --target "resp://127.0.0.1:${PORT[$target]}" --mix "$mix" \
                    -c "$CONNECTIONS" -t 1 --no-pin -P "$pipeline" -d "$DURATION" --preload \
                    --keys "$KEYS" --value-size "$VALUE_BYTES" --fail-on-error -q \
                    --json "$json" >/dev/null ||
                    peers_die "corekv-bench failed against $target ($mix, P$pipeline)"
                printf '%s\t%s\t%s\t%s\t%s\n' "${target%%/*}" "${target#*/}" "$mix" "$pipeline" \
                    "$json" >>"$WORK/runs.tsv"
            done
        done
    done
    peers_log "round $round of $ROUNDS done"
done
for target in "${targets[@]}"; do
    peers_alive "${PID[$target]}" || peers_die "$target (pid ${PID[$target]}) died"
done

# --- report ---------------------------------------------------------------------------------
mkdir -p "$OUT_DIR"
python3 scripts/lib/compare_modes.py --runs "$WORK/runs.tsv" --servers "$WORK/servers.tsv" \
    --json "$OUT_DIR/$NAME.json" --md "$OUT_DIR/$NAME.md" --command "$COMMAND" \
    --rounds "$ROUNDS" --duration "$DURATION" --keys "$KEYS" --connections "$CONNECTIONS" \
    --value-bytes "$VALUE_BYTES" --loadavg-at-start "$LOADAVG_AT_START" --bench "$BENCH" \
    --chart-inputs "$WORK/chart-inputs.txt" --chart "$NAME.svg"
# A chart holds at most 8 series: corekv's five modes and Redis's memory-only, everysec and
# always (Redis's aof-no and snapshot rows are in the table only).
mapfile -t chart_inputs < <(grep -v -e '^redis-aof-no=' -e '^redis-snapshot=' "$WORK/chart-inputs.txt")
"$BENCH" chart --baseline corekv-memory -o "$OUT_DIR/$NAME.svg" \
    --title "corekv and redis-server, memory-only vs persistent modes (scripts/compare-modes.sh)" \
    "${chart_inputs[@]}" >&2 || peers_die "corekv-bench chart failed"
if ((!QUICK)); then cp "$OUT_DIR/$NAME.md" "$OUT_DIR/modes-latest.md"; fi
peers_log "wrote $OUT_DIR/$NAME.json, $OUT_DIR/$NAME.md and $OUT_DIR/$NAME.svg in $((SECONDS - STARTED_S)) s"
