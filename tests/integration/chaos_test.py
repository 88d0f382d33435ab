#!/usr/bin/env python3
"""Chaos test over a five-member colend network of real colend-node processes.

While background threads keep submitting signed transactions to random running nodes, faults
chosen from a seeded random sequence are injected one after another, always leaving a majority
(3 of 5) able to make progress (fault matrix: docs/consensus.md §12):
  - kill:          SIGKILL 1 or 2 random nodes, restart them a few seconds later (F1, F3);
  - proposer-kill: SIGKILL the member due to propose the next height, measure how long the others
                   take to commit it (view change), restart it (F2);
  - pause:         SIGSTOP the member due to propose the next height for longer than the consensus
                   timeouts, then SIGCONT (F2);
  - partition:     2 | 3 through the transport's test hook (<home>/test-partition); the 3 side
                   must keep committing and the 2 side must not advance (F5);
  - one-way:       one node silently loses its outbound frames to 1 or 2 peers (F6).
  - wipe-remove, wipe-empty, wipe-restore, wipe-half-init: a member's data is lost while its key
                   is kept (F11): data/ removed; data/ emptied; data/ replaced by a copy taken
                   earlier while the node was stopped (it has signed since); data/ removed and the
                   node killed right after it created a fresh store. Each time the node must say
                   its signing history is unknown, sign nothing until it knows a floor, and
                   then take part again;
  - liar:          a member announces a height of 10^15 (test hook <home>/test-lie-status) while
                   another member is wiped: the others must keep committing, stop believing it,
                   and the wiped member's floor must stay near the real tip;
  - corrupt:       bytes of a stopped member's store files are flipped: it must refuse to start
                   or refuse to serve the damaged blocks (never serve a different block); after
                   the operator moves data/ aside it recovers (F10).
The first five are drawn by default; the others when named with --faults (ctest chaos_recovery
runs each once), or with --faults all.
Partitions need a colend-node built with COLEND_TEST_HOOKS; without the hook they are no-ops
and their checks are skipped (said so in the output).

After the run every fault is healed, load stops, and the test checks:
  - convergence: all five nodes reach the same height, mempools drained, within a bound;
  - agreement and integrity: blocks 1..H are identical on all five nodes (hash, sha256(header),
    prev-hash links, strictly increasing time, >= q distinct endorsers);
  - durability: every acknowledged transaction (submit answered "pending" with its id) is in the
    chain exactly once; no transaction appears twice; nothing unknown appears;
  - no node logged FATAL or crashed (except the corrupt-store stop the corrupt fault expects);
  - no double signature: no node records an equivocation fault for any member.

The fault sequence is drawn from random.Random(--seed); the seed is printed. Timing still varies
from run to run (real processes), so a seed replays the same faults, not the same interleaving.
"""
import argparse
import collections
import hashlib
import http.client
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

import netlib
from netlib import CHECKS, anchor_tx_body, colend, expect, home, signed_tx_wire  # noqa: F401

ARGS = None
DIR = None
BIN = None
N = 5

# Filled in by setup().
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

def read_pid(k):
    try:
        with open(os.path.join(home(k), "node.pid")) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def pid_alive(pid):
    """Running or stopped, not gone and not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2] != "Z"


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


# ---- faults ---------------------------------------------------------------------------------

def max_height(nodes, timeout=1.0):
    hs = [h for h in (height_or_none(k, timeout) for k in nodes) if h is not None]
    return max(hs) if hs else None


def wait_height(nodes, target, timeout):
    """Polls until one of `nodes` is at `target` or above; returns the time it was seen, or None."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for k in nodes:
            h = height_or_none(k, 0.5)
            if h is not None and h >= target:
                return time.time()
        time.sleep(0.05)
    return None


def wait_for_commit(timeout=10.0):
    """Waits for a fresh commit on a running, non-syncing node; returns its new height H (so the
    next height H+1 most likely has not been proposed yet: the proposer waits block_interval)."""
    candidates = up_nodes()
    ref, h0 = None, None
    for k in random.sample(candidates, len(candidates)):
        try:
            s = status(k, 1.0)
        except (RpcError, Unreachable):
            continue
        if not s["syncing"]:
            ref, h0 = k, s["height"]
            break
    if ref is None:
        return None
    deadline = time.time() + timeout
    while time.time() < deadline:
        h = height_or_none(ref, 0.5)
        if h is not None and h > h0:
            # ref may have been the last to hear of it: then the next height is under way already.
            if (max_height([k for k in candidates if k != ref], 0.5) or 0) <= h:
                return h
            h0 = h
        time.sleep(0.02)
    return h0


