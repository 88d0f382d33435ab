#!/usr/bin/env python3
"""Issue 13's attacks, each scripted over five real colend-node processes (suite std, majority).

Acceptance: each attack leaves every node serving and the chain committing within seconds of the
attack starting (not after it stops), and the nodes' memory below a bound; the peak RSS of every
node is printed. Cases, in this order (--only NAME,... picks some):

  rpc-nesting       a JSON-RPC body whose params nest 100,000 arrays (200 KB), and one nesting
                    100,000 objects: node1 answers a JSON-RPC error and keeps serving.
  tx-flood          lead-bank submits 600 signed transactions of ~60 KB (evidence.anchor padded
                    with unknown fields pad-NN) to node1 from two threads. credit-bureau's small
                    transaction, sent to node4 a third of the way in, and payee-bank's, sent to
                    node3 when the last submission returns, must each commit within COMMIT_S_MAX.
                    Every submission must be answered: accepted, or refused with a named error
                    (sender-quota, mempool-full, invalid-field, ...). No committed block may carry
                    more than kBlockBytesMax (8 MiB) of the flood.
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
                    transaction must commit. The size of one answer is measured and printed: after
                    tx-flood's blocks were committed it is about 19 MB; if tx-flood did not run or
                    its transactions were refused, the blocks and the answers are small.
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
import collections
import hashlib
import http.client
import json
import os
import random
import selectors
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback

import netlib
from netlib import CHECKS, colend, expect, home, signed_tx_wire

N = 5
STATUS_S_MAX = 2.0      # an attacked node must answer status within this
COMMIT_S_MAX = 10.0     # a small honest transaction must commit within this
RECONNECT_S_MAX = 3.0   # a restarted node must be connected to every peer within this
HOLD_S = 8.0            # an attack is held at least this long while the nodes are probed
SLOW_PEER_S = 10.0      # slow-peer: how long block requests are sent ...
SLOW_PEER_INTERVAL_S = 0.01  # ... and how often (the node's own budget, if any, is 50/s)
BLOCK_BYTES_MAX = 8 << 20  # node/ledger.h kBlockBytesMax

ARGS = None
DIR = None
BIN = None
T0 = time.monotonic()
MEMBER = {}    # k -> member id
RPC_PORT = {}
P2P_PORT = {}
SIGNER = {}    # k -> netlib.P256Signer
CHAIN_ID = None
GENESIS_HEX = None
RESTARTED = {}  # k -> case that restarted it (its VmHWM covers only the time since)


def note(text):
    print(f"[{time.monotonic() - T0:6.1f}s] {text}", flush=True)


# ---- JSON-RPC, one fresh connection per call -------------------------------------------------

class RpcError(Exception):
    def __init__(self, error):
        super().__init__(error.get("message", str(error)))
        self.error = error
        data = error.get("data")
        self.code = data.get("code") if isinstance(data, dict) else f"rpc-{error.get('code')}"


class Unreachable(Exception):
    pass


def post(k, body: bytes, timeout=5.0):
    """(HTTP status, decoded JSON reply); Unreachable if node k does not answer in time."""
    conn = http.client.HTTPConnection("127.0.0.1", RPC_PORT[k], timeout=timeout)
    try:
        conn.request("POST", "/", body, {"Content-Type": "application/json"})
        resp = conn.getresponse()
        data = resp.read()
    except (OSError, http.client.HTTPException) as e:
        raise Unreachable(f"node{k}: {type(e).__name__}: {e}") from None
    finally:
        conn.close()
    try:
        return resp.status, json.loads(data)
    except ValueError:
        raise Unreachable(f"node{k}: HTTP {resp.status}, not JSON: {data[:80]!r}") from None


def call(k, method, params=None, timeout=5.0):
    _, reply = post(k, json.dumps({"jsonrpc": "2.0", "id": 1, "method": method,
                                   "params": params if params is not None else {}}).encode(),
                    timeout)
    if "error" in reply:
        raise RpcError(reply["error"])
    return reply["result"]


def timed_status(k, timeout=5.0):
    """(seconds, status or None, error or None)."""
    t = time.monotonic()
    try:
        s = call(k, "status", timeout=timeout)
        return time.monotonic() - t, s, None
    except (RpcError, Unreachable) as e:
        return time.monotonic() - t, None, e


def status_or_none(k, timeout=2.0):
    return timed_status(k, timeout)[1]


class Prober(threading.Thread):
    """Asks every running node for status every 0.5 s (in parallel) while an attack runs."""

    def __init__(self, nodes):
        super().__init__(daemon=True)
        self.nodes = list(nodes)
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.samples = collections.defaultdict(list)  # k -> [(seconds, error or None)]
        self.retries = collections.defaultdict(int)  # k -> probes answered on a second try

    def probe(self, k):
        # A client may retry once when the node closes its brand-new connection before reading
        # it: under a flood from the same address that re-opens whatever is closed, a newcomer
        # that arrives while every fresh-connection slot is in its grace period is refused
        # (docs/operations.md). The time counted is the whole, retry included.
        t = time.monotonic()
        seconds, _, error = timed_status(k, timeout=STATUS_S_MAX + 3)
        if error is not None and any(w in str(error) for w in
                                     ("Broken pipe", "RemoteDisconnected", "reset by peer")):
            with self.lock:
                self.retries[k] += 1
            _, _, error = timed_status(k, timeout=STATUS_S_MAX + 3)
            seconds = time.monotonic() - t
        with self.lock:
            self.samples[k].append((seconds, error))

    def run(self):
        while not self.stop.is_set():
            threads = [threading.Thread(target=self.probe, args=(k,), daemon=True)
                       for k in self.nodes if node_alive(k)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            self.stop.wait(0.5)

    def finish(self):
        self.stop.set()
        self.join(timeout=10)

    def check(self, case, nodes=None):
        """One check per node: every probe answered within STATUS_S_MAX."""
        for k in nodes or self.nodes:
            with self.lock:
                samples = list(self.samples[k])
            failed = [(s, e) for s, e in samples if e is not None]
            slowest = max((s for s, _ in samples), default=0.0)
            late = [s for s, e in samples if e is None and s > STATUS_S_MAX]
            detail = f"{len(samples)} status probes, slowest {slowest:.2f} s"
            if self.retries[k]:
                detail += f", {self.retries[k]} answered on a retry"
            if failed:
                seconds, error = failed[0]
                detail += f", {len(failed)} failed (first: {error} after {seconds:.2f} s)"
            expect(samples and not failed and not late,
                   f"{case}: node{k} served status within {STATUS_S_MAX:g} s during the attack: "
                   f"{detail}", fatal=False)


# ---- transactions ------------------------------------------------------------------------------

def tx_body(sender, fields):
    text = (f"colend-tx/v1\nchain-id: {CHAIN_ID}\nsender: {sender}\n"
            f"nonce: {random.getrandbits(62) + 1}\ntimestamp-ms: {int(time.time() * 1000)}\n"
            f"type: evidence.anchor\n")
    for key in sorted(fields):
        text += f"{key}: {fields[key]}\n"
    return text.encode()


def signed_anchor(k, name, padding_bytes=0):
    """(tx id, wire) of an evidence.anchor by node k's member; padding_bytes of extra fields
    pad-00, pad-01, ... (4000 bytes each; values may not exceed 4096) that no contract knows.
    name must be a valid document-name: [A-Za-z0-9._-], at most 64 bytes, no long digit runs."""
    fields = {"document-name": name, "document-sha256": hashlib.sha256(os.urandom(32)).hexdigest()}
    i = 0
    while padding_bytes > 0:
        fields[f"pad-{i:02d}"] = "x" * min(4000, padding_bytes)
        padding_bytes -= 4000
        i += 1
    body = tx_body(MEMBER[k], fields)
    return hashlib.sha256(body).hexdigest(), signed_tx_wire(body, SIGNER[k].sign(body))


def wait_committed(k, txid, t0, limit_s):
    """Seconds from t0 until node k reports txid committed, or None within limit_s."""
    while time.monotonic() - t0 < limit_s:
        try:
            if call(k, "tx", {"id": txid}, timeout=2.0)["status"] == "committed":
                return time.monotonic() - t0
        except (RpcError, Unreachable):
            pass
        time.sleep(0.1)
    return None


class HonestTx(threading.Thread):
    """A small transaction by node k's member, submitted to node k; records how long it took to
    commit (waiting up to 1.5 x COMMIT_S_MAX so that a late commit is measured, not just missed)."""

    def __init__(self, k, label):
        super().__init__(daemon=True)
        self.k, self.label = k, label
        self.seconds = None
        self.error = None

    def run(self):
        # document-name: a short label without long digit runs (a schema may screen for numbers).
        tag = "".join(random.choices("abcdefghjkmnpqrstuvwxyz", k=10))
        txid, wire = signed_anchor(self.k, f"{self.label}-{tag}")
        t0 = time.monotonic()
        try:
            r = call(self.k, "submit", {"tx": wire.hex()}, timeout=COMMIT_S_MAX)
            if r.get("tx") != txid:
                self.error = f"submit answered {r}"
                return
        except (RpcError, Unreachable) as e:
            self.error = f"submit to node{self.k} failed after {time.monotonic() - t0:.2f} s: {e}"
            return
        self.seconds = wait_committed(self.k, txid, t0, COMMIT_S_MAX * 1.5)
        if self.seconds is None:
            self.error = f"not committed {COMMIT_S_MAX * 1.5:g} s after submission"

    def check(self, case):
        self.join(timeout=COMMIT_S_MAX * 2 + 10)
        what = f"{case}: a small transaction by {MEMBER[self.k]} sent to node{self.k} committed"
        if self.seconds is not None:
            expect(self.seconds <= COMMIT_S_MAX,
                   f"{what} in {self.seconds:.2f} s (bound {COMMIT_S_MAX:g} s)", fatal=False)
        else:
            expect(False, f"{what} within {COMMIT_S_MAX:g} s: {self.error}", fatal=False)


# ---- node processes ----------------------------------------------------------------------------

def node_pid(k):
    try:
        with open(os.path.join(home(k), "node.pid")) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def node_alive(k):
    pid = node_pid(k)
    if not pid:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2] != "Z"


def memory_kib(k):
    """{'VmRSS': kB, 'VmHWM': kB} of node k's process, or {}."""
    pid = node_pid(k)
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    out[key] = int(value.split()[0])
    except (OSError, TypeError, ValueError):
        pass
    return out


