#!/usr/bin/env bash
# Removes the network tests/netns/setup.sh built for ID: every process left in its namespaces
# is killed, then the namespaces go (their veth pairs with them). Idempotent.
set -uo pipefail
id=${1:?usage: teardown.sh ID}
[[ $id =~ ^[0-9a-z]{1,8}$ ]] || { echo "teardown.sh: bad ID" >&2; exit 2; }
for ns in "hp$id-pat" "hp$id-nat"; do
  ip netns list | grep -qE "^$ns( |$)" || continue
  pids=$(ip netns pids "$ns" 2>/dev/null || true)
  [ -n "$pids" ] && kill -9 $pids 2>/dev/null
  ip netns del "$ns"
done
ip link del "hp${id}o0" 2>/dev/null || true
exit 0
