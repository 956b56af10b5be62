#!/usr/bin/env bash
# Builds a patient network behind a NAT out of network namespaces, for the reachability tests
# (tests/browser/netns-*.test.mjs). Needs root, `ip` (iproute2) and `iptables`.
#
#   root namespace  hp<ID>o0 198.18.S.1/24 ── hp<ID>o1 198.18.S.2  namespace hp<ID>-nat
#   (gateway, coturn, agent)                   hp<ID>i0 198.19.S.1 ── hp<ID>i1 198.19.S.2  namespace hp<ID>-pat
#
# Per POLICY the NAT namespace is:
#   no-udp      a NAT (masquerade behind 198.18.S.2) that drops every UDP datagram it forwards:
#               a patient behind a firewall that allows only TCP;
#   one-to-one  a 1:1 NAT: 198.18.S.2 is the inside host's public address, everything is
#               forwarded both ways (a cloud VM behind its provider's NAT). Addresses are in 198.18.0.0/15 (RFC 2544, for test networks): nothing
# leaves the machine.
#
# Usage: setup.sh ID POLICY  (ID: a short unique token, e.g. the test's pid)
# Prints shell-style KEY=VALUE lines: NS_PAT, NS_NAT, GW_IP (root side), NAT_IP, PAT_IP.
# Teardown: teardown.sh ID. A stale network of a process that no longer exists is removed
# first, so a crashed run does not leave its namespaces to the next.
set -euo pipefail

id=${1:?usage: setup.sh ID POLICY}
policy=${2:?usage: setup.sh ID POLICY}
[[ $id =~ ^[0-9a-z]{1,8}$ ]] || { echo "setup.sh: ID must be 1-8 of [0-9a-z]" >&2; exit 2; }
[[ $policy == no-udp || $policy == one-to-one ]] || { echo "setup.sh: POLICY is no-udp or one-to-one" >&2; exit 2; }
here=$(dirname "$0")

if [ "$(id -u)" -ne 0 ]; then
  echo "setup.sh: needs root (network namespaces, veth, iptables)" >&2; exit 3
fi
for tool in ip iptables; do
  command -v "$tool" >/dev/null || { echo "setup.sh: \`$tool\` is missing (scripts/setup.sh installs it)" >&2; exit 3; }
done

# Stale networks: hp<pid>-... whose pid is gone.
for ns in $(ip netns list | awk '{print $1}' | grep -E '^hp[0-9]+-(nat|pat)$' || true); do
  pid=${ns#hp}; pid=${pid%%-*}
  kill -0 "$pid" 2>/dev/null || "$here/teardown.sh" "$pid" >/dev/null 2>&1 || true
done

pat="hp$id-pat"; nat="hp$id-nat"
if ip netns list | grep -qE "^($pat|$nat)( |$)"; then
  echo "setup.sh: namespaces for $id exist already" >&2; exit 4
fi

# A /24 pair no interface of this machine uses yet.
used=$(ip -4 -o addr show | awk '{print $4}')
subnet=""
for try in $(seq 0 255); do
  s=$(( (${id//[!0-9]/0} + try) % 250 + 1 ))
  if ! grep -qE "^198\.1[89]\.$s\." <<<"$used"; then subnet=$s; break; fi
done
[ -n "$subnet" ] || { echo "setup.sh: no free 198.18.x.0/24" >&2; exit 4; }
gw="198.18.$subnet.1"; natout="198.18.$subnet.2"; natin="198.19.$subnet.1"; patip="198.19.$subnet.2"

trap '"$here/teardown.sh" "$id" >/dev/null 2>&1 || true' ERR
ip netns add "$nat"
ip netns add "$pat"
ip link add "hp${id}o0" type veth peer name "hp${id}o1" netns "$nat"
ip link add "hp${id}i0" netns "$nat" type veth peer name "hp${id}i1" netns "$pat"
ip addr add "$gw/24" dev "hp${id}o0"
ip link set "hp${id}o0" up
ip -n "$nat" addr add "$natout/24" dev "hp${id}o1"
ip -n "$nat" addr add "$natin/24" dev "hp${id}i0"
ip -n "$nat" link set lo up
ip -n "$nat" link set "hp${id}o1" up
ip -n "$nat" link set "hp${id}i0" up
ip -n "$nat" route add default via "$gw"
ip netns exec "$nat" sysctl -qw net.ipv4.ip_forward=1
ip -n "$pat" addr add "$patip/24" dev "hp${id}i1"
ip -n "$pat" link set lo up
ip -n "$pat" link set "hp${id}i1" up
ip -n "$pat" route add default via "$natin"

if [ "$policy" = no-udp ]; then
  ip netns exec "$nat" iptables -t nat -A POSTROUTING -o "hp${id}o1" -j MASQUERADE
  ip netns exec "$nat" iptables -A FORWARD -p udp -j DROP
else
  ip netns exec "$nat" iptables -t nat -A PREROUTING -i "hp${id}o1" -d "$natout" -j DNAT --to-destination "$patip"
  ip netns exec "$nat" iptables -t nat -A POSTROUTING -o "hp${id}o1" -s "$patip" -j SNAT --to-source "$natout"
fi
# The patient reaches nothing but the test network (no default route of the root namespace
# is followed: the root side answers only for 198.18.S.0/24).
ip netns exec "$nat" iptables -A FORWARD -o "hp${id}o1" ! -d "198.18.$subnet.0/24" -j DROP
trap - ERR

echo "NS_PAT=$pat"
echo "NS_NAT=$nat"
echo "GW_IP=$gw"
echo "NAT_IP=$natout"
echo "PAT_IP=$patip"
