#!/usr/bin/env python3
"""Where each node's io thread spends a run: synced writes and block steps, from /metrics.

  scripts/io-share.py --dir D [--json] -- COMMAND [ARG ...]

Scrapes GET /metrics of every node of the `colend localnet` in D (D/node<k>/config.json), runs
COMMAND (for example a `colend-bench` run against the same network), scrapes again and prints,
per node, what happened in between: blocks committed, and for each synced write
(colend_sync_seconds{write}) and each step of a block (colend_block_step_seconds{step}) its
count, mean and share of the run's wall time; and, for a node on this machine, the CPU seconds
its io thread (the main thread) and its whole process used in COMMAND's run (/proc). The shares are of one thread: the io thread runs
consensus, execution and the synced writes in turn, so a share is time nothing else ran there.
COMMAND's output is passed through; if its last line is a JSON object with "measured_s" (as
`colend-bench --json` prints: first submit to last commit), the shares are of that time instead
of COMMAND's whole run (which includes pre-signing).
Exit status: COMMAND's, or 2 (with the reason) if D holds no node, a node cannot be scraped or
COMMAND cannot be run.

Python's standard library only; the text format is read line by line (docs/operations.md,
"Metrics").
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys
import time
import urllib.request

LINE = re.compile(r'^(colend_(?:sync|block_step)_seconds_(?:sum|count))\{(\w+)="([^"]*)"\} (\S+)$')
BLOCKS = re.compile(r'^colend_blocks_committed_total\{via="(\w+)"\} (\S+)$')


def fail(why):
    """Names what is wrong and exits 2 (COMMAND's own status is passed through otherwise)."""
    print(f"io-share: {why}", file=sys.stderr)
    sys.exit(2)


def nodes(directory):
    found = []
    for path in sorted(glob.glob(os.path.join(directory, "node*", "config.json"))):
        name = os.path.basename(os.path.dirname(path))
        with open(path) as f:
            found.append((name, json.load(f)["rpc_port"]))
    if not found:
        fail(f"no node*/config.json under {directory}")
    return found


def cpu_seconds(directory, name):
    """(io thread, whole process) CPU seconds of a local node, from /proc (None if not local).

    The io thread is the process's main thread (its tid is the pid in node.pid)."""
    try:
        with open(os.path.join(directory, name, "node.pid")) as f:
            pid = int(f.read().split()[0])
        tick = os.sysconf("SC_CLK_TCK")

        def ticks(path):
            with open(path) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / tick  # utime + stime

        return ticks(f"/proc/{pid}/task/{pid}/stat"), ticks(f"/proc/{pid}/stat")
    except (OSError, ValueError, IndexError):
        return None


def scrape(name, port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
            text = r.read().decode()
    except OSError as e:
        fail(f"cannot scrape {name} on port {port}: {e}")
    figures = {}
    for line in text.splitlines():
        m = LINE.match(line)
        if m:
            family, _, label, v = m.groups()
            kind = "sync" if "_sync_" in family else "step"
            part = family.rsplit("_", 1)[1]
            figures[(kind, label, part)] = float(v)
            continue
        m = BLOCKS.match(line)
        if m:
            figures[("blocks", m.group(1), "count")] = float(m.group(2))
    return figures


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", required=True, help="the localnet directory")
    ap.add_argument("--json", action="store_true", help="one JSON object instead of the table")
    ap.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND [ARG ...]")
    args = ap.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        ap.error("give the command to run after --")
    members = nodes(args.dir)
    cpu_before = {name: cpu_seconds(args.dir, name) for name, _ in members}
    before = {name: scrape(name, port) for name, port in members}
    start = time.monotonic()
    try:
        run = subprocess.run(command, stdout=subprocess.PIPE, text=True)
    except OSError as e:
        fail(f"cannot run {command[0]}: {e}")
    seconds = max(time.monotonic() - start, 1e-6)
    rc = run.returncode
    sys.stdout.write(run.stdout)
    sys.stdout.flush()
    window = "the command's run"
    lines = run.stdout.strip().splitlines()
    try:
        measured = json.loads(lines[-1]).get("measured_s") if lines else None
    except (ValueError, AttributeError):
        measured = None
    if isinstance(measured, (int, float)) and measured > 0:
        seconds, window = float(measured), "measured_s of the command's JSON"
    after = {name: scrape(name, port) for name, port in members}
    cpu_after = {name: cpu_seconds(args.dir, name) for name, _ in members}

    report = {"seconds": round(seconds, 3), "window": window, "command_rc": rc, "nodes": {}}
    for name, _ in members:
        delta = {k: after[name].get(k, 0.0) - before[name].get(k, 0.0) for k in after[name]}
        node = {"blocks": int(sum(v for (kind, _, _), v in delta.items() if kind == "blocks"))}
        total = 0.0
        for kind in ("sync", "step"):
            for label in sorted({label for (k, label, _) in delta if k == kind}):
                n, s = delta.get((kind, label, "count"), 0.0), delta.get((kind, label, "sum"), 0.0)
                node[f"{kind}:{label}"] = {"count": int(n), "mean_ms": round(1000 * s / n, 3) if n else 0,
                                           "share": round(s / seconds, 4)}
        for label in ("build", "validate", "commit"):
            total += delta.get(("step", label, "sum"), 0.0)
        for label in ("vote-state", "signing-lease"):
            total += delta.get(("sync", label, "sum"), 0.0)
        # The block write is inside the commit step; the vote state and lease are not.
        node["io_busy_share"] = round(total / seconds, 4)
        if cpu_before[name] and cpu_after[name]:
            # CPU used in the command's whole run (including any pre-signing it does).
            node["io_thread_cpu_s"] = round(cpu_after[name][0] - cpu_before[name][0], 2)
            node["process_cpu_s"] = round(cpu_after[name][1] - cpu_before[name][1], 2)
        report["nodes"][name] = node

    if args.json:
        print(json.dumps(report))
    else:
        print(f"{seconds:.1f} s ({window}); command exit {rc}")
        for name, node in report["nodes"].items():
            parts = [f"{k} {v['count']}x {v['mean_ms']:.2f} ms = {100 * v['share']:.1f}%"
                     for k, v in node.items() if isinstance(v, dict)]
            cpu = (f"; CPU in the command's run: io thread {node['io_thread_cpu_s']:.2f} s, process "
                   f"{node['process_cpu_s']:.2f} s" if "io_thread_cpu_s" in node else "")
            print(f"{name}: {node['blocks']} blocks; io thread in these {100 * node['io_busy_share']:.1f}%{cpu}")
            for p in parts:
                print(f"  {p}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
