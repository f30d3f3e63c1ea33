#!/usr/bin/env bash
# First the table of `smtp-source` against `smtp-sink`, `smtpsim serve` (sink mode: one
# thread, as smtp-sink is one process) and `serve --threads 2` (two accept threads): 1 KB
# messages, 10 and 100 sessions, with and without connection reuse, each pairing REPEAT times
# (alternating the servers), the median messages/s and each server's CPU seconds per 10,000
# messages from /proc/PID/stat (user + system, before and after the run). Then every pairing of
# {smtp-source, smtpsim blast} with {smtp-sink, serve} at a few sizes (ALL=no skips it), and
# serve with its Maildir (each message synced before 250): messages/s and, from a short run
# under strace, fsyncs per message.
#
# Needs Postfix's smtp-sink and smtp-source (Debian: postfix; install it without starting
# Postfix, see README.md), and strace for the fsync count. Results: tables on stdout and
# $CARGO_TARGET_DIR (or target)/bench-postfix/results.csv.
#
# Environment: MESSAGES (per run, default 20000), CONCURRENCY (default "10 100"), REPEAT
# (default 3), ALL (default yes), SIZES (default "1000 10000"), MAILDIR_MESSAGES (default
# 2000), RUN_TIMEOUT (seconds, default 300).
set -euo pipefail
cd "$(dirname "$0")/../.."

MESSAGES=${MESSAGES:-20000}
CONCURRENCY=${CONCURRENCY:-"10 100"}
SIZES=${SIZES:-"1000 10000"}
MAILDIR_MESSAGES=${MAILDIR_MESSAGES:-2000}
REPEAT=${REPEAT:-3}
ALL=${ALL:-yes}
RUN_TIMEOUT=${RUN_TIMEOUT:-300}
SINK=${SINK:-/usr/sbin/smtp-sink}
SOURCE=${SOURCE:-/usr/sbin/smtp-source}
SINK_PORT=25251
SERVE_PORT=25252
MAILDIR_PORT=25253
SERVE2_PORT=25255

for tool in "$SINK" "$SOURCE"; do
    [ -x "$tool" ] || { echo "compare.sh: $tool not found (install Debian's postfix package)" >&2; exit 1; }
done

echo "== cargo build --release -p smtpsim" >&2
cargo build --release -q -p smtpsim
TARGET=${CARGO_TARGET_DIR:-target}
BIN=$TARGET/release/smtpsim
WORK=$(mktemp -d)
mkdir -p "$TARGET/bench-postfix"
OUT=$TARGET/bench-postfix/results.csv
TICK=$(getconf CLK_TCK)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

