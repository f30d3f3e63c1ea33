#!/usr/bin/env bash
# The twin experiment: a private Postfix relaying to `smtpsim serve`, and `smtpsim run` on the
# same scenario with the `postfix` retry policy; compares the two and exits 1 when they
# disagree beyond the statistical tolerance. See README.md here. Loopback addresses only.
#
# Environment (defaults in brackets): TWIN_MESSAGES [1000], TWIN_RATE submissions per second
# [5], TWIN_GREYLIST [25s, 0 for none], TWIN_TEMP_FAILURE probability [0.2], TWIN_OUTAGE
# START+LENGTH after serve starts, such as 60s+120s [none], TWIN_MESSAGE_RATE serve's message
# rate limit, such as 2/s [none], TWIN_SEED [1], TWIN_MIN_BACKOFF [10s], TWIN_MAX_BACKOFF [80s],
# TWIN_QUEUE_RUN [10s], TWIN_LIFETIME [10m], TWIN_PORT Postfix's port (serve's is the next)
# [25361], TWIN_ALPHA significance of the tests [0.01], TWIN_OUT [reports/twin-postfix],
# SMTPSIM the binary [built with cargo].
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

MESSAGES=${TWIN_MESSAGES:-1000}
RATE=${TWIN_RATE:-5}
GREYLIST=${TWIN_GREYLIST:-25s}
TEMP_FAILURE=${TWIN_TEMP_FAILURE:-0.2}
OUTAGE=${TWIN_OUTAGE:-}
MESSAGE_RATE=${TWIN_MESSAGE_RATE:-}
SEED=${TWIN_SEED:-1}
MIN_BACKOFF=${TWIN_MIN_BACKOFF:-10s}
MAX_BACKOFF=${TWIN_MAX_BACKOFF:-80s}
QUEUE_RUN=${TWIN_QUEUE_RUN:-10s}
LIFETIME=${TWIN_LIFETIME:-10m}
PORT=${TWIN_PORT:-25361}
SERVE_PORT=$((PORT + 1))
ALPHA=${TWIN_ALPHA:-0.01}
OUT=${TWIN_OUT:-reports/twin-postfix}
TWIN="python3 $ROOT/benches/twin/twin.py"

command -v postfix >/dev/null || { echo "postfix.sh: needs Postfix (Debian: apt-get install postfix)" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "postfix.sh: runs Postfix's master, so needs root" >&2; exit 2; }
if [ -z "${SMTPSIM:-}" ]; then
    cargo build -q -p smtpsim
    SMTPSIM=${CARGO_TARGET_DIR:-target}/debug/smtpsim
fi
secs() { $TWIN duration "$1"; }

