#!/usr/bin/env bash
# The SIPp load run of issue 15 (docs/benchmarks.md, "Phone callers under load"): concurrent
# phone callers held on one gateway. Builds the gateway (release), makes the callers' pcap
# (espeak-ng speech looped, an in-band DTMF key every 2 s, PCMU 20 ms: bench/sip-load/make_pcap.py),
# then for each caller count starts `hushpay serve` on a fresh data directory with a SIP trunk
# for loopback, a new room per call and recording on, pinned to core 0, and runs SIPp
# (bench/sip-load/caller.xml) pinned to core 1: N callers at --rate calls/s, each playing the
# pcap and held --seconds, then BYE. Every call is a room whose patient is the caller: its RTP
# goes through the G.711 masker, is transcoded to Opus and written to the room's recording.
#
#   bench/sip-load.sh [--callers "25 50 100"] [--seconds 30] [--rate 20] [--nice -10]
#                     [--max-load 0.7] [--wait-load 90] [--profile release] [--gateway-bin PATH]
#
# Reported per run: calls attempted / answered / failed (SIPp's statistics CSV); the INVITE's
# response time (INVITE sent to 200 received: SIP handling, the trunk and dispatch, the room
# join) p50 / p99 / max from SIPp's -trace_rtt; RTP packets sent by SIPp (pcap packets x
# answered calls), taken in by the callers' tasks (hushpay_rtp_packets_in_total), dropped by
# the legs (hushpay_sip_rtp_dropped_total, _foreign_total), masked, and written to the
# recordings (hushpay_recording_packets_total: the masker's output after transcoding), lost
# = sent - recorded; the gateway's CPU (utime + stime from /proc) in the window where every
# call is up, as % of one core and per caller packet; its RSS then.
# No agent is in the rooms: the agents' direction (Opus to G.711 toward the caller) is not
# loaded here.
set -euo pipefail

CALLERS="25 50 100"
SECONDS_=30
RATE=20
NICE=-10
MAX_LOAD=0.7
WAIT_LOAD=90
PROFILE=release
GATEWAY_BIN=""
while [ $# -gt 0 ]; do
    case "$1" in
        --callers) CALLERS="$2"; shift 2 ;;
        --seconds) SECONDS_="$2"; shift 2 ;;
        --rate) RATE="$2"; shift 2 ;;
        --nice) NICE="$2"; shift 2 ;;
        --max-load) MAX_LOAD="$2"; shift 2 ;;
        --wait-load) WAIT_LOAD="$2"; shift 2 ;;
        --profile) PROFILE="$2"; shift 2 ;;
        --gateway-bin) GATEWAY_BIN=$(realpath "$2"); shift 2 ;;
        *) echo "unknown option $1" >&2; exit 64 ;;
    esac
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
if [ -z "$GATEWAY_BIN" ]; then
    nice -n 10 cargo build --profile "$PROFILE" --locked -p hushpay >&2
    case "$PROFILE" in dev) GATEWAY_BIN="$TARGET/debug/hushpay" ;; *) GATEWAY_BIN="$TARGET/$PROFILE/hushpay" ;; esac
fi
command -v sipp >/dev/null || { echo "sipp is required (apt-get install sip-tester)" >&2; exit 69; }
if [ -w /proc/self/autogroup ]; then echo "$NICE" > /proc/self/autogroup || true; fi
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
LOGS=$(mktemp -d)
RESULTS="$LOGS/results"
: > "$RESULTS"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# The callers' audio: speech looped to the held length, a key every 2 s.
espeak-ng -v en-us -s 160 -w "$LOGS/speech.wav" \
    "Hello, I am calling about my invoice from the clinic. I would like to pay it by card now, \
my card is ready, and I can key the number on my phone when you ask for it."
sox "$LOGS/speech.wav" -r 8000 -c 1 -b 16 -e signed-integer -t raw "$LOGS/speech.raw"
PCAP_PACKETS=$(python3 bench/sip-load/make_pcap.py "$LOGS/speech.raw" "$SECONDS_" "$LOGS/caller.pcap")
HOLD_MS=$((SECONDS_ * 1000 + 500))

