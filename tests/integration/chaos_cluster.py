"""The network under chaos_test.py: the run's shared state, JSON-RPC over kept-alive connections,
transactions signed with the openssl CLI, node processes (SIGKILL, SIGSTOP, restart), the
partition test hook, node logs, and the background load and chain follower.

The run state is this module's globals. chaos_test.py's main() and setup() fill them in, and every
other module reads and sets them as chaos_cluster.NAME at call time, never through `from
chaos_cluster import NAME` (that would copy a value rebound later, e.g. ARGS, DIR or HOOKS).
Used by chaos_test.py (the entry point), chaos_faults.py and tests/bench/catchup_bench.py.
"""
import collections
import hashlib
import http.client
import json
import os
import random
import signal
import subprocess
import threading
import time

import netlib
from netlib import anchor_tx_body, colend, expect, home, signed_tx_wire

# Set by chaos_test.py's main().
ARGS = None
DIR = None
BIN = None
N = 5

# Filled in by chaos_test.py's setup().
MEMBER = {}        # k -> member id
NODE_OF = {}       # member id -> k
SORTED_IDS = []    # member ids in genesis order (sorted): the proposer rotation
CHAIN_ID = None
QUORUM = None
RPC_PORT = {}

LOCK = threading.Lock()
STATE = {}         # k -> "up" | "down" | "stopped"
KILLED_AT = collections.defaultdict(list)  # k -> times it was SIGKILLed
FAULTS = []        # descriptions of injected faults
HOOKS = None       # None: unknown yet; True/False once detected
LATENCIES = []     # (what, seconds, round, proposer)
EXPECTED_FATAL = collections.defaultdict(list)  # k -> substrings of FATAL lines a fault expects


class RpcError(Exception):
    def __init__(self, error):
        super().__init__(error.get("message", str(error)))
        self.error = error
        data = error.get("data")
        self.code = data.get("code") if isinstance(data, dict) else str(error.get("code"))


class Unreachable(Exception):
    pass


def note(text):
    print(f"[{time.time() - T0:6.1f}s] {text}", flush=True)


T0 = time.time()

# ---- JSON-RPC over persistent HTTP connections (one set per thread) -------------------------

_local = threading.local()


def rpc(k, method, params=None, timeout=3.0):
    """One JSON-RPC call to node k over a kept-alive connection. Raises RpcError for a JSON-RPC
    error, Unreachable when the node does not answer. Reads are retried once on a fresh connection
    (the server closes idle ones). submit always uses a fresh connection and is never retried, so
    that a failure means the node did not answer, not that a stale connection was closed."""
    conns = getattr(_local, "conns", None)
    if conns is None:
        conns = _local.conns = {}
    if method == "submit" and k in conns:
        conns.pop(k).close()
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method,
                       "params": params if params is not None else {}})
    attempts = 1 if method == "submit" else 2
    for attempt in range(attempts):
        conn = conns.get(k)
        reused = conn is not None
        if conn is None:
            conn = http.client.HTTPConnection("127.0.0.1", RPC_PORT[k], timeout=timeout)
        try:
            if conn.sock is not None:
                conn.sock.settimeout(timeout)
            conn.request("POST", "/", body, {"Content-Type": "application/json"})
            resp = conn.getresponse()
            data = resp.read()
            conns[k] = conn
            reply = json.loads(data)
        except (OSError, http.client.HTTPException, ValueError) as e:
            conn.close()
            conns.pop(k, None)
            if attempt + 1 < attempts and reused:
                continue
            raise Unreachable(f"node{k} {method}: {type(e).__name__}: {e}") from None
        if method == "submit":
            conns.pop(k).close()
        if "error" in reply:
            raise RpcError(reply["error"])
        return reply["result"]
    raise Unreachable(f"node{k} {method}")


def status(k, timeout=2.0):
    return rpc(k, "status", timeout=timeout)


def block(k, h, timeout=5.0):
    return rpc(k, "block", {"height": h}, timeout=timeout)


def height_or_none(k, timeout=1.0):
    try:
        return status(k, timeout)["height"]
    except (RpcError, Unreachable):
        return None


# ---- transactions, signed here with the openssl CLI -----------------------------------------

def sign(k, message: bytes):
    return netlib.openssl_sign(os.path.join(home(k), "signing.key"), message, ARGS.suite)


def tx_body(sender, nonce, name, digest):
    return anchor_tx_body(CHAIN_ID, sender, nonce, digest, name)


# ---- node processes -------------------------------------------------------------------------

read_pid = netlib.node_pid
pid_alive = netlib.pid_alive


def up_nodes():
    with LOCK:
        return [k for k in range(1, N + 1) if STATE[k] == "up"]


def kill_node(k):
    pid = read_pid(k)
    with LOCK:
        STATE[k] = "down"
        KILLED_AT[k].append(time.time())
    if pid:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        deadline = time.time() + 10
        while pid_alive(pid) and time.time() < deadline:
            time.sleep(0.01)
        expect(not pid_alive(pid), f"node{k} (pid {pid}) is gone after SIGKILL")
    try:
        os.remove(os.path.join(home(k), "node.pid"))
    except OSError:
        pass
    return time.time()


def start_node(k):
    p = colend("localnet", "up", "--dir", DIR, "--node", str(k), "--timeout", "30", check=False,
               timeout=90)
    expect(p.returncode == 0, f"node{k} restarted" + ("" if p.returncode == 0 else
                                                      f": {p.stderr.strip()}"))
    with LOCK:
        STATE[k] = "up"


def stop_node(k):
    with LOCK:
        STATE[k] = "stopped"
    os.kill(read_pid(k), signal.SIGSTOP)
    return time.time()


def cont_node(k):
    pid = read_pid(k)
    if pid:
        os.kill(pid, signal.SIGCONT)
    with LOCK:
        STATE[k] = "up"