def mib(kib):
    return kib / 1024.0


def memory_line():
    parts = []
    for k in range(1, N + 1):
        m = memory_kib(k)
        parts.append(f"node{k} {mib(m['VmRSS']):.0f} MiB (peak {mib(m['VmHWM']):.0f})"
                     if m else f"node{k} down")
    return "RSS: " + ", ".join(parts)


def kill_node(k):
    pid = node_pid(k)
    if pid:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + 10
        while node_alive(k) and time.monotonic() < deadline:
            time.sleep(0.01)
    try:
        os.remove(os.path.join(home(k), "node.pid"))
    except OSError:
        pass


def start_node(k, case):
    p = colend("localnet", "up", "--dir", DIR, "--node", str(k), "--timeout", "30", check=False,
               timeout=60)
    RESTARTED[k] = case
    if p.returncode != 0:
        raise AssertionError(f"node{k} did not start: {p.stderr.strip()}")


def recover(after):
    """Restarts stopped nodes and waits until every node answers with its four peers connected
    and the heights agree; raises if the network does not come back (the run stops there)."""
    for k in range(1, N + 1):
        if not node_alive(k):
            note(f"node{k} is not running after {after}: starting it")
            start_node(k, after)
    deadline = time.monotonic() + 60
    while True:
        st = {k: status_or_none(k) for k in range(1, N + 1)}
        ok = all(s is not None and len(s["peers"]) == N - 1 for s in st.values())
        heights = {s["height"] for s in st.values() if s}
        if ok and max(heights) - min(heights) <= 1:
            break
        if time.monotonic() > deadline:
            summary = {k: (s["height"], len(s["peers"])) if s else None for k, s in st.items()}
            raise AssertionError(f"the network did not recover within 60 s after {after}: "
                                 f"node -> (height, peers) {summary}")
        time.sleep(0.3)
    note(f"network healthy after {after}: height {max(heights)}, every node has {N - 1} peers; "
         + memory_line())


