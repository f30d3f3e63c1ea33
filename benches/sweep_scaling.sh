#!/usr/bin/env bash
# Sweep scaling: the same sweep with --jobs 1 and then --jobs N (default 2), wall time of
# each, the speed-up, and a check that both wrote the same files byte for byte.
#
#   bash benches/sweep_scaling.sh [JOBS]      (default 2)
#
# The sweep: greylisting.toml, 3 retry initial delays × 2 multipliers, 10 replications of
# 6 hours of arrivals, at most 20,000 messages, each (60 runs).
set -euo pipefail

jobs="${1:-2}"
if ! [[ "$jobs" =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: $0 [JOBS]  (a positive integer, default 2)" >&2
    exit 2
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
cargo build --release -q -p smtpsim
bin="target/release/smtpsim"
out="target/sweep-scaling"
rm -rf "$out"

now() { date +%s.%N; }
sweep() {
    "$bin" sweep scenarios/greylisting.toml \
        --set relay.retry.initial=60s,240s,600s --set relay.retry.multiplier=1.5,2 \
        --replications 10 --duration 6h --messages 20000 --quiet --no-report --jobs "$1" --out "$2"
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
start=$(now); sweep 1 "$out/jobs-1"; one=$(awk "BEGIN { print $(now) - $start }")
start=$(now); sweep "$jobs" "$out/jobs-$jobs"; many=$(awk "BEGIN { print $(now) - $start }")
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

# Every file byte for byte, but for the provenance of sweep.json: its command line names --jobs.
for file in "$out/jobs-1"/*.csv; do
    name=$(basename "$file")
    cmp -s "$file" "$out/jobs-$jobs/$name" || {
        echo "$name differs between --jobs 1 and --jobs $jobs" >&2
        exit 1
    }
done
python3 - "$out/jobs-1/sweep.json" "$out/jobs-$jobs/sweep.json" <<'PY' || {
import json, sys
a, b = (json.load(open(path)) for path in sys.argv[1:])
for doc in (a, b):
    doc.pop("provenance", None)
sys.exit(a != b)
PY
    echo "sweep.json differs between --jobs 1 and --jobs $jobs (its provenance aside)" >&2
    exit 1
}
printf -- "--jobs 1: %.2f s   --jobs %s: %.2f s   speed-up %.2f (outputs identical)\n" \
    "$one" "$jobs" "$many" "$(awk "BEGIN { print $one / $many }")"
