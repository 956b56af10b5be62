#!/usr/bin/env bash
# The container packaging, checked when a container engine answers (`docker info`, then
# `podman info`); otherwise it says "skipped: no container engine" and succeeds.
#   1. builds the image from the Dockerfile (multi-stage; the commit passed for --version),
#      checks `hushpay --version`, the non-root user and the web assets in it;
#   2. with a compose command, starts compose.yaml (gateway, PostgreSQL, NATS, coturn) under a
#      throwaway project name and waits for the gateway's /readyz (store and NATS reached),
#      then removes the project with its volumes.
# Part of scripts/test.sh. Host ports: HUSHPAY_CHECK_HTTP_PORT (18080) and the compose file's
# defaults for media and TURN.
set -euo pipefail
cd "$(dirname "$0")/.."

engine=""
for candidate in docker podman; do
  if command -v "$candidate" >/dev/null && timeout 20 "$candidate" info >/dev/null 2>&1; then
    engine=$candidate
    break
  fi
done
if [ -z "$engine" ]; then
  echo "skipped: no container engine (neither \`docker info\` nor \`podman info\` answered);" \
    "the Dockerfile and compose.yaml were not built or started"
  exit 0
fi

commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
image="hushpay:check-$$"
project="hushpay-check-$$"
compose=()
if "$engine" compose version >/dev/null 2>&1; then
  compose=("$engine" compose)
elif [ "$engine" = docker ] && command -v docker-compose >/dev/null; then
  compose=(docker-compose)
elif [ "$engine" = podman ] && command -v podman-compose >/dev/null; then
  compose=(podman-compose)
fi

cleanup() {
  if ((${#compose[@]})); then
    HUSHPAY_GIT_COMMIT=$commit "${compose[@]}" -p "$project" down --volumes --remove-orphans \
      >/dev/null 2>&1 || true
  fi
  "$engine" image rm -f "$image" "$project-gateway" >/dev/null 2>&1 || true
}
trap cleanup EXIT

echo "containers: building the image with $engine (commit $commit)"
"$engine" build --quiet --build-arg "HUSHPAY_GIT_COMMIT=$commit" -t "$image" . >/dev/null

version=$("$engine" run --rm "$image" --version)
expected="hushpay $(awk -F'"' '/^\[workspace.package\]/ { p = 1 } p && /^version/ { print $2; exit }' Cargo.toml) (commit $commit)"
if [ "$version" != "$expected" ]; then
  echo "FAIL: the image's --version printed '$version', expected '$expected'"
  exit 1
fi
user=$("$engine" run --rm --entrypoint /usr/bin/id "$image" -u)
if [ "$user" = 0 ]; then
  echo "FAIL: the image runs as root"
  exit 1
fi
for asset in web-sdk/dist/frame/card.wasm web-sdk/dist/frame/card-frame.js \
  web-sdk/dist/pages/console.js web-sdk/dist/pages/pay.js; do
  "$engine" run --rm --entrypoint /usr/bin/test "$image" -s "/opt/hushpay/$asset" \
    || { echo "FAIL: the image lacks /opt/hushpay/$asset"; exit 1; }
done
echo "ok: image $image: '$version', uid $user, web assets present"

if ((${#compose[@]} == 0)); then
  echo "skipped: compose stack ($engine answers but has no compose command:" \
    "\`$engine compose\`, docker-compose or podman-compose)"
  exit 0
fi
port=${HUSHPAY_CHECK_HTTP_PORT:-18080}
echo "containers: starting compose.yaml as project $project (gateway on 127.0.0.1:$port)"
HUSHPAY_GIT_COMMIT=$commit HUSHPAY_HTTP_PORT=$port "${compose[@]}" -p "$project" up -d --build >/dev/null
ready=""
for _ in $(seq 1 120); do
  if ready=$(curl -fsS "http://127.0.0.1:$port/readyz" 2>/dev/null); then
    break
  fi
  ready=""
  sleep 1
done
if [ -z "$ready" ]; then
  echo "FAIL: the compose gateway did not answer /readyz within 120 s; its log:"
  "${compose[@]}" -p "$project" logs --tail 50 gateway || true
  exit 1
fi
echo "ok: compose stack up (PostgreSQL, NATS JetStream, coturn); /readyz: $ready"