def require_progress(nodes, above, at_least_s, at_most_s, what):
    """Lets the fault last at least `at_least_s`, and until `nodes` commit beyond height `above`
    (at most `at_most_s`): a majority up must keep committing."""
    t_start = time.time()
    t = wait_height(nodes, above + 1, at_most_s)
    expect(t is not None, f"{what}: nodes {fmt(nodes)} committed beyond height {above}"
           + ("" if t is None else f" ({t - t_start:.1f} s)"))
    rest = at_least_s - (time.time() - t_start)
    if rest > 0:
        time.sleep(rest)


def fmt(nodes):
    return ",".join(f"node{k}" for k in sorted(nodes))


def fault_kill(rng):
    victims = rng.sample(up_nodes(), rng.choice([1, 2]))
    down_for = rng.uniform(2, 6)
    FAULTS.append(f"kill {fmt(victims)}")
    note(f"fault {len(FAULTS)}: SIGKILL {fmt(victims)} for {down_for:.1f} s")
    for k in victims:
        kill_node(k)
    rest = up_nodes()
    require_progress(rest, max_height(rest), down_for, 30, f"with {fmt(victims)} killed")
    for k in victims:
        start_node(k)


def next_proposer_after_commit():
    h = wait_for_commit()
    if h is None:
        return None, None
    return h, proposer(h + 1, 0)


def measure_next_block(victim, h, t0, what):
    """Time from t0 (the victim was taken out) until height h+1 commits elsewhere."""
    others = [k for k in up_nodes() if k != victim]
    t = wait_height(others, h + 1, 30)
    expect(t is not None, f"{what}: height {h + 1} committed without node{victim}")
    latency = t - t0
    b = None
    for k in others:
        try:
            b = block(k, h + 1)
            break
        except (RpcError, Unreachable):
            continue
    rnd = b["certificate_round"] if b else "?"
    prop = b["proposer"] if b else "?"
    escaped = b is not None and b["proposer"] == MEMBER[victim]
    print(f"{what}: next block committed after {latency:.2f} s (height {h + 1}, round {rnd}, "
          f"proposed by {prop}"
          + (f"; node{victim}'s proposal had left before the fault)" if escaped else ")"),
          flush=True)
    if not escaped:
        LATENCIES.append((what, latency, rnd, escaped))
    return latency


def fault_proposer_kill(rng):
    h, victim = next_proposer_after_commit()
    if h is None or STATE[victim] != "up":
        return fault_kill(rng)
    FAULTS.append(f"proposer-kill node{victim}")
    note(f"fault {len(FAULTS)}: SIGKILL node{victim} ({MEMBER[victim]}), proposer of height "
         f"{h + 1} round 0, just after block {h}")
    t0 = kill_node(victim)
    measure_next_block(victim, h, t0, "proposer kill")
    time.sleep(rng.uniform(1, 3))
    start_node(victim)


def fault_pause(rng):
    h, victim = next_proposer_after_commit()
    if h is None or STATE[victim] != "up":
        victim, h = rng.choice(up_nodes()), max_height(up_nodes())
    pause_for = rng.uniform(4, 6)
    FAULTS.append(f"pause node{victim}")
    note(f"fault {len(FAULTS)}: SIGSTOP node{victim} ({MEMBER[victim]}), proposer of height "
         f"{h + 1} round 0, for {pause_for:.1f} s")
    t0 = stop_node(victim)
    try:
        measure_next_block(victim, h, t0, "proposer pause")
        rest = pause_for - (time.time() - t0)
        if rest > 0:
            time.sleep(rest)
    finally:
        cont_node(victim)


