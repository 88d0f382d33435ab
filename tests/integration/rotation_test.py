#!/usr/bin/env python3
"""Key rotation on a running five-node network (docs/consensus.md §7.3; issue 16 item 6).

payee-bank replaces its TLS and signing certificates without leaving the consortium
(`colend localnet rekey` stages the new keys beside the old; `member propose --rotate` and two
approvals start the next epoch), while other members keep submitting transactions. Proves:
  - no block is lost and no acknowledged transaction is lost: every anchor the CLI reported
    committed during the rotation is in a block, and the chain is continuous;
  - from the new epoch on, payee-bank's node signs with the new key: its endorsements verify (with
    openssl) under the rotated certificate and not under the old one, and a transaction it sends
    is accepted; blocks before the epoch keep verifying with the old key of their own epoch's
    document (chainlib.verify_chain: every block, every endorsement, openssl);
  - its peers reconnect to it under the new TLS certificate (the certificate its P2P port
    presents is the rotated one, seen with openssl s_client);
  - it keeps signing after a restart with both the old and the staged files in its home;
  - a rotation that would give a member another member's certificate, change its role, rotate a
    non-member or change nothing is refused, with the proposal left unrecorded.
"""
import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import netlib
from chainlib import public_key, status, verify_chain
from netlib import colend, colend_json, expect, home

ROTATED = 3  # payee-bank


def anchor(k, name, check=True):
    path = os.path.join(netlib.DIR, name)
    with open(path, "wb") as f:
        f.write(f"{name} {time.time()}".encode())
    return colend("--home", home(k), "evidence", "anchor", "--file", path, "--timeout", "40",
                  "--json", check=check, timeout=100)


def member(k, *argv, check=True):
    return colend("--home", home(k), "member", *argv, check=check, timeout=120)


def p2p_certificate_sha256(k):
    """The SHA-256 of the certificate node k's P2P port presents, as openssl s_client sees it."""
    with open(os.path.join(home(k), "config.json")) as f:
        port = json.load(f)["p2p_port"]
    other = home(1)
    p = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-tls1_3",
                        "-cert", os.path.join(other, "tls.pem"), "-key", os.path.join(other, "tls.key"),
                        "-CAfile", os.path.join(netlib.DIR, "ca.pem"), "-showcerts"],
                       input="", capture_output=True, text=True, timeout=30)
    begin = p.stdout.find("-----BEGIN CERTIFICATE-----")
    end = p.stdout.find("-----END CERTIFICATE-----")
    if begin < 0:
        expect(False, f"node{k}'s P2P port presents a certificate: {p.stderr[-300:]}")
    pem = p.stdout[begin:end + len("-----END CERTIFICATE-----")] + "\n"
    der = subprocess.run(["openssl", "x509", "-outform", "DER"], input=pem.encode(),
                         capture_output=True, check=True).stdout
    return hashlib.sha256(der).hexdigest()


def cert_sha256(pem_path):
    der = subprocess.run(["openssl", "x509", "-in", pem_path, "-outform", "DER"],
                         capture_output=True, check=True).stdout
    return hashlib.sha256(der).hexdigest()


def refused(k, proposal, member_obj, why):
    path = os.path.join(netlib.DIR, f"{proposal}.json")
    with open(path, "w") as f:
        json.dump(member_obj, f)
    p = member(k, "propose", "--id", proposal, "--rotate", path, "--json", check=False)
    expect(p.returncode != 0 and why in (p.stdout + p.stderr),
           f"rotation '{proposal}' refused ({why}): exit {p.returncode}")
    p = member(k, "approve", proposal, check=False)
    expect(p.returncode != 0 and "unknown-proposal" in (p.stdout + p.stderr),
           f"proposal '{proposal}' was not recorded")


