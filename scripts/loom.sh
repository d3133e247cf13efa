#!/usr/bin/env bash
# Runs the loom models in loom-tests/ under the project's own cfg.
#
# --cfg corekv_loom switches src/sync.rs to loom's primitives and each shard map to the loom
# stand-in. It is set here (with its own target dir, so ordinary builds are never rebuilt)
# and never through a cargo feature: `cargo test --workspace` unifies features and would
# compile loom into the ordinary tests; a bare `--cfg loom` would also flip loom code inside
# dependencies that read it.
#
# LOOM_MAX_PREEMPTIONS=3: loom's documentation finds that most concurrency bugs need two or
# three preemptions to show; the models are small (two threads, a few operations), so a
# bounded search at 3 explores them in seconds to a few minutes on two cores. Raise it locally
# for a deeper search: LOOM_MAX_PREEMPTIONS=5 scripts/loom.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-3}"
export RUSTFLAGS="--cfg corekv_loom"
export CARGO_TARGET_DIR="${LOOM_TARGET_DIR:-target-loom}"
cargo test -p corekv-loom-tests --release --tests -- --test-threads=2 "$@"
