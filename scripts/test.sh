#!/usr/bin/env bash
# Runs every check and test: formatting, lints, the architecture check, and the whole
# workspace's tests (unit, conformance, integration, end-to-end). CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (workspace, all targets, warnings are errors)"
cargo clippy --workspace --all-targets -- -D warnings

step "architecture: media and card crates stay free of runtimes, sockets and databases"
./scripts/check-architecture.sh

step "cargo test --workspace"
cargo test --workspace

# The browser tests start the gateway binary `cargo test` has just built. Left to themselves
# they run `cargo build -p hushpay`, whose narrower feature set compiles a second copy of much
# of the dependency graph (minutes, and gigabytes of disk).
bin_dir=$(mktemp -d)
trap 'rm -rf "$bin_dir"' EXIT
cp "${CARGO_TARGET_DIR:-target}/debug/hushpay" "$bin_dir/hushpay"
export HUSHPAY_BIN="$bin_dir/hushpay"

step "OpenAPI: schemathesis against a live gateway (no 5xx, every answer as docs/openapi.json says)"
./scripts/check-openapi.sh

if [ -f package.json ]; then
  step "TypeScript: typecheck, unit tests, browser end-to-end tests (Chromium)"
  npm run --silent --if-present check
  npm run --silent --if-present test
  npm run --silent --if-present test:browser

  step "packaging: systemd unit, npm pack of @hushpay/web installed and type-checked by a sample app"
  ./scripts/check-packaging.sh
fi

step "containers: the Dockerfile and compose.yaml (PostgreSQL, NATS, coturn), when an engine answers"
./scripts/check-containers.sh
step "all checks passed"
