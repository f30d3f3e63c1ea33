#!/usr/bin/env bash
# Every row of the README's performance table, in one sitting, one after the other: the
# criterion benchmarks, the instruction counts, the 1M-message runs, walk, the SimPy and Postfix
# comparisons and the sweep scaling. Each step's whole output goes to target/perf-table/NAME.log;
# the figures the table quotes are printed at the end, with the load average before each step
# (the table is only fair on a quiet machine).
#
#   bash benches/table.sh [STEP...]     (default: every step)
#
# Steps: parse transaction callgrind data hold simulate run1m instructions walk providers
# simpy postfix maillog sweep.
# Needs valgrind (callgrind), python3 with venv (simpy), Postfix's smtp-sink and smtp-source
# (postfix); a step whose tool is missing says so and the others go on.
set -uo pipefail
cd "$(dirname "$0")/.."

out=target/perf-table
mkdir -p "$out"
all=(parse transaction callgrind data hold simulate run1m instructions walk providers simpy postfix
    maillog sweep)
steps=("${@:-${all[@]}}")
bin=target/release/smtpsim

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# Wall seconds and peak resident memory of one command, from GNU time.
timed() {
    /usr/bin/time -f '%e s, %M KB peak' "$@" 2>&1 >/dev/null | tail -1
}

step() {
    local name=$1
    echo "== $name (load $(loadavg))" | tee "$out/$name.log"
    case $name in
        parse | transaction | data | hold | simulate)
            cargo bench -q -p smtpsim-benches --bench "$name" 2>&1 | tee -a "$out/$name.log" \
                | grep -E '^[a-zA-Z].*time:|thrpt:|^\S+/\S+\s*$' ;;
        callgrind)
            { bash benches/callgrind_transaction.sh; bash benches/callgrind_transaction.sh lockstep; } \
                2>&1 | tee -a "$out/$name.log" | grep instructions ;;
        run1m)
            cargo build --release -q -p smtpsim
            local args=(run scenarios/quickstart.toml --duration 6d --messages 1000000
                --out target/qs1m --no-report)
            for i in 1 2 3 4 5; do
                echo "summaries only, run $i: $(timed "$bin" "${args[@]}" --no-messages)"
            done 2>&1 | tee -a "$out/$name.log"
            for i in 1 2; do
                echo "with messages.csv, run $i: $(timed "$bin" "${args[@]}")"
            done 2>&1 | tee -a "$out/$name.log"
            "$bin" "${args[@]}" --no-messages 2>&1 | tail -3 | tee -a "$out/$name.log" ;;
        instructions)
            cargo build --release -q -p smtpsim
            valgrind --tool=callgrind --callgrind-out-file="$out/qs100k.callgrind" "$bin" run \
                scenarios/quickstart.toml --duration 6d --messages 100000 --out target/qs100k \
                --no-report --no-messages 2>&1 | grep Collected | tee -a "$out/$name.log" ;;
        providers)
            cargo build --release -q -p smtpsim
            python3 benches/scenarios/providers.py > target/providers-5000.toml
            for i in 1 2 3; do
                echo "run $i: $(/usr/bin/time -f '%e s wall, %U s user, %M KB peak' "$bin" run \
                    target/providers-5000.toml --duration 6d --messages 1000000 \
                    --out target/providers-5000 --no-report --no-messages 2>&1 >/dev/null | tail -1)"
            done 2>&1 | tee -a "$out/$name.log" ;;
        maillog)
            cargo build --release -q -p smtpsim
            "$bin" run scenarios/quickstart.toml --duration 10d --messages 1700000 --no-messages \
                --no-report --out target/big --maillog target/big.log -q
            echo "log lines: $(wc -l < target/big.log)" | tee -a "$out/$name.log"
            echo "maillog: $(timed "$bin" maillog target/big.log --out target/big-import \
                --no-report --no-messages)" | tee -a "$out/$name.log"
            echo "fit: $(timed "$bin" fit target/big.log --out target/big.toml)" \
                | tee -a "$out/$name.log"
            rm -f target/big.log ;;
        walk)
            cargo build --release -q -p smtpsim
            for i in 1 2 3; do
                echo "walk --message 42: $(timed "$bin" walk scenarios/quickstart.toml --message 42)"
                echo "run, same scenario: $(timed "$bin" run scenarios/quickstart.toml \
                    --out target/qs-day --no-report --no-messages)"
            done 2>&1 | tee -a "$out/$name.log"
            "$bin" walk scenarios/quickstart.toml --message 42 | grep -c '^\s*[0-9]' \
                | sed 's/^/walk steps printed (numbered lines): /' | tee -a "$out/$name.log"
            "$bin" run scenarios/quickstart.toml --out target/qs-day --no-report --no-messages \
                | head -1 | tee -a "$out/$name.log" ;;
        simpy)
            bash benches/simpy/compare.sh 2>&1 | tee -a "$out/$name.log" | tail -8 ;;
        postfix)
            bash benches/postfix/compare.sh 2>&1 | tee -a "$out/$name.log" | tail -40 ;;
        sweep)
            bash benches/sweep_scaling.sh 2>&1 | tee -a "$out/$name.log" | tail -4 ;;
        *)
            echo "unknown step $name; steps: ${all[*]}" >&2
            return 2 ;;
    esac
}

for name in "${steps[@]}"; do
    step "$name" || echo "-- $name failed (see $out/$name.log)"
done
