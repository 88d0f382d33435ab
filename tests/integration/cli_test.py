#!/usr/bin/env python3
"""The colend command line on its parser (issue 16 item 7), driven as a user drives it.

Proves:
  - every command a user knows (the list below, from the README and docs/) exists, and `--help`
    on it and on every group exits 0 with a usage line naming the whole command; the help of a
    command lists every option it accepts, and `colend help X` is `colend X --help`;
  - for every command: an unknown option, a stray word, a repeated option and each missing
    required option or argument exit 2 with a message naming it, print nothing on stdout and
    never reach the node (a --home that does not exist is not even read);
  - bad usage against a running node changes nothing: no transaction is signed or submitted;
  - options work before and after the command, as --name value and --name=value; a value that
    looks like a negative number is a value;
  - a command that needs a node run without --home exits 2 naming --home; a numeric option
    given as "30s", "7.5", "-1" or out of its range is refused naming it ("3x" nodes are not 3),
    before anything is written or signed; a directory or an endless file given as a document is
    refused, and `evidence attach` stores nothing when it refuses; a file anchored is hashed
    whole (2.5 MB, past the reader's 1 MiB chunks) as sha256sum hashes it;
  - no listing is silently capped: the node's `state` prefix scan says "more" when entries follow
    and pages with "after" through all of them, each once, in key order.
"""
import argparse
import hashlib
import json
import os
import urllib.request
import re
import shutil
import subprocess
import sys
import tempfile

import netlib
from netlib import colend, expect, home

# The commands of the README, docs/operations.md and docs/lending-rules.md.
COMMANDS = [
    "localnet init", "localnet up", "localnet down", "localnet status", "localnet rekey",
    "localnet demo", "status", "block", "tx", "faults", "evidence anchor", "evidence attach",
    "evidence export", "member list", "member epochs", "member propose", "member approve",
    "loan schedule", "loan list", "loan show", "loan events", "loan draw", "loan approve",
    "loan fund", "loan payout", "loan repay", "loan settle", "loan writeoff", "borrower ref",
    "borrower admit", "borrower change", "borrower show", "borrower events", "bureau snapshot",
    "auth result", "bank figures", "va spend", "use attest", "collection outcome", "param show",
    "param propose", "param approve", "clock show", "clock tick", "clock advance",
]
MISSING_HOME = "/nonexistent/colend-home"


def run(*argv):
    return subprocess.run([os.path.join(netlib.BIN, "colend")] + list(argv), capture_output=True,
                          text=True, timeout=60)


def section(text, title):
    """The entries of a help section: [(first word, rest of line)]."""
    out, inside = [], False
    for line in text.splitlines():
        if line.rstrip() == title + ":":
            inside = True
            continue
        if inside:
            if not line.startswith("  "):
                if line.strip():
                    break
                continue
            if line.startswith("    "):   # a wrapped description
                continue
            parts = line.strip().split(None, 1)
            out.append((parts[0], parts[1] if len(parts) > 1 else ""))
    return out


def tree():
    """Walks the generated help: {command path: help text} for groups and commands."""
    found, todo = {}, [""]
    while todo:
        path = todo.pop()
        p = run(*path.split(), "--help")
        expect(p.returncode == 0 and p.stderr == "", f"'colend {path} --help' exits 0")
        usage = "Usage: colend" + (" " + path if path else "")
        expect(usage in p.stdout, f"'colend {path} --help' shows '{usage}'")
        found[path] = p.stdout
        for name, _ in section(p.stdout, "Subcommands"):
            todo.append((path + " " + name).strip())
    return found


