#!/usr/bin/env python3
"""The arbitration evidence bundle (docs/evidence-bundle.md) on five real colend-node processes,
checked from outside with both verifiers: colend-verify (C++) and tools/verify.sh (bash+openssl).

Proves:
  - a bundle exported by the arbitration commission's node (node 5) for a loan whose records
    span two membership epochs (the demo loan under the initial quorum rule, then a quorum-rule
    change, then two attached documents) PASSES both verifiers, given only the root CA's
    fingerprint;
  - the bundle is what the format says and nothing more: `mimetype` first and stored, unique
    relative names, a MANIFEST that matches, consortium/epoch-000000.json (the exact genesis
    file) and epoch-000001.json, records in blocks of both epochs, the attached documents byte
    for byte; no private key, no node configuration or address, no record, block entry or
    document of the other loan on the same chain (a second demo loan);
  - a wrong root fingerprint fails in both verifiers; so does a wrong --genesis-sha256, and a
    whole chain built by ONE member on a genesis of its own (only its own records, its own
    endorsements, every tree recomputed) is rejected once the genesis is pinned;
  - every tamper case docs/evidence-bundle.md section 6 and the README list, and a few
    more is REJECTED by both verifiers, each on a fresh tampered copy built here with zipfile
    (flipped bytes in each kind of file, re-signed records, endorsements dropped / duplicated /
    by outsiders under a look-alike CA, forged membership, copied signatures, reordered blocks
    and records, wrong Merkle paths including an inner node passed off as a leaf, removed and
    inserted records, another loan's record, a dropped event, a block without a record, `..`
    and extra entries, a MANIFEST rewritten to cover the tampering), and each verifier's first
    FAIL line is printed;
  - editing what is not evidence (README.txt, report/case.html, MANIFEST.sha256 alone) or just
    re-zipping changes no verdict;
  - printed, not counted: what the format leaves to the arbitrator (a bundle whose own
    tools/verify.sh was replaced by one that always prints PASS; the lone member's chain without
    the genesis pin, which both verifiers PASS: the reason the annex must carry the pin).

Tampered copies rewrite MANIFEST.sha256 consistently unless the case says otherwise (the
strongest attacker; MANIFEST is a convenience, not evidence). If a verifier already fails the
untouched bundle, a tamper case counts as rejected by it only if it reports a FAIL line that the
untouched bundle did not produce, and a control case passes if it reports no new FAIL line.

  evidence_test.py --bin build/bin [--suite std|sm] [--quorum majority|two-thirds]
                   [--verify-sh tools/evidence/verify.sh] [--jobs N] [--keep]
  evidence_test.py --bin build/bin --offline DIR [--verify-sh ...]   (DIR kept by --keep)

--verify-sh: run this verify.sh instead of the copy inside each bundle (tools/verify.sh). The
last line is "N passed, M failed"; exit 0 only if every check and every case behaved.

This file is the entry point: the network part, the checks of the untouched bundle and the
command line. The bundle, its facts, both verifiers' runs and the run's shared state (RUN) are in
evidence_bundle.py; the cases and their tables in evidence_tamper.py and evidence_forgery.py.
"""
import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile

import netlib
from evidence_bundle import (BASELINE, RESULTS, RUN, VERIFIERS, Bundle, Facts, LookAlike,
                             check_cases, fields, run_colend_verify, sha)
from evidence_forgery import CONTROL_CASES, INFO_CASES, QUICK_CASES, TAMPER_CASES
from netlib import colend, colend_json, expect, home

MIMETYPE = b"application/vnd.etsi.asic-e+zip"


# ---- the network part ---------------------------------------------------------------------------

def status(k):
    return colend_json("--home", home(k), "status")


def wait_until(what, predicate, timeout_s=60):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        try:
            if predicate():
                return
        except (AssertionError, ValueError):
            pass
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for: {what}")


def change_quorum_rule():
    """Epoch 1: the other quorum rule, proposed by node 1 and approved by enough members."""
    rule = "majority" if RUN.args.quorum == "two-thirds" else "two-thirds"
    out = colend_json("--home", home(1), "member", "propose", "--id", "q1", "--quorum", rule,
                      timeout=120)["outputs"]
    expect(out["proposal-status"] == "proposed", f"proposal q1 (quorum {rule}): {out['approvals']} of "
           f"{out['needed']} approvals")
    start = None
    for k in range(2, 6):
        out = colend_json("--home", home(k), "member", "approve", "q1", timeout=120)["outputs"]
        if out.get("proposal-status") == "approved":
            start = int(out["start-height"])
            break
    expect(start is not None and out["epoch"] == "1", f"approved by node1..node{k}: epoch 1 from height {start}")
    wait_until("epoch 1 in force on every node",
               lambda: all(status(k)["membership"]["epoch"] == 1 for k in range(1, 6)))
    return start


