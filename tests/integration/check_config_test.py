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
    (which may then be read-only), and takes part in the network as before;
  - config.json's "mempool" limits: --check-config names them (and the defaults when unset), a
    value out of range is refused with the key named, a pool above the default 96 MiB is warned of
    (by --check-config and in the running node's log), and a node started with them holds them:
    with two of four nodes stopped (nothing commits), node1 refuses a sender's 301st pending
    transaction (sender-quota, 300) and the pool's 1,001st (mempool-full, 1,000).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import attack_cluster as cluster
import netlib
from attack_cluster import RpcError, call, kill_node, signed_anchor, start_node
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


def config_file_cases(h, restore):
    """config.json and the files beside it as an operator can break them: each refused with exit
    1, naming the file, the place or the value, and nothing written."""
    config = os.path.join(h, "config.json")
    with open(config) as f:
        text = f.read()
    with open(config, "w") as f:
        f.write(text.rstrip().rstrip("}").rstrip() + ",\n}\n")  # a trailing comma
    fails(2, "config.json with a syntax error", "config.json is not valid JSON: at line")
    restore()
    with open(config, "w") as f:
        f.write(text.replace('"p2p_port"', '"p2p_port": 1, "p2p_port"', 1))
    fails(2, "config.json with a key twice", "config.json has the key 'p2p_port' twice")
    restore()
    with open(config, "w") as f:
        f.write(text.replace('"port"', '"port": 1, "port"', 1))
    fails(2, "a peer with a key twice", "config.json has the key 'port' twice")
    restore()
    edit_json(config, lambda j: j["peers"].append(dict(j["peers"][0])))
    fails(2, "a peer listed twice", f"config.peers lists")
    restore()
    edit_json(config, lambda j: j["peers"][0].update(port=0))
    fails(2, "a peer at port 0", "config.peers[0].port must be a port number 1-65535")
    restore()
    for name, needle in (("config.json", "config.json is larger than 1048576 bytes"),
                         ("genesis.json", "genesis.json is larger than 8388608 bytes"),
                         ("tls.pem", "tls.pem is larger than 65536 bytes")):
        os.remove(os.path.join(h, name))
        os.symlink("/dev/zero", os.path.join(h, name))
        fails(2, f"{name} pointing at /dev/zero", needle)
        os.remove(os.path.join(h, name))
        restore()
    os.remove(config)
    os.mkdir(config)
    fails(2, "config.json that is a directory", "config.json: it is a directory")
    os.rmdir(config)
    restore()
    node = os.path.join(netlib.BIN, "colend-node")
    for argv, needle in ((["--home", h, "--home", home(3), "--check-config"], "--home is given twice"),
                         (["--check-config", "--home"], "--home needs a value"),
                         (["--home", h, "--log-level", "info", "--log-level=debug", "--check-config"],
                          "--log-level is given twice")):
        p = subprocess.run([node] + argv, capture_output=True, text=True, timeout=60)
        expect(p.returncode == 2 and needle in p.stderr.splitlines()[0],
               f"colend-node {' '.join(argv[-3:])}: exit {p.returncode}, says '{needle}'")
    # With --log-format json, a node that cannot start says so in a JSON line (level error, FATAL),
    # like every other line of its log: a JSON log pipeline does not miss why it stopped.
    edit_json(os.path.join(h, "config.json"), lambda j: j.update(rpc_hots="0.0.0.0"))
    p = subprocess.run([node, "--home", h, "--log-format", "json"], capture_output=True, text=True,
                       timeout=60)
    restore()
    try:
        lines = [json.loads(line) for line in p.stderr.splitlines()]
    except ValueError:
        lines = None
    expect(p.returncode == 1 and lines and all(isinstance(line, dict) for line in lines) and
           any(line.get("level") == "error" and line.get("msg", "").startswith("FATAL: ") and
               "unknown key 'rpc_hots'" in line["msg"] for line in lines),
           f"a node that cannot start, with --log-format json: exit {p.returncode}, every stderr "
           f"line JSON, one an error saying FATAL: {p.stderr.strip()[:200]}")


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
    # A misspelt member_id with the member's own keys: refused naming the member the key is of.
    edit_json(os.path.join(h, "config.json"),
              lambda j: j.update(member_id=j["member_id"].replace("-", "_")))
    fails(2, "a misspelt member_id", "is member_id misspelt")
    restore()
    # A misspelt peer id passes (a later epoch may list it) but is warned of, by name.
    edit_json(os.path.join(h, "config.json"),
              lambda j: j["peers"][0].update(id=j["peers"][0]["id"] + "x"))
    p = check(2)
    expect(p.returncode == 0 and "WARNING: config.peers lists '" in p.stdout and
           "not a member of the genesis" in p.stdout,
           f"a peer id that is no genesis member: exit {p.returncode}, warned of: "
           f"{[l for l in p.stdout.splitlines() if 'peers' in l]}")
    restore()
    shutil.copy(os.path.join(h, "tls.pem"), os.path.join(h, "tls.next.pem"))
    fails(2, "a staged certificate without its key", "tls.next.key is missing")
    os.remove(os.path.join(h, "tls.next.pem"))
    config_file_cases(h, restore)
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
    mempool_limits()


def mempool_limits():
    p = check(2)
    expect(p.returncode == 0 and "mempool 200000 transactions and 96 MiB, 50000 and 32 MiB a "
           "sender (default)" in p.stdout, f"--check-config names the default mempool: {p.stdout}")
    h = os.path.join(home(2), "config.json")
    keep = open(h).read()
    edit_json(h, lambda j: j.update(mempool={"txs_max": 10}))
    fails(2, "a mempool limit out of range",
          "config.mempool.txs_max must be a whole number of transactions from 1000 to 1000000, "
          "got 10")
    edit_json(h, lambda j: j.update(mempool={"memory_mib": 64, "sender_memory_mib": 65}))
    fails(2, "a sender's share above the whole", "sender_memory_mib 65 is above memory_mib 64")
    with open(h, "w") as f:
        f.write(keep)

    expect("WARNING" not in p.stdout, f"no warning for the default mempool: {p.stdout}")
    warning = ("WARNING: mempool memory_mib 128 is above the default 96: a full pool may add up "
               "to 128 MiB to this node's RSS")
    limits = {"txs_max": 1000, "memory_mib": 128, "sender_txs_max": 300, "sender_memory_mib": 4}
    edit_json(os.path.join(home(1), "config.json"), lambda j: j.update(mempool=limits))
    p = check(1)
    expect(p.returncode == 0 and "mempool 1000 transactions and 128 MiB, 300 and 4 MiB a sender "
           "(config.json)" in p.stdout, f"--check-config names config.json's mempool: {p.stdout}")
    expect(warning in p.stdout, f"--check-config warns of a pool above the default: {p.stdout}")
    cluster.DIR = netlib.DIR
    for k, path in cluster.read_network(4).items():
        cluster.SIGNER[k] = netlib.P256Signer(path)
    for k in (1, 3, 4):  # nodes 1 and 2 of 4 cannot commit: the pool only fills
        kill_node(k)
    start_node(1, "mempool limits")  # returns once node1 answers status
    with open(os.path.join(home(1), "node.log")) as f:
        logged = [line for line in f if warning[len("WARNING: "):] in line]
    expect(len(logged) == 1 and " WARN  [lead-bank] " in logged[0],
           f"the running node logs the same warning once, at level warn: {logged}")
    outcomes = {}

    def submit(k, count, stop_at=None):
        for i in range(count):
            _, wire = signed_anchor(k, f"pool-{k}-{i}")
            try:
                call(1, "submit", {"tx": wire.hex()}, timeout=10)
                code = "accepted"
            except RpcError as e:
                code = e.code
                outcomes.setdefault(f"{k}:{code}:text", str(e))
            outcomes[(k, code)] = outcomes.get((k, code), 0) + 1
            if code == stop_at:
                return

    # Not node1's own member (lead-bank), whose clock.tick at a new business day would count too.
    submit(2, 301)
    expect(outcomes.get((2, "accepted")) == 300 and outcomes.get((2, "sender-quota")) == 1 and
           "quota of 300 pending transactions" in outcomes.get("2:sender-quota:text", ""),
           f"a sender's 301st pending transaction is refused at config.json's 300: {outcomes}")
    submit(3, 300)
    submit(4, 300)
    submit(1, 150, stop_at="mempool-full")  # about 100 fill the pool to 1,000
    expect(outcomes.get((1, "mempool-full")) == 1 and 95 <= outcomes.get((1, "accepted"), 0) <= 100
           and "1000 of 1000 transactions" in outcomes.get("1:mempool-full:text", ""),
           f"the pool's 1,001st transaction is refused at config.json's 1,000: {outcomes}")

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    netlib.configure(args.bin, tempfile.mkdtemp(prefix="colend-check-config-"))
    return netlib.run_network_test(scenario, keep=args.keep, nodes=4, failures=(AssertionError,))


if __name__ == "__main__":
    sys.exit(main())