def fault_partition(rng):
    minority = rng.sample(range(1, N + 1), 2)
    majority = [k for k in range(1, N + 1) if k not in minority]
    hold = rng.uniform(5, 8)
    FAULTS.append(f"partition {fmt(minority)} | {fmt(majority)}")
    note(f"fault {len(FAULTS)}: partition {fmt(minority)} | {fmt(majority)} for {hold:.1f} s")
    before = {k: count_in_log(k, "test hook: dropping frames") for k in range(1, N + 1)}
    for k in minority:
        write_partition(k, [MEMBER[j] for j in majority])
    for k in majority:
        write_partition(k, [MEMBER[j] for j in minority])
    try:
        if HOOKS is None:
            detect_hooks(range(1, N + 1))
        if not HOOKS:
            print("skip partition checks: node built without test hooks", flush=True)
            time.sleep(min(hold, 2))
            return
        expect(wait_hook_applied(range(1, N + 1), before),
               "every node logged that it applies its partition file")
        time.sleep(1.0)  # frames already in flight settle
        h_min = max_height(minority)
        h_maj = max_height(majority)
        require_progress(majority, h_maj, hold, 30, "partition: the 3 side")
        # A lagging node of the 2 side may still sync from the other one, but the 2 side as a
        # whole can commit nothing new.
        h_min_after = max_height(minority)
        expect(h_min_after == h_min,
               f"partition: the 2 side did not advance (at {h_min}, then {h_min_after}; the 3 "
               f"side went from {h_maj} to {max_height(majority)})")
    finally:
        heal_partitions()


def fault_oneway(rng):
    src = rng.choice(range(1, N + 1))
    dst = rng.sample([k for k in range(1, N + 1) if k != src], rng.choice([1, 2]))
    hold = rng.uniform(3, 6)
    FAULTS.append(f"one-way node{src} -> {fmt(dst)}")
    note(f"fault {len(FAULTS)}: node{src} loses its frames to {fmt(dst)} for {hold:.1f} s")
    before = {k: count_in_log(k, "test hook: dropping frames") for k in range(1, N + 1)}
    write_partition(src, [f"out {MEMBER[j]}" for j in dst])
    try:
        if HOOKS is None:
            detect_hooks([src])
        if not HOOKS:
            print("skip partition checks: node built without test hooks", flush=True)
            time.sleep(min(hold, 2))
            return
        expect(wait_hook_applied([src], before), f"node{src} logged that it applies the file")
        nodes = up_nodes()
        require_progress(nodes, max_height(nodes), hold, 30, "one-way link loss")
    finally:
        heal_partitions()


# ---- unknown signing history (F11), lying members, corrupt stores -----------------------------

def data_dir(k):
    return os.path.join(home(k), "data")


def recovery_lines(k):
    return count_in_log(k, "signing history unknown")


def expect_recovery(k, before, how):
    """node k says its history is unknown, then recovers and signs again."""
    expect(recovery_lines(k) > before,
           f"{how}: node{k} says its signing history is unknown at start")
    deadline = time.time() + 40
    signing = None
    while time.time() < deadline:
        try:
            signing = status(k, 2.0)["consensus"]["signing"]
        except (RpcError, Unreachable):
            signing = None
        if signing == "yes" or (isinstance(signing, str) and signing.startswith("from height")):
            break
        time.sleep(0.5)
    expect(signing is not None and not str(signing).startswith("recovering"),
           f"{how}: node{k} knows its signing floor again within 40 s (signing: {signing})")
    s = status(k, 2.0)
    floor = s["consensus"]["sign_floor"]
    expect(floor <= s["height"] + 4,
           f"{how}: node{k}'s signing floor {floor} is near its tip {s['height']}, not a forged "
           "height")
    # It takes part again once the others have committed up to its floor. Until then it counts
    # as down: the next fault waits, so that no more than N - q members sign nothing at once (more
    # would halt the chain by design, docs/consensus.md §10).
    deadline = time.time() + 30
    while time.time() < deadline and max_height(up_nodes()) < floor:
        time.sleep(0.2)
    expect(max_height(up_nodes()) >= floor,
           f"{how}: the chain reaches node{k}'s floor {floor}, so it signs again")


