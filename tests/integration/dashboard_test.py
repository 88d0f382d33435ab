#!/usr/bin/env python3
"""The operator's dashboard at GET / on five real nodes, loaded in headless Chromium (issue 16 item 4).

Proves:
  - after the sample joint loan (`colend localnet demo`) and a contract refusal, the page that
    Chromium renders (its DOM after the script ran, not the page's source) shows: the chain height
    and recent blocks with the members that endorsed them, each member with its state, the sample
    loan with its status, DPD, class and collection stage, and the refusal by rule id and code;
  - the figures are the node's: the page's loan status and DPD are what `colend loan show` says,
    its height is not below the height `colend status` reported before the load;
  - the screenshot is a real rendering (a PNG of the window's size with dark text on a light
    page, not a blank or error page);
  - the page is self-contained: served with a Content-Security-Policy that allows this origin
    only, and Chromium renders it with no network beyond the node (it is started with every other
    host unreachable).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

import netlib
from netlib import colend, colend_json, expect, home

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def rpc_port(k):
    with open(os.path.join(home(k), "config.json")) as f:
        return json.load(f)["rpc_port"]


def chromium(url, *extra, timeout=90):
    profile = tempfile.mkdtemp(prefix="colend-chromium-")
    try:
        cmd = [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
               "--disable-extensions", "--disable-background-networking",
               f"--user-data-dir={profile}",
               # Anything but the node is unreachable: a page that needed a CDN would break.
               "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
               "--virtual-time-budget=8000", "--window-size=1400,2200", *extra, url]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        expect(p.returncode == 0, "chromium ran" + (f": exit {p.returncode}: {p.stderr[-600:]}"
                                                    if p.returncode else ""))
        return p.stdout
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def rows_of(dom, table_id):
    """The text of each row of a table of the rendered DOM, parsed with the standard library."""
    from html.parser import HTMLParser

    class Rows(HTMLParser):
        def __init__(self):
            super().__init__()
            self.depth, self.rows, self.row, self.cell = 0, [], None, None

        def handle_starttag(self, tag, attrs):
            if tag == "table" and dict(attrs).get("id") == table_id:
                self.depth = 1
            elif self.depth and tag == "tbody":
                self.depth = 2
            elif self.depth == 2 and tag == "tr":
                self.row = []
            elif self.row is not None and tag == "td":
                self.cell = ""

        def handle_endtag(self, tag):
            if self.depth and tag == "table":
                self.depth = 0
            elif self.row is not None and tag == "td":
                self.row.append(self.cell)
                self.cell = None
            elif self.row is not None and tag == "tr":
                self.rows.append(self.row)
                self.row = None

        def handle_data(self, data):
            if self.cell is not None:
                self.cell += data

    parser = Rows()
    parser.feed(dom)
    return parser.rows


def scenario():
    colend("localnet", "init", "--dir", netlib.DIR, "--nodes", "5", "--dev-clock")
    colend("localnet", "up", "--dir", netlib.DIR)
    demo = colend_json("localnet", "demo", "--dir", netlib.DIR, timeout=300)
    loan_id = demo["loan"]
    # A contract refusal: the same document anchored twice (already-anchored, EVIDENCE-ANCHOR).
    with tempfile.NamedTemporaryFile(suffix=".pdf", delete=False) as f:
        f.write(b"dashboard: the same bytes twice")
        same = f.name
    for k in (2, 3):
        colend("--home", home(k), "evidence", "anchor", "--file", same, "--name", "twice.pdf",
               "--timeout", "30", check=False)
    loan = colend_json("--home", home(1), "loan", "show", loan_id)
    status = colend_json("--home", home(1), "status")
    url = f"http://127.0.0.1:{rpc_port(1)}/"

    with urllib.request.urlopen(url, timeout=10) as r:
        csp = r.headers.get("Content-Security-Policy", "")
        expect(r.status == 200 and r.headers.get("Content-Type", "").startswith("text/html"),
               "GET / serves the dashboard page")
        expect("default-src 'none'" in csp and "connect-src 'self'" in csp,
               f"the page may load from its own origin only: {csp}")

    # The refusal reaches node 1's receipts; wait until its dashboard answer lists it.
    deadline = time.time() + 30
    while time.time() < deadline:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "dashboard", "params": {}}).encode()
        req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            data = json.loads(r.read())["result"]
        if data["rejections"]["by_rule"].get("EVIDENCE-ANCHOR", 0) >= 1:
            break
        time.sleep(0.5)
    expect(data["rejections"]["by_rule"].get("EVIDENCE-ANCHOR", 0) == 1,
           f"the refusal counted by rule: {data['rejections']['by_rule']}")

    dom = chromium(url, "--dump-dom")
    expect("cannot read the node" not in dom, "the page read the node")
    members = rows_of(dom, "members")
    expect(len(members) == 5, f"five members listed: {members}")
    ids = [m[0].replace(" (this node)", "") for m in members]
    expect(ids == sorted(ids) and all(i in dom for i in status["membership"]["members"]),
           f"each member of the epoch listed: {ids}")
    expect(members[[m[0] for m in members].index(status["member"] + " (this node)")][3] == "signing",
           f"node 1 shows itself signing: {members}")
    expect(sum(1 for m in members if m[3] in ("signing", "connected")) == 5,
           f"all five up: {[m[3] for m in members]}")
    blocks = rows_of(dom, "blocks")
    expect(len(blocks) == 10, f"ten recent blocks: {len(blocks)}")
    heights = [int(b[0]) for b in blocks]
    expect(heights == sorted(heights, reverse=True) and heights[0] >= status["height"],
           f"newest block first, not below status height {status['height']}: {heights}")
    for b in blocks:
        endorsers = [e for e in b[5].split(", ") if e]
        expect(len(endorsers) >= 3 and set(endorsers) <= set(ids),
               f"block {b[0]} endorsed by a quorum of members: {b[5]}")
    loans = rows_of(dom, "loans")
    row = next((r for r in loans if r[0] == loan_id), None)
    expect(row is not None, f"the sample loan {loan_id} is listed: {loans}")
    expect(row[2] == loan["status"] and int(row[5]) == loan["dpd"],
           f"its status and DPD are the node's: {row} vs {loan['status']} dpd {loan['dpd']}")
    expect(row[6] == loan["lenders"][0]["classification"] and row[7] == loan["collection_stage"],
           f"class and collection stage: {row}")
    principal = f"{loan['principal_fen'] // 100:,}.{loan['principal_fen'] % 100:02d}"
    expect(row[3] == principal, f"principal in CNY: {row[3]} vs {principal}")
    refusals = rows_of(dom, "by-rule")
    expect(["EVIDENCE-ANCHOR", "1"] in refusals, f"refusals by rule: {refusals}")
    latest = rows_of(dom, "rejections")
    expect(any(r[2] == "already-anchored" and r[3] == "EVIDENCE-ANCHOR" for r in latest),
           f"the latest refusal with its code: {latest}")

    shot = os.path.join(netlib.DIR, "dashboard.png")
    chromium(url, f"--screenshot={shot}")
    check = subprocess.run(["/usr/bin/python3", "-c", r'''
import sys
from PIL import Image
im = Image.open(sys.argv[1]).convert("L")
px = im.getdata()
dark = sum(1 for p in px if p < 96)
light = sum(1 for p in px if p > 200)
print(im.size[0], im.size[1], dark, light)
''', shot], capture_output=True, text=True, timeout=60)
    expect(check.returncode == 0, f"the screenshot is a PNG: {check.stderr[-300:]}")
    w, h, dark, light = map(int, check.stdout.split())
    expect((w, h) == (1400, 2200), f"screenshot of the window: {w}x{h}")
    expect(dark > 5000 and light > w * h // 2,
           f"dark text on a light page: {dark} dark, {light} light pixels")



def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    net_dir = tempfile.mkdtemp(prefix="colend-dashboard-")
    netlib.configure(args.bin, net_dir)
    return netlib.run_network_test(scenario, keep=args.keep, failures=(AssertionError, OSError))


if __name__ == "__main__":
    sys.exit(main())
