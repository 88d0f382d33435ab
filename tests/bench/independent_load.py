#!/usr/bin/python3
"""An independent load client for a colend local network: checks colend-bench's figures from
the outside.

It shares no code with colend (nothing from tests/integration/netlib.py or the C++ tools): the
transaction text, the SignedTx wire form, the signature and the JSON-RPC calls are written here
from the documents (contracts/tx.h's format comment, docs/transactions.md, docs/operations.md),
with the Python standard library and `cryptography` (ECDSA P-256 / SHA-256, std suite only).

What it does:
  1. reads D/node1..D/nodeN (config.json, member.json, genesis.json, signing.key), checks that
     each member's key matches its signing certificate in the genesis file and that its role may
     send evidence.anchor;
  2. pre-signs --txs evidence.anchor transactions, sent by the members in turn (each with its
     own key), each with a distinct document digest (a second anchor of one digest would be
     committed but rejected `already-anchored`) and a distinct nonce, all stamped with the
     presigning time (the chain admits a timestamp within tx_time_window_ms of the block time);
  3. submits them with --concurrency threads, each on one kept HTTP/1.1 connection to one of the
     --nodes (thread c to node c mod len(nodes)), with at most --inflight submitted and not yet
     seen committed; waiter threads wait for the admitted ones with `wait_tx {"ids": [...]}` on
     the node they were submitted to;
  4. prints a table and one JSON line: committed tx/s (from the first submit to the last commit
     seen), submit-to-commit latency p50/p90/p99/max, every refusal by error code with a sample
     message, every transport error (closed or reset connections) and how many connections were
     opened.

Usage:
  /usr/bin/python3 tests/bench/independent_load.py --dir D/net [--txs N | --duration S]
      [--concurrency C] [--nodes 1,2,3,4,5] [--inflight 500] [--drain 10] [--retries 10]
      [--sources K] [--probe] [--label TEXT]

A transaction whose submit fails on the transport (connection closed or reset by the node) is
sent again on a new connection, up to --retries times; a `duplicate-transaction` answer to such a
resend means the first copy was admitted, and counts as admitted (it is also counted apart).
A refusal (an error answer from the node) is not retried: it is counted by its code.
"""
import argparse
import collections
import hashlib
import http.client
import json
import math
import os
import socket
import sys
import threading
import time

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (decode_dss_signature,
                                                             encode_dss_signature)

# secp256r1 group order: the chain accepts only low-S signatures (s <= n/2).
P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
# Roles that may send evidence.anchor (contracts/registry.cc: every role; the documents do not
# list them, docs/transactions.md gives only the fields).
ANCHOR_ROLES = {"lead_bank", "partner_bank", "payee_bank", "credit_bureau", "arbitrator"}
WAIT_IDS_MAX = 1024        # docs/operations.md: at most 1,024 ids per wait_tx call
WAIT_TIMEOUT_MS = 1000     # one wait_tx call
RPC_TIMEOUT_S = 30.0


def fail(message):
    print(f"independent_load: {message}", file=sys.stderr)
    sys.exit(1)


# ---- the network ------------------------------------------------------------------------------

class Member:
    def __init__(self, node_number, home):
        self.number = node_number
        self.home = home
        with open(os.path.join(home, "config.json")) as f:
            self.config = json.load(f)
        with open(os.path.join(home, "member.json")) as f:
            self.member = json.load(f)
        with open(os.path.join(home, "genesis.json")) as f:
            self.genesis = json.load(f)
        self.id = self.config["member_id"]
        self.role = self.member.get("role", "")
        self.host = self.config.get("rpc_host", "127.0.0.1")
        self.port = int(self.config["rpc_port"])
        self.remote = bool(self.config.get("rpc_remote", False))
        with open(os.path.join(home, "signing.key"), "rb") as f:
            self.key = serialization.load_pem_private_key(f.read(), password=None)


