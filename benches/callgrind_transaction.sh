#!/usr/bin/env bash
# Instructions per whole in-memory transaction (the `transaction` benchmark's work), counted
# by callgrind: the difference between 1,000 and 2,000 transactions, so start-up cancels out.
# Steadier than wall time on a shared machine. Needs valgrind.
#
#   bash benches/callgrind_transaction.sh [lockstep]
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "callgrind_transaction.sh: valgrind not found" >&2; exit 1; }
cargo build --release -q -p smtpsim-benches --example transactions
bin=target/release/examples/transactions
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
count() {
    valgrind --tool=callgrind --callgrind-out-file="$work/out.$1" "$bin" "$1" ${2:-} 2>&1 \
        | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
one=$(count 1000 "${1:-}")
two=$(count 2000 "${1:-}")
echo "instructions per transaction ($([ "${1:-}" = lockstep ] && echo lockstep || echo pipelined)): $(( (two - one) / 1000 ))"
