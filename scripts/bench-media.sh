#!/usr/bin/env bash
# Media core benchmarks (issue 3): criterion per-packet costs, then the DTMF comparison of
# Hushpay, spandsp and multimon-ng on one generated corpus. Prints a markdown table.
# Needs: cargo, cc, libspandsp-dev, multimon-ng, sox, python3.
# Usage: scripts/bench-media.sh [--no-criterion]
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
OUT="${BENCH_MEDIA_OUT:-$CARGO_TARGET_DIR/bench-media}"
mkdir -p "$OUT"

for tool in cc multimon-ng sox python3; do
    command -v "$tool" >/dev/null || { echo "missing $tool: run scripts/setup.sh" >&2; exit 1; }
done
echo '#include <spandsp.h>' | cc -E - >/dev/null 2>&1 || { echo "missing libspandsp-dev: run scripts/setup.sh" >&2; exit 1; }

if [ "${1:-}" != "--no-criterion" ]; then
    cargo bench -p hushpay-media --bench media -- --noplot 2>&1 | tee "$OUT/criterion.txt" | grep -E "^[a-z_0-9]+ *time:|^[a-z_0-9]+$|time:"
fi

# 1. corpus + Hushpay results (release build, single thread, thread CPU time) and the
#    per-packet CPU cost of each stage
cargo bench -p hushpay-media --bench dtmf_corpus -- "$OUT/corpus" | tee "$OUT/packet-costs.txt"
# 2. spandsp (bench-only C harness, linked here and nowhere else)
cc -O2 -o "$OUT/spandsp_rx" bench/dtmf-compare/spandsp_rx.c -lspandsp
"$OUT/spandsp_rx" "$OUT"/corpus/*.raw > "$OUT/corpus/spandsp.tsv"
# 3. multimon-ng (22050 Hz input: resampled with sox, resampling time not counted)
: > "$OUT/corpus/multimon.tsv"
for f in "$OUT"/corpus/*.raw; do
    sox -t raw -r 8000 -e signed -b 16 -c 1 "$f" -t raw -r 22050 -e signed -b 16 -c 1 "$f.22k" pad 0 1
    start=$(python3 -c 'import resource;r=resource.getrusage(resource.RUSAGE_CHILDREN);print(r.ru_utime+r.ru_stime)')
    /usr/bin/time -f "%U %S" -o "$OUT/time.txt" multimon-ng -q -a DTMF -t raw "$f.22k" > "$OUT/mm.txt" 2>/dev/null || true
    digits=$(sed -n 's/^DTMF: //p' "$OUT/mm.txt" | tr -d '\n')
    cpu=$(awk '{print $1+$2}' "$OUT/time.txt")
    secs=$(python3 -c "import os;print(os.path.getsize('$f')/16000)")
    printf '%s\t%s\t%s\t%s\n' "$f" "$digits" "$cpu" "$secs" >> "$OUT/corpus/multimon.tsv"
    rm -f "$f.22k"
done
python3 bench/dtmf-compare/table.py "$OUT/corpus"
