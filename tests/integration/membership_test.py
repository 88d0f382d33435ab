#!/usr/bin/env python3
"""docs/consensus.md §7 on real colend-node processes: membership and quorum changes only at an
epoch boundary, committed under the old rules.

Five genesis members and one spare institution (CA-issued keys, not in the genesis file):
  - the spare's node syncs but signs nothing; `member propose --add` + approvals by a quorum of the
    current epoch make it a member from the height after the approving block;
  - with two of the original five down, 4 of 6 remain = the new quorum: blocks commit only because
    the new member endorses them;
  - a member is removed and the quorum rule changed to two-thirds, each by a quorum of the epoch
    in force; the removed member's node is no longer admitted by its former peers;
  - a node that was down through three epoch changes restarts, syncs across them (verifying each
    block's certificate with its own epoch's keys) and takes part again;
  - checked independently in Python and with the openssl CLI, for every block: the header names
    the epoch in force at its height and the SHA-256 of that epoch's document (epoch 0: the
    genesis file); the document chain links by previous_sha256; the commit certificate holds a
    quorum (by that epoch's rule) of distinct members of that epoch, each signature verified over
    the vote text of that epoch;
  - bad requests (removing a non-member, approving an unknown proposal, malformed usage) get a
    clear error, a non-zero exit and change no membership.
"""
import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time

import netlib
from chainlib import header_fields, status, verify_chain
from netlib import colend, colend_json, expect, home

ARGS = None
DIR = None


def wait_until(what, predicate, timeout_s=90):
    deadline = time.time() + timeout_s
    last = None
    while time.time() < deadline:
        try:
            if predicate():
                return True
        except Exception as e:  # a node restarting does not answer for a moment
            last = e
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for: {what}" + (f" ({last})" if last else ""))


def anchor(k, name, timeout=40, check=True):
    path = os.path.join(DIR, name)
    with open(path, "wb") as f:
        f.write(f"{name} {time.time()}".encode())
    return colend("--home", home(k), "evidence", "anchor", "--file", path, "--timeout",
                  str(timeout), "--json", check=check, timeout=timeout + 60)


def member(k, *argv, check=True):
    return colend("--home", home(k), "member", *argv, check=check, timeout=120)


def membership_epoch(k):
    return status(k)["membership"]["epoch"]


