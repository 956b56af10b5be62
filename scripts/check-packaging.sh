#!/usr/bin/env bash
# Packaging checks of scripts/test.sh:
#   1. the systemd unit (packaging/hushpay.service) passes `systemd-analyze verify` with no
#      warning, keeps its hardening options and rates "OK" or better in `systemd-analyze
#      security` (skipped, saying so, without systemd-analyze);
#   2. `npm pack` of @hushpay/web yields a tarball with the ESM build and its types and nothing
#      of the gateway's assets, which the sample app (examples/sdk-consumer) installs from the
#      tarball and type-checks with tsc under NodeNext and Bundler resolution, and whose ESM
#      build loads in Node.
# Needs the web build (npm run build; run here when web-sdk/dist is missing).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# --- 1. systemd unit -------------------------------------------------------------------------
unit=packaging/hushpay.service
for option in ProtectSystem=strict NoNewPrivileges=yes DynamicUser=yes ProtectHome=yes \
  PrivateTmp=yes PrivateDevices=yes CapabilityBoundingSet= RestrictAddressFamilies= \
  SystemCallFilter=@system-service MemoryDenyWriteExecute=yes; do
  grep -q "^$option" "$unit" || { echo "FAIL: $unit lacks $option"; exit 1; }
done
if command -v systemd-analyze >/dev/null; then
  # verify wants the ExecStart binaries to exist: point them at a stand-in.
  mkdir -p "$scratch/unit"
  sed "s#/usr/local/bin/hushpay#/bin/true#g" "$unit" >"$scratch/unit/hushpay.service"
  out=$(systemd-analyze verify "$scratch/unit/hushpay.service" 2>&1) \
    || { echo "FAIL: systemd-analyze verify $unit: $out"; exit 1; }
  if [ -n "$out" ]; then
    echo "FAIL: systemd-analyze verify $unit warns: $out"
    exit 1
  fi
  exposure=$(systemd-analyze security --offline=yes "$scratch/unit/hushpay.service" 2>&1 \
    | sed -n 's/.*Overall exposure level for hushpay.service: \([0-9.]*\) \([A-Z]*\).*/\1 \2/p')
  case "$exposure" in
    *" OK" | *" SAFE") echo "ok: $unit verifies; systemd-analyze security exposure $exposure" ;;
    *) echo "FAIL: $unit: systemd-analyze security exposure '$exposure' (want OK or SAFE)"; exit 1 ;;
  esac
else
  echo "skipped: systemd-analyze not installed; $unit checked for its hardening options only"
fi

# --- 2. npm pack of @hushpay/web and the sample app -------------------------------------------
if [ ! -f web-sdk/dist/index.js ] || [ ! -f web-sdk/dist/index.d.ts ]; then
  npm run --silent build
fi
mkdir -p "$scratch/pack"
npm pack --silent --workspace web-sdk --pack-destination "$scratch/pack" >/dev/null
tarball=$(ls "$scratch"/pack/hushpay-web-*.tgz)
listing=$(tar -tzf "$tarball")
for file in package/package.json package/dist/index.js package/dist/index.d.ts; do
  grep -qx "$file" <<<"$listing" || { echo "FAIL: $(basename "$tarball") lacks $file"; exit 1; }
done
if grep -E 'dist/(frame|pages/[a-z-]+\.(js|css))|\.wasm$|/src/' <<<"$listing"; then
  echo "FAIL: $(basename "$tarball") carries the gateway's assets or sources (above)"
  exit 1
fi
cp -r examples/sdk-consumer "$scratch/app"
(
  cd "$scratch/app"
  npm install --silent --offline --no-audit --no-fund "$tarball" >/dev/null
  "$root/node_modules/.bin/tsc" -p tsconfig.json
  "$root/node_modules/.bin/tsc" -p tsconfig.bundler.json
  node --input-type=module -e "
    const sdk = await import('@hushpay/web');
    for (const name of ['CardForm', 'Call', 'AgentSession', 'formatMinor'])
      if (typeof sdk[name] !== 'function') throw new Error('@hushpay/web lacks ' + name);"
)
echo "ok: $(basename "$tarball") ($(wc -l <<<"$listing") files) installs from the tarball;" \
  "examples/sdk-consumer type-checks (NodeNext, Bundler) and imports its ESM build"