# ---- connection floods -------------------------------------------------------------------------

class ConnFlood(threading.Thread):
    """per_target TCP connections to each (host, port), each sending `payload` once and then
    nothing. With reopen, a connection the server closes (or a refused connect) is opened again:
    at once if it had been held HELD_S or more (it held a slot: take it again), after retry_s
    otherwise (a server that closes new connections at once is not hammered in a tight loop)."""

    HELD_S = 0.5

    def __init__(self, targets, per_target, payload=b"", reopen=False, retry_s=1.0):
        super().__init__(daemon=True)
        self.targets, self.per_target = list(targets), per_target
        self.payload, self.reopen, self.retry_s = payload, reopen, retry_s
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.stats = {t: collections.Counter() for t in self.targets}
        self.open_now = collections.Counter()

    def run(self):
        sel = selectors.DefaultSelector()
        pending = [(0.0, t) for t in self.targets for _ in range(self.per_target)]  # (due, target)
        live = {}
        while not self.stop.is_set():
            now = time.monotonic()
            due = [p for p in pending if p[0] <= now]
            pending = [p for p in pending if p[0] > now]
            for _, target in due:
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.setblocking(False)
                err = s.connect_ex(target)
                if err not in (0, 115):  # EINPROGRESS
                    s.close()
                    self.count(target, "connect-failed")
                    if self.reopen:
                        pending.append((now + self.retry_s, target))
                    continue
                live[s] = [target, None]
                sel.register(s, selectors.EVENT_WRITE)
            for key, _ in sel.select(0.05):
                s = key.fileobj
                target, connected_at = live[s]
                now = time.monotonic()
                if connected_at is None:
                    if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
                        self.drop(sel, live, s)
                        self.count(target, "connect-failed")
                        if self.reopen:
                            pending.append((now + self.retry_s, target))
                        continue
                    live[s][1] = now
                    self.count(target, "connected", open_change=+1)
                    try:
                        if self.payload:
                            s.send(self.payload)
                    except OSError:
                        pass
                    sel.modify(s, selectors.EVENT_READ)
                    continue
                try:
                    data = s.recv(65536)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    data = b""
                if data:
                    self.count(target, "bytes-received", len(data))
                    continue
                held = now - connected_at
                self.drop(sel, live, s)
                self.count(target, "closed-by-node-at-once" if held < self.HELD_S
                           else "closed-by-node-after-holding", open_change=-1)
                if self.reopen:
                    pending.append((now if held >= self.HELD_S else now + self.retry_s, target))
        for s in list(live):
            self.drop(sel, live, s)
        sel.close()

    def drop(self, sel, live, s):
        sel.unregister(s)
        del live[s]
        s.close()

    def count(self, target, what, n=1, open_change=0):
        with self.lock:
            self.stats[target][what] += n
            self.open_now[target] += open_change

    def summary(self, name_of):
        with self.lock:
            return "; ".join(f"{name_of(t)}: {self.open_now[t]} open now, "
                             + ", ".join(f"{v} {k}" for k, v in sorted(self.stats[t].items()))
                             for t in self.targets)

    def open_counts(self):
        with self.lock:
            return {t: self.open_now[t] for t in self.targets}

    def wait_connected(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if all(self.stats[t]["connected"] >= self.per_target for t in self.targets):
                    return True
            time.sleep(0.05)
        return False

    def finish(self):
        self.stop.set()
        self.join(timeout=10)


def p2p_target(k):
    return ("127.0.0.1", P2P_PORT[k])


def p2p_name(target):
    return next(f"node{k}" for k in P2P_PORT if P2P_PORT[k] == target[1])


# ---- cases -------------------------------------------------------------------------------------

def case_rpc_nesting(case):
    depth = 100_000
    bodies = {
        "100,000 nested arrays": (b'{"jsonrpc":"2.0","id":1,"method":"status","params":'
                                  + b"[" * depth + b"]" * depth + b"}"),
        "100,000 nested objects": (b'{"jsonrpc":"2.0","id":1,"method":"status","params":'
                                   + b'{"a":' * depth + b"1" + b"}" * depth + b"}"),
    }
    for what, body in bodies.items():
        t = time.monotonic()
        try:
            code, reply = post(1, body, timeout=10)
            error = reply.get("error") if isinstance(reply, dict) else None
            result = (f"HTTP {code}, JSON-RPC error {error['code']}: {error['message']}" if error
                      else f"HTTP {code}, no error: {str(reply)[:80]}")
        except Unreachable as e:
            error, result = None, f"no answer: {e}"
        seconds = time.monotonic() - t
        expect(error is not None and error.get("code") in (-32600, -32700),
               f"{case}: params of {what} ({len(body) // 1000} KB) -> {result} "
               f"in {seconds:.2f} s", fatal=False)
        seconds, s, err = timed_status(1)
        expect(s is not None and node_alive(1) and seconds <= STATUS_S_MAX,
               f"{case}: node1 still serves: status in {seconds:.2f} s"
               + (f" ({err})" if err else ""), fatal=False)
    honest = HonestTx(1, "after-nesting")
    honest.start()
    honest.check(case)


def case_tx_flood(case):
    count, padding = 600, 59_500
    note(f"{case}: signing {count} transactions of ~60 KB by {MEMBER[1]} (pad-NN fields)")
    flood = [signed_anchor(1, f"flood-{i}", padding) for i in range(count)]
    size_of = {txid: len(wire) for txid, wire in flood}
    total = sum(size_of.values())
    note(f"{case}: {count} transactions, {total / 1e6:.1f} MB of wire "
         f"({min(size_of.values())}..{max(size_of.values())} bytes each)")
    outcomes = collections.Counter()
    slowest = [0.0]
    examples = {}
    done = [0]
    lock = threading.Lock()
    h_start = status_or_none(1)["height"]

    def worker(part):
        for txid, wire in part:
            t = time.monotonic()
            try:
                r = call(1, "submit", {"tx": wire.hex()}, timeout=10)
                outcome = "accepted" if r.get("tx") == txid else f"bad-answer {r}"
            except RpcError as e:
                outcome = f"refused: {e.code}"
                examples.setdefault(e.code, str(e))
            except Unreachable as e:
                outcome = "no answer"
                examples.setdefault("no answer", str(e))
            with lock:
                outcomes[outcome] += 1
                slowest[0] = max(slowest[0], time.monotonic() - t)
                done[0] += 1

    prober = Prober(range(1, N + 1))
    prober.start()
    t0 = time.monotonic()
    workers = [threading.Thread(target=worker, args=(flood[i::2],), daemon=True) for i in range(2)]
    for w in workers:
        w.start()
    while done[0] < count // 3 and any(w.is_alive() for w in workers):
        time.sleep(0.05)
    note(f"{case}: {done[0]} of {count} submitted after {time.monotonic() - t0:.1f} s; "
         f"credit-bureau (node4) sends a small transaction")
    honest = HonestTx(4, "honest-during-flood")
    honest.start()
    honest.join(timeout=COMMIT_S_MAX * 2 + 10)
    flood_running = any(w.is_alive() for w in workers)
    note(f"{case}: honest transaction done; the flood is "
         + (f"still running ({done[0]} of {count} submitted)" if flood_running else "over"))
    for w in workers:
        w.join(timeout=300)
    flood_s = time.monotonic() - t0
    last = HonestTx(3, "honest-after-flood")  # behind everything the flood left pending
    last.start()
    last.join(timeout=COMMIT_S_MAX * 2 + 10)
    prober.finish()
    note(f"{case}: flood of {count} submissions took {flood_s:.1f} s; outcomes "
         f"{dict(outcomes)}; slowest answer {slowest[0]:.2f} s")
    for code, message in examples.items():
        print(f"     e.g. {code}: {message[:200]}", flush=True)
    honest.check(case)
    last.check(case)
    prober.check(case)
    named = lambda o: o.startswith("refused: ") and not o.startswith("refused: rpc-")  # noqa: E731
    unnamed = {o: n for o, n in outcomes.items() if o != "accepted" and not named(o)}
    expect(not unnamed, f"{case}: node1 answered all {count} submissions, each accepted or "
           f"refused with a named error code (other answers: {unnamed or 'none'})", fatal=False)
    print(f"     {memory_line()}", flush=True)

    # Blocks made during and after the flood: none above kBlockBytesMax (flood transactions
    # counted at their wire size; the few others are small).
    drain_t = time.monotonic()
    while time.monotonic() - drain_t < 90:
        st = [status_or_none(k) for k in range(1, N + 1)]
        if all(s and s["mempool_size"] == 0 for s in st):
            break
        time.sleep(0.5)
    drained = all(s and s["mempool_size"] == 0 for s in st)
    note(f"{case}: mempools " + (f"empty {time.monotonic() - drain_t:.1f} s after the flood ended"
                                 if drained else "still not empty 90 s after the flood ended: "
                                 + str([s and s["mempool_size"] for s in st])))
    h_end = status_or_none(1)["height"]
    biggest, committed, blocks = (0, 0), 0, 0
    for h in range(h_start + 1, h_end + 1):
        b = call(1, "block", {"height": h}, timeout=10)
        in_flood = [t for t in b["txs"] if t in size_of]
        size = sum(size_of[t] for t in in_flood)
        committed += len(in_flood)
        blocks += 1
        biggest = max(biggest, (size, h))
    expect(biggest[0] <= BLOCK_BYTES_MAX,
           f"{case}: {blocks} blocks ({h_start + 1}..{h_end}) hold {committed} flood transactions; "
           f"the largest, height {biggest[1]}, carries {biggest[0] / 1e6:.2f} MB of them "
           f"(limit {BLOCK_BYTES_MAX / 1e6:.2f} MB)", fatal=False)


def restart_under_flood(case, reopen):
    targets = [p2p_target(k) for k in range(1, N + 1)]
    flood = ConnFlood(targets, 200, reopen=reopen)
    flood.start()
    connected = flood.wait_connected()
    note(f"{case}: 200 raw TCP connections to each node's P2P port "
         f"({'re-opened when closed' if reopen else 'opened once'}): "
         + ("all connected" if connected else "NOT all connected: " + flood.summary(p2p_name)))
    prober = Prober([1, 3, 4, 5])
    prober.start()
    try:
        if reopen:
            time.sleep(3)  # the node closes and the flood re-opens: a steady state, not a burst
            note(f"{case}: after 3 s: {flood.summary(p2p_name)}")
        t_attack = time.monotonic()
        note(f"{case}: killing node2 ({MEMBER[2]}) and starting it again while the flood is held")
        kill_node(2)
        start_node(2, case)
        t_up = time.monotonic()
        note(f"{case}: node2 answers RPC {t_up - t_attack:.2f} s after the kill; "
             f"open flood connections now: {sum(flood.open_counts().values())}")
        txs = [HonestTx(2, f"{case}-node2"), HonestTx(1, f"{case}-node1")]
        for t in txs:
            t.start()
        # node2's outbound links (its status' peers) and its peers' outbound links to node2.
        others = [k for k in range(1, N + 1) if k != 2]
        first = {}
        limit = RECONNECT_S_MAX * 2
        while time.monotonic() - t_up < limit and len(first) < 2 * len(others):
            s2 = status_or_none(2)
            for k in others:
                if ("to", k) not in first and s2 and MEMBER[k] in s2["peers"]:
                    first[("to", k)] = time.monotonic() - t_up
                if ("from", k) not in first:
                    sk = status_or_none(k)
                    if sk and MEMBER[2] in sk["peers"]:
                        first[("from", k)] = time.monotonic() - t_up
            time.sleep(0.1)
        open_at_links = sum(flood.open_counts().values())
        for direction, label in (("to", "node2 -> node{k}"), ("from", "node{k} -> node2")):
            for k in others:
                seconds = first.get((direction, k))
                link = label.format(k=k)
                expect(seconds is not None and seconds <= RECONNECT_S_MAX,
                       f"{case}: link {link} up "
                       + (f"{seconds:.2f} s after node2 answered" if seconds is not None
                          else f"not within {limit:g} s of node2 answering")
                       + f" (bound {RECONNECT_S_MAX:g} s)", fatal=False)
        for t in txs:
            t.check(case)
        time.sleep(max(0.0, t_up + HOLD_S - time.monotonic()))
        prober.finish()
        prober.check(case)
        note(f"{case}: flood connections open when the links were checked: {open_at_links}; "
             f"after {time.monotonic() - t_up:.1f} s: {flood.summary(p2p_name)}")
    finally:
        prober.finish()
        flood.finish()


def case_tls_slots(case):
    restart_under_flood(case, reopen=False)


def case_tls_slots_reopen(case):
    restart_under_flood(case, reopen=True)


def case_rpc_slots(case):
    payload = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
    target = ("127.0.0.1", RPC_PORT[1])
    flood = ConnFlood([target], 300, payload=payload, reopen=True)
    flood.start()
    connected = flood.wait_connected()
    note(f"{case}: 300 half-sent HTTP requests on node1's RPC port: "
         + ("all connected" if connected else "NOT all connected") + "; "
         + flood.summary(lambda t: "node1 rpc"))
    prober = Prober(range(1, N + 1))
    prober.start()
    try:
        honest = HonestTx(1, f"{case}-node1")
        honest.start()
        time.sleep(HOLD_S)  # past the nodes' header deadlines: the flood re-opens what is closed
        honest.check(case)
        prober.finish()
        prober.check(case)
        note(f"{case}: {flood.summary(lambda t: 'node1 rpc')}")
    finally:
        prober.finish()
        flood.finish()


# ---- slow-peer: arbitration's identity taken by the test ------------------------------------

def frame(payload: bytes):
    return struct.pack(">I", len(payload)) + payload


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def block_request(from_height, count):
    """PeerMessage{block_request(4): BlockRequest{from_height(1), count(2)}} (node/node.proto)."""
    inner = b"\x08" + varint(from_height) + b"\x10" + varint(count)
    return b"\x22" + varint(len(inner)) + inner


def hello(member):
    return f"colend-hello/v1\ngenesis: {GENESIS_HEX}\nmember: {member}\n".encode()


def read_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed by the node")
        data += chunk
    return data


def read_frame(sock):
    (length,) = struct.unpack(">I", read_exact(sock, 4))
    return read_exact(sock, length)


class StandIn:
    """Member k's TLS identity (tls.pem, tls.key in its localnet directory) used by the test while
    node k is stopped: a server on k's P2P port completing handshake and hello with every node
    that dials it, then holding the connection without reading; and a client to a node."""

    def __init__(self, k):
        self.k = k
        cert, key, ca = (os.path.join(home(k), n) for n in ("tls.pem", "tls.key", "ca.pem"))
        self.server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.client_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        for ctx in (self.server_ctx, self.client_ctx):
            ctx.minimum_version = ssl.TLSVersion.TLSv1_3
            ctx.load_cert_chain(cert, key)
            ctx.load_verify_locations(ca)
            ctx.verify_mode = ssl.CERT_REQUIRED
        self.client_ctx.check_hostname = False
        self.server_ctx.num_tickets = 0
        self.listener = self.listen(P2P_PORT[k])
        self.listener.settimeout(0.2)
        self.accepted = {}  # member -> TLS socket (held, not read after the hello)
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.accept_loop, daemon=True)]
        self.threads[0].start()
        self.clients = []

    @staticmethod
    def listen(port):
        """The stopped node's port, retried for a while: its closed connections may hold it."""
        deadline = time.monotonic() + 10
        while True:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
                s.listen(64)
                return s
            except OSError:
                s.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def accept_loop(self):
        while not self.stop.is_set():
            try:
                raw, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            t = threading.Thread(target=self.serve, args=(raw,), daemon=True)
            t.start()

    def serve(self, raw):
        try:
            raw.settimeout(5)
            s = self.server_ctx.wrap_socket(raw, server_side=True)
            theirs = read_frame(s).decode(errors="replace")
            s.sendall(frame(hello(MEMBER[self.k])))
            member = theirs.rsplit("member: ", 1)[-1].strip()
            with self.lock:
                old = self.accepted.get(member)
                self.accepted[member] = s
            if old:
                old.close()
        except (OSError, ssl.SSLError, ConnectionError):
            raw.close()

    def connect(self, target_k):
        raw = socket.create_connection(("127.0.0.1", P2P_PORT[target_k]), timeout=5)
        s = self.client_ctx.wrap_socket(raw)
        read_frame(s)  # the node's hello
        s.sendall(frame(hello(MEMBER[self.k])))
        self.clients.append(s)
        return s

    def held(self, member):
        with self.lock:
            return self.accepted.get(member)

    def close(self):
        # The accept thread wakes within its 0.2 s timeout: join it before closing the listener,
        # or the port may still be bound when the real node restarts on it.
        self.stop.set()
        for t in self.threads:
            t.join(timeout=5)
        self.listener.close()
        with self.lock:
            socks = list(self.accepted.values()) + self.clients
        for s in socks:
            try:
                s.close()
            except OSError:
                pass


