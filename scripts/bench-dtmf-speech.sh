#!/usr/bin/env bash
# Keypad tones under speech (issue 18): builds the corpus (espeak-ng/sox sources, digits keyed over
# speech and babble at 10-25 dB SNR to the Q.24 accept limits over room babble, pure
# speech/babble/music for talk-off), runs Hushpay's
# detector and masker, spandsp and multimon-ng on it and on the masked audio, prints markdown.
# Needs: cargo, cc, libspandsp-dev, multimon-ng, sox, espeak-ng, python3.
# Usage: scripts/bench-dtmf-speech.sh [--hushpay-only] [--narrow]
#   --narrow: the first, easier keying of issue 18 (45-120 ms, +/-1 %, +/-3 dB, no babble)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
OUT="${BENCH_DTMF_SPEECH_OUT:-$CARGO_TARGET_DIR/bench-dtmf-speech}"
mkdir -p "$OUT"
for tool in cc multimon-ng sox espeak-ng python3; do
    command -v "$tool" >/dev/null || { echo "missing $tool: run scripts/setup.sh" >&2; exit 1; }
done
echo '#include <spandsp.h>' | cc -E - >/dev/null 2>&1 || { echo "missing libspandsp-dev: run scripts/setup.sh" >&2; exit 1; }

rm -rf "$OUT/corpus"
[ -f "$OUT/sources/babble-c.wav" ] || bench/dtmf-compare/make-speech-sources.sh "$OUT/sources" >/dev/null 2>&1
hushpay_only=false narrow=()
for arg in "$@"; do
    case "$arg" in
        --hushpay-only) hushpay_only=true ;;
        --narrow) narrow=(--narrow) ;;
        *) echo "unknown option $arg" >&2; exit 2 ;;
    esac
done
cargo bench -p hushpay-media --bench speech_corpus -- "$OUT/sources" "$OUT/corpus" "${narrow[@]}"
if ! $hushpay_only; then
    cc -O2 -o "$OUT/spandsp_rx" bench/dtmf-compare/spandsp_rx.c -lspandsp
    multimon() { # DIR: multimon-ng over every .raw file (22050 Hz input, resampled with sox)
        : > "$1/multimon.tsv"
        for f in "$1"/*.raw; do
            sox -t raw -r 8000 -e signed -b 16 -c 1 "$f" -t raw -r 22050 -e signed -b 16 -c 1 "$OUT/mm.22k" pad 0 1
            digits=$(multimon-ng -q -a DTMF -t raw "$OUT/mm.22k" 2>/dev/null | sed -n 's/^DTMF: //p' | tr -d '\n' || true)
            printf '%s\t%s\t0\t0\n' "$f" "$digits" >> "$1/multimon.tsv"
        done
        rm -f "$OUT/mm.22k"
    }
    for dir in "$OUT/corpus" "$OUT/corpus/masked" "$OUT/corpus/keys" "$OUT/corpus/keys-unkeyed"; do
        "$OUT/spandsp_rx" "$dir"/*.raw > "$dir/spandsp.tsv"
        multimon "$dir"
    done
fi
python3 bench/dtmf-compare/speech_table.py "$OUT/corpus"
