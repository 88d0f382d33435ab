"""Helpers shared by the integration tests and benchmarks that drive real colend processes.

Python 3 standard library and the openssl command-line tool only, so that what the tests check
is independent of colend's own C++ code: transactions are built as canonical text here and
signed with openssl (or, for bulk load, with the small P-256 signer below, itself checked
against openssl).

Each script calls configure(bin_dir, net_dir) once it knows where its binaries and network are.
"""
import hashlib
import json
import os
import random
import shutil
import subprocess
import tempfile
import time

BIN = None   # directory holding colend and colend-node
DIR = None   # the localnet directory (DIR/node1 .. DIR/nodeN)
CHECKS = {"passed": 0, "failed": 0}


def configure(bin_dir, net_dir):
    global BIN, DIR
    BIN, DIR = bin_dir, net_dir


def colend(*argv, check=True, timeout=120):
    cmd = [os.path.join(BIN, "colend")] + list(argv)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited {p.returncode}:\n{p.stdout}\n{p.stderr}")
    return p


def colend_json(*argv, **kw):
    return json.loads(colend(*argv, "--json", **kw).stdout)


def home(k):
    return os.path.join(DIR, f"node{k}")


def node_pid(k):
    """node k's pid from its node.pid file; None if there is none (or it is unreadable)."""
    try:
        with open(os.path.join(home(k), "node.pid")) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def pid_alive(pid):
    """Running or stopped, not gone and not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2] != "Z"

def run_network_test(scenario, keep=False, nodes=5, log_lines=15,
                     failures=(AssertionError, subprocess.TimeoutExpired)):
    """Runs scenario() on the network in DIR; on a failure prints the tail of every node's log.
    Always stops the network; removes DIR after a success unless keep. Returns the exit code."""
    ok = False
    try:
        scenario()
        ok = True
    except failures as e:
        print(f"FAILED: {e}", flush=True)
        for k in range(1, nodes + 1):
            log = os.path.join(home(k), "node.log")
            if os.path.exists(log):
                with open(log) as f:
                    lines = f.readlines()[-log_lines:]
                print(f"--- node{k}/node.log (tail) ---\n" + "".join(lines), flush=True)
    finally:
        subprocess.run([os.path.join(BIN, "colend"), "localnet", "down", "--dir", DIR, "--kill"],
                       capture_output=True)
        if ok and not keep:
            shutil.rmtree(DIR, ignore_errors=True)
    print(f"{CHECKS['passed']} passed, {CHECKS['failed']} failed")
    return 0 if ok else 1


def expect(cond, what, fatal=True):
    """Counts and prints one check; a failed check raises unless fatal=False."""
    if cond:
        CHECKS["passed"] += 1
        print(f"  ok   {what}", flush=True)
    else:
        CHECKS["failed"] += 1
        print(f"  FAIL {what}", flush=True)
        if fatal:
            raise AssertionError(what)
    return cond


# ---- signatures -------------------------------------------------------------------------------

P256_P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
P256_G = (0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
          0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5)
SM2_ID = "distid:1234567812345678"


def der_int(value):
    body = value.to_bytes((value.bit_length() + 8) // 8, "big")  # a leading 0 keeps it positive
    return bytes([0x02, len(body)]) + body


def low_s(der):
    """openssl signs with either S; colend accepts only the low one (s <= n/2), as Bitcoin does,
    so that a signed message has exactly one accepted encoding."""
    assert der[0] == 0x30 and der[2] == 0x02
    r_len = der[3]
    r = int.from_bytes(der[4:4 + r_len], "big")
    s_len = der[5 + r_len]
    s = int.from_bytes(der[6 + r_len:6 + r_len + s_len], "big")
    if s > P256_N // 2:
        s = P256_N - s
    body = der_int(r) + der_int(s)
    return bytes([0x30, len(body)]) + body


def openssl_sign(key_path, message: bytes, suite="std"):
    """A DER signature by the PEM key: ECDSA P-256/SHA-256 (low S) or SM2/SM3 with colend's id."""
    if suite == "std":
        cmd = ["openssl", "dgst", "-sha256", "-sign", key_path]
    else:
        cmd = ["openssl", "pkeyutl", "-sign", "-inkey", key_path, "-rawin", "-digest", "sm3",
               "-pkeyopt", SM2_ID]
    p = subprocess.run(cmd, input=message, capture_output=True, check=True, timeout=30)
    return low_s(p.stdout) if suite == "std" else p.stdout


def openssl_verify(pub_path, message: bytes, signature: bytes, suite="std"):
    with tempfile.TemporaryDirectory() as tmp:
        msg, sig = os.path.join(tmp, "msg.bin"), os.path.join(tmp, "sig.der")
        with open(msg, "wb") as f:
            f.write(message)
        with open(sig, "wb") as f:
            f.write(signature)
        if suite == "std":
            cmd = ["openssl", "dgst", "-sha256", "-verify", pub_path, "-signature", sig, msg]
        else:
            cmd = ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", pub_path, "-rawin",
                   "-digest", "sm3", "-pkeyopt", SM2_ID, "-in", msg, "-sigfile", sig]
        return subprocess.run(cmd, capture_output=True).returncode == 0


