#!/usr/bin/env bash
# Every pairing of {smtp-source, smtpsim blast} with {smtp-sink, smtpsim serve (sink mode)} on
# loopback, at a few concurrency levels and message sizes, with and without connection reuse;
# then smtpsim serve with its Maildir (each message synced before 250) as its own rows.
#
# Needs Postfix's smtp-sink and smtp-source (Debian: postfix; install it without starting
# Postfix, see README.md). Results: a table on stdout and target/bench-postfix/results.csv.
#
# Environment: MESSAGES (per run, default 20000), CONCURRENCY (default "10 100"), SIZES
# (default "1000 10000"), MAILDIR_MESSAGES (default 2000), RUN_TIMEOUT (seconds, default 300).
set -euo pipefail
cd "$(dirname "$0")/../.."

MESSAGES=${MESSAGES:-20000}
CONCURRENCY=${CONCURRENCY:-"10 100"}
SIZES=${SIZES:-"1000 10000"}
MAILDIR_MESSAGES=${MAILDIR_MESSAGES:-2000}
RUN_TIMEOUT=${RUN_TIMEOUT:-300}
SINK=${SINK:-/usr/sbin/smtp-sink}
SOURCE=${SOURCE:-/usr/sbin/smtp-source}
SINK_PORT=25251
SERVE_PORT=25252
MAILDIR_PORT=25253

for tool in "$SINK" "$SOURCE"; do
    [ -x "$tool" ] || { echo "compare.sh: $tool not found (install Debian's postfix package)" >&2; exit 1; }
done

echo "== cargo build --release -p smtpsim" >&2
cargo build --release -q -p smtpsim
BIN=target/release/smtpsim
WORK=$(mktemp -d)
mkdir -p target/bench-postfix
OUT=target/bench-postfix/results.csv
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
pids+=($!)
"$BIN" serve --listen "127.0.0.1:$SERVE_PORT" --no-tls --quiet \
    --max-connections 2000 --max-connections-per-ip 2000 >/dev/null &
pids+=($!)
"$BIN" serve --listen "127.0.0.1:$MAILDIR_PORT" --no-tls --quiet --maildir "$WORK/Maildir" \
    --max-connections 2000 --max-connections-per-ip 2000 >/dev/null &
pids+=($!)
wait_port $SINK_PORT
wait_port $SERVE_PORT
wait_port $MAILDIR_PORT

now() { date +%s.%N; }

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

echo "client,server,concurrency,size,reuse,messages,messages_per_s" >"$OUT"
printf '| client | server | concurrency | size | reuse | messages/s |\n| --- | --- | --- | --- | --- | --- |\n'
row() {
    echo "$1,$2,$3,$4,$5,$6,$7" >>"$OUT"
    printf '| %s | %s | %s | %s | %s | %s |\n' "$1" "$2" "$3" "$4" "$5" "$7"
}

for size in $SIZES; do
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