load1() { cut -d' ' -f1 /proc/loadavg; }
below() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }
wait_for_quiet() {
    local waited=0
    while ! below "$(load1)" "$MAX_LOAD" && [ "$waited" -lt "$WAIT_LOAD" ]; do
        sleep 5; waited=$((waited + 5))
    done
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
metric() { awk -v n="$2" '$1 == n { print $2; found = 1 } END { if (!found) print 0 }' "$1"; }
CLK_TCK=$(getconf CLK_TCK)

# Starts `hushpay serve` in $1 (extra args after), waits for its HTTP address; sets GW, ADDR.
start_gateway() {
    local dir=$1; shift
    (cd "$dir" && HUSHPAY_LOG=warn HUSHPAY__RTC__UDP_PORT=0 HUSHPAY__RECORDING__ENABLED=true \
        exec nice -n "$NICE" taskset -c 0 "$GATEWAY_BIN" "$@" serve --listen 127.0.0.1:0 \
        >>stdout.log 2>>stderr.log) &
    GW=$!
    PIDS+=("$GW")
    ADDR=""
    for _ in $(seq 300); do
        ADDR=$(sed -n 's|^Hushpay listening on http://||p' "$dir/stdout.log" 2>/dev/null | tail -1)
        [ -n "$ADDR" ] && return 0
        sleep 0.1
    done
    return 1
}

SIP_PORT=15060
run() {
    local n=$1 dir="$LOGS/callers-$1"
    mkdir -p "$dir"
    : > "$dir/stdout.log"
    # first start: the demo tenant (its id is the trunk's tenant)
    if ! start_gateway "$dir"; then
        echo "result callers=$n FAILED (no start: $(tail -1 "$dir/stderr.log"))" | tee -a "$RESULTS"
        return
    fi
    local tenant
    tenant=$(sed -n 's|^Demo tenant `demo` created: ||p' "$dir/stdout.log")
    kill "$GW"; wait "$GW" 2>/dev/null || true
    cat > "$dir/hushpay.toml" <<EOF
[sip]
listen = "127.0.0.1:$SIP_PORT"
max_calls = 2000
[[sip.trunks]]
name = "sipp"
tenant = "$tenant"
sources = ["127.0.0.1/32"]
max_calls = 2000
[[sip.dispatch]]
tenant = "$tenant"
EOF
    : > "$dir/stdout.log"
    if ! start_gateway "$dir" --config "$dir/hushpay.toml"; then
        echo "result callers=$n FAILED (no start with SIP: $(tail -1 "$dir/stderr.log"))" | tee -a "$RESULTS"
        return
    fi
    local gw=$GW metrics="http://$ADDR/metrics"
    curl -sf "$metrics" > "$dir/metrics-before"
    local load
    load=$(load1)

    cp "$LOGS/caller.pcap" "$dir/"
    local t0
    t0=$(date +%s.%N)
    (cd "$dir" && exec nice -n "$NICE" taskset -c 1 sipp -sf "$ROOT/bench/sip-load/caller.xml" \
        -s payline -i 127.0.0.1 -t u1 -p $((SIP_PORT + 1)) -mp $((SIP_PORT + 10)) \
        -l "$n" -m "$n" -r "$RATE" -d "$HOLD_MS" -timeout $((SECONDS_ + 60))s -timeout_error \
        -trace_stat -stf stats.csv -fd 1 -trace_rtt -rtt_freq 1 -trace_err -nostdin \
        "127.0.0.1:$SIP_PORT" >sipp.log 2>&1) &
    local sipp=$!
    PIDS+=("$sipp")
    # the window where every call is up: after the ramp (n / rate s) and set-up, before the
    # first call's pcap ends
    local ramp_ms=$(( n * 1000 / RATE + 1500 ))
    local window_ms=$(( SECONDS_ * 1000 - ramp_ms - 1000 ))
    local c0="" c1="" rss="" w0 w1 up
    if [ "$window_ms" -gt 2000 ]; then
        sleep "$(awk -v t0="$t0" -v r="$ramp_ms" -v now="$(date +%s.%N)" 'BEGIN { s = t0 + r / 1000 - now; print (s > 0 ? s : 0) }')"
        c0=$(cpu_ticks "$gw"); w0=$(date +%s.%N)
        curl -sf "$metrics" > "$dir/metrics-window-start"
        sleep "$(awk -v w="$window_ms" 'BEGIN { print w / 1000 }')"
        c1=$(cpu_ticks "$gw"); w1=$(date +%s.%N); rss=$(rss_kib "$gw")
        curl -sf "$metrics" > "$dir/metrics-window-end"
    fi
    local sipp_ok=ok
    wait "$sipp" || sipp_ok="exit $?"
    sleep 1
    curl -sf "$metrics" > "$dir/metrics-after"
    kill "$gw" 2>/dev/null || true
    wait "$gw" 2>/dev/null || true

    # SIPp: the last statistics line, the response times
    local stats="$dir/stats.csv"
    local created ok failed
    created=$(awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i } END { print $h["TotalCallCreated"] }' "$stats")
    ok=$(awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i } END { print $h["SuccessfulCall(C)"] }' "$stats")
    failed=$(awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i } END { print $h["FailedCall(C)"] }' "$stats")
    local rtt
    rtt=$(cat "$dir"/*_rtt.csv 2>/dev/null | awk -F';' '$3 == 1 { print $2 }' | sort -n | awk '
        { v[NR] = $1 }
        END {
            if (NR == 0) { print "- - -"; exit }
            p50 = v[int((NR - 1) * 0.50) + 1]; p99 = v[int((NR - 1) * 0.99) + 1]
            printf "%.2f %.2f %.2f\n", p50, p99, v[NR]
        }')
    read -r rtt50 rtt99 rttmax <<<"$rtt"

    local a="$dir/metrics-after" b="$dir/metrics-before"
    delta() { echo $(( $(metric "$a" "$1") - $(metric "$b" "$1") )); }
    local answered offered rin dropped foreign recorded masked rdropped sent lost
    offered=$(delta hushpay_sip_calls_offered_total)
    answered=$ok
    rin=$(delta hushpay_rtp_packets_in_total)
    dropped=$(delta hushpay_sip_rtp_dropped_total)
    foreign=$(delta hushpay_sip_rtp_foreign_total)
    recorded=$(delta hushpay_recording_packets_total)
    rdropped=$(delta hushpay_recording_packets_dropped_total)
    masked=$(delta hushpay_rtp_packets_masked_total)
    sent=$(( PCAP_PACKETS * answered ))
    lost=$(( sent - recorded ))
    local cpu_pct="-" us_per_pkt="-"
    if [ -n "$c1" ]; then
        local ws="$dir/metrics-window-start" we="$dir/metrics-window-end"
        local pk=$(( $(metric "$we" hushpay_rtp_packets_in_total) - $(metric "$ws" hushpay_rtp_packets_in_total) ))
        cpu_pct=$(awk -v c="$((c1 - c0))" -v hz="$CLK_TCK" -v a="$w0" -v b="$w1" 'BEGIN { printf "%.1f", 100 * c / hz / (b - a) }')
        us_per_pkt=$(awk -v c="$((c1 - c0))" -v hz="$CLK_TCK" -v p="$pk" 'BEGIN { if (p > 0) printf "%.1f", 1e6 * c / hz / p; else print "-" }')
    fi
    local line="result callers=$n attempted=$created answered=$answered failed=$failed offered=$offered"
    line+=" invite_p50_ms=$rtt50 invite_p99_ms=$rtt99 invite_max_ms=$rttmax"
    line+=" rtp_sent=$sent rtp_in=$rin leg_dropped=$dropped foreign=$foreign masked=$masked"
    line+=" recorded=$recorded rec_dropped=$rdropped lost=$lost cpu_pct=$cpu_pct us_per_pkt=$us_per_pkt"
    line+=" rss_kib=${rss:--} load=$load sipp=${sipp_ok// /_}"
    echo "$line" | tee -a "$RESULTS"
    SIP_PORT=$((SIP_PORT + 100))
}

for n in $CALLERS; do
    wait_for_quiet
    run "$n"
done

echo
echo "pcap: $PCAP_PACKETS packets per call ($SECONDS_ s), calls at $RATE/s, held ${HOLD_MS} ms"
echo
echo "| callers | attempted / answered / failed | INVITE→200 p50 / p99 / max ms | RTP sent | taken in | recorded | lost | masked | gateway CPU % (one core) | µs CPU per caller packet | RSS MiB | load before |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
awk '{
    delete v
    for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    if ($0 ~ /FAILED/) { printf "| %s | failed |||||||||||\n", v["callers"]; next }
    lostpct = (v["rtp_sent"] > 0) ? sprintf(" (%.3f %%)", 100 * v["lost"] / v["rtp_sent"]) : ""
    rss = (v["rss_kib"] == "-") ? "-" : sprintf("%.0f", v["rss_kib"] / 1024)
    printf "| %s | %s / %s / %s | %s / %s / %s | %s | %s | %s | %s%s | %s | %s | %s | %s | %s |\n",
        v["callers"], v["attempted"], v["answered"], v["failed"], v["invite_p50_ms"],
        v["invite_p99_ms"], v["invite_max_ms"], v["rtp_sent"], v["rtp_in"], v["recorded"],
        v["lost"], lostpct, v["masked"], v["cpu_pct"], v["us_per_pkt"], rss, v["load"]
}' "$RESULTS"
echo
echo "logs: $LOGS" >&2
