#!/usr/bin/env python3
"""The twin experiment's helpers (standard library only), called by postfix.sh.

  arrivals   Poisson submission times from a seed (arrivals.csv, column `time` in seconds)
  submit     send one message per row to Postfix at those times; writes the times it sent at
  scenario   the scenario of `smtpsim serve` and of `smtpsim run` (the same MX behaviour)
  origin     the time 0 of `smtpsim run`: a second on which Postfix's qmgr scanned its deferred
             queue (read from its log), and the submission times from that origin
  watch      the instants at which Postfix's qmgr scans its deferred queue (sub-second)
  exim-origin  the same for Exim: the start of the queue run before the first submission, and
             how long its runs took to reach the messages (the spread of the runs)
  compare    `smtpsim maillog` of Postfix's log against `smtpsim run`: counts, attempts
             (chi-square), latency (two-sample KS, p50/p90/p99), attempt times after submission
             (from both logs); a table and a chart; exit status 1 on disagreement
"""

import argparse
import bisect
import calendar
import csv
import json
import math
import os
import random
import re
import smtplib
import sys
import time

DOMAIN = "dest.example"
SENDER = "app@twin.example"


def cmd_arrivals(a):
    rng = random.Random(a.seed)
    t = 0.0
    with open(a.out, "w", newline="") as f:
        f.write("time\n")
        for _ in range(a.messages):
            t += rng.expovariate(a.rate)
            f.write(f"{t:.6f}\n")


def cmd_submit(a):
    """Sends message i to user<i>@dest.example at arrivals[i] after the start; writes the
    times (after the start) at which each submission began."""
    with open(a.arrivals) as f:
        times = [float(r["time"]) for r in csv.DictReader(f)]
    start = time.time()
    sent = []
    for i, t in enumerate(times):
        pause = start + t - time.time()
        if pause > 0:
            time.sleep(pause)
        began = time.time() - start
        body = f"From: {SENDER}\r\nTo: user{i}@{DOMAIN}\r\nSubject: twin {i}\r\n\r\ntwin\r\n"
        with smtplib.SMTP("127.0.0.1", a.port, timeout=30) as s:
            s.sendmail(SENDER, [f"user{i}@{DOMAIN}"], body)
        sent.append(began)
    with open(a.out, "w") as f:
        f.write("time\n")
        f.writelines(f"{t:.6f}\n" for t in sent)
    with open(a.start_file, "w") as f:
        f.write(f"{start:.6f}\n")
    late = max(s - t for s, t in zip(sent, times))
    print(f"submitted {len(sent)} messages; the latest {late:.3f} s after its planned time")


def duration(text):
    """Seconds from "25s", "2m", "1h" or a bare number of seconds."""
    m = re.fullmatch(r"\s*([0-9.]+)\s*(ms|s|m|h)?\s*", text)
    if not m:
        sys.exit(f"twin.py: not a duration: {text!r} (such as 25s, 2m, 1h)")
    scale = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, None: 1}[m.group(2)]
    return float(m.group(1)) * scale


def cmd_duration(a):
    print(f"{duration(a.text):g}")


def exim_rules(text):
    """Exim's retry rule text (`F,2m,10s; G,10m,20s,1.5`) as the scenario's `rules`."""
    rules = []
    for rule in filter(None, (r.strip() for r in text.split(";"))):
        parts = [p.strip() for p in rule.split(",")]
        if parts[0] not in ("F", "G", "H") or len(parts) not in (3, 4) or (parts[0] == "F") != (len(parts) == 3):
            sys.exit(f"twin.py: not an Exim retry rule: {rule!r} (such as F,2m,10s or G,10m,20s,1.5)")
        fields = [f'kind = "{parts[0]}"', f'until = "{duration(parts[1]):g}s"',
                  f'interval = "{duration(parts[2]):g}s"']
        if len(parts) == 4:
            fields.append(f"multiplier = {float(parts[3]):g}")
        rules.append("{ " + ", ".join(fields) + " }")
    return "[" + ", ".join(rules) + "]"


