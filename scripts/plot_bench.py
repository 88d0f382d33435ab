#!/usr/bin/python3
"""Draws colend-bench's sweep as a PNG: committed tx/s against offered load, and commit-latency
percentiles against offered load.

    scripts/plot_bench.py RESULTS.jsonl OUT.png

RESULTS.jsonl holds one `colend-bench --json` object a line (scripts/bench.sh writes it): runs
with an offered_rate are the sweep; a run without one (as fast as it goes) is drawn as a
horizontal "max" line; a line with etcd_writes_per_s (scripts/bench-etcd.sh --json) as the etcd
figure. Uses Debian's python3-matplotlib (run with /usr/bin/python3).
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    runs, peak, etcd = [], None, None
    with open(sys.argv[1]) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                row = json.loads(line)
            except ValueError as e:
                print(f"plot_bench: line {n} is not JSON: {e}", file=sys.stderr)
                return 1
            if "etcd_writes_per_s" in row:
                etcd = row
            elif row.get("offered_rate") is None:
                peak = row
            else:
                runs.append(row)
    if not runs and peak is None:
        print("plot_bench: no colend-bench runs in " + sys.argv[1], file=sys.stderr)
        return 1
    runs.sort(key=lambda r: r["offered_rate"])
    offered = [r["offered_rate"] for r in runs]
    any_run = runs[0] if runs else peak
    # Each run measures the bound again; the maximum is compared with its own run's.
    bound = (peak if peak is not None else any_run)["verify_bound_tps"]

    fig, (tput, lat) = plt.subplots(1, 2, figsize=(13, 5))
    title = (f"colend, {any_run['nodes']} nodes, suite {any_run['suite']}, mix {any_run['mix']}, "
             f"{any_run['clients']} clients")
    fig.suptitle(title)
    if runs:
        tput.plot(offered, [r["committed_tps"] for r in runs], "o-", label="committed tx/s")
        top = max(offered)
        tput.plot([0, top], [0, top], ":", color="grey", label="offered = committed")
    if peak is not None:
        tput.axhline(peak["committed_tps"], color="tab:green", linestyle="--",
                     label=f"as fast as it goes: {peak['committed_tps']:.0f} tx/s")
    if etcd is not None:
        tput.axhline(etcd["etcd_writes_per_s"], color="tab:purple", linestyle="-.",
                     label=f"etcd check perf (l): {etcd['etcd_writes_per_s']:.0f} writes/s")
    tput.set_xlabel("offered load (tx/s)")
    tput.set_ylabel("committed (tx/s)")
    tput.set_title(f"throughput (verification bound {bound:.0f} tx/s, off the scale)"
                   if runs and bound > 4 * max(offered) else "throughput")
    if runs and bound <= 4 * max(offered):
        tput.axhline(bound, color="tab:red", linestyle="--",
                     label=f"verification bound {bound:.0f} tx/s")
    tput.grid(True, alpha=0.3)
    tput.legend(loc="upper left", fontsize=8)

    if runs:
        for key, style in (("latency_ms_p50", "o-"), ("latency_ms_p90", "s-"),
                           ("latency_ms_p99", "^-"), ("latency_ms_max", "x:")):
            lat.plot(offered, [max(r[key], 0.1) for r in runs], style, label=key[len("latency_ms_"):])
        lat.set_yscale("log")
    lat.set_xlabel("offered load (tx/s)")
    lat.set_ylabel("submit → committed, as a waiting client sees it (ms)")
    lat.set_title("commit latency")
    lat.grid(True, which="both", alpha=0.3)
    lat.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=100)
    print(f"wrote {sys.argv[2]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