def wipe(k, how, rng):
    before = recovery_lines(k)
    kill_node(k)
    d = data_dir(k)
    if how == "wipe-remove":
        shutil.rmtree(d)
    elif how == "wipe-empty":
        for name in os.listdir(d):
            path = os.path.join(d, name)
            shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)
    elif how == "wipe-restore":
        backup = os.path.join(os.path.dirname(DIR), f"backup-node{k}")
        shutil.rmtree(backup, ignore_errors=True)
        shutil.copytree(d, backup)  # a consistent copy: the node is stopped
        start_node(k)
        # It signs on for a while, then its data is replaced by the older copy.
        top = max_height(up_nodes())
        expect(wait_height([k], top + 4, 30) is not None,
               f"{how}: node{k} commits 4 more blocks after the copy was taken")
        time.sleep(rng.uniform(0.5, 1.5))
        before = recovery_lines(k)
        kill_node(k)
        shutil.rmtree(d)
        shutil.copytree(backup, d)
    elif how == "wipe-half-init":
        shutil.rmtree(d)
        # Start it and kill it as soon as the fresh store exists, before anything else can happen.
        p = subprocess.Popen([os.path.join(BIN, "colend-node"), "--home", home(k)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while not os.path.exists(os.path.join(d, "CURRENT")) and time.time() < deadline:
            time.sleep(0.005)
        p.kill()
        p.wait()
        expect(os.path.exists(os.path.join(d, "CURRENT")),
               f"{how}: node{k} created a fresh store before it was killed")
        before = recovery_lines(k)
    start_node(k)
    return before


def fault_wipe(kind):
    def run(rng):
        victim = rng.choice(up_nodes())
        FAULTS.append(f"{kind} node{victim}")
        note(f"fault {len(FAULTS)}: {kind} on node{victim} ({MEMBER[victim]}), key kept")
        before = wipe(victim, kind, rng)
        expect_recovery(victim, before, kind)
    return run


def fault_liar(rng):
    liar, victim = rng.sample(up_nodes(), 2)
    FAULTS.append(f"liar node{liar} + wipe-remove node{victim}")
    note(f"fault {len(FAULTS)}: node{liar} announces height 10^15; node{victim} is wiped meanwhile")
    lie_path = os.path.join(home(liar), "test-lie-status")
    with open(lie_path, "w") as f:
        f.write("1000000000000000")
    try:
        if HOOKS:
            rest = [k for k in up_nodes() if k != liar]
            require_progress(rest, max_height(rest), 3, 30, f"with node{liar} lying")
        before = wipe(victim, "wipe-remove", rng)
        expect_recovery(victim, before, f"wipe with node{liar} lying")
        if HOOKS:
            time.sleep(3)
            believed = {k: status(k)["best_peer_height"] for k in up_nodes() if k != liar}
            expect(all(h < 10**15 for h in believed.values()),
                   f"no node believes node{liar}'s height after it served nothing: {believed}")
    finally:
        os.remove(lie_path)


def fault_corrupt(rng):
    victim = rng.choice(up_nodes())
    FAULTS.append(f"corrupt node{victim}")
    note(f"fault {len(FAULTS)}: bytes flipped in node{victim}'s store files while it is stopped")
    kill_node(victim)
    d = data_dir(victim)
    flipped = 0
    for name in sorted(os.listdir(d)):
        if not (name.endswith(".ldb") or name.endswith(".log")):
            continue
        path = os.path.join(d, name)
        size = os.path.getsize(path)
        if size < 256:
            continue
        with open(path, "r+b") as f:
            for at in range(128, size - 64, max(97, size // 64)):
                f.seek(at)
                b = f.read(1)
                f.seek(at)
                f.write(bytes([b[0] ^ 0x5A]))
                flipped += 1
    EXPECTED_FATAL[victim].append("corrupt-store")
    p = colend("localnet", "up", "--dir", DIR, "--node", str(victim), "--timeout", "10",
               check=False, timeout=60)
    if p.returncode == 0:
        with LOCK:
            STATE[victim] = "up"
        # Started (the damage missed what start-up reads): what it serves is right or refused.
        reference = [k for k in up_nodes() if k != victim][0]
        top = max_height([reference])
        wrong = []
        for h in range(1, min(top, 60) + 1):
            try:
                mine = block(victim, h, 3.0)
            except (RpcError, Unreachable):
                continue  # refused (or the node stopped): never served
            if mine["hash"] != block(reference, h)["hash"]:
                wrong.append(h)
        expect(not wrong, f"corrupt: node{victim} never serves a block other than the chain's "
               f"({flipped} bytes flipped; wrong at {wrong[:5]})")
        kill_node(victim)
    else:
        expect("corrupt" in log_text(victim).lower(),
               f"corrupt: node{victim} refuses to start and names the damage "
               f"({flipped} bytes flipped)")
        with LOCK:
            STATE[victim] = "down"
    # The operator's remedy (docs/operations.md): move data/ aside, start; it recovers.
    shutil.move(d, d + f".damaged-{len(FAULTS)}")
    before = recovery_lines(victim)
    start_node(victim)
    expect_recovery(victim, before, "corrupt store moved aside")


CLASSIC_FAULTS = ("kill", "proposer-kill", "pause", "partition", "one-way")
FAULT_KINDS = {"kill": fault_kill, "proposer-kill": fault_proposer_kill, "pause": fault_pause,
               "partition": fault_partition, "one-way": fault_oneway,
               "wipe-remove": fault_wipe("wipe-remove"), "wipe-empty": fault_wipe("wipe-empty"),
               "wipe-restore": fault_wipe("wipe-restore"),
               "wipe-half-init": fault_wipe("wipe-half-init"), "liar": fault_liar,
               "corrupt": fault_corrupt}


# ---- end-of-run checks ----------------------------------------------------------------------

def heal_all():
    heal_partitions()
    for k in range(1, N + 1):
        with LOCK:
            st = STATE[k]
        if st == "stopped":
            cont_node(k)
    for k in range(1, N + 1):
        with LOCK:
            st = STATE[k]
        if st == "down":
            start_node(k)


def converge(timeout_s):
    """All five at the same height with empty mempools, twice in a row."""
    t0 = time.time()
    deadline = t0 + timeout_s
    stable = 0
    last = None
    while time.time() < deadline:
        try:
            last = {k: status(k, 2.0) for k in range(1, N + 1)}
        except (RpcError, Unreachable) as e:
            last = None
            stable = 0
            time.sleep(0.5)
            continue
        heights = {s["height"] for s in last.values()}
        pending = sum(s["mempool_size"] for s in last.values())
        stable = stable + 1 if len(heights) == 1 and pending == 0 else 0
        if stable >= 2:
            return last[1]["height"], time.time() - t0
        time.sleep(0.5)
    detail = ("; ".join(f"node{k} height {s['height']} mempool {s['mempool_size']} round "
                        f"{s['consensus']['round']} peers {len(s['peers'])}"
                        for k, s in last.items()) if last else "not all nodes answer")
    expect(False, f"all nodes converge within {timeout_s} s: {detail}")


def scan_chain(height):
    """Blocks 1..height from every node; returns (chain of node1's blocks, list of problems)."""
    problems = []
    chain = {}
    for h in range(1, height + 1):
        blocks = {}
        for k in range(1, N + 1):
            try:
                blocks[k] = block(k, h)
            except (RpcError, Unreachable) as e:
                problems.append(f"node{k} cannot serve block {h}: {e}")
        hashes = {k: b["hash"] for k, b in blocks.items()}
        if len(set(hashes.values())) > 1:
            problems.append(f"FORK at height {h}: {hashes}")
        b = blocks.get(1) or next(iter(blocks.values()), None)
        if b is None:
            continue
        chain[h] = b
        if hashlib.sha256(b["header"].encode()).hexdigest() != b["hash"]:
            problems.append(f"block {h}: sha256(header) is not the block hash")
        members = [e["member"] for e in b["endorsements"]]
        if len(set(members)) != len(members) or len(members) < QUORUM or \
                not set(members) <= set(SORTED_IDS):
            problems.append(f"block {h}: endorsements {members} are not >= {QUORUM} distinct "
                            "members")
        if h > 1 and h - 1 in chain:
            prev = chain[h - 1]
            if b["prev_hash"] != prev["hash"]:
                problems.append(f"block {h}: prev hash {b['prev_hash']} is not block {h - 1}'s "
                                f"hash {prev['hash']}")
            if b["timestamp"] <= prev["timestamp"]:
                problems.append(f"block {h}: time {b['timestamp']} does not increase")
        if "unreadable" in b["txs"]:
            problems.append(f"block {h}: holds an unreadable transaction")
    return chain, problems


def scan_logs():
    bad = []
    for k in range(1, N + 1):
        for line in log_text(k).splitlines():
            if any(m in line for m in ("FATAL", "terminate called", "Assertion", "Sanitizer",
                                       "Segmentation fault", "runtime error:")):
                if "FATAL" in line and any(e in line for e in EXPECTED_FATAL[k]):
                    continue  # the stop a fault provoked on purpose (corrupt store)
                bad.append(f"node{k}: {line.strip()}")
    return bad


def final_checks(load, follower):
    note("healing every fault, load off")
    load.join()
    heal_all()
    check_processes()
    height, took = converge(60)
    follower.stop.set()
    follower.join(timeout=10)
    expect(True, f"all 5 nodes at height {height} with empty mempools after {took:.1f} s")

    t = time.time()
    chain, problems = scan_chain(height)
    expect(not problems, f"blocks 1..{height} identical on all 5 nodes; hashes, links, times, "
           f"certificates consistent ({time.time() - t:.1f} s)"
           + "".join(f"\n         {p}" for p in problems[:20]), fatal=False)
    with follower.lock:
        forks = list(follower.forks)
        seen = dict(follower.seen)
        for h, (hsh, k) in follower.hashes.items():
            if h in chain and chain[h]["hash"] != hsh:
                forks.append(f"height {h}: node{k} served {hsh} during the run, "
                             f"now {chain[h]['hash']}")
    expect(not forks, "no node served a conflicting block during the run"
           + "".join(f"\n         {f}" for f in forks[:20]), fatal=False)

    where = collections.defaultdict(list)
    for h, b in chain.items():
        for txid in b["txs"]:
            where[txid].append(h)
    with load.lock:
        acked = dict(load.acked)
        attempted = dict(load.attempted)
        outcomes = dict(load.outcomes)
        bad_answers = list(load.bad)
    duplicated = {txid: hs for txid, hs in where.items() if len(hs) > 1}
    unknown = [txid for txid in where if txid not in attempted]
    lost_with_node, missing = [], []
    for txid, (k, t_ack) in acked.items():
        if txid in where:
            continue
        if txid not in seen and any(t > t_ack for t in KILLED_AT[k]):
            lost_with_node.append((txid, k))  # "pending" in a killed node's memory only
        else:
            missing.append((txid, k))
    print(f"load: {len(attempted)} submitted, outcomes {outcomes}", flush=True)
    expect(not bad_answers, "every submit answer names the tx id computed here"
           + "".join(f"\n         {b}" for b in bad_answers[:10]), fatal=False)
    expect(len(acked) > 0, f"{len(acked)} transactions acknowledged", fatal=False)
    committed_acked = sum(1 for txid in acked if txid in where)
    expect(not missing, f"every acknowledged tx is committed ({committed_acked} of {len(acked)}"
           + (f"; {len(lost_with_node)} acknowledged as pending by a node SIGKILLed before they "
              "committed: not in the chain" if lost_with_node else "") + ")"
           + "".join(f"\n         {txid} acknowledged by node{k}"
                     + (", seen committed during the run" if txid in seen else "")
                     for txid, k in missing[:20]), fatal=False)
    for txid, k in lost_with_node[:10]:
        print(f"  note {txid} (acknowledged by node{k}, which was then killed) is not in the "
              "chain", flush=True)
    expect(not duplicated, "no transaction is committed twice"
           + "".join(f"\n         {txid} at heights {hs}" for txid, hs in
                     list(duplicated.items())[:20]), fatal=False)
    expect(not unknown, f"every tx in the chain ({len(where)}) was submitted by this test"
           + "".join(f"\n         {txid}" for txid in unknown[:10]), fatal=False)

    sample = random.Random(0).sample(sorted(set(acked) & set(where)),
                                     min(10, len(set(acked) & set(where))))
    wrong = []
    for txid in sample:
        for k in range(1, N + 1):
            try:
                r = rpc(k, "tx", {"id": txid})
            except (RpcError, Unreachable) as e:
                wrong.append(f"node{k} tx {txid}: {e}")
                continue
            if r.get("status") != "committed" or r.get("height") != where[txid][0] or \
                    not r.get("accepted"):
                wrong.append(f"node{k} tx {txid}: {r}")
    expect(not wrong, f"tx RPC on every node agrees for {len(sample)} sampled txs"
           + "".join(f"\n         {w}" for w in wrong[:10]), fatal=False)

    faults = []
    for k in range(1, N + 1):
        try:
            faults += [f"node{k} records {f}" for f in rpc(k, "faults")["faults"]]
        except (RpcError, Unreachable) as e:
            faults.append(f"node{k}: faults RPC failed: {e}")
    expect(not faults, "no double signature: no node records an equivocation"
           + "".join(f"\n         {f}" for f in faults[:10]), fatal=False)

    bad_lines = scan_logs()
    expect(not bad_lines, "no FATAL, abort or crash in any node log"
           + "".join(f"\n         {line}" for line in bad_lines[:20]), fatal=False)
    check_processes()

    lat = [seen[t][1] - acked[t][1] for t in acked if t in seen]
    if lat:
        lat.sort()
        print(f"acknowledged -> seen committed: median {lat[len(lat) // 2]:.2f} s, "
              f"max {lat[-1]:.2f} s (polled every 0.3 s)", flush=True)
    with follower.lock:
        times = sorted(follower.first_seen.items())
    gaps = [(t2 - t1, h2) for (h1, t1), (h2, t2) in zip(times, times[1:])]
    if gaps:
        gap, h = max(gaps)
        print(f"longest wait for the next block under load: {gap:.2f} s (before height {h})",
              flush=True)
    if LATENCIES:
        print("next block after the proposer was taken out: " + ", ".join(
            f"{what.split()[1]} {t:.2f} s (round {rnd})" for what, t, rnd, _ in LATENCIES),
            flush=True)
    print(f"chaos: {len(FAULTS)} faults, {height} blocks, {len(acked)} acknowledged txs, "
          f"{len(missing)} missing, {len(duplicated)} duplicated"
          + (f", {len(lost_with_node)} lost with a killed node's mempool" if lost_with_node
             else ""), flush=True)
    if CHECKS["failed"]:
        raise AssertionError(f"{CHECKS['failed']} invariant checks failed")


# ---- scenario -------------------------------------------------------------------------------

def setup():
    global CHAIN_ID, QUORUM
    colend("localnet", "init", "--dir", DIR, "--nodes", str(N), "--suite", ARGS.suite)
    with open(os.path.join(DIR, "genesis.json")) as f:
        genesis = json.load(f)
    CHAIN_ID = genesis["chain_id"]
    for k in range(1, N + 1):
        with open(os.path.join(home(k), "config.json")) as f:
            config = json.load(f)
        MEMBER[k] = config["member_id"]
        NODE_OF[config["member_id"]] = k
        RPC_PORT[k] = config["rpc_port"]
    SORTED_IDS[:] = sorted(MEMBER.values())
    colend("localnet", "up", "--dir", DIR)
    for k in range(1, N + 1):
        STATE[k] = "up"
    s = status(1)
    QUORUM = s["quorum"]
    expect(s["members"] == N and len(s["peers"]) == N - 1,
           f"{N} nodes up on chain {CHAIN_ID}, quorum {QUORUM} ({s['quorum_rule']}); "
           f"proposer rotation {SORTED_IDS}")
    hooked = [k for k in range(1, N + 1) if "test hook" in log_text(k)]
    if hooked:
        global HOOKS
        HOOKS = True
        print("nodes built with test hooks: partitions take effect", flush=True)


def scenario(rng):
    setup()
    load = Load(workers=2, seed=ARGS.seed)
    follower = Follower()
    load.start()
    follower.start()
    try:
        run_faults(rng, load)
        final_checks(load, follower)
    finally:
        load.stop.set()
        follower.stop.set()


def run_faults(rng, load):
    time.sleep(2)
    start = time.time()
    end = start + ARGS.duration
    # Every kind once (in a seeded order), then seeded random picks.
    # By default the faults after which the majority must keep committing; the faults that leave a
    # member's signing history unknown (it then signs nothing for a few heights, so a partition
    # drawn right after one may halt a side by design) run when named (ctest chaos_recovery), or
    # with --faults all.
    if ARGS.faults == "all":
        kinds = list(FAULT_KINDS)
    elif ARGS.faults:
        kinds = ARGS.faults.split(",")
    else:
        kinds = list(CLASSIC_FAULTS)
    unknown = [k for k in kinds if k not in FAULT_KINDS]
    if unknown:
        raise SystemExit(f"unknown fault kinds {unknown}; known: {', '.join(FAULT_KINDS)}")
    plan = list(kinds)
    rng.shuffle(plan)
    while time.time() + 8 < end or (ARGS.faults and plan):
        planned = bool(plan)
        kind = plan.pop(0) if planned else rng.choice(kinds)
        if HOOKS is False and kind in ("partition", "one-way") and not planned:
            kind = rng.choice([k for k in kinds if k not in ("partition", "one-way")] or ["kill"])
        FAULT_KINDS[kind](rng)
        check_processes()
        with load.lock:
            acked = len(load.acked)
        note(f"healed; height {max_height(up_nodes())}, {acked} txs acknowledged so far")
        time.sleep(rng.uniform(1, 3))


def teardown():
    heal_partitions()
    for k in range(1, N + 1):
        pid = read_pid(k)
        if pid:
            try:
                os.kill(pid, signal.SIGCONT)
            except OSError:
                pass
    subprocess.run([os.path.join(BIN, "colend"), "localnet", "down", "--dir", DIR, "--kill"],
                   capture_output=True, timeout=60)


def main():
    global ARGS, DIR, BIN, T0
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin", required=True, help="directory with colend and colend-node")
    parser.add_argument("--duration", type=float, default=90,
                        help="seconds of load and faults (default 90, the CI short form)")
    parser.add_argument("--seed", type=int, default=None, help="seed of the fault sequence")
    parser.add_argument("--suite", default="std", choices=["std", "sm"])
    parser.add_argument("--keep", action="store_true", help="keep the network directory")
    parser.add_argument("--faults", default=None,
                        help="comma-separated fault kinds to draw from, or 'all' (default: kill, "
                             "proposer-kill, pause, partition, one-way)")
    ARGS = parser.parse_args()
    if ARGS.seed is None:
        ARGS.seed = int.from_bytes(os.urandom(4), "big")
    if shutil.which("openssl") is None:
        print("the openssl command-line tool is required", file=sys.stderr)
        return 1
    T0 = time.time()
    print(f"chaos: seed {ARGS.seed} (replay the fault sequence with --seed {ARGS.seed}), "
          f"suite {ARGS.suite}, duration {ARGS.duration:g} s", flush=True)
    rng = random.Random(ARGS.seed)
    DIR = tempfile.mkdtemp(prefix=f"colend-chaos-{ARGS.suite}-")
    # Private copies of the binaries: a rebuild of --bin during the run cannot mix versions.
    BIN = os.path.join(DIR, "bin")
    os.makedirs(BIN)
    for name in ("colend", "colend-node"):
        shutil.copy2(os.path.join(ARGS.bin, name), os.path.join(BIN, name))
    DIR_NET = os.path.join(DIR, "net")
    DIR = DIR_NET
    netlib.configure(BIN, DIR)
    ok = False
    try:
        scenario(rng)
        ok = True
    except AssertionError as e:
        print(f"FAILED (seed {ARGS.seed}): {e}", flush=True)
        for k in range(1, N + 1):
            lines = log_text(k).splitlines()[-20:]
            print(f"--- node{k}/node.log (tail) ---\n" + "\n".join(lines), flush=True)
    finally:
        teardown()
        top = os.path.dirname(DIR)
        if ok and not ARGS.keep:
            shutil.rmtree(top, ignore_errors=True)
        else:
            print(f"network directory kept: {top}", flush=True)
    print(f"{CHECKS['passed']} passed, {CHECKS['failed']} failed "
          f"({time.time() - T0:.0f} s, seed {ARGS.seed})", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
