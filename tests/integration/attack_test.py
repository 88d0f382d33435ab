#!/usr/bin/env python3
"""Issue 13's attacks, each scripted over five real colend-node processes (suite std, majority).

Acceptance: each attack leaves every node serving and the chain committing within seconds of the
attack starting (not after it stops), and the nodes' memory below a bound; the peak RSS of every
node is printed. Cases, in this order (--only NAME,... picks some):

  rpc-nesting       a JSON-RPC body whose params nest 100,000 arrays (200 KB), and one nesting
                    100,000 objects: node1 answers a JSON-RPC error and keeps serving.
  tx-flood          lead-bank submits 1,100 signed transactions of ~8.4 KB (consensus.evidence
                    with two 4,096-character values, the largest a valid transaction gets; 9 MB
                    in all) to node1 from two threads. credit-bureau's small
                    transaction, sent to node4 a third of the way in, and payee-bank's, sent to
                    node3 when the last submission returns, must each commit within COMMIT_S_MAX.
                    Every submission must be answered: accepted, or refused with a named error
                    (sender-quota, mempool-full, ...); every accepted one must be committed, and
                    no committed block may carry more than kBlockBytesMax (8 MiB) of the flood.
  tls-slots         200 raw TCP connections to every node's P2P port that never speak TLS, opened
                    once and held; right away node2 is killed and restarted. Every link of node2,
                    both directions, must be up within RECONNECT_S_MAX of node2 answering RPC, and
                    transactions sent to node2 and node1 must commit within COMMIT_S_MAX.
  tls-slots-reopen  the same, but each connection the node closes is opened again (at once if it
                    was held 0.5 s or more, 1 s later if the node closed it sooner), and node2 is
                    restarted only after 3 s of that.
  rpc-slots         300 half-sent HTTP requests (headers never finished) on node1's RPC port,
                    re-opened when closed, for HOLD_S: node1 must answer status within
                    STATUS_S_MAX throughout, and a transaction submitted to node1 must commit
                    within COMMIT_S_MAX.
  slow-peer         with node5 stopped, the test takes arbitration's place with its TLS key and
                    certificate from the localnet directory (the member key this attack needs): a
                    TLS server on node5's P2P port completes the handshake and hello with node1's
                    dial and then reads nothing, while a TLS client to node1 sends block requests
                    (from height 1, 64 blocks) every 10 ms for 10 s. node1's RSS must stay below
                    --rss-mib-max (the flood stops at twice that), status must answer and a
                    transaction must commit. The size of one answer is measured and printed: it
                    holds the blocks tx-flood's 9 MB were committed in (if tx-flood did not run,
                    the blocks and the answers are small).
  (always)          VmHWM of every node's process at the end, each below --rss-mib-max.

While an attack runs, a prober asks every node for status every 0.5 s and records how long each
answer took; the P2P and RPC floods are held at least HOLD_S. Between cases the network is brought
back (stopped nodes restarted, every node connected to its four peers); a case that fails is
reported and the next one still runs.
Binaries are copied first (a rebuild of --bin during the run cannot mix versions).

  attack_test.py --bin build/bin [--only tls-slots,rpc-slots] [--rss-mib-max 400] [--keep]

Python 3 standard library and the openssl command-line tool only. The last line is
"N passed, M failed"; exit 0 only if every check passed.
"""
import argparse
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import traceback

# The network, its helpers, the bounds and the run state (attack_cluster's globals, read and set
# as cluster.NAME at call time) are in attack_cluster.py; the cases in attack_cases.py.
import attack_cluster as cluster
import netlib
from attack_cases import CASES
from attack_cluster import (N, HonestTx, RpcError, Unreachable, call, memory_kib, memory_line, mib,
                            node_pid, note, recover)
from netlib import CHECKS, colend, expect


# ---- scenario ----------------------------------------------------------------------------------

