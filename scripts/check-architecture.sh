#!/usr/bin/env bash
# Proves the sans-IO crates (media, the engine transport rtc, card, and the card iframe's wasm crate) depend on no async runtime, web framework, WebRTC stack or
# database client (DESIGN.md: card <- vault <- gateway -> media; wasm -> card).
set -euo pipefail
cd "$(dirname "$0")/.."

FORBIDDEN='^(tokio|tokio-[a-z-]+|axum|axum-[a-z-]+|hyper|mio|webrtc|webrtc-[a-z-]+|rtc|rtc-[a-z-]+|rusqlite|libsqlite3-sys|sqlx|sqlx-[a-z-]+|postgres|tokio-postgres|redis|async-std|smol|reqwest)$'
forbidden_deps() {
  cargo tree -p "$1" -e normal,build --prefix none --format '{p}' \
    | awk '{print $1}' | sort -u | grep -E "$FORBIDDEN" || true
}

# Control: the check must catch a crate that does use them (the store uses tokio and SQLite).
if [ -z "$(forbidden_deps hushpay-store)" ]; then
  echo "FAIL: the architecture check did not flag hushpay-store; the check itself is broken"
  exit 1
fi

status=0
for crate in hushpay-media hushpay-sip hushpay-rtc hushpay-prompts hushpay-card hushpay-recording hushpay-wasm; do
  bad=$(forbidden_deps "$crate")
  if [ -n "$bad" ]; then
    echo "FAIL: $crate depends on: $(tr '\n' ' ' <<<"$bad")"
    status=1
  else
    echo "ok: $crate depends on no runtime, socket, WebRTC or database crate"
  fi
done

# The vault needs only the store's traits (issue 16): hushpay-store's backends are features the
# gateway asks for, so no database driver or its TLS stack is compiled into hushpay-vault, nor
# into the crates that reach the store only through it (the wire contract, the fuzz bodies).
DRIVERS='^(rusqlite|libsqlite3-sys|tokio-postgres|postgres-protocol|postgres-types|deadpool-postgres|tokio-rustls|rustls|rustls-native-certs)$'
drivers_of() {
  cargo tree -p "$1" -e normal,build --prefix none --format '{p}' \
    | awk '{print $1}' | sort -u | grep -E "$DRIVERS" || true
}
# Control: the same pipeline must find the drivers the gateway does link.
if [ -z "$(drivers_of hushpay)" ]; then
  echo "FAIL: the driver check did not see the gateway's database drivers; the check itself is broken"
  exit 1
fi
for crate in hushpay-vault hushpay-protocol hushpay-fuzzing; do
  bad=$(drivers_of "$crate")
  if [ -n "$bad" ]; then
    echo "FAIL: $crate compiles database drivers: $(tr '\n' ' ' <<<"$bad")"
    status=1
  else
    echo "ok: $crate compiles no database driver (hushpay-store without backend features)"
  fi
done

# The wire contract (server/protocol) and the participant bots (server/bots) stand outside the
# gateway (issue 13): neither depends on it, and the contract, which any client may link, pulls
# in no web framework or WebRTC stack (it reaches tokio only through hushpay-vault's payment
# types, and no database driver: see above).
outside_gateway() {
  cargo tree -p "$1" -e normal,build --prefix none --format '{p}' \
    | awk '{print $1}' | sort -u | grep -E "$2" || true
}
# Control: the same pipeline must find a path dependency the contract does have.
if [ -z "$(outside_gateway hushpay-protocol '^hushpay-vault$')" ]; then
  echo "FAIL: the gateway check did not see hushpay-protocol's hushpay-vault; the check itself is broken"
  exit 1
fi
bad=$(outside_gateway hushpay-protocol '^(hushpay|axum|axum-[a-z-]+|hyper|tower|tower-[a-z-]+|webrtc|webrtc-[a-z-]+|rtc|rtc-[a-z-]+|str0m)$')
if [ -n "$bad" ]; then
  echo "FAIL: hushpay-protocol depends on: $(tr '\n' ' ' <<<"$bad")"
  status=1
else
  echo "ok: hushpay-protocol depends on neither the gateway nor a web framework or WebRTC stack"
fi
bad=$(outside_gateway hushpay-bots '^hushpay$')
if [ -n "$bad" ]; then
  echo "FAIL: hushpay-bots depends on the gateway"
  status=1
else
  echo "ok: hushpay-bots does not depend on the gateway"
fi

# The media engine's transport (server/rtc) is sans-IO: time and datagrams are inputs. Its
# core opens no socket, starts no thread and reads no clock; only its thin driver
# (server/rtc/src/driver/, feature `driver`, built for the binaries at the edge) does.
io_calls=$(grep -rnE 'UdpSocket|TcpStream|TcpListener|Instant::now|SystemTime::now|thread::spawn|mio::' server/rtc/src --exclude-dir=driver | grep -v '// test clock' || true)
if [ -n "$io_calls" ]; then
  echo "FAIL: hushpay-rtc does I/O or reads the clock:"
  echo "$io_calls"
  status=1
else
  echo "ok: hushpay-rtc's core opens no socket, starts no thread and reads no clock (its driver/ does)"
fi
# The load generator (server/loadgen) is a tool at the edge: sockets, threads and tokio are its
# job, but it depends neither on the gateway (which depends on it for `hushpay loadgen`) nor on
# webrtc-rs (its bots are str0m), nor on the gateway's web framework or database.
bad=$(cargo tree -p hushpay-loadgen -e normal,build --prefix none --format '{p}' \
  | awk '{print $1}' | sort -u \
  | grep -E '^(hushpay|hushpay-store|hushpay-vault|webrtc|webrtc-[a-z-]+|rtc|rtc-[a-z-]+|axum|rusqlite|tokio-postgres)$' || true)
if [ -n "$bad" ]; then
  echo "FAIL: hushpay-loadgen depends on: $(tr '\n' ' ' <<<"$bad")"
  status=1
else
  echo "ok: hushpay-loadgen depends on neither the gateway nor webrtc-rs"
fi

# The README's architecture list names every crate of the workspace (its directory and its
# package name, as `server/store    hushpay-store ...`): a crate added without a line fails.
architecture=$(awk '/^## Architecture/ { on = 1; next } on && /^## / { exit } on' README.md)
missing=$(cargo metadata --no-deps --format-version 1 \
  | python3 -c '
import json, os, sys
meta = json.load(sys.stdin)
root = meta["workspace_root"]
for p in meta["packages"]:
    d = os.path.relpath(os.path.dirname(p["manifest_path"]), root)
    print(d + " " + p["name"])' \
  | while read -r dir name; do
      grep -qE "^${dir}/?[[:space:]]+${name}([[:space:]]|$)" <<<"$architecture" || echo "$dir ($name)"
    done)
if [ -n "$missing" ]; then
  echo "FAIL: README's architecture list does not name: $(tr '\n' ' ' <<<"$missing")"
  status=1
else
  echo "ok: README's architecture list names every crate of the workspace"
fi

exit $status