def case_slow_peer(case):
    k_fake, k_target = 5, 1
    limit_kib = ARGS.rss_mib_max * 1024
    stop_kib = 2 * limit_kib  # the flood stops here: the failure is shown, the host is spared
    note(f"{case}: stopping node5; the test takes {MEMBER[k_fake]}'s place with its TLS key")
    kill_node(k_fake)
    stand_in = StandIn(k_fake)
    prober = Prober([1, 2, 3, 4])
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not stand_in.held(MEMBER[k_target]):
            time.sleep(0.1)
        reader = stand_in.held(MEMBER[k_target])
        if not expect(reader is not None, f"{case}: node1 dialed the stand-in and completed TLS "
                      "and hello with arbitration's certificate", fatal=False):
            return
        sender = stand_in.connect(k_target)
        # One answer read in full, to know its size; from then on nothing is read.
        sender.sendall(frame(block_request(1, 64)))
        reader.settimeout(20)
        answer = 0
        t = time.monotonic()
        while time.monotonic() - t < 20:
            f = read_frame(reader)
            if f[:1] == b"\x2a":  # field 5, block_response
                answer = len(f)
                break
        note(f"{case}: node1 answers a request for blocks 1..64 with {answer / 1e6:.2f} MB; "
             f"the stand-in now stops reading and sends one such request every "
             f"{SLOW_PEER_INTERVAL_S * 1000:g} ms for {SLOW_PEER_S:g} s")
        before = memory_kib(k_target)
        prober.start()
        honest = HonestTx(k_target, f"{case}-node1")
        honest.start()
        sent, peak, closed_by_node = 0, before.get("VmRSS", 0), None
        t_attack = time.monotonic()
        trace = []
        while time.monotonic() - t_attack < SLOW_PEER_S:
            try:
                sender.sendall(frame(block_request(1, 64)))
                sent += 1
            except (OSError, ssl.SSLError) as e:
                closed_by_node = f"{type(e).__name__}: {e}"
                break
            rss = memory_kib(k_target).get("VmRSS", 0)
            peak = max(peak, rss)
            if time.monotonic() - t_attack >= len(trace):  # one sample a second
                trace.append(f"{time.monotonic() - t_attack:.1f}s:{mib(rss):.0f}")
            if rss > stop_kib:
                break
            time.sleep(SLOW_PEER_INTERVAL_S)
        attack_s = time.monotonic() - t_attack
        note(f"{case}: sent {sent} block requests in {attack_s:.1f} s"
             + (f"; node1 closed the connection ({closed_by_node})" if closed_by_node else "")
             + (f"; stopped early: node1 RSS above {mib(stop_kib):.0f} MiB"
                if peak > stop_kib else "")
             + f"; node1 RSS (s:MiB) {' '.join(trace)}")
        honest.check(case)
        prober.finish()
        prober.check(case)
        expect(peak <= limit_kib,
               f"{case}: node1 RSS peaked at {mib(peak):.0f} MiB "
               f"(from {mib(before.get('VmRSS', 0)):.0f}) "
               f"while a peer that reads nothing asked for {sent} answers of {answer / 1e6:.1f} MB "
               f"(limit {ARGS.rss_mib_max} MiB)", fatal=False)
        print(f"     {memory_line()}", flush=True)
    finally:
        prober.finish()
        stand_in.close()
        start_node(k_fake, case)


