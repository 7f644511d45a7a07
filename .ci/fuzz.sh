#!/usr/bin/env bash
# Runs the fuzz targets in fuzz/ (cargo-fuzz, libFuzzer) for FUZZ_SECONDS each and fails on
# the first crash or failed assertion, printing the input that caused it and how to replay
# it. New inputs go to a scratch corpus under the target directory; the committed corpus
# (fuzz/corpus/<target>) is read, never written.
#
#   bash .ci/fuzz.sh                     # every target, FUZZ_SECONDS (default 25) each
#   FUZZ_SECONDS=300 bash .ci/fuzz.sh token_form
#
# Builds on the pinned stable toolchain: no sanitizer (`-s none`, so no -Z flag and no
# nightly; our code forbids `unsafe`, and a panic or failed assertion is what the targets
# look for) and the dev profile, like every other build here.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_FUZZ_VERSION=0.13.2
FUZZ_SECONDS="${FUZZ_SECONDS:-25}"
target_root="${CARGO_TARGET_DIR:-$PWD/target}"
fuzz_build="$target_root/fuzz"
scratch="$target_root/fuzz-corpus"
logs="$target_root/fuzz-logs"

if [ "$(cargo fuzz --version 2>/dev/null || true)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]; then
  echo "installing cargo-fuzz $CARGO_FUZZ_VERSION"
  cargo install --locked "cargo-fuzz@$CARGO_FUZZ_VERSION"
fi

# cargo-fuzz has no --locked: check the lock file first, so CI never resolves anew.
cargo fetch --locked --manifest-path fuzz/Cargo.toml

fuzz_flags=(--dev -s none --target-dir "$fuzz_build")
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo fuzz list)
fi

echo "building ${#targets[@]} fuzz targets"
cargo fuzz build "${fuzz_flags[@]}"

mkdir -p "$logs"
for target in "${targets[@]}"; do
  mkdir -p "$scratch/$target" "fuzz/corpus/$target"
  log="$logs/$target.log"
  started=$SECONDS
  # -timeout: one input taking 10 s is a hang, reported like a crash.
  if ! timeout $((FUZZ_SECONDS + 300)) cargo fuzz run "${fuzz_flags[@]}" "$target" \
    "$scratch/$target" "fuzz/corpus/$target" -- \
    -max_total_time="$FUZZ_SECONDS" -timeout=10 -print_final_stats=1 >"$log" 2>&1; then
    echo "fuzz: $target FAILED (whole log: $log)"
    grep -m 1 -A 6 "panicked at" "$log" || tail -n 40 "$log"
    sed -n '/^Failing input:/,/^Minimize test case/p' "$log"
    artifact=$(sed -n 's/^[[:space:]]*\(fuzz\/artifacts\/[^[:space:]]*\)$/\1/p' "$log" | tail -n 1)
    if [ -n "$artifact" ]; then
      echo "the input, as bytes:"
      od -c "$artifact" | head -n 40
      echo "a crash found is a test: fix the parser, add this input as a unit test in the crate"
      echo "that owns it, and keep it in fuzz/corpus/$target/ as a seed"
    fi
    exit 1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  corpus=$(find "fuzz/corpus/$target" -type f | wc -l)
  echo "fuzz: $target ok: ${runs:-?} runs in $((SECONDS - started)) s, no crash ($corpus committed inputs)"
done
echo "fuzz: all ${#targets[@]} targets passed"
