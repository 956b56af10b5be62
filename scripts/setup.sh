#!/usr/bin/env bash
# Installs what building, running and testing Hushpay needs on a Debian 12 machine.
# Idempotent: packages already present are not reinstalled. Used by run.sh and test.sh.
set -euo pipefail

PACKAGES=(
  build-essential pkg-config cmake  # libopus (bundled) builds with cmake
  multimon-ng                       # the "attacker" DTMF decoder in leak tests
  espeak-ng sox                     # speech fixtures and audio tooling
  libspandsp-dev                    # spandsp's DTMF receiver, for the comparison benchmark
  chromium chromium-driver          # browser end-to-end tests
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if command -v rustup >/dev/null; then
  rustup target list --installed | grep -qx wasm32-unknown-unknown \
    || rustup target add wasm32-unknown-unknown
fi

if [ -f package-lock.json ] && [ ! -d node_modules ]; then
  npm ci --no-audit --no-fund
fi