def attach(k, loan, name, kind, text, label=None):
    path = os.path.join(RUN.dir, name)
    with open(path, "wb") as f:
        f.write(text)
    argv = ["--home", home(k), "evidence", "attach", "--loan", loan, "--file", path, "--kind", kind]
    out = colend_json(*argv, *(["--label", label] if label else []), timeout=120)
    expect(out["accepted"] and out["document_sha256"] == sha(text),
           f"{name} attached to {loan} as {kind} at height {out['height']}")
    return out


def export(loan, out):
    """Exports from node 5, retrying while it still fetches the documents (document-missing)."""
    deadline, tries, first_error = time.time() + 30, 0, ""
    while True:
        tries += 1
        p = colend("--home", home(5), "evidence", "export", "--loan", loan, "--out", out, "--json",
                   check=False)
        if p.returncode == 0:
            if tries > 1:
                print(f"     export of {loan}: document-missing {tries - 1} times first "
                      f"({first_error.strip()[:120]}...)", flush=True)
            return json.loads(p.stdout)
        if tries == 1:
            first_error = p.stderr
        if "document-missing" not in p.stderr or time.time() > deadline:
            raise AssertionError(f"export of {loan} from node5: exit {p.returncode}: {p.stderr.strip()}")
        time.sleep(0.5)


def node_members():
    out = {}
    for k in range(1, 6):
        with open(os.path.join(home(k), "config.json")) as f:
            out[json.load(f)["member_id"]] = k
    return out


# ---- what the untouched bundle holds ------------------------------------------------------------

def check_contents(path, b, docs, other_docs):
    print("contents of the bundle", flush=True)
    with zipfile.ZipFile(path) as z:
        infos = z.infolist()
    expect(infos[0].filename == "mimetype" and infos[0].compress_type == zipfile.ZIP_STORED
           and b.get("mimetype") == MIMETYPE, "mimetype is the first entry, stored, ASiC-E")
    names = [i.filename for i in infos]
    expect(len(names) == len(set(names)) and not any(n.startswith("/") or ".." in n.split("/") for n in names),
           f"{len(names)} entries: unique relative names without ..")
    manifest = {l[66:]: l[:64] for l in b.text("MANIFEST.sha256").splitlines()}
    expect(set(manifest) == set(names) - {"MANIFEST.sha256"}
           and all(sha(b.get(n)) == h for n, h in manifest.items()),
           "MANIFEST.sha256 lists every other entry with its SHA-256")

    expect(all(b"PRIVATE KEY" not in d for _, d in b.entries), "no entry contains 'PRIVATE KEY'")
    secrets = []
    for k in range(1, 6):
        for key in ("signing.key", "tls.key"):
            secrets.append(os.path.join(home(k), key))
    secrets.append(os.path.join(RUN.dir, "ca.key"))
    leaked = []
    for s in secrets:
        if not os.path.exists(s):
            continue
        with open(s) as f:
            body = "".join(l for l in f.read().splitlines() if not l.startswith("-----"))
        der = base64.b64decode(body)
        for n, d in b.entries:
            if der in d or body[:40].encode() in d:
                leaked.append(f"{s} in {n}")
    expect(not leaked, f"no node's or the CA's private key material in any entry {leaked}")

    addresses = set()
    for k in range(1, 6):
        with open(os.path.join(home(k), "config.json")) as f:
            c = json.load(f)
        addresses.add(f"{c['p2p_host']}:{c['p2p_port']}")
        addresses.add(f"{c['rpc_host']}:{c['rpc_port']}")
    found = [(n, a) for n, d in b.entries for a in addresses | {"127.0.0.1", "localhost", "rpc_port", "p2p_port"}
             if a.encode() in d]
    expect(not any(n.endswith("config.json") for n in names) and not found,
           f"no config.json, no node address, host:port or 'localhost' in any entry {found[:5]}")
    ip_sans = 0
    for m in json.loads(b.get("consortium/epoch-000000.json"))["members"]:
        der = base64.b64decode("".join(m["tls_certificate"].splitlines()[1:-1]))
        ip_sans += b"\x87\x04\x7f\x00\x00\x01" in der
    print(f"     note: the genesis file (exact bytes, required) holds {ip_sans} TLS certificates "
          f"whose DER has an IP SAN 127.0.0.1 (base64, not an address in clear)")

    facts = RUN.facts
    expect(facts.info["exported-by"] == "arbitration" and b.text("bundle.txt").startswith(
        "colend-evidence-bundle/v1\n"), f"bundle.txt: exported by {facts.info['exported-by']}")
    with open(os.path.join(RUN.dir, "genesis.json"), "rb") as f:
        genesis = f.read()
    expect(b.get("consortium/epoch-000000.json") == genesis,
           "consortium/epoch-000000.json is the genesis file, exact bytes")
    expect(b.has("consortium/epoch-000001.json") and facts.epochs[1]["doc"]["epoch"] == 1
           and facts.epochs[1]["doc"]["previous_sha256"] == sha(facts.epochs[0]["raw"]),
           "consortium/epoch-000001.json links to the genesis file by previous_sha256")
    rec_epochs = {facts.epoch_of(r["height"]) for r in facts.records}
    expect(rec_epochs == {0, 1}, f"records in blocks of epochs {sorted(rec_epochs)}")
    foreign = [r["seq"] for r in facts.records
               if r["f"].get("loan") != facts.loan and r["f"]["type"] not in ("clock.tick", "clock.advance")]
    expect(not foreign, f"every record names loan {facts.loan} or is a clock.tick/clock.advance {foreign}")
    other_ids = {sha(RUN.other.get(n)) for n in RUN.other.names("records/")
                 if n.endswith("/tx.txt")}
    other_loan = fields(RUN.other.text("bundle.txt"))["loan"]
    expect(not other_ids & {r["id"] for r in facts.records},
           f"none of the other loan {other_loan}'s {len(other_ids)} records is in the bundle")
    mentions = [n for n, d in b.entries if other_loan.encode() in d]
    expect(not mentions, f"no entry mentions the other loan {other_loan} {mentions[:3]}")
    expect(not any(h.encode() in d for h in other_docs for _, d in b.entries),
           "the other loan's document (nor its hash) is not in the bundle")
    expect({n[len("documents/"):] for n in b.names("documents/")} == set(docs)
           and all(b.get("documents/" + h) == data for h, data in docs.items()),
           f"documents/ holds exactly the {len(docs)} attached documents, byte for byte")
    expect(facts.blocks[-1] == facts.anchor and all(b.has(facts.block_dir(h) + "ledger-proof.txt")
                                                     for h in facts.blocks if h != facts.anchor),
           f"blocks {facts.blocks[0]}..{facts.anchor}: every block but the anchor has a ledger proof")


