#!/usr/bin/env bash
# The SFU capacity sweep of issue 13 (docs/benchmarks.md): builds the gateway (release), then
# for each pair count starts `hushpay serve` on a fresh data directory pinned to core 0
# (`taskset -c 0`) and runs `hushpay loadgen` (str0m bots, real Opus with in-band DTMF, masked
# patient audio) pinned to core 1, one run at a time; in the same sweep, the plain-forwarding
# baselines of the engine bake-off (bench/engines: fwd-str0m and fwd-webrtc, driven by its
# generator `gen` with the same pinning). Prints every result line and a markdown table.
#
#   bench/sfu.sh [--pairs "100 200 250 300"] [--seconds 20] [--warmup 3]
#                [--baselines "str0m webrtc"] [--max-load 0.7] [--wait-load 90] [--nice -10]
#                [--profile release] [--gateway-bin PATH] [--loadgen-bin PATH]
#
# `--profile dev` runs the debug gateway (to check the script quickly; its numbers are not
# the gateway's capacity).
# `--gateway-bin` / `--loadgen-bin` run another build of `hushpay` as the gateway or as the
# generator (an A/B of two gateways with one generator; nothing is built for a given path).
# `--baselines ""` skips the baselines. As bench/engines.sh does, both processes run at
# nice -10 in a session whose scheduler autogroup gets nice -10 (root), so that other jobs on
# a shared machine take less of the pinned cores; before each run the script waits (up to
# --wait-load seconds) for the 1-minute load average to fall below --max-load, and a run
# started above it is marked BUSY by the generator.
set -euo pipefail

PAIRS="100 200 250 300"
SECONDS_=20
WARMUP=3
BASELINES="str0m webrtc"
MAX_LOAD=0.7
WAIT_LOAD=90
NICE=-10
PROFILE=release
GATEWAY_BIN=""
LOADGEN_BIN=""
while [ $# -gt 0 ]; do
    case "$1" in
        --pairs) PAIRS="$2"; shift 2 ;;
        --seconds) SECONDS_="$2"; shift 2 ;;
        --warmup) WARMUP="$2"; shift 2 ;;
        --baselines) BASELINES="$2"; shift 2 ;;
        --max-load) MAX_LOAD="$2"; shift 2 ;;
        --wait-load) WAIT_LOAD="$2"; shift 2 ;;
        --nice) NICE="$2"; shift 2 ;;
        --profile) PROFILE="$2"; shift 2 ;;
        --gateway-bin) GATEWAY_BIN=$(realpath "$2"); shift 2 ;;
        --loadgen-bin) LOADGEN_BIN=$(realpath "$2"); shift 2 ;;
        *) echo "unknown option $1" >&2; exit 64 ;;
    esac
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
if [ -z "$GATEWAY_BIN" ] || [ -z "$LOADGEN_BIN" ]; then
    nice -n 10 cargo build --profile "$PROFILE" --locked -p hushpay >&2
fi
case "$PROFILE" in dev) HUSHPAY="$ROOT/target/debug/hushpay" ;; *) HUSHPAY="$ROOT/target/$PROFILE/hushpay" ;; esac
GATEWAY_BIN=${GATEWAY_BIN:-$HUSHPAY}
LOADGEN_BIN=${LOADGEN_BIN:-$HUSHPAY}
ENGINES="$ROOT/bench/engines/target/release"
if [ -n "$BASELINES" ]; then
    (cd bench/engines && nice -n 10 cargo build --release --locked >&2)
fi
if [ -w /proc/self/autogroup ]; then echo "$NICE" > /proc/self/autogroup || true; fi
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
LOGS=$(mktemp -d)
RESULTS="$LOGS/results"
: > "$RESULTS"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

load1() { cut -d' ' -f1 /proc/loadavg; }
below() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }
wait_for_quiet() {
    local waited=0
    while ! below "$(load1)" "$MAX_LOAD" && [ "$waited" -lt "$WAIT_LOAD" ]; do
        sleep 5; waited=$((waited + 5))
    done
}

