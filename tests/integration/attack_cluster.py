"""The network under attack_test.py and what its cases share: the acceptance bounds, the run's
shared state, JSON-RPC (one fresh connection per call) and the status prober, small honest
transactions timed to their commit, node processes and their memory, and the raw TCP connection
floods.

The run state is this module's globals. attack_test.py's main() and setup() fill them in, and the
other modules read and set them as attack_cluster.NAME at call time, never through `from
attack_cluster import NAME` (that would copy a value rebound later, e.g. ARGS or GENESIS_HEX).
Used by attack_test.py (the entry point) and attack_cases.py.
"""
import collections
import hashlib
import http.client
import json
import os
import random
import selectors
import signal
import socket
import threading
import time

from netlib import colend, expect, home, node_pid, pid_alive, signed_tx_wire

N = 5
STATUS_S_MAX = 2.0      # an attacked node must answer status within this
COMMIT_S_MAX = 10.0     # a small honest transaction must commit within this
RECONNECT_S_MAX = 3.0   # a restarted node must be connected to every peer within this
HOLD_S = 8.0            # an attack is held at least this long while the nodes are probed
SLOW_PEER_S = 10.0      # slow-peer: how long block requests are sent ...
SLOW_PEER_INTERVAL_S = 0.01  # ... and how often (the node's own budget, if any, is 50/s)
BLOCK_BYTES_MAX = 8 << 20  # node/ledger.h kBlockBytesMax

# Set by attack_test.py's main() (ARGS, DIR, BIN, T0) and setup() (the rest).
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


# ---- the network ------------------------------------------------------------------------------

def read_network(n):
    """Sets CHAIN_ID, MEMBER, RPC_PORT and P2P_PORT from DIR's genesis and node configs;
    returns {k: the path of node k's signing key}."""
    global CHAIN_ID
    with open(os.path.join(DIR, "genesis.json")) as f:
        CHAIN_ID = json.load(f)["chain_id"]
    keys = {}
    for k in range(1, n + 1):
        with open(os.path.join(home(k), "config.json")) as f:
            config = json.load(f)
        MEMBER[k] = config["member_id"]
        RPC_PORT[k], P2P_PORT[k] = config["rpc_port"], config["p2p_port"]
        keys[k] = os.path.join(home(k), "signing.key")
    return keys


# ---- transactions ------------------------------------------------------------------------------

def tx_body(sender, fields, tx_type="evidence.anchor"):
    text = (f"colend-tx/v1\nchain-id: {CHAIN_ID}\nsender: {sender}\n"
            f"nonce: {random.getrandbits(62) + 1}\ntimestamp-ms: {int(time.time() * 1000)}\n"
            f"type: {tx_type}\n")
    for key in sorted(fields):
        text += f"{key}: {fields[key]}\n"
    return text.encode()


def signed_anchor(k, name):
    """(tx id, wire) of an evidence.anchor by node k's member. name must be a valid
    document-name: [A-Za-z0-9._-], at most 64 bytes, no long digit runs."""
    fields = {"document-name": name, "document-sha256": hashlib.sha256(os.urandom(32)).hexdigest()}
    body = tx_body(MEMBER[k], fields)
    return hashlib.sha256(body).hexdigest(), signed_tx_wire(body, SIGNER[k].sign(body))


def signed_large_evidence(k, height):
    """(tx id, wire) of a consensus.evidence by node k's member of about 8.4 KB, the largest a
    valid transaction gets: two 4,096-character hex values (the field limit) that are not signed
    consensus messages. Admitted (every field in its format) and committed; its execution finds
    nothing to prove and its receipt says so."""
    fields = {"first": os.urandom(2048).hex(), "second": os.urandom(2048).hex(),
              "height": str(height), "kind": "prevote", "member": MEMBER[2], "round": "0"}
    body = tx_body(MEMBER[k], fields, "consensus.evidence")
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

def node_alive(k):
    pid = node_pid(k)
    return bool(pid) and pid_alive(pid)


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