def load_network(net_dir):
    members = []
    k = 1
    while os.path.exists(os.path.join(net_dir, f"node{k}", "config.json")):
        members.append(Member(k, os.path.join(net_dir, f"node{k}")))
        k += 1
    if not members:
        fail(f"no {net_dir}/node1/config.json: not a `colend localnet init` directory")
    genesis = members[0].genesis
    for m in members:
        if m.genesis.get("chain_id") != genesis.get("chain_id"):
            fail(f"{m.home}: genesis chain_id differs from node1's")
        if m.remote:
            fail(f"{m.home}: rpc_remote (TLS with client certificates) is not supported here")
    if genesis.get("suite") != "std":
        fail(f"suite '{genesis.get('suite')}': only the std suite (ECDSA P-256) is supported "
             "(cryptography 38 has no SM2)")
    by_id = {g["id"]: g for g in genesis["members"]}
    for m in members:
        g = by_id.get(m.id)
        if g is None:
            fail(f"{m.home}: member '{m.id}' is not in the genesis file")
        if g["role"] != m.role:
            fail(f"{m.home}: member.json role '{m.role}' but genesis says '{g['role']}'")
        cert = x509.load_pem_x509_certificate(g["signing_certificate"].encode())
        m.public_key = cert.public_key()
        spki = serialization.PublicFormat.SubjectPublicKeyInfo
        der = serialization.Encoding.DER
        if (cert.public_key().public_bytes(der, spki) !=
                m.key.public_key().public_bytes(der, spki)):
            fail(f"{m.home}: signing.key does not match the genesis signing certificate of "
                 f"'{m.id}'")
    return members, genesis


# ---- transactions -----------------------------------------------------------------------------

def letters(n):
    """n in base 26 as lowercase letters: names must not hold a number of 6 or more digits
    (personal-data screen, docs/transactions.md §3)."""
    out = ""
    while True:
        out = chr(ord("a") + n % 26) + out
        n //= 26
        if n == 0:
            return out


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def signed_tx(body, signature):
    """proto SignedTx {bytes body = 1; bytes signature = 2;} (contracts/contracts.proto)."""
    return (b"\x0a" + varint(len(body)) + body + b"\x12" + varint(len(signature)) + signature)


def sign_low_s(key, body):
    r, s = decode_dss_signature(key.sign(body, ec.ECDSA(hashes.SHA256())))
    if s > P256_N // 2:
        s = P256_N - s
    return encode_dss_signature(r, s)


def anchor_body(chain_id, sender, nonce, timestamp_ms, digest, name, size):
    # colend-tx/v1: header lines, then the payload fields in ascending key order, each line
    # ending in "\n" (contracts/tx.h).
    return (f"colend-tx/v1\nchain-id: {chain_id}\nsender: {sender}\nnonce: {nonce}\n"
            f"timestamp-ms: {timestamp_ms}\ntype: evidence.anchor\n"
            f"document-bytes: {size}\ndocument-name: {name}\n"
            f"document-sha256: {digest}\n").encode()


def presign(senders, chain_id, count, tag):
    now_ms = int(time.time() * 1000)
    ids, wires = [], []
    checked = set()
    for i in range(count):
        m = senders[i % len(senders)]
        digest = hashlib.sha256(f"independent-load {tag} {i}".encode()).hexdigest()
        body = anchor_body(chain_id, m.id, now_ms * 1000 + i, now_ms, digest,
                           f"indep-{tag}-{letters(i)}.pdf", 20000 + i % 50000)
        sig = sign_low_s(m.key, body)
        if m.id not in checked:  # each sender's first signature, against its certificate
            try:
                m.public_key.verify(sig, body, ec.ECDSA(hashes.SHA256()))
            except InvalidSignature:
                fail(f"signature by {m.id} does not verify under its genesis certificate")
            checked.add(m.id)
        ids.append(hashlib.sha256(body).hexdigest())  # tx id = SHA-256(body text)
        wires.append(signed_tx(body, sig).hex())
    return ids, wires, now_ms