def retry_lines(a):
    """The scenario's relay lines of the retry policy (and what goes with it)."""
    if a.policy == "exim":
        # Exim has no queue lifetime: an address times out after the last rule's cutoff.
        spread = f'queue_run_spread = "{a.spread:.3f}s", ' if a.spread > 0 else ""
        return (f'retry = {{ policy = "exim", queue_run = "{duration(a.queue_run):g}s", {spread}'
                f"rules = {exim_rules(a.rules)} }}")
    return (f'suspend_unreachable = "{duration(a.min_backoff):g}s"\n'
            f'queue_lifetime = "{duration(a.lifetime):g}s"\n'
            f'retry = {{ policy = "postfix", queue_run_delay = "{duration(a.queue_run):g}s", '
            f'minimal_backoff = "{duration(a.min_backoff):g}s", maximal_backoff = "{duration(a.max_backoff):g}s" }}')


def cmd_scenario(a):
    behaviour = [f"temp_failures = {a.temp_failure}"]
    if a.greylist and duration(a.greylist) > 0:
        behaviour.append(f'greylisting = {{ delay = "{duration(a.greylist):g}s" }}')
    if a.message_rate:
        behaviour.append(f'rate_limits = {{ messages = {{ rate = "{a.message_rate}", burst = 1 }} }}')
    outages = ""
    if a.outage:
        begin, _, length = a.outage.partition("+")
        begin = duration(begin) - a.shift
        end = begin + duration(length)
        outages = f', outages = [{{ start = "{max(begin, 0):.3f}s", end = "{max(end, 0.001):.3f}s" }}]'
    arrivals = (
        '{ process = "csv", file = "arrivals.csv" }'
        if a.csv
        else '{ process = "poisson", rate = "1/s" }'
    )
    print(
        f"""[simulation]
name = "twin-{a.policy}"
duration = "1d"
seed = {a.seed}
timeseries_interval = "10s"

[[senders]]
name = "app"
domain = "twin.example"
arrivals = {arrivals}
to = [{{ domain = "{DOMAIN}" }}]

[relay]
max_connections_per_domain = 20
{retry_lines(a)}

[[domains]]
name = "{DOMAIN}"
mx = [{{ host = "mx.{DOMAIN}", ip = "127.0.0.1"{outages} }}]
behaviour = {{ {", ".join(behaviour)} }}
""",
        file=open(a.out, "w"),
    )


STAMP = re.compile(r"^([A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d) ")
DELAYS = re.compile(r" postfix/(?:smtp|relay)\[\d+\]: [0-9A-Za-z]+: to=<.*?, delays=([0-9.]+)/")


def scan_phase(log, run, year):
    """The second (modulo `run`, in seconds since the epoch) on which qmgr scans its deferred
    queue: the most frequent second, modulo `run`, of the delivery attempts of messages that
    waited a second or more before the queue manager took them (the first attempts wait
    hundredths). qmgr's scan timer starts with qmgr, so its phase is that of Postfix's start,
    not of the first submission: the model's scans are every `queue_run_delay` from time 0."""
    count = [0] * run
    with open(log, errors="replace") as f:
        for line in f:
            m, d = STAMP.match(line), DELAYS.search(line)
            if m and d and float(d.group(1)) >= 1:
                when = time.mktime(time.strptime(f"{year} {m.group(1)}", "%Y %b %d %H:%M:%S"))
                count[int(when) % run] += 1
    if not any(count):
        return None
    return max(range(run), key=lambda r: count[r])