# One masked run: the gateway on core 0, `hushpay loadgen` on core 1.
gateway_run() {
    local pairs=$1 dir="$LOGS/gateway-$1"
    mkdir -p "$dir"
    # embedded defaults (development, SQLite and keys in ./hushpay-data, the demo tenant);
    # any free UDP port for the media engine
    (cd "$dir" && HUSHPAY_LOG=warn HUSHPAY__RTC__UDP_PORT=0 exec nice -n "$NICE" taskset -c 0 \
        "$GATEWAY_BIN" serve --listen 127.0.0.1:0 >stdout.log 2>stderr.log) &
    local gw=$!
    PIDS+=("$gw")
    local addr=""
    for _ in $(seq 300); do
        addr=$(sed -n 's|^Hushpay listening on http://||p' "$dir/stdout.log" 2>/dev/null | head -1)
        [ -n "$addr" ] && break
        sleep 0.1
    done
    local line
    if [ -z "$addr" ]; then
        line="result engine=gateway pairs=$pairs FAILED (no start: $(tail -1 "$dir/stderr.log"))"
    elif (cd "$dir" && HUSHPAY_LOG=warn nice -n "$NICE" taskset -c 1 "$LOADGEN_BIN" loadgen \
            --gateway "$addr" --tenant demo --pairs "$pairs" --seconds "$SECONDS_" \
            --warmup "$WARMUP" --ramp-ms 0 --gateway-pid "$gw" --max-load "$MAX_LOAD" \
            >loadgen.log 2>loadgen.err); then
        cat "$dir/loadgen.log" >&2
        line=$(grep '^result ' "$dir/loadgen.log" | sed 's/engine=str0m/engine=gateway/')
    else
        line="result engine=gateway pairs=$pairs FAILED (see $dir: $(tail -1 "$dir/loadgen.err"))"
    fi
    kill "$gw" 2>/dev/null || true
    wait "$gw" 2>/dev/null || true
    echo "$line" | tee -a "$RESULTS"
}

# One plain-forwarding baseline run (bench/engines.sh's way).
UDP_PORT=18882
HTTP_PORT=18880
baseline_run() {
    local pairs=$1 engine=$2 log="$LOGS/fwd-$2-$1.log"
    local udp="127.0.0.1:$UDP_PORT"
    [ "$engine" = webrtc ] && udp="127.0.0.1:0" # one socket per peer connection
    nice -n "$NICE" taskset -c 0 "$ENGINES/fwd-$engine" --udp "$udp" \
        --http "127.0.0.1:$HTTP_PORT" 2>"$log" &
    local fwd=$!
    PIDS+=("$fwd")
    for _ in $(seq 50); do
        (exec 3<>"/dev/tcp/127.0.0.1/$HTTP_PORT") 2>/dev/null && break
        sleep 0.1
    done
    local line
    if line=$(nice -n "$NICE" taskset -c 1 "$ENGINES/gen" --engine "$engine" \
            --signal "127.0.0.1:$HTTP_PORT" --pid "$fwd" --pairs "$pairs" \
            --seconds "$SECONDS_" --warmup "$WARMUP" --max-load "$MAX_LOAD" 2>>"$log"); then
        line="baseline ${line/engine=/engine=fwd-}"
    else
        line="baseline engine=fwd-$engine pairs=$pairs FAILED (see $log: $(tail -1 "$log"))"
    fi
    kill "$fwd" 2>/dev/null || true
    wait "$fwd" 2>/dev/null || true
    echo "$line" | tee -a "$RESULTS"
    UDP_PORT=$((UDP_PORT + 10)); HTTP_PORT=$((HTTP_PORT + 10))
}

for pairs in $PAIRS; do
    wait_for_quiet
    gateway_run "$pairs"
    for engine in $BASELINES; do
        wait_for_quiet
        baseline_run "$pairs" "$engine"
    done
done

echo
echo "| run | pairs | p50 / p99 patient→agent ms | p99 agent→patient ms | lost | gateway CPU % | µs/pkt | RSS KiB/pair | set-up s | load before |"
echo "|---|---|---|---|---|---|---|---|---|---|"
awk '{
    delete v; busy = ($NF == "BUSY") ? " BUSY" : ""
    for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    if ($0 ~ /FAILED/) { printf "| %s | %s | failed ||||||||\n", v["engine"], v["pairs"]; next }
    if ($1 == "result") {
        # the masked SFU: both directions measured apart
        printf "| %s | %s | %s / %s | %s | %s (%s%%) | %s | %s | %s | %s | %s%s |\n",
            v["engine"], v["pairs"], v["p2a_p50_ms"], v["p2a_p99_ms"], v["a2p_p99_ms"],
            v["lost"], v["loss_pct"], v["cpu_pct"], v["us_per_pkt"], v["rss_kib_per_pair"],
            v["setup_s"], v["load"], busy
    } else {
        # a plain forwarder: one latency distribution for both directions, no hold
        printf "| %s (plain) | %s | %s / %s | %s | %s | %s | %s | %s | %s | %s%s |\n",
            v["engine"], v["pairs"], v["p50_ms"], v["p99_ms"], v["p99_ms"], v["lost"],
            v["cpu_pct"], v["us_per_pkt"], v["rss_kib_per_pair"], v["setup_s"], v["load"], busy
    }
}' "$RESULTS"
echo
echo "logs: $LOGS" >&2