# ---- JSON-RPC over kept HTTP/1.1 connections --------------------------------------------------

class TransportError(Exception):
    def __init__(self, kind, detail):
        super().__init__(f"{kind}: {detail}")
        self.kind = kind


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts = collections.Counter()
        self.samples = {}

    def add(self, key, sample=None, n=1):
        with self.lock:
            self.counts[key] += n
            if sample is not None and key not in self.samples:
                self.samples[key] = sample


class Rpc:
    """One kept connection; reconnects (and counts it) after the node closes it."""

    def __init__(self, host, port, stats, what, source=None):
        self.host, self.port, self.stats, self.what, self.source = host, port, stats, what, source
        self.conn = None
        self.next_id = 1

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def call(self, method, params):
        """(result, None) or (None, (code, message)); raises TransportError."""
        body = json.dumps({"jsonrpc": "2.0", "id": self.next_id, "method": method,
                           "params": params}).encode()
        self.next_id += 1
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection(
                    self.host, self.port, timeout=RPC_TIMEOUT_S,
                    source_address=(self.source, 0) if self.source else None)
                self.conn.connect()
                self.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self.stats.add(f"connections opened ({self.what})")
            self.conn.request("POST", "/", body=body,
                              headers={"Content-Type": "application/json"})
            response = self.conn.getresponse()
            data = response.read()
            if response.will_close:
                self.stats.add(f"answer closed the connection ({self.what})")
                self.close()
        except (OSError, http.client.HTTPException) as e:
            self.close()
            raise TransportError(type(e).__name__, str(e)) from None
        if response.status != 200:
            return None, (f"http-{response.status}", data[:300].decode("utf-8", "replace"))
        try:
            reply = json.loads(data)
        except ValueError:
            return None, ("bad-json", data[:300].decode("utf-8", "replace"))
        if "error" in reply:
            error = reply["error"]
            data_code = (error.get("data") or {}).get("code")
            return None, (data_code or f"jsonrpc{error.get('code')}", error.get("message", ""))
        return reply.get("result"), None


def one_call(member, method, params, stats):
    rpc = Rpc(member.host, member.port, stats, "probe")
    try:
        return rpc.call(method, params)
    finally:
        rpc.close()


# ---- the load ---------------------------------------------------------------------------------

class Waiter:
    def __init__(self, member, node_state):
        self.member = member
        self.node_state = node_state  # per node: height -> first time a waiter saw it
        self.cond = threading.Condition()
        self.outstanding = collections.OrderedDict()  # tx index -> None, oldest first