def scan_lag(path, origin, run):
    """The median time from the scan seconds (`origin` plus whole runs) to the scans `watch`
    saw, when it saw any within a run of them."""
    try:
        with open(path) as f:
            seen = [float(line) for line in f if line.strip()]
    except FileNotFoundError:
        return None
    lags = sorted((t - origin) % run for t in seen)
    lags = [x for x in lags if x < run / 2]
    return lags[len(lags) // 2] if lags else None


def cmd_origin(a):
    """Prints the epoch second chosen as the run's time 0 (the last deferred queue scan at or
    before the first submission) and writes the submission times from it."""
    run = round(duration(a.queue_run))
    with open(a.start_file) as f:
        start = float(f.read())
    year = time.localtime(start).tm_year
    phase = scan_phase(a.log, run, year) if run >= 1 else None
    if phase is None:
        origin = math.floor(start)
        print(f"twin.py: no deferred queue scan in {a.log}; time 0 is the first submission's second",
              file=sys.stderr)
    else:
        origin = math.floor(start) - (math.floor(start) - phase) % run
    lag = scan_lag(a.scans, origin, run) if a.scans else None
    if lag is not None:
        # The scans come a fraction of a second after the second the log gives them.
        origin += lag
    with open(a.arrivals) as f:
        times = [float(r["time"]) for r in csv.DictReader(f)]
    with open(a.out, "w") as f:
        f.write("time\n")
        f.writelines(f"{start - origin + t:.6f}\n" for t in times)
    print(f"{origin:.3f}")


EXIM_RUN = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?)(?: ([+-])(\d\d)(\d\d))? .*Start queue run")


def exim_time(stamp, sign, hh, mm):
    whole, _, fraction = stamp.partition(".")
    t = calendar.timegm(time.strptime(whole, "%Y-%m-%d %H:%M:%S"))
    t += float("0." + fraction) if fraction else 0.0
    if sign:
        t -= (1 if sign == "+" else -1) * (int(hh) * 3600 + int(mm) * 60)
    return t


EXIM_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?)(?: ([+-])(\d\d)(\d\d))? (\S+) (<=|=>|==) ")


def run_spread(log, runs):
    """How long Exim's queue runs took to reach the messages they tried: twice the mean time
    from a run's start to an attempt it made (attempts at least half a second after the
    message arrived; the others are the delivery at arrival), the spread of a uniform draw
    with that mean."""
    arrived, after = {}, []
    with open(log, errors="replace") as f:
        for line in f:
            m = EXIM_LINE.match(line)
            if not m:
                continue
            t = exim_time(*m.groups()[:4])
            message, flag = m.group(5), m.group(6)
            if flag == "<=":
                arrived[message] = t
            elif " H=" in line and message in arrived and t - arrived[message] >= 0.5:
                i = bisect.bisect_right(runs, t) - 1
                if i >= 0:
                    after.append(t - runs[i])
    return 2 * sum(after) / len(after) if after else 0.0


def cmd_watch(a):
    """Until killed, looks at Postfix's deferred queue every 10 ms and appends to `out` the
    time (seconds since the epoch) of each look that found files gone from it: the instants
    at which qmgr scanned it (moving due files to the active queue). Postfix's log has whole
    seconds only; the scans' sub-second phase is what the run's time 0 needs."""
    def files():
        found = set()
        for root, _, names in os.walk(a.queue):
            found.update(os.path.join(root, n) for n in names)
        return found
    seen = files()
    last = 0.0
    with open(a.out, "a", buffering=1) as out:
        while True:
            time.sleep(0.01)
            before = time.time()
            now = files()
            # A scan takes every due file at once; the next look a run later is another scan.
            if seen - now and before - last > 1.0:
                out.write(f"{before:.3f}\n")
                last = before
            seen = now


def cmd_exim_origin(a):
    """Prints the epoch time chosen as the run's time 0 (the start of the last queue run at
    or before the first submission: Exim's daemon starts a queue runner every `-q` interval
    from its own start) and writes the submission times from it."""
    with open(a.start_file) as f:
        start = float(f.read())
    runs = []
    with open(a.log, errors="replace") as f:
        for line in f:
            m = EXIM_RUN.match(line)
            if m:
                runs.append(exim_time(*m.groups()))
    run = duration(a.queue_run)
    spread = run_spread(a.log, runs)
    before = [t for t in runs if t <= start]
    if before:
        origin = max(before)
    elif runs:
        origin = min(runs) - run * math.ceil((min(runs) - start) / run)
    else:
        origin = start
        print(f"twin.py: no queue run in {a.log}; time 0 is the first submission", file=sys.stderr)
    with open(a.arrivals) as f:
        times = [float(r["time"]) for r in csv.DictReader(f)]
    with open(a.out, "w") as f:
        f.write("time\n")
        f.writelines(f"{start - origin + t:.6f}\n" for t in times)
    print(f"{origin:.6f} {spread:.3f}")


