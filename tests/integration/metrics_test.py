#!/usr/bin/env python3
"""GET /metrics and GET /health on five real nodes (issue 16 items 1 and 2).

Proves:
  - /metrics is Prometheus text that a real parser (Debian's python3-prometheus-client, run as a
    separate process: no code shared with the node) reads without error, with the documented
    families, types and units;
  - the figures move as blocks commit: height, blocks and transactions committed by rule,
    a contract refusal by code and rule, a refusal at admission by code, commit latency count;
  - the io thread's waits: one synced block write and one commit step per committed block, the
    vote state synced in every height, the signing lease extended, plausible means;
  - peers, members, quorum, signing state, RSS and LevelDB size are there and plausible;
  - /health tells live from ready: 200 with "ready": true on a synced member connected to a
    quorum; /health/ready is 200 then; with three of five nodes stopped node 1 is live (200) but
    /health/ready answers 503 naming quorum_connected false; /health/live stays 200;
  - only GET is allowed on these paths.
"""
import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import netlib
from netlib import colend, expect, home

PARSER = r'''
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = {}
for family in text_string_to_metric_families(sys.stdin.read()):
    out[family.name] = {"type": family.type,
                        "samples": [[s.name, s.labels, s.value] for s in family.samples]}
json.dump(out, sys.stdout)
'''


def rpc_port(k):
    with open(os.path.join(home(k), "config.json")) as f:
        return json.load(f)["rpc_port"]