def scenario():
    colend("localnet", "init", "--dir", DIR, "--nodes", "5", "--spare", "1")
    expect(os.path.exists(os.path.join(home(6), "member.json")),
           "localnet init --spare 1 writes node6 (not in genesis) with its member.json")
    colend("localnet", "up", "--dir", DIR)
    s6 = status(6)
    expect(s6["membership"]["epoch"] == 0 and "partner-bank-6" not in s6["membership"]["members"]
           and s6["consensus"]["signing"].startswith("no"),
           f"the spare's node runs but is not a member and signs nothing: {s6['consensus']['signing']}")
    anchor(1, "before.txt")

    print("adding the spare institution (epoch 1)", flush=True)
    p = member(1, "propose", "--id", "join-6", "--add", os.path.join(home(6), "member.json"), "--json")
    out = json.loads(p.stdout)["outputs"]
    expect(out["proposal-status"] == "proposed" and out["approvals"] == "1" and out["needed"] == "3",
           "proposal join-6: the proposer's approval counts, 1 of 3 needed")
    member(2, "approve", "join-6")
    p = member(3, "approve", "join-6", "--json")
    tx = json.loads(p.stdout)
    start1 = int(tx["outputs"]["start-height"])
    expect(tx["outputs"]["epoch"] == "1" and start1 == tx["height"] + 1,
           f"the third approval (block {tx['height']}) starts epoch 1 at height {start1}")
    approving = colend_json("--home", home(1), "block", str(tx["height"]))
    expect(header_fields(approving["header"])["membership-epoch"] == "0",
           "the approving block itself is certified under epoch 0")
    wait_until("node6 is a member", lambda: status(6)["membership"]["epoch"] == 1
               and status(6)["consensus"]["signing"] == "yes", 60)
    wait_until("node1 connected to partner-bank-6",
               lambda: "partner-bank-6" in status(1)["peers"], 30)
    expect(True, "node6 took up epoch 1: signing, connected")

    print("two original members down: 4 of 6 up = the quorum, with the new member", flush=True)
    colend("localnet", "down", "--dir", DIR, "--node", "4", "--kill")
    colend("localnet", "down", "--dir", DIR, "--node", "5", "--kill")
    t = json.loads(anchor(6, "by-new-member.txt").stdout)
    block = colend_json("--home", home(1), "block", str(t["height"]))
    signers = {e["member"] for e in block["endorsements"]}
    expect("partner-bank-6" in signers and len(signers) == 4,
           f"block {t['height']} (sent by the new member) commits with its endorsement: {sorted(signers)}")

    print("removing arbitration (epoch 2) and changing to two-thirds (epoch 3)", flush=True)
    p = member(1, "propose", "--id", "drop-arb", "--remove", "arbitration", "--json")
    expect(json.loads(p.stdout)["outputs"]["needed"] == "4", "removal needs 4 of 6 approvals")
    member(2, "approve", "drop-arb")
    member(3, "approve", "drop-arb")
    tx = json.loads(member(6, "approve", "drop-arb", "--json").stdout)
    expect(tx["outputs"]["epoch"] == "2" and tx["outputs"]["members"] == "5",
           "epoch 2: arbitration removed, 5 members")
    p = member(2, "propose", "--id", "two-thirds", "--quorum", "two-thirds", "--json")
    member(3, "approve", "two-thirds")
    tx = json.loads(member(6, "approve", "two-thirds", "--json").stdout)
    expect(tx["outputs"]["epoch"] == "3" and tx["outputs"]["quorum-rule"] == "two-thirds",
           "epoch 3: quorum rule two-thirds (4 of 5)")
    wait_until("epoch 3 on node1", lambda: status(1)["membership"]["epoch"] == 3, 30)
    s1 = status(1)
    expect(s1["quorum"] == 4 and s1["quorum_rule"] == "two-thirds" and s1["members"] == 5,
           f"status: quorum {s1['quorum']} of {s1['members']} ({s1['quorum_rule']})")
    anchor(2, "two-thirds.txt")

    print("bad requests change nothing", flush=True)
    p = member(1, "propose", "--id", "nobody", "--remove", "nobody", check=False)
    expect(p.returncode == 1 and "not-a-member" in p.stderr,
           f"removing a non-member: exit 1, {p.stderr.strip()}")
    p = member(1, "approve", "never-proposed", check=False)
    expect(p.returncode == 1 and "unknown-proposal" in p.stderr,
           f"approving an unknown proposal: exit 1, {p.stderr.strip()}")
    p = member(1, "propose", "--remove", "payee-bank", check=False)
    expect(p.returncode == 2, "member propose without --id: usage error, exit 2")
    p = member(1, "propose", "--id", "x", "--quorum", "majority", "--remove", "payee-bank", check=False)
    expect(p.returncode == 2, "member propose with two changes: usage error, exit 2")
    expect(membership_epoch(1) == 3, "membership still at epoch 3")

    print("a node that was down through the changes catches up; the removed one is refused", flush=True)
    colend("localnet", "up", "--dir", DIR, "--node", "4")
    target = status(1)["height"]
    wait_until("node4 catches up across epochs 1..3",
               lambda: status(4)["height"] >= target and status(4)["membership"]["epoch"] == 3, 90)
    anchor(4, "after-restart.txt")
    colend("localnet", "up", "--dir", DIR, "--node", "5")
    time.sleep(5)
    s5, s1 = status(5), status(1)
    expect(s5["height"] < s1["height"] and "arbitration" not in s1["peers"],
           f"the removed member's node is not admitted: it stays at height {s5['height']} "
           f"(others at {s1['height']}), node1's peers {s1['peers']}")

    live = [1, 2, 3, 4, 6]
    height = min(status(k)["height"] for k in live)
    hashes = {colend_json("--home", home(k), "block", str(height))["hash"] for k in live}
    expect(len(hashes) == 1, f"nodes {live} hold the same block at height {height}")
    epochs = verify_chain(4)
    expect([e["epoch"] for e in epochs] == [0, 1, 2, 3], "member epochs 0..3 recorded")
    listed = colend_json("--home", home(4), "member", "epochs")["epochs"]
    expect([e["sha256"] for e in listed] == [e["sha256"] for e in epochs],
           "`colend member epochs` lists the same document hashes")
    expect(all(hashlib.sha256(e["document"].encode()).hexdigest() == e["sha256"] for e in listed[1:]),
           "`member epochs --json` gives each document's exact text: sha256 of it is its hash")


def main():
    global ARGS, DIR
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--keep", action="store_true", help="keep the network directory")
    ARGS = parser.parse_args()
    if shutil.which("openssl") is None:
        print("the openssl command-line tool is required", file=sys.stderr)
        return 1
    DIR = tempfile.mkdtemp(prefix="colend-membership-")
    netlib.configure(ARGS.bin, DIR)
    return netlib.run_network_test(scenario, keep=ARGS.keep, nodes=6, failures=(AssertionError,))


if __name__ == "__main__":
    sys.exit(main())
