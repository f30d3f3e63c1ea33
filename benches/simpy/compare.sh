#!/usr/bin/env bash
# Runs the M/M/4 validation scenario (rho 0.9) with smtpsim and SimPy's classic M/M/c model
# with the same number of customers, one after the other, and prints customers per second
# for both. See benches/simpy/README.md.
#
#   bash benches/simpy/compare.sh [CUSTOMERS]      (default 1000000)
#
# PYTHON picks the interpreter of the venv (default python3); SIMPY_VENV its folder
# (default target/simpy-venv); SIMPY_SEED the seed of both runs (default 1).
set -euo pipefail

customers="${1:-1000000}"
if ! [[ "$customers" =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: $0 [CUSTOMERS]  (a positive integer, default 1000000)" >&2
    exit 2
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

simpy_version="4.1.2"
python="${PYTHON:-python3}"
venv="${SIMPY_VENV:-target/simpy-venv}"
seed="${SIMPY_SEED:-1}"
scenario="scenarios/validation/mm4.toml"
out="target/simpy-compare"
smtpsim_out="$out/smtpsim-$customers"

now() { date +%s.%N; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# The venv: reused when it runs the requested interpreter and has the pinned SimPy.
interpreter_id() { "$1" -c 'import sys; print(sys.base_prefix, sys.version.split()[0])'; }
want="$(interpreter_id "$python")"
if [[ -x "$venv/bin/python" ]] && [[ "$(interpreter_id "$venv/bin/python")" == "$want" ]] \
    && "$venv/bin/python" -c "import simpy, sys; sys.exit(simpy.__version__ != '$simpy_version')" 2>/dev/null; then
    echo "== using $venv (simpy $simpy_version)" >&2
else
    echo "== creating $venv with $python, installing simpy==$simpy_version" >&2
    "$python" -m venv --clear "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "simpy==$simpy_version"
fi
py="$venv/bin/python"

echo "== cargo build --release -p smtpsim" >&2
cargo build --release --quiet -p smtpsim
mkdir -p "$out"

load_before="$(loadavg)"

# smtpsim: each customer is a message: submission, DNS, a connection slot, an SMTP exchange.
# First as SimPy's model runs, keeping statistics only (summaries and the time series, no row
# per customer); then with messages.csv, a row per customer, written as it goes.
lean_out="$out/smtpsim-summaries-$customers"
lean_cmd=(./target/release/smtpsim run "$scenario" --messages "$customers" --seed "$seed"
    --out "$lean_out" --quiet --no-report --no-messages)
echo "== ${lean_cmd[*]}" >&2
lean_start="$(now)"
"${lean_cmd[@]}"
lean_end="$(now)"

smtpsim_cmd=(./target/release/smtpsim run "$scenario" --messages "$customers" --seed "$seed"
    --out "$smtpsim_out" --quiet --no-report)
echo "== ${smtpsim_cmd[*]}" >&2
smtpsim_start="$(now)"
"${smtpsim_cmd[@]}"
smtpsim_end="$(now)"

# SimPy: the classic M/M/c model.
simpy_cmd=("$py" benches/simpy/mmc.py "$customers" --seed "$seed")
echo "== ${simpy_cmd[*]} --json" >&2
simpy_start="$(now)"
simpy_json="$("${simpy_cmd[@]}" --json)"
simpy_end="$(now)"

load_after="$(loadavg)"

"$py" - "$lean_out/summary.json" "$lean_start" "$lean_end" "$smtpsim_out/summary.json" \
    "$simpy_json" "$smtpsim_start" "$smtpsim_end" "$simpy_start" "$simpy_end" \
    "$load_before" "$load_after" "${lean_cmd[*]}" "${smtpsim_cmd[*]}" "${simpy_cmd[*]}" <<'PY'
import json
import sys

(lean_path, lean_start, lean_end, summary_path, simpy_json, smtpsim_start, smtpsim_end,
 simpy_start, simpy_end, load_before, load_after, lean_cmd, smtpsim_cmd,
 simpy_cmd) = sys.argv[1:]
simpy_process_s = float(simpy_end) - float(simpy_start)
simpy = json.loads(simpy_json)


def smtpsim_row(tool, path, start, end):
    summary = json.load(open(path))
    customers = summary["run"]["messages"]
    wall = summary["performance"]["wall_s"]
    return (tool, customers, wall, customers / wall, summary["queue_wait"]["mean_s"],
            float(end) - float(start))


rows = [
    smtpsim_row("smtpsim, statistics only", lean_path, lean_start, lean_end),
    smtpsim_row("smtpsim, + messages.csv", summary_path, smtpsim_start, smtpsim_end),
    (f"SimPy {simpy['simpy_version']} (Python {simpy['python']})", simpy["customers"],
     simpy["wall_s"], simpy["customers_per_s"], simpy["mean_wait_s"], simpy_process_s),
]

header = ("tool", "customers", "wall s", "customers/s", "mean wait s", "process s")
table = [header] + [
    (tool, f"{n:,}", f"{wall:.3f}", f"{rate:,.0f}", f"{wait:.3f}", f"{proc:.3f}")
    for tool, n, wall, rate, wait, proc in rows
]
widths = [max(len(row[i]) for row in table) for i in range(len(header))]
print()
print("M/M/4, lambda 3.6/s, mean service 1 s, rho 0.9 (Erlang C mean wait 1.969 s)")
for j, row in enumerate(table):
    cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])]
    print("  ".join(cells))
    if j == 0:
        print("  ".join("-" * w for w in widths))
print()
print(f"ratio smtpsim / SimPy: {rows[0][3] / rows[2][3]:.1f}x customers/s "
      f"(statistics only, as SimPy keeps them); {rows[1][3] / rows[2][3]:.1f}x "
      "with a messages.csv row per customer")
print(f"load average before {load_before}, after {load_after}")
print()
print("wall s: smtpsim's performance.wall_s in summary.json (simulation, and writing")
print("messages.csv as it goes in the second row); SimPy's time.perf_counter() around")
print("env.run().")
print("process s: the whole command, start-up and final file writes included.")
print()
print("reproduce:")
print(f"  smtpsim: cargo build --release -p smtpsim && {lean_cmd}")
print(f"           {smtpsim_cmd}")
print(f"  SimPy:   {simpy_cmd}")
PY