CASES = [
    ("rpc-nesting", case_rpc_nesting),
    ("tx-flood", case_tx_flood),
    ("tls-slots", case_tls_slots),
    ("tls-slots-reopen", case_tls_slots_reopen),
    ("rpc-slots", case_rpc_slots),
    ("slow-peer", case_slow_peer),
]


# ---- scenario ----------------------------------------------------------------------------------

def setup():
    global CHAIN_ID, GENESIS_HEX
    colend("localnet", "init", "--dir", DIR, "--nodes", str(N), "--suite", "std",
           "--quorum", "majority")
    with open(os.path.join(DIR, "genesis.json")) as f:
        CHAIN_ID = json.load(f)["chain_id"]
    for k in range(1, N + 1):
        with open(os.path.join(home(k), "config.json")) as f:
            config = json.load(f)
        MEMBER[k] = config["member_id"]
        RPC_PORT[k], P2P_PORT[k] = config["rpc_port"], config["p2p_port"]
        SIGNER[k] = netlib.P256Signer(os.path.join(home(k), "signing.key")).check_with_openssl()
    colend("localnet", "up", "--dir", DIR)
    s = call(1, "status")
    GENESIS_HEX = s["genesis_hash"]
    expect(s["members"] == N and len(s["peers"]) == N - 1,
           f"{N} nodes up on chain {CHAIN_ID}, quorum {s['quorum']} ({s['quorum_rule']}): "
           + ", ".join(f"node{k}={MEMBER[k]}" for k in range(1, N + 1)))
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
    if ARGS.only:
        only = ARGS.only.split(",")
        unknown = set(only) - {n for n, _ in CASES}
        expect(not unknown, f"--only {ARGS.only}: "
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
        since = f" (restarted in {RESTARTED[k]}: its peak since then)" if k in RESTARTED else ""
        expect(m and m["VmHWM"] <= ARGS.rss_mib_max * 1024,
               f"node{k} pid {node_pid(k)}: peak RSS {mib(m.get('VmHWM', 0)):.0f} MiB, now "
               f"{mib(m.get('VmRSS', 0)):.0f} MiB (limit {ARGS.rss_mib_max} MiB){since}",
               fatal=False)
        if not (m and m["VmHWM"] <= ARGS.rss_mib_max * 1024) and "peak-rss" not in failed:
            failed.append("peak-rss")
    if failed:
        raise AssertionError(f"{len(failed)} of {len(cases) + 1} cases failed: {', '.join(failed)}")


def main():
    global ARGS, DIR, BIN, T0
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin", required=True, help="directory with colend and colend-node")
    parser.add_argument("--only", metavar="CASE,...",
                        help="run only these cases: " + ", ".join(n for n, _ in CASES))
    parser.add_argument("--rss-mib-max", type=int, default=400,
                        help="bound on every node's resident memory (default 400 MiB)")
    parser.add_argument("--keep", action="store_true", help="keep the network directory")
    ARGS = parser.parse_args()
    if shutil.which("openssl") is None:
        print("the openssl command-line tool is required", file=sys.stderr)
        return 1
    T0 = time.monotonic()
    top = tempfile.mkdtemp(prefix="colend-attack-")
    # Private copies of the binaries: a rebuild of --bin during the run cannot mix versions.
    BIN = os.path.join(top, "bin")
    os.makedirs(BIN)
    for name in ("colend", "colend-node"):
        shutil.copy2(os.path.join(ARGS.bin, name), os.path.join(BIN, name))
    DIR = os.path.join(top, "net")
    netlib.configure(BIN, DIR)
    print(f"attack test: binaries from {os.path.abspath(ARGS.bin)} copied to {BIN}; network in "
          f"{DIR} (kept after a failure or with --keep)", flush=True)

    def timed():
        try:
            scenario()
        finally:
            note("scenario over")

    code = netlib.run_network_test(timed, keep=True, nodes=N, log_lines=8,
                                   failures=(AssertionError, subprocess.TimeoutExpired))
    if code == 0 and not ARGS.keep:
        shutil.rmtree(top, ignore_errors=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