def scenario():
    colend("localnet", "init", "--dir", netlib.DIR, "--nodes", "5")
    colend("localnet", "up", "--dir", netlib.DIR)
    anchor(1, "before.txt")
    old_tls = cert_sha256(os.path.join(home(ROTATED), "tls.pem"))
    expect(p2p_certificate_sha256(ROTATED) == old_tls, "before: node3 presents its genesis TLS certificate")

    out = colend_json("localnet", "rekey", "--dir", netlib.DIR, "--node", str(ROTATED))
    with open(out["member_json"]) as f:
        rotated = json.load(f)
    with open(os.path.join(home(ROTATED), "member.json")) as f:
        original = json.load(f)
    with open(os.path.join(home(1), "member.json")) as f:
        lead = json.load(f)
    expect(rotated["id"] == "payee-bank" and rotated["signing_certificate"] != original["signing_certificate"],
           "rekey staged new certificates for payee-bank")

    # Refusals first: nothing of these is recorded.
    refused(1, "steal-tls", dict(rotated, tls_certificate=lead["tls_certificate"]), "belongs to member")
    refused(1, "new-role", dict(rotated, role="lead_bank"), "keeps the member's name and role")
    refused(1, "same-keys", original, "no-change")
    refused(1, "stranger", dict(rotated, id="stranger-bank"), "not-a-member")

    # Load during the rotation: anchors from lead-bank and partner-bank, each acknowledged.
    acked, failures, stop = [], [], threading.Event()

    def load(k):
        n = 0
        while not stop.is_set():
            n += 1
            p = anchor(k, f"load-{k}-{n}.txt", check=False)
            if p.returncode == 0:
                acked.append(json.loads(p.stdout)["tx"])
            else:
                failures.append(p.stderr[-200:])
            time.sleep(0.2)

    threads = [threading.Thread(target=load, args=(k,)) for k in (1, 2)]
    for t in threads:
        t.start()
    p = member(1, "propose", "--id", "rotate-payee", "--rotate", out["member_json"], "--json")
    expect(json.loads(p.stdout)["outputs"]["rotates"] == "tls,signing", "the proposal rotates both certificates")
    member(2, "approve", "rotate-payee")
    tx = json.loads(member(4, "approve", "rotate-payee", "--json").stdout)
    start = int(tx["outputs"]["start-height"])
    expect(tx["outputs"]["epoch"] == "1" and tx["outputs"]["members"] == "5",
           f"epoch 1 begins at height {start} with the same five members")
    deadline = time.time() + 60
    while time.time() < deadline and status(1)["height"] < start + 5:
        time.sleep(0.5)
    stop.set()
    for t in threads:
        t.join()
    expect(not failures, f"no anchor failed during the rotation: {failures[:3]}")
    expect(len(acked) >= 5, f"{len(acked)} anchors acknowledged during the rotation")

    # The rotated member signs with its new key, and sends with it.
    mine = json.loads(anchor(ROTATED, "by-rotated-member.txt").stdout)
    expect(mine["status"] == "committed" and mine["height"] >= start,
           f"payee-bank's transaction (signed with the new key) committed at {mine['height']}")
    new_pub = public_key(rotated)
    old_pub = public_key(original)
    genesis = json.load(open(os.path.join(netlib.DIR, "genesis.json")))
    # A commit certificate holds the first quorum of precommits, so payee-bank is in some of
    # them, not all: add blocks until it has endorsed a few (at most 30).
    for n in range(30):
        tip = status(1)["height"]
        signers = [e["member"] for h in range(start, tip + 1)
                   for e in colend_json("--home", home(1), "block", str(h))["endorsements"]]
        if signers.count("payee-bank") >= 3:
            break
        anchor(1 + n % 5, f"more-{n}.txt")
    signed_new = 0
    tip = status(1)["height"]
    for height in range(start, tip + 1):
        block = colend_json("--home", home(1), "block", str(height))
        vote = (f"colend-vote/v1\nchain-id: {genesis['chain_id']}\nepoch: 1\n"
                f"height: {height}\nround: {block['certificate_round']}\nphase: precommit\n"
                f"block-hash: {block['hash']}\n").encode()
        for e in block["endorsements"]:
            if e["member"] != "payee-bank":
                continue
            sig = bytes.fromhex(e["signature"])
            expect(netlib.openssl_verify(new_pub, vote, sig) and not netlib.openssl_verify(old_pub, vote, sig),
                   f"block {height}: payee-bank's endorsement verifies with the new key only")
            signed_new += 1
    expect(signed_new >= 3, f"payee-bank endorsed {signed_new} blocks of epoch 1 with its new key")
    new_tls = cert_sha256(os.path.join(home(ROTATED), "tls.next.pem"))
    expect(p2p_certificate_sha256(ROTATED) == new_tls, "node3's P2P port presents the rotated TLS certificate")
    for k in (1, 2, 4, 5):
        expect("payee-bank" in status(k)["peers"], f"node{k} is connected to payee-bank again")

    # A restart with old and staged files side by side: the node picks what epoch 1 lists.
    colend("localnet", "down", "--dir", netlib.DIR, "--node", str(ROTATED))
    colend("localnet", "up", "--dir", netlib.DIR, "--node", str(ROTATED))
    expect(status(ROTATED)["consensus"]["signing"] == "yes", "after a restart node3 signs")
    again = json.loads(anchor(ROTATED, "after-restart.txt").stdout)
    expect(again["status"] == "committed", "and sends with its new key")

    # Nothing lost: every acknowledged anchor is in a block, on another node.
    for tx_id in acked:
        got = colend_json("--home", home(5), "tx", tx_id)
        if got["status"] != "committed":
            expect(False, f"acknowledged {tx_id} is committed")
    expect(True, f"all {len(acked)} acknowledged anchors are committed on node5")
    epochs = verify_chain(5)
    expect(len(epochs) == 2 and epochs[0]["members"] != epochs[1]["members"],
           "blocks before the rotation verify with epoch 0's keys, after it with epoch 1's")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    if shutil.which("openssl") is None:
        print("the openssl command-line tool is required", file=sys.stderr)
        return 1
    netlib.configure(args.bin, tempfile.mkdtemp(prefix="colend-rotation-"))
    return netlib.run_network_test(scenario, keep=args.keep, failures=(AssertionError,))


if __name__ == "__main__":
    sys.exit(main())
