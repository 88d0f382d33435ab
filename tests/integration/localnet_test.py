#!/usr/bin/env python3
"""End-to-end test of a five-member colend network of real colend-node processes.

Proves, for one crypto suite (--suite std|sm):
  - an anchored file commits; every node reports the same block hash at that height; the block
    carries >= 3 endorsements of distinct members, each verified here with the openssl CLI over
    the canonical vote text, whose block hash is the SHA-256 of the stored header text;
  - with 2 of 5 nodes killed it still commits; with 3 killed it does not and the CLI says so;
    with one of them restarted it commits again;
  - after stopping and restarting every node, heights and blocks are intact and lagging nodes
    catch up;
  - bad input (missing file, malformed JSON-RPC, unknown method, oversized request, a transaction
    signed by a non-member or with a forged signature, a replayed transaction, personal data or
    a bidi control in a field) gets a clear error, the nodes keep running and stored data is
    unchanged.
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import netlib
from netlib import (anchor_tx_body as tx_body, colend, colend_json, expect, home,
                    signed_tx_wire)

ARGS = None
DIR = None
QUORUM = 3


def rpc_port(k):
    with open(os.path.join(home(k), "config.json")) as f:
        return json.load(f)["rpc_port"]


def http_post(k, body: bytes, content_type="application/json"):
    req = urllib.request.Request(f"http://127.0.0.1:{rpc_port(k)}/", data=body,
                                 headers={"Content-Type": content_type}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        text = e.read()
        try:
            return e.code, json.loads(text)
        except ValueError:
            return e.code, text


def rpc(k, method, params=None):
    status, reply = http_post(k, json.dumps({"jsonrpc": "2.0", "id": 1, "method": method,
                                             "params": params or {}}).encode())
    return reply


def status(k):
    return colend_json("--home", home(k), "status")


def wait_until(what, predicate, timeout_s=60):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        try:
            if predicate():
                return True
        except Exception:
            pass
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for: {what}")


def write_file(name, content: bytes):
    path = os.path.join(DIR, name)
    with open(path, "wb") as f:
        f.write(content)
    return path


def anchor(k, name, content, timeout=30, check=True):
    path = write_file(name, content)
    return colend("--home", home(k), "evidence", "anchor", "--file", path, "--timeout",
                  str(timeout), "--json", check=check, timeout=timeout + 60)


# ---- independent checks with the openssl CLI ------------------------------------------------

def member_pubkeys():
    with open(os.path.join(DIR, "genesis.json")) as f:
        genesis = json.load(f)
    keys = {}
    for m in genesis["members"]:
        cert = write_file(f"{m['id']}-signing.pem", m["signing_certificate"].encode())
        pub = os.path.join(DIR, f"{m['id']}-signing.pub")
        subprocess.run(["openssl", "x509", "-in", cert, "-pubkey", "-noout", "-out", pub],
                       check=True)
        keys[m["id"]] = pub
    return genesis, keys


def sign_with(key_path, body):
    return netlib.openssl_sign(key_path, body, ARGS.suite)


def vote_text(chain_id, height, rnd, block_hash):
    return (f"colend-vote/v1\nchain-id: {chain_id}\nepoch: 0\nheight: {height}\nround: {rnd}\n"
            f"phase: precommit\nblock-hash: {block_hash}\n").encode()


def check_block_certificate(block, genesis, keys):
    header = block["header"].encode()
    expect(hashlib.sha256(header).hexdigest() == block["hash"],
           f"block {block['height']}: sha256(header text) is the block hash")
    members = [e["member"] for e in block["endorsements"]]
    expect(len(set(members)) == len(members) and len(members) >= QUORUM,
           f"block {block['height']}: {len(members)} endorsements of distinct members (>= {QUORUM})")
    text = vote_text(genesis["chain_id"], block["height"], block["certificate_round"],
                     block["hash"])
    valid = sum(netlib.openssl_verify(keys[e["member"]], text, bytes.fromhex(e["signature"]),
                                      ARGS.suite)
                for e in block["endorsements"])
    expect(valid == len(members), f"block {block['height']}: openssl verifies all {valid} "
           "endorsement signatures over the canonical vote text")


# ---- scenario -------------------------------------------------------------------------------

def scenario():
    print("consensus timing flags of localnet init are checked", flush=True)
    bad_dir = os.path.join(DIR, "bad-timing")
    for flags, named in ((["--timeout-propose-ms", "10"], "timeout_propose_ms = 10 is outside"),
                         (["--block-interval-ms", "5x"], "--block-interval-ms must be a whole"),
                         (["--block-txs-max", "0"], "--block-txs-max must be a whole number"),
                         (["--block-txs-max", "+250"], "not '+250'"),
                         (["--block-txs-max", "100001"], "from 1 to 100000, not '100001'")):
        p = colend("localnet", "init", "--dir", bad_dir, *flags, check=False)
        expect(p.returncode == 1 and named in p.stderr and not os.path.exists(bad_dir),
               f"localnet init {' '.join(flags)}: exit 1, names the problem, writes nothing")
    small_dir = os.path.join(DIR, "small-blocks")
    colend("localnet", "init", "--dir", small_dir, "--block-txs-max", "250")
    with open(os.path.join(small_dir, "genesis.json")) as f:
        small = json.load(f)["consensus"]["block_txs_max"]
    expect(small == 250, f"localnet init --block-txs-max 250 writes block_txs_max {small}")
    shutil.rmtree(small_dir)
    print(f"suite {ARGS.suite}: initialising five nodes in {DIR}", flush=True)
    colend("localnet", "init", "--dir", DIR, "--nodes", "5", "--suite", ARGS.suite,
           "--quorum", ARGS.quorum)
    colend("localnet", "up", "--dir", DIR)
    genesis, keys = member_pubkeys()
    for k in range(1, 6):
        s = status(k)
        expect(len(s["peers"]) == 4 and s["chain_id"] == genesis["chain_id"],
               f"node{k} is connected to 4 peers on chain {s['chain_id']}")
    # The five nodes hold the same data: LevelDB write buffers of one size would fill, flush and
    # merge on all of them at the same moment (docs/operations.md, "Store memory").
    buffers = []
    for k in range(1, 6):
        with open(os.path.join(home(k), "node.log")) as f:
            m = re.search(r"store write buffer (\d+) MiB", f.read())
        buffers.append(int(m.group(1)) if m else None)
    expect(None not in buffers and len(set(buffers)) == 5 and max(buffers) <= 20,
           f"each node's store has a write buffer of its own size, at most 20 MiB: {buffers}")

    # The signing lease is rewritten before every vote for a later step: in place (the same file),
    # with a sha256 line over the lines above it (docs/consensus.md §10).
    lease_inode = os.stat(os.path.join(home(4), "signing-lease")).st_ino
    lease_height = int(read_lease(4)[1]["height"])

    print("anchor a file with all five up", flush=True)
    r = json.loads(anchor(1, "contract-1.pdf", b"loan contract #1").stdout)
    height = r["height"]
    expect(r["status"] == "committed" and r["accepted"], f"anchored at height {height}")
    blocks = [colend_json("--home", home(k), "block", str(height)) for k in range(1, 6)]
    expect(len({b["hash"] for b in blocks}) == 1, "all five nodes report the same block hash")
    expect(r["tx"] in blocks[0]["txs"], "the block lists the transaction id")
    check_block_certificate(blocks[0], genesis, keys)
    t = colend_json("--home", home(3), "tx", r["tx"])
    expect(t["status"] == "committed" and t["height"] == height, "node3 reports the tx committed")

    down = 5 - QUORUM  # members that may be down while the rest still commit
    print(f"kill {down} of 5 ({ARGS.quorum}, quorum {QUORUM}): still commits", flush=True)
    for k in range(5, 5 - down, -1):
        colend("localnet", "down", "--dir", DIR, "--node", str(k), "--kill")
    r2 = json.loads(anchor(1, "contract-2.pdf", b"loan contract #2", timeout=60).stdout)
    expect(r2["accepted"], f"with {QUORUM} of 5 up, committed at height {r2['height']}")
    check_block_certificate(colend_json("--home", home(2), "block", str(r2["height"])),
                            genesis, keys)

    print(f"kill {down + 1} of 5: halts safely (does not commit), and the CLI says so", flush=True)
    colend("localnet", "down", "--dir", DIR, "--node", str(5 - down), "--kill")
    p = anchor(1, "contract-3.pdf", b"loan contract #3", timeout=6, check=False)
    expect(p.returncode != 0 and "not committed" in p.stderr,
           f"exit {p.returncode}: {p.stderr.strip()}")
    stuck_height = status(1)["height"]

    print("restart one: commits again", flush=True)
    colend("localnet", "up", "--dir", DIR, "--node", str(5 - down))
    r4 = json.loads(anchor(1, "contract-4.pdf", b"loan contract #4", timeout=90).stdout)
    expect(r4["height"] > stuck_height, f"committed at height {r4['height']} after the restart")

    bad_input(genesis, keys)

    print("stop and restart every node: data intact, laggards catch up", flush=True)
    before = {k: status(k)["height"] for k in (1, 2, 3)}
    tip = max(before.values())
    tip_hash = colend_json("--home", home(1), "block", str(tip))["hash"]
    colend("localnet", "down", "--dir", DIR)
    colend("localnet", "up", "--dir", DIR)
    for k in range(1, 6):
        wait_until(f"node{k} reaches height {tip}", lambda: status(k)["height"] >= tip, 60)
        b = colend_json("--home", home(k), "block", str(tip))
        expect(b["hash"] == tip_hash, f"node{k} holds block {tip} with the same hash")
    r5 = json.loads(anchor(5, "contract-5.pdf", b"loan contract #5", timeout=60).stdout)
    expect(r5["accepted"], f"node5 (caught up) anchors at height {r5['height']}")
    hashes = set()
    for k in range(1, 6):
        wait_until(f"node{k} at {r5['height']}", lambda: status(k)["height"] >= r5["height"], 30)
        hashes.add(colend_json("--home", home(k), "block", str(r5["height"]))["hash"])
    expect(len(hashes) == 1, "all five nodes agree on the newest block")

    wiped_member(genesis, lease_inode, lease_height)


def read_lease(k):
    """node k's signing lease: its text, and its "key value" lines after the first as a dict."""
    text = open(os.path.join(home(k), "signing-lease")).read()
    return text, dict(line.split(" ", 1) for line in text.splitlines()[1:])


