#!/usr/bin/env bash
# Hit ratio of a read-through cache (examples/hit_ratio.rs) under corekv's eviction policies
# and redis-server's allkeys-lru / allkeys-lfu, in the same run, on the same requests:
# Zipf exponents 0.9 and 1.0 over KEYS keys (100-byte values), the cache at 1%, 10% and 30%
# of what the keys take in each server's own used_memory.
#
# Writes results/hit-ratio.json (one object per run) and results/hit-ratio.md.
#
# Usage: scripts/hit-ratio.sh [keys] [requests]     (defaults 100000 and 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
KEYS="${1:-100000}"
REQUESTS="${2:-1000000}"
TARGET="${CARGO_TARGET_DIR:-$PWD/target}"
REDIS="${REDIS_SERVER:-/usr/bin/redis-server}"
WORK="$(mktemp -d)"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

cargo build --release --bin corekv-server --example hit_ratio >&2
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_port() {
    for _ in $(seq 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    echo "server on port $1 did not start" >&2
    exit 1
}

COREKV_PORT="$(free_port)"
"$TARGET/release/corekv-server" --port "$COREKV_PORT" --bind 127.0.0.1 --dir "$WORK" \
    > "$WORK/corekv.log" 2>&1 &
PIDS+=("$!")
wait_port "$COREKV_PORT"
REDIS_PORT=""
if [[ -x "$REDIS" ]]; then
    REDIS_PORT="$(free_port)"
    "$REDIS" --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$WORK" \
        > "$WORK/redis.log" 2>&1 &
    PIDS+=("$!")
    wait_port "$REDIS_PORT"
fi

OUT="$WORK/runs.jsonl"
for exponent in 0.9 1.0; do
    for fraction in 0.01 0.1 0.3; do
        for policy in allkeys-lru allkeys-lfu allkeys-random allkeys-tinylfu; do
            echo "corekv $policy zipf $exponent cache $fraction" >&2
            "$TARGET/release/examples/hit_ratio" "$COREKV_PORT" "$policy" "$exponent" \
                "$fraction" "$KEYS" "$REQUESTS" | sed 's/^{/{"server":"corekv",/' >> "$OUT"
        done
        if [[ -n "$REDIS_PORT" ]]; then
            for policy in allkeys-lru allkeys-lfu; do
                echo "redis $policy zipf $exponent cache $fraction" >&2
                "$TARGET/release/examples/hit_ratio" "$REDIS_PORT" "$policy" "$exponent" \
                    "$fraction" "$KEYS" "$REQUESTS" | sed 's/^{/{"server":"redis",/' >> "$OUT"
            done
        fi
    done
done

REDIS_VERSION="$("$REDIS" --version 2>/dev/null | head -1 || echo none)"
python3 - "$OUT" "$KEYS" "$REQUESTS" "$REDIS_VERSION" <<'EOF'
import json, platform, subprocess, sys, os
path, keys, requests, redis_version = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
runs = [json.loads(line) for line in open(path)]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
machine = {"cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release()}
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
json.dump({"machine": machine, "commit": commit, "redis": redis_version, "keys": int(keys),
           "requests": int(requests), "runs": runs}, open("results/hit-ratio.json", "w"), indent=1)
columns = [("corekv", p) for p in ["allkeys-lru", "allkeys-lfu", "allkeys-random", "allkeys-tinylfu"]]
columns += [("redis", p) for p in ["allkeys-lru", "allkeys-lfu"]]
lines = ["# Hit ratio: read-through cache under maxmemory", "",
         f"Machine: {cpu}, {os.cpu_count()} cores, Linux {platform.release()}; corekv {commit}; "
         f"{redis_version}.", "",
         f"Command: `scripts/hit-ratio.sh {keys} {requests}`: {keys} keys of 100-byte values, "
         f"Zipf ranks, GET and on a miss SET, pipelined 64 GETs at a time; {int(requests)//2} "
         f"warm-up requests, then {requests} counted. The cache is the given fraction of what "
         "all keys take in *that server's* used_memory. Same seed, so the same request "
         "sequence, for every column.", "",
         "| zipf | cache | " + " | ".join(f"{s} {p}" for s, p in columns) + " |",
         "|---|---|" + "---|" * len(columns)]
for exponent in [0.9, 1.0]:
    for fraction in [0.01, 0.1, 0.3]:
        row = [f"{exponent}", f"{fraction:.0%}"]
        for server, policy in columns:
            run = next((r for r in runs if r["server"] == server and r["policy"] == policy
                        and r["exponent"] == exponent and r["fraction"] == fraction), None)
            row.append("-" if run is None else f"{run['hit_ratio']:.3f}")
        lines.append("| " + " | ".join(row) + " |")
lines += ["", "Requests per second (counted phase, one pipelined client; these runs share the",
          "machine with the servers, so read them as a rough comparison only):", "",
          "| zipf | cache | " + " | ".join(f"{s} {p}" for s, p in columns) + " |",
          "|---|---|" + "---|" * len(columns)]
for exponent in [0.9, 1.0]:
    for fraction in [0.01, 0.1, 0.3]:
        row = [f"{exponent}", f"{fraction:.0%}"]
        for server, policy in columns:
            run = next((r for r in runs if r["server"] == server and r["policy"] == policy
                        and r["exponent"] == exponent and r["fraction"] == fraction), None)
            row.append("-" if run is None else f"{run['requests_per_sec']:.0f}")
        lines.append("| " + " | ".join(row) + " |")
notes = "results/hit-ratio.notes.md"
if os.path.exists(notes):
    lines += ["", open(notes).read().rstrip()]
open("results/hit-ratio.md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
EOF
