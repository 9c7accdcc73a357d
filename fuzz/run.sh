#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 20) from the committed corpus; new inputs go to
# a scratch folder, so the tree stays clean. A crash or a broken property fails (exit 1) and
# leaves its input under fuzz/artifacts/<target>/. Needs the nightly toolchain and cargo-fuzz.
# No sanitizer (-s none): the code is safe Rust, and AddressSanitizer made the classifier ~10x
# slower (3 executions/s).
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-20}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cargo +nightly fuzz build -O -s none
for target in text engine markup content; do
  mkdir -p "$scratch/$target"
  log="$scratch/$target.log"
  if ! cargo +nightly fuzz run -O -s none "$target" "$scratch/$target" "corpus/$target" -- \
      -max_total_time="$seconds" -rss_limit_mb=4096 -print_final_stats=1 >"$log" 2>&1; then
    tail -40 "$log" >&2
    echo "fuzz: $target FAILED (see fuzz/artifacts/$target/)" >&2
    exit 1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  echo "fuzz: $target ok, $runs executions in ${seconds} s"
done