def _jacobian_double(p):
    x, y, z = p
    if y == 0:
        return (0, 1, 0)
    ysq = y * y % P256_P
    s = 4 * x * ysq % P256_P
    zsq = z * z % P256_P
    m = 3 * (x - zsq) * (x + zsq) % P256_P  # a = -3
    nx = (m * m - 2 * s) % P256_P
    ny = (m * (s - nx) - 8 * ysq * ysq) % P256_P
    return (nx, ny, 2 * y * z % P256_P)


def _jacobian_add(p, q):
    if p[2] == 0:
        return q
    if q[2] == 0:
        return p
    z1sq, z2sq = p[2] * p[2] % P256_P, q[2] * q[2] % P256_P
    u1, u2 = p[0] * z2sq % P256_P, q[0] * z1sq % P256_P
    s1, s2 = p[1] * z2sq * q[2] % P256_P, q[1] * z1sq * p[2] % P256_P
    if u1 == u2:
        return _jacobian_double(p) if s1 == s2 else (0, 1, 0)
    h, r = (u2 - u1) % P256_P, (s2 - s1) % P256_P
    h2 = h * h % P256_P
    h3 = h * h2 % P256_P
    u1h2 = u1 * h2 % P256_P
    nx = (r * r - h3 - 2 * u1h2) % P256_P
    ny = (r * (u1h2 - nx) - s1 * h3) % P256_P
    return (nx, ny, h * p[2] * q[2] % P256_P)


def _base_mult_x(k):
    result, addend = (0, 1, 0), (P256_G[0], P256_G[1], 1)
    while k:
        if k & 1:
            result = _jacobian_add(result, addend)
        addend = _jacobian_double(addend)
        k >>= 1
    zinv = pow(result[2], -1, P256_P)
    return result[0] * zinv * zinv % P256_P


class P256Signer:
    """ECDSA P-256/SHA-256 in Python (about 5 ms a signature), for load generators: one
    `openssl dgst -sign` process per transaction cost ~230 ms of wall time on a loaded 2-core
    machine and starved the proposers. The private scalar is read once with openssl, and
    check_with_openssl() has openssl verify a signature before the signer is trusted."""

    def __init__(self, key_path):
        text = subprocess.run(["openssl", "pkey", "-in", key_path, "-text", "-noout"],
                              capture_output=True, text=True, check=True).stdout
        digits, in_priv = [], False
        for line in text.splitlines():
            if line.startswith("priv:"):
                in_priv = True
            elif in_priv and line.startswith(" "):
                digits.append(line.strip().replace(":", ""))
            elif in_priv:
                break
        self.d = int("".join(digits), 16)
        self.rng = random.SystemRandom()
        self.key_path = key_path

    def sign(self, message: bytes) -> bytes:
        e = int.from_bytes(hashlib.sha256(message).digest(), "big")
        while True:
            k = self.rng.randrange(1, P256_N)
            r = _base_mult_x(k) % P256_N
            s = pow(k, -1, P256_N) * (e + r * self.d) % P256_N
            if r and s:
                break
        body = der_int(r) + der_int(min(s, P256_N - s))  # low S
        return bytes([0x30, len(body)]) + body

    def check_with_openssl(self):
        message = b"netlib P256Signer self-check"
        with tempfile.TemporaryDirectory() as tmp:
            pub = os.path.join(tmp, "pub.pem")
            subprocess.run(["openssl", "pkey", "-in", self.key_path, "-pubout", "-out", pub],
                           check=True, capture_output=True)
            ok = openssl_verify(pub, message, self.sign(message))
        if not ok:
            raise AssertionError(f"in-process P-256 signature rejected by openssl ({self.key_path})")
        return self


# ---- transactions -----------------------------------------------------------------------------

def signed_tx_wire(body: bytes, signature: bytes):
    """The SignedTx protobuf (field 1 body, field 2 signature), encoded by hand."""
    def field(tag, data):
        n, out = len(data), bytearray([tag])
        while True:
            b = n & 0x7F
            n >>= 7
            out.append(b | (0x80 if n else 0))
            if not n:
                break
        return bytes(out) + data
    return field(0x0A, body) + field(0x12, signature)


def anchor_tx_body(chain_id, sender, nonce, digest, name=None, timestamp_ms=None):
    """Canonical colend-tx/v1 text of an evidence.anchor (fields in ascending key order)."""
    ts = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
    fields = (f"document-name: {name}\n" if name is not None else "") + \
        f"document-sha256: {digest}\n"
    return (f"colend-tx/v1\nchain-id: {chain_id}\nsender: {sender}\nnonce: {nonce}\n"
            f"timestamp-ms: {ts}\ntype: evidence.anchor\n{fields}").encode()
