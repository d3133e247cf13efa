#!/usr/bin/env bash
# Replays random command sequences through the AOF and checks that a restart rebuilds exactly
# the same keyspace, before and after an AOF rewrite.
#
# 1. corekv runs with --appendonly yes next to Debian's redis-server (the reference), each on
#    a free 127.0.0.1 port in a temp dir.
# 2. ../shared/tools/resp-diff sends both the same seeded random commands (every type, wrong
#    types, edge-case arguments) in databases 0 and 1, failing on any reply difference.
# 3. corekv's keyspace is dumped (type, value digest, PEXPIRETIME of every key), the server is
#    killed with SIGKILL and restarted from its AOF, and the dump must be identical. Then the
#    same after BGREWRITEAOF (base snapshot plus fresh log).
#
# Usage: scripts/aof-replay-check.sh [--seeds "601 602"] [--ops N] [--skip-build]
# Exits non-zero on a reply difference or a keyspace that did not come back the same.
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/peers.sh
source scripts/lib/peers.sh
SEEDS="601 602"
OPS=3000
SKIP_BUILD=0
while (($#)); do
    case "$1" in
    --seeds) SEEDS="${2:?}" && shift ;;
    --ops) OPS="${2:?}" && shift ;;
    --skip-build) SKIP_BUILD=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' && exit 0 ;;
    *) peers_die "unknown option: $1" ;;
    esac
    shift
done
RESP_DIFF=../shared/tools/resp-diff
[[ -x "$RESP_DIFF" ]] || peers_die "$RESP_DIFF not found (../shared beside the repository)"
trap peers_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
peers_install_redis
COREKV="$(peers_corekv_bin "$SKIP_BUILD")"
[[ "$COREKV" == /* ]] || COREKV="$PWD/$COREKV"

peers_server_start redis /usr/bin/redis-server
REDIS_PORT="$SERVER_PORT"
peers_server_start corekv "$COREKV" --appendonly yes
COREKV_PID="$SERVER_PID" COREKV_PORT="$SERVER_PORT" COREKV_DIR="$SERVER_DIR"

# Every key of database $2 on port $1: name, type, digest of the value, PEXPIRETIME.
dump() {
    local port="$1" db="$2" key kind value
    while IFS= read -r key; do
        kind="$(redis-cli -p "$port" -n "$db" TYPE "$key")"
        case "$kind" in
        string) value="$(redis-cli -p "$port" -n "$db" GET "$key" | od -c | md5sum)" ;;
        list) value="$(redis-cli -p "$port" -n "$db" LRANGE "$key" 0 -1 | od -c | md5sum)" ;;
        hash) value="$(redis-cli -p "$port" -n "$db" HGETALL "$key" | paste - - | sort | md5sum)" ;;
        set) value="$(redis-cli -p "$port" -n "$db" SMEMBERS "$key" | sort | md5sum)" ;;
        zset) value="$(redis-cli -p "$port" -n "$db" ZRANGE "$key" 0 -1 WITHSCORES | md5sum)" ;;
        *) value="?" ;;
        esac
        echo "$key $kind $value $(redis-cli -p "$port" -n "$db" PEXPIRETIME "$key")"
    done < <(redis-cli -p "$port" -n "$db" --scan | sort)
}

for seed in $SEEDS; do
    "$RESP_DIFF" --ref "127.0.0.1:$REDIS_PORT" --test "127.0.0.1:$COREKV_PORT" --seed "$seed" \
        --ops "$OPS" --db 0 >&2
    "$RESP_DIFF" --ref "127.0.0.1:$REDIS_PORT" --test "127.0.0.1:$COREKV_PORT" \
        --seed "$((seed + 1000))" --ops "$OPS" --db 1 --resp 3 >&2
done
dump "$COREKV_PORT" 0 >"$COREKV_DIR/before.0"
dump "$COREKV_PORT" 1 >"$COREKV_DIR/before.1"
[[ -s "$COREKV_DIR/before.0" ]] || peers_die "no key left to compare (resp-diff flushes its db?)"

restart() { # kills corekv with SIGKILL and starts it again on its dir, from its AOF
    kill -9 "$COREKV_PID"
    wait "$COREKV_PID" 2>/dev/null || true
    (cd "$COREKV_DIR" && exec "$COREKV" --port "$COREKV_PORT" --bind 127.0.0.1 --appendonly yes \
        >>"$COREKV_DIR/server.log" 2>&1) &
    COREKV_PID=$!
    PEERS_PIDS+=("$COREKV_PID")
    local deadline=$((SECONDS + 15))
    until redis-cli -p "$COREKV_PORT" PING >/dev/null 2>&1; do
        ((SECONDS < deadline)) || peers_die "corekv did not restart (see $COREKV_DIR/server.log)"
        sleep 0.1
    done
}
check() { # label
    for db in 0 1; do
        dump "$COREKV_PORT" "$db" >"$COREKV_DIR/after.$db"
        diff "$COREKV_DIR/before.$db" "$COREKV_DIR/after.$db" >&2 ||
            peers_die "$1: database $db did not come back the same"
    done
    if grep -q "replayed command failed" "$COREKV_DIR/server.log"; then
        peers_die "$1: a replayed command failed (see $COREKV_DIR/server.log)"
    fi
    peers_log "$1: $(wc -l <"$COREKV_DIR/before.0") + $(wc -l <"$COREKV_DIR/before.1") keys identical"
}
restart
check "restart from the AOF"
[[ "$(redis-cli -p "$COREKV_PORT" BGREWRITEAOF)" == "Background append only file rewriting started" ]] ||
    peers_die "BGREWRITEAOF refused"
until redis-cli -p "$COREKV_PORT" INFO persistence | grep -q "aof_rewrite_in_progress:0"; do sleep 0.1; done
restart
check "restart after BGREWRITEAOF"