DELIVERY = re.compile(
    r" postfix/(?:smtp|error|qmgr|retry|relay)\[\d+\]: ([0-9A-Za-z]+): to=<user\d+@"
    + re.escape(DOMAIN)
    + r">.*?, delay=([0-9.]+),.*? status=(\w+)"
)
EXPIRED = re.compile(r" postfix/qmgr\[\d+\]: ([0-9A-Za-z]+): from=<.*?>, status=expired")


def read_log(path):
    """Each message of a Postfix log: the delay (seconds after its arrival) and status of each
    attempt, in order, and whether qmgr expired it."""
    messages = {}
    order = []
    with open(path, errors="replace") as f:
        for line in f:
            m = DELIVERY.search(line)
            if m:
                qid, delay, status = m.group(1), float(m.group(2)), m.group(3)
                if qid not in messages:
                    messages[qid] = {"attempts": [], "expired": False}
                    order.append(qid)
                messages[qid]["attempts"].append((postfix_round(delay), status))
                continue
            m = EXPIRED.search(line)
            if m and m.group(1) in messages:
                messages[m.group(1)]["expired"] = True
    return [(qid, messages[qid]) for qid in order]


def postfix_round(x):
    """A delay as Postfix logs it (format_tv with 2 significant digits, at most 2 decimals):
    whole seconds from 10 s, tenths from 1 s, hundredths below."""
    if x >= 9.95:
        return float(math.floor(x + 0.5))
    if x >= 0.995:
        return math.floor(x * 10 + 0.5) / 10
    return math.floor(x * 100 + 0.5) / 100


OUTCOMES = {"inbox": "delivered", "spam": "delivered", "delivered": "delivered",
            "bounced": "bounced", "expired": "expired"}


def load(folder):
    """The rows of `messages.csv` in an output folder of `smtpsim run` or `smtpsim maillog`:
    outcome (delivered, bounced, expired or other), attempts, latency as Postfix logs it."""
    with open(f"{folder}/messages.csv") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        r["outcome"] = OUTCOMES.get(r["outcome"], "other")
        r["attempts"] = int(r["attempts"])
        # Tenths of a second: the model has no time of its own for Postfix's handling of a
        # message (cleanup, qmgr, smtp: `delays=` of a first attempt, 0.01 to 0.09 s here),
        # which would otherwise part the CDFs at 0 when most messages go through at once.
        r["latency_s"] = (math.floor(postfix_round(float(r["latency_s"])) * 10 + 1e-9) / 10
                          if r["latency_s"] else None)
    return rows


GREETED = re.compile(
    r" postfix/(?:smtp|relay)\[\d+\]: ([0-9A-Za-z]+): to=<[^>]*>, relay=(?!none)"
)


def greeted_attempts(log):
    """For each queue ID of a Postfix-format log, the attempts that got past the server's
    greeting. During an outage `serve` takes the connection and closes it, which Postfix logs
    with the server's address (`lost connection ... while receiving the initial server
    greeting`), while the model's refused connection reaches no server (`relay=none`): both
    are counted alike only when neither counts."""
    count = {}
    with open(log, errors="replace") as f:
        for line in f:
            m = GREETED.search(line)
            if m and "while receiving the initial server greeting" not in line:
                count[m.group(1)] = count.get(m.group(1), 0) + 1
    return count


def attempt_delays(log):
    """For each message of a Postfix-format log, the time of each attempt after arrival."""
    return [[d for d, _ in m["attempts"]] for _, m in read_log(log)]