def run_verifiers_on_untouched(path):
    print("both verifiers on the untouched bundle", flush=True)
    for run in VERIFIERS:
        v = run(path, RUN.root_fp)
        BASELINE[v.tool] = v
        expect(v.rc == 0 and not v.fails, f"{v.tool:13s} PASSES the untouched bundle" +
               ("" if v.rc == 0 else f": exit {v.rc}, {len(v.fails)} FAIL lines, first {v.first()}"),
               fatal=False)
        for check, detail in v.fails[:25]:
            print(f"       FAIL {check}: {detail[:160]}")
        if len(v.fails) > 25:
            print(f"       ... {len(v.fails) - 25} more")
    other = os.path.join(RUN.dir, "other.zip")
    v = run_colend_verify(other, RUN.root_fp)
    expect(v.rc == 0, f"colend-verify PASSES the other loan's bundle{'' if v.rc == 0 else ': ' + v.first()}",
           fatal=False)
    if BASELINE["colend-verify"].rc != 0:
        print("     colend-verify fails the untouched bundle: tamper verdicts are relative to that", flush=True)


def summary():
    print("\nsummary (case: colend-verify | verify.sh)", flush=True)
    disagree, passes_tampered = [], []
    for name, expect_pass, row in RESULTS:
        if expect_pass is None:
            continue
        marks = []
        for v, ok, how in row:
            marks.append(("ok " if ok else "BAD ") + how[:72])
        print(f"  {name:34s} {marks[0]:76s} | {marks[1]}")
        rejected = [v.rc != 0 for v, _, _ in row]
        if not expect_pass and rejected[0] != rejected[1]:
            disagree.append(name)
        if not expect_pass and row[0][0].rc == 0:
            passes_tampered.append(name)
    if passes_tampered:
        print(f"  colend-verify PASSES tampered bundles: {', '.join(passes_tampered)}")
    if disagree:
        print(f"  the verifiers disagree (one exits 0, the other not) on: {', '.join(disagree)}")
    info = [(name, row) for name, expect_pass, row in RESULTS if expect_pass is None]
    for name, row in info:
        print(f"  (not counted) {name:20s} " + " | ".join(
            f"{v.tool}: {'exit 0' if v.rc == 0 else how[:70]}" for v, _, how in row))
    counted = [(name, row) for name, expect_pass, row in RESULTS if expect_pass is not None]
    bad = [name for name, row in counted if not all(ok for _, ok, _ in row)]
    print(f"  {len(counted) - len(bad)} of {len(counted)} cases behaved in both verifiers", flush=True)
    return bad


