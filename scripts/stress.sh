#!/usr/bin/env bash
# The long, bounded stress runs that the default suite keeps short:
#
#   scripts/stress.sh            # 20 kill -9 rounds under appendfsync always, and a
#                                # 40-round linearizability soak of every scenario
#
# Each is a test marked #[ignore] or sized by an environment variable, so `cargo test`
# stays quick while these stay one command away. Loopback only; every loop is bounded.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test -p corekv --test server_persistence -- --ignored acknowledged_writes_survive_kill_9_stress
LINCHECK_ROUNDS="${LINCHECK_ROUNDS:-40}" cargo test -p corekv --test linearizability
