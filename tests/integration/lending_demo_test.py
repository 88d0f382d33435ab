#!/usr/bin/env python3
"""The sample joint loan on five real colend-node processes, checked from outside.

Proves:
  - `colend localnet demo` runs the whole lifecycle (admission, drawdown, 20/80 funding, payout,
    two repayments, an overdue period with reminder, penalty, bureau report, classification and
    collection routing, settlement) and exits 0;
  - afterwards every node reports the same state root at the same height (read here with
    `colend block`), and `loan list --json` / `loan show ID --json` give identical answers on
    every node, with the fields integrators rely on;
  - each lender got back exactly the principal it funded, and the lenders' totals equal what the
    borrower paid;
  - the loan's events include every post-loan rule the story needs;
  - a transaction from a role that may not send it is rejected with not-permitted (exit 1) and
    changes nothing; bad amounts are refused before anything is signed;
  - a parameter change by the members takes effect from its date as a new version.
"""
import argparse
import datetime
import json
import os
import re
import sys
import tempfile
import time

import netlib
from netlib import colend, colend_json, expect, home

ARGS = None
DIR = None


def scenario():
    colend("localnet", "init", "--dir", DIR, "--nodes", "5", "--dev-clock")
    colend("localnet", "up", "--dir", DIR)
    print("the demo", flush=True)
    out = colend_json("localnet", "demo", "--dir", DIR, timeout=300)
    loan = out["loan"]
    expect(out["same_state_root"], f"demo: every node reports the same state root at height {out['height']}")
    for line in out["story"]:
        print("     " + line)

    print("checked from outside", flush=True)
    h = colend_json("--home", home(1), "status")["height"]
    roots = set()
    for k in range(1, 6):
        # Every node has committed height h by now or shortly; `block` reads its own copy.
        for _ in range(50):
            p = colend("--home", home(k), "block", str(h), "--json", check=False)
            if p.returncode == 0:
                break
            time.sleep(0.2)
        roots.add(json.loads(p.stdout)["state_root"])
    expect(len(roots) == 1, f"state root at height {h} is identical on 5 nodes: {roots.pop()[:16]}...")

    views = []
    for k in range(1, 6):
        listed = colend_json("--home", home(k), "loan", "list")
        expect(any(l["id"] == loan for l in listed["loans"]), f"node{k}: loan list --json has {loan}")
        views.append(colend_json("--home", home(k), "loan", "show", loan))
    expect(all(v == views[0] for v in views), "loan show --json is identical on every node")
    v = views[0]
    for field in ("status", "principal_fen", "outstanding_fen", "dpd", "collection_stage", "lenders"):
        expect(field in v, f"loan show has {field}")
    expect(v["status"] == "closed" and v["outstanding_fen"] == 0, "the loan is closed with nothing outstanding")
    total = 0
    for l in v["lenders"]:
        for field in ("role", "funded_fen", "principal_repaid_fen", "interest_repaid_fen",
                      "penalty_repaid_fen", "classification"):
            expect(field in l, f"lender {l['member']} has {field}")
        expect(l["principal_repaid_fen"] == l["funded_fen"],
               f"{l['role']} got back exactly the principal it funded ({l['funded_fen']} fen)")
        total += l["principal_repaid_fen"] + l["interest_repaid_fen"] + l["penalty_repaid_fen"]
    expect(sorted(l["funded_fen"] for l in v["lenders"]) == [800000, 3200000], "funding legs 20/80 of 40,000.00 CNY")
    expect(total == v["received_fen"], f"lenders' totals = what the borrower paid ({total} fen)")

    events = colend_json("--home", home(4), "loan", "events", loan)["events"]
    seen = {(e["rule"], e["event"]) for e in events}
    for rule, event in [("R-IN-03", "FUNDED"), ("R-IN-04", "SCHEDULE_CREATED"),
                        ("R-IN-03", "LOAN_DISBURSED"), ("R-IN-05", "REPAYMENT_POSTED"),
                        ("R-POST-01", "AI_REMINDER_SENT"), ("R-POST-02", "OVERDUE_STARTED"),
                        ("R-POST-03", "CREDIT_REPORT_NEGATIVE"), ("R-POST-04", "CLASSIFICATION_CHANGED"),
                        ("R-POST-05", "COLLECTION_ROUTED"), ("R-IN-06", "LOAN_SETTLED"),
                        ("R-POST-07", "LOAN_CLOSED"), ("R-POST-07", "LIMIT_RESTORED")]:
        expect((rule, event) in seen, f"event {rule} {event} is on chain")

    print("roles and bad input", flush=True)
    borrower = json.loads(colend("borrower", "ref", "--id", "x", "--salt", "y", "--json").stdout)["borrower"]
    p = colend("--home", home(2), "loan", "draw", "--loan", "ROLE-1", "--borrower", borrower,
               "--amount", "1000.00", "--periods", "5", check=False)
    expect(p.returncode == 1 and "not-permitted" in p.stderr,
           f"partner bank sending loan.draw: exit {p.returncode}, {p.stderr.strip()}")
    p = colend("--home", home(1), "loan", "show", "ROLE-1", check=False)
    expect(p.returncode == 1, "and no loan was created")
    p = colend("--home", home(3), "loan", "repay", "--loan", loan, "--amount", "1.001", check=False)
    expect(p.returncode != 0 and "amount" in p.stderr, f"amount with 3 decimals: {p.stderr.strip()}")
    p = colend("--home", home(3), "loan", "repay", "--loan", loan, "--amount", "10.00", check=False)
    expect(p.returncode == 1 and "wrong-state" in p.stderr, f"repaying a closed loan: {p.stderr.strip()}")
    after = colend_json("--home", home(1), "loan", "show", loan)
    expect(after == v, "the closed loan is unchanged")

    print("behaviour warnings (R-POST-06)", flush=True)
    b2 = json.loads(colend("borrower", "ref", "--id", "warned", "--salt", "y", "--json").stdout)["borrower"]
    today_date = colend_json("--home", home(1), "clock", "show")["business_date"]
    colend("--home", home(4), "bureau", "snapshot", "--borrower", b2, "--institutions", "1",
           "--outstanding", "0", "--limits", "50000", "--overdue-count", "0", "--queries-90d", "1")
    p = colend("--home", home(1), "borrower", "admit", "--borrower", b2, "--score", "700", "--model",
               "wb-risk-2026.1", "--age", "30", "--kyc-level", "3", "--kyc-date", today_date,
               "--consent-date", today_date)
    receipt_line = next((l for l in p.stdout.splitlines() if l.startswith("tx ")), p.stdout)
    expect(re.fullmatch(r"tx [0-9a-f]{64} at height \d+, parameters v\d+", receipt_line),
           f"the admission's receipt names the parameter set its checks read: {receipt_line}")
    attached = os.path.join(DIR, "attached.txt")
    with open(attached, "w") as f:
        f.write("a document with no rule parameters\n")
    p = colend("--home", home(1), "evidence", "attach", "--loan", loan, "--file", attached,
               "--kind", "other")
    receipt_line = next((l for l in p.stdout.splitlines() if l.startswith("tx ")), p.stdout)
    expect(re.fullmatch(r"tx [0-9a-f]{64} at height \d+", receipt_line),
           f"an attached document's receipt names no parameter set (no rule read one): {receipt_line}")
    colend("--home", home(4), "bureau", "snapshot", "--borrower", b2, "--institutions", "3",
           "--outstanding", "0", "--limits", "50000", "--overdue-count", "0", "--queries-90d", "1",
           "--max-dpd", "40")
    ev = colend_json("--home", home(2), "borrower", "events", b2)["events"]
    kinds = [(e["event"], e.get("type", "")) for e in ev]
    expect(("RISK_WARNING", "EXTERNAL_OVERDUE") in kinds and ("LIMIT_FROZEN", "") in kinds,
           f"a 40-day overdue elsewhere is a high warning and freezes the limit: {[k for k, _ in kinds]}")
    p = colend("--home", home(1), "loan", "draw", "--loan", "WARN-1", "--borrower", b2,
               "--amount", "1000.00", "--periods", "5", check=False)
    expect(p.returncode == 1 and "review-pending" in p.stderr, f"no drawdown while under review: {p.stderr.strip()}")

    print("parameter governance", flush=True)
    today = colend_json("--home", home(1), "clock", "show")["business_day"]
    eff = (datetime.date(1970, 1, 1) + datetime.timedelta(days=today + 2)).isoformat()
    colend("--home", home(1), "param", "propose", "--id", "grace-2", "--changes", '{"grace_days": 2}',
           "--effective", eff)
    colend("--home", home(3), "param", "approve", "grace-2")
    r = colend_json("--home", home(4), "param", "approve", "grace-2")
    expect(r["outputs"]["proposal-status"] == "proposed",
           "3 of 5 members approve a money term (grace days): still waiting for the partner bank")
    r = colend_json("--home", home(2), "param", "approve", "grace-2")
    expect(r["outputs"]["proposal-status"] == "approved", "the partner bank approves too: approved")
    p = colend("--home", home(2), "param", "propose", "--id", "bad", "--changes",
               '{"substandard_dpd": {"lead_bank": 120, "partner_bank": 90}}', "--effective", eff,
               check=False)
    expect(p.returncode == 1 and "out-of-bounds" in p.stderr, f"beyond the regulatory floor: {p.stderr.strip()}")
    colend("--home", home(1), "clock", "advance", "--days", "2")
    params = colend_json("--home", home(5), "param", "show")["parameters"]
    expect(params["version"] == 2 and params["grace_days"] == 2, "version 2 in force from its date")


def main():
    global ARGS, DIR
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--keep", action="store_true")
    ARGS = parser.parse_args()
    DIR = tempfile.mkdtemp(prefix="colend-demo-")
    netlib.configure(ARGS.bin, DIR)
    return netlib.run_network_test(scenario, keep=ARGS.keep, log_lines=10)


if __name__ == "__main__":
    sys.exit(main())
