#!/usr/bin/env python3
"""What a full mempool costs a node in memory (docs/performance.md, *A full mempool's memory*).

A new five-node network (suite std, majority); nodes 3-5 are stopped, so nothing commits, and
COUNT signed evidence.anchor transactions (about 330 bytes of wire each), from all five members in
turn, are submitted to node1 from four threads, signed and sent in chunks of 10,000 so that none
grows older than the genesis's transaction time window; node2 receives them by gossip. The
default COUNT is more than the pool holds, so the rest are refused (`mempool-full`). Then nodes
3-5 come back and the pool drains into blocks, and the same is done again: the second fill finds
the node's caches already full, so its growth is the pool's own. Each fill prints node1's and
node2's VmRSS before and after, the pool's count, its wire bytes and the memory it counts against
its limit (colend_mempool_memory_bytes), and every refusal by code with one example.

  scripts/mempool-fill.py [--bin build/bin] [--dir DIR] [--count 180000] [--keep]

Python 3 standard library and the openssl command-line tool only (tests/integration's helpers).
About 15 minutes on 2 cores; the signing is the longest part. The network's directory is removed
at the end unless --dir or --keep is given.
"""
import argparse
import concurrent.futures
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import attack_cluster as cluster  # noqa: E402
import netlib  # noqa: E402
from attack_cluster import (RpcError, Unreachable, call, kill_node, memory_kib,  # noqa: E402
                            signed_anchor)
from netlib import colend  # noqa: E402

N = 5
STOPPED = (3, 4, 5)
CHUNK = 10000  # signed, then submitted, before the next is signed


def sign_part(job):
    """Signed anchors number first..first+count-1, members in turn; runs in a worker process."""
    first, count, chain, members, keys = job
    cluster.CHAIN_ID = chain
    cluster.MEMBER.update(members)
    for k, path in keys.items():  # each worker reads the keys once, not once per chunk
        if k not in cluster.SIGNER:
            cluster.SIGNER[k] = netlib.P256Signer(path)
    # A document name may not hold a run of 6 digits (personal-data screen): two letters and at
    # most 5 digits.
    return [signed_anchor(1 + i % N, f"fill-{chr(97 + i // 100000 % 26)}{chr(97 + i // 2600000)}"
                                     f"-{i % 100000}")
            for i in range(first, first + count)]


def metric(k, name):
    with urllib.request.urlopen(f"http://127.0.0.1:{cluster.RPC_PORT[k]}/metrics",
                                timeout=5) as r:
        text = r.read().decode()
    m = re.search(rf"^{name} (\S+)$", text, re.M)
    return float(m.group(1)) if m else 0.0


def rss_mib(k):
    return memory_kib(k).get("VmRSS", 0) / 1024


def fill(label, count, keys):
    for k in STOPPED:
        kill_node(k)
    time.sleep(1)
    before = {k: rss_mib(k) for k in (1, 2)}
    outcomes, examples, lock = {}, {}, threading.Lock()

    def worker(part):
        for _, wire in part:
            try:
                call(1, "submit", {"tx": wire.hex()}, timeout=10)
                outcome = "accepted"
            except RpcError as e:
                outcome = e.code
                examples.setdefault(outcome, str(e))
            except Unreachable as e:
                outcome = "no answer"
                examples.setdefault(outcome, str(e))
            with lock:
                outcomes[outcome] = outcomes.get(outcome, 0) + 1

    t, signing, sizes = time.monotonic(), 0.0, []
    with concurrent.futures.ProcessPoolExecutor(2) as ex:
        for first in range(0, count, CHUNK):
            n = min(CHUNK, count - first)
            s0 = time.monotonic()
            jobs = [(first, n // 2, cluster.CHAIN_ID, dict(cluster.MEMBER), keys),
                    (first + n // 2, n - n // 2, cluster.CHAIN_ID, dict(cluster.MEMBER), keys)]
            txs = [tx for part in ex.map(sign_part, jobs) for tx in part]
            signing += time.monotonic() - s0
            sizes += [len(w) for _, w in txs]
            threads = [threading.Thread(target=worker, args=(txs[i::4],)) for i in range(4)]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
    print(f"{label}: {len(sizes)} signed and submitted in {time.monotonic() - t:.0f} s "
          f"({signing:.0f} s signing), {min(sizes)}..{max(sizes)} bytes of wire each", flush=True)
    time.sleep(2)
    print(f"{label}: submitted: {outcomes}", flush=True)
    for code, text in examples.items():
        print(f"    {code}: {text}", flush=True)
    for k in (1, 2):
        after = rss_mib(k)
        print(f"{label}: node{k} VmRSS {before[k]:.1f} -> {after:.1f} MiB "
              f"({after - before[k]:+.1f}); pool {metric(k, 'colend_mempool_transactions'):.0f} "
              f"transactions, wire {metric(k, 'colend_mempool_bytes') / 2**20:.1f} MiB, counted "
              f"{metric(k, 'colend_mempool_memory_bytes') / 2**20:.1f} MiB", flush=True)


def drain():
    for k in STOPPED:
        colend("localnet", "up", "--dir", cluster.DIR, "--node", str(k))
    deadline = time.monotonic() + 900
    while any(metric(k, "colend_mempool_transactions") > 0 for k in (1, 2)):
        if time.monotonic() > deadline:
            raise SystemExit("the pool did not drain within 900 s")
        time.sleep(3)
    time.sleep(15)
    print(f"drained at height {call(1, 'status')['height']}: node1 VmRSS {rss_mib(1):.1f} MiB, "
          f"node2 {rss_mib(2):.1f}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", default=os.path.join(HERE, "..", "build", "bin"))
    parser.add_argument("--dir", default=None, help="the network's directory (default: a new "
                                                    "temporary one)")
    parser.add_argument("--count", type=int, default=180000, help="transactions per fill")
    parser.add_argument("--keep", action="store_true", help="leave the network running")
    args = parser.parse_args()
    if args.count < 1 or args.count > 1000000:
        raise SystemExit("--count must be from 1 to 1000000")
    cluster.ARGS = argparse.Namespace(bin=args.bin, keep=args.keep, rss_mib_max=400, only=None)
    temporary = args.dir is None
    cluster.DIR = args.dir or tempfile.mkdtemp(prefix="colend-mempool-fill-")
    cluster.BIN = args.bin
    netlib.configure(os.path.abspath(args.bin), cluster.DIR)
    if os.path.exists(os.path.join(cluster.DIR, "genesis.json")):
        raise SystemExit(f"{cluster.DIR} already holds a network; give a new --dir")
    try:
        colend("localnet", "init", "--dir", cluster.DIR, "--nodes", str(N), "--suite", "std",
               "--quorum", "majority")
        keys = cluster.read_network(N)
        colend("localnet", "up", "--dir", cluster.DIR)
        fill("first fill (new node)", args.count, keys)
        drain()
        fill("second fill (caches full)", args.count, keys)
    finally:
        if not args.keep:
            colend("localnet", "down", "--dir", cluster.DIR, "--kill", check=False)
            for k in range(1, N + 1):  # whatever `down` could not reach
                kill_node(k)
            if temporary:
                shutil.rmtree(cluster.DIR, ignore_errors=True)
    print(f"network in {cluster.DIR}: " + ("running" if args.keep else
                                           "removed" if temporary else "stopped"))


if __name__ == "__main__":
    main()
