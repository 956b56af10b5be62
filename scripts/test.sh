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