def binaries():
    """Modification times of the binaries used: a rebuild during a run mixes formats."""
    used = ("colend-verify",) if RUN.args.offline else ("colend", "colend-node", "colend-verify")
    return {n: os.stat(os.path.join(RUN.args.bin, n)).st_mtime_ns for n in used}


def run_network():
    """The chain part: returns the attached documents {sha256: bytes} and the other loan's."""
    colend("localnet", "init", "--dir", RUN.dir, "--nodes", "5", "--dev-clock", "--suite",
           RUN.args.suite, "--quorum", RUN.args.quorum)
    colend("localnet", "up", "--dir", RUN.dir)
    print(f"two demo loans ({RUN.args.suite}, {RUN.args.quorum})", flush=True)
    demo = colend_json("localnet", "demo", "--dir", RUN.dir, timeout=300)
    loan = demo["loan"]
    expect(demo["same_state_root"], f"demo 1: loan {loan} (the case)")
    other = colend_json("localnet", "demo", "--dir", RUN.dir, timeout=300)["loan"]
    expect(other != loan, f"demo 2: loan {other} (another loan on the same chain)")

    print("a membership epoch during the loan's life, then its documents", flush=True)
    start = change_quorum_rule()
    other_doc = attach(1, other, "other-contract.txt", "other", b"Contract of the other loan\n")
    docs = {}
    for name, kind, label in (("contract.pdf", "contract", "signed joint loan contract"),
                              ("notice.txt", "notice", None)):
        data = f"{kind} of loan {loan}\n{os.urandom(8).hex()}\n".encode()
        if name.endswith(".pdf"):
            data = b"%PDF-1.4\n" + data + bytes(range(256)) + b"\n%%EOF\n"
        out = attach(1, loan, name, kind, data, label)
        expect(out["height"] >= start, f"{name} is in block {out['height']} of epoch 1")
        docs[sha(data)] = data

    print("export from node 5 (the arbitration commission)", flush=True)
    path = os.path.join(RUN.dir, "bundle.zip")
    out = export(loan, path)
    expect(out["records"] > 2 and out["documents"] == 2,
           f"exported {out['files']} files: {out['records']} records, {out['documents']} documents, "
           f"anchor {out['anchor_height']}")
    export(other, os.path.join(RUN.dir, "other.zip"))
    colend("localnet", "down", "--dir", RUN.dir)  # the rest is offline, as for the arbitrator
    expect(root_fingerprint().replace(":", "").lower() == out["ca_sha256"],
           "the export names the CA fingerprint")
    return docs, {other_doc["document_sha256"]}


def saved_documents():
    """--offline: the documents a previous run attached, from its directory."""
    docs = {}
    for name in ("contract.pdf", "notice.txt"):
        with open(os.path.join(RUN.dir, name), "rb") as f:
            data = f.read()
        docs[sha(data)] = data
    with open(os.path.join(RUN.dir, "other-contract.txt"), "rb") as f:
        return docs, {sha(f.read())}


def root_fingerprint():
    """As the arbitrator gets it from the contract's annex: openssl's colon form."""
    return subprocess.run(["openssl", "x509", "-in", os.path.join(RUN.dir, "ca.pem"), "-noout",
                           "-fingerprint", "-sha256"], capture_output=True, text=True,
                          check=True).stdout.strip().split("=")[1]


def check_report_renders(base):
    """report/case.html in headless Chromium: not blank, the loan id and the principal on it."""
    import report_render
    html = os.path.join(RUN.dir, "case.html")
    with open(html, "wb") as f:
        f.write(base.get("report/case.html"))
    problems = report_render.check_report(html, RUN.facts.loan,
                                          ["40,000.00", "8,000.00", "32,000.00"],
                                          screenshot_out=os.path.join(RUN.dir, "case.png"))
    expect(not problems, "report/case.html renders in headless Chromium with the loan id and the "
           "20/80 amounts" + (f": {problems}" if problems else ""), fatal=False)