def upper_gamma_q(s, x):
    """The regularised upper incomplete gamma function Q(s, x) (Numerical Recipes 6.2)."""
    if x <= 0:
        return 1.0
    lg = math.lgamma(s)
    if x < s + 1:
        term = total = 1.0 / s
        n = s
        for _ in range(1000):
            n += 1
            term *= x / n
            total += term
            if abs(term) < abs(total) * 1e-15:
                break
        return 1.0 - total * math.exp(-x + s * math.log(x) - lg)
    b = x + 1 - s
    c = 1e300
    d = 1 / b
    h = d
    for i in range(1, 1000):
        an = -i * (i - s)
        b += 2
        d = an * d + b
        d = 1e-300 if abs(d) < 1e-300 else d
        c = b + an / c
        c = 1e-300 if abs(c) < 1e-300 else c
        d = 1 / d
        h *= d * c
        if abs(d * c - 1) < 1e-15:
            break
    return math.exp(-x + s * math.log(x) - lg) * h


def chi_square(a_counts, b_counts):
    """Two-sample chi-square test of homogeneity over attempt counts; the tail is pooled so
    that every expected count is at least 5. Returns (statistic, degrees of freedom, p, bins)."""
    keys = sorted(set(a_counts) | set(b_counts))
    na, nb = sum(a_counts.values()), sum(b_counts.values())
    bins, acc = [], [[], 0, 0]
    for k in keys:
        acc[0].append(k)
        acc[1] += a_counts.get(k, 0)
        acc[2] += b_counts.get(k, 0)
        total = acc[1] + acc[2]
        if min(total * na, total * nb) / (na + nb) >= 5:
            bins.append(acc)
            acc = [[], 0, 0]
    if acc[0]:
        if bins:
            bins[-1] = [bins[-1][0] + acc[0], bins[-1][1] + acc[1], bins[-1][2] + acc[2]]
        else:
            bins.append(acc)
    stat = 0.0
    for _, x, y in bins:
        total = x + y
        for observed, n in ((x, na), (y, nb)):
            expected = total * n / (na + nb)
            if expected > 0:
                stat += (observed - expected) ** 2 / expected
    df = len(bins) - 1
    p = upper_gamma_q(df / 2, stat / 2) if df > 0 else 1.0
    return stat, df, p, bins


def ks_two_sample(a, b):
    """The two-sample Kolmogorov-Smirnov distance D and its asymptotic p-value."""
    a, b = sorted(a), sorted(b)
    i = j = 0
    d = 0.0
    while i < len(a) and j < len(b):
        x = min(a[i], b[j])
        while i < len(a) and a[i] == x:
            i += 1
        while j < len(b) and b[j] == x:
            j += 1
        d = max(d, abs(i / len(a) - j / len(b)))
    en = math.sqrt(len(a) * len(b) / (len(a) + len(b)))
    lam = (en + 0.12 + 0.11 / en) * d
    if lam < 0.2:
        return d, 1.0  # Q_KS(0.2) = 1 - 3e-11; the series below does not converge there
    p = 2 * sum((-1) ** (k - 1) * math.exp(-2 * k * k * lam * lam) for k in range(1, 101))
    return d, min(max(p, 0.0), 1.0)


def quantile(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, math.ceil(q * len(xs)) - 1))] if xs else float("nan")


def proportion_p(x1, n1, x2, n2):
    """Two-sided p-value of the two-proportion z-test."""
    p = (x1 + x2) / (n1 + n2)
    se = math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
    if se == 0:
        return 1.0
    z = abs(x1 / n1 - x2 / n2) / se
    return math.erfc(z / math.sqrt(2))


