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
  coturn iptables iproute2          # reachability tests: a real TURN server, NAT namespaces
  nats-server                       # cluster tests: each starts its own NATS (JetStream) server
  sip-tester                        # SIPp (`sipp`): the SIP trunk peer of the SIP ingress tests
  python3-venv                      # the virtualenv of schemathesis (the API test, below)
  postgresql                        # server binaries (initdb, pg_ctl): the store's TLS test starts its own
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

# wasm-bindgen CLI for the card iframe (scripts/build-wasm.sh): exactly the version of the
# wasm-bindgen crate in Cargo.lock, built once into a cache directory outside the repository.
# `--locked` first; crates.io here lacks a version its lock file pins (webpki-roots 1.0.11),
# so fall back to a fresh resolution of the same CLI version.
wbg_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
tools=${HUSHPAY_TOOLS_DIR:-$HOME/.cache/hushpay/tools}
if [ -n "$wbg_version" ] && [ ! -x "$tools/wasm-bindgen-$wbg_version/bin/wasm-bindgen" ]; then
  echo "setup: building wasm-bindgen-cli $wbg_version into $tools (once)"
  (
    unset CARGO_TARGET_DIR
    cargo install --quiet --locked --root "$tools/wasm-bindgen-$wbg_version" wasm-bindgen-cli --version "$wbg_version" \
      || cargo install --quiet --root "$tools/wasm-bindgen-$wbg_version" wasm-bindgen-cli --version "$wbg_version"
  )
fi

# npm ci when node_modules is missing or older than the lock file.
if [ -f package-lock.json ] && { [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; }; then
  npm ci --no-audit --no-fund
fi

# schemathesis (PyPI) for the property-based API test (scripts/check-openapi.sh): a pinned
# version in a virtualenv of its own in the same cache directory, installed once (again when
# the virtualenv no longer runs, e.g. after its Python was replaced).
st_version=4.32.5 # keep in step with scripts/check-openapi.sh
if ! "$tools/schemathesis-$st_version/bin/st" --version >/dev/null 2>&1; then
  echo "setup: installing schemathesis $st_version into $tools (once)"
  rm -rf "$tools/schemathesis-$st_version"
  python3 -m venv "$tools/schemathesis-$st_version"
  "$tools/schemathesis-$st_version/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$st_version"
fi

# fhir.resources (PyPI) 6.1.0, the FHIR R4 (4.0.1) models, validates the FHIR webhooks'
# resources in tests (scripts/validate-fhir.py); a virtualenv of its own (it needs pydantic 1).
fhir_version=6.1.0 # keep in step with scripts/validate-fhir.py
if ! "$tools/fhir-resources-$fhir_version/bin/python" -c "import fhir.resources" >/dev/null 2>&1; then
  echo "setup: installing fhir.resources $fhir_version into $tools (once)"
  rm -rf "$tools/fhir-resources-$fhir_version"
  python3 -m venv "$tools/fhir-resources-$fhir_version"
  "$tools/fhir-resources-$fhir_version/bin/pip" install --quiet --disable-pip-version-check "fhir.resources==$fhir_version" "pydantic>=1.10,<2"
fi