def scenario():
    os.makedirs(os.path.join(RUN.dir, "cases"), exist_ok=True)
    built = binaries()
    docs, other_docs = saved_documents() if RUN.args.offline else run_network()
    RUN.root_fp = root_fingerprint()
    path = os.path.join(RUN.dir, "bundle.zip")
    base = Bundle.load(path)
    RUN.other = Bundle.load(os.path.join(RUN.dir, "other.zip"))
    RUN.facts = Facts(base)
    RUN.outsider = LookAlike(RUN.dir)
    for member, k in node_members().items():
        RUN.keys[member] = os.path.join(home(k), "signing.key")
    check_contents(path, base, docs, other_docs)
    check_report_renders(base)

    sh = (os.path.abspath(RUN.args.verify_sh) if RUN.args.verify_sh
          else "the bundle's tools/verify.sh")
    repo_sh = os.path.join(os.path.dirname(__file__), "..", "..", "tools", "evidence", "verify.sh")
    same = False
    if os.path.exists(repo_sh):
        with open(repo_sh, "rb") as f:
            same = f.read() == base.get("tools/verify.sh")
    print(f"verify.sh used: {sh} (the bundle's copy is {len(base.get('tools/verify.sh'))} bytes, "
          f"{'identical to' if same else 'DIFFERENT from'} tools/evidence/verify.sh)", flush=True)
    run_verifiers_on_untouched(path)

    tamper = TAMPER_CASES
    if RUN.args.only:
        only = set(RUN.args.only.split(","))
        pick = lambda cases: [(n, m) for n, m in cases if n in only]  # noqa: E731
        tamper, CONTROL_CASES[:], INFO_CASES[:] = pick(TAMPER_CASES), pick(CONTROL_CASES), pick(INFO_CASES)
    if RUN.args.quick:
        missing = QUICK_CASES - {n for n, _ in TAMPER_CASES}
        tamper = [(n, m) for n, m in tamper if n in QUICK_CASES]
        expect(not missing, f"--quick names only existing cases {sorted(missing)}")
    check_cases("tamper cases (each on a fresh copy; both verifiers must reject it)"
                + (f" [--quick: {len(tamper)} of {len(TAMPER_CASES)}]" if RUN.args.quick else ""),
                tamper, base)
    check_cases("controls (not evidence; both verifiers must still pass)", CONTROL_CASES, base,
                expect_pass=True)
    check_cases("questions the format leaves open (printed, not counted)", INFO_CASES, base,
                expect_pass=None)
    bad = summary()
    changed = [n for n, t in binaries().items() if built[n] != t]
    expect(not changed, f"the binaries were not rebuilt during the run {changed}"
           + (": the results above mix two builds, run again" if changed else ""), fatal=False)
    if changed:
        bad.append("rebuilt-binaries")
    if bad:
        raise AssertionError(f"{len(bad)} cases did not behave: {', '.join(bad)} "
                             f"(tampered copies in {os.path.join(RUN.dir, 'cases')})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin", required=True)
    parser.add_argument("--suite", choices=["std", "sm"], default="std")
    parser.add_argument("--quorum", choices=["majority", "two-thirds"], default="majority")
    parser.add_argument("--verify-sh", help="this verify.sh instead of each bundle's tools/verify.sh")
    parser.add_argument("--jobs", type=int, default=2, help="verifier runs at a time (default 2)")
    parser.add_argument("--keep", action="store_true", help="keep the network directory")
    parser.add_argument("--quick", action="store_true",
                        help="one tamper case per kind (CI); without it, every case")
    parser.add_argument("--only", metavar="CASE,...", help="run only these cases (debugging)")
    parser.add_argument("--offline", metavar="DIR",
                        help="no network: rerun the checks and cases on the bundles of a previous "
                             "run's directory (kept with --keep)")
    RUN.args = parser.parse_args()
    RUN.args.bin = os.path.abspath(RUN.args.bin)
    if shutil.which("openssl") is None:
        print("the openssl command-line tool is required", file=sys.stderr)
        return 1
    RUN.dir = (os.path.abspath(RUN.args.offline) if RUN.args.offline
               else tempfile.mkdtemp(prefix="colend-evidence-"))
    netlib.configure(RUN.args.bin, RUN.dir)
    print(f"network and tampered copies in {RUN.dir}", flush=True)
    return netlib.run_network_test(scenario, keep=RUN.args.keep or bool(RUN.args.offline),
                                   log_lines=3, failures=(AssertionError, subprocess.TimeoutExpired))


if __name__ == "__main__":
    sys.exit(main())