def cdf_svg(series, path, title):
    """Overlaid empirical CDFs of latency, as a standalone SVG."""
    w, h, left, bottom = 640, 400, 60, 40
    top = max((max(xs) for _, xs, _ in series if xs), default=1.0) or 1.0
    sx = lambda x: left + (w - left - 20) * x / top  # noqa: E731
    sy = lambda y: h - bottom - (h - bottom - 30) * y  # noqa: E731
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">',
        f'<text x="{w / 2}" y="18" text-anchor="middle">{title}</text>',
        f'<line x1="{left}" y1="{sy(0)}" x2="{w - 20}" y2="{sy(0)}" stroke="black"/>',
        f'<line x1="{left}" y1="{sy(0)}" x2="{left}" y2="{sy(1)}" stroke="black"/>',
        f'<text x="{w / 2}" y="{h - 8}" text-anchor="middle">latency after submission (s)</text>',
    ]
    for k in range(0, 6):
        x = top * k / 5
        out.append(f'<text x="{sx(x)}" y="{sy(0) + 15}" text-anchor="middle">{x:.0f}</text>')
        out.append(f'<text x="{left - 5}" y="{sy(k / 5) + 4}" text-anchor="end">{k / 5:.1f}</text>')
    for n, (name, xs, colour) in enumerate(series):
        xs = sorted(xs)
        points = [f"{sx(0):.1f},{sy(0):.1f}"]
        for i, x in enumerate(xs):
            points.append(f"{sx(x):.1f},{sy(i / len(xs)):.1f}")
            points.append(f"{sx(x):.1f},{sy((i + 1) / len(xs)):.1f}")
        out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{" ".join(points)}"/>')
        out.append(f'<text x="{left + 10}" y="{50 + 16 * n}" fill="{colour}">{name} ({len(xs)})</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def cmd_compare(a):
    pf, sim = load(a.postfix), load(a.sim)
    delays = [attempt_delays(a.postfix_log), attempt_delays(a.sim_log)]
    sides = ((a.names[0], pf), (a.names[1], sim))
    lines = [f"| figure | {a.names[0]} | {a.names[1]} |"]
    lines.append("| --- | ---: | ---: |")
    row = lambda name, x, y: lines.append(f"| {name} | {x} | {y} |")  # noqa: E731
    outcomes = ("delivered", "bounced", "expired", "other")
    count = {o: [sum(r["outcome"] == o for r in rows) for _, rows in sides] for o in outcomes}
    row("messages", len(pf), len(sim))
    for o in outcomes:
        row(o, *count[o])
    delivered = [[r for r in rows if r["outcome"] == "delivered"] for _, rows in sides]
    attempts = [{} for _ in sides]
    greeted = [greeted_attempts(a.postfix_log), greeted_attempts(a.sim_log)]
    for hist, rows, made in zip(attempts, delivered, greeted):
        for r in rows:
            n = made.get(r["queue_id"], r["attempts"])
            hist[n] = hist.get(n, 0) + 1
    for k in sorted(set(attempts[0]) | set(attempts[1])):
        share = [100 * h.get(k, 0) / max(1, len(rows)) for h, rows in zip(attempts, delivered)]
        row(f"delivered at attempt {k}", f"{share[0]:.1f}%", f"{share[1]:.1f}%")
    lat = [[r["latency_s"] for r in rows] for rows in delivered]
    for q in (0.5, 0.9, 0.99):
        row(f"latency p{round(q * 100)} (s)", *(f"{quantile(x, q):.1f}" for x in lat))
    for k in range(2, 7):
        at = [[d[k - 1] for d in side if len(d) >= k] for side in delays]
        if all(at):
            row(f"attempt {k}: mean time after submission (s)", *(f"{sum(x) / len(x):.1f}" for x in at))
    stat, df, p_chi, _ = chi_square(attempts[0], attempts[1])
    d, p_ks = ks_two_sample(*lat) if all(lat) else (1.0, 0.0)
    p_share = proportion_p(len(delivered[0]), len(pf), len(delivered[1]), len(sim))
    alpha = a.alpha
    crit = 1.628 * math.sqrt((len(lat[0]) + len(lat[1])) / max(1, len(lat[0]) * len(lat[1])))
    tests = [
        ("delivered share (two-proportion z)", f"p = {p_share:.3f}", p_share >= alpha),
        (f"attempts (chi-square, {df} df)", f"X² = {stat:.2f}, p = {p_chi:.3f}", p_chi >= alpha),
        ("latency (two-sample KS)", f"D = {d:.3f} (1% critical {crit:.3f}), p = {p_ks:.3f}", p_ks >= alpha),
    ]
    lines.append("")
    lines.append(f"| test (agreement when p >= {alpha}) | result | agree |")
    lines.append("| --- | --- | --- |")
    for name, result, ok in tests:
        lines.append(f"| {name} | {result} | {'yes' if ok else 'NO'} |")
    table = "\n".join(lines) + "\n"
    print(table)
    with open(f"{a.out}/table.md", "w") as f:
        f.write(table)
    with open(f"{a.out}/tests.json", "w") as f:
        json.dump({name: {"result": r, "agree": ok} for name, r, ok in tests}, f, indent=1)
    cdf_svg(
        [(a.names[0], lat[0], "#c0392b"), (a.names[1], lat[1], "#2471a3")],
        f"{a.out}/latency-cdf.svg",
        "Delivery latency, Postfix and smtpsim run",
    )
    if not all(ok for _, _, ok in tests):
        print("twin: the simulation and Postfix disagree beyond the tolerance", file=sys.stderr)
        sys.exit(1)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("arrivals")
    s.add_argument("--messages", type=int, required=True)
    s.add_argument("--rate", type=float, required=True)
    s.add_argument("--seed", type=int, required=True)
    s.add_argument("--out", required=True)
    s = sub.add_parser("submit")
    s.add_argument("--arrivals", required=True)
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--start-file", required=True)
    s = sub.add_parser("duration")
    s.add_argument("text")
    s = sub.add_parser("scenario")
    for flag in ("greylist", "temp-failure", "outage", "message-rate", "min-backoff",
                 "max-backoff", "queue-run", "lifetime"):
        s.add_argument(f"--{flag}", default="")
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--policy", choices=("postfix", "exim"), default="postfix")
    s.add_argument("--rules", default="F,2m,10s; G,10m,20s,1.5", help="Exim's retry rules")
    s.add_argument("--spread", type=float, default=0.0, help="Exim's queue_run_spread, seconds")
    s.add_argument("--shift", type=float, default=0.0)
    s.add_argument("--csv", action="store_true")
    s.add_argument("--out", required=True)
    s = sub.add_parser("origin")
    s.add_argument("--log", required=True, help="Postfix's log")
    s.add_argument("--queue-run", required=True)
    s.add_argument("--start-file", required=True, help="the epoch time submissions started at")
    s.add_argument("--arrivals", required=True, help="submission times after that start")
    s.add_argument("--out", required=True, help="submission times after the chosen origin")
    s.add_argument("--scans", help="the scan instants `watch` wrote")
    s = sub.add_parser("watch")
    s.add_argument("--queue", required=True, help="Postfix's deferred queue folder")
    s.add_argument("--out", required=True)
    s = sub.add_parser("exim-origin")
    s.add_argument("--log", required=True, help="Exim's main log")
    s.add_argument("--queue-run", required=True)
    s.add_argument("--start-file", required=True, help="the epoch time submissions started at")
    s.add_argument("--arrivals", required=True, help="submission times after that start")
    s.add_argument("--out", required=True, help="submission times after the chosen origin")
    s = sub.add_parser("compare")
    s.add_argument("postfix", help="output folder of smtpsim maillog on Postfix's log")
    s.add_argument("sim", help="output folder of smtpsim maillog on the log smtpsim run wrote")
    s.add_argument("--postfix-log", required=True)
    s.add_argument("--sim-log", required=True, help="the log smtpsim run --maillog wrote")
    s.add_argument("--out", required=True)
    s.add_argument("--alpha", type=float, default=0.01)
    s.add_argument("--names", nargs=2, default=["Postfix", "smtpsim run"])
    a = p.parse_args()
    {"arrivals": cmd_arrivals, "duration": cmd_duration, "submit": cmd_submit, "scenario": cmd_scenario,
     "origin": cmd_origin, "watch": cmd_watch, "exim-origin": cmd_exim_origin, "compare": cmd_compare}[a.cmd](a)


if __name__ == "__main__":
    main()
