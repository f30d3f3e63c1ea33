#!/usr/bin/env python3
"""SimPy's classic M/M/c model: the counterpart of scenarios/validation/mm4.toml.

Customers arrive as a Poisson process (rate 3.6/s), each requests one of four servers
(a simpy.Resource with capacity 4), holds it for an exponential time with mean 1 s and
releases it. The wait for a server is recorded. With rho = 3.6 / 4 = 0.9, Erlang C gives a
mean wait of 1.969 s.

Prints the customers served, the wall time of env.run() (time.perf_counter), customers per
second and the mean wait. With --json, prints the same figures as one JSON object.

    python3 benches/simpy/mmc.py [CUSTOMERS] [--seed S] [--json]
"""

import argparse
import json
import random
import sys
import time

import simpy

ARRIVAL_RATE = 3.6  # lambda, customers per second
SERVICE_RATE = 1.0  # mu, per second (mean service time 1 s)
SERVERS = 4  # c
ERLANG_C_MEAN_WAIT = 1.969  # Wq = C(4, 3.6) / (c mu - lambda), seconds


class Waits:
    """Running count and sum of the waits for a server."""

    __slots__ = ("count", "total")

    def __init__(self):
        self.count = 0
        self.total = 0.0


def customer(env, server, waits):
    """Arrives, waits for a server, holds it for an exponential time, leaves."""
    arrived = env.now
    with server.request() as request:
        yield request
        waits.count += 1
        waits.total += env.now - arrived
        yield env.timeout(random.expovariate(SERVICE_RATE))


def source(env, customers, server, waits):
    """Generates `customers` customers with exponential inter-arrival times."""
    for _ in range(customers):
        yield env.timeout(random.expovariate(ARRIVAL_RATE))
        env.process(customer(env, server, waits))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("customers", nargs="?", type=int, default=1_000_000,
                        help="customers to simulate (default 1000000)")
    parser.add_argument("--seed", type=int, default=1, help="random.seed (default 1)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if args.customers <= 0:
        parser.error("customers must be positive")

    random.seed(args.seed)
    env = simpy.Environment()
    server = simpy.Resource(env, capacity=SERVERS)
    waits = Waits()
    env.process(source(env, args.customers, server, waits))

    started = time.perf_counter()
    env.run()  # until every customer has been served
    wall_s = time.perf_counter() - started

    assert waits.count == args.customers, (waits.count, args.customers)
    result = {
        "tool": "simpy",
        "simpy_version": simpy.__version__,
        "python": sys.version.split()[0],
        "customers": waits.count,
        "wall_s": wall_s,
        "customers_per_s": waits.count / wall_s,
        "mean_wait_s": waits.total / waits.count,
        "end_s": env.now,
        "seed": args.seed,
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"SimPy {result['simpy_version']} on Python {result['python']}, "
              f"M/M/{SERVERS}, lambda {ARRIVAL_RATE}/s, mu {SERVICE_RATE}/s, seed {args.seed}")
        print(f"customers      {result['customers']}")
        print(f"wall s         {wall_s:.3f}")
        print(f"customers/s    {result['customers_per_s']:,.0f}")
        print(f"mean wait s    {result['mean_wait_s']:.3f} (Erlang C: {ERLANG_C_MEAN_WAIT})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