def options_of(help_text):
    """{--name: (placeholder or None, required)} and the positional names of a command's help."""
    opts = {}
    for name, rest in section(help_text, "Options"):
        if name == "-h,--help":
            continue
        words = rest.split()
        placeholder = None
        if words and words[0] != "REQUIRED" and not words[0][0].islower():
            placeholder = words[0]
        if words and words[0] in ("majority|two-thirds", "std|sm", "case-study|cn-2022",
                                  "equal-installment|equal-principal", "consumer|business",
                                  "none|fraud|court", "sms|face", "pass|fail",
                                  "merchant|individual|self", "pos|online|cash|transfer",
                                  "phone|bound-card|device|id-reverification",
                                  "contract|notice|repayment-proof|other", "loans|anchor"):
            placeholder = words[0]
        opts[name] = (placeholder, "REQUIRED" in words)
    positionals = [name for name, _ in section(help_text, "Positionals")]
    return opts, positionals


def usage_error(p, what, needle):
    """Exit 2, nothing on stdout, and the first line of stderr (the message, before the help)
    names `needle`."""
    first = p.stderr.splitlines()[0] if p.stderr else ""
    expect(p.returncode == 2 and needle in first and p.stdout == "",
           f"{what}: exit {p.returncode}, says '{needle}': {first}")


def full_argv(path, opts, positionals, skip=None):
    argv = path.split()
    for name, (placeholder, required) in opts.items():
        if required and name != skip:
            argv += [name, "x1"]
    argv += ["arg1" for p in positionals if p != skip]
    return argv