def check_processes():
    """Every node we did not kill is still alive."""
    for k in range(1, N + 1):
        with LOCK:
            st = STATE[k]
        if st in ("up", "stopped"):
            pid = read_pid(k)
            if not pid or not pid_alive(pid):
                expect(False, f"node{k} (pid {pid}) crashed: it is {st} for the test but gone")


def proposer(height, rnd):
    return NODE_OF[SORTED_IDS[(height + rnd) % N]]


# ---- the partition test hook ----------------------------------------------------------------

def partition_path(k):
    return os.path.join(home(k), "test-partition")


def write_partition(k, lines):
    tmp = partition_path(k) + ".tmp"
    with open(tmp, "w") as f:
        f.write("".join(line + "\n" for line in lines))
    os.replace(tmp, partition_path(k))


def heal_partitions():
    for k in range(1, N + 1):
        try:
            os.remove(partition_path(k))
        except OSError:
            pass


def log_text(k):
    try:
        with open(os.path.join(home(k), "node.log"), errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def count_in_log(k, text):
    return log_text(k).count(text)


def detect_hooks(nodes):
    """After partition files were written to `nodes`: True if the binaries honour them (their logs
    say `test hook`), within 2 s."""
    global HOOKS
    deadline = time.time() + 2.0
    while time.time() < deadline:
        if any(count_in_log(k, "test hook") > 0 for k in nodes):
            HOOKS = True
            return True
        time.sleep(0.1)
    HOOKS = False
    return False


def wait_hook_applied(nodes, before, timeout=3.0):
    """Waits until each of `nodes` logged a new 'test hook: dropping frames' line."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if all(count_in_log(k, "test hook: dropping frames") > before[k] for k in nodes):
            return True
        time.sleep(0.1)
    return False


# ---- background load and chain follower -----------------------------------------------------

class Load:
    """Worker threads submitting fresh signed evidence.anchor transactions to random running
    nodes. A tx is acknowledged when submit answers status pending with the id computed here."""

    def __init__(self, workers, seed):
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.attempted = {}   # id -> k
        self.acked = {}       # id -> (k, time)
        self.outcomes = collections.Counter()
        self.bad = []         # answers that break the RPC contract
        self.threads = [threading.Thread(target=self.worker, args=(i, seed), daemon=True)
                        for i in range(workers)]

    def start(self):
        for t in self.threads:
            t.start()

    def join(self):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=30)

    def worker(self, i, seed):
        rng = random.Random(f"{seed}-load-{i}")
        n = 0
        while not self.stop.is_set():
            candidates = up_nodes()
            if not candidates:
                time.sleep(0.1)
                continue
            k = rng.choice(candidates)
            n += 1
            # A label without a number of 6+ digits (refused as possible personal data at
            # admission, docs/transactions.md §3; "1-123456" counts as one number).
            name = f"chaos-w{i}-tx{n % 100000}"
            digest = hashlib.sha256(f"chaos seed {seed} worker {i} tx {n} {time.time_ns()}"
                                    .encode()).hexdigest()
            body = tx_body(MEMBER[k], rng.getrandbits(63), name, digest)
            txid = hashlib.sha256(body).hexdigest()
            try:
                wire = signed_tx_wire(body, sign(k, body)).hex()
            except (subprocess.SubprocessError, OSError) as e:
                with self.lock:
                    self.outcomes["sign-failed"] += 1
                    self.bad.append(f"openssl failed to sign: {e}")
                continue
            with self.lock:
                self.attempted[txid] = k
            try:
                r = rpc(k, "submit", {"tx": wire}, timeout=3.0)
                with self.lock:
                    if r.get("status") == "pending" and r.get("tx") == txid:
                        self.acked[txid] = (k, time.time())
                        self.outcomes["acknowledged"] += 1
                    else:
                        self.outcomes["bad-answer"] += 1
                        self.bad.append(f"node{k} answered submit of {txid} with {r}")
            except RpcError as e:
                with self.lock:
                    self.outcomes[f"refused:{e.code}"] += 1
            except Unreachable:
                with self.lock:
                    self.outcomes["unreachable"] += 1
            self.stop.wait(rng.uniform(0.05, 0.3))


class Follower(threading.Thread):
    """Follows the chain on random running nodes: records each height's hash (a different hash for
    a height already seen is a fork) and when each tx was first seen committed."""

    def __init__(self):
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.hashes = {}      # height -> (hash, k)
        self.first_seen = {}  # height -> time
        self.seen = {}        # tx id -> (height, time)
        self.forks = []
        self.rng = random.Random()

    def run(self):
        while not self.stop.is_set():
            try:
                self.step()
            except (RpcError, Unreachable):
                pass
            self.stop.wait(0.3)

    def record(self, k, b):
        with self.lock:
            known = self.hashes.get(b["height"])
            if known and known[0] != b["hash"]:
                self.forks.append(f"height {b['height']}: node{known[1]} had {known[0]}, "
                                  f"node{k} has {b['hash']}")
                return
            if not known:
                self.hashes[b["height"]] = (b["hash"], k)
                now = time.time()
                self.first_seen[b["height"]] = now
                for txid in b["txs"]:
                    self.seen.setdefault(txid, (b["height"], now))

    def step(self):
        candidates = up_nodes()
        if not candidates:
            return
        k = self.rng.choice(candidates)
        h = status(k, 1.0)["height"]
        with self.lock:
            top = max(self.hashes, default=0)
        if 0 < min(top, h):
            self.record(k, block(k, min(top, h), 2.0))  # cross-check a known height on this node
        for hh in range(top + 1, h + 1):
            if self.stop.is_set():
                return
            self.record(k, block(k, hh, 2.0))
