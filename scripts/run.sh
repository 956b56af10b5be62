#!/usr/bin/env bash
# Runs the gateway on its embedded defaults: SQLite in ./hushpay-data, generated development
# keys, a demo tenant whose API key is printed once. Extra arguments go to `hushpay serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
# The card iframe's wasm and scripts (web-sdk/dist/frame), served on the widget origin.
npm run --silent build
exec cargo run --release -p hushpay -- serve "$@"