def verify_usage_checks():
    """colend-verify's trust anchors are given once; a path that is no file is a usage error; a
    path that is not UTF-8 is reported in --json, never an abort."""
    verify = os.path.join(netlib.BIN, "colend-verify")
    fp = "a" * 64
    scratch = tempfile.mkdtemp(prefix="colend-verify-")
    try:
        junk = os.path.join(scratch.encode(), b"\xff-not-a-zip.zip")
        with open(junk, "wb") as f:
            f.write(b"not a zip")
        for argv, needle in (([junk, "--root-sha256", fp, "--root-sha256=" + "b" * 64],
                              "--root-sha256 is given twice"),
                             ([junk, "--root-sha256", fp, "--genesis-sha256", fp,
                               "--genesis-sha256=" + fp], "--genesis-sha256 is given twice"),
                             ([junk, "--root-sha256"], "--root-sha256 needs a value"),
                             ([os.path.join(scratch, "missing.zip"), "--root-sha256", fp],
                              "is not an existing regular file"),
                             ([scratch, "--root-sha256", fp], "is not an existing regular file")):
            p = subprocess.run([verify] + argv, capture_output=True)
            err = p.stderr.decode(errors="replace")
            expect(p.returncode == 2 and needle in err.splitlines()[0] and p.stdout == b"",
                   f"colend-verify {needle}: exit {p.returncode}: {err.splitlines()[0][:100]}")
        p = subprocess.run([verify, junk, "--root-sha256", fp, "--json"], capture_output=True)
        try:
            report = json.loads(p.stdout)
        except ValueError:
            report = None
        expect(p.returncode == 1 and report is not None and report["verified"] is False
               and report["bundle"].endswith("-not-a-zip.zip"),
               f"a bundle path that is not UTF-8, --json: exit {p.returncode} with a report: "
               f"{p.stdout[:80]!r} {p.stderr[-80:]!r}")
        detail = report["checks"][0]["detail"] if report and report.get("checks") else ""
        expect("(Not a zip archive, libzip error 19)" in detail,
               f"a file that is not a ZIP is named as such, not by a number alone: {detail[-60:]!r}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def offline_checks():
    helps = tree()
    for c in COMMANDS:
        expect(c in helps, f"command '{c}' exists")
    expect(run("help", "loan", "draw").stdout == run("loan", "draw", "--help").stdout,
           "'colend help loan draw' is 'colend loan draw --help'")
    # Every option the handlers read is declared (a sample a user relies on).
    draw, _ = options_of(helps["loan draw"])
    for name in ("--loan", "--borrower", "--amount", "--periods", "--daily-rate", "--method",
                 "--device-changed", "--approval", "--model", "--home", "--json"):
        expect(name in draw, f"loan draw --help lists {name}")
    expect(draw["--loan"][1] and not draw["--daily-rate"][1], "loan draw marks --loan required")

    leaves = [c for c in helps if c and "Subcommands:" not in helps[c]]
    for path in leaves:
        opts, positionals = options_of(helps[path])
        base = full_argv(path, opts, positionals)
        if "--home" in opts:
            base += ["--home", MISSING_HOME]
        usage_error(run(*base, "--no-such-option", "v"), f"{path}: an unknown option",
                    "--no-such-option")
        usage_error(run(*base, "stray-word"), f"{path}: a stray word", "stray-word")
        for name, (placeholder, required) in opts.items():
            if required:
                argv = full_argv(path, opts, positionals, skip=name)
                usage_error(run(*argv), f"{path}: without {name}", name + " is required")
            if placeholder and name != "--home":
                usage_error(run(*base, name, "a", name, "b"), f"{path}: {name} twice", name)
        for pos in positionals:
            usage_error(run(*full_argv(path, opts, positionals, skip=pos)),
                        f"{path}: without {pos}", pos + " is required")
    for group in [c for c in helps if "Subcommands:" in helps[c]]:
        usage_error(run(*group.split(), "no-such-command"), f"'{group or 'colend'}' with an "
                    "unknown command", "unknown command 'no-such-command'")
        p = run(*group.split())
        expect(p.returncode == 2 and "Usage:" in p.stderr, f"'{group or 'colend'}' alone: exit 2 "
               "with its help")

    # Option forms and places.
    sched = ["loan", "schedule", "--principal", "1000.00", "--periods", "3", "--daily-rate",
             "0.05%"]
    a, b = run(*sched, "--json"), run("--json", *sched)
    c = run("loan", "schedule", "--principal=1000.00", "--periods=3", "--daily-rate=0.05%",
            "--json")
    expect(a.returncode == 0 and a.stdout == b.stdout == c.stdout and a.stdout.startswith("{"),
           "--json after or before the command, --name=value: the same output")
    p = run("loan", "schedule", "--principal", "-5", "--periods", "3", "--daily-rate", "0.05%")
    expect(p.returncode == 1 and "principal" in p.stderr,
           f"--principal -5 is a value, refused by the command: {p.stderr.strip()[:120]}")
    p = run("--home", "a", "status", "--home", "b")
    usage_error(p, "--home at two places", "--home")

    # A command that needs a node, run without --home: a usage error (2), not a failure (1).
    for argv in (["status"], ["faults"], ["block", "1"], ["tx", "0" * 64], ["member", "list"],
                 ["evidence", "export", "--loan", "L1", "--out", "x.zip"],
                 ["evidence", "anchor", "--file", "/etc/hostname"],
                 ["evidence", "attach", "--loan", "L1", "--file", "/etc/hostname", "--kind",
                  "contract"]):
        p = run(*argv)
        expect(p.returncode == 2 and "--home" in p.stderr and p.stdout == "",
               f"{' '.join(argv[:2])} without --home: exit {p.returncode}: {p.stderr.strip()[:100]}")

    verify_usage_checks()

    # Numeric options: digits only, in range, refused naming the option; nothing written.
    scratch = tempfile.mkdtemp(prefix="colend-cli-")
    try:
        for nodes in ("3x", "3.9", "-1", "0", "33", "1e1", ""):
            target = os.path.join(scratch, "net-" + (nodes or "empty"))
            p = run("localnet", "init", "--dir", target, "--nodes", nodes)
            expect(p.returncode != 0 and "--nodes" in p.stderr and not os.path.exists(target),
                   f"localnet init --nodes '{nodes}': exit {p.returncode}, nothing made: "
                   f"{p.stderr.strip()[:100]}")
        for spare in ("1.5", "-1", "9"):
            target = os.path.join(scratch, "spare")
            p = run("localnet", "init", "--dir", target, "--nodes", "1", "--spare", spare)
            expect(p.returncode != 0 and "--spare" in p.stderr and not os.path.exists(target),
                   f"localnet init --spare '{spare}' refused: {p.stderr.strip()[:100]}")
        for timeout in ("30s", "-1", "0", "2.5", "99999999999999999999"):
            p = run("localnet", "up", "--dir", scratch, "--timeout", timeout)
            expect(p.returncode != 0 and "--timeout" in p.stderr,
                   f"localnet up --timeout '{timeout}' refused naming it: {p.stderr.strip()[:100]}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def rpc(k, method, params):
    with open(os.path.join(home(k), "config.json")) as f:
        port = json.load(f)["rpc_port"]
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/", data=body,
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def paging_checks():
    whole = rpc(1, "state", {"prefix": "", "limit": 10000})["result"]
    keys = [e["key"] for e in whole["entries"]]
    expect(not whole["more"] and len(keys) > 6 and keys == sorted(keys),
           f"one scan of the whole state: {len(keys)} entries in key order, no more")
    paged, after, pages, sizes = [], None, 0, []
    while pages <= len(keys):
        params = {"prefix": "", "limit": 3}
        if after is not None:
            params["after"] = after
        page = rpc(1, "state", params)["result"]
        pages += 1
        sizes.append(len(page["entries"]))
        paged += [e["key"] for e in page["entries"]]
        if not page["more"]:
            break
        after = page["entries"][-1]["key"]
    expect(all(n == 3 for n in sizes[:-1]) and 0 < sizes[-1] <= 3,
           f"every page but the last is full, the last holds the rest: {sizes[-3:]}")
    expect(paged == keys, f"{pages} pages of 3 give the same {len(keys)} entries, each once")
    sub = rpc(1, "state", {"prefix": "params/", "limit": 1})["result"]
    expect(len(sub["entries"]) == 1 and sub["more"], "a prefix scan cut at its limit says more")
    last = rpc(1, "state", {"prefix": "params/", "after": "params/\xff"})["result"]
    expect(last["entries"] == [] and not last["more"], "after the last key: nothing, no more")
    bad = rpc(1, "state", {"prefix": "", "limit": 0})
    expect("error" in bad and "limit" in bad["error"].get("message", ""),
           f"limit 0 is refused naming it: {bad.get('error')}")


def file_checks(h):
    """Bad values and bad files against a running node: refused naming them, no document
    stored; then one good anchor of a file larger than a read chunk."""
    docs = os.path.join(h, "documents")
    stored = lambda: sorted(os.listdir(docs)) if os.path.isdir(docs) else []
    before = stored()
    snapshot = ["bureau", "snapshot", "--borrower", "B1", "--institutions", "1", "--outstanding",
                "1.00", "--limits", "1.00", "--overdue-count", "0", "--queries-90d", "0"]
    for days in ("-5", "30d", "7.5", "0", "3651", "99999999999999999999"):
        usage_error(run("--home", h, *snapshot, "--valid-days", days),
                    f"bureau snapshot --valid-days '{days}'", "--valid-days")
    for timeout in ("30s", "-1", "0", "nan", "1e300"):
        p = run("--home", h, "evidence", "anchor", "--file", "/etc/hostname", "--timeout", timeout)
        expect(p.returncode != 0 and "--timeout" in p.stderr,
               f"evidence anchor --timeout '{timeout}' refused: {p.stderr.strip()[:100]}")
    for timeout in ("99999", "30s", "-1"):
        p = run("--home", h, "evidence", "attach", "--loan", "L1", "--file", "/etc/hostname",
                "--kind", "contract", "--timeout", timeout)
        expect(p.returncode == 2 and "--timeout" in p.stderr,
               f"evidence attach --timeout '{timeout}' refused: {p.stderr.strip()[:100]}")
    p = run("--home", h, "evidence", "anchor", "--file", "/etc")
    expect(p.returncode == 1 and "directory" in p.stderr,
           f"evidence anchor of a directory is refused: {p.stderr.strip()[:100]}")
    p = run("--home", h, "evidence", "attach", "--loan", "L1", "--file", "/etc", "--kind", "contract")
    expect(p.returncode == 1 and "directory" in p.stderr,
           f"evidence attach of a directory is refused: {p.stderr.strip()[:100]}")
    p = run("--home", h, "evidence", "attach", "--loan", "L1", "--file", "/dev/zero", "--kind",
            "contract")
    expect(p.returncode == 1 and "larger than 16777216 bytes" in p.stderr,
           f"evidence attach of an endless file is refused at the limit: {p.stderr.strip()[:100]}")
    p = run("--home", h, "evidence", "attach", "--loan", "L 1", "--file", "/etc/hostname", "--kind",
            "contract")
    expect(p.returncode == 2 and "--loan" in p.stderr,
           f"evidence attach with a malformed loan id is refused naming --loan: {p.stderr.strip()[:100]}")
    expect(stored() == before, f"no refused attach stored a document: {before} -> {stored()}")
    # A file larger than one read chunk is hashed whole.
    with tempfile.NamedTemporaryFile(prefix="colend-cli-", suffix=".bin", delete=False) as f:
        f.write(os.urandom(2_500_000))
        path = f.name
    try:
        with open(path, "rb") as f:
            want = hashlib.sha256(f.read()).hexdigest()
        p = run("--home", h, "evidence", "anchor", "--file", path, "--name", "big.bin", "--json")
        got = json.loads(p.stdout).get("document_sha256") if p.returncode == 0 else None
        expect(got == want, f"a 2.5 MB file's anchor is its sha256sum: {got} against {want}")
    finally:
        os.unlink(path)


def online_checks():
    colend("localnet", "init", "--dir", netlib.DIR, "--nodes", "1", "--dev-clock")
    colend("localnet", "up", "--dir", netlib.DIR)
    try:
        paging_checks()
        h = home(1)
        before = colend("--home", h, "status", "--json").stdout
        height0 = int(re.search(r'"height": (\d+)', before).group(1))
        bad = [
            ["loan", "draw", "--loan", "L1", "--borrower", "B1", "--amount", "100.00",
             "--periods", "3", "--amout", "5"],
            ["loan", "draw", "--loan", "L1", "--loan", "L2", "--borrower", "B1", "--amount",
             "100.00", "--periods", "3"],
            ["loan", "draw", "--loan", "L1", "--borrower", "B1", "--periods", "3"],
            ["clock", "advance", "--days", "3", "extra"],
            ["evidence", "anchor", "--file", "/etc/hostname", "--nmae", "x"],
        ]
        for argv in bad:
            usage_error(run("--home", h, *argv), " ".join(argv[:2]) + " (bad usage, running node)",
                        "")
        file_checks(h)
        p = run("--home", h, "clock", "advance", "--days", "1")
        expect(p.returncode == 0, f"a good command still works on the same node: {p.stderr}")
        after = colend("--home", h, "status", "--json").stdout
        height1 = int(re.search(r'"height": (\d+)', after).group(1))
        p = run("--home", h, "loan", "show", "L1")
        expect(p.returncode == 1 and "does not exist" in p.stderr,
               "no loan L1 was drawn by any bad command")
        p = run("--home", h, "clock", "show", "--json")
        expect('"offset_days": 1' in p.stdout,
               "the clock moved 1 day (the good command), not 4 (the one with a stray word)")
        expect(height1 >= height0, "the node kept running")
    finally:
        colend("localnet", "down", "--dir", netlib.DIR, check=False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="colend-cli-")
    netlib.configure(args.bin, os.path.join(tmp, "net"))
    try:
        offline_checks()
        online_checks()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"cli: {netlib.CHECKS['passed']} checks passed, {netlib.CHECKS['failed']} failed")
    sys.exit(1 if netlib.CHECKS["failed"] else 0)


if __name__ == "__main__":
    main()
