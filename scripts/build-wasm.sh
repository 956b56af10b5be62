#!/usr/bin/env bash
# Builds the card iframe's WebAssembly: hushpay-wasm for wasm32 (profile wasm-release:
# opt-level "z", LTO), the wasm-bindgen glue (`--target web`, the CLI version pinned to the
# wasm-bindgen crate in Cargo.lock, installed by scripts/setup.sh), then wasm-opt -Oz
# (npm `binaryen`). Output: web-sdk/build/wasm/.
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
tools=${HUSHPAY_TOOLS_DIR:-$HOME/.cache/hushpay/tools}
bindgen="$tools/wasm-bindgen-$version/bin/wasm-bindgen"
if [ ! -x "$bindgen" ]; then
  echo "build-wasm: wasm-bindgen $version not found at $bindgen; run scripts/setup.sh" >&2
  exit 1
fi

target_dir=${CARGO_TARGET_DIR:-target}
cargo build --quiet -p hushpay-wasm --target wasm32-unknown-unknown --profile wasm-release
out=web-sdk/build/wasm
rm -rf "$out"
mkdir -p "$out"
"$bindgen" --target web --no-typescript --out-dir "$out" \
  "$target_dir/wasm32-unknown-unknown/wasm-release/hushpay_wasm.wasm"
# wasm-opt from npm's `binaryen` (a devDependency of @hushpay/web): Debian 12's binaryen 108
# predates the final reference-types encoding and turns wasm-bindgen's externref table into an
# `anyref` table that browsers refuse to instantiate.
wasm_opt=node_modules/.bin/wasm-opt
if [ ! -x "$wasm_opt" ]; then
  echo "build-wasm: $wasm_opt missing; run npm ci" >&2
  exit 1
fi
# The features rustc enables by default for wasm32-unknown-unknown.
"$wasm_opt" -Oz --strip-debug --strip-producers \
  --enable-bulk-memory --enable-sign-ext --enable-mutable-globals \
  --enable-nontrapping-float-to-int --enable-reference-types --enable-multivalue \
  "$out/hushpay_wasm_bg.wasm" -o "$out/hushpay_wasm_bg.wasm"
echo "build-wasm: $(wc -c <"$out/hushpay_wasm_bg.wasm") bytes -> $out/hushpay_wasm_bg.wasm"
