#!/usr/bin/env bash
# The twin experiment with Exim: a private Exim (Debian's exim4-daemon-light) relaying to
# `smtpsim serve` through a smarthost route, and `smtpsim run` on the same scenario with the
# `exim` retry policy and the same rules; Exim's log read by `smtpsim maillog` and compared
# with the run by `smtpsim compare --check`, which exits 1 when they disagree beyond the
# statistical tolerance.
# See README.md here. Loopback addresses only.
#
# Environment (defaults in brackets): TWIN_MESSAGES [500], TWIN_RATE submissions per second
# [5], TWIN_GREYLIST [25s, 0 for none], TWIN_TEMP_FAILURE probability [0.2], TWIN_MESSAGE_RATE
# serve's message rate limit, such as 2/s [none], TWIN_SEED [1], TWIN_EXIM_RULES Exim's retry
# rules [F,2m,10s; G,10m,20s,1.5], TWIN_QUEUE_RUN the queue runner's interval (exim -q) [10s],
# TWIN_PORT Exim's port (serve's is the next) [25371], TWIN_ALPHA significance of the tests
# [0.01], TWIN_OUT [reports/twin-exim], SMTPSIM the binary [built with cargo], EXIM the exim
# binary [exim4 or exim on the PATH, else Debian's package extracted with dpkg -x].
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

MESSAGES=${TWIN_MESSAGES:-500}
RATE=${TWIN_RATE:-5}
GREYLIST=${TWIN_GREYLIST:-25s}
TEMP_FAILURE=${TWIN_TEMP_FAILURE:-0.2}
MESSAGE_RATE=${TWIN_MESSAGE_RATE:-}
SEED=${TWIN_SEED:-1}
RULES=${TWIN_EXIM_RULES:-F,2m,10s; G,10m,20s,1.5}
QUEUE_RUN=${TWIN_QUEUE_RUN:-10s}
PORT=${TWIN_PORT:-25371}
SERVE_PORT=$((PORT + 1))
ALPHA=${TWIN_ALPHA:-0.01}
OUT=${TWIN_OUT:-reports/twin-exim}
TWIN="python3 $ROOT/benches/twin/twin.py"

[ "$(id -u)" -eq 0 ] || { echo "exim.sh: runs Exim's daemon with its own configuration, so needs root" >&2; exit 2; }
if [ -z "${SMTPSIM:-}" ]; then
    cargo build -q -p smtpsim
    SMTPSIM=${CARGO_TARGET_DIR:-target}/debug/smtpsim
fi
secs() { $TWIN duration "$1"; }

