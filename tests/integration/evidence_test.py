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
"""
import argparse
import base64
import concurrent.futures
import datetime
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
import zipfile

import netlib
from netlib import colend, colend_json, expect, home

ARGS = None
DIR = None
MIMETYPE = b"application/vnd.etsi.asic-e+zip"
SH_ENV = ["env", "-i", "PATH=/usr/bin:/bin"]


# ---- the bundle as a list of entries ---------------------------------------------------------

class Bundle:
    """A bundle's entries in ZIP order; names may repeat or be unsafe in a tampered copy."""

    def __init__(self, entries):
        self.entries = [[name, data] for name, data in entries]
        self.manifest = True     # rewrite MANIFEST.sha256 to match when written
        self.fp = None           # a case may present another fingerprint
        self.own_script = False  # run the bundle's tools/verify.sh even with --verify-sh
        self.pin = None          # --genesis-sha256 to give both verifiers

    @staticmethod
    def load(path):
        with zipfile.ZipFile(path) as z:
            return Bundle([(i.filename, z.read(i)) for i in z.infolist()])

    def copy(self):
        return Bundle(self.entries)

    def names(self, prefix=""):
        return [n for n, _ in self.entries if n.startswith(prefix)]

    def has(self, name):
        return any(n == name for n, _ in self.entries)

    def get(self, name):
        for n, d in self.entries:
            if n == name:
                return d
        raise KeyError(name)

    def text(self, name):
        return self.get(name).decode()

    def put(self, name, data):
        data = data.encode() if isinstance(data, str) else data
        for e in self.entries:
            if e[0] == name:
                e[1] = data
                return
        self.entries.append([name, data])

    def add(self, name, data):
        """Appends even if the name exists (a duplicate entry)."""
        self.entries.append([name, data.encode() if isinstance(data, str) else data])

    def delete(self, name):
        assert self.has(name), name
        self.entries = [e for e in self.entries if e[0] != name]

    def delete_tree(self, prefix):
        self.entries = [e for e in self.entries if not e[0].startswith(prefix)]

    def rename_tree(self, old, new):
        for e in self.entries:
            if e[0].startswith(old):
                e[0] = new + e[0][len(old):]

    def write(self, path):
        if self.manifest and self.has("MANIFEST.sha256"):
            lines = sorted((n, f"{sha(d)}  {n}\n") for n, d in self.entries if n != "MANIFEST.sha256")
            self.put("MANIFEST.sha256", "".join(line for _, line in lines))
        stamp = (2026, 1, 1, 0, 0, 0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # duplicate names are intended in one case
            with zipfile.ZipFile(path, "w") as z:
                ordered = sorted(self.entries, key=lambda e: e[0] != "mimetype")  # stable
                for name, data in ordered:
                    info = zipfile.ZipInfo(name, date_time=stamp)
                    info.compress_type = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
                    z.writestr(info, data)


def fields(text):
    """'key: value' lines after the magic line (repeated keys: the last one)."""
    out = {}
    for line in text.splitlines()[1:]:
        key, _, value = line.partition(": ")
        out[key] = value
    return out


def flip_last_char(line):
    """The line with its last character replaced by another of the same kind."""
    c = line[-1]
    if c in "0123456789abcdef":
        swap = "0123456789abcdef"
    elif c.isalpha():
        swap = "abcdefghijklmnopqrstuvwxyz" if c.islower() else "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    else:
        return line[:-1] + ("x" if c != "x" else "y")
    return line[:-1] + swap[(swap.index(c) + 1) % len(swap)]


def flip_line(text, prefix, nth=0):
    """Changes the last character of the nth line starting with prefix."""
    lines = text.split("\n")
    hits = [i for i, l in enumerate(lines) if l.startswith(prefix)]
    assert len(hits) > nth, f"no line {prefix!r} #{nth} in:\n{text}"
    lines[hits[nth]] = flip_last_char(lines[hits[nth]])
    return "\n".join(lines)


def set_line(text, prefix, value):
    lines = text.split("\n")
    for i, l in enumerate(lines):
        if l.startswith(prefix + ": "):
            lines[i] = f"{prefix}: {value}"
            return "\n".join(lines)
    raise AssertionError(f"no line {prefix!r}")


def flip_byte(data, pos=None):
    pos = len(data) // 2 if pos is None else pos
    return data[:pos] + bytes([data[pos] ^ 0x01]) + data[pos + 1:]


def sha(data):
    return hashlib.sha256(data).hexdigest()


# ---- facts about the exported bundle, computed once ----------------------------------------

class Facts:
    """What the cases need to know about the untouched bundle."""

    def __init__(self, b):
        self.b = b
        self.info = fields(b.text("bundle.txt"))
        self.loan = self.info["loan"]
        self.n = int(self.info["records"])
        self.anchor = int(self.info["anchor-height"])
        self.suite = self.info["suite"]
        self.chain = self.info["chain-id"]
        self.genesis = json.loads(b.get("consortium/epoch-000000.json"))
        self.epochs = []
        e = 0
        while b.has(f"consortium/epoch-{e:06d}.json"):
            raw = b.get(f"consortium/epoch-{e:06d}.json")
            doc = json.loads(raw)
            self.epochs.append({"raw": raw, "doc": doc,
                                "start": 1 if e == 0 else doc["start_height"],
                                "rule": doc["quorum"],
                                "members": sorted(m["id"] for m in doc["members"])})
            e += 1
        self.records = []
        for seq in range(1, self.n + 1):
            d = f"records/{seq:06d}/"
            tx = b.text(d + "tx.txt")
            r = fields(b.text(d + "receipt.txt"))
            self.records.append({"seq": seq, "dir": d, "tx": tx, "f": fields(tx),
                                 "id": sha(tx.encode()), "height": int(r["height"]),
                                 "receipt": r})
        self.blocks = sorted({int(n.split("/")[1]) for n in b.names("blocks/")})

    def block_dir(self, h):
        return f"blocks/{h:012d}/"

    def header(self, h):
        return fields(self.b.text(self.block_dir(h) + "header.txt"))

    def endorsers(self, h, b=None):
        b = b or self.b
        pre = self.block_dir(h) + "endorsements/"
        return sorted(n[len(pre):-4] for n in b.names(pre))

    def epoch_of(self, h):
        return int(self.header(h)["membership-epoch"])

    def quorum(self, e):
        n = len(self.epochs[e]["members"])
        return n * 2 // 3 + 1 if self.epochs[e]["rule"] == "two-thirds" else n // 2 + 1

    def vote(self, h, b=None):
        b = b or self.b
        d = self.block_dir(h)
        header = b.get(d + "header.txt")
        return (f"colend-vote/v1\nchain-id: {self.chain}\nepoch: {self.epoch_of(h)}\nheight: {h}\n"
                f"round: {b.text(d + 'round.txt').strip()}\nphase: precommit\n"
                f"block-hash: {sha(header)}\n").encode()

    def record_blocks(self):
        """Heights holding at least one record, lowest first, without the anchor."""
        return sorted({r["height"] for r in self.records} - {self.anchor})


FACTS = None
OTHER = None   # the other loan's bundle (Bundle)
KEYS = {}      # member id -> its signing key file (the real institution's key)


def sign(key_path, message):
    return netlib.openssl_sign(key_path, message, FACTS.suite)


def leaf_text(tx, sig):
    return f"colend-tx-leaf/v1\ntx-id: {sha(tx)}\nsig-sha256: {sha(sig)}\n"


def resign_record(b, rec, new_tx):
    """The record replaced by new_tx, signed by its real sender's key, with its leaf recomputed."""
    key = KEYS[rec["f"]["sender"]]
    sig = sign(key, new_tx.encode())
    b.put(rec["dir"] + "tx.txt", new_tx)
    b.put(rec["dir"] + "tx.sig", sig)
    b.put(rec["dir"] + "leaf.txt", leaf_text(new_tx.encode(), sig))


# ---- an outsider: a look-alike CA with the real CA's name, and a key it certifies --------------

class LookAlike:
    """A CA with the same subject, dates and extensions as the consortium's, but another key; the
    certificates it issues copy a real member's subject and dates."""

    def __init__(self, work):
        self.dir = os.path.join(work, "lookalike")
        os.makedirs(self.dir, exist_ok=True)
        real_ca = os.path.join(DIR, "ca.pem")
        ca_text = self.openssl("x509", "-in", real_ca, "-noout", "-text")
        curve = "SM2" if "ASN1 OID: SM2" in ca_text else "P-256"
        self.ca_key = self.genkey("ca.key", curve)
        self.ca_pem = os.path.join(self.dir, "ca.pem")
        self.openssl("x509", "-in", real_ca, "-key", self.ca_key, "-preserve_dates", "-sha256",
                     "-out", self.ca_pem)
        self.key = self.genkey("outsider.key", "SM2" if FACTS.suite == "sm" else "P-256")
        with open(os.path.join(self.dir, "index.txt"), "w"):
            pass
        with open(os.path.join(self.dir, "serial"), "w") as f:
            f.write("1000\n")
        with open(os.path.join(self.dir, "ca.cnf"), "w") as f:
            f.write("[ca]\ndefault_ca = d\n[d]\ndatabase = index.txt\nnew_certs_dir = .\n"
                    "serial = serial\ndefault_md = sha256\npolicy = pol\nunique_subject = no\n"
                    "preserve = yes\n[pol]\nO = optional\nCN = optional\n[ext]\n"
                    "basicConstraints = critical,CA:FALSE\n"
                    "keyUsage = critical,digitalSignature,keyAgreement\n")
        self.count = 0

    def openssl(self, *argv):
        p = subprocess.run(["openssl", *argv], capture_output=True, text=True, cwd=self.dir, timeout=60)
        if p.returncode != 0:
            raise AssertionError(f"openssl {' '.join(argv)}: {p.stderr}")
        return p.stdout

    def genkey(self, name, curve):
        path = os.path.join(self.dir, name)
        self.openssl("genpkey", "-algorithm", "EC", "-pkeyopt", f"ec_paramgen_curve:{curve}",
                     "-out", path)
        return path

    def fingerprint(self):
        return self.openssl("x509", "-in", self.ca_pem, "-noout", "-fingerprint",
                            "-sha256").strip().split("=")[1]

    def ca_text(self):
        with open(self.ca_pem) as f:
            return f.read()

    def issue(self, like_pem_text, subject=None):
        """A certificate for the outsider's key, issued by the look-alike CA, with the subject
        (or the given one) and validity of the real certificate like_pem_text."""
        self.count += 1
        like = os.path.join(self.dir, f"like{self.count}.pem")
        with open(like, "w") as f:
            f.write(like_pem_text)
        subj = subject or self.openssl("x509", "-in", like, "-noout", "-subject", "-nameopt",
                                       "compat").strip()[len("subject="):]
        dates = {}
        for line in self.openssl("x509", "-in", like, "-noout", "-startdate", "-enddate").splitlines():
            k, _, v = line.partition("=")
            dates[k] = datetime.datetime.strptime(v.replace("  ", " "), "%b %d %H:%M:%S %Y GMT") \
                .strftime("%Y%m%d%H%M%SZ")
        csr, out = f"out{self.count}.csr", f"out{self.count}.pem"
        sm = ["-sm3", "-sigopt", netlib.SM2_ID] if FACTS.suite == "sm" else ["-sha256"]
        self.openssl("req", "-new", "-key", self.key, "-subj", subj, *sm, "-out", csr)
        vfy = ["-vfyopt", netlib.SM2_ID] if FACTS.suite == "sm" else []
        self.openssl("ca", "-batch", "-config", "ca.cnf", "-cert", self.ca_pem, "-keyfile",
                     self.ca_key, "-in", csr, "-out", out, "-startdate", dates["notBefore"],
                     "-enddate", dates["notAfter"], "-extensions", "ext", "-notext", *vfy)
        with open(os.path.join(self.dir, out)) as f:
            return f.read()

    def sign(self, message):
        return sign(self.key, message)


OUTSIDER = None


# ---- running the two verifiers ---------------------------------------------------------------

class Verdict:
    def __init__(self, tool, rc, fails, note=""):
        self.tool, self.rc, self.fails, self.note = tool, rc, fails, note  # fails: [(check, detail)]

    def first(self):
        if not self.fails:
            return "(no FAIL line)"
        check, detail = self.fails[0]
        return f"FAIL {check}: {detail[:150]}"


def run_colend_verify(zip_path, fp, extra=()):
    p = subprocess.run([os.path.join(ARGS.bin, "colend-verify"), zip_path, "--root-sha256", fp,
                        *extra, "--json"], capture_output=True, text=True, timeout=300)
    try:
        out = json.loads(p.stdout)
        fails = [(c["check"], c.get("detail", "")) for c in out.get("checks", [])
                 if c.get("result") != "PASS"]
        if p.returncode == 0 and (not out.get("verified") or out.get("failed")):
            fails.append(("(json)", "exit 0 but verified is false or failed > 0"))
    except ValueError:
        fails = [("(no json)", (p.stderr or p.stdout).strip()[:300])]
    return Verdict("colend-verify", p.returncode, fails)


def unpack(zip_path, folder):
    """Extracts like an arbitrator's unzip, but never outside folder: an entry whose name is
    absolute or has a `..` part lands in extra/ instead (verify.sh must refuse that file)."""
    moved = []
    with zipfile.ZipFile(zip_path) as z:
        for info in z.infolist():
            name = info.filename
            parts = name.split("/")
            if name.startswith("/") or ".." in parts:
                safe = "extra/" + re.sub(r"[^A-Za-z0-9._-]", "_", name)
                moved.append(f"{name} -> {safe}")
                name = safe
            path = os.path.join(folder, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(z.read(info))
    return moved


def run_verify_sh(zip_path, fp, own_script=False, extra=()):
    with tempfile.TemporaryDirectory(prefix="bundle-", dir=os.path.join(DIR, "cases")) as folder:
        moved = unpack(zip_path, folder)
        script = os.path.abspath(ARGS.verify_sh) if ARGS.verify_sh and not own_script else "tools/verify.sh"
        if not os.path.exists(os.path.join(folder, script)):
            return Verdict("verify.sh", 127, [("(missing)", f"{script} is not in the bundle")])
        p = subprocess.run(SH_ENV + ["bash", script, "--root-sha256", fp, *extra], cwd=folder,
                           capture_output=True, text=True, timeout=600)
    fails = []
    for line in p.stdout.splitlines():
        m = re.match(r"FAIL ([^:]*): ?(.*)", line)
        if m:
            fails.append((m.group(1), m.group(2)))
    note = ("unpacked " + "; ".join(moved)) if moved else ""
    if p.returncode != 0 and not fails and p.stderr.strip():
        note = (note + " " if note else "") + "stderr: " + p.stderr.strip()[:200]
    return Verdict("verify.sh", p.returncode, fails, note)


VERIFIERS = (run_colend_verify, run_verify_sh)
BASELINE = {}   # tool -> Verdict of the untouched bundle
RESULTS = []    # (case, expect_pass, [(Verdict, ok, how)])


def judge(v, expect_pass):
    """(ok, how) of one verdict, relative to the untouched bundle's."""
    base = BASELINE.get(v.tool)
    base_fails = set(base.fails) if base else set()
    new = [f for f in v.fails if f not in base_fails]
    clean = base is None or base.rc == 0
    if v.rc < 0 or v.rc > 2:
        return False, f"crashed or odd exit {v.rc}: {v.first()}"
    if expect_pass:
        if v.rc == 0:
            return True, "PASS"
        if not clean and not new:
            return True, f"no new FAIL line (the untouched bundle already fails: {base.first()})"
        return False, f"exit {v.rc}, " + (f"FAIL {new[0][0]}: {new[0][1][:150]}" if new else v.first())
    if v.rc == 0:
        return False, "exit 0: the tampered bundle PASSES"
    if clean:
        return (bool(v.fails), v.first() if v.fails else f"exit {v.rc} without a FAIL line")
    if new:
        return True, f"FAIL {new[0][0]}: {new[0][1][:150]} (new vs. the untouched bundle)"
    return False, f"exit {v.rc} but no FAIL line the untouched bundle lacks (it already fails: {base.first()})"


def check_cases(heading, cases, base, expect_pass=False):
    """Builds each case's tampered copy in DIR/cases/<name>.zip, runs both verifiers on all of
    them (--jobs at a time), then counts and prints the verdicts in order. expect_pass None: a
    question the format does not answer; the verdicts are only printed."""
    if not cases:
        return
    print(heading, flush=True)
    built = []
    for name, make in cases:
        what, b = make(base.copy())
        path = os.path.join(DIR, "cases", name + ".zip")
        b.write(path)
        extra = ("--genesis-sha256", b.pin) if b.pin else ()
        built.append((name, what, path, b.fp or ROOT_FP, b.own_script, extra))
    with concurrent.futures.ThreadPoolExecutor(max_workers=ARGS.jobs) as pool:
        running = [(name, what, [pool.submit(run_colend_verify, path, fp, extra),
                                 pool.submit(run_verify_sh, path, fp, own, extra)])
                   for name, what, path, fp, own, extra in built]
        for name, what, futures in running:
            report_case(name, what, [f.result() for f in futures], expect_pass)


def report_case(name, what, verdicts, expect_pass):
    print(f"case {name}: {what}", flush=True)
    row = []
    for v in verdicts:
        extra = f" [{v.note}]" if v.note else ""
        if expect_pass is None:
            ok, how = True, ("exit 0 (PASS)" if v.rc == 0 else f"exit {v.rc}, {judge(v, False)[1]}")
            print(f"  info {v.tool:13s} {how}{extra}", flush=True)
        else:
            ok, how = judge(v, expect_pass)
            expect(ok, f"{v.tool:13s} {'passes' if expect_pass else 'rejects'}: {how}{extra}",
                   fatal=False)
        row.append((v, ok, how))
    RESULTS.append((name, expect_pass, row))


# ---- the tamper cases --------------------------------------------------------------------------
# Each takes a fresh copy of the untouched bundle and returns (description, bundle).

def rec(seq):
    return FACTS.records[seq - 1]


def middle_record():
    """A record in the middle, in an epoch-0 block that holds only it."""
    return rec(max(3, FACTS.n // 4))


def case_flip_tx(b):
    r = middle_record()
    b.put(r["dir"] + "tx.txt", flip_line(r["tx"], r["tx"].rstrip("\n").split("\n")[-1]))
    return f"record {r['seq']}'s tx.txt: last character of its last field changed", b


def case_flip_document(b):
    name = b.names("documents/")[0]
    b.put(name, flip_byte(b.get(name)))
    return f"{name}: one byte flipped", b


def case_flip_header(b):
    h = FACTS.record_blocks()[0]
    d = FACTS.block_dir(h)
    b.put(d + "header.txt", flip_line(b.text(d + "header.txt"), "state-root"))
    return f"block {h}'s header.txt: a hex digit of state-root changed", b


def case_flip_anchor_header(b):
    d = FACTS.block_dir(FACTS.anchor)
    b.put(d + "header.txt", flip_line(b.text(d + "header.txt"), "state-root"))
    return f"the anchor (block {FACTS.anchor}) header.txt: a hex digit of state-root changed", b


def case_flip_tx_sig(b):
    r = middle_record()
    b.put(r["dir"] + "tx.sig", flip_byte(b.get(r["dir"] + "tx.sig"), len(b.get(r["dir"] + "tx.sig")) - 3))
    return f"record {r['seq']}'s tx.sig: one byte of s flipped", b


def case_flip_endorsement(b):
    h = FACTS.record_blocks()[0]
    m = FACTS.endorsers(h)[0]
    name = FACTS.block_dir(h) + f"endorsements/{m}.der"
    b.put(name, flip_byte(b.get(name), len(b.get(name)) - 3))
    return f"block {h}: {m}'s endorsement, one byte flipped", b


def case_flip_anchor_endorsement(b):
    m = FACTS.endorsers(FACTS.anchor)[-1]
    name = FACTS.block_dir(FACTS.anchor) + f"endorsements/{m}.der"
    b.put(name, flip_byte(b.get(name), 10))
    return f"the anchor: {m}'s endorsement, one byte of r flipped", b


def case_flip_receipt(b):
    r = middle_record()
    b.put(r["dir"] + "receipt.txt", flip_line(b.text(r["dir"] + "receipt.txt"), "message:"))
    return f"record {r['seq']}'s receipt.txt: last character of the message changed", b


def case_flip_leaf(b):
    r = middle_record()
    b.put(r["dir"] + "leaf.txt", flip_line(b.text(r["dir"] + "leaf.txt"), "sig-sha256:"))
    return f"record {r['seq']}'s leaf.txt: a hex digit of sig-sha256 changed", b


def case_flip_receipt_proof(b):
    r = middle_record()
    name = r["dir"] + "receipt-proof.txt"
    b.put(name, flip_line(b.text(name), "top:", 5))
    return f"record {r['seq']}'s receipt-proof.txt: a hex digit of the 6th top line changed", b


def case_flip_loan_records_proof(b):
    b.put("state/loan-records-proof.txt", flip_line(b.text("state/loan-records-proof.txt"), "top:", 0))
    return "state/loan-records-proof.txt: a hex digit of its first top line changed", b


def case_flip_loan_json(b):
    text = b.text("state/loan.json")
    m = re.search(r'"cum_interest_fen":(\d+)', text) or re.search(r'"principal_fen":(\d+)', text)
    new = text[:m.start(1)] + str(int(m.group(1)) + 1) + text[m.end(1):]
    b.put("state/loan.json", new)
    return f"state/loan.json: {m.group(0)} increased by one fen", b


def case_flip_event(b):
    events = sorted(n for n in b.names("state/events/") if n.endswith(".json"))
    name = next((n for n in events if '"amount_fen"' in b.text(n)), events[0])
    text = b.text(name)
    m = re.search(r'"amount_fen":(\d+)', text) or re.search(r'"height":(\d+)', text)
    b.put(name, text[:m.start(1)] + str(int(m.group(1)) + 1) + text[m.end(1):])
    return f"{name}: {m.group(0)} increased by one", b


def case_flip_bundle_txt(b):
    b.put("bundle.txt", set_line(b.text("bundle.txt"), "records", FACTS.n + 1))
    return f"bundle.txt claims {FACTS.n + 1} records", b


def case_bundle_txt_loan(b):
    other = fields(OTHER.text("bundle.txt"))["loan"]
    b.put("bundle.txt", set_line(b.text("bundle.txt"), "loan", other))
    return f"bundle.txt names the other loan {other}", b


def case_anchor_lowered(b):
    """The newest block dropped: the highest remaining block presented as the anchor."""
    b.delete_tree(FACTS.block_dir(FACTS.anchor))
    h = FACTS.blocks[-2]
    b.delete(FACTS.block_dir(h) + "ledger-proof.txt")
    b.put("bundle.txt", set_line(b.text("bundle.txt"), "anchor-height", h))
    return f"the anchor block {FACTS.anchor} removed; block {h} claimed as the anchor", b


def case_round_changed(b):
    h = FACTS.record_blocks()[1]
    name = FACTS.block_dir(h) + "round.txt"
    b.put(name, f"{int(b.text(name)) + 1}\n")
    return f"block {h}'s round.txt: round + 1 (every endorsement was over the other round)", b


def case_resigned_record(b):
    r = next((x for x in FACTS.records if "amount-fen" in x["f"] and x["receipt"]["status"] == "accepted"),
             middle_record())
    key = "amount-fen" if "amount-fen" in r["f"] else list(r["f"])[-1]
    value = r["f"][key]
    new_value = str(int(value) * 10) if value.isdigit() else value + "x"
    resign_record(b, r, set_line(r["tx"], key, new_value))
    return (f"record {r['seq']} ({r['f']['type']}): {key} {value} -> {new_value}, re-signed with "
            f"{r['f']['sender']}'s real key, leaf.txt recomputed"), b


def case_timestamp_outside_window(b):
    r = middle_record()
    ts = int(r["f"]["timestamp-ms"]) - 2 * 86400 * 1000
    resign_record(b, r, set_line(r["tx"], "timestamp-ms", ts))
    window = FACTS.genesis["consensus"]["tx_time_window_ms"]
    return (f"record {r['seq']}: timestamp 2 days before its block (window {window} ms), re-signed "
            f"with the sender's real key, leaf.txt recomputed"), b


def drop_to(b, h, count):
    """Removes endorsements of block h (last names first) until count remain."""
    for m in FACTS.endorsers(h, b)[count:]:
        b.delete(FACTS.block_dir(h) + f"endorsements/{m}.der")


def case_endorsement_below_quorum(b):
    h = FACTS.record_blocks()[0]
    q = FACTS.quorum(FACTS.epoch_of(h))
    drop_to(b, h, q - 1)
    return f"block {h} (epoch {FACTS.epoch_of(h)}): endorsements dropped to {q - 1}, quorum {q}", b


def case_anchor_below_quorum(b):
    h = FACTS.anchor
    q = FACTS.quorum(FACTS.epoch_of(h))
    drop_to(b, h, q - 1)
    return f"the anchor (block {h}, epoch {FACTS.epoch_of(h)}): endorsements dropped to {q - 1}, quorum {q}", b


def case_duplicated_endorsement(b):
    h = FACTS.record_blocks()[0]
    q = FACTS.quorum(FACTS.epoch_of(h))
    drop_to(b, h, q)
    a, c = FACTS.endorsers(h, b)[:2]
    d = FACTS.block_dir(h) + "endorsements/"
    b.put(d + f"{c}.der", b.get(d + f"{a}.der"))
    return f"block {h}: {q} endorsements, {c}'s replaced by a copy of {a}'s", b


def case_duplicated_endorsement_new_name(b):
    h = FACTS.record_blocks()[1]
    e = FACTS.epoch_of(h)
    q = FACTS.quorum(e)
    drop_to(b, h, q - 1)
    present = FACTS.endorsers(h, b)
    absent = [m for m in FACTS.epochs[e]["members"] if m not in present][0]
    d = FACTS.block_dir(h) + "endorsements/"
    b.put(d + f"{absent}.der", b.get(d + f"{present[0]}.der"))
    return f"block {h}: {q - 1} real endorsements + {present[0]}'s again, filed as {absent}'s", b


def case_outsider_endorsement(b):
    h = FACTS.record_blocks()[2]
    m = FACTS.endorsers(h)[0]
    b.put(FACTS.block_dir(h) + f"endorsements/{m}.der", OUTSIDER.sign(FACTS.vote(h)))
    return f"block {h}: {m}'s endorsement replaced by a valid signature of the vote by an outside key", b


def case_outsider_member(b):
    """mallory: a certificate from the look-alike CA, filed as a member of epoch 0 (members.txt
    and a .pem, not the epoch document), endorsing a block in place of a real member."""
    h = FACTS.record_blocks()[2]
    e = FACTS.epoch_of(h)
    q = FACTS.quorum(e)
    like = FACTS.epochs[e]["doc"]["members"][0]["signing_certificate"]
    cert = OUTSIDER.issue(like, "/O=Outsider Bank/CN=mallory signing")
    cdir = f"consortium/epoch-{e:06d}/"
    b.put(cdir + "mallory.pem", cert)
    b.put(cdir + "members.txt", "".join(f"{x}\n" for x in sorted(FACTS.epochs[e]["members"] + ["mallory"])))
    drop_to(b, h, q - 1)
    b.put(FACTS.block_dir(h) + "endorsements/mallory.der", OUTSIDER.sign(FACTS.vote(h)))
    return (f"block {h}: {q - 1} real endorsements + mallory's (look-alike CA certificate added to "
            f"{cdir}, members.txt lists mallory)"), b


def case_lookalike_ca(b):
    b.put("trust/ca.pem", OUTSIDER.ca_text())
    return "trust/ca.pem replaced by a look-alike CA (same subject and dates), real fingerprint given", b


def case_lookalike_ca_own_fp(b):
    b.put("trust/ca.pem", OUTSIDER.ca_text())
    b.fp = OUTSIDER.fingerprint()
    return "trust/ca.pem replaced by the look-alike CA and ITS fingerprint given (genesis names the real CA)", b


def replace_member_cert(b, e, member, cert):
    """Edits epoch e's document and .pem so that member's signing certificate is cert, and
    re-signs that member's endorsements of e's blocks with the outsider key."""
    raw = FACTS.epochs[e]["raw"]
    doc = json.loads(raw)
    for m in doc["members"]:
        if m["id"] == member:
            m["signing_certificate"] = cert
    if e == 0:
        new = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    else:
        new = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    b.put(f"consortium/epoch-{e:06d}.json", new)
    b.put(f"consortium/epoch-{e:06d}/{member}.pem", cert)
    for h in FACTS.blocks:
        if FACTS.epoch_of(h) == e and member in FACTS.endorsers(h):
            b.put(FACTS.block_dir(h) + f"endorsements/{member}.der", OUTSIDER.sign(FACTS.vote(h)))
    return new


def case_forged_membership_epoch1(b):
    e = len(FACTS.epochs) - 1
    member = FACTS.endorsers(FACTS.anchor)[0]
    like = next(m for m in FACTS.epochs[e]["doc"]["members"] if m["id"] == member)["signing_certificate"]
    replace_member_cert(b, e, member, OUTSIDER.issue(like))
    return (f"consortium/epoch-{e:06d}.json and {member}.pem: {member}'s certificate replaced by a "
            f"look-alike one (same subject); its endorsements of epoch-{e} blocks re-signed"), b


def case_forged_membership_genesis(b):
    member = FACTS.endorsers(FACTS.record_blocks()[0])[0]
    like = next(m for m in FACTS.genesis["members"] if m["id"] == member)["signing_certificate"]
    new = replace_member_cert(b, 0, member, OUTSIDER.issue(like))
    if len(FACTS.epochs) > 1:  # keep the document chain linked to the forged genesis
        doc1 = json.loads(FACTS.epochs[1]["raw"])
        doc1["previous_sha256"] = sha(new.encode())
        b.put("consortium/epoch-000001.json",
              json.dumps(doc1, sort_keys=True, separators=(",", ":"), ensure_ascii=False))
    return (f"consortium/epoch-000000.json (genesis) and {member}.pem: {member}'s certificate "
            f"replaced by a look-alike one; epoch 1's previous_sha256 updated; endorsements re-signed"), b


def case_member_pem_swapped(b):
    e = 0
    member = FACTS.endorsers(FACTS.record_blocks()[0])[0]
    like = next(m for m in FACTS.genesis["members"] if m["id"] == member)["signing_certificate"]
    b.put(f"consortium/epoch-{e:06d}/{member}.pem", OUTSIDER.issue(like))
    for h in FACTS.blocks:
        if FACTS.epoch_of(h) == e and member in FACTS.endorsers(h):
            b.put(FACTS.block_dir(h) + f"endorsements/{member}.der", OUTSIDER.sign(FACTS.vote(h)))
    return (f"consortium/epoch-000000/{member}.pem (not the document) replaced by a look-alike "
            f"certificate; {member}'s epoch-0 endorsements re-signed with its key"), b


def case_members_txt_edited(b):
    e = len(FACTS.epochs) - 1
    name = f"consortium/epoch-{e:06d}/members.txt"
    b.put(name, b.text(name) + "mallory\n")
    return f"{name}: an extra member 'mallory' listed", b


def case_endorsement_from_other_block(b):
    hs = FACTS.record_blocks()
    for h1 in hs:
        for h2 in hs:
            common = set(FACTS.endorsers(h1)) & set(FACTS.endorsers(h2))
            if h1 != h2 and common:
                m = sorted(common)[0]
                b.put(FACTS.block_dir(h1) + f"endorsements/{m}.der",
                      b.get(FACTS.block_dir(h2) + f"endorsements/{m}.der"))
                return f"block {h1}: {m}'s endorsement replaced by {m}'s endorsement of block {h2}", b
    raise AssertionError("no two blocks with a common endorser")


def case_tx_sig_from_other_record(b):
    r = middle_record()
    other = next(x for x in FACTS.records if x["seq"] != r["seq"] and x["f"]["sender"] == r["f"]["sender"])
    sig = b.get(other["dir"] + "tx.sig")
    b.put(r["dir"] + "tx.sig", sig)
    b.put(r["dir"] + "leaf.txt", leaf_text(r["tx"].encode(), sig))
    return (f"record {r['seq']}: tx.sig replaced by the same sender's signature of record "
            f"{other['seq']} (leaf.txt recomputed)"), b


def case_blocks_reordered(b):
    h1, h2 = FACTS.record_blocks()[1:3]
    d1, d2 = FACTS.block_dir(h1), FACTS.block_dir(h2)
    b.rename_tree(d1, "blocks/swap/")
    b.rename_tree(d2, d1)
    b.rename_tree("blocks/swap/", d2)
    return f"the files of blocks/{h1:012d} and blocks/{h2:012d} swapped", b


def case_records_reordered(b):
    r1, r2 = rec(3), rec(4)
    b.rename_tree(r1["dir"], "records/swap/")
    b.rename_tree(r2["dir"], r1["dir"])
    b.rename_tree("records/swap/", r2["dir"])
    return "records/000003 and records/000004 swapped", b


def case_merkle_sibling(b):
    h = FACTS.record_blocks()[0]
    name = FACTS.block_dir(h) + "ledger-proof.txt"
    b.put(name, flip_line(b.text(name), "path:", 1))
    return f"block {h}'s ledger-proof.txt: a hex digit of the 2nd sibling changed", b


def case_merkle_index_ledger(b):
    h = FACTS.record_blocks()[0]
    name = FACTS.block_dir(h) + "ledger-proof.txt"
    b.put(name, set_line(b.text(name), "index", h ^ 1))
    return f"block {h}'s ledger-proof.txt: index {h} -> {h ^ 1}", b


def case_merkle_index_tx(b):
    r = middle_record()
    name = r["dir"] + "tx-proof.txt"
    f = fields(b.text(name))
    b.put(name, set_line(b.text(name), "index", int(f["index"]) + 1))
    return f"record {r['seq']}'s tx-proof.txt: index {f['index']} -> {int(f['index']) + 1} (size {f['size']})", b


def case_merkle_index_state(b):
    r = middle_record()
    name = r["dir"] + "receipt-proof.txt"
    text = b.text(name)
    f = fields(text)
    text = set_line(text, "index", int(f["index"]) + 1)
    text = set_line(text, "size", int(f["size"]) + 1)
    b.put(name, text)
    return (f"record {r['seq']}'s receipt-proof.txt: index {f['index']} -> {int(f['index']) + 1}, "
            f"size {f['size']} -> {int(f['size']) + 1}"), b


def case_merkle_other_ledger_proof(b):
    h1, h2 = FACTS.record_blocks()[:2]
    b.put(FACTS.block_dir(h1) + "ledger-proof.txt", b.get(FACTS.block_dir(h2) + "ledger-proof.txt"))
    return f"block {h1}'s ledger-proof.txt replaced by block {h2}'s", b


def case_merkle_other_receipt_proof(b):
    r1, r2 = rec(3), rec(4)
    b.put(r1["dir"] + "receipt-proof.txt", b.get(r2["dir"] + "receipt-proof.txt"))
    return "record 3's receipt-proof.txt replaced by record 4's", b


def case_merkle_other_state_proof(b):
    b.put("state/loan-proof.txt", b.get("state/loan-records-proof.txt"))
    return "state/loan-proof.txt replaced by state/loan-records-proof.txt", b


def case_merkle_inner_node_as_leaf(b):
    """RFC 6962's second-preimage attack: the level-1 node over headers h and h+1 presented as a
    'header' one level up. Its children (h's leaf hash, and the first sibling of h's ledger
    proof, which is h+1's leaf hash) become the leaf; the proof loses its first sibling and
    indexes the pair tree. Without the 0x00/0x01 prefixes this would give the same root."""
    h = next(x for x in FACTS.record_blocks() if x % 2 == 0 and x + 1 < FACTS.anchor)
    d = FACTS.block_dir(h)
    proof = fields(b.text(d + "ledger-proof.txt"))
    paths = [l[len("path: "):] for l in b.text(d + "ledger-proof.txt").splitlines() if l.startswith("path: ")]
    leaf_h = hashlib.sha256(b"\x00" + b.get(d + "header.txt")).digest()
    inner = leaf_h + bytes.fromhex(paths[0])
    b.put(d + "header.txt", inner)
    size = (int(proof["size"]) + 1) // 2
    b.put(d + "ledger-proof.txt", f"colend-inclusion-proof/v1\nindex: {h // 2}\nsize: {size}\n"
          + "".join(f"path: {p}\n" for p in paths[1:]))
    return (f"block {h}: header.txt = its level-1 node's children (64 bytes), ledger-proof index "
            f"{h // 2} size {size} with the first sibling removed"), b


def remove_record(b, seq):
    """Removes record seq as a careful forger would: renumbers the rest down, drops its events,
    its document and its block (unless another record or the anchor needs it), and decrements
    bundle.txt's records."""
    r = rec(seq)
    b.delete_tree(r["dir"])
    for later in range(seq + 1, FACTS.n + 1):
        b.rename_tree(rec(later)["dir"], rec(later - 1)["dir"])
    for n in b.names("state/events/"):
        if n.endswith(".json") and f'"tx":"{r["id"]}"' in b.text(n):
            b.delete(n)
            b.delete(n[:-5] + "-proof.txt")
    if r["f"]["type"] == "evidence.attach":
        b.delete("documents/" + r["f"]["document-sha256"])
    others = {x["height"] for x in FACTS.records if x["seq"] != seq}
    if r["height"] not in others and r["height"] != FACTS.anchor:
        b.delete_tree(FACTS.block_dir(r["height"]))
    b.put("bundle.txt", set_line(b.text("bundle.txt"), "records", FACTS.n - 1))
    return r


def case_record_removed_middle(b):
    r = remove_record(b, 3)
    return (f"record 3 ({r['f']['type']}) removed, records 4..{FACTS.n} renumbered down, its events "
            f"and block removed, bundle.txt records: {FACTS.n - 1}"), b


def case_last_record_removed(b):
    r = remove_record(b, FACTS.n)
    return (f"the last record ({r['f']['type']}) removed with its document and events, bundle.txt "
            f"records: {FACTS.n - 1}"), b


def case_last_record_removed_count_kept(b):
    r = remove_record(b, FACTS.n)
    b.put("bundle.txt", set_line(b.text("bundle.txt"), "records", FACTS.n))
    return f"the last record ({r['f']['type']}) removed, bundle.txt still claims {FACTS.n}", b


def case_document_removed(b):
    b.delete(b.names("documents/")[0])
    return "one attached document's file removed", b


def case_event_dropped(b):
    events = sorted(n for n in b.names("state/events/") if n.endswith(".json"))
    name = next((n for n in events if "PENALTY" in b.text(n) or "OVERDUE" in b.text(n)), events[-1])
    kind = json.loads(b.get(name)).get("event")
    b.delete(name)
    b.delete(name[:-5] + "-proof.txt")
    return f"{name} ({kind}) and its proof removed", b


def case_event_dropped_count_edited(b):
    what, b = case_event_dropped(b)
    text = b.text("state/loan-records.txt")
    m = re.search(r"^events: (\d+)$", text, re.M)
    if m:
        b.put("state/loan-records.txt", set_line(text, "events", int(m.group(1)) - 1))
    return what + (", state/loan-records.txt events decremented" if m else
                   " (state/loan-records.txt has no events line in this build)"), b


def case_unreferenced_block(b):
    ours = set(FACTS.blocks)
    theirs = sorted({int(n.split("/")[1]) for n in OTHER.names("blocks/")} - ours)
    h = theirs[0]
    for n in OTHER.names(FACTS.block_dir(h)):
        b.put(n, OTHER.get(n))
    return f"block {h} of the other loan (genuine, with its ledger proof) added: no record is in it", b


def case_record_appended(b):
    r = rec(FACTS.n)
    new = f"records/{FACTS.n + 1:06d}/"
    for n in b.names(r["dir"]):
        b.put(new + n[len(r["dir"]):], b.get(n))
    b.put("bundle.txt", set_line(b.text("bundle.txt"), "records", FACTS.n + 1))
    return f"the last record duplicated as record {FACTS.n + 1}, bundle.txt records: {FACTS.n + 1}", b


def other_record_into(b, other_seq, target_dir):
    """Copies the other loan's record other_seq (and its block if missing) into b at target_dir."""
    o = fields(OTHER.text("bundle.txt"))
    src = f"records/{other_seq:06d}/"
    for n in OTHER.names(src):
        b.put(target_dir + n[len(src):], OTHER.get(n))
    h = int(fields(OTHER.text(src + "receipt.txt"))["height"])
    bd = FACTS.block_dir(h)
    if not b.has(bd + "header.txt"):
        for n in OTHER.names(bd):
            b.put(n, OTHER.get(n))
    return o, h


def case_foreign_record_replaced(b):
    """A record of the other loan put in place of one of this loan's, at a height that keeps the
    order; both loans' bundles share the anchor, so all its proofs are genuine."""
    o = fields(OTHER.text("bundle.txt"))
    others = [(s, int(fields(OTHER.text(f"records/{s:06d}/receipt.txt"))["height"]))
              for s in range(1, int(o["records"]) + 1)]
    for r in FACTS.records[1:]:
        lo = FACTS.records[r["seq"] - 2]["height"]
        hi = FACTS.records[r["seq"]]["height"] if r["seq"] < FACTS.n else FACTS.anchor
        fit = [s for s, h in others if lo <= h <= hi]
        if fit:
            break
    else:
        r, fit = rec(FACTS.n), [others[-1][0]]
    b.delete_tree(r["dir"])
    _, h = other_record_into(b, fit[0], r["dir"])
    for n in b.names("state/events/"):
        if n.endswith(".json") and f'"tx":"{r["id"]}"' in b.text(n):
            b.delete(n)
            b.delete(n[:-5] + "-proof.txt")
    same_anchor = o["anchor-height"] == str(FACTS.anchor)
    return (f"record {r['seq']} ({r['f']['type']}) replaced by the other loan {o['loan']}'s record "
            f"{fit[0]} (block {h}; {'same' if same_anchor else 'DIFFERENT'} anchor), its events removed"), b


def case_foreign_record_inserted(b):
    o = fields(OTHER.text("bundle.txt"))
    last = int(o["records"])
    for seq in range(FACTS.n, 0, -1):
        b.rename_tree(rec(seq)["dir"], f"records/{seq + 1:06d}/")
    # first in height order is fine: the other loan's records came after this loan's first one
    _, h = other_record_into(b, last, "records/000000/")
    pos = sum(1 for r in FACTS.records if r["height"] <= h) + 1
    for seq in range(2, pos + 1):
        b.rename_tree(f"records/{seq:06d}/", f"records/{seq - 1:06d}/")
    b.rename_tree("records/000000/", f"records/{pos:06d}/")
    for n in OTHER.names("documents/"):
        b.put(n, OTHER.get(n))
    b.put("bundle.txt", set_line(b.text("bundle.txt"), "records", FACTS.n + 1))
    return (f"the other loan {o['loan']}'s last record (block {h}) inserted as record {pos}, with "
            f"its documents; bundle.txt records: {FACTS.n + 1}"), b


# ---- a lone member's own chain: consistent in every hash, caught only by the genesis pin ------

def mth(leaves):
    """RFC 6962 Merkle tree hash over leaf hashes."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def audit_path(m, leaves):
    """RFC 6962 PATH(m, D[n]), leaf to root."""
    if len(leaves) <= 1:
        return []
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    if m < k:
        return audit_path(m, leaves[:k]) + [mth(leaves[k:])]
    return audit_path(m - k, leaves[k:]) + [mth(leaves[:k])]


def leaf_hash(data):
    return hashlib.sha256(b"\x00" + data).digest()


def state_proofs(entries):
    """A state holding exactly entries {key: value} (docs/evidence-bundle.md section 4): the
    root and each key's proof text."""
    top_levels = 16
    buckets = {}
    for key in sorted(entries, key=lambda k: k.encode()):
        b = int.from_bytes(hashlib.sha256(key.encode()).digest()[:2], "big")
        buckets.setdefault(b, []).append(key)

    def entry_leaf(key):
        k = key.encode()
        return leaf_hash(len(k).to_bytes(4, "big") + k + entries[key].encode())

    roots = {b: mth([entry_leaf(k) for k in keys]) for b, keys in buckets.items()}
    level = [leaf_hash(hashlib.sha256(b"").digest())] * (1 << top_levels)
    for b, r in roots.items():
        level[b] = leaf_hash(r)
    levels = [level]
    for _ in range(top_levels):
        prev = levels[-1]
        levels.append([hashlib.sha256(b"\x01" + prev[2 * i] + prev[2 * i + 1]).digest()
                       for i in range(len(prev) // 2)])
    proofs = {}
    for b, keys in buckets.items():
        top = [levels[l][(b >> l) ^ 1].hex() for l in range(top_levels)]
        leaves = [entry_leaf(k) for k in keys]
        for i, key in enumerate(keys):
            proofs[key] = (f"colend-state-proof/v1\nkey: {key}\nbucket: {b}\nindex: {i}\n"
                           f"size: {len(keys)}\n" + "".join(f"path: {h.hex()}\n" for h in audit_path(i, leaves))
                           + "".join(f"top: {h}\n" for h in top))
    return levels[-1][0], proofs


def case_lone_member_genesis(b):
    """One member (the lead bank) writes a genesis listing only itself, keeps only the records it
    signed itself (no approval, funding by the partner, payout or repayment), and builds a whole
    chain for them: headers, its own endorsements, ledger and state trees, the loan's record chain.
    The CA fingerprint cannot tell; the genesis pin must (README: "Pin the genesis too")."""
    forger = FACTS.records[0]["f"]["sender"]
    key = KEYS[forger]
    genesis = json.loads(FACTS.epochs[0]["raw"])
    genesis["members"] = [m for m in genesis["members"] if m["id"] == forger]
    genesis["quorum"] = "majority"
    genesis_raw = (json.dumps(genesis, indent=2, ensure_ascii=False) + "\n").encode()
    kept = [r for r in FACTS.records if r["f"]["sender"] == forger]
    ids = {r["id"] for r in kept}
    events = [(n, b.get(n)) for n in sorted(b.names("state/events/"))
              if n.endswith(".json") and json.loads(b.get(n)).get("tx") in ids]

    # the loan's record chain and the state at the anchor
    head = "0" * 64
    for seq, r in enumerate(kept, 1):
        head = sha(f"colend-loan-record/v1\nprev: {head}\nseq: {seq}\ntx-id: {r['id']}\n".encode())
    entries = {f"tx/{r['id']}": b.text(r["dir"] + "receipt.txt") for r in kept}
    entries[f"loan-records/{FACTS.loan}"] = (f"colend-loan-records/v1\nloan: {FACTS.loan}\n"
                                            f"count: {len(kept)}\nevents: {len(events)}\nhead: {head}\n")
    entries[f"loan/{FACTS.loan}"] = b.text("state/loan.json")
    for n, data in events:
        entries[f"loan-event/{FACTS.loan}/{os.path.basename(n)[:-5]}"] = data.decode()
    state_root, proofs = state_proofs(entries)

    # each block's transactions: the kept records at their receipt index, invented ones around
    heights = sorted({r["height"] for r in kept})
    txs = {}
    for h in heights:
        at = {int(r["receipt"]["index"]): r for r in kept if r["height"] == h}
        txs[h] = [leaf_hash(b.get(at[i]["dir"] + "leaf.txt")) if i in at else
                  leaf_hash(f"invented transaction {h}/{i}".encode()) for i in range(max(at) + 1)]
    # a chain of headers 0..A; only the kept records' blocks are real headers
    anchor = heights[-1]
    real = {h: b.text(FACTS.block_dir(h) + "header.txt") for h in heights}
    headers, prev = [], "0" * 64
    for h in range(anchor + 1):
        if h in real:
            f = fields(real[h])
            text = real[h]
            for k, v in (("prev-block-hash", prev), ("proposer", forger), ("tx-count", len(txs[h])),
                         ("tx-root", mth(txs[h]).hex()),
                         ("state-root", state_root.hex() if h == anchor else f["state-root"]),
                         ("ledger-root", mth([leaf_hash(x) for x in headers]).hex()),
                         ("membership-epoch", 0), ("membership-sha256", sha(genesis_raw))):
                text = set_line(text, k, v)
        else:
            text = f"invented block {h} of the lone member's chain\n"
        headers.append(text.encode())
        prev = sha(headers[-1])
    ledger = [leaf_hash(x) for x in headers[:anchor]]

    for n in b.names("blocks/") + b.names("records/") + b.names("state/") + b.names("consortium/"):
        b.delete(n)
    b.put("consortium/epoch-000000.json", genesis_raw)
    b.put("consortium/epoch-000000/members.txt", forger + "\n")
    b.put(f"consortium/epoch-000000/{forger}.pem", genesis["members"][0]["signing_certificate"])
    for h in heights:
        d = FACTS.block_dir(h)
        b.put(d + "header.txt", headers[h])
        b.put(d + "round.txt", "0\n")
        vote = (f"colend-vote/v1\nchain-id: {FACTS.chain}\nepoch: 0\nheight: {h}\nround: 0\n"
                f"phase: precommit\nblock-hash: {sha(headers[h])}\n").encode()
        b.put(d + f"endorsements/{forger}.der", sign(key, vote))
        if h != anchor:
            b.put(d + "ledger-proof.txt", f"colend-inclusion-proof/v1\nindex: {h}\nsize: {anchor}\n"
                  + "".join(f"path: {x.hex()}\n" for x in audit_path(h, ledger)))
    for seq, r in enumerate(kept, 1):
        d = f"records/{seq:06d}/"
        for name in ("tx.txt", "tx.sig", "leaf.txt", "receipt.txt"):
            b.put(d + name, FACTS.b.get(r["dir"] + name))
        i = int(r["receipt"]["index"])
        b.put(d + "tx-proof.txt", f"colend-inclusion-proof/v1\nindex: {i}\nsize: {len(txs[r['height']])}\n"
              + "".join(f"path: {x.hex()}\n" for x in audit_path(i, txs[r["height"]])))
        b.put(d + "receipt-proof.txt", proofs[f"tx/{r['id']}"])
    b.put("state/loan-records.txt", entries[f"loan-records/{FACTS.loan}"])
    b.put("state/loan-records-proof.txt", proofs[f"loan-records/{FACTS.loan}"])
    b.put("state/loan.json", entries[f"loan/{FACTS.loan}"])
    b.put("state/loan-proof.txt", proofs[f"loan/{FACTS.loan}"])
    for n, data in events:
        b.put(n, data)
        b.put(n[:-5] + "-proof.txt", proofs[f"loan-event/{FACTS.loan}/{os.path.basename(n)[:-5]}"])
    for r in FACTS.records:
        if r["id"] not in ids and r["f"]["type"] == "evidence.attach":
            b.delete("documents/" + r["f"]["document-sha256"])
    info = b.text("bundle.txt")
    for k, v in (("records", len(kept)), ("anchor-height", anchor), ("exported-by", forger)):
        info = set_line(info, k, v)
    b.put("bundle.txt", info)
    b.pin = sha(FACTS.epochs[0]["raw"])
    dropped = sorted({r["f"]["type"] for r in FACTS.records if r["id"] not in ids})
    return (f"{forger} alone: a genesis listing only itself, its {len(kept)} own records (none of "
            f"{', '.join(dropped)}), its own chain and endorsements; verified WITH the real "
            f"--genesis-sha256"), b


def case_lone_member_genesis_unpinned(b):
    what, b = case_lone_member_genesis(b)
    b.pin = None
    return what.replace("WITH the real --genesis-sha256", "without --genesis-sha256"), b


def case_wrong_genesis_pin(b):
    b.pin = sha(b"not the genesis")
    return "the untouched bundle with a wrong --genesis-sha256", b


def control_genesis_pin(b):
    b.pin = sha(FACTS.epochs[0]["raw"])
    return "the untouched bundle with the real --genesis-sha256", b


def case_wrong_fingerprint(b):
    b.fp = sha(b"not the consortium root CA")
    return "the untouched bundle with a wrong root fingerprint", b


def case_zip_dotdot(b):
    b.add("../evil.txt", "outside the bundle folder\n")
    return "a ZIP entry named ../evil.txt (verify.sh: unpacked as extra/, must refuse it)", b


def case_zip_dotdot_inner(b):
    b.add("records/../bundle.txt", b.text("bundle.txt").replace(f"records: {FACTS.n}", "records: 1"))
    return "a ZIP entry named records/../bundle.txt (a second bundle.txt once normalised)", b


def case_zip_absolute(b):
    b.add("/tmp/evil.txt", "absolute\n")
    return "a ZIP entry named /tmp/evil.txt", b


def case_zip_duplicate(b):
    r = middle_record()
    b.add(r["dir"] + "tx.txt", r["tx"] + "zz-extra: 1\n")
    return f"a second ZIP entry named {r['dir']}tx.txt (an unzip keeps the last one)", b


def case_extra_file(b):
    b.put("extra/evil.txt", "not in the layout\n")
    return "an extra file extra/evil.txt", b


def case_extra_file_in_record(b):
    b.put(rec(1)["dir"] + "note.txt", "not in the layout\n")
    return "an extra file records/000001/note.txt", b


def case_private_key_added(b):
    with open(os.path.join(home(1), "signing.key")) as f:
        b.put("trust/signing.key", f.read())
    return "a private key added as trust/signing.key", b


def case_manifest_rewritten(b):
    r = middle_record()
    b.put(r["dir"] + "receipt.txt", b.text(r["dir"] + "receipt.txt").replace("status: accepted", "status: rejected")
          if "status: accepted" in b.text(r["dir"] + "receipt.txt") else
          flip_line(b.text(r["dir"] + "receipt.txt"), "message:"))
    b.manifest = True
    return f"record {r['seq']}'s receipt.txt status changed, MANIFEST.sha256 rewritten to match it", b


def case_manifest_stale(b):
    r = middle_record()
    b.put(r["dir"] + "tx.txt", flip_line(r["tx"], "nonce:"))
    b.manifest = False
    return f"record {r['seq']}'s tx.txt nonce changed, MANIFEST.sha256 left stale", b


TAMPER_CASES = [
    ("flip-tx", case_flip_tx), ("flip-document", case_flip_document),
    ("flip-header", case_flip_header), ("flip-anchor-header", case_flip_anchor_header),
    ("flip-tx-sig", case_flip_tx_sig), ("flip-endorsement", case_flip_endorsement),
    ("flip-anchor-endorsement", case_flip_anchor_endorsement),
    ("flip-receipt", case_flip_receipt), ("flip-leaf", case_flip_leaf),
    ("flip-receipt-proof", case_flip_receipt_proof),
    ("flip-loan-records-proof", case_flip_loan_records_proof),
    ("flip-loan-json", case_flip_loan_json), ("flip-event", case_flip_event),
    ("bundle-txt-count", case_flip_bundle_txt), ("bundle-txt-loan", case_bundle_txt_loan),
    ("anchor-lowered", case_anchor_lowered), ("round-changed", case_round_changed),
    ("resigned-record", case_resigned_record),
    ("timestamp-outside-window", case_timestamp_outside_window),
    ("endorsement-below-quorum", case_endorsement_below_quorum),
    ("anchor-below-quorum", case_anchor_below_quorum),
    ("duplicated-endorsement", case_duplicated_endorsement),
    ("duplicated-endorsement-new-name", case_duplicated_endorsement_new_name),
    ("outsider-endorsement", case_outsider_endorsement),
    ("outsider-member-lookalike-ca", case_outsider_member),
    ("lookalike-ca", case_lookalike_ca), ("lookalike-ca-own-fp", case_lookalike_ca_own_fp),
    ("forged-membership-epoch1", case_forged_membership_epoch1),
    ("forged-membership-genesis", case_forged_membership_genesis),
    ("member-pem-swapped", case_member_pem_swapped),
    ("members-txt-edited", case_members_txt_edited),
    ("endorsement-from-other-block", case_endorsement_from_other_block),
    ("tx-sig-from-other-record", case_tx_sig_from_other_record),
    ("blocks-reordered", case_blocks_reordered), ("records-reordered", case_records_reordered),
    ("merkle-sibling", case_merkle_sibling), ("merkle-index-ledger", case_merkle_index_ledger),
    ("merkle-index-tx", case_merkle_index_tx), ("merkle-index-state", case_merkle_index_state),
    ("merkle-other-ledger-proof", case_merkle_other_ledger_proof),
    ("merkle-other-receipt-proof", case_merkle_other_receipt_proof),
    ("merkle-other-state-proof", case_merkle_other_state_proof),
    ("merkle-inner-node-as-leaf", case_merkle_inner_node_as_leaf),
    ("record-removed-middle", case_record_removed_middle),
    ("last-record-removed", case_last_record_removed),
    ("last-record-removed-count-kept", case_last_record_removed_count_kept),
    ("document-removed", case_document_removed), ("record-appended", case_record_appended),
    ("event-dropped", case_event_dropped),
    ("event-dropped-count-edited", case_event_dropped_count_edited),
    ("unreferenced-block", case_unreferenced_block),
    ("foreign-record-replaced", case_foreign_record_replaced),
    ("foreign-record-inserted", case_foreign_record_inserted),
    ("lone-member-genesis", case_lone_member_genesis),
    ("wrong-genesis-pin", case_wrong_genesis_pin),
    ("wrong-fingerprint", case_wrong_fingerprint),
    ("zip-dotdot", case_zip_dotdot), ("zip-dotdot-inner", case_zip_dotdot_inner),
    ("zip-absolute", case_zip_absolute), ("zip-duplicate-name", case_zip_duplicate),
    ("extra-file", case_extra_file), ("extra-file-in-record", case_extra_file_in_record),
    ("private-key-added", case_private_key_added),
    ("manifest-rewritten", case_manifest_rewritten), ("manifest-stale", case_manifest_stale),
]


# ---- controls: not evidence, must not change the verdict ----------------------------------------

def control_rezip(b):
    return "the untouched entries re-zipped by Python (the tamper cases' baseline)", b


def control_readme(b):
    b.put("README.txt", b.text("README.txt") + "An edited line.\n")
    b.manifest = False
    return "README.txt edited (MANIFEST.sha256 left stale)", b


def control_case_html(b):
    b.put("report/case.html", b.text("report/case.html").replace("</body>", "<p>edited</p></body>"))
    return "report/case.html edited (MANIFEST.sha256 rewritten)", b


def control_manifest_only(b):
    b.put("MANIFEST.sha256", b.text("MANIFEST.sha256").replace(sha(b.get("README.txt")), "0" * 64, 1))
    b.manifest = False
    return "MANIFEST.sha256 alone edited (README.txt's line zeroed)", b


CONTROL_CASES = [("control-rezip", control_rezip), ("control-readme", control_readme),
                 ("control-case-html", control_case_html),
                 ("control-manifest-only", control_manifest_only),
                 ("control-genesis-pin", control_genesis_pin)]


# ---- questions the format leaves open: printed, not counted -------------------------------------

def info_verify_sh_replaced(b):
    """The arbitrator runs the bundle's own tools/verify.sh: whoever made the bundle wrote it."""
    b.put("tools/verify.sh", "#!/usr/bin/env bash\necho 'PASS everything: trust me'\nexit 0\n")
    b.own_script = True
    return ("tools/verify.sh replaced by a script that prints PASS (run from the bundle even with "
            "--verify-sh), plus a flipped document"), case_flip_document(b)[1]


# --quick (what CI runs, for time: verify.sh costs seconds a run): one case for each tamper kind
# that docs/evidence-bundle.md and the issue list; the full list runs without --quick.
QUICK_CASES = {
    "flip-tx", "flip-document", "flip-header", "flip-tx-sig", "flip-endorsement", "flip-event",
    "resigned-record", "timestamp-outside-window", "endorsement-below-quorum",
    "duplicated-endorsement", "outsider-member-lookalike-ca", "forged-membership-genesis",
    "endorsement-from-other-block", "blocks-reordered", "merkle-sibling", "merkle-index-tx",
    "merkle-other-receipt-proof", "merkle-inner-node-as-leaf", "record-removed-middle",
    "last-record-removed", "event-dropped", "wrong-fingerprint", "zip-dotdot",
    "lone-member-genesis",
}

INFO_CASES = [("info-verify-sh-replaced", info_verify_sh_replaced),
              ("info-lone-member-genesis-unpinned", case_lone_member_genesis_unpinned)]


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
    rule = "majority" if ARGS.quorum == "two-thirds" else "two-thirds"
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
    path = os.path.join(DIR, name)
    with open(path, "wb") as f:
        f.write(text)
    argv = ["--home", home(k), "evidence", "attach", "--loan", loan, "--file", path, "--kind", kind]
    out = colend_json(*argv, *(["--label", label] if label else []), timeout=120)
    expect(out["accepted"] and out["document_sha256"] == sha(text),
           f"{name} attached to {loan} as {kind} at height {out['height']}")
    return out


def export(loan, out):
    """Exports from node 5, retrying while it still fetches the documents (document-missing)."""
    deadline, tries = time.time() + 30, 0
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
    secrets.append(os.path.join(DIR, "ca.key"))
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

    facts = FACTS
    expect(facts.info["exported-by"] == "arbitration" and b.text("bundle.txt").startswith(
        "colend-evidence-bundle/v1\n"), f"bundle.txt: exported by {facts.info['exported-by']}")
    with open(os.path.join(DIR, "genesis.json"), "rb") as f:
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
    other_ids = {sha(OTHER.get(n)) for n in OTHER.names("records/") if n.endswith("/tx.txt")}
    other_loan = fields(OTHER.text("bundle.txt"))["loan"]
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
        v = run(path, ROOT_FP)
        BASELINE[v.tool] = v
        expect(v.rc == 0 and not v.fails, f"{v.tool:13s} PASSES the untouched bundle" +
               ("" if v.rc == 0 else f": exit {v.rc}, {len(v.fails)} FAIL lines, first {v.first()}"),
               fatal=False)
        for check, detail in v.fails[:25]:
            print(f"       FAIL {check}: {detail[:160]}")
        if len(v.fails) > 25:
            print(f"       ... {len(v.fails) - 25} more")
    other = os.path.join(DIR, "other.zip")
    v = run_colend_verify(other, ROOT_FP)
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


ROOT_FP = None


def binaries():
    """Modification times of the binaries used: a rebuild during a run mixes formats."""
    used = ("colend-verify",) if ARGS.offline else ("colend", "colend-node", "colend-verify")
    return {n: os.stat(os.path.join(ARGS.bin, n)).st_mtime_ns for n in used}


def run_network():
    """The chain part: returns the attached documents {sha256: bytes} and the other loan's."""
    colend("localnet", "init", "--dir", DIR, "--nodes", "5", "--dev-clock", "--suite", ARGS.suite,
           "--quorum", ARGS.quorum)
    colend("localnet", "up", "--dir", DIR)
    print(f"two demo loans ({ARGS.suite}, {ARGS.quorum})", flush=True)
    demo = colend_json("localnet", "demo", "--dir", DIR, timeout=300)
    loan = demo["loan"]
    expect(demo["same_state_root"], f"demo 1: loan {loan} (the case)")
    other = colend_json("localnet", "demo", "--dir", DIR, timeout=300)["loan"]
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
    path = os.path.join(DIR, "bundle.zip")
    out = export(loan, path)
    expect(out["records"] > 2 and out["documents"] == 2,
           f"exported {out['files']} files: {out['records']} records, {out['documents']} documents, "
           f"anchor {out['anchor_height']}")
    export(other, os.path.join(DIR, "other.zip"))
    colend("localnet", "down", "--dir", DIR)  # the rest is offline, as for the arbitrator
    expect(root_fingerprint().replace(":", "").lower() == out["ca_sha256"],
           "the export names the CA fingerprint")
    return docs, {other_doc["document_sha256"]}


def saved_documents():
    """--offline: the documents a previous run attached, from its directory."""
    docs = {}
    for name in ("contract.pdf", "notice.txt"):
        with open(os.path.join(DIR, name), "rb") as f:
            data = f.read()
        docs[sha(data)] = data
    with open(os.path.join(DIR, "other-contract.txt"), "rb") as f:
        return docs, {sha(f.read())}


def root_fingerprint():
    """As the arbitrator gets it from the contract's annex: openssl's colon form."""
    return subprocess.run(["openssl", "x509", "-in", os.path.join(DIR, "ca.pem"), "-noout",
                           "-fingerprint", "-sha256"], capture_output=True, text=True,
                          check=True).stdout.strip().split("=")[1]


def check_report_renders(base):
    """report/case.html in headless Chromium: not blank, the loan id and the principal on it."""
    import report_render
    html = os.path.join(DIR, "case.html")
    with open(html, "wb") as f:
        f.write(base.get("report/case.html"))
    problems = report_render.check_report(html, FACTS.loan, ["40,000.00", "8,000.00", "32,000.00"],
                                          screenshot_out=os.path.join(DIR, "case.png"))
    expect(not problems, "report/case.html renders in headless Chromium with the loan id and the "
           "20/80 amounts" + (f": {problems}" if problems else ""), fatal=False)


def scenario():
    global FACTS, OTHER, OUTSIDER, ROOT_FP
    os.makedirs(os.path.join(DIR, "cases"), exist_ok=True)
    built = binaries()
    docs, other_docs = saved_documents() if ARGS.offline else run_network()
    ROOT_FP = root_fingerprint()
    path = os.path.join(DIR, "bundle.zip")
    base = Bundle.load(path)
    OTHER = Bundle.load(os.path.join(DIR, "other.zip"))
    FACTS = Facts(base)
    OUTSIDER = LookAlike(DIR)
    for member, k in node_members().items():
        KEYS[member] = os.path.join(home(k), "signing.key")
    check_contents(path, base, docs, other_docs)
    check_report_renders(base)

    sh = os.path.abspath(ARGS.verify_sh) if ARGS.verify_sh else "the bundle's tools/verify.sh"
    repo_sh = os.path.join(os.path.dirname(__file__), "..", "..", "tools", "evidence", "verify.sh")
    same = False
    if os.path.exists(repo_sh):
        with open(repo_sh, "rb") as f:
            same = f.read() == base.get("tools/verify.sh")
    print(f"verify.sh used: {sh} (the bundle's copy is {len(base.get('tools/verify.sh'))} bytes, "
          f"{'identical to' if same else 'DIFFERENT from'} tools/evidence/verify.sh)", flush=True)
    run_verifiers_on_untouched(path)

    tamper = TAMPER_CASES
    if ARGS.only:
        only = set(ARGS.only.split(","))
        pick = lambda cases: [(n, m) for n, m in cases if n in only]  # noqa: E731
        tamper, CONTROL_CASES[:], INFO_CASES[:] = pick(TAMPER_CASES), pick(CONTROL_CASES), pick(INFO_CASES)
    if ARGS.quick:
        missing = QUICK_CASES - {n for n, _ in TAMPER_CASES}
        tamper = [(n, m) for n, m in tamper if n in QUICK_CASES]
        expect(not missing, f"--quick names only existing cases {sorted(missing)}")
    check_cases("tamper cases (each on a fresh copy; both verifiers must reject it)"
                + (f" [--quick: {len(tamper)} of {len(TAMPER_CASES)}]" if ARGS.quick else ""),
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
                             f"(tampered copies in {os.path.join(DIR, 'cases')})")


def main():
    global ARGS, DIR
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
    ARGS = parser.parse_args()
    ARGS.bin = os.path.abspath(ARGS.bin)
    if shutil.which("openssl") is None:
        print("the openssl command-line tool is required", file=sys.stderr)
        return 1
    DIR = os.path.abspath(ARGS.offline) if ARGS.offline else tempfile.mkdtemp(prefix="colend-evidence-")
    netlib.configure(ARGS.bin, DIR)
    print(f"network and tampered copies in {DIR}", flush=True)
    return netlib.run_network_test(scenario, keep=ARGS.keep or bool(ARGS.offline), log_lines=3,
                                   failures=(AssertionError, subprocess.TimeoutExpired))


if __name__ == "__main__":
    sys.exit(main())
