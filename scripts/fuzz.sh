#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser that reads bytes from outside (fuzz/, cargo fuzz +
# libFuzzer; the target bodies and their invariants are in server/fuzzing/).
#
#   scripts/fuzz.sh SECONDS [TARGET...]   run each target (all by default) for SECONDS, then print
#                                         one Markdown row per target: time, executions, corpus,
#                                         crashes (docs/security.md, "Issue 12: fuzzing")
#   scripts/fuzz.sh --build               build the targets only (FUZZ_SKIP_BUILD=1 then runs
#                                         the last build without touching cargo)
#   scripts/fuzz.sh --cmin [TARGET...]    minimize fuzz/corpus/TARGET (keep what adds coverage)
#   scripts/fuzz.sh --list                the target names
#
# New inputs go to fuzz/corpus/TARGET/ (committed after --cmin); the hand-made seeds are in
# fuzz/seeds/TARGET/; a crash is written to fuzz/artifacts/TARGET/ and fails the run (it stops
# the target, unless FUZZ_KEEP_GOING=1: libFuzzer's fork mode, which goes on and counts them). CI does not
# run this: `cargo test -p hushpay-fuzzing` (part of scripts/test.sh) replays every committed
# input through the same bodies on the stable toolchain.
#
# Toolchain: cargo fuzz needs nightly-only rustc flags (-Z sanitizer-coverage...). This machine
# has stable only; RUSTC_BOOTSTRAP=1 lets stable rustc accept them. No sanitizer (`-s none`):
# the Rust code forbids `unsafe`, libopus is not instrumented anyway, and it doubles the
# executions per second; debug assertions and overflow checks stay on. cargo-fuzz is installed
# once into a cache outside the repository (like wasm-bindgen-cli in setup.sh). Runs at
# `nice -n 19` (FUZZ_NICE to change; builds run at normal priority): the machine is shared.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_FUZZ_VERSION=0.13.2
tools=${HUSHPAY_TOOLS_DIR:-$HOME/.cache/hushpay/tools}
bin="$tools/cargo-fuzz-$CARGO_FUZZ_VERSION/bin"
if [ ! -x "$bin/cargo-fuzz" ]; then
  echo "fuzz: installing cargo-fuzz $CARGO_FUZZ_VERSION into $tools (once)" >&2
  (unset CARGO_TARGET_DIR; cargo install --quiet --locked --root "$tools/cargo-fuzz-$CARGO_FUZZ_VERSION" cargo-fuzz --version "$CARGO_FUZZ_VERSION")
fi
export PATH="$bin:$PATH"
export RUSTC_BOOTSTRAP=1
# Inside the workspace's target directory (no second one): fuzz builds are instrumented, so
# they live beside, not on top of, the normal builds.
target_dir="${CARGO_TARGET_DIR:-$PWD/target}/fuzz"
nice_level=${FUZZ_NICE:-19}
all_targets=$(sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^hushpay-fuzz$')

cargo_fuzz() {
  nice -n "$nice_level" cargo fuzz "$1" --fuzz-dir fuzz --target-dir "$target_dir" -s none "${@:2}"
}
cargo_fuzz_build() {
  cargo fuzz build --fuzz-dir fuzz --target-dir "$target_dir" -s none "$@"
}

case "${1:-}" in
  --list) echo "$all_targets"; exit 0 ;;
  --build) shift; mkdir -p fuzz/logs; for t in ${*:-$all_targets}; do cargo_fuzz_build "$t"; done; exit 0 ;;
  --cmin)
    # libFuzzer's set-cover merge over edges only (-use_counters=0: hit counts would keep
    # thousands of files), run from the built binary (no cargo lock): the fewest inputs of the
    # seeds and the corpus that cover every edge; then the seeds are dropped (in fuzz/seeds/).
    shift; mkdir -p fuzz/logs
    for t in ${*:-$all_targets}; do
      [ -d "fuzz/corpus/$t" ] || continue
      out=$(mktemp -d)
      nice -n "$nice_level" "$target_dir/x86_64-unknown-linux-gnu/release/$t" -set_cover_merge=1 -use_counters=0 -max_len=4096 \
        "$out" "fuzz/seeds/$t" "fuzz/corpus/$t" >"fuzz/logs/cmin-$t.log" 2>&1 \
        || { echo "fuzz: cmin of $t failed (fuzz/logs/cmin-$t.log)" >&2; rm -rf "$out"; continue; }
      for seed in "fuzz/seeds/$t"/*; do rm -f "$out/$(sha1sum "$seed" | cut -d' ' -f1)"; done
      rm -rf "fuzz/corpus/$t" && mv "$out" "fuzz/corpus/$t" && chmod 755 "fuzz/corpus/$t"
      echo "$t: $(find "fuzz/corpus/$t" -type f | wc -l) files, $(du -sk "fuzz/corpus/$t" | cut -f1) KiB"
    done
    exit 0 ;;
  ''|-*) sed -n '2,12p' "$0"; exit 2 ;;
esac

seconds=$1
shift
targets=${*:-$all_targets}
mkdir -p fuzz/logs
failed=0
rows=()
for t in $targets; do
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
  if [ -z "${FUZZ_SKIP_BUILD:-}" ]; then
    cargo_fuzz_build "$t" >"fuzz/logs/build-$t.log" 2>&1 \
      || { echo "fuzz: $t does not build (fuzz/logs/build-$t.log)" >&2; exit 1; }
  fi
  log="fuzz/logs/$t-$(date -u +%Y%m%dT%H%M%S).log"
  before=$(find "fuzz/artifacts/$t" -type f | wc -l)
  start=$(date +%s)
  status=0
  # The binary `cargo fuzz run` would start, started directly: no cargo lock held while it runs
  # (several targets can run while another builds).
  nice -n "$nice_level" "$target_dir/x86_64-unknown-linux-gnu/release/$t" "fuzz/corpus/$t" "fuzz/seeds/$t" \
    -max_total_time="$seconds" -max_len=4096 -timeout=30 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="fuzz/artifacts/$t/" ${FUZZ_KEEP_GOING:+-fork=1 -ignore_crashes=1} \
    >"$log" 2>&1 || status=$?
  took=$(( $(date +%s) - start ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  # fork mode (FUZZ_KEEP_GOING=1: go on after a crash) reports "#N ... execs: N" instead
  [ -n "$execs" ] || execs=$(sed -n 's/.*execs: \([0-9]*\).*/\1/p' "$log" | tail -1)
  crashes=$(( $(find "fuzz/artifacts/$t" -type f | wc -l) - before ))
  corpus_files=$(find "fuzz/corpus/$t" -type f | wc -l)
  corpus_kib=$(du -sk "fuzz/corpus/$t" | cut -f1)
  if [ "$status" -ne 0 ] || [ "$crashes" -ne 0 ]; then
    failed=1
    echo "fuzz: $t stopped (exit $status, $crashes new artifacts in fuzz/artifacts/$t/; log $log)" >&2
  fi
  row="| \`$t\` | ${took} s | ${execs:-?} | $corpus_files files, $corpus_kib KiB | $crashes |"
  rows+=("$row")
  echo "$row"
done
echo
echo "| target | run time | executions | corpus | crashes |"
echo "|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
exit "$failed"