def wiped_member(genesis, lease_inode, lease_height):
    """F11: node4's data is wiped (key kept). It must sync and sign nothing below the floor it
    derives from its peers' heights, and the chain must keep committing."""
    print("F11: node4's data wiped, key kept: syncs, refuses to sign until it is safe", flush=True)
    member4 = json.load(open(os.path.join(home(4), "config.json")))["member_id"]
    colend("localnet", "down", "--dir", DIR, "--node", "4", "--kill")
    shutil.rmtree(os.path.join(home(4), "data"))
    tip = status(1)["height"]
    # The lease outside data/ names the highest height node4 may have signed at (it is written
    # before anything is signed): the floor must be above it, and above the tip.
    lease_text, lease = read_lease(4)
    leased = int(lease["height"])
    body = lease_text[:lease_text.rindex("sha256 ")]
    expect(lease_text.startswith("colend-signing-lease/v2\n")
           and lease["sha256"] == hashlib.sha256(body.encode()).hexdigest(),
           "node4's lease is v2 and its sha256 line is the SHA-256 of the lines above it")
    expect(os.stat(os.path.join(home(4), "signing-lease")).st_ino == lease_inode
           and leased > lease_height,
           f"node4 rewrote its lease in place from height {lease_height} to {leased}")
    colend("localnet", "up", "--dir", DIR, "--node", "4")
    wait_until("node4 reports its signing floor", lambda: status(4)["consensus"]["sign_floor"] > 0, 30)
    floor = status(4)["consensus"]["sign_floor"]
    log = open(os.path.join(home(4), "node.log")).read()
    expect("signing history unknown" in log and "signing floor recovered" in log,
           f"node4 logs that its history is unknown, then its floor: signing from height {floor}")
    expect(floor > leased and floor > tip,
           f"floor {floor} is above every height it could have signed (lease {leased}, tip {tip})")
    wait_until(f"node4 syncs to height {tip}", lambda: status(4)["height"] >= tip, 60)
    # Commit blocks past the floor; node4 must not endorse any height below it.
    last = None
    while status(1)["height"] < floor + 1:
        last = json.loads(anchor(1, f"after-wipe-{status(1)['height']}.pdf",
                                 os.urandom(16), timeout=60).stdout)
    expect(last is None or last["accepted"], "the chain keeps committing with a wiped member")
    end = status(1)["height"]
    wait_until(f"node4 reaches height {end}", lambda: status(4)["height"] >= end, 60)
    signed_below = []
    for h in range(tip + 1, end + 1):
        b = colend_json("--home", home(4), "block", str(h))
        members = [e["member"] for e in b["endorsements"]]
        if member4 in members and h < floor:
            signed_below.append(h)
    expect(not signed_below, f"{member4} endorsed no block below height {floor} (checked {tip + 1}..{end})")
    f = colend_json("--home", home(4), "faults")
    expect(f["faults"] == [], "no equivocation on chain: 'colend faults --json' lists none")


