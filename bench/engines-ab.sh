#!/usr/bin/env bash
# Interleaved A/B of forwarder binaries (docs/benchmarks.md, "hushpay-rtc driver"): for each
# round, each binary in turn forwards PAIRS call pairs of the generator for SECONDS (forwarder
# on core 0, generator on core 1, nice -10 as in bench/engines.sh), one result line per run.
# Alternating the binaries spreads the shared machine's noise over both sides.
#
#   bench/engines-ab.sh PAIRS ROUNDS SECONDS BINARY...   (binaries in bench/engines/target/release,
#                                                         e.g. a copy of fwd-hushpay built before a change)
#
# With SYSCALLS=1, each run also prints the forwarder's system calls per forwarded packet
# (perf stat from 4 to 9 s after the forwarder starts: SECONDS of at least 10; needs perf).
set -uo pipefail
[ $# -ge 4 ] || { sed -n '2,11p' "$0"; exit 64; }
cd "$(dirname "$0")/engines"
PAIRS=$1 ROUNDS=$2 SECS=$3
shift 3
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
if [ -w /proc/self/autogroup ]; then echo -10 > /proc/self/autogroup || true; fi
PORT=19000
for _ in $(seq "$ROUNDS"); do
  for bin in "$@"; do
    PORT=$((PORT + 10))
    nice -n -10 taskset -c 0 "target/release/$bin" --udp "127.0.0.1:$PORT" \
      --http "127.0.0.1:$((PORT + 1))" 2>/dev/null &
    fwd=$!
    sleep 0.3
    counting=""
    if [ "${SYSCALLS:-}" = 1 ]; then
      (sleep 4; perf stat -e raw_syscalls:sys_enter -p "$fwd" -- sleep 5 2>&1 \
        | awk -v b="$bin" -v pps=$((PAIRS * 2 * 50 * 5)) '/sys_enter/ {gsub(",", "", $1); printf "%s syscalls_per_pkt=%.2f\n", b, $1 / pps}') &
      counting=$!
    fi
    nice -n -10 taskset -c 1 target/release/gen --engine "$bin" --signal "127.0.0.1:$((PORT + 1))" \
      --pid "$fwd" --pairs "$PAIRS" --seconds "$SECS" --warmup 2 2>/dev/null
    [ -n "$counting" ] && wait "$counting"
    kill "$fwd"
    wait "$fwd" 2>/dev/null
  done
done