def get(k, path, method="GET"):
    req = urllib.request.Request(f"http://127.0.0.1:{rpc_port(k)}{path}", method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read().decode()


def scrape(k):
    status, ctype, text = get(k, "/metrics")
    expect(status == 200 and ctype.startswith("text/plain; version=0.0.4"),
           f"node{k} /metrics: {status} {ctype}")
    p = subprocess.run(["/usr/bin/python3", "-c", PARSER], input=text, capture_output=True,
                       text=True, timeout=30)
    expect(p.returncode == 0, f"prometheus_client parses node{k}'s /metrics: {p.stderr[-400:]}")
    return json.loads(p.stdout)


def value(families, family, sample=None, **labels):
    sample = sample or family
    total = 0.0
    for name, sl, v in families.get(family, {}).get("samples", []):
        if name == sample and all(sl.get(key) == want for key, want in labels.items()):
            total += v
    return total


def anchor(k, label):
    with tempfile.NamedTemporaryFile(suffix=".pdf", delete=False) as f:
        f.write(f"{label} {time.time()}".encode())
        path = f.name
    return colend("--home", home(k), "evidence", "anchor", "--file", path, "--name", label + ".pdf",
                  "--timeout", "30", check=False)


def scenario():
    colend("localnet", "init", "--dir", netlib.DIR, "--nodes", "5")
    colend("localnet", "up", "--dir", netlib.DIR)

    before = scrape(1)
    for name, kind in [("colend_height", "gauge"), ("colend_round", "gauge"),
                       ("colend_rounds_per_height", "histogram"),
                       ("colend_commit_latency_seconds", "histogram"),
                       ("colend_block_transactions", "histogram"),
                       ("colend_block_size_bytes", "histogram"),
                       ("colend_sync_seconds", "histogram"),
                       ("colend_block_step_seconds", "histogram"),
                       ("colend_blocks_committed", "counter"),
                       ("colend_transactions_committed", "counter"),
                       ("colend_transactions_rejected", "counter"),
                       ("colend_transactions_refused", "counter"),
                       ("colend_mempool_transactions", "gauge"), ("colend_mempool_bytes", "gauge"),
                       ("colend_mempool_memory_bytes", "gauge"),
                       ("colend_peers_connected", "gauge"), ("colend_peer_height", "gauge"),
                       ("colend_sync_behind_blocks", "gauge"), ("colend_signing_state", "gauge"),
                       ("colend_equivocations_seen", "counter"), ("colend_data_bytes", "gauge"),
                       ("colend_process_resident_memory_bytes", "gauge"),
                       ("colend_certificate_expiry_seconds", "gauge"),
                       ("colend_rpc_connections_closed", "counter"),
                       ("colend_members", "gauge"), ("colend_quorum", "gauge")]:
        expect(name in before and before[name]["type"] == kind,
               f"family {name} is a {kind}: {before.get(name, {}).get('type')}")
    expect(value(before, "colend_members") == 5 and value(before, "colend_quorum") == 3,
           "5 members, quorum 3")
    expect(value(before, "colend_signing_state", state="signing") == 1 and
           value(before, "colend_signing_state", state="recovering") == 0, "node1 is signing")
    rss = value(before, "colend_process_resident_memory_bytes")
    expect(1 << 20 < rss < 4 << 30, f"RSS {rss / 2**20:.1f} MiB is plausible")
    expect(value(before, "colend_data_bytes") > 0, "the LevelDB directory has a size")
    expiry = value(before, "colend_certificate_expiry_seconds", kind="tls")
    expect(expiry > 30 * 86400, f"the TLS certificate expires in {expiry / 86400:.0f} days")

    # Commits move the figures: two accepted anchors, then the same document again (the
    # contract refuses it: already-anchored, rule EVIDENCE-ANCHOR), then a malformed submit
    # (refused at admission).
    p = anchor(2, "metrics-one")
    expect(p.returncode == 0 and "accepted" in p.stdout, f"anchor 1: {p.stdout[-200:]}{p.stderr[-200:]}")
    p = anchor(3, "metrics-two")
    expect(p.returncode == 0, "anchor 2")
    with tempfile.NamedTemporaryFile(suffix=".pdf", delete=False) as f:
        f.write(b"the same bytes twice")
        same = f.name
    colend("--home", home(2), "evidence", "anchor", "--file", same, "--name", "twice.pdf",
           "--timeout", "30", check=False)
    p = colend("--home", home(4), "evidence", "anchor", "--file", same, "--name", "twice.pdf",
               "--timeout", "30", check=False)
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "submit", "params": {"tx": "00ff"}})
    req = urllib.request.Request(f"http://127.0.0.1:{rpc_port(1)}/", data=body.encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        refused = json.loads(r.read())
    expect("error" in refused, f"a malformed tx is refused: {refused}")
    refused_code = refused["error"]["data"]["code"]
    deadline = time.time() + 30
    after = scrape(1)
    while time.time() < deadline and value(after, "colend_transactions_rejected", "colend_transactions_rejected_total",
                                           code="already-anchored") < 1:
        time.sleep(0.5)
        after = scrape(1)
    expect(value(after, "colend_height") >= value(before, "colend_height") + 2,
           f"height moved: {value(before, 'colend_height')} -> {value(after, 'colend_height')}")
    blocks = value(after, "colend_blocks_committed", "colend_blocks_committed_total")
    expect(blocks >= value(before, "colend_blocks_committed", "colend_blocks_committed_total") + 2, f"blocks counted: {blocks}")
    accepted = value(after, "colend_transactions_committed", "colend_transactions_committed_total", rule="EVIDENCE-ANCHOR")
    expect(accepted >= value(before, "colend_transactions_committed", "colend_transactions_committed_total", rule="EVIDENCE-ANCHOR") + 3,
           f"accepted anchors counted by rule: {accepted}")
    expect(value(after, "colend_transactions_rejected", "colend_transactions_rejected_total", code="already-anchored",
                 rule="EVIDENCE-ANCHOR") == 1, "the contract's refusal counted by code and rule")
    expect(value(after, "colend_transactions_refused", "colend_transactions_refused_total", code=refused_code) >= 1,
           f"the admission refusal counted by code {refused_code}")
    expect(value(after, "colend_block_transactions", "colend_block_transactions_count") == blocks,
           "one block-size observation per committed block")
    # The io thread's waits: one synced block write and one commit step per committed block,
    # at least one synced vote state per height decided by consensus (its votes), each lease
    # extension synced; every figure plausible.
    def sync(write, part="count"):
        return value(after, "colend_sync_seconds", f"colend_sync_seconds_{part}", write=write)

    def step(name, part="count"):
        return value(after, "colend_block_step_seconds", f"colend_block_step_seconds_{part}",
                     step=name)
    expect(sync("block") == blocks, f"one synced block write per committed block: "
           f"{sync('block')} for {blocks}")
    expect(step("commit") == blocks, f"one commit step per committed block: {step('commit')}")
    consensus_blocks = value(after, "colend_blocks_committed", "colend_blocks_committed_total",
                             via="consensus")
    expect(sync("vote-state") >= consensus_blocks,
           f"vote state synced in every height: {sync('vote-state')} for {consensus_blocks}")
    expect(sync("signing-lease") >= 1, f"the signing lease extended: {sync('signing-lease')}")
    expect(step("validate") >= 1, f"proposals validated: {step('validate')}")
    for write in ("block", "vote-state", "signing-lease"):
        mean = sync(write, "sum") / sync(write)
        expect(0 < mean < 5, f"mean {write} sync {mean * 1000:.2f} ms is plausible")
    expect(0 < step("commit", "sum") / blocks < 5, "mean commit step is plausible")
    expect(value(after, "colend_peers_connected") == 4, "four peers connected")
    heights = [v for n, l, v in after["colend_peer_height"]["samples"]]
    expect(len(heights) >= 3 and max(heights) <= value(after, "colend_height") + 1,
           f"verified peer heights: {heights}")

    # scripts/io-share.py around one more anchor: it reads the same figures per node, as the
    # difference over the command's run.
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts",
                          "io-share.py")
    with tempfile.NamedTemporaryFile(suffix=".pdf", delete=False) as f:
        f.write(f"io-share {time.time()}".encode())
        doc = f.name
    p = subprocess.run(["/usr/bin/python3", script, "--dir", netlib.DIR, "--json", "--",
                        os.path.join(netlib.BIN, "colend"), "--home", home(2), "evidence", "anchor",
                        "--file", doc, "--name", "io-share.pdf", "--timeout", "30"],
                       capture_output=True, text=True, timeout=120)
    expect(p.returncode == 0, f"io-share around an anchor: exit {p.returncode} {p.stderr[-300:]}")
    share = json.loads(p.stdout.strip().splitlines()[-1])
    one = share["nodes"]["node1"]
    expect(sorted(share["nodes"]) == [f"node{k}" for k in range(1, 6)], "io-share reads all five")
    expect(one["blocks"] >= 1 and one["sync:block"]["count"] == one["blocks"] and
           one["step:commit"]["count"] == one["blocks"] and 0 < one["io_busy_share"] < 1,
           f"io-share: the anchor's block on node1 with its sync and commit step: {one}")
    p = subprocess.run(["/usr/bin/python3", script, "--dir", netlib.DIR + "-none", "--", "true"],
                       capture_output=True, text=True, timeout=60)
    expect(p.returncode == 2 and "no node*/config.json" in p.stderr,
           f"io-share without a network names it: {p.returncode} {p.stderr.strip()}")

    # A client keeping 70 connections to node1 from one address, over the 64 per address
    # (docs/operations.md): the node closes its oldest idle ones and counts each.
    expect(value(after, "colend_rpc_connections_closed", "colend_rpc_connections_closed_total",
                 reason="evicted") == 0, "no connection evicted in ordinary use")
    kept = []
    for i in range(70):
        c = http.client.HTTPConnection("127.0.0.1", rpc_port(1), timeout=10)
        c.request("POST", "/", body=json.dumps({"jsonrpc": "2.0", "id": i, "method": "status"}),
                  headers={"Content-Type": "application/json"})
        expect(c.getresponse().read() != b"", f"connection {i} answered")
        kept.append(c)
    evicted = value(scrape(1), "colend_rpc_connections_closed", "colend_rpc_connections_closed_total",
                    reason="evicted")
    expect(evicted >= 6, f"connections over the 64 per address evicted and counted: {evicted}")
    for c in kept:
        c.close()

    # Health: live and ready; then live but not ready without a quorum.
    status, _, text = get(1, "/health")
    health = json.loads(text)
    expect(status == 200 and health["live"] and health["ready"], f"/health ready: {health}")
    expect(get(1, "/health/ready")[0] == 200, "/health/ready is 200 when ready")
    expect(get(1, "/metrics", method="POST")[0] == 405, "POST /metrics is not allowed")
    for k in (3, 4, 5):
        colend("localnet", "down", "--dir", netlib.DIR, "--node", str(k), check=False)
    deadline = time.time() + 30
    while time.time() < deadline:
        status, _, text = get(1, "/health/ready")
        if status == 503:
            break
        time.sleep(0.5)
    health = json.loads(text)
    expect(status == 503 and health["live"] and not health["ready"] and
           health["quorum_connected"] is False,
           f"/health/ready 503 without a quorum: {status} {health}")
    expect(get(1, "/health")[0] == 200, "/health stays 200 (live) while not ready")
    expect(get(1, "/health/live")[0] == 200, "/health/live stays 200")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    net_dir = tempfile.mkdtemp(prefix="colend-metrics-")
    netlib.configure(args.bin, net_dir)
    return netlib.run_network_test(scenario, keep=args.keep, failures=(AssertionError, OSError))


if __name__ == "__main__":
    sys.exit(main())