def bad_input(genesis, keys):
    print("bad input: clear errors, nodes keep running, stored data unchanged", flush=True)
    h0 = status(1)["height"]
    p = colend("--home", home(1), "evidence", "anchor", "--file", os.path.join(DIR, "nope.pdf"),
               check=False)
    expect(p.returncode != 0 and "cannot read" in p.stderr, f"missing file: {p.stderr.strip()}")
    code, reply = http_post(1, b'{"jsonrpc": "2.0", "method": ')
    expect(reply["error"]["code"] == -32700, f"malformed JSON-RPC: {reply['error']['message']}")
    reply = rpc(1, "steal_all_money")
    expect(reply["error"]["code"] == -32601, f"unknown method: {reply['error']['message']}")
    code, reply = http_post(1, b'{"jsonrpc":"2.0","id":1,"method":"status","params":{"x":"' +
                            b"A" * (9 << 20) + b'"}}')
    expect(code == 413, f"oversized request: HTTP {code}")
    p = colend("--home", home(1), "block", "not-a-number", check=False)
    expect(p.returncode != 0 and "HEIGHT" in p.stderr, f"bad height: {p.stderr.strip()}")

    chain = genesis["chain_id"]
    outsider = os.path.join(DIR, "outsider.key")
    if ARGS.suite == "std":
        subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-out", outsider], check=True)
    else:
        subprocess.run(["openssl", "genpkey", "-algorithm", "SM2", "-out", outsider], check=True)
    digest = hashlib.sha256(b"forged").hexdigest()
    body = tx_body(chain, "mallory", 1, digest)
    reply = rpc(1, "submit", {"tx": signed_tx_wire(body, sign_with(outsider, body)).hex()})
    expect(reply["error"]["data"]["code"] == "unknown-sender",
           f"non-member sender: {reply['error']['message']}")
    body = tx_body(chain, "lead-bank", 2, digest)
    reply = rpc(1, "submit", {"tx": signed_tx_wire(body, sign_with(outsider, body)).hex()})
    expect(reply["error"]["data"]["code"] == "bad-signature",
           f"member name, outsider's key: {reply['error']['message']}")
    reply = rpc(1, "submit", {"tx": "zz"})
    expect("error" in reply, f"non-hex tx: {reply['error']['message']}")

    # A transaction signed here with node1's key (openssl): commits once, its replay is refused.
    body = tx_body(chain, "lead-bank", 3, hashlib.sha256(b"replayed").hexdigest())
    wire = signed_tx_wire(body, sign_with(os.path.join(home(1), "signing.key"), body)).hex()
    reply = rpc(1, "submit", {"tx": wire})
    expect(reply.get("result", {}).get("status") == "pending", "a tx signed with openssl is accepted")
    txid = reply["result"]["tx"]
    expect(txid == hashlib.sha256(body).hexdigest(), "tx id is the SHA-256 of the signed body")
    wait_until("the openssl-signed tx commits",
               lambda: rpc(1, "tx", {"id": txid})["result"]["status"] == "committed", 60)
    for k in (1, 2):
        reply = rpc(k, "submit", {"tx": wire})
        error = reply.get("error") or {}
        expect((error.get("data") or {}).get("code") == "duplicate-transaction" and
               "is already committed" in error.get("message", ""),
               f"replay to node{k} refused: {error.get('message') or reply}")

    # Personal data or a bidi control in a field (issue 13, docs/transactions.md): refused by name
    # at admission, by the CLI before it signs and by the node for a transaction signed elsewhere,
    # and never repeated in the refusal; no block holds it (the height check below).
    zhang = "Zhang San ID 110101199003071234 phone 13800138000"
    p = colend("--home", home(1), "evidence", "anchor", "--file", write_file("zs.pdf", b"zs"),
               "--name", zhang, check=False)
    expect(p.returncode == 2 and "[personal-data]" in p.stderr
           and "110101199003071234" not in p.stderr,
           f"CLI anchor --name with an ID and a phone number: exit {p.returncode}, "
           f"{p.stderr.splitlines()[0] if p.stderr else ''}")
    key1 = os.path.join(home(1), "signing.key")
    for nonce, name, code in ((4, zhang, "personal-data"),
                              (5, "contract\u202efdp.exe", "bidi-control")):
        body = tx_body(chain, "lead-bank", nonce, hashlib.sha256(name.encode()).hexdigest(), name)
        reply = rpc(1, "submit", {"tx": signed_tx_wire(body, sign_with(key1, body)).hex()})
        error = reply.get("error", {})
        expect(error.get("data", {}).get("code") == code
               and "110101199003071234" not in error.get("message", ""),
               f"signed with openssl, a {code} document-name: {error.get('message')}")
    h1 = status(1)["height"]
    time.sleep(1.5)
    expect(status(1)["height"] == h1, "rejected input made no block")
    for k in (1, 2, 3):
        expect("height" in status(k), f"node{k} still running")
    expect(h1 == h0 + 1, f"exactly one block (the accepted tx) was added: {h0} -> {h1}")

    # A production genesis (no --dev-clock) refuses to move the business date by hand.
    day = colend_json("--home", home(1), "clock", "show")["business_day"]
    p = colend("--home", home(1), "clock", "advance", "--days", "30", check=False)
    expect(p.returncode == 1 and "dev-clock-disabled" in p.stderr,
           f"clock advance on a production genesis: {p.stderr.strip()}")
    expect(colend_json("--home", home(2), "clock", "show")["business_day"] == day,
           "the business date did not move")


def main():
    global ARGS, DIR, QUORUM
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--suite", default="std", choices=["std", "sm"])
    parser.add_argument("--quorum", default="majority", choices=["majority", "two-thirds"])
    parser.add_argument("--keep", action="store_true", help="keep the network directory")
    ARGS = parser.parse_args()
    QUORUM = 3 if ARGS.quorum == "majority" else 4
    if shutil.which("openssl") is None:
        print("the openssl command-line tool is required", file=sys.stderr)
        return 1
    DIR = tempfile.mkdtemp(prefix=f"colend-it-{ARGS.suite}-")
    netlib.configure(ARGS.bin, DIR)
    return netlib.run_network_test(scenario, keep=ARGS.keep, failures=(AssertionError,))


if __name__ == "__main__":
    sys.exit(main())