wait_port() {
    for _ in $(seq 1 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "compare.sh: nothing listens on port $1" >&2
    exit 1
}

# smtp-sink refuses to run as root without -u.
sink_user=()
[ "$(id -u)" = 0 ] && sink_user=(-u nobody)
"$SINK" "${sink_user[@]}" -m 2000 "127.0.0.1:$SINK_PORT" 4096 &
SINK_PID=$!
pids+=($SINK_PID)
"$BIN" serve --listen "127.0.0.1:$SERVE_PORT" --no-tls --quiet \
    --max-connections 2000 --max-connections-per-ip 2000 >/dev/null &
SERVE_PID=$!
pids+=($SERVE_PID)
"$BIN" serve --listen "127.0.0.1:$SERVE2_PORT" --no-tls --quiet --threads 2 \
    --max-connections 2000 --max-connections-per-ip 2000 >/dev/null &
SERVE2_PID=$!
pids+=($SERVE2_PID)
"$BIN" serve --listen "127.0.0.1:$MAILDIR_PORT" --no-tls --quiet --maildir "$WORK/Maildir" \
    --max-connections 2000 --max-connections-per-ip 2000 >/dev/null &
pids+=($!)
wait_port $SINK_PORT
wait_port $SERVE_PORT
wait_port $SERVE2_PORT
wait_port $MAILDIR_PORT

now() { date +%s.%N; }

# cpu PID -> clock ticks of user + system time the process has used (all its threads)
cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# median of the numbers on stdin
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# run_source PORT CONCURRENCY SIZE REUSE MESSAGES -> messages/s
run_source() {
    local reuse=()
    [ "$4" = yes ] && reuse=(-d)
    local start end
    start=$(now)
    timeout "$RUN_TIMEOUT" "$SOURCE" -s "$2" -m "$5" -l "$3" "${reuse[@]}" \
        -f blast@example.com -t rcpt0@example.net "127.0.0.1:$1" >/dev/null
    end=$(now)
    awk -v m="$5" -v s="$start" -v e="$end" 'BEGIN { printf "%.0f", m / (e - s) }'
}

# run_blast PORT CONCURRENCY SIZE REUSE MESSAGES -> messages/s
run_blast() {
    local reuse=()
    [ "$4" = yes ] && reuse=(--reuse)
    timeout "$RUN_TIMEOUT" "$BIN" blast --to "127.0.0.1:$1" --messages "$5" --concurrency "$2" \
        --size "$3" "${reuse[@]}" --quiet | awk -F, '{ printf "%.0f", $9 }'
}

echo "client,server,concurrency,size,reuse,messages,messages_per_s,cpu_s_per_10k" >"$OUT"

# measure PORT PID CONCURRENCY REUSE -> "messages/s cpu-seconds-per-10k" of one smtp-source run
measure() {
    local before after rate
    before=$(cpu "$2")
    rate=$(run_source "$1" "$3" 1000 "$4" "$MESSAGES")
    after=$(cpu "$2")
    awk -v r="$rate" -v b="$before" -v a="$after" -v t="$TICK" -v m="$MESSAGES" \
        'BEGIN { printf "%s %.3f", r, (a - b) / t / m * 10000 }'
}

echo "== smtp-source, 1 KB messages, $MESSAGES a run, median of $REPEAT (load: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
# The servers: smtp-sink (one process), serve (one thread), serve --threads 2.
printf '| sessions | reuse | smtp-sink msg/s | serve msg/s | serve --threads 2 msg/s | smtp-sink CPU s / 10k msgs | serve CPU s / 10k msgs | serve --threads 2 CPU s / 10k msgs |\n'
printf '| --- | --- | --- | --- | --- | --- | --- | --- |\n'
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
for c in $CONCURRENCY; do
    for reuse in no yes; do
        : >"$WORK/sink" && : >"$WORK/serve" && : >"$WORK/serve2"
        for _ in $(seq 1 "$REPEAT"); do
            measure $SINK_PORT $SINK_PID "$c" $reuse >>"$WORK/sink"; echo >>"$WORK/sink"
            measure $SERVE_PORT $SERVE_PID "$c" $reuse >>"$WORK/serve"; echo >>"$WORK/serve"
            measure $SERVE2_PORT $SERVE2_PID "$c" $reuse >>"$WORK/serve2"; echo >>"$WORK/serve2"
        done
        declare -A rate cost
        for server in sink serve serve2; do
            rate[$server]=$(cut -d' ' -f1 "$WORK/$server" | median)
            cost[$server]=$(cut -d' ' -f2 "$WORK/$server" | median)
        done
        echo "smtp-source,smtp-sink,$c,1000,$reuse,$MESSAGES,${rate[sink]},${cost[sink]}" >>"$OUT"
        echo "smtp-source,serve,$c,1000,$reuse,$MESSAGES,${rate[serve]},${cost[serve]}" >>"$OUT"
        echo "smtp-source,serve --threads 2,$c,1000,$reuse,$MESSAGES,${rate[serve2]},${cost[serve2]}" >>"$OUT"
        printf '| %s | %s | %.0f | %.0f (%sx) | %.0f (%sx) | %.2f | %.2f | %.2f |\n' "$c" "$reuse" \
            "${rate[sink]}" "${rate[serve]}" "$(ratio "${rate[serve]}" "${rate[sink]}")" \
            "${rate[serve2]}" "$(ratio "${rate[serve2]}" "${rate[sink]}")" \
            "${cost[sink]}" "${cost[serve]}" "${cost[serve2]}"
    done
done
echo

row() {
    echo "$1,$2,$3,$4,$5,$6,$7," >>"$OUT"
    printf '| %s | %s | %s | %s | %s | %s |\n' "$1" "$2" "$3" "$4" "$5" "$7"
}

[ "$ALL" = yes ] && printf '| client | server | concurrency | size | reuse | messages/s |\n| --- | --- | --- | --- | --- | --- |\n'
for size in $SIZES; do
    [ "$ALL" = yes ] || break
    for c in $CONCURRENCY; do
        for reuse in no yes; do
            for server in smtp-sink serve; do
                port=$SINK_PORT
                [ $server = serve ] && port=$SERVE_PORT
                row smtp-source "$server" "$c" "$size" "$reuse" "$MESSAGES" \
                    "$(run_source $port "$c" "$size" $reuse "$MESSAGES")"
                row blast "$server" "$c" "$size" "$reuse" "$MESSAGES" \
                    "$(run_blast $port "$c" "$size" $reuse "$MESSAGES")"
            done
        done
    done
done

echo
printf '| client | server | concurrency | size | reuse | messages/s |\n| --- | --- | --- | --- | --- | --- |\n'
for c in $CONCURRENCY; do
    for reuse in no yes; do
        row blast "serve --maildir" "$c" 1000 "$reuse" "$MAILDIR_MESSAGES" \
            "$(run_blast $MAILDIR_PORT "$c" 1000 $reuse "$MAILDIR_MESSAGES")"
    done
done
stored=$(find "$WORK/Maildir/new" -type f | wc -l)
expected=$(( $(echo $CONCURRENCY | wc -w) * 2 * MAILDIR_MESSAGES ))
echo "Maildir: $stored of $expected messages stored" >&2
[ "$stored" = "$expected" ] || { echo "compare.sh: messages missing from the Maildir" >&2; exit 1; }

# fsyncs per message: a short run of its own under strace (which slows it: not timed).
if command -v strace >/dev/null 2>&1; then
    SYNC_PORT=25254
    SYNC_MESSAGES=500
    strace -f -c -e trace=fsync,fdatasync,sync_file_range -o "$WORK/strace.txt" \
        "$BIN" serve --listen "127.0.0.1:$SYNC_PORT" --no-tls --quiet --maildir "$WORK/Maildir2" \
        --max-connections 2000 --max-connections-per-ip 2000 >/dev/null &
    tracer=$!
    wait_port $SYNC_PORT
    run_blast $SYNC_PORT 10 1000 yes $SYNC_MESSAGES >/dev/null
    kill -INT "$(cat /proc/$tracer/task/$tracer/children)"
    wait "$tracer" || true
    syncs=$(awk '$NF ~ /^(fsync|fdatasync|sync_file_range)$/ { n += $4 } END { print n + 0 }' "$WORK/strace.txt")
    echo
    echo "serve --maildir: $syncs fsync/fdatasync calls for $SYNC_MESSAGES messages:" \
        "$(awk -v s="$syncs" -v m=$SYNC_MESSAGES 'BEGIN { printf "%.2f", s / m }') per message"
else
    echo "compare.sh: strace not found, fsyncs per message not counted" >&2
fi
