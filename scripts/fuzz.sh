#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for a bounded time each (`cargo fuzz list`):
#
#   resp_parser      RESP requests and replies (protocol::RequestParser, Frame::decode)
#   config_parser    config file text and flags (Config::from_text / from_args, rewritten)
#   aof_loader       an AOF file's bytes (persist::aof::decode_file, record::encode)
#   snapshot_loader  a snapshot file's bytes (persist::snapshot::decode / encode)
#
#   scripts/fuzz.sh                 # each target 60 s
#   FUZZ_SECONDS=600 scripts/fuzz.sh resp_parser
#
# Builds on the pinned stable toolchain with `-s none` (no sanitizer: sanitizers need nightly;
# Rust code is memory-safe without them, and the targets check panics and invariants). Set
# FUZZ_TOOLCHAIN=nightly to build with AddressSanitizer instead. The corpus lives in
# fuzz/corpus/<target>: the hand-made seeds (seed-*) are committed, what libFuzzer adds is
# git-ignored. Crashes go to fuzz/artifacts/<target> (ignored); each one becomes a regression
# unit test beside the code it broke (src/protocol/tests.rs, src/server/config/tests/,
# src/persist/{aof,record,snapshot}.rs).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-60}"
jobs="${FUZZ_JOBS:-1}"
toolchain="${FUZZ_TOOLCHAIN:-}"
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$PWD/fuzz/target}"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked
fi

if [[ -n "$toolchain" ]]; then
    build=(cargo "+$toolchain" fuzz)
    sanitizer=(-s address)
else
    build=(cargo fuzz)
    sanitizer=(-s none)
fi

targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
    mapfile -t targets < <(cargo fuzz list --fuzz-dir fuzz)
fi
parallel=()
if [[ "$jobs" -gt 1 ]]; then
    parallel=(-jobs="$jobs" -workers="$jobs")
fi

"${build[@]}" build --release "${sanitizer[@]}" --fuzz-dir fuzz
for target in "${targets[@]}"; do
    echo "fuzzing $target for ${seconds}s" >&2
    mkdir -p "fuzz/corpus/$target"
    "${build[@]}" run --release "${sanitizer[@]}" --fuzz-dir fuzz "$target" \
        "fuzz/corpus/$target" -- -max_total_time="$seconds" -max_len=4096 "${parallel[@]}"
done
