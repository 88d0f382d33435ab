"""The attack cases of attack_test.py, one function per case, and CASES, the table of their names
in the order they run. A case takes its name (for the checks' text), holds its attack while the
nodes are probed and checks them; attack_test.py brings the network back between cases.

The run state is read as cluster.NAME (attack_cluster's globals) at call time; the bounds are
attack_cluster's constants. Used by attack_test.py.
"""
import collections
import os
import socket
import ssl
import struct
import threading
import time

import attack_cluster as cluster
from attack_cluster import (BLOCK_BYTES_MAX, COMMIT_S_MAX, HOLD_S, N, RECONNECT_S_MAX,
                            SLOW_PEER_INTERVAL_S, SLOW_PEER_S, STATUS_S_MAX, ConnFlood, HonestTx,
                            Prober, RpcError, Unreachable, call, kill_node, memory_kib,
                            memory_line, mib, node_alive, note, p2p_name, p2p_target, post,
                            signed_large_evidence, start_node, status_or_none, timed_status)
from netlib import expect, home


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
    count = 1100
    note(f"{case}: signing {count} consensus.evidence transactions of ~8.4 KB (the largest a valid "
         f"transaction gets) by {cluster.MEMBER[1]}")
    flood = [signed_large_evidence(1, i + 1) for i in range(count)]
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
    biggest, committed, committed_bytes, blocks = (0, 0), 0, 0, 0
    for h in range(h_start + 1, h_end + 1):
        b = call(1, "block", {"height": h}, timeout=10)
        in_flood = [t for t in b["txs"] if t in size_of]
        size = sum(size_of[t] for t in in_flood)
        committed += len(in_flood)
        committed_bytes += size
        blocks += 1
        biggest = max(biggest, (size, h))
    accepted = outcomes["accepted"]
    expect(accepted > 0 and committed == accepted,
           f"{case}: every accepted flood transaction is committed: {committed} of {accepted} "
           f"({committed_bytes / 1e6:.1f} MB)", fatal=False)
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
        note(f"{case}: killing node2 ({cluster.MEMBER[2]}) and starting it again while the flood "
             "is held")
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
                if ("to", k) not in first and s2 and cluster.MEMBER[k] in s2["peers"]:
                    first[("to", k)] = time.monotonic() - t_up
                if ("from", k) not in first:
                    sk = status_or_none(k)
                    if sk and cluster.MEMBER[2] in sk["peers"]:
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
    target = ("127.0.0.1", cluster.RPC_PORT[1])
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
    return f"colend-hello/v1\ngenesis: {cluster.GENESIS_HEX}\nmember: {member}\n".encode()


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
        self.listener = self.listen(cluster.P2P_PORT[k])
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
            s.sendall(frame(hello(cluster.MEMBER[self.k])))
            member = theirs.rsplit("member: ", 1)[-1].strip()
            with self.lock:
                old = self.accepted.get(member)
                self.accepted[member] = s
            if old:
                old.close()
        except (OSError, ssl.SSLError, ConnectionError):
            raw.close()

    def connect(self, target_k):
        raw = socket.create_connection(("127.0.0.1", cluster.P2P_PORT[target_k]), timeout=5)
        s = self.client_ctx.wrap_socket(raw)
        read_frame(s)  # the node's hello
        s.sendall(frame(hello(cluster.MEMBER[self.k])))
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
    limit_kib = cluster.ARGS.rss_mib_max * 1024
    stop_kib = 2 * limit_kib  # the flood stops here: the failure is shown, the host is spared
    note(f"{case}: stopping node5; the test takes {cluster.MEMBER[k_fake]}'s place with its TLS "
         "key")
    kill_node(k_fake)
    stand_in = StandIn(k_fake)
    prober = Prober([1, 2, 3, 4])
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not stand_in.held(cluster.MEMBER[k_target]):
            time.sleep(0.1)
        reader = stand_in.held(cluster.MEMBER[k_target])
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
               f"(limit {cluster.ARGS.rss_mib_max} MiB)", fatal=False)
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
