#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for a bounded time each.
#
#   scripts/fuzz.sh                 # each target 60 s
#   FUZZ_SECONDS=600 scripts/fuzz.sh resp_parser
#
# Builds on the pinned stable toolchain with `-s none` (no sanitizer: sanitizers need nightly;
# Rust code is memory-safe without them, and the targets check panics and invariants). Set
# FUZZ_TOOLCHAIN=nightly to build with AddressSanitizer instead. The corpus lives in
# fuzz/corpus/<target> and crashes in fuzz/artifacts/<target> (both git-ignored); a crash
# found here becomes a regression unit test in src/protocol/tests.rs.
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
