"""An independent checker of a colend chain's blocks against its membership epochs.

Python 3 standard library and the openssl command-line tool only (no colend C++ code): reads the
genesis file and the epoch documents from the state, and checks for every block that its header
names the epoch in force and that epoch's document hash, and that its commit certificate holds a
quorum of that epoch's members, each signature verified with that epoch's key. Shared by the
membership and key-rotation tests.
"""
import hashlib
import json
import os
import subprocess

import netlib
from netlib import colend_json, expect, home


def status(k):
    return colend_json("--home", home(k), "status")


def state(k, **params):
    import urllib.request
    with open(os.path.join(home(k), "config.json")) as f:
        port = json.load(f)["rpc_port"]
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "state", "params": params}).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/", data=body,
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())["result"]


def quorum_of(n, rule):
    return n * 2 // 3 + 1 if rule == "two-thirds" else n // 2 + 1


def public_key(member_obj):
    pem = os.path.join(netlib.DIR, f"{member_obj['id']}-signing.pem")
    pub = os.path.join(netlib.DIR, f"{member_obj['id']}-{hashlib.sha256(member_obj['signing_certificate'].encode()).hexdigest()[:8]}.pub")
    if not os.path.exists(pub):
        with open(pem, "w") as f:
            f.write(member_obj["signing_certificate"])
        subprocess.run(["openssl", "x509", "-in", pem, "-pubkey", "-noout", "-out", pub], check=True)
    return pub


def header_fields(text):
    fields = {}
    for line in text.splitlines()[1:]:
        key, _, value = line.partition(": ")
        fields[key] = value
    return fields


def verify_chain(k):
    """Every block of node k against the epoch documents, independently of colend's C++ code."""
    with open(os.path.join(netlib.DIR, "genesis.json"), "rb") as f:
        genesis_bytes = f.read()
    genesis = json.loads(genesis_bytes)
    epochs = [{"epoch": 0, "start_height": 1, "quorum": genesis["quorum"],
               "members": genesis["members"], "sha256": hashlib.sha256(genesis_bytes).hexdigest()}]
    for entry in state(k, prefix="membership/epoch/", limit=100)["entries"]:
        text = entry["value"].encode()
        doc = json.loads(text)
        expect(doc["previous_sha256"] == epochs[-1]["sha256"] and doc["epoch"] == epochs[-1]["epoch"] + 1,
               f"epoch {doc['epoch']} document names the SHA-256 of epoch {epochs[-1]['epoch']}'s")
        doc["sha256"] = hashlib.sha256(text).hexdigest()
        epochs.append(doc)
    tip = status(k)["height"]
    checked = 0
    for height in range(1, tip + 1):
        block = colend_json("--home", home(k), "block", str(height))
        epoch = [e for e in epochs if e["start_height"] <= height][-1]
        fields = header_fields(block["header"])
        if (int(fields["membership-epoch"]) != epoch["epoch"]
                or fields["membership-sha256"] != epoch["sha256"]):
            expect(False, f"block {height} names epoch {fields['membership-epoch']}, "
                   f"in force is {epoch['epoch']}")
        if hashlib.sha256(block["header"].encode()).hexdigest() != block["hash"]:
            expect(False, f"block {height}: sha256(header) is its hash")
        keys = {m["id"]: m for m in epoch["members"]}
        signers = [e["member"] for e in block["endorsements"]]
        need = quorum_of(len(keys), epoch["quorum"])
        if len(set(signers)) != len(signers) or not set(signers) <= set(keys) or len(signers) < need:
            expect(False, f"block {height}: endorsers {signers} are >= {need} distinct members "
                   f"of epoch {epoch['epoch']}")
        vote = (f"colend-vote/v1\nchain-id: {genesis['chain_id']}\nepoch: {epoch['epoch']}\n"
                f"height: {height}\nround: {block['certificate_round']}\nphase: precommit\n"
                f"block-hash: {block['hash']}\n").encode()
        for e in block["endorsements"]:
            if not netlib.openssl_verify(public_key(keys[e["member"]]), vote,
                                         bytes.fromhex(e["signature"])):
                expect(False, f"block {height}: openssl verifies {e['member']}'s endorsement")
        checked += 1
    expect(checked == tip, f"node{k}: all {tip} blocks name the epoch in force and its document "
           f"hash; every certificate is a quorum of that epoch, openssl-verified "
           f"({len(epochs)} epochs)")
    return epochs


