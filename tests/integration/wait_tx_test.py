#!/usr/bin/env python3
"""wait_tx (issue 15 item 2): a client waits for a commit without polling, on five real nodes.

Proves:
  - a wait_tx opened on one node before the transaction is submitted to another answers at the
    commit: committed, accepted, at the height `tx` reports, within a second of the block's time
    and long before its own timeout (a node that never wakes its waiters fails here, and in the
    CLI check below, which then runs into its --timeout);
  - the CLI (`colend evidence anchor`) waits with it and still prints what it printed;
  - "ids" answers at once when one of them is committed, with the others pending;
  - an unknown id answers after timeout_ms with "timed_out": true; timeout_ms 0 answers at once;
  - bad params and a timeout_ms above the limit are invalid-params naming the limit;
  - the node keeps at most 128 waiting calls: the next gets "too-many-waiters" while the node
    keeps answering other calls at once (the waits do not hold its io thread); once they have
    timed out, waiting works again;
  - and at most 32 from one source address (half of the 64 connections the RPC server lets one
    address hold): the 33rd from 127.0.0.1 is refused naming the limit, while `status`, /health
    and the CLI still get in from 127.0.0.1 (64 waits from there used to lock every local client
    out until they timed out);
  - a wait listing one id 1,024 times costs no more to finish than one listing it once: 32 such
    waits on one id, timing out newest first, leave `status` answering at once (each used to scan
    every other waiter's copies of the id, and froze the node for seconds).
"""
import argparse
import hashlib
import json
import os
import socket
import sys
import tempfile
import threading
import time
import urllib.request

import netlib
from netlib import anchor_tx_body, colend, colend_json, expect, home, openssl_sign, signed_tx_wire

WAITERS_MAX = 128   # node/node_impl.h kRpcWaitersMax
WAITERS_PER_CLIENT_MAX = 32  # kRpcWaitersPerClientMax
TIMEOUT_MAX = 60000  # kWaitTimeoutMsMax


def rpc_port(k):
    with open(os.path.join(home(k), "config.json")) as f:
        return json.load(f)["rpc_port"]


def rpc(k, method, params, timeout=70):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{rpc_port(k)}/", data=body,
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())


def timed(fn, *args, **kw):
    t0 = time.time()
    out = fn(*args, **kw)
    return out, time.time() - t0


def chain_id():
    with open(os.path.join(home(1), "genesis.json")) as f:
        return json.load(f)["chain_id"]


def make_anchor(k, member, label):
    digest = hashlib.sha256(f"{label} {time.time()}".encode()).hexdigest()
    body = anchor_tx_body(chain_id(), member, int.from_bytes(os.urandom(6), "big"), digest,
                          name=label)
    wire = signed_tx_wire(body, openssl_sign(os.path.join(home(k), "signing.key"), body))
    return hashlib.sha256(body).hexdigest(), wire.hex()