WORK=$(mktemp -d /tmp/smtpsim-exim.XXXXXX)
chmod 755 "$WORK"
EXIM_PID=
SERVE_PID=
cleanup() {
    for pid in "$EXIM_PID" "$SERVE_PID"; do
        [ -z "$pid" ] || kill "$pid" 2>/dev/null || true
        [ -z "$pid" ] || wait "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Debian's exim4 and postfix packages conflict (both are the mail-transport-agent): without
# an installed Exim, the package is extracted beside the experiment instead of installed.
find_exim() {
    if [ -n "${EXIM:-}" ]; then echo "$EXIM"; return; fi
    local found
    found=$(PATH=$PATH:/usr/sbin command -v exim4 || PATH=$PATH:/usr/sbin command -v exim || true)
    if [ -n "$found" ]; then echo "$found"; return; fi
    local cache=${TWIN_EXIM_CACHE:-/var/cache/smtpsim-exim}
    if [ ! -x "$cache/usr/sbin/exim4" ]; then
        mkdir -p "$cache"
        (cd "$cache" && rm -f exim4-daemon-light_*.deb && apt-get download -q exim4-daemon-light >&2 \
            && dpkg -x exim4-daemon-light_*.deb "$cache") || {
            echo "exim.sh: no Exim, and Debian's exim4-daemon-light could not be downloaded" >&2
            exit 2
        }
    fi
    echo "$cache/usr/sbin/exim4"
}
EXIM=$(find_exim)
if ldd "$EXIM" | grep -q "not found"; then
    echo "exim.sh: $EXIM lacks libraries (apt-get install libidn12 libgnutls-dane0 libdb5.3 libnsl2 libpcre2-8-0):" >&2
    ldd "$EXIM" | grep "not found" >&2
    exit 2
fi
# Debian's Exim is built to run as Debian-exim.
id Debian-exim >/dev/null 2>&1 || useradd --system --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin Debian-exim

wait_port() {
    for _ in $(seq 1 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "exim.sh: nothing listens on 127.0.0.1:$1" >&2
    exit 2
}

for port in "$PORT" "$SERVE_PORT"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "exim.sh: 127.0.0.1:$port is taken; set TWIN_PORT" >&2
        exit 2
    fi
done

echo "== a private Exim ($EXIM) on 127.0.0.1:$PORT relaying to smtpsim serve on 127.0.0.1:$SERVE_PORT" >&2
mkdir -p "$WORK/spool" "$WORK/log" "$WORK/sim"
chown Debian-exim "$WORK/spool" "$WORK/log"
# Its own spool and main log; every address goes to serve; times with milliseconds and zone.
cat >"$WORK/exim.conf" <<CF
exim_path = $EXIM
spool_directory = $WORK/spool
log_file_path = $WORK/log/%slog
pid_file_path = $WORK/exim.pid
log_selector = +millisec +queue_run
log_timezone = true
primary_hostname = twin.localhost
qualify_domain = twin.example
daemon_smtp_ports = $PORT
local_interfaces = 127.0.0.1
disable_ipv6 = true
host_lookup =
rfc1413_hosts =
tls_advertise_hosts =
acl_smtp_rcpt = accept_loopback
never_users = root
keep_environment =

begin acl
accept_loopback:
  accept hosts = 127.0.0.1

begin routers
smarthost:
  driver = manualroute
  domains = *
  transport = to_serve
  route_list = * 127.0.0.1
  self = send
  no_more

begin transports
to_serve:
  driver = smtp
  port = $SERVE_PORT
  allow_localhost
  hosts_avoid_tls = *

begin retry
* * $RULES
CF

scenario_args=(--policy exim --rules "$RULES" --greylist "$GREYLIST" --temp-failure "$TEMP_FAILURE"
    --message-rate "$MESSAGE_RATE" --queue-run "$QUEUE_RUN" --seed "$SEED")
$TWIN scenario "${scenario_args[@]}" --out "$WORK/serve.toml"
"$SMTPSIM" serve --listen "127.0.0.1:$SERVE_PORT" --scenario "$WORK/serve.toml" \
    --domain dest.example --no-tls --seed "$SEED" >"$WORK/serve.out" 2>&1 &
SERVE_PID=$!
wait_port "$SERVE_PORT"

"$EXIM" -C "$WORK/exim.conf" -bdf -q"$(secs "$QUEUE_RUN")s" >"$WORK/exim.out" 2>&1 &
EXIM_PID=$!
(wait_port "$PORT") 2>/dev/null || {
    echo "exim.sh: Exim did not start:" >&2
    cat "$WORK/exim.out" "$WORK/log/paniclog" "$WORK/log/mainlog" >&2 2>/dev/null || true
    exit 2
}

echo "== $MESSAGES messages, Poisson $RATE/s (seed $SEED)" >&2
$TWIN arrivals --messages "$MESSAGES" --rate "$RATE" --seed "$SEED" --out "$WORK/planned.csv"
$TWIN submit --arrivals "$WORK/planned.csv" --port "$PORT" --out "$WORK/submitted.csv" \
    --start-file "$WORK/submit-start"

echo "== waiting for Exim's queue to empty (at most the last rule's cutoff and a few runs)" >&2
cutoff=$(python3 -c "import sys; r=[x for x in sys.argv[1].split(';') if x.strip()]; print(r[-1].split(',')[1].strip())" "$RULES")
deadline=$(( $(date +%s) + $(secs "$cutoff" | cut -d. -f1) + 4 * $(secs "$QUEUE_RUN" | cut -d. -f1) + 60 ))
while [ "$("$EXIM" -C "$WORK/exim.conf" -bpc 2>/dev/null || echo 1)" != 0 ]; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "exim.sh: Exim's queue did not empty" >&2; break; }
    sleep 2
done
sleep 1

echo "== smtpsim run on the same scenario" >&2
# The run's time 0 is the start of a queue run, as the model's runs are every interval from 0;
# the runs' spread (how long they took to reach the messages on this machine) is measured
# from Exim's log too.
read -r _ SPREAD < <($TWIN exim-origin --log "$WORK/log/mainlog" --queue-run "$QUEUE_RUN" \
    --start-file "$WORK/submit-start" --arrivals "$WORK/submitted.csv" --out "$WORK/sim/arrivals.csv")
echo "   Exim's queue runs reached the messages they tried within $SPREAD s (the queue_run_spread)" >&2
$TWIN scenario "${scenario_args[@]}" --spread "$SPREAD" --csv --out "$WORK/sim/twin.toml"
"$SMTPSIM" run "$WORK/sim/twin.toml" --seed "$SEED" --out "$WORK/sim/out" \
    --maillog "$WORK/sim/mail.log" --no-report -q

rm -rf "$OUT/exim" "$OUT/smtpsim" "$OUT/compare"
mkdir -p "$OUT"
cp "$WORK/log/mainlog" "$OUT/exim.log"
cp "$WORK/sim/mail.log" "$OUT/smtpsim.log"
cp "$WORK/exim.conf" "$WORK/sim/twin.toml" "$WORK/sim/arrivals.csv" "$OUT/"
# Exim's log has milliseconds and no rounded delay= fields: its import is compared with the
# run's own output (reading the run through the Postfix-style log it writes would round its
# latencies of 10 s and more to whole seconds). With no outage, every attempt of either side
# reached the server, so both count attempts alike.
"$SMTPSIM" maillog "$OUT/exim.log" --out "$OUT/exim" --interval 10s -q
cp -r "$WORK/sim/out" "$OUT/smtpsim"
echo "== comparison (written to $OUT/compare/)" >&2
"$SMTPSIM" compare "$OUT/exim" "$OUT/smtpsim" --out "$OUT/compare" --check --alpha "$ALPHA"
