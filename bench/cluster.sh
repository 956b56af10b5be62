#!/usr/bin/env bash
# The cluster measurements of issue 14 (docs/benchmarks.md, "Cluster"): builds the gateway
# (release), then runs bench/cluster/run.py, which starts on this machine a private
# nats-server (JetStream, monitoring port for /varz), a PostgreSQL database of its own on
# HUSHPAY_TEST_POSTGRES (default postgres://postgres@127.0.0.1:5432/test; dropped at the end)
# and `hushpay serve` nodes with HUSHPAY__CLUSTER__* settings, as the cluster tests do, and
# measures:
#
#   failover  SIGKILL of a room's node -> the room placeable on the survivor (lease 6 s, 2 s)
#   payments  keypad payments for rooms on node-1 through node-2 and node-3, against node-1
#             alone; p50/p99, per second, NATS messages and PostgreSQL work per payment
#   call      NATS messages and PostgreSQL work of one call's control plane (no media)
#   webhooks  a backlog of events delivered by one node, then by two sharing the outbox
#   pairs     masked call pairs (`hushpay loadgen`) through one node, then two
#
#   bench/cluster.sh [--only "failover payments call webhooks pairs"] [--reps 5]
#                    [--leases "6 2"] [--seconds 10] [--concurrency-levels "1 16"]
#                    [--events 2000] [--pairs "40 100"] [--pair-seconds 10]
#                    [--profile release] [--gateway-bin PATH]
#
# Every option but --profile and --gateway-bin goes to run.py (`python3 bench/cluster/run.py
# --help`). `--gateway-bin` runs a given `hushpay` (nothing is built); `--profile dev` the
# debug build (to check the script quickly; its numbers are not the gateway's).
# Needs nats-server, psql and a PostgreSQL server (scripts/setup.sh installs them).
set -euo pipefail

PROFILE=release
GATEWAY_BIN=""
PASS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --profile) PROFILE="$2"; shift 2 ;;
        --gateway-bin) GATEWAY_BIN=$(realpath "$2"); shift 2 ;;
        *) PASS+=("$1"); shift ;;
    esac
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
if [ -z "$GATEWAY_BIN" ]; then
    nice -n 10 cargo build --profile "$PROFILE" --locked -p hushpay >&2
    case "$PROFILE" in dev) GATEWAY_BIN="$TARGET/debug/hushpay" ;; *) GATEWAY_BIN="$TARGET/$PROFILE/hushpay" ;; esac
fi
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
PYTHONDONTWRITEBYTECODE=1 exec python3 "$ROOT/bench/cluster/run.py" --binary "$GATEWAY_BIN" "${PASS[@]}"
