#!/usr/bin/env bash
# The media-engine bake-off of issue 13 (docs/benchmarks.md, "Engine bake-off"): builds the
# generator and the forwarders asked for in bench/engines (its own workspace, release), then for
# each pair count and each engine starts the forwarder pinned to core 0 and the load generator
# pinned to core 1, one run at a time, and prints every result line and a markdown table.
# Engines: str0m, rtc, webrtc (the bake-off) and hushpay (hushpay-rtc's Endpoint and Driver,
# the gateway's own transport).
#
#   bench/engines.sh [--pairs "50 100 200 300 400 500"] [--engines "str0m rtc webrtc hushpay"]
#                    [--seconds 20] [--warmup 3] [--max-load 0.7] [--wait-load 90] [--nice -10]
#
# Both processes run at nice -10 (root) so that other jobs' builds on the shared machine take
# less of the pinned cores from them; the load average is still recorded for every run.
# Before each run it waits (up to --wait-load seconds) for the 1-minute load average to fall
# below --max-load; a run started above it is marked BUSY by the generator.
set -euo pipefail

PAIRS="50 100 200 300 400 500"
ENGINES="str0m rtc webrtc hushpay"
SECONDS_=20
WARMUP=3
MAX_LOAD=0.7
WAIT_LOAD=90
NICE=-10
while [ $# -gt 0 ]; do
    case "$1" in
        --pairs) PAIRS="$2"; shift 2 ;;
        --engines) ENGINES="$2"; shift 2 ;;
        --seconds) SECONDS_="$2"; shift 2 ;;
        --warmup) WARMUP="$2"; shift 2 ;;
        --max-load) MAX_LOAD="$2"; shift 2 ;;
        --wait-load) WAIT_LOAD="$2"; shift 2 ;;
        --nice) NICE="$2"; shift 2 ;;
        *) echo "unknown option $1" >&2; exit 64 ;;
    esac
done

cd "$(dirname "$0")/engines"
# only the forwarders asked for (webrtc-rs takes most of a cold build)
packages="-p loadgen"
for engine in $ENGINES; do packages="$packages -p fwd-$engine"; done
nice -n 10 cargo build --release --locked $packages >&2
BIN=target/release
if [ -w /proc/self/autogroup ]; then echo "$NICE" > /proc/self/autogroup || true; fi
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
LOGS=$(mktemp -d)
RESULTS="$LOGS/results"
: > "$RESULTS"
UDP_PORT=17882
HTTP_PORT=17880

load1() { cut -d' ' -f1 /proc/loadavg; }
below() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }

for pairs in $PAIRS; do
    for engine in $ENGINES; do
        waited=0
        while ! below "$(load1)" "$MAX_LOAD" && [ "$waited" -lt "$WAIT_LOAD" ]; do
            sleep 5; waited=$((waited + 5))
        done
        log="$LOGS/fwd-$engine-$pairs.log"
        udp="127.0.0.1:$UDP_PORT"
        [ "$engine" = webrtc ] && udp="127.0.0.1:0" # one socket per peer connection
        nice -n "$NICE" taskset -c 0 "$BIN/fwd-$engine" --udp "$udp" --http "127.0.0.1:$HTTP_PORT" \
            2>"$log" &
        fwd=$!
        for _ in $(seq 50); do
            (exec 3<>"/dev/tcp/127.0.0.1/$HTTP_PORT") 2>/dev/null && break
            sleep 0.1
        done
        if line=$(nice -n "$NICE" taskset -c 1 "$BIN/gen" --engine "$engine" --signal "127.0.0.1:$HTTP_PORT" \
            --pid "$fwd" --pairs "$pairs" --seconds "$SECONDS_" --warmup "$WARMUP" \
            --max-load "$MAX_LOAD" 2>>"$log"); then
            :
        else
            line="engine=$engine pairs=$pairs FAILED (see $log: $(tail -1 "$log"))"
        fi
        kill "$fwd" 2>/dev/null || true
        wait "$fwd" 2>/dev/null || true
        echo "$line" | tee -a "$RESULTS"
        # next run on fresh ports (the old ones may linger)
        UDP_PORT=$((UDP_PORT + 10)); HTTP_PORT=$((HTTP_PORT + 10))
    done
done

echo
echo "| engine | pairs | lost | p50 ms | p99 ms | max ms | fwd CPU % | µs/pkt | set-up s | RSS MB | KiB/pair | UDP drops | gen CPU % | fwd / gen CPU wait % | load before |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
awk '{
    delete v; busy = ($NF == "BUSY") ? " BUSY" : ""
    for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    if ($0 ~ /FAILED/) { printf "| %s | %s | failed |||||||||||||\n", v["engine"], v["pairs"]; next }
    printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s / %s | %s%s |\n",
        v["engine"], v["pairs"], v["lost"], v["p50_ms"], v["p99_ms"], v["max_ms"], v["cpu_pct"],
        v["us_per_pkt"], v["setup_s"], v["rss_mb"], v["rss_kib_per_pair"], v["udp_drops"], v["gen_cpu_pct"],
        v["fwd_wait_pct"], v["gen_wait_pct"],
        v["load"], busy
}' "$RESULTS"
echo
echo "logs: $LOGS" >&2
