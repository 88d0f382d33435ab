#!/usr/bin/env python3
"""Catch-up benchmark: how fast a restarted colend node syncs the blocks it missed.

Starts a five-member localnet, stops node5, drives signed evidence.anchor transactions into
nodes 1-4 until node1's height has advanced by --blocks since node5 stopped, stops the load,
restarts node5 and measures how long it takes to reach the others' height H (blocks per second),
both from its process start and from when its RPC first answers. At the end node5's block hash
at H must equal node1's.

Python 3 standard library and the openssl command-line tool only (transactions are signed with
openssl, like tests/integration/chaos_test.py, from which the helpers below are copied).

    tests/bench/catchup_bench.py --bin build/bin [--blocks 2000] [--keep]
        [--block-interval-ms MS] [--timeout-propose-ms MS]

With node5 down, every fifth height waits out a propose timeout, so on a loaded 2-core machine
production runs at ~3 blocks/s. --rewind produces with all five up instead (no timeouts), then
stops node5 and puts back its store as it was at genesis: node5 restarts H blocks behind, the
same state as a node that was down all along (it signed nothing above H: the chain is quiet).
The issue-3 figure: --blocks 10000 --rewind --block-interval-ms 0.
"""
import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

ARGS = None
DIR = None
BIN = None
N = 5
STOPPED = 5            # the node that is stopped and then catches up
SNAPSHOT = None        # --rewind: a copy of node5's store at genesis
LOADED = [1, 2, 3, 4]  # nodes that receive the load

MEMBER = {}
RPC_PORT = {}
CHAIN_ID = None
SUITE = "std"

# Node helpers (CLI, JSON-RPC over kept-alive HTTP, openssl-signed transactions, pids, logs) are
# the chaos test's, in chaos_cluster.py: they read its module globals, which sync_net_globals()
# points at this run.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import chaos_cluster as net  # noqa: E402
import netlib  # noqa: E402
from chaos_cluster import (RpcError, Unreachable, colend, home, rpc, status, block,  # noqa: E402
                           height_or_none, sign, signed_tx_wire, tx_body, read_pid, log_text)


def sync_net_globals():
    net.DIR, net.BIN, net.CHAIN_ID = DIR, BIN, CHAIN_ID
    netlib.configure(BIN, DIR)
    net.MEMBER, net.RPC_PORT = MEMBER, RPC_PORT
    net.ARGS = argparse.Namespace(suite=SUITE)
T0 = time.time()


def note(text):
    print(f"[{time.time() - T0:7.1f}s] {text}", flush=True)


# In-process signers (netlib.P256Signer) for the std suite: one openssl process per transaction
# starved the proposers on a loaded 2-core machine. Checked against openssl before the load.
SIGNERS = {}