def setup():
    colend("localnet", "init", "--dir", cluster.DIR, "--nodes", str(N), "--suite", "std",
           "--quorum", "majority")
    for k, key in cluster.read_network(N).items():
        cluster.SIGNER[k] = netlib.P256Signer(key).check_with_openssl()
    colend("localnet", "up", "--dir", cluster.DIR)
    s = call(1, "status")
    cluster.GENESIS_HEX = s["genesis_hash"]
    expect(s["members"] == N and len(s["peers"]) == N - 1,
           f"{N} nodes up on chain {cluster.CHAIN_ID}, quorum {s['quorum']} "
           f"({s['quorum_rule']}): "
           + ", ".join(f"node{k}={cluster.MEMBER[k]}" for k in range(1, N + 1)))
    for k in (4, 2):
        honest = HonestTx(k, "baseline")
        honest.start()
        honest.join()
        took = "-" if honest.seconds is None else f"{honest.seconds:.2f}"
        print(f"     baseline: a small transaction sent to node{k} committed in {took} s"
              + (f" ({honest.error})" if honest.error else ""), flush=True)
    print(f"     {memory_line()}", flush=True)


def scenario():
    setup()
    cases = CASES
    if cluster.ARGS.only:
        only = cluster.ARGS.only.split(",")
        unknown = set(only) - {n for n, _ in CASES}
        expect(not unknown, f"--only {cluster.ARGS.only}: "
               + (f"no such case {sorted(unknown)}" if unknown else "every name is a case"))
        cases = [(n, f) for n, f in CASES if n in only]
    failed = []
    for name, run in cases:
        print(f"== {name}", flush=True)
        before = CHECKS["failed"]
        started = time.monotonic()
        try:
            run(name)
        except (AssertionError, OSError, ssl.SSLError, ConnectionError, RpcError, Unreachable) as e:
            expect(False, f"{name}: stopped: {type(e).__name__}: {e}", fatal=False)
        except Exception as e:  # a bug here, or an answer of an unexpected shape: say where
            traceback.print_exc()
            expect(False, f"{name}: stopped: {type(e).__name__}: {e}", fatal=False)
        if CHECKS["failed"] > before:
            failed.append(name)
        note(f"{name}: {'FAILED' if name in failed else 'passed'} "
             f"({time.monotonic() - started:.0f} s)")
        recover(name)

    print("== peak RSS (VmHWM) of every node", flush=True)
    for k in range(1, N + 1):
        m = memory_kib(k)
        since = (f" (restarted in {cluster.RESTARTED[k]}: its peak since then)"
                 if k in cluster.RESTARTED else "")
        expect(m and m["VmHWM"] <= cluster.ARGS.rss_mib_max * 1024,
               f"node{k} pid {node_pid(k)}: peak RSS {mib(m.get('VmHWM', 0)):.0f} MiB, now "
               f"{mib(m.get('VmRSS', 0)):.0f} MiB (limit {cluster.ARGS.rss_mib_max} MiB){since}",
               fatal=False)
        if not (m and m["VmHWM"] <= cluster.ARGS.rss_mib_max * 1024) and "peak-rss" not in failed:
            failed.append("peak-rss")
    if failed:
        raise AssertionError(f"{len(failed)} of {len(cases) + 1} cases failed: {', '.join(failed)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin", required=True, help="directory with colend and colend-node")
    parser.add_argument("--only", metavar="CASE,...",
                        help="run only these cases: " + ", ".join(n for n, _ in CASES))
    parser.add_argument("--rss-mib-max", type=int, default=400,
                        help="bound on every node's resident memory (default 400 MiB)")
    parser.add_argument("--keep", action="store_true", help="keep the network directory")
    args = cluster.ARGS = parser.parse_args()  # cluster.ARGS for every other function
    if shutil.which("openssl") is None:
        print("the openssl command-line tool is required", file=sys.stderr)
        return 1
    cluster.T0 = time.monotonic()
    top = tempfile.mkdtemp(prefix="colend-attack-")
    # Private copies of the binaries: a rebuild of --bin during the run cannot mix versions.
    cluster.BIN = os.path.join(top, "bin")
    os.makedirs(cluster.BIN)
    for name in ("colend", "colend-node"):
        shutil.copy2(os.path.join(args.bin, name), os.path.join(cluster.BIN, name))
    cluster.DIR = os.path.join(top, "net")
    netlib.configure(cluster.BIN, cluster.DIR)
    print(f"attack test: binaries from {os.path.abspath(args.bin)} copied to {cluster.BIN}; "
          f"network in {cluster.DIR} (kept after a failure or with --keep)", flush=True)

    def timed():
        try:
            scenario()
        finally:
            note("scenario over")

    code = netlib.run_network_test(timed, keep=True, nodes=N, log_lines=8,
                                   failures=(AssertionError, subprocess.TimeoutExpired))
    if code == 0 and not args.keep:
        shutil.rmtree(top, ignore_errors=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