def raw_wait(port, source, tx_id, timeout_ms, params=None):
    """Sends a wait_tx on a new connection from `source` and leaves it waiting."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0))
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "wait_tx",
                       "params": params or {"id": tx_id, "timeout_ms": timeout_ms}}).encode()
    s.sendall(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
              b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    return s


def scenario():
    colend("localnet", "init", "--dir", netlib.DIR, "--nodes", "5")
    colend("localnet", "up", "--dir", netlib.DIR)

    # 1. A wait opened first answers at the commit.
    tx_id, wire = make_anchor(1, "lead-bank", "wait-first.pdf")
    answer = {}

    def waiter():
        answer["reply"], answer["seconds"] = timed(rpc, 2, "wait_tx",
                                                   {"id": tx_id, "timeout_ms": 30000})
        answer["at_ms"] = int(time.time() * 1000)

    thread = threading.Thread(target=waiter)
    thread.start()
    time.sleep(0.5)  # the wait is in place before the transaction exists
    submitted = rpc(1, "submit", {"tx": wire})
    expect(submitted.get("result", {}).get("status") == "pending", f"submitted: {submitted}")
    thread.join(40)
    reply = answer.get("reply", {})
    result = reply.get("result", {})
    expect(result.get("status") == "committed" and result.get("timed_out") is False,
           f"wait_tx answered with the commit after {answer.get('seconds', 0):.2f} s: {reply}")
    expect(result.get("accepted") is True and result.get("code") == "ok",
           "the answer carries the receipt (accepted, code ok)")
    tx = rpc(2, "tx", {"id": tx_id})["result"]
    expect(result.get("height") == tx["height"], f"same height as tx: {tx['height']}")
    block = rpc(2, "block", {"height": tx["height"]})["result"]
    late_ms = answer["at_ms"] - block["timestamp"]
    expect(late_ms < 1500,
           f"answered {late_ms} ms after the block's time (at the commit, not at the 30 s timeout)")

    # 2. The CLI waits with wait_tx; its output is unchanged.
    with tempfile.NamedTemporaryFile(suffix=".pdf", delete=False) as f:
        f.write(b"a contract " + os.urandom(8))
        doc = f.name
    p, seconds = timed(colend, "--home", home(3), "evidence", "anchor", "--file", doc,
                       "--name", "cli-wait.pdf", "--timeout", "20", check=False)
    expect(p.returncode == 0 and "status committed" in p.stdout and "result accepted (ok)" in p.stdout
           and "document sha256" in p.stdout,
           f"colend evidence anchor exits 0 after {seconds:.2f} s and prints the receipt:\n{p.stdout}{p.stderr}")
    with open(doc, "wb") as f:
        f.write(b"another contract " + os.urandom(8))
    out = colend_json("--home", home(3), "evidence", "anchor", "--file", doc, "--name", "cli-wait2.pdf")
    tx_answer = rpc(3, "tx", {"id": out.get("tx", "")})["result"]
    expect(out.get("status") == "committed" and out.get("accepted") is True
           and set(out) == set(tx_answer) | {"document_sha256"},
           "--json prints the node's tx answer, as before")

    # 3. Several ids: answered at once when one is committed.
    unknown = hashlib.sha256(b"never submitted").hexdigest()
    reply, seconds = timed(rpc, 4, "wait_tx", {"ids": [tx_id, unknown], "timeout_ms": 20000})
    r = reply.get("result", {})
    expect(seconds < 2 and [c["tx"] for c in r.get("committed", [])] == [tx_id]
           and r.get("pending") == [unknown] and r.get("timed_out") is False,
           f"ids: answered in {seconds:.2f} s with one committed, one pending: {reply}")

    # 4. Timeouts.
    reply, seconds = timed(rpc, 5, "wait_tx", {"id": unknown, "timeout_ms": 600})
    r = reply.get("result", {})
    expect(r.get("timed_out") is True and r.get("status") == "unknown" and 0.55 <= seconds < 5,
           f"an unknown id times out after {seconds:.2f} s: {reply}")
    reply, seconds = timed(rpc, 5, "wait_tx", {"id": unknown, "timeout_ms": 0})
    expect(reply.get("result", {}).get("timed_out") is True and seconds < 1,
           "timeout_ms 0 answers at once")

    # 5. Bad params and the timeout limit.
    for params, what in [({"id": tx_id, "timeout_ms": TIMEOUT_MAX + 1}, "timeout_ms above the limit"),
                         ({"id": tx_id, "timeout_ms": -1}, "a negative timeout_ms"),
                         ({"id": "xyz"}, "a malformed id"),
                         ({"id": tx_id, "ids": [tx_id]}, "both id and ids"),
                         ({"ids": [tx_id] * 1025}, "more than 1024 ids"),
                         ({}, "no id")]:
        reply = rpc(1, "wait_tx", params)
        err = reply.get("error", {})
        expect(err.get("code") == -32602, f"{what}: invalid params: {err.get('message')}")
    reply = rpc(1, "wait_tx", {"id": tx_id, "timeout_ms": TIMEOUT_MAX + 1})
    expect(str(TIMEOUT_MAX) in reply["error"]["message"], "the error names the limit")
    # A client's own text is repeated in an error up to 128 bytes, not 100,000 (kEchoedTextMax).
    reply = rpc(1, "m" * 100000, {})
    message = reply.get("error", {}).get("message", "")
    expect(reply.get("error", {}).get("code") == -32601 and "m" * 128 + "..." in message
           and len(message) < 400, f"an unknown 100,000-byte method name is echoed in "
           f"{len(message)} bytes")
    reply = rpc(1, "evidence_export", {"loan": "L" * 100000})
    message = reply.get("error", {}).get("message", "")
    expect(reply.get("error", {}).get("code") == -32602 and "at most 128" in message
           and len(message) < 400, f"a 100,000-byte loan id is refused in {len(message)} bytes: "
           f"{message[:100]}")

    # 6. At most 128 waiting calls; the node keeps answering meanwhile.
    port = rpc_port(5)
    held = []
    for i in range(WAITERS_MAX):
        source = f"127.0.0.{2 + i // 32}"  # 32 a source address: under the per-client limit
        held.append(raw_wait(port, source, hashlib.sha256(f"w{i}".encode()).hexdigest(), 6000))
    time.sleep(1.0)
    reply, seconds = timed(rpc, 5, "wait_tx", {"id": unknown, "timeout_ms": 1000})
    err = reply.get("error", {})
    expect(err.get("data", {}).get("code") == "too-many-waiters" and seconds < 1,
           f"wait {WAITERS_MAX + 1} is refused at once: {err.get('message')}")
    status, seconds = timed(rpc, 5, "status", {})
    expect("result" in status and seconds < 1,
           f"status answers in {seconds * 1000:.0f} ms while {WAITERS_MAX} calls wait")
    reply, seconds = timed(rpc, 5, "wait_tx", {"id": tx_id, "timeout_ms": 1000})
    expect(reply.get("result", {}).get("status") == "committed" and seconds < 1,
           "a wait for a committed transaction is answered at once, even then")
    for s in held:
        s.close()
    time.sleep(6.0)  # the held waits time out on the node
    reply = rpc(5, "wait_tx", {"id": unknown, "timeout_ms": 100})
    expect(reply.get("result", {}).get("timed_out") is True, "after they timed out, waiting works again")

    # 7. At most 32 waiting calls from one address: of 64 sent from 127.0.0.1 (every connection
    # that address may hold), 32 wait and 32 are refused at once, so the address can still get in.
    sent = [raw_wait(port, "127.0.0.1", hashlib.sha256(f"local{i}".encode()).hexdigest(), 4000)
            for i in range(2 * WAITERS_PER_CLIENT_MAX)]
    time.sleep(1.0)
    refused, messages = [], set()
    for s in sent:
        s.setblocking(False)
        try:
            data = s.recv(1 << 16)
        except BlockingIOError:
            continue  # still waiting
        if b"too-many-waiters" in data:
            refused.append(s)
            messages.add(json.loads(data.split(b"\r\n\r\n", 1)[1])["error"]["message"])
    expect(len(refused) == WAITERS_PER_CLIENT_MAX and len(messages) == 1 and
           f"the most one address may ({WAITERS_PER_CLIENT_MAX}" in next(iter(messages), ""),
           f"of {2 * WAITERS_PER_CLIENT_MAX} waits from 127.0.0.1, {len(refused)} are refused at "
           f"once: {messages}")
    status, seconds = timed(rpc, 5, "status", {})
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10) as r:
        health = r.status
    p = colend("--home", home(5), "status", check=False)
    expect("result" in status and seconds < 1 and health == 200 and p.returncode == 0,
           f"with {WAITERS_PER_CLIENT_MAX} calls waiting from 127.0.0.1, status answers from there "
           f"in {seconds * 1000:.0f} ms, /health {health}, colend status exit {p.returncode}")
    for s in sent:
        s.close()
    time.sleep(4.0)  # the held waits time out on the node

    # 8. 32 waits listing one id 1,024 times each, timing out newest first (1.5 s to 2.8 s).
    repeated = hashlib.sha256(b"repeated id").hexdigest()
    held = [raw_wait(port, "127.0.0.9", None, None,
                     {"ids": [repeated] * 1024, "timeout_ms": 2800 - 40 * i})
            for i in range(WAITERS_PER_CLIENT_MAX)]
    time.sleep(1.3)
    slowest = 0.0
    t_end = time.time() + 2.5  # past the last timeout (2.8 s after they were sent)
    while time.time() < t_end:
        _, seconds = timed(rpc, 5, "status", {}, timeout=60)
        slowest = max(slowest, seconds)
        time.sleep(0.05)
    answered = 0
    for s in held:
        s.settimeout(10)
        try:
            if b'"timed_out":true' in s.recv(1 << 20):
                answered += 1
        except OSError:
            pass
        s.close()
    expect(slowest < 1 and answered == WAITERS_PER_CLIENT_MAX,
           f"while 32 waits on one id listed 1,024 times each timed out, status answered within "
           f"{slowest * 1000:.0f} ms at worst; {answered} of them answered timed_out")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    net_dir = tempfile.mkdtemp(prefix="colend-wait-")
    netlib.configure(args.bin, net_dir)
    return netlib.run_network_test(scenario, keep=args.keep, failures=(AssertionError, OSError))


if __name__ == "__main__":
    sys.exit(main())
