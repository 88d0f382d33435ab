#!/usr/bin/env python3
"""colend-node --check-config and state_dir (issue 16 item 5), on real node homes.

Proves:
  - a home made by `colend localnet init` passes: exit 0, "config ok", and it names the member;
  - each of these fails with exit 1, a message naming the file or key, and nothing written:
    a TLS key that is not tls.pem's, a tls.pem of another CA, an unknown key in config.json, an
    unknown key in genesis.json, a state_dir that does not exist, a relative state_dir, a staged
    tls.next.pem without its key;
  - --check-config starts nothing: it passes while the node runs (no store lock taken) and the
    running node is unaffected;
  - with "state_dir" the node keeps data/, documents/ and signing-lease there, not in the home
    (which may then be read-only), and takes part in the network as before.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import netlib
from netlib import colend, colend_json, expect, home


def check(k):
    node = os.path.join(netlib.BIN, "colend-node")
    return subprocess.run([node, "--home", home(k), "--check-config"], capture_output=True,
                          text=True, timeout=60)


def snapshot(path):
    out = {}
    for root, _, files in os.walk(path):
        for f in files:
            p = os.path.join(root, f)
            out[p] = os.stat(p).st_mtime_ns
    return out


def fails(k, what, needle):
    before = snapshot(home(k))
    p = check(k)
    expect(p.returncode == 1 and needle in p.stderr,
           f"{what}: exit {p.returncode}, says '{needle}': {p.stderr.strip()[-300:]}")
    expect(snapshot(home(k)) == before, f"{what}: nothing written")


def edit_json(path, change):
    with open(path) as f:
        j = json.load(f)
    change(j)
    with open(path, "w") as f:
        json.dump(j, f, indent=2)


def scenario():
    colend("localnet", "init", "--dir", netlib.DIR, "--nodes", "4")
    p = check(1)
    expect(p.returncode == 0 and p.stdout.startswith("config ok") and "lead-bank" in p.stdout,
           f"a fresh home passes: {p.stdout.strip()}")

    h = home(2)
    keep = {n: open(os.path.join(h, n)).read() for n in ("tls.key", "tls.pem", "config.json", "genesis.json")}

    def restore():
        for n, text in keep.items():
            with open(os.path.join(h, n), "w") as f:
                f.write(text)

    shutil.copy(os.path.join(home(3), "tls.key"), os.path.join(h, "tls.key"))
    fails(2, "another member's TLS key", "tls.key is not the key of")
    restore()
    other = tempfile.mkdtemp(prefix="colend-other-ca-")
    colend("localnet", "init", "--dir", other, "--nodes", "3")
    shutil.copy(os.path.join(other, "node2", "tls.pem"), os.path.join(h, "tls.pem"))
    shutil.copy(os.path.join(other, "node2", "tls.key"), os.path.join(h, "tls.key"))
    fails(2, "a certificate of another CA", "is not a valid certificate of the consortium CA")
    shutil.rmtree(other, ignore_errors=True)
    restore()
    edit_json(os.path.join(h, "config.json"), lambda j: j.update(rpc_hots="0.0.0.0"))
    fails(2, "an unknown config key", "unknown key 'rpc_hots'")
    restore()
    edit_json(os.path.join(h, "genesis.json"), lambda j: j["consensus"].update(timeout_propse_ms=5))
    fails(2, "an unknown genesis key", "consensus has an unknown key 'timeout_propse_ms'")
    restore()
    edit_json(os.path.join(h, "config.json"), lambda j: j.update(state_dir="/nonexistent/colend"))
    fails(2, "a missing state directory", "state directory /nonexistent/colend does not exist")
    restore()
    edit_json(os.path.join(h, "config.json"), lambda j: j.update(state_dir="relative/dir"))
    fails(2, "a relative state_dir", "state_dir must be an absolute path")
    restore()
    shutil.copy(os.path.join(h, "tls.pem"), os.path.join(h, "tls.next.pem"))
    fails(2, "a staged certificate without its key", "tls.next.key is missing")
    os.remove(os.path.join(h, "tls.next.pem"))
    expect(check(2).returncode == 0, "restored: node2 passes again")

    # state_dir: node4's state moves out of its home, which becomes read-only.
    state = tempfile.mkdtemp(prefix="colend-state-")
    os.chmod(state, 0o750)
    shutil.move(os.path.join(home(4), "data"), os.path.join(state, "data"))
    edit_json(os.path.join(home(4), "config.json"), lambda j: j.update(state_dir=state))
    p = check(4)
    expect(p.returncode == 0 and f"data: {state}/data" in p.stdout, f"node4 checks with its state dir: {p.stdout.strip()}")
    colend("localnet", "up", "--dir", netlib.DIR)
    p = check(1)
    expect(p.returncode == 0, "--check-config passes while the node runs (no store opened)")
    path = os.path.join(netlib.DIR, "doc.txt")
    with open(path, "w") as f:
        f.write(f"state dir {time.time()}")
    colend("--home", home(4), "evidence", "anchor", "--file", path, "--name", "doc.txt")
    tip = colend_json("--home", home(1), "status")["height"]
    deadline = time.time() + 30
    while time.time() < deadline and colend_json("--home", home(4), "status")["height"] < tip:
        time.sleep(0.3)
    expect(colend_json("--home", home(4), "status")["height"] >= tip,
           "node4, with its state elsewhere, commits with the others")
    expect(os.path.isdir(os.path.join(state, "data")) and os.path.exists(os.path.join(state, "signing-lease")),
           "data/ and signing-lease are in the state directory")
    expect(not os.path.exists(os.path.join(home(4), "data")) and
           not os.path.exists(os.path.join(home(4), "signing-lease")),
           "and not in the home")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    netlib.configure(args.bin, tempfile.mkdtemp(prefix="colend-check-config-"))
    return netlib.run_network_test(scenario, keep=args.keep, nodes=4, failures=(AssertionError,))


if __name__ == "__main__":
    sys.exit(main())
