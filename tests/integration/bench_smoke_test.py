#!/usr/bin/env python3
"""colend-bench on five real nodes, briefly: bad options are refused with exit 2 and a message;
a run of the loans mix at a fixed rate and of the anchor mix as fast as it goes commits every
transaction it submitted, every loans-mix step accepted (the pre-signed sequences are valid in the
order sent), and --json carries the documented keys with sane values (latency percentiles in
order, a verification bound, the nodes' RSS found)."""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import netlib
from netlib import colend, expect

KEYS = ["committed_tps", "verify_bound_tps", "latency_ms_p50", "latency_ms_p99", "rss_mib_max",
        "offered_rate", "submitted", "committed", "rejected", "duration_s"]


def bench(*argv):
    return subprocess.run([os.path.join(netlib.BIN, "colend-bench")] + list(argv),
                          capture_output=True, text=True, timeout=180)


def scenario():
    for argv, what in [([], "no --dir"), (["--dir", netlib.DIR, "--rate", "0"], "--rate 0"),
                       (["--dir", netlib.DIR, "--mix", "swaps"], "an unknown mix"),
                       (["--dir", netlib.DIR, "--clients", "1.5"], "a fractional --clients"),
                       (["--dir", netlib.DIR, "--duration", "301"], "--duration above 300"),
                       (["--dir", netlib.DIR, "--speed", "1"], "an unknown option"),
                       (["--dir", netlib.DIR, "--duration", "0x10"], "a hex --duration"),
                       (["--dir", netlib.DIR, "--duration", " 5"], "a --duration with a space"),
                       (["--dir", netlib.DIR, "--rate", "1e2"], "a --rate with an exponent"),
                       (["--dir", netlib.DIR, "--rate", "inf"], "an infinite --rate"),
                       (["--dir", netlib.DIR, "--clients", "+3"], "a signed --clients")]:
        p = bench(*argv)
        expect(p.returncode == 2 and p.stderr.startswith("colend-bench: "),
               f"{what}: exit 2 with a message: {p.stderr.splitlines()[0] if p.stderr else ''}")
    p = bench("--dir", os.path.join(netlib.DIR, "missing"))
    expect(p.returncode == 1 and "no local network" in p.stderr, "a directory without a network: exit 1")
    colend("localnet", "init", "--dir", netlib.DIR, "--nodes", "5")
    colend("localnet", "up", "--dir", netlib.DIR)

    p = bench("--dir", netlib.DIR, "--duration", "4", "--rate", "40", "--clients", "3", "--json")
    expect(p.returncode == 0, f"loans at 40 tx/s: exit 0 {p.stderr[-300:]}")
    r = json.loads(p.stdout)
    expect(all(k in r for k in KEYS), "--json has the documented keys")
    expect(r["offered_rate"] == 40 and r["submitted"] >= 150 and r["committed"] == r["submitted"],
           f"every submitted transaction committed: {r['committed']} of {r['submitted']}")
    expect(r["rejected"] == {} and r["accepted"] == r["committed"],
           f"every loans-mix step accepted in the order sent (rejected {r['rejected']})")
    expect(0 < r["latency_ms_p50"] <= r["latency_ms_p99"] <= r["latency_ms_max"] < 20000,
           f"latency p50 {r['latency_ms_p50']:.0f} <= p99 {r['latency_ms_p99']:.0f} ms")
    expect(isinstance(r["blocks"], int) and 0 < r["blocks"] <= r["committed"],
           f"blocks committed during the run: {r['blocks']}")
    expect(r["verify_bound_tps"] > 0 and r["rss_mib_max"] > 5 and
           all(n["pid"] > 0 for n in r["node_memory"]),
           f"verification bound {r['verify_bound_tps']:.0f} tx/s, node RSS {r['rss_mib_max']:.0f} MiB")

    p = bench("--dir", netlib.DIR, "--duration", "3", "--mix", "anchor", "--clients", "5",
              "--inflight", "100")
    expect(p.returncode == 0 and "committed tx/s" in p.stdout and "verify bound" in p.stdout,
           f"anchor as fast as it goes prints the table:\n{p.stdout}")
    expect("not committed 0" in p.stdout and "rejected: none" in p.stdout,
           "every anchor committed and accepted")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    args = parser.parse_args()
    netlib.configure(args.bin, tempfile.mkdtemp(prefix="colend-bench-smoke-"))
    return netlib.run_network_test(scenario, failures=(AssertionError, ValueError, KeyError))


if __name__ == "__main__":
    sys.exit(main())