class Load:
    def __init__(self, args, targets, ids, wires):
        self.args, self.targets, self.ids, self.wires = args, targets, ids, wires
        self.index_of = {tx_id: i for i, tx_id in enumerate(ids)}
        n = len(ids)
        self.submit_t = [None] * n
        self.submit_done_t = [None] * n
        self.commit_t = [None] * n
        self.height = [None] * n
        self.receipt = [None] * n  # (accepted, code)
        self.admitted = [False] * n
        self.stats = Stats()
        self.refusals = Stats()
        self.next_lock = threading.Lock()
        self.next_tx = 0
        self.inflight = threading.BoundedSemaphore(args.inflight) if args.inflight else None
        self.submitting_over = threading.Event()
        self.ran_out = False
        # Enough waiters on each node for all of the in-flight transactions to be on it (one
        # node lagging behind the others collects them): each waiter asks about at most 1,024.
        self.waiters_per_node = (max(1, math.ceil(args.inflight / (WAIT_IDS_MAX * 0.8)))
                                 if args.inflight else 4)
        self.node_state = {m.id: {"lock": threading.Lock(), "seen": {}} for m in targets}
        self.waiters = {m.id: [Waiter(m, self.node_state[m.id])
                               for _ in range(self.waiters_per_node)] for m in targets}

    def source_for(self, c):
        if not self.args.sources:
            return None
        return f"127.0.0.{2 + c % self.args.sources}"

    def take(self):
        with self.next_lock:
            if self.next_tx >= len(self.ids):
                return None
            i = self.next_tx
            self.next_tx += 1
            return i

    def submitter(self, c):
        member = self.targets[c % len(self.targets)]
        rpc = Rpc(member.host, member.port, self.stats, "submit", self.source_for(c))
        args = self.args
        while True:
            if time.perf_counter() >= self.end_t:
                break
            if self.inflight is not None and not self.inflight.acquire(timeout=0.05):
                continue
            i = self.take()
            if i is None:
                if self.inflight is not None:
                    self.inflight.release()
                if time.perf_counter() < self.end_t and args.duration:
                    self.ran_out = True
                break
            self.submit_t[i] = time.perf_counter()
            attempts, result, error = 0, None, None
            while True:
                try:
                    result, error = rpc.call("submit", {"tx": self.wires[i]})
                    break
                except TransportError as e:
                    self.stats.add(f"submit transport error: {e.kind}", str(e))
                    attempts += 1
                    if attempts > args.retries:
                        error = ("gave-up-after-transport-errors", str(e))
                        break
                    time.sleep(min(0.2, 0.005 * 2 ** attempts))
            self.submit_done_t[i] = time.perf_counter()
            if error is not None:
                code, message = error
                if code == "duplicate-transaction" and attempts > 0:
                    self.stats.add("duplicate-transaction after a transport retry (admitted)")
                else:
                    self.refusals.add(code, message)
                    if self.inflight is not None:
                        self.inflight.release()
                    continue
            elif result.get("tx") != self.ids[i]:
                self.stats.add("submit answered another tx id than SHA-256(body)",
                               f"{result.get('tx')} != {self.ids[i]}")
            elif result.get("status") != "pending":
                self.stats.add(f"submit status '{result.get('status')}'")
            self.admitted[i] = True
            w = self.waiters[member.id][i % self.waiters_per_node]
            with w.cond:
                w.outstanding[i] = None
                w.cond.notify()
        rpc.close()

    def waiter(self, w, k):
        rpc = Rpc(w.member.host, w.member.port, self.stats, "wait_tx",
                  self.source_for(self.args.concurrency + k))
        state = w.node_state
        while True:
            with w.cond:
                while not w.outstanding and not self.submitting_over.is_set():
                    w.cond.wait(0.05)
                if not w.outstanding or time.perf_counter() > self.give_up_t:
                    break
                ids = [self.ids[i] for i, _ in zip(w.outstanding, range(WAIT_IDS_MAX))]
                if len(w.outstanding) > WAIT_IDS_MAX:
                    self.stats.add("wait_tx backlog above 1,024 ids (latency may read high)")
            try:
                result, error = rpc.call("wait_tx", {"ids": ids, "timeout_ms": WAIT_TIMEOUT_MS})
            except TransportError as e:
                self.stats.add(f"wait_tx transport error: {e.kind}", str(e))
                time.sleep(0.05)
                continue
            now = time.perf_counter()
            if error is not None:
                self.stats.add(f"wait_tx error: {error[0]}", error[1])
                time.sleep(0.05)
                continue
            done = []
            for tx in result.get("committed", []):
                i = self.index_of.get(tx.get("tx"))
                if i is None or self.commit_t[i] is not None:
                    continue
                h = tx.get("height")
                with state["lock"]:
                    seen = state["seen"].setdefault(h, now)
                self.commit_t[i] = max(seen, self.submit_t[i])
                self.height[i] = h
                self.receipt[i] = (bool(tx.get("accepted")), tx.get("code") or "no-receipt",
                                   tx.get("message", ""))
                done.append(i)
            if done:
                with w.cond:
                    for i in done:
                        w.outstanding.pop(i, None)
                if self.inflight is not None:
                    for _ in done:
                        self.inflight.release()
        rpc.close()

    def run(self):
        args = self.args
        self.start_t = time.perf_counter()
        self.end_t = self.start_t + (args.duration if args.duration else 1e9)
        self.give_up_t = 1e18
        threads = [threading.Thread(target=self.submitter, args=(c,), daemon=True)
                   for c in range(args.concurrency)]
        k = 0
        waiter_threads = []
        for m in self.targets:
            for w in self.waiters[m.id]:
                waiter_threads.append(threading.Thread(target=self.waiter, args=(w, k),
                                                       daemon=True))
                k += 1
        for t in waiter_threads + threads:
            t.start()
        for t in threads:
            t.join()
        self.submitting_stopped_t = time.perf_counter()
        self.give_up_t = self.submitting_stopped_t + args.drain
        self.submitting_over.set()
        for t in waiter_threads:
            t.join(timeout=args.drain + 2 * RPC_TIMEOUT_S)


