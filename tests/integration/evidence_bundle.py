"""The bundle side of the evidence suite; evidence_test.py is the entry point and its docstring
says what the suite proves. Here: a bundle as a list of ZIP entries and the line edits the cases
make, the facts the cases read from the untouched bundle, signing as a real member or as an
outsider under a look-alike CA, and running both verifiers (colend-verify, tools/verify.sh) and
judging their verdicts. RUN holds what one run shares across evidence_test.py,
evidence_bundle.py, evidence_tamper.py and evidence_forgery.py.
"""
import concurrent.futures
import datetime
import hashlib
import json
import os
import re
import subprocess
import tempfile
import warnings
import zipfile

import netlib
from netlib import expect

SH_ENV = ["env", "-i", "PATH=/usr/bin:/bin"]


# ---- what one run shares across the evidence modules --------------------------------------------

class Run:
    """Set by evidence_test.py (args and dir in main(), the rest in scenario()) before any case
    is built. The other modules import RUN itself, never rebound, and read RUN.<name> when a
    function runs: importing a name that is assigned later would copy its None. BASELINE and
    RESULTS below are filled in place, never rebound, so they may be imported by name."""

    def __init__(self):
        self.args = None      # the parsed command line
        self.dir = None       # the network directory; tampered copies in dir/cases
        self.root_fp = None   # the root CA's fingerprint, as the arbitrator gets it
        self.facts = None     # Facts of the untouched bundle
        self.other = None     # the other loan's bundle (Bundle)
        self.outsider = None  # the LookAlike CA and the outsider's key
        self.keys = {}        # member id -> its signing key file (the real institution's key)


RUN = Run()


# ---- the bundle as a list of entries ---------------------------------------------------------

class Bundle:
    """A bundle's entries in ZIP order; names may repeat or be unsafe in a tampered copy."""

    def __init__(self, entries):
        self.entries = [[name, data] for name, data in entries]
        self.manifest = True     # rewrite MANIFEST.sha256 to match when written
        self.fp = None           # a case may present another fingerprint
        self.own_script = False  # run the bundle's tools/verify.sh even with --verify-sh
        self.pin = None          # --genesis-sha256 to give both verifiers
        self.links = set()       # entries written as Unix symbolic links (their data: the target)

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

    def put_link(self, name, target):
        """The entry becomes a symbolic link to target, as unzip would create it."""
        self.put(name, target)
        self.links.add(name)

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
                    if name in self.links:
                        info.create_system = 3  # Unix: the mode below is read
                        info.external_attr = 0o120777 << 16
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


def sign(key_path, message):
    return netlib.openssl_sign(key_path, message, RUN.facts.suite)


def leaf_text(tx, sig):
    return f"colend-tx-leaf/v1\ntx-id: {sha(tx)}\nsig-sha256: {sha(sig)}\n"


def resign_record(b, rec, new_tx):
    """The record replaced by new_tx, signed by its real sender's key, with its leaf recomputed."""
    key = RUN.keys[rec["f"]["sender"]]
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
        real_ca = os.path.join(RUN.dir, "ca.pem")
        ca_text = self.openssl("x509", "-in", real_ca, "-noout", "-text")
        curve = "SM2" if "ASN1 OID: SM2" in ca_text else "P-256"
        self.ca_key = self.genkey("ca.key", curve)
        self.ca_pem = os.path.join(self.dir, "ca.pem")
        self.openssl("x509", "-in", real_ca, "-key", self.ca_key, "-preserve_dates", "-sha256",
                     "-out", self.ca_pem)
        self.key = self.genkey("outsider.key", "SM2" if RUN.facts.suite == "sm" else "P-256")
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
        sm = ["-sm3", "-sigopt", netlib.SM2_ID] if RUN.facts.suite == "sm" else ["-sha256"]
        self.openssl("req", "-new", "-key", self.key, "-subj", subj, *sm, "-out", csr)
        vfy = ["-vfyopt", netlib.SM2_ID] if RUN.facts.suite == "sm" else []
        self.openssl("ca", "-batch", "-config", "ca.cnf", "-cert", self.ca_pem, "-keyfile",
                     self.ca_key, "-in", csr, "-out", out, "-startdate", dates["notBefore"],
                     "-enddate", dates["notAfter"], "-extensions", "ext", "-notext", *vfy)
        with open(os.path.join(self.dir, out)) as f:
            return f.read()

    def sign(self, message):
        return sign(self.key, message)


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
    p = subprocess.run([os.path.join(RUN.args.bin, "colend-verify"), zip_path, "--root-sha256", fp,
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
            if (info.external_attr >> 16) & 0o170000 == 0o120000:  # unzip makes a link of it
                os.symlink(z.read(info).decode(), path)
                continue
            with open(path, "wb") as f:
                f.write(z.read(info))
    return moved


def run_verify_sh(zip_path, fp, own_script=False, extra=()):
    with tempfile.TemporaryDirectory(prefix="bundle-",
                                     dir=os.path.join(RUN.dir, "cases")) as folder:
        moved = unpack(zip_path, folder)
        script = (os.path.abspath(RUN.args.verify_sh) if RUN.args.verify_sh and not own_script
                  else "tools/verify.sh")
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
        path = os.path.join(RUN.dir, "cases", name + ".zip")
        b.write(path)
        extra = ("--genesis-sha256", b.pin) if b.pin else ()
        built.append((name, what, path, b.fp or RUN.root_fp, b.own_script, extra))
    with concurrent.futures.ThreadPoolExecutor(max_workers=RUN.args.jobs) as pool:
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