WORK=$(mktemp -d /tmp/smtpsim-twin.XXXXXX)
chmod 755 "$WORK"
SERVE_PID=
WATCH_PID=
cleanup() {
    [ -z "$WATCH_PID" ] || kill "$WATCH_PID" 2>/dev/null || true
    postfix -c "$WORK/etc" stop >/dev/null 2>&1 || true
    [ -z "$SERVE_PID" ] || kill "$SERVE_PID" 2>/dev/null || true
    [ -z "$SERVE_PID" ] || wait "$SERVE_PID" 2>/dev/null || true
    # master stops its children within a few seconds; wait for it before removing its folders
    for _ in $(seq 1 50); do
        postfix -c "$WORK/etc" status >/dev/null 2>&1 || break
        sleep 0.2
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_port() {
    for _ in $(seq 1 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "postfix.sh: nothing listens on 127.0.0.1:$1" >&2
    exit 2
}

for port in "$PORT" "$SERVE_PORT"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "postfix.sh: 127.0.0.1:$port is taken; set TWIN_PORT" >&2
        exit 2
    fi
done

echo "== a private Postfix on 127.0.0.1:$PORT relaying to smtpsim serve on 127.0.0.1:$SERVE_PORT" >&2
mkdir -p "$WORK/etc" "$WORK/spool" "$WORK/lib" "$WORK/log" "$WORK/sim"
chown postfix "$WORK/lib"
# Its own folders and log (no syslog), no chroot, only the services a relay uses.
cat >"$WORK/etc/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $WORK/spool
data_directory = $WORK/lib
maillog_file_prefixes = $WORK/log
maillog_file = $WORK/log/postfix.log
myhostname = twin.localhost
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:$SERVE_PORT
smtp_tls_security_level = none
alias_maps =
alias_database =
biff = no
minimal_backoff_time = $(secs "$MIN_BACKOFF")s
maximal_backoff_time = $(secs "$MAX_BACKOFF")s
queue_run_delay = $(secs "$QUEUE_RUN")s
maximal_queue_lifetime = $(secs "$LIFETIME")s
bounce_queue_lifetime = $(secs "$LIFETIME")s
CF
cat >"$WORK/etc/master.cf" <<MC
127.0.0.1:$PORT inet n - n - - smtpd
pickup    unix  n  -  n  60  1  pickup
cleanup   unix  n  -  n  -   0  cleanup
qmgr      unix  n  -  n  300 1  qmgr
rewrite   unix  -  -  n  -   -  trivial-rewrite
bounce    unix  -  -  n  -   0  bounce
defer     unix  -  -  n  -   0  bounce
trace     unix  -  -  n  -   0  bounce
verify    unix  -  -  n  -   1  verify
flush     unix  n  -  n  1000? 0 flush
proxymap  unix  -  -  n  -   -  proxymap
smtp      unix  -  -  n  -   -  smtp
relay     unix  -  -  n  -   -  smtp
showq     unix  n  -  n  -   -  showq
error     unix  -  -  n  -   -  error
retry     unix  -  -  n  -   -  error
discard   unix  -  -  n  -   -  discard
local     unix  -  n  n  -   -  local
anvil     unix  -  -  n  -   1  anvil
scache    unix  -  -  n  -   1  scache
postlog   unix-dgram n - n - 1  postlogd
MC
postfix -c "$WORK/etc" check
# `postfix start` says nothing when it fails: the reason is in its log.
postfix -c "$WORK/etc" start >/dev/null 2>&1 || true
(wait_port "$PORT") 2>/dev/null || {
    echo "postfix.sh: Postfix did not start:" >&2
    cat "$WORK/log/postfix.log" >&2 2>/dev/null || true
    exit 2
}

scenario_args=(--greylist "$GREYLIST" --temp-failure "$TEMP_FAILURE" --outage "$OUTAGE"
    --message-rate "$MESSAGE_RATE" --min-backoff "$MIN_BACKOFF" --max-backoff "$MAX_BACKOFF"
    --queue-run "$QUEUE_RUN" --lifetime "$LIFETIME" --seed "$SEED")
$TWIN scenario "${scenario_args[@]}" --out "$WORK/serve.toml"
SERVE_START=$(date +%s.%N)
"$SMTPSIM" serve --listen "127.0.0.1:$SERVE_PORT" --scenario "$WORK/serve.toml" \
    --domain dest.example --no-tls --seed "$SEED" >"$WORK/serve.out" 2>&1 &
SERVE_PID=$!
wait_port "$SERVE_PORT"

# The log has whole seconds: the scans' sub-second phase is watched in the queue itself.
$TWIN watch --queue "$WORK/spool/deferred" --out "$WORK/scans.txt" &
WATCH_PID=$!

echo "== $MESSAGES messages, Poisson $RATE/s (seed $SEED)" >&2
$TWIN arrivals --messages "$MESSAGES" --rate "$RATE" --seed "$SEED" --out "$WORK/planned.csv"
$TWIN submit --arrivals "$WORK/planned.csv" --port "$PORT" --out "$WORK/submitted.csv" \
    --start-file "$WORK/submit-start"

echo "== waiting for Postfix's queue to empty (at most the lifetime and a few queue runs)" >&2
deadline=$(( $(date +%s) + $(secs "$LIFETIME" | cut -d. -f1) + 4 * $(secs "$QUEUE_RUN" | cut -d. -f1) + 60 ))
while [ -n "$(find "$WORK/spool/incoming" "$WORK/spool/active" "$WORK/spool/deferred" -type f 2>/dev/null | head -1)" ]; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "postfix.sh: Postfix's queue did not empty" >&2; break; }
    sleep 2
done
sleep 1

echo "== smtpsim run on the same scenario" >&2
# The run's time 0 is a second on which qmgr scanned its deferred queue, as the model's scans
# are every queue_run_delay from time 0; the outage moves with it.
ORIGIN=$($TWIN origin --log "$WORK/log/postfix.log" --queue-run "$QUEUE_RUN" --scans "$WORK/scans.txt" \
    --start-file "$WORK/submit-start" --arrivals "$WORK/submitted.csv" --out "$WORK/sim/arrivals.csv")
SHIFT=$(python3 -c "print($ORIGIN - $SERVE_START)")
$TWIN scenario "${scenario_args[@]}" --shift "$SHIFT" --csv --out "$WORK/sim/twin.toml"
"$SMTPSIM" run "$WORK/sim/twin.toml" --seed "$SEED" --out "$WORK/sim/out" \
    --maillog "$WORK/sim/mail.log" --no-report -q

rm -rf "$OUT/postfix" "$OUT/smtpsim"
mkdir -p "$OUT"
cp "$WORK/log/postfix.log" "$OUT/postfix.log"
cp "$WORK/sim/mail.log" "$OUT/smtpsim.log"
cp "$WORK/sim/twin.toml" "$WORK/sim/arrivals.csv" "$WORK/scans.txt" "$WORK/serve.out" "$OUT/"
# Both sides read through their logs: the same rounding of delays, and the same attempts
# (a line with relay=none reached no server and is not one).
"$SMTPSIM" maillog "$OUT/postfix.log" --out "$OUT/postfix" --interval 10s >/dev/null
"$SMTPSIM" maillog "$OUT/smtpsim.log" --out "$OUT/smtpsim" --interval 10s >/dev/null
echo "== comparison (written to $OUT/)" >&2
$TWIN compare "$OUT/postfix" "$OUT/smtpsim" --postfix-log "$OUT/postfix.log" \
    --sim-log "$OUT/smtpsim.log" --out "$OUT" --alpha "$ALPHA"