# ---- figures ----------------------------------------------------------------------------------

def percentile(sorted_values, p):
    """Nearest rank, as colend-bench computes it."""
    if not sorted_values:
        return 0.0
    rank = math.ceil(p / 100.0 * len(sorted_values))
    return sorted_values[min(len(sorted_values) - 1, max(rank, 1) - 1)]


def chain_heights(members, stats):
    out = {}
    for m in members:
        result, error = one_call(m, "status", {}, stats)
        out[m.id] = None if error else result.get("height")
    return out


def probe(members, stats):
    """A few cheap questions an integrator asks: is there a batch form, what do limits say."""
    m = members[0]
    rpc = Rpc(m.host, m.port, stats, "probe")
    print("probe: JSON-RPC batch (an array of two status calls):")
    try:
        conn = http.client.HTTPConnection(m.host, m.port, timeout=10)
        conn.request("POST", "/", body=json.dumps([
            {"jsonrpc": "2.0", "id": 1, "method": "status"},
            {"jsonrpc": "2.0", "id": 2, "method": "status"}]).encode(),
            headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        print(f"  HTTP {r.status}: {r.read()[:300].decode()}")
        conn.close()
    except (OSError, http.client.HTTPException) as e:
        print(f"  transport error {type(e).__name__}: {e}")
    for label, method, params in [
            ("submit with a list of txs", "submit", {"txs": ["00"]}),
            ("wait_tx with 1,025 ids", "wait_tx", {"ids": ["00" * 32] * 1025}),
            ("wait_tx timeout_ms 60001", "wait_tx", {"id": "00" * 32, "timeout_ms": 60001}),
            ("submit of a non-transaction", "submit", {"tx": "0a00"})]:
        try:
            result, error = rpc.call(method, params)
            print(f"probe: {label}: " + (f"error {error[0]}: {error[1][:200]}" if error
                                         else json.dumps(result)[:200]))
        except TransportError as e:
            print(f"probe: {label}: transport error {e}")
    rpc.close()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dir", required=True, help="the localnet directory (D/net with node1..)")
    p.add_argument("--txs", type=int, default=None,
                   help="transactions to pre-sign and send (default 10000, or 30000 with "
                        "--duration)")
    p.add_argument("--duration", type=float, default=None,
                   help="seconds of submitting; without it, send all --txs")
    p.add_argument("--concurrency", type=int, default=32,
                   help="submitting threads, each on one kept connection (default 32)")
    p.add_argument("--nodes", default=None,
                   help="node numbers to submit to, e.g. 1,2,3,4,5 (default all)")
    p.add_argument("--senders", default=None,
                   help="node numbers whose members sign the transactions (default all whose "
                        "role may send evidence.anchor)")
    p.add_argument("--inflight", type=int, default=500,
                   help="most transactions submitted and not yet seen committed (default 500, "
                        "as colend-bench; 0: no bound)")
    p.add_argument("--drain", type=float, default=10.0,
                   help="seconds to wait for commits after the last submit (default 10)")
    p.add_argument("--retries", type=int, default=10,
                   help="resends of a submit after a transport error (default 10)")
    p.add_argument("--sources", type=int, default=0,
                   help="spread the connections over K loopback source addresses 127.0.0.2.. "
                        "(the node limits connections per source address); default: one")
    p.add_argument("--probe", action="store_true",
                   help="first ask a few questions about the RPC's limits (no load)")
    p.add_argument("--label", default="", help="a label for the JSON line")
    args = p.parse_args()
    if args.txs is None:
        args.txs = 30000 if args.duration else 10000
    if args.txs < 1 or args.concurrency < 1 or args.inflight < 0 or args.drain < 0:
        fail("--txs and --concurrency must be at least 1, --inflight and --drain not negative")

    members, genesis = load_network(os.path.abspath(args.dir))
    by_number = {m.number: m for m in members}

    def pick(text, what):
        if not text:
            return list(members)
        try:
            return [by_number[int(x)] for x in text.split(",")]
        except (KeyError, ValueError):
            fail(f"--{what} must list node numbers 1..{len(members)}, not '{text}'")

    targets = pick(args.nodes, "nodes")
    senders = [m for m in pick(args.senders, "senders") if m.role in ANCHOR_ROLES]
    if not senders:
        fail("no sender whose role may send evidence.anchor")
    window_ms = genesis.get("consensus", {}).get("tx_time_window_ms", 600000)
    if ((args.duration or 0) + args.drain + 60) * 1000 > window_ms:
        fail(f"--duration + --drain must stay well within tx_time_window_ms {window_ms}: "
             "pre-signed transactions carry the presigning time")

    stats = Stats()
    for m in targets:
        result, error = one_call(m, "status", {}, stats)
        if error:
            fail(f"{m.id} status: {error}")
        if result.get("chain_id") != genesis["chain_id"] or result.get("member") != m.id:
            fail(f"{m.host}:{m.port} answers as {result.get('member')} on "
                 f"{result.get('chain_id')}, not {m.id} on {genesis['chain_id']}")
    if args.probe:
        probe(members, stats)

    tag = "".join(letters(b % 26) for b in os.urandom(8))
    t0 = time.perf_counter()
    ids, wires, signed_at_ms = presign(senders, genesis["chain_id"], args.txs, tag)
    presign_s = time.perf_counter() - t0
    heights_before = chain_heights(members, stats)
    cpu0 = time.process_time()
    load = Load(args, targets, ids, wires)
    load.run()
    client_cpu_s = time.process_time() - cpu0
    heights_after = chain_heights(members, stats)

    # ---- figures
    sent = [i for i in range(len(ids)) if load.submit_t[i] is not None]
    admitted = [i for i in sent if load.admitted[i]]
    committed = [i for i in admitted if load.commit_t[i] is not None]
    accepted = [i for i in committed if load.receipt[i][0]]
    rejected = collections.Counter(load.receipt[i][1] for i in committed if not load.receipt[i][0])
    rejected_sample = {}
    for i in committed:
        if not load.receipt[i][0]:
            rejected_sample.setdefault(load.receipt[i][1], load.receipt[i][2])
    first_submit = min((load.submit_t[i] for i in sent), default=None)
    last_commit = max((load.commit_t[i] for i in committed), default=None)
    last_submit = max((load.submit_done_t[i] for i in sent), default=None)
    span_s = (last_commit - first_submit) if committed else 0.0
    submit_span_s = (last_submit - first_submit) if sent else 0.0
    latency_ms = sorted((load.commit_t[i] - load.submit_t[i]) * 1000 for i in committed)
    committed_tps = len(committed) / span_s if span_s > 0 else 0.0
    after = [h for h in heights_after.values() if h is not None]
    before = [h for h in heights_before.values() if h is not None]
    blocks = max(after) - max(before) if after and before else None
    refused = dict(load.refusals.counts)
    events = collections.Counter(stats.counts)
    events.update(load.stats.counts)
    samples = dict(stats.samples)
    samples.update(load.stats.samples)

    out = {
        "tool": "independent_load.py",
        "label": args.label,
        "chain_id": genesis["chain_id"],
        "nodes_in_network": len(members),
        "submit_nodes": [m.id for m in targets],
        "senders": [m.id for m in senders],
        "concurrency": args.concurrency,
        "inflight_max": args.inflight,
        "waiters_per_node": load.waiters_per_node,
        "sources": args.sources or 1,
        "duration_s": args.duration,
        "presigned": len(ids),
        "presign_s": round(presign_s, 3),
        "sent": len(sent),
        "admitted": len(admitted),
        "submit_tps": round(len(admitted) / submit_span_s, 1) if submit_span_s > 0 else 0.0,
        "refused_at_submit": refused,
        "refusal_messages": dict(load.refusals.samples),
        "committed": len(committed),
        "accepted": len(accepted),
        "rejected": dict(rejected),
        "rejected_messages": rejected_sample,
        "uncommitted": len(admitted) - len(committed),
        "committed_tps": round(committed_tps, 1),
        "measured_s": round(span_s, 3),
        "latency_ms_p50": round(percentile(latency_ms, 50), 1),
        "latency_ms_p90": round(percentile(latency_ms, 90), 1),
        "latency_ms_p99": round(percentile(latency_ms, 99), 1),
        "latency_ms_max": round(latency_ms[-1], 1) if latency_ms else 0.0,
        "blocks": blocks,
        "client_cpu_s": round(client_cpu_s, 2),
        "ran_out_of_txs": load.ran_out,
        "events": dict(events),
        "event_messages": samples,
    }
    w = 26
    print(f"independent_load: {len(members)}-node network {genesis['chain_id']}, submitting to "
          f"{','.join(m.id for m in targets)} on {args.concurrency} connections"
          f"{f' from {args.sources} source addresses' if args.sources else ''}, "
          f"at most {args.inflight or 'unbounded'} in flight, "
          + (f"{args.duration:g} s" if args.duration else f"{len(ids)} txs"))
    print(f"  {'pre-signed':<{w}}{len(ids)} anchors by {len(senders)} members in "
          f"{presign_s:.2f} s")
    print(f"  {'sent / admitted':<{w}}{len(sent)} / {len(admitted)} "
          f"({out['submit_tps']} admitted/s)")
    print(f"  {'refused at submit':<{w}}" + (", ".join(f"{c} {n}" for c, n in sorted(
        refused.items())) or "none"))
    for code, message in sorted(load.refusals.samples.items()):
        print(f"  {'':<{w}}  {code}: {message[:160]}")
    print(f"  {'committed':<{w}}{len(committed)} in {blocks} blocks (accepted {len(accepted)}; "
          f"rejected: {', '.join(f'{c} {n}' for c, n in rejected.items()) or 'none'}); "
          f"not seen committed {len(admitted) - len(committed)}")
    print(f"  {'committed tx/s':<{w}}{committed_tps:.1f} over {span_s:.2f} s "
          "(first submit to last commit)")
    print(f"  {'latency ms':<{w}}p50 {out['latency_ms_p50']}  p90 {out['latency_ms_p90']}  "
          f"p99 {out['latency_ms_p99']}  max {out['latency_ms_max']}")
    print(f"  {'client CPU':<{w}}{client_cpu_s:.1f} s during the load")
    print(f"  {'connection events':<{w}}" + (", ".join(
        f"{k} {n}" for k, n in sorted(events.items())) or "none"))
    for key, message in sorted(samples.items()):
        print(f"  {'':<{w}}  {key}: {message[:160]}")
    if load.ran_out:
        print("  note: ran out of pre-signed transactions before --duration ended")
    print(json.dumps(out, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