def process_start_time(pid):
    """Wall-clock start time of a process, from /proc (None if unavailable)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
        fields = stat[stat.rfind(")") + 2:].split()
        start_ticks = int(fields[19])  # field 22 overall: starttime in clock ticks after boot
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        hz = os.sysconf("SC_CLK_TCK")
        return time.time() - uptime + start_ticks / hz
    except (OSError, ValueError, IndexError):
        return None


class Load:
    """Worker threads submitting fresh signed evidence.anchor transactions to nodes 1-4, so that
    every block interval finds at least one transaction in the mempool."""

    def __init__(self, workers):
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.outcomes = {}
        self.sign_s = 0.0    # time spent signing (openssl) and submitting, summed over workers
        self.submit_s = 0.0
        self.threads = [threading.Thread(target=self.worker, args=(i,), daemon=True)
                        for i in range(workers)]

    def count(self, what):
        with self.lock:
            self.outcomes[what] = self.outcomes.get(what, 0) + 1

    def start(self):
        for t in self.threads:
            t.start()

    def join(self):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=30)

    def worker(self, i):
        rng = random.Random(f"catchup-{i}-{time.time_ns()}")
        n = 0
        while not self.stop.is_set():
            k = LOADED[(i + n) % len(LOADED)]
            n += 1
            digest = hashlib.sha256(f"catchup worker {i} tx {n} {time.time_ns()}"
                                    .encode()).hexdigest()
            body = tx_body(MEMBER[k], rng.getrandbits(63), f"catchup-{i}-{n}", digest)
            t0 = time.monotonic()
            try:
                signature = SIGNERS[k].sign(body) if k in SIGNERS else sign(k, body)
                wire = signed_tx_wire(body, signature).hex()
            except (subprocess.SubprocessError, OSError):
                self.count("sign-failed")
                continue
            t1 = time.monotonic()
            try:
                r = rpc(k, "submit", {"tx": wire}, timeout=5.0)
                self.count("pending" if r.get("status") == "pending" else "other")
                with self.lock:
                    self.sign_s += t1 - t0
                    self.submit_s += time.monotonic() - t1
            except RpcError as e:
                self.count(f"refused:{e.code}")
            except Unreachable:
                self.count("unreachable")
            self.stop.wait(rng.uniform(0.02, 0.08))


# ---- benchmark ------------------------------------------------------------------------------

def setup():
    global CHAIN_ID, SUITE
    timing = []
    if ARGS.block_interval_ms is not None:
        timing += ["--block-interval-ms", str(ARGS.block_interval_ms)]
    if ARGS.timeout_propose_ms is not None:
        timing += ["--timeout-propose-ms", str(ARGS.timeout_propose_ms)]
    colend("localnet", "init", "--dir", DIR, "--nodes", str(N), *timing)
    with open(os.path.join(DIR, "genesis.json")) as f:
        genesis = json.load(f)
    CHAIN_ID = genesis["chain_id"]
    SUITE = genesis.get("suite", "std")
    sync_net_globals()
    for k in range(1, N + 1):
        with open(os.path.join(home(k), "config.json")) as f:
            config = json.load(f)
        MEMBER[k] = config["member_id"]
        RPC_PORT[k] = config["rpc_port"]
    if SUITE == "std":
        for k in LOADED:
            key = os.path.join(home(k), "signing.key")
            SIGNERS[k] = netlib.P256Signer(key).check_with_openssl()
    if ARGS.rewind:
        # node5's store as it is at genesis, before it ever ran (see --rewind).
        shutil.copytree(os.path.join(home(STOPPED), "data"), SNAPSHOT)
    colend("localnet", "up", "--dir", DIR, timeout=180)
    s = status(1)
    note(f"{N} nodes up on chain {CHAIN_ID} (suite {SUITE}, quorum {s['quorum']}, "
         f"block interval {genesis['consensus']['block_interval_ms']} ms, propose timeout "
         f"{genesis['consensus']['timeout_propose_ms']} ms)")


def produce(blocks):
    """Stops node5, loads nodes 1-4 until node1 advanced by `blocks`; returns
    (node5's height when stopped, node1's height then, seconds of production, H)."""
    if ARGS.rewind:
        a = 0
        base = status(1)["height"]
        target = base + blocks
        note(f"--rewind: all five nodes up; loading nodes 1-4 until node1 reaches {target}")
    else:
        a = status(STOPPED)["height"]
        colend("localnet", "down", "--dir", DIR, "--node", str(STOPPED))
        base = status(1)["height"]
        target = base + blocks
        note(f"node{STOPPED} stopped at height {a}; loading nodes 1-4 until node1 reaches {target}")
    load = Load(workers=ARGS.workers)
    t0 = time.time()
    load.start()
    last_t, last_h = t0, base
    h = base
    try:
        while True:
            time.sleep(0.5)
            hh = height_or_none(1, 2.0)
            if hh is not None:
                h = hh
            now = time.time()
            if h >= target:
                break
            if now - last_t >= 10:
                with load.lock:
                    sent = sum(v for key, v in load.outcomes.items() if key == "pending")
                note(f"production: node1 at {h} ({h - base} of {blocks}), "
                     f"{(h - last_h) / (now - last_t):.2f} blocks/s last {now - last_t:.0f} s, "
                     f"{(h - base) / (now - t0):.2f} blocks/s overall, {sent} txs accepted")
                last_t, last_h = now, h
            if now - t0 > ARGS.max_production:
                raise AssertionError(f"production too slow: {h - base} of {blocks} blocks in "
                                     f"{now - t0:.0f} s")
    finally:
        load.join()
    produced_s = time.time() - t0
    produced = h - base
    with load.lock:
        outcomes = dict(load.outcomes)
    accepted = max(1, outcomes.get("pending", 0))
    note(f"load stopped: {produced} blocks in {produced_s:.1f} s; submit outcomes {outcomes}; "
         f"per accepted tx {1000 * load.sign_s / accepted:.0f} ms signing, "
         f"{1000 * load.submit_s / accepted:.0f} ms submitting")
    # Let the mempools drain so that H is final (no blocks after the load stops).
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            sts = [status(k) for k in LOADED]
        except (RpcError, Unreachable):
            time.sleep(0.5)
            continue
        if all(s["mempool_size"] == 0 for s in sts) and len({s["height"] for s in sts}) == 1:
            break
        time.sleep(0.5)
    H = status(1)["height"]
    if ARGS.rewind:
        # The chain is quiet at H (no transaction pending anywhere, so nobody has started H + 1
        # and node5 has signed nothing above H). Stop node5 and put back its store as it was at
        # genesis: on restart it is a node that was down while the others made H blocks.
        colend("localnet", "down", "--dir", DIR, "--node", str(STOPPED))
        data = os.path.join(home(STOPPED), "data")
        shutil.rmtree(data)
        shutil.copytree(SNAPSHOT, data)
        note(f"node{STOPPED} stopped at {H} and its store rewound to genesis (height 0)")
    return a, base, produced, produced_s, H


def catch_up(H, a_stopped):
    """Restarts node5 and waits until its height >= H. Returns a dict of measurements."""
    before = time.time()
    up = subprocess.Popen([os.path.join(BIN, "colend"), "localnet", "up", "--dir", DIR,
                           "--node", str(STOPPED), "--timeout", str(int(ARGS.max_catchup))],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    pid = None
    t_start = None
    t_rpc = None
    a = None
    first = None
    last_print = 0
    last_status = None
    deadline = before + ARGS.max_catchup
    while True:
        now = time.time()
        if pid is None:
            pid = read_pid(STOPPED)
            if pid is not None:
                t_start = process_start_time(pid) or now
        try:
            s = status(STOPPED, 1.0)
        except (RpcError, Unreachable):
            s = None
        now = time.time()
        if s is not None:
            last_status = s
            if t_rpc is None:
                t_rpc = now
                a = s["height"]
                first = s
                note(f"node{STOPPED} RPC answers {t_rpc - (t_start or before):.2f} s after its "
                     f"process start, at height {a} (syncing {s.get('syncing')}, best peer "
                     f"{s.get('best_peer_height')}, {s.get('blocks_to_sync')} to sync)")
            if s["height"] >= H:
                done = now
                break
            if now - last_print >= 2:
                note(f"node{STOPPED} at {s['height']} of {H}, {H - s['height']} to go "
                     f"(syncing {s.get('syncing')}, best_peer_height "
                     f"{s.get('best_peer_height')}, blocks_to_sync {s.get('blocks_to_sync')})")
                last_print = now
        if now > deadline:
            raise AssertionError(f"node{STOPPED} did not reach {H} within {ARGS.max_catchup} s: "
                                 f"last status {last_status}")
        # Until its RPC first answers, poll every 0.1 s to time that well; then every 0.5 s.
        time.sleep(0.5 if t_rpc is not None else 0.1)
    try:
        out, _ = up.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        up.kill()
        out, _ = up.communicate()
    if t_start is None:
        t_start = before
    return {"a": a, "a_stopped": a_stopped, "t_launch": before, "t_start": t_start,
            "t_rpc": t_rpc, "done": done, "final": last_status, "first": first,
            "up_rc": up.returncode, "up_out": out.strip()}


def main():
    global ARGS, DIR, BIN, T0, SNAPSHOT
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                      "..", "..", "build", "bin"),
                        help="directory with colend and colend-node (default build/bin)")
    parser.add_argument("--blocks", type=int, default=2000,
                        help="blocks node5 misses (default 2000)")
    parser.add_argument("--workers", type=int, default=4,
                        help="load threads signing and submitting (default 4)")
    parser.add_argument("--max-production", type=float, default=3600,
                        help="give up producing after this many seconds (default 3600)")
    parser.add_argument("--max-catchup", type=float, default=1800,
                        help="give up waiting for node5 after this many seconds (default 1800)")
    parser.add_argument("--block-interval-ms", type=int, default=None,
                        help="genesis block_interval_ms (default: the genesis default, 200); a "
                             "lower value produces the long chain faster")
    parser.add_argument("--timeout-propose-ms", type=int, default=None,
                        help="genesis timeout_propose_ms (default 1500); node5's proposer turns "
                             "cost one such timeout each while it is down")
    parser.add_argument("--rewind", action="store_true",
                        help="produce with all five nodes up (no proposer timeouts, several times "
                             "faster on a loaded machine), then stop node5 and restore its store "
                             "as it was at genesis, so that it restarts H blocks behind")
    parser.add_argument("--keep", action="store_true", help="keep the network directory")
    ARGS = parser.parse_args()
    if shutil.which("openssl") is None:
        print("the openssl command-line tool is required", file=sys.stderr)
        return 1
    T0 = time.time()
    top = tempfile.mkdtemp(prefix="colend-catchup-")
    BIN = os.path.join(top, "bin")
    os.makedirs(BIN)
    for name in ("colend", "colend-node"):
        shutil.copy2(os.path.join(ARGS.bin, name), os.path.join(BIN, name))
    DIR = os.path.join(top, "net")
    SNAPSHOT = os.path.join(top, "node5-data-at-genesis")
    sync_net_globals()
    ok = False
    try:
        setup()
        a_stopped, base, produced, produced_s, H = produce(ARGS.blocks)
        note(f"target H = {H} (node1; node{STOPPED} stopped at {a_stopped}); "
             f"restarting node{STOPPED}")
        m = catch_up(H, a_stopped)
        a = m["a_stopped"]          # what node5 had on disk when it stopped
        a_rpc = m["a"]              # its height when its RPC first answered
        n = H - a
        n_rpc = H - a_rpc
        s_proc = m["done"] - m["t_start"]
        s_rpc = m["done"] - m["t_rpc"]
        note(f"node{STOPPED} reached {m['final']['height']} (syncing "
             f"{m['final'].get('syncing')}); `localnet up --node {STOPPED}` exited "
             f"{m['up_rc']}: {m['up_out']}")
        h5 = block(STOPPED, H)["hash"]
        h1 = block(1, H)["hash"]
        same = h5 == h1
        print(f"verify: block {H} hash node{STOPPED} {h5} node1 {h1}: "
              f"{'MATCH' if same else 'MISMATCH'}", flush=True)
        print(f"production: {produced} blocks in {produced_s:.2f} s = "
              f"{produced / produced_s:.2f} blocks/s (node1 from height {base} to "
              f"{base + produced}, {ARGS.workers} load threads)", flush=True)
        print(f"catch-up from RPC first answer: {n_rpc} blocks in {s_rpc:.2f} s = "
              f"{n_rpc / s_rpc if s_rpc > 0 else float('inf'):.2f} blocks/s "
              f"(node{STOPPED} from height {a_rpc} to {H}; RPC answered "
              f"{m['t_rpc'] - m['t_start']:.2f} s after process start)", flush=True)
        print(f"catch-up: {n} blocks in {s_proc:.2f} s = {n / s_proc:.2f} blocks/s "
              f"(node{STOPPED} from height {a} to {H})", flush=True)
        ok = same
        if not same:
            print(f"FAILED: node{STOPPED} and node1 disagree at height {H}", flush=True)
    except (AssertionError, RpcError, Unreachable, subprocess.SubprocessError, OSError) as e:
        print(f"FAILED: {type(e).__name__}: {e}", flush=True)
        for k in (1, STOPPED):
            lines = log_text(k).splitlines()[-20:]
            print(f"--- node{k}/node.log (tail) ---\n" + "\n".join(lines), flush=True)
    finally:
        for k in range(1, N + 1):
            pid = read_pid(k)
            if pid:
                try:
                    os.kill(pid, signal.SIGCONT)
                except OSError:
                    pass
        subprocess.run([os.path.join(BIN, "colend"), "localnet", "down", "--dir", DIR, "--kill"],
                       capture_output=True, timeout=60)
        if ARGS.keep or not ok:
            print(f"network directory kept: {top}", flush=True)
        else:
            shutil.rmtree(top, ignore_errors=True)
    print(f"total {time.time() - T0:.0f} s", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
